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


SERVER_KEYS = {"ranges", "reservations", "router", "dns", "lease", "t1", "t2", "mtu", "offer_hold",
               "server_ip", "subnet_mask", "iface"}
LEASE_STATES = {0: "free", 1: "offered", 2: "bound", 3: "released", 4: "declined"}


def _v4(name: str, key: str, value: Any) -> int:
    try:
        return int(ipaddress.IPv4Address(value))
    except ValueError as e:
        raise ConfigError(f"{name}: dhcp_server {key} {value!r} is not an IPv4 address") from e


def _seconds(name: str, key: str, value: Any) -> int:
    from .units import parse_time

    ns = parse_time(value, key) if isinstance(value, str) else int(value) * 1_000_000_000
    if ns % 1_000_000_000 or not 0 < ns // 1_000_000_000 <= 0xFFFFFFFF:
        raise ConfigError(f"{name}: dhcp_server {key} must be a whole number of seconds > 0, got {value!r}")
    return ns // 1_000_000_000


def server_config(name: str, opts: dict[str, Any]) -> Any:
    """A ``tern_dhcp_server_config`` from keyword options.

    ``ranges``: list of ``(first, last)``; ``reservations``: ``{mac or bytes client id: address}``;
    ``router``, ``dns`` (list), ``lease``/``t1``/``t2``/``offer_hold`` (seconds or "10min"), ``mtu``,
    ``server_ip``, ``subnet_mask``, ``iface``.
    """
    unknown = set(opts) - SERVER_KEYS
    if unknown:
        raise ConfigError(f"{name}: unknown dhcp_server option {sorted(unknown)[0]!r}; "
                          f"known: {', '.join(sorted(SERVER_KEYS))}")
    cfg = ffi.new("tern_dhcp_server_config *")
    cfg.iface = int(opts.get("iface", 0))
    ranges = list(opts.get("ranges") or [])
    if not 1 <= len(ranges) <= lib.TERN_DHCPS_RANGES:
        raise ConfigError(f"{name}: dhcp_server needs 1..{lib.TERN_DHCPS_RANGES} ranges, got {len(ranges)}")
    for i, (first, last) in enumerate(ranges):
        cfg.ranges[i].first = _v4(name, "range", first)
        cfg.ranges[i].last = _v4(name, "range", last)
    cfg.n_ranges = len(ranges)
    res = dict(opts.get("reservations") or {})
    if len(res) > lib.TERN_DHCPS_RESERVATIONS:
        raise ConfigError(f"{name}: at most {lib.TERN_DHCPS_RESERVATIONS} dhcp_server reservations, got {len(res)}")
    from .nodes import parse_mac

    for i, (who, addr) in enumerate(res.items()):
        r = cfg.reservations[i]
        if isinstance(who, (bytes, bytearray)):
            if not 2 <= len(who) <= lib.TERN_DHCP_CLIENT_ID_MAX:
                raise ConfigError(f"{name}: reservation client id {bytes(who)!r} must be 2..32 bytes")
            ffi.memmove(r.client_id, bytes(who), len(who))
            r.client_id_len = len(who)
        else:
            ffi.memmove(r.mac, parse_mac(who), 6)
        r.address = _v4(name, "reservation", addr)
    cfg.n_reservations = len(res)
    for key in ("router", "server_ip", "subnet_mask"):
        if opts.get(key) is not None:
            setattr(cfg, key, _v4(name, key, opts[key]))
    dns = list(opts.get("dns") or [])
    if len(dns) > lib.TERN_DHCP_LEASE_DNS_MAX:
        raise ConfigError(f"{name}: at most {lib.TERN_DHCP_LEASE_DNS_MAX} dhcp_server dns servers, got {len(dns)}")
    for i, d in enumerate(dns):
        cfg.dns[i] = _v4(name, "dns", d)
    cfg.n_dns = len(dns)
    for key, field_name in (("lease", "lease_secs"), ("t1", "t1_secs"), ("t2", "t2_secs"),
                            ("offer_hold", "offer_hold_secs")):
        if opts.get(key) is not None:
            setattr(cfg, field_name, _seconds(name, key, opts[key]))
    if opts.get("mtu") is not None:
        cfg.mtu = int(opts["mtu"])
    return cfg


def server_leases(host: "Host") -> list[dict[str, Any]]:
    """The servers' lease table entries in use: state, address, mac, client_id, expires_at (ns or None) and
    iface (the interface of the server holding it), server by server."""
    n = ffi.new("uint32_t *")
    host._check(lib.tern_dhcp_server_leases(host._st(), host._net.now_ns, ffi.NULL, 0, n), "dhcp_server_leases()")
    cap = max(1, int(n[0]))
    out = ffi.new("tern_dhcps_lease[]", cap)
    host._check(lib.tern_dhcp_server_leases(host._st(), host._net.now_ns, out, cap, n), "dhcp_server_leases()")
    rows = []
    for i in range(min(int(n[0]), cap)):
        le = out[i]
        rows.append({"state": LEASE_STATES.get(le.state, str(le.state)), "address": _ip(le.address),
                     "mac": ":".join(f"{b:02x}" for b in bytes(ffi.buffer(le.mac, 6))),
                     "client_id": bytes(ffi.buffer(le.client_id, le.client_id_len)),
                     "expires_at": None if le.expires_at == lib.TERN_NEVER else int(le.expires_at),
                     "iface": int(le.iface)})
    return rows


def server_counters(host: "Host", iface: Optional[int] = None) -> dict[str, int]:
    """The server's counters (discovers, requests, ..., offers, acks, naks, ignored, exhausted): of the server on
    ``iface``, or summed over every server (None)."""
    c = ffi.new("tern_dhcps_counters *")
    if iface is None:
        lib.tern_dhcp_server_counters(host._st(), c)
    else:
        host._check(lib.tern_dhcp_server_counters_on(host._st(), iface, c), f"dhcp_server_counters({iface})")
    names = ("discovers", "requests", "declines", "releases", "informs", "offers", "acks", "naks", "ignored",
             "exhausted")
    return {k: int(getattr(c, k)) for k in names}


__all__ += ["server_config", "server_leases", "server_counters"]
