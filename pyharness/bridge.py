"""The real-time bridge: a simulation in wall-clock time, linked to the Linux kernel through TAP.

>>> net = RealtimeNetwork(seed=1)
>>> dut = net.host("dut", ipv4="10.77.0.2/24")
>>> with net.kernel(dut, "10.77.0.1/24", loss=0.01) as k:      # netns + TAP + link
...     ping = k.ns.popen(["ping", "-c", "3", "10.77.0.2"])
...     net.run_realtime(for_="10s", until=lambda: ping.poll() is not None)

In real time, virtual time follows CLOCK_MONOTONIC (sim/src/nodes/realtime.c):
:meth:`RealtimeNetwork.run_realtime` runs the simulation in slices of wall
time and checks its predicate between slices, so a test can interleave its
own work (socket calls, subprocesses) with the running network. Wall time
that passes between runs passes in the simulation too. A frame from the
kernel enters virtual time when the driver reads it, never before it really
arrived, so a link's delay is never shortened by a late test process (a
late process only adds to it). Real-time runs are not reproducible;
captures still carry the virtual (= wall-clock) times.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, fields
from typing import Any, Callable, Iterator, Optional

from ._lib import ffi, lib
from .errors import ConfigError, raise_error
from .link import Link
from .netns import NetNamespace
from .network import Network, NodeRef
from .nodes import Node
from .units import TimeLike, parse_time


@dataclass(frozen=True)
class TapCounters:
    """What a TAP node moved between the kernel and the simulation (sim_tap_counters)."""

    from_kernel_frames: int
    from_kernel_bytes: int
    to_kernel_frames: int
    to_kernel_bytes: int
    to_kernel_errors: int
    read_errors: int
    last_errno: int


@dataclass(frozen=True)
class RealtimeStats:
    """What the real-time driver did (sim_realtime_stats)."""

    runs: int
    rounds: int
    sleeps: int
    tap_frames: int
    max_late_ns: int
    catchup_ns: int


class TapNode(Node):
    """A node bridged to a TAP interface of the kernel (one port)."""

    kind = "tap"

    @property
    def ifname(self) -> str:
        """The kernel's name of the interface."""
        p = lib.sim_tap_ifname(self._net._handle(), self._id)
        return ffi.string(p).decode()

    def counters(self) -> TapCounters:
        """Frames and bytes read from and written to the kernel, and errors."""
        out = ffi.new("sim_tap_counters *")
        self._net._call(lib.sim_tap_get_counters, self._id, out, context=f"{self.name}.counters()")
        return TapCounters(**{f.name: int(getattr(out, f.name)) for f in fields(TapCounters)})


@dataclass
class KernelLink:
    """What :meth:`RealtimeNetwork.kernel` set up: the namespace, the TAP node and its link."""

    ns: NetNamespace
    tap: TapNode
    link: Link
    kernel_ip: str
    ifname: str


class RealtimeNetwork(Network):
    """A :class:`~pyharness.network.Network` that can also run in real time and bridge to TAP devices.

    Everything of :class:`Network` works (virtual-time :meth:`run` too); the
    first :meth:`run_realtime` anchors virtual time to the wall clock.
    """

    def __init__(self, seed: int = 0, **kw: Any):
        super().__init__(seed, **kw)
        out = ffi.new("sim_realtime **")
        rc = lib.sim_realtime_create(self._sim, out)
        if rc != 0:
            raise_error(rc, context="RealtimeNetwork: real-time driver")
        self._rt: Any = out[0]
        self._rt_why = ffi.new("sim_realtime_stop *")
        self._rt_used = False  # a real-time run or clock read happened (a host bridge must come first)
        self._journal: Any = None  # the host bridge's journal (pyharness.hostbridge)

    def tap(self, name: str, ifname: str = "tern%d") -> TapNode:
        """A TAP node: opens (or creates) the kernel interface ``ifname`` ("tern%d": the kernel numbers it).

        The interface appears in this process's namespace, down; see
        :meth:`kernel` for the usual set-up. Raises
        :class:`~pyharness.errors.TernIOError` naming the device and the
        reason when it cannot be opened (no /dev/net/tun, no CAP_NET_ADMIN).
        """
        self._check_name(name)
        if not isinstance(ifname, str):
            raise ConfigError(f"ifname must be a string, got {ifname!r}")
        out = ffi.new("sim_node_id *")
        self._call(lib.sim_tap_add, name.encode(), ifname.encode(), out, context=f"tap({name!r}, {ifname!r})")
        node = TapNode(self, name, int(out[0]), 1)
        self._nodes[name] = node
        return node

    @contextlib.contextmanager
    def kernel(self, host: NodeRef, kernel_ip: Optional[str] = "10.77.0.1/24", name: str = "kernel",
               ifname: str = "tern%d", mtu: Optional[int] = None, **impairments: Any) -> Iterator[KernelLink]:
        """Link ``host`` to the Linux kernel: a namespace of its own, a TAP node moved into it.

        The TAP interface gets ``kernel_ip`` (None: no address, for a DHCP
        client in the namespace to configure) and is brought up inside a fresh
        namespace (:class:`~pyharness.netns.NetNamespace`); ``impairments`` go
        on the simulated link between the TAP node and ``host`` (both
        directions). On exit the network is closed (the TAP device goes) and
        the namespace is deleted, also when the block raises.
        """
        with NetNamespace() as ns:
            try:
                tap = self.tap(name, ifname)
                dev = tap.ifname
                ns.take(dev, kernel_ip, mtu=mtu)
                link = self.link(tap, host, **impairments)
                yield KernelLink(ns, tap, link, kernel_ip.split("/")[0] if kernel_ip else "", dev)
            finally:
                self.close()

    def host_bridge(self, gateway: Any, name: str = "host", netns: Any = None, journal: Any = None,
                    replay: Any = None) -> Any:
        """Make ``gateway``'s outside the real host (a :class:`~pyharness.hostbridge.HostBridge`).

        Call it before the first :meth:`run_realtime`. ``netns`` (a path such
        as /run/netns/NAME) puts every host socket in that namespace;
        ``journal`` is where host events are recorded (default
        ``<artifacts dir>/<name>.journal``); ``replay`` (or the pytest option
        ``--replay-journal``) runs from a recorded journal instead of the host.
        Raises :class:`~pyharness.errors.TernIOError` naming
        ``net.ipv4.ping_group_range`` when ping sockets are not allowed.
        """
        from .hostbridge import make_host_bridge

        self._check_name(name)
        return make_host_bridge(self, gateway, name, netns=netns, journal=journal, replay=replay)

    # -- running --------------------------------------------------------------

    def realtime_now_ns(self) -> int:
        """The virtual time the wall clock corresponds to now (ns)."""
        self._handle()
        self._rt_used = True
        return int(lib.sim_realtime_now(self._rt))

    def run_realtime(self, for_: Optional[TimeLike] = None, until: Optional[Callable[[], bool]] = None,
                     slice: TimeLike = "2ms") -> Optional[bool]:
        """Run in real time: for ``for_`` of wall time, or until the predicate ``until`` holds.

        ``until`` (no argument, returns bool) is checked before the run and
        after every ``slice`` of wall time, and whenever a scripted peer
        receives a frame; ``for_`` then bounds the run (without it, the run
        goes on until the predicate holds). Returns whether the predicate
        held (None when there is none).
        """
        s = self._handle()
        if for_ is None and until is None:
            raise ConfigError("run_realtime() needs for_= or until= (or both)")
        if until is not None and not callable(until):
            raise ConfigError(f"until must be a callable returning bool, got {until!r}")
        step = parse_time(slice, "slice")
        if step == 0:
            raise ConfigError("slice must be > 0")
        self._rt_used = True
        limit = None if for_ is None else lib.sim_realtime_now(self._rt) + parse_time(for_, "for_")
        if until is not None and until():
            return True
        why = self._rt_why
        while True:
            now = int(lib.sim_realtime_now(self._rt))
            if limit is not None and now >= limit:
                break
            d = step if limit is None else min(step, limit - now)
            flags = lib.SIM_RT_STOP_ON_PEER_RX if self._serviced else 0
            rc = lib.sim_realtime_run(self._rt, d, flags, ffi.NULL, ffi.NULL, why)
            self._check(rc, f"run_realtime(for_={for_!r})")
            if why[0] == lib.SIM_RT_STOP_PEER_RX:
                for p in self._serviced:
                    p._drain()
            if until is not None and until():
                return True
        if until is not None:
            return False
        return None

    def realtime_stats(self) -> RealtimeStats:
        """What the real-time driver did so far."""
        out = ffi.new("sim_realtime_stats *")
        lib.sim_realtime_get_stats(self._rt, out)
        return RealtimeStats(**{f.name: int(getattr(out, f.name)) for f in fields(RealtimeStats)})

    def close(self) -> None:
        """Free the real-time driver and the simulation (TAP devices disappear). Idempotent."""
        if getattr(self, "_rt", None) is not None:
            rt, self._rt = self._rt, None
            lib.sim_realtime_destroy(rt)
        super().close()
        if getattr(self, "_journal", None) is not None:
            j, self._journal = self._journal, None
            ffi.release(j)  # after the simulation: its host bridge writes into it until then


def run_until(net: RealtimeNetwork, pred: Callable[[], bool], timeout: TimeLike = "10s",
              slice: TimeLike = "2ms") -> bool:
    """Run ``net`` in real time until ``pred()`` holds or ``timeout`` passes; returns whether it held."""
    return bool(net.run_realtime(for_=timeout, until=pred, slice=slice))



__all__ = ["RealtimeNetwork", "TapNode", "TapCounters", "RealtimeStats", "KernelLink", "run_until"]
