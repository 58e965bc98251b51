"""Scripted faults: by index, by BPF filter with a count, by time window."""

import pytest
from tern_helpers import frame, seq_of

from pyharness.errors import ConfigError


def udp(a, b, dport, seq):
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw

    return Ether(src=a.mac, dst=b.mac) / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1000, dport=dport) / Raw(
        seq.to_bytes(4, "big")
    )


def udp_seq(p):
    from scapy.layers.inet import UDP

    return int.from_bytes(bytes(p[UDP].payload)[:4], "big")


def pair(net):
    a, b = net.peer("a"), net.peer("b")
    return a, b, net.link(a, b, delay="1ms")


def test_drop_nth(net):
    a, b, link = pair(net)
    f = link.fault("drop", nth=3)
    for i in range(1, 6):
        a.send(frame(a.mac, b.mac, i))
    net.run(for_="1s")
    assert [seq_of(p) for p in b.received()] == [1, 2, 4, 5]
    assert f.hits == 1
    assert link.counters("a_to_b").dropped_fault == 1


def test_drop_by_filter_with_count(net):
    a, b, link = pair(net)
    f = link.fault("drop", bpf="udp dst port 53", count=2)
    ports = [53, 80, 53, 53, 80, 53]
    for i, port in enumerate(ports):
        a.send(udp(a, b, port, i))
    net.run(for_="1s")
    assert [udp_seq(p) for p in b.received()] == [1, 3, 4, 5]  # the first two port-53 frames went
    assert f.hits == 2


def test_drop_in_time_window(net):
    a, b, link = pair(net)
    f = link.fault("drop", window=("10ms", "20ms"))
    for i in range(30):
        a.send(frame(a.mac, b.mac, i))
        net.run(for_="1ms")
    net.run(for_="1s")
    assert [seq_of(p) for p in b.received()] == list(range(10)) + list(range(20, 30))
    assert f.hits == 10


def test_delay_fault(net):
    a, b, link = pair(net)
    f = link.fault("delay", nth=1, delay="5ms")
    a.send(frame(a.mac, b.mac, 1))
    net.run(for_="1s")
    assert b.recv().time_ns == 6_000_000
    assert f.hits == 1 and link.counters("a_to_b").fault_delayed == 1


def test_duplicate_and_corrupt_faults(net):
    a, b, link = pair(net)
    d = link.fault("duplicate", nth=1)
    c = link.fault("corrupt", nth=2)
    sent = [frame(a.mac, b.mac, i) for i in (1, 2)]
    for x in sent:
        a.send(x)
    net.run(for_="1s")
    got = [bytes(p) for p in b.received()]
    assert got[:2] == [sent[0], sent[0]]
    assert len(got) == 3 and got[2] != sent[1]
    assert sum(bin(x ^ y).count("1") for x, y in zip(got[2], sent[1])) == 1
    assert d.hits == 1 and c.hits == 1
    cnt = link.counters("a_to_b")
    assert cnt.fault_duplicated == 1 and cnt.fault_corrupted == 1


def test_fault_on_the_other_direction(net):
    a, b, link = pair(net)
    f = link.fault("drop", nth=1, direction="b_to_a")
    a.send(frame(a.mac, b.mac, 1))
    b.send(frame(b.mac, a.mac, 2))
    net.run(for_="1s")
    assert b.pending == 1 and a.pending == 0 and f.hits == 1


def test_bad_filter_is_a_config_error(net):
    a, b, link = pair(net)
    with pytest.raises(ConfigError) as e:
        link.fault("drop", bpf="udp dst prot 53")
    assert e.value.error_name == "BAD_FILTER"
    assert "udp dst prot 53" in str(e.value)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(action="explode", nth=1), ["action", "explode"]),
        (dict(), ["exactly one"]),
        (dict(nth=1, window=("0s", "1s")), ["exactly one"]),
        (dict(nth=0, bpf="udp"), ["nth", "0"]),
        (dict(nth=0), ["nth", "0"]),
        (dict(bpf="udp", count=0), ["count", "0"]),
        (dict(action="delay", nth=1), ["delay"]),
        (dict(nth=1, delay="1ms"), ["delay", "1ms"]),
        (dict(window=("20ms", "10ms")), ["window"]),
        (dict(window="10ms"), ["window"]),
        (dict(nth=1, direction="both"), ["direction", "both"]),
    ],
)
def test_bad_faults(net, kwargs, words):
    a, b, link = pair(net)
    with pytest.raises(ConfigError) as e:
        link.fault(**kwargs)
    for w in words:
        assert w in str(e.value)
