"""What the tail loss probe sends, and when its episode ends (RFC 8985 §7.3, §7.4; issue 22).

RFC 8985 §7.3's TLP_send_probe() sends "the lowest-sequence unsent Segment" if one fits the peer's window, and
only otherwise retransmits "the highest-sequence Segment sent". Tern's probe is always that retransmission (new
data only when nothing unSACKed is out), a deviation stated in `stack/src/tcp/tcp_tlp.c`: a receiver that delays
its ACKs (Linux holds the ACK of an in-order segment 40 ms or more, about the PTO at a 20 ms RTT) answers a
duplicate at once, with a D-SACK (RFC 2883), and a hole filled at once too (RFC 5681 §4.2), where a new
in-order segment's ACK waits. At 15 % loss with a kernel receiver that moved 10 MiB faster
(docs/tcp-loss-vs-linux.md, section cubic16).

The episode (RFC 8985 §7.4.2, TLP_process_ack()): a D-SACK for the probe, or a duplicate ACK without SACK blocks,
ends it with no congestion response (the probe was redundant); an ACK above TLP.end_seq without either ends it
with one (the probe repaired a loss). An ACK of exactly TLP.end_seq, which a delaying receiver sends for the
original before the probe's D-SACK, leaves it open. Before this change Tern ended the episode at that ACK and
cut the window for a loss that never was.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from tcpkit import EXACT, T, expect_probe, ns, passive, seq_add

pytestmark = pytest.mark.area("tcp")

MS = 1_000_000
MSS = 1000
NO_SSTHRESH = 2**31 - 1


def _probe_with_data_queued(dut, peer, profile):
    """SRTT a few ms, RTO.min 200 ms; twelve segments queued, ten go out (the initial window) and two wait for
    cwnd. Returns (conn, sock, the last segment sent, the probe)."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "sack": True}, sack=True, tail_loss_probe=True,
                            rack=True, nodelay=True, rto_min="200ms")
    sock.send(b"first")
    conn.expect(flags="PA", payload=b"first", within="10ms")
    dut.net.run(for_="5ms")
    conn.send(flags="A")  # the RTT sample: 5 ms
    dut.net.run(for_="1ms")
    assert sock.info().ssthresh == NO_SSTHRESH
    sock.send(bytes(12 * MSS))
    flight = [conn.expect(flags="A", within="1ms") for _ in range(10)]
    assert len({ns(s) for s in flight}) == 1, "the initial window leaves at one instant"
    last = flight[-1]
    srtt = sock.info().srtt_ns
    assert 0 < srtt < 10 * MS and sock.info().rto_ns == 200 * MS
    # the probe at PTO = 2 x SRTT after the last send (FlightSize ten segments, well before the RTO)
    probe = expect_probe(conn, profile, last[TCP].seq, MSS, at=T(ns(last) + 2 * srtt), tolerance=EXACT)[0]
    return conn, sock, last, probe


@pytest.mark.dut("tern", reason="Tern's probe content (a deviation from RFC 8985 §7.3), read from tcp_info")
@pytest.mark.rfc("8985 7.2", "8985 7.3", "8985 7.4", "2883 4")
def test_the_probe_resends_the_last_segment_and_its_dsack_ends_the_episode(dut, peer, profile):
    conn, sock, last, probe = _probe_with_data_queued(dut, peer, profile)
    # the last segment again (in two halves), though two new ones are queued and the window has room for them
    assert probe[TCP].seq == last[TCP].seq
    assert (sock.info().tlp_probes, sock.info().rto_timeouts) == (1, 0)
    top = seq_add(last[TCP].seq, MSS)  # SND.NXT = TLP.end_seq
    # the original's (delayed) ACK of everything: exactly TLP.end_seq, no D-SACK yet: no loss response
    conn.send(flags="A", ack=top)
    new = [conn.expect(within="1ms") for _ in range(2)]
    assert [s[TCP].seq for s in new] == [top, seq_add(top, MSS)]
    assert sock.info().ssthresh == NO_SSTHRESH, "the ACK of exactly TLP.end_seq was taken for a loss"
    # the probe's D-SACK (RFC 2883 §4): redundant, the episode ends without a response ...
    conn.send(flags="A", ack=top, options=[("NOP", None), ("NOP", None), ("SAck", (last[TCP].seq, top))])
    dut.net.run(for_="1ms")
    # ... so the next ACK, above TLP.end_seq, is no loss either
    conn.send(flags="A", ack=seq_add(top, 2 * MSS))
    dut.net.run(for_="1ms")
    info = sock.info()
    assert info.ssthresh == NO_SSTHRESH and info.fast_retransmits == 0


@pytest.mark.dut("tern", reason="reads ssthresh from tcp_info")
@pytest.mark.rfc("8985 7.4")
def test_control_an_ack_above_the_probe_without_dsack_is_a_loss(dut, peer, profile):
    """The control: the same exchange without the D-SACK. The ACK above TLP.end_seq ends the episode as a
    repaired loss: ssthresh from the flight (CUBIC: 0.7 x FlightSize, RFC 9438 §4.6) and cwnd = ssthresh."""
    conn, sock, last, probe = _probe_with_data_queued(dut, peer, profile)
    assert probe[TCP].seq == last[TCP].seq
    top = seq_add(last[TCP].seq, MSS)
    conn.send(flags="A", ack=top)
    new = [conn.expect(within="1ms") for _ in range(2)]
    assert sock.info().ssthresh == NO_SSTHRESH
    conn.send(flags="A", ack=seq_add(new[-1][TCP].seq, MSS))
    dut.net.run(for_="1ms")
    info = sock.info()
    assert info.ssthresh < NO_SSTHRESH, "no loss response at the end of the episode"
    assert info.ssthresh == 2 * MSS * 7 // 10 or info.ssthresh == 2 * MSS  # 0.7 x two segments, floor 2 SMSS


@pytest.mark.dut("tern", reason="reads ssthresh from tcp_info")
@pytest.mark.rfc("8985 7.4")
def test_a_duplicate_ack_without_sack_blocks_ends_the_episode_as_redundant(dut, peer, profile):
    """A receiver without D-SACK answers the probe's duplicate with a plain duplicate ACK: the probe was
    redundant (RFC 8985 §7.4.2), and the ACK above TLP.end_seq after it is no loss (the control above: the
    same ACK with the episode still open is one)."""
    conn, sock, last, probe = _probe_with_data_queued(dut, peer, profile)
    assert probe[TCP].seq == last[TCP].seq
    top = seq_add(last[TCP].seq, MSS)
    conn.send(flags="A", ack=top)
    new = [conn.expect(within="1ms") for _ in range(2)]
    conn.send(flags="A", ack=top)  # the duplicate ACK of the probe, no SACK blocks
    dut.net.run(for_="1ms")
    conn.send(flags="A", ack=seq_add(new[-1][TCP].seq, MSS))
    dut.net.run(for_="1ms")
    assert sock.info().ssthresh == NO_SSTHRESH
