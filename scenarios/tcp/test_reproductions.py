"""Reproductions: the classic retransmission and timeout bugs users report
against TCP stacks, each pinned with its exact virtual timeline on a
zero-delay link (every segment the peer "loses" is one it ignores)."""

from __future__ import annotations

import pytest

from pyharness.dut import linux_deviation
from scapy.layers.inet import TCP

from tcpkit import CLIENT_PORT, EXACT, SERVER_PORT, T, ns, passive, seq_add, tcp_payload

pytestmark = pytest.mark.area("tcp")

RFC6298_24 = 'RFC 6298 (2.4): "Whenever RTO is computed, if it is less than 1 second, then the RTO SHOULD be rounded up to 1 second"; Linux: RTO = SRTT + max(4*RTTVAR, 200 ms), restarted on every ACK (RFC 6298 (5.3) restarts it only when new data is acknowledged)'

S = 1_000_000_000
MSS = 1000


@pytest.mark.rfc("9293 3.10.8", "6298 5.4", "9293 3.6")
def test_lost_fin(dut, peer, profile):
    """The DUT's FIN is lost: it comes again exactly RTO later, then the close completes into TIME-WAIT,
    which lasts exactly 2 MSL from the DUT's last ACK."""
    conn, sock, _ = passive(dut, peer)
    sock.close()
    fin = conn.expect(flags="FA", within="1ms")
    t0 = ns(fin)
    again = conn.expect(flags="FA", seq=fin[TCP].seq, at=T(t0 + profile.rto_min), tolerance=EXACT)
    conn.send(flags="FA")
    last = conn.expect(flags="A", ack=conn.snd_nxt, at=T(ns(again)), tolerance=EXACT)
    conn.expect_nothing(for_=T(profile.time_wait))
    conn.send(flags="A")  # after 2 MSL the connection is gone: RST
    conn.expect(flags="R", within="1ms")
    del last


@pytest.mark.rfc("9293 3.5", "6298 5.7", "6298 5.4")
def test_lost_syn_ack(dut, peer, profile):
    """The DUT's SYN-ACK is lost: it is retransmitted exactly 1 s later; the handshake completes; the
    first data segment's RTO is then 3 s (RFC 6298 (5.7))."""
    listener = dut.tcp_listen(SERVER_PORT)
    conn = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT, isn=1000)
    conn.send(flags="S")
    sa = conn.expect(flags="SA", ack=1001, within="1ms")
    t0 = ns(sa)
    conn.expect(flags="SA", seq=sa[TCP].seq, at=T(t0 + profile.rto_initial), tolerance=EXACT)
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    sock = listener.accept()
    assert sock is not None and sock.state == "ESTABLISHED"
    sock.send(b"hello after a lost SYN-ACK")
    d = conn.expect(flags="PA", within="1ms")
    conn.expect(flags="PA", seq=d[TCP].seq, at=T(ns(d) + max(3 * S, profile.rto_min)), tolerance=EXACT)


@pytest.mark.rfc("9293 3.8.6.1", "1122 4.2.2.17", "9293 MUST-35")
@linux_deviation(RFC6298_24)
def test_lost_window_update(dut, peer, profile):
    """The peer's window was zero; its window update is lost. The DUT's persist timer sends a probe at
    exactly RTO; the answer carries the open window and the transfer resumes at once."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS}, nodelay=True)
    conn.window = 0
    conn.send(flags="A")
    t0 = dut.net.now_ns
    sock.send(b"held back by a zero window")
    rto = sock.info().rto_ns
    probe = conn.expect(at=T(t0 + rto), tolerance=EXACT)
    assert len(tcp_payload(probe)) <= 1
    # (the window update the peer sent at t0 + 0.5 s was lost: nothing was sent)
    conn.rcv_nxt = probe[TCP].seq
    conn.window = 65535
    conn.send(flags="A")
    got = conn.expect_data(b"held back by a zero window", within="1ms")
    assert got == b"held back by a zero window"


@pytest.mark.rfc("6298 5.5", "6298 2.5", "9293 MUST-18")
@linux_deviation(RFC6298_24)
def test_rto_backs_off(dut, peer, profile):
    """An RTO that never backs off floods a dead path. The ladder: 1, 2, 4, 8, 16, 32, 60, 60 s
    between retransmissions (doubling, capped at rto_max), exactly."""
    conn, sock, _ = passive(dut, peer)
    sock.send(b"into the void")
    d = conn.expect(flags="PA", within="1ms")
    t, step = ns(d), profile.rto_min
    gaps = []
    for _ in range(8):
        t += step
        p = conn.expect(flags="PA", seq=d[TCP].seq, at=T(t), tolerance=EXACT)
        gaps.append(step)
        step = min(2 * step, profile.rto_max)
    assert gaps == [min(profile.rto_min << i, profile.rto_max) for i in range(8)]
    assert sock.info().rto_ns == profile.rto_max
    del p


@pytest.mark.rfc("6298 5.5", "6298 5.3")
@linux_deviation(RFC6298_24)
def test_backoff_survives_ack_of_retransmission_then_resets_on_fresh_sample(dut, peer, profile):
    """After the ACK of a retransmitted segment the RTO stays backed off (no sample, Karn); an ACK of a
    segment sent once gives a sample and the RTO comes back to its computed value."""
    conn, sock, _ = passive(dut, peer)
    sock.send(b"a")
    d = conn.expect(flags="PA", within="1ms")
    conn.expect(flags="PA", seq=d[TCP].seq, at=T(ns(d) + profile.rto_min), tolerance=EXACT)
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    assert sock.info().rto_ns == 2 * profile.rto_min
    sock.send(b"b")
    conn.expect(flags="PA", payload=b"b", within="1ms")
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    assert sock.info().rto_ns == profile.rto_min


@pytest.mark.rfc("5681 3.2", "6298 5.4", "6582 3.2")
def test_not_stuck_after_fast_retransmit_is_lost(dut, peer, profile):
    """Fast retransmit, and the retransmission is lost too: no more duplicate ACKs will come, so the
    retransmission timer must recover the hole (a classic hang). Timeline: the timer was restarted by
    the last ACK of new data (RFC 6298 (5.3)) at t_a; the hole comes again at t_a + RTO."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS}, nodelay=True, initial_window=4)
    sock.send(bytes(8 * MSS))
    flight = [conn.expect(seq=conn.rcv_nxt, within="1ms") for _ in range(4)]
    hole = flight[1][TCP].seq
    conn.rcv_nxt = hole
    conn.send(flags="A", ack=hole)  # acknowledges segment 0: new data, the timer restarts
    t_a = dut.net.now_ns
    rto = sock.info().rto_ns
    for _ in range(3):
        conn.send(flags="A", ack=hole)
    dut.net.run(for_="1ns")
    fr = [p for p in peer.received() if p.haslayer(TCP) and p[TCP].seq == hole]
    assert len(fr) == 1, "no fast retransmit after three duplicate ACKs"
    # The fast retransmission is lost. Nothing more from the peer.
    again = conn.expect(seq=hole, within=T(2 * rto + S))
    tol = profile.tolerance(rto)  # 0 in virtual time; a real-time DUT: its timer tick and latency
    assert any(abs(ns(again) - t) <= tol for t in (t_a + rto, ns(fr[0]) + rto)), f"hole retransmitted at {ns(again)}"
    assert sock.info().rto_timeouts == 1
    # Recovery completes: everything acknowledged.
    end = seq_add(flight[0][TCP].seq, 8 * MSS)
    top = hole
    for _ in range(20):
        conn.send(flags="A", ack=top if top != hole else seq_add(flight[-1][TCP].seq, MSS))
        segs = []
        while True:
            try:
                segs.append(conn.expect(within="5ms"))
            except AssertionError:
                break
        for s in segs:
            e = seq_add(s[TCP].seq, len(tcp_payload(s)))
            if (e - hole) % 2**32 > (top - hole) % 2**32:
                top = e
        if sock.info().snd_una == end:
            break
    assert sock.info().snd_una == end
