"""Expectations on what a scripted peer receives: ``expect`` and ``expect_nothing``.

The simulation runs only as far as needed: it stops each time a peer
receives a frame (``SIM_RUN_STOP_ON_PEER_RX``), the new frames are checked,
and it goes on until a match or the end of the window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional

from .errors import ConfigError
from .frames import Frame, seconds_text
from .units import TimeLike, format_time, parse_time
from .errors import hide_from_traceback as __tracebackhide__  # noqa: F401  (pytest shows the test's line, not ours)

if TYPE_CHECKING:
    from .peer import Peer
    from .template import Check, Match

DEFAULT_WITHIN = "1s"
DEFAULT_TOLERANCE = "1ms"
MAX_LISTED = 30
#: A failed at= expectation runs on at least this long (ns) past its window, to say when the frame came.
LOOK_AHEAD_NS = 1_000_000_000


class ExpectationError(AssertionError):
    """An expectation on a peer failed.

    ``closest`` is the frame that came nearest (or None), ``frames`` the
    frames seen in the window, ``seed`` the network's seed. The message shows
    all of it.
    """

    def __init__(self, message: str, closest: Optional[Frame] = None, frames: Iterable[Frame] = (),
                 seed: Optional[int] = None):
        super().__init__(message)
        self.closest = closest
        self.frames = list(frames)
        self.seed = seed


def _window(net: Any, within: Optional[TimeLike], at: Optional[TimeLike],
            tolerance: Optional[TimeLike]) -> tuple[Optional[int], int, str]:
    """(low bound or None, high bound, description) of an expectation window, ns."""
    if within is not None and at is not None:
        raise ConfigError(f"expect() takes within= or at=, not both (within={within!r}, at={at!r})")
    if at is not None:
        t = parse_time(at, "at")
        tol = parse_time(DEFAULT_TOLERANCE if tolerance is None else tolerance, "tolerance")
        widen = getattr(net, "widen_tolerance", None)  # a network in real time (the Linux DUT)
        if widen is not None:
            tol = widen(t, tol)
        lo, hi = max(t - tol, 0), t + tol
        return lo, hi, f"at {seconds_text(t)}s ± {seconds_text(tol)}s"
    if tolerance is not None:
        raise ConfigError(f"tolerance= goes with at=, got tolerance={tolerance!r} without at")
    w = parse_time(DEFAULT_WITHIN if within is None else within, "within")
    widen = getattr(net, "widen_within", None)
    if widen is not None:
        w = widen(w)
    now = net.now_ns
    return None, now + w, f"within {seconds_text(w)}s of {seconds_text(now)}s"


def _seen(peer: "Peer", lo: int, hi: int, extra: Iterable[Frame] = ()) -> list[Frame]:
    by_index = {f.index: f for f in extra}
    for f in peer._history:
        if lo <= f.time_ns <= hi:
            by_index[f.index] = f
    return [by_index[i] for i in sorted(by_index)]


def _listing(frames: list[Frame]) -> str:
    if not frames:
        return "  frames seen in the window: none"
    lines = [f"  frames seen in the window ({len(frames)}):"]
    for f in frames[:MAX_LISTED]:
        lines.append(f"    {f.summary()}")
    if len(frames) > MAX_LISTED:
        lines.append(f"    ... and {len(frames) - MAX_LISTED} more")
    return "\n".join(lines)


def expect(peer: "Peer", template: Any, within: Optional[TimeLike] = None, at: Optional[TimeLike] = None,
           tolerance: Optional[TimeLike] = None, port: Optional[int] = None,
           extra: Iterable["Check"] = (), what: Optional[str] = None, strict: bool = False,
           scope: Any = None) -> Any:
    """Wait for a frame matching ``template`` at ``peer`` (see :meth:`Peer.expect`).

    ``strict``: the matching frame must be the next one received (of those
    ``scope`` matches, a template or predicate on the scapy packet; all
    frames without it). A frame in between fails at once, naming it, where
    the lenient default skips it.

    With ``at=``, a frame that matches outside the window fails at once
    when it came early; when none came in the window, the simulation runs on
    (up to 1 s, or ten windows, past it) to say when the matching frame did
    arrive. The message then lists only the frames inside the window.

    Each frame is first judged on its bytes by the template's compiled
    pre-filter (:func:`~pyharness.template.compile_template`); only frames it
    cannot decide are dissected with scapy. Frames that did not match keep
    no :class:`~pyharness.template.Match` until a failure message needs one.
    """
    from .template import match

    net = peer.net
    extra = list(extra)
    lo, hi, when = _window(net, within, at, tolerance)
    start = net.now_ns
    raw = _compiled(template, not extra)
    peer._drain()
    looked: list[tuple[Frame, Optional["Match"]]] = []
    checked = 0
    while True:
        inbox = peer._inbox
        for i in range(checked, len(inbox)):
            f = inbox[i]
            if port is not None and f.port != port:
                continue
            if f.time_ns > hi:
                continue
            ok = raw(f.data) if raw is not None else None
            m = None
            if ok is None:
                m = match(template, f.pkt, extra)
                ok = m.ok
            if not ok and strict and _in_scope(scope, f):
                looked.append((f, m))
                _fail(peer, template, what, when, lo, hi, start, looked,
                      f"strict: unexpected frame #{f.index} at {seconds_text(f.time_ns)}s before the expected one: "
                      f"{f.summary()}", f, extra)
            if ok:
                if lo is not None and f.time_ns < lo:
                    looked.append((f, m))
                    _fail(peer, template, what, when, lo, hi, start, looked,
                          f"the matching frame arrived too early, at {seconds_text(f.time_ns)}s "
                          f"({format_time(lo - f.time_ns)} before the window opened)", f, extra)
                del inbox[i]
                return f.pkt
            looked.append((f, m))
        checked = len(inbox)
        if net._window_over(hi):
            break
        net._advance(hi, until_rx=True)
        peer._drain()
    if lo is None:
        _fail(peer, template, what, when, lo, hi, start, looked, "no frame matched", None, extra)
    # A timed expectation: say when the matching frame did arrive. Run on a little to find out.
    ahead = hi + max(LOOK_AHEAD_NS, 10 * (hi - lo))
    late = _first_match(peer, template, raw, extra, port, hi, ahead)
    if late is not None:
        looked.append((late, None))
        headline = (f"the matching frame arrived late, at {seconds_text(late.time_ns)}s "
                    f"({format_time(late.time_ns - hi)} after the window closed)")
    else:
        headline = (f"no matching frame arrived before the window closed at {seconds_text(hi)}s "
                    f"(nor in the {format_time(ahead - hi)} after it)")
    _fail(peer, template, what, when, lo, hi, start, looked, headline, late, extra)
    raise AssertionError("unreachable")  # pragma: no cover


def _in_scope(scope: Any, f: Frame) -> bool:
    """Whether a strict expectation answers for frame ``f``: every frame, or those ``scope`` accepts."""
    if scope is None:
        return True
    if callable(scope):
        return bool(scope(f.pkt))
    from .template import match

    return match(scope, f.pkt, []).ok


def _first_match(peer: "Peer", template: Any, raw: Any, extra: list, port: Optional[int], after: int,
                 until: int) -> Optional[Frame]:
    """Run up to ``until`` and return the first frame later than ``after`` that matches (left in the inbox)."""
    from .template import match

    net = peer.net
    checked = 0
    while True:
        peer._drain()
        inbox = peer._inbox
        for i in range(checked, len(inbox)):
            f = inbox[i]
            if f.time_ns <= after or f.time_ns > until or (port is not None and f.port != port):
                continue
            ok = raw(f.data) if raw is not None else None
            if ok is None:
                ok = match(template, f.pkt, extra).ok
            if ok:
                return f
        checked = len(inbox)
        if net._window_over(until):
            return None
        net._advance(until, until_rx=True)


_COMPILED: dict[int, tuple[Any, Any, Any]] = {}


def _compiled(template: Any, exact: bool) -> Any:
    """The raw matcher of ``template`` (cached by identity while the template lives), or None."""
    from .template import compile_template

    if template is None:
        return None
    key = id(template)
    hit = _COMPILED.get(key)
    if hit is not None and hit[0] is template:
        return hit[1] if exact else hit[2]
    exact_m, loose_m = compile_template(template, True), compile_template(template, False)
    if len(_COMPILED) > 256:
        _COMPILED.clear()
    _COMPILED[key] = (template, exact_m, loose_m)
    return exact_m if exact else loose_m


def _fail(peer: "Peer", template: Any, what: Optional[str], when: str, lo: Optional[int], hi: int, start: int,
          looked: list, headline: str, culprit: Optional[Frame], extra: Iterable["Check"] = ()) -> None:
    from .template import describe, diff_table, match

    net = peer.net
    extra = list(extra)
    looked = [(f, m if m is not None else match(template, f.pkt, extra)) for f, m in looked]
    desc = what or describe(template)
    msg = [f"{peer.name}: expected {desc} {when}: {headline} ({net.seed_text}, now {seconds_text(net.now_ns)}s)"]
    closest = None
    if culprit is not None:
        closest = next((fm for fm in looked if fm[0] is culprit), None)
    elif looked:
        def distance(f: Frame) -> int:  # how far outside the window (0 inside it)
            return max(0, (lo or 0) - f.time_ns, f.time_ns - hi)

        # By fields first, then by time (nearest the window), then the earliest.
        closest = max(looked, key=lambda fm: (fm[1].score, -distance(fm[0]), -fm[0].index))
    if closest is not None:
        f, m = closest
        label = "the matching frame" if culprit is not None else "closest frame"
        msg.append(f"  {label}: #{f.index} at {seconds_text(f.time_ns)}s on port {f.port}, "
                   f"{sum(c.ok for c in m.fields)} of {len(m.fields)} checks match:")
        msg.append(diff_table(m))
    else:
        msg.append("  no candidate frame arrived")
    if lo is not None:
        # A timed window: list only what arrived inside it.
        frames = [f for f in _seen(peer, lo, hi, [f for f, _ in looked]) if lo <= f.time_ns <= hi]
    else:
        window_lo = min([start] + [f.time_ns for f, _ in looked])
        frames = _seen(peer, window_lo, max(hi if hi < 2**63 else net.now_ns, net.now_ns), [f for f, _ in looked])
    msg.append(_listing(frames))
    raise ExpectationError("\n".join(msg), closest[0] if closest else None, frames, net.seed)


def expect_nothing(peer: "Peer", for_: TimeLike, matching: Any = None, port: Optional[int] = None,
                   extra: Iterable["Check"] = (), what: Optional[str] = None) -> None:
    """Run ``for_`` and fail at the first frame (matching ``matching``) that arrives meanwhile."""
    from .template import describe, diff_table, match

    net = peer.net
    start = net.now_ns
    hi = start + parse_time(for_, "for_")
    extra = list(extra)
    raw = _compiled(matching, not extra) if matching is not None else None
    peer._drain()
    checked = len(peer._inbox)
    while True:
        inbox = peer._inbox
        for i in range(checked, len(inbox)):
            f = inbox[i]
            if port is not None and f.port != port:
                continue
            if f.time_ns < start:
                continue
            if matching is None and not extra:
                ok, table = True, ""
            else:
                ok = raw(f.data) if raw is not None else None
                table = ""
                if ok is not False:
                    m = match(matching, f.pkt, extra)
                    ok, table = m.ok, diff_table(m)
            if ok:
                desc = what or (describe(matching) if matching is not None else "any frame")
                msg = [f"{peer.name}: expected nothing ({desc}) for {seconds_text(hi - start)}s from "
                       f"{seconds_text(start)}s, but frame #{f.index} arrived at {seconds_text(f.time_ns)}s "
                       f"({net.seed_text}):", f"    {f.summary()}"]
                if table:
                    msg.append(table)
                frames = _seen(peer, start, net.now_ns)
                msg.append(_listing(frames))
                raise ExpectationError("\n".join(msg), f, frames, net.seed)
        checked = len(inbox)
        if net._window_over(hi):
            return
        net._advance(hi, until_rx=True)
        peer._drain()


def expect_until(peer: "Peer", cond: Callable[[], bool], within: TimeLike, what: str) -> None:
    """Run until ``cond()`` holds (checked as ``peer`` receives), at most ``within``."""
    net = peer.net
    start = net.now_ns
    hi = start + parse_time(within, "within")
    while True:
        peer._drain()
        if cond():
            return
        if net._window_over(hi):
            frames = _seen(peer, start, hi)
            raise ExpectationError(
                f"{peer.name}: expected {what} within {seconds_text(hi - start)}s of {seconds_text(start)}s "
                f"({net.seed_text})\n{_listing(frames)}", None, frames, net.seed)
        net._advance(hi, until_rx=True)


__all__ = ["ExpectationError", "expect", "expect_nothing", "expect_until", "DEFAULT_WITHIN", "DEFAULT_TOLERANCE"]
