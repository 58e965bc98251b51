"""The mDNS responder of a Tern host, seen from Python (C API: tern/mdns.h).

:meth:`pyharness.host.Host.mdns_start` claims ``<label>.local``; names under
``.local`` given to :meth:`pyharness.host.Host.resolve` are asked with a
one-shot multicast query.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._lib import ffi, lib

if TYPE_CHECKING:
    from .host import Host

STATES = {0: "off", 1: "probing", 2: "announcing", 3: "ready"}
COUNTERS = ("probes_sent", "announcements_sent", "queries_in", "answers_multicast", "answers_unicast",
            "answers_legacy", "known_answer_suppressed", "rate_limited", "conflicts", "malformed")


@dataclass(frozen=True)
class MdnsInfo:
    """``state`` ("off", "probing", "announcing", "ready"), the ``name`` claimed, ``renames`` after
    conflicts, the DNS-SD ``service`` instance name ("" without one) and its ``service_renames``,
    and the ``counters``."""

    state: str
    name: str
    renames: int
    service: str = ""
    service_renames: int = 0
    counters: dict = field(default_factory=dict)


def txt_bytes(txt: Any) -> bytes:
    """The TXT RDATA for ``txt``: None (empty), bytes (as is), a list of strings, or a dict whose
    items become ``key=value`` strings (RFC 6763 section 6.3; a value of None gives ``key``)."""
    from .errors import ConfigError

    if txt is None:
        return b""
    if isinstance(txt, (bytes, bytearray)):
        return bytes(txt)
    if isinstance(txt, dict):
        txt = [k if v is None else f"{k}={v}" for k, v in txt.items()]
    out = b""
    for item in txt:
        b = item.encode() if isinstance(item, str) else bytes(item)
        if len(b) > 255:
            raise ConfigError(f"txt string {item!r}: at most 255 octets")
        out += bytes([len(b)]) + b
    return out


def info_of(host: "Host") -> MdnsInfo:
    """The mDNS responder's state of ``host``."""
    out = ffi.new("tern_mdns_info *")
    lib.tern_mdns_get_info(host._st(), out)
    return MdnsInfo(STATES.get(out.state, str(out.state)), ffi.string(out.name).decode(), int(out.renames),
                    ffi.string(out.service).decode(), int(out.service_renames),
                    {k: int(getattr(out.c, k)) for k in COUNTERS})


__all__ = ["MdnsInfo", "info_of", "txt_bytes", "STATES", "COUNTERS"]
