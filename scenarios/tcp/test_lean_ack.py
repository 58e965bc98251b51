"""The lean ACK path (issue 19): a pure ACK that moves SND.UNA is processed by doing only what it can change (the
send queue, the RTT sample, cwnd, RACK's delivered records, the timers, the send window) when every other step
of the general ACK processing of RFC 9293 §3.10.7.4 fifth is proven to do nothing for it. Each scenario here
sends such an ACK while one of those other steps does have work (a loss-recovery episode, an armed undo, a SACK
scoreboard, a rate-based congestion controller, an RTO recovery) and checks that it went the general way
(the Tern stack's counters), beside a control taken on the lean path. The test builds run the general path
beside the lean one and stop on any difference, so a lean path that skipped a step with work fails here.

RFC 9293 §3.10.7.4, fifth, in ESTABLISHED: "If SND.UNA < SEG.ACK =< SND.NXT, then set SND.UNA <- SEG.ACK. Any
segments on the retransmission queue that are thereby entirely acknowledged are removed." and "If SND.UNA =<
SEG.ACK =< SND.NXT, the send window should be updated. If (SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2
=< SEG.ACK)), set SND.WND <- SEG.WND, set SND.WL1 <- SEG.SEQ, and set SND.WL2 <- SEG.ACK."
"""

from __future__ import annotations

from typing import Any

import pytest
from scapy.layers.inet import TCP

from tcpkit import classic_recovery, expect_probe, passive, seq_add
from test_dsack_undo import ack, data_segs, end
from test_spurious_rto import sack_ack, timed_out_flight

pytestmark = [
    pytest.mark.area("tcp"),
    pytest.mark.dut("tern", reason="reads the Tern stack's counts of the ACK paths (tcp_predicted_ack_lean)"),
]

MSS = 1000


def counts(dut: Any) -> tuple[int, int]:
    """(pure ACKs on a short path, of which on the lean path)."""
    c = dut.counters()
    return c.tcp_predicted_ack, c.tcp_predicted_ack_lean


def delta(before: tuple[int, int], dut: Any) -> tuple[int, int]:
    """The counts taken since ``before``."""
    now = counts(dut)
    return now[0] - before[0], now[1] - before[1]


@pytest.mark.rfc("9293 3.10.7.4")
def test_acks_of_new_data_take_the_lean_path_and_update_the_send_window(dut, peer):
    """The control: ACKs of new data on a quiet SACK connection (RACK on) take the lean path, and the window
    each carries is the new send window. The peer offers 4000 bytes: four segments go. Its ACK of two of them
    opens the window to 8000: six more go at once (SND.UNA + 8000; a sender that kept 4000 would send two).
    The next ACK, of all ten, offers 3000: exactly three go. (The tail loss probe is off: on this link
    without delay its timeout, 2 SRTT, would send a probe between the bursts.)"""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "sack": True, "window": 4000}, sack=True,
                            nodelay=True, tail_loss_probe=False)
    assert sock.send(bytes(30 * MSS)) == 30 * MSS
    flight = data_segs(conn, within="1ms")
    base = flight[0][TCP].seq
    assert [s[TCP].seq for s in flight] == [seq_add(base, k * MSS) for k in range(4)]
    c0 = counts(dut)
    conn.send(flags="A", ack=seq_add(base, 2 * MSS), window=8000)
    more = data_segs(conn, within="1ms")
    assert delta(c0, dut) == (1, 1)
    assert [s[TCP].seq for s in more] == [seq_add(base, k * MSS) for k in range(4, 10)]
    c1 = counts(dut)
    conn.send(flags="A", ack=seq_add(base, 10 * MSS), window=3000)
    last = data_segs(conn, within="1ms")
    assert delta(c1, dut) == (1, 1)
    assert [s[TCP].seq for s in last] == [seq_add(base, k * MSS) for k in range(10, 13)]


@pytest.mark.rfc("9293 3.10.7.4")
def test_a_pure_window_update_takes_the_general_path(dut, peer):
    """An ACK that acknowledges nothing new and only opens the window (SEG.ACK = SND.UNA) is not the lean path's:
    the general path updates the window, and the DUT sends into it (two more segments for 2000 more bytes)."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "sack": True, "window": 4000}, sack=True,
                            nodelay=True)
    sock.send(bytes(10 * MSS))
    flight = data_segs(conn)
    base = flight[0][TCP].seq
    assert len(flight) == 4
    c0 = counts(dut)
    conn.send(flags="A", ack=base, window=6000)
    more = data_segs(conn)
    assert delta(c0, dut) == (0, 0)
    assert [s[TCP].seq for s in more] == [seq_add(base, k * MSS) for k in range(4, 6)]


@pytest.mark.rfc("9293 3.10.7.4")
def test_acks_of_a_bbr_connection_take_the_general_ack_processing(dut, peer):
    """BBR takes a delivery-rate sample from every ACK (tcp_cc_ack_end): its ACKs of new data are predicted
    pure ACKs but not lean. The transfer goes on (the ACK of two segments releases more data)."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "sack": True}, sack=True, nodelay=True,
                            congestion="bbr")
    sock.send(bytes(30 * MSS))
    flight = data_segs(conn)
    base = flight[0][TCP].seq
    c0 = counts(dut)
    conn.send(flags="A", ack=seq_add(base, 2 * MSS))
    more = data_segs(conn)
    assert delta(c0, dut) == (1, 0)
    assert more and more[0][TCP].seq == end(flight, base)


@pytest.mark.rfc("6675 5", "2018 3")
def test_an_ack_past_sacked_data_without_sack_blocks_takes_the_general_path(dut, peer, profile):
    """The classic recovery (no RACK), SACK on: the peer SACKs segment 3 while segment 1 is late, then
    acknowledges up to the end of segment 4 without SACK blocks. The scoreboard still holds segment 3's block
    when that ACK arrives: it is trimmed by the general path (a lean path that skipped the trim would keep a
    block below SND.UNA, and the test builds' check stops). The ACK after it, with an empty scoreboard, is lean."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "sack": True}, sack=True, nodelay=True,
                            **classic_recovery(profile))
    sock.send(bytes(30 * MSS))
    flight = data_segs(conn)
    base = flight[0][TCP].seq
    assert len(flight) == 10
    ack(conn, seq_add(base, MSS), sack=[(seq_add(base, 2 * MSS), seq_add(base, 3 * MSS))])
    sent = data_segs(conn)
    assert sock.info().fast_retransmits == 0
    c0 = counts(dut)
    ack(conn, seq_add(base, 4 * MSS))
    sent += data_segs(conn)
    assert delta(c0, dut) == (1, 0)
    c1 = counts(dut)
    ack(conn, seq_add(base, 6 * MSS))
    sent += data_segs(conn)
    assert delta(c1, dut) == (1, 1)
    assert sock.info().fast_retransmits == 0 and sock.info().total_retransmits == 0


@pytest.mark.rfc("3708 3", "6675 5")
def test_acks_while_an_undo_is_armed_take_the_general_path_until_the_episode_is_dropped(dut, peer, profile):
    """A genuine fast retransmit (segment 0 lost; the final ACK carries no D-SACK) takes the general path for
    its duplicate ACKs (SACK blocks) and the ACKs during the recovery, and leaves the undo of RFC 3708 armed: a D-SACK could still show the retransmission spurious, until SND.UNA has passed the recovery point
    by more than the peer's largest window (tcp_undo.c drops the episode then). Every ACK of new data up to
    that point takes the general path (which looks for the D-SACK and drops the episode); the first one
    beyond it drops it; from the next one on, ACKs are lean."""
    window = 8 * MSS
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "sack": True, "window": window}, sack=True,
                            nodelay=True, **classic_recovery(profile))
    sock.send(bytes(200 * MSS))
    flight = data_segs(conn)
    base = flight[0][TCP].seq
    hi = end(flight, base)
    sent = []
    c0 = counts(dut)
    for k in (2, 3, 4):  # segment 0 is missing: three duplicate ACKs SACKing 1, 1-2, 1-3
        ack(conn, base, sack=[(seq_add(base, MSS), seq_add(base, k * MSS))])
        sent += data_segs(conn)
    assert [s[TCP].seq for s in sent].count(base) == 1 and sock.info().fast_retransmits == 1
    recover = end(sent, hi)  # SND.NXT when recovery began (RFC 6582 recover, tcp_undo_begin's undo_recover)
    ack(conn, seq_add(base, 2 * MSS))  # a partial ACK during the recovery
    sent += data_segs(conn)
    ack(conn, recover)  # the retransmission filled the hole: recovery ends (no D-SACK: genuine)
    pending = data_segs(conn)
    # the duplicate ACKs (SACK blocks), the partial ACK and the full ACK during recovery: the general path
    assert delta(c0, dut) == (0, 0)
    seen = []  # (ACK beyond recover, lean count) per ACK of new data
    while pending and len(seen) < 40:
        upto = end(pending, recover)
        c0 = counts(dut)
        ack(conn, upto)
        pending = data_segs(conn)
        d = delta(c0, dut)
        assert d[0] == 1, "an ACK of new data outside recovery, no SACK blocks: a predicted pure ACK"
        seen.append(((upto - recover) % 2**32, d[1]))
        if len(seen) >= 2 and seen[-2][0] > window:
            break
    past = [i for i, (beyond, _) in enumerate(seen) if beyond > window]
    assert past and past[0] + 1 < len(seen), f"the transfer did not pass recover + the window: {seen}"
    assert all(lean == 0 for _, lean in seen[: past[0] + 1]), f"lean while the undo was armed: {seen}"
    assert seen[past[0] + 1][1] == 1, f"not lean once the episode was dropped: {seen}"
    assert sock.info().dsack_undos == 0


@pytest.mark.rfc("5682 3.1", "6298 5")
def test_the_first_ack_after_an_rto_takes_the_general_path(dut, peer, link, profile):
    """After a retransmission timeout (F-RTO armed, RTO recovery), the ACK of the retransmitted segment is
    processed by the general path: F-RTO's step 2 b) sends two new segments 20 ms after the ACK left the peer
    (as test_spurious_rto checks in full). The control: an ACK of new data before the RTO, on the lean path."""
    conn, sock, before, flight, rx = timed_out_flight(dut, peer, link, profile, ts=False, sack=True)
    base = flight[0][TCP].seq
    hi = end(flight, base)
    c0 = counts(dut)
    sack_ack(conn, seq_add(base, MSS))
    n1 = conn.expect(seq=hi, within="25ms")
    assert delta(c0, dut) == (0, 0)
    assert n1[TCP].seq == hi and sock.info().rto_timeouts == 1


def test_the_control_of_the_rto_case_is_lean(dut, peer, link, profile):
    """The control of the case above: the same connection (10 ms each way, F-RTO's profile) whose first ACK
    arrives in time is on the lean path."""
    from tcpkit import active, rack_recovery, warm_arp

    warm_arp(dut, peer)
    link.configure("both", delay="10ms")
    conn, sock = active(dut, peer, peer_opts={"mss": MSS, "sack": True}, sack=True, nodelay=True,
                        **{**rack_recovery(profile), "tail_loss_probe": False})
    sock.send(bytes(30 * MSS))
    flight = data_segs(conn, within="15ms")
    base = flight[0][TCP].seq
    c0 = counts(dut)
    sack_ack(conn, seq_add(base, MSS))
    conn.expect(seq=end(flight, base), within="25ms")
    assert delta(c0, dut) == (1, 1)


@pytest.mark.rfc("8985 7.4", "8985 7.3")
def test_the_ack_that_ends_a_tail_loss_probe_episode_takes_the_general_path(dut, peer, profile):
    """RFC 8985 §7.4: "If the TLP sender does not receive such an indication [a D-SACK] before the end of the
    TLP recovery episode, then the TLP sender MUST estimate that either the original data segment or the TLP
    retransmission were lost, and congestion control MUST react appropriately to that loss". Tail loss probes
    without RACK (SACK on): two segments go unacknowledged, the probe retransmits the last one, then new data
    goes out. The ACK of the two (exactly TLP.end_seq, no D-SACK) may be the original's, with the probe's
    D-SACK still to come: the episode stays open, no response, on the general ACK processing; the ACK above
    TLP.end_seq (no D-SACK) ends it with the loss response (ssthresh halved), general path too (it also
    arms the undo of RFC 3708 for that response)."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "sack": True}, sack=True, nodelay=True,
                            rack=False, tail_loss_probe=True)
    sock.send(bytes(2 * MSS))
    flight = data_segs(conn)
    base = flight[0][TCP].seq
    assert [s[TCP].seq for s in flight] == [base, seq_add(base, MSS)]
    # the probe: the last segment again (RFC 8985 §7.3 (2): no new data to send), at the PTO (here the RTO's
    # time, 1 s without an RTT sample: RFC 8985 §7.2's clamp)
    expect_probe(conn, profile, seq_add(base, MSS), MSS, within="1.1s")
    assert sock.info().tlp_probes == 1
    sock.send(bytes(2 * MSS))
    more = data_segs(conn)
    assert [s[TCP].seq for s in more] == [seq_add(base, 2 * MSS), seq_add(base, 3 * MSS)]
    before = sock.info()
    c0 = counts(dut)
    ack(conn, seq_add(base, 2 * MSS))
    data_segs(conn)
    assert delta(c0, dut) == (1, 0)
    assert sock.info().ssthresh == before.ssthresh > 2 * MSS, "an ACK of exactly TLP.end_seq ended the episode"
    c1 = counts(dut)
    ack(conn, seq_add(base, 4 * MSS))
    data_segs(conn)
    assert delta(c1, dut) == (1, 0)
    info = sock.info()
    # the loss response: ssthresh = max(FlightSize / 2, 2 SMSS) = 2000 (RFC 5681 §3.1 equation (4)), cwnd =
    # ssthresh; then the same ACK's 2000 octets grow cwnd by one SMSS in congestion avoidance
    assert info.ssthresh == 2 * MSS, "no loss response at the episode's end"
    assert info.cwnd == 3 * MSS
