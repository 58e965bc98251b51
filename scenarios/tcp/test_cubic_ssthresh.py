"""CUBIC's window after a loss (RFC 9438 §4.3, §4.6), at the small windows of a lossy path (issue 22: at 15 %
loss both ways CUBIC's window lives at 2-4 segments, and how it is cut and regained decides the goodput).

ssthresh (§4.6): RFC 9438 reduces the data in flight, "ssthresh = flight_size * β_cubic", and allows "Some
implementations of CUBIC currently use cwnd instead of flight_size when calculating a new ssthresh." Tern's
CUBIC takes the larger of the two. The difference shows when an RTO comes during fast recovery: PRR
(RFC 6937) has brought cwnd down towards ssthresh, so 0.7 x cwnd would reduce the window a second time for
the same losses, where 0.7 x FlightSize keeps the episode's one reduction. The slow start after the RTO then
runs up to that ssthresh.

Regaining the window (§4.3): the Reno-friendly estimate W_est grows by 9/17 of a segment per round trip
until it reaches cwnd_prior, the window the reduction was applied to, and by one segment from there.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from test_congestion import MSS, ack, bulk, data_segs
from tcpkit import rack_recovery, seq_add

pytestmark = pytest.mark.area("tcp")


def rto_during_recovery(dut, peer, profile):
    """Forty segments queued on a CUBIC SACK connection (tail loss probe off, so that the RTO, not a probe,
    ends the wait). The initial window goes out; the peer SACKs all but the first segment: fast recovery
    (ssthresh 0.7 x IW), the first segment again and new data under PRR; the peer takes none of it, and the
    RTO fires. Returns (conn, sock, the flight size when the RTO fired, the cumulative ACK point)."""
    conn, sock = bulk(dut, peer, 40 * MSS, sack=True, congestion="cubic",
                      **{**rack_recovery(profile), "tail_loss_probe": False})
    flight = data_segs(conn)
    hole = flight[0][TCP].seq
    top = seq_add(flight[-1][TCP].seq, MSS)
    ack(conn, hole, sack=[(seq_add(hole, MSS), top)])
    sent = data_segs(conn)  # the fast retransmit and PRR's new data
    assert sent and sent[0][TCP].seq == hole
    assert sock.info().ssthresh == len(flight) * MSS * 7 // 10
    conn.expect(seq=hole, within="3s")  # the RTO: nothing was acknowledged
    info = sock.info()
    assert info.rto_timeouts == 1 and info.fast_retransmits == 1
    return conn, sock, info.snd_nxt - info.snd_una, seq_add(hole, info.snd_nxt - info.snd_una)


@pytest.mark.rfc("9438 4.6", "9438 4.8", "5681 3.1")
def test_rto_during_recovery_takes_ssthresh_from_flight_size(dut, peer, profile):
    """At the RTO cwnd is PRR's (at most 0.7 x IW), FlightSize the IW plus PRR's new segments: ssthresh is
    0.7 x FlightSize. The peer then acknowledges everything and each segment of each round after: slow
    start from one segment (RFC 5681 §3.1) doubles the rounds, 1, 2, 4, 8, to that ssthresh (0.7 x 15
    segments = 10.5 segments); with ssthresh from cwnd (0.7 x 7 segments = 4.9) the fourth round would be
    congestion avoidance, 5 segments."""
    conn, sock, flight_size, end = rto_during_recovery(dut, peer, profile)
    assert sock.info().ssthresh == flight_size * 7 // 10
    ack(conn, end)
    rounds = []
    for _ in range(3):
        segs = data_segs(conn, within="5ms")
        rounds.append(len(segs))
        for s in segs:
            ack(conn, seq_add(s[TCP].seq, MSS))
    assert rounds == [2, 4, 8]


def after_a_fast_recovery(dut, peer, profile, window=None, **sockopts):
    """A CUBIC SACK connection loses the first segment of its initial window (10 segments) and repairs it
    with fast recovery (ssthresh and cwnd 7 segments, cwnd_prior 10); the peer acknowledges everything
    (offering ``window`` octets if given). Returns (conn, sock)."""
    conn, sock = bulk(dut, peer, 60 * MSS, sack=True, congestion="cubic", **{**rack_recovery(profile), **sockopts})
    flight = data_segs(conn)
    assert len(flight) == 10
    hole = flight[0][TCP].seq
    ack(conn, hole, sack=[(seq_add(hole, MSS), seq_add(hole, 10 * MSS))])
    sent = data_segs(conn)
    assert sent[0][TCP].seq == hole and sock.info().ssthresh == 7 * MSS
    # everything: recovery is over, cwnd = ssthresh
    conn.send(flags="A", ack=seq_add(sent[-1][TCP].seq, MSS), window=window)
    return conn, sock


def rounds_after_a_fast_recovery(dut, peer, profile, n):
    """After a fast recovery (after_a_fast_recovery) the peer acknowledges, for ``n`` round trips, each
    segment on its own. Returns the number of segments of each round. (No tail loss probe: the peer's
    answers wait for 5 ms of silence, longer than the PTO of 2 x SRTT here, and a probe in each round, a
    retransmission since it is one (tcp_tlp.c), would take a round's segment.)"""
    conn, sock = after_a_fast_recovery(dut, peer, profile, tail_loss_probe=False)
    rounds = []
    for _ in range(n):
        sock.send(bytes(20 * MSS))  # keep the send buffer ahead of the window (64 KiB)
        segs = data_segs(conn, within="5ms")
        rounds.append(len(segs))
        for s in segs:
            ack(conn, seq_add(s[TCP].seq, MSS))
    return rounds


@pytest.mark.rfc("9438 4.3")
def test_reno_friendly_growth_speeds_up_once_w_est_reaches_cwnd_prior(dut, peer, profile):
    """RFC 9438 §4.3: W_est grows by α_cubic = 3(1-β)/(1+β) = 9/17 segment per round trip after the
    reduction, and "Once _W_est_ has grown to reach the _cwnd_ at the time of most recently setting
    _ssthresh_ -- that is, _W_est_ >= _cwnd_prior_ -- the sender SHOULD set α__cubic_ to 1". The round
    trips here take a fraction of a millisecond, so the cubic curve stays near its start and cwnd follows
    W_est: one more segment every second round (9/17 of a segment per round) up to 10 segments (cwnd_prior),
    then one more every round. With α_cubic kept at 9/17 the rounds after 10 would go on growing by one every
    second round."""
    rounds = rounds_after_a_fast_recovery(dut, peer, profile, 12)
    assert rounds == [7, 7, 7, 8, 8, 9, 9, 10, 11, 12, 13, 14]


@pytest.mark.rfc("9438 5.8")
def test_a_receiver_window_limited_sender_does_not_grow_cwnd(dut, peer, profile):
    """RFC 9438 §5.8: "CUBIC does not increase its congestion window if a flow is application limited",
    also when "limited by [...] the receiver application (via the receiver's advertised window)". After the
    fast recovery (cwnd 7 segments) the peer offers a window of 3 segments for ten round trips (3 segments
    each, 4 of cwnd unused), then acknowledges everything with a 64 KB window: the burst is cwnd, still 7
    segments. The control: acknowledging with the full window in between, cwnd grows (12 rounds above)."""
    # (no tail loss probe: the peer's answers wait for this test's 5 ms of silence, and a probe that is
    # not reported as a duplicate would count as a loss, RFC 8985 §7.4)
    conn, sock = after_a_fast_recovery(dut, peer, profile, window=3 * MSS, tail_loss_probe=False)
    rounds = []
    for _ in range(10):
        sock.send(bytes(3 * MSS))
        segs = data_segs(conn, within="5ms")
        rounds.append(len(segs))
        for s in segs:
            conn.send(flags="A", ack=seq_add(s[TCP].seq, MSS), window=3 * MSS)
    last = data_segs(conn, within="5ms")
    assert len(last) == 3
    sock.send(bytes(20 * MSS))
    conn.send(flags="A", ack=seq_add(last[-1][TCP].seq, MSS), window=65535)
    burst = data_segs(conn, within="5ms")
    info = sock.info()
    assert (rounds, len(burst), info.cwnd) == ([3] * 10, 7, 7 * MSS), (info.rto_timeouts, info.tlp_probes)
