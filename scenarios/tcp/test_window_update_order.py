"""The send window comes only from the newest segment (RFC 9293 §3.10.7.4, SND.WL1/SND.WL2).

§3.10.7.4 (ESTABLISHED, fifth check): "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be
updated. If (SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK)), set SND.WND <- SEG.WND
[...]. Note that SND.WND is an offset from SND.UNA, that SND.WL1 records the sequence number of the
last segment used to update SND.WND, and that SND.WL2 records the acknowledgment number of the last
segment used to update SND.WND. The check here prevents using old segments to update the window."

An ACK reordered behind a newer one (same SEG.SEQ, smaller SEG.ACK) that offers a zero window must not
close the window: the DUT goes on sending new data at once. The positive control: the same zero window
on a new ACK (SEG.ACK = SND.NXT) does stop it.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from tcpkit import passive, seq_add, tcp_payload

pytestmark = pytest.mark.area("tcp")

MSS = 1000


@pytest.mark.rfc("9293 3.10.7.4")
@pytest.mark.parametrize("old", [True, False], ids=["reordered_old_ack", "new_ack_control"])
def test_zero_window_of_an_old_ack_is_ignored(dut, peer, old):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "window": 10000}, nodelay=True)
    sock.send(bytes(2 * MSS))
    d1 = conn.expect(seq=conn.rcv_nxt, within="10ms")
    d2 = conn.expect(seq=conn.rcv_nxt, within="10ms")
    end1, end2 = seq_add(d1[TCP].seq, MSS), seq_add(d2[TCP].seq, MSS)
    conn.send(flags="A", ack=end2, window=10000)  # the newer ACK: everything, window 10000
    if old:
        conn.send(flags="A", ack=end1, window=0)  # reordered: older ACK, zero window
    else:
        conn.send(flags="A", ack=end2, window=0)  # a genuine window closing
    dut.net.run(for_="1ms")
    peer.received()
    sock.send(b"more")
    if old:
        p = conn.expect(seq=end2, within="10ms")
        assert tcp_payload(p) == b"more"
    else:
        conn.expect_nothing(for_="500ms", flags="PA")
