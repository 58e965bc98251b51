"""TIME-WAIT (RFC 9293 §3.6.1, §3.10.7.4): it lasts exactly 2 x MSL (the
profile's ``time_wait``), acknowledges a retransmitted FIN and restarts,
and afterwards the 4-tuple is free again."""

from __future__ import annotations

import pytest

from tcpkit import CLIENT_PORT, SERVER_PORT, T, inject, ns, passive, seq_add

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
    # positive control: TIME-WAIT is over, the tuple is free: a segment for the old
    # connection reaches the listener and gets a RST (§3.10.7.2)
    conn.send(flags="A")
    conn.expect(flags="R", within="10ms")


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


# ---- TIME-WAIT after the user closed the socket: the compact table (issue 21) -------------------------

#: RFC 9293 §4 (Glossary): "MSL: Maximum Segment Lifetime, the time a TCP segment can exist in the
#: internetwork system. Arbitrarily defined to be 2 minutes." TIME-WAIT lasts 2 x MSL (§3.6.1).
RFC9293_MSL = 120 * 1_000_000_000
LINUX_TW = "Linux keeps TIME-WAIT 60 s (TCP_TIMEWAIT_LEN), not 2 x MSL with RFC 9293's MSL of 2 minutes"
#: RFC 6191 §2, the rule for a SYN in TIME-WAIT with timestamps: "If TCP Timestamps would be enabled for the
#: new incarnation of the connection, and the timestamp contained in the incoming SYN segment is greater than
#: the last timestamp seen on the previous incarnation of the connection (for that direction of the data
#: transfer), honor the connection request (creating a connection in the SYN-RECEIVED state)."
RFC6191 = "RFC 6191 §2"


def closed_time_wait(dut, peer, **peer_opts):
    """The DUT closes first and its user closes the socket: (conn, listener, time TIME-WAIT began)."""
    conn, sock, listener = passive(dut, peer, peer_opts=peer_opts or None)
    sock.close()
    conn.expect(flags="FA", within="10ms")
    conn.send(flags="FA")
    last = conn.expect(flags="A", ack=conn.snd_nxt, within="10ms")
    return conn, listener, ns(last)


@pytest.mark.rfc("9293 3.6.1", "9293 MUST-13")
@pytest.mark.deviation("linux", reason=LINUX_TW)
def test_closed_time_wait_lasts_2msl_of_rfc9293(dut, peer):
    """A closed socket's TIME-WAIT lasts 2 x MSL, MSL = 2 minutes as RFC 9293 defines it: until then an ACK is
    taken silently by TIME-WAIT; at 4 minutes the tuple is gone and the same ACK gets a RST."""
    conn, listener, t0 = closed_time_wait(dut, peer)
    dut.net.run(until=T(t0 + 2 * RFC9293_MSL - 1))
    conn.send(flags="A")
    conn.expect_nothing(for_="1ns")
    assert dut.net.now_ns == t0 + 2 * RFC9293_MSL
    conn.send(flags="A")  # positive control: the same segment, now that TIME-WAIT is over
    conn.expect(flags="R", seq=conn.rcv_nxt, within="1ms")


@pytest.mark.rfc("9293 3.10.7.4", "9293 MUST-13")
def test_closed_time_wait_acks_a_retransmitted_fin(dut, peer):
    """The peer's FIN again (our last ACK was lost): TIME-WAIT acknowledges it, without a socket."""
    conn, listener, t0 = closed_time_wait(dut, peer)
    dut.net.run(for_="10s")
    conn.send(flags="FA", seq=seq_add(conn.snd_nxt, -1))
    conn.expect(flags="A", ack=conn.snd_nxt, seq=conn.rcv_nxt, within="1ms")
    c = dut.counters()
    assert c.tcp_timewait_entered == 1 and c.tcp_timewait_reused == 0


@pytest.mark.rfc("9293 3.10.7.4", "6191 2", "1122 4.2.2.13")
def test_syn_above_the_old_sequence_reopens_time_wait(dut, peer):
    """A SYN for the 4-tuple in TIME-WAIT whose ISN is above the old connection's is served (RFC 9293
    §3.10.7.4 MAY-2, RFC 1122 §4.2.2.13), with an ISN above everything the old connection sent."""
    conn, listener, t0 = closed_time_wait(dut, peer)
    old_dut_nxt = conn.rcv_nxt
    again = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT, isn=seq_add(conn.snd_nxt, 100000))
    sa = again.connect(within="1ms")
    assert seq_add(sa["TCP"].seq, -old_dut_nxt) < 2**31, "the new ISN is not above the old SND.NXT"
    dut.net.run(for_="1ms")
    assert listener.accept() is not None
    assert dut.counters().tcp_timewait_reused == 1


@pytest.mark.rfc("9293 3.10.7.4", "5961 4.2")
def test_syn_below_the_old_sequence_is_challenged_in_time_wait(dut, peer):
    """A SYN below RCV.NXT (an old duplicate) does not reopen TIME-WAIT: a challenge ACK; the control: the same
    SYN with a higher sequence number is served."""
    conn, listener, t0 = closed_time_wait(dut, peer)
    inject(conn, flags="S", seq=seq_add(conn.snd_nxt, -1000), ack=0)
    conn.expect(flags="A", seq=conn.rcv_nxt, ack=conn.snd_nxt, within="1ms")
    assert dut.counters().tcp_timewait_reused == 0
    again = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT, isn=seq_add(conn.snd_nxt, 1000))
    again.connect(within="1ms")


@pytest.mark.rfc("6191 2", "7323 5")
def test_syn_with_newer_timestamp_reopens_time_wait_despite_lower_isn(dut, peer):
    """With timestamps, RFC 6191 §2: a SYN whose timestamp is greater than the last one seen is honoured even
    with a lower ISN."""
    conn, listener, t0 = closed_time_wait(dut, peer, ts=True)
    assert conn.ts_ok
    dut.net.run(for_="1s")  # the peer's timestamp clock moves on
    again = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT, isn=seq_add(conn.snd_nxt, -5000), ts=True)
    again.connect(within="1ms")
    assert dut.counters().tcp_timewait_reused == 1


@pytest.mark.rfc("6191 2", "7323 5")
def test_syn_with_older_timestamp_does_not_reopen_time_wait(dut, peer):
    """RFC 6191 §2: with timestamps, a SYN whose timestamp is below the last one seen is not honoured, whatever
    its ISN ("Otherwise, silently drop the incoming SYN segment, thus leaving the previous incarnation of the
    connection in the TIME-WAIT state"; Tern answers the RFC 5961 §4.2 challenge ACK); the control: a newer
    timestamp is honoured."""
    conn, listener, t0 = closed_time_wait(dut, peer, ts=True)
    again = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT, isn=seq_add(conn.snd_nxt, 5000), ts=True)
    old_ts = (conn.ts_recent, 0)
    stale = again.segment(flags="S", options=[("Timestamp", (1, 0))])  # TSval 1: long before
    peer.send(stale)
    conn.expect(flags="A", seq=conn.rcv_nxt, within="1ms")
    assert dut.counters().tcp_timewait_reused == 0
    del old_ts
    dut.net.run(for_="1s")
    again.connect(within="1ms")
    assert dut.counters().tcp_timewait_reused == 1
