"""Values describing link impairments: loss models and the token-bucket shaper.

These are plain frozen dataclasses; :mod:`pyharness.link` hands them to the
simulator. Semantics follow Linux netem and tbf (``notes/link-models.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

from .errors import ConfigError
from .units import RateLike, SizeLike, TimeLike, parse_probability, parse_rate, parse_size, parse_time
from .errors import hide_from_traceback as __tracebackhide__  # noqa: F401  (pytest shows the test's line, not ours)

Prob = Union[float, str]


@dataclass(frozen=True)
class Bernoulli:
    """Each frame is lost with probability ``p`` (netem ``loss random p``)."""

    p: Prob

    def resolve(self, name: str = "loss") -> tuple[float]:
        """(p,) checked."""
        return (parse_probability(self.p, f"{name}.p"),)


@dataclass(frozen=True)
class GilbertElliott:
    """Gilbert-Elliott loss, netem's ``gemodel p r 1-h 1-k``.

    ``p``: Good→Bad per frame; ``r``: Bad→Good (default ``1 - p``);
    ``one_minus_h``: loss probability in Bad (default 1);
    ``one_minus_k``: loss probability in Good (default 0).
    """

    p: Prob
    r: Optional[Prob] = None
    one_minus_h: Prob = 1.0
    one_minus_k: Prob = 0.0

    def resolve(self, name: str = "loss") -> tuple[float, float, float, float]:
        """(p, r, 1-h, 1-k) with netem's defaults filled in, checked."""
        p = parse_probability(self.p, f"{name}.p")
        r = 1.0 - p if self.r is None else parse_probability(self.r, f"{name}.r")
        return (
            p,
            r,
            parse_probability(self.one_minus_h, f"{name}.one_minus_h"),
            parse_probability(self.one_minus_k, f"{name}.one_minus_k"),
        )


@dataclass(frozen=True)
class Markov4:
    """The 4-state Markov loss model, netem's ``state p13 p31 p32 p23 p14``.

    Defaults as netem: ``p31 = 1 - p13``, ``p32 = 0``, ``p23 = 1``, ``p14 = 0``.
    """

    p13: Prob
    p31: Optional[Prob] = None
    p32: Prob = 0.0
    p23: Prob = 1.0
    p14: Prob = 0.0

    def resolve(self, name: str = "loss") -> tuple[float, float, float, float, float]:
        """(p13, p31, p32, p23, p14) with netem's defaults filled in, checked."""
        p13 = parse_probability(self.p13, f"{name}.p13")
        p31 = 1.0 - p13 if self.p31 is None else parse_probability(self.p31, f"{name}.p31")
        return (
            p13,
            p31,
            parse_probability(self.p32, f"{name}.p32"),
            parse_probability(self.p23, f"{name}.p23"),
            parse_probability(self.p14, f"{name}.p14"),
        )


LossModel = Union[Bernoulli, GilbertElliott, Markov4]


def _bytes_per_sec(value: RateLike, name: str) -> int:
    bits = parse_rate(value, name)
    if bits % 8:
        raise ConfigError(
            f"{name} must be a whole number of bytes per second (a multiple of 8 bit/s), got {value!r}"
        )
    return bits // 8


@dataclass(frozen=True)
class Tbf:
    """A token-bucket shaper with Linux ``tbf`` semantics.

    ``rate`` and ``peak`` are rates in bits per second with human units
    ("10Mbit"), converted to the bytes per second the shaper counts in (so
    they must be multiples of 8 bit/s). ``burst``, ``mtu`` (the peak bucket),
    ``limit`` (queue bytes), ``overhead`` and ``mpu`` are sizes ("32KB",
    1514). ``latency`` is a time; exactly one of ``limit`` and ``latency``
    must be given, and ``mtu`` goes with ``peak``.
    """

    rate: RateLike
    burst: SizeLike
    peak: Optional[RateLike] = None
    mtu: Optional[SizeLike] = None
    limit: Optional[SizeLike] = None
    latency: Optional[TimeLike] = None
    overhead: int = 0
    mpu: SizeLike = 0

    def params(self, name: str = "tbf") -> dict[str, int]:
        """The shaper's integer parameters (sim_tbf_params field names)."""
        if isinstance(self.overhead, bool) or not isinstance(self.overhead, int):
            raise ConfigError(f"{name}.overhead must be an integer number of bytes, got {self.overhead!r}")
        if (self.limit is None) == (self.latency is None):
            got = "neither" if self.limit is None else f"both (limit={self.limit!r}, latency={self.latency!r})"
            raise ConfigError(f"{name}=Tbf(...) needs exactly one of limit= (the queue size, \"15KB\") or "
                              f"latency= (the longest a frame may wait, \"50ms\"), as Linux tbf does; got {got}")
        if (self.peak is None) != (self.mtu is None):
            raise ConfigError(f"{name}=Tbf(...): peak= and mtu= go together (the peak-rate bucket), "
                              f"got peak={self.peak!r}, mtu={self.mtu!r}")
        return {
            "rate": _bytes_per_sec(self.rate, f"{name}.rate"),
            "burst": parse_size(self.burst, f"{name}.burst"),
            "peak_rate": 0 if self.peak is None else _bytes_per_sec(self.peak, f"{name}.peak"),
            "mtu": 0 if self.mtu is None else parse_size(self.mtu, f"{name}.mtu"),
            "limit": 0 if self.limit is None else parse_size(self.limit, f"{name}.limit"),
            "latency_ns": 0 if self.latency is None else parse_time(self.latency, f"{name}.latency"),
            "overhead": self.overhead,
            "mpu": parse_size(self.mpu, f"{name}.mpu"),
        }


__all__ = ["Bernoulli", "GilbertElliott", "Markov4", "LossModel", "Tbf"]
