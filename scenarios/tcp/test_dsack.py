"""D-SACK: the receiver reports duplicate segments in the first SACK block (RFC 2883 §4).

RFC 2883 §4: "(1) A D-SACK block is only used to report a duplicate contiguous sequence of data received by the
receiver in the most recent packet." "(2) Each duplicate contiguous sequence of data received is reported in at
most one D-SACK block." "(3) The left edge of the D-SACK block specifies the first sequence number of the
duplicate contiguous sequence, and the right edge of the D-SACK block specifies the sequence number immediately
following the last sequence in the duplicate contiguous sequence." "(4) If the D-SACK block reports a duplicate
contiguous sequence from a (possibly larger) block of data in the receiver's data queue above the cumulative
acknowledgement, then the second SACK block in that SACK option should specify that (possibly larger) block of
data."

D-SACK is on by default (as ``net.ipv4.tcp_dsack`` on Linux) and a socket option (``dsack``) turns it off.
"""

from __future__ import annotations

from typing import Any

import pytest

from tcpkit import inject, passive, seq_add, tcp_option

pytestmark = pytest.mark.area("tcp")

SEG = 100


def blocks(ack: Any, base: int) -> list[tuple[int, int]]:
    """The SACK blocks of a segment in bytes relative to ``base`` ([] without a SACK option)."""
    opt = tcp_option(ack, "SAck")
    if not opt:
        return []
    edges = [(int(e) - base) % 2**32 for e in opt]
    return [(edges[i], edges[i + 1]) for i in range(0, len(edges), 2)]


def connect(dut: Any, peer: Any, ts: bool = False, **sockopts: Any) -> tuple[Any, Any, int]:
    """A connection with SACK (and timestamps if ``ts``) whose DUT socket came from a listener with ``sockopts``;
    returns (conn, sock, base) with ``base`` the DUT's RCV.NXT."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1000, "sack": True, "ts": ts}, sack=True, timestamps=ts,
                            **sockopts)
    return conn, sock, conn.snd_nxt


def send_at(conn: Any, base: int, off: int, n: int = SEG) -> None:
    """Send ``n`` bytes at ``base + off`` without moving the peer's ``snd_nxt``."""
    inject(conn, flags="PA", seq=seq_add(base, off), payload=bytes([off // SEG & 0xFF]) * n)


@pytest.mark.rfc("2883 4")
@pytest.mark.parametrize("ts", [False, True], ids=["no-timestamps", "timestamps"])
def test_duplicate_below_rcv_nxt_is_reported_once(dut, peer, ts):
    """A segment received again (its ACK was lost): the ACK it draws has a D-SACK block of exactly that segment,
    below the cumulative ACK; the next ACK has none (D-SACK is on by default, nothing set here)."""
    conn, sock, base = connect(dut, peer, ts=ts)
    send_at(conn, base, 0)
    conn.expect(flags="A", ack=seq_add(base, SEG), within="1s")
    send_at(conn, base, 0)  # again
    a = conn.expect(flags="A", ack=seq_add(base, SEG), within="1ms")
    assert blocks(a, base) == [(0, SEG)]
    # new data, in order: the ACK for it carries no D-SACK any more (RFC 2883 §4 (1), (2))
    send_at(conn, base, SEG)
    send_at(conn, base, 2 * SEG)
    a = conn.expect(flags="A", ack=seq_add(base, 3 * SEG), within="1s")
    assert blocks(a, base) == []
    assert sock.recv() == bytes([0]) * SEG + bytes([1]) * SEG + bytes([2]) * SEG


@pytest.mark.rfc("2883 4")
def test_partly_duplicate_segment_reports_the_old_part(dut, peer):
    """A segment whose first half was received before: the D-SACK block is that half only (RFC 2883 §4 (3))."""
    conn, sock, base = connect(dut, peer)
    send_at(conn, base, 0)
    conn.expect(flags="A", ack=seq_add(base, SEG), within="1s")
    inject(conn, flags="PA", seq=seq_add(base, SEG // 2), payload=bytes(SEG))  # [50, 150)
    a = conn.expect(flags="A", ack=seq_add(base, SEG // 2 + SEG), within="1ms")
    assert blocks(a, base) == [(SEG // 2, SEG)]


@pytest.mark.rfc("2883 4")
@pytest.mark.parametrize("ts", [False, True], ids=["no-timestamps", "timestamps"])
def test_duplicate_of_out_of_order_data_then_its_block(dut, peer, ts):
    """A duplicate of data queued above the cumulative ACK: the D-SACK block first, the (larger) block holding
    it second (RFC 2883 §4 (4)), then the other blocks; the next ACK reports only ordinary SACK blocks."""
    conn, sock, base = connect(dut, peer, ts=ts)
    for off in (SEG, 2 * SEG, 4 * SEG):  # blocks [100, 300) and [400, 500)
        send_at(conn, base, off)
        conn.expect(flags="A", ack=base, within="1ms")
    send_at(conn, base, SEG)  # again
    a = conn.expect(flags="A", ack=base, within="1ms")
    assert blocks(a, base) == [(SEG, 2 * SEG), (SEG, 3 * SEG), (4 * SEG, 5 * SEG)]
    send_at(conn, base, 6 * SEG)
    a = conn.expect(flags="A", ack=base, within="1ms")
    assert blocks(a, base) == [(6 * SEG, 7 * SEG), (SEG, 3 * SEG), (4 * SEG, 5 * SEG)]


@pytest.mark.rfc("2883 4")
@pytest.mark.parametrize("dsack", [True, False], ids=["on", "off"])
def test_dsack_option(dut, peer, dsack):
    """With the socket option off the duplicate draws a plain ACK (no SACK option); on (the positive control
    beside it), the same exchange draws the D-SACK block."""
    conn, sock, base = connect(dut, peer, dsack=dsack)
    send_at(conn, base, 0)
    conn.expect(flags="A", ack=seq_add(base, SEG), within="1s")
    send_at(conn, base, 0)
    a = conn.expect(flags="A", ack=seq_add(base, SEG), within="1ms")
    assert blocks(a, base) == ([(0, SEG)] if dsack else [])
    send_at(conn, base, 2 * SEG)  # out of order
    conn.expect(flags="A", ack=seq_add(base, SEG), within="1ms")
    send_at(conn, base, 2 * SEG)  # a duplicate of it
    a = conn.expect(flags="A", ack=seq_add(base, SEG), within="1ms")
    want = [(2 * SEG, 3 * SEG), (2 * SEG, 3 * SEG)] if dsack else [(2 * SEG, 3 * SEG)]
    assert blocks(a, base) == want


@pytest.mark.rfc("2883 4", "2018 2")
def test_no_dsack_without_sack_permitted(dut, peer):
    """D-SACK blocks are SACK blocks: a peer that did not send SACK-permitted gets none (RFC 2018 §2)."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1000}, sack=True)
    base = conn.snd_nxt
    send_at(conn, base, 0)
    conn.expect(flags="A", ack=seq_add(base, SEG), within="1s")
    send_at(conn, base, 0)
    a = conn.expect(flags="A", ack=seq_add(base, SEG), within="1ms")
    assert tcp_option(a, "SAck") is None


@pytest.mark.rfc("2883 4")
@pytest.mark.dut("tern", reason="the host configuration (tern_tcp_config.dsack) is the Tern stack's; Linux has the "
                 "net.ipv4.tcp_dsack sysctl, which the socket option of test_dsack_option sets")
@pytest.mark.parametrize("dsack", [True, False], ids=["on", "off"])
def test_dsack_host_default(net, dsack, family):
    """The host-wide default (``tcp={"dsack": ...}``) reaches new connections: off, the duplicate draws a plain
    ACK; on (the positive control), a D-SACK block."""
    from pyharness.dut import make_tern_dut

    dut, peer, _ = make_tern_dut(net, tcp={"dsack": dsack}, family=family)
    conn, sock, base = connect(dut, peer)
    send_at(conn, base, 0)
    conn.expect(flags="A", ack=seq_add(base, SEG), within="1s")
    send_at(conn, base, 0)
    a = conn.expect(flags="A", ack=seq_add(base, SEG), within="1ms")
    assert blocks(a, base) == ([(0, SEG)] if dsack else [])
