"""RFC 5961 (and RFC 9293 §3.10.7.4): blind reset and SYN attacks.

The matrix: a RST and a SYN at each boundary position of the receive window
(before it, at RCV.NXT, inside it, after it) in each synchronized state; then
challenge-ACK throttling, per connection."""

from __future__ import annotations

import pytest

from pyharness.dut import linux_deviation
from pyharness.template import pred
from tcpkit import CLIENT_PORT, SERVER_PORT, inject, passive, seq_add, to_state

pytestmark = pytest.mark.area("tcp")

SYNC_STATES = ["ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT"]
POSITIONS = ["before", "at", "inside", "after"]

#: Where Linux deviates from RFC 5961 §3.2 ("If the RST bit is set and the sequence number is outside the
#: current receive window, silently drop the segment. ... If the RST bit is set and the sequence number does
#: not exactly match the next expected sequence value, yet is within the current receive window, the receiver
#: MUST send an ACK (challenge ACK)").
RST_DEVIATIONS = {
    ("TIME_WAIT", "inside"): linux_deviation(
        'RFC 5961 3.2 applies in every synchronized state; Linux ends TIME-WAIT at once on an in-window RST '
        '(no challenge ACK) unless net.ipv4.tcp_rfc1337 = 1 (RFC 1337 recommends ignoring it)'),
    ("CLOSING", "before"): linux_deviation(
        'RFC 5961 3.2: "If the RST bit is set and the sequence number is outside the current receive window, '
        'silently drop the segment"; Linux accepts a RST with SEQ = RCV.NXT - 1 in CLOSING (tcp_reset_check: '
        'for peers that reset with the sequence number of their FIN) and closes'),
}
RST_CASES = [pytest.param(st, w, marks=RST_DEVIATIONS.get((st, w), ()), id=f"{st}-{w}")
             for st in SYNC_STATES for w in POSITIONS]


def position_seq(sock, conn, where):
    """A sequence number at ``where`` relative to the DUT's receive window."""
    info = sock.info()
    rcv_nxt, wnd = info.rcv_nxt, max(info.rcv_wnd, 1)
    assert rcv_nxt == conn.snd_nxt
    return {"before": seq_add(rcv_nxt, -1), "at": rcv_nxt, "inside": seq_add(rcv_nxt, min(wnd - 1, 1000)),
            "after": seq_add(rcv_nxt, wnd + 1000)}[where]


def expect_challenge_ack(conn, sock_snd_nxt):
    conn.expect(flags="A", seq=sock_snd_nxt, ack=conn.snd_nxt, payload=b"", within="10ms")


@pytest.mark.rfc("5961 3.2", "9293 3.10.7.4")
@pytest.mark.parametrize("state,where", RST_CASES)
def test_rst_matrix(dut, peer, state, where):
    """Out of the window: dropped silently. At RCV.NXT: the connection ends. Inside, not at RCV.NXT:
    a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, and the connection stays."""
    conn, sock = to_state(dut, peer, state)
    snd_nxt = sock.info().snd_nxt
    inject(conn, flags="R", seq=position_seq(sock, conn, where), ack=0)
    if where == "at":
        dut.net.run(for_="1ms")
        assert sock.state == "CLOSED"
        conn.expect_nothing(for_="100ms")
    elif where == "inside":
        expect_challenge_ack(conn, snd_nxt)
        assert sock.state == state
    else:
        # Nothing in answer to the RST; the DUT's own FIN retransmission (CLOSING, LAST-ACK: at its RTO, 200 ms
        # and more after the FIN on Linux) is no answer and may fall in the window.
        conn.expect_nothing(for_="100ms", flags=pred(lambda f: "F" not in str(f), "no FIN"))
        assert sock.state == state


@pytest.mark.rfc("5961 4.2", "9293 3.10.7.4")
@pytest.mark.parametrize("where", POSITIONS)
@pytest.mark.parametrize("state", [s for s in SYNC_STATES if s != "TIME_WAIT"])
def test_syn_matrix(dut, peer, state, where):
    """A SYN in a synchronized state, whatever its sequence number: a challenge ACK, nothing reset."""
    conn, sock = to_state(dut, peer, state)
    snd_nxt = sock.info().snd_nxt
    inject(conn, flags="S", seq=position_seq(sock, conn, where), ack=0)
    expect_challenge_ack(conn, snd_nxt)
    dut.net.run(for_="1ms")
    assert sock.state == state
    conn.expect_nothing(for_="50ms", flags="R")


@pytest.mark.rfc("5961 4.2", "9293 3.10.7.4", "9293 3.6.1")
@pytest.mark.parametrize("where", ["before", "at", "inside"])
def test_syn_in_time_wait(dut, peer, where):
    """TIME-WAIT: a SYN either reopens the connection (MAY-2, only with a higher sequence number)
    or is answered by a challenge ACK; never a reset of an unrelated connection, never silence
    that leaves the peer hanging with an old-sequence SYN accepted."""
    conn, sock = to_state(dut, peer, "TIME_WAIT")
    snd_nxt = sock.info().snd_nxt
    seq = position_seq(sock, conn, where)
    inject(conn, flags="S", seq=seq, ack=0)
    seg = conn.expect(within="10ms")
    flags = str(seg["TCP"].flags)
    if flags == "SA":
        assert where != "before", "TIME-WAIT accepted a SYN below RCV.NXT"
        assert seg["TCP"].ack == seq_add(seq, 1)
    else:
        assert flags == "A" and seg["TCP"].seq == snd_nxt and seg["TCP"].ack == conn.snd_nxt


@pytest.mark.rfc("5961 3.2", "9293 3.10.7.4")
def test_rst_with_ack_inside_window_gets_challenge_ack(dut, peer):
    conn, sock, _ = passive(dut, peer)
    snd_nxt = sock.info().snd_nxt
    inject(conn, flags="RA", seq=seq_add(conn.snd_nxt, 10), ack=snd_nxt)
    expect_challenge_ack(conn, snd_nxt)
    assert sock.state == "ESTABLISHED"


@pytest.mark.rfc("5961 3.2")
def test_challenge_ack_then_exact_rst_resets(dut, peer):
    """The legitimate peer answers the challenge ACK with a RST at exactly its ACK number."""
    conn, sock, _ = passive(dut, peer)
    inject(conn, flags="R", seq=seq_add(conn.snd_nxt, 500), ack=0)
    ch = conn.expect(flags="A", within="10ms")
    inject(conn, flags="R", seq=ch["TCP"].ack, ack=0)
    dut.net.run(for_="1ms")
    assert sock.info().state == "CLOSED"


@pytest.mark.rfc("5961 7", "5961 3.2")
def test_challenge_acks_are_throttled(dut, peer, profile):
    """At most challenge_ack_limit challenge ACKs per second per connection (RFC 5961 §7)."""
    conn, sock, _ = passive(dut, peer)
    n = profile.challenge_ack_limit
    for i in range(n + 10):
        inject(conn, flags="R", seq=seq_add(conn.snd_nxt, 100 + i), ack=0)
    dut.net.run(for_="100ms")
    acks = [p for p in peer.received() if p.haslayer("TCP") and str(p["TCP"].flags) == "A"]
    assert len(acks) == n
    assert sock.state == "ESTABLISHED"
    # A new second, a new allowance.
    dut.net.run(for_="1s")
    inject(conn, flags="R", seq=seq_add(conn.snd_nxt, 7), ack=0)
    conn.expect(flags="A", ack=conn.snd_nxt, within="10ms")


@pytest.mark.rfc("5961 7")
def test_challenge_ack_throttle_is_per_connection(dut, peer, profile):
    """Exhausting one connection's challenge ACKs does not silence another (no host-wide counter:
    a host-wide one is the CVE-2016-5696 side channel)."""
    listener = dut.tcp_listen(SERVER_PORT)
    a = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT, isn=1000)
    a.connect(within="10ms")
    b = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT + 1, isn=50000)
    b.connect(within="10ms")
    dut.net.run(for_="1ms")
    for i in range(profile.challenge_ack_limit + 5):
        inject(a, flags="S", seq=seq_add(a.snd_nxt, i), ack=0)
    dut.net.run(for_="10ms")
    peer.received()
    inject(b, flags="R", seq=seq_add(b.snd_nxt, 5), ack=0)
    b.expect(flags="A", ack=b.snd_nxt, within="10ms")
    assert listener.accept() is not None


@pytest.mark.rfc("5961 7")
def test_syn_challenge_acks_share_the_throttle(dut, peer, profile):
    conn, sock, _ = passive(dut, peer)
    n = profile.challenge_ack_limit
    for i in range(n + 5):
        inject(conn, flags="S", seq=seq_add(conn.snd_nxt, 3 * i), ack=0)
    dut.net.run(for_="100ms")
    acks = [p for p in peer.received() if p.haslayer("TCP") and str(p["TCP"].flags) == "A"]
    assert len(acks) == n
    assert sock.info().challenge_acks == n
