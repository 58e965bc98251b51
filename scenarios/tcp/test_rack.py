"""RACK loss detection (RFC 8985 §6), the Tern stack's default beside RFC 6675's DupThresh rules: a hole is
retransmitted once a segment sent after it was SACKed and RACK.rtt + RACK.reo_wnd has passed since the hole
left, even when the peer's ACKs are too few for DupThresh (RFC 6675 would wait for the RTO). The exact times
are those of the reordering window RACK.reo_wnd = RACK.min_RTT / 4 when no reordering has been seen."""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from tcpkit import EXACT, T, active, classic_recovery, ns, seq_add, warm_arp

pytestmark = pytest.mark.area("tcp")

MS = 1_000_000
MSS = 1000
RFC8985 = ('RFC 8985 Abstract: "Compared to the widely used duplicate acknowledgment (DupAck) threshold approach, '
           'RACK-TLP detects losses more efficiently when there are application-limited flights of data, lost '
           'retransmissions, or data packet reordering events."')


def two_segments(dut, peer, link, **sockopts):
    """A SACK connection over a 10 ms + 10 ms path; the DUT sends two segments at once, the peer SACKs the
    second only. Returns (conn, sock, first segment as the peer received it)."""
    warm_arp(dut, peer)
    link.configure("both", delay="10ms")
    conn, sock = active(dut, peer, peer_opts={"mss": MSS, "sack": True}, sack=True, nodelay=True, **sockopts)
    assert sock.info().sack_ok
    sock.send(bytes(2 * MSS))
    s1 = conn.expect(flags="A", within="50ms")
    s2 = conn.expect(flags="PA", within="1ms")
    assert ns(s1) == ns(s2) and s2[TCP].seq == seq_add(s1[TCP].seq, MSS)
    hole = s1[TCP].seq
    conn.send(flags="A", ack=hole,
              options=[("NOP", None), ("NOP", None), ("SAck", (seq_add(hole, MSS), seq_add(hole, 2 * MSS)))])
    return conn, sock, s1


@pytest.mark.rfc("8985 6.2", "8985 6.3")
def test_rack_retransmits_a_hole_one_reordering_window_after_the_rtt(dut, peer, link, profile):
    """One SACK (below DupThresh) for the segment sent with the hole: RACK.rtt is 20 ms, RACK.min_RTT 20 ms,
    RACK.reo_wnd 5 ms, so the hole is lost 25 ms after it left and retransmitted then (the reordering timer,
    RFC 8985 §6.3), long before the 1 s RTO and the 40 ms tail loss probe."""
    if profile.loss_recovery != "rack":
        pytest.skip(f"the {profile.name} profile does not detect losses with RACK")
    conn, sock, s1 = two_segments(dut, peer, link)
    sent = ns(s1) - 10 * MS
    r = conn.expect(seq=s1[TCP].seq, at=T(sent + 25 * MS + 10 * MS), tolerance=EXACT)
    assert len(r[TCP].payload) == MSS
    info = sock.info()
    assert (info.fast_retransmits, info.rto_timeouts) == (1, 0), RFC8985


@pytest.mark.rfc("6675 5", "6298 5.5")
def test_classic_recovery_waits_for_the_rto(dut, peer, link, profile):
    """Control of the test above, with the classic RFC 5681/6675 recovery selected: one SACKed segment is
    not IsLost (DupThresh), no duplicate ACKs follow, so nothing is retransmitted before the RTO."""
    conn, sock, s1 = two_segments(dut, peer, link, **classic_recovery(profile))
    sent = ns(s1) - 10 * MS
    rto = sock.info().rto_ns
    conn.expect_nothing(for_=f"{(rto - 30 * MS) / 1e9}s")
    conn.expect(seq=s1[TCP].seq, at=T(sent + rto + 10 * MS), tolerance=EXACT)
    info = sock.info()
    assert (info.fast_retransmits, info.rto_timeouts) == (0, 1)
