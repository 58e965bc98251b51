"""The Tern stack's zero-copy calls (issue 19), checked over the wire.

- Sending from the application's buffer (``tern_tcp_lend``): the segments carrying lent bytes, and every
  retransmission of them, are built from the application's memory, byte-exact and with a right checksum; the
  stack reports a lent buffer done (``tern_tcp_lend_done``) only once a cumulative ACK covers its last byte;
  lent and copied data mix on one connection in call order, across the send ring's wrap point; a full table of
  lent extents, and a close while lent bytes are unacknowledged, are refused with errors that say so, and a
  reset connection gives every lent buffer back.
- Receiving in place (``tern_tcp_recv_peek`` / ``tern_tcp_recv_consume``): a corrupted segment never shows in
  the application's view, and bytes that wrap around the receive buffer's end show as two spans.
"""

from __future__ import annotations

from typing import Any

import pytest
from scapy.layers.inet import TCP

from pyharness.dut import make_tern_dut
from pyharness.errors import ConfigError, ResourceError, StateError
from tcpkit import classic_recovery, passive, seq_add, tcp_payload

pytestmark = [pytest.mark.area("tcp"),
              pytest.mark.dut("tern", reason="the Tern stack's zero-copy socket calls (tern_tcp_lend, "
                                             "tern_tcp_recv_peek)")]


#: The peer's MSS option: segments of 1400 bytes (3000 bytes in three, within the initial window).
PEER = {"mss": 1400}


def pattern(n: int, salt: int = 0) -> bytes:
    """n bytes that differ from position to position (a misplaced byte shows)."""
    return bytes((i * 7 + salt) % 251 for i in range(n))


def checksum_ok(pkt: Any) -> bool:
    """The TCP checksum of a received segment is the one scapy computes over its bytes."""
    ip = pkt[TCP].underlayer
    clone = ip.__class__(bytes(ip))
    sent = clone[TCP].chksum
    del clone[TCP].chksum
    return ip.__class__(bytes(clone))[TCP].chksum == sent


def collect(conn: Any, n: int, within: str = "10ms") -> list:
    """The DUT's next in-order segments up to n payload bytes, not acknowledged."""
    segs, got = [], 0
    while got < n:
        seg = conn.expect(seq=conn.rcv_nxt, within=within)
        got += len(tcp_payload(seg))
        segs.append(seg)
    assert got == n, f"{got} bytes arrived, {n} were queued"
    return segs


def expect_retransmission(conn: Any, seq: int, payload: bytes, within: str = "3s") -> Any:
    """The segment at ``seq`` again, carrying exactly ``payload``, with a right checksum."""
    seg = conn.expect(seq=seq, payload=payload, within=within)
    assert checksum_ok(seg), "the retransmission's checksum does not match its bytes"
    return seg


def test_lent_data_is_retransmitted_byte_exact(dut, peer, profile):
    """3000 lent bytes go out in segments with right checksums; the peer acknowledges the first segment only
    (the second is lost): the retransmission timeout sends the second again, built from the lent buffer,
    byte for byte, and the rest follows; once all is acknowledged the buffer is done."""
    conn, sock, _ = passive(dut, peer, peer_opts=dict(PEER), nodelay=True, **classic_recovery(profile))
    base = conn.rcv_nxt
    data = pattern(3000, 5)
    assert sock.lend(data) == 3000
    segs = collect(conn, 3000)
    assert b"".join(tcp_payload(s) for s in segs) == data
    assert all(checksum_ok(s) for s in segs)
    first = len(tcp_payload(segs[0]))
    second = len(tcp_payload(segs[1]))
    conn.send(flags="A", ack=seq_add(base, first))
    expect_retransmission(conn, seq_add(base, first), data[first:first + second])
    assert sock.lend_done() == first
    conn.send(flags="A", ack=seq_add(base, 3000))
    dut.net.run(for_="1ms")
    assert sock.lend_done() == 3000


def test_lent_bytes_are_read_from_the_application_buffer(dut, peer, profile):
    """Zero-copy means the stack keeps no copy: an application that breaks its promise and changes a lent
    bytearray before the bytes are acknowledged sees its new bytes in the retransmission (with a checksum
    computed over them). The first transmission carried the old bytes: the control."""
    conn, sock, _ = passive(dut, peer, peer_opts=dict(PEER), nodelay=True, **classic_recovery(profile))
    base = conn.rcv_nxt
    buf = bytearray(pattern(1000, 6))
    assert sock.lend(buf) == 1000
    (seg,) = collect(conn, 1000)
    assert tcp_payload(seg) == pattern(1000, 6)
    buf[100:110] = b"0123456789"
    expect_retransmission(conn, base, bytes(buf))


def test_lent_buffer_is_done_only_when_acknowledged(dut, peer):
    """Two lent buffers of 1000 bytes, lent one after the other: nothing is done while nothing is acknowledged;
    an ACK of 999 bytes leaves the first buffer short of its last byte (999 done), one of 1000 finishes it
    and not the second, one of 2000 finishes both. The wire carries both buffers in order."""
    conn, sock, _ = passive(dut, peer, peer_opts=dict(PEER), nodelay=True)
    base = conn.rcv_nxt
    a, b = pattern(1000, 1), pattern(1000, 2)
    assert sock.lend(a) == 1000
    assert sock.lend(b) == 1000
    segs = collect(conn, 2000)
    assert b"".join(tcp_payload(s) for s in segs) == a + b
    dut.net.run(for_="50ms")
    assert sock.lend_done() == 0
    for acked in (999, 1000, 2000):
        conn.send(flags="A", ack=seq_add(base, acked))
        dut.net.run(for_="1ms")
        assert sock.lend_done() == acked


def test_lent_and_copied_data_mix_across_the_ring_wrap(dut, peer, profile):
    """A 4096-byte send buffer that has carried 3000 bytes: 1000 copied bytes, 1500 lent ones and 1200
    copied ones (those wrap around the ring's end) go out in call order; nothing is acknowledged, and the
    timeout's retransmissions, each spanning copied and lent bytes, carry exactly the same bytes."""
    conn, sock, _ = passive(dut, peer, peer_opts=dict(PEER), tx_buffer=4096, nodelay=True,
                           **classic_recovery(profile))
    base = conn.rcv_nxt
    head = pattern(3000, 9)
    assert sock.send(head) == 3000
    conn.expect_data(head, within="10ms", ack=True)
    dut.net.run(for_="1ms")
    r1, lent, r2 = pattern(1000, 10), pattern(1500, 11), pattern(1200, 12)
    assert sock.send(r1) == 1000
    assert sock.lend(lent) == 1500
    assert sock.send(r2) == 1200
    stream = r1 + lent + r2
    segs = collect(conn, len(stream))
    assert b"".join(tcp_payload(s) for s in segs) == stream
    at = 0
    start = seq_add(base, 3000)
    for s in segs:
        n = len(tcp_payload(s))
        expect_retransmission(conn, seq_add(start, at), stream[at:at + n], within="8s")
        at += n
        conn.send(flags="A", ack=seq_add(start, at))
    dut.net.run(for_="1ms")
    assert sock.lend_done() == 1500


def test_lend_refusals_and_release(net, family):
    """A socket with two lent-extent slots: two contiguous lends share one, a third lend after copied data
    takes the second, and a fourth is refused (ResourceError naming lend_extents); a close with lent bytes
    unacknowledged is refused (StateError). The positive controls: once the peer acknowledges everything the
    same lend and the close succeed. Then on a second connection a RST gives every lent buffer back."""
    dut, peer, _ = make_tern_dut(net, family=family, tcp={"lend_extents": 2})
    conn, sock, listener = passive(dut, peer, peer_opts=dict(PEER), nodelay=True)
    whole = bytearray(pattern(2000, 3))
    view = memoryview(whole)
    assert sock.lend(view[:1000]) == 1000
    assert sock.lend(view[1000:]) == 1000  # continues the first buffer: the same extent
    assert sock.send(b"ring") == 4
    assert sock.lend(b"X" * 10) == 10
    with pytest.raises(ResourceError, match="lend_extents"):
        sock.lend(b"Y" * 10)
    with pytest.raises(StateError, match="lent bytes are not yet acknowledged"):
        sock.close()
    conn.expect_data(bytes(whole) + b"ring" + b"X" * 10, within="10ms", ack=True)
    dut.net.run(for_="1ms")
    assert sock.lend_done() == 2010
    assert sock.lend(b"Y" * 10) == 10
    conn.expect_data(b"Y" * 10, within="10ms", ack=True)
    dut.net.run(for_="1ms")
    sock.close()
    conn.expect(flags="FA", within="10ms")

    conn2 = peer.tcp(dut, 80, local_port=40002, **PEER)
    conn2.connect(within="5s")
    dut.net.run(for_="1ms")
    sock2 = listener.accept()
    assert sock2.lend(pattern(500, 4)) == 500
    collect(conn2, 500)
    assert sock2.lend_done() == 0
    conn2.send(flags="R", seq=conn2.snd_nxt)
    dut.net.run(for_="1ms")
    assert sock2.state == "CLOSED"
    assert sock2.lend_done() == 500


def corrupted(conn: Any, payload: bytes, at: int) -> Any:
    """The segment ``conn`` would send with ``payload``, its checksum computed over ``payload``, then payload
    byte ``at`` flipped in one bit."""
    from scapy.packet import Raw

    seg = conn.segment(flags="PA", payload=payload)
    seg = seg.__class__(bytes(seg))
    raw = bytearray(seg[Raw].load)
    raw[at] ^= 0x10
    seg[Raw].load = bytes(raw)
    return seg


@pytest.mark.rfc("9293 3.1", "9293 MUST-3")
def test_receive_in_place_across_the_wrap_and_after_corruption(dut, peer):
    """A 4096-byte receive buffer read in place: 3001 bytes show as one span, and all but the last are
    consumed (a buffer read empty starts again at its first byte, so one byte stays to keep the next
    segment's place); a 1400-byte segment corrupted after the wrap point shows nothing (no span, no ACK);
    the same segment right is acknowledged and shows as two spans, the byte left and 1095 bytes up to the
    buffer's end, and 305 from its start; consuming 501 leaves the rest in place, and consuming more than
    is shown is refused."""
    conn, sock, _ = passive(dut, peer, rx_buffer=4096)
    base = conn.snd_nxt
    head = pattern(3001, 3)
    for i in range(0, 3001, 1000):
        conn.send(flags="PA", payload=head[i:i + 1000])
    conn.expect(flags="A", ack=seq_add(base, 3001), within="300ms")
    assert sock.recv_peek() == [head]
    sock.recv_consume(3000)
    assert sock.recv_peek() == [head[3000:]]
    dut.net.run(for_="300ms")
    peer.received()
    tail = pattern(1400, 4)
    peer.send(corrupted(conn, tail, 1300))
    conn.expect_nothing(for_="500ms")
    assert sock.recv_peek() == [head[3000:]]
    conn.send(flags="PA", payload=tail)
    conn.expect(flags="A", ack=seq_add(base, 4401), within="300ms")
    assert sock.recv_peek() == [head[3000:] + tail[:1095], tail[1095:]]
    sock.recv_consume(501)
    assert sock.recv_peek() == [tail[500:1095], tail[1095:]]
    with pytest.raises(ConfigError, match="901 bytes, but tern_tcp_recv_peek shows 900"):
        sock.recv_consume(901)
    sock.recv_consume(900)
    assert sock.recv_peek() is None
