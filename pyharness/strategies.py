"""Hypothesis strategies for network conditions that shrink to minimal drop and delay sets.

A failing property shrinks towards fewer, earlier drops and shorter delays,
so the example Hypothesis reports is the smallest set of network events that
still breaks the system under test.

Two levels:

- :func:`conditions` draws *scripted* events (drop, delay or duplicate the
  nth frame) as a :class:`Conditions`;
- :func:`link_conditions` draws a whole link direction as a
  :class:`LinkConditions`: line rate, propagation delay, a random loss rate
  and scripted events, shrinking towards a perfect link.

``apply(link, direction)`` puts either on a link. docs/property-testing.md
has a complete TCP transfer property to copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from hypothesis import strategies as st
from .errors import hide_from_traceback as __tracebackhide__  # noqa: F401  (pytest shows the test's line, not ours)

if TYPE_CHECKING:
    from .link import Link


@dataclass(frozen=True)
class Conditions:
    """Scripted network events on one link direction: frame numbers are 1-based, delays in ns."""

    drops: tuple[int, ...] = ()
    delays: tuple[tuple[int, int], ...] = ()  # (nth frame, extra delay ns): a delayed frame may be overtaken
    duplicates: tuple[int, ...] = ()
    loss: float = 0.0
    extra: dict = field(default_factory=dict, compare=False)

    def apply(self, link: "Link", direction: str = "a_to_b") -> list[Any]:
        """Script these events on ``link``'s ``direction``; returns the faults (their ``hits`` count)."""
        faults = [link.fault("drop", nth=n, direction=direction) for n in self.drops]
        faults += [link.fault("delay", nth=n, delay=f"{d}ns", direction=direction) for n, d in self.delays]
        faults += [link.fault("duplicate", nth=n, direction=direction) for n in self.duplicates]
        if self.loss:
            link.configure(direction, loss=self.loss)
        return faults

    def __str__(self) -> str:
        parts = []
        if self.drops:
            parts.append(f"drop frames {list(self.drops)}")
        if self.delays:
            parts.append("delay " + ", ".join(f"frame {n} by {d / 1e6:g}ms" for n, d in self.delays))
        if self.duplicates:
            parts.append(f"duplicate frames {list(self.duplicates)}")
        if self.loss:
            parts.append(f"loss {self.loss:g}")
        return "; ".join(parts) or "a perfect link"


def drop_lists(max_frames: int = 50, max_drops: int = 5) -> st.SearchStrategy[tuple[int, ...]]:
    """Sorted, distinct frame numbers to drop (1..max_frames); shrinks to fewer and earlier drops."""
    return st.lists(st.integers(1, max_frames), max_size=max_drops, unique=True).map(lambda xs: tuple(sorted(xs)))


def delay_lists(max_frames: int = 50, max_delayed: int = 3, max_delay_ms: int = 500
                ) -> st.SearchStrategy[tuple[tuple[int, int], ...]]:
    """(frame number, extra delay ns) pairs; a delay longer than the gap to the next frame reorders them."""
    pair = st.tuples(st.integers(1, max_frames), st.integers(1, max_delay_ms).map(lambda ms: ms * 1_000_000))
    return st.lists(pair, max_size=max_delayed, unique_by=lambda p: p[0]).map(lambda xs: tuple(sorted(xs)))


def reorderings(max_frames: int = 50, max_reordered: int = 3) -> st.SearchStrategy[tuple[tuple[int, int], ...]]:
    """Delays long enough to push a frame behind its followers (as delay pairs)."""
    return delay_lists(max_frames, max_reordered, max_delay_ms=50)


def loss_rates(max_rate: float = 0.3) -> st.SearchStrategy[float]:
    """A Bernoulli loss probability; shrinks to 0."""
    return st.sampled_from([0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3]).filter(lambda p: p <= max_rate)


@dataclass(frozen=True)
class LinkConditions:
    """One link direction's conditions: line rate, delay, random loss and scripted events.

    ``rate`` is bits/s (None: unlimited), ``delay_ns`` the propagation delay,
    ``loss`` a Bernoulli probability, ``scripted`` the :class:`Conditions`
    (drops, delays, duplicates of the nth frame, counted from the link's
    creation, ARP and handshake frames included).
    """

    rate: Optional[int] = None
    delay_ns: int = 0
    loss: float = 0.0
    scripted: Conditions = Conditions()

    def apply(self, link: "Link", direction: str = "a_to_b") -> list[Any]:
        """Configure ``link``'s ``direction`` and script the events; returns the scripted faults."""
        link.configure(direction, rate=self.rate, delay=f"{self.delay_ns}ns", loss=self.loss or None)
        return self.scripted.apply(link, direction)

    def __str__(self) -> str:
        parts = [f"rate {self.rate / 1e6:g} Mbit/s" if self.rate else "unlimited rate",
                 f"delay {self.delay_ns / 1e6:g} ms"]
        if self.loss:
            parts.append(f"loss {self.loss:g}")
        if str(self.scripted) != "a perfect link":
            parts.append(str(self.scripted))
        return ", ".join(parts)


#: Line rates :func:`link_conditions` draws from (bits/s); None (unlimited) first, so it shrinks there.
RATES: tuple[Optional[int], ...] = (None, 100_000_000, 10_000_000, 1_000_000, 256_000)


def rates(choices: tuple[Optional[int], ...] = RATES) -> st.SearchStrategy[Optional[int]]:
    """A line rate in bits/s from ``choices`` (None: unlimited); shrinks to the first choice."""
    return st.sampled_from(choices)


def delays(max_delay_ms: int = 100) -> st.SearchStrategy[int]:
    """A propagation delay in ns, whole milliseconds from 0 to ``max_delay_ms``; shrinks to 0."""
    return st.integers(0, max_delay_ms).map(lambda ms: ms * 1_000_000)


def link_conditions(max_frames: int = 50, max_drops: int = 3, max_delayed: int = 2, max_delay_ms: int = 100,
                    max_loss: float = 0.05, rate_choices: tuple[Optional[int], ...] = RATES,
                    duplicates: bool = False) -> st.SearchStrategy[LinkConditions]:
    """Whole link-direction conditions: rate, delay, random loss up to ``max_loss`` and scripted events.

    Shrinks towards an unlimited, zero-delay, loss-free link with no scripted event, so a failing
    property reports only the conditions it needs.
    """
    return st.builds(
        LinkConditions,
        rate=rates(rate_choices),
        delay_ns=delays(max_delay_ms),
        loss=loss_rates(max_loss),
        scripted=conditions(max_frames, max_drops, max_delayed, duplicates=duplicates),
    )


def conditions(max_frames: int = 50, max_drops: int = 5, max_delayed: int = 3, duplicates: bool = False,
               loss: bool = False) -> st.SearchStrategy[Conditions]:
    """Network conditions for one link direction: drops, delays (reordering), optionally duplicates and loss."""
    return st.builds(
        Conditions,
        drops=drop_lists(max_frames, max_drops),
        delays=delay_lists(max_frames, max_delayed),
        duplicates=drop_lists(max_frames, 2) if duplicates else st.just(()),
        loss=loss_rates() if loss else st.just(0.0),
    )


__all__ = ["Conditions", "LinkConditions", "conditions", "link_conditions", "rates", "delays", "drop_lists", "delay_lists", "reorderings", "loss_rates"]
