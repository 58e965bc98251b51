"""What counts as a duplicate ACK, and which ACKs are acceptable at all.

RFC 5681 §2: a DUPLICATE ACKNOWLEDGMENT is one where "(a) the receiver of the ACK has outstanding data,
(b) the incoming acknowledgment carries no data, (c) the SYN and FIN bits are both off, (d) the
acknowledgment number is equal to the greatest acknowledgment received on the given connection (TCP.UNA
from [RFC793]) and (e) the advertised window in the incoming acknowledgment equals the advertised window
in the last incoming acknowledgment." Data segments that repeat SND.UNA are not duplicates: three of them
do not start a fast retransmit (three pure duplicate ACKs do: test_congestion.py, the control).

RFC 5961 §5.2: "The ACK value is considered acceptable only if it is in the range of ((SND.UNA -
MAX.SND.WND) <= SEG.ACK <= SND.NXT). All incoming segments whose ACK value doesn't satisfy the above
condition MUST be discarded and an ACK sent back." With MAX.SND.WND at most 65535 here, an ACK 70000
below SND.UNA is outside (challenge ACK, data not delivered); one 1000 below is an old duplicate, its
data delivered (the control).
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from tcpkit import classic_recovery, drain, passive, seq_add

pytestmark = pytest.mark.area("tcp")

MSS = 1000


@pytest.mark.rfc("5681 2", "5681 3.2")
def test_data_segments_repeating_snd_una_are_not_duplicate_acks(dut, peer, profile):
    classic = classic_recovery(profile)  # RFC 5681 counts duplicate ACKs; RACK-TLP (RFC 8985) does not
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS}, nodelay=True, **classic)
    sock.send(bytes(4 * MSS))
    segs = [conn.expect(seq=conn.rcv_nxt, within="10ms") for _ in range(4)]
    first = segs[0][TCP].seq
    for i in range(3):
        conn.send(flags="PA", payload=b"d%d" % i, ack=first)
    dut.net.run(for_="300ms")  # the RTO is 1 s: a retransmission now would be a fast retransmit
    again = [p for p in peer.received() if TCP in p and p[TCP].seq == first and bytes(p[TCP].payload)]
    assert again == [], "three data segments repeating SND.UNA started a fast retransmit"
    assert sock.info().snd_una == first


@pytest.mark.rfc("5961 5.2", "9293 3.10.7.4")
@pytest.mark.parametrize("below,acceptable", [(70000, False), (50, True)], ids=["outside", "old_duplicate"])
def test_ack_too_far_below_snd_una_is_refused(dut, peer, below, acceptable):
    # "old_duplicate" acknowledges 50 of the 100 bytes the DUT sent: an ACK it may have sent before. (1000 below
    # SND.UNA was an ACK of bytes before the DUT's ISS, never sent; Linux refuses those, bounding the range by the
    # bytes acknowledged so far, tcp_ack(): "do not accept ACK for bytes we never sent".)
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS}, nodelay=True)
    sock.send(b"x" * 100)
    d = conn.expect(flags="PA", within="10ms")
    conn.send(flags="A")  # SND.UNA moves to the end of "x" * 100
    dut.net.run(for_="1ms")
    una = seq_add(d[TCP].seq, 100)
    conn.send(flags="PA", payload=b"payload", ack=seq_add(una, -below))
    if acceptable:
        conn.expect(flags="A", ack=conn.snd_nxt, within="1s")
        assert drain(sock) == b"payload"
    else:
        conn.expect(flags="A", seq=una, within="10ms")
        dut.net.run(for_="10ms")
        assert drain(sock) == b""
