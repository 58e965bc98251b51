"""The first round trip after a lost SYN or SYN-ACK (issue 22): the handshake's timestamps give the RTT sample.

Karn's rule forbids timing a retransmitted SYN by its send time, but RFC 6298 §3 makes the exception: "The only
case when TCP can safely take RTT samples from retransmitted segments is when the TCP timestamp option [JBB92] is
employed, since the timestamp option removes the ambiguity regarding which instance of the data segment triggered
the acknowledgment." The SYN-ACK (active open) or the ACK of the SYN-ACK (passive open) echoes the TSval of the
instance it answers, so SRTT is known when data transmission begins. RFC 6298 (5.7) still sets the RTO: "If the
timer expires awaiting the ACK of a SYN segment and the TCP implementation is using an RTO less than 3 seconds, the
RTO MUST be re-initialized to 3 seconds when data transmission begins (i.e., after the three-way handshake
completes)." What changes is the tail loss probe: RFC 8985 §7.2 computes it as

    If SRTT is available:
      PTO = 2 * SRTT
      If FlightSize is one segment:
        PTO += TLP.max_ack_delay
    Else:
      PTO = 1 sec

so a lost first data segment (the only one in flight: RFC 5681 §3.1, "if the SYN or SYN/ACK is lost, the initial
window used by a sender after a correctly transmitted SYN MUST be one segment") is probed 2 * SRTT + 200 ms after it
left instead of 1 s. The controls: the same exchanges without timestamps, where Karn's rule leaves no sample and the
probe waits the 1 s of "SRTT is not available".

The peer answers 100 ms after the retransmitted SYN (SYN-ACK) arrives, on a link without delay, so the sample is
exactly 100 ms: SRTT = 100 ms, RTTVAR = 50 ms (RFC 6298 (2.2)), PTO = 2 * 100 ms + 200 ms = 400 ms.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from pyharness.template import Pred
from tcpkit import EXACT, PEER_PORT, SERVER_PORT, T, expect_probe, ns, peer_ip_of, tcp_payload, warm_arp

pytestmark = pytest.mark.area("tcp")

MS = 1_000_000
SEC = 1_000_000_000
ANSWER_DELAY = 100 * MS
PTO_WITH_SRTT = 2 * ANSWER_DELAY + 200 * MS  # RFC 8985 §7.2 with one segment in flight (WCDelAckT 200 ms)
PTO_WITHOUT_SRTT = 1 * SEC  # RFC 8985 §7.2: "Else: PTO = 1 sec"
ANY_DATA = Pred(lambda f: "A" in str(f) and "S" not in str(f), "a data segment's flags")
SOCKOPTS = {"sack": True, "tail_loss_probe": True, "rack": True, "nodelay": True}


def _active_after_lost_syn(dut, peer, profile, ts: bool, echo_first: bool = False):
    """The DUT connects; its first SYN is lost (not answered), the retransmission (at exactly RTO = 1 s) is
    answered 100 ms later (echo_first: the SYN-ACK echoes the first SYN's TSval, as when that SYN was held up
    and answered late). Returns (peer conn, DUT socket)."""
    warm_arp(dut, peer)
    sock = dut.tcp_connect(peer_ip_of(dut), PEER_PORT, timestamps=ts, **SOCKOPTS)
    conn = peer.tcp(dut, local_port=PEER_PORT, isn=5000, sack=True, ts=ts)
    first = conn.expect(flags="S", within="10ms")
    again = conn.expect(flags="S", seq=first[TCP].seq, at=T(ns(first) + profile.rto_initial), tolerance=EXACT)
    dut.net.run(until=T(ns(again) + ANSWER_DELAY))
    if echo_first:
        conn.ts_recent = int(dict(first[TCP].options)["Timestamp"][0])
    conn.send(flags="SA")
    conn.expect(flags="A", within="10ms")
    return conn, sock


def _passive_after_lost_synack(dut, peer, profile, ts: bool):
    """The peer connects; the DUT's first SYN-ACK is lost (not answered), the retransmission (at exactly
    RTO = 1 s) is acknowledged 100 ms later. Returns (peer conn, DUT socket)."""
    listener = dut.tcp_listen(SERVER_PORT, **SOCKOPTS, timestamps=ts)
    conn = peer.tcp(dut, SERVER_PORT, sack=True, ts=ts)
    conn.send(flags="S")
    first = conn.expect(flags="SA", ack=conn.snd_nxt, within="10ms")
    again = conn.expect(flags="SA", seq=first[TCP].seq, at=T(ns(first) + profile.rto_initial), tolerance=EXACT)
    dut.net.run(until=T(ns(again) + ANSWER_DELAY))
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    sock = listener.accept()
    assert sock is not None, "no established connection after the handshake"
    return conn, sock


def _expect_probe_of(conn, profile, d, **timing):
    """The tail loss probe of the lost first data segment d: its octets again (in two halves on Tern)."""
    segs = expect_probe(conn, profile, d[TCP].seq, len(b"first data"), **timing)
    assert b"".join(tcp_payload(s) for s in segs) == b"first data"


def _first_data_lost(dut, conn, sock):
    """The first data segment is lost (not acknowledged). Returns it."""
    sock.send(b"first data")
    return conn.expect(flags="PA", payload=b"first data", within="10ms")


@pytest.mark.dut("tern", reason="reads SRTT, RTO and the probe counter from the socket")
@pytest.mark.rfc("6298 3", "6298 5.7", "7323 4", "8985 7.2", "5681 3.1")
@pytest.mark.parametrize("opener", ["active", "passive"])
def test_lost_first_data_probed_at_2_srtt_after_a_lost_syn_with_timestamps(dut, peer, profile, opener):
    """With timestamps: SRTT = 100 ms from the handshake's echo, RTO = 3 s (5.7), and the lost first data
    segment is probed exactly 2 SRTT + 200 ms = 400 ms after it left (not at 1 s)."""
    opened = _active_after_lost_syn if opener == "active" else _passive_after_lost_synack
    conn, sock = opened(dut, peer, profile, ts=True)
    d = _first_data_lost(dut, conn, sock)
    _expect_probe_of(conn, profile, d, at=T(ns(d) + PTO_WITH_SRTT), tolerance=EXACT)
    info = sock.info()
    assert info.tlp_probes == 1 and info.rto_timeouts == 0
    assert (info.srtt_ns, info.rttvar_ns) == (ANSWER_DELAY, ANSWER_DELAY // 2), "no sample from the TSecr"
    assert info.rto_ns == max(3 * SEC, profile.rto_min), "RFC 6298 (5.7): RTO 3 s when data transmission begins"
    # the probe's ACK is a new measurement (RFC 6298 §5): the RTO is computed from SRTT and RTTVAR again
    dut.net.run(for_=f"{ANSWER_DELAY}ns")
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    assert sock.info().rto_ns < 3 * SEC


@pytest.mark.dut("tern", reason="reads SRTT, RTO and the probe counter from the socket")
@pytest.mark.rfc("6298 3", "6298 5.7", "8985 7.2")
@pytest.mark.parametrize("opener", ["active", "passive"])
def test_lost_first_data_probed_at_1s_after_a_lost_syn_without_timestamps(dut, peer, profile, opener):
    """The control: without timestamps Karn's rule leaves the handshake without a sample (SRTT 0), RTO = 3 s,
    and the probe waits RFC 8985 §7.2's 1 s."""
    opened = _active_after_lost_syn if opener == "active" else _passive_after_lost_synack
    conn, sock = opened(dut, peer, profile, ts=False)
    d = _first_data_lost(dut, conn, sock)
    conn.expect_nothing(for_=f"{PTO_WITHOUT_SRTT - 1}ns", flags="PA")
    _expect_probe_of(conn, profile, d, at=T(ns(d) + PTO_WITHOUT_SRTT), tolerance=EXACT)
    info = sock.info()
    assert info.tlp_probes == 1 and info.rto_timeouts == 0
    assert info.srtt_ns == 0, "Karn's rule: a retransmitted SYN gives no sample without timestamps"
    assert info.rto_ns == max(3 * SEC, profile.rto_min)


@pytest.mark.dut("tern", reason="reads SRTT and the probe counter from the socket")
@pytest.mark.rfc("6298 3", "7323 4", "8985 7.2")
def test_synack_echoing_the_first_syn_gives_no_sample(dut, peer, profile):
    """A SYN-ACK echoing the first SYN's TSval, older than the retransmission's: it may answer a SYN that was
    held up (behind address resolution, say) and measure that wait, so it gives no sample, as an ACK echoing a
    TSval older than the latest retransmission gives none (tcp_input.c ts_rtt_sample). The probe then waits the
    1 s of "SRTT is not available". The positive control is the test above with the SYN-ACK echoing the
    retransmission."""
    conn, sock = _active_after_lost_syn(dut, peer, profile, ts=True, echo_first=True)
    d = _first_data_lost(dut, conn, sock)
    conn.expect_nothing(for_=f"{PTO_WITHOUT_SRTT - 1}ns", flags="PA")
    _expect_probe_of(conn, profile, d, at=T(ns(d) + PTO_WITHOUT_SRTT), tolerance=EXACT)
    info = sock.info()
    assert info.tlp_probes == 1 and info.srtt_ns == 0


@pytest.mark.dut("tern", reason="reads SRTT from the socket")
@pytest.mark.rfc("6298 2", "6298 5.7", "7323 4", "8985 7.2")
def test_the_first_sample_of_data_replaces_the_handshakes(dut, peer, profile):
    """After a SYN timeout the handshake's sample may time more than the path: a SYN sent again while the next
    hop was being resolved waits in the ARP queue and its echo measures that wait (up to ARP's 1 s retry; seen in
    bench_tcp_loss at 15 % loss, SRTT 1.04 s from a 20 ms path). RFC 6298 §5, after (5.7): "once a new RTT
    measurement is obtained (which can only happen when new data has been sent and acknowledged), the
    computations outlined in Section 2 are performed". The handshake's sample (100 ms here) gives SRTT for the
    probe timeout until then, and the first sample of data starts the estimator as (2.2)'s first measurement:
    SRTT = 10 ms, RTTVAR = 5 ms, so the next probe goes 2 SRTT = 20 ms after two segments left. Before, the
    data sample was smoothed into the handshake's (2.3): SRTT = 7/8 x 100 + 1/8 x 10 = 88.75 ms, probe at
    177.5 ms. The control is the test above: without a sample of data the handshake's SRTT is used."""
    conn, sock = _active_after_lost_syn(dut, peer, profile, ts=True)
    assert sock.info().srtt_ns == ANSWER_DELAY
    sock.send(b"a" * 100)
    d = conn.expect(flags="PA", payload=b"a" * 100, within="1ms")
    dut.net.run(until=T(ns(d) + 10 * MS))
    conn.send(flags="A")  # echoes d's TSval: a 10 ms sample
    dut.net.run(for_="1ns")
    # cwnd is 1 SMSS + the 100 octets acknowledged: a full segment and 100 octets, more than one segment in
    # flight (the last one all that is queued, so sender SWS avoidance lets it go)
    sock.send(b"b" * sock.info().cwnd)
    segs = [conn.expect(flags=ANY_DATA, within="1ms") for _ in range(2)]
    t_last = max(ns(s) for s in segs)
    assert sock.info().srtt_ns == 10 * MS, "the data's sample did not replace the handshake's"
    conn.expect_nothing(for_=f"{20 * MS - 1}ns", flags=ANY_DATA)
    conn.expect(flags=ANY_DATA, at=T(t_last + 20 * MS), tolerance=EXACT)
