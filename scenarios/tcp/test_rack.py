"""RACK loss detection (RFC 8985 §6), the Tern stack's default beside RFC 6675's DupThresh rules: a hole is
retransmitted once a segment sent after it was SACKed and RACK.rtt + RACK.reo_wnd has passed since the hole
left, even when the peer's ACKs are too few for DupThresh (RFC 6675 would wait for the RTO). The exact times
are those of the reordering window RACK.reo_wnd = RACK.min_RTT / 4 when no reordering has been seen."""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from tcpkit import EXACT, T, active, classic_recovery, fine_timing, ns, rack_recovery, seq_add, warm_arp

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
    fine_timing(profile, 5 * MS, "RACK's reordering window (5 ms) after RACK.rtt")
    conn, sock, s1 = two_segments(dut, peer, link, **rack_recovery(profile))
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


PRR = ('RFC 9937 (PRR, obsoletes RFC 6937) Abstract: "PRR accurately regulates the actual flight size through '
       'recovery such that at the end of recovery it will be as close as possible to the slow start threshold '
       '(ssthresh), as determined by the congestion control algorithm."')


def sack_ack(conn, hole, top):
    """The peer's ACK of ``hole`` with one SACK block from the segment after the hole up to ``top``."""
    return conn.send(flags="A", ack=hole,
                     options=[("NOP", None), ("NOP", None), ("SAck", (seq_add(hole, MSS), top))])


def new_data_during_recovery(dut, peer, link, **sockopts):
    """20 segments in flight over a 10 ms + 10 ms path, the first lost; the peer SACKs the others one ACK at a
    time. The first two ACKs release two segments of limited transmit, the 3rd starts fast recovery (ssthresh
    10 segments, RecoverFS 22, pipe 19). Returns how many segments of new data the DUT sends in answer to the
    4th to 9th ACK."""
    warm_arp(dut, peer)
    link.configure("both", delay="10ms")
    # ssthresh = FlightSize / 2 is Reno's (RFC 5681 (4)); a DUT whose default is CUBIC (Linux) takes 0.7 instead.
    conn, sock = active(dut, peer, peer_opts={"mss": MSS, "sack": True}, sack=True, nodelay=True,
                        initial_window=20, **{"congestion": "newreno", **sockopts})
    sock.send(bytes(40 * MSS))
    flight = [conn.expect(within="50ms")]
    while len(flight) < 20:
        flight.append(conn.expect(within="1ms"))
    hole = flight[0][TCP].seq
    top = seq_add(flight[-1][TCP].seq, MSS)
    for k in range(1, 4):
        sack_ack(conn, hole, seq_add(hole, (k + 1) * MSS))
        if k < 3:
            # 2 ms apart: a pacing DUT (Linux paces at 2 x cwnd / SRTT in slow start, 0.5 ms per segment here)
            # would otherwise still hold the second limited-transmit segment when the third ACK arrives.
            dut.net.run(for_="2ms")
    r = conn.expect(seq=hole, within="30ms")  # the fast retransmit
    assert sock.info().ssthresh == 10 * MSS
    dut.net.run(for_="1ms")
    limited = [p for p in peer.received() if TCP in p and len(p[TCP].payload)]
    assert len(limited) == 2  # RFC 3042 / RFC 6675 §5 (3): one new segment on each of the first two ACKs
    new = 0
    for k in range(4, 10):
        sack_ack(conn, hole, seq_add(hole, (k + 1) * MSS))
        dut.net.run(for_="21ms")
        for pkt in peer.received():
            if TCP in pkt and len(pkt[TCP].payload) and not (pkt[TCP].seq - top) & 0x80000000:
                new += 1
    assert ns(r) > 0
    return new


@pytest.mark.rfc("6937 3")
def test_prr_sends_in_proportion_while_pipe_exceeds_ssthresh(dut, peer, link, profile):
    """PRR (RFC 6937 §3), with RACK: while pipe (19 segments, then one fewer per ACK) is above ssthresh (10),
    each ACK lets data out in proportion ssthresh / RecoverFS = 10/22 of the data delivered, the fast
    retransmit counted in what was sent, rounded up to whole segments (as Linux counts): CEIL(3000 * 10 / 22)
    - 1000 = 364 octets after the 5th ACK, CEIL(5000 * 10 / 22) - 2000 = 273 after the 7th, CEIL(7000 * 10 /
    22) - 3000 = 182 after the 9th: one new segment each, 3 for 7 delivered. RFC 6675 alone (cwnd = ssthresh)
    sends nothing until pipe falls below ssthresh (the control below)."""
    assert new_data_during_recovery(dut, peer, link, **rack_recovery(profile)) == 3, PRR


@pytest.mark.rfc("6675 5")
def test_classic_recovery_waits_until_pipe_is_below_cwnd(dut, peer, link, profile):
    """Control of the test above: RFC 6675 §5 (C) sends only while cwnd - pipe >= 1 SMSS, so with cwnd =
    ssthresh = 10 segments and pipe 13 or more, the same six ACKs let nothing out."""
    assert new_data_during_recovery(dut, peer, link, **classic_recovery(profile)) == 0
