"""virtio-net and the native ping responder (tern/sim_virtio.h).

A :class:`VirtioNet` node puts a guest (any node: a Tern host, a scripted peer,
a :class:`PingResponder`) behind a virtio-net device: every frame the guest
sends crosses a real split virtqueue (virtio v1.2 §2.7) in simulated guest
memory before it reaches the wire, and every frame from the wire is placed by
the device into receive buffers the driver supplied, in virtual time::

    net = Network(seed=1)
    guest = net.host("guest", ipv4="192.168.1.1/24")
    vnet = net.virtio_net("vnet0", guest, irq_latency="10us")
    responder = net.ping_responder("pingclient", ipv4="192.168.1.2")
    net.link(vnet, responder, delay="1ms")

The guest's driver side is scriptable: ``driver_mode`` makes its notification
suppression wrong on purpose, :meth:`VirtioNet.mem_write` and
:meth:`VirtioNet.kick` write the rings as a (buggy) driver would, and
:meth:`VirtioNet.events` tells what the device found.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Iterable, Optional

from ._lib import ffi, lib
from .errors import ConfigError
from .nodes import MacLike, Node, default_mac, format_mac, parse_mac
from .units import TimeLike, parse_time

if TYPE_CHECKING:
    from .network import Network

#: Feature names and their bits (virtio v1.2 §5.1.3 and §6).
FEATURES = {
    "mtu": lib.SIM_VIRTIO_NET_F_MTU,
    "mac": lib.SIM_VIRTIO_NET_F_MAC,
    "mrg_rxbuf": lib.SIM_VIRTIO_NET_F_MRG_RXBUF,
    "status": lib.SIM_VIRTIO_NET_F_STATUS,
    "indirect_desc": lib.SIM_VIRTIO_F_INDIRECT_DESC,
    "event_idx": lib.SIM_VIRTIO_F_EVENT_IDX,
    "version_1": lib.SIM_VIRTIO_F_VERSION_1,
}

DRIVER_MODES = {
    "correct": lib.SIM_VQ_DRV_CORRECT,
    "no_suppress": lib.SIM_VQ_DRV_NO_SUPPRESS,
    "no_recheck": lib.SIM_VQ_DRV_NO_RECHECK,
}

RECEIVEQ, TRANSMITQ = 0, 1


def _feature_bits(names: Optional[Iterable[str]], what: str) -> int:
    if names is None:
        return 0
    bits = 0
    for n in names:
        if n not in FEATURES:
            raise ConfigError(f"{what}: unknown feature {n!r}; known: {', '.join(sorted(FEATURES))}")
        bits |= 1 << FEATURES[n]
    if bits == 0:
        raise ConfigError(f"{what}: give at least version_1")
    return bits


def feature_names(bits: int) -> set[str]:
    """The names of the feature bits set in ``bits``."""
    return {n for n, b in FEATURES.items() if bits >> b & 1}


@dataclass(frozen=True)
class VirtioNetCounters:
    """What the device and the driver did (sim_virtio_net_counters); per-queue values are (rx, tx)."""

    tx_frames: int
    rx_frames: int
    kicks: tuple
    kicks_suppressed: tuple
    interrupts: tuple
    interrupts_suppressed: tuple
    rx_merged: int
    rx_no_buffer_waits: int
    rx_dropped: int
    tx_dropped: int
    rechecks: int
    max_num_buffers: int


@dataclass(frozen=True)
class VirtioEvent:
    """A rule of virtio v1.2 §2.7 the device found broken: when, on which queue, which, and why."""

    time_ns: int
    queue: int
    fault: str
    why: str


@dataclass(frozen=True)
class PingRecord:
    """One echo request the responder logged."""

    time_ns: int
    src: str
    dst: str
    ttl: int
    ip_len: int
    ident: int
    seq: int
    payload_len: int
    replied: bool
    version: int = 4  #: 4 (ICMP echo) or 6 (ICMPv6 echo)


@dataclass(frozen=True)
class PingCounters:
    """What the responder did (sim_ping_counters)."""

    requests: int
    replies: int
    arp_replies: int
    ignored: int
    bad_checksum: int
    nd_replies: int = 0  #: Neighbor Advertisements sent


class VirtioNet(Node):
    """A virtio-net adapter: port 0 is the guest side, port 1 the wire."""

    kind = "virtio-net"

    def __init__(self, net: "Network", name: str, node_id: int, guest: Node):
        super().__init__(net, name, node_id, 2)
        self.guest = guest
        self._used_ports.add(0)

    def _ctx(self, what: str) -> str:
        return f"{self.name}.{what}"

    @property
    def features(self) -> set[str]:
        """The negotiated features, by name."""
        return feature_names(int(lib.sim_virtio_net_features(self._net._handle(), self._id)))

    @property
    def status(self) -> int:
        """The device status byte (§2.1): DRIVER_OK 4, FEATURES_OK 8, DEVICE_NEEDS_RESET 64..."""
        return int(lib.sim_virtio_net_status(self._net._handle(), self._id))

    @property
    def needs_reset(self) -> bool:
        """True once the device found a driver error and set DEVICE_NEEDS_RESET."""
        return bool(self.status & lib.SIM_VIRTIO_STATUS_DEVICE_NEEDS_RESET)

    def config(self) -> dict[str, Any]:
        """The device configuration space (§5.1.4): mac, status, max_virtqueue_pairs, mtu."""
        buf = ffi.new("uint8_t[12]")
        self._net._call(lib.sim_virtio_net_get_config, self._id, buf, 12, context=self._ctx("config()"))
        raw = bytes(buf)
        return {"mac": format_mac(raw[:6]), "status": int.from_bytes(raw[6:8], "little"),
                "max_virtqueue_pairs": int.from_bytes(raw[8:10], "little"),
                "mtu": int.from_bytes(raw[10:12], "little")}

    def counters(self) -> VirtioNetCounters:
        """Frames each way, kicks and interrupts per queue, merged buffers, drops, re-checks."""
        c = ffi.new("sim_virtio_net_counters *")
        self._net._call(lib.sim_virtio_net_get_counters, self._id, c, context=self._ctx("counters()"))
        vals = {}
        for f in fields(VirtioNetCounters):
            v = getattr(c, f.name)
            vals[f.name] = (int(v[0]), int(v[1])) if f.type == "tuple" else int(v)
        return VirtioNetCounters(**vals)

    def events(self) -> list[VirtioEvent]:
        """The faults the device recorded, oldest first."""
        out = []
        e = ffi.new("sim_virtio_event *")
        i = 0
        while lib.sim_virtio_net_event(self._net._handle(), self._id, i, e) == 0:
            out.append(VirtioEvent(int(e.time), int(e.queue), ffi.string(lib.sim_virtio_fault_name(e.fault)).decode(),
                                   ffi.string(e.why).decode()))
            i += 1
        return out

    def queue_gpa(self, queue: int) -> tuple[int, int, int]:
        """Guest-physical addresses of the descriptor table, available ring and used ring of ``queue``."""
        d, a, u = ffi.new("uint64_t *"), ffi.new("uint64_t *"), ffi.new("uint64_t *")
        self._net._call(lib.sim_virtio_net_queue_gpa, self._id, queue, d, a, u, context=self._ctx(f"queue_gpa({queue})"))
        return int(d[0]), int(a[0]), int(u[0])

    def mem_write(self, gpa: int, data: bytes) -> None:
        """Write guest memory as a driver would (to break a ring on purpose)."""
        self._net._call(lib.sim_virtio_net_mem_write, self._id, gpa, data, len(data),
                        context=self._ctx(f"mem_write(0x{gpa:x})"))

    def mem_read(self, gpa: int, n: int) -> bytes:
        """Read ``n`` bytes of guest memory."""
        buf = ffi.new("uint8_t[]", max(n, 1))
        self._net._call(lib.sim_virtio_net_mem_read, self._id, gpa, buf, n, context=self._ctx(f"mem_read(0x{gpa:x})"))
        return bytes(buf)[:n]

    def kick(self, queue: int) -> None:
        """Notify the device of ``queue`` now (it sees it after the notify latency)."""
        self._net._call(lib.sim_virtio_net_kick, self._id, queue, context=self._ctx(f"kick({queue})"))


class PingResponder(Node):
    """The native ping responder of the seL4 virtio-net ping demo, its bugs fixed."""

    kind = "ping-responder"

    def __init__(self, net: "Network", name: str, node_id: int, mac: str, ip: str, ip6: Optional[str] = None):
        super().__init__(net, name, node_id, 1)
        self.mac = mac
        self.ip = ip
        self.ip6 = ip6

    def records(self) -> list[PingRecord]:
        """Every logged echo request, oldest first."""
        h = self._net._handle()
        r = ffi.new("sim_ping_record *")
        out = []
        for i in range(int(lib.sim_ping_responder_count(h, self._id))):
            self._net._call(lib.sim_ping_responder_record, self._id, i, r, context=f"{self.name}.records()")
            if int(r.version) == 6:
                src, dst = (str(ipaddress.IPv6Address(bytes(a))) for a in (r.src_ip6, r.dst_ip6))
            else:
                src, dst = (str(ipaddress.IPv4Address(bytes(a))) for a in (r.src_ip, r.dst_ip))
            out.append(PingRecord(int(r.time), src, dst, int(r.ttl), int(r.ip_len), int(r.ident), int(r.seq),
                                  int(r.payload_len), bool(r.replied), int(r.version)))
        return out

    def texts(self) -> list[str]:
        """The transcript of each request, as the demo prints it."""
        h = self._net._handle()
        out = []
        need = ffi.new("size_t *")
        for i in range(int(lib.sim_ping_responder_count(h, self._id))):
            lib.sim_ping_responder_text(h, self._id, i, ffi.NULL, 0, need)
            buf = ffi.new("char[]", int(need[0]))
            self._net._call(lib.sim_ping_responder_text, self._id, i, buf, int(need[0]), need,
                            context=f"{self.name}.texts()")
            out.append(ffi.string(buf).decode())
        return out

    def transcript(self) -> str:
        """The whole log as text."""
        return "".join(self.texts())

    def counters(self) -> PingCounters:
        """Requests, replies, ARP replies, ignored frames, bad checksums, Neighbor Advertisements sent."""
        c = ffi.new("sim_ping_counters *")
        self._net._call(lib.sim_ping_responder_get_counters, self._id, c, context=f"{self.name}.counters()")
        return PingCounters(**{f.name: int(getattr(c, f.name)) for f in fields(PingCounters)})


@dataclass(frozen=True)
class VhostUserStats:
    """What the vhost-user back-end did (sim_vhost_user_stats); per-ring values are (rx, tx)."""

    connections: int
    disconnects: int
    messages: int
    unknown: int
    features: int
    mem_regions: int
    kicks: tuple
    calls: tuple
    rx_frames: int
    tx_frames: int
    rx_dropped: int
    tx_dropped: int
    connected: bool
    started: tuple


class VhostUser(Node):
    """A vhost-user back-end: QEMU's virtio-net device attaches to it through ``socket_path``; port 0 is the wire."""

    kind = "vhost-user"

    def __init__(self, net: "Network", name: str, node_id: int, socket_path: str):
        super().__init__(net, name, node_id, 1)
        self.socket_path = socket_path

    def stats(self) -> VhostUserStats:
        """Connections, messages, negotiated features, kicks and calls per ring, frames each way."""
        c = ffi.new("sim_vhost_user_stats *")
        self._net._call(lib.sim_vhost_user_get_stats, self._id, c, context=f"{self.name}.stats()")
        vals: dict[str, Any] = {}
        for f in fields(VhostUserStats):
            v = getattr(c, f.name)
            if f.type == "tuple":
                vals[f.name] = (type(v[0])(v[0]), type(v[1])(v[1]))
            else:
                vals[f.name] = bool(v) if f.type == "bool" else int(v)
        return VhostUserStats(**vals)

    def events(self) -> list[VirtioEvent]:
        """Faults and protocol problems recorded, oldest first."""
        out = []
        e = ffi.new("sim_virtio_event *")
        i = 0
        while lib.sim_vhost_user_event(self._net._handle(), self._id, i, e) == 0:
            out.append(VirtioEvent(int(e.time), int(e.queue), ffi.string(lib.sim_virtio_fault_name(e.fault)).decode(),
                                   ffi.string(e.why).decode()))
            i += 1
        return out


def add_vhost_user(net: "Network", name: str, socket_path: str, poll_interval: TimeLike = "100us") -> VhostUser:
    """Create a vhost-user back-end listening on ``socket_path`` (for a :class:`~pyharness.bridge.RealtimeNetwork`)."""
    out = ffi.new("sim_node_id *")
    net._call(lib.sim_vhost_user_add, name.encode(), str(socket_path).encode(), parse_time(poll_interval, "poll_interval"),
              out, context=f"vhost_user({name!r}, {socket_path!r})")
    node = VhostUser(net, name, int(out[0]), str(socket_path))
    net._nodes[name] = node
    return node


def add_virtio_net(net: "Network", name: str, guest: Node, *, mac: Optional[MacLike] = None, mtu: int = 1500,
                   queue_size: int = 256, features: Optional[Iterable[str]] = None,
                   driver_features: Optional[Iterable[str]] = None, rx_buf_size: int = 0,
                   indirect: bool = False, split_header: bool = False, driver_mode: str = "correct",
                   notify_latency: TimeLike = 0, device_latency: TimeLike = 0, irq_latency: TimeLike = 0,
                   driver_latency: TimeLike = 0) -> VirtioNet:
    """Create a virtio-net node and link ``guest`` (its lowest free port) to its port 0.

    ``features`` are what the device offers and ``driver_features`` what the
    driver accepts (names of :data:`FEATURES`; default: all); the negotiated
    set is their intersection and must hold ``version_1``. ``mac`` defaults to
    the guest's. ``driver_mode`` is "correct", "no_suppress" or "no_recheck"
    (the lost wake-up). The latencies are virtual times (see tern/sim_virtio.h).
    """
    if driver_mode not in DRIVER_MODES:
        raise ConfigError(f"virtio_net({name!r}) driver_mode={driver_mode!r}: one of {', '.join(DRIVER_MODES)}")
    if not isinstance(guest, Node):
        guest = net.node(guest)
    if mac is None:
        mac = getattr(guest, "mac", None) or default_mac(name)
    cfg = ffi.new("sim_virtio_net_config *")
    cfg.mac = parse_mac(mac)
    cfg.mtu = mtu
    cfg.queue_size = queue_size
    cfg.dev_features = _feature_bits(features, f"virtio_net({name!r}) features")
    cfg.drv_features = _feature_bits(driver_features, f"virtio_net({name!r}) driver_features")
    cfg.rx_buf_size = rx_buf_size
    cfg.use_indirect = indirect
    cfg.split_header = split_header
    cfg.drv_mode = DRIVER_MODES[driver_mode]
    cfg.notify_ns = parse_time(notify_latency, "notify_latency")
    cfg.device_ns = parse_time(device_latency, "device_latency")
    cfg.irq_ns = parse_time(irq_latency, "irq_latency")
    cfg.driver_ns = parse_time(driver_latency, "driver_latency")
    out = ffi.new("sim_node_id *")
    net._call(lib.sim_virtio_net_add, name.encode(), cfg, out, context=f"virtio_net({name!r})")
    node = VirtioNet(net, name, int(out[0]), guest)
    net._nodes[name] = node
    node._used_ports.discard(0)
    net.link(guest, node, port_b=0)
    return node


def add_ping_responder(net: "Network", name: str, ipv4: str, mac: Optional[MacLike] = None,
                       log_limit: int = 0, ipv6: Optional[str] = None) -> PingResponder:
    """Create a ping responder answering for ``ipv4`` ("192.168.1.2", a prefix is ignored) and, when
    given, for the IPv6 address ``ipv6`` ("fd00::2", a prefix is ignored): Neighbor Solicitations and
    ICMPv6 Echo Requests."""
    ip = str(ipaddress.IPv4Interface(ipv4).ip)
    ip6 = None
    if ipv6 is not None:
        try:
            ip6 = str(ipaddress.IPv6Interface(ipv6).ip)
        except ValueError as e:
            raise ConfigError(f"ping_responder({name!r}): ipv6={ipv6!r} is not an IPv6 address: {e}") from None
    mac_s = default_mac(name) if mac is None else format_mac(parse_mac(mac))
    out = ffi.new("sim_node_id *")
    net._call(lib.sim_ping_responder_add, name.encode(), parse_mac(mac_s), ipaddress.IPv4Address(ip).packed,
              log_limit, out, context=f"ping_responder({name!r})")
    if ip6 is not None:  # the C side says what it refuses (::, multicast)
        net._call(lib.sim_ping_responder_set_ipv6, int(out[0]), ipaddress.IPv6Address(ip6).packed,
                  context=f"ping_responder({name!r}, ipv6={ipv6!r})")
    node = PingResponder(net, name, int(out[0]), mac_s, ip, ip6)
    net._nodes[name] = node
    if ip6 is not None:
        net._ip_owner.setdefault(ip6, node)
    net._ip_owner.setdefault(ip, node)
    return node


__all__ = ["VirtioNet", "PingResponder", "VhostUser", "VhostUserStats", "add_vhost_user", "VirtioNetCounters", "VirtioEvent", "PingRecord", "PingCounters",
           "FEATURES", "DRIVER_MODES", "RECEIVEQ", "TRANSMITQ", "feature_names"]
