"""The DHCPv4 client of a Tern host, seen from Python (C API: tern/dhcp.h).

Start it with ``net.host(name, dhcp=True)`` (or ``dhcp={"hostname": ...}``)
or :meth:`pyharness.host.Host.dhcp_start`; read the state and lease with
:meth:`~pyharness.host.Host.dhcp_lease` and the events (bound, renewed,
lost, conflict, nak) with :meth:`~pyharness.host.Host.dhcp_events`.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from ._lib import ffi, lib
from .errors import ConfigError

if TYPE_CHECKING:
    from .host import Host

EVENT_NAMES = {1: "bound", 2: "renewed", 3: "lost", 4: "conflict", 5: "nak"}
CLIENT_KEYS = {"hostname", "client_id", "previous_address", "probe"}


def _ip(v: int) -> Optional[str]:
    return str(ipaddress.IPv4Address(v)) if v else None


@dataclass(frozen=True)
class DhcpEvent:
    """One client event: ``kind`` ("bound", "renewed", "lost", "conflict", "nak"), virtual ``time`` (ns), ``address``."""

    kind: str
    time: int
    address: Optional[str]


@dataclass(frozen=True)
class DhcpLease:
    """The client's state and lease; times are virtual nanoseconds (None: never)."""

    state: str
    address: Optional[str]
    subnet_mask: Optional[str]
    router: Optional[str]
    server_id: Optional[str]
    dns: list[str] = field(default_factory=list)
    mtu: int = 0
    lease_secs: int = 0
    t1_secs: int = 0
    t2_secs: int = 0
    acquired_at: int = 0
    t1_at: Optional[int] = None
    t2_at: Optional[int] = None
    expires_at: Optional[int] = None
    xid: int = 0
    counters: dict[str, int] = field(default_factory=dict)


def client_config(name: str, opts: dict[str, Any]) -> Any:
    """A ``tern_dhcp_client_config`` from keyword options (errors name the bad key or value)."""
    unknown = set(opts) - CLIENT_KEYS
    if unknown:
        raise ConfigError(f"{name}: unknown dhcp option {sorted(unknown)[0]!r}; known: {', '.join(sorted(CLIENT_KEYS))}")
    cfg = ffi.new("tern_dhcp_client_config *")
    hostname = opts.get("hostname")
    if hostname is not None:
        raw = str(hostname).encode()
        if not 1 <= len(raw) <= lib.TERN_DHCP_HOSTNAME_MAX:
            raise ConfigError(f"{name}: dhcp hostname must be 1..{lib.TERN_DHCP_HOSTNAME_MAX} bytes, got {hostname!r}")
        ffi.memmove(cfg.hostname, raw, len(raw))
    cid = opts.get("client_id")
    if cid is not None:
        cid = bytes(cid)
        if not 2 <= len(cid) <= lib.TERN_DHCP_CLIENT_ID_MAX:
            raise ConfigError(f"{name}: dhcp client_id must be 2..{lib.TERN_DHCP_CLIENT_ID_MAX} bytes, got {len(cid)}")
        ffi.memmove(cfg.client_id, cid, len(cid))
        cfg.client_id_len = len(cid)
    prev = opts.get("previous_address")
    if prev is not None:
        try:
            cfg.previous_address = int(ipaddress.IPv4Address(prev))
        except ValueError as e:
            raise ConfigError(f"{name}: dhcp previous_address {prev!r} is not an IPv4 address") from e
    cfg.no_probe = not opts.get("probe", True)
    return cfg


def lease_of(host: "Host", iface: int = 0) -> DhcpLease:
    """The lease of ``host``'s client on ``iface``."""
    out = ffi.new("tern_dhcp_lease *")
    host._check(lib.tern_dhcp_get_lease(host._st(), iface, out), f"dhcp_lease(iface={iface})")

    def t(v: int) -> Optional[int]:
        return None if v == lib.TERN_NEVER else int(v)

    names = ("discovers", "requests", "declines", "releases", "offers", "acks", "naks", "ignored")
    return DhcpLease(
        state=ffi.string(lib.tern_dhcp_state_name(out.state)).decode(),
        address=_ip(out.address), subnet_mask=_ip(out.subnet_mask), router=_ip(out.router),
        server_id=_ip(out.server_id), dns=[str(ipaddress.IPv4Address(out.dns[i])) for i in range(out.n_dns)],
        mtu=int(out.mtu), lease_secs=int(out.lease_secs), t1_secs=int(out.t1_secs), t2_secs=int(out.t2_secs),
        acquired_at=int(out.acquired_at), t1_at=t(out.t1_at), t2_at=t(out.t2_at), expires_at=t(out.expires_at),
        xid=int(out.xid), counters={n: int(getattr(out, n)) for n in names})


def events_of(host: "Host", iface: int = 0) -> list[DhcpEvent]:
    """Take the pending events of ``host``'s client on ``iface``, oldest first."""
    ev = ffi.new("tern_dhcp_event *")
    out = []
    while lib.tern_dhcp_next_event(host._st(), iface, ev) == 0:
        out.append(DhcpEvent(EVENT_NAMES.get(ev.kind, str(ev.kind)), int(ev.time), _ip(ev.address)))
    return out


__all__ = ["DhcpEvent", "DhcpLease", "client_config", "lease_of", "events_of"]
