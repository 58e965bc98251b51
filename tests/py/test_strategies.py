"""Hypothesis strategies for network conditions: they apply to links and shrink to minimal sets."""

from hypothesis import HealthCheck, find, given, settings
from tern_helpers import frame, seq_of

from pyharness import Network
from pyharness.strategies import Conditions, conditions, drop_lists


def deliver(cond: Conditions, n: int = 12) -> list[int]:
    """A peer sends n numbered frames 1 ms apart through a link with ``cond``; the sequence numbers received."""
    with Network(seed=3) as net:
        a, b = net.peer("a"), net.peer("b")
        link = net.link(a, b, delay="2ms")
        cond.apply(link)
        for i in range(n):
            a.send(frame(a.mac, b.mac, i))
            net.run(for_="1ms")
        net.run(for_="2s")
        return [seq_of(p) for p in b.received()]


def in_order_and_complete(cond: Conditions) -> bool:
    return deliver(cond) == list(range(12))


def test_conditions_apply_drops_delays_duplicates():
    got = deliver(Conditions(drops=(2,), delays=((5, 10_000_000),), duplicates=(8,)))
    assert got.count(1) == 0 and got.count(7) == 2 and got.index(4) > got.index(5)


def test_a_broken_property_shrinks_to_one_drop():
    # "every frame arrives in order" fails under any drop or reorder: the minimal example is a single event.
    bad = find(conditions(max_frames=12), lambda c: not in_order_and_complete(c),
               settings=settings(max_examples=200, database=None, suppress_health_check=list(HealthCheck)))
    assert (len(bad.drops), len(bad.delays)) in ((1, 0), (0, 1))
    if bad.drops:
        assert bad.drops == (1,)
    else:
        n, d = bad.delays[0]
        assert n == 1  # the smallest delay that still reorders frame 1 behind frame 2
        assert d == 2_000_000


def test_drop_lists_shrink_to_smallest():
    assert find(drop_lists(50, 5), lambda xs: len(xs) >= 2, settings=settings(database=None)) == (1, 2)


@settings(max_examples=15, deadline=None, database=None)
@given(cond=conditions(max_frames=12, max_drops=3, max_delayed=0))
def test_drops_lose_exactly_those_frames(cond):
    got = deliver(cond)
    assert got == [i for i in range(12) if i + 1 not in cond.drops]
