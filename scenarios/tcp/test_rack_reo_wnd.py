"""RACK's reordering window adapts (RFC 8985 §6.2 Steps 2 and 4), and RACK finds lost retransmissions (§6.2).

The reordering window is RACK.reo_wnd = min(RACK.reo_wnd_mult * RACK.min_RTT / 4, SRTT). Each round trip in
which the peer reports a duplicate with a D-SACK (RFC 2883: the retransmission was not needed, the original
was only late) raises RACK.reo_wnd_mult by one; sixteen recoveries without a D-SACK bring it back to 1.
RACK.min_RTT is a windowed minimum, so that a connection moved to a longer path stops using the old path's RTT
(the Tern stack's window is 300 s, as Linux's tcp_min_rtt_wlen; the minimum covers the last 150 to 300 s).

Every test measures the window on the wire: the DUT sends two segments over a 10 ms + 10 ms path, the peer
SACKs the second only (one SACKed segment, below DupThresh: RFC 6675 alone would wait for the RTO), and the
first is retransmitted RACK.rtt + RACK.reo_wnd after it left (the reordering timer, RFC 8985 §6.3).
"""

from __future__ import annotations

from typing import Any

import pytest
from scapy.layers.inet import TCP

from tcpkit import (EXACT, T, active, classic_recovery, expect_probe, fine_timing, ns, rack_recovery, seq_add,
                    tcp_payload, warm_arp)
from test_dsack_undo import data_segs

pytestmark = pytest.mark.area("tcp")

MS = 1_000_000
MSS = 1000


def rack_conn(dut: Any, peer: Any, link: Any, profile: Any, **sockopts: Any) -> tuple[Any, Any]:
    """A SACK connection without timestamps over 10 ms + 10 ms."""
    sockopts = {**rack_recovery(profile), **sockopts}
    fine_timing(profile, 5 * MS, "RACK's reordering window (RACK.min_RTT / 4 = 5 ms) and its growth")
    warm_arp(dut, peer)
    link.configure("both", delay="10ms")
    conn, sock = active(dut, peer, peer_opts={"mss": MSS, "sack": True}, sack=True, nodelay=True, **sockopts)
    return conn, sock


def sack(conn: Any, upto: int, blocks: list) -> Any:
    """A pure ACK up to ``upto`` with SACK blocks [(left, right), ...]."""
    return conn.send(flags="A", ack=upto,
                     options=[("NOP", None), ("NOP", None), ("SAck", tuple(x for b in blocks for x in b))])


def hole_round(conn: Any, sock: Any, dsacks_first: int = 0) -> int:
    """Two segments; the peer SACKs the second; returns the time from the first's arrival to its
    retransmission's (= RACK.rtt + RACK.reo_wnd, both sent together); then the peer acknowledges both.
    ``dsacks_first``: that many duplicate ACKs reporting the previous round's retransmission with a D-SACK
    come first, while the two segments are outstanding (one round trip: RACK.dsack_round is SND.NXT)."""
    sock.send(bytes(2 * MSS))
    s1 = conn.expect(flags="A", within="100ms")
    s2 = conn.expect(flags="PA", within="1ms")
    assert ns(s1) == ns(s2)
    hole = s1[TCP].seq
    for _ in range(dsacks_first):
        sack(conn, hole, [(seq_add(hole, -MSS), hole)])
    sack(conn, hole, [(seq_add(hole, MSS), seq_add(hole, 2 * MSS))])
    r = conn.expect(seq=hole, within="300ms")
    assert len(tcp_payload(r)) == MSS
    conn.send(flags="A", ack=seq_add(hole, 2 * MSS))
    conn.peer.net.run(for_="50ms")
    return ns(r) - ns(s1)


def dsack_of_last_retransmission(conn: Any, sock: Any) -> None:
    """The retransmitted segment of the last round arrives again: the peer reports it with a D-SACK block
    (RFC 2883 §4: below the cumulative ACK) in a duplicate ACK."""
    una = sock.info().snd_una
    sack(conn, una, [(seq_add(una, -MSS), una)])
    conn.peer.net.run(for_="50ms")


@pytest.mark.rfc("8985 6.2", "2883 4")
@pytest.mark.parametrize("dsacks", [0, 1, 2])
def test_dsack_rounds_grow_the_reordering_window(dut, peer, link, profile, dsacks):
    """RACK.min_RTT is 20 ms: the window is 5 ms per D-SACK round plus one: the hole goes again 25, 30 or
    35 ms after it left (0, 1 or 2 rounds with a D-SACK, each after a recovery)."""
    conn, sock = rack_conn(dut, peer, link, profile)
    deltas = [hole_round(conn, sock)]
    for _ in range(dsacks):
        dsack_of_last_retransmission(conn, sock)
        deltas.append(hole_round(conn, sock))
    assert deltas == [(20 + 5 * (k + 1)) * MS for k in range(dsacks + 1)]
    assert sock.info().dsack_blocks_in == dsacks


@pytest.mark.rfc("8985 6.2", "2883 4")
def test_dsacks_of_one_round_trip_grow_the_window_once(dut, peer, link, profile):
    """Two D-SACKs in one round trip (both arrive while the same two segments are outstanding, before
    SND.UNA reaches RACK.dsack_round) raise RACK.reo_wnd_mult once: 30 ms, not 35 ms."""
    conn, sock = rack_conn(dut, peer, link, profile)
    assert hole_round(conn, sock) == 25 * MS
    assert hole_round(conn, sock, dsacks_first=2) == 30 * MS
    assert sock.info().dsack_blocks_in == 2


@pytest.mark.rfc("8985 6.2")
def test_the_grown_window_lasts_sixteen_recoveries(dut, peer, link, profile):
    """One D-SACK: RACK.reo_wnd_mult 2, RACK.reo_wnd_persist 16. The next sixteen recoveries use the 10 ms
    window (each leaves recovery and counts one down); the seventeenth is back at 5 ms."""
    conn, sock = rack_conn(dut, peer, link, profile)
    first = hole_round(conn, sock)
    dsack_of_last_retransmission(conn, sock)
    deltas = [hole_round(conn, sock) for _ in range(17)]
    assert first == 25 * MS
    assert deltas == [30 * MS] * 16 + [25 * MS]
    assert sock.info().fast_retransmits == 18


@pytest.mark.rfc("8985 6.2")
def test_min_rtt_is_a_windowed_minimum(dut, peer, link, profile):
    """The path grows from 20 ms to 100 ms of RTT. Right after, and 200 s later, RACK.min_RTT is still the old
    path's 20 ms (reo_wnd 5 ms: the hole goes again 100 + 5 ms after it left); after a segment every 20 s
    for 320 s the old samples are out of the window: RACK.min_RTT is 100 ms and reo_wnd 25 ms (100 + 25 ms)."""
    conn, sock = rack_conn(dut, peer, link, profile, tail_loss_probe=False)  # no probe before RACK's timer
    assert hole_round(conn, sock) == 25 * MS
    link.configure("both", delay="50ms")
    early = hole_round(conn, sock)
    start = peer.net.now_ns

    def samples_until(t_s: int) -> None:
        while peer.net.now_ns - start < t_s * 1000 * MS:
            peer.net.run(for_="20s")
            sock.send(bytes(MSS))
            s = conn.expect(flags="PA", seq=sock.info().snd_una, within="200ms")
            conn.send(flags="A", ack=seq_add(s[TCP].seq, MSS))
            peer.net.run(for_="100ms")  # the ACK arrives before the next send

    # at 200 s the first epoch (with the 20 ms samples) is the previous one: still in the window
    samples_until(200)
    middle = hole_round(conn, sock)
    samples_until(320)
    late = hole_round(conn, sock)
    assert (early, middle, late) == (105 * MS, 105 * MS, 125 * MS)


@pytest.mark.rfc("8985 6.2", "6675 5")
@pytest.mark.parametrize("recovery", ["rack", "classic"])
def test_rack_detects_a_lost_retransmission(dut, peer, link, profile, recovery):
    """Ten segments; the peer SACKs segments 1-9: segment 0 is lost (three or more SACKed above it: no
    reordering window) and retransmitted when the SACK arrives. That retransmission is lost too. The DUT
    sends new data after it; the peer SACKs the first new segment: it was sent after the retransmission
    and delivered, so RACK marks the retransmission lost one RACK.rtt after it left (reo_wnd is 0 in
    recovery) and sends segment 0 a third time as soon as that ACK arrives. The classic profile has no evidence for that (one SACKed segment after the retransmission,
    RFC 6675's rules need more) and waits for the RTO."""
    opts = classic_recovery(profile) if recovery == "classic" else {}
    conn, sock = rack_conn(dut, peer, link, profile, **{"tail_loss_probe": False, **opts})
    sock.send(bytes(14 * MSS))
    flight = data_segs(conn, within="15ms")
    assert len(flight) == 10
    base = flight[0][TCP].seq
    hi = seq_add(base, 10 * MSS)
    sack(conn, base, [(seq_add(base, MSS), hi)])
    r1 = conn.expect(seq=base, within="100ms")  # the first retransmission: the peer drops it
    new = [s for s in data_segs(conn, within="5ms") if s[TCP].seq != base]
    assert new and new[0][TCP].seq == hi and ns(new[0]) == ns(r1), "no new data after the retransmission"
    t_sack = peer.net.now_ns
    sack(conn, base, [(seq_add(base, MSS), seq_add(hi, MSS))])
    if recovery == "rack":
        # RACK.rtt is the new segment's (sent with r1, SACKed on this ACK's arrival), reo_wnd 0 in recovery:
        # r1 is lost the moment the ACK arrives (t_sack + 10 ms) and goes again; at the peer 10 ms later
        conn.expect(seq=base, at=T(t_sack + 20 * MS), tolerance=EXACT)
        assert sock.info().rto_timeouts == 0
    else:
        # the RTO, running since the flight left (RFC 6298 (5.1): no ACK advanced SND.UNA since)
        conn.expect(seq=base, at=T(ns(flight[0]) + sock.info().rto_ns), tolerance=EXACT)
        assert sock.info().rto_timeouts == 1


@pytest.mark.rfc("8985 6.2", "8985 7.3", "2883 4")
@pytest.mark.parametrize("timer", ["rto", "tlp"])
def test_a_dsack_of_a_timers_retransmission_leaves_the_window(dut, peer, link, profile, timer):
    """One segment goes out and its ACK is lost: the retransmission timer (tail loss probe off) or the tail
    loss probe (no new data to send: RFC 8985 §7.3 retransmits the last segment) sends it again, and the
    peer, which holds it, reports the copy with a D-SACK. That duplicate says an ACK was lost, not that RACK
    marked a reordered segment lost: the next hole still goes 20 + 5 ms after it left (reo_wnd_mult 1). The
    control: a D-SACK of RACK's own retransmission then raises the window to 10 ms (30 ms)."""
    conn, sock = rack_conn(dut, peer, link, profile, tail_loss_probe=(timer == "tlp"))
    assert hole_round(conn, sock) == 25 * MS
    sock.send(bytes(MSS))
    s = conn.expect(flags="PA", within="100ms")
    # the ACK of s was lost: the timer sends it again (the probe in two halves on Tern)
    if timer == "tlp":
        expect_probe(conn, profile, s[TCP].seq, MSS, within="3s")
    else:
        r = conn.expect(seq=s[TCP].seq, within="3s")
        assert len(tcp_payload(r)) == MSS
    info = sock.info()
    assert (info.rto_timeouts, info.tlp_probes) == ((1, 0) if timer == "rto" else (0, 1))
    end = seq_add(s[TCP].seq, MSS)
    sack(conn, end, [(s[TCP].seq, end)])  # RFC 2883 §4: the copy, below the cumulative ACK
    conn.peer.net.run(for_="50ms")
    assert sock.info().dsack_blocks_in == 1
    after_timer = hole_round(conn, sock)
    dsack_of_last_retransmission(conn, sock)  # the control: RACK's retransmission reported twice
    after_rack = hole_round(conn, sock)
    assert (after_timer, after_rack) == (25 * MS, 30 * MS)
