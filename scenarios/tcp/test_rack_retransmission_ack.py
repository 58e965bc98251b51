"""RACK and the ACK of a retransmitted segment (RFC 8985 §6.2 Step 2, issue 22): when the peer's ACK covers a
segment that was sent twice, the ACK's TSecr tells which copy filled the hole (RFC 7323 §4.3). An ACK that
echoes the original's TSval was made by the original, so it says nothing of when the retransmission arrived:
taking it as the retransmission's RTT moves RACK.xmit_ts to the retransmission's send time and marks every
segment sent before it lost, spurious retransmissions (under pacing, where originals queue long, these were
most of BBR's D-SACKed retransmissions at 2 % loss in bench_tcp_loss). The control: the same ACK echoing the
retransmission's TSval does show the segments sent before it lost, and they go again at once."""

from __future__ import annotations

from typing import Any

import pytest
from scapy.layers.inet import TCP

from pyharness.tcpconn import tcp_option
from tcpkit import EXACT, T, active, ns, rack_recovery, seq_add, warm_arp

pytestmark = pytest.mark.area("tcp")

MS = 1_000_000
MSS = 1000
SEG = MSS - 12  # a full segment: the MSS less the 12 octets of the timestamp option (RFC 7323 §3.2)
RFC8985_STEP2 = ('RFC 8985 §6.2 Step 2: "To avoid spurious inferences, ignore a segment as invalid if any of its '
                 'sequence range has been retransmitted before and if either of two conditions is true: 1. The '
                 'Timestamp Echo Reply field (TSecr) of the ACK\'s timestamp option [RFC7323], if available, '
                 'indicates the ACK was not acknowledging the last retransmission of the segment."')


def tsval(pkt: Any) -> int:
    """The TSval of a segment the DUT sent."""
    return int(tcp_option(pkt, "Timestamp")[0])


def sack(conn: Any, ack: int, left: int, right: int, tsecr: int) -> Any:
    """The peer's ACK of ``ack`` with the SACK block [left, right) and the given TSecr."""
    return conn.send(flags="A", ack=ack, options=[
        ("NOP", None), ("NOP", None), ("Timestamp", (conn._tsval(), tsecr)),
        ("NOP", None), ("NOP", None), ("SAck", (left, right))])


def two_retransmissions(dut: Any, peer: Any, link: Any, profile: Any) -> tuple[Any, Any, list, Any, Any]:
    """Ten segments over a 10 ms + 10 ms path with timestamps and SACK; the peer SACKs the 3rd to 5th, so
    RACK (reo_wnd 0 with DupThresh segments SACKed) finds the first two lost and the DUT retransmits both.
    Returns (conn, sock, the ten originals, the two retransmissions)."""
    warm_arp(dut, peer)
    link.configure("both", delay="10ms")
    conn, sock = active(dut, peer, peer_opts={"mss": MSS, "sack": True, "ts": True}, sack=True, nodelay=True,
                        initial_window=10, **rack_recovery(profile))
    assert sock.info().sack_ok
    sock.send(bytes(30 * SEG))  # more than the window: new data, not RFC 6675's rescue, follows later ACKs
    seg = [conn.expect(within="50ms")]
    while len(seg) < 10:
        seg.append(conn.expect(within="5ms"))
    hole = seg[0][TCP].seq
    sack(conn, hole, seq_add(hole, 2 * SEG), seq_add(hole, 5 * SEG), tsval(seg[4]))
    r1 = conn.expect(seq=hole, within="30ms")
    r2 = conn.expect(seq=seq_add(hole, SEG), within="30ms")
    assert tsval(r2) != tsval(seg[1])  # the copies are told apart (1 ms timestamp clock, 20 ms apart)
    # 5 ms after the retransmissions reached the peer: the ACK arrives 25 ms after they left, past
    # RACK.min_RTT (20 ms), so condition 2 of Step 2 does not apply, only the TSecr tells; and before the
    # tail loss probe (2 SRTT = 40 ms after them).
    dut.net.run(until=T(ns(r2) + 5 * MS))
    return conn, sock, seg, r1, r2


@pytest.mark.rfc("8985 6.2")
def test_an_ack_made_by_the_original_does_not_mark_later_originals_lost(dut, peer, link, profile):
    """The first segment's original arrives late and fills the hole: the peer's ACK covers it and echoes
    the original's TSval (RFC 7323 §4.3: TS.Recent follows the segment that covered Last.ACK.sent). That
    says nothing of when the retransmission (sent 20 ms after the originals) arrived, so RACK.xmit_ts stays
    at the 5th segment's original, and the 6th to 10th, sent with it, are not lost: none of them goes again
    within 10 ms of the ACK (the tail loss probe is 2 SRTT away)."""
    conn, sock, seg, r1, r2 = two_retransmissions(dut, peer, link, profile)
    hole = seg[0][TCP].seq
    before = sock.info().total_retransmits
    sack(conn, seq_add(hole, SEG), seq_add(hole, 2 * SEG), seq_add(hole, 5 * SEG), tsval(seg[0]))
    dut.net.run(for_="20ms")  # what the DUT sends within 10 ms of the ACK's arrival
    later = {seg[k][TCP].seq for k in range(5, 10)}
    resent = [p[TCP].seq for p in peer.received() if TCP in p and len(p[TCP].payload) and p[TCP].seq in later]
    assert resent == [] and sock.info().total_retransmits == before, RFC8985_STEP2


@pytest.mark.rfc("8985 6.2")
def test_an_ack_made_by_the_retransmission_marks_earlier_segments_lost(dut, peer, link, profile):
    """Control: the same ACK echoing the retransmission's TSval shows the first retransmission delivered
    25 ms after it left, while the 6th to 10th, sent 20 ms before it, are not: RACK.rtt 25 ms, reo_wnd 0 in
    recovery, so they are lost and the 6th goes again on that ACK (it reaches the peer 20 ms after the peer
    sent the ACK)."""
    conn, sock, seg, r1, r2 = two_retransmissions(dut, peer, link, profile)
    hole = seg[0][TCP].seq
    sent = dut.net.now_ns
    sack(conn, seq_add(hole, SEG), seq_add(hole, 2 * SEG), seq_add(hole, 5 * SEG), tsval(r1))
    r = conn.expect(seq=seg[5][TCP].seq, at=T(sent + 10 * MS + 10 * MS), tolerance=EXACT)
    assert len(r[TCP].payload) == SEG
