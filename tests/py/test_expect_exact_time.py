"""Exact-time expectations see everything that happens at the instant, even
what a peer's own answer at that instant sets off (an ARP exchange)."""

from __future__ import annotations

from scapy.all import IP, UDP

from pyharness import Network


def test_zero_tolerance_sees_a_frame_behind_an_arp_exchange_at_the_same_instant() -> None:
    net = Network(seed=3)
    dut = net.host("dut", ipv4="10.0.0.1/24")
    peer = net.peer("peer", ipv4="10.0.0.2/24")
    net.link(dut, peer)
    s = dut.udp_socket()
    net.run(until="2s")
    # The DUT has never heard of the peer: at 2 s it asks ARP, the peer answers
    # at 2 s, and the datagram leaves at 2 s too.
    s.sendto(b"x", ("10.0.0.2", 9))
    got = peer.expect(IP(src="10.0.0.1") / UDP(dport=9), at=2.0, tolerance=0)
    assert got.time_ns == 2_000_000_000
