"""The host bridge: a gateway's outside made of the real host, journalled and replayable.

>>> net = RealtimeNetwork(seed=1, artifacts="artifacts/demo")
>>> gw = net.gateway("gw", profile="slirp", outside_router="198.51.100.1")
>>> hb = net.host_bridge(gw, netns="/run/netns/mine")   # before the first run_realtime()
>>> port = hb.forward("tcp", host_port=0, guest="10.0.2.15", port=80)   # the host port bound

The bridge node (sim/src/gateway/hostbridge.c) sits on the gateway's outside
segment as its default router. Guests' TCP connections end in the bridge's own
Tern stack and continue as host sockets; UDP and ICMP echo go through host UDP
and unprivileged ping sockets; inbound forwards bind host ports on 127.0.0.1.
The bridge's own address stands for the host's 127.0.0.1. Every host event is
written to a journal (``<artifacts dir>/<name>.journal``); with ``replay=PATH``
(or the pytest option ``--replay-journal PATH``) the same test runs from the
journal instead of the host, byte for byte, without any socket.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

from ._lib import ffi, lib
from .errors import ConfigError, raise_error
from .nodes import Node

if TYPE_CHECKING:
    from .bridge import RealtimeNetwork
    from .gateway import Gateway

#: Set by the pytest plugin's ``--replay-journal PATH``: host bridges replay this journal.
REPLAY_JOURNAL: Optional[Path] = None

PROTOCOLS = {"tcp": 6, "udp": 17}


class HostBridge(Node):
    """A host-bridge node (one port, linked to the gateway's outside port). Made by ``RealtimeNetwork.host_bridge``."""

    kind = "hostbridge"

    def __init__(self, net: "RealtimeNetwork", name: str, node_id: int, gateway: "Gateway", ip: str,
                 journal_path: Path, replaying: bool):
        super().__init__(net, name, node_id, 1)
        self.gateway = gateway
        #: the bridge's address on the outside segment; it stands for the host's 127.0.0.1
        self.ip = ip
        #: the journal file (written live, read on replay)
        self.journal_path = journal_path
        #: True when the run is fed from a journal instead of the host
        self.replaying = replaying

    def forward_range(self, protocol: str, host_ports: tuple[int, int], guest: Optional[str] = None,
                      ports: Optional[tuple[int, int]] = None) -> list[int]:
        """Forward a range: host ports ``host_ports`` = (first, last) to the guest's ``ports`` = (first, last).

        Both ranges have the same length; host port 0 is not allowed in a
        range (one forward with host_port=0 takes any free port). Returns the
        host ports bound, in order. On an error the forwards made so far stay.
        """
        if (not isinstance(host_ports, tuple) or len(host_ports) != 2 or not isinstance(ports, tuple)
                or len(ports) != 2):
            raise ConfigError("forward_range: host_ports and ports are (first, last) pairs")
        (hlo, hhi), (glo, ghi) = host_ports, ports
        if not (isinstance(hlo, int) and isinstance(hhi, int) and 1 <= hlo <= hhi <= 65535):
            raise ConfigError(f"forward_range host_ports: {host_ports!r} is not 1 <= first <= last <= 65535")
        if not (isinstance(glo, int) and isinstance(ghi, int) and 1 <= glo <= ghi <= 65535):
            raise ConfigError(f"forward_range ports: {ports!r} is not 1 <= first <= last <= 65535")
        if hhi - hlo != ghi - glo:
            raise ConfigError(f"forward_range: host_ports {host_ports!r} and ports {ports!r} differ in length")
        return [self.forward(protocol, hlo + i, guest, glo + i) for i in range(hhi - hlo + 1)]

    def forward(self, protocol: str, host_port: int = 0, guest: Optional[str] = None,
                port: Optional[int] = None) -> int:
        """Forward ``protocol`` ("tcp"/"udp") from host port ``host_port`` on 127.0.0.1 to ``guest``:``port``.

        The gateway gets a forward from a free outside port to the guest; the
        bridge binds the host port (0: any free one) to it. Returns the host
        port bound (on replay, the one the journal recorded). Ranges:
        :meth:`forward_range`.
        """
        if protocol not in PROTOCOLS:
            raise ConfigError(f"forward protocol: {protocol!r} is not tcp or udp")
        if isinstance(host_port, bool) or not isinstance(host_port, int) or not 0 <= host_port <= 65535:
            raise ConfigError(f"forward host_port: {host_port!r} is not 0..65535")
        gw_port = self.gateway.forward(protocol, 0, guest, port)
        bound = ffi.new("uint16_t *")
        s = self._net._handle()
        rc = lib.sim_hostbridge_forward(s, self._id, PROTOCOLS[protocol], host_port, gw_port, bound)
        if rc != 0:
            self.gateway.unforward(protocol, gw_port)
            raise_error(rc, ffi.string(lib.sim_last_error(s)).decode(errors="replace"),
                        f"{self.name}.forward({protocol!r}, {host_port})")
        return int(bound[0])

    def counters(self) -> dict[str, int]:
        """What the bridge did (sim_hostbridge_counters): connects, refusals, bytes each way, datagrams, events."""
        c = ffi.new("sim_hostbridge_counters *")
        self._net._call(lib.sim_hostbridge_get_counters, self._id, c, context=f"{self.name}.counters()")
        return {n: int(getattr(c, n)) for n, _ in ffi.typeof("sim_hostbridge_counters").fields}


def make_host_bridge(net: "RealtimeNetwork", gateway: "Gateway", name: str = "host",
                     netns: Union[str, os.PathLike, None] = None, journal: Union[str, os.PathLike, None] = None,
                     replay: Union[str, os.PathLike, None] = None) -> HostBridge:
    """Add a host bridge on ``gateway``'s outside port (see :meth:`RealtimeNetwork.host_bridge`)."""
    if net._rt_used:
        raise ConfigError("host_bridge: add it before the first run_realtime() (the journal must see every clock read)")
    if net._journal is not None:
        raise ConfigError("host_bridge: this network already has one")
    if gateway.outside_port is None or gateway.plan.outside is None:
        raise ConfigError(f"host_bridge: gateway {gateway.name!r} has no outside port")
    if gateway.plan.outside_router is None:
        raise ConfigError(f"host_bridge: gateway {gateway.name!r} needs outside_router= (the bridge's address)")
    replay = replay if replay is not None else REPLAY_JOURNAL
    if replay is not None:
        path = Path(replay)
        mode = lib.SIM_JOURNAL_REPLAY
    else:
        path = Path(journal) if journal is not None else net.artifacts_dir / f"{name}.journal"
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = lib.SIM_JOURNAL_RECORD
    s = net._handle()
    out = ffi.new("sim_journal **")
    rc = lib.sim_journal_open(s, str(path).encode(), mode, out)
    if rc != 0:
        raise_error(rc, ffi.string(lib.sim_last_error(s)).decode(errors="replace"), "host_bridge journal")
    net._journal = ffi.gc(out[0], lib.sim_journal_close)
    cfg = ffi.new("sim_hostbridge_config *")
    ip = gateway.plan.outside_router
    cfg.addr = int(ip)
    cfg.prefix_len = gateway.plan.outside.network.prefixlen
    cfg.gateway = int(gateway.plan.outside.ip)
    cfg.seed = (net.seed * 0x9E3779B97F4A7C15 + 1) % (1 << 64)
    mac = bytes([0x02, 0x68, 0x62]) + ipaddress.IPv4Address(ip).packed[1:]
    ffi.memmove(cfg.mac, mac, 6)
    # the gateway's outside MAC: a host datagram for a forward may come before the gateway's first frame
    ffi.memmove(cfg.gateway_mac, bytes.fromhex(gateway.macs[gateway.outside_port].replace(":", "")), 6)
    if netns is not None:
        text = os.fspath(netns).encode()
        if len(text) > lib.SIM_HB_NETNS_MAX:
            raise ConfigError(f"host_bridge netns: {netns!r} is longer than {lib.SIM_HB_NETNS_MAX} bytes")
        ffi.memmove(cfg.netns, text, len(text))
    nid = ffi.new("sim_node_id *")
    rc = lib.sim_hostbridge_add(s, name.encode(), cfg, net._journal, nid)
    if rc != 0:
        raise_error(rc, ffi.string(lib.sim_last_error(s)).decode(errors="replace"), f"host_bridge({name!r})")
    lib.sim_realtime_set_journal(net._rt, net._journal)
    hb = HostBridge(net, name, int(nid[0]), gateway, str(ip), path, mode == lib.SIM_JOURNAL_REPLAY)
    net._nodes[name] = hb
    net.link(gateway, hb, port_a=gateway.outside_port)
    return hb


__all__ = ["HostBridge", "make_host_bridge", "REPLAY_JOURNAL"]
