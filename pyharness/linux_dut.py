"""The Linux kernel as the device under test (``pyharness run --dut linux``).

The conformance scenarios talk to their DUT only through socket-level
operations and play the remote side as a scripted peer. Here the DUT is the
Linux kernel of a network namespace of our own:

- :class:`LinuxNetwork` is a :class:`~pyharness.bridge.RealtimeNetwork` whose
  clock is the wall clock. It overrides the primitives the peer, ``expect``,
  ``expect_nothing`` and ``net.run`` use to advance time (``now_ns``,
  ``_advance``, ``_run_predicate``), so scenarios run unmodified in real time;
  ``at=`` checks get the profile's real-time tolerance (``widen_tolerance``).
- The scripted peer (10.0.0.2/24) is linked to a TAP node; the TAP device is
  moved into a fresh namespace and given the DUT's address 10.0.0.1/24 (and
  a fixed MAC, the one a Tern DUT would have).
- A helper process inside the namespace (``pyharness/_sockhelper.py``, run
  with ``ip netns exec``) owns the kernel sockets and executes JSON-line
  commands over a pipe. The socket classes here mirror the Tern socket
  classes' methods and raise the same exceptions (errno -> Tern error code).
- :data:`LINUX_PROFILE` holds Linux's values where the RFCs leave a choice;
  the sysctls set in the namespace are the ones the profile states.

A scenario that would have to wait more than :data:`REALTIME_BUDGET_S` of real
time (a 60 s TIME-WAIT, a 2 h keep-alive) is skipped with that reason; a
socket option Linux has no per-socket equivalent for skips the scenario too.
"""

from __future__ import annotations

import errno as _errno
import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Optional, Union

from ._lib import ffi, lib
from .bridge import RealtimeNetwork
from .dut import DUT_IP, DUT_IP6, MS, PEER_IP, PREFIX, PREFIX6, SEC, DutProfile
from .errors import ConfigError, TernError, make_error
from .netns import NetNamespace, unavailable
from .nodes import default_mac
from .peer import Peer
from .sockets import PingReply, SockError, TcpInfo
from .units import parse_time

__all__ = ["LINUX_PROFILE", "LINUX_SYSCTLS", "LinuxNetwork", "LinuxDut", "make_linux_dut", "linux_unavailable",
           "REALTIME_BUDGET_S", "HelperError"]

#: A scenario may run this long in real time (from the network's creation); a wait beyond it skips the scenario.
REALTIME_BUDGET_S = float(os.environ.get("TERN_LINUX_BUDGET", "20"))
#: run(until=predicate) without for_: real-time bound (the virtual-time rule is "60 s of quiet").
UNBOUNDED_RUN_S = 20.0

#: Sysctls set inside the DUT's namespace before its interface comes up (values the profile below states).
LINUX_SYSCTLS = {
    "net.ipv6.conf.all.disable_ipv6": 1,  # no IPv6 router/neighbour solicitations on the scenarios' link
    "net.ipv6.conf.default.disable_ipv6": 1,
    "net.ipv4.ip_default_ttl": 64,
    "net.ipv4.ipfrag_time": 30,
    "net.ipv4.icmp_ratelimit": 1000,
    "net.ipv4.icmp_echo_ignore_broadcasts": 1,
    "net.ipv4.tcp_syn_retries": 6,
    "net.ipv4.tcp_keepalive_time": 7200,
    "net.ipv4.tcp_keepalive_intvl": 75,
    "net.ipv4.tcp_keepalive_probes": 9,
    "net.ipv4.tcp_abort_on_overflow": 0,
    "net.ipv4.tcp_no_metrics_save": 1,
}

def _config_hz() -> int:
    """The kernel's CONFIG_HZ (timer wheel tick), from /proc/config.gz or /boot/config-*; 250 if unknown."""
    import gzip
    import re as _re

    for path in ("/proc/config.gz", f"/boot/config-{os.uname().release}"):
        try:
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rt") as f:
                m = _re.search(r"^CONFIG_HZ=(\d+)$", f.read(), _re.M)
            if m:
                return int(m.group(1))
        except OSError:
            continue
    return 250


#: Linux's values where the RFCs leave a choice (kernel defaults; see LINUX_SYSCTLS).
LINUX_PROFILE = DutProfile(
    name="linux",
    ttl=64,
    # neigh: base_reachable_time 30 s (REACHABLE for a random 15..45 s, then STALE/DELAY/PROBE)
    arp_timeout=30 * SEC,
    arp_retry=1 * SEC,  # neigh retrans_time_ms 1000
    arp_retries=3,  # neigh mcast_solicit 3
    # a failed resolution drops the queued datagrams; EHOSTUNREACH goes only to connected sockets
    arp_failure_icmp=False,
    frag_overlap="drop",  # ip_fragment.c: any overlap drops the whole datagram (since 3.x, RFC 5722 spirit)
    icmp_error_checks_source=False,  # unconnected UDP sockets are matched by port only
    arp_queue=None,  # neigh unres_qlen_bytes 212992 (truesize), oldest dropped first
    arp_queue_bytes=212992,
    arp_queue_keeps="newest",
    udp_rx_queue=None,  # SO_RCVBUF (rmem_default 212992, truesize), new datagrams dropped when full
    udp_rx_bytes=212992,
    reasm_timeout=30 * SEC,  # ipfrag_time 30
    icmp_rate=1,  # icmp_ratelimit 1000 ms per destination, XRLIM_BURST_FACTOR 6
    icmp_burst=6,
    echo_broadcast=False,
    ip_protocols=(1, 2, 6, 17),  # ICMP, IGMP, TCP, UDP
    mtu=1500,
    ephemeral_low=32768,  # net.ipv4.ip_local_port_range
    ephemeral_high=60999,
    rto_initial=1 * SEC,  # TCP_TIMEOUT_INIT
    rto_min=200 * MS,  # TCP_RTO_MIN
    rto_max=120 * SEC,  # TCP_RTO_MAX
    syn_retries=6,
    data_retries_unit="time",  # tcp_retries2 -> a time (retransmits_timed_out), not a count
    loss_recovery="rack",  # tcp_recovery 1 (RACK-TLP) + PRR
    classic_recovery=None,  # net.ipv4.tcp_recovery is per namespace, not per socket
    rack_recovery=None,  # the same: the namespace's tcp_recovery 1 (RACK-TLP) is the default
    tlp_probe_halves=False,  # tcp_send_loss_probe(): the last skb, one segment
    quickacks=16,  # TCP_MAX_QUICKACKS: quick-ACK mode at the start of a connection
    backlog_extra=1,
    rx_buffer_is_window=False,  # SO_RCVBUF 4096 advertises 2920 (tcp_adv_win_scale)  # sk_acceptq_is_full: ack backlog > sk_max_ack_backlog
    initial_window=10,
    delack=40 * MS,  # TCP_DELACK_MIN (the ato grows towards 200 ms)
    time_wait=60 * SEC,  # TCP_TIMEWAIT_LEN, not tunable
    keepalive_idle=7200 * SEC,
    keepalive_interval=75 * SEC,
    keepalive_count=9,
    # one challenge ACK per tcp_invalid_ratelimit (500 ms) per connection: a burst gets 1
    challenge_ack_limit=1,
    backlog_full="drop",  # tcp_abort_on_overflow 0
    timing_tolerance=20 * MS,
    timing_tolerance_frac=0.05,
    timer_hz=_config_hz(),  # timer wheel: a 1 s timer (250 ticks at HZ 250) may fire up to 32 ms late
    echo_option_entries=2,  # ip_options_compile records on input (spec_dst), ip_options_build again on output
    clock_is_virtual=False,  # IP timestamps: ms since midnight UT of the wall clock
    user_timeout_from="first_retransmission",  # retransmits_timed_out(): from tp->retrans_stamp
    user_timeout_error="TIMED_OUT",  # tcp_write_err(): ETIMEDOUT, as for R2 (tcp_retries2)
    window_scale_rounding="up",  # __tcp_select_window(): ALIGN(window, 1 << rcv_wscale)
    min_send_window=48,  # tcp_bound_to_half_wnd(): MSS >= 68 - 20; smaller windows: tcp_write_wakeup() (persist)
    spurious_rto="linux",  # tcp_process_loss(): undo on FLAG_ORIG_SACK_ACKED; REXMIT_NEW bounded by cwnd
    rtt_sample_from_older_echo=True,  # tcp_ack_update_rtt(): tcp_rtt_tsopt_us() when seq_rtt_us < 0
    abort_in_time_wait=False,  # tcp_time_wait(): the descriptor's socket is closed, a timewait sock holds the TCB
    shut_rd="deliver",  # tcp_shutdown() acts on SEND_SHUTDOWN only; RCV_SHUTDOWN data is still queued
    mld_answer_late=2 * SEC // _config_hz(),  # mld_gq_start_work(): drawn ticks + 2
    notes={"kernel": os.uname().release},
)

_ERRNO_TO_TERN = {
    _errno.ECONNREFUSED: "CONN_REFUSED", _errno.ECONNRESET: "CONN_RESET", _errno.ETIMEDOUT: "TIMED_OUT",
    _errno.EHOSTUNREACH: "HOST_UNREACHABLE", _errno.ENETUNREACH: "NO_ROUTE", _errno.EMSGSIZE: "MSG_TOO_LONG",
    _errno.EADDRINUSE: "ADDR_IN_USE", _errno.EAGAIN: "WOULD_BLOCK", _errno.ENOTCONN: "NOT_CONNECTED",
    _errno.EPIPE: "NOT_CONNECTED", _errno.EBADF: "CLOSED", _errno.EINVAL: "INVALID_ARGUMENT",
    _errno.EACCES: "INVALID_ARGUMENT", _errno.EISCONN: "BAD_STATE", _errno.EALREADY: "BAD_STATE",
    _errno.ENOBUFS: "NO_BUFFER", _errno.EADDRNOTAVAIL: "INVALID_ARGUMENT", _errno.EOPNOTSUPP: "BAD_STATE",
}
_ERRNO_HINT = {_errno.EACCES: "sending to a broadcast address needs set_broadcast (SO_BROADCAST)",
               _errno.EMSGSIZE: "datagram larger than the MTU with DF set",
               _errno.ENETUNREACH: "no route to host"}


def linux_unavailable() -> Optional[str]:
    """Why the Linux DUT cannot run here (no /dev/net/tun, no CAP_NET_ADMIN...), or None."""
    return unavailable()


class HelperError(TernError):
    """The socket helper failed (it died, or answered something unexpected)."""


def _skip(reason: str) -> None:
    import pytest

    pytest.skip(reason)


def _tern_code(name: str) -> int:
    return int(getattr(lib, f"TERN_ERR_{name}"))


def errno_error(err: int, msg: str, context: str) -> TernError:
    """The exception a Tern socket would raise for the kernel's ``errno`` (NetworkError, WouldBlockError...)."""
    name = _ERRNO_TO_TERN.get(err, "INVALID_ARGUMENT")
    from .errors import _BY_CODE

    code = _tern_code(name)
    generic = _BY_CODE[code][2] if code in _BY_CODE else name
    hint = _ERRNO_HINT.get(err)
    text = f"{generic} ({_errno.errorcode.get(err, err)}: {msg}{'; ' + hint if hint else ''})"
    return make_error(code, text, context)


# ---------------------------------------------------------------------------------------------------------------
# The real-time network
# ---------------------------------------------------------------------------------------------------------------


class _RealtimePeer(Peer):
    """A scripted peer in real time: a frame it sends leaves now (the simulation catches up first and after).

    Frames from the kernel come through TAP without the padding an Ethernet
    NIC adds in hardware; they are padded to the 60-byte minimum (RFC 894)
    as they arrive, as they would be on a wire.
    """

    def _drain(self) -> int:
        n = super()._drain()
        if n:
            hist = self._history
            for i in range(max(len(hist) - n, 0), len(hist)):
                f = hist[i]
                if len(f.data) < 60:
                    f.data = f.data + b"\0" * (60 - len(f.data))
                    f._pkt = None
        return n

    def send(self, pkt: Any, port: int = 0) -> None:
        net = self._net
        net._sync()
        super().send(pkt, port)
        net._sync()

    def send_all(self, pkts: Any, port: int = 0) -> None:
        net = self._net
        net._sync()
        super().send_all(pkts, port)  # queued at one instant, written to the TAP device by the next sync
        net._sync()

    def expect(self, template: Any, within: Any = None, at: Any = None, tolerance: Any = None,
               port: Optional[int] = None, **kw: Any) -> Any:
        return super().expect(template, within=within, at=at, tolerance=tolerance, port=port, **kw)


class LinuxNetwork(RealtimeNetwork):
    """A network whose virtual time is the wall clock, for a DUT outside the simulation.

    ``now_ns`` catches the simulation up with the wall clock (frames from the
    kernel enter at their arrival); ``run``/``expect``/``expect_nothing`` wait
    in real time. ``profile`` gives the tolerance of exact-time checks.
    """

    def __init__(self, seed: int = 0, profile: DutProfile = LINUX_PROFILE, budget_s: float = REALTIME_BUDGET_S,
                 **kw: Any):
        super().__init__(seed, **kw)
        self.profile = profile
        self.budget_ns = int(budget_s * SEC)
        self._t0: Optional[int] = None
        self._closers: list[Callable[[], None]] = []

    # -- clock --------------------------------------------------------------

    def _sync(self) -> None:
        """Dispatch what fell due and read the kernel's frames, up to the wall clock."""
        if self._rt is None:
            return
        rc = lib.sim_realtime_run(self._rt, 0, 0, ffi.NULL, ffi.NULL, self._rt_why)
        self._check(rc, "sync with the wall clock")
        for p in self._serviced:
            p._drain()

    @property
    def now_ns(self) -> int:  # type: ignore[override]
        s = self._handle()
        self._sync()
        now = int(lib.sim_now(s))
        if self._t0 is None:
            self._t0 = now
        return now

    def mono_to_net_ns(self, mono_ns: int) -> int:
        """A CLOCK_MONOTONIC reading (of any process on this machine) as the network's time (ns)."""
        import time

        return int(lib.sim_realtime_now(self._rt)) - (time.monotonic_ns() - int(mono_ns))

    def allow_realtime(self, seconds: int) -> None:
        """Let the scenario run ``seconds`` more of real time from now, if that is beyond its budget.

        A packetdrill script declares its need with a ``// realtime: N s`` header (``pyharness.pkt``); the budget
        never shrinks.
        """
        now = self.now_ns
        assert self._t0 is not None
        self.budget_ns = max(self.budget_ns, now - self._t0 + int(seconds) * SEC)

    def _check_budget(self, target: int, what: str) -> None:
        if self._t0 is None:
            self._t0 = int(lib.sim_now(self._handle()))
        if target != lib.SIM_NEVER and target - self._t0 > self.budget_ns:
            _skip(f"Linux DUT: {what} would need {(target - self._t0) / SEC:.1f} s of real time "
                  f"(limit {self.budget_ns / SEC:.0f} s per scenario; profile {self.profile.name}; a packetdrill "
                  f"script declares a longer one with a '// realtime: N s' header)")

    def _advance(self, target: int, until_rx: bool = False) -> bool:  # type: ignore[override]
        """Run in real time until the wall clock reaches ``target``; with ``until_rx`` stop at a peer reception."""
        self._check_budget(target, f"waiting until t={target / SEC:.3f} s")
        why = self._rt_why
        flags = lib.SIM_RT_STOP_ON_PEER_RX if (self._serviced or until_rx) else 0
        while True:
            now = int(lib.sim_realtime_now(self._rt))
            if now >= target:
                self._sync()
                return False
            rc = lib.sim_realtime_run(self._rt, target - now, flags, ffi.NULL, ffi.NULL, why)
            self._check(rc, f"run(until={target}ns) in real time")
            if why[0] == lib.SIM_RT_STOP_PEER_RX:
                for p in self._serviced:
                    p._drain()
                if until_rx:
                    return True

    def _run_predicate(self, pred: Callable[[], bool], limit: int, step: int) -> bool:  # type: ignore[override]
        if pred():
            return True
        if limit == lib.SIM_NEVER:
            limit = self.now_ns + int(UNBOUNDED_RUN_S * SEC)
        self._check_budget(limit, f"run(until=predicate) until t={limit / SEC:.3f} s")
        step = max(step, 1 * MS)
        while True:
            now = self.now_ns
            if now >= limit:
                return bool(pred())
            self._advance(min(now + step, limit), until_rx=True)
            if pred():
                return True

    def widen_tolerance(self, at_ns: int, tolerance_ns: int) -> int:
        """The tolerance of an ``at=`` check in real time: the profile's, and at least the scenario's."""
        span = max(at_ns - int(lib.sim_now(self._handle())), 0)
        return max(tolerance_ns, self.profile.tolerance(span))

    def widen_within(self, within_ns: int) -> int:
        """A ``within=`` bound in real time: the scenario's plus the profile's tolerance (kernel + Python lag)."""
        return within_ns + self.profile.timing_tolerance

    # -- building -------------------------------------------------------------

    def peer(self, name: str, *args: Any, **kw: Any) -> Peer:  # type: ignore[override]
        p = super().peer(name, *args, **kw)
        p.__class__ = _RealtimePeer
        return p

    def on_close(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` when the network closes (before the simulation is freed)."""
        self._closers.append(fn)

    def close(self) -> None:
        closers, self._closers = getattr(self, "_closers", []), []
        for fn in reversed(closers):
            try:
                fn()
            except Exception:  # noqa: BLE001 - cleanup goes on
                pass
        super().close()


# ---------------------------------------------------------------------------------------------------------------
# The helper process
# ---------------------------------------------------------------------------------------------------------------

HELPER = Path(__file__).with_name("_sockhelper.py")


class SockHelper:
    """The socket helper process inside the namespace: one JSON command per line, one answer per line."""

    def __init__(self, ns: NetNamespace):
        self.proc = ns.popen([sys.executable, "-u", str(HELPER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, bufsize=1)
        self.call("ping")

    def call(self, op: str, **args: Any) -> Any:
        """Run ``op``; return its result or raise (``OSError``-like answers as :class:`_KernelErrno`)."""
        p = self.proc
        if p.poll() is not None:
            raise HelperError(f"the socket helper exited ({p.returncode}): {p.stderr.read() if p.stderr else ''}")
        p.stdin.write(json.dumps({"op": op, **args}) + "\n")
        p.stdin.flush()
        line = p.stdout.readline()
        if not line:
            err = p.stderr.read() if p.stderr else ""
            raise HelperError(f"the socket helper died during {op}: {err}")
        res = json.loads(line)
        if "ok" in res:
            return res["ok"]
        if "errno" in res:
            raise _KernelErrno(res["errno"], res.get("msg", ""))
        raise HelperError(f"socket helper: {op}({args}): {res.get('error')}")

    def close(self) -> None:
        p = self.proc
        if p.poll() is None:
            try:
                p.stdin.close()
                p.wait(timeout=2)
            except Exception:  # noqa: BLE001
                p.kill()


class _KernelErrno(Exception):
    def __init__(self, err: int, msg: str):
        super().__init__(err, msg)
        self.errno = err
        self.msg = msg


# ---------------------------------------------------------------------------------------------------------------
# Sockets
# ---------------------------------------------------------------------------------------------------------------


class _LinuxSocket:
    proto = "socket"

    def __init__(self, dut: "LinuxDut", sid: int):
        self.dut = dut
        self.host = dut  # what Tern sockets call their host
        self._id = sid
        self.closed = False

    def __repr__(self) -> str:
        return f"<Linux {type(self).__name__} #{self._id}{' closed' if self.closed else ''}>"

    def _rpc(self, op: str, context: str, sync: bool = True, **args: Any) -> Any:
        try:
            return self.dut.helper.call(op, sid=self._id, **args)
        except _KernelErrno as e:
            raise errno_error(e.errno, e.msg, f"{self.proto}.{context}") from None
        finally:
            if sync:
                self.dut.net._sync()


class LinuxUdpSocket(_LinuxSocket):
    """A UDP socket of the Linux DUT (same methods as :class:`pyharness.sockets.UdpSocket`)."""

    proto = "udp"

    def bind(self, port: int = 0, addr: Optional[str] = None) -> None:
        self._rpc("bind", f"bind({port})", addr=addr or "", port=port)

    @property
    def local(self) -> tuple[Optional[str], int]:
        ip, port = self._rpc("local", "local", sync=False)
        return (None if ip in ("0.0.0.0", "::") else ip), int(port)

    def sendto(self, data: bytes, dest: tuple[str, int]) -> None:
        ip, port = dest
        self._rpc("sendto", f"sendto({len(data)} bytes, {dest!r})", data=bytes(data).hex(), ip=ip, port=port)

    def recvfrom(self) -> Optional[tuple[bytes, tuple[str, int]]]:
        r = self._rpc("recvfrom", "recvfrom()", sync=False)
        if r is None:
            return None
        return bytes.fromhex(r[0]), (r[1], int(r[2]))

    @property
    def pending(self) -> int:
        return int(self._rpc("pending", "pending", sync=False))

    def set_ttl(self, ttl: int) -> None:
        self._rpc("setsockopt", f"set_ttl({ttl})", level="ip", name="IP_TTL", value=ttl)

    def set_broadcast(self, on: bool) -> None:
        self._rpc("setsockopt", f"set_broadcast({on})", level="sol", name="SO_BROADCAST", value=int(bool(on)))

    def set_dont_fragment(self, on: bool) -> None:
        self._rpc("setsockopt", f"set_dont_fragment({on})", level="ip", name="IP_MTU_DISCOVER",
                  value=2 if on else 0)

    def take_error(self) -> Optional[SockError]:
        r = self._rpc("take_error", "take_error()", sync=False)
        if r is None:
            return None
        return SockError(int(r["type"]), int(r["code"]), int(r["info"]) if r["type"] == 3 and r["code"] == 4 else 0,
                         r["sender"], r["dst"], int(lib.sim_now(self.dut.net._handle())))

    def close(self) -> None:
        if not self.closed:
            self._rpc("close", "close()")
            self.closed = True


class LinuxPingSocket(_LinuxSocket):
    """An ICMP echo socket of the Linux DUT (a raw ICMP socket: echo requests with the given identifier)."""

    proto = "ping"

    def send(self, dst: str, seq: int = 1, payload: Union[bytes, int] = 56, ttl: int = 0,
             dont_fragment: bool = False) -> None:
        data = bytes(i & 0xFF for i in range(payload)) if isinstance(payload, int) else bytes(payload)
        self._rpc("ping_send", f"send({dst!r}, seq={seq})", dst=dst, seq=seq, payload=data.hex(), ttl=ttl,
                  df=bool(dont_fragment))

    def recv(self) -> Optional[PingReply]:
        r = self._rpc("ping_recv", "recv()", sync=False)
        if r is None:
            return None
        data = bytes.fromhex(r["payload"])
        return PingReply(r["src"], int(r["seq"]), int(r["ttl"]), len(data),
                         int(lib.sim_now(self.dut.net._handle())), data)

    def take_error(self) -> Optional[SockError]:
        r = self._rpc("take_error", "take_error()", sync=False)
        if r is None:
            return None
        return SockError(int(r["type"]), int(r["code"]), int(r["info"]), r["sender"], r["dst"],
                         int(lib.sim_now(self.dut.net._handle())))

    def close(self) -> None:
        if not self.closed:
            self._rpc("close", "close()")
            self.closed = True


def _secs(value: Any, name: str) -> int:
    ns = parse_time(value, name)
    return max(1, -(-ns // SEC))


class LinuxTcpSocket(_LinuxSocket):
    """A TCP socket of the Linux DUT (same methods as :class:`pyharness.sockets.TcpSocket`).

    ``info()`` maps ``struct tcp_info`` onto :class:`~pyharness.sockets.TcpInfo`.
    Linux does not report sequence numbers: ``iss``/``irs`` are read from the
    DUT's SYN / SYN-ACK as the scripted peer received them, and ``snd_una`` =
    ISS + ``tcpi_bytes_acked`` (which counts the SYN of an active open; a passive open adds the
    SYN-ACK's 1 itself, Linux does not count it), ``snd_nxt`` = ``snd_una``
    + bytes in flight (SIOCOUTQ - SIOCOUTQNSD, plus a FIN), ``rcv_nxt`` = IRS + 1
    + ``tcpi_bytes_received``. Counters Linux keeps only per namespace
    (RTO timeouts, fast retransmits, challenge ACKs) come from the namespace's
    ``/proc/net/netstat``: each scenario has a namespace of its own.
    After ``close()`` the connection is found by its 4-tuple (sock_diag).
    """

    proto = "tcp"

    def __init__(self, dut: "LinuxDut", sid: int):
        super().__init__(dut, sid)
        self._tuple: Optional[tuple] = None
        self._error: Optional[str] = None
        self._user_timeout = False

    # -- options --------------------------------------------------------------

    def set_option(self, name: str, value: Any) -> None:
        """Set a socket option; options Linux has only per namespace are set there (sysctl)."""
        ctx = f"set_option({name!r}, {value!r})"
        simple = {"nodelay": ("tcp", "TCP_NODELAY", lambda v: int(bool(v))),
                  "keepalive": ("sol", "SO_KEEPALIVE", lambda v: int(bool(v))),
                  "oobinline": ("sol", "SO_OOBINLINE", lambda v: int(bool(v))),
                  "keepidle": ("tcp", "TCP_KEEPIDLE", lambda v: _secs(v, "keepidle")),
                  "keepintvl": ("tcp", "TCP_KEEPINTVL", lambda v: _secs(v, "keepintvl")),
                  "keepcnt": ("tcp", "TCP_KEEPCNT", int),
                  "rx_buffer": ("sol", "SO_RCVBUF", int),
                  "tx_buffer": ("sol", "SO_SNDBUF", int),
                  "syn_retries": ("tcp", "TCP_SYNCNT", int),
                  "quickack": ("tcp", "TCP_QUICKACK", int),
                  "user_timeout": ("tcp", "TCP_USER_TIMEOUT", lambda v: parse_time(v, "user_timeout") // MS),
                  "mss": ("tcp", "TCP_MAXSEG", int),
                  "ttl": ("ip", "IP_TTL", int),
                  "congestion": ("tcp", "TCP_CONGESTION", lambda v: {"newreno": "reno"}.get(v, v))}
        sysctl = {"sack": "net.ipv4.tcp_sack", "timestamps": "net.ipv4.tcp_timestamps", "dsack": "net.ipv4.tcp_dsack",
                  "window_scaling": "net.ipv4.tcp_window_scaling", "data_retries": "net.ipv4.tcp_retries2"}
        if name in simple:
            level, opt, conv = simple[name]
            v = conv(value)
            if name == "keepidle" and parse_time(value, name) % SEC:
                _skip(f"Linux DUT: TCP_KEEPIDLE is in whole seconds, the scenario asks for {value!r}")
            self._rpc("setsockopt", ctx, level=level, name=opt, value=v)
            if name == "user_timeout":
                self._user_timeout = v > 0
        elif name in sysctl:
            v = int(value) if name == "data_retries" else int(bool(value))
            self.dut.sysctl(sysctl[name], v)
        elif name == "rack":
            # RACK (RFC 8985) is bit 0x1 of the per-namespace tcp_recovery.
            self.dut.sysctl("net.ipv4.tcp_recovery", int(bool(value)))
        elif name == "tail_loss_probe":
            # tcp_early_retrans: 3 is the tail loss probe on (RFC 8985 section 7), 0 off.
            self.dut.sysctl("net.ipv4.tcp_early_retrans", 3 if value else 0)
        elif name in ("delack", "rto_min", "initial_window"):
            # Linux has these per route only: set on the route to the scenario's subnet (the namespace is the
            # scenario's own, so "per socket" and "per route" agree). ip route: rto_min (locked), initcwnd,
            # quickack (no delayed ACK at all); a delayed-ACK timer of another length has no knob.
            if name == "rto_min":
                self.dut.route_metric("rto_min", f"{max(1, parse_time(value, name) // MS)}ms")
            elif name == "initial_window":
                self.dut.route_metric("initcwnd", str(int(value)))
            elif parse_time(value, name) == 0:
                self.dut.route_metric("quickack", "1")
            else:
                _skip(f"Linux DUT: no knob for a delayed-ACK timer of {value!r} (only per-route quickack, "
                      "and the ato Linux computes itself)")
        else:
            raise ConfigError(f"unknown TCP socket option {name!r}")

    # -- life -------------------------------------------------------------------

    def bind(self, port: int = 0, addr: Optional[str] = None) -> None:
        self._rpc("bind", f"bind({port})", addr=addr or "", port=port)

    def listen(self, backlog: int = 8) -> None:
        self._rpc("listen", f"listen({backlog})", backlog=backlog)

    def accept(self) -> Optional["LinuxTcpSocket"]:
        sid = self._rpc("accept", "accept()")
        return None if sid is None else LinuxTcpSocket(self.dut, int(sid))

    def connect(self, ip: str, port: int) -> None:
        self._rpc("connect", f"connect({ip!r}, {port})", ip=ip, port=port)

    def send(self, data: bytes, urgent: bool = False) -> int:
        """Queue ``data``; ``urgent=True`` sends it with MSG_OOB (Linux's urgent pointer: after its last octet)."""
        if urgent:
            return int(self._rpc("send", f"send({len(data)} bytes, urgent)", data=bytes(data).hex(), oob=True))
        return int(self._rpc("send", f"send({len(data)} bytes)", data=bytes(data).hex()))

    def _no_urgent_state(self) -> Any:
        _skip("Linux DUT: the socket API has no urgent mark or notification count to read (SIOCATMARK tells only "
              "whether the read position is at the urgent octet, SIGURG needs a signal owner)")

    urgent_pending = property(_no_urgent_state, doc="Not readable on Linux: the scenario is skipped.")
    urgent_mark = property(_no_urgent_state, doc="Not readable on Linux: the scenario is skipped.")
    urgent_signals = property(_no_urgent_state, doc="Not readable on Linux: the scenario is skipped.")
    urgent_sending = property(_no_urgent_state, doc="Not readable on Linux: the scenario is skipped.")

    def recv(self, n: int = 65536) -> Optional[bytes]:
        r = self._rpc("recv", "recv()", n=n)
        return None if r is None else bytes.fromhex(r)

    def shutdown(self, how: Union[str, int] = "wr") -> None:
        h = {"rd": 0, "wr": 1, "rdwr": 2}.get(how, how) if isinstance(how, str) else how
        if h not in (0, 1, 2):
            raise ConfigError(f"shutdown how must be 'rd', 'wr' or 'rdwr', got {how!r}")
        self._rpc("shutdown", f"shutdown({how!r})", how=h)

    def _remember(self) -> None:
        if self._tuple is None:
            try:
                t = self.dut.helper.call("tuple", sid=self._id)
            except (_KernelErrno, HelperError):
                t = None
            if t:
                self._tuple = (t[0][0], int(t[0][1]), t[1][0], int(t[1][1]))
        try:
            self._raw_info()
        except Exception:  # noqa: BLE001 - only to keep the last error
            pass

    def close(self) -> None:
        if not self.closed:
            self._remember()
            self._rpc("close", "close()")
            self.closed = True

    def abort(self) -> None:
        if not self.closed:
            self._remember()
            self._rpc("abort", "abort()")
            self.closed = True

    # -- state ------------------------------------------------------------------

    def _raw_info(self) -> Optional[dict]:
        if self.closed:
            if self._tuple is None:
                return None
            lip, lport, rip, rport = self._tuple
            r = self.dut.helper.call("diag", lip=lip, lport=lport, rip=rip, rport=rport)
            return r
        r = self._rpc("info", "info()", sync=False)
        if r.get("remote") and r.get("local"):
            self._tuple = (r["local"][0], int(r["local"][1]), r["remote"][0], int(r["remote"][1]))
        if r.get("error"):
            err = int(r["error"])
            name = _ERRNO_TO_TERN.get(err, _errno.errorcode.get(err, str(err)))
            # ETIMEDOUT stays TIMED_OUT, also for a user timeout: Linux reports both the same way
            # (profile.user_timeout_error)
            self._error = name
        return r

    def _timewait(self) -> Optional[dict]:
        """The TIME-WAIT sock of this connection, if any: Linux moves it off the descriptor (which reads CLOSE)."""
        if self._tuple is None or self._error:
            return None
        lip, lport, rip, rport = self._tuple
        r = self.dut.helper.call("diag", lip=lip, lport=lport, rip=rip, rport=rport)
        return r if r is not None and r["state_name"] == "TIME_WAIT" else None

    @property
    def state(self) -> str:
        if not self.closed:
            st = str(self._rpc("state", "state", sync=False))
            if st == "CLOSED":
                if self._tuple is None:
                    self._raw_info()
                if self._timewait() is not None:
                    return "TIME_WAIT"
            return st
        r = self._raw_info()
        return "CLOSED" if r is None else r["state_name"]

    def watch(self, events: int, timeout_ms: int = 60_000) -> None:
        """Have the helper note when the socket becomes ready for ``events`` (poll bits), for :meth:`ready_at_ns`."""
        self._rpc("watch", "watch()", sync=False, events=int(events), timeout_ms=int(timeout_ms))

    def ready_at_ns(self) -> Optional[int]:
        """When (network time, ns) the watched socket became ready, as the helper saw it; None if not yet."""
        mono = self._rpc("ready_at", "ready_at()", sync=False)
        return None if mono is None else self.dut.net.mono_to_net_ns(int(mono))

    @property
    def error(self) -> Optional[str]:
        """The connection's pending error, as ``info().error``, from one helper call: no counters, no segments
        (a poll loop asks it every round; ``info()`` also reads /proc/net and the captured segments)."""
        self._raw_info()  # records the kernel's sticky error (SO_ERROR) in self._error
        return self._error

    def info(self) -> TcpInfo:
        """The connection's :class:`~pyharness.sockets.TcpInfo`, from ``struct tcp_info``."""
        r = self._raw_info()
        if r is None:
            return _closed_info(self._tuple, self._error)
        if r["state_name"] == "CLOSED" and not self.closed:
            tw = self._timewait()
            if tw is not None:
                r = {**r, "state": tw["state"], "state_name": "TIME_WAIT"}
        return self.dut._tcp_info(r, self._tuple, self._error)

    @property
    def readable(self) -> int:
        return int(self._rpc("readable", "readable", sync=False))

    @property
    def writable(self) -> int:
        return int(self._rpc("writable", "writable", sync=False))

    @property
    def accept_pending(self) -> int:
        r = self._rpc("info", "accept_pending", sync=False)
        return int(r["unacked"])  # for a listener, tcpi_unacked is the accept queue length


def _tcp_at(d: bytes) -> Optional[tuple[int, int]]:
    """(offset of the TCP header, TCP header + data length) of an Ethernet frame carrying TCP over IPv4 or IPv6
    (no extension headers), or None."""
    import struct

    if len(d) >= 54 and d[12:14] == b"\x08\x00" and d[23] == 6:
        ihl = (d[14] & 0x0F) * 4
        t = 14 + ihl
        if len(d) < t + 20:
            return None
        return t, struct.unpack_from("!H", d, 16)[0] - ihl
    if len(d) >= 74 and d[12:14] == b"\x86\xdd" and d[20] == 6:
        return 54, struct.unpack_from("!H", d, 18)[0]
    return None


def _closed_info(tup: Optional[tuple], error: Optional[str]) -> TcpInfo:
    vals: dict[str, Any] = {f: 0 for f in TcpInfo.__dataclass_fields__}
    vals.update(state="CLOSED", local=tup[0] if tup else None, remote=tup[2] if tup else None,
                local_port=tup[1] if tup else 0, remote_port=tup[3] if tup else 0, sack_ok=False, ts_ok=False,
                error=error)
    return TcpInfo(**vals)


# ---------------------------------------------------------------------------------------------------------------
# The DUT
# ---------------------------------------------------------------------------------------------------------------


class LinuxDut:
    """The Linux kernel of a namespace of our own as the DUT, reached through the TAP bridge.

    Same socket-level operations as :class:`pyharness.dut.TernDut`;
    ``profile`` is :data:`LINUX_PROFILE`. ``host`` and ``counters()`` (the
    Tern stack's internals) do not exist: a scenario that needs them is marked
    ``dut("tern")``.
    """

    kind = "linux"

    def __init__(self, net: LinuxNetwork, profile: DutProfile = LINUX_PROFILE,
                 sysctls: Optional[dict] = None, family: str = "ipv4", ipv6: Union[str, list, None] = None,
                 ipv4: Optional[str] = f"{DUT_IP}/{PREFIX}", autoconf: bool = False, up: bool = True):
        """``family`` is the bench's ("ipv6": the DUT also has fd00::1/64 and the scenario talks over it);
        ``ipv6`` static IPv6 addresses (the interface then quiet like a Tern host given ``ipv6=``: no DAD,
        no Router Solicitation, no SLAAC, its MLD reports within milliseconds of coming up); ``autoconf``
        IPv6 the way a Linux host comes up by default (DAD, Router Solicitations, SLAAC from RAs, MLDv2
        reports); ``up=False`` leaves the interface down until :meth:`up` (an autoconfiguring host is brought
        up once linked, so that the peer sees its start-up)."""
        from .dut import family_addrs

        self.net = net
        self.profile = profile
        self.family = family
        self.ip, self.peer_ip = family_addrs(family)
        self.mac = default_mac("dut")  # the MAC a Tern DUT would have: captures compare
        self.ns = NetNamespace()
        self.helper: Optional[SockHelper] = None
        self._metrics: dict[str, str] = {}
        v6addrs = [ipv6] if isinstance(ipv6, str) else list(ipv6 or [])
        if family == "ipv6" and not v6addrs:
            v6addrs = [f"{DUT_IP6}/{PREFIX6}"]
        self._v6 = bool(v6addrs) or autoconf
        self._autoconf = autoconf
        net.on_close(self.close)
        self.ns.create()
        try:
            self.helper = SockHelper(self.ns)
            extra = _ipv6_sysctls(static=not autoconf) if self._v6 else {}
            for k, v in {**LINUX_SYSCTLS, **extra, **(sysctls or {})}.items():
                self.sysctl(k, v)
            self.tap = net.tap("dut")
            dev = self.ifname = self.tap.ifname
            self.ns.take(dev, None, up=False)
            self.ns.ip("link", "set", "dev", dev, "address", self.mac, "mtu", str(profile.mtu))
            if ipv4:
                self.ns.ip("addr", "add", ipv4, "dev", dev)
            for a in v6addrs:
                self.ns.ip("-6", "addr", "add", a if "/" in a else f"{a}/64", "dev", dev, "nodad")
            if up:
                self.up()
        except BaseException:
            self.close()
            raise
        # The peer addresses frames to the DUT by its IP: the TAP node stands for it.
        self.tap.mac = self.mac  # type: ignore[attr-defined]
        self.tap.ip = DUT_IP  # type: ignore[attr-defined]
        net._ip_owner[DUT_IP] = self.tap
        for a in v6addrs:
            net._ip_owner[a.split("/")[0]] = self.tap

    def up(self) -> None:
        """Bring the interface up (done by the constructor unless ``up=False``)."""
        dev = self.ifname
        self.ns.ip("link", "set", "dev", dev, "up")
        # The limited broadcast leaves by the only interface, as on a one-interface Tern host (without a
        # route Linux refuses 255.255.255.255 with ENETUNREACH; the bench has no default route on purpose).
        if not self.ns.ip("route", "show", "255.255.255.255/32").strip():
            self.ns.ip("route", "add", "255.255.255.255/32", "dev", dev)
        if self._v6 and not self._autoconf:
            self._quiet()

    def _quiet(self, settle_s: float = 0.03, limit_s: float = 1.0) -> None:
        """Wait until the kernel sent nothing for ``settle_s`` (its MLD reports of a static interface come up
        to a tick after it came up), reading what it sent before the peer is linked (so the peer never sees it)."""
        import time

        deadline = time.monotonic() + limit_s
        last = -1
        while time.monotonic() < deadline:
            time.sleep(settle_s)
            self.net._sync()
            n = self.tap.counters().from_kernel_frames
            if n == last:
                return
            last = n

    def __repr__(self) -> str:
        return f"<LinuxDut {self.ns.name} {self.ifname} {DUT_IP}/{PREFIX}>"

    # -- IPv6 (the kernel's view, through iproute2 and /proc) -------------------------

    @property
    def link_local(self) -> str:
        """The interface's link-local address (fe80:: + the modified EUI-64 of its MAC, addr_gen_mode 0)."""
        from .nd import link_local
        from .nodes import parse_mac

        return link_local(parse_mac(self.mac))

    def ipv6_addresses(self, iface: int = 0) -> list[tuple[str, int, str]]:
        """The interface's IPv6 addresses as ``(address, prefix_len, state)`` (``ip -6 addr``), the link-local
        one first; state "preferred", "tentative" or "deprecated" (as :meth:`pyharness.host.Host.ipv6_addresses`)."""
        self._one_iface(iface)
        out = []
        for info in json.loads(self.ns.ip("-j", "-6", "addr", "show", "dev", self.ifname) or "[]"):
            for a in info.get("addr_info", []):
                if a.get("family") != "inet6":
                    continue
                state = "tentative" if a.get("tentative") else "deprecated" if a.get("deprecated") else "preferred"
                out.append((a["local"], int(a["prefixlen"]), state))
        out.sort(key=lambda t: not t[0].startswith("fe80:"))
        return out

    def nd_lookup(self, ip: str) -> tuple[Optional[str], str]:
        """The kernel's neighbour cache entry for ``ip`` (``ip -6 neigh``): ``(MAC or None, state)``, the
        states of :data:`pyharness.host.ND_STATES` ("NONE" without an entry or with a FAILED one), or Linux's own
        "NOARP", "PERMANENT" where it has them."""
        for e in json.loads(self.ns.ip("-j", "-6", "neigh", "show", "to", ip, "dev", self.ifname) or "[]"):
            if e.get("dst") != ip:
                continue
            states = [x for x in e.get("state", []) if x != "ROUTER"]
            st = states[0] if states else "NONE"
            # A FAILED entry (resolution or NUD gave up) holds no address and is not used: the next packet starts
            # resolution afresh (INCOMPLETE), as with no entry at all (RFC 4861 section 7.3.3: "the entry SHOULD
            # be deleted"); Linux keeps it until garbage collection. Reported as Tern reports no entry.
            return e.get("lladdr"), ("NONE" if st == "FAILED" else st)
        return None, "NONE"

    def nd_params(self, iface: int = 0) -> tuple[int, int, int]:
        """``(ReachableTime ns, RetransTimer ns, CurHopLimit)`` of the interface (RFC 4861 section 6.3.2):
        the random ReachableTime the kernel drew (``ip ntable``), retrans_time_ms and hop_limit."""
        self._one_iface(iface)
        out = self.ns.ip("-6", "ntable", "show", "dev", self.ifname)
        import re

        reach = re.search(r"\breachable (\d+)", out)
        retrans = re.search(r"\bretrans (\d+)", out)
        hops = self.helper.call("read_sysctl", name=f"net.ipv6.conf.{self.ifname}.hop_limit")
        if not reach or not retrans:
            raise HelperError(f"ip ntable: no reachable/retrans in {out!r}")
        return int(reach.group(1)) * MS, int(retrans.group(1)) * MS, int(hops)

    def join_group(self, group: str, iface: int = 0) -> None:
        """Listen to the IPv6 multicast ``group`` (a socket's IPV6_JOIN_GROUP; the kernel's MLD reports it)."""
        self._one_iface(iface)
        self._helper_call("join_group", f"join_group({group!r})", group=group, ifname=self.ifname)

    def leave_group(self, group: str, iface: int = 0) -> None:
        """Stop listening to ``group`` (one join less)."""
        self._one_iface(iface)
        self._helper_call("leave_group", f"leave_group({group!r})", group=group, ifname=self.ifname)

    def add_address(self, addr: str, iface: int = 0) -> None:
        """Add an address ("10.0.0.5/24", "fd00::5/64") to the interface."""
        self._one_iface(iface)
        if ":" in addr:
            self.ns.ip("-6", "addr", "add", addr, "dev", self.ifname, *(() if self._dad() else ("nodad",)))
        else:
            self.ns.ip("addr", "add", addr, "dev", self.ifname)
        self.net._ip_owner.setdefault(addr.split("/")[0], self.tap)
        self.net._sync()

    def _dad(self) -> bool:
        return self.helper.call("read_sysctl", name=f"net.ipv6.conf.{self.ifname}.accept_dad") != "0"

    def _one_iface(self, iface: int) -> None:
        if iface != 0:
            _skip(f"Linux DUT: one interface (the scenario asks for interface {iface})")

    def _helper_call(self, op: str, context: str, **args: Any) -> Any:
        assert self.helper is not None
        try:
            return self.helper.call(op, **args)
        except _KernelErrno as e:
            raise errno_error(e.errno, e.msg, context) from None
        finally:
            self.net._sync()

    @property
    def host(self) -> Any:
        _skip("Linux DUT: the scenario reaches into the Tern host (dut.host); mark it dut('tern')")

    def counters(self) -> Any:
        _skip("Linux DUT: the scenario reads the Tern stack's counters; mark it dut('tern')")

    def route_metric(self, name: str, value: str) -> None:
        """Set a metric (rto_min, initcwnd, quickack...) on the route to the DUT's subnet (``ip route replace``),
        in the bench's family: the IPv4 subnet route, or on an IPv6 bench the prefix route of fd00::/64 (the
        kernel's, metric 256, replaced in place: an IPv6 route of another metric would be a second route)."""
        self._metrics[name] = value
        metrics: list[str] = []
        for k, v in self._metrics.items():
            metrics += [k, v]
        if self.family == "ipv6":
            net6 = str(ipaddress.ip_interface(f"{DUT_IP6}/{PREFIX6}").network)
            self.ns.ip("-6", "route", "replace", net6, "dev", self.ifname, "proto", "kernel", "metric", "256",
                       *metrics)
        else:
            self.ns.ip("route", "replace", f"{DUT_IP.rsplit('.', 1)[0]}.0/{PREFIX}", "dev", self.ifname, "proto",
                       "kernel", "scope", "link", "src", DUT_IP, *metrics)

    def sysctl(self, name: str, value: Any) -> None:
        """Set a sysctl inside the DUT's namespace."""
        assert self.helper is not None
        self.helper.call("sysctl", name=name, value=value)

    def netstat(self) -> dict[str, int]:
        """The namespace's TcpExt/Tcp/Ip/Icmp counters (``/proc/net/netstat`` and ``/proc/net/snmp``)."""
        out: dict[str, int] = {}
        for name in ("netstat", "snmp"):
            # Read by the helper, which lives in the namespace: a process per read (ip netns exec cat) took
            # about 14 ms, and tcp_info reads these counters, so polling a blocking connect() through info()
            # ran 30 ms late a round.
            assert self.helper is not None
            text = str(self.helper.call("proc_net", name=name)).splitlines()
            for names, values in zip(text[0::2], text[1::2]):
                pre, *ks = names.split()
                _, *vs = values.split()
                for k, v in zip(ks, vs):
                    try:
                        out[pre.rstrip(":") + "." + k] = int(v)
                    except ValueError:
                        pass
        return out

    # -- sockets ------------------------------------------------------------------

    def _open(self, kind: str, **kw: Any) -> int:
        assert self.helper is not None
        try:
            return int(self.helper.call("open", kind=kind, family="ipv6" if self.family == "ipv6" else "ipv4", **kw))
        except _KernelErrno as e:
            raise errno_error(e.errno, e.msg, f"{kind}_socket()") from None

    def udp_socket(self, port: Optional[int] = None, addr: Optional[str] = None) -> LinuxUdpSocket:
        s = LinuxUdpSocket(self, self._open("udp"))
        if port is not None:
            s.bind(port, addr)
        return s

    def ping_socket(self, ident: int = 1) -> LinuxPingSocket:
        return LinuxPingSocket(self, self._open("ping", ident=ident))

    def tcp_socket(self, **options: Any) -> LinuxTcpSocket:
        s = LinuxTcpSocket(self, self._open("tcp"))
        for k, v in options.items():
            s.set_option(k, v)
        return s

    def tcp_listen(self, port: int, backlog: int = 8, addr: Optional[str] = None, **options: Any) -> LinuxTcpSocket:
        s = self.tcp_socket(**options)
        s.bind(port, addr)
        s.listen(backlog)
        return s

    def tcp_connect(self, ip: str, port: int, local_port: int = 0, **options: Any) -> LinuxTcpSocket:
        s = self.tcp_socket(**options)
        if local_port:
            s.bind(local_port)
        s.connect(ip, port)
        return s

    def add_route(self, prefix: str, gateway: Optional[str] = None) -> None:
        args = ["route", "add", prefix]
        args += ["via", gateway] if gateway else []
        if not gateway or gateway.lower().startswith("fe80:"):
            args += ["dev", self.ifname]  # a link-local next hop needs its interface (RFC 4007 section 6)
        self.ns.ip(*args)

    # -- tcp_info -------------------------------------------------------------------

    def _dut_segments(self, tup: Optional[tuple]) -> list:
        """TCP segments the DUT sent on connection ``tup`` as the peer received them: (flags, seq, ack)."""
        if tup is None:
            return []
        import struct

        lip, lport, rip, rport = tup
        out = []
        for p in self.net.nodes:
            if not isinstance(p, Peer):
                continue
            for f in p._history:
                at = _tcp_at(f.data)
                if at is None:
                    continue
                d, t = f.data, at[0]
                sport, dport, seq, ack = struct.unpack_from("!HHII", d, t)
                if sport == lport and dport == rport:
                    out.append((d[t + 13], seq, ack))
        return out

    def _tcp_info(self, r: dict, tup: Optional[tuple], error: Optional[str]) -> TcpInfo:
        mss = int(r.get("snd_mss") or 0) or 1
        segs = self._dut_segments(tup)
        iss = irs = None
        passive_open = False
        for flags, seq, ack in segs:
            if flags & 0x02:  # SYN or SYN-ACK
                iss = seq
                passive_open = bool(flags & 0x10)
                if flags & 0x10:
                    irs = (ack - 1) % 2**32
            elif iss is not None and irs is None and flags & 0x10:
                irs = (ack - 1) % 2**32
        state = r["state_name"]
        snd_una = snd_nxt = rcv_nxt = 0
        if iss is not None:
            # tcpi_bytes_acked counts the SYN of an active open (tcp_ack() moves snd_una over it) but not the
            # SYN-ACK of a passive open (the child socket starts with snd_una = ISS + 1; "SYN-ACK delivery
            # isn't tracked in tcp_ack", tcp_rcv_state_process()).
            acked = int(r.get("bytes_acked", 0))
            synchronized = state not in ("SYN_SENT", "SYN_RECEIVED")
            if passive_open:
                snd_una = (iss + (1 if synchronized else 0) + acked) % 2**32
            else:
                snd_una = (iss + max(acked, 1 if synchronized else 0)) % 2**32
            # Linux does not report snd_nxt: the end of the highest segment the DUT sent (data, SYN, FIN).
            snd_nxt = self._highest_sent(segs, snd_una, tup)
            if snd_nxt is None:
                snd_nxt = snd_una
        if irs is not None:
            rcv_nxt = (irs + 1 + int(r.get("bytes_received", 0))) % 2**32  # bytes_received counts a FIN
        ns_ctr = self._netstat_cached()
        wscale = int(r.get("wscale", 0))
        opts = int(r.get("options", 0))
        local = tup[0] if tup else None
        remote = tup[2] if tup else None
        ssthresh = int(r.get("snd_ssthresh", 0))
        vals = dict(
            state=state, local=local, remote=remote, local_port=tup[1] if tup else 0,
            remote_port=tup[3] if tup else 0,
            srtt_ns=int(r.get("rtt", 0)) * 1000, rttvar_ns=int(r.get("rttvar", 0)) * 1000,
            rto_ns=int(r.get("rto", 0)) * 1000, snd_mss=int(r.get("snd_mss", 0)), rcv_mss=int(r.get("rcv_mss", 0)),
            cwnd=int(r.get("snd_cwnd", 0)) * mss,
            ssthresh=(2**31 - 1) if ssthresh >= 0x7FFFFFFF else ssthresh * mss,
            iss=iss or 0, irs=irs or 0, snd_una=snd_una, snd_nxt=snd_nxt, rcv_nxt=rcv_nxt,
            snd_wnd=int(r.get("snd_wnd", 0)), rcv_wnd=self._last_window(tup, wscale >> 4 if opts & 4 else 0),
            snd_wscale=wscale & 0x0F if opts & 4 else 0, rcv_wscale=wscale >> 4 if opts & 4 else 0,
            sack_ok=bool(opts & 2), ts_ok=bool(opts & 1),
            retransmits=int(r.get("retransmits", 0)), total_retransmits=int(r.get("total_retrans", 0)),
            segs_in=int(r.get("segs_in", 0)), segs_out=int(r.get("segs_out", 0)),
            bytes_acked=int(r.get("bytes_acked", 0)), bytes_received=int(r.get("bytes_received", 0)),
            fast_retransmits=ns_ctr.get("TcpExt.TCPFastRetrans", 0),
            rto_timeouts=ns_ctr.get("TcpExt.TCPTimeouts", 0),
            dup_acks_in=0, sack_blocks_in=0, ooo_segments=int(r.get("rcv_ooopack", 0)),
            zero_window_probes=int(r.get("probes", 0)) if state == "ESTABLISHED" else 0,
            keepalives_sent=int(r.get("probes", 0)),
            challenge_acks=ns_ctr.get("TcpExt.TCPChallengeACK", 0),
            tlp_probes=ns_ctr.get("TcpExt.TCPLossProbes", 0),  # per namespace, as the other TcpExt counters
            # D-SACK: blocks received and undos per namespace; tcpi_dsack_dups counts the D-SACKed segments
            dsack_blocks_in=ns_ctr.get("TcpExt.TCPDSACKRecv", 0) + ns_ctr.get("TcpExt.TCPDSACKOfoRecv", 0),
            spurious_retransmits=int(r.get("dsack_dups", 0)),
            dsack_undos=ns_ctr.get("TcpExt.TCPDSACKUndo", 0),
            # An RTO found spurious and undone: by F-RTO (TCPSpuriousRTOs) or by the timestamps of the ACK
            # (tcp_try_undo_loss() without frto_undo counts TCPLossUndo instead)
            spurious_rtos=ns_ctr.get("TcpExt.TCPSpuriousRTOs", 0) + ns_ctr.get("TcpExt.TCPLossUndo", 0),
            # Linux counts these in segments; TcpInfo (tern_tcp_info) in bytes
            unacked=int(r.get("unacked", 0)) * mss, sacked=int(r.get("sacked", 0)) * mss,
            lost=int(r.get("lost", 0)) * mss,
            in_flight=max(int(r.get("unacked", 0)) - int(r.get("sacked", 0)) - int(r.get("lost", 0))
                          + int(r.get("retrans", 0)), 0) * mss,
            error=error,
        )
        return TcpInfo(**vals)

    def _last_window(self, tup: Optional[tuple], shift: int) -> int:
        """The receive window the DUT offered in its last segment of ``tup`` (scaled), as the peer received it."""
        if tup is None:
            return 0
        import struct

        lip, lport, rip, rport = tup
        for p in self.net.nodes:
            if not isinstance(p, Peer):
                continue
            for f in reversed(p._history):
                at = _tcp_at(f.data)
                if at is None:
                    continue
                d, t = f.data, at[0]
                sport, dport = struct.unpack_from("!HH", d, t)
                if sport == lport and dport == rport:
                    win = struct.unpack_from("!H", d, t + 14)[0]
                    return win if d[t + 13] & 0x02 else win << shift
        return 0

    def _highest_sent(self, segs: list, snd_una: int, tup: Optional[tuple]) -> Optional[int]:
        """snd_nxt from what the DUT sent: the end of the highest segment seen (data and FIN), at least snd_una."""
        if not segs or tup is None:
            return None
        import struct

        from .tcpconn import seq_lt

        best = snd_una
        lip, lport, rip, rport = tup
        for p in self.net.nodes:
            if not isinstance(p, Peer):
                continue
            for f in p._history:
                at = _tcp_at(f.data)
                if at is None:
                    continue
                d, (t, l4len) = f.data, at
                sport, dport, seq = struct.unpack_from("!HHI", d, t)
                if sport != lport or dport != rport:
                    continue
                doff = (d[t + 12] >> 4) * 4
                flags = d[t + 13]
                end = (seq + max(l4len - doff, 0) + (1 if flags & 0x01 else 0) + (1 if flags & 0x02 else 0)) % 2**32
                if seq_lt(best, end):
                    best = end
        return best

    def _netstat_cached(self) -> dict[str, int]:
        try:
            return self.netstat()
        except Exception:  # noqa: BLE001
            return {}

    # -- end ----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the helper and delete the namespace (idempotent; also run when the network closes)."""
        if self.helper is not None:
            self.helper.close()
            self.helper = None
        self.ns.close()


def _ipv6_sysctls(static: bool) -> dict:
    """The namespace's IPv6 settings for an IPv6 DUT (``default.*``: the TAP device moved in takes them).

    ``static``: the interface keeps its given addresses and says nothing by itself, as a Tern host with static
    IPv6 addresses does: no DAD (accept_dad 0), no Router Solicitation (router_solicitations 0), no address
    from an RA (autoconf 0; RAs are still processed: accept_ra 1, as Tern does), and its unsolicited MLD reports
    within a tick of coming up (the interface is up before the peer is linked, so they are not seen).
    Otherwise the kernel's own defaults of a host: DAD, 3 Router Solicitations, SLAAC, MLDv2 reports."""
    conf: dict = {"disable_ipv6": 0, "accept_ra": 1, "forwarding": 0}
    if static:
        conf.update(accept_dad=0, router_solicitations=0, autoconf=0, mldv1_unsolicited_report_interval=1,
                    mldv2_unsolicited_report_interval=1)
    else:
        conf.update(accept_dad=1, router_solicitations=3, autoconf=1)
    out = {}
    for scope in ("all", "default"):
        for k, v in conf.items():
            if scope == "all" and k not in ("disable_ipv6", "accept_dad", "forwarding"):
                continue
            out[f"net.ipv6.conf.{scope}.{k}"] = v
    return out


def make_linux_dut(net: LinuxNetwork, peer_arp: bool = True, family: str = "ipv4",
                   **kw: Any) -> tuple[LinuxDut, Any, Any]:
    """The standard bench with the Linux kernel as the DUT: (dut, peer, link), the peer linked to the TAP node.

    ``family="ipv6"``: the DUT also has fd00::1/64 and the peer fd00::2/64 (answering neighbour solicitations
    unless ``peer_arp=False``), as :func:`pyharness.dut.make_tern_dut` does."""
    from .dut import PEER_IP6, PREFIX6

    dut = LinuxDut(net, family=family, **kw)
    peer_v6 = {"ipv6": f"{PEER_IP6}/{PREFIX6}", "nd": peer_arp} if family == "ipv6" else {}
    peer = net.peer("peer", ipv4=f"{PEER_IP}/{PREFIX}", arp=peer_arp, **peer_v6)
    link = net.link(dut.tap, peer)
    return dut, peer, link
