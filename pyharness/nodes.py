"""Nodes of a :class:`~pyharness.network.Network`: scripted peers and switches."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Optional, Union

from ._lib import ffi, lib
from .errors import ConfigError

if TYPE_CHECKING:
    from .network import Network

BROADCAST = "ff:ff:ff:ff:ff:ff"
MacLike = Union[str, bytes]


def parse_mac(value: MacLike, name: str = "mac") -> bytes:
    """Six bytes from "02:00:00:00:00:01" (":" or "-" separated) or 6 raw bytes."""
    if isinstance(value, (bytes, bytearray)):
        if len(value) != 6:
            raise ConfigError(f"{name} must be 6 bytes, got {len(value)}: {bytes(value)!r}")
        return bytes(value)
    if isinstance(value, str):
        parts = value.replace("-", ":").split(":")
        try:
            if len(parts) == 6 and all(1 <= len(p) <= 2 for p in parts):
                return bytes(int(p, 16) for p in parts)
        except ValueError:
            pass
    raise ConfigError(f"{name}: not a MAC address: {value!r}")


def format_mac(mac: bytes) -> str:
    """"02:00:00:00:00:01" from six bytes."""
    return ":".join(f"{b:02x}" for b in mac)


def default_mac(name: str) -> str:
    """The MAC a peer gets when none is given: locally administered, from its name."""
    h = hashlib.sha256(name.encode()).digest()
    return format_mac(bytes([0x02]) + h[:5])


@dataclass(frozen=True)
class NodeCounters:
    """Frames a node received and sent (sim_node_counters)."""

    rx_frames: int
    rx_bytes: int
    tx_frames: int
    tx_bytes: int
    tx_no_link: int
    polls: int


@dataclass(frozen=True)
class SwitchCounters:
    """What a learning switch did (sim_switch_counters)."""

    forwarded: int
    flooded: int
    filtered: int
    learned: int
    moved: int
    aged: int
    table_full: int
    runts: int


def _from_c(cls: Any, cstruct: Any) -> Any:
    return cls(**{f.name: int(getattr(cstruct, f.name)) for f in fields(cls)})


class Node:
    """Something attached to links: a peer, a switch (later: hosts, services).

    A node belongs to its network; after ``Network.close()`` every method
    raises :class:`~pyharness.errors.StateError`.
    """

    kind = "node"

    def __init__(self, net: "Network", name: str, node_id: int, ports: int):
        self._net = net
        self._id = node_id
        self.name = name
        self.ports = ports
        self._used_ports: set[int] = set()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} ports={self.ports}>"

    @property
    def net(self) -> "Network":
        """The network this node belongs to."""
        return self._net

    def node_counters(self) -> NodeCounters:
        """Frames and bytes this node received and sent so far."""
        out = ffi.new("sim_node_counters *")
        self._net._call(lib.sim_node_get_counters, self._id, out, context=f"{self.name}.node_counters()")
        return _from_c(NodeCounters, out)

    def _take_port(self, port: Optional[int]) -> int:
        if port is None:
            for p in range(self.ports):
                if p not in self._used_ports:
                    return p
            raise ConfigError(f"node {self.name!r} has no free port left (it has {self.ports})")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < self.ports:
            raise ConfigError(f"port of {self.name!r} must be in 0..{self.ports - 1}, got {port!r}")
        return port


class Peer(Node):
    """A scripted peer: the test sends and receives its frames as scapy packets.

    Frames sent leave at the current virtual time. Frames received wait in a
    queue until :meth:`recv` or :meth:`received` takes them.
    """

    kind = "peer"

    def __init__(self, net: "Network", name: str, node_id: int, ports: int, mac: str):
        super().__init__(net, name, node_id, ports)
        self.mac = mac
        self._buf = ffi.new("uint8_t[]", lib.SIM_MAX_FRAME)
        self._len = ffi.new("size_t *")
        self._port = ffi.new("uint32_t *")
        self._time = ffi.new("uint64_t *")

    def counters(self) -> NodeCounters:
        """Frames and bytes this peer received and sent so far."""
        return self.node_counters()

    def _frame_bytes(self, pkt: Any) -> bytes:
        if isinstance(pkt, (bytes, bytearray, memoryview)):
            return bytes(pkt)
        sc = _scapy()
        if not isinstance(pkt, sc.Packet):
            raise ConfigError(f"{self.name}.send(): expected a scapy packet or bytes, got {type(pkt).__name__}")
        if not isinstance(pkt, sc.Ether):
            pkt = sc.Ether(src=self.mac, dst=BROADCAST) / pkt
        elif "src" not in pkt.fields or "dst" not in pkt.fields:
            # Never let scapy fill these from the real machine (its interfaces, its ARP).
            pkt = pkt.copy()
            if "src" not in pkt.fields:
                pkt.src = self.mac
            if "dst" not in pkt.fields:
                pkt.dst = BROADCAST
        return bytes(pkt)

    def send(self, pkt: Any, port: int = 0) -> None:
        """Send a frame out of ``port`` now.

        ``pkt`` is a scapy packet or bytes. A packet without an Ethernet
        header gets one; an unset Ethernet source is this peer's MAC and an
        unset destination is broadcast (scapy would otherwise ask the real
        machine). Other fields scapy fills by itself (an IP source, for
        instance) come from scapy: set them in tests.
        """
        data = self._frame_bytes(pkt)
        self._net._call(lib.sim_peer_send, self._id, port, data, len(data), context=f"{self.name}.send(port={port!r})")

    @property
    def pending(self) -> int:
        """Frames waiting to be received."""
        return int(lib.sim_peer_pending(self._net._handle(), self._id))

    @property
    def rx_dropped(self) -> int:
        """Frames dropped because the receive queue was full."""
        return int(lib.sim_peer_rx_dropped(self._net._handle(), self._id))

    def recv(self) -> Optional[Any]:
        """The oldest received frame as a scapy ``Ether`` packet, or None.

        The packet's ``.time`` is its virtual arrival time in seconds (float),
        ``.time_ns`` the exact nanoseconds and ``.port`` the port it came in on.
        """
        s = self._net._handle()
        rc = lib.sim_peer_recv(s, self._id, self._buf, lib.SIM_MAX_FRAME, self._len, self._port, self._time)
        if rc == lib.TERN_ERR_EMPTY:
            return None
        self._net._check(rc, f"{self.name}.recv()")
        pkt = _scapy().Ether(bytes(ffi.buffer(self._buf, self._len[0])))
        pkt.time_ns = int(self._time[0])
        pkt.time = pkt.time_ns / 1e9
        pkt.port = int(self._port[0])
        pkt.sniffed_on = f"{self.name}:{pkt.port}"
        return pkt

    def received(self) -> list[Any]:
        """Take every frame waiting, oldest first (see :meth:`recv`)."""
        out = []
        while (pkt := self.recv()) is not None:
            out.append(pkt)
        return out


class Switch(Node):
    """A learning Ethernet switch (immediate forwarding, MAC ageing)."""

    kind = "switch"

    def counters(self) -> SwitchCounters:
        """Frames forwarded, flooded, filtered; MACs learned, moved, aged."""
        out = ffi.new("sim_switch_counters *")
        self._net._call(lib.sim_switch_get_counters, self._id, out, context=f"{self.name}.counters()")
        return _from_c(SwitchCounters, out)

    def lookup(self, mac: MacLike) -> Optional[int]:
        """The port ``mac`` is learned on, or None if unknown or aged out."""
        raw = parse_mac(mac)
        port = ffi.new("uint32_t *")
        rc = lib.sim_switch_lookup(self._net._handle(), self._id, raw, port)
        if rc == lib.TERN_ERR_EMPTY:
            return None
        self._net._check(rc, f"{self.name}.lookup({mac!r})")
        return int(port[0])


def _scapy() -> Any:
    from ._scapy import scapy

    return scapy()


__all__ = ["Node", "Peer", "Switch", "NodeCounters", "SwitchCounters", "parse_mac", "format_mac", "default_mac"]
