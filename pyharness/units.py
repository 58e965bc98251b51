"""Human units for times, rates, sizes and probabilities.

Every parser takes the value and the name of the parameter it is for (used in
error messages) and returns an exact integer, computed with fractions so that
no floating-point rounding reaches the simulator.

Times (→ integer nanoseconds). A plain number (int, float, or a string
without a unit) is seconds. Units::

    ns            nanoseconds
    us, µs        microseconds
    ms            milliseconds
    s             seconds
    min           minutes
    h             hours

"m" is not accepted (minutes or milli-?). Results are rounded to the nearest
nanosecond (ties to even).

Rates (→ integer bits per second). A plain number is bits per second. Units
are case-insensitive, SI decimal (k = 1000) or IEC binary (Ki = 1024), in
bits, as ``tc`` spells them::

    bit, kbit, mbit, gbit, tbit, kibit, mibit, gibit, tibit

"bps"-style units are refused on purpose: in ``tc`` "Mbps" means megabytes
per second, elsewhere megabits, so write "Mbit" instead.

Sizes (→ integer bytes). A plain number is bytes. Units are case-sensitive::

    B                         bytes
    kB, KB, MB, GB, TB        SI decimal: 1 KB = 1000 B (unlike tc's "kb" = 1024)
    KiB, MiB, GiB, TiB        IEC binary: 1 KiB = 1024 B

Probabilities (→ float in [0, 1]): a number, or a string "0.01" or "1%".

Negative values, NaN and infinities are refused with a :class:`ConfigError`
naming the parameter and the value; so is a unit the parser does not know,
with the list of units it does.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any, Union

from .errors import ConfigError
from .errors import hide_from_traceback as __tracebackhide__  # noqa: F401  (pytest shows the test's line, not ours)

Number = Union[int, float]
TimeLike = Union[int, float, str]
RateLike = Union[int, float, str]
SizeLike = Union[int, float, str]

NS_PER_S = 1_000_000_000

TIME_UNITS: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": NS_PER_S,
    "min": 60 * NS_PER_S,
    "h": 3600 * NS_PER_S,
}

RATE_UNITS: dict[str, int] = {
    "bit": 1,
    "kbit": 10**3,
    "mbit": 10**6,
    "gbit": 10**9,
    "tbit": 10**12,
    "kibit": 2**10,
    "mibit": 2**20,
    "gibit": 2**30,
    "tibit": 2**40,
}
# Spellings shown in messages (the parser itself ignores case for rates).
_RATE_DISPLAY = ["bit", "kbit", "Mbit", "Gbit", "Tbit", "Kibit", "Mibit", "Gibit", "Tibit"]

SIZE_UNITS: dict[str, int] = {
    "B": 1,
    "kB": 10**3,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KiB": 2**10,
    "MiB": 2**20,
    "GiB": 2**30,
    "TiB": 2**40,
}

_NUMBER_UNIT = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([^\s\d.+-][^\s]*)?\s*$")


def _number(value: object, name: str) -> Fraction:
    """An exact, finite, non-negative number from an int or float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name}: expected a number or a string with a unit, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    # str() of a float is its shortest exact-looking spelling: 0.1 -> 1/10.
    q = Fraction(str(value)) if isinstance(value, float) else Fraction(value)
    if q < 0:
        raise ConfigError(f"{name} must not be negative, got {value!r}")
    return q


def _split(value: str, name: str, known: list[str]) -> tuple[Fraction, str]:
    m = _NUMBER_UNIT.match(value)
    if not m:
        raise ConfigError(
            f"{name}: cannot read {value!r} as a number with a unit (known units: {', '.join(known)})"
        )
    q = Fraction(m.group(1))
    if q < 0:
        raise ConfigError(f"{name} must not be negative, got {value!r}")
    return q, m.group(2) or ""


def _unknown(name: str, value: str, unit: str, known: list[str], hint: str = "") -> ConfigError:
    return ConfigError(
        f"{name}: unknown unit {unit!r} in {value!r}; known units: {', '.join(known)}{hint}"
    )


def _round(q: Fraction) -> int:
    return round(q)  # Fraction rounds half to even


_TIME_CACHE: dict[tuple[type, Any], int] = {}


def parse_time(value: TimeLike, name: str = "time") -> int:
    """A time or duration in integer nanoseconds ("10ms", "1.5s", 0.25 → seconds)."""
    key = (type(value), value)
    try:
        hit = _TIME_CACHE.get(key)
    except TypeError:  # unhashable: the slow path reports it
        hit = None
    if hit is not None:
        return hit
    ns = _parse_time(value, name)
    if type(value) in (str, int, float):  # values already read (errors are never cached)
        if len(_TIME_CACHE) >= 4096:
            _TIME_CACHE.clear()
        _TIME_CACHE[key] = ns
    return ns


def _parse_time(value: TimeLike, name: str) -> int:
    if isinstance(value, str):
        known = list(TIME_UNITS)
        q, unit = _split(value, name, known)
        if not unit:
            return _round(q * NS_PER_S)
        if unit not in TIME_UNITS:
            raise _unknown(name, value, unit, known)
        return _round(q * TIME_UNITS[unit])
    return _round(_number(value, name) * NS_PER_S)


def parse_rate(value: RateLike, name: str = "rate") -> int:
    """A rate in integer bits per second ("10Mbit", "1Gbit", 64000 → bits/s)."""
    if isinstance(value, str):
        q, unit = _split(value, name, _RATE_DISPLAY)
        if unit:
            factor = RATE_UNITS.get(unit.lower())
            if factor is None:
                hint = ""
                if unit.lower().endswith(("bps", "bit/s", "b/s")):
                    hint = " (\"bps\" is ambiguous: tc reads it as bytes per second; write e.g. \"10Mbit\")"
                raise _unknown(name, value, unit, _RATE_DISPLAY, hint)
            q *= factor
    else:
        q = _number(value, name)
    if q.denominator != 1:
        raise ConfigError(f"{name} must be a whole number of bits per second, got {value!r}")
    return int(q)


def parse_size(value: SizeLike, name: str = "size") -> int:
    """A size in integer bytes ("32KB" = 32000, "1MiB" = 1048576, 1500 → bytes)."""
    known = list(SIZE_UNITS)
    if isinstance(value, str):
        q, unit = _split(value, name, known)
        if unit:
            if unit not in SIZE_UNITS:
                raise _unknown(name, value, unit, known)
            q *= SIZE_UNITS[unit]
    else:
        q = _number(value, name)
    if q.denominator != 1:
        raise ConfigError(f"{name} must be a whole number of bytes, got {value!r}")
    return int(q)


def parse_probability(value: Union[Number, str], name: str = "probability") -> float:
    """A probability in [0, 1] (0.01 or "1%")."""
    if isinstance(value, str):
        text = value.strip()
        try:
            p = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            raise ConfigError(f"{name}: cannot read {value!r} as a probability (a number or \"N%\")") from None
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name}: expected a probability in [0, 1], got {value!r}")
    else:
        p = float(value)
    if not (0.0 <= p <= 1.0):  # also refuses NaN
        raise ConfigError(f"{name} must be in [0, 1], got {value!r}")
    return p


def parse_count(value: object, name: str, minimum: int = 0) -> int:
    """A whole number >= ``minimum`` (ports, frame counts)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value!r}")
    return value


def format_time(ns: int) -> str:
    """A readable time for messages: "1.5s", "250us", "12ns"."""
    for unit, factor in (("s", NS_PER_S), ("ms", 10**6), ("us", 10**3)):
        if ns >= factor:
            return f"{Fraction(ns, factor).__float__():g}{unit}"
    return f"{ns}ns"


__all__ = [
    "TIME_UNITS",
    "RATE_UNITS",
    "SIZE_UNITS",
    "parse_time",
    "parse_rate",
    "parse_size",
    "parse_probability",
    "parse_count",
    "format_time",
]
