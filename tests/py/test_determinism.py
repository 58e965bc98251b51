"""Same seed, same bytes; another seed, another pattern; duplication does not move loss."""

from collections import Counter

from tern_helpers import frame, seq_of

from pyharness import GilbertElliott, Network, Tbf

N = 400


def scenario(tmp_path, seed, tag, duplicate=0.0):
    path = tmp_path / f"{tag}.pcap"
    with Network(seed=seed) as net:
        a, b = net.peer("a"), net.peer("b")
        link = net.link(
            a, b, rate="10Mbit", delay="2ms", jitter="1ms",
            loss=GilbertElliott(p=0.05, r=0.3), corrupt=0.01, duplicate=duplicate, reorder=0.02,
            tbf=Tbf(rate="8Mbit", burst="4KB", latency="50ms"),
        )
        link.capture(path, side="b")
        for i in range(N):
            a.send(frame(a.mac, b.mac, i, 100 + i % 50))
            net.run(for_="150us")
        net.run(for_="1s")
        got = Counter(seq_of(p) for p in b.received())
    return path.read_bytes(), got


def test_same_seed_same_pcap_bytes(tmp_path):
    one, got1 = scenario(tmp_path, 1234, "one")
    two, got2 = scenario(tmp_path, 1234, "two")
    assert one == two
    assert got1 == got2
    assert len(got1) < N  # something was lost


def test_different_seed_different_loss_pattern(tmp_path):
    _, got1 = scenario(tmp_path, 1, "one")
    _, got2 = scenario(tmp_path, 2, "two")
    assert set(got1) != set(got2)


def test_duplication_does_not_move_the_loss_pattern(tmp_path):
    _, plain = scenario(tmp_path, 77, "plain")
    _, dup = scenario(tmp_path, 77, "dup", duplicate=0.5)
    assert any(n == 2 for n in dup.values())  # duplication happened
    for i in range(N):
        if plain[i]:  # the original survived without duplication: it survives with it
            assert dup[i] >= 1, i
        else:  # the original was lost: at most its copy arrives
            assert dup[i] <= 1, i
