"""The simulated network: nodes, links and the virtual clock."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional, TextIO, Union

from ._lib import ffi, lib
from .errors import ConfigError, StateError, raise_error
from .link import Link
from .nodes import Node, Switch, default_mac, format_mac, parse_mac
from .peer import Peer
from .units import NS_PER_S, SizeLike, TimeLike, parse_count, parse_time
from .errors import hide_from_traceback as __tracebackhide__  # noqa: F401  (pytest shows the test's line, not ours)

if TYPE_CHECKING:
    from .host import Host

NodeRef = Union[Node, str]
#: How often (virtual time) run(until=predicate) checks at least, by default.
DEFAULT_STEP = "1ms"
#: run(until=predicate) without for_ ends after this much virtual time without any event or host deadline.
IDLE_END_NS = 60 * NS_PER_S
MAX_SEED = 2**64 - 1


class Network:
    """One deterministic simulation: build nodes and links, then run virtual time.

    ``seed`` (0..2**64-1) decides every random choice. ``artifacts`` is the
    directory for captures made without an explicit path (default: the
    ``TERN_ARTIFACTS`` environment variable, else ``./artifacts``). With
    ``capture=True`` every link is captured there (see :meth:`capture`).

    The network owns the C simulation. :meth:`close` (or leaving a ``with``
    block, or garbage collection) frees it; afterwards every object of the
    network raises :class:`~pyharness.errors.StateError`.
    """

    def __init__(self, seed: int, *, artifacts: Union[str, os.PathLike, None] = None, capture: bool = False):
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
            raise ConfigError(f"seed must be an integer in 0..2**64-1, got {seed!r}")
        out = ffi.new("sim **")
        rc = lib.sim_create(seed, out)
        if rc != 0:
            raise_error(rc, context=f"Network(seed={seed})")
        self._sim: Any = ffi.gc(out[0], lib.sim_destroy)
        self._seed = seed
        #: How failure messages name the seed: one thing a user can paste to replay. Outside pytest,
        #: ``Network(seed=N)``; the pytest plugin sets it to the run's ``--seed`` (which the test's
        #: network seed derives from), so no second, unusable number is printed.
        self.seed_text = f"seed={seed}"
        #: The loss recovery every Tern host of this network starts from, under its own ``tcp=``: "rack"
        #: (the stack's defaults: RACK-TLP, RFC 8985, with RFC 3465's L = 2 SMSS slow start) or "classic"
        #: (:data:`pyharness.dut.CLASSIC_RECOVERY`: RFC 5681 / 6582 / 6675 as written). The pytest plugin sets it from
        #: ``--tcp-recovery`` so the whole suite can run under either (issue 22).
        self.tcp_recovery = "rack"
        # scapy draws the defaults it randomises (RandShort fields...) from
        # Python's global generator; seeding it here makes those bytes follow
        # the network's seed too (DESIGN.md §6). scapy is imported first,
        # because its import itself draws from that generator.
        import random

        from ._scapy import scapy

        scapy()
        random.seed(seed)
        self._nodes: dict[str, Node] = {}
        self._links: list[Link] = []
        self._why = ffi.new("sim_stop *")
        self._serviced: list[Peer] = []  # peers that must see frames as they arrive (ARP)
        self._ip_owner: dict[str, Node] = {}
        if artifacts is None:
            artifacts = os.environ.get("TERN_ARTIFACTS", "artifacts")
        self.artifacts_dir = Path(artifacts)
        self._capture_all = False
        if capture:
            self.capture()

    # -- plumbing ---------------------------------------------------------

    def _handle(self) -> Any:
        if self._sim is None:
            raise StateError(f"the network (seed {self._seed}) is closed")
        return self._sim

    def _check(self, rc: int, context: str) -> None:
        if rc != 0:
            raise_error(rc, ffi.string(lib.sim_last_error(self._sim)).decode(errors="replace"), context)

    def _call(self, fn: Callable[..., int], *args: Any, context: str) -> None:
        self._check(fn(self._handle(), *args), context)

    def __repr__(self) -> str:
        state = "closed" if self._sim is None else f"now={self.now_ns}ns"
        return f"<Network {self.seed_text} {state} nodes={len(self._nodes)} links={len(self._links)}>"

    def __enter__(self) -> "Network":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- clock ------------------------------------------------------------

    @property
    def seed(self) -> int:
        """The seed every random stream of the simulation derives from."""
        return self._seed

    @property
    def now_ns(self) -> int:
        """The current virtual time, integer nanoseconds."""
        return int(lib.sim_now(self._handle()))

    @property
    def now(self) -> float:
        """The current virtual time, seconds."""
        return self.now_ns / NS_PER_S

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has freed the simulation."""
        return self._sim is None

    def run(
        self,
        for_: Optional[TimeLike] = None,
        until: Union[TimeLike, Callable[[], bool], None] = None,
        step: Optional[TimeLike] = None,
    ) -> Optional[bool]:
        """Run virtual time: ``for_`` a duration, or ``until`` a virtual time.

        Give exactly one of them; times take units ("10ms") or seconds. Every
        event due up to that time runs, then the clock is set to it.

        ``until`` may also be a predicate (no argument, returns bool) on
        anything: a peer's inbox, a host's socket state (``conn.state ==
        "ESTABLISHED"``, ``sock.readable``), counters. ``for_`` then bounds
        the run. The predicate is checked before running, then after

        - every batch of events in which a scripted peer received a frame
          (the clock is at that frame's arrival),
        - every host deadline (a host's next timer, ``tern_stack_poll_at``:
          retransmissions, delayed ACKs, TIME-WAIT... the clock is exactly
          there),
        - and at least every ``step`` of virtual time (default 1 ms), which
          covers frames delivered to hosts: a predicate that becomes true
          when a host receives a frame is seen at most ``step`` later.

        The run stops at the first check where the predicate holds and
        returns True; it returns False at the bound (the clock is then at
        the bound). Without ``for_``, the run goes on while anything happens:
        it ends when no event ran and no host had a deadline for 60 s of
        virtual time. If the simulator exports ``sim_next_event_time`` every
        event instant is a check and ``step`` is not needed. Returns None for
        time runs.
        """
        self._handle()
        if callable(until):
            limit = lib.SIM_NEVER if for_ is None else self.now_ns + parse_time(for_, "for_")
            step_ns = parse_time(DEFAULT_STEP if step is None else step, "step")
            if step_ns == 0:
                raise ConfigError(f"step must be > 0, got {step!r}")
            return self._run_predicate(until, limit, step_ns)
        if step is not None:
            raise ConfigError(f"step= goes with a predicate until=, got step={step!r} with until={until!r}")
        if (for_ is None) == (until is None):
            raise ConfigError(f"run() needs exactly one of for_= and until=, got for_={for_!r}, until={until!r}")
        target = self.now_ns + parse_time(for_, "for_") if for_ is not None else parse_time(until, "until")  # type: ignore[arg-type]
        self._advance(target)
        return None

    def _run_predicate(self, pred: Callable[[], bool], limit: int, step: int) -> bool:
        if pred():
            return True
        s = self._handle()
        never = lib.SIM_NEVER
        next_event = getattr(lib, "sim_next_event_time", None)  # the exact hook, when the simulator has it
        hosts = [n for n in self._nodes.values() if n.kind == "host"]
        stacks = [h._st() for h in hosts]
        poll_at = lib.tern_stack_poll_at
        idle = 0
        slice_ns = step
        last_end = -1
        while True:
            now = int(lib.sim_now(s))
            if now >= limit:
                return False
            if next_event is not None:
                t = int(next_event(s))
                if t == never:  # nothing left to happen
                    if limit != never:
                        self._advance(limit)
                        return bool(pred())
                    return False
                end = min(max(t, now), limit)
            else:
                end = now + slice_ns
                deadline = never
                for st in stacks:
                    d = int(poll_at(st))
                    if d < deadline:
                        deadline = d
                if deadline < end:
                    end = max(deadline, now)
                if end == now and last_end == now:  # the deadline at `now` has run: move on
                    end = now + slice_ns
                end = min(end, limit)
            last_end = end
            before = int(lib.sim_events_processed(s))
            self._advance(end, until_rx=True)
            if pred():
                return True
            if next_event is None and limit == never:
                # Unbounded: stop once nothing happens any more (no event, no host deadline).
                busy = int(lib.sim_events_processed(s)) != before or any(int(poll_at(st)) != never for st in stacks)
                if busy:
                    idle, slice_ns = 0, step
                else:
                    idle += end - now
                    if idle >= IDLE_END_NS:
                        return False
                    slice_ns = min(slice_ns * 2, NS_PER_S)

    def _advance(self, target: int, until_rx: bool = False) -> bool:
        """Run to ``target`` (ns). Peers that answer ARP are served as frames arrive.

        With ``until_rx``, return as soon as a peer received a frame (True);
        otherwise run to the target (False).
        """
        s = self._handle()
        serviced = self._serviced
        flags = lib.SIM_RUN_STOP_ON_PEER_RX if (serviced or until_rx) else 0
        why = self._why
        while True:
            self._check(lib.sim_run(s, target, flags, why), f"run(until={target}ns)")
            if why[0] != lib.SIM_STOP_PEER_RX:
                return False
            for p in serviced:
                p._drain()
            if until_rx:
                return True

    def _window_over(self, hi: int) -> bool:
        """True once the clock reached ``hi`` and nothing else is due at or before it.

        Reaching ``hi`` is not enough: a peer's answer (an ARP reply, say)
        sent at ``hi`` itself schedules more events at ``hi``, and an
        expectation with zero tolerance must see what they cause.
        """
        return self.now_ns >= hi and lib.sim_next_event_time(self._handle()) > hi

    def _run_to(self, until_ns: int, stop_on_rx: bool = False) -> bool:
        """Run to ``until_ns``; with ``stop_on_rx`` stop early when a peer receives. True if it stopped early."""
        return self._advance(until_ns, until_rx=stop_on_rx)

    def _mac_of_link_local(self, ip: str) -> Optional[str]:
        """The MAC of the node whose interface 0 has link-local address ``ip`` (from its MAC)."""
        from .nd import link_local

        for node in self._nodes.values():
            mac = getattr(node, "mac", None)
            if isinstance(mac, str) and link_local(parse_mac(mac)) == ip:
                return mac
        return None

    def _mac_of_ip(self, ip: str) -> Optional[str]:
        """The MAC of the node of this network that owns ``ip`` (a peer's or a host's address)."""
        node = self._ip_owner.get(ip)
        if node is not None and hasattr(node, "mac_of_ip"):  # a node with a MAC per port (a gateway)
            return node.mac_of_ip(ip)
        return getattr(node, "mac", None) if node is not None else None

    @property
    def events_processed(self) -> int:
        """How many events the simulation has dispatched so far."""
        return int(lib.sim_events_processed(self._handle()))

    # -- building ---------------------------------------------------------

    @property
    def nodes(self) -> list[Node]:
        """Every node, in creation order."""
        return list(self._nodes.values())

    @property
    def links(self) -> list[Link]:
        """Every link, in creation order."""
        return list(self._links)

    def node(self, name: str) -> Node:
        """The node called ``name``."""
        self._handle()
        try:
            return self._nodes[name]
        except KeyError:
            raise ConfigError(f"unknown node {name!r}; nodes: {', '.join(self._nodes) or 'none'}") from None

    def _check_name(self, name: object) -> str:
        if not isinstance(name, str):
            raise ConfigError(f"name must be a string, got {name!r}")
        return name

    def peer(self, name: str, ports: int = 1, mac: Optional[str] = None, rx_limit: int = 0,
             ipv4: Optional[str] = None, arp: bool = True, ipv6: Any = None, nd: bool = True) -> Peer:
        """A scripted peer with ``ports`` ports.

        ``mac`` (default: a locally administered MAC derived from the name) is
        the Ethernet source of frames sent without one. ``ipv4``
        ("10.0.0.2/24") is the peer's address: the IP source of packets sent
        without one, and the address it answers ARP for (unless
        ``arp=False``). ``ipv6`` ("fd00::2", "fd00::2/64" or a list) are its
        IPv6 addresses: the IPv6 source of packets sent without one (the
        link-local address fe80::+EUI-64 towards link-scoped destinations), and
        the addresses it answers Neighbor Solicitations for, with its
        link-local one (unless ``nd=False``). Received frames wait in a queue
        of ``rx_limit`` frames (0: 65536).
        """
        self._check_name(name)
        parse_count(ports, "ports", minimum=1)
        parse_count(rx_limit, "rx_limit")
        mac_s = default_mac(name) if mac is None else format_mac(parse_mac(mac))
        from .peer import parse_ipv4_iface, parse_ipv6_addrs

        if ipv4 is not None:
            parse_ipv4_iface(ipv4)
        if ipv6 is not None:
            parse_ipv6_addrs(ipv6)
        out = ffi.new("sim_node_id *")
        self._call(lib.sim_peer_add, name.encode(), ports, rx_limit, out, context=f"peer({name!r}, ports={ports})")
        node = Peer(self, name, int(out[0]), ports, mac_s, ipv4=ipv4, arp=arp, ipv6=ipv6, nd=nd)
        self._nodes[name] = node
        if node.ip:
            self._ip_owner.setdefault(node.ip, node)
        for a, _ in node.ipv6_addresses:
            self._ip_owner.setdefault(a, node)
        self._update_service(node)
        return node

    def _update_service(self, peer: Peer) -> None:
        if peer.needs_service and peer not in self._serviced:
            self._serviced.append(peer)
        elif not peer.needs_service and peer in self._serviced:
            self._serviced.remove(peer)

    def host(
        self,
        name: str,
        ipv4: Union[str, list, None] = None,
        ipv6: Union[str, list, None] = None,
        mac: Optional[str] = None,
        mtu: int = 1500,
        gateway: Optional[str] = None,
        routes: Optional[list] = None,
        forwarding: bool = False,
        tcp: Optional[dict] = None,
        ifaces: Optional[list] = None,
        accept_vlan: bool = False,
        dhcp: Union[bool, dict, None] = None,
        dhcp_server: Optional[dict] = None,
        dhcpv6: Union[bool, str, None] = None,
        dns: Optional[list] = None,
        hostname: Optional[str] = None,
        mdns: bool = False,
        **options: Any,
    ) -> "Host":
        """A Tern stack host.

        One interface (node port 0) with ``ipv4`` ("10.0.0.1/24", or a list),
        ``ipv6`` (static IPv6 addresses, "fd00::1/64" or a list; every interface
        also has its link-local address from the MAC),
        ``mac`` (default: derived from the name) and ``mtu``; or several with
        ``ifaces=[{"ipv4": ..., "mac": ..., "mtu": ..., "accept_vlan": ...}, ...]``
        (interface i is port i). ``accept_vlan`` makes an interface process
        802.1Q-tagged frames as untagged ones instead of dropping them. ``gateway`` adds a default route; ``routes`` is a list of
        ``(prefix, gateway or None[, iface])``. ``forwarding`` makes it a
        router. ``tcp`` sets TCP defaults (``sack``, ``timestamps``,
        ``window_scaling``, ``rx_buffer``, ``rto_min``, ``delack``...); other
        keywords set stack options (``ttl``, ``arp_timeout``, pool sizes...).
        ``dhcp=True`` (or a dict of client options, see :mod:`pyharness.dhcp`)
        starts the DHCPv4 client on interface 0 at once; ``dhcp_server={...}``
        starts the DHCPv4 server (see :func:`pyharness.dhcp.server_config`);
        ``dhcpv6=True`` (or "stateful", "stateless", "ra": wait for an RA's M/O flag) starts the
        DHCPv6 client on interface 0 at once (see :mod:`pyharness.dhcpv6`);
        ``dns=[servers]`` sets the resolver's servers (see :mod:`pyharness.dns`).
        ``hostname`` is the name the DHCP client sends (option 12) and, with
        ``mdns=True``, the label the mDNS responder claims as ``<hostname>.local``
        at once (the host needs an address; see :mod:`pyharness.mdns`).
        IPv6 autoconfiguration (see :func:`pyharness.host._ipv6_autoconf`): ``slaac`` (on by
        default for a host with no static address of either family), ``dad``, ``dad_transmits``,
        ``stable_iid``, ``ipv6_secret``, ``temporary_addresses``, ``temp_valid_lifetime``,
        ``temp_preferred_lifetime``, ``prefer_public``.
        The stack's seed derives from the network's seed and the name.
        """
        import hashlib

        from .dut import CLASSIC_RECOVERY
        from .host import Host, Interface, _iface, build_config

        self._check_name(name)
        if ifaces is None:
            ifaces = [{"ipv4": ipv4, "ipv6": ipv6, "mac": mac, "mtu": mtu, "accept_vlan": accept_vlan}]
        elif ipv4 is not None or ipv6 is not None or mac is not None:
            raise ConfigError(f"host({name!r}): give ipv4=/ipv6=/mac= or ifaces=, not both")
        built = []
        for i, spec in enumerate(ifaces):
            unknown = set(spec) - {"ipv4", "ipv6", "mac", "mtu", "accept_vlan"}
            if unknown:
                raise ConfigError(f"host({name!r}) ifaces[{i}]: unknown key {sorted(unknown)[0]!r}; "
                                  "known: ipv4, ipv6, mac, mtu, accept_vlan")
            m = spec.get("mac") or default_mac(name if i == 0 else f"{name}/{i}")
            addrs = _iface(spec.get("ipv4"), "ipv4") + _iface(spec.get("ipv6"), "ipv6")
            built.append(Interface(format_mac(parse_mac(m)), tuple(addrs),
                                   parse_count(spec.get("mtu", 1500) or 1500, "mtu"),
                                   bool(spec.get("accept_vlan", False))))
        seed = int.from_bytes(hashlib.sha256(f"{self._seed}\0host\0{name}".encode()).digest()[:8], "big")
        tcp = dict(tcp or {})
        if self.tcp_recovery == "classic":
            tcp = {**CLASSIC_RECOVERY, **tcp}
        elif self.tcp_recovery != "rack":
            raise ConfigError(f"tcp_recovery: {self.tcp_recovery!r} is not one of rack, classic")
        cfg = build_config(name, seed, built, forwarding, tcp, options)
        out = ffi.new("sim_node_id *")
        self._call(lib.sim_host_add, name.encode(), cfg, out, context=f"host({name!r})")
        node = Host(self, name, int(out[0]), built, forwarding)
        self._nodes[name] = node
        for itf in built:
            for ip, _ in itf.addresses:
                self._ip_owner.setdefault(ip, node)
        if gateway is not None:
            node.add_route("0.0.0.0/0", gateway)
        for r in routes or []:
            node.add_route(*r)
        if dhcp_server is not None:
            node.dhcp_server_start(**dhcp_server)
        if dns is not None:
            from .dns import configure

            configure(node, list(dns))
        if mdns and not hostname:
            raise ConfigError(f"host({name!r}): mdns=True needs hostname= (the label to claim)")
        if dhcp:
            opts = dict(dhcp) if isinstance(dhcp, dict) else {}
            if hostname is not None:
                opts.setdefault("hostname", hostname)
            node.dhcp_start(**opts)
        if dhcpv6:
            node.dhcpv6_start(dhcpv6)
        if mdns:
            node.mdns_start(str(hostname))
        return node

    def gateway(self, name: str, profile: str = "fvp", **options: Any) -> Any:
        """A gateway node: router, NAT, DHCP and DNS server (see :mod:`pyharness.gateway`).

        ``profile`` is "fvp", "slirp" or "sel4"; keywords override it (:func:`pyharness.gateway.plan`).
        The whole configuration is checked first; a mistake raises
        :class:`~pyharness.gateway.GatewayConfigError` naming the field and the reason.
        Port 0 is the inside segment, port 1 the outside one.
        """
        from .gateway import make_gateway

        self._check_name(name)
        node = make_gateway(self, name, profile, **options)
        self._nodes[name] = node
        for ip in (node.ip, node.dns_ip, node.outside_ip):
            if ip is not None:
                self._ip_owner.setdefault(ip, node)
        return node

    def switch(self, name: str, ports: int = 8, ageing: TimeLike = "300s", table_size: int = 4096) -> Switch:
        """A learning Ethernet switch with ``ports`` ports, MAC ``ageing`` time and ``table_size`` entries."""
        self._check_name(name)
        parse_count(ports, "ports", minimum=1)
        age = parse_time(ageing, "ageing")
        if age == 0:
            raise ConfigError(f"ageing must be > 0, got {ageing!r}")
        parse_count(table_size, "table_size", minimum=1)
        out = ffi.new("sim_node_id *")
        self._call(lib.sim_switch_add, name.encode(), ports, age, table_size, out,
                   context=f"switch({name!r}, ports={ports})")
        node = Switch(self, name, int(out[0]), ports)
        self._nodes[name] = node
        return node

    def virtio_net(self, name: str, guest: NodeRef, **options: Any) -> Any:
        """Put ``guest`` behind a virtio-net device (a :class:`~pyharness.virtio.VirtioNet`, ports 0 guest, 1 wire).

        Options: see :func:`pyharness.virtio.add_virtio_net`.
        """
        from .virtio import add_virtio_net

        self._check_name(name)
        return add_virtio_net(self, name, self._resolve(guest, "guest"), **options)

    def ping_responder(self, name: str, ipv4: str, mac: Optional[str] = None, log_limit: int = 0,
                       ipv6: Optional[str] = None) -> Any:
        """The native ping responder of the seL4 demo (a :class:`~pyharness.virtio.PingResponder`);
        ``ipv6`` ("fd00::2") gives it an IPv6 address too (Neighbor Solicitations, ICMPv6 echo)."""
        from .virtio import add_ping_responder

        self._check_name(name)
        return add_ping_responder(self, name, ipv4, mac=mac, log_limit=log_limit, ipv6=ipv6)

    def _resolve(self, ref: NodeRef, name: str) -> Node:
        if isinstance(ref, str):
            return self.node(ref)
        if isinstance(ref, Node):
            if ref._net is not self:
                raise ConfigError(f"{name}: node {ref.name!r} belongs to another network")
            return ref
        raise ConfigError(f"{name} must be a node or a node name, got {ref!r}")

    def link(
        self,
        a: NodeRef,
        b: NodeRef,
        port_a: Optional[int] = None,
        port_b: Optional[int] = None,
        **impairments: Any,
    ) -> Link:
        """A full-duplex link between ``a`` and ``b`` (nodes or names).

        Ports default to each node's lowest free port. Impairment keywords
        (see :meth:`Link.configure`) apply to both directions.
        """
        self._handle()
        na, nb = self._resolve(a, "a"), self._resolve(b, "b")
        pa, pb = na._take_port(port_a), nb._take_port(port_b)
        out = ffi.new("sim_link_id *")
        self._call(lib.sim_link_add, na._id, pa, nb._id, pb, out,
                   context=f"link({na.name}:{pa}, {nb.name}:{pb})")
        na._used_ports.add(pa)
        nb._used_ports.add(pb)
        link = Link(self, int(out[0]), na, pa, nb, pb)
        self._links.append(link)
        if impairments:
            link.configure("both", **impairments)
        if self._capture_all:
            link.capture()
        return link

    def capture(self) -> list[Path]:
        """Capture every link, now and to come, into ``<artifacts dir>/<a>-<b>.pcap``. Returns the paths."""
        self._handle()
        self._capture_all = True
        return [link.capture() if link.capture_path is None else link.capture_path for link in self._links]

    def flush_captures(self) -> list[Path]:
        """Close every capture so the pcaps are complete; returns their paths. Frames after this are not captured."""
        paths = []
        for link in self._links:
            if link.capture_paths:
                paths.extend(link.capture_paths.values())
                link.stop_capture()
        self._capture_all = False
        return paths

    # -- end --------------------------------------------------------------

    def shell(self, host: Union[str, "Node"], commands: Optional[Iterable[str]] = None,
              out: Optional[TextIO] = None) -> None:
        """An interactive network shell on Tern host ``host`` at the current virtual time: each
        line of ``commands`` (default: standard input) answered to ``out`` (default: standard
        output), as the examples' ``--shell`` does (see :mod:`pyharness.shell`)."""
        import sys

        from .host import Host

        node = self.node(host) if isinstance(host, str) else host
        if not isinstance(node, Host):
            raise ConfigError(f"shell({host!r}): not a Tern host")
        node.shell().interact(sys.stdin if commands is None else commands, out or sys.stdout)

    def close(self) -> None:
        """Free the simulation (captures are flushed and closed). Idempotent."""
        if self._sim is not None:
            for link in self._links:
                link.capture_path = None
            sim, self._sim = self._sim, None
            ffi.release(sim)


__all__ = ["Network"]
