"""Segment and ACK acceptability (RFC 9293 §3.4, §3.10.7.4; RFC 5961 §5):
the four acceptability cases at each edge of the receive window, the zero
window, SEG.ACK beyond SND.NXT or too old, no ACK bit, bad checksums."""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from pyharness.ipkit import l4_checksum

from tcpkit import drain, fill_window, inject, passive, seq_add, tcp_payload

pytestmark = pytest.mark.area("tcp")


def immediate(dut):
    return dut.profile.delack / 1e9 + 0.01


@pytest.mark.rfc("9293 3.4", "9293 3.10.7.4")
@pytest.mark.parametrize("offset,accepted", [(-1, False), (0, True), ("wnd-1", True), ("wnd", False),
                                             ("wnd+1000", False), (-70000, False)])
def test_one_byte_segment_at_window_edges(dut, peer, offset, accepted, profile):
    """A 1-byte segment is acceptable iff RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND. Unacceptable: an ACK
    <SEQ=SND.NXT><ACK=RCV.NXT> and nothing delivered. In-window but beyond RCV.NXT: kept (it counts once
    the hole is filled)."""
    conn, sock, _ = passive(dut, peer, rx_buffer=4096)
    wnd = sock.info().rcv_wnd
    if profile.rx_buffer_is_window:
        assert wnd == 4096
    else:  # the buffer also pays for overhead: a smaller window, whatever the DUT offered
        assert 0 < wnd <= 4096
    off = {"wnd-1": wnd - 1, "wnd": wnd, "wnd+1000": wnd + 1000}.get(offset, offset)
    base = conn.snd_nxt
    inject(conn, flags="PA", seq=seq_add(base, off), payload=b"Z")
    if off == 0:
        conn.snd_nxt = seq_add(base, 1)
        conn.expect(flags="A", ack=seq_add(base, 1), within=immediate(dut))
        assert drain(sock) == b"Z"
        return
    # Out of order or unacceptable: an immediate ACK of RCV.NXT either way (RFC 5681 §4.2 for the first).
    conn.expect(flags="A", ack=base, within="10ms")
    assert drain(sock) == b""
    if off > 0 and accepted:
        filler = bytes([0x41 + i % 26 for i in range(off)])
        for i in range(0, off, 1000):
            conn.send(flags="PA", payload=filler[i:i + 1000], seq=seq_add(base, i))
        conn.expect(flags="A", ack=seq_add(base, off + 1), within=immediate(dut))
        conn.snd_nxt = seq_add(base, off + 1)
        assert drain(sock) == filler + b"Z"


@pytest.mark.rfc("9293 3.4", "9293 3.10.7.4")
def test_old_duplicate_data_is_acked_not_redelivered(dut, peer):
    conn, sock, _ = passive(dut, peer)
    seg = conn.send(flags="PA", payload=b"once")
    dut.net.run(for_="1ms")
    assert drain(sock) == b"once"
    inject(conn, flags="PA", seq=seg[TCP].seq, payload=b"once")
    conn.expect(flags="A", ack=conn.snd_nxt, within="10ms")
    assert drain(sock) == b""


@pytest.mark.rfc("9293 3.4", "9293 3.10.7.4")
def test_segment_overlapping_left_edge_is_trimmed(dut, peer):
    conn, sock, _ = passive(dut, peer)
    conn.send(flags="PA", payload=b"abcdef")
    dut.net.run(for_="1ms")
    inject(conn, flags="PA", seq=seq_add(conn.snd_nxt, -3), payload=b"defGHI")
    conn.snd_nxt = seq_add(conn.snd_nxt, 3)
    conn.expect(flags="A", ack=conn.snd_nxt, within=immediate(dut))
    assert drain(sock) == b"abcdefGHI"


@pytest.mark.rfc("9293 3.4", "9293 3.8.6.1", "9293 MUST-66")
def test_zero_window_accepts_ack_and_rst_but_not_data(dut, peer, profile):
    """RCV.WND = 0: data is not acceptable (ACK sent, nothing queued); an ACK at RCV.NXT still is,
    and so is a RST at RCV.NXT."""
    conn, sock, _ = passive(dut, peer, rx_buffer=4096)
    filled, zero = fill_window(conn, within=immediate(dut))  # Tern: the 4096 asked for, one segment
    if profile.rx_buffer_is_window:
        assert filled == 4096
    assert zero[TCP].window == 0 and sock.info().rcv_wnd == 0
    inject(conn, flags="PA", payload=b"X")
    conn.expect(flags="A", ack=conn.snd_nxt, window=0, within="10ms")
    assert sock.readable == filled
    sock.send(b"reply")
    conn.expect(flags="PA", payload=b"reply", within="10ms")
    conn.send(flags="A")  # zero-length ACK at RCV.NXT: processed (acknowledges the reply)
    dut.net.run(for_="1ms")
    assert sock.info().snd_una == sock.info().snd_nxt
    conn.reset()
    dut.net.run(for_="1ms")
    assert sock.info().state == "CLOSED"


@pytest.mark.rfc("9293 3.10.7.4", "5961 5.2")
def test_ack_beyond_snd_nxt_is_answered_and_dropped(dut, peer):
    """SEG.ACK > SND.NXT: send an ACK, drop the segment (its data is not delivered)."""
    conn, sock, _ = passive(dut, peer)
    snd_nxt = sock.info().snd_nxt
    inject(conn, flags="PA", payload=b"bogus", ack=seq_add(snd_nxt, 1000))
    conn.expect(flags="A", seq=snd_nxt, ack=conn.snd_nxt, within="10ms")
    dut.net.run(for_="1ms")
    assert drain(sock) == b""
    assert sock.info().snd_una == snd_nxt


@pytest.mark.rfc("5961 5.2", "9293 3.10.7.4")
def test_ack_too_old_gets_challenge_ack_and_is_dropped(dut, peer):
    """SEG.ACK < SND.UNA - MAX.SND.WND: challenge ACK, the segment is discarded (RFC 5961 §5.2)."""
    conn, sock, _ = passive(dut, peer)
    snd_una = sock.info().snd_una
    inject(conn, flags="PA", payload=b"blind", ack=seq_add(snd_una, -200000))
    conn.expect(flags="A", seq=sock.info().snd_nxt, ack=conn.snd_nxt, within="10ms")
    dut.net.run(for_="1ms")
    assert drain(sock) == b""


@pytest.mark.rfc("5961 5.2", "9293 3.10.7.4")
def test_old_but_acceptable_ack_carries_data(dut, peer):
    """SND.UNA - MAX.SND.WND =< SEG.ACK < SND.UNA: a duplicate ACK, acceptable; its data is delivered."""
    conn, sock, _ = passive(dut, peer)
    sock.send(b"r" * 1000)
    conn.expect_data(b"r" * 1000, within="10ms", ack=True)
    snd_una = sock.info().snd_una
    conn.send(flags="PA", payload=b"late-ack", ack=seq_add(snd_una, -500))
    conn.expect(flags="A", ack=conn.snd_nxt, within=immediate(dut))
    assert drain(sock) == b"late-ack"


@pytest.mark.rfc("9293 3.10.7.4")
def test_segment_without_ack_bit_is_dropped(dut, peer):
    conn, sock, _ = passive(dut, peer)
    inject(conn, flags="P", payload=b"no-ack", ack=0)
    dut.net.run(for_=immediate(dut))
    assert drain(sock) == b""
    conn.expect_nothing(for_="300ms", flags="A")
    # positive control: the same segment with the ACK bit is taken and acknowledged
    conn.send(flags="PA", payload=b"no-ack")
    conn.expect(flags="A", ack=conn.snd_nxt, within=immediate(dut))
    assert drain(sock) == b"no-ack"


@pytest.mark.rfc("9293 3.1", "9293 MUST-3")
def test_bad_checksum_is_dropped_silently(dut, peer):
    conn, sock, _ = passive(dut, peer)
    seg = conn.segment(flags="PA", payload=b"corrupt")
    seg[TCP].chksum = 0x1234
    peer.send(seg)
    conn.expect_nothing(for_="500ms")
    assert drain(sock) == b""
    conn.send(flags="PA", payload=b"good")  # same sequence number, now valid
    conn.expect(flags="A", ack=conn.snd_nxt, within=immediate(dut))  # and acknowledged
    assert drain(sock) == b"good"


@pytest.mark.rfc("9293 3.1", "9293 MUST-2")
def test_dut_segments_have_valid_checksums(dut, peer):
    conn, sock, _ = passive(dut, peer)
    sock.send(bytes(range(256)) * 3 + b"odd")
    seg = conn.expect(seq=conn.rcv_nxt, within="10ms")
    assert len(tcp_payload(seg)) > 0
    assert seg[TCP].chksum == l4_checksum(seg, TCP)  # over the family's pseudo-header


@pytest.mark.rfc("9293 3.10.7.4")
def test_fin_beyond_window_is_not_processed(dut, peer):
    conn, sock, _ = passive(dut, peer)
    inject(conn, flags="FA", seq=seq_add(conn.snd_nxt, 100000))
    conn.expect(flags="A", ack=conn.snd_nxt, within="10ms")
    assert sock.state == "ESTABLISHED"


@pytest.mark.rfc("9293 3.10.7.4")
def test_out_of_order_fin_waits_for_the_data_before_it(dut, peer):
    conn, sock, _ = passive(dut, peer)
    base = conn.snd_nxt
    inject(conn, flags="FA", seq=seq_add(base, 5), payload=b"")
    conn.expect(flags="A", ack=base, within="10ms")
    dut.net.run(for_="1ms")
    assert sock.state == "ESTABLISHED"
    conn.send(flags="PA", payload=b"12345")
    conn.snd_nxt = seq_add(base, 5)
    seg = conn.expect(flags="A", within=immediate(dut))
    if seg[TCP].ack == seq_add(base, 5):  # the FIN was not kept: send it again
        conn.send(flags="FA")
        conn.expect(flags="A", ack=conn.snd_nxt, within="10ms")
    dut.net.run(for_="1ms")
    assert drain(sock) == b"12345" and sock.state == "CLOSE_WAIT"
