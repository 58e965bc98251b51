"""The tail loss probe's retransmission in two segments (RFC 8985 §7.3, a deviation; issue 22, rto22).

RFC 8985 §7.3's TLP_send_probe() retransmits the last segment sent. Tern sends the same octets as two segments,
half each, at the probe timeout (stack/src/tcp/tcp_tlp.c, send_probe_halves): the probe exists to draw an ACK, and
one segment draws none when it or the receiver's one answer is lost (28 % of probes at 15 % loss each way), while
two draw two answers, so that one loss leaves the other to repair the tail without the RTO. Same octets, one SMSS
at most: what it costs is one header more.

Here the original last segment is lost and so is the probe's first half: the peer answers the second half with a
SACK, RACK (RFC 8985 §6.2) marks the first half lost (sent at the same instant as the SACKed second half, RACK.rtt
+ RACK.reo_wnd ago) and it goes again, long before the RTO. The control: neither half answered, and the RTO
retransmits SND.UNA exactly one RTO after the probe (RFC 8985 §7.3: the RTO re-armed when the probe goes).
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from tcpkit import EXACT, T, expect_probe, ns, passive, seq_add, tcp_payload

pytestmark = pytest.mark.area("tcp")

MS = 1_000_000
MSS = 1000
RTT = 5 * MS  # the peer answers 5 ms after each segment


def _tail_lost(dut, peer):
    """An SRTT of a few ms, RTO.min 200 ms (RTO 200 ms), SACK, RACK-TLP. Two segments go; the peer holds the first, the
    second is lost, and the peer's ACK of the first is lost too. Returns (conn, sock, the two segments, the probe's
    two halves, at exactly 2 SRTT after the flight)."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "sack": True}, sack=True, tail_loss_probe=True,
                            rack=True, nodelay=True, rto_min="200ms")
    sock.send(b"first")
    conn.expect(flags="PA", payload=b"first", within="10ms")
    dut.net.run(for_=f"{RTT}ns")
    conn.send(flags="A")  # an RTT sample of 5 ms
    dut.net.run(for_="1ms")
    info = sock.info()
    srtt = info.srtt_ns
    assert 0 < srtt < 10 * MS and info.rto_ns == 200 * MS
    sock.send(bytes(2 * MSS))
    s1 = conn.expect(flags="A", within="1ms")
    s2 = conn.expect(flags="PA", within="1ms")
    assert ns(s1) == ns(s2) and len(tcp_payload(s2)) == MSS
    # RFC 8985 §7.2: PTO = 2 x SRTT (FlightSize two segments); §7.3: the last segment again, here in two halves
    halves = expect_probe(conn, dut.profile, s2[TCP].seq, MSS, at=T(ns(s2) + 2 * srtt), tolerance=EXACT)
    assert [len(tcp_payload(h)) for h in halves] == [MSS // 2, MSS // 2]
    assert (sock.info().tlp_probes, sock.info().rto_timeouts) == (1, 0)
    return conn, sock, (s1, s2), halves


@pytest.mark.dut("tern", reason="Tern's probe in two halves (a deviation from RFC 8985 §7.3); reads tcp_info")
@pytest.mark.rfc("8985 7.3", "8985 6.2", "2018 3")
def test_the_second_half_answered_repairs_the_tail_before_the_rto(dut, peer):
    conn, sock, (s1, s2), (h1, h2) = _tail_lost(dut, peer)
    # h1 lost; h2 arrives out of order: the peer acknowledges s1 and SACKs h2 (RFC 2018 §3), RTT after it left
    dut.net.run(until=T(ns(h2) + RTT))
    top = seq_add(s2[TCP].seq, MSS)
    conn.send(flags="A", ack=s2[TCP].seq,
              options=[("NOP", None), ("NOP", None), ("SAck", (seq_add(s2[TCP].seq, MSS // 2), top))])
    # RACK: h1 left with h2, which the peer now holds: h1 is lost once RACK.rtt + RACK.reo_wnd have passed since
    # it left, and the first half goes again, well within the RTO (due 200 ms after the probe)
    r = conn.expect(seq=s2[TCP].seq, within="20ms")
    # RFC 8985 §6.2: RACK.rtt is h2's 5 ms (a retransmission, but no shorter than RACK.min_RTT) and RACK.reo_wnd
    # is at most SRTT: h1 goes again between 5 ms and 5 ms + SRTT after it left, not at the RTO (200 ms)
    assert len(tcp_payload(r)) == MSS // 2 and RTT <= ns(r) - ns(h1) <= RTT + sock.info().srtt_ns
    conn.send(flags="A", ack=top)
    dut.net.run(until=T(ns(h1) + 200 * MS + MS))
    info = sock.info()
    assert info.rto_timeouts == 0 and info.snd_una == top


@pytest.mark.dut("tern", reason="Tern's probe in two halves (a deviation from RFC 8985 §7.3); reads tcp_info")
@pytest.mark.rfc("8985 7.3", "6298 5.4")
def test_control_neither_half_answered_waits_for_the_rto(dut, peer):
    conn, sock, (s1, s2), (h1, h2) = _tail_lost(dut, peer)
    # nothing answers: the RTO, re-armed when the probe went, exactly one RTO later, resends SND.UNA (s1)
    conn.expect_nothing(for_=f"{200 * MS - MS}ns", flags="A")
    r = conn.expect(seq=s1[TCP].seq, at=T(ns(h1) + 200 * MS), tolerance=EXACT)
    assert len(tcp_payload(r)) == MSS
    assert (sock.info().rto_timeouts, sock.info().tlp_probes) == (1, 1)
