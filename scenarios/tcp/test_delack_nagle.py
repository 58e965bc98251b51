"""Delayed ACK (RFC 9293 §3.8.6.3, RFC 1122 §4.2.3.2, RFC 5681 §4.2) and the
Nagle algorithm with its no-delay option (RFC 9293 §3.7.4)."""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from tcpkit import EXACT, T, inject, ns, passive, seq_add, tcp_payload

pytestmark = pytest.mark.area("tcp")

MSS = 1000


@pytest.mark.rfc("9293 3.8.6.3", "9293 MUST-40", "1122 4.2.3.2")
def test_single_segment_acked_after_delack_timer(dut, peer, profile):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS})
    # A DUT that starts in quick-ACK mode (Linux) ACKs its first segments at once; then delays.
    for _ in range(profile.quickacks):
        conn.send(flags="PA", payload=b"q")
        conn.expect(flags="A", ack=conn.snd_nxt, within="10ms")
    conn.send(flags="PA", payload=b"one")
    t0 = dut.net.now_ns
    conn.expect(flags="A", ack=conn.snd_nxt, at=T(t0 + profile.delack), tolerance=EXACT)
    assert profile.delack < 500_000_000


@pytest.mark.rfc("9293 3.8.6.3", "1122 4.2.3.2")
@pytest.mark.parametrize("delack_ms", [40, 100, 200])
def test_delack_option(dut, peer, delack_ms):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS}, delack=f"{delack_ms}ms")
    conn.send(flags="PA", payload=b"one")
    t0 = dut.net.now_ns
    conn.expect(flags="A", ack=conn.snd_nxt, at=T(t0 + delack_ms * 1_000_000), tolerance=EXACT)


@pytest.mark.rfc("9293 3.8.6.3", "5681 4.2", "9293 SHLD-19")
def test_ack_every_second_full_segment(dut, peer):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS})
    conn.send(flags="A", payload=bytes(MSS))
    conn.expect_nothing(for_="10ms", flags="A")
    conn.send(flags="A", payload=bytes(MSS))
    conn.expect(flags="A", ack=conn.snd_nxt, within="1ms")


@pytest.mark.rfc("5681 4.2", "9293 3.8.6.3")
def test_out_of_order_segment_acked_immediately(dut, peer):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS})
    inject(conn, flags="PA", seq=seq_add(conn.snd_nxt, 100), payload=b"later")
    conn.expect(flags="A", ack=conn.snd_nxt, within="1ms")


@pytest.mark.rfc("5681 4.2")
def test_segment_filling_a_hole_acked_immediately(dut, peer):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS})
    base = conn.snd_nxt
    inject(conn, flags="PA", seq=seq_add(base, 10), payload=b"x" * 10)
    conn.expect(flags="A", ack=base, within="1ms")
    conn.send(flags="PA", payload=b"y" * 10)
    conn.expect(flags="A", ack=seq_add(base, 20), within="1ms")


@pytest.mark.rfc("9293 3.8.6.3", "1122 4.2.3.2")
def test_ack_piggybacked_on_reply_data(dut, peer, profile):
    """Data to send before the delayed-ACK timer: the ACK rides on it, no separate pure ACK."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS})
    conn.send(flags="PA", payload=b"request")
    dut.net.run(for_="10ms")
    assert sock.recv() == b"request"
    sock.send(b"response")
    conn.expect(flags="PA", ack=conn.snd_nxt, payload=b"response", within="1ms")
    conn.expect_nothing(for_=profile.delack / 1e9 + 0.05, flags="A")


@pytest.mark.rfc("9293 3.7.4", "9293 SHLD-7", "1122 4.2.3.4")
def test_nagle_holds_small_segment_while_data_unacked(dut, peer):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS})
    sock.send(b"first")
    conn.expect(flags="PA", payload=b"first", within="1ms")
    sock.send(b"second")
    conn.expect_nothing(for_="100ms", flags="PA")
    conn.send(flags="A")
    conn.expect(flags="PA", payload=b"second", within="1ms")


@pytest.mark.rfc("9293 3.7.4", "1122 4.2.3.4")
def test_nagle_coalesces_small_writes(dut, peer):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS})
    sock.send(b"a")
    conn.expect(flags="PA", payload=b"a", within="1ms")
    for ch in b"bcdefgh":
        sock.send(bytes([ch]))
    dut.net.run(for_="50ms")
    conn.send(flags="A")
    conn.expect(flags="PA", payload=b"bcdefgh", within="1ms")


@pytest.mark.rfc("9293 3.7.4", "1122 4.2.3.4")
def test_nagle_sends_full_segments_at_once(dut, peer):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS})
    sock.send(b"a")
    conn.expect(flags="PA", payload=b"a", within="1ms")
    sock.send(bytes(2 * MSS + 10))
    segs = [conn.expect(seq=conn.rcv_nxt, within="1ms") for _ in range(2)]
    assert [len(tcp_payload(s)) for s in segs] == [MSS, MSS]
    conn.expect_nothing(for_="50ms", flags="PA")


@pytest.mark.rfc("9293 3.7.4", "9293 MUST-17")
def test_nodelay_sends_small_segments_immediately(dut, peer):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS}, nodelay=True)
    for i in range(4):
        sock.send(b"w%d" % i)
        conn.expect(payload=b"w%d" % i, within="1ms")


@pytest.mark.rfc("9293 3.7.4", "9293 MUST-17")
def test_nodelay_can_be_set_on_established_connection(dut, peer):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS})
    sock.send(b"first")
    conn.expect(payload=b"first", within="1ms")
    sock.set_option("nodelay", True)
    sock.send(b"second")
    conn.expect(payload=b"second", within="1ms")


@pytest.mark.rfc("9293 3.9.1.2", "9293 MUST-61")
def test_last_segment_of_a_send_has_psh(dut, peer):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS}, nodelay=True)
    sock.send(bytes(2500))
    segs = [conn.expect(seq=conn.rcv_nxt, within="1ms") for _ in range(3)]
    assert "P" in str(segs[-1][TCP].flags)
