"""The mDNS responder of a Tern host, seen from Python (C API: tern/mdns.h).

:meth:`pyharness.host.Host.mdns_start` claims ``<label>.local``; names under
``.local`` given to :meth:`pyharness.host.Host.resolve` are asked with a
one-shot multicast query.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._lib import ffi, lib

if TYPE_CHECKING:
    from .host import Host

STATES = {0: "off", 1: "probing", 2: "announcing", 3: "ready"}
COUNTERS = ("probes_sent", "announcements_sent", "queries_in", "answers_multicast", "answers_unicast",
            "answers_legacy", "known_answer_suppressed", "rate_limited", "conflicts", "malformed")


@dataclass(frozen=True)
class MdnsInfo:
    """``state`` ("off", "probing", "announcing", "ready"), the ``name`` claimed, ``renames`` after
    conflicts, and the ``counters``."""

    state: str
    name: str
    renames: int
    counters: dict = field(default_factory=dict)


def info_of(host: "Host") -> MdnsInfo:
    """The mDNS responder's state of ``host``."""
    out = ffi.new("tern_mdns_info *")
    lib.tern_mdns_get_info(host._st(), out)
    return MdnsInfo(STATES.get(out.state, str(out.state)), ffi.string(out.name).decode(), int(out.renames),
                    {k: int(getattr(out.c, k)) for k in COUNTERS})


__all__ = ["MdnsInfo", "info_of", "STATES", "COUNTERS"]
