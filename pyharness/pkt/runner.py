"""Run a parsed packetdrill script against a DUT and its scripted peer, in virtual time.

Semantics follow packetdrill's (``run.c``, read for understanding):

- event times are absolute, relative (``+t``: to the moment the previous event
  completed; consecutive inbound packets to the previous one's script time),
  any (``*``) or a range (``a~b``); the check is exact in virtual time unless
  the script gives ``--tolerance_usecs`` / ``--tolerance_percent`` (a DUT in
  real time gets packetdrill's 4 ms default);
- inbound (``<``) packets are built and sent by the peer at their time;
  sequence numbers are relative to the peer's ISN, ack numbers and SACK
  blocks to the DUT's ISN (learned from its SYN or SYN-ACK);
- outbound (``>``) packets: strict. Every frame the DUT sends must be the
  next packet the script expects, field by field and on time; a frame sent
  while the script is elsewhere fails it, naming the frame;
- system calls run on the DUT's socket API; results and errno are checked.

Failures raise :class:`~pyharness.pkt.errors.PktError` with packetdrill's
wording (``timing error: expected outbound packet at 0.840000 sec but
happened at 1.042000 sec; tolerance 0.000000 sec``, ``script packet:`` /
``actual packet:``) and a field-by-field diff.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Optional

from . import ast as A
from .errors import PktError, PktUnsupported
from .syscalls import SCRIPT_PORT, Fd

MOD = 2**32
#: packetdrill's default tolerance for a DUT in real time (its --tolerance_usecs default).
REALTIME_TOLERANCE_USECS = 4000
#: How long an outbound packet at time * may take to come (virtual seconds).
ANY_TIME_LIMIT_NS = 600 * 1_000_000_000
#: How far past a missed window the runner looks, to say when the packet did come.
LOOK_AHEAD_NS = 10 * 1_000_000_000
#: The remote port of connections the script's peer opens (packetdrill picks an ephemeral one).
REMOTE_PORT = 48879

#: ICMP types of inbound packets: name -> (type, {code name: code}).
ICMP_TYPES = {
    "unreachable": (3, {"net_unreachable": 0, "host_unreachable": 1, "protocol_unreachable": 2,
                        "port_unreachable": 3, "frag_needed": 4, "source_route_failed": 5,
                        "net_unknown": 6, "host_unknown": 7, "net_prohibited": 9, "host_prohibited": 10,
                        "admin_prohibited": 13}),
    "time_exceeded": (11, {"ttl_exceeded": 0, "reassembly_time_exceeded": 1}),
    "source_quench": (4, {}),
    "parameter_problem": (12, {}),
}

#: Registered handlers of back-quoted commands: (compiled pattern, handler(runner, match)).
_COMMANDS: list[tuple[re.Pattern, Callable[["Runner", re.Match], None]]] = []


def register_command(pattern: str, handler: Callable[["Runner", re.Match], None]) -> None:
    """Let back-quoted shell commands matching ``pattern`` (a full-match regex) run ``handler(runner, match)``.

    Without a handler a script's back-quoted command fails, naming its line.
    """
    _COMMANDS.append((re.compile(pattern), handler))


#: sysctl names of common packetdrill settings -> the DUT socket option they set on every new socket.
SYSCTLS = {"tcp_sack": "sack", "tcp_timestamps": "timestamps", "tcp_window_scaling": "window_scaling",
           "tcp_syn_retries": "syn_retries", "tcp_dsack": "dsack",
           # Linux's loss-detection knobs: tcp_recovery bit 0x1 is RACK (RFC 8985); tcp_early_retrans 3 or 4
           # turns the tail loss probe on, 0-2 off. Scripts of classic RTO ladders turn both off.
           "tcp_recovery": "rack", "tcp_early_retrans": "tail_loss_probe"}

#: How a sysctl's number becomes the socket option's value (default: non-zero is on).
_SYSCTL_VALUE: dict[str, Callable[[int], object]] = {
    "tcp_syn_retries": int, "tcp_recovery": lambda v: bool(v & 1), "tcp_early_retrans": lambda v: v >= 3}


#: Linux sysctls whose one value is the behaviour the Tern stack has (and the RFCs ask for): a script sets it so that
#: a kernel DUT behaves as the script expects; any other value is refused on a DUT without the sysctl.
#: tcp_syn_linear_timeouts=0: no linear SYN retransmissions, the RTO doubles from the first (RFC 6298 (5.5)).
#: tcp_fin_timeout=60: an orphan connection stays in FIN-WAIT-2 60 s (Tern's fixed value; Linux's default).
KERNEL_SYSCTLS = {"tcp_syn_linear_timeouts": 0, "tcp_fin_timeout": 60}

#: Keep-alive sysctls: the system default of what TCP_KEEPIDLE/TCP_KEEPINTVL/TCP_KEEPCNT set per socket. A DUT with
#: a kernel (Linux) gets the namespace sysctl, so the kernel's own default is what the script checks; a DUT without
#: one (Tern) gets the socket option on every socket the script creates after it.
KEEPALIVE_SYSCTLS: dict[str, tuple[str, Callable[[int], object]]] = {
    "tcp_keepalive_time": ("keepidle", lambda v: f"{v}s"), "tcp_keepalive_intvl": ("keepintvl", lambda v: f"{v}s"),
    "tcp_keepalive_probes": ("keepcnt", int)}


def _sysctl(runner: "Runner", m: re.Match) -> None:
    """``sysctl -q net.ipv4.tcp_sack=0``: later sockets get the DUT option (the stack's default stays)."""
    name, value = m.group(1), int(m.group(2))
    if name in KERNEL_SYSCTLS:
        sysctl = getattr(runner.dut, "sysctl", None)
        if sysctl is not None:
            sysctl(f"net.ipv4.{name}", value)
        elif value != KERNEL_SYSCTLS[name]:
            raise PktUnsupported(runner.path, runner.event.line if runner.event else 1,
                                 f"unsupported feature: sysctl net.ipv4.{name}={value} (the DUT behaves as "
                                 f"{name}={KERNEL_SYSCTLS[name]})")
        return
    if name in KEEPALIVE_SYSCTLS:
        sysctl = getattr(runner.dut, "sysctl", None)
        if sysctl is not None:
            sysctl(f"net.ipv4.{name}", value)
        else:
            opt, conv = KEEPALIVE_SYSCTLS[name]
            runner.socket_defaults[opt] = conv(value)
        return
    opt = SYSCTLS.get(name)
    if opt is None:
        raise PktUnsupported(runner.path, runner.event.line if runner.event else 1,
                             f"unsupported feature: sysctl net.ipv4.{name} "
                             f"(known: {', '.join([*SYSCTLS, *KERNEL_SYSCTLS, *KEEPALIVE_SYSCTLS])})")
    runner.socket_defaults[opt] = _SYSCTL_VALUE.get(name, bool)(value)


def _fmt_us(us: int) -> str:
    sign = "-" if us < 0 else ""
    us = abs(us)
    return f"{sign}{us // 1_000_000}.{us % 1_000_000:06d}"


FLAG_BITS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, ".": 0x10, "A": 0x10, "U": 0x20, "E": 0x40, "W": 0x80}


def flags_value(flags: str) -> int:
    """Script flags (``"S."``) -> TCP flag bits."""
    v = 0
    for c in flags:
        v |= FLAG_BITS[c]
    return v


def flags_text(bits: int) -> str:
    """TCP flag bits -> script flags, packetdrill's order (``P.``, ``F.``, ``S.``)."""
    out = "".join(c for c in "FSRPUEW" if bits & FLAG_BITS[c])
    return out + "." if bits & 0x10 else out or "."


class Runner:
    """One run of ``script`` against ``dut`` (socket API) and ``peer`` (the remote end) on ``net``."""

    def __init__(self, script: A.Script, dut: Any, peer: Any, net: Any):
        self.s = script
        self.dut, self.peer, self.net = dut, peer, net
        self.path = script.path
        realtime = not getattr(getattr(dut, "profile", None), "clock_is_virtual", True)
        opts = script.options
        known = {"tolerance_usecs", "tolerance_percent", "ip_version", "mss", "local_ip", "remote_ip",
                 "gateway_ip", "netmask_ip", "bind_port", "connect_port", "init_scripts", "verbose",
                 "tcp_ts_tick_usecs", "speed", "mtu"}
        for k in opts:
            if k not in known:
                raise PktUnsupported(self.path, 1, f"unsupported option --{k} (known: {', '.join(sorted(known))})")
        if opts.get("ip_version", "ipv4") != "ipv4":
            raise PktUnsupported(self.path, 1, f"unsupported option --ip_version={opts['ip_version']} (only ipv4)")
        self.realtime = realtime
        self.tol_us = int(opts.get("tolerance_usecs", REALTIME_TOLERANCE_USECS if realtime else 0))
        self.tol_pct = int(opts.get("tolerance_percent", 0))
        self.bind_port = int(opts.get("bind_port", SCRIPT_PORT))
        self.connect_port = int(opts.get("connect_port", SCRIPT_PORT))
        self.remote_isn = (int(net.seed) * 2654435761 + 0x1000) % MOD
        self.local_isn: Optional[int] = None
        self.dut_port: Optional[int] = None
        self.remote_port = REMOTE_PORT
        self.fds: dict[int, Fd] = {}
        self.last_fd: Optional[int] = None
        self.pending: list[dict] = []
        if script.realtime_s is not None and hasattr(net, "allow_realtime"):
            # The script's ``// realtime: N s`` header: a real-time network lets it run that long from here.
            net.allow_realtime(script.realtime_s)
        self.start_ns = net.now_ns
        self.last_event: Optional[A.Event] = None
        self.last_script_us = 0
        #: When the previous event happened, what relative times count from: an outbound packet's arrival, not
        #: the moment the runner had matched it (in real time the runner's own work, an import or a slow match,
        #: would otherwise shift every later event), an inbound packet's sending; None: now.
        self.anchor_us: Optional[int] = None
        self.matched_at_us: Optional[int] = None
        #: When the latest inbound packet went out (``_send``).
        self.sent_us: Optional[int] = None
        #: packetdrill's outbound TS val mapping: each TS val the script wrote for an outbound packet -> the live
        #: value the DUT sent there, and the first such pair (the baseline inbound echoes are interpolated from).
        self.ts_map: dict[int, int] = {}
        self.ts_base: Optional[tuple[int, int]] = None
        #: The live TS val of the DUT's latest segment the script matched with ``<...>`` (no script value to map).
        self.ts_unnamed: Optional[int] = None
        #: The DUT port the script's latest inbound UDP datagram went to (what an ICMP error about it quotes).
        self.udp_in_dport: Optional[int] = None
        #: Socket options every socket the script creates gets (from sysctl commands: :func:`register_command`).
        self.socket_defaults: dict[str, Any] = {}
        #: A RST went either way: the next SYN starts a new connection with a new ISS.
        self.reset_seen = False
        self.event: Optional[A.Event] = None
        #: System calls the runner itself started later than their script time allows, in real time: (line, how
        #: late in us). Not the DUT's doing (see ``_wait_for``); kept so that a caller can report them.
        self.late_calls: list[tuple[int, int]] = []

    # -- time ---------------------------------------------------------------

    @property
    def now_us(self) -> int:
        """Microseconds since the script started (virtual)."""
        return (self.net.now_ns - self.start_ns) // 1000

    def fail(self, message: str, line: Optional[int] = None) -> PktError:
        ln = line if line is not None else (self.event.line if self.event else 1)
        return PktError(self.path, ln, message)

    def _tolerance(self, script_us: int) -> int:
        tol = self.tol_us
        span = max(script_us - self.last_script_us, 0)
        if self.tol_pct:
            tol = max(tol, self.tol_pct * span // 100)
        if self.realtime:
            # A DUT in real time: at least its profile's tolerance (kernel timers, Python's lag on a busy machine).
            tol = max(tol, self.dut.profile.tolerance(span * 1000) // 1000)
        return tol

    def _script_time(self, ev: A.Event) -> tuple[Optional[int], Optional[int]]:
        t = ev.time
        if t.kind == A.ANY:
            return None, None
        if t.kind in (A.ABSOLUTE, A.ABSOLUTE_RANGE):
            return t.usecs, t.end_usecs
        anchor = self.now_us if self.anchor_us is None else self.anchor_us
        if (self.last_event is not None and _inbound(self.last_event) and _inbound(ev)):
            anchor = self.last_script_us
        return anchor + t.usecs, (anchor + t.end_usecs if t.end_usecs is not None else None)

    def _check_time(self, desc: str, exp: int, exp_end: Optional[int], actual_us: int,
                    kind: str = A.ABSOLUTE) -> Optional[str]:
        tol = self._tolerance(exp)
        if exp_end is not None:
            if actual_us < exp - tol or actual_us > exp_end + tol:
                return (f"timing error: expected {desc} in time range {_fmt_us(exp)}~{_fmt_us(exp_end)} sec "
                        f"but happened at {_fmt_us(actual_us)} sec")
            return None
        if actual_us < exp - tol or actual_us > exp + tol:
            return (f"timing error: expected {desc} at {_fmt_us(exp)} sec but happened at {_fmt_us(actual_us)} sec; "
                    f"tolerance {_fmt_us(tol)} sec")
        return None

    def _run_until(self, target_ns: int, poll: bool = True) -> bool:
        """Run to ``target_ns``, stopping at the first frame the peer receives (True) and polling blocked calls
        (unless ``poll`` is False)."""

        def arrived() -> bool:
            if poll:
                self._poll_pending()
            self.peer._drain()
            return bool(self.peer._inbox)

        if arrived():
            return True
        now = self.net.now_ns
        if target_ns > now:
            if self.net.run(until=arrived, for_=f"{target_ns - now}ns"):
                return True
        # Whatever is due at the target itself (the DUT's answer at this instant).
        while not self.net._window_over(target_ns):
            self.net._advance(target_ns, until_rx=True)
            if arrived():
                return True
        return arrived()

    # -- the script ---------------------------------------------------------

    def run(self) -> None:
        """Run every event; raise :class:`PktError` at the first failure."""
        if self.s.init_command is not None:
            self.event = A.Event(A.Time(A.ABSOLUTE, 0), self.s.init_command, self.s.init_line)
            self._command(self.event, self.s.init_command)
        for ev in self.s.events:
            self.event = ev
            self.sent_us = None
            exp, exp_end = self._script_time(ev)
            act = ev.action
            if isinstance(act, (A.TcpPacket, A.UdpPacket, A.IcmpPacket)) and act.direction == ">":
                self._outbound(ev, act, exp, exp_end)
            else:
                assert exp is not None
                self._wait_for(ev, exp)
                if isinstance(act, A.TcpPacket):
                    self._inbound_tcp(act)
                elif isinstance(act, A.Syscall):
                    self._syscall(ev, act, exp)
                elif isinstance(act, A.Command):
                    self._command(ev, act)
                elif isinstance(act, A.Code):
                    self._code(ev, act)
                elif isinstance(act, A.IcmpPacket):
                    self._inbound_icmp(act)
                else:
                    self._inbound_udp(act)
                if _inbound(ev) and self.pending:
                    self._credit_lag(exp)
            self.last_event = ev
            self.last_script_us = exp if exp is not None else self.now_us
            is_out = isinstance(act, (A.TcpPacket, A.UdpPacket, A.IcmpPacket)) and act.direction == ">"
            # After an inbound packet: when it went out. In real time "now" at the next event may lie later by the
            # runner's own delay in between, and the DUT's immediate answer would read as early.
            self.anchor_us = self.matched_at_us if is_out else self.sent_us if _inbound(ev) else None
        self._finish()
        if self.s.cleanup_command is not None:
            self.event = A.Event(A.Time(A.ABSOLUTE, 0), self.s.cleanup_command, self.s.cleanup_line)
            self._command(self.event, self.s.cleanup_command)

    def _wait_for(self, ev: A.Event, exp_us: int) -> None:
        target = self.start_ns + exp_us * 1000
        # Blocked calls whose DUT times their completion itself (``_watch``) need no polling while the runner
        # waits to send an inbound packet on time: in real time each poll is a round trip to the DUT that would
        # make the packet late. (Before a system call they are polled: it may use what they return.)
        watched = _inbound(ev) and all("ready" in p for p in self.pending)
        if self._run_until(target, poll=not watched):
            self._unexpected(self.peer._inbox[0])
        late = self.now_us - exp_us
        if late > self._tolerance(exp_us) and self.realtime and isinstance(ev.action, A.Syscall):
            # A DUT in real time: the runner starts a system call late only when it was held up itself (its
            # round trips to the DUT's socket helper took tens of milliseconds each on a busy machine, the
            # process was not scheduled), and the DUT sees the call only when it comes. So this lateness
            # is the harness's, measured here, not a failure of the DUT: what the DUT does in answer is
            # checked from when the call really ran (a relative time after it counts from then, and a
            # blocking call may end that much later: ``_syscall`` credits it). An inbound packet sent
            # late is still a timing error: the DUT's own timers run meanwhile, the script's order with
            # them is lost.
            self.late_calls.append((ev.line, late))
            return
        if late > self._tolerance(exp_us):
            raise self.fail(f"timing error: expected {_describe(ev)} at {_fmt_us(exp_us)} sec but happened at "
                            f"{_fmt_us(self.now_us)} sec; tolerance {_fmt_us(self._tolerance(exp_us))} sec")

    def _finish(self) -> None:
        last = self.s.events[-1].line if self.s.events else 1
        for p in list(self.pending):
            end_ns = self.start_ns + (p["end"] + self._tolerance(p["end"]) + p.get("lag", 0)) * 1000
            if self._run_until(end_ns):
                self._unexpected(self.peer._inbox[0])
        if self.pending:
            p = self.pending[0]
            raise self.fail(f"{p['name']} blocked: expected to return at {_fmt_us(p['end'])} sec, still blocked at "
                            f"{_fmt_us(self.now_us)} sec (end of script)", p["line"])
        if self._run_until(self.net.now_ns):
            self.event = None
            self._unexpected(self.peer._inbox[0], last)

    def _unexpected(self, frame: Any, line: Optional[int] = None) -> None:
        text = self._actual_text(frame)
        at = _fmt_us((frame.time_ns - self.start_ns) // 1000)
        raise self.fail(f"unexpected outbound packet at {at} sec (the script expects none here)\n"
                        f"actual packet: {at} {text}", line)

    # -- outbound -----------------------------------------------------------

    def _outbound(self, ev: A.Event, pkt: Any, exp: Optional[int], exp_end: Optional[int]) -> None:
        if isinstance(pkt, A.IcmpPacket):
            self._icmp_code(pkt)  # an unknown type or code fails before anything runs
        if exp is None:
            limit = self.net.now_ns + ANY_TIME_LIMIT_NS
        else:
            hi = exp_end if exp_end is not None else exp
            limit = self.start_ns + (hi + self._tolerance(exp)) * 1000
            limit = max(limit, self.net.now_ns)
        if not self._run_until(limit):
            if exp is None:
                raise self.fail(f"timed out waiting for outbound packet (time *)\nscript packet: * {pkt.text()}")
            later = self._run_until(limit + LOOK_AHEAD_NS)
            msg = f"timed out waiting for outbound packet at {_fmt_us(exp)} sec"
            if later:
                f = self.peer._inbox[0]
                at = (f.time_ns - self.start_ns) // 1000
                msg = self._check_time("outbound packet", exp, exp_end, at) or msg
                raise self.fail(f"{msg}\nscript packet: {_fmt_us(exp)} {pkt.text()}\n"
                                f"actual packet: {_fmt_us(at)} {self._actual_text(f)}")
            raise self.fail(f"{msg} (nothing came in the {LOOK_AHEAD_NS // 10**9} s after it)\n"
                            f"script packet: {_fmt_us(exp)} {pkt.text()}")
        f = self.peer._inbox.popleft()
        at = (f.time_ns - self.start_ns) // 1000
        self.matched_at_us = at
        kind = "TCP" if isinstance(pkt, A.TcpPacket) else "UDP" if isinstance(pkt, A.UdpPacket) else "ICMP"
        diffs = (self._match(pkt, f) if kind == "TCP" else self._match_udp(pkt, f) if kind == "UDP"
                 else self._match_icmp(pkt, f))
        when = _fmt_us(exp) if exp is not None else "*"
        if diffs:
            raise self.fail(f"bad outbound {kind} packet: " + "; ".join(d[0] for d in diffs) + "\n"
                            f"script packet: {when} {pkt.text()}\n"
                            f"actual packet: {_fmt_us(at)} {self._actual_text(f)}\n" + _diff_table(diffs))
        if exp is not None:
            err = self._check_time("outbound packet", exp, exp_end, at)
            if err:
                raise self.fail(f"{err}\nscript packet: {when} {pkt.text()}\n"
                                f"actual packet: {_fmt_us(at)} {self._actual_text(f)}")

    def _tcp_of(self, frame: Any) -> tuple[Any, Any]:
        from scapy.layers.inet import IP, TCP

        p = frame.pkt
        return p.getlayer(IP), p.getlayer(TCP)

    def _match(self, want: A.TcpPacket, frame: Any) -> list[tuple[str, str, str]]:
        """Differences (headline, script value, actual value) between the script packet and the frame."""
        from ..tcpconn import tcp_payload

        ip, tcp = self._tcp_of(frame)
        if tcp is None:
            return [("not a TCP segment", "TCP", frame.summary())]
        out = []
        flags = int(tcp.flags)
        if flags & 0x02 and (self.local_isn is None or self.reset_seen):
            # A new connection (the first SYN, or one after a reset): the DUT picks a new ISS (RFC 9293 §3.4.1).
            self.local_isn = None
            self.reset_seen = False
        if flags & 0x04:
            self.reset_seen = True
        if flags & 0x02 and self.local_isn is None:
            self.local_isn = int(tcp.seq) - want.seq if "S" in want.flags else int(tcp.seq)
            self.dut_port = int(tcp.sport)
            if not flags & 0x10:
                self.remote_port = int(tcp.dport)
        if self.dut_port is not None and int(tcp.sport) != self.dut_port:
            out.append(("source port", str(self.dut_port), str(int(tcp.sport))))
        if int(tcp.dport) != self.remote_port:
            out.append(("destination port", str(self.remote_port), str(int(tcp.dport))))
        if flags != flags_value(want.flags):
            out.append(("flags", want.flags, flags_text(flags)))
        seq = (int(tcp.seq) - (self.local_isn or 0)) % MOD
        n = len(tcp_payload(frame.pkt))
        if seq != want.seq % MOD:
            out.append(("seq", str(want.seq), str(seq)))
        if n != want.length:
            out.append(("length", str(want.length), str(n)))
        if "." in want.flags and want.ack is not None:
            ack = (int(tcp.ack) - self.remote_isn) % MOD
            if ack != want.ack % MOD:
                out.append(("ack", str(want.ack), str(ack)))
        if want.win is not None and int(tcp.window) != want.win:
            out.append(("win", str(want.win), str(int(tcp.window))))
        if want.urg is not None and int(tcp.urgptr) != want.urg:
            out.append(("urg", str(want.urg), str(int(tcp.urgptr))))
        if want.ttl is not None and int(ip.ttl) != want.ttl:
            out.append(("ttl", str(want.ttl), str(int(ip.ttl))))
        if want.tos is not None and int(ip.tos) & 0xFC != want.tos & 0xFC:
            out.append(("tos", str(want.tos), str(int(ip.tos))))
        if want.ecn is not None:
            ecn = {"noecn": 0, "ect1": 1, "ect0": 2, "ce": 3}.get(want.ecn)
            got = int(ip.tos) & 3
            if (ecn is None and got not in (1, 2)) or (ecn is not None and got != ecn):
                out.append(("ecn", want.ecn, str(got)))
        if want.options is not None:
            actual = self._options_of(tcp)
            exp_opts = [self._expected_option(o, actual) for o in want.options]
            if [A.option_text(o) for o in exp_opts] != [A.option_text(o) for o in actual]:
                out.append(("options", ",".join(A.option_text(o) for o in exp_opts),
                            ",".join(A.option_text(o) for o in actual)))
        if not out:
            self._record_ts(want, tcp)
        return out

    def _record_ts(self, want: A.TcpPacket, tcp: Any) -> None:
        """Remember the live TS val of a matched outbound segment (packetdrill's ``set_outbound_ts_val_mapping``).

        A script TS val names the live value: inbound ``TS ecr`` of that number echo it. ``<...>`` names none: the
        live value is kept as the DUT's latest unnamed TS val, which an inbound echo of a number the script never
        wrote stands for (see :meth:`_inbound_ecr`)."""
        live = next((a.values[0] for a in self._options_of(tcp) if a.kind == "TS"), None)
        if live is None:
            return
        script = next((o.values[0] for o in want.options or () if o.kind == "TS"), None)
        if want.options is None:
            self.ts_unnamed = live
            return
        if script is None:
            return
        self.ts_map[script] = live
        if self.ts_base is None:
            self.ts_base = (script, live)

    def _inbound_ecr(self, ecr: int) -> int:
        """The live value an inbound ``TS ecr`` stands for.

        In packetdrill's order: a TS val the script wrote for an outbound segment -> the live value sent there;
        else relative to the first such pair (packetdrill's ``--tcp_ts_ecr_scaled`` interpolation: the script's
        TS values count the DUT's clock from its first one). Before any named value, an ecr of a number the
        script never wrote echoes the live TS val of the DUT's latest ``<...>`` segment (the SYN or SYN-ACK whose
        options differ per DUT): what a peer keeping TS.Recent (RFC 7323 4.3) echoes. Otherwise (0, or no TS
        from the DUT yet) as written."""
        if ecr in self.ts_map:
            return self.ts_map[ecr]
        if self.ts_base is not None:
            return (self.ts_base[1] + ecr - self.ts_base[0]) % MOD
        if self.ts_unnamed is not None and ecr != 0:
            return self.ts_unnamed
        return ecr

    def _expected_option(self, o: A.TcpOption, actual: list) -> A.TcpOption:
        """The script option as it must appear; the outbound TS val is not checked (no --tcp_ts_tick_usecs)."""
        if o.kind == "TS":
            live = next((a for a in actual if a.kind == "TS"), None)
            val = live.values[0] if live is not None else o.values[0]
            return A.TcpOption("TS", (val, o.values[1]))
        return o

    def _options_of(self, tcp: Any) -> list:
        out = []
        for name, value in tcp.options:
            if name == "NOP":
                out.append(A.TcpOption("nop"))
            elif name == "EOL":
                out.append(A.TcpOption("eol"))
            elif name == "MSS":
                out.append(A.TcpOption("mss", (int(value),)))
            elif name == "WScale":
                out.append(A.TcpOption("wscale", (int(value),)))
            elif name == "SAckOK":
                out.append(A.TcpOption("sackOK"))
            elif name == "Timestamp":
                out.append(A.TcpOption("TS", (int(value[0]), int(value[1]))))
            elif name == "SAck":
                vals = tuple((int(v) - self.remote_isn) % MOD for v in value)
                out.append(A.TcpOption("sack", vals))
            else:
                out.append(A.TcpOption(f"opt{name}"))
        return out

    def _match_udp(self, want: A.UdpPacket, frame: Any) -> list[tuple[str, str, str]]:
        """Differences between the script's ``udp (N)`` and the frame: protocol, ports, payload length."""
        from scapy.layers.inet import UDP

        udp = frame.pkt.getlayer(UDP)
        if udp is None or frame.pkt.haslayer("ICMP"):
            return [("not a UDP datagram", "UDP", self._actual_text(frame))]
        out = []
        if self.dut_port is not None and int(udp.sport) != self.dut_port:
            out.append(("source port", str(self.dut_port), str(int(udp.sport))))
        if int(udp.dport) != self.remote_port:
            out.append(("destination port", str(self.remote_port), str(int(udp.dport))))
        n = int(udp.len) - 8  # the UDP length, not the Ethernet padding after it
        if n != want.length:
            out.append(("length", str(want.length), str(n)))
        ip = frame.pkt.getlayer("IP")
        if want.ttl is not None and ip is not None and int(ip.ttl) != want.ttl:
            out.append(("ttl", str(want.ttl), str(int(ip.ttl))))
        return out

    def _icmp_code(self, p: A.IcmpPacket) -> tuple[int, Optional[int]]:
        """The type and code numbers of a script ICMP message (code None: not written)."""
        if p.type not in ICMP_TYPES:
            raise PktUnsupported(self.path, p.line, f"unsupported feature: ICMP type {p.type!r} "
                                                    f"(known: {', '.join(ICMP_TYPES)})")
        typ, codes = ICMP_TYPES[p.type]
        if p.code is None:
            return typ, None
        if p.code not in codes:
            raise PktUnsupported(self.path, p.line, f"unsupported feature: ICMP {p.type} code {p.code!r} "
                                                    f"(known: {', '.join(codes)})")
        return typ, codes[p.code]

    def _match_icmp(self, want: A.IcmpPacket, frame: Any) -> list[tuple[str, str, str]]:
        """Differences between the script's ICMP message and the frame: type, code, next-hop MTU."""
        from scapy.layers.inet import ICMP

        icmp = frame.pkt.getlayer(ICMP)
        if icmp is None:
            return [("not an ICMP message", "ICMP", self._actual_text(frame))]
        typ, code = self._icmp_code(want)
        out = []
        if int(icmp.type) != typ:
            out.append(("type", want.type, _icmp_name(int(icmp.type), int(icmp.code))))
        elif code is not None and int(icmp.code) != code:
            out.append(("code", str(want.code), _icmp_name(int(icmp.type), int(icmp.code))))
        if want.mtu is not None and typ == 3 and int(icmp.nexthopmtu) != want.mtu:
            out.append(("mtu", str(want.mtu), str(int(icmp.nexthopmtu))))
        if want.quoted is not None or want.quoted_udp is not None:
            out += self._match_quoted(want, bytes(icmp.payload))
        return out

    def _match_quoted(self, want: A.IcmpPacket, quoted: bytes) -> list[tuple[str, str, str]]:
        """Differences between the datagram the script says the DUT's ICMP error quotes (one the script's peer
        sent: ``[udp (N)]`` its latest UDP datagram, ``[s:e(l)]`` a TCP segment at ``s``) and the quoted bytes:
        the IP addresses and protocol, the ports, the UDP length or the TCP sequence number (RFC 792: "the
        internet header plus the first 64 bits of the original datagram's data")."""
        out: list[tuple[str, str, str]] = []
        if len(quoted) < 20 or quoted[0] >> 4 != 4 or len(quoted) < (quoted[0] & 0xF) * 4 + 8:
            return [("quoted datagram", "IP header and 8 bytes", f"{len(quoted)} bytes")]
        ihl = (quoted[0] & 0xF) * 4
        proto, src, dst = quoted[9], ".".join(map(str, quoted[12:16])), ".".join(map(str, quoted[16:20]))
        l4 = quoted[ihl:ihl + 8]
        sport, dport = int.from_bytes(l4[0:2], "big"), int.from_bytes(l4[2:4], "big")
        want_proto = 17 if want.quoted_udp is not None else 6
        want_dport = (self.udp_in_dport if want.quoted_udp is not None else self.dut_port)
        for name, exp, got in (("quoted source", self.peer.ip, src), ("quoted destination", self.dut.ip, dst),
                               ("quoted protocol", want_proto, proto), ("quoted source port", self.remote_port, sport),
                               ("quoted destination port", want_dport, dport)):
            if exp is not None and str(exp) != str(got):
                out.append((name, str(exp), str(got)))
        if proto != want_proto:
            return out
        if want.quoted_udp is not None:
            ulen = int.from_bytes(l4[4:6], "big")
            if ulen != want.quoted_udp + 8:
                out.append(("quoted UDP length", str(want.quoted_udp + 8), str(ulen)))
        elif want.quoted is not None:
            seq = (int.from_bytes(l4[4:8], "big") - self.remote_isn) % MOD
            if seq != want.quoted[0] % MOD:
                out.append(("quoted seq", str(want.quoted[0]), str(seq)))
        return out

    def _actual_text(self, frame: Any) -> str:
        from scapy.layers.inet import ICMP, UDP

        from ..tcpconn import tcp_payload

        icmp = frame.pkt.getlayer(ICMP)
        if icmp is not None:
            out = "icmp " + _icmp_name(int(icmp.type), int(icmp.code))
            if int(icmp.type) == 3 and int(icmp.code) == 4:
                out += f" mtu {int(icmp.nexthopmtu)}"
            q = bytes(icmp.payload)
            if len(q) >= 28 and q[0] >> 4 == 4 and len(q) >= (q[0] & 0xF) * 4 + 8:
                l4 = q[(q[0] & 0xF) * 4:]
                if q[9] == 17:
                    out += f" [udp ({int.from_bytes(l4[4:6], 'big') - 8})]"
                elif q[9] == 6:
                    seq = (int.from_bytes(l4[4:8], "big") - self.remote_isn) % MOD
                    out += f" [{seq}:{seq}(0)]"
            return out
        udp = frame.pkt.getlayer(UDP)
        if udp is not None:
            return f"udp ({int(udp.len) - 8})"
        ip, tcp = self._tcp_of(frame)
        if tcp is None:
            return frame.summary()
        base = self.local_isn or 0
        seq = (int(tcp.seq) - base) % MOD
        n = len(tcp_payload(frame.pkt))
        out = f"{flags_text(int(tcp.flags))} {seq}:{(seq + n) % MOD}({n})"
        if int(tcp.flags) & 0x10:
            out += f" ack {(int(tcp.ack) - self.remote_isn) % MOD}"
        out += f" win {int(tcp.window)}"
        if int(tcp.flags) & 0x20:
            out += f" urg {int(tcp.urgptr)}"
        opts = self._options_of(tcp)
        if opts:
            out += " <" + ",".join(A.option_text(o) for o in opts) + ">"
        return out

    # -- inbound ------------------------------------------------------------

    def _send(self, pkt: Any) -> None:
        """Send an inbound packet; note when it went out (``sent_us``: the clock read right after the send)."""
        self.peer.send(pkt)
        self.sent_us = self.now_us

    def _inbound_tcp(self, p: A.TcpPacket) -> None:
        from scapy.layers.inet import IP, TCP

        if "R" in p.flags:
            self.reset_seen = True
        if self.dut_port is None and ("S" in p.flags and "." not in p.flags or not self.fds or
                                      all(not f.connecting for f in self.fds.values())):
            self.dut_port = self.bind_port
        if self.dut_port is None:
            raise self.fail("inbound packet before the connection's ports are known (no inbound SYN and no "
                            "outbound SYN yet)")
        # An ack before the DUT's ISN is known (a segment to a closed port): absolute, as the DUT sees it.
        opts = []
        for o in p.options or ():
            if o.kind == "nop":
                opts.append(("NOP", None))
            elif o.kind == "eol":
                opts.append(("EOL", None))
            elif o.kind == "mss":
                opts.append(("MSS", o.values[0]))
            elif o.kind == "wscale":
                opts.append(("WScale", o.values[0]))
            elif o.kind == "sackOK":
                opts.append(("SAckOK", b""))
            elif o.kind == "sack":
                opts.append(("SAck", tuple((v + (self.local_isn or 0)) % MOD for v in o.values)))
            elif o.kind == "TS":
                val, ecr = o.values
                opts.append(("Timestamp", (val, self._inbound_ecr(ecr) if "." in p.flags else ecr)))
            else:
                raise PktUnsupported(self.path, p.line, f"unsupported feature: TCP option {o.kind} in inbound packets")
        if p.options is None:
            raise PktUnsupported(self.path, p.line, "unsupported feature: <...> in an inbound packet (which options?)")
        tos = (p.tos or 0) & 0xFC
        tos |= {"noecn": 0, "ect1": 1, "ect0": 2, "ce": 3, None: 0}.get(p.ecn, 2 if p.ecn == "ect01" else 0)
        seg = IP(dst=self.dut.ip, src=self.peer.ip, tos=tos, ttl=p.ttl if p.ttl is not None else 64, id=0) / TCP(
            sport=self.remote_port, dport=self.dut_port, flags=flags_value(p.flags),
            seq=(self.remote_isn + p.seq) % MOD,
            ack=((self.local_isn or 0) + (p.ack or 0)) % MOD if "." in p.flags else 0,
            window=p.win if p.win is not None else 65535, urgptr=p.urg or 0, options=opts)
        payload = bytes(p.length)
        self._send(seg / payload if payload else seg)

    def _inbound_udp(self, p: A.UdpPacket) -> None:
        """A datagram of ``length`` zero bytes from the script's remote port to the DUT's socket port."""
        from scapy.layers.inet import IP, UDP

        dport = self.dut_port if self.dut_port is not None else self.bind_port
        self.udp_in_dport = dport
        self._send(IP(src=self.peer.ip, dst=self.dut.ip, id=0) / UDP(sport=self.remote_port, dport=dport) /
                       bytes(p.length))

    def _inbound_icmp(self, p: A.IcmpPacket) -> None:
        """An ICMP error quoting the DUT's segment ``[s:e(l)]`` of the connection (IP header and 8 bytes of TCP)."""
        from scapy.layers.inet import ICMP, IP, TCP

        if p.type not in ICMP_TYPES:
            raise PktUnsupported(self.path, p.line, f"unsupported feature: ICMP type {p.type!r} "
                                                    f"(known: {', '.join(ICMP_TYPES)})")
        typ, codes = ICMP_TYPES[p.type]
        code = 0
        if p.code is not None:
            if p.code not in codes:
                raise PktUnsupported(self.path, p.line, f"unsupported feature: ICMP {p.type} code {p.code!r} "
                                                        f"(known: {', '.join(codes)})")
            code = codes[p.code]
        icmp = ICMP(type=typ, code=code, nexthopmtu=p.mtu or 0) if typ == 3 else ICMP(type=typ, code=code)
        if p.quoted_udp is not None and self.dut_port is not None:
            from scapy.layers.inet import UDP

            # The DUT's datagram to the script's remote port (IP header and the 8-byte UDP header).
            dgram = bytes(IP(src=self.dut.ip, dst=self.peer.ip, id=0, ttl=64) /
                          UDP(sport=self.dut_port, dport=self.remote_port) / bytes(p.quoted_udp))[:28]
            self._send(IP(src=self.peer.ip, dst=self.dut.ip, id=0) / icmp / dgram)
            return
        if p.quoted is None or self.dut_port is None:
            raise self.fail("an inbound ICMP error needs the quoted segment [start:end(len)] or datagram "
                            "[udp (N)] of a known socket")
        seq = ((self.local_isn or 0) + p.quoted[0]) % MOD
        quoted = bytes(IP(src=self.dut.ip, dst=self.peer.ip, id=0, ttl=64) /
                       TCP(sport=self.dut_port, dport=self.remote_port, seq=seq, flags="A"))[:28]
        self._send(IP(src=self.peer.ip, dst=self.dut.ip, id=0) / icmp / quoted)

    # -- commands and code --------------------------------------------------

    def _command(self, ev: A.Event, c: A.Command) -> None:
        # A command of several lines (``\``-continued or not) is several shell commands: each needs a handler.
        for cmd in re.split(r"\n(?<!\\\n)", c.text):
            self._one_command(ev, cmd.replace("\\\n", " "))

    def _one_command(self, ev: A.Event, text: str) -> None:
        if not text.strip():
            return
        for pat, handler in _COMMANDS:
            m = pat.fullmatch(" ".join(text.split()))
            if m:
                handler(self, m)
                return
        c = A.Command(" ".join(text.split()))
        raise PktUnsupported(self.path, ev.line, f"unsupported feature: back-quoted shell command `{c.text}` "
                                                 "(no handler registered; see pyharness.pkt.register_command)")

    def _code(self, ev: A.Event, c: A.Code) -> None:
        from .code import run_code

        fd = self.fds.get(self.last_fd) if self.last_fd is not None else None
        if fd is None:
            raise self.fail("%{ }% code block without a socket to read tcp_info from")
        run_code(self, ev, c.text, fd.sock.info())

    # -- system calls -------------------------------------------------------

    def _watch(self, call: A.Syscall, entry: dict) -> None:
        """On a DUT whose sockets can time their own readiness (the Linux DUT's helper, ``watch``), ask for it.

        A blocking call completes when its socket becomes ready; the runner notices at its next poll, a round trip
        through the helper that a busy machine stretches to tens of milliseconds. The time the helper noted is
        the call's return time (``_poll_pending``). Virtual time needs none of this: the simulation stands still
        while the runner polls.
        """
        if not self.realtime or not call.args:
            return
        from .calls import _poll_bits
        from .syscalls import arg_int

        waits: list[tuple[int, int]] = []
        if call.name == "poll" and isinstance(call.args[0], A.ListExpr):
            for item in call.args[0].items:
                f = dict(item.fields) if isinstance(item, A.StructExpr) else {}
                if "fd" in f and "events" in f:
                    waits.append((arg_int(f["fd"], "poll fd", 0, self.path), _poll_bits(f["events"], 0, self.path)))
        elif isinstance(call.args[0], int):
            ev = {"connect": 0x4, "write": 0x4, "send": 0x4, "sendto": 0x4, "sendmsg": 0x4, "accept": 0x1,
                  "read": 0x1, "recv": 0x1, "recvfrom": 0x1, "recvmsg": 0x1}.get(call.name)
            if ev is not None:
                waits.append((call.args[0], ev))
        socks = []
        for fdn, events in waits:
            fd = self.fds.get(fdn)
            if fd is None or not hasattr(fd.sock, "watch") or not events:
                return
            fd.sock.watch(events)
            socks.append(fd.sock)
        if socks:
            entry["ready"] = socks

    def _ready_at_us(self, entry: dict) -> Optional[int]:
        """When the pending call's socket became ready, as its DUT noted (``_watch``); None if it cannot say."""
        times = [t for t in (s.ready_at_ns() for s in entry.get("ready", ())) if t is not None]
        return (min(times) - self.start_ns) // 1000 if times else None

    def _credit_lag(self, exp_us: int) -> None:
        """An inbound packet went out ``lag`` after its script time (the harness's own delay, within the tolerance
        ``_wait_for`` checked): a blocking call pending now may return that much later, as it may wait for it."""
        lag = max(0, self.now_us - exp_us)
        for p in self.pending:
            p["lag"] = max(p.get("lag", 0), lag)

    def _poll_pending(self) -> None:
        for p in list(self.pending):
            res = p["try"]()
            if res is None:
                continue
            self.pending.remove(p)
            at = self.now_us
            ready = self._ready_at_us(p)
            if ready is not None and p["start"] <= ready <= at:
                # The kernel completed the call when the socket became ready; the runner only noticed now.
                at = ready
            self._check_result(p["line"], p["call"], res)
            tol = self._tolerance(p["end"])
            lag = p.get("lag", 0)
            if at < p["end"] - tol or at > p["end"] + tol + lag:
                sent_late = (f" (+ {_fmt_us(lag)} sec: the runner started the call or sent an inbound packet that late)"
                             if lag else "")
                raise self.fail(f"timing error: expected {p['name']} to return at {_fmt_us(p['end'])} sec but "
                                f"it returned at {_fmt_us(at)} sec; tolerance {_fmt_us(tol)} sec{sent_late}",
                                p["line"])

    def _syscall(self, ev: A.Event, call: A.Syscall, start: int) -> None:
        from .calls import attempt

        attempt_fn, blocking = attempt(self, ev, call)
        res = attempt_fn()
        if call.end_usecs is not None:
            end = call.end_usecs + (start - ev.time.usecs if ev.time.kind == A.RELATIVE else 0)
            if res is not None:
                self._check_result(ev.line, call, res)
                tol = self._tolerance(end)
                if self.now_us < end - tol:
                    raise self.fail(f"timing error: expected {call.name} to block until {_fmt_us(end)} sec but it "
                                    f"returned at {_fmt_us(self.now_us)} sec", ev.line)
                return
            # A call that started late (the runner's own lag, ``_wait_for``) may end that much late.
            entry = {"try": attempt_fn, "end": end, "line": ev.line, "call": call, "name": call.name,
                     "start": self.now_us, "lag": max(0, self.now_us - start)}
            self._watch(call, entry)
            self.pending.append(entry)
            return
        if res is None:
            if blocking:
                raise self.fail(f"{call.name} would block, but the script does not say until when "
                                f"(write +0...T {call.name}(...) for a blocking call)", ev.line)
            raise self.fail(f"{call.name} would block", ev.line)  # pragma: no cover
        self._check_result(ev.line, call, res)

    def _check_result(self, line: int, call: A.Syscall, res: tuple[int, Optional[str]]) -> None:
        value, errno = res
        want = call.result
        if isinstance(want, A.Ellipsis_):
            return
        if not isinstance(want, int):
            raise PktUnsupported(self.path, line, f"unsupported feature: {call.name} result {want!r} (an integer)")
        if value != want:
            got = f"{value}" + (f" ({errno})" if errno else "")
            raise self.fail(f"{call.name}: expected result {want}" + (f" {call.errno}" if call.errno else "")
                            + f" but got {got}", line)
        if want == -1 and call.errno and errno != call.errno:
            raise self.fail(f"{call.name}: expected errno {call.errno} but got {errno}", line)


def _inbound(ev: A.Event) -> bool:
    return isinstance(ev.action, (A.TcpPacket, A.UdpPacket, A.IcmpPacket)) and ev.action.direction == "<"


def _icmp_name(typ: int, code: int) -> str:
    """``unreachable port_unreachable`` for (3, 3); numbers for what the table does not name."""
    for name, (t, codes) in ICMP_TYPES.items():
        if t == typ:
            for cname, c in codes.items():
                if c == code:
                    return f"{name} {cname}"
            return f"{name} code {code}" if codes else name
    return f"type {typ} code {code}"


def _describe(ev: A.Event) -> str:
    act = ev.action
    if isinstance(act, (A.TcpPacket, A.UdpPacket, A.IcmpPacket)):
        return "inbound packet" if act.direction == "<" else "outbound packet"
    if isinstance(act, A.Syscall):
        return "system call start"
    if isinstance(act, A.Command):
        return "command"
    return "data collection for code"


def _diff_table(diffs: list[tuple[str, str, str]]) -> str:
    w = max(len(d[0]) for d in diffs)
    lines = [f"  {'field'.ljust(w)}  script  ->  actual"]
    for name, want, got in diffs:
        lines.append(f"  {name.ljust(w)}  {want}  ->  {got}")
    return "\n".join(lines)


def run_script(script: A.Script, dut: Any, peer: Any, net: Any) -> Runner:
    """Run ``script`` (parsed) on the bench; returns the finished runner, raises :class:`PktError` on failure."""
    r = Runner(script, dut, peer, net)
    r.run()
    return r


def _defaults_sh(runner: "Runner", m: re.Match) -> None:
    """Linux packetdrill's ``common/defaults.sh``: the settings of it the DUT has as options (timestamps,
    SACK, DSACK, SYN retries 5, RACK and the tail loss probe on). Its buffer sizes, congestion control and
    qdisc settings have no DUT option and stay the DUT's own (its windows and window scale differ)."""
    runner.socket_defaults.update({"timestamps": True, "sack": True, "dsack": True, "syn_retries": 5,
                                   "rack": True, "tail_loss_probe": True})
    sysctl = getattr(runner.dut, "sysctl", None)
    if sysctl is not None:
        # A DUT with a kernel's sysctls (Linux): the rest of the file, as it sets them.
        for name, value in LINUX_DEFAULTS_SH.items():
            sysctl(name, value)


#: The per-namespace settings of Linux packetdrill's common/defaults.sh a Linux DUT gets (buffer sizes give
#: its window scale). tcp_congestion_control=cubic is left out: a namespace may not set it (EPERM) unless
#: the host allows cubic.
LINUX_DEFAULTS_SH = {
    "net.ipv4.tcp_rmem": "4096 540000 15728640", "net.ipv4.tcp_wmem": "4096 262144 4194304",
    "net.ipv4.tcp_synack_retries": 5, "net.ipv4.tcp_frto": 2, "net.ipv4.tcp_reordering": 3,
    "net.ipv4.tcp_slow_start_after_idle": 0,
    "net.ipv4.tcp_tso_win_divisor": 3, "net.ipv4.tcp_ecn": 0, "net.ipv4.tcp_syncookies": 1,
}


def _set_sysctls(runner: "Runner", m: re.Match) -> None:
    """``../common/set_sysctls.py /proc/sys/net/ipv4/tcp_sack=0 ...``: each setting as ``sysctl`` would."""
    for name, value in re.findall(r"/proc/sys/net/ipv4/(\w+)=(\S+)", m.group(1)):
        if not re.fullmatch(r"\d+", value):
            raise PktUnsupported(runner.path, runner.event.line if runner.event else 1,
                                 f"unsupported feature: set_sysctls.py net.ipv4.{name}={value}")
        _sysctl(runner, re.match(r"(\w+)=(\d+)", f"{name}={value}"))  # type: ignore[arg-type]


register_command(r"(?:\.\./)*common/defaults\.sh", _defaults_sh)
register_command(r"(?:\.\./)*common/set_sysctls\.py((?:\s+/proc/sys/net/ipv4/\w+=\S+)+)", _set_sysctls)
# The cleanup command of scripts that ran set_sysctls.py: each run has a DUT of its own, nothing to restore.
register_command(r"/tmp/sysctl_restore_\$\{PPID\}\.sh", lambda runner, m: None)
register_command(r"sysctl\s+(?:-q\s+)?(?:-w\s+)?net\.ipv4\.(\w+)\s*=\s*(\d+)", _sysctl)

__all__ = ["Runner", "run_script", "register_command", "flags_value", "flags_text", "REMOTE_PORT"]
