"""A connection's segments have the TCP header their moment asks for, steady state or not.

The Tern stack keeps the TCP header of each connection's steady-state segments prebuilt (a header template,
issue 19; stack/src/tcp/tcp_hdr_tmpl.c): ports, data offset and RFC 7323 Appendix A's <NOP><NOP><Timestamps>
layout (or no options), with their checksum's constant part summed once; a data segment or an ACK stores its
sequence and acknowledgment numbers, flags, window and timestamps and finishes the checksum incrementally
(RFC 1624 §3). Any other shape must not come from the template: an ACK with SACK or D-SACK blocks (RFC 2018 §4,
RFC 2883 §4), a segment with the urgent pointer (RFC 9293 §3.8.5), a RST (RFC 9293 §3.10.5). Each scenario sends
a steady-state segment first (the control), then one of the other shape, then the steady state again, and
compares the headers on the wire field by field, their checksums recomputed from the bytes.
"""

from __future__ import annotations

from typing import Any

import pytest
from scapy.layers.inet import TCP
from scapy.layers.l2 import Ether

from tcpkit import drain, inject, ns, passive, seq_add, tcp_option

pytestmark = pytest.mark.area("tcp")

SEG = 100  # bytes per segment the peer sends

#: RFC 2018 §4: "If sent at all, SACK options SHOULD be included in all ACKs which do not ACK the highest sequence
#: number in the data receiver's queue."
RFC2018_4 = ('RFC 2018 §4: "If sent at all, SACK options SHOULD be included in all ACKs which do not ACK the highest '
             'sequence number in the data receiver\'s queue."')


def option_names(pkt: Any) -> list[str]:
    """The kinds of a segment's TCP options, in order ("NOP", "Timestamp", "SAck", ...)."""
    return [o[0] for o in pkt[TCP].options]


def steady_options(ts: bool) -> list[str]:
    """The option list of a steady-state segment: RFC 7323 Appendix A's layout with timestamps, else none."""
    return ["NOP", "NOP", "Timestamp"] if ts else []


def assert_checksum(pkt: Any) -> None:
    """The segment's TCP checksum is the one its bytes call for (RFC 9293 §3.1, pseudo-header included): recomputed
    by scapy from the frame with the field cleared, whatever the IP family."""
    frame = Ether(bytes(pkt))
    sent = frame[TCP].chksum
    del frame[TCP].chksum
    want = Ether(bytes(frame))[TCP].chksum
    assert sent == want, f"TCP checksum {sent:#06x}, the segment's bytes call for {want:#06x}"


def sack_blocks(pkt: Any, base: int) -> list[tuple[int, int]]:
    """A segment's SACK blocks in bytes relative to ``base`` ([] without a SACK option)."""
    opt = tcp_option(pkt, "SAck")
    if not opt:
        return []
    edges = [(int(e) - base) % 2**32 for e in opt]
    return [(edges[i], edges[i + 1]) for i in range(0, len(edges), 2)]


def send_at(conn: Any, base: int, off: int) -> None:
    """The peer sends SEG bytes at ``base + off`` without moving its ``snd_nxt``."""
    inject(conn, flags="PA", seq=seq_add(base, off), payload=bytes([off // SEG & 0xFF]) * SEG)


def sack_conn(dut: Any, peer: Any, ts: bool) -> tuple[Any, Any, int]:
    """A connection with SACK, and timestamps if ``ts``: (conn, DUT socket, the DUT's RCV.NXT)."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1000, "sack": True, "ts": ts}, sack=True, timestamps=ts)
    return conn, sock, conn.snd_nxt


def expect_steady(conn: Any, ts: bool, within: str = "1s", **fields: Any) -> Any:
    """The DUT's next segment with ``fields``, checked to have the steady-state header: data offset and options
    of RFC 7323 Appendix A's layout (or none), no SACK block, no URG, a right checksum."""
    seg = conn.expect(within=within, **fields)
    assert option_names(seg) == steady_options(ts), f"options {seg[TCP].options}"
    assert seg[TCP].dataofs == (8 if ts else 5)
    assert not seg[TCP].flags.U and seg[TCP].urgptr == 0
    assert_checksum(seg)
    return seg


@pytest.mark.rfc("2018 4")
@pytest.mark.parametrize("ts", [False, True], ids=["no-timestamps", "timestamps"])
def test_sack_blocks_come_and_go(dut, peer, ts):
    """An in-order segment draws a plain ACK (the control); one past a hole draws an ACK with the block received
    (RFC 2018 §4); the hole filled, the ACKs are plain again, and so is the DUT's next data segment."""
    conn, sock, base = sack_conn(dut, peer, ts)
    send_at(conn, base, 0)
    expect_steady(conn, ts, flags="A", ack=seq_add(base, SEG))

    send_at(conn, base, 2 * SEG)  # [SEG, 2 * SEG) is missing
    a = conn.expect(flags="A", ack=seq_add(base, SEG), within="10ms")
    assert sack_blocks(a, base) == [(2 * SEG, 3 * SEG)], RFC2018_4
    assert a[TCP].dataofs == (11 if ts else 8)  # NOP NOP SACK(10) after the timestamps' 12 bytes, or alone
    assert_checksum(a)

    send_at(conn, base, SEG)  # the hole filled: the ACK covers everything
    expect_steady(conn, ts, flags="A", ack=seq_add(base, 3 * SEG))
    sock.send(b"reply")
    expect_steady(conn, ts, flags="PA", ack=seq_add(base, 3 * SEG), payload=b"reply")


@pytest.mark.rfc("2883 4")
@pytest.mark.parametrize("ts", [False, True], ids=["no-timestamps", "timestamps"])
def test_dsack_block_then_none(dut, peer, ts):
    """A segment received twice: the ACK of the duplicate carries exactly one D-SACK block for it (RFC 2883 §4:
    "(2) Each duplicate contiguous sequence of data received is reported in at most one D-SACK block"), with
    nothing out of order; the next ACK has none."""
    conn, sock, base = sack_conn(dut, peer, ts)
    send_at(conn, base, 0)
    expect_steady(conn, ts, flags="A", ack=seq_add(base, SEG))
    send_at(conn, base, 0)  # again
    a = conn.expect(flags="A", ack=seq_add(base, SEG), within="10ms")
    assert sack_blocks(a, base) == [(0, SEG)]
    assert_checksum(a)
    send_at(conn, base, SEG)
    expect_steady(conn, ts, flags="A", ack=seq_add(base, 2 * SEG))


@pytest.mark.rfc("9293 3.8.5", "9293 MUST-62")
@pytest.mark.parametrize("ts", [False, True], ids=["no-timestamps", "timestamps"])
def test_urgent_pointer_then_none(dut, peer, ts):
    """Data, urgent data, data: the urgent segment has URG and the pointer to the octet after it (RFC 9293 §3.8.5:
    "The urgent pointer MUST point to the sequence number of the octet following the urgent data (MUST-62)"); the
    segments before and after it (the urgent data acknowledged) have neither."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1000, "ts": ts}, timestamps=ts)
    sock.send(b"before")
    expect_steady(conn, ts, flags="PA", payload=b"before")
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    sock.send(b"URGENT", urgent=True)
    u = conn.expect(flags="PAU", payload=b"URGENT", urgptr=6, within="10ms")
    assert option_names(u) == steady_options(ts)
    assert_checksum(u)
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    sock.send(b"after")
    expect_steady(conn, ts, flags="PA", payload=b"after")


@pytest.mark.rfc("9293 3.10.5")
@pytest.mark.parametrize("ts", [False, True], ids=["no-timestamps", "timestamps"])
def test_rst_after_the_steady_state(dut, peer, ts):
    """After data both ways, ABORT in a synchronized state sends <SEQ=SND.NXT><CTL=RST> (RFC 9293 §3.10.5): RST
    alone, no acknowledgment number, a zero window."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1000, "ts": ts}, timestamps=ts)
    conn.send(flags="PA", payload=b"ping")
    dut.net.run(for_="1ms")
    sock.send(b"pong")
    d = expect_steady(conn, ts, flags="PA", payload=b"pong")
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    sock.abort()
    r = conn.expect(flags="R", seq=seq_add(d[TCP].seq, 4), within="10ms")
    assert r[TCP].ack == 0 and r[TCP].window == 0
    assert_checksum(r)


@pytest.mark.rfc("7323 3.2", "7323 4.3", "7323 2.3")
def test_timestamps_and_window_follow_each_segment(dut, peer):
    """Two data segments 7 ms apart, then the FIN: each TSval is the DUT's timestamp clock when it left (RFC 7323
    §4.3; Tern's ticks once per ms of virtual time), each TSecr the TSval of the peer's latest segment (RFC 7323
    §3.2, TS.Recent echoed), and each window the room the DUT offers, scaled by the shift it announced (RFC 7323
    §2.3): none of these may come from a header built earlier."""
    if not hasattr(dut, "host"):
        pytest.skip("the Tern stack's timestamp clock (1 ms ticks, virtual time) and receive buffer")
    rx = 65536
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1000, "ts": True, "wscale": 7}, timestamps=True,
                            rx_buffer=rx)
    shift = conn.remote_wscale
    assert shift is not None and shift > 0, "the DUT announced no window scale for a 64 KiB buffer"
    # The right edge the SYN-ACK announced (65535: a SYN's window is never scaled, RFC 7323 §2.2) holds while
    # the 2000 bytes wait unread (RFC 9293 §3.8.6.2.2: it moves only by a full step, and never back).
    edge = 65535 - 2000
    conn.send(flags="PA", payload=bytes(1000))
    p1 = conn.send(flags="PA", payload=bytes(1000))
    dut.net.run(for_="1ms")
    sock.send(b"one")
    a = expect_steady(conn, True, flags="PA", payload=b"one")
    tsval1, tsecr1 = tcp_option(a, "Timestamp")
    assert tsecr1 == tcp_option(p1, "Timestamp")[0]
    assert a[TCP].window == edge >> shift
    p2 = conn.send(flags="A")
    dut.net.run(for_="7ms")
    sock.send(b"two")
    b = expect_steady(conn, True, flags="PA", payload=b"two")
    tsval2, tsecr2 = tcp_option(b, "Timestamp")
    assert ns(b) // 1_000_000 - ns(a) // 1_000_000 == 7  # the link takes no time: sent then
    assert (tsval2 - tsval1) % 2**32 == 7
    assert tsecr2 == tcp_option(p2, "Timestamp")[0]
    assert b[TCP].window == edge >> shift
    assert drain(sock) == bytes(2000)  # the room is back (more than an MSS): the FIN announces all of it
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    sock.close()
    f = expect_steady(conn, True, flags="FA")
    assert f[TCP].window == rx >> shift
