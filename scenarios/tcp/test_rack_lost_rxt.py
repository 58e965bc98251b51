"""A retransmission RACK finds lost goes again alone (RFC 8985 §6.2); the others in flight stay in flight.

RACK marks each segment lost by its own send time: a retransmission is lost when a segment sent after it has
been delivered and RACK.rtt + RACK.reo_wnd has passed since it left. The retransmissions sent after it are
not lost by that evidence: they are still in flight, and RFC 6675's NextSeg sends only data that has not been
retransmitted yet (its rule (1.a): "S2 is greater than HighRxt"). Two ways of sending them all again are
checked here: pulling HighRxt back to the lost retransmission (which makes NextSeg send every unSACKed segment
above it again), and starting HighRxt over at SND.UNA when a new recovery begins while retransmissions of the
previous one are still in flight. Both cost the sender a needless copy of each such segment; at 15 % loss
each way (issue 22, bench_tcp_loss, 10 MiB) that was 1,100-1,500 copies per transfer.

The DUT sends over 10 ms + 10 ms with SACK, no timestamps, MSS 1000 (as test_rack_reo_wnd.py), tail loss
probe off; the peer acknowledges by hand.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from tcpkit import EXACT, T, ns, seq_add, tcp_payload
from test_dsack_undo import data_segs
from test_rack_reo_wnd import MS, MSS, rack_conn, sack

pytestmark = pytest.mark.area("tcp")


def rel(base: int, seg: object) -> int:
    """A segment's sequence number as a count of MSS from ``base``."""
    return ((seg[TCP].seq - base) % 2**32) // MSS


def in_mss(base: int, a: int, b: int) -> tuple[int, int]:
    """The sequence range of segments a .. b - 1 (in MSS from ``base``)."""
    return (seq_add(base, a * MSS), seq_add(base, b * MSS))


def two_retransmissions(conn, sock, peer) -> tuple[int, list]:
    """Ten segments 0-9; the peer SACKs 1-4 (segment 0 is lost: 4 SACKed above it), then 2 ms later 1-4 and
    6-9 (segment 5 is lost). The DUT retransmits 0 with new segment 10, and 5 (3 ms later) with new data.
    Returns (the sequence number of segment 0, the segments of the second burst)."""
    sock.send(bytes(30 * MSS))
    flight = data_segs(conn, within="15ms")
    assert [rel(flight[0][TCP].seq, s) for s in flight] == list(range(10))
    base = flight[0][TCP].seq
    sack(conn, base, [in_mss(base, 1, 5)])
    peer.net.run(for_="2ms")
    sack(conn, base, [in_mss(base, 1, 5), in_mss(base, 6, 10)])
    got = data_segs(conn, within="25ms")
    order = [rel(base, s) for s in got]
    assert order[:2] == [0, 10] and ns(got[0]) == ns(got[1]), f"segment 0 and new data 10 together: {order}"
    assert order[2] == 5 and ns(got[2]) > ns(got[0]), f"segment 5 after them: {order}"
    return base, got


@pytest.mark.rfc("8985 6.2", "6675 4")
def test_only_the_lost_retransmission_goes_again(dut, peer, link, profile):
    """The peer SACKs segment 10, sent together with the retransmission of 0 but not 0 itself: RACK marks that
    retransmission lost (reo_wnd is 0 in recovery, RACK.rtt is segment 10's) the moment the ACK arrives, and
    segment 0 goes a third time then (at the peer 10 ms later). Segment 5's retransmission left after
    segment 10: no evidence against it, it stays in flight and is not sent again."""
    conn, sock = rack_conn(dut, peer, link, profile, tail_loss_probe=False)
    base, got = two_retransmissions(conn, sock, peer)
    t_ack = peer.net.now_ns
    sack(conn, base, [in_mss(base, 1, 5), in_mss(base, 6, 11)])
    conn.expect(seq=base, at=T(t_ack + 20 * MS), tolerance=EXACT)  # the positive control: 0 goes again
    after = data_segs(conn, within="15ms")
    print("AFTER", [(rel(base, s), ns(s)) for s in after], "t_ack", t_ack)
    assert all(rel(base, s) != 5 for s in after), \
        f"segment 5 sent again although its retransmission is in flight: {[rel(base, s) for s in after]}"
    assert sock.info().rto_timeouts == 0


@pytest.mark.rfc("8985 6.2", "6675 4", "6675 5")
def test_a_new_recovery_leaves_the_last_ones_retransmissions_in_flight(dut, peer, link, profile):
    """Ten segments 0-9; the peer SACKs 1-9: fast recovery (recovery point 10), segment 0 goes again with new
    segments 10-13. The peer SACKs 11 only: RACK marks 0's retransmission and 10 (both sent before 11) lost,
    and both go again with new segment 14. The peer then acknowledges everything up to 10 (the
    recovery point: recovery ends) and SACKs 11: RACK.segment is now the latest retransmission of 0, so 12
    and 13 (sent before it) are lost and a second recovery begins on the same ACK, while the retransmission
    of 10 (sent after that of 0) is in flight and not lost. The DUT sends 12 at once (at the peer 10 ms
    after the ACK reached the DUT) and not 10."""
    conn, sock = rack_conn(dut, peer, link, profile, tail_loss_probe=False)
    sock.send(bytes(40 * MSS))
    flight = data_segs(conn, within="15ms")
    assert [rel(flight[0][TCP].seq, s) for s in flight] == list(range(10))
    base = flight[0][TCP].seq
    sack(conn, base, [in_mss(base, 1, 10)])
    got = data_segs(conn, within="25ms")
    assert [rel(base, s) for s in got] == [0, 10, 11, 12, 13]
    sack(conn, base, [in_mss(base, 1, 10), in_mss(base, 11, 12)])
    got = data_segs(conn, within="25ms")
    assert [rel(base, s) for s in got] == [0, 10, 14] and len({ns(s) for s in got}) == 1
    assert sock.info().fast_retransmits == 1
    t_ack = peer.net.now_ns
    sack(conn, seq_add(base, 10 * MSS), [in_mss(base, 11, 12)])
    conn.expect(seq=seq_add(base, 12 * MSS), at=T(t_ack + 20 * MS), tolerance=EXACT)  # positive control
    assert sock.info().fast_retransmits == 2, "a second recovery"
    after = data_segs(conn, within="15ms")
    assert all(rel(base, s) != 10 for s in after), \
        f"segment 10 sent again although its retransmission is in flight: {[rel(base, s) for s in after]}"
