"""Links between node ports: impairments, link state, scripted faults, counters, capture."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from ._lib import ffi, lib
from .errors import ConfigError, TernIOError
from .impairments import Bernoulli, GilbertElliott, Markov4, Tbf
from .units import TimeLike, parse_count, parse_probability, parse_rate, parse_size, parse_time
from .errors import hide_from_traceback as __tracebackhide__  # noqa: F401  (pytest shows the test's line, not ours)

if TYPE_CHECKING:
    from .network import Network
    from .nodes import Node

DIRECTIONS = {"a_to_b": 0, "b_to_a": 1, "both": 2}
ACTIONS = {"drop": 0, "delay": 1, "duplicate": 2, "corrupt": 3}

#: The keyword arguments of ``Network.link`` and ``Link.configure``.
IMPAIRMENTS = (
    "rate",
    "delay",
    "jitter",
    "jitter_reorders",
    "loss",
    "duplicate",
    "corrupt",
    "reorder",
    "queue_limit",
    "size_limit",
    "tbf",
)


@dataclass(frozen=True)
class LinkCounters:
    """What one direction of a link did, stage by stage (sim_link_counters).

    ``reordered`` counts only the frames ``reorder=`` picked; frames reordered by
    ``jitter_reorders=True`` or overtaking a scripted delay are not counted there.
    docs/links.md describes every counter.
    """

    frames_in: int
    bytes_in: int
    delivered: int
    bytes_delivered: int
    dropped_down: int
    dropped_fault: int
    dropped_loss: int
    dropped_size: int
    dropped_queue: int
    dropped_shaper_limit: int
    dropped_shaper_oversize: int
    duplicated: int
    corrupted: int
    reordered: int
    shaper_delayed: int
    fault_delayed: int
    fault_duplicated: int
    fault_corrupted: int
    queue_max: int


def _direction(value: str, allow_both: bool, name: str = "direction") -> int:
    allowed = list(DIRECTIONS) if allow_both else ["a_to_b", "b_to_a"]
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
    return DIRECTIONS[value]


#: Field names of Wireshark display filters ("tcp.flags.syn", "ip.src"): a BPF expression never has them.
_DISPLAY_FILTER = re.compile(r"\b(eth|ip|ipv6|tcp|udp|icmp|arp|frame|vlan|sll)\.[a-z_][a-z0-9_.]*", re.I)


def _bpf_compiles(expr: str) -> Optional[str]:
    """None if libpcap compiles ``expr`` for Ethernet, else libpcap's message."""
    from scapy.arch.common import compile_filter

    try:
        compile_filter(expr, linktype=1)  # DLT_EN10MB, what every link carries
    except Exception as exc:  # scapy wraps libpcap's message in Scapy_Exception
        text = str(exc)
        inner = re.search(r"\((.*)\)\s*$", text)
        return inner.group(1) if inner else text
    return None


def bpf_problem(expr: str) -> Optional[str]:
    """Why a BPF expression does not compile, in words a user can act on; None if it compiles.

    libpcap says only "syntax error". This names the word where the longest
    compiling prefix ends, and says so when the text looks like a Wireshark
    display filter (``tcp.flags.syn == 1``) rather than a capture filter.
    """
    error = _bpf_compiles(expr)
    if error is None:
        return None
    words = expr.split()
    good = 0  # the longest prefix of whole words that compiles
    for i in range(1, len(words)):
        if _bpf_compiles(" ".join(words[:i])) is None:
            good = i
    named = re.search(r"'([^']+)'", error)  # libpcap quotes the word it could not use ("unknown port 'x'")
    if named and named.group(1) in words:
        good = words.index(named.group(1))
        where = f"at word {good + 1} ({words[good]!r})"
    elif good < len(words):
        where = (f"at word {good + 1} ({words[good]!r})" if good == 0 else
                 f"at word {good + 1} ({words[good]!r}), after {' '.join(words[:good])!r} which compiles")
    else:
        where = "at the end"
    msg = f"is not a valid BPF capture filter ({error}), {where}"
    m = _DISPLAY_FILTER.search(expr)
    if m:
        msg += (f"; {m.group(0)!r} looks like a Wireshark display filter field: link faults take libpcap "
                f"capture filters, e.g. \"tcp[tcpflags] & tcp-syn != 0\", \"src host 10.0.0.1\", "
                f"\"tcp dst port 80\" (see pcap-filter(7))")
    return msg


class Fault:
    """A scripted fault on one direction of a link; ``hits`` counts the frames it hit."""

    def __init__(self, link: "Link", direction: str, action: str, fault_id: int, description: str):
        self.link = link
        self.direction = direction
        self.action = action
        self._id = fault_id
        self.description = description

    def __repr__(self) -> str:
        return f"<Fault {self.action} {self.description} on {self.link.name} {self.direction}>"

    @property
    def hits(self) -> int:
        """How many frames this fault has hit so far."""
        out = ffi.new("uint64_t *")
        d = DIRECTIONS[self.direction]
        self.link._net._call(lib.sim_link_fault_hits, self.link._id, d, self._id, out, context=f"{self!r}.hits")
        return int(out[0])


class Link:
    """A full-duplex link between port ``port_a`` of ``a`` and port ``port_b`` of ``b``.

    Direction "a_to_b" carries what ``a`` sends. Impairments (see
    :meth:`configure`) apply per direction, in the documented pipeline order.
    """

    def __init__(self, net: "Network", link_id: int, a: "Node", port_a: int, b: "Node", port_b: int):
        self._net = net
        self._id = link_id
        self.a, self.port_a, self.b, self.port_b = a, port_a, b, port_b
        self.name = f"{a.name}-{b.name}"
        # Delay, jitter and their reordering flag are one C call: keep what is set.
        self._delay = [[0, 0, False], [0, 0, False]]
        #: The pcaps this link is writing, by end ("a", "b"); empty when not capturing.
        self.capture_paths: dict[str, Path] = {}

    @property
    def capture_path(self) -> Optional[Path]:
        """The pcap of end "a" if captured, else of end "b", else None."""
        return self.capture_paths.get("a") or self.capture_paths.get("b")

    @capture_path.setter
    def capture_path(self, value: None) -> None:
        if value is not None:
            raise ConfigError("capture_path is set by capture(); only None (forget the captures) may be assigned")
        self.capture_paths = {}

    def __repr__(self) -> str:
        return f"<Link {self.a.name}:{self.port_a} <-> {self.b.name}:{self.port_b}>"

    @property
    def net(self) -> "Network":
        """The network this link belongs to."""
        return self._net

    # -- impairments ------------------------------------------------------

    def configure(self, direction: str = "both", **impairments: Any) -> "Link":
        """Set impairments on one direction ("a_to_b", "b_to_a") or "both".

        Keywords (each optional; None turns the impairment off):

        - ``rate``: line rate, bits/s ("10Mbit"); frames take len*8/rate on the wire.
        - ``delay``, ``jitter``: propagation delay and its jitter (times). Jitter is
          uniform in [-jitter, +jitter]; by default it never reorders (a frame is held
          behind the one before it, which raises the mean delay above ``delay`` for
          closely spaced frames); ``jitter_reorders=True`` lets jitter reorder frames
          (netem's behaviour, mean delay ``delay``).
        - ``loss``: a probability (Bernoulli), or :class:`Bernoulli`,
          :class:`GilbertElliott`, :class:`Markov4`.
        - ``duplicate``, ``corrupt``, ``reorder``: probabilities.
        - ``queue_limit``: frames waiting for the shaper and the line (None: the default,
          1000 frames or twice the bandwidth-delay product in 1514-byte frames if larger).
        - ``size_limit``: frames longer than this size are dropped.
        - ``tbf``: a :class:`Tbf` shaper.

        Everything is checked before anything is changed. Returns the link.
        """
        d = _direction(direction, allow_both=True)
        unknown = [k for k in impairments if k not in IMPAIRMENTS]
        if unknown:
            raise ConfigError(
                f"link {self.name}: unknown impairment {unknown[0]!r}; known: {', '.join(IMPAIRMENTS)}"
            )
        ops = self._plan(d, impairments)
        for fn, args, what in ops:
            self._net._call(fn, self._id, *args, context=f"link {self.name} {what}")
        return self

    def _plan(self, d: int, kw: dict[str, Any]) -> list[tuple[Callable[..., int], tuple, str]]:
        ops: list[tuple[Callable[..., int], tuple, str]] = []
        if "rate" in kw:
            if kw["rate"] is None:
                ops.append((lib.sim_link_clear_rate, (d,), "rate=None"))
            else:
                bps = parse_rate(kw["rate"], "rate")
                if bps == 0:
                    raise ConfigError(f"rate must be > 0 (use rate=None for an unlimited line), got {kw['rate']!r}")
                ops.append((lib.sim_link_set_rate, (d, bps), f"rate={kw['rate']!r}"))
        if {"delay", "jitter", "jitter_reorders"} & kw.keys():
            for one in (0, 1) if d == 2 else (d,):
                cur = list(self._delay[one])
                if "delay" in kw:
                    cur[0] = 0 if kw["delay"] is None else parse_time(kw["delay"], "delay")
                if "jitter" in kw:
                    cur[1] = 0 if kw["jitter"] is None else parse_time(kw["jitter"], "jitter")
                if "jitter_reorders" in kw:
                    cur[2] = bool(kw["jitter_reorders"])
                if cur[1] > cur[0]:
                    raise ConfigError(
                        f"jitter must not exceed delay: jitter={kw.get('jitter', cur[1])!r} ({cur[1]} ns) "
                        f"> delay={kw.get('delay', cur[0])!r} ({cur[0]} ns)"
                    )
                ops.append((self._set_delay(one, cur), (), f"delay={cur[0]}ns jitter={cur[1]}ns"))
        if "loss" in kw:
            ops.append(self._loss_op(d, kw["loss"]))
        for key, fn in (
            ("duplicate", lib.sim_link_set_duplicate),
            ("corrupt", lib.sim_link_set_corrupt),
            ("reorder", lib.sim_link_set_reorder),
        ):
            if key in kw:
                p = 0.0 if kw[key] is None else parse_probability(kw[key], key)
                ops.append((fn, (d, p), f"{key}={kw[key]!r}"))
        if "queue_limit" in kw:
            v = kw["queue_limit"]
            n = 0 if v is None else parse_count(v, "queue_limit", minimum=1)
            ops.append((lib.sim_link_set_queue_limit, (d, n), f"queue_limit={v!r}"))
        if "size_limit" in kw:
            v = kw["size_limit"]
            n = 0 if v is None else parse_size(v, "size_limit")
            if v is not None and n == 0:
                raise ConfigError(f"size_limit must be >= 1 byte (None removes it), got {v!r}")
            ops.append((lib.sim_link_set_size_limit, (d, n), f"size_limit={v!r}"))
        if "tbf" in kw:
            t = kw["tbf"]
            if t is None:
                ops.append((lib.sim_link_clear_tbf, (d,), "tbf=None"))
            elif isinstance(t, Tbf):
                params = ffi.new("sim_tbf_params *", t.params("tbf"))
                ops.append((lib.sim_link_set_tbf, (d, params), f"tbf={t!r}"))
            else:
                raise ConfigError(f"tbf must be a Tbf(...) or None, got {t!r}")
        return ops

    def _set_delay(self, one: int, cur: list) -> Callable[..., int]:
        def call(s: Any, link_id: int) -> int:
            rc = lib.sim_link_set_delay(s, link_id, one, cur[0], cur[1], cur[2])
            if rc == 0:
                self._delay[one] = cur
            return rc

        return call

    def _loss_op(self, d: int, loss: Any) -> tuple[Callable[..., int], tuple, str]:
        if loss is None:
            return (lib.sim_link_clear_loss, (d,), "loss=None")
        if isinstance(loss, (int, float, str)) and not isinstance(loss, bool):
            loss = Bernoulli(loss)
        if isinstance(loss, Bernoulli):
            return (lib.sim_link_set_loss_bernoulli, (d, *loss.resolve("loss")), f"loss={loss!r}")
        if isinstance(loss, GilbertElliott):
            return (lib.sim_link_set_loss_gilbert_elliott, (d, *loss.resolve("loss")), f"loss={loss!r}")
        if isinstance(loss, Markov4):
            return (lib.sim_link_set_loss_markov4, (d, *loss.resolve("loss")), f"loss={loss!r}")
        raise ConfigError(
            f"loss must be a probability, Bernoulli(p), GilbertElliott(...), Markov4(...) or None, got {loss!r}"
        )

    # -- state ------------------------------------------------------------

    def down(self, at: Optional[TimeLike] = None) -> None:
        """Take the link down now, or at virtual time ``at`` (both directions)."""
        self._state(False, at)

    def up(self, at: Optional[TimeLike] = None) -> None:
        """Bring the link up now, or at virtual time ``at`` (both directions)."""
        self._state(True, at)

    def _state(self, up: bool, at: Optional[TimeLike]) -> None:
        what = "up" if up else "down"
        if at is None:
            self._net._call(lib.sim_link_set_up, self._id, up, context=f"link {self.name}.{what}()")
        else:
            t = parse_time(at, "at")
            self._net._call(lib.sim_link_schedule_state, self._id, t, up, context=f"link {self.name}.{what}(at={at!r})")

    # -- scripted faults --------------------------------------------------

    def fault(
        self,
        action: str = "drop",
        *,
        nth: Optional[int] = None,
        bpf: Optional[str] = None,
        count: int = 1,
        window: Optional[tuple[TimeLike, TimeLike]] = None,
        delay: Optional[TimeLike] = None,
        direction: str = "a_to_b",
    ) -> Fault:
        """Script a fault on one direction: "drop", "delay", "duplicate" or "corrupt".

        Select the frames with exactly one of:

        - ``nth``: the nth frame to enter the direction since the link was
          created, 1-based, counting every frame: ARP, handshakes and
          retransmissions too;
        - ``bpf``: the next ``count`` frames matching a libpcap capture filter
          expression; with ``nth=`` too, from the nth matching frame on,
          counting matching frames only ("the 3rd data segment":
          ``bpf="tcp[tcpflags] & tcp-push != 0", nth=3``);
        - ``window=(start, end)``: every frame entering during [start, end),
          virtual times.
 ``delay`` (a time) is
        required for "delay" and refused otherwise. Returns the :class:`Fault`.
        """
        d = _direction(direction, allow_both=False)
        if action not in ACTIONS:
            raise ConfigError(f"action must be one of {', '.join(map(repr, ACTIONS))}, got {action!r}")
        a = ACTIONS[action]
        chosen = [k for k, v in (("nth", nth), ("bpf", bpf), ("window", window)) if v is not None]
        if chosen == ["nth", "bpf"]:
            chosen = ["bpf"]  # nth counts the frames that match
        if len(chosen) != 1:
            raise ConfigError(f"fault needs exactly one of nth=, bpf= (optionally with nth=), window=; "
                              f"got {chosen or 'none'}")
        if action == "delay":
            if delay is None:
                raise ConfigError("fault(action='delay') needs delay=, got None")
            delay_ns = parse_time(delay, "delay")
        elif delay is not None:
            raise ConfigError(f"delay= is only for action='delay', got delay={delay!r} with action={action!r}")
        else:
            delay_ns = 0
        fid = ffi.new("uint32_t *")
        ctx = f"link {self.name}.fault({action!r})"
        if nth is not None and bpf is None:
            n = parse_count(nth, "nth", minimum=1)
            self._net._call(lib.sim_link_fault_nth, self._id, d, n, a, delay_ns, fid, context=ctx)
            desc = f"nth={n}"
        elif bpf is not None:
            if not isinstance(bpf, str):
                raise ConfigError(f"bpf must be a filter expression string, got {bpf!r}")
            c = parse_count(count, "count", minimum=1)
            first = 1 if nth is None else parse_count(nth, "nth", minimum=1)
            rc = lib.sim_link_fault_filter_nth(self._net._handle(), self._id, d, bpf.encode(), first, c, a,
                                               delay_ns, fid)
            if rc == lib.TERN_ERR_BAD_FILTER:
                # The simulator (libpcap) decides; the message is said again in Python terms, with where.
                problem = bpf_problem(bpf) or "is not a valid BPF capture filter"
                raise ConfigError(f"{ctx}: bpf={bpf!r} {problem}", code=rc, error_name="BAD_FILTER")
            self._net._check(rc, ctx)
            desc = f"bpf={bpf!r} count={c}" + (f" nth={first}" if first != 1 else "")
        else:
            try:
                start, end = window  # type: ignore[misc]
            except (TypeError, ValueError):
                raise ConfigError(f"window must be (start, end), got {window!r}") from None
            s_ns, e_ns = parse_time(start, "window.start"), parse_time(end, "window.end")
            if e_ns <= s_ns:
                raise ConfigError(f"window end must be after its start, got {window!r}")
            self._net._call(lib.sim_link_fault_window, self._id, d, s_ns, e_ns, a, delay_ns, fid, context=ctx)
            desc = f"window={window!r}"
        return Fault(self, direction, action, int(fid[0]), desc)

    # -- counters and capture --------------------------------------------

    def counters(self, direction: str = "a_to_b") -> LinkCounters:
        """One direction's counters ("a_to_b" or "b_to_a")."""
        d = _direction(direction, allow_both=False)
        out = ffi.new("sim_link_counters *")
        self._net._call(lib.sim_link_get_counters, self._id, d, out, context=f"link {self.name}.counters()")
        return LinkCounters(**{f.name: int(getattr(out, f.name)) for f in fields(LinkCounters)})

    def capture(self, path: Union[str, Path, None] = None, side: str = "a") -> Path:
        """Write what crosses the link, as seen at end ``side`` ("a" or "b"), to a pcap.

        Nanosecond timestamps are virtual time. The default path is
        ``<artifacts dir>/<a>-<b>.pcap`` (``<b>-<a>.pcap`` for side "b").
        Each end has its own capture: capturing the other end too adds a
        second file (see :meth:`capture_both`); capturing the same end again
        replaces that end's file.

        Beside the pcap, ``<path>.events`` lists what the link did to the
        frames this end sent, one ``<frame number> <time ns> <what>`` line
        each ("dropped loss", "corrupted", "duplicated", "dropped fault"...);
        ``pyharness show`` prints them next to the frames. (A pcap has no
        per-frame comments, and libpcap cannot write pcapng, which has.)
        The files are complete after :meth:`stop_capture` or
        ``Network.close()``. Returns the pcap's path.
        """
        if side not in ("a", "b"):
            raise ConfigError(f"side must be 'a' or 'b' (capture_both() captures both ends), got {side!r}")
        if path is None:
            first, second = (self.a, self.b) if side == "a" else (self.b, self.a)
            path = self._net.artifacts_dir / f"{first.name}-{second.name}.pcap"
        p = Path(path)
        other = self.capture_paths.get("b" if side == "a" else "a")
        if other is not None and other.resolve() == p.resolve():
            raise ConfigError(f"link {self.name}.capture({str(p)!r}, side={side!r}): the other end is already "
                              f"captured to that file; give each end its own path")
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TernIOError(f"link {self.name}.capture({str(p)!r}): cannot create {str(p.parent)!r}: {exc.strerror}") from None
        self._net._call(
            lib.sim_link_capture, self._id, 0 if side == "a" else 1, str(p).encode(),
            context=f"link {self.name}.capture({str(p)!r})",
        )
        self.capture_paths[side] = p
        return p

    def capture_both(self, directory: Union[str, Path, None] = None) -> tuple[Path, Path]:
        """Capture both ends at once: ``<a>-<b>.pcap`` (end a) and ``<b>-<a>.pcap`` (end b).

        In ``directory`` (default: the network's artifacts directory). A frame
        the link dropped is in the sender's file only, with its fate in that
        file's ``.events``; comparing the two files shows what each end saw.
        Returns (path of end a, path of end b).
        """
        d = self._net.artifacts_dir if directory is None else Path(directory)
        return (self.capture(d / f"{self.a.name}-{self.b.name}.pcap", side="a"),
                self.capture(d / f"{self.b.name}-{self.a.name}.pcap", side="b"))

    @staticmethod
    def events_path(pcap: Union[str, Path]) -> Path:
        """The events file written beside a capture: ``<pcap>.events``."""
        return Path(f"{pcap}.events")

    def stop_capture(self) -> None:
        """Flush and close this link's captures (both ends), if any."""
        self._net._call(lib.sim_link_capture_close, self._id, context=f"link {self.name}.stop_capture()")
        self.capture_paths = {}


__all__ = ["Link", "LinkCounters", "Fault", "IMPAIRMENTS", "DIRECTIONS", "ACTIONS"]
