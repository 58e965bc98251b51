"""The gateway node: user-mode networking in virtual time (C API: tern/sim_gateway.h).

>>> gw = net.gateway("gw", profile="fvp")          # 172.20.51.0/24, gateway/DHCP/DNS .254
>>> guest = net.host("guest", dhcp={"hostname": "zephyr"})
>>> net.link(gw, guest)                              # port 0: the inside segment
>>> www = net.host("www", ipv4="198.51.100.80/24")
>>> net.link(gw, www)                                # port 1: the outside ("sealed" Internet)

A gateway routes between its segments, answers ARP and ICMP echo on its own
addresses, serves DHCP on its first inside segment and on every extra segment
given a pool (``segments=[{"address": "10.1.0.1/24", "dhcp": {"pool": (first,
last)}}]``: each its own pool, options and lease table), DNS on each of its
addresses, and NATs the inside segments onto its outside address. The outside
is sealed: other simulated nodes, in virtual time.

Ports: 0 is the first inside segment, 1 the outside segment (when there is
one), then the extra inside ``segments`` in order; ``net.link(gw, node)``
takes the lowest free port, or pass ``port_a=gw.outside_port``.

Every configuration mistake is found before anything is built and raised as
:class:`GatewayConfigError`, whose ``field`` names the key and ``reason``
says what is wrong (``dhcp.pool: overlaps the gateway address 10.0.2.2``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Optional, Union

from ._lib import ffi, lib
from .errors import ConfigError, raise_error
from .nodes import Node, default_mac, format_mac, parse_mac
from .units import NS_PER_S, parse_time
from .errors import hide_from_traceback as __tracebackhide__  # noqa: F401  (pytest shows the test's line, not ours)

if TYPE_CHECKING:
    from .network import Network

IPv4 = ipaddress.IPv4Address
Net4 = ipaddress.IPv4Network


class GatewayConfigError(ConfigError):
    """A gateway configuration error: ``field`` (e.g. ``"port_forwards[1]"``) and ``reason``."""

    def __init__(self, field_name: str, reason: str):
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


@dataclass(frozen=True)
class Profile:
    """Addresses an emulator's user-mode network gives its guests."""

    name: str
    inside: str                 #: the guests' segment
    gateway: str                #: the gateway's (router's) address
    dns: Optional[str]          #: the DNS server's address (may equal gateway); None: no DNS server
    dhcp_first: Optional[str]   #: first address leased; None: static addressing, no DHCP
    dhcp_last: Optional[str]
    lease: int = 86400          #: lease time, seconds
    doc: str = ""


#: The profiles of the emulators whose guests should just work.
PROFILES: dict[str, Profile] = {
    # Arm FVP's user-mode networking (HostBridge userNetSubnet default 172.20.51.0/24):
    # gateway, DHCP and DNS at .254, the guest's first lease .1.
    "fvp": Profile("fvp", "172.20.51.0/24", "172.20.51.254", "172.20.51.254", "172.20.51.1", "172.20.51.253",
                   86400, "Arm FVP user-mode networking"),
    # QEMU's libslirp: 10.0.2.0/24, gateway .2, DNS .3, leases from .15 (16 clients, 24 h).
    "slirp": Profile("slirp", "10.0.2.0/24", "10.0.2.2", "10.0.2.3", "10.0.2.15", "10.0.2.30", 86400,
                     "QEMU user networking (libslirp)"),
    # The seL4 demo's static network: no DHCP, the guests configured by hand.
    "sel4": Profile("sel4", "192.168.1.0/24", "192.168.1.1", "192.168.1.1", None, None, 86400,
                    "seL4 demo, static 192.168.1.0/24"),
}

FILTERING = {"endpoint-independent": 0, "address-dependent": 1, "address-and-port-dependent": 2}
TCP_STATES = {0: "none", 1: "syn_sent", 2: "established", 3: "fin", 4: "closed"}
PROTOCOLS = {"tcp": 6, "udp": 17}
PROTO_NAMES = {6: "tcp", 17: "udp", 1: "icmp"}
#: The sealed Internet the outside port is on, unless ``outside=`` says otherwise.
DEFAULT_OUTSIDE = "198.51.100.2/24"

GATEWAY_KEYS = {"inside", "gateway_ip", "dns_ip", "dhcp", "outside", "outside_router", "nat", "dns",
                "port_forwards", "hostfwd", "user_net_ports", "segments", "icmp_rate", "icmp_burst", "mtu",
                "mac", "seed", "ipv6"}
IPV6_KEYS = {"inside", "outside", "segments", "outside_router", "ra"}
RA_KEYS = {"max_interval", "min_interval", "lifetime", "valid", "preferred"}
#: IPv6 of ``ipv6=True`` (RFC 3849 documentation prefix): one routed /64 per segment, no NAT66.
DEFAULT_IPV6 = {"inside": "2001:db8:0:1::1/64", "outside": "2001:db8:ff::2/64"}
IPv6Iface = ipaddress.IPv6Interface
NAT_KEYS = {"udp_timeout", "tcp_established_timeout", "tcp_transitory_timeout", "icmp_timeout", "filtering",
            "inbound_refresh", "ports", "max_mappings", "allow_short_timeouts"}
DNS_KEYS = {"domain", "records", "upstream", "ttl", "upstream_timeout", "enabled"}
DHCP_KEYS = {"pool", "lease", "reservations", "t1", "t2", "mtu", "offer_hold"}
SEGMENT_KEYS = {"address", "dhcp", "mtu"}


@dataclass(frozen=True)
class PortForward:
    """One inbound forward: ``protocol`` ("tcp"/"udp"), outside ``host_port`` -> ``guest``:``port``."""

    protocol: str
    host_port: int
    guest: str
    port: int


@dataclass(frozen=True)
class NatSession:
    """A remote endpoint a mapping talks with, its TCP state and deadline (ns)."""

    remote: str
    remote_port: int
    tcp_state: str
    expires_at: int
    packets_out: int
    packets_in: int


@dataclass(frozen=True)
class NatMapping:
    """One NAT mapping: inside endpoint -> outside endpoint, with its sessions."""

    protocol: str
    inside: str
    inside_port: int
    outside: str
    outside_port: int
    forward: bool
    created_at: int
    expires_at: Optional[int]  #: ns; None for a port forward (never)
    sessions: list[NatSession] = field(default_factory=list)


# ---- parsing helpers -------------------------------------------------------------


def _addr(field_name: str, value: Any) -> IPv4:
    try:
        return IPv4(value)
    except (ValueError, TypeError):
        raise GatewayConfigError(field_name, f"{value!r} is not an IPv4 address") from None


def _record_addr(field_name: str, value: Any) -> "ipaddress.IPv4Address | ipaddress.IPv6Address":
    """A DNS record's address: IPv4 (an A record) or IPv6 (an AAAA record, RFC 3596)."""
    try:
        return ipaddress.ip_address(value)
    except (ValueError, TypeError):
        raise GatewayConfigError(field_name, f"{value!r} is not an IPv4 or IPv6 address") from None


def _iface(field_name: str, value: Any) -> ipaddress.IPv4Interface:
    try:
        itf = ipaddress.IPv4Interface(value)
    except (ValueError, TypeError):
        raise GatewayConfigError(field_name, f"{value!r} is not an IPv4 address with a prefix like "
                                             "'10.0.2.2/24'") from None
    if "/" not in str(value):
        raise GatewayConfigError(field_name, f"{value!r} has no prefix length (write '{value}/24')")
    return itf


def _net(field_name: str, value: Any) -> Net4:
    try:
        return Net4(value, strict=True)
    except ValueError as e:
        if "host bits" in str(e):
            raise GatewayConfigError(field_name, f"{value!r} has host bits set (a prefix like "
                                                 f"'{Net4(value, strict=False)}')") from None
        raise GatewayConfigError(field_name, f"{value!r} is not an IPv4 prefix like '10.0.2.0/24'") from None
    except TypeError:
        raise GatewayConfigError(field_name, f"{value!r} is not an IPv4 prefix like '10.0.2.0/24'") from None


def _seconds_ns(field_name: str, value: Any) -> int:
    try:
        ns = parse_time(value, field_name)
    except ConfigError as e:
        reason = str(e)
        if reason.startswith(field_name):
            reason = reason[len(field_name):].lstrip(": ")
        raise GatewayConfigError(field_name, reason) from None
    if ns <= 0:
        raise GatewayConfigError(field_name, f"must be above 0, got {value!r}")
    return ns


def _whole_seconds(field_name: str, value: Any) -> int:
    ns = _seconds_ns(field_name, value)
    if ns % NS_PER_S or ns // NS_PER_S > 0xFFFFFFFF:
        raise GatewayConfigError(field_name, f"must be a whole number of seconds up to 2**32-1, got {value!r}")
    return ns // NS_PER_S


def _port(field_name: str, value: Any, zero_ok: bool = False) -> int:
    try:
        p = int(value)
        if isinstance(value, bool) or str(p) != str(value).strip():
            raise ValueError
    except (ValueError, TypeError):
        raise GatewayConfigError(field_name, f"{value!r} is not a port number") from None
    if not (0 if zero_ok else 1) <= p <= 65535:
        raise GatewayConfigError(field_name, f"port {p} is outside {0 if zero_ok else 1}..65535")
    return p


def _unknown(field_name: str, given: Iterable[str], known: set[str]) -> None:
    extra = sorted(set(given) - known)
    if extra:
        raise GatewayConfigError(f"{field_name}.{extra[0]}" if field_name else extra[0],
                                 f"unknown key; known: {', '.join(sorted(known))}")


# ---- QEMU hostfwd= and FVP userNetPorts= ------------------------------------------------

_HOSTFWD = re.compile(r"^(?P<proto>[^:]*):(?P<haddr>[^:]*):(?P<hport>[^-]*)-(?P<gaddr>[^:]*):(?P<gport>.*)$")


def parse_hostfwd(text: str, index: int = 0) -> tuple[str, str, str, str, str]:
    """Split one QEMU ``hostfwd=[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport`` rule.

    Returns the five raw fields (protocol, host address, host port, guest address, guest port);
    raises :class:`GatewayConfigError` naming ``hostfwd[index]`` and what is wrong.
    """
    where = f"hostfwd[{index}]"
    rule = text.strip()
    if rule.startswith("hostfwd="):
        rule = rule[len("hostfwd="):]
    m = _HOSTFWD.match(rule)
    if not m:
        raise GatewayConfigError(where, f"{text!r} does not match [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport")
    proto = m["proto"] or "tcp"
    if proto not in PROTOCOLS:
        raise GatewayConfigError(where, f"protocol {m['proto']!r} is not tcp or udp")
    return proto, m["haddr"], m["hport"], m["gaddr"], m["gport"]


def parse_user_net_ports(text: str) -> list[tuple[str, str, str, str]]:
    """Split FVP's ``userNetPorts`` value: comma-separated ``[host-ip:]hostport=[model-ip:]modelport``.

    Returns (host address, host port, model address, model port) per item, raw; raises
    :class:`GatewayConfigError` naming ``user_net_ports[i]``. (FVP forwards TCP only.)
    """
    out = []
    for i, item in enumerate(text.split(",")):
        where = f"user_net_ports[{i}]"
        item = item.strip()
        if item.count("=") != 1:
            raise GatewayConfigError(where, f"{item!r} is not [host-ip:]hostport=[model-ip:]modelport")
        host, model = item.split("=")
        haddr, _, hport = host.rpartition(":")
        maddr, _, mport = model.rpartition(":")
        if not hport or not mport:
            raise GatewayConfigError(where, f"{item!r}: a port is missing")
        out.append((haddr, hport, maddr, mport))
    return out


# ---- the whole configuration ---------------------------------------------------------------


@dataclass
class GatewayPlan:
    """A validated gateway configuration, ready to build (see :func:`plan`)."""

    profile: Profile
    inside: Net4
    gateway_ip: IPv4
    dns_ip: Optional[IPv4]
    outside: Optional[ipaddress.IPv4Interface]
    outside_router: Optional[IPv4]
    segments: list[ipaddress.IPv4Interface]
    dhcp: Optional[dict[str, Any]]
    nat: dict[str, Any]
    dns: dict[str, Any]
    forwards: list[PortForward]
    icmp_rate: int
    icmp_burst: int
    mtu: int
    #: per extra segment (as ``segments``), its DHCP server's settings or None
    segment_dhcp: list[Optional[dict[str, Any]]] = field(default_factory=list)
    #: IPv6: {"inside": IPv6Interface, "outside": ..., "segments": [...], "outside_router": ..., "ra": {...}};
    #: None without IPv6
    ipv6: Optional[dict[str, Any]] = None
    #: per extra segment, its port's MTU (``mtu`` unless the segment gives its own)
    segment_mtu: list[int] = field(default_factory=list)


def _check_forward(i: int, where: str, proto: str, haddr: str, hport: Any, gaddr: str, gport: Any,
                   plan: GatewayPlan, default_guest: Optional[str]) -> PortForward:
    outside = plan.outside
    if outside is None:
        raise GatewayConfigError(where, "port forwards need an outside port (outside=None was given)")
    if haddr not in ("", "0.0.0.0"):
        a = _addr(f"{where}.host_addr", haddr)
        if a != outside.ip:
            raise GatewayConfigError(where, f"host address {a}: sealed mode listens on the gateway's outside "
                                            f"address {outside.ip} (leave it empty)")
    host_port = _port(f"{where}.host_port", hport, zero_ok=True)
    if not gaddr:
        if default_guest is None:
            raise GatewayConfigError(where, "no guest address given and the profile has no DHCP pool to take "
                                            "the first lease from")
        gaddr = default_guest
    guest = _addr(f"{where}.guest", gaddr)
    inside_nets = [plan.inside] + [s.network for s in plan.segments]
    if not any(guest in n for n in inside_nets):
        raise GatewayConfigError(where, f"guest {guest} is not on an inside segment "
                                        f"({', '.join(str(n) for n in inside_nets)})")
    if guest in (plan.gateway_ip, plan.dns_ip) or any(guest == n.network_address or guest == n.broadcast_address
                                                       for n in inside_nets):
        raise GatewayConfigError(where, f"guest {guest} is the gateway's own or a network/broadcast address")
    port = _port(f"{where}.guest_port", gport)
    return PortForward(proto, host_port, str(guest), port)


def _dhcp_plan(where: str, d: dict[str, Any], net: Net4, gw_ip: IPv4, dns_ip: Optional[IPv4],
               default_pool: Optional[tuple[str, str]], default_lease: int) -> dict[str, Any]:
    """Validate one segment's DHCP options (``where``: "dhcp" or "segments[i].dhcp"); the server's settings."""
    _unknown(where, d, DHCP_KEYS)
    if "pool" in d:
        pool = d["pool"]
        if not (isinstance(pool, (tuple, list)) and len(pool) == 2):
            raise GatewayConfigError(f"{where}.pool", f"{pool!r} is not (first, last)")
        first, last = _addr(f"{where}.pool", pool[0]), _addr(f"{where}.pool", pool[1])
    else:
        assert default_pool is not None
        first, last = IPv4(default_pool[0]), IPv4(default_pool[1])
    if first > last:
        raise GatewayConfigError(f"{where}.pool", f"first {first} is above last {last}")
    for a in (first, last):
        if a not in net or a in (net.network_address, net.broadcast_address):
            raise GatewayConfigError(f"{where}.pool", f"{a} is not a host address of {net}")
    for own, what in ((gw_ip, "the gateway address"), (dns_ip, "the DNS address")):
        if own is not None and first <= own <= last:
            raise GatewayConfigError(f"{where}.pool", f"overlaps {what} {own}")
    lease = _whole_seconds(f"{where}.lease", d.get("lease", default_lease))
    dhcp: dict[str, Any] = {"ranges": [(str(first), str(last))], "lease": lease, "router": str(gw_ip),
                            "dns": [str(dns_ip)] if dns_ip is not None else [], "first": str(first),
                            "server_ip": str(gw_ip), "subnet_mask": str(net.netmask)}
    for key in ("t1", "t2", "offer_hold"):
        if key in d:
            dhcp[key] = _whole_seconds(f"{where}.{key}", d[key])
    if "t1" in dhcp and "t2" in dhcp and not dhcp["t1"] < dhcp["t2"] < lease:
        raise GatewayConfigError(f"{where}.t1", f"t1 {dhcp['t1']} s < t2 {dhcp['t2']} s < lease {lease} s "
                                                "does not hold")
    if "mtu" in d:
        dhcp["mtu"] = int(d["mtu"])
        if not 68 <= dhcp["mtu"] <= 9000:
            raise GatewayConfigError(f"{where}.mtu", f"{d['mtu']} is outside 68..9000")
    res = dict(d.get("reservations") or {})
    for i, (mac, ip) in enumerate(res.items()):
        try:
            parse_mac(mac)
        except ConfigError:
            raise GatewayConfigError(f"{where}.reservations[{i}]", f"{mac!r} is not a MAC address") from None
        a = _addr(f"{where}.reservations[{i}]", ip)
        if a not in net or a in (gw_ip, dns_ip):
            raise GatewayConfigError(f"{where}.reservations[{i}]", f"{a} is not a guest address of {net}")
    if res:
        dhcp["reservations"] = res
    return dhcp


def _iface6(field_name: str, value: Any) -> "ipaddress.IPv6Interface":
    try:
        itf = ipaddress.IPv6Interface(value)
    except (ValueError, TypeError):
        raise GatewayConfigError(field_name, f"{value!r} is not an IPv6 address with a prefix like "
                                             "'2001:db8:0:1::1/64'") from None
    if "/" not in str(value):
        raise GatewayConfigError(field_name, f"{value!r} has no prefix length (write '{value}/64')")
    if itf.ip.is_multicast or itf.ip.is_link_local or itf.ip.is_unspecified or itf.ip.is_loopback:
        raise GatewayConfigError(field_name, f"{itf.ip} cannot be the gateway's global address")
    return itf


def _ipv6_plan(opt: Any, has_outside: bool, nseg: int) -> Optional[dict[str, Any]]:
    """Validate ``ipv6=`` (True, or a dict of IPV6_KEYS): one routed prefix per segment (no NAT66)."""
    if opt in (None, False):
        return None
    d = dict(DEFAULT_IPV6) if opt is True else dict(opt)
    if not isinstance(opt, (bool, dict)):
        raise GatewayConfigError("ipv6", f"{opt!r} is not True or a dict of {', '.join(sorted(IPV6_KEYS))}")
    _unknown("ipv6", d, IPV6_KEYS)
    inside = _iface6("ipv6.inside", d.get("inside", DEFAULT_IPV6["inside"]))
    if inside.network.prefixlen != 64:
        raise GatewayConfigError("ipv6.inside", f"{inside.network}: Router Advertisements for SLAAC need a /64 "
                                                "(RFC 4862 5.5.3)")
    outside = None
    if has_outside:
        outside = _iface6("ipv6.outside", d.get("outside", DEFAULT_IPV6["outside"]))
    elif "outside" in d:
        raise GatewayConfigError("ipv6.outside", "given, but the gateway has no outside port")
    segs_raw = list(d.get("segments") or [f"2001:db8:0:{k + 2:x}::1/64" for k in range(nseg)])
    if len(segs_raw) != nseg:
        raise GatewayConfigError("ipv6.segments", f"{len(segs_raw)} prefixes for {nseg} segments")
    segs = [_iface6(f"ipv6.segments[{k}]", v) for k, v in enumerate(segs_raw)]
    named = [("ipv6.inside", inside)] + ([("ipv6.outside", outside)] if outside else []) + \
        [(f"ipv6.segments[{k}]", x) for k, x in enumerate(segs)]
    for i, (fa, a) in enumerate(named):
        for fb, b in named[:i]:
            if a.network.overlaps(b.network):
                raise GatewayConfigError(fa, f"{a.network} overlaps {fb} {b.network}")
    for k, x in enumerate(segs):
        if x.network.prefixlen != 64:
            raise GatewayConfigError(f"ipv6.segments[{k}]", f"{x.network}: Router Advertisements for SLAAC need "
                                                            "a /64 (RFC 4862 5.5.3)")
    router = None
    if d.get("outside_router") is not None:
        if outside is None:
            raise GatewayConfigError("ipv6.outside_router", "given without an outside segment")
        try:
            router = ipaddress.IPv6Address(d["outside_router"])
        except ValueError:
            raise GatewayConfigError("ipv6.outside_router", f"{d['outside_router']!r} is not an IPv6 address") \
                from None
        if router not in outside.network and not router.is_link_local:
            raise GatewayConfigError("ipv6.outside_router", f"{router} is not on {outside.network}")
    ra = dict(d.get("ra") or {})
    _unknown("ipv6.ra", ra, RA_KEYS)
    ra_out = {}
    for key in ("max_interval", "min_interval"):
        if key in ra:
            ra_out[key] = _seconds_ns(f"ipv6.ra.{key}", ra[key])
    for key in ("lifetime", "valid", "preferred"):
        if key in ra:
            ra_out[key] = _whole_seconds(f"ipv6.ra.{key}", ra[key])
    return {"inside": inside, "outside": outside, "segments": segs, "outside_router": router, "ra": ra_out}


def plan(name: str, profile: str = "fvp", **opts: Any) -> GatewayPlan:
    """Validate a whole gateway configuration; raise :class:`GatewayConfigError` at the first problem.

    Keys (all optional; the profile gives the addresses): ``inside`` (prefix), ``gateway_ip``, ``dns_ip``,
    ``dhcp`` (False, or ``{"pool": (first, last), "lease", "reservations", "t1", "t2", "mtu", "offer_hold"}``),
    ``outside`` ("198.51.100.2/24" or None for a gateway without NAT), ``outside_router``, ``nat``
    (``udp_timeout``, ``tcp_established_timeout``, ``tcp_transitory_timeout``, ``icmp_timeout``,
    ``filtering``, ``inbound_refresh``, ``ports``, ``max_mappings``, ``allow_short_timeouts``), ``dns``
    (``domain``, ``records`` {name: ip or [ips]}, ``upstream`` [ips], ``ttl``, ``upstream_timeout``,
    ``enabled``), ``port_forwards`` [{"protocol", "host_port", "guest", "port"}], ``hostfwd`` (QEMU rules,
    a string or a list), ``user_net_ports`` (FVP's string), ``segments`` (more inside segments: the
    gateway's address on each, "10.1.0.1/24", or ``{"address": "10.1.0.1/24", "dhcp": {...}}`` with
    that segment's own DHCP server, the keys of ``dhcp`` with ``pool`` required; router and DNS are the
    segment's gateway address; ``mtu``), ``ipv6`` (True, or ``inside``, ``outside``, ``segments`` /64s,
    ``outside_router``, ``ra`` {``max_interval``, ``min_interval``, ``lifetime``, ``valid``, ``preferred``}:
    one routed prefix per segment, no NAT66, Router Advertisements on the inside ports), ``icmp_rate``, ``icmp_burst``, ``mtu``.
    """
    _unknown("", opts, GATEWAY_KEYS)
    if profile not in PROFILES:
        raise GatewayConfigError("profile", f"{profile!r} is not a profile; known: {', '.join(sorted(PROFILES))}")
    prof = PROFILES[profile]
    inside = _net("inside", opts.get("inside", prof.inside))
    if not 1 <= inside.prefixlen <= 30:
        raise GatewayConfigError("inside", f"prefix length {inside.prefixlen} leaves no room for hosts (1..30)")
    if "inside" in opts and "gateway_ip" not in opts:
        raise GatewayConfigError("gateway_ip", f"a custom inside prefix {inside} needs gateway_ip too")
    gw_ip = _addr("gateway_ip", opts.get("gateway_ip", prof.gateway))
    if gw_ip not in inside or gw_ip in (inside.network_address, inside.broadcast_address):
        raise GatewayConfigError("gateway_ip", f"{gw_ip} is not a host address of {inside}")
    dns_cfg = dict(opts.get("dns") or {})
    _unknown("dns", dns_cfg, DNS_KEYS)
    dns_on = bool(dns_cfg.get("enabled", True))
    dns_default = prof.dns if "inside" not in opts else str(gw_ip)
    dns_ip_raw = opts.get("dns_ip", dns_default)
    dns_ip = _addr("dns_ip", dns_ip_raw) if (dns_on and dns_ip_raw is not None) else None
    if dns_ip is not None and (dns_ip not in inside or dns_ip in (inside.network_address, inside.broadcast_address)):
        raise GatewayConfigError("dns_ip", f"{dns_ip} is not a host address of {inside}")

    out_raw = opts.get("outside", DEFAULT_OUTSIDE)
    outside = _iface("outside", out_raw) if out_raw is not None else None
    if outside is not None:
        if outside.network.overlaps(inside):
            raise GatewayConfigError("outside", f"{outside} overlaps the inside segment {inside}")
        if outside.ip in (outside.network.network_address, outside.network.broadcast_address):
            raise GatewayConfigError("outside", f"{outside.ip} is the network or broadcast address of "
                                                f"{outside.network}")
    router = opts.get("outside_router")
    outside_router = None
    if router is not None:
        if outside is None:
            raise GatewayConfigError("outside_router", "given without an outside segment")
        outside_router = _addr("outside_router", router)
        if outside_router not in outside.network or outside_router == outside.ip:
            raise GatewayConfigError("outside_router", f"{outside_router} is not another host of {outside.network}")

    segments = []
    seg_dhcp_opts: list[Any] = []
    seg_mtus: dict[int, int] = {}
    for i, seg in enumerate(opts.get("segments") or []):
        if isinstance(seg, dict):
            _unknown(f"segments[{i}]", seg, SEGMENT_KEYS)
            if "address" not in seg:
                raise GatewayConfigError(f"segments[{i}].address", "missing (the gateway's address on the "
                                                                   "segment, like '10.1.0.1/24')")
            s = _iface(f"segments[{i}].address", seg["address"])
            seg_dhcp_opts.append(seg.get("dhcp"))
            if "mtu" in seg:
                m = seg["mtu"]
                if isinstance(m, bool) or not isinstance(m, int) or not 68 <= m <= 9000:
                    raise GatewayConfigError(f"segments[{i}].mtu", f"{m!r} is outside 68..9000")
                seg_mtus[i] = m
        else:
            s = _iface(f"segments[{i}]", seg)
            seg_dhcp_opts.append(None)
        for other, what in [(inside, "the inside segment")] + ([(outside.network, "the outside segment")]
                                                                  if outside else []) + \
                [(x.network, f"segments[{k}]") for k, x in enumerate(segments)]:
            if s.network.overlaps(other):
                raise GatewayConfigError(f"segments[{i}]", f"{s.network} overlaps {what} {other}")
        segments.append(s)
    if 1 + (outside is not None) + len(segments) > lib.SIM_GW_MAX_PORTS:
        raise GatewayConfigError("segments", f"a gateway has at most {lib.SIM_GW_MAX_PORTS} ports")

    # DHCP: the first inside segment's server, then one per extra segment that asks for it
    dhcp_opt = opts.get("dhcp", True)
    dhcp: Optional[dict[str, Any]] = None
    if dhcp_opt not in (False, None):
        d = dict(dhcp_opt) if isinstance(dhcp_opt, dict) else {}
        if "pool" in d:
            dhcp = _dhcp_plan("dhcp", d, inside, gw_ip, dns_ip, None, prof.lease)
        elif prof.dhcp_first is not None and "inside" not in opts:
            dhcp = _dhcp_plan("dhcp", d, inside, gw_ip, dns_ip, (prof.dhcp_first, prof.dhcp_last), prof.lease)
        elif dhcp_opt is True and prof.dhcp_first is None and "inside" not in opts:
            dhcp = None
        else:
            _unknown("dhcp", d, DHCP_KEYS)
            raise GatewayConfigError("dhcp.pool", "no pool: give dhcp={'pool': (first, last)} or dhcp=False")
    segment_dhcp: list[Optional[dict[str, Any]]] = []
    for i, (s, sd) in enumerate(zip(segments, seg_dhcp_opts)):
        if sd in (None, False):
            segment_dhcp.append(None)
            continue
        where = f"segments[{i}].dhcp"
        if sd is True or not isinstance(sd, dict) or "pool" not in sd:
            raise GatewayConfigError(f"{where}.pool", f"a segment's DHCP server needs a pool: "
                                                      f"{{'pool': (first, last)}} inside {s.network}")
        seg_dns = s.ip if dns_ip is not None else None
        segment_dhcp.append(_dhcp_plan(where, dict(sd), s.network, s.ip, seg_dns, None, prof.lease))

    # NAT
    nat = dict(opts.get("nat") or {})
    _unknown("nat", nat, NAT_KEYS)
    nat_out: dict[str, Any] = {}
    for key in ("udp_timeout", "tcp_established_timeout", "tcp_transitory_timeout", "icmp_timeout"):
        if key in nat:
            nat_out[key] = _seconds_ns(f"nat.{key}", nat[key])
    filt = nat.get("filtering", "endpoint-independent")
    if filt not in FILTERING:
        raise GatewayConfigError("nat.filtering", f"{filt!r}; known: {', '.join(FILTERING)}")
    nat_out["filtering"] = FILTERING[filt]
    nat_out["inbound_refresh"] = bool(nat.get("inbound_refresh", False))
    nat_out["allow_short_timeouts"] = bool(nat.get("allow_short_timeouts", False))
    if "ports" in nat:
        pr = nat["ports"]
        if not (isinstance(pr, (tuple, list)) and len(pr) == 2):
            raise GatewayConfigError("nat.ports", f"{pr!r} is not (first, last)")
        nat_out["ports"] = (_port("nat.ports", pr[0]), _port("nat.ports", pr[1]))
    if "max_mappings" in nat:
        nat_out["max_mappings"] = int(nat["max_mappings"])

    # DNS
    records: dict[str, list[str]] = {}
    for rname, ips in dict(dns_cfg.get("records") or {}).items():
        ips = [ips] if isinstance(ips, str) else list(ips)
        records[str(rname)] = [str(_record_addr(f"dns.records[{rname!r}]", ip)) for ip in ips]
    upstream = [str(_addr(f"dns.upstream[{i}]", u)) for i, u in enumerate(dns_cfg.get("upstream") or [])]
    dns = {"enabled": dns_on and dns_ip is not None, "domain": str(dns_cfg.get("domain", "tern")),
           "records": records, "upstream": upstream, "ttl": int(dns_cfg.get("ttl", 60))}
    if "upstream_timeout" in dns_cfg:
        dns["upstream_timeout"] = _seconds_ns("dns.upstream_timeout", dns_cfg["upstream_timeout"])
    if upstream and not dns["enabled"]:
        raise GatewayConfigError("dns.upstream", "given, but the DNS server is off")

    icmp_rate = int(opts.get("icmp_rate", 100))
    icmp_burst = int(opts.get("icmp_burst", 10))
    if icmp_rate < 1 or icmp_burst < 1:
        raise GatewayConfigError("icmp_rate", f"rate {icmp_rate}/s and burst {icmp_burst} must be at least 1")
    mtu = int(opts.get("mtu", 1500))
    if not 68 <= mtu <= 9000:
        raise GatewayConfigError("mtu", f"{mtu} is outside 68..9000")

    ipv6 = _ipv6_plan(opts.get("ipv6"), outside is not None, len(segments))
    p = GatewayPlan(prof, inside, gw_ip, dns_ip, outside, outside_router, segments, dhcp, nat_out, dns, [],
                    icmp_rate, icmp_burst, mtu, segment_dhcp, ipv6,
                    [seg_mtus.get(i, mtu) for i in range(len(segments))])

    # Port forwards: our dicts, QEMU's hostfwd rules, FVP's userNetPorts.
    default_guest = dhcp["first"] if dhcp else None
    fw: list[PortForward] = []
    for i, f in enumerate(opts.get("port_forwards") or []):
        where = f"port_forwards[{i}]"
        if not isinstance(f, dict):
            raise GatewayConfigError(where, f"{f!r} is not a dict with protocol, host_port, guest, port")
        _unknown(where, f, {"protocol", "host_port", "guest", "port"})
        proto = f.get("protocol", "tcp")
        if proto not in PROTOCOLS:
            raise GatewayConfigError(where, f"protocol {proto!r} is not tcp or udp")
        fw.append(_check_forward(i, where, proto, "", f.get("host_port", 0), f.get("guest", ""), f.get("port"),
                                 p, default_guest))
    rules = opts.get("hostfwd") or []
    rules = [rules] if isinstance(rules, str) else list(rules)
    for i, rule in enumerate(rules):
        proto, ha, hp, ga, gp = parse_hostfwd(rule, i)
        fw.append(_check_forward(i, f"hostfwd[{i}]", proto, ha, hp, ga, gp, p, default_guest))
    if opts.get("user_net_ports"):
        for i, (ha, hp, ma, mp) in enumerate(parse_user_net_ports(str(opts["user_net_ports"]))):
            fw.append(_check_forward(i, f"user_net_ports[{i}]", "tcp", ha, hp, ma, mp, p, default_guest))
    seen: dict[tuple[str, int], int] = {}
    for i, f in enumerate(fw):
        if f.host_port and (f.protocol, f.host_port) in seen:
            raise GatewayConfigError(f"port_forwards[{i}]", f"{f.protocol} host port {f.host_port} already in use "
                                                            f"by port_forwards[{seen[(f.protocol, f.host_port)]}]")
        seen[(f.protocol, f.host_port)] = i
    p.forwards = fw
    return p


def _build_c_config(name: str, p: GatewayPlan, seed: int, mac: Optional[str]) -> Any:
    cfg = ffi.new("sim_gw_config *")
    lib.sim_gateway_config_default(cfg, seed)
    ports: list[tuple[list[IPv4], int, bool]] = []
    addrs = [p.gateway_ip] + ([p.dns_ip] if p.dns_ip is not None and p.dns_ip != p.gateway_ip else [])
    ports.append((addrs, p.inside.prefixlen, False))
    if p.outside is not None:
        ports.append(([p.outside.ip], p.outside.network.prefixlen, True))
    for s in p.segments:
        ports.append(([s.ip], s.network.prefixlen, False))
    first_seg = len(ports) - len(p.segments)
    cfg.nports = len(ports)
    for i, (addrs, plen, outside) in enumerate(ports):
        port = cfg.port[i]
        m = parse_mac(mac) if (mac and i == 0) else parse_mac(default_mac(f"{name}/{i}"))
        ffi.memmove(port.mac, m, 6)
        port.naddrs = len(addrs)
        for k, a in enumerate(addrs):
            port.addr[k] = int(a)
        port.prefix_len = plen
        port.mtu = p.segment_mtu[i - first_seg] if i >= first_seg and p.segment_mtu else p.mtu
        port.outside = outside
    if p.outside_router is not None:
        cfg.default_router = int(p.outside_router)
    n = p.nat
    if "ports" in n:
        cfg.nat_port_low, cfg.nat_port_high = n["ports"]
    cfg.nat_udp_timeout_ns = n.get("udp_timeout", 0)
    cfg.nat_tcp_established_ns = n.get("tcp_established_timeout", 0)
    cfg.nat_tcp_transitory_ns = n.get("tcp_transitory_timeout", 0)
    cfg.nat_icmp_timeout_ns = n.get("icmp_timeout", 0)
    cfg.nat_filtering = n["filtering"]
    cfg.nat_inbound_refresh = n["inbound_refresh"]
    cfg.nat_allow_short_timeouts = n["allow_short_timeouts"]
    cfg.nat_max_mappings = n.get("max_mappings", 0)
    cfg.icmp_rate = p.icmp_rate
    cfg.icmp_burst = p.icmp_burst
    d = p.dns
    cfg.dns = d["enabled"]
    raw = d["domain"].encode()
    if len(raw) > lib.SIM_GW_DOMAIN_MAX:
        raise GatewayConfigError("dns.domain", f"{len(raw)} bytes, at most {lib.SIM_GW_DOMAIN_MAX}")
    ffi.memmove(cfg.domain, raw, len(raw))
    cfg.dns_ttl = d["ttl"]
    if len(d["upstream"]) > lib.SIM_GW_MAX_UPSTREAMS:
        raise GatewayConfigError("dns.upstream", f"{len(d['upstream'])} servers, at most {lib.SIM_GW_MAX_UPSTREAMS}")
    for i, u in enumerate(d["upstream"]):
        cfg.upstream[i] = int(IPv4(u))
    cfg.n_upstream = len(d["upstream"])
    cfg.upstream_timeout_ns = d.get("upstream_timeout", 0)
    v6 = p.ipv6
    if v6 is not None:
        ports6 = [(v6["inside"], True)] + ([(v6["outside"], False)] if p.outside is not None else []) + \
            [(x, True) for x in v6["segments"]]
        for i, (itf, ra) in enumerate(ports6):
            ffi.memmove(cfg.port[i].addr6, itf.ip.packed, 16)
            cfg.port[i].prefix6_len = itf.network.prefixlen
            cfg.port[i].ra = ra
        if v6["outside_router"] is not None:
            ffi.memmove(cfg.default_router6, v6["outside_router"].packed, 16)
        ra = v6["ra"]
        cfg.ra_max_interval_ns = ra.get("max_interval", 0)
        cfg.ra_min_interval_ns = ra.get("min_interval", 0)
        cfg.ra_lifetime_s = ra.get("lifetime", 0)
        cfg.ra_valid_s = ra.get("valid", 0)
        cfg.ra_preferred_s = ra.get("preferred", 0)
    return cfg


_C_FIELD = re.compile(r"^gateway '[^']*' (?P<field>[^:]+): (?P<reason>.*)$", re.S)
_C_FIELD_NAMES = {"nat.udp_timeout": "nat.udp_timeout", "nat.ports": "nat.ports"}


class Gateway(Node):
    """A gateway node (see the module docs). Made by :meth:`pyharness.network.Network.gateway`."""

    kind = "gateway"

    def __init__(self, net: "Network", name: str, node_id: int, ports: int, p: GatewayPlan, macs: list[str]):
        super().__init__(net, name, node_id, ports)
        self.plan = p
        self.profile = p.profile.name
        #: node port of the first inside segment, and of the outside segment (None without one)
        self.inside_port = 0
        self.outside_port: Optional[int] = 1 if p.outside is not None else None
        self.macs = macs
        self.mac = macs[0]
        self.ip = str(p.gateway_ip)
        self.dns_ip = str(p.dns_ip) if p.dns_ip is not None else None
        self.outside_ip = str(p.outside.ip) if p.outside is not None else None
        #: the gateway's global IPv6 address on the inside and outside segments (None without IPv6)
        self.ip6 = str(p.ipv6["inside"].ip) if p.ipv6 else None
        self.outside_ip6 = str(p.ipv6["outside"].ip) if p.ipv6 and p.ipv6["outside"] else None
        self._forwards: list[PortForward] = []

    def __repr__(self) -> str:
        return f"<Gateway {self.name!r} profile={self.profile} inside={self.plan.inside} outside={self.outside_ip}>"

    def mac_of_ip(self, ip: str) -> Optional[str]:
        """The MAC of the port that owns ``ip`` (an address of the gateway), else None."""
        if ip in (self.ip, self.dns_ip):
            return self.macs[0]
        if ip == self.outside_ip:
            return self.macs[1]
        for k, seg in enumerate(self.plan.segments):
            if ip == str(seg.ip):
                return self.macs[k + 1 + (self.outside_ip is not None)]
        return None

    # -- plumbing --
    def _st(self) -> Any:
        st = lib.sim_gateway_stack(self._net._handle(), self._id)
        if st == ffi.NULL:
            raise ConfigError(f"{self.name}: not a gateway")
        return st

    def _wake(self) -> None:
        self._net._call(lib.sim_node_wake, self._id, context=f"{self.name}.wake()")

    def _check(self, rc: int, context: str) -> None:
        if rc != 0:
            raise_error(rc, ffi.string(lib.sim_last_error(self._net._handle())).decode(errors="replace"),
                        f"{self.name}.{context}")

    # -- DHCP --
    def segment_port(self, index: int) -> int:
        """The node port of extra segment ``index`` (of ``segments``)."""
        return index + 1 + (self.outside_ip is not None)

    def _dhcp_start(self, d: dict[str, Any], port: int = 0, where: str = "dhcp") -> None:
        from .dhcp import server_config

        opts = {k: v for k, v in d.items() if k in ("ranges", "lease", "router", "dns", "t1", "t2", "mtu",
                                                    "offer_hold", "reservations", "server_ip", "subnet_mask")}
        opts["iface"] = port
        cfg = server_config(f"{self.name}.{where}", opts)
        rc = lib.tern_dhcp_server_start(self._st(), cfg)
        if rc != 0:
            raise_error(rc, ffi.string(lib.tern_stack_last_error(self._st())).decode(), f"{self.name}.{where}")
        self._wake()

    def leases(self, port: Optional[int] = None) -> list[dict[str, Any]]:
        """The DHCP lease tables now: state, address, mac, client_id, expires_at (ns, None: never), hostname and
        port (the segment's node port), server by server; ``port`` keeps one segment's."""
        from .dhcp import server_leases

        if self.plan.dhcp is None and not any(self.plan.segment_dhcp):
            return []
        rows = server_leases(self)  # type: ignore[arg-type]  (it needs _st, _check and _net)
        for row in rows:
            row["port"] = row.pop("iface")
        if port is not None:
            rows = [r for r in rows if r["port"] == port]
        buf = ffi.new("char[64]")
        for row in rows:
            rc = lib.sim_gateway_hostname(self._net._handle(), self._id, parse_mac(row["mac"]), buf, 64)
            row["hostname"] = ffi.string(buf).decode() if rc == 0 else None
        return rows

    def dhcp_counters(self, port: Optional[int] = None) -> dict[str, int]:
        """The DHCP servers' counters (discovers, offers, acks, naks, ...): of the server on node port ``port``,
        or summed over all."""
        from .dhcp import server_counters

        return server_counters(self, port)  # type: ignore[arg-type]

    # -- NAT --
    def nat_table(self) -> list[NatMapping]:
        """The live NAT mappings at the current virtual time, oldest first."""
        n = ffi.new("uint32_t *")
        self._check(lib.sim_gateway_nat_table(self._net._handle(), self._id, ffi.NULL, 0, n), "nat_table()")
        cap = int(n[0])
        if cap == 0:
            return []
        out = ffi.new("sim_gw_nat_entry[]", cap)
        self._check(lib.sim_gateway_nat_table(self._net._handle(), self._id, out, cap, n), "nat_table()")
        now = self._net.now_ns
        rows = []
        for i in range(min(cap, int(n[0]))):
            e = out[i]
            sessions = [NatSession(str(IPv4(int(s.remote_addr))), int(s.remote_port), TCP_STATES[int(s.tcp_state)],
                                   int(s.expires_at), int(s.packets_out), int(s.packets_in))
                        for s in (e.sessions[k] for k in range(int(e.nsessions))) if int(s.expires_at) > now]
            rows.append(NatMapping(PROTO_NAMES.get(int(e.protocol), str(e.protocol)), str(IPv4(int(e.inside_addr))),
                                   int(e.inside_port), str(IPv4(int(e.outside_addr))), int(e.outside_port),
                                   bool(e.forward), int(e.created_at),
                                   None if e.expires_at == lib.SIM_NEVER else int(e.expires_at), sessions))
        return rows

    def forward(self, protocol: str, host_port: int = 0, guest: Optional[str] = None, port: Optional[int] = None) -> int:
        """Forward ``protocol`` ("tcp"/"udp") arriving at the outside address on ``host_port`` to ``guest``:``port``.

        ``host_port=0`` takes the first free port of the NAT range; the port used is returned.
        ``guest`` defaults to the profile's first lease. Raises :class:`GatewayConfigError`
        (``forward.host_port``: already in use ...).
        """
        if protocol not in PROTOCOLS:
            raise GatewayConfigError("forward.protocol", f"{protocol!r} is not tcp or udp")
        if port is None:
            raise GatewayConfigError("forward.port", "the guest port is missing")
        default_guest = self.plan.dhcp["first"] if self.plan.dhcp else None
        f = _check_forward(0, "forward", protocol, "", host_port, guest or "", port, self.plan, default_guest)
        s = self._net._handle()
        proto = PROTOCOLS[protocol]
        if f.host_port:
            rc = lib.sim_gateway_forward_add(s, self._id, proto, f.host_port, int(IPv4(f.guest)), f.port)
            if rc == lib.TERN_ERR_ADDR_IN_USE:
                raise GatewayConfigError("forward.host_port", ffi.string(lib.sim_last_error(s)).decode())
            self._check(rc, f"forward({protocol!r}, {host_port})")
            used = f.host_port
        else:
            lo, hi = self.plan.nat.get("ports", (1024, 60999))
            for cand in range(lo, hi + 1):
                rc = lib.sim_gateway_forward_add(s, self._id, proto, cand, int(IPv4(f.guest)), f.port)
                if rc != lib.TERN_ERR_ADDR_IN_USE:
                    break
            self._check(rc, f"forward({protocol!r}, 0)")
            used = cand
        self._forwards.append(PortForward(protocol, used, f.guest, f.port))
        return used

    def unforward(self, protocol: str, host_port: int) -> None:
        """Remove a port forward."""
        self._check(lib.sim_gateway_forward_del(self._net._handle(), self._id, PROTOCOLS[protocol], host_port),
                    f"unforward({protocol!r}, {host_port})")
        self._forwards = [f for f in self._forwards if (f.protocol, f.host_port) != (protocol, host_port)]

    @property
    def forwards(self) -> list[PortForward]:
        """The port forwards in place."""
        return list(self._forwards)

    # -- DNS --
    def dns_add(self, name: str, ip: str, ttl: int = 60) -> None:
        """Add a user record ``name`` -> ``ip``: an A record for an IPv4 address, AAAA (RFC 3596) for IPv6."""
        a = _record_addr("dns.records", ip)
        if a.version == 6:
            self._check(lib.sim_gateway_dns_add6(self._net._handle(), self._id, name.encode(), a.packed, ttl),
                        f"dns_add({name!r})")
            return
        self._check(lib.sim_gateway_dns_add(self._net._handle(), self._id, name.encode(), int(a), ttl),
                    f"dns_add({name!r})")

    def dns_lookup(self, name: str) -> Optional[list[str]]:
        """What the DNS server answers locally for ``name`` now: addresses, or None when it would forward."""
        out = ffi.new("uint32_t[16]")
        n = ffi.new("uint32_t *")
        rc = lib.sim_gateway_dns_lookup(self._net._handle(), self._id, name.encode(), out, 16, n)
        if rc == lib.TERN_ERR_EMPTY:
            return None
        self._check(rc, f"dns_lookup({name!r})")
        return [str(IPv4(int(out[i]))) for i in range(min(16, int(n[0])))]

    def dns_lookup6(self, name: str) -> Optional[list[str]]:
        """What the DNS server answers locally to an AAAA query of ``name`` now: addresses, or None when it
        would forward."""
        out = ffi.new("uint8_t[8][16]")
        n = ffi.new("uint32_t *")
        rc = lib.sim_gateway_dns_lookup6(self._net._handle(), self._id, name.encode(), out, 8, n)
        if rc == lib.TERN_ERR_EMPTY:
            return None
        self._check(rc, f"dns_lookup6({name!r})")
        return [str(ipaddress.IPv6Address(bytes(ffi.buffer(out[i], 16)))) for i in range(min(8, int(n[0])))]

    def dns_cache(self) -> list[dict[str, Any]]:
        """The forwarder's cache now, oldest first: name, qtype, rcode, ancount, stored_at, expires_at (ns), hits."""
        n = ffi.new("uint32_t *")
        cap = lib.SIM_GW_DNS_CACHE
        out = ffi.new("sim_gw_dns_cache_entry[]", cap)
        self._check(lib.sim_gateway_dns_cache(self._net._handle(), self._id, out, cap, n), "dns_cache()")
        return [{"name": ffi.string(e.name).decode(), "qtype": int(e.qtype), "rcode": int(e.rcode),
                 "ancount": int(e.ancount), "stored_at": int(e.stored_at), "expires_at": int(e.expires_at),
                 "hits": int(e.hits)} for e in (out[i] for i in range(min(cap, int(n[0]))))]

    # -- IPv6 --
    def ra_state(self, port: int = 0) -> dict[str, Any]:
        """The Router Advertisement schedule of node port ``port`` now: enabled, next_at, last_at (ns; None: never),
        sent, solicited, rs_received, final_left (final RAs still to send after ra_stop)."""
        out = ffi.new("sim_gw_ra_state *")
        self._check(lib.sim_gateway_ra_state(self._net._handle(), self._id, port, out), f"ra_state({port})")

        def t(v: int) -> Optional[int]:
            return None if v == lib.SIM_NEVER else int(v)

        return {"enabled": bool(out.enabled), "next_at": t(out.next_at), "last_at": t(out.last_at),
                "sent": int(out.sent), "solicited": int(out.solicited), "rs_received": int(out.rs_received),
                "final_left": int(out.final_left)}

    def ra_stop(self, port: Optional[int] = None) -> None:
        """Stop advertising on node port ``port`` (None: every advertising port, the gateway shutting down): the
        final RAs of RFC 4861 6.2.5 (Router Lifetime 0), three of them 3 s apart, then silence (no RA, no answer to an
        RS)."""
        p = lib.SIM_GW_ALL_PORTS if port is None else port
        self._check(lib.sim_gateway_ra_stop(self._net._handle(), self._id, p), f"ra_stop({port})")

    # -- introspection --
    def transcript(self, path: Union[str, "os.PathLike[str]", None] = None) -> list[str]:
        """The decoded transcript: one line per DHCP, DNS and ICMP message the gateway received or sent.

        Each line is ``<s>.<ns> <in|out> p<port> <message>`` (format in tern/sim_gateway.h), e.g.
        ``0.001000000 in p0 DHCP DISCOVER xid 0x1a2b3c4d chaddr 02:00:00:00:00:01 0.0.0.0:68 >
        255.255.255.255:67``. With ``path`` the text is also written to that file.
        """
        s = self._net._handle()
        n = ffi.new("size_t *")
        rc = lib.sim_gateway_transcript(s, self._id, ffi.NULL, 0, n)
        if rc != lib.TERN_ERR_BUFFER_TOO_SMALL:
            self._check(rc, "transcript()")
        buf = ffi.new("char[]", int(n[0]) + 1)
        self._check(lib.sim_gateway_transcript(s, self._id, buf, int(n[0]) + 1, n), "transcript()")
        text = ffi.string(buf, int(n[0])).decode(errors="replace")
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return text.splitlines()

    def counters(self) -> dict[str, int]:
        """The gateway's NAT and DNS counters (sim_gw_counters)."""
        c = ffi.new("sim_gw_counters *")
        self._check(lib.sim_gateway_get_counters(self._net._handle(), self._id, c), "counters()")
        return {name: int(getattr(c, name)) for name, _ in ffi.typeof("sim_gw_counters").fields}

    def stack_counters(self) -> Any:
        """The counters of the stack inside (ARP, IPv4 forwarding, ICMP errors sent and rate-limited...)."""
        from .host import _counters_class

        out = ffi.new("tern_counters *")
        lib.tern_stack_get_counters(self._st(), out)
        cls = _counters_class()
        return cls(**{n: int(getattr(out, n)) for n, _ in ffi.typeof("tern_counters").fields})

    def arp_table(self, ips: Iterable[str]) -> dict[str, Optional[str]]:
        """The gateway's ARP cache entries for ``ips`` (None: not resolved)."""
        out = {}
        mac = ffi.new("uint8_t[6]")
        for ip in ips:
            a = ffi.new("tern_addr *")
            a.family = lib.TERN_AF_INET
            ffi.memmove(a.bytes, _addr("ip", ip).packed, 4)
            rc = lib.tern_arp_lookup(self._st(), self._net.now_ns, a, mac)
            out[ip] = format_mac(bytes(ffi.buffer(mac, 6))) if rc == 0 else None
        return out


def make_gateway(net: "Network", name: str, profile: str = "fvp", **opts: Any) -> Gateway:
    """Build a gateway on ``net`` (see :func:`plan` for the keys); ``Network.gateway`` calls this."""
    p = plan(name, profile, **opts)
    seed = opts.get("seed")
    if seed is None:
        seed = int.from_bytes(hashlib.sha256(f"{net.seed}\0gateway\0{name}".encode()).digest()[:8], "big")
    mac = opts.get("mac")
    cfg = _build_c_config(name, p, seed, mac)
    out = ffi.new("sim_node_id *")
    s = net._handle()
    rc = lib.sim_gateway_add(s, name.encode(), cfg, out)
    if rc != 0:
        msg = ffi.string(lib.sim_last_error(s)).decode(errors="replace")
        m = _C_FIELD.match(msg)
        if rc == lib.TERN_ERR_INVALID_ARGUMENT and m:
            fname = m["field"]
            if fname.startswith("ra.") or fname == "default_router6":
                fname = "ipv6." + ("outside_router" if fname == "default_router6" else fname)
            raise GatewayConfigError(fname, m["reason"])
        raise_error(rc, msg, f"gateway({name!r})")
    macs = [format_mac(bytes(cfg.port[i].mac)) for i in range(cfg.nports)]
    gw = Gateway(net, name, int(out[0]), int(cfg.nports), p, macs)
    for rname, ips in p.dns["records"].items():
        for ip in ips:
            gw.dns_add(rname, ip, p.dns["ttl"])
    if p.dhcp is not None:
        gw._dhcp_start(p.dhcp)
    for i, d in enumerate(p.segment_dhcp):
        if d is not None:
            gw._dhcp_start(d, gw.segment_port(i), f"segments[{i}].dhcp")
    for f in p.forwards:
        gw.forward(f.protocol, f.host_port, f.guest, f.port)
    return gw


__all__ = ["Gateway", "GatewayConfigError", "GatewayPlan", "NatMapping", "NatSession", "PortForward", "PROFILES",
           "Profile", "make_gateway", "parse_hostfwd", "parse_user_net_ports", "plan"]
