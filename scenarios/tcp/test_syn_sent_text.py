"""Text in a SYN that reaches a connection in SYN-SENT (simultaneous open, RFC 9293 §3.5 figure 8): the SYN-ACK
acknowledges only the SYN, the text waits, and once ESTABLISHED is reached it is delivered and acknowledged
(RFC 9293 §3.10.7.3). The listener's side of the same rule (§3.10.7.2) is in test_handshake.py."""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from pyharness.dut import linux_deviation
from tcpkit import PEER_PORT, drain, peer_ip_of, seq_add, tcp_payload

pytestmark = pytest.mark.area("tcp")

QUEUED = ('RFC 9293 §3.10.7.3 (SYN-SENT, a SYN without ACK): "If there are other controls or text in the segment, '
          'queue them for processing after the ESTABLISHED state has been reached"; Linux drops the text of such a '
          'SYN (tcp_rcv_synsent_state_process)')

TEXT = b"text-in-the-syn"


def crossing_syns(dut, peer):
    """The DUT connects; the peer's own SYN, carrying TEXT, crosses the DUT's: (socket, peer side, DUT's ISS)."""
    sock = dut.tcp_connect(peer_ip_of(dut), PEER_PORT, local_port=45200)
    conn = peer.tcp(dut, 45200, local_port=PEER_PORT, isn=7000)
    syn = conn.expect(flags="S", within="10ms")
    conn.send(flags="S", payload=TEXT)  # seq 7000; the text is 7001..7015
    synack = conn.expect(flags="SA", within="10ms")
    iss = syn[TCP].seq
    # <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> with RCV.NXT = SEG.SEQ + 1: the SYN, not yet the text
    assert (synack[TCP].seq, synack[TCP].ack, tcp_payload(synack)) == (iss, 7001, b"")
    assert sock.state == "SYN_RECEIVED"
    assert sock.readable == 0, "text delivered before the connection is ESTABLISHED"
    return sock, conn, iss


@pytest.mark.rfc("9293 3.10.7.3", "9293 3.5")
@linux_deviation(QUEUED)
def test_syn_text_in_syn_sent_is_delivered_once_established(dut, peer):
    """The peer's ACK of our SYN (seq 7016: its text counted as sent) completes the open: the queued text is
    delivered to the application and acknowledged at once, <SEQ=ISS+1><ACK=7016>."""
    sock, conn, iss = crossing_syns(dut, peer)
    conn.send(flags="A", seq=7001 + len(TEXT), ack=seq_add(iss, 1))
    conn.expect(flags="A", seq=seq_add(iss, 1), ack=7001 + len(TEXT), payload=b"", within="10ms")
    assert sock.state == "ESTABLISHED"
    assert drain(sock) == TEXT
    info = sock.info()
    assert info.rcv_nxt == 7001 + len(TEXT) and info.bytes_received == len(TEXT)


@pytest.mark.rfc("9293 3.10.7.3", "9293 3.3.1")
def test_syn_text_sent_again_after_the_open_is_delivered_once(dut, peer):
    """A peer that saw only its SYN acknowledged sends the text again with its ACK: the octets are the same
    sequence numbers, delivered once, acknowledged up to 7016."""
    sock, conn, iss = crossing_syns(dut, peer)
    conn.send(flags="PA", seq=7001, ack=seq_add(iss, 1), payload=TEXT)
    conn.expect(flags="A", seq=seq_add(iss, 1), ack=7001 + len(TEXT), within="300ms")
    dut.net.run(for_="300ms")
    assert sock.state == "ESTABLISHED"
    assert drain(sock) == TEXT
    assert sock.info().rcv_nxt == 7001 + len(TEXT)
