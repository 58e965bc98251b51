"""Nodes of a :class:`~pyharness.network.Network`: the node base class and switches (peers: :mod:`pyharness.peer`, hosts: :mod:`pyharness.host`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Optional, Union

from ._lib import ffi, lib
from .errors import ConfigError
from .errors import hide_from_traceback as __tracebackhide__  # noqa: F401  (pytest shows the test's line, not ours)

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
    #: the most frames the node sent at one virtual instant (the simulator stops a run past
    #: SIM_LIVELOCK_FRAMES with :class:`~pyharness.errors.LivelockError`)
    max_burst_frames: int


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


def __getattr__(name: str) -> Any:
    # Peer moved to pyharness.peer; keep "from pyharness.nodes import Peer" working.
    if name == "Peer":
        from .peer import Peer

        return Peer
    raise AttributeError(name)


__all__ = ["Node", "Switch", "NodeCounters", "SwitchCounters", "parse_mac", "format_mac", "default_mac"]
