"""RFC 6675 §4 NextSeg rule (4), the rescue retransmission, sent by the output loop when nothing new
is queued: the loop goes on to rules 3 and 4 after rule 2 (new data) finds no data, rather than
stopping as it does when the congestion window is full (branch tx20: send_new_data answers "nothing
queued" before it looks at the windows; mutant tx20-nothing-queued-cwnd-limited)."""

from __future__ import annotations

import pytest

from scapy.layers.inet import TCP

from tcpkit import classic_recovery, seq_add, tcp_payload
from test_congestion import MSS, ack, bulk, data_segs

pytestmark = pytest.mark.area("tcp")


def _recovery_with_lost_tail(dut, peer, profile, nsegs):
    """nsegs segments queued and sent; the second and the last are lost, the ones between SACKed.
    Returns (conn, sock, flight, what the DUT sent after the SACKs)."""
    classic = classic_recovery(profile)  # the exact RFC 6675 steps, not RACK-TLP's
    conn, sock = bulk(dut, peer, nsegs * MSS, sack=True, **classic)
    flight = data_segs(conn)
    assert len(flight) == nsegs, "the whole transfer fits the initial window"
    h1 = flight[1][TCP].seq
    ack(conn, h1)
    got = []
    for i in range(2, nsegs - 1):  # segments 2 .. nsegs-2 arrive: one SACK block grows
        ack(conn, h1, sack=[(seq_add(h1, MSS), seq_add(flight[i][TCP].seq, MSS))])
        got += data_segs(conn, within="1ms")
    return conn, sock, flight, got


@pytest.mark.rfc("6675 4", "6675 5")
def test_rescue_retransmission_of_the_tail_when_nothing_is_queued(dut, peer, profile):
    """Ten segments, all the data there is: the second and the tenth are lost. The duplicate ACKs
    start SACK recovery and the hole is retransmitted, which sets RescueRxt (RFC 6675 §5 (4.3)).
    The ACK of the retransmission moves HighACK past RescueRxt; no new data exists (NextSeg rule
    2), the tail is above every SACKed octet (not rule 3), so the rescue retransmission (rule 4)
    sends the last segment at once, long before the retransmission timer."""
    conn, sock, flight, got = _recovery_with_lost_tail(dut, peer, profile, 10)
    hole, tail = flight[1][TCP].seq, flight[9][TCP].seq
    assert [s[TCP].seq for s in got] == [hole], "the hole alone is retransmitted on the SACKs"
    ack(conn, tail)  # the retransmission arrived: everything up to the lost tail
    rescue = data_segs(conn, within="1ms")
    assert [s[TCP].seq for s in rescue] == [tail], "the rescue retransmission (RFC 6675 §4 NextSeg (4))"
    assert len(tcp_payload(rescue[0])) == MSS
    info = sock.info()
    assert info.rto_timeouts == 0
    assert info.sack_blocks_in > 0


@pytest.mark.rfc("6675 4", "6675 5")
def test_no_rescue_before_the_first_retransmission_is_acknowledged(dut, peer, profile):
    """The control of the test above: with the same losses, while the cumulative ACK has not
    passed the first retransmission (RescueRxt), the SACKs bring no rescue retransmission of the
    tail, however much room the congestion window leaves."""
    conn, sock, flight, got = _recovery_with_lost_tail(dut, peer, profile, 10)
    hole, tail = flight[1][TCP].seq, flight[9][TCP].seq
    h1_sack = [(seq_add(hole, MSS), seq_add(flight[8][TCP].seq, MSS))]
    for _ in range(3):  # more duplicate ACKs: pipe falls, cwnd - pipe is above one segment
        ack(conn, hole, sack=h1_sack)
        got += data_segs(conn, within="1ms")
    assert [s[TCP].seq for s in got] == [hole]
    assert sock.info().cwnd - sock.info().in_flight >= MSS
    assert sock.info().rto_timeouts == 0
