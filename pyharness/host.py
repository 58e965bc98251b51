"""Hosts: a Tern stack instance as a node, with its configuration, sockets and counters.

>>> dut = net.host("dut", ipv4="10.0.0.1/24", gateway="10.0.0.254", tcp={"sack": True})
>>> s = dut.udp_socket(port=7)
>>> s.sendto(b"hi", ("10.0.0.2", 9))

Every socket call is followed by a wake of the host node, so the simulator
asks the stack for its next deadline again (the stack queues; it sends on its
next poll, at the current virtual time).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, fields, make_dataclass
from typing import TYPE_CHECKING, Any, Iterable, Optional, Union

from ._lib import ffi, lib
from .errors import ConfigError, StateError, raise_error
from .nodes import Node, format_mac
from .sockets import PacketSocket, PingSocket, TcpSocket, UdpSocket
from .units import parse_count, parse_size, parse_time
from .validate import check_port
from .errors import hide_from_traceback as __tracebackhide__  # noqa: F401  (pytest shows the test's line, not ours)

if TYPE_CHECKING:
    from .network import Network

#: tern_tcp_config fields that are times (ns in C, time units in Python).
_TCP_TIMES = ("rto_min", "rto_max", "rto_initial", "delack", "msl", "fin_wait2_timeout", "keepalive_idle",
              "keepalive_interval", "invalid_ack_interval")
_TCP_SIZES = ("rx_buffer", "tx_buffer")
_TCP_COUNTS = ("backlog_max", "ooo_max_holes", "lend_extents", "bbr_sockets", "syn_retries", "data_retries", "initial_window",
               "keepalive_count", "challenge_ack_limit")
_TCP_BOOLS = ("sack", "timestamps", "window_scaling", "tail_loss_probe", "dsack", "rack", "abc_l2")
#: Stack-wide keywords of Network.host, with their C field.
_STACK_COUNTS = ("arp_entries", "arp_queue", "routes", "reasm_slots", "packet_buffers", "udp_sockets", "udp_queue",
                 "ping_sockets", "tcp_sockets", "tcp_timewait", "arp_retries", "icmp_rate", "icmp_burst", "ttl",
                 "ephemeral_low", "ephemeral_high", "nd_entries", "nd_queue", "packet_sockets", "packet_queue",
                 "packet_snaplen", "dns_queries", "dns_cache")
_STACK_TIMES = ("arp_timeout", "arp_retry", "reasm_timeout")
_STACK_SIZES = ("reasm_max_bytes",)
HOST_OPTIONS = (*_STACK_COUNTS, *_STACK_TIMES, *_STACK_SIZES, "slaac", "dad", "dad_transmits", "stable_iid",
                "ipv6_secret", "temporary_addresses", "temp_valid_lifetime", "temp_preferred_lifetime",
                "prefer_public")
TCP_OPTIONS = (*_TCP_TIMES, *_TCP_SIZES, *_TCP_COUNTS, *_TCP_BOOLS, "congestion")


_PACKED: dict[str, bytes] = {}
_TEXT: dict[bytes, str] = {}


def make_addr(ip: str, name: str = "address") -> Any:
    """A ``tern_addr *`` for an IPv4 or IPv6 address string ("10.0.0.1", "fd00::1").

    An IPv4-mapped IPv6 address (``::ffff:10.0.0.1``, RFC 4291 §2.5.5.2) is passed as written: the
    stack's socket calls take it for the IPv4 address it maps.
    """
    packed = _PACKED.get(ip) if type(ip) is str else None
    if packed is None:
        try:
            packed = ipaddress.ip_address(ip).packed
        except (ValueError, TypeError):
            raise ConfigError(f"{name}: not an IPv4 or IPv6 address: {ip!r}") from None
        if type(ip) is str and len(_PACKED) < 4096:
            _PACKED[ip] = packed
    a = ffi.new("tern_addr *")
    a.family = lib.TERN_AF_INET if len(packed) == 4 else lib.TERN_AF_INET6
    ffi.memmove(a.bytes, packed, len(packed))
    return a


def addr_text(a: Any) -> Optional[str]:
    """The text of a ``tern_addr`` (None for an unset one)."""
    if a.family == lib.TERN_AF_INET:
        raw = bytes(ffi.buffer(a.bytes, 4))
        text = _TEXT.get(raw)
        if text is None:
            text = "%d.%d.%d.%d" % tuple(raw)
            if len(_TEXT) < 4096:
                _TEXT[raw] = text
        return text
    if a.family == lib.TERN_AF_INET6:
        return str(ipaddress.IPv6Address(bytes(ffi.buffer(a.bytes, 16))))
    return None


def _iface(value: Union[str, Iterable[str], None], name: str) -> list[tuple[str, int]]:
    """Addresses with prefixes: ``name`` "ipv4" ("10.0.0.1/24") or "ipv6" ("fd00::1/64"; no prefix: /128)."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    kind = ipaddress.IPv6Interface if name == "ipv6" else ipaddress.IPv4Interface
    out = []
    for v in items:
        try:
            iface = kind(v)
        except (ValueError, TypeError):
            what = "IPv6" if name == "ipv6" else "IPv4"
            raise ConfigError(f"{name}: not an {what} address with a prefix: {v!r}") from None
        if name == "ipv6" and (iface.ip.is_multicast or iface.ip.is_unspecified):
            raise ConfigError(f"{name}: an interface address must be unicast: {v!r}")
        out.append((str(iface.ip), int(iface.network.prefixlen)))
    return out


def _prefix(value: str, name: str) -> tuple[str, int]:
    try:
        n = ipaddress.ip_network(value, strict=False)
    except (ValueError, TypeError):
        raise ConfigError(f"{name}: not an IPv4 or IPv6 prefix like '10.1.0.0/16' or 'fd00:1::/64': "
                          f"{value!r}") from None
    return str(n.network_address), int(n.prefixlen)


#: IPv6 neighbour cache states (RFC 4861 section 7.3.2), as :meth:`Host.nd_lookup` names them.
ND_STATES = ("NONE", "INCOMPLETE", "REACHABLE", "STALE", "DELAY", "PROBE")


_counters_cls: Any = None


def _counters_class() -> Any:
    global _counters_cls
    if _counters_cls is None:
        names = [n for n, _ in ffi.typeof("tern_counters").fields]
        _counters_cls = make_dataclass("HostCounters", [(n, int) for n in names], frozen=True)
        _counters_cls.__doc__ = "The stack's counters (tern_counters): frames, ARP, IPv4, ICMP, UDP, TCP, resources."
    return _counters_cls


@dataclass(frozen=True)
class Interface:
    """One configured interface of a host."""

    mac: str
    addresses: tuple[tuple[str, int], ...]
    mtu: int
    accept_vlan: bool = False


class Host(Node):
    """A Tern stack host. Interface ``i`` is node port ``i``.

    Create it with :meth:`Network.host`. Configuration changes at run time:
    :meth:`add_route`, :meth:`del_route`, :meth:`add_address`,
    :meth:`del_address`, :meth:`set_mtu`, :attr:`forwarding`.
    """

    kind = "host"

    def __init__(self, net: "Network", name: str, node_id: int, ifaces: list[Interface], forwarding: bool):
        super().__init__(net, name, node_id, len(ifaces))
        self.interfaces = ifaces
        self._forwarding = forwarding
        self._cached_stack: Any = None

    def __repr__(self) -> str:
        addrs = ", ".join(f"{a}/{p}" for i in self.interfaces for a, p in i.addresses)
        return f"<Host {self.name!r} {addrs}>"

    @property
    def mac(self) -> str:
        """The MAC of interface 0."""
        return self.interfaces[0].mac

    @property
    def ip(self) -> Optional[str]:
        """The first IPv4 address of interface 0 (None if it has none)."""
        addrs = [a for a, _ in self.interfaces[0].addresses if ":" not in a]
        return addrs[0] if addrs else None

    @property
    def ip6(self) -> Optional[str]:
        """The first static IPv6 address of interface 0 (None if it has none; see :attr:`link_local`)."""
        addrs = [a for a, _ in self.interfaces[0].addresses if ":" in a]
        return addrs[0] if addrs else None

    # -- plumbing ---------------------------------------------------------------

    def _st(self) -> Any:
        self._net._handle()
        if self._cached_stack is None:
            st = lib.sim_host_stack(self._net._sim, self._id)
            if st == ffi.NULL:
                raise StateError(f"host {self.name!r}: no stack instance")
            self._cached_stack = st
        return self._cached_stack

    def _wake(self) -> None:
        rc = lib.sim_node_wake(self._net._sim, self._id)
        if rc != 0:
            raise_error(rc, context=f"{self.name}: wake")

    def _check(self, rc: int, context: str) -> None:
        if rc != 0:
            msg = ffi.string(lib.tern_stack_last_error(self._st())).decode(errors="replace")
            raise_error(rc, msg if rc == lib.TERN_ERR_INVALID_ARGUMENT else "", f"{self.name}.{context}")

    def _fn(self, name: str) -> Any:
        fn = getattr(lib, name, None)
        if fn is None:
            raise StateError(f"{self.name}: {name}() is not in this build of the stack yet")
        return fn

    # -- DHCPv6 client (pyharness/dhcpv6.py) --------------------------------------

    def dhcpv6_start(self, mode: Any = "stateful", iface: int = 0, iaid: int = 0) -> None:
        """Start the DHCPv6 client on ``iface`` now: ``mode`` "stateful", "stateless" or "ra"."""
        from .dhcpv6 import client_config

        cfg = client_config(f"{self.name}.dhcpv6_start()", mode, iaid)
        self._check(lib.tern_dhcpv6_start(self._st(), iface, self._net.now_ns, cfg),
                    f"dhcpv6_start(iface={iface})")
        self._wake()

    def dhcpv6_stop(self, iface: int = 0) -> None:
        """Stop the DHCPv6 client on ``iface`` (a Release goes out when an address is held)."""
        self._check(lib.tern_dhcpv6_stop(self._st(), iface, self._net.now_ns), f"dhcpv6_stop(iface={iface})")
        self._wake()

    def dhcpv6_lease(self, iface: int = 0) -> Any:
        """The DHCPv6 client's state and lease on ``iface`` (a :class:`pyharness.dhcpv6.Dhcpv6Lease`)."""
        from .dhcpv6 import lease_of

        return lease_of(self, iface)

    def dhcpv6_events(self, iface: int = 0) -> list:
        """Take the DHCPv6 client's pending events (:class:`pyharness.dhcpv6.Dhcpv6Event`, oldest first)."""
        from .dhcpv6 import events_of

        return events_of(self, iface)

    # -- DHCPv4 client (pyharness/dhcp.py) ----------------------------------------

    def dhcp_start(self, iface: int = 0, **options: Any) -> None:
        """Start the DHCPv4 client on ``iface`` now (``hostname``, ``client_id``, ``previous_address``, ``probe``)."""
        from .dhcp import client_config

        cfg = client_config(f"{self.name}.dhcp_start()", options)
        self._check(lib.tern_dhcp_start(self._st(), iface, self._net.now_ns, cfg), f"dhcp_start(iface={iface})")
        self._wake()

    def dhcp_release(self, iface: int = 0) -> None:
        """Release the lease (DHCPRELEASE) and stop the client on ``iface``."""
        self._check(lib.tern_dhcp_release(self._st(), iface, self._net.now_ns), f"dhcp_release(iface={iface})")
        self._wake()

    def dhcp_lease(self, iface: int = 0) -> Any:
        """The client's state and lease on ``iface`` (a :class:`pyharness.dhcp.DhcpLease`)."""
        from .dhcp import lease_of

        return lease_of(self, iface)

    def dhcp_events(self, iface: int = 0) -> list:
        """Take the client's pending events on ``iface`` (:class:`pyharness.dhcp.DhcpEvent`, oldest first)."""
        from .dhcp import events_of

        return events_of(self, iface)

    def dhcp_server_start(self, **options: Any) -> None:
        """Start the DHCPv4 server (options: see :func:`pyharness.dhcp.server_config`)."""
        from .dhcp import server_config

        cfg = server_config(f"{self.name}.dhcp_server_start()", options)
        self._check(lib.tern_dhcp_server_start(self._st(), cfg), "dhcp_server_start()")
        self._wake()

    def dhcp_server_leases(self) -> list:
        """The DHCP server's leases in use (dicts: state, address, mac, client_id, expires_at)."""
        from .dhcp import server_leases

        return server_leases(self)

    def dhcp_server_counters(self) -> dict:
        """The DHCP server's counters."""
        from .dhcp import server_counters

        return server_counters(self)

    # -- DNS resolver (pyharness/dns.py) -------------------------------------------

    def resolve(self, name: str, within: Any = "60s", family: int = 4) -> list:
        """Resolve ``name`` to IPv4 addresses (``family=6``: IPv6 addresses from AAAA records, RFC 3596),
        running virtual time (at most ``within``).

        Raises :class:`pyharness.dns.ResolveError` (with ``.answer``) when the name does not resolve;
        :meth:`resolve_answer` returns the whole answer instead.
        """
        from .dns import ResolveError, resolve

        a = resolve(self, name, within, family)
        if a.status != "ok":
            raise ResolveError(f"{self.name}.resolve({name!r}): {a.status}", a)
        return a.addresses

    def resolve_answer(self, name: str, within: Any = "60s", family: int = 4) -> Any:
        """Resolve ``name`` (``family`` 4: A, 6: AAAA) and return the :class:`pyharness.dns.DnsAnswer`
        whatever its status."""
        from .dns import resolve

        return resolve(self, name, within, family)

    def dns_counters(self) -> dict:
        """The DNS resolver's counters."""
        from .dns import counters

        return counters(self)

    # -- mDNS responder (pyharness/mdns.py) -----------------------------------------

    def mdns_start(self, label: str, iface: int = 0) -> None:
        """Claim ``<label>.local`` on ``iface`` with mDNS (probe, announce, answer; RFC 6762)."""
        self._check(lib.tern_mdns_start(self._st(), iface, label.encode(), self._net.now_ns),
                    f"mdns_start({label!r})")
        self._wake()

    def mdns_add_service(self, instance: str, type: str, port: int, txt: Any = None) -> None:
        """Register a DNS-SD service instance ``<instance>.<type>.local`` (RFC 6763) on the responder.

        ``type`` is like "_http._tcp"; ``txt`` a dict (``key=value`` strings), a list of strings,
        or the raw TXT bytes (see :func:`pyharness.mdns.txt_bytes`).
        """
        from .mdns import txt_bytes

        data = txt_bytes(txt)
        self._check(lib.tern_mdns_add_service(self._st(), instance.encode(), type.encode(), port, data, len(data),
                                              self._net.now_ns), f"mdns_add_service({instance!r}, {type!r})")
        self._wake()

    def mdns_stop(self) -> None:
        """Stop the mDNS responder."""
        self._check(lib.tern_mdns_stop(self._st()), "mdns_stop()")
        self._wake()

    def mdns_info(self) -> Any:
        """The responder's state, name and counters (:class:`pyharness.mdns.MdnsInfo`)."""
        from .mdns import info_of

        return info_of(self)

    # -- IGMP (pyharness/igmp.py) ---------------------------------------------------

    def igmp_set_version(self, version: int, iface: int = 0) -> None:
        """Run IGMPv2 or IGMPv3 (the default) on ``iface``."""
        self._check(lib.tern_igmp_set_version(self._st(), iface, version), f"igmp_set_version({version})")
        self._wake()

    def igmp_state(self, iface: int = 0) -> Any:
        """The interface's IGMP state (:class:`pyharness.igmp.IgmpState`: mode, robustness...)."""
        from .igmp import state_of

        return state_of(self, iface)

    def igmp_groups(self, iface: int = 0) -> list:
        """The groups ``iface`` is a member of (224.0.0.1 not listed), in the order joined."""
        from .igmp import groups_of

        return groups_of(self, iface)

    def igmp_counters(self) -> dict:
        """The host's IGMP counters."""
        from .igmp import counters

        return counters(self)

    # -- counters -----------------------------------------------------------------

    def counters(self) -> Any:
        """The stack's counters, as a frozen dataclass (``HostCounters``)."""
        out = ffi.new("tern_counters *")
        lib.tern_stack_get_counters(self._st(), out)
        cls = _counters_class()
        return cls(**{f.name: int(getattr(out, f.name)) for f in fields(cls)})

    # -- run-time configuration ---------------------------------------------------

    def add_route(self, prefix: str, gateway: Optional[str] = None, iface: int = 0) -> None:
        """Route ``prefix`` ("10.1.0.0/16", "0.0.0.0/0", "fd00:9::/64", "::/0") via ``gateway`` (None:
        on-link) out of ``iface``. An IPv6 gateway should be the router's link-local address."""
        dst, plen = _prefix(prefix, "prefix")
        gw = make_addr(gateway, "gateway") if gateway is not None else ffi.new("tern_addr *")
        self._check(lib.tern_route_add(self._st(), make_addr(dst), plen, gw, iface),
                    f"add_route({prefix!r}, gateway={gateway!r}, iface={iface})")
        self._wake()

    def del_route(self, prefix: str) -> None:
        """Remove the route for ``prefix``."""
        dst, plen = _prefix(prefix, "prefix")
        self._check(lib.tern_route_del(self._st(), make_addr(dst), plen), f"del_route({prefix!r})")
        self._wake()

    def add_address(self, ipv4: str, iface: int = 0) -> None:
        """Add an address ("10.0.0.5/24", or IPv6 "fd00::5/64") to an interface."""
        ((ip, plen),) = _iface(ipv4, "ipv6" if ":" in ipv4 else "ipv4")
        self._check(lib.tern_iface_add_addr(self._st(), iface, make_addr(ip), plen), f"add_address({ipv4!r})")
        self._net._ip_owner.setdefault(ip, self)
        self._wake()

    def ipv6_addresses(self, iface: int = 0) -> list[tuple[str, int, str]]:
        """The interface's IPv6 addresses as ``(address, prefix_len, state)``, the link-local one first;
        state is "preferred", "tentative" or "deprecated"."""
        out = []
        a = ffi.new("tern_addr *")
        plen = ffi.new("uint8_t *")
        state = ffi.new("int *")
        i = 0
        while True:
            rc = lib.tern_iface_ipv6_addr(self._st(), iface, i, a, plen, state)
            if rc == lib.TERN_ERR_EMPTY:
                return out
            self._check(rc, f"ipv6_addresses(iface={iface})")
            out.append((addr_text(a), int(plen[0]), ("preferred", "tentative", "deprecated")[state[0]]))
            i += 1

    @property
    def link_local(self) -> str:
        """The link-local IPv6 address of interface 0 (fe80:: + the modified EUI-64 of its MAC)."""
        return self.ipv6_addresses(0)[0][0]

    def nd_params(self, iface: int = 0) -> tuple[int, int, int]:
        """The interface's Neighbor Discovery variables (RFC 4861 section 6.3.2):
        ``(ReachableTime ns, RetransTimer ns, CurHopLimit)``; ReachableTime is the seeded random draw."""
        r = ffi.new("uint64_t *")
        t = ffi.new("uint64_t *")
        h = ffi.new("uint8_t *")
        self._check(lib.tern_nd_iface_params(self._st(), iface, r, t, h), f"nd_params(iface={iface})")
        return int(r[0]), int(t[0]), int(h[0])

    def nd_lookup(self, ip: str) -> tuple[Optional[str], str]:
        """The IPv6 neighbour cache entry for ``ip``: ``(MAC or None, state)``, state one of
        :data:`ND_STATES` ("NONE" when there is no entry)."""
        mac = ffi.new("uint8_t[6]")
        state = ffi.new("int *")
        rc = lib.tern_nd_lookup(self._st(), make_addr(ip, "ip"), mac, state)
        st = ND_STATES[state[0]]
        return (format_mac(bytes(mac)) if rc == 0 else None), st

    def join_group(self, group: str, iface: int = 0) -> None:
        """Listen to the IPv6 multicast ``group`` on ``iface`` (reference counted); with IPv6
        autoconfiguration on, the MLDv2 listener reports it (RFC 3810 section 6.1)."""
        self._check(lib.tern_ipv6_join_group(self._st(), iface, make_addr(group, "group")),
                    f"join_group({group!r})")
        self._wake()

    def leave_group(self, group: str, iface: int = 0) -> None:
        """Stop listening to ``group`` (the last leave is reported)."""
        self._check(lib.tern_ipv6_leave_group(self._st(), iface, make_addr(group, "group")),
                    f"leave_group({group!r})")
        self._wake()

    def del_address(self, ip: str, iface: int = 0) -> None:
        """Remove an address (without prefix) from an interface."""
        self._check(lib.tern_iface_del_addr(self._st(), iface, make_addr(ip.split("/")[0])), f"del_address({ip!r})")
        self._wake()

    def set_mtu(self, mtu: int, iface: int = 0) -> None:
        """Change an interface's IP MTU (68..9000)."""
        self._check(lib.tern_iface_set_mtu(self._st(), iface, parse_count(mtu, "mtu")), f"set_mtu({mtu!r})")
        self._wake()

    @property
    def forwarding(self) -> bool:
        """IPv4 forwarding between interfaces (settable at run time)."""
        return self._forwarding

    @forwarding.setter
    def forwarding(self, on: bool) -> None:
        lib.tern_stack_set_forwarding(self._st(), bool(on))
        self._forwarding = bool(on)
        self._wake()

    def arp_lookup(self, ip: str) -> Optional[str]:
        """The MAC the host has cached for ``ip``, or None."""
        mac = ffi.new("uint8_t[6]")
        rc = lib.tern_arp_lookup(self._st(), self._net.now_ns, make_addr(ip), mac)
        if rc == lib.TERN_ERR_EMPTY:
            return None
        self._check(rc, f"arp_lookup({ip!r})")
        return format_mac(bytes(mac))

    # -- sockets ---------------------------------------------------------------------

    def udp_socket(self, port: Optional[int] = None, addr: Optional[str] = None) -> UdpSocket:
        """A UDP socket, bound to ``port`` (0: ephemeral) if given."""
        if port is not None:
            check_port(port)
        out = ffi.new("tern_sock *")
        self._check(lib.tern_udp_open(self._st(), out), "udp_socket()")
        s = UdpSocket(self, int(out[0]))
        if port is not None:
            s.bind(port, addr)
        return s

    def shell(self, command: Optional[str] = None) -> Any:
        """The network shell of this host (:class:`pyharness.shell.NetShell`), or with ``command``
        its answer to that command line (the examples' ``--shell`` commands and formats; ``ping``
        and ``dns`` run the network)."""
        from .shell import NetShell

        sh = NetShell(self)
        return sh if command is None else sh.run(command)

    def packet_socket(self, iface: Optional[int] = None, ethertype: int = 0) -> PacketSocket:
        """A packet socket (:class:`pyharness.sockets.PacketSocket`) seeing the frames of
        interface ``iface`` (None: every one) of EtherType ``ethertype`` (0: all). The host needs
        ``packet_sockets=N`` among its options."""
        out = ffi.new("tern_sock *")
        where = lib.TERN_PACKET_ANY_IFACE if iface is None else iface
        self._check(lib.tern_packet_open(self._st(), where, ethertype, out),
                    f"packet_socket(iface={iface}, ethertype={ethertype:#06x})")
        return PacketSocket(self, int(out[0]))

    def ping_socket(self, ident: int = 1) -> PingSocket:
        """An ICMP echo socket with identifier ``ident``."""
        out = ffi.new("tern_sock *")
        self._check(lib.tern_ping_open(self._st(), ident, out), f"ping_socket({ident})")
        return PingSocket(self, int(out[0]))

    def tcp_socket(self, **options: Any) -> TcpSocket:
        """A TCP socket; keywords are socket options (see :meth:`TcpSocket.set_option`)."""
        out = ffi.new("tern_sock *")
        self._check(self._fn("tern_tcp_open")(self._st(), out), "tcp_socket()")
        s = TcpSocket(self, int(out[0]))
        for k, v in options.items():
            s.set_option(k, v)
        return s

    def tcp_connect(self, ip: str, port: int, local_port: int = 0, **options: Any) -> TcpSocket:
        """Open a TCP socket and start connecting to ``ip:port`` (the SYN leaves on the next poll)."""
        check_port(port, allow_zero=False)
        check_port(local_port, "local_port")
        make_addr(ip, "ip")
        s = self.tcp_socket(**options)
        if local_port:
            s.bind(local_port)
        s.connect(ip, port)
        return s

    def tcp_listen(self, port: int, backlog: int = 8, addr: Optional[str] = None, **options: Any) -> TcpSocket:
        """A listening TCP socket on ``port``."""
        check_port(port)
        parse_count(backlog, "backlog", minimum=1)
        s = self.tcp_socket(**options)
        s.bind(port, addr)
        s.listen(backlog)
        return s


#: IPv6 autoconfiguration keywords of Network.host (see :func:`_ipv6_autoconf`).
IPV6_OPTIONS = ("slaac", "dad", "dad_transmits", "stable_iid", "ipv6_secret", "temporary_addresses",
                "temp_valid_lifetime", "temp_preferred_lifetime", "prefer_public")


def _ipv6_autoconf(name: str, cfg: Any, ifaces: list[Interface], options: dict) -> dict:
    """Apply the IPv6 autoconfiguration keywords to ``cfg``; return the other options.

    ``slaac`` (form addresses from Router Advertisement prefixes, RFC 4862 section 5.5) defaults to
    on for a host with no static address of either family, off otherwise: a host given only
    ``ipv4=`` stays an IPv4 host that sends no IPv6 frame of its own, and one given ``ipv6=`` keeps
    its addresses without autoconfiguration. ``dad`` (the IPv6 host start-up: Duplicate Address
    Detection on every address, the link-local one first, MLDv2 reports, Router Solicitations)
    defaults to ``slaac``'s value; ``dad=True`` with static addresses checks them too, and
    ``dad=False`` with ``slaac=True`` forms addresses without checking them
    (DupAddrDetectTransmits 0). ``dad_transmits`` is DupAddrDetectTransmits (1). ``stable_iid``
    uses RFC 7217 identifiers (``ipv6_secret``: 16 bytes or 32 hex digits; default derived from
    the seed); ``temporary_addresses`` adds RFC 8981 temporary addresses with
    ``temp_valid_lifetime`` / ``temp_preferred_lifetime`` (2 days / 1 day); ``prefer_public``
    reverses RFC 6724 rule 7.
    """
    has_static = any(itf.addresses for itf in ifaces)
    slaac = options.pop("slaac", None)
    dad = options.pop("dad", None)
    slaac = (not has_static) if slaac is None else bool(slaac)
    dad = slaac if dad is None else bool(dad)
    cfg.ipv6_autoconf = slaac or dad
    cfg.ipv6_no_slaac = not slaac
    transmits = options.pop("dad_transmits", None)
    if not dad and cfg.ipv6_autoconf:
        cfg.ipv6_dad_transmits = lib.TERN_DAD_OFF
    elif transmits is not None:
        n = parse_count(transmits, "dad_transmits")
        if n == 0:
            cfg.ipv6_dad_transmits = lib.TERN_DAD_OFF
        elif n > 10:
            raise ConfigError(f"host {name!r}: dad_transmits={transmits!r}: at most 10")
        else:
            cfg.ipv6_dad_transmits = n
    cfg.ipv6_stable_iid = bool(options.pop("stable_iid", False))
    secret = options.pop("ipv6_secret", None)
    if secret is not None:
        raw = bytes.fromhex(secret) if isinstance(secret, str) else bytes(secret)
        if len(raw) != 16:
            raise ConfigError(f"host {name!r}: ipv6_secret must be 16 bytes (32 hex digits), got {secret!r}")
        ffi.memmove(cfg.ipv6_secret, raw, 16)
    cfg.ipv6_temporary = bool(options.pop("temporary_addresses", False))
    for key, field in (("temp_valid_lifetime", "ipv6_temp_valid_s"),
                       ("temp_preferred_lifetime", "ipv6_temp_preferred_s")):
        if key in options:
            ns = parse_time(options.pop(key), key)
            if ns % 1_000_000_000 or ns == 0:
                raise ConfigError(f"host {name!r}: {key} must be a whole number of seconds > 0")
            setattr(cfg, field, ns // 1_000_000_000)
    cfg.ipv6_prefer_public = bool(options.pop("prefer_public", False))
    return options


def build_config(name: str, seed: int, ifaces: list[Interface], forwarding: bool, tcp: dict,
                 options: dict) -> Any:
    """A ``tern_stack_config *`` from Python values (validated, units parsed)."""
    cfg = ffi.new("tern_stack_config *")
    lib.tern_stack_config_default(cfg, seed)
    if not 1 <= len(ifaces) <= lib.TERN_MAX_IFACES:
        raise ConfigError(f"host {name!r}: 1..{lib.TERN_MAX_IFACES} interfaces, got {len(ifaces)}")
    cfg.niface = len(ifaces)
    for i, itf in enumerate(ifaces):
        c = cfg.iface[i]
        ffi.memmove(c.mac, bytes(int(x, 16) for x in itf.mac.split(":")), 6)
        c.mtu = itf.mtu
        c.accept_vlan = itf.accept_vlan
        if len(itf.addresses) > lib.TERN_MAX_IFACE_ADDRS:
            raise ConfigError(f"host {name!r}: at most {lib.TERN_MAX_IFACE_ADDRS} addresses per interface")
        c.naddrs = len(itf.addresses)
        for j, (ip, plen) in enumerate(itf.addresses):
            c.addr[j] = make_addr(ip)[0]
            c.prefix_len[j] = plen
    cfg.forwarding = bool(forwarding)
    options = _ipv6_autoconf(name, cfg, ifaces, dict(options))
    for k, v in options.items():
        if k in _STACK_TIMES:
            setattr(cfg, f"{k}_ns", parse_time(v, k))
        elif k in _STACK_SIZES:
            setattr(cfg, k, parse_size(v, k))
        elif k in _STACK_COUNTS:
            setattr(cfg, k, parse_count(v, k))
        else:
            raise ConfigError(f"host {name!r}: unknown option {k!r}; known: {', '.join(HOST_OPTIONS)}")
    for k, v in tcp.items():
        if k in _TCP_TIMES:
            setattr(cfg.tcp, f"{k}_ns", parse_time(v, f"tcp.{k}"))
        elif k in _TCP_SIZES:
            setattr(cfg.tcp, k, parse_size(v, f"tcp.{k}"))
        elif k in _TCP_COUNTS:
            setattr(cfg.tcp, k, parse_count(v, f"tcp.{k}"))
        elif k in _TCP_BOOLS:
            setattr(cfg.tcp, k, bool(v))
        elif k == "congestion":
            from .sockets import congestion_value

            cfg.tcp.congestion = congestion_value(v)
        else:
            raise ConfigError(f"host {name!r}: unknown TCP option {k!r}; known: {', '.join(TCP_OPTIONS)}")
    msg = ffi.new("char[]", 256)
    rc = lib.tern_stack_validate(cfg, msg, 256)
    if rc != 0:
        raise_error(rc, ffi.string(msg).decode(errors="replace"), f"host({name!r})")
    return cfg


__all__ = ["Host", "Interface", "build_config", "make_addr", "addr_text", "HOST_OPTIONS", "TCP_OPTIONS", "ND_STATES"]
