"""Partial scapy templates: compare only the fields a test set.

A template is a scapy packet such as ``IP(dst="10.0.0.1")/TCP(flags="S")``.
Only the fields given explicitly (scapy keeps them in each layer's
``fields`` dict) are compared; every other field matches anything. Layers are
found in order in the received frame, so ``TCP(dport=80)`` matches a TCP
segment inside any Ethernet/IP frame.

A field value may be:

- a plain value, compared after scapy's own conversion (``flags="SA"``);
- :data:`ANY` (the field must exist, any value);
- a predicate made with :func:`pred` (``ack=pred(lambda v: v > 5, "> 5")``),
  or a ready-made one (:func:`one_of`, :func:`between`, :func:`has_flags`,
  :func:`lacks_flags`).

>>> from scapy.layers.inet import TCP
>>> m = match(TCP(flags="S", dport=ANY), frame)       # doctest: +SKIP
>>> m.ok, m.score, [f.name for f in m.fields]          # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional

from scapy.fields import RawVal
from scapy.packet import NoPayload, Packet
from .errors import hide_from_traceback as __tracebackhide__  # noqa: F401  (pytest shows the test's line, not ours)


class Pred(RawVal):
    """A predicate usable as a field value of a template.

    It derives from scapy's ``RawVal`` so that scapy stores it untouched.
    ``description`` is what failure messages show.
    """

    def __init__(self, fn: Callable[[Any], bool], description: str):
        super().__init__(b"")
        self.fn = fn
        self.description = description

    def __call__(self, value: Any) -> bool:
        try:
            return bool(self.fn(value))
        except Exception:  # a predicate that cannot judge the value says no
            return False

    def __repr__(self) -> str:
        return self.description

    __str__ = __repr__


class _Any(Pred):
    def __init__(self) -> None:
        super().__init__(lambda v: True, "ANY")


#: Matches any value (the field, and so its layer, must be present).
ANY: Pred = _Any()


def pred(fn: Callable[[Any], bool], description: str | None = None) -> Pred:
    """A predicate field value: ``TCP(window=pred(lambda w: w > 0, "> 0"))``."""
    return Pred(fn, description or getattr(fn, "__name__", "predicate"))


def one_of(*values: Any) -> Pred:
    """The field equals one of ``values``."""
    return Pred(lambda v: any(_equal(v, x) for x in values), "one of " + ", ".join(map(repr, values)))


def between(low: Any, high: Any) -> Pred:
    """``low <= value <= high``."""
    return Pred(lambda v: low <= v <= high, f"in [{low!r}, {high!r}]")


def has_flags(flags: str) -> Pred:
    """TCP flags: every flag letter in ``flags`` is set (others may be)."""
    return Pred(lambda v: all(c in str(v) for c in flags), f"has {flags}")


def lacks_flags(flags: str) -> Pred:
    """TCP flags: no flag letter of ``flags`` is set."""
    return Pred(lambda v: not any(c in str(v) for c in flags), f"lacks {flags}")


def _equal(actual: Any, expected: Any) -> bool:
    if actual == expected:
        return True
    # FlagValue vs str/int, bytes vs str and similar: compare through int or str.
    try:
        if int(actual) == int(expected):
            return True
    except (TypeError, ValueError):
        pass
    return False


@dataclass
class FieldCheck:
    """One compared field: ``layer.name``, what the template wants, what the frame has."""

    layer: str
    name: str
    expected: Any
    actual: Any
    ok: bool
    present: bool = True

    @property
    def path(self) -> str:
        """``"TCP.flags"``."""
        return f"{self.layer}.{self.name}"


@dataclass
class Match:
    """The result of comparing one frame with a template."""

    ok: bool
    fields: list[FieldCheck] = field(default_factory=list)

    @property
    def score(self) -> float:
        """Fraction of template fields (and layers) that matched, 0..1."""
        if not self.fields:
            return 1.0 if self.ok else 0.0
        return sum(f.ok for f in self.fields) / len(self.fields)

    @property
    def mismatches(self) -> list[FieldCheck]:
        """The checks that failed."""
        return [f for f in self.fields if not f.ok]


_IMPLICIT: dict = {}


def set_fields(layer: Any) -> dict:
    """The fields a template layer really sets: its ``fields`` minus those scapy
    fills in by itself on construction (``IP()`` carries ``options=[]``)."""
    cls = type(layer)
    implicit = _IMPLICIT.get(cls)
    if implicit is None:
        try:
            implicit = dict(cls().fields)
        except Exception:  # a layer that cannot be built bare: nothing implicit
            implicit = {}
        _IMPLICIT[cls] = implicit
    return {k: v for k, v in layer.fields.items() if not (k in implicit and implicit[k] == v)}


def template_layers(template: Packet) -> list[Packet]:
    """The layers of a template, outermost first (each without its payload)."""
    out = []
    layer = template
    while layer is not None and not isinstance(layer, NoPayload):
        out.append(layer)
        layer = layer.payload
    return out


def _frame_layers(pkt: Packet) -> list[Packet]:
    out = []
    layer = pkt
    while layer is not None and not isinstance(layer, NoPayload):
        out.append(layer)
        layer = layer.payload
    return out


def check_value(expected: Any, actual: Any) -> bool:
    """Does ``actual`` satisfy the template value ``expected``?"""
    if isinstance(expected, Pred):
        return expected(actual)
    if callable(expected) and not isinstance(expected, (type, Packet)):
        try:
            return bool(expected(actual))
        except Exception:
            return False
    return _equal(actual, expected)


#: A whole-packet check: label ("TCP.payload"), predicate on the packet, and what to show as the actual value.
Check = tuple[str, Pred, Callable[[Packet], Any]]


def match(template: Packet | None, pkt: Packet, extra: Iterable[Check] = ()) -> Match:
    """Compare ``pkt`` with ``template``.

    Each template layer is looked for in the frame, in order, after the layer
    the previous one matched. ``extra`` adds named whole-packet checks
    (:data:`Check`, used by the TCP connection helper for payloads and options).
    """
    result = Match(ok=True)
    layers = _frame_layers(pkt)
    pos = 0
    for tl in template_layers(template) if template is not None else []:
        cls = type(tl)
        found = None
        for i in range(pos, len(layers)):
            if isinstance(layers[i], cls):
                found, pos = layers[i], i + 1
                break
        wanted = set_fields(tl)
        names = list(wanted)
        if found is None:
            # The whole layer is missing: every field it asks for fails (one check if it asks none).
            for name in names or ["(layer)"]:
                exp = wanted.get(name, "present")
                result.fields.append(FieldCheck(cls.__name__, name, exp, None, False, present=False))
            result.ok = False
            continue
        for name in names:
            exp = wanted[name]
            act = found.getfieldval(name)
            ok = check_value(exp, act)
            result.fields.append(FieldCheck(cls.__name__, name, exp, act, ok))
            result.ok &= ok
        if not names:
            result.fields.append(FieldCheck(cls.__name__, "(layer)", "present", "present", True))
    for label, p, actual in extra:
        layer, _, name = label.partition(".")
        ok = p(pkt)
        try:
            act = actual(pkt)
        except Exception:
            act = None
        result.fields.append(FieldCheck(layer, name, p, act, ok))
        result.ok &= ok
    return result


# ---------------------------------------------------------------------------
# Matching on raw bytes: a pre-filter compiled from the template
# ---------------------------------------------------------------------------
#
# Dissecting a frame with scapy costs tens of microseconds; reading a few
# header fields from the bytes costs well under one. compile_template() turns
# a template into a function of the frame's bytes that answers True (the
# frame matches: exactly what match() would say), False (it does not), or
# None (undecidable from the bytes: ask match()). It decides only where it
# can mirror scapy exactly: Ethernet II, IPv4 (any IHL), TCP, UDP, ICMP
# type/code/checksum, Ethernet/IPv4 ARP, the IPv6 fixed header's integer fields; fields whose template value is a
# plain int, flag value or string. Layers are located as match() finds them
# (first occurrence, in order); where scapy might dissect further layers the
# bytes do not show (UDP payloads, ICMP errors, other protocols) an absent
# layer gives None rather than False.

_u16 = __import__("struct").Struct("!H").unpack_from
_u32 = __import__("struct").Struct("!I").unpack_from
_ICMP_ERRORS = frozenset((3, 4, 5, 11, 12))


def _mac_at(off: int) -> Callable[[bytes, int], str]:
    return lambda d, o: d[o + off:o + off + 6].hex(":")


def _ip_at(off: int) -> Callable[[bytes, int], str]:
    return lambda d, o: "%d.%d.%d.%d" % (d[o + off], d[o + off + 1], d[o + off + 2], d[o + off + 3])


def _u8_at(off: int, shift: int = 0, mask: int = 0xFF) -> Callable[[bytes, int], int]:
    return lambda d, o: (d[o + off] >> shift) & mask


def _u16_at(off: int, shift: int = 0, mask: int = 0xFFFF) -> Callable[[bytes, int], int]:
    return lambda d, o: (_u16(d, o + off)[0] >> shift) & mask


def _u32_at(off: int) -> Callable[[bytes, int], int]:
    return lambda d, o: _u32(d, o + off)[0]


def _fl6(d: bytes, o: int) -> int:
    """The 20-bit IPv6 flow label."""
    return _u32(d, o)[0] & 0xFFFFF


#: layer name -> field name -> (kind, extractor(data, layer offset)); kind "i" (int-like) or "s" (string).
_RAW_FIELDS: dict[str, dict[str, tuple[str, Callable[[bytes, int], Any]]]] = {
    "Ether": {"dst": ("s", _mac_at(0)), "src": ("s", _mac_at(6)), "type": ("i", _u16_at(12))},
    "IP": {"version": ("i", _u8_at(0, 4, 0xF)), "ihl": ("i", _u8_at(0, 0, 0xF)), "tos": ("i", _u8_at(1)),
           "len": ("i", _u16_at(2)), "id": ("i", _u16_at(4)), "flags": ("i", _u16_at(6, 13, 0x7)),
           "frag": ("i", _u16_at(6, 0, 0x1FFF)), "ttl": ("i", _u8_at(8)), "proto": ("i", _u8_at(9)),
           "chksum": ("i", _u16_at(10)), "src": ("s", _ip_at(12)), "dst": ("s", _ip_at(16)),
           # IP() templates carry options=[]: no options is IHL 5; with options, scapy decides.
           "options": ("e", lambda d, o: True if d[o] & 0xF == 5 else None)},
    "TCP": {"sport": ("i", _u16_at(0)), "dport": ("i", _u16_at(2)), "seq": ("i", _u32_at(4)),
            "ack": ("i", _u32_at(8)), "dataofs": ("i", _u8_at(12, 4, 0xF)), "reserved": ("i", _u8_at(12, 1, 0x7)),
            "flags": ("i", _u16_at(12, 0, 0x1FF)), "window": ("i", _u16_at(14)), "chksum": ("i", _u16_at(16)),
            "urgptr": ("i", _u16_at(18))},
    "UDP": {"sport": ("i", _u16_at(0)), "dport": ("i", _u16_at(2)), "len": ("i", _u16_at(4)),
            "chksum": ("i", _u16_at(6))},
    "ICMP": {"type": ("i", _u8_at(0)), "code": ("i", _u8_at(1)), "chksum": ("i", _u16_at(2))},
    # IPv6 (RFC 8200 section 3): the integer fields; addresses are left to scapy (textual forms vary).
    "IPv6": {"version": ("i", _u8_at(0, 4, 0xF)), "tc": ("i", _u16_at(0, 4, 0xFF)), "fl": ("i", _fl6),
             "plen": ("i", _u16_at(4)), "nh": ("i", _u8_at(6)), "hlim": ("i", _u8_at(7))},
    "ARP": {"hwtype": ("i", _u16_at(0)), "ptype": ("i", _u16_at(2)), "hwlen": ("i", _u8_at(4)),
            "plen": ("i", _u8_at(5)), "op": ("i", _u16_at(6)), "hwsrc": ("s", _mac_at(8)), "psrc": ("s", _ip_at(14)),
            "hwdst": ("s", _mac_at(18)), "pdst": ("s", _ip_at(24))},
}
_ORDER = ("Ether", "IP", "IPv6", "TCP", "UDP", "ICMP", "ARP")


def raw_layout(data: bytes) -> tuple[tuple[tuple[str, int], ...], bool]:
    """Where the layers scapy would dissect first sit in ``data``.

    Returns ``(((layer name, offset), ...), opaque)``; ``opaque`` is True when
    scapy may dissect more layers than listed (then an absent layer is
    undecided, not absent). ``((), True)`` when the frame is not one of the
    shapes mirrored here.
    """
    n = len(data)
    if n < 14:
        return (), True
    et = data[12] << 8 | data[13]
    if et == 0x0800:
        if n < 34 or data[14] >> 4 != 4:
            return (("Ether", 0),), True
        ihl = (data[14] & 0xF) * 4
        if ihl < 20 or n < 14 + ihl:
            return (("Ether", 0),), True
        o = 14 + ihl
        iplen = data[16] << 8 | data[17]
        # What scapy hands the transport layer: the IP length cuts the payload (unless it is below the header).
        avail = n - o if iplen < ihl else min(n - o, iplen - ihl)
        if (data[20] << 8 | data[21]) & 0x1FFF:  # a later fragment: scapy keeps the payload raw
            return (("Ether", 0), ("IP", 14)), False
        proto = data[23]
        if proto == 6 and avail >= 20:
            return (("Ether", 0), ("IP", 14), ("TCP", o)), bool(_tcp_bindings())
        if proto == 17 and avail >= 8:
            return (("Ether", 0), ("IP", 14), ("UDP", o)), True
        if proto == 1 and avail >= 8:
            return (("Ether", 0), ("IP", 14), ("ICMP", o)), data[o] in _ICMP_ERRORS
        return (("Ether", 0), ("IP", 14)), True
    if et == 0x86DD:
        if n < 54 or data[14] >> 4 != 6:
            return (("Ether", 0),), True
        # What follows the fixed header (extension headers, ICMPv6, TCP, UDP) is left to scapy.
        return (("Ether", 0), ("IPv6", 14)), True
    if et == 0x0806:
        if n >= 42 and data[14:20] == b"\x00\x01\x08\x00\x06\x04":
            return (("Ether", 0), ("ARP", 14)), False
        return (("Ether", 0),), True
    if et <= 1500:  # 802.3: scapy dissects a Dot3, not an Ether
        return (), True
    return (("Ether", 0),), True


_TCP: Any = None


def _tcp_bindings() -> list:
    """TCP's payload bindings (usually none: then nothing follows a TCP layer but Raw)."""
    global _TCP
    if _TCP is None:
        from scapy.layers.inet import TCP

        _TCP = TCP
    return _TCP.payload_guess


#: A compiled template: bytes -> True / False / None (undecided).
RawMatcher = Callable[[bytes], Optional[bool]]


def compile_template(template: Packet | None, exact: bool = True) -> Optional[RawMatcher]:
    """A raw-bytes matcher for ``template`` (see above), or None if none of it can be compiled.

    With ``exact=False`` (other checks come on top, such as ``extra`` of
    :func:`match`) the matcher never answers True, only False or None.
    """
    if template is None:
        return None
    from scapy.fields import FlagValue

    plan: list[tuple[str, list[tuple[Callable[[bytes, int], Any], Any]]]] = []
    complete = exact
    for tl in template_layers(template):
        lname = type(tl).__name__
        table = _RAW_FIELDS.get(lname)
        if table is None or type(tl).__module__ not in ("scapy.layers.l2", "scapy.layers.inet", "scapy.layers.inet6"):
            return None  # a layer we do not locate: the bytes cannot say where it is
        checks = []
        for name, exp in set_fields(tl).items():
            spec = table.get(name)
            if spec is None or isinstance(exp, Pred) or callable(exp):
                complete = False
                continue
            kind, get = spec
            if kind == "i" and (type(exp) is int or isinstance(exp, FlagValue)):
                checks.append((get, int(exp)))
            elif kind == "s" and isinstance(exp, str):  # str, or scapy's scoped address (a str)
                checks.append((get, exp))
            elif kind == "e" and isinstance(exp, list) and not exp:
                checks.append((get, True))
            else:
                complete = False
        plan.append((lname, checks))

    def matcher(data: bytes) -> Optional[bool]:
        layout, opaque = raw_layout(data)
        if not layout:
            return None
        pos = 0
        undecided = False
        for lname, checks in plan:
            for i in range(pos, len(layout)):
                if layout[i][0] == lname:
                    off = layout[i][1]
                    pos = i + 1
                    break
            else:
                return None if opaque else False
            for get, want in checks:
                v = get(data, off)
                if v is None:
                    undecided = True
                elif not v == want:  # the comparison match() makes first (a scoped address compares itself)
                    return False
        return True if complete and not undecided else None

    return matcher


def show_value(layer: str, name: str, value: Any) -> str:
    """A field value as failure messages show it (flags as letters, options compactly)."""
    if value is None:
        return "(absent)"
    if isinstance(value, Pred):
        return repr(value)
    if name == "flags" and layer == "TCP":
        return str(value) or "(none)"
    if isinstance(value, bytes):
        return repr(value) if len(value) <= 32 else f"{value[:32]!r}... ({len(value)} bytes)"
    return repr(value) if not isinstance(value, (int, str)) or isinstance(value, bool) else str(value)


def describe(template: Packet) -> str:
    """A template in one line, with only its set fields: ``IP(dst=10.0.0.1)/TCP(flags=S)``."""
    parts = []
    for tl in template_layers(template):
        args = " ".join(f"{k}={show_value(type(tl).__name__, k, v)}" for k, v in set_fields(tl).items())
        parts.append(f"{type(tl).__name__}({args})")
    return "/".join(parts)


def diff_table(m: Match) -> str:
    """Field by field: template value, actual value, and a mark."""
    rows = [("field", "expected", "actual", "")]
    for f in m.fields:
        rows.append((f.path, show_value(f.layer, f.name, f.expected),
                     show_value(f.layer, f.name, f.actual) if f.present else "(layer absent)",
                     "ok" if f.ok else "MISMATCH"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(
        f"    {r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip() for r in rows
    )


__all__ = [
    "ANY", "Pred", "pred", "one_of", "between", "has_flags", "lacks_flags",
    "Match", "FieldCheck", "match", "compile_template", "raw_layout", "describe", "diff_table", "template_layers", "check_value", "show_value",
]
