"""A retransmission RACK finds lost goes again alone (RFC 8985 §6.2); the others in flight stay in flight.

RACK marks each segment lost by its own send time: a retransmission is lost when a segment sent after it has
been delivered and RACK.rtt + RACK.reo_wnd has passed since it left. The retransmissions sent after it are
not lost by that evidence: they are still in flight. Two ways of sending them all again are checked here:
pulling HighRxt back to the lost retransmission (NextSeg then sends every unSACKed segment above it again),
and starting HighRxt over at SND.UNA when a new recovery begins while retransmissions of the previous one are
still in flight. Each costs a needless copy of every such segment; at 15 % loss each way (issue 22,
bench_tcp_loss, BBR, 10 MiB) that was 1,100-1,500 copies per transfer, where the kernel's sender made 41.

The stack does this for BBR connections (tcp_rack_rxt_alone: BBR sends at its model's rate whatever the
loss, so each needless copy takes the place of new data); NewReno and CUBIC keep their measured timelines.
The DUT sends with BBR over 10 ms + 10 ms with SACK, no timestamps, MSS 1000 (as test_rack_reo_wnd.py), tail
loss probe off; the peer acknowledges by hand. BBR paces: the initial window leaves as 2 segments, then one
every 0.69 ms, and segments sent on one ACK follow each other at the pacing rate.
"""

from __future__ import annotations

from typing import Any

import pytest
from scapy.layers.inet import TCP

from tcpkit import EXACT, T, ns, seq_add
from test_dsack_undo import data_segs
from test_rack_reo_wnd import MS, MSS, rack_conn, sack

pytestmark = pytest.mark.area("tcp")


def rel(base: int, seg: Any) -> int:
    """A segment's sequence number as a count of MSS from ``base``."""
    return ((seg[TCP].seq - base) % 2**32) // MSS


def in_mss(base: int, a: int, b: int) -> tuple[int, int]:
    """The sequence range of segments a .. b - 1 (in MSS from ``base``)."""
    return (seq_add(base, a * MSS), seq_add(base, b * MSS))


def bbr_flight(dut: Any, peer: Any, link: Any, profile: Any) -> tuple[Any, Any, int]:
    """A BBR connection sends segments 0-9 (40 queued); returns (peer conn, DUT socket, segment 0's seq)."""
    conn, sock = rack_conn(dut, peer, link, profile, tail_loss_probe=False, congestion="bbr")
    sock.send(bytes(40 * MSS))
    flight = data_segs(conn, within="15ms")
    base = flight[0][TCP].seq
    assert [rel(base, s) for s in flight] == list(range(10))
    return conn, sock, base


@pytest.mark.rfc("8985 6.2")
def test_only_the_lost_retransmission_goes_again(dut, peer, link, profile):
    """The peer SACKs 1-4 (segment 0 is lost: DupThresh segments SACKed above it): 0 goes again with new
    segment 10 after it, then 11, 12 (paced). It SACKs 6-9 as well (segment 5 is lost): 5 goes again after
    them. Then it SACKs 10 and 11, sent after the retransmission of 0 but before that of 5, and not 0:
    RACK marks 0's retransmission lost (reo_wnd is 0 in recovery, RACK.rtt is 11's) the moment the ACK
    arrives, and 0 goes a third time then (at the peer 10 ms later). 5's retransmission left after 11: no
    evidence against it; it stays in flight and is not sent again."""
    conn, sock, base = bbr_flight(dut, peer, link, profile)
    sack(conn, base, [in_mss(base, 1, 5)])
    peer.net.run(for_="2ms")
    sack(conn, base, [in_mss(base, 1, 5), in_mss(base, 6, 10)])
    got = data_segs(conn, within="25ms")
    at = {rel(base, s): ns(s) for s in got}
    assert [rel(base, s) for s in got][:2] == [0, 10] and at[0] == at[10], [rel(base, s) for s in got]
    assert at[10] < at[11] < at[5], "5's retransmission leaves after new segments 10 and 11"
    t_ack = peer.net.now_ns
    sack(conn, base, [in_mss(base, 1, 5), in_mss(base, 6, 12)])
    conn.expect(seq=base, at=T(t_ack + 20 * MS), tolerance=EXACT)  # the positive control: 0 goes again
    after = data_segs(conn, within="15ms")
    assert all(rel(base, s) != 5 for s in after), \
        f"segment 5 sent again although its retransmission is in flight: {[rel(base, s) for s in after]}"
    assert sock.info().rto_timeouts == 0


@pytest.mark.rfc("8985 6.2", "6675 5")
def test_a_new_recovery_leaves_the_last_ones_retransmissions_in_flight(dut, peer, link, profile):
    """The peer SACKs 1-9: fast recovery (recovery point 10); segment 0 goes again with new segments 10-18
    after it. The peer SACKs 11 only: RACK marks 0's retransmission and 10 (both sent before 11) lost, and
    both go again at once (then new segment 19). The peer then acknowledges everything below 10 (the
    recovery point: that recovery ends) and SACKs 11: RACK.segment is now the second retransmission of 0,
    so 12-18 (sent before it) are lost and a second recovery begins on the same ACK, while the
    retransmission of 10 (sent with that of 0, after it) is in flight and not lost. The DUT sends 12 at once
    (at the peer 10 ms after the ACK reached the DUT) and not 10."""
    conn, sock, base = bbr_flight(dut, peer, link, profile)
    sack(conn, base, [in_mss(base, 1, 10)])
    got = data_segs(conn, within="25ms")
    assert [rel(base, s) for s in got][:2] == [0, 10]
    sack(conn, base, [in_mss(base, 1, 10), in_mss(base, 11, 12)])
    got = data_segs(conn, within="25ms")
    assert [rel(base, s) for s in got][:2] == [0, 10] and ns(got[0]) == ns(got[1])
    assert sock.info().fast_retransmits == 1
    t_ack = peer.net.now_ns
    sack(conn, seq_add(base, 10 * MSS), [in_mss(base, 11, 12)])
    conn.expect(seq=seq_add(base, 12 * MSS), at=T(t_ack + 20 * MS), tolerance=EXACT)  # positive control
    assert sock.info().fast_retransmits == 2, "a second recovery"
    after = data_segs(conn, within="15ms")
    assert all(rel(base, s) != 10 for s in after), \
        f"segment 10 sent again although its retransmission is in flight: {[rel(base, s) for s in after]}"


@pytest.mark.rfc("8985 6.2")
def test_newreno_still_pulls_highrxt_back(dut, peer, link, profile):
    """The control for the connections tcp_rack_rxt_alone leaves out: with NewReno (all segments of one ACK
    at the same instant) the first test's ACKs make the DUT send segment 5 again with 0, as before."""
    conn, sock = rack_conn(dut, peer, link, profile, tail_loss_probe=False, congestion="newreno")
    sock.send(bytes(30 * MSS))
    flight = data_segs(conn, within="15ms")
    base = flight[0][TCP].seq
    sack(conn, base, [in_mss(base, 1, 5)])
    peer.net.run(for_="2ms")
    sack(conn, base, [in_mss(base, 1, 5), in_mss(base, 6, 10)])
    got = data_segs(conn, within="25ms")
    assert [rel(base, s) for s in got][:3] == [0, 10, 5]
    t_ack = peer.net.now_ns
    sack(conn, base, [in_mss(base, 1, 5), in_mss(base, 6, 11)])
    conn.expect(seq=base, at=T(t_ack + 20 * MS), tolerance=EXACT)
    after = data_segs(conn, within="15ms")
    assert [rel(base, s) for s in after][:1] == [5]
