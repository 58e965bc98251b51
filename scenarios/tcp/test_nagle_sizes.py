"""Nagle holds back every segment shorter than the MSS while data is unacknowledged (RFC 9293 §3.7.4).

§3.7.4: "If there is unacknowledged data (i.e., SND.NXT > SND.UNA), then the sending TCP endpoint
buffers all user data (regardless of the PSH bit) until the outstanding data has been acknowledged or
until the TCP endpoint can send a full-sized segment (Eff.snd.MSS bytes)." The sizes here lie between
MSS/2 and the MSS, which the receiver-side SWS threshold (half the window) would not hold: only Nagle
does. The ACK of the outstanding data releases them at once (the positive control).
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from tcpkit import passive, seq_add

pytestmark = pytest.mark.area("tcp")

MSS = 1000


@pytest.mark.rfc("9293 3.7.4", "9293 SHLD-7")
@pytest.mark.parametrize("size", [MSS // 2, MSS // 2 + 1, 700, MSS - 1])
def test_segment_between_half_and_full_mss_waits_for_the_ack(dut, peer, size):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS})
    sock.send(b"a")
    a = conn.expect(flags="PA", payload=b"a", within="1ms")
    sock.send(bytes(size))
    # The held segment does not go (a retransmission of "a" at a DUT's 200 ms RTO, Linux's, is no matter here)
    peer.expect_nothing(for_="200ms", matching=TCP(sport=a[TCP].sport, flags="PA", seq=seq_add(a[TCP].seq, 1)))
    conn.send(flags="A")
    conn.expect(flags="PA", payload=bytes(size), within="1ms")


@pytest.mark.rfc("9293 3.7.4", "9293 SHLD-7")
def test_full_segment_is_not_held(dut, peer):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS})
    sock.send(b"a")
    conn.expect(flags="PA", payload=b"a", within="1ms")
    sock.send(bytes(MSS))
    conn.expect(payload=bytes(MSS), within="1ms")
