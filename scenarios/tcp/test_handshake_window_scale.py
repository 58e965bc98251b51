"""The window of the ACK that completes a passive open is scaled (RFC 7323 §2.2, RFC 9293 §3.10.7.4).

RFC 7323 §2.2: "The window field in a segment where the SYN bit is set (i.e., a <SYN> or <SYN,ACK>)
MUST NOT be scaled." -- and every other segment's window is, from the first one after the SYN: the
ACK that moves the DUT from SYN-RECEIVED to ESTABLISHED carries a scaled window, which RFC 9293
§3.10.7.4 (SYN-RECEIVED, "enter ESTABLISHED state and continue processing with the variables below
set to: SND.WND <- SEG.WND") makes the send window. The peer offers a window scale of 7 and a window
of 12800 bytes (100 << 7): the DUT fills it, no more, and not only 100 bytes.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from tcpkit import passive, tcp_payload

pytestmark = pytest.mark.area("tcp")

MSS = 1460


@pytest.mark.rfc("7323 2.2", "9293 3.10.7.4")
@pytest.mark.parametrize("shift,field", [(7, 100), (2, 3000), (0, 12800)])
def test_window_of_the_handshake_ack_is_scaled(dut, peer, shift, field):
    window = field << shift
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "wscale": shift, "window": window})
    assert conn.wscale_ok
    sock.send(bytes(40000))
    dut.net.run(for_="10ms")
    sent = sum(len(tcp_payload(p)) for p in peer.received() if TCP in p)
    # Whole segments up to the window (sender SWS avoidance keeps the short tail back, RFC 9293 §3.8.6.2.1),
    # the windows here are below the initial congestion window (10 segments, RFC 6928).
    assert window - MSS < sent <= window, f"sent {sent} bytes into a window of {window} (field {field}, shift {shift})"
