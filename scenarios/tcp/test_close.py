"""Closing a TCP connection (RFC 9293 §3.6): active, passive and simultaneous
close, half-close in both directions, data queued before the FIN, the FIN
retransmitted, and what the socket reports."""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from pyharness import ANY
from pyharness.errors import NetworkError, StateError
from tcpkit import EXACT, T, active, drain, inject, ns, passive, seq_add, tcp_payload, to_state
from pyharness.tcpconn import tcp_option

pytestmark = pytest.mark.area("tcp")


@pytest.mark.rfc("9293 3.6", "9293 3.10.4")
@pytest.mark.parametrize("opener", ["passive", "active"])
def test_active_close(dut, peer, profile, opener):
    """DUT closes first: FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT, and the last ACK."""
    conn, sock = (passive(dut, peer)[:2] if opener == "passive" else active(dut, peer))
    sock.shutdown("wr")
    fin = conn.expect(flags="FA", seq=conn.rcv_nxt, ack=conn.snd_nxt, payload=b"", within="10ms")
    assert sock.state == "FIN_WAIT_1"
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    assert sock.state == "FIN_WAIT_2"
    conn.send(flags="FA")
    conn.expect(flags="A", seq=seq_add(fin[TCP].seq, 1), ack=conn.snd_nxt, within="10ms")
    assert sock.state == "TIME_WAIT"


@pytest.mark.rfc("9293 3.6", "9293 3.10.7.4")
@pytest.mark.parametrize("opener", ["passive", "active"])
def test_passive_close(dut, peer, opener):
    """Peer closes first: CLOSE-WAIT (recv() reports end of stream), then LAST-ACK -> CLOSED."""
    conn, sock = (passive(dut, peer)[:2] if opener == "passive" else active(dut, peer))
    conn.send(flags="FA")
    conn.expect(flags="A", ack=conn.snd_nxt, within="10ms")
    assert sock.state == "CLOSE_WAIT"
    assert sock.recv() == b""
    sock.send(b"still allowed to send")
    conn.expect_data(b"still allowed to send", within="10ms", ack=True)
    sock.shutdown("wr")
    conn.expect(flags="FA", seq=conn.rcv_nxt, within="10ms")
    assert sock.state == "LAST_ACK"
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    assert sock.state == "CLOSED"
    assert sock.info().error is None
    conn.expect_nothing(for_=dut.profile.rto_max * 2 / 1e9)


@pytest.mark.rfc("9293 3.6", "9293 3.10.7.4")
def test_simultaneous_close(dut, peer):
    """Both FINs cross: FIN-WAIT-1 -> CLOSING -> TIME-WAIT (RFC 9293 figure 13)."""
    conn, sock, _ = passive(dut, peer)
    sock.shutdown("wr")
    fin = conn.expect(flags="FA", within="10ms")
    conn.send(flags="FA", ack=fin[TCP].seq)  # our FIN, sent before theirs arrived
    conn.expect(flags="A", seq=seq_add(fin[TCP].seq, 1), ack=conn.snd_nxt, within="10ms")
    assert sock.state == "CLOSING"
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    assert sock.state == "TIME_WAIT"


@pytest.mark.rfc("9293 3.10.7.4")
def test_fin_with_ack_of_fin_goes_straight_to_time_wait(dut, peer):
    conn, sock, _ = passive(dut, peer)
    sock.shutdown("wr")
    conn.expect(flags="FA", within="10ms")
    conn.send(flags="FA")
    conn.expect(flags="A", ack=conn.snd_nxt, within="10ms")
    assert sock.state == "TIME_WAIT"


@pytest.mark.rfc("9293 3.6", "9293 3.10.4")
def test_half_close_dut_keeps_receiving(dut, peer):
    """After its FIN the DUT still receives and acknowledges data (FIN-WAIT-2 is half-open for reading)."""
    conn, sock, _ = passive(dut, peer)
    sock.shutdown("wr")
    conn.expect(flags="FA", within="10ms")
    conn.send(flags="A")
    for i in range(3):
        conn.send(flags="PA", payload=b"more-%d" % i)
    dut.net.run(for_="1ms")
    assert sock.state == "FIN_WAIT_2"
    conn.expect(flags="A", ack=conn.snd_nxt, within=dut.profile.delack + 1_000_000)
    assert drain(sock) == b"more-0more-1more-2"


@pytest.mark.rfc("9293 3.6", "9293 3.10.7.4")
def test_half_close_peer_keeps_receiving(dut, peer):
    """The peer's FIN ends only its direction: the DUT sends a large reply in CLOSE-WAIT."""
    conn, sock, _ = passive(dut, peer)
    conn.send(flags="FA")
    conn.expect(flags="A", ack=conn.snd_nxt, within="10ms")
    data = bytes(range(256)) * 40
    assert sock.send(data) == len(data)
    conn.expect_data(data, within="10ms", ack=True)
    assert sock.state == "CLOSE_WAIT"


@pytest.mark.rfc("9293 3.10.4", "9293 3.6")
def test_close_sends_queued_data_before_fin(dut, peer):
    conn, sock, _ = passive(dut, peer)
    data = b"z" * 3000
    sock.send(data)
    sock.close()
    got = b""
    while True:
        seg = conn.expect(seq=conn.rcv_nxt, within="10ms")
        got += tcp_payload(seg)
        if "F" in str(seg[TCP].flags):
            break
    assert got == data
    conn.send(flags="A")


@pytest.mark.rfc("9293 3.10.4")
def test_shutdown_write_then_send_fails(dut, peer, profile):
    conn, sock, _ = passive(dut, peer)
    sock.shutdown("wr")
    conn.expect(flags="FA", within="10ms")
    # Tern: BAD_STATE (RFC 9293 §3.10.2 "connection closing"); Linux: EPIPE (NOT_CONNECTED).
    if profile.name == "tern":
        with pytest.raises(StateError, match="not allowed in the current state"):
            sock.send(b"after FIN")
    elif profile.name == "linux":
        with pytest.raises(NetworkError, match="EPIPE"):
            sock.send(b"after FIN")
    else:  # another DUT names the error its own way; it must still refuse the send
        with pytest.raises((StateError, NetworkError)):
            sock.send(b"after FIN")
    conn.expect_nothing(for_="300ms", flags="PA")


@pytest.mark.rfc("9293 3.10.4")
def test_second_shutdown_sends_no_second_fin(dut, peer):
    conn, sock, _ = passive(dut, peer)
    sock.shutdown("wr")
    conn.expect(flags="FA", within="10ms")
    conn.send(flags="A")
    sock.shutdown("wr")  # a second shutdown is no error, and sends nothing
    conn.expect_nothing(for_="2s")


@pytest.mark.rfc("9293 3.10.8", "6298 5")
def test_fin_retransmitted_with_backoff(dut, peer, profile):
    conn, sock, _ = passive(dut, peer)
    sock.shutdown("wr")
    fin = conn.expect(flags="FA", within="10ms")
    rto = sock.info().rto_ns  # RFC 6298: the RTO from the handshake's sample (at least rto_min)
    assert rto >= profile.rto_min
    t0, seq = ns(fin), fin[TCP].seq
    conn.expect(flags="FA", seq=seq, at=T(t0 + rto), tolerance=EXACT)
    conn.expect(flags="FA", seq=seq, at=T(t0 + 3 * rto), tolerance=EXACT)
    conn.expect(flags="FA", seq=seq, at=T(t0 + 7 * rto), tolerance=EXACT)


@pytest.mark.rfc("9293 3.10.7.4")
def test_last_ack_retransmits_fin_until_acknowledged(dut, peer, profile):
    conn, sock = to_state(dut, peer, "LAST_ACK")
    fin_seq = seq_add(conn.rcv_nxt, -1)
    conn.expect(flags="FA", seq=fin_seq, within=profile.rto_initial / 1e9 + 0.01)
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    assert sock.state == "CLOSED"


@pytest.mark.rfc("9293 3.10.7.4")
def test_retransmitted_peer_fin_in_time_wait_is_acked(dut, peer):
    conn, sock = to_state(dut, peer, "TIME_WAIT")
    conn.send(flags="FA", seq=seq_add(conn.snd_nxt, -1))
    conn.expect(flags="A", ack=conn.snd_nxt, within="10ms")
    assert sock.state == "TIME_WAIT"


@pytest.mark.rfc("9293 3.10.7.4")
def test_closing_retransmits_fin(dut, peer, profile):
    conn, sock = to_state(dut, peer, "CLOSING")
    conn.expect(flags="FA", seq=seq_add(conn.rcv_nxt, -1), within=profile.rto_initial / 1e9 + 0.01)


@pytest.mark.rfc("9293 3.10.4", "9293 3.6")
def test_close_in_syn_sent_sends_nothing(dut, peer, peer_ip):
    sock = dut.tcp_connect(peer_ip, 7000)
    conn = peer.tcp(dut, local_port=7000)
    conn.expect(flags="S", within="10ms")
    sock.close()
    conn.expect_nothing(for_="5s")


@pytest.mark.rfc("9293 3.10.4")
def test_close_listener_refuses_new_syns(dut, peer):
    listener = dut.tcp_listen(80)
    listener.close()
    conn = peer.tcp(dut, 80, local_port=40001, isn=1000)
    conn.send(flags="S")
    conn.expect(flags="RA", ack=1001, within="10ms")


@pytest.mark.rfc("9293 3.10.4", "9293 3.6")
def test_close_with_unread_data_sends_rst(dut, peer):
    """Closing with received data unread: RST instead of FIN (RFC 9293 §3.6 SHLD-3, RFC 2525 §2.17)."""
    conn, sock, _ = passive(dut, peer)
    conn.send(flags="PA", payload=b"unread")
    dut.net.run(for_="1ms")
    peer.received()  # an immediate ACK of the data (Linux's quick-ACK mode) is not the answer to close()
    sock.close()
    conn.expect(flags=ANY, seq=conn.rcv_nxt, within="10ms")
    assert "R" in str(conn.last[TCP].flags)


@pytest.mark.rfc("9293 3.5", "9293 3.6", "9293 3.8.6.3")
@pytest.mark.dut("tern", reason="a golden trace is the Tern stack's canonical bytes (ISN, windows, options, timing)")
def test_golden_handshake_transfer_close(dut, peer, link, golden):
    """Golden trace: the canonical flow. Passive open, a request, a 3 kB response, the DUT closes."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1000})
    conn.send(flags="PA", payload=b"GET / HTTP/1.0\r\n\r\n")
    dut.net.run(for_="1ms")
    assert sock.recv() == b"GET / HTTP/1.0\r\n\r\n"
    body = bytes((i * 31) & 0xFF for i in range(3000))
    sock.send(body)
    sock.close()
    got = b""
    while True:
        seg = conn.expect(seq=conn.rcv_nxt, within="1s")
        got += tcp_payload(seg)
        conn.send(flags="A")
        if "F" in str(seg[TCP].flags):
            break
    assert got == body
    conn.send(flags="FA")
    dut.net.run(for_="10ms")
    golden.check(link, mask=("ip.id",))


@pytest.mark.rfc("9293 3.10.7.4", "2018 4")
def test_text_beyond_the_fin_is_ignored(dut, peer, profile):
    """RFC 9293 §3.10.7.4, seventh, in CLOSE-WAIT: "This should not occur since a FIN has been
    received from the remote side. Ignore the segment text." Text queued out of order beyond a
    FIN is no part of the stream: once the FIN is processed no SACK block reports it. (Found by
    fuzz_tcp: the stale out-of-order range stayed at RCV.NXT after the FIN.)"""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1000, "sack": True}, sack=True)
    base = conn.snd_nxt
    inject(conn, flags="PA", seq=seq_add(base, 101), payload=b"x" * 100)  # beyond the FIN to come
    a = conn.expect(flags="A", ack=base, within="10ms")
    assert tcp_option(a, "SAck") is not None  # queued out of order, and reported
    conn.send(flags="FPA", payload=b"a" * 100)  # the stream ends: 100 bytes, FIN at base+100
    # The ACK of the FIN may be delayed (RFC 9293 3.8.6.3): Linux enters its ping-pong mode on a FIN and waits
    # for the application's answer up to its delayed-ACK time; Tern acknowledges at once.
    a = conn.expect(flags="A", ack=seq_add(base, 101), within=f"{profile.delack + 10_000_000}ns")
    assert tcp_option(a, "SAck") is None, f"SACK blocks for text beyond the FIN: {tcp_option(a, 'SAck')}"
    assert drain(sock) == b"a" * 100
    assert sock.recv() == b""  # end of stream, and nothing after it
