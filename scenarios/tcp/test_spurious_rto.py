"""Spurious retransmission timeouts are detected and undone: Eifel with timestamps (RFC 3522), F-RTO without
(RFC 5682 §3, the SACK-enhanced algorithm), both answered by restoring the congestion state (RFC 4015).

The path is 10 ms each way. The DUT sends its initial window; the peer holds every ACK back, so the RTO
fires (1 s after the flight left, RFC 6298 (5.1); the tail loss probe is switched off so that the RTO comes
first) and the first segment goes again with cwnd = 1 SMSS (RFC 5681 §3.1). Then the ACKs of the originals
arrive: the timeout was spurious (the segments were delayed, not lost). The DUT finds out, restores cwnd and
ssthresh to their values before the RTO, and goes on with new data instead of sending the window again.
Each test has its control: the same exchange where the ACKs show the retransmission was needed keeps the
reduction and the RTO recovery.

RFC 3522 (abstract): "Based on the timestamp of the first acceptable ACK that arrives during loss recovery, it
decides whether loss recovery was entered unnecessarily." RFC 4015 §1: the response "can avoid the often
unnecessary go-back-N retransmits that would otherwise be sent" (the tests check that nothing of the flight is
sent again). The restoration is Linux's: cwnd and ssthresh exactly as before the RTO. The classic profile (tcpkit.classic_recovery) runs
neither: test_dsack_undo.py has its exact RFC 5681 timeline.
"""

from __future__ import annotations

from typing import Any

import pytest
from scapy.layers.inet import TCP

from tcpkit import EXACT, T, active, ns, rack_recovery, seq_add, tcp_payload, warm_arp
from test_dsack_undo import data_segs, end

pytestmark = pytest.mark.area("tcp")

MS = 1_000_000
MSS = 1000
IW_SEGS = 10


def tsopt(pkt: Any) -> tuple[int, int]:
    """(TSval, TSecr) of a segment's timestamps option."""
    for name, val in pkt[TCP].options:
        if name == "Timestamp":
            return int(val[0]), int(val[1])
    raise AssertionError("the segment has no timestamps option")


def timed_out_flight(dut: Any, peer: Any, link: Any, profile: Any, ts: bool,
                     sack: bool = True) -> tuple[Any, Any, Any, list, Any]:
    """A connection (SACK if ``sack``, timestamps if ``ts``) over 10 ms + 10 ms whose initial window times out:
    returns (conn, sock, info before the RTO, the flight, the RTO retransmission as the peer received it)."""
    warm_arp(dut, peer)
    link.configure("both", delay="10ms")
    conn, sock = active(dut, peer, peer_opts={"mss": MSS, "sack": sack, "ts": ts}, sack=sack, timestamps=ts,
                        nodelay=True, **{**rack_recovery(profile), "tail_loss_probe": False})
    assert (sock.info().ts_ok, sock.info().sack_ok) == (ts, sack)
    sock.send(bytes(60 * MSS))
    flight = data_segs(conn, within="15ms")
    # One burst: the same instant in virtual time; in real time (the Linux DUT) within the profile's tolerance
    # (the kernel's frames of one burst are read off the TAP device microseconds apart).
    times = [ns(s) for s in flight]
    assert len(flight) == IW_SEGS and max(times) - min(times) <= profile.tolerance(0)
    before = sock.info()
    # RFC 6298 (5.1): the timer started with the first segment; 10 ms later at the peer
    rx = conn.expect(seq=flight[0][TCP].seq, at=T(ns(flight[0]) + before.rto_ns), tolerance=EXACT)
    info = sock.info()
    assert (info.rto_timeouts, info.cwnd) == (1, info.snd_mss)
    return conn, sock, before, flight, rx


@pytest.mark.rfc("3522 3.2", "4015 1", "7323 4.3")
@pytest.mark.parametrize("echo", ["original", "retransmission"], ids=["spurious", "genuine"])
def test_eifel_detects_a_spurious_rto_and_restores_the_window(dut, peer, link, profile, echo):
    """The ACK of the whole flight echoes the TSval of the original segment (it was delayed: spurious) or of
    the retransmission (the original was lost: genuine). Spurious: cwnd and ssthresh are back to their values
    before the RTO and the DUT sends a full window of new data at once (20 ms after the ACK left the peer);
    genuine: slow start from the loss window, two segments."""
    if echo == "retransmission" and profile.spurious_rto != "rfc":
        pytest.skip(f"the {profile.name} DUT undoes an RTO on an ACK of never-retransmitted data whatever the TSecr "
                    f"(DutProfile.spurious_rto = {profile.spurious_rto!r}): Eifel's genuine case is not its algorithm")
    conn, sock, before, flight, rx = timed_out_flight(dut, peer, link, profile, ts=True)
    smss = before.snd_mss
    hi = end(flight, flight[0][TCP].seq)
    ecr = tsopt(flight[0])[0] if echo == "original" else tsopt(rx)[0]
    assert tsopt(flight[0])[0] != tsopt(rx)[0]
    t_ack = peer.net.now_ns
    conn.send(flags="A", ack=hi, options=[("NOP", None), ("NOP", None),
                                         ("Timestamp", (peer.net.now_ns // MS + 1, ecr))])
    first = conn.expect(seq=hi, at=T(t_ack + 20 * MS), tolerance=EXACT)
    burst = [first] + data_segs(conn, within="1ms")
    assert all(abs(ns(s) - (t_ack + 20 * MS)) <= profile.tolerance(20 * MS) for s in burst)  # one instant
    # nothing of the flight is sent again: every segment is new data, in sequence from hi
    assert [s[TCP].seq for s in burst] == [seq_add(hi, k * smss) for k in range(len(burst))]
    info = sock.info()
    assert info.total_retransmits == 1
    if echo == "original":
        assert info.spurious_rtos == 1
        assert (info.cwnd, info.ssthresh) == (before.cwnd, before.ssthresh), "cwnd/ssthresh not restored"
        assert len(burst) == before.cwnd // smss == IW_SEGS
    else:
        assert info.spurious_rtos == 0
        assert info.cwnd == 2 * smss and info.ssthresh < before.ssthresh
        assert len(burst) == 2


def sack_ack(conn: Any, upto: int, blocks: list[tuple[int, int]] = ()) -> Any:
    """A pure ACK up to ``upto`` with SACK blocks."""
    opts = [("NOP", None), ("NOP", None), ("SAck", tuple(x for b in blocks for x in b))] if blocks else []
    return conn.send(flags="A", ack=upto, options=opts)


@pytest.mark.rfc("5682 3.1", "4015 1")
@pytest.mark.parametrize("second", ["advances", "sacks-original", "dupack", "dupack-nosack"],
                         ids=["spurious", "spurious-sack", "genuine", "genuine-nosack"])
def test_frto_detects_a_spurious_rto_without_timestamps(dut, peer, link, profile, second):
    """F-RTO, no timestamps. Step 2: the first ACK after the RTO acknowledges the retransmitted segment only,
    below "recover": the DUT sends two NEW segments (from the highest sequence sent), not the next
    retransmissions, 20 ms after the ACK left the peer. Step 3: the second ACK acknowledges (or SACKs) a
    segment that was sent once only: spurious, cwnd/ssthresh restored and new data goes on; or it is a
    duplicate ACK SACKing the new segments: genuine, the RTO recovery retransmits the second segment at once.
    Without SACK (F-RTO needs none) the duplicate ACK carries no news of the new segments: the RTO recovery
    still retransmits the second segment at once (the two new segments do not hold it back)."""
    if profile.spurious_rto != "rfc":
        pytest.skip(f"the {profile.name} DUT's F-RTO is its own variant (DutProfile.spurious_rto = "
                    f"{profile.spurious_rto!r}), not RFC 5682 section 2.1's two new segments and second-ACK decision")
    conn, sock, before, flight, rx = timed_out_flight(dut, peer, link, profile, ts=False,
                                                      sack=second != "dupack-nosack")
    smss = before.snd_mss
    base = flight[0][TCP].seq
    hi = end(flight, base)
    t1 = peer.net.now_ns
    sack_ack(conn, seq_add(base, smss))
    n1 = conn.expect(seq=hi, at=T(t1 + 20 * MS), tolerance=EXACT)
    n2 = conn.expect(seq=seq_add(hi, smss), at=T(t1 + 20 * MS), tolerance=EXACT)
    assert data_segs(conn, within="15ms") == [], "more than F-RTO's two new segments in step 2 b)"
    hi2 = end([n1, n2], hi)
    t2 = peer.net.now_ns
    if second == "advances":
        sack_ack(conn, seq_add(base, 5 * smss))
    elif second == "sacks-original":
        # two segments sent once only are SACKed: with the restored window of ten segments and eleven in
        # flight, two SACKed, one new segment fits (and no DupThresh: RFC 6675 recovery does not start)
        sack_ack(conn, seq_add(base, smss), [(seq_add(base, 3 * smss), seq_add(base, 5 * smss))])
    elif second == "dupack":
        sack_ack(conn, seq_add(base, smss), [(hi, seq_add(hi, smss))])
    else:
        sack_ack(conn, seq_add(base, smss))
    first = conn.expect(flags="A", at=T(t2 + 20 * MS), tolerance=EXACT)
    burst = [first] + data_segs(conn, within="1ms")
    burst = [s for s in burst if tcp_payload(s)]
    info = sock.info()
    if second.startswith("dupack"):
        assert info.spurious_rtos == 0 and info.ssthresh < before.ssthresh
        # RTO recovery goes on: the next unacknowledged segment of the flight is retransmitted
        assert burst[0][TCP].seq == seq_add(base, smss)
        assert info.total_retransmits >= 2
    else:
        assert info.spurious_rtos == 1
        assert (info.cwnd, info.ssthresh) == (before.cwnd, before.ssthresh), "cwnd/ssthresh not restored"
        assert info.total_retransmits == 1, "a segment of the flight was sent again after the undo"
        # new data only, from the highest sequence sent, up to the restored window
        assert [s[TCP].seq for s in burst] == [seq_add(hi2, k * smss) for k in range(len(burst))]
        # the window is the restored one (ten segments): what is in flight and not SACKed fills it. Spurious:
        # seven outstanding (segments 5-9 and the two new ones): three go; spurious-sack: eleven outstanding,
        # two SACKed: one goes
        assert len(burst) == (1 if second == "sacks-original" else 3)


@pytest.mark.dut("tern", reason="reads the spurious-RTO counter; Tern's F-RTO is RFC 5682 section 3's")
@pytest.mark.rfc("5682 3")
@pytest.mark.parametrize("first", ["dupack", "advances"], ids=["dupack-first", "control"])
def test_frto_stays_in_step_2_on_a_duplicate_ack(dut, peer, link, profile, first):
    """RFC 5682 section 3 step 2 (SACK-enhanced F-RTO): "If duplicate ACKs arrive before the cumulative
    acknowledgment for retransmitted data, adjust the scoreboard according to the incoming SACK information.
    Stay in step 2 and wait for the next new acknowledgment." Here the originals of segments 1-2 arrive late and
    the peer SACKs them before the RTO retransmission of segment 0 arrives (a duplicate ACK); then the ACK of
    the retransmission advances SND.UNA below "RecoveryPoint": step 2 b), "transmit up to two new (previously
    unsent) segments and proceed to step 3", 20 ms after that ACK left the peer, not the next retransmission.
    Step 3: the ACK of segments 3-4, sent once only, declares the timeout spurious. The control: the same
    without the duplicate ACK first."""
    conn, sock, before, flight, rx = timed_out_flight(dut, peer, link, profile, ts=False)
    smss = before.snd_mss
    base = flight[0][TCP].seq
    hi = end(flight, base)
    if first == "dupack":
        sack_ack(conn, base, [(seq_add(base, smss), seq_add(base, 3 * smss))])
        assert data_segs(conn, within="30ms") == [], "a duplicate ACK in F-RTO's step 2 sent data"
    t1 = peer.net.now_ns
    sack_ack(conn, seq_add(base, 3 * smss))
    n1 = conn.expect(seq=hi, at=T(t1 + 20 * MS), tolerance=EXACT)
    n2 = conn.expect(seq=seq_add(hi, smss), at=T(t1 + 20 * MS), tolerance=EXACT)
    assert tcp_payload(n1) and tcp_payload(n2)
    assert data_segs(conn, within="15ms") == [], "more than F-RTO's two new segments in step 2 b)"
    sack_ack(conn, seq_add(base, 5 * smss))  # step 3 b): segments 3-4 were sent once only
    conn.expect(flags="A", within="25ms")
    info = sock.info()
    assert info.spurious_rtos == 1 and (info.cwnd, info.ssthresh) == (before.cwnd, before.ssthresh)
    assert info.total_retransmits == 1
