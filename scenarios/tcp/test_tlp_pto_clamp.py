"""The tail loss probe goes in the RTO's place when the PTO would come later (RFC 8985 §7.2).

RFC 8985 §7.2 computes the probe timeout as

    TLP_calc_PTO():
      If SRTT is available:
        PTO = 2 * SRTT
        If FlightSize is one segment:
          PTO += TLP.max_ack_delay
      Else:
        PTO = 1 sec

      If Now() + PTO > TCP_RTO_expiration():
        PTO = TCP_RTO_expiration() - Now()

With one segment out, SRTT a few ms and RTO.min 200 ms, PTO = 2 * SRTT + 200 ms (WCDelAckT) is past the RTO: the probe
goes at the RTO's time instead of the RTO, so cwnd is not collapsed and the timer not backed off; the RTO then
runs one RTO from the probe (RFC 8985 §7.3) and comes if the probe is not answered either, unbacked-off. Issue 22:
at 15 % loss on a LAN, each tail of one segment cost a timeout and a doubled timer. The control: the same exchange
with two segments out, where 2 * SRTT is well before the RTO and the probe comes then.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from tcpkit import EXACT, T, expect_probe, ns, passive

pytestmark = pytest.mark.area("tcp")

MS = 1_000_000


def _warm(dut, peer):
    """A connection with SACK, an SRTT of a few ms and RTO.min 200 ms (so RTO = 200 ms)."""
    conn, sock, _ = passive(dut, peer, peer_opts={"sack": True}, tail_loss_probe=True, rack=True, nodelay=True,
                            rto_min="200ms")
    sock.send(b"first")
    conn.expect(flags="PA", payload=b"first", within="10ms")
    dut.net.run(for_="5ms")
    conn.send(flags="A")  # the sample: 5 ms
    dut.net.run(for_="1ms")
    info = sock.info()
    assert 0 < info.srtt_ns < 10 * MS and info.rto_ns == 200 * MS  # RTO.min: SRTT + 4 RTTVAR is below it
    return conn, sock


@pytest.mark.dut("tern", reason="reads the timeout counter and cwnd from the socket")
@pytest.mark.rfc("8985 7.2", "8985 7.3", "6298 5.5")
def test_probe_in_the_place_of_the_rto_with_one_segment_out(dut, peer, profile):
    conn, sock = _warm(dut, peer)
    cwnd = sock.info().cwnd
    sock.send(b"x" * 100)
    d = conn.expect(flags="PA", within="1ms")
    # PTO = 2 * SRTT + 200 ms > RTO (200 ms): the probe at the RTO's time, the last segment again
    probe = expect_probe(conn, profile, d[TCP].seq, 100, at=T(ns(d) + 200 * MS), tolerance=EXACT)[0]
    info = sock.info()
    assert info.rto_timeouts == 0, "the RTO came instead of the probe"
    assert info.tlp_probes == 1  # counted as a probe (RFC 8985 §7.3), not as a timeout
    assert info.cwnd == cwnd and info.rto_ns == 200 * MS  # no collapse, no backoff
    # unanswered: the RTO one (unbacked-off) RTO after the probe, not two
    conn.expect(flags="PA", seq=d[TCP].seq, at=T(ns(probe) + 200 * MS), tolerance=EXACT)
    info = sock.info()
    assert info.rto_timeouts == 1 and info.rto_ns == 400 * MS
    assert info.tlp_probes == 1  # the RTO is no second probe


@pytest.mark.dut("tern", reason="reads the timeout counter and cwnd from the socket")
@pytest.mark.rfc("8985 7.2")
def test_control_two_segments_out_probe_after_two_srtt(dut, peer, profile):
    conn, sock = _warm(dut, peer)
    mss = sock.info().snd_mss
    sock.send(bytes(2 * mss))
    d = conn.expect(flags="A", within="1ms")
    d2 = conn.expect(flags="PA", within="1ms")
    assert ns(d2) == ns(d) and len(d2[TCP].payload) == mss
    # FlightSize is two segments: PTO = 2 * SRTT from the last send, well before the RTO; the probe resends the
    # last segment (no new data to send)
    assert sock.info().tlp_probes == 0  # positive control for the count: none before the PTO
    expect_probe(conn, profile, d2[TCP].seq, mss, at=T(ns(d2) + 2 * sock.info().srtt_ns), tolerance=EXACT)
    assert (sock.info().rto_timeouts, sock.info().tlp_probes) == (0, 1)
