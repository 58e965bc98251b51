"""TIME-WAIT (RFC 9293 §3.6.1, §3.10.7.4): it lasts exactly 2 x MSL (the
profile's ``time_wait``), acknowledges a retransmitted FIN and restarts,
and afterwards the 4-tuple is free again."""

from __future__ import annotations

import pytest

from tcpkit import CLIENT_PORT, SERVER_PORT, T, ns, passive, seq_add

pytestmark = pytest.mark.area("tcp")


def enter_time_wait(dut, peer):
    """Active close by the DUT; returns (conn, sock, time the DUT's last ACK left = TIME-WAIT entered)."""
    conn, sock, listener = passive(dut, peer)
    sock.shutdown("wr")
    conn.expect(flags="FA", within="10ms")
    conn.send(flags="FA")
    last = conn.expect(flags="A", ack=conn.snd_nxt, within="10ms")
    assert sock.state == "TIME_WAIT"
    return conn, sock, ns(last), listener


@pytest.mark.rfc("9293 3.6.1", "9293 MUST-13")
def test_time_wait_lasts_exactly_2msl(dut, peer, profile):
    conn, sock, t0, _ = enter_time_wait(dut, peer)
    dut.net.run(until=T(t0 + profile.time_wait - 1))
    assert sock.state == "TIME_WAIT"
    dut.net.run(until=T(t0 + profile.time_wait))
    assert sock.state == "CLOSED"
    assert sock.info().error is None


@pytest.mark.rfc("9293 3.6.1", "9293 MUST-13")
def test_time_wait_is_silent(dut, peer, profile):
    """Nothing leaves the DUT during TIME-WAIT, nor when it ends."""
    conn, sock, t0, _ = enter_time_wait(dut, peer)
    conn.expect_nothing(for_=T(profile.time_wait + 1_000_000_000))


@pytest.mark.rfc("9293 3.10.7.4", "9293 MUST-13")
def test_retransmitted_fin_restarts_time_wait(dut, peer, profile):
    """A retransmitted FIN is acknowledged and restarts the 2 MSL timeout (§3.10.7.4, TIME-WAIT)."""
    conn, sock, t0, _ = enter_time_wait(dut, peer)
    half = profile.time_wait // 2
    dut.net.run(until=T(t0 + half))
    conn.send(flags="FA", seq=seq_add(conn.snd_nxt, -1))
    ack = conn.expect(flags="A", ack=conn.snd_nxt, within="10ms")
    t1 = ns(ack)
    dut.net.run(until=T(t0 + profile.time_wait))
    assert sock.state == "TIME_WAIT", "TIME-WAIT ended without restarting after the retransmitted FIN"
    dut.net.run(until=T(t1 + profile.time_wait - 1))
    assert sock.state == "TIME_WAIT"
    dut.net.run(until=T(t1 + profile.time_wait))
    assert sock.state == "CLOSED"


@pytest.mark.rfc("9293 3.10.7.4")
def test_time_wait_answers_data_with_ack(dut, peer):
    """An unacceptable segment (here old data) in TIME-WAIT gets an ACK, and TIME-WAIT stays."""
    conn, sock, t0, _ = enter_time_wait(dut, peer)
    conn.send(flags="PA", seq=seq_add(conn.snd_nxt, -50), payload=b"x" * 10)
    conn.expect(flags="A", ack=conn.snd_nxt, within="10ms")
    assert sock.state == "TIME_WAIT"


@pytest.mark.rfc("9293 3.6.1", "9293 3.5.2")
def test_after_time_wait_the_tuple_is_free(dut, peer, profile):
    """After 2 MSL the old connection is gone: its ACK gets RST, a new SYN on the same 4-tuple connects."""
    conn, sock, t0, listener = enter_time_wait(dut, peer)
    dut.net.run(until=T(t0 + profile.time_wait + 1_000_000))
    conn.send(flags="A")
    conn.expect(flags="R", seq=conn.rcv_nxt, within="10ms")
    again = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT, isn=seq_add(conn.snd_nxt, 100000))
    again.connect(within="10ms")
    dut.net.run(for_="1ms")
    assert listener.accept() is not None


@pytest.mark.rfc("9293 3.6.1")
def test_passive_closer_has_no_time_wait(dut, peer):
    """Only the side that closes first waits: LAST-ACK goes straight to CLOSED."""
    conn, sock, _ = passive(dut, peer)
    conn.send(flags="FA")
    conn.expect(flags="A", ack=conn.snd_nxt, within="10ms")
    sock.shutdown("wr")
    conn.expect(flags="FA", within="10ms")
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    assert sock.state == "CLOSED"


@pytest.mark.rfc("9293 3.6.1", "9293 MUST-13")
def test_time_wait_after_simultaneous_close_lasts_2msl(dut, peer, profile):
    conn, sock, _ = passive(dut, peer)
    sock.shutdown("wr")
    fin = conn.expect(flags="FA", within="10ms")
    conn.send(flags="FA", ack=fin["TCP"].seq)
    conn.expect(flags="A", within="10ms")
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    t0 = dut.net.now_ns - 1_000_000
    assert sock.state == "TIME_WAIT"
    dut.net.run(until=T(t0 + profile.time_wait - 1))
    assert sock.state == "TIME_WAIT"
    dut.net.run(until=T(t0 + profile.time_wait))
    assert sock.state == "CLOSED"
