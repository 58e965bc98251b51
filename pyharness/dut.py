"""The device under test (DUT) of the conformance scenarios.

A scenario talks to the DUT only through socket-level operations (open,
bind, listen, accept, connect, send, recv, shutdown, close, options, and
``tcp_info`` where the DUT has it) and plays the remote side itself as a
scripted peer. Nothing in a scenario reaches into the Tern stack, so the same
scenario runs against another DUT backend (the Linux kernel, later).

Values that legitimately differ between stacks (minimum RTO, initial window,
delayed-ACK timer, TIME-WAIT length, ARP timings, ICMP rate limit...) come
from the DUT's :class:`DutProfile`, never from literals in a scenario.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Optional
from .errors import hide_from_traceback as __tracebackhide__  # noqa: F401  (pytest shows the test's line, not ours)

if TYPE_CHECKING:
    from .network import Network

__all__ = ["CLASSIC_RECOVERY", "RACK_RECOVERY", "DutProfile", "TERN_PROFILE", "TernDut", "make_tern_dut", "linux_deviation", "family_addrs", "FAMILIES",
           "tern_stack"]

MS = 1_000_000
SEC = 1_000_000_000


def linux_deviation(reason: str) -> Any:
    """Mark a scenario (or a ``pytest.param``) where the Linux kernel deviates from an RFC MUST/SHOULD.

    ``reason`` quotes the RFC text. Under ``--dut linux`` the scenario is an
    expected failure, strict (``xfail(strict=True)``): a pass under Linux
    fails the run, since it shows the reason false or the scenario unable to
    see the deviation, so the scenario must fail on every run against Linux.
    Under the Tern DUT nothing changes: the scenario runs and must pass
    (plugin: the ``deviation`` marker).
    """
    import pytest

    return pytest.mark.deviation("linux", reason=reason)


def tern_stack(dut: Any) -> bool:
    """Whether ``dut`` is a Tern stack (a :class:`pyharness.host.Host` or :class:`TernDut`): its internal counters
    and state can be read. A scenario checks the wire for every DUT and, under ``if tern_stack(dut):``, the Tern
    stack's counters that say why (another DUT, the Linux kernel, has no such counters)."""
    return getattr(dut, "kind", None) in ("host", "tern")


#: The Tern stack's TCP options that select the classic loss recovery: RFC 5681 / RFC 6582 / RFC 6675 with
#: DupThresh, no RACK-TLP (RFC 8985), and RFC 5681's slow start of 1 SMSS per ACK instead of RFC 3465's L = 2.
CLASSIC_RECOVERY = {"rack": False, "tail_loss_probe": False, "abc_l2": False}
#: The Tern stack's defaults among those options: RACK-TLP (RFC 8985) and RFC 3465's L = 2 SMSS slow start.
RACK_RECOVERY = {"rack": True, "tail_loss_probe": True, "abc_l2": True}


@dataclass(frozen=True)
class DutProfile:
    """What a DUT does where the RFCs leave a choice. Times in nanoseconds.

    The Tern values are the stack's defaults (stack/include/tern/stack.h);
    each field says which RFC leaves the choice open.
    """

    name: str
    #: IP TTL of datagrams the DUT originates (RFC 1122 §3.2.1.7: "SHOULD" be configurable, 64 common).
    ttl: int = 64
    #: ARP cache lifetime (RFC 1122 §2.3.2.1 leaves the timeout to the implementation).
    arp_timeout: int = 60 * SEC
    #: Interval between ARP requests for one address (RFC 1122 §2.3.2.1: at most one per second).
    arp_retry: int = 1 * SEC
    #: ARP requests before the DUT gives up on an address.
    arp_retries: int = 3
    #: Whether the DUT reports a failed resolution with ICMP host unreachable to itself/the source.
    arp_failure_icmp: bool = True
    #: IPv4 reassembly timeout (RFC 791 suggests 15 s as a lower bound; RFC 1122 §3.3.2: 60 s to 120 s; Linux 30 s).
    reasm_timeout: int = 30 * SEC
    #: ICMP error rate limit: tokens per second and burst (RFC 1122 §3.2.2, RFC 1812 §4.3.2.8).
    icmp_rate: int = 100
    icmp_burst: int = 10
    #: IP protocols the DUT implements (RFC 1122 §3.2.2.1: protocol unreachable for the others).
    ip_protocols: tuple = (1, 6, 17)
    #: Whether echo requests to broadcast addresses are answered (RFC 1122 §3.2.2.6 MAY ignore).
    echo_broadcast: bool = False
    #: Overlapping IPv4 fragments: "reassemble" (RFC 791 §3.2: later data may overwrite) or "drop" the whole
    #: datagram (RFC 1858 §4 recommends it against filter evasion; RFC 5722 makes it a MUST for IPv6 only).
    frag_overlap: str = "reassemble"
    #: Whether an ICMP error is matched to a socket only when the datagram it quotes could have come from us
    #: (its source address is ours): RFC 5927 §4.1 recommends it, RFC 1122 §4.1.3.3 does not say how to match.
    icmp_error_checks_source: bool = True
    #: Datagrams queued for one unresolved neighbour (RFC 1122 §2.3.2.2: "SHOULD save ... at least one");
    #: None: bounded in bytes (``arp_queue_bytes``), not datagrams. ``arp_queue_keeps``: "oldest" (new ones
    #: are dropped when full) or "newest" (the oldest are dropped; RFC 1122 says "(the latest)").
    arp_queue: Optional[int] = 16
    arp_queue_bytes: int = 0
    arp_queue_keeps: str = "oldest"
    #: UDP receive queue of a socket, in datagrams (RFC 768/1122 say nothing); None: bounded in bytes of
    #: buffer (``udp_rx_bytes``, kernel overhead included), not datagrams.
    udp_rx_queue: Optional[int] = 16
    udp_rx_bytes: int = 0
    #: Interface MTU of the DUT in the scenarios.
    mtu: int = 1500
    #: Ephemeral port range (RFC 6056 §3.2 leaves it open: SHOULD be 1024-65535; IANA's dynamic range
    #: 49152-65535 [RFC 6335 §6] is Tern's; Linux uses 32768-60999, ip_local_port_range).
    ephemeral_low: int = 49152
    ephemeral_high: int = 65535
    #: TCP: initial RTO, minimum RTO, maximum RTO (RFC 6298 §2 and (2.4): minimum 1 s "SHOULD").
    rto_initial: int = 1 * SEC
    rto_min: int = 1 * SEC
    rto_max: int = 60 * SEC
    #: TCP: how the data retransmission limit R2 is counted: "count" of retransmissions, or "time"
    #: (RFC 1122 §4.2.3.5: "measured in time units or as a count of retransmissions").
    data_retries_unit: str = "count"
    #: TCP: loss recovery by default: "newreno" (RFC 5681 §3.2 / RFC 6582, SACK per RFC 6675) or "rack"
    #: (RACK-TLP, RFC 8985: the standards-track alternative Linux uses). Tern: RACK-TLP beside RFC 6675's
    #: DupThresh rules (tern_tcp_config.rack and .tail_loss_probe).
    loss_recovery: str = "rack"
    #: TCP: the socket options that select the classic RFC 5681 / 6582 / 6675 loss recovery on this DUT (for
    #: scenarios that check its exact timelines; for Tern also RFC 5681's slow start, 1 SMSS per ACK, instead of
    #: RFC 3465's 2 SMSS, abc_l2), or None when the DUT cannot select it per socket.
    classic_recovery: Optional[dict] = field(default_factory=lambda: dict(CLASSIC_RECOVERY))
    #: TCP: whether a tail loss probe that retransmits (RFC 8985 §7.3) sends the segment's octets as two segments,
    #: half each (Tern: two answers to draw, so one loss does not cost the RTO; stack/src/tcp/tcp_tlp.c), or as
    #: the one segment (Linux, RFC 8985 §7.3's pseudocode).
    tlp_probe_halves: bool = True
    #: TCP: the socket options that select RACK-TLP (RFC 8985) and the stack's other defaults on this DUT, for
    #: scenarios about them that must run in a suite run under the classic profile too (``--tcp-recovery
    #: classic``); None when the DUT cannot select them per socket.
    rack_recovery: Optional[dict] = field(default_factory=lambda: dict(RACK_RECOVERY))
    #: TCP: the congestion control of the DUT's sockets unless a scenario sets one (``congestion=`` socket option):
    #: "newreno" (RFC 5681 / RFC 6582; Tern's default), "cubic" (RFC 9438) or "bbr" (BBRv1,
    #: draft-cardwell-iccrg-bbr-congestion-control-00, with pacing; docs/bbr.md). A Tern DUT takes it as
    #: tern_tcp_config.congestion.
    congestion: str = "newreno"
    #: TCP: data segments ACKed at once at the start of a connection before delayed ACKs begin (Linux's
    #: quick-ACK mode; RFC 9293 §3.8.6.3 "SHOULD implement a delayed ACK" allows it).
    quickacks: int = 0
    #: TCP: whether the receive buffer size asked for (``rx_buffer``) is the window advertised (Tern), or the
    #: kernel's buffer that also pays for overhead (Linux: SO_RCVBUF doubled, about 3/4 of it advertised).
    rx_buffer_is_window: bool = True
    #: TCP: connections an accept queue holds beyond the listen() backlog (RFC 9293 does not define the backlog).
    backlog_extra: int = 0
    #: TCP: SYN retransmissions before the connect fails (R2 for a SYN as a count). RFC 9293 §3.8.3 MUST-23: "R2
    #: for a SYN segment MUST be set large enough to provide retransmission of the segment for at least 3 minutes";
    #: Tern's 8 retransmits at 1, 3, 7, 15, 31, 63, 123 and 183 s (Linux: tcp_syn_retries 6).
    syn_retries: int = 8
    #: TCP: initial window in segments (RFC 6928).
    initial_window: int = 10
    #: TCP: delayed-ACK timer (RFC 9293 §3.8.6.3: under 0.5 s; RFC 1122 §4.2.3.2).
    delack: int = 200 * MS
    #: TCP: TIME-WAIT duration, 2 x MSL. RFC 9293 §4: "MSL: Maximum Segment Lifetime, the time a TCP segment
    #: can exist in the internetwork system. Arbitrarily defined to be 2 minutes." (§3.4.2 takes MSL to be 2
    #: minutes), so 4 minutes: Tern's default. Many stacks use less (Linux 60 s, TCP_TIMEWAIT_LEN).
    time_wait: int = 240 * SEC
    #: TCP: how long a closed (orphan) socket waits in FIN-WAIT-2 for the peer's FIN (RFC 9293 sets no limit;
    #: Linux's tcp_fin_timeout and Tern's fin_wait2_timeout: 60 s).
    fin_wait2_timeout: int = 60 * SEC
    #: TCP: keep-alive idle, interval and count (RFC 1122 §4.2.3.6: idle at least 2 hours by default).
    keepalive_idle: int = 7200 * SEC
    keepalive_interval: int = 75 * SEC
    keepalive_count: int = 9
    #: TCP: challenge ACKs per second per connection (RFC 5961 §7).
    challenge_ack_limit: int = 10
    #: TCP: at most one ACK per this interval in answer to unacceptable segments without data, per
    #: connection (RFC 5961 §7 throttling; Tern's default and Linux's tcp_invalid_ratelimit: 500 ms).
    invalid_ack_interval: int = 500 * MS
    #: TCP: what a full SYN queue does with a new SYN: "drop" (silence), "rst", or "syncookie" (a SYN-ACK whose
    #: sequence number is a SYN cookie, RFC 4987 §3.6: no state until the ACK comes back; Tern).
    backlog_full: str = "syncookie"
    #: Tolerance of exact-time checks (``expect(at=...)``): 0 in virtual time; a DUT in real time (Linux)
    #: gets ``timing_tolerance + timing_tolerance_frac * (at - now)``, and ``within=`` windows grow by the former.
    timing_tolerance: int = 0
    timing_tolerance_frac: float = 0.0
    #: Timer tick of a DUT whose timers run on a timer wheel (Linux: CONFIG_HZ); 0: exact timers (virtual time).
    #: A wheel timer of n ticks fires up to one bucket late (Linux kernel/time/timer.c: 64..503 ticks -> 8 ticks,
    #: 504..4031 -> 64 ticks, 4032.. -> 512 ticks), which :meth:`tolerance` adds.
    timer_hz: int = 0
    #: Entries an echo reply's Record Route / Timestamp option gains at this host (RFC 1122 §3.2.2.6: "updated to
    #: include the current host" does not say how often; Tern once, Linux on input and again on output).
    echo_option_entries: int = 1
    #: Whether the DUT's clock is the simulation's (IP timestamps are then exact), or the wall clock (Linux).
    clock_is_virtual: bool = True
    #: TCP: where the user timeout (RFC 5482 §3, RFC 9293 §3.10.8) starts: "send" (the first transmission of the
    #: unacknowledged data) or "first_retransmission" (Linux: tp->retrans_stamp).
    user_timeout_from: str = "send"
    #: TCP: the error a connection ended by its user timeout reports (RFC 9293 §3.10.8: "error: connection
    #: aborted due to user timeout", with no MUST/SHOULD on telling it apart): Tern USER_TIMEOUT, Linux ETIMEDOUT
    #: (TIMED_OUT, the same as the R2 limit).
    user_timeout_error: str = "USER_TIMEOUT"
    #: TCP: the smallest usable window (bytes) the DUT sends into at once when it is all the peer ever offered
    #: (RFC 9293 §3.8.6.2.1 sender SWS avoidance (3): Fs = 1/2 of the largest window can be sent). Smaller
    #: windows wait for the persist/probe timer (the algorithm's override timeout (4)). Tern 1; Linux 48: its
    #: send MSS is at least 68 - 20 header bytes (tcp_bound_to_half_wnd()), and tcp_snd_wnd_test() wants one.
    min_send_window: int = 1
    #: TCP: how the DUT puts its receive window into a scaled window field (RFC 7323 §2.3 only says it is
    #: shifted right by Rcv.Wind.Shift): "down" (truncated: Tern) or "up" (Linux __tcp_select_window():
    #: ALIGN(window, 1 << rcv_wscale), so that a small window is not scaled away to 0).
    window_scale_rounding: str = "down"
    #: TCP: what a socket whose read side was shut down (shutdown(SHUT_RD)) does with data arriving afterwards:
    #: "discard" (acknowledged, then dropped: Tern) or "deliver" (queued and readable as before: Linux, where
    #: SHUT_RD only marks the socket). RFC 9293's user interface has no such call (its CLOSE is the sending
    #: side's, section 3.10.4), so the choice is the implementation's.
    shut_rd: str = "discard"
    #: TCP: how a timed-out flight is found spurious: "rfc" (Tern: with timestamps the Eifel detection, RFC 3522
    #: section 3.2, from the TSecr of the first ACK; without, F-RTO as RFC 5682 section 2.1 has it: two new
    #: segments on the first ACK, the decision on the second), or "linux" (tcp_process_loss(): the RTO is undone
    #: at the first ACK that acknowledges data never retransmitted, FLAG_ORIG_SACK_ACKED, whatever its TSecr,
    #: and new data in F-RTO's step 2 b) goes out as far as cwnd allows). Both RFCs are Experimental.
    spurious_rto: str = "rfc"
    #: TCP: whether the ACK of a retransmitted segment that echoes the TSval of an earlier instance (RFC 7323
    #: section 5.3: a receiver echoes TS.Recent, which a duplicate does not update) gives an RTT sample. RFC 6298
    #: section 3: "The only case when TCP can safely take RTT samples from retransmitted segments is when the TCP
    #: timestamp option [JBB92] is employed"; RFC 7323 section 4.1 allows a TSecr sample whenever SND.UNA
    #: advances. Tern False: the echo spans a retransmission timeout, not the path; Linux True
    #: (tcp_ack_update_rtt() takes tcp_rtt_tsopt_us() when Karn's rule leaves no sequence sample).
    rtt_sample_from_older_echo: bool = False
    #: TCP: whether the sockets API's ABORT (RFC 9293 section 3.10.5) reaches a connection in TIME-WAIT. Tern: the
    #: socket keeps its TCB until TIME-WAIT ends. Linux: a connection entering TIME-WAIT leaves its descriptor for
    #: a timewait mini-socket (tcp_time_wait()), and close() with SO_LINGER 0 on the descriptor no longer reaches it.
    abort_in_time_wait: bool = True
    #: MLD: how much later than the Maximum Response Delay a DUT's answer to a query may come (RFC 3810 section 6.2
    #: draws the delay "randomly in the range (0, [Maximum Response Delay])"). Tern 0: exact. Linux two ticks: its
    #: delay is counted in timer ticks and mld_gq_start_work() arms the drawn tick count + 2 (8 ms at HZ 250),
    #: so that a query with a Maximum Response Delay under 2 ticks (1 ms, 0) is answered about 8 ms later.
    mld_answer_late: int = 0
    #: Extra, backend-specific notes.
    notes: dict = field(default_factory=dict)

    def tolerance(self, interval_ns: int) -> int:
        """Tolerance of a time check on a timer of ``interval_ns``: 0 in virtual time; in real time the profile's
        fixed and proportional tolerance plus the timer wheel's bucket (the timer may fire that much late)."""
        tol = self.timing_tolerance + int(max(interval_ns, 0) * self.timing_tolerance_frac)
        if self.timer_hz:
            ticks = max(interval_ns, 0) * self.timer_hz // SEC
            gran = 1 if ticks < 63 else 8 if ticks < 504 else 64 if ticks < 4032 else 512
            tol += gran * SEC // self.timer_hz
        return tol


#: The Tern stack's profile: its documented defaults.
# ICMP, IGMP, TCP, UDP; the ARP queue keeps the latest datagrams, as RFC 1122 §2.3.2.2 asks (issue 22)
TERN_PROFILE = DutProfile(name="tern", ip_protocols=(1, 2, 6, 17), arp_queue_keeps="newest")

DUT_IP = "10.0.0.1"
PEER_IP = "10.0.0.2"
PREFIX = 24
#: The bench's IPv6 addresses (a unique local prefix, RFC 4193) for scenarios run over IPv6.
DUT_IP6 = "fd00::1"
PEER_IP6 = "fd00::2"
PREFIX6 = 64
#: The IP families a scenario may run over (the ``family`` parameter of the TCP and UDP areas).
FAMILIES = ("ipv4", "ipv6")


def family_addrs(family: str) -> tuple[str, str]:
    """(DUT address, peer address) of the bench for ``family`` ("ipv4" or "ipv6")."""
    if family == "ipv4":
        return DUT_IP, PEER_IP
    if family == "ipv6":
        return DUT_IP6, PEER_IP6
    raise ValueError(f"family: {family!r} is not one of {', '.join(FAMILIES)}")


class TernDut:
    """A Tern stack host as the DUT, with one scripted peer on a link.

    Socket operations are those of :class:`pyharness.host.Host`; ``profile``
    holds the values scenarios compare against.
    """

    kind = "tern"

    def __init__(self, net: "Network", profile: DutProfile = TERN_PROFILE, family: str = "ipv4",
                 **host_options: Any):
        self.net = net
        if getattr(net, "tcp_recovery", "rack") == "classic" and profile.loss_recovery == "rack":
            # A run under the classic profile (--tcp-recovery classic): every host starts from
            # CLASSIC_RECOVERY, and scenarios that compare against the loss recovery see it.
            profile = replace(profile, loss_recovery="newreno")
        self.profile = profile
        #: The family the scenario runs over; ``ip`` and ``peer_ip`` are the bench's addresses in it.
        self.family = family
        self.ip, self.peer_ip = family_addrs(family)
        if family == "ipv6":
            # Dual stack: the IPv4 address stays (scenarios over IPv6 see no IPv4 traffic).
            host_options.setdefault("ipv6", f"{DUT_IP6}/{PREFIX6}")
        tcp = dict(host_options.pop("tcp", None) or {})
        tcp.setdefault("congestion", profile.congestion)
        self.host = net.host("dut", ipv4=f"{DUT_IP}/{PREFIX}", mtu=profile.mtu, tcp=tcp, **host_options)
        self.mac = self.host.mac

    # Socket-level operations: what every DUT backend offers.
    def udp_socket(self, port: Optional[int] = None, addr: Optional[str] = None) -> Any:
        """A UDP socket, bound to ``port`` if given."""
        return self.host.udp_socket(port=port, addr=addr)

    def ping_socket(self, ident: int = 1) -> Any:
        """An ICMP echo socket with identifier ``ident``."""
        return self.host.ping_socket(ident)

    def tcp_socket(self, **options: Any) -> Any:
        """An unconnected TCP socket with options."""
        return self.host.tcp_socket(**options)

    def tcp_listen(self, port: int, backlog: int = 8, **options: Any) -> Any:
        """A listening TCP socket."""
        return self.host.tcp_listen(port, backlog=backlog, **options)

    def tcp_connect(self, ip: str, port: int, **options: Any) -> Any:
        """Start an active open to ``ip:port``."""
        return self.host.tcp_connect(ip, port, **options)

    def add_route(self, prefix: str, gateway: Optional[str] = None) -> None:
        """A route on the DUT (for scenarios about routing)."""
        self.host.add_route(prefix, gateway)

    def counters(self) -> Any:
        """The DUT's counters where it has them (the Tern stack's)."""
        return self.host.counters()


def make_tern_dut(net: "Network", peer_arp: bool = True, family: str = "ipv4",
                  **host_options: Any) -> tuple[TernDut, Any, Any]:
    """The standard bench: the DUT (10.0.0.1/24), a scripted peer (10.0.0.2/24) and the link between them.

    ``peer_arp=False`` makes a peer that does not answer ARP (nor, over IPv6, neighbour solicitations) by
    itself (the scenario answers, or not). ``family="ipv6"`` adds fd00::1/64 and fd00::2/64, and the
    scenario talks over those (``dut.ip``, ``dut.peer_ip``).
    """
    dut = TernDut(net, family=family, **host_options)
    peer_v6 = {"ipv6": f"{PEER_IP6}/{PREFIX6}", "nd": peer_arp} if family == "ipv6" else {}
    peer = net.peer("peer", ipv4=f"{PEER_IP}/{PREFIX}", arp=peer_arp, **peer_v6)
    link = net.link(dut.host, peer)
    return dut, peer, link
