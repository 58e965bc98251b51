"""The DHCPv6 client of a Tern host, seen from Python (C API: tern/dhcpv6.h).

Start it with ``net.host(name, dhcpv6=True)`` (stateful), ``dhcpv6="stateless"``,
``dhcpv6="ra"`` (started by a Router Advertisement's M or O flag) or
:meth:`pyharness.host.Host.dhcpv6_start`; read the state, lease and the
retransmission state of the exchange in progress with
:meth:`~pyharness.host.Host.dhcpv6_lease` and the events with
:meth:`~pyharness.host.Host.dhcpv6_events`.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional, Union

from ._lib import ffi, lib
from .errors import ConfigError

if TYPE_CHECKING:
    from .host import Host

MODES = {"stateful": 1, "stateless": 2, "ra": 3}
MODE_NAMES = {v: k for k, v in MODES.items()}
EVENT_NAMES = {1: "bound", 2: "renewed", 3: "lost", 4: "declined", 5: "info", 6: "status", 7: "released"}
COUNTERS = ("solicits", "requests", "renews", "rebinds", "releases", "declines", "info_requests",
            "advertises", "replies", "ignored")


def _addr(a: Any) -> Optional[str]:
    if a.family != 6:
        return None
    return str(ipaddress.IPv6Address(bytes(a.bytes)))


def _t(v: int) -> Optional[int]:
    return None if v == lib.TERN_NEVER else int(v)


@dataclass(frozen=True)
class Dhcpv6Event:
    """One client event: ``kind`` (see EVENT_NAMES), virtual ``time`` (ns), ``address``, ``status``."""

    kind: str
    time: int
    address: Optional[str]
    status: int = 0


@dataclass(frozen=True)
class Dhcpv6Lease:
    """The client's state, lease and current exchange; times are virtual ns (None: never)."""

    state: str
    mode: str
    address: Optional[str]
    preferred_secs: int
    valid_secs: int
    t1_secs: int
    t2_secs: int
    acquired_at: int
    t1_at: Optional[int]
    t2_at: Optional[int]
    expires_at: Optional[int]
    server_id: bytes
    preference: int
    dns: list[str]
    domain: str
    info_refresh_at: Optional[int]
    duid: bytes
    iaid: int
    xid: int
    exchange_started_at: int
    tx_count: int
    rt_ns: int
    rand_ppm: int
    next_at: Optional[int]
    last_status: int
    counters: dict[str, int] = field(default_factory=dict)


def client_config(name: str, mode: Union[str, bool], iaid: int = 0) -> Any:
    """A ``tern_dhcpv6_config`` (``mode``: "stateful", "stateless", "ra"; True is "stateful")."""
    if mode is True:
        mode = "stateful"
    if mode not in MODES:
        raise ConfigError(f"{name}: dhcpv6 mode {mode!r} unknown; known: {', '.join(MODES)}")
    if not 0 <= int(iaid) <= 0xFFFFFFFF:
        raise ConfigError(f"{name}: dhcpv6 iaid {iaid!r} is not a 32-bit value")
    cfg = ffi.new("tern_dhcpv6_config *")
    cfg.mode = MODES[str(mode)]
    cfg.iaid = int(iaid)
    return cfg


def lease_of(host: "Host", iface: int = 0) -> Dhcpv6Lease:
    """The lease of ``host``'s DHCPv6 client on ``iface``."""
    o = ffi.new("tern_dhcpv6_lease *")
    host._check(lib.tern_dhcpv6_get_lease(host._st(), iface, o), f"dhcpv6_lease(iface={iface})")
    return Dhcpv6Lease(
        state=ffi.string(lib.tern_dhcpv6_state_name(o.state)).decode(),
        mode=MODE_NAMES.get(int(o.mode), "off"), address=_addr(o.address),
        preferred_secs=int(o.preferred_secs), valid_secs=int(o.valid_secs),
        t1_secs=int(o.t1_secs), t2_secs=int(o.t2_secs), acquired_at=int(o.acquired_at),
        t1_at=_t(o.t1_at), t2_at=_t(o.t2_at), expires_at=_t(o.expires_at),
        server_id=bytes(ffi.buffer(o.server_id, o.server_id_len)), preference=int(o.preference),
        dns=[_addr(o.dns[i]) or "" for i in range(o.n_dns)],
        domain=ffi.string(o.domain).decode(errors="replace"), info_refresh_at=_t(o.info_refresh_at),
        duid=bytes(ffi.buffer(o.duid, o.duid_len)), iaid=int(o.iaid), xid=int(o.xid),
        exchange_started_at=int(o.exchange_started_at), tx_count=int(o.tx_count), rt_ns=int(o.rt_ns),
        rand_ppm=int(o.rand_ppm), next_at=_t(o.next_at), last_status=int(o.last_status),
        counters={n: int(getattr(o, n)) for n in COUNTERS})


def events_of(host: "Host", iface: int = 0) -> list[Dhcpv6Event]:
    """Take the pending events of ``host``'s DHCPv6 client on ``iface``, oldest first."""
    ev = ffi.new("tern_dhcpv6_event *")
    out = []
    while lib.tern_dhcpv6_next_event(host._st(), iface, ev) == 0:
        out.append(Dhcpv6Event(EVENT_NAMES.get(ev.kind, str(ev.kind)), int(ev.time), _addr(ev.addr),
                               int(ev.status)))
    return out


def next_rt(prev_rt_ns: int, rand_ppm: int, irt_ns: int, mrt_ns: int, first: bool) -> int:
    """RFC 8415 section 15's RT in integer ns, as the stack computes it, for a RAND of ``rand_ppm`` millionths."""
    def rnd(base: int) -> int:
        mag = base // 1_000_000 * abs(rand_ppm) + base % 1_000_000 * abs(rand_ppm) // 1_000_000
        return base - mag if rand_ppm < 0 else base + mag

    rt = rnd(irt_ns) if first else 2 * prev_rt_ns + rnd(prev_rt_ns) - prev_rt_ns
    if mrt_ns and rt > mrt_ns:
        rt = rnd(mrt_ns)
    return rt


__all__ = ["Dhcpv6Event", "Dhcpv6Lease", "client_config", "lease_of", "events_of", "next_rt", "MODES"]
