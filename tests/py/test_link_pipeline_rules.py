"""Link pipeline rules that the mutation analysis found unchecked: jitter spreads both ways around the
delay, and the default queue limit (no queue_limit given) is never below 1000 frames."""

from tern_helpers import frame

MS = 1_000_000


def test_jitter_spreads_arrivals_on_both_sides_of_the_delay(net):
    """Jitter j draws each frame's extra delay uniformly from [-j, +j] (netem's jitter): frames 100 ms apart
    (so that the no-reorder rule never holds one back) arrive between delay - j and delay + j, some in
    each half."""
    a, b = net.peer("a"), net.peer("b")
    net.link(a, b, delay="50ms", jitter="10ms")
    sent = []
    for i in range(200):
        sent.append(net.now_ns)
        a.send(frame(a.mac, b.mac, i, 100))
        net.run(for_="100ms")
    lat = []
    while (p := b.recv()) is not None:
        lat.append(p.time_ns - sent[len(lat)])
    assert len(lat) == 200
    assert all(40 * MS <= x <= 60 * MS for x in lat), (min(lat), max(lat))
    assert min(lat) < 45 * MS and max(lat) > 55 * MS, (min(lat), max(lat))


def test_default_queue_limit_is_at_least_1000_frames(net):
    """With a line rate and no queue_limit, the queue holds max(2 x BDP in frames, 1000) frames: at 1 Mbit/s
    and no delay the BDP is nothing, so 1200 frames sent at once lose 199 (one is already on the line)."""
    a, b = net.peer("a"), net.peer("b")
    link = net.link(a, b, rate="1Mbit")
    for i in range(1200):
        a.send(frame(a.mac, b.mac, i, 125))
    net.run(for_="20s")
    dropped = link.counters("a_to_b").dropped_queue
    assert dropped == 1200 - 1000 - 1, dropped  # the queue holds 1000; one frame is already on the line
