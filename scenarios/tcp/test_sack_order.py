"""The order of the SACK blocks a data receiver sends (RFC 2018 §4).

RFC 2018 §4: "The first SACK block (i.e., the one immediately following the kind and length fields in the
option) MUST specify the contiguous block of data containing the segment which triggered this ACK, unless that
segment advanced the Acknowledgment Number field in the header." and "The SACK option SHOULD be filled out by
repeating the most recently reported SACK blocks (based on first SACK blocks in previous SACK options) that are
not subsets of a SACK block already included in the SACK option being constructed. This assures that in normal
operation, any segment remaining part of a non-contiguous block of data held by the data receiver is reported in
at least three successive SACK options".

The peer opens six holes and fills them out of order; every ACK's SACK blocks are compared exactly. Without
timestamps four blocks fit in the option space, with them three (10 bytes of TSopt leave room for 2 + 3 x 8).
"""

from __future__ import annotations

from typing import Any

import pytest

from pyharness.dut import linux_deviation
from tcpkit import inject, passive, seq_add, tcp_option

pytestmark = pytest.mark.area("tcp")

#: Linux (tcp_sack_new_ofo_skb) keeps a list of at most 4 SACK blocks and reports that list, not its out-of-order
#: queue: beyond four holes a block can be reported smaller than the contiguous data that holds the triggering
#: segment, and older blocks are left out although the option has room for them.
LINUX_FOUR_BLOCKS = ('RFC 2018 §4: "The first SACK block ... MUST specify the contiguous block of data containing '
                     'the segment which triggered this ACK" and "The data receiver SHOULD include as many distinct '
                     'SACK blocks as possible in the SACK option"; Linux remembers 4 blocks and reports those only')

SEG = 100  # bytes per segment; segment k holds [k * SEG, (k + 1) * SEG) past the connection's RCV.NXT

# (segment sent, the SACK blocks of the ACK it draws, in segment units [left, right), first block first).
# Blocks after the recently reported ones are the remaining ones in sequence order (RFC 2018 §4: "After the
# first SACK block, the following SACK blocks in the SACK option may be listed in arbitrary order").
SIX_HOLES = [
    (1, [(1, 2)]),
    (3, [(3, 4), (1, 2)]),
    (5, [(5, 6), (3, 4), (1, 2)]),
    (7, [(7, 8), (5, 6), (3, 4), (1, 2)]),
    (9, [(9, 10), (7, 8), (5, 6), (3, 4)]),  # six holes now: 1 is not among the four most recent
    (11, [(11, 12), (9, 10), (7, 8), (5, 6)]),
    # the holes filled out of order: the merged block goes first, the most recent others follow
    (6, [(5, 8), (11, 12), (9, 10), (1, 2)]),
    (2, [(1, 4), (5, 8), (11, 12), (9, 10)]),
    (10, [(9, 12), (1, 4), (5, 8)]),
    (4, [(1, 8), (9, 12)]),
    (8, [(1, 12)]),
]


def blocks(ack: Any, base: int) -> list[tuple[int, int]]:
    """The SACK blocks of a segment in segment units relative to ``base`` ([] without a SACK option)."""
    opt = tcp_option(ack, "SAck")
    if not opt:
        return []
    edges = [(int(e) - base) % 2**32 for e in opt]
    assert all(e % SEG == 0 for e in edges), f"SACK edges {edges} are not segment boundaries"
    return [(edges[i] // SEG, edges[i + 1] // SEG) for i in range(0, len(edges), 2)]


@pytest.mark.rfc("2018 4")
@linux_deviation(LINUX_FOUR_BLOCKS)
@pytest.mark.parametrize("ts,room", [(False, 4), (True, 3)], ids=["no-timestamps", "timestamps"])
def test_six_holes_filled_out_of_order(dut, peer, ts, room):
    """Each ACK: first the block holding the segment that triggered it, then the most recently reported
    blocks; with six holes the later blocks keep being reported (the earlier stack repeated the lowest)."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1000, "sack": True, "ts": ts}, sack=True,
                            timestamps=ts)
    base = conn.snd_nxt
    for k, want in SIX_HOLES:
        inject(conn, flags="PA", seq=seq_add(base, k * SEG), payload=bytes([k]) * SEG)
        a = conn.expect(flags="A", ack=base, within="10ms")
        assert blocks(a, base) == want[:room], f"after segment {k}: SACK blocks {blocks(a, base)}, want {want[:room]}"
    # the last hole: RCV.NXT passes everything, no block is left to report
    inject(conn, flags="PA", seq=base, payload=bytes([0]) * SEG)
    a = conn.expect(flags="A", ack=seq_add(base, 12 * SEG), within="10ms")
    assert blocks(a, base) == []
    assert sock.recv() == b"".join(bytes([k]) * SEG for k in range(12))


@pytest.mark.rfc("2018 4")
@linux_deviation(LINUX_FOUR_BLOCKS)
def test_a_segment_inside_an_old_block_puts_that_block_first(dut, peer):
    """A segment landing in (or next to) an older block makes that block the first one again (RFC 2018 §4:
    "the contiguous block of data containing the segment which triggered this ACK"). D-SACK is off here so
    that the repeated segment is reported only as SACKed data."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1000, "sack": True}, sack=True, dsack=False)
    base = conn.snd_nxt
    for k in (1, 3, 5, 7, 9):
        inject(conn, flags="PA", seq=seq_add(base, k * SEG), payload=bytes([k]) * SEG)
        conn.expect(flags="A", ack=base, within="10ms")
    inject(conn, flags="PA", seq=seq_add(base, 1 * SEG), payload=bytes([1]) * SEG)  # again, inside block 1
    a = conn.expect(flags="A", ack=base, within="10ms")
    assert blocks(a, base) == [(1, 2), (9, 10), (7, 8), (5, 6)]
    # next to block 3 (extends it): [3, 5) merges with block 5
    inject(conn, flags="PA", seq=seq_add(base, 4 * SEG), payload=bytes([4]) * SEG)
    a = conn.expect(flags="A", ack=base, within="10ms")
    assert blocks(a, base) == [(3, 6), (1, 2), (9, 10), (7, 8)]
