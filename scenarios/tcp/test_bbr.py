"""BBR congestion control (BBRv1, draft-cardwell-iccrg-bbr-congestion-control-00) with delivery-rate estimation
(draft-cheng-iccrg-delivery-rate-estimation) and pacing, between two Tern hosts in virtual time.

The sender (``congestion="bbr"``) sends without end over one bottleneck link (10 Mbit/s unless a test says
otherwise, 10 ms each way); the receiver reads everything at once. The tests watch the sender's model and state
machine through ``tcp_info`` at every event instant (``net.run(until=...)`` checks its predicate at each one), and
the spacing of its segments on the wire. Every "nothing happens" claim has its CUBIC control beside it.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import pytest

from pyharness.pcap import read_pcap

pytestmark = [
    pytest.mark.area("tcp"),
    pytest.mark.dut("tern", reason="Tern's own BBR, between two Tern hosts in virtual time"),
    pytest.mark.ipv4_only("congestion control sits above IP: the family changes only the MSS"),
]

MSS = 1448  # 1500 - 20 - 20 - 12 (timestamps)
#: A 10 Mbit/s line carries 1514-byte frames (Ethernet header included) with 1448 bytes of data each: the
#: bottleneck's data rate, in bytes per second, as the delivery-rate estimator must measure it.
DATA_RATE_10M = 10_000_000 // 8 * MSS // 1514
BBR_UNIT = 256
HIGH_GAIN = 739  # 2/ln 2 in 1/256 units
DRAIN_GAIN = 88  # 1/high_gain
GAIN_CYCLE = (320, 192, 256, 256, 256, 256, 256, 256)  # 5/4, 3/4, 1 x 6
MIN_PIPE_CWND = 4 * MSS


class Transfer:
    """A sender with ``congestion`` and a receiver that reads at once, over one link; :meth:`run` keeps the
    sender's buffer full."""

    def __init__(self, net: Any, congestion: str = "bbr", rate: str = "10Mbit", delay: str = "10ms",
                 buffer: int = 1 << 20, capture: bool = False, rx_buffer: Optional[int] = None) -> None:
        self.net = net
        a = net.host("a", ipv4="10.0.0.1/24", tcp={"rx_buffer": buffer, "tx_buffer": buffer,
                                                     "congestion": congestion})
        b = net.host("b", ipv4="10.0.0.2/24", tcp={"rx_buffer": rx_buffer or buffer, "tx_buffer": buffer})
        self.link = net.link(a, b, rate=rate, delay=delay)
        self.pcap = self.link.capture(side="a") if capture else None
        lis = b.tcp_listen(5001)
        self.sock = a.tcp_connect("10.0.0.2", 5001, nodelay=True)
        assert net.run(until=lambda: self.sock.info().state == "ESTABLISHED", for_="1s")
        self.rx: Any = None
        self.chunk = bytes(65536)
        self.rx_buf = lis
        assert net.run(until=lambda: self._accept(), for_="1s")

    def _accept(self) -> bool:
        self.rx = self.rx_buf.accept()
        return self.rx is not None

    def pump(self) -> None:
        """Refill the sender's buffer, read what arrived."""
        while self.sock.send(self.chunk):
            pass
        while self.rx.recv(1 << 20):
            pass

    def run(self, until: Callable[[Any], bool], for_: str) -> Optional[Any]:
        """Run until ``until(info)`` holds at an event instant (None when ``for_`` passes first); returns that
        info."""
        hit: list[Any] = []

        def pred() -> bool:
            self.pump()
            i = self.sock.info()
            if until(i):
                hit.append(i)
                return True
            return False

        self.net.run(until=pred, for_=for_)
        return hit[0] if hit else None

    def run_tracking(self, until: Callable[[Any], bool], for_: str) -> tuple[Any, Any]:
        """Like :meth:`run`, and the info of the event instant before the one where ``until`` held."""
        seen: list[Any] = [self.sock.info()]
        hit = self.run(lambda i: until(i) or seen.append(i) is not None, for_)  # type: ignore[func-returns-value]
        return seen[-1], hit

    def watch(self, for_: str) -> list[tuple[int, Any]]:
        """(time, info) at every event instant for ``for_``."""
        out: list[tuple[int, Any]] = []

        def pred() -> bool:
            self.pump()
            out.append((self.net.now_ns, self.sock.info()))
            return False

        self.net.run(until=pred, for_=for_)
        return out


def changes(samples: list[tuple[int, Any]], key: Callable[[Any], Any]) -> list[tuple[int, Any]]:
    """The samples at which ``key(info)`` changes (the first one included)."""
    out = []
    last = object()
    for t, i in samples:
        k = key(i)
        if k != last:
            out.append((t, i))
            last = k
    return out


def send_quantum(info: Any) -> int:
    """BBRSetSendQuantum: 1 segment below 1.2 Mbit/s of pacing rate, 2 below 24 Mbit/s, else 1 ms of it (at most
    64 KB)."""
    rate = info.bbr_pacing_rate
    if rate < 1_200_000 // 8:
        return MSS
    if rate < 24_000_000 // 8:
        return 2 * MSS
    return max(min(rate // 1000, 65536), 2 * MSS)


def inflight_target(info: Any, gain: int) -> int:
    """BBRInflight(gain): gain x BtlBw x RTprop plus the quantization budget (3 send quanta, 2 segments more in
    the 5/4 phase)."""
    bdp = info.bbr_btlbw * info.bbr_rtprop_ns // 1_000_000_000
    w = (bdp * gain + BBR_UNIT - 1) // BBR_UNIT + 3 * send_quantum(info)
    if info.bbr_mode == "PROBE_BW" and info.bbr_cycle_index == 0:
        w += 2 * MSS
    return w


def test_delivery_rate_is_the_bottleneck_rate(net):
    """The delivery-rate estimator measures the bottleneck's data rate exactly: BtlBw is 1448 data bytes per
    1514-byte frame at 10 Mbit/s once the pipe is full, and the pacing rate in PROBE_BW's 1.0 phases is BtlBw."""
    t = Transfer(net)
    info = t.run(lambda i: i.bbr_mode == "PROBE_BW" and i.bbr_pacing_gain == BBR_UNIT, for_="2s")
    assert info is not None, "no PROBE_BW within 2 s"
    assert info.bbr_btlbw == DATA_RATE_10M
    assert info.bbr_pacing_rate == DATA_RATE_10M
    # RTprop: 20 ms of propagation plus one frame's serialization (1514 bytes, 1.2112 ms) and the ACK's
    # (66 bytes, 52.8 us)
    assert info.bbr_rtprop_ns == 20_000_000 + 1_211_200 + 52_800


def test_startup_doubles_the_delivery_rate_per_round(net):
    """STARTUP (pacing and cwnd gain 2/ln 2): BtlBw doubles every packet-timed round trip until the pipe fills."""
    t = Transfer(net, rate="100Mbit", delay="20ms")
    samples = t.watch("400ms")
    starts = [(tm, i) for tm, i in changes(samples, lambda i: i.bbr_round_count) if i.bbr_mode == "STARTUP"]
    assert starts[0][1].bbr_pacing_gain == HIGH_GAIN and starts[0][1].bbr_cwnd_gain == HIGH_GAIN
    # BtlBw as each round begins (the maximum of the round before it)
    bw = [i.bbr_btlbw for _, i in starts if i.bbr_btlbw]
    ratios = [b / a for a, b in zip(bw, bw[1:])]
    # the first round's samples cover the initial window alone (less than a round of data)
    growing = [r for r in ratios[1:] if r > 1.25]
    assert len(growing) >= 4, f"BtlBw by round: {bw}"
    first_four = growing[:4]
    assert min(first_four) >= 1.9 and max(first_four) <= 2.15, f"BtlBw by round: {bw} (ratios {ratios})"


def draft_full_pipe_round(rounds: list[tuple[int, Any]]) -> Optional[int]:
    """The round at which draft-00's BBRCheckFullPipe alone (three rounds without 25 % BtlBw growth, every round
    counted) fills the pipe, from the info at each round start; None if it does not."""
    full_bw, count = 0, 0
    for _, i in rounds:
        if i.bbr_round_count == 0:
            continue
        if i.bbr_btlbw >= full_bw + full_bw // 4:
            full_bw, count = i.bbr_btlbw, 0
        else:
            count += 1
            if count == 3:
                return i.bbr_round_count
    return None


def test_full_pipe_then_drain_then_probe_bw(net):
    """After three rounds without 25 % BtlBw growth STARTUP ends: DRAIN paces at 1/high_gain x BtlBw until the
    data in flight is at most one BDP (plus the quantization budget), then PROBE_BW (cwnd gain 2) starts."""
    t = Transfer(net)
    samples = t.watch("600ms")
    # BBRCheckFullPipe at each round start (the one that fills the pipe already shows DRAIN)
    expect_drain_round = draft_full_pipe_round(changes(samples, lambda i: i.bbr_round_count))
    drain = [(tm, i) for tm, i in samples if i.bbr_mode == "DRAIN"]
    assert drain, "no DRAIN"
    d0 = drain[0][1]
    assert d0.bbr_filled_pipe and d0.bbr_round_count == expect_drain_round
    assert d0.bbr_pacing_gain == DRAIN_GAIN and d0.bbr_cwnd_gain == HIGH_GAIN
    assert d0.bbr_pacing_rate == d0.bbr_btlbw * DRAIN_GAIN // BBR_UNIT
    last_drain = drain[-1][1]
    assert last_drain.in_flight > inflight_target(last_drain, BBR_UNIT)
    probe = next(i for _, i in samples if i.bbr_mode == "PROBE_BW")
    assert probe.in_flight <= inflight_target(probe, BBR_UNIT)
    assert probe.bbr_cwnd_gain == 2 * BBR_UNIT


#: The receiver's buffer that holds the flight below what STARTUP would send: 48 KB, about a fifth of the
#: 100 Mbit/s x 20 ms pipe.
SMALL_RX = 48 * 1024


@pytest.mark.parametrize("rx_buffer", [SMALL_RX, 1 << 20], ids=["window_limited", "control"])
def test_startup_leaves_out_rounds_the_receive_window_held_back(net, rx_buffer):
    """A round whose data in flight never reached 5/4 of the BDP at BBR.full_bw could not have shown the 25 %
    growth STARTUP looks for (it delivers at most its flight per RTprop), so it does not count towards the three
    rounds that fill the pipe (a deviation from draft-00, docs/bbr.md "bbr5a"). A receiver with a 48 KB buffer
    holds the flight at 48 KB on a 250 KB pipe: BtlBw stops growing, draft-00's rule alone would end STARTUP
    three rounds later, and STARTUP goes on for the whole second, each round's flight below 5/4 x full_bw x
    RTprop. The control, a 1 MiB buffer: the flight grows past that, and STARTUP ends at the round where the
    third round without growth ends, at the bottleneck's rate."""
    t = Transfer(net, rate="100Mbit", rx_buffer=rx_buffer)
    samples = t.watch("1s")
    rounds = changes(samples, lambda i: i.bbr_round_count)
    draft_round = draft_full_pipe_round(rounds)
    assert draft_round is not None, "BtlBw never stopped growing"
    if rx_buffer == SMALL_RX:
        assert all(i.bbr_mode == "STARTUP" and not i.bbr_filled_pipe for _, i in samples)
        assert rounds[-1][1].bbr_round_count >= draft_round + 20, "rounds went on"
        assert max(i.in_flight for _, i in samples) <= SMALL_RX
        # each round after the plateau: its flight stayed below 5/4 of the BDP at the rate it tests for
        last = rounds[-1][1]
        bdp = last.bbr_btlbw * last.bbr_rtprop_ns // 1_000_000_000
        assert SMALL_RX < bdp + bdp // 4
    else:
        drain = next(i for _, i in samples if i.bbr_mode == "DRAIN")
        assert drain.bbr_filled_pipe and drain.bbr_round_count == draft_round
        assert drain.bbr_btlbw >= 100_000_000 // 8 * MSS // 1514 * 95 // 100


def test_probe_bw_gain_cycle(net):
    """PROBE_BW cycles its pacing gain 5/4, 3/4, 1, 1, 1, 1, 1, 1: each phase lasts more than RTprop (the 3/4
    phase at most that long too), and the next phase begins at the first ACK after."""
    t = Transfer(net)
    assert t.run(lambda i: i.bbr_mode == "PROBE_BW", for_="2s")
    samples = t.watch("600ms")
    phases = changes(samples, lambda i: i.bbr_cycle_index)
    assert len(phases) >= 17
    for (t0, a), (t1, b) in zip(phases, phases[1:]):
        assert b.bbr_cycle_index == (a.bbr_cycle_index + 1) % 8
        assert b.bbr_pacing_gain == GAIN_CYCLE[b.bbr_cycle_index]
        assert b.bbr_pacing_rate == b.bbr_btlbw * GAIN_CYCLE[b.bbr_cycle_index] // BBR_UNIT
    ack_gap = 2 * 1_211_200  # frames arrive 1.2112 ms apart at 10 Mbit/s; ACKs (delayed) at most two apart
    for (t0, a), (t1, b) in zip(phases[1:], phases[2:]):
        dur = t1 - t0
        assert dur > a.bbr_rtprop_ns, f"phase {a.bbr_cycle_index} lasted {dur} ns"
        if a.bbr_pacing_gain == BBR_UNIT or a.bbr_pacing_gain < BBR_UNIT:
            assert dur <= a.bbr_rtprop_ns + ack_gap, f"phase {a.bbr_cycle_index} lasted {dur} ns"


def test_probe_rtt_after_ten_seconds_without_a_lower_rtt(net):
    """RTprop unrefreshed for 10 s: PROBE_RTT with cwnd 4 segments, held 200 ms after the flight is down to 4
    segments and for a round trip, then back to PROBE_BW with the window it had."""
    t = Transfer(net, rate="2Mbit")  # fewer events in 10 s; frames 6.056 ms apart
    frame = 6_056_000
    before = t.run(lambda i: i.bbr_mode == "PROBE_BW", for_="2s")
    assert before is not None
    prev, enter = t.run_tracking(lambda i: i.bbr_mode == "PROBE_RTT", for_="12s")
    assert enter is not None, "no PROBE_RTT within 12 s"
    now = net.now_ns
    # entered at the first ACK more than 10 s after RTprop was measured (ACKs come one or two frames apart)
    stamp = prev.bbr_rtprop_stamp_ns
    assert stamp + 10_000_000_000 < now <= stamp + 10_000_000_000 + 2 * frame
    assert enter.cwnd == MIN_PIPE_CWND
    samples = t.watch("400ms")
    in_rtt = [(tm, i) for tm, i in samples if i.bbr_mode == "PROBE_RTT"]
    assert all(i.cwnd == MIN_PIPE_CWND for _, i in in_rtt)
    drained = next(tm for tm, i in in_rtt if i.in_flight <= MIN_PIPE_CWND)
    end = next(tm for tm, i in samples if i.bbr_mode != "PROBE_RTT")
    after = next(i for tm, i in samples if i.bbr_mode != "PROBE_RTT")
    assert drained + 200_000_000 < end <= drained + 200_000_000 + after.bbr_rtprop_ns + 2 * frame
    assert after.bbr_mode == "PROBE_BW"
    assert after.bbr_rtprop_stamp_ns == end  # the exit restarts the 10 s
    assert after.cwnd >= in_rtt[0][1].cwnd and after.cwnd > MIN_PIPE_CWND


def data_frames(pcap) -> list[tuple[int, int]]:
    """(time ns, TCP payload length) of the data segments a sent, from a capture at a's end."""
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether

    out = []
    for ts, raw in read_pcap(pcap):
        p = Ether(raw)
        if p.haslayer(TCP) and p[IP].src == "10.0.0.1":
            n = len(p[TCP].payload)
            if n:
                out.append((ts, n))
    return out


@pytest.mark.parametrize("cc", ["bbr", "cubic"])
def test_pacing_spaces_segments_at_the_pacing_rate(net, cc):
    """BBR paces: the initial window leaves one segment every len / pacing_rate (the initial pacing rate is
    high_gain x IW / SRTT) after the first send quantum (2 segments at this rate), not in a burst; CUBIC (the
    control) sends it all at once."""
    t = Transfer(net, congestion=cc, rate="100Mbit", capture=True)
    info = t.sock.info()
    t.sock.send(bytes(10 * MSS))
    net.run(for_="50ms")
    t.link.stop_capture()
    frames = data_frames(t.pcap)[:10]
    assert [n for _, n in frames] == [MSS] * 10
    gaps = [b[0] - a[0] for a, b in zip(frames, frames[1:])]
    if cc == "bbr":
        assert info.bbr_pacing_rate == (10 * MSS * 1_000_000_000 // info.srtt_ns) * HIGH_GAIN // BBR_UNIT
        assert send_quantum(info) == 2 * MSS
        assert gaps == [0] + [MSS * 1_000_000_000 // info.bbr_pacing_rate] * 8
    else:
        assert gaps == [0] * 9  # all ten at once (the capture shows when the host sent them)


@pytest.mark.parametrize("cc", ["bbr", "cubic"])
def test_a_loss_does_not_reduce_the_window(net, cc):
    """One data segment lost in steady state: BBR repairs it without a multiplicative decrease (packet
    conservation for a round, then the window before the loss is restored) and keeps its BtlBw; CUBIC (the
    control, same loss) leaves recovery with cwnd = 0.7 x the cwnd at the loss (RFC 9438 §4.6)."""
    t = Transfer(net, congestion=cc)
    steady = t.run(lambda i: i.bbr_mode == "PROBE_BW" if cc == "bbr" else i.segs_out > 800, for_="3s")
    assert steady is not None
    if cc == "bbr":
        assert t.run(lambda i: i.bbr_cycle_index == 4, for_="1s")
    t.link.fault("drop", bpf="tcp[tcpflags] & tcp-push == 0 and len > 1000", count=1)
    at_loss, entry = t.run_tracking(lambda i: i.fast_retransmits == 1, for_="1s")
    assert entry is not None
    done = t.run(lambda i: (i.snd_una - entry.snd_nxt) % (1 << 32) < 1 << 31, for_="2s")  # SND.UNA reached the recovery point
    assert done is not None and done.fast_retransmits == 1 and done.rto_timeouts == 0
    if cc == "bbr":
        assert done.bbr_btlbw >= at_loss.bbr_btlbw
        assert done.cwnd >= at_loss.cwnd
    else:
        assert done.cwnd == at_loss.cwnd * 7 // 10


@pytest.mark.parametrize("congestion", ["bbr", "newreno"])
def test_dut_profile_selects_the_congestion_control(net, congestion):
    """A DUT profile with ``congestion="bbr"`` gives its sockets BBR (tcp_info shows its mode and pacing rate);
    the default profile (the control) leaves them NewReno, with no BBR state."""
    from dataclasses import replace

    from pyharness.dut import TERN_PROFILE, TernDut

    dut = TernDut(net, profile=replace(TERN_PROFILE, congestion=congestion))
    peer = net.host("b", ipv4="10.0.0.2/24")
    net.link(dut.host, peer)
    lis = peer.tcp_listen(5001)
    sock = dut.tcp_connect("10.0.0.2", 5001)
    assert net.run(until=lambda: sock.info().state == "ESTABLISHED", for_="1s")
    assert lis is not None
    info = sock.info()
    if congestion == "bbr":
        assert info.bbr_mode == "STARTUP" and info.bbr_pacing_gain == HIGH_GAIN and info.bbr_pacing_rate > 0
    else:
        assert info.bbr_mode is None and info.bbr_pacing_rate == 0


def test_rate_samples_from_sacked_segments(net):
    """While a hole stays open (a segment lost, and its first retransmission too), every ACK only SACKs: the
    delivery-rate samples then come from the SACKed segments, so BBR goes on counting packet-timed round trips
    (the draft's rate sample covers "packets ACKed or SACKed"); BtlBw stays at the bottleneck rate."""
    t = Transfer(net)
    assert t.run(lambda i: i.bbr_mode == "PROBE_BW" and i.bbr_cycle_index == 4, for_="3s")
    now = t.sock.info()
    target = (now.snd_nxt + 10 * MSS) % (1 << 32)  # segments are all full-sized: this one starts a segment
    fault = t.link.fault("drop", bpf=f"tcp[4:4] = {target}", count=2)
    entry = t.run(lambda i: i.fast_retransmits == 1, for_="1s")
    assert entry is not None
    holed, filled = t.run_tracking(lambda i: (i.snd_una - target) % (1 << 32) < 1 << 31 and i.snd_una != target,
                                   for_="2s")
    assert filled is not None and fault.hits == 2 and filled.rto_timeouts == 0
    assert holed.bbr_round_count >= entry.bbr_round_count + 1, "round trips not counted while the hole was open"
    assert filled.bbr_btlbw >= DATA_RATE_10M



def test_compressed_acks_do_not_inflate_the_rate(net):
    """ACKs bunched on the way back (8 ms of jitter that never reorders) arrive faster than the data was
    delivered: a rate sample's interval is the longer of its send and ACK intervals, so BtlBw stays within the
    fastest rate BBR sends at in PROBE_BW (5/4 x the bottleneck's), where the ACK interval alone gives more."""
    t = Transfer(net)
    t.link.configure("b_to_a", delay="10ms", jitter="8ms")
    t.run(lambda i: False, for_="3s")
    info = t.sock.info()
    assert info.bbr_mode == "PROBE_BW"
    assert DATA_RATE_10M <= info.bbr_btlbw <= DATA_RATE_10M * 5 // 4


def test_a_spurious_retransmission_does_not_end_a_round_early(net):
    """Two data segments four apart are held back 8 ms on the way (reordering, no loss): RACK retransmits both
    before their originals arrive, the second from the output loop during recovery, after the round trip then
    running began. The second original's ACK covers its retransmission too, less than RTprop after the
    retransmission was sent: no copy is delivered that fast, so the original made that ACK (as RFC 8985 §6.2
    Step 2 reasons for RACK), and the rate sample and the packet-timed round trip are the original's: the round
    does not end at that ACK. Taken from the retransmission, it ended there (at 10 and 15 % loss a third of the
    rounds were such, a few ms long, and STARTUP's three-round plateau test ran on them). Three times; the
    control: each hold-back did cause a retransmission the receiver reported as a duplicate (D-SACK)."""
    t = Transfer(net)
    assert t.run(lambda i: i.bbr_mode == "PROBE_BW", for_="3s")
    before = t.sock.info()
    for _ in range(3):
        nxt = t.sock.info().snd_nxt
        second = (nxt + 24 * MSS) % (1 << 32)  # all segments are full-sized: each of these starts a segment
        faults = [t.link.fault("delay", bpf=f"tcp[4:4] = {(nxt + k * MSS) % (1 << 32)}", delay="8ms")
                  for k in (20, 24)]
        base = t.sock.info().total_retransmits
        assert t.run(lambda i: i.total_retransmits == base + 2, for_="200ms")
        rxt_at = t.net.now_ns
        prior, acked = t.run_tracking(lambda i: (i.snd_una - second) % (1 << 32) < 1 << 31 and i.snd_una != second,
                                      for_="100ms")
        assert acked is not None and [f.hits for f in faults] == [1, 1]
        assert t.net.now_ns - rxt_at < acked.bbr_rtprop_ns  # the ACK came sooner than any copy could
        assert acked.bbr_round_count == prior.bbr_round_count, "the round ended at the original's ACK"
        t.run(lambda i: False, for_="100ms")
    after = t.sock.info()
    assert after.total_retransmits - before.total_retransmits == 6
    assert after.spurious_retransmits - before.spurious_retransmits == 6
    assert after.rto_timeouts == before.rto_timeouts
