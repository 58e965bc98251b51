"""Keep-alive (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6): off by default, probes at
exact idle + interval times, the connection ends after the count, answered
probes keep it, data resets the idle timer."""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from pyharness import has_flags
from tcpkit import EXACT, T, ns, passive, seq_add, tcp_payload

pytestmark = pytest.mark.area("tcp")

S = 1_000_000_000


@pytest.mark.rfc("9293 3.8.4", "9293 MUST-25")
def test_keepalive_off_by_default(dut, peer, profile):
    conn, sock, _ = passive(dut, peer)
    assert profile.keepalive_idle >= 7200 * S
    conn.expect_nothing(for_=T(profile.keepalive_idle + profile.keepalive_interval * 2))
    assert sock.state == "ESTABLISHED"
    # positive control: the connection is alive: data now is acknowledged
    conn.send(flags="PA", payload=b"still there?")
    conn.expect(flags="A", ack=conn.snd_nxt, within="1s")


@pytest.mark.rfc("9293 3.8.4", "9293 MUST-24", "9293 MUST-26", "9293 SHLD-12")
def test_keepalive_probe_at_exact_idle_time(dut, peer, link, golden):
    """Golden trace: idle 10 s, probes every 2 s (3 of them) answered; then unanswered: 3 probes and the end."""
    conn, sock, _ = passive(dut, peer, keepalive=True, keepidle="10s", keepintvl="2s", keepcnt=3)
    t0 = dut.net.now_ns - 1_000_000  # the last segment (the peer's ACK) arrived at the handshake
    snd_nxt = sock.info().snd_nxt
    p = conn.expect(flags="A", at=T(t0 + 10 * S), tolerance=EXACT)
    assert p[TCP].seq == seq_add(snd_nxt, -1) and len(tcp_payload(p)) <= 1
    conn.send(flags="A")  # answered: idle restarts
    t1 = dut.net.now_ns
    p = conn.expect(flags="A", seq=seq_add(snd_nxt, -1), at=T(t1 + 10 * S), tolerance=EXACT)
    t2 = ns(p)
    for k in (1, 2):
        conn.expect(flags="A", seq=seq_add(snd_nxt, -1), at=T(t2 + k * 2 * S), tolerance=EXACT)
    dut.net.run(until=T(t2 + 3 * 2 * S - 1))
    assert sock.state == "ESTABLISHED"
    dut.net.run(until=T(t2 + 3 * 2 * S + 1))
    info = sock.info()
    assert info.state == "CLOSED" and info.error == "TIMED_OUT"
    assert info.keepalives_sent == 4
    dut.net.run(for_="10ms")
    golden.check(link, mask=("ip.id",))


@pytest.mark.rfc("9293 3.8.4", "9293 MUST-27", "1122 4.2.3.6")
@pytest.mark.parametrize("idle,intvl,cnt", [(30, 5, 1), (60, 10, 2), (7200, 75, 9)])
def test_keepalive_schedule(dut, peer, idle, intvl, cnt):
    conn, sock, _ = passive(dut, peer, keepalive=True, keepidle=f"{idle}s", keepintvl=f"{intvl}s", keepcnt=cnt)
    t0 = dut.net.now_ns - 1_000_000
    first = conn.expect(flags="A", at=T(t0 + idle * S), tolerance=EXACT)
    for k in range(1, cnt):
        conn.expect(flags="A", at=T(ns(first) + k * intvl * S), tolerance=EXACT)
    dut.net.run(until=T(ns(first) + cnt * intvl * S + 1))
    assert sock.info().error == "TIMED_OUT"


@pytest.mark.rfc("9293 3.8.4", "9293 MUST-29")
def test_answered_probes_keep_connection_forever(dut, peer):
    conn, sock, _ = passive(dut, peer, keepalive=True, keepidle="5s", keepintvl="1s", keepcnt=2)
    for _ in range(10):
        conn.expect(flags="A", within="6s")
        conn.send(flags="A")
    assert sock.state == "ESTABLISHED"


@pytest.mark.rfc("9293 3.8.4", "9293 MUST-26")
def test_data_resets_idle_timer(dut, peer):
    conn, sock, _ = passive(dut, peer, keepalive=True, keepidle="10s", keepintvl="2s", keepcnt=3)
    dut.net.run(for_="8s")
    conn.send(flags="PA", payload=b"activity")
    t = dut.net.now_ns
    conn.expect(flags="A", ack=conn.snd_nxt, within="1s")  # delayed ACK of the data
    p = conn.expect(flags="A", within="20s")
    assert ns(p) == t + 10 * S


@pytest.mark.rfc("9293 3.8.4", "9293 MUST-26")
def test_no_keepalive_while_data_outstanding(dut, peer):
    """Keep-alives only with no sent data outstanding: here retransmissions, not probes."""
    conn, sock, _ = passive(dut, peer, keepalive=True, keepidle="2s", keepintvl="1s", keepcnt=50)
    sock.send(b"unacked")
    conn.expect(flags="PA", within="1ms")
    dut.net.run(for_="10s")
    for p in peer.received():
        if p.haslayer(TCP):
            assert tcp_payload(p) == b"unacked"
    assert sock.info().keepalives_sent == 0


@pytest.mark.rfc("9293 3.8.4")
def test_dut_answers_peer_keepalive(dut, peer):
    """A keep-alive from the peer (SEG.SEQ = RCV.NXT - 1, maybe one garbage byte) gets an ACK of RCV.NXT."""
    conn, sock, _ = passive(dut, peer)
    from tcpkit import inject

    inject(conn, flags="A", seq=seq_add(conn.snd_nxt, -1), payload=b"\x00")
    conn.expect(flags="A", ack=conn.snd_nxt, within="10ms")
    inject(conn, flags="A", seq=seq_add(conn.snd_nxt, -1))
    conn.expect(flags="A", ack=conn.snd_nxt, within="10ms")


# ---- the user timeout covers keep-alive (issue 21) -----------------------------------------------------

#: RFC 5482 §1: "The TCP user timeout controls how long transmitted data may remain unacknowledged before a
#: connection is forcefully closed." A keep-alive probe is transmitted and acknowledged like data; Linux's
#: TCP_USER_TIMEOUT (tcp(7)) applies it to unanswered probes too, and sends a RST.
LINUX_UT_ERROR = "Linux reports ETIMEDOUT for a user timeout (profile.user_timeout_error)"


@pytest.mark.rfc("5482 1", "9293 3.8.3", "1122 4.2.3.6")
@pytest.mark.parametrize("user_timeout,probes", [(2, 1), (5, 4)])
def test_user_timeout_ends_unanswered_keepalive(dut, peer, profile, user_timeout, probes):
    """Keep-alive every 1 s after 1 s idle, user timeout of ``user_timeout`` s, peer gone: probes at exactly 1, 2...
    s after the last segment received, then at exactly ``user_timeout`` s a RST (SEQ=SND.NXT) and the
    application sees USER_TIMEOUT; keep-alive's own count (9) is never reached."""
    conn, sock, _ = passive(dut, peer, keepalive=True, keepidle="1s", keepintvl="1s", keepcnt=9,
                            user_timeout=f"{user_timeout}s")
    t0 = dut.net.now_ns - 1_000_000  # the peer's ACK of the handshake
    snd_nxt = sock.info().snd_nxt
    for k in range(1, probes + 1):
        conn.expect(flags="A", seq=seq_add(snd_nxt, -1), at=T(t0 + k * S), tolerance=EXACT)
    # Linux sends RST|ACK, from its keep-alive timer (timer-wheel tolerance of the profile; 0 for Tern)
    rst_tolerance = f"{max(profile.tolerance(user_timeout * S), 1)}ns"
    conn.expect(flags=has_flags("R"), seq=snd_nxt, at=T(t0 + user_timeout * S), tolerance=rst_tolerance)
    info = sock.info()
    assert info.state == "CLOSED" and info.error == profile.user_timeout_error
    assert info.keepalives_sent == probes


@pytest.mark.rfc("5482 1", "9293 3.8.3")
def test_answered_keepalive_is_not_a_user_timeout(dut, peer):
    """The control: the same settings with every probe answered: the connection lives on past many user
    timeouts, and no RST is sent."""
    conn, sock, _ = passive(dut, peer, keepalive=True, keepidle="1s", keepintvl="1s", keepcnt=9,
                            user_timeout="2s")
    for _ in range(8):
        conn.expect(flags="A", within="1100ms")
        conn.send(flags="A")
    conn.expect_nothing(for_="900ms", flags="R")
    assert sock.state == "ESTABLISHED"
