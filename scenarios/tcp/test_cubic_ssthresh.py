"""CUBIC's ssthresh on a loss (RFC 9438 §4.6) when the data in flight exceeds cwnd: an RTO that ends a fast
recovery (issue 22: at 15 % loss both ways a third of the RTOs came during fast recovery).

RFC 9438 §4.6 reduces the window from the data in flight: "ssthresh = flight_size * β_cubic", and allows
"Some implementations of CUBIC currently use cwnd instead of flight_size when calculating a new ssthresh."
Tern's CUBIC takes the larger of the two. The difference shows when an RTO comes during fast recovery: PRR
(RFC 6937) has brought cwnd down towards ssthresh, so 0.7 x cwnd would reduce the window a second time for
the same losses (0.7 x 0.7 of the window before them), where 0.7 x FlightSize keeps the episode's one
reduction. The slow start after the RTO then runs up to that ssthresh.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from test_congestion import MSS, ack, bulk, data_segs
from tcpkit import seq_add

pytestmark = pytest.mark.area("tcp")


def rto_during_recovery(dut, peer, profile):
    """Forty segments queued on a CUBIC SACK connection (tail loss probe off, so that the RTO, not a probe,
    ends the wait). The initial window goes out; the peer SACKs all but the first segment: fast recovery
    (ssthresh 0.7 x IW), the first segment again and new data under PRR; the peer takes none of it, and the
    RTO fires. Returns (conn, sock, the flight size when the RTO fired, the cumulative ACK point)."""
    if profile.loss_recovery != "rack":
        pytest.skip(f"the {profile.name} profile keeps the classic timelines (NewReno)")
    conn, sock = bulk(dut, peer, 40 * MSS, sack=True, congestion="cubic", tail_loss_probe=False)
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
