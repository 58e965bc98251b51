"""IPv4 multicast groups and IGMP of a Tern host, seen from Python (C API: tern/igmp.h).

A UDP socket joins a group with :meth:`pyharness.sockets.UdpSocket.join`; the
host then reports the membership with IGMP (v3 by default, v2 with
:meth:`pyharness.host.Host.igmp_set_version`) and delivers datagrams for the
group to the sockets that joined it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._lib import ffi, lib

if TYPE_CHECKING:
    from .host import Host

COUNTERS = ("in", "bad_checksum", "malformed", "queries_v1", "queries_v2", "queries_v3", "queries_ignored",
            "reports_heard", "reports_suppressed", "reports_out", "leaves_out", "mode_changes")


@dataclass(frozen=True)
class IgmpState:
    """An interface's IGMP state: ``configured`` version (2 or 3), compatibility ``mode`` now (1, 2
    or 3), ``robustness`` (the querier's QRV or 2) and ``query_interval`` (seconds)."""

    configured: int
    mode: int
    robustness: int
    query_interval: int


def state_of(host: "Host", iface: int = 0) -> IgmpState:
    """The IGMP state of ``host``'s interface ``iface``."""
    out = ffi.new("tern_igmp_iface_state *")
    host._check(lib.tern_igmp_get_iface_state(host._st(), iface, out), f"igmp_state(iface={iface})")
    return IgmpState(int(out.configured), int(out.mode), int(out.robustness), int(out.query_interval_s))


def groups_of(host: "Host", iface: int = 0) -> list[str]:
    """The groups ``iface`` of ``host`` is a member of, in the order of their table."""
    from .host import addr_text

    n = int(lib.tern_igmp_groups(host._st(), iface, ffi.NULL, 0))
    out = ffi.new("tern_addr[]", max(n, 1))
    lib.tern_igmp_groups(host._st(), iface, out, n)
    return [addr_text(out + i) or "" for i in range(n)]


def counters(host: "Host") -> dict[str, int]:
    """The host's IGMP counters."""
    c = ffi.new("tern_igmp_counters *")
    lib.tern_igmp_get_counters(host._st(), c)
    return {k: int(getattr(c, k)) for k in COUNTERS}


__all__ = ["IgmpState", "state_of", "groups_of", "counters", "COUNTERS"]
