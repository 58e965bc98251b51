"""Peer to peer over a link: exact arrival times in integer virtual nanoseconds."""

import pytest
from tern_helpers import frame, seq_of


def ser_ns(size: int, bps: int) -> int:
    """Serialization time, ceil(size*8*1e9/rate)."""
    return -(-size * 8 * 10**9 // bps)


@pytest.mark.parametrize(
    "rate, bps, delay, delay_ns, size",
    [
        ("10Mbit", 10_000_000, "5ms", 5_000_000, 114),
        ("1Gbit", 10**9, "250us", 250_000, 100),
        ("3Mbit", 3_000_000, 0.001, 1_000_000, 100),  # 266666.67 ns -> 266667
        ("64kbit", 64_000, "10ns", 10, 1514),
    ],
)
def test_arrival_is_serialization_plus_propagation(net, rate, bps, delay, delay_ns, size):
    a, b = net.peer("a"), net.peer("b")
    net.link(a, b, rate=rate, delay=delay)
    net.run(until="1ms")
    a.send(frame(a.mac, b.mac, 1, size))
    net.run(for_="10s")
    pkt = b.recv()
    assert pkt is not None and b.recv() is None
    assert pkt.time_ns == 1_000_000 + ser_ns(size, bps) + delay_ns
    assert pkt.time == pytest.approx(pkt.time_ns / 1e9)
    assert pkt.port == 0
    assert len(bytes(pkt)) == size


def test_back_to_back_frames_queue_for_the_line(net):
    a, b = net.peer("a"), net.peer("b")
    net.link(a, b, rate="1Mbit", delay="2ms")
    for i in range(3):
        a.send(frame(a.mac, b.mac, i, 125))  # 1 ms each on the wire
    net.run(for_="1s")
    got = b.received()
    assert [seq_of(p) for p in got] == [0, 1, 2]
    assert [p.time_ns for p in got] == [3_000_000, 4_000_000, 5_000_000]


def test_directions_are_independent(net):
    a, b = net.peer("a"), net.peer("b")
    link = net.link(a, b, delay="1ms")
    link.configure(direction="b_to_a", delay="7ms")
    a.send(frame(a.mac, b.mac, 1))
    b.send(frame(b.mac, a.mac, 2))
    net.run(for_="1s")
    assert b.recv().time_ns == 1_000_000
    assert a.recv().time_ns == 7_000_000


def test_no_rate_no_delay_arrives_at_once(net):
    a, b = net.peer("a"), net.peer("b")
    net.link(a, b)
    net.run(until="3ms")
    a.send(frame(a.mac, b.mac, 1))
    net.run(for_=0)
    assert b.pending == 1
    assert b.recv().time_ns == 3_000_000


def test_clock(net):
    assert net.now_ns == 0 and net.now == 0.0
    net.run(for_="1.5s")
    assert net.now_ns == 1_500_000_000 and net.now == 1.5
    net.run(until=2)
    assert net.now_ns == 2_000_000_000


def test_run_until_predicate(net):
    a, b = net.peer("a"), net.peer("b")
    net.link(a, b, delay="4ms")
    a.send(frame(a.mac, b.mac, 1))
    assert net.run(until=lambda: b.pending > 0, for_="1s") is True
    assert net.now_ns == 4_000_000
    assert net.run(until=lambda: b.pending > 1, for_="10ms") is False
    assert net.now_ns == 14_000_000


def test_scapy_packets_and_default_addresses(net):
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether

    a, b = net.peer("a", mac="02:00:00:00:00:01"), net.peer("b", ports=2)
    net.link(a, b, port_b=1)
    a.send(IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=2) / b"hi")
    a.send(Ether(dst="02:00:00:00:00:02") / IP(src="10.0.0.1", dst="10.0.0.2") / UDP() / b"yo")
    net.run(for_="1ms")
    first, second = b.received()
    assert first.src == "02:00:00:00:00:01" and first.dst == "ff:ff:ff:ff:ff:ff"
    assert first[UDP].dport == 2 and bytes(first[UDP].payload) == b"hi"
    assert second.src == "02:00:00:00:00:01" and second.dst == "02:00:00:00:00:02"
    assert first.port == 1 and second.port == 1
    assert b.counters().rx_frames == 2 and a.counters().tx_frames == 2


def test_default_macs_are_stable_and_local(net):
    p = net.peer("alpha")
    assert p.mac.startswith("02:")
    from pyharness import Network

    with Network(seed=99) as other:
        assert other.peer("alpha").mac == p.mac


def test_ports_default_to_the_next_free_one(net):
    sw = net.switch("sw", ports=3)
    peers = [net.peer(f"p{i}") for i in range(3)]
    links = [net.link(p, sw) for p in peers]
    assert [l.port_b for l in links] == [0, 1, 2]
    assert [l.port_a for l in links] == [0, 0, 0]
