"""The ACK field of a segment outside the receive window is ignored (RFC 9293 §3.10.7.4, Table 6).

"RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND" is the test for a segment of length 0 with a window above zero,
and "If an incoming segment is not acceptable, an acknowledgment should be sent in reply [...] After
sending the acknowledgment, drop the unacceptable segment and return." -- before the ACK field is
looked at. An empty segment whose sequence number is exactly RCV.NXT+RCV.WND (one past the last
acceptable) that acknowledges the DUT's outstanding data therefore acknowledges nothing: the DUT
answers with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and retransmits its data at the timeout. The same
segment one sequence number to the left is acceptable, and its ACK is taken (the positive control).
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from pyharness.dut import linux_deviation
from tcpkit import EXACT, T, inject, ns, passive, seq_add

pytestmark = pytest.mark.area("tcp")


RIGHT_EDGE_LINUX = ('RFC 9293 section 3.10.7.4: for a segment of length 0 and a receive window above 0 the test is '
                    '"RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND", and "If an incoming segment is not acceptable, an '
                    'acknowledgment should be sent in reply". Linux takes an empty segment at SEG.SEQ = '
                    'RCV.NXT+RCV.WND (tcp_sequence() refuses only a SEG.SEQ after the right edge), so its ACK field '
                    'is processed and no acknowledgment is sent.')


@pytest.mark.parametrize("offset,acceptable", [
    pytest.param(0, False, id="right_edge", marks=linux_deviation(RIGHT_EDGE_LINUX)),
    pytest.param(-1, True, id="last_in_window"), pytest.param(1, False, id="beyond_edge")])
@pytest.mark.rfc("9293 3.10.7.4")
def test_ack_of_segment_outside_window_is_ignored(dut, peer, offset, acceptable):
    conn, sock, _ = passive(dut, peer)  # no window scaling: the window field is RCV.WND itself
    sock.send(b"x" * 100)
    d = conn.expect(flags="PA", within="10ms")
    rcv_wnd = d[TCP].window
    assert rcv_wnd > 0
    rto = sock.info().rto_ns
    seq = seq_add(conn.snd_nxt, rcv_wnd + offset)  # the DUT's RCV.NXT is our SND.NXT
    inject(conn, flags="A", seq=seq, ack=conn.rcv_nxt)  # acknowledges all 100 bytes
    if acceptable:
        dut.net.run(for_="10ms")
        assert sock.info().snd_una == conn.rcv_nxt, "the ACK of an acceptable segment was not taken"
        conn.expect_nothing(for_=T(rto + 500_000_000), flags="PA")
    else:
        conn.expect(flags="A", seq=seq_add(d[TCP].seq, 100), ack=conn.snd_nxt, payload=b"", within="1ms")
        assert sock.info().snd_una == d[TCP].seq, "the ACK of an unacceptable segment was taken"
        conn.expect(flags="PA", seq=d[TCP].seq, at=T(ns(d) + rto), tolerance=EXACT)
