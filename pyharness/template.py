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
from typing import Any, Callable, Iterable

from scapy.fields import RawVal
from scapy.packet import NoPayload, Packet


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
        names = list(tl.fields)
        if found is None:
            # The whole layer is missing: every field it asks for fails (one check if it asks none).
            for name in names or ["(layer)"]:
                exp = tl.fields.get(name, "present")
                result.fields.append(FieldCheck(cls.__name__, name, exp, None, False, present=False))
            result.ok = False
            continue
        for name in names:
            exp = tl.fields[name]
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
        args = " ".join(f"{k}={show_value(type(tl).__name__, k, v)}" for k, v in tl.fields.items())
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
    "Match", "FieldCheck", "match", "describe", "diff_table", "template_layers", "check_value", "show_value",
]
