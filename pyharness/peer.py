"""Scripted peers: the test sends and receives their frames as scapy packets."""

from __future__ import annotations

import ipaddress
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Optional

from ._lib import ffi, lib
from .arp import arp_reply, arp_request, ip_bytes, parse_arp
from .nd import ALL_NODES, link_local, multicast_mac, neighbor_advert, neighbor_solicit, parse_nd
from .errors import ConfigError
from .frames import Frame
from .nodes import BROADCAST, Node, NodeCounters, format_mac, parse_mac
from .units import TimeLike
from .errors import hide_from_traceback as __tracebackhide__  # noqa: F401  (pytest shows the test's line, not ours)

if TYPE_CHECKING:
    from .network import Network
    from .tcpconn import TCPConn

#: Frames a peer remembers for failure messages (received, consumed or not).
HISTORY = 4096


def parse_ipv4_iface(value: str, name: str = "ipv4") -> tuple[str, int]:
    """``"10.0.0.2/24"`` → ``("10.0.0.2", 24)``; an address without a prefix is a /32."""
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a string like '10.0.0.2/24', got {value!r}")
    try:
        iface = ipaddress.IPv4Interface(value)
    except ValueError:
        raise ConfigError(f"{name}: not an IPv4 address with an optional prefix: {value!r}") from None
    return str(iface.ip), int(iface.network.prefixlen)


def parse_ipv6_addrs(value: Any, name: str = "ipv6") -> list[tuple[str, int]]:
    """``"fd00::2/64"`` or a list of them → ``[("fd00::2", 64)]``; without a prefix, /64."""
    items = [value] if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else None
    if items is None:
        raise ConfigError(f"{name} must be a string like 'fd00::2/64' or a list of them, got {value!r}")
    out = []
    for v in items:
        try:
            iface = ipaddress.IPv6Interface(v if "/" in str(v) else f"{v}/64")
        except (ValueError, TypeError):
            raise ConfigError(f"{name}: not an IPv6 address with an optional prefix: {v!r}") from None
        if iface.ip.is_multicast or iface.ip.is_unspecified:
            raise ConfigError(f"{name}: a peer's address must be unicast: {v!r}")
        out.append((str(iface.ip), int(iface.network.prefixlen)))
    return out


class Peer(Node):
    """A scripted peer: the test sends and receives its frames as scapy packets.

    Frames sent leave at the current virtual time. Frames received wait in an
    inbox until :meth:`recv`, :meth:`expect` (or a TCP connection helper)
    takes them. A peer with an ``ipv4`` address answers ARP requests for it
    at once (unless ``arp=False``); those requests do not reach the inbox.
    Likewise a peer answers IPv6 Neighbor Solicitations for its ``ipv6``
    addresses and its link-local address (fe80:: + the modified EUI-64 of its
    MAC) at once, unless ``nd=False``; it learns neighbours' MACs from every NS
    and NA it sees (those other than the solicitations it answers do reach the
    inbox).
    """

    kind = "peer"

    def __init__(self, net: "Network", name: str, node_id: int, ports: int, mac: str,
                 ipv4: Optional[str] = None, arp: bool = True, ipv6: Any = None, nd: bool = True):
        super().__init__(net, name, node_id, ports)
        self.mac = mac
        self._mac_b = parse_mac(mac)
        self.ip: Optional[str] = None
        self.prefix_len: Optional[int] = None
        if ipv4 is not None:
            self.ip, self.prefix_len = parse_ipv4_iface(ipv4)
        self._ip_b = ip_bytes(self.ip) if self.ip else b""
        self.arp = bool(arp)
        #: The peer's IPv6 addresses ("fd00::2") with their prefixes; the first is :attr:`ip6`.
        self.ipv6_addresses: list[tuple[str, int]] = parse_ipv6_addrs(ipv6) if ipv6 is not None else []
        self.ip6: Optional[str] = self.ipv6_addresses[0][0] if self.ipv6_addresses else None
        #: The link-local address formed from the MAC (always answered for, like the others).
        self.link_local: str = link_local(self._mac_b)
        self._ip6_set = {a for a, _ in self.ipv6_addresses} | {self.link_local}
        self.nd = bool(nd)
        #: Neighbor Solicitations answered so far.
        self.nd_answered = 0
        #: IPv4 address → MAC, learned from every ARP frame the peer saw.
        self.neighbors: dict[str, str] = {}
        #: ARP requests answered so far.
        self.arp_answered = 0
        self._inbox: deque[Frame] = deque()
        self._history: deque[Frame] = deque(maxlen=HISTORY)
        self._count = 0
        self._buf = ffi.new("uint8_t[]", lib.SIM_MAX_FRAME)
        self._len = ffi.new("size_t *")
        self._port = ffi.new("uint32_t *")
        self._time = ffi.new("uint64_t *")
        self._listeners: list[Callable[[Frame], bool]] = []
        #: Strict expectations by default (:meth:`expect` with ``strict=True``): any frame received before
        #: the expected one fails the test, naming it.
        self.strict = False

    def __repr__(self) -> str:
        ip = f" {self.ip}/{self.prefix_len}" if self.ip else ""
        return f"<Peer {self.name!r}{ip} mac={self.mac}>"

    @property
    def needs_service(self) -> bool:
        """True when the peer must see frames as they arrive (to answer ARP, and Neighbor Solicitations: every
        peer has its link-local address, given ``ipv6=`` or not)."""
        return bool(self.arp and self.ip) or self.nd or bool(self._listeners)

    def counters(self) -> NodeCounters:
        """Frames and bytes this peer received and sent so far."""
        return self.node_counters()

    # -- receiving ---------------------------------------------------------

    def _drain(self) -> int:
        """Move frames from the C queue to the inbox, answering ARP. Returns how many arrived."""
        s = self._net._handle()
        n = 0
        while lib.sim_peer_pending(s, self._id):
            rc = lib.sim_peer_recv(s, self._id, self._buf, lib.SIM_MAX_FRAME, self._len, self._port, self._time)
            if rc == lib.TERN_ERR_EMPTY:
                break
            self._net._check(rc, f"{self.name}.recv()")
            self._count += 1
            n += 1
            f = Frame(bytes(ffi.buffer(self._buf, self._len[0])), int(self._time[0]), int(self._port[0]),
                      self._count, self.name)
            self._history.append(f)
            if self._on_frame(f):
                continue
            if any(listener(f) for listener in self._listeners):
                continue
            self._inbox.append(f)
        return n

    def _on_frame(self, f: Frame) -> bool:
        """ARP and ND: learn the sender, answer a request for our address. True if consumed."""
        arp = parse_arp(f.data)
        if arp is None:
            return self._on_nd(f)
        op, sha, spa, _tha, tpa = arp
        if spa != b"\0\0\0\0":
            self.neighbors[str(ipaddress.IPv4Address(spa))] = format_mac(sha)
        if op == 1 and self.arp and self._ip_b and tpa == self._ip_b:
            reply = arp_reply(self._mac_b, self._ip_b, sha, spa)
            self._net._call(lib.sim_peer_send, self._id, f.port, reply, len(reply), context=f"{self.name}: ARP reply")
            self.arp_answered += 1
            return True
        return False

    def _on_nd(self, f: Frame) -> bool:
        nd = parse_nd(f.data)
        if nd is None:
            return False
        if nd.lladdr is not None:
            # NS: the source's link-layer address; NA: the target's.
            who = nd.src if nd.type == 135 else nd.target
            if who != "::":
                self.neighbors[who] = format_mac(nd.lladdr)
        if nd.type != 135 or not self.nd or nd.target not in self._ip6_set or nd.hop_limit != 255:
            return False
        if nd.src == "::":
            # RFC 4861 section 7.2.4: from the unspecified address (DAD), multicast to all-nodes, S=0.
            na = neighbor_advert(self._mac_b, nd.target, multicast_mac(ALL_NODES), ALL_NODES, solicited=False)
        else:
            na = neighbor_advert(self._mac_b, nd.target, nd.lladdr or nd.eth_src, nd.src, solicited=True)
        self._net._call(lib.sim_peer_send, self._id, f.port, na, len(na), context=f"{self.name}: NA")
        self.nd_answered += 1
        return True

    @property
    def pending(self) -> int:
        """Frames waiting to be received (in the inbox or not yet taken from the simulator)."""
        return len(self._inbox) + int(lib.sim_peer_pending(self._net._handle(), self._id))

    @property
    def rx_dropped(self) -> int:
        """Frames dropped because the receive queue was full."""
        return int(lib.sim_peer_rx_dropped(self._net._handle(), self._id))

    def recv(self) -> Optional[Any]:
        """The oldest received frame as a scapy ``Ether`` packet, or None.

        The packet's ``.time`` is its virtual arrival time in seconds (float),
        ``.time_ns`` the exact nanoseconds and ``.port`` the port it came in on.
        """
        f = self.recv_frame()
        return None if f is None else f.pkt

    def recv_frame(self) -> Optional[Frame]:
        """The oldest received :class:`~pyharness.frames.Frame` (bytes, time, port), or None."""
        self._drain()
        return self._inbox.popleft() if self._inbox else None

    def received(self) -> list[Any]:
        """Take every frame waiting, oldest first (see :meth:`recv`)."""
        self._drain()
        out = [f.pkt for f in self._inbox]
        self._inbox.clear()
        return out

    def history(self) -> list[Frame]:
        """The last frames received (up to 4096), consumed or not, ARP included."""
        self._drain()
        return list(self._history)

    # -- sending -----------------------------------------------------------

    def _frame_bytes(self, pkt: Any) -> bytes:
        if isinstance(pkt, (bytes, bytearray, memoryview)):
            return bytes(pkt)
        from ._scapy import scapy

        sc = scapy()
        if not isinstance(pkt, sc.Packet):
            raise ConfigError(f"{self.name}.send(): expected a scapy packet or bytes, got {type(pkt).__name__}")
        if not isinstance(pkt, sc.Ether):
            pkt = sc.Ether(src=self.mac, dst=self._dst_mac(pkt)) / pkt
        elif "src" not in pkt.fields or "dst" not in pkt.fields:
            # Never let scapy fill these from the real machine (its interfaces, its ARP).
            pkt = pkt.copy()
            if "src" not in pkt.fields:
                pkt.src = self.mac
            if "dst" not in pkt.fields:
                pkt.dst = self._dst_mac(pkt.payload)
        ip = pkt.getlayer(sc.IP)
        if ip is not None and "src" not in ip.fields and self.ip:
            if ip is pkt.payload:
                pkt = pkt.copy()
                ip = pkt.payload
            ip.src = self.ip
        ip6 = pkt.getlayer(sc.IPv6)
        if ip6 is not None and "src" not in ip6.fields:
            if ip6 is pkt.payload:
                pkt = pkt.copy()
                ip6 = pkt.payload
            ip6.src = self._src6_for(str(ip6.dst))
        from .reproducible import check_reproducible

        check_reproducible(pkt, f"{self.name}.send()")
        return bytes(pkt)

    def _src6_for(self, dst: str) -> str:
        """The IPv6 source for a packet without one: the link-local address towards link-local and
        link-scoped multicast destinations (or when the peer has no other), else the first address."""
        try:
            d = ipaddress.IPv6Address(dst)
        except ValueError:
            d = None
        scoped = d is not None and (d.is_link_local or (d.is_multicast and (d.packed[1] & 0xF) <= 2))
        return self.link_local if scoped or not self.ip6 else self.ip6

    def _dst_mac(self, l3: Any) -> str:
        """The Ethernet destination for a packet without one: the IP destination's MAC if known."""
        if hasattr(l3, "fields") and type(l3).__name__ == "IPv6":
            dst = str(l3.fields.get("dst", "::1"))
            try:
                d = ipaddress.IPv6Address(dst)
            except ValueError:
                return BROADCAST
            if d.is_multicast:
                return format_mac(multicast_mac(str(d)))
            mac = self.neighbors.get(str(d)) or self._net._mac_of_ip(str(d))
            if mac is None and d.is_link_local:
                mac = self._net._mac_of_link_local(str(d))
            return mac or format_mac(multicast_mac(ALL_NODES))
        dst = l3.fields.get("dst") if hasattr(l3, "fields") and type(l3).__name__ == "IP" else None
        if isinstance(dst, str):
            mac = self.neighbors.get(dst) or self._net._mac_of_ip(dst)
            if mac:
                return mac
        return BROADCAST

    def send(self, pkt: Any, port: int = 0) -> None:
        """Send a frame out of ``port`` now.

        ``pkt`` is a scapy packet or bytes. A packet without an Ethernet
        header gets one. An unset Ethernet source is this peer's MAC; an
        unset destination is the MAC of the IP destination when the peer
        knows it (a host of the network, or learned by ARP), else broadcast
        (scapy would otherwise ask the real machine). An unset IP source is
        the peer's address. Other fields scapy fills by itself.
        """
        data = self._frame_bytes(pkt)
        self._net._call(lib.sim_peer_send, self._id, port, data, len(data), context=f"{self.name}.send(port={port!r})")

    def send_all(self, pkts: Any, port: int = 0) -> None:
        """Send several frames out of ``port`` at the same instant, back to back, in order (as :meth:`send`
        each). In virtual time this is a loop of :meth:`send`; a peer in real time (a kernel DUT behind TAP)
        hands them over together, so that they reach the DUT microseconds apart, not one test-process step."""
        for pkt in pkts:
            Peer.send(self, pkt, port)

    def router_advertisement(self, prefixes: Any = (), dst: str = "ff02::1", port: int = 0, **fields: Any) -> Any:
        """Send a Router Advertisement from the peer's link-local address (the peer plays the
        router): ``prefixes`` are Prefix Information options ("2001:db8:1::/64" or dicts, see
        :func:`pyharness.ra.prefix_option`); other keywords (``router_lifetime``, ``hop_limit``,
        ``reachable_time``, ``retrans_timer``, ``mtu``, ``managed``, ``other``, ``sll``) as
        :func:`pyharness.ra.router_advertisement`. Returns the packet sent."""
        from .ra import router_advertisement

        pkt = router_advertisement(self.link_local, self.mac, dst=dst, prefixes=prefixes, **fields)
        self.send(pkt, port)
        return pkt

    def mld_query(self, group: Optional[str] = None, port: int = 0, **fields: Any) -> Any:
        """Send an MLD query from the peer's link-local address (the peer plays the querier):
        a General Query, or one for ``group`` (see :func:`pyharness.ra.mld_query`). Returns it."""
        from .ra import mld_query

        pkt = mld_query(self.link_local, group, **fields)
        self.send(pkt, port)
        return pkt

    def resolve6(self, ip: str, within: TimeLike = "1s", port: int = 0) -> str:
        """The MAC of IPv6 ``ip``: known already, or asked with a Neighbor Solicitation (from the
        peer's link-local address). Raises if nobody answers."""
        ip = str(ipaddress.IPv6Address(ip))
        if ip in self.neighbors:
            return self.neighbors[ip]
        self.send(neighbor_solicit(self._mac_b, self._src6_for(ip), ip), port)
        from .expect import expect_until

        expect_until(self, lambda: ip in self.neighbors, within, f"Neighbor Advertisement for {ip}")
        return self.neighbors[ip]

    def resolve(self, ip: str, within: TimeLike = "1s", port: int = 0) -> str:
        """The MAC of ``ip``: known already, or asked with an ARP request. Raises if nobody answers."""
        if ip in self.neighbors:
            return self.neighbors[ip]
        if not self._ip_b:
            raise ConfigError(f"{self.name}.resolve({ip!r}): the peer has no IPv4 address (give ipv4=)")
        req = arp_request(self._mac_b, self._ip_b, ip_bytes(ip))
        self.send(req, port)
        from .expect import expect_until

        expect_until(self, lambda: ip in self.neighbors, within, f"ARP reply for {ip}")
        return self.neighbors[ip]

    # -- expectations --------------------------------------------------------

    def expect(self, template: Any, within: Optional[TimeLike] = None, at: Optional[TimeLike] = None,
               tolerance: Optional[TimeLike] = None, port: Optional[int] = None,
               strict: Optional[bool] = None) -> Any:
        """Wait for a frame matching ``template`` and return it (a scapy packet with ``.time``).

        ``strict`` (default: the peer's ``strict`` attribute): the matching frame must
        be the next one received; any other frame before it fails, named.

        ``within`` (default 1 s) bounds the wait from now; frames already
        received count too. ``at`` (a virtual time) asks for the frame at that
        time, give or take ``tolerance`` (default 1 ms); a matching frame
        before the window fails. The simulation runs only until the frame
        arrives. On failure, :class:`~pyharness.expect.ExpectationError`
        shows the closest frame field by field, the frames seen and the seed.
        """
        from .expect import expect

        return expect(self, template, within=within, at=at, tolerance=tolerance, port=port,
                      strict=self.strict if strict is None else bool(strict))

    def expect_nothing(self, for_: TimeLike, matching: Any = None, port: Optional[int] = None) -> None:
        """Run ``for_`` and fail if a frame (matching ``matching``, if given) arrives meanwhile."""
        from .expect import expect_nothing

        expect_nothing(self, for_=for_, matching=matching, port=port)

    def tcp(self, remote: Any, port: Optional[int] = None, local_port: Optional[int] = None,
            **options: Any) -> "TCPConn":
        """A :class:`~pyharness.tcpconn.TCPConn` between this peer and ``remote`` (a host, peer or IP).

        ``port`` is the remote's port (None when the remote connects to us:
        :meth:`TCPConn.accept` learns it). Keywords: ``isn``, ``window``,
        ``mss``, ``wscale``, ``sack``, ``ts``.
        """
        from .tcpconn import TCPConn

        return TCPConn(self, remote, port, local_port, **options)


__all__ = ["Peer", "parse_ipv4_iface", "parse_ipv6_addrs", "HISTORY"]
