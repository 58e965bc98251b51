"""Argument checks shared by the public API: a bad value raises ConfigError naming the parameter.

Without them a port of 70000 reaches CFFI, which raises an OverflowError
that names no parameter, or reaches scapy, which fails later while building
a packet.
"""

from __future__ import annotations

from .errors import ConfigError
from .errors import hide_from_traceback as __tracebackhide__  # noqa: F401  (pytest shows the test's line, not ours)

PORT_MAX = 65535


def check_uint(value: object, name: str, bits: int, minimum: int = 0, what: str = "") -> int:
    """``value`` as an int in ``minimum..2**bits-1``; else ConfigError naming ``name``."""
    top = (1 << bits) - 1
    label = f"{name} ({what})" if what else name
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{label} must be an integer in {minimum}..{top}, got {value!r}")
    if not minimum <= value <= top:
        raise ConfigError(f"{label} must be in {minimum}..{top}, got {value!r}")
    return value


def check_port(value: object, name: str = "port", allow_zero: bool = True) -> int:
    """A TCP/UDP port number: 0..65535 (1..65535 with ``allow_zero=False``)."""
    return check_uint(value, name, 16, 0 if allow_zero else 1, "a TCP/UDP port")


__all__ = ["check_port", "check_uint", "PORT_MAX"]
