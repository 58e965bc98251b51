"""Issue 18 item 11: what docs/links.md says about the queue limit, jitter and `reordered` holds."""

import struct

import pytest
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from pyharness import Network


def numbered(a, b, i, size=50):
    return Ether(dst=b.mac, src=a.mac, type=0x88B5) / Raw(struct.pack("!I", i) + bytes(size))


def number(p):
    return struct.unpack("!I", bytes(p[Raw])[:4])[0]


@pytest.mark.parametrize("limit, dropped", [(None, 99), (500, 599)])
def test_default_queue_limit_is_1000_frames(limit, dropped):
    """1100 frames at once onto a 1 Mbit/s link: one on the wire, 1000 queued (the default), 99 dropped."""
    with Network(seed=1) as net:
        a, b = net.peer("a"), net.peer("b")
        link = net.link(a, b, rate="1Mbit", queue_limit=limit)
        for i in range(1100):
            a.send(numbered(a, b, i, 100))
        net.run(for_="10s")
        c = link.counters("a_to_b")
        assert (c.dropped_queue, c.delivered) == (dropped, 1100 - dropped)
        assert c.queue_max == (limit or 1000)


def jitter_run(reorders, reorder=None):
    """400 frames 100 us apart over delay 10 ms, jitter 5 ms: (mean delay ms, inversions, reordered counter)."""
    with Network(seed=1) as net:
        a, b = net.peer("a"), net.peer("b")
        link = net.link(a, b, delay="10ms", jitter="5ms", jitter_reorders=reorders, reorder=reorder)
        sent = {}
        for i in range(400):
            sent[i] = net.now_ns
            a.send(numbered(a, b, i))
            net.run(for_="100us")
        net.run(for_="1s")
        got = [(number(p), p.time_ns) for p in b.received()]
        mean_ms = sum(t - sent[i] for i, t in got) / len(got) / 1e6
        order = [i for i, _ in got]
        inversions = sum(1 for x, y in zip(order, order[1:]) if y < x)
        return mean_ms, inversions, link.counters("a_to_b").reordered


def test_jitter_without_reordering_raises_the_mean_delay():
    mean, inversions, reordered = jitter_run(False)
    assert inversions == 0 and reordered == 0
    # above the 10 ms delay: late draws hold back the frames behind them (seed 1, exact in virtual time)
    assert mean == 13.89618277, mean


def test_jitter_reorders_keeps_the_mean_but_reordered_does_not_count_it():
    mean, inversions, reordered = jitter_run(True)
    # netem's behaviour: the mean is the delay (seed 1: 9.97 ms over 400 uniform draws in 5..15 ms)
    assert mean == 9.969201115, mean
    assert inversions == 190              # frames overtake each other (seed 1)...
    assert reordered == 0                 # ...but only reorder= counts in `reordered`


def test_reordered_counts_the_frames_reorder_picks():
    """Positive control for the counter."""
    mean, inversions, reordered = jitter_run(False, reorder=0.1)
    assert (reordered, inversions) == (26, 11)  # seed 1: 26 of 400 frames picked at p = 0.1
