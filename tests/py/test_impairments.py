"""Each impairment through the Python API, checked on the wire and in its counters."""

import pytest
from tern_helpers import frame, seq_of

from pyharness import Bernoulli, GilbertElliott, Markov4, Tbf


def pair(net, **impairments):
    a, b = net.peer("a"), net.peer("b")
    link = net.link(a, b, **impairments)
    return a, b, link


def send_spaced(net, a, b, n, gap="1ms", size=100):
    for i in range(n):
        a.send(frame(a.mac, b.mac, i, size))
        net.run(for_=gap)


def test_loss_all_and_none(net):
    a, b, link = pair(net, loss=1.0)
    send_spaced(net, a, b, 20)
    net.run(for_="1s")
    assert b.pending == 0
    c = link.counters("a_to_b")
    assert (c.frames_in, c.dropped_loss, c.delivered) == (20, 20, 0)
    link.configure(loss=None)
    send_spaced(net, a, b, 5)
    net.run(for_="1s")
    assert b.pending == 5


@pytest.mark.parametrize(
    "model, expected",
    [
        (0.3, 0.3),
        ("30%", 0.3),
        (Bernoulli(0.1), 0.1),
        (GilbertElliott(p=0.1, r=0.4), 0.1 / 0.5),  # pi_bad, 1-h = 1
        (GilbertElliott(p=0.05), 0.05),  # r = 1 - p: reduces to Bernoulli(p)
        (Markov4(p13=0.1), 0.1),  # p31 = 1 - p13
    ],
)
def test_loss_models_rate(net, model, expected):
    n = 4000
    a, b, link = pair(net, loss=model)
    for i in range(n):
        a.send(frame(a.mac, b.mac, i))
    net.run(for_="1s")
    c = link.counters("a_to_b")
    assert c.dropped_loss + c.delivered == n
    rate = c.dropped_loss / n
    sd = (expected * (1 - expected) / n) ** 0.5
    assert abs(rate - expected) < 6 * sd + 0.02  # correlated models get slack
    assert b.pending == c.delivered


def test_gilbert_elliott_losses_come_in_bursts(net):
    a, b, link = pair(net, loss=GilbertElliott(p=0.02, r=0.25))
    n = 5000
    for i in range(n):
        a.send(frame(a.mac, b.mac, i))
    net.run(for_="1s")
    got = {seq_of(p) for p in b.received()}
    lost = [i for i in range(n) if i not in got]
    runs, prev = [], None
    for i in lost:
        if prev is not None and i == prev + 1:
            runs[-1] += 1
        else:
            runs.append(1)
        prev = i
    mean_run = sum(runs) / len(runs)
    assert 2.5 < mean_run < 6  # expected 1/r = 4


def test_duplicate(net):
    a, b, link = pair(net, duplicate=1.0)
    send_spaced(net, a, b, 10)
    net.run(for_="1s")
    seqs = [seq_of(p) for p in b.received()]
    assert seqs == [i for i in range(10) for _ in (0, 1)]
    c = link.counters("a_to_b")
    assert c.duplicated == 10 and c.delivered == 20


def test_corrupt_flips_one_bit(net):
    a, b, link = pair(net, corrupt=1.0)
    sent = [frame(a.mac, b.mac, i, 200) for i in range(30)]
    for f in sent:
        a.send(f)
    net.run(for_="1s")
    got = [bytes(p) for p in b.received()]
    assert len(got) == 30
    for s, g in zip(sent, got):
        diff = sum(bin(x ^ y).count("1") for x, y in zip(s, g))
        assert diff == 1
    assert link.counters("a_to_b").corrupted == 30


def test_reorder_skips_the_delay(net):
    a, b, link = pair(net, delay="10ms", reorder=0.3)
    send_spaced(net, a, b, 100)
    net.run(for_="1s")
    got = b.received()
    seqs = [seq_of(p) for p in got]
    assert sorted(seqs) == list(range(100))
    assert seqs != sorted(seqs)
    c = link.counters("a_to_b")
    assert c.reordered > 10 and c.reordered < 60
    early = [p for p in got if p.time_ns == seq_of(p) * 1_000_000]  # no delay at all
    assert len(early) == c.reordered


def test_jitter_keeps_order_unless_asked(net):
    a, b, link = pair(net, delay="10ms", jitter="5ms")
    send_spaced(net, a, b, 200, gap="500us")
    net.run(for_="1s")
    got = b.received()
    assert [seq_of(p) for p in got] == list(range(200))
    times = [p.time_ns for p in got]
    assert times == sorted(times)
    for p in got:
        sent = seq_of(p) * 500_000
        assert p.time_ns >= sent + 5_000_000
    assert len({p.time_ns - seq_of(p) * 500_000 for p in got}) > 20  # delays vary

    link.configure(jitter_reorders=True)
    base = net.now_ns
    send_spaced(net, a, b, 200, gap="500us")
    net.run(for_="1s")
    got = b.received()
    seqs = [seq_of(p) for p in got]
    assert sorted(seqs) == list(range(200)) and seqs != list(range(200))
    for p in got:
        d = p.time_ns - (base + seq_of(p) * 500_000)
        assert 5_000_000 <= d <= 15_000_000


def test_queue_limit(net):
    a, b, link = pair(net, rate="1Mbit", queue_limit=5)
    for i in range(20):
        a.send(frame(a.mac, b.mac, i, 1000))
    net.run(for_="1s")
    c = link.counters("a_to_b")
    assert c.dropped_queue > 0
    assert c.delivered + c.dropped_queue == 20
    assert c.queue_max <= 6
    assert [seq_of(p) for p in b.received()] == list(range(c.delivered))


def test_size_limit(net):
    a, b, link = pair(net, size_limit="100B")
    a.send(frame(a.mac, b.mac, 1, 100))
    a.send(frame(a.mac, b.mac, 2, 101))
    net.run(for_="1s")
    assert [seq_of(p) for p in b.received()] == [1]
    assert link.counters("a_to_b").dropped_size == 1
    link.configure(size_limit=None)
    a.send(frame(a.mac, b.mac, 3, 1500))
    net.run(for_="1s")
    assert b.pending == 1


def test_tbf_burst_then_rate(net):
    # 1 Mbit/s = 125000 B/s: a 1000-byte frame costs 8 ms of tokens; 3000 B of burst
    a, b, link = pair(net, tbf=Tbf(rate="1Mbit", burst="3KB", limit="100KB"))
    for i in range(8):
        a.send(frame(a.mac, b.mac, i, 1000))
    net.run(for_="1s")
    times = [p.time_ns for p in b.received()]
    assert times == [0, 0, 0, 8_000_000, 16_000_000, 24_000_000, 32_000_000, 40_000_000]
    assert link.counters("a_to_b").shaper_delayed == 5


def test_tbf_peak_rate_spaces_frames(net):
    # peak 8 Mbit/s = 1 MB/s: a 1000-byte frame costs 1 ms of peak tokens; the
    # peak bucket holds mtu = 1500 B = 1.5 ms, full at the start (as tbf)
    a, b, link = pair(net, tbf=Tbf(rate="1Mbit", burst="10KB", peak="8Mbit", mtu="1500B", latency="1s"))
    for i in range(5):
        a.send(frame(a.mac, b.mac, i, 1000))
    net.run(for_="1s")
    times = [p.time_ns for p in b.received()]
    assert times == [0, 500_000, 1_500_000, 2_500_000, 3_500_000]


def test_tbf_oversize_and_limit_drops(net):
    a, b, link = pair(net, tbf=Tbf(rate="1Mbit", burst=1000, limit=2000))
    a.send(frame(a.mac, b.mac, 0, 1500))  # more than a full bucket: never sendable
    for i in range(1, 10):
        a.send(frame(a.mac, b.mac, i, 1000))
    net.run(for_="1s")
    c = link.counters("a_to_b")
    assert c.dropped_shaper_oversize == 1
    assert c.dropped_shaper_limit > 0
    assert c.delivered + c.dropped_shaper_limit + c.dropped_shaper_oversize == 10
    link.configure(tbf=None)


def test_link_down_and_up_at_times(net):
    a, b, link = pair(net)
    link.down(at="10ms")
    link.up(at="20ms")
    send_spaced(net, a, b, 30)
    net.run(for_="1s")
    seqs = [seq_of(p) for p in b.received()]
    assert seqs == list(range(10)) + list(range(20, 30))
    assert link.counters("a_to_b").dropped_down == 10
    link.down()
    a.send(frame(a.mac, b.mac, 99))
    net.run(for_="1ms")
    assert b.pending == 0
    link.up()
    a.send(frame(a.mac, b.mac, 100))
    net.run(for_="1ms")
    assert b.pending == 1


def test_counters_field_names_match_the_c_struct():
    from dataclasses import fields

    from pyharness._lib import ffi
    from pyharness.link import LinkCounters
    from pyharness.nodes import NodeCounters, SwitchCounters

    for cls, ctype in [
        (LinkCounters, "sim_link_counters"),
        (NodeCounters, "sim_node_counters"),
        (SwitchCounters, "sim_switch_counters"),
    ]:
        assert [f.name for f in fields(cls)] == [name for name, _ in ffi.typeof(ctype).fields]
