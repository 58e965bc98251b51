"""The Tern stack's posted read (``tern_tcp_recv_post`` / ``tern_tcp_recv_posted`` / ``tern_tcp_recv_take``,
issue 19), checked over the wire with a scapy peer.

The application lends the stack a buffer; in-order data goes from the arriving segment straight into it while
its checksum is verified, and the bytes count as read on arrival. What these tests show:

- in-order data lands in the posted buffer byte for byte, and the window the DUT advertises is exactly its
  receive buffer's free space (posted space is not counted; bytes in the posted buffer take none);
- a segment longer than the buffer's room fills it, and the rest waits in the receive buffer, read after it;
- bytes the receive buffer held at the post move into the posted buffer first;
- out-of-order data waits in the receive buffer until the hole is filled, then all of it lands in order;
- a corrupted segment counts nothing, and the next good one lands where it would have;
- a FIN makes the buffer final and the end of the stream follows its bytes; a SYN's queued text lands when the
  open completes;
- urgent data is not placed in the posted buffer (RFC 9293 §3.9.1.3), a reset leaves what landed to take,
  shutdown of receiving stops the filling, and a close sends no RST for bytes that landed;
- reads, a second post and bad input are refused with errors that say why.
"""

from __future__ import annotations

from typing import Any

import pytest
from scapy.layers.inet import TCP
from scapy.packet import Raw

from pyharness import ANY
from pyharness.errors import ConfigError, EmptyError, NetworkError, StateError
from tcpkit import passive, seq_add
from test_syn_sent_text import TEXT, crossing_syns

pytestmark = [pytest.mark.area("tcp"),
              pytest.mark.dut("tern", reason="the Tern stack's posted read (tern_tcp_recv_post)")]

#: The DUT's receive buffer: small, so that the window it advertises is unscaled and exactly checkable.
RX = 4096


def pattern(n: int, salt: int = 0) -> bytes:
    """n bytes that differ from position to position (a misplaced byte shows)."""
    return bytes((i * 7 + salt) % 251 for i in range(n))


def corrupted(conn: Any, payload: bytes, at: int) -> Any:
    """The segment ``conn`` would send with ``payload``, its checksum computed, then payload byte ``at`` flipped
    in one bit."""
    seg = conn.segment(flags="PA", payload=payload)
    seg = seg.__class__(bytes(seg))  # the checksum is now a field of the packet, not recomputed
    raw = bytearray(seg[Raw].load)
    raw[at] ^= 0x10
    seg[Raw].load = bytes(raw)
    return seg


def send_acked(conn: Any, payload: bytes, ack: int) -> Any:
    """The peer sends ``payload`` in one segment (PSH, ACK); the DUT acknowledges up to ``ack`` within 300 ms.
    Returns that ACK."""
    conn.send(flags="PA", payload=payload)
    return conn.expect(flags="A", ack=ack, within="300ms")


def setup(dut: Any, peer: Any) -> tuple[Any, Any, int]:
    conn, sock, _ = passive(dut, peer, rx_buffer=RX)
    return conn, sock, conn.snd_nxt


def test_in_order_data_lands_in_the_posted_buffer_and_the_window_is_the_ring(dut, peer):
    """2000 bytes in two segments land in a posted 5000-byte buffer, exact, with nothing in the receive buffer;
    the ACK of them (at once: every second segment) advertises exactly the receive buffer's free space, 4096
    (posted space is not window, and posted bytes take none of it; unread bytes in the receive buffer would
    leave 2096). 1000 more land behind them. The reads the posted buffer stands for are refused while it is
    posted; after the take they work again (positive control)."""
    conn, sock, base = setup(dut, peer)
    buf = bytearray(5000)
    sock.recv_post(buf)
    assert sock.recv_posted() == (0, False)
    data = pattern(3000, 1)
    conn.send(flags="PA", payload=data[:1000])
    conn.send(flags="PA", payload=data[1000:2000])
    ack = conn.expect(flags="A", ack=seq_add(base, 2000), within="10ms")
    assert ack[TCP].window == RX
    assert sock.recv_posted() == (2000, False)
    assert bytes(buf[:2000]) == data[:2000]
    assert sock.readable == 0
    send_acked(conn, data[2000:], seq_add(base, 3000))
    assert sock.recv_posted() == (3000, False)
    assert bytes(buf[:3000]) == data
    with pytest.raises(StateError, match="a buffer is posted"):
        sock.recv()
    with pytest.raises(StateError, match="a buffer is posted"):
        sock.recv_peek()
    with pytest.raises(StateError, match="a buffer is posted"):
        sock.recv_consume(0)
    assert sock.recv_take() == data
    send_acked(conn, b"after", seq_add(base, 3005))
    assert sock.recv() == b"after"


def test_segment_longer_than_the_room_fills_it_and_the_rest_waits_in_the_ring(dut, peer):
    """A posted 1501-byte buffer and 2000 bytes in two segments: the first 1501 land in it (final: full; the
    second segment splits at an odd offset), the last 499 wait in the receive buffer, so the ACK advertises
    exactly 4096 - 499; after the take, recv reads those 499."""
    conn, sock, base = setup(dut, peer)
    buf = bytearray(1501)
    sock.recv_post(buf)
    data = pattern(2000, 2)
    conn.send(flags="PA", payload=data[:1000])
    conn.send(flags="PA", payload=data[1000:])
    ack = conn.expect(flags="A", ack=seq_add(base, 2000), within="10ms")
    assert ack[TCP].window == RX - 499
    assert sock.recv_posted() == (1501, True)
    assert sock.readable == 499
    assert sock.recv_take() == data[:1501]
    assert bytes(buf) == data[:1501]
    assert sock.recv() == data[1501:]


def test_bytes_in_the_ring_move_in_first(dut, peer):
    """1000 bytes arrive before the post (in the receive buffer: readable 1000); the post moves them into the
    buffer at once, and the next 1000 land behind them, in stream order."""
    conn, sock, base = setup(dut, peer)
    data = pattern(2000, 3)
    send_acked(conn, data[:1000], seq_add(base, 1000))
    assert sock.readable == 1000
    buf = bytearray(4000)
    sock.recv_post(buf)
    assert sock.recv_posted() == (1000, False)
    assert sock.readable == 0
    send_acked(conn, data[1000:], seq_add(base, 2000))
    assert sock.recv_posted() == (2000, False)
    assert sock.recv_take() == data


@pytest.mark.rfc("9293 3.10.7.4")
def test_out_of_order_data_lands_when_the_hole_is_filled(dut, peer):
    """With a buffer posted, 1000 bytes beyond a 1000-byte hole: a duplicate ACK at once, and nothing lands
    (the data waits in the receive buffer, out of order). The positive control: the hole filled, both parts are
    acknowledged and land in order, 2000 bytes."""
    conn, sock, base = setup(dut, peer)
    buf = bytearray(4000)
    sock.recv_post(buf)
    first, later = pattern(1000, 4), pattern(1000, 5)
    conn.send(flags="PA", payload=later, seq=seq_add(base, 1000))
    conn.expect(flags="A", ack=base, within="10ms")
    dut.net.run(for_="300ms")
    assert sock.recv_posted() == (0, False)
    conn.send(flags="PA", payload=first, seq=base)
    conn.expect(flags="A", ack=seq_add(base, 2000), within="10ms")
    conn.snd_nxt = seq_add(base, 2000)
    assert sock.recv_posted() == (2000, False)
    assert sock.recv_take() == first + later


@pytest.mark.rfc("9293 3.1", "9293 MUST-3")
@pytest.mark.parametrize("at", [0, 999])
def test_corrupted_segment_counts_nothing_and_the_next_lands(dut, peer, at):
    """500 bytes land; then the next 1000 with one payload bit flipped: no ACK, the filled count stays 500,
    the 500 bytes are intact, the segment is counted bad. The positive control: the same 1000 bytes right are
    acknowledged and land right behind the first 500."""
    conn, sock, base = setup(dut, peer)
    buf = bytearray(4000)
    sock.recv_post(buf)
    head, tail = pattern(500, 6), pattern(1000, 7)
    send_acked(conn, head, seq_add(base, 500))
    bad = dut.counters().tcp_bad_checksum
    peer.send(corrupted(conn, tail, at))
    conn.expect_nothing(for_="500ms")
    assert dut.counters().tcp_bad_checksum == bad + 1
    assert sock.recv_posted() == (500, False)
    assert bytes(buf[:500]) == head
    # the positive control, spelled out: the rigor check reads it from this function's expect() calls
    conn.send(flags="PA", payload=tail)
    conn.expect(flags="A", ack=seq_add(base, 1500), within="300ms")
    assert sock.recv_posted() == (1500, False)
    assert sock.recv_take() == head + tail


@pytest.mark.rfc("9293 3.10.7.4")
def test_fin_makes_the_buffer_final_and_the_stream_ends_after_it(dut, peer):
    """600 bytes land and the buffer is not final (more may come); then 400 bytes with FIN: acknowledged with
    the FIN, the buffer holds 1000 and is final; after the take, recv says end of stream."""
    conn, sock, base = setup(dut, peer)
    buf = bytearray(4000)
    sock.recv_post(buf)
    data = pattern(1000, 8)
    send_acked(conn, data[:600], seq_add(base, 600))
    assert sock.recv_posted() == (600, False)
    conn.send(flags="FPA", payload=data[600:])
    conn.expect(flags="A", ack=seq_add(base, 1001), within="300ms")
    assert sock.recv_posted() == (1000, True)
    assert sock.recv_take() == data
    assert sock.recv() == b""


@pytest.mark.rfc("9293 3.8.5", "9293 3.9.1.3")
def test_urgent_data_waits_in_the_ring(dut, peer):
    """200 normal bytes land; then 100 bytes with URG and the pointer after them: they stay in the receive
    buffer and the buffer is final (urgent and normal octets never share one buffer). After the take, recv
    reads the 100 urgent bytes; posted again, the next normal bytes land in it (positive control)."""
    conn, sock, base = setup(dut, peer)
    buf = bytearray(4000)
    sock.recv_post(buf)
    normal, urgent, more = pattern(200, 9), pattern(100, 10), pattern(300, 11)
    send_acked(conn, normal, seq_add(base, 200))
    conn.send(flags="PAU", payload=urgent, urgptr=100)
    conn.expect(flags="A", ack=seq_add(base, 300), within="300ms")
    assert sock.recv_posted() == (200, True)
    assert sock.readable == 100
    assert sock.recv_take() == normal
    assert sock.recv() == urgent
    buf2 = bytearray(4000)
    sock.recv_post(buf2)
    send_acked(conn, more, seq_add(base, 600))
    assert sock.recv_posted() == (300, False)
    assert sock.recv_take() == more


@pytest.mark.rfc("9293 3.10.7.3", "9293 3.5")
def test_syn_text_lands_when_the_open_completes(dut, peer):
    """A simultaneous open whose crossing SYN carries text (queued until ESTABLISHED): a buffer posted in
    SYN-RECEIVED holds nothing yet; the peer's ACK completes the open and the text lands in it, none left in the
    receive buffer."""
    sock, conn, iss = crossing_syns(dut, peer)
    buf = bytearray(100)
    sock.recv_post(buf)
    assert sock.recv_posted() == (0, False)
    conn.send(flags="A", seq=7001 + len(TEXT), ack=seq_add(iss, 1))
    conn.expect(flags="A", seq=seq_add(iss, 1), ack=7001 + len(TEXT), payload=b"", within="10ms")
    assert sock.state == "ESTABLISHED"
    assert sock.recv_posted() == (len(TEXT), False)
    assert sock.readable == 0
    assert sock.recv_take() == TEXT


@pytest.mark.rfc("9293 3.10.7.4")
def test_reset_leaves_the_landed_bytes_to_take(dut, peer):
    """700 bytes land, then the peer resets: the connection is closed, the buffer final with its 700 bytes,
    and the take gives them back; the next post is refused with the reset."""
    conn, sock, base = setup(dut, peer)
    buf = bytearray(4000)
    sock.recv_post(buf)
    data = pattern(700, 12)
    send_acked(conn, data, seq_add(base, 700))
    conn.send(flags="R", seq=conn.snd_nxt)
    dut.net.run(for_="1ms")
    assert sock.state == "CLOSED"
    assert sock.recv_posted() == (700, True)
    assert sock.recv_take() == data
    with pytest.raises(NetworkError, match="CONN_RESET|reset"):
        sock.recv_post(bytearray(10))


def test_shutdown_of_receiving_stops_the_filling(dut, peer):
    """500 bytes land (positive control); shutdown("rd"): the buffer is final, later data is acknowledged and
    discarded, and the buffer still holds exactly the 500 bytes."""
    conn, sock, base = setup(dut, peer)
    buf = bytearray(4000)
    sock.recv_post(buf)
    data = pattern(500, 13)
    send_acked(conn, data, seq_add(base, 500))
    assert sock.recv_posted() == (500, False)
    sock.shutdown("rd")
    assert sock.recv_posted() == (500, True)
    send_acked(conn, pattern(800, 14), seq_add(base, 1300))
    assert sock.recv_posted() == (500, True)
    assert sock.recv_take() == data


@pytest.mark.rfc("9293 3.6", "9293 3.10.4")
def test_close_sends_no_rst_for_landed_bytes(dut, peer):
    """Bytes that landed in the posted buffer were read: a close with the buffer posted sends FIN, not the RST of
    a close with data unread (RFC 9293 §3.6 SHLD-3). The positive control: the same bytes waiting in the receive
    buffer, unread, make the close send RST."""
    conn, sock, base = setup(dut, peer)
    sock.recv_post(bytearray(4000))
    send_acked(conn, pattern(800, 15), seq_add(base, 800))
    sock.close()
    conn.expect(flags=ANY, seq=conn.rcv_nxt, within="10ms")
    assert str(conn.last[TCP].flags) == "FA"

    conn2, sock2, _ = passive(dut, peer, port=5002, local_port=40002, rx_buffer=RX)
    base2 = conn2.snd_nxt
    send_acked(conn2, pattern(800, 15), seq_add(base2, 800))
    sock2.close()
    conn2.expect(flags=ANY, seq=conn2.rcv_nxt, within="10ms")
    assert "R" in str(conn2.last[TCP].flags)


def test_refusals_say_why(dut, peer):
    """A second post, a take or a query with nothing posted, and bad buffers are refused, each with an error
    that names the problem; a listener cannot take a post."""
    conn, sock, base = setup(dut, peer)
    with pytest.raises(EmptyError, match="no buffer is posted"):
        sock.recv_take()
    with pytest.raises(EmptyError, match="no buffer is posted"):
        sock.recv_posted()
    with pytest.raises(ConfigError, match="bytearray"):
        sock.recv_post(b"immutable")
    with pytest.raises(ConfigError, match="at least 1 byte"):
        sock.recv_post(bytearray())
    with pytest.raises(ConfigError, match="writable"):
        sock.recv_post(memoryview(b"read-only"))
    sock.recv_post(bytearray(100))
    with pytest.raises(StateError, match="posted already"):
        sock.recv_post(bytearray(100))
    assert sock.recv_take() == b""
    listener = dut.tcp_listen(5003)
    with pytest.raises(NetworkError, match="NOT_CONNECTED|not connected"):
        listener.recv_post(bytearray(100))
