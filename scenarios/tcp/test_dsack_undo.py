"""The sender uses D-SACK to find spurious retransmissions and undo the window reduction (RFC 3708, RFC 2883).

RFC 3708 §1: "The second method is a conservative algorithm to disambiguate unnecessary retransmissions from loss
events for the purpose of undoing unnecessary congestion control changes." Its §2 counts "all duplicate
notifications for retransmitted segments" (``spurious_retransmits``); its §3 loss-event method decides that a
reduction was spurious when every retransmission of the loss event was reported as a duplicate.

The peer delays (does not drop) the DUT's first segment: it reports the later ones with SACK, the DUT
retransmits (fast retransmit, or an RTO when the ACKs are held back), then the original arrives (cumulative ACK)
and the retransmission after it (a D-SACK, RFC 2883 §4). The DUT restores cwnd and ssthresh to their values
before the reduction, counts the detection, and sends at the window it had before. The control: the same
exchange where the retransmission was needed (the final ACK carries no D-SACK) keeps the reduction.
"""

from __future__ import annotations

from typing import Any, Optional

import pytest

from pyharness.expect import ExpectationError
from scapy.layers.inet import TCP

from tcpkit import EXACT, T, classic_recovery, ns, passive, seq_add, tcp_payload

pytestmark = pytest.mark.area("tcp")

MSS = 1000
IW = 10 * MSS


def bulk(dut: Any, peer: Any, nbytes: int = 60 * MSS, **sockopts: Any) -> tuple[Any, Any]:
    """A SACK connection (peer MSS 1000, no timestamps) with ``nbytes`` queued on the DUT; (conn, sock)."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "sack": True}, sack=True, nodelay=True, **sockopts)
    assert sock.send(bytes(nbytes)) == nbytes
    return conn, sock


def data_segs(conn: Any, within: str = "1ms") -> list[Any]:
    """Every data segment of the connection that arrives now (until ``within`` of silence)."""
    out = []
    while True:
        try:
            p = conn.peer.expect(TCP(sport=conn.remote_port, dport=conn.local_port), within=within)
        except ExpectationError:
            return out
        if tcp_payload(p):
            out.append(p)


def end(segs: list[Any], hi: int) -> int:
    """The highest sequence number any of ``segs`` reaches, or ``hi`` if higher."""
    for s in segs:
        e = seq_add(s[TCP].seq, len(tcp_payload(s)))
        if (e - hi) % 2**32 < 2**31:
            hi = e
    return hi


def ack(conn: Any, upto: int, sack: Optional[list[tuple[int, int]]] = None) -> Any:
    """A pure ACK up to ``upto``, with the SACK blocks ``sack`` (none if None)."""
    opts = []
    if sack:
        opts = [("NOP", None), ("NOP", None), ("SAck", tuple(x for blk in sack for x in blk))]
    return conn.send(flags="A", ack=upto, options=opts)


@pytest.mark.rfc("3708 3", "3708 2", "2883 4", "6675 5")
@pytest.mark.parametrize("dsack", [True, False], ids=["spurious-dsack", "genuine-no-dsack"])
def test_spurious_fast_retransmit_is_undone(dut, peer, profile, dsack):
    classic = classic_recovery(profile)  # the exact RFC 5681/6582/6675 timeline
    conn, sock = bulk(dut, peer, **classic)
    flight = data_segs(conn)
    assert len(flight) == IW // MSS
    before = sock.info()
    base = flight[0][TCP].seq
    hi = end(flight, base)
    # segment 0 is late: three ACKs SACK segments 1, 1-2, 1-3 (limited transmit may send new data meanwhile)
    sent = []
    for k in (2, 3, 4):
        ack(conn, base, sack=[(seq_add(base, MSS), seq_add(base, k * MSS))])
        sent += data_segs(conn)
    assert [s[TCP].seq for s in sent].count(base) == 1, "segment 0 was not fast-retransmitted once"
    hi = end(sent, hi)
    info = sock.info()
    assert info.fast_retransmits == 1 and info.cwnd == info.ssthresh == IW // 2
    # the original arrives: everything is acknowledged; recovery ends with cwnd = ssthresh (RFC 6675)
    ack(conn, hi)
    burst1 = data_segs(conn)
    assert len(burst1) == IW // 2 // MSS
    # the retransmission arrives too: a duplicate, reported with a D-SACK in a duplicate ACK -- or, in the
    # control, a duplicate ACK without one
    ack(conn, hi, sack=[(base, seq_add(base, MSS))] if dsack else None)
    burst2 = data_segs(conn)
    info = sock.info()
    if dsack:
        assert (info.dsack_blocks_in, info.spurious_retransmits, info.dsack_undos) == (1, 1, 1)
        assert (info.cwnd, info.ssthresh) == (before.cwnd, before.ssthresh), "cwnd/ssthresh not restored"
        # sending resumes at the window before the reduction: IW in flight again
        assert len(burst1) + len(burst2) == before.cwnd // MSS
    else:
        assert (info.dsack_blocks_in, info.spurious_retransmits, info.dsack_undos) == (0, 0, 0)
        assert info.cwnd == IW // 2 and info.ssthresh == IW // 2
        assert burst2 == []


@pytest.mark.rfc("3708 3", "3708 2", "2883 4", "5681 3.1")
@pytest.mark.parametrize("dsack", [True, False], ids=["spurious-dsack", "genuine-no-dsack"])
def test_spurious_timeout_is_undone(dut, peer, profile, dsack):
    classic = classic_recovery(profile)  # the exact RFC 5681/6582/6675 timeline
    conn, sock = bulk(dut, peer, **classic)
    flight = data_segs(conn)
    before = sock.info()
    base = flight[0][TCP].seq
    hi = end(flight, base)
    # the ACKs are late: the RTO fires and segment 0 goes again with cwnd = 1 SMSS (RFC 5681 §3.1)
    conn.expect(seq=base, at=T(ns(flight[-1]) + profile.rto_min), tolerance=EXACT)
    info = sock.info()
    assert info.rto_timeouts == 1 and info.cwnd == MSS and info.ssthresh == IW // 2
    # the ACK of the originals: loss recovery ends, slow start from 1 SMSS: two segments
    ack(conn, hi)
    burst1 = data_segs(conn)
    assert len(burst1) == 2
    ack(conn, hi, sack=[(base, seq_add(base, MSS))] if dsack else None)
    burst2 = data_segs(conn)
    info = sock.info()
    if dsack:
        assert (info.dsack_blocks_in, info.spurious_retransmits, info.dsack_undos) == (1, 1, 1)
        assert (info.cwnd, info.ssthresh) == (before.cwnd, before.ssthresh), "cwnd/ssthresh not restored"
        assert len(burst1) + len(burst2) == before.cwnd // MSS
    else:
        assert (info.dsack_blocks_in, info.spurious_retransmits, info.dsack_undos) == (0, 0, 0)
        assert info.cwnd == 2 * MSS and info.ssthresh == IW // 2
        assert burst2 == []
