"""A receiver that verifies the TCP checksum while it copies the payload into its receive buffer (copy and
checksum in one pass, issue 19) must still drop a corrupted segment without a trace (RFC 9293 §3.1, MUST-3):
nothing of it is delivered or acknowledged, the data queued out of order beside it is intact, and a segment
whose bytes wrap around the end of the receive buffer is verified and delivered whole, at any split."""

from __future__ import annotations

from typing import Any, Optional

import pytest
from scapy.layers.inet import TCP
from scapy.packet import Raw

from tcpkit import drain, inject, passive, seq_add

pytestmark = pytest.mark.area("tcp")


def immediate(dut: Any) -> float:
    """Long enough for an ACK the DUT sends at once, shorter than its delayed-ACK timer."""
    return dut.profile.delack / 1e9 + 0.01


def pattern(n: int, salt: int = 0) -> bytes:
    """n bytes that differ from position to position (a misplaced byte shows)."""
    return bytes((i * 7 + salt) % 251 for i in range(n))


def corrupted(conn: Any, payload: bytes, at: int, seq: Optional[int] = None) -> Any:
    """The segment ``conn`` would send with ``payload``, its checksum computed over ``payload``, and then the
    payload byte ``at`` flipped in one bit: the corruption of a link that the checksum exists to catch."""
    seg = conn.segment(flags="PA", payload=payload, seq=seq)
    seg = seg.__class__(bytes(seg))  # the checksum is now a field of the packet, not recomputed
    raw = bytearray(seg[Raw].load)
    raw[at] ^= 0x10
    seg[Raw].load = bytes(raw)
    return seg


# One header bit flipped per case: a field whose flip leaves the segment the next in order (window, ACK, the FIN
# flag: the receiver copies its payload into the buffer while it verifies it), and one whose flip does not
# (the sequence number: the receiver checks the checksum on its own path).
HEADER_FLIPS = {"window": ("window", 0x0400), "ack": ("ack", 0x00010000), "fin": ("flags", 0x01),
                "seq": ("seq", 0x00000800)}


def header_corrupted(conn: Any, payload: bytes, field: str) -> Any:
    """The segment ``conn`` would send with ``payload``, its checksum computed, and then one bit of its TCP header
    flipped (``field``, a key of HEADER_FLIPS)."""
    name, bit = HEADER_FLIPS[field]
    seg = conn.segment(flags="PA", payload=payload)
    seg = seg.__class__(bytes(seg))  # the checksum is now a field of the packet, not recomputed
    setattr(seg[TCP], name, int(getattr(seg[TCP], name)) ^ bit)
    return seg


def bad_checksums(dut: Any, profile: Any) -> Optional[int]:
    """The Tern stack's count of segments dropped for their checksum (None for another DUT)."""
    return dut.counters().tcp_bad_checksum if profile.name == "tern" else None


@pytest.mark.rfc("9293 3.1", "9293 MUST-3")
@pytest.mark.parametrize("at", [0, 501, 999])
def test_corrupted_payload_byte_is_dropped_and_leaves_no_trace(dut, peer, profile, at):
    """The next in-order segment with one payload byte corrupted: no ACK, nothing delivered, counted. The
    positive control: the right bytes at the same sequence number, in two shorter segments, are acknowledged at
    once and delivered exactly (a corrupted byte committed to the buffer would show in them)."""
    conn, sock, _ = passive(dut, peer)
    base = conn.snd_nxt
    good = pattern(1000)
    before = bad_checksums(dut, profile)
    peer.send(corrupted(conn, good, at))
    conn.expect_nothing(for_="500ms")
    assert drain(sock) == b""
    if before is not None:
        assert bad_checksums(dut, profile) == before + 1
    conn.send(flags="PA", payload=good[:600])
    conn.send(flags="PA", payload=good[600:])
    conn.expect(flags="A", ack=seq_add(base, 1000), within=immediate(dut))
    assert drain(sock) == good


@pytest.mark.rfc("9293 3.1", "9293 MUST-3")
@pytest.mark.parametrize("field", sorted(HEADER_FLIPS))
def test_corrupted_header_bit_is_dropped_and_leaves_no_trace(dut, peer, profile, field):
    """The next in-order segment with one bit of its TCP header flipped after the checksum was computed (the
    checksum covers the header as well as the text): no ACK, nothing delivered, counted. The positive control:
    the same segment unflipped is acknowledged at once and delivered exactly."""
    conn, sock, _ = passive(dut, peer)
    base = conn.snd_nxt
    good = pattern(1000, 5)
    before = bad_checksums(dut, profile)
    peer.send(header_corrupted(conn, good, field))
    conn.expect_nothing(for_="500ms")
    assert drain(sock) == b""
    if before is not None:
        assert bad_checksums(dut, profile) == before + 1
    conn.send(flags="PA", payload=good)
    conn.expect(flags="A", ack=seq_add(base, 1000), within=immediate(dut))
    assert drain(sock) == good


@pytest.mark.rfc("9293 3.1", "9293 MUST-3", "9293 3.10.7.4")
def test_corrupted_segment_does_not_overwrite_data_queued_out_of_order(dut, peer, profile):
    """Data beyond a hole is kept in the receive buffer; a corrupted segment that fills the hole and overlaps
    the kept data with other bytes must not touch them: once the hole is filled by a good segment, the kept
    bytes are delivered as they were sent."""
    conn, sock, _ = passive(dut, peer)
    base = conn.snd_nxt
    first, later = pattern(1000, 1), pattern(1000, 2)
    inject(conn, flags="PA", seq=seq_add(base, 1000), payload=later)
    conn.expect(flags="A", ack=base, within="10ms")  # out of order: a duplicate ACK at once
    before = bad_checksums(dut, profile)
    peer.send(corrupted(conn, first + bytes(1000), 10))
    conn.expect_nothing(for_="500ms")
    if before is not None:
        assert bad_checksums(dut, profile) == before + 1
    conn.send(flags="PA", payload=first)  # positive control: the hole filled, both parts acknowledged
    conn.expect(flags="A", ack=seq_add(base, 2000), within="10ms")
    conn.snd_nxt = seq_add(base, 2000)
    assert drain(sock) == first + later


@pytest.mark.rfc("9293 3.1", "9293 MUST-3")
@pytest.mark.parametrize("lead", [3001, 3000])
def test_segment_across_the_buffer_wrap_is_verified_and_delivered(dut, peer, profile, lead):
    """A 4096-byte receive buffer that has carried ``lead`` bytes (read by the application): the next 1400-byte
    segment wraps around its end, at an odd split (3001) or an even one (3000). Corrupted after the wrap
    point, or with a header bit flipped, it is dropped and counted; sent right, it is acknowledged and
    delivered byte for byte."""
    conn, sock, _ = passive(dut, peer, rx_buffer=4096)
    base = conn.snd_nxt
    head = pattern(lead, 3)
    for i in range(0, lead, 1000):
        conn.send(flags="PA", payload=head[i:i + 1000])
    conn.expect(flags="A", ack=seq_add(base, lead), within=immediate(dut))
    assert drain(sock) == head
    dut.net.run(for_="300ms")  # the window update the read may send, and any delayed ACK
    peer.received()
    tail = pattern(1400, 4)
    before = bad_checksums(dut, profile)
    peer.send(corrupted(conn, tail, 1300))  # beyond the wrap point (4096 - lead < 1100)
    conn.expect_nothing(for_="500ms")
    assert drain(sock) == b""
    if before is not None:
        assert bad_checksums(dut, profile) == before + 1
    peer.send(header_corrupted(conn, tail, "window"))  # its payload right, a header bit flipped
    conn.expect_nothing(for_="500ms")
    assert drain(sock) == b""
    if before is not None:
        assert bad_checksums(dut, profile) == before + 2
    conn.send(flags="PA", payload=tail)
    conn.expect(flags="A", ack=seq_add(base, lead + 1400), within=immediate(dut))
    assert drain(sock) == tail


@pytest.mark.rfc("9293 3.1", "9293 MUST-3", "5961 3.2")
def test_rst_with_bad_checksum_is_dropped(dut, peer, profile):
    """Segments that carry no data take the receiver's other path, where the checksum is checked on its own: a
    RST at exactly RCV.NXT with a wrong checksum is dropped (counted, the connection stays and acknowledges the
    data that follows). The positive control: the same RST with its checksum right resets the connection."""
    conn, sock, _ = passive(dut, peer)
    before = bad_checksums(dut, profile)
    peer.send(conn.segment(flags="R", seq=conn.snd_nxt, chksum=0x1234))
    conn.expect_nothing(for_="500ms")
    assert sock.state == "ESTABLISHED"
    if before is not None:
        assert bad_checksums(dut, profile) == before + 1
    conn.send(flags="PA", payload=b"alive")  # the connection still answers: its data is acknowledged
    conn.expect(flags="A", ack=conn.snd_nxt, within=immediate(dut))
    assert drain(sock) == b"alive"
    peer.send(conn.segment(flags="R", seq=conn.snd_nxt))
    dut.net.run(for_="1ms")
    assert sock.state == "CLOSED"
