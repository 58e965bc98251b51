"""What the ARP queue keeps of a TCP connection's segments while the next hop does not answer (issue 22).

RFC 1122 §2.3.2.2: "The link layer SHOULD save (rather than discard) at least one (the latest) packet of each
set of packets destined to the same unresolved IP address, and transmit the saved packet when the address has
been resolved." A SYN retransmitted while the ARP request is still unanswered is the latest copy of the same
segment: it replaces the held original, so one SYN leaves when the reply comes, the retransmission with its later
timestamp, and the SYN-ACK that echoes it gives the connection its first RTT sample (RFC 7323 §4, RFC 6298 §3).
Before, both SYNs left together at the reply (seen in the real-time bench at 15 % loss: the ARP request lost,
the SYN's RTO 1 s later, both out at the reply), the SYN-ACK echoed the first one's timestamp, older than the
retransmission, so no sample was taken and the first data segment's tail loss probe waited RFC 8985 §7.2's
1 s for a connection without SRTT.
"""

from __future__ import annotations

import pytest
from scapy.all import ARP, TCP, Ether

from pyharness.dut import PEER_IP
from tcpkit import expect_probe, tcp_payload

pytestmark = pytest.mark.area("arp")

SEC = 1_000_000_000
MS = 1_000_000
PORT = 7000


def answer(peer, req):
    """The peer's reply to an ARP request it received."""
    peer.send(Ether(dst=req[Ether].src) / ARP(op=2, hwsrc=peer.mac, psrc=req[ARP].pdst,
                                                hwdst=req[ARP].hwsrc, pdst=req[ARP].psrc))


@pytest.mark.silent_peer
@pytest.mark.rfc("1122 2.3.2.2", "6298 2", "8985 7.2")
def test_a_syn_retransmitted_behind_arp_replaces_the_held_one(dut, peer):
    net = dut.net
    t0 = net.now_ns
    sock = dut.tcp_connect(PEER_IP, PORT, tail_loss_probe=True)
    peer.expect(ARP(op=1, pdst=PEER_IP), at=f"{t0}ns", tolerance="1ns")
    # RFC 1122 §2.3.2.1's one request per second, and RFC 6298 (2.1)'s initial RTO of 1 s: the second request
    # and the SYN's retransmission are both due at t0 + 1 s; the peer answers 200 ms later.
    req = peer.expect(ARP(op=1, pdst=PEER_IP), at=f"{t0 + SEC}ns", tolerance="1ns")
    peer.expect_nothing(for_="200ms", matching=TCP())  # nothing before the address resolves
    answer(peer, req)
    conn = peer.tcp(dut, local_port=PORT, isn=5000, ts=True, sack=True)
    syn = conn.expect(flags="S", at=f"{t0 + 1200 * MS}ns", tolerance="1ns")
    # One SYN only: the original was replaced by its retransmission (before: two, at the same instant).
    peer.expect_nothing(for_="1ns", matching=TCP(flags="S"))
    assert dut.counters().arp_queue_replaced == 1
    t_synack = net.now_ns
    conn.send(flags="SA")  # echoes the SYN's TSval, stamped when it was sent again, at t0 + 1 s
    conn.expect(flags="A", within="1ns")
    # The first data segment goes unacknowledged: the tail loss probe follows after RFC 8985 §7.2's PTO =
    # 2 SRTT + TLP.max_ack_delay (one segment in flight) = 2 x 200 ms + 200 ms, SRTT from the handshake's sample
    # (the SYN waited 200 ms for the address). Before, without a sample, the PTO was §7.2's 1 s. The SYN that
    # left is the first transmission (no copy left before it: test_syn_held_for_arp.py), so the sample is its
    # send time's, to the nanosecond (200 ms and the nanosecond the checks above took).
    sample = t_synack - (t0 + SEC)
    assert 200 * MS <= sample < 201 * MS
    sock.send(b"x" * 100)
    first = conn.expect(flags="PA", payload=b"x" * 100, within="1ms")
    t1 = int(first.time_ns)
    # the probe: the segment's octets again (in two halves on Tern, tcp_tlp.c)
    probe = expect_probe(conn, dut.profile, first[TCP].seq, 100, at=f"{t1 + 2 * sample + 200 * MS}ns",
                         tolerance="1ns")
    assert b"".join(tcp_payload(p) for p in probe) == b"x" * 100
    assert int(probe[0].time_ns) - t1 == 2 * sample + 200 * MS


@pytest.mark.silent_peer
@pytest.mark.rfc("1122 2.3.2.2")
def test_control_a_syn_answered_before_its_rto_leaves_once(dut, peer):
    # Control: the ARP reply comes before the SYN's RTO: the held SYN leaves at the reply, once, and nothing is
    # replaced.
    net = dut.net
    t0 = net.now_ns
    dut.tcp_connect(PEER_IP, PORT)
    req = peer.expect(ARP(op=1, pdst=PEER_IP), at=f"{t0}ns", tolerance="1ns")
    peer.expect_nothing(for_="300ms", matching=TCP())
    answer(peer, req)
    conn = peer.tcp(dut, local_port=PORT, isn=5000, ts=True, sack=True)
    conn.expect(flags="S", at=f"{t0 + 300 * MS}ns", tolerance="1ns")
    peer.expect_nothing(for_="1ns", matching=TCP(flags="S"))
    assert dut.counters().arp_queue_replaced == 0
