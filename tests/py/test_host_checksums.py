"""The checksums of what a Tern host sends are verified at its output (issue 11), so a link that
corrupts a frame on purpose (a corrupt fault or impairment) is never taken for a host bug.

The failing side (a host that sends a wrong checksum fails the run, naming the frame) is
tests/c/test_frame_check.c: only a white-box test can make the stack emit one.
"""

from __future__ import annotations

from scapy.layers.inet import ICMP, IP
from scapy.packet import Raw


def _csum_ok(pkt) -> bool:
    """Whether scapy, recomputing them, finds the IPv4 and ICMP checksums as received."""
    ip = pkt[IP]
    clone = IP(bytes(ip))
    del clone.chksum
    del clone[ICMP].chksum
    again = IP(bytes(clone))
    return again.chksum == ip.chksum and again[ICMP].chksum == ip[ICMP].chksum


def test_a_frame_the_link_corrupts_does_not_fail_the_host(net) -> None:
    dut = net.host("dut", ipv4="10.0.0.1/24")
    peer = net.peer("peer", ipv4="10.0.0.2/24")
    link = net.link(dut, peer)  # the host is side a: what it sends goes a_to_b
    fault = link.fault("corrupt", bpf="icmp[icmptype] == 0", direction="a_to_b")
    peer.send(IP(dst="10.0.0.1") / ICMP(type=8, id=1, seq=1) / Raw(b"0123456789abcdef"))
    net.run(for_="100ms")  # no FrameError: the host sent it right, the link flipped one bit
    assert fault.hits == 1 and link.counters("a_to_b").fault_corrupted == 1
    # the host's ARP request for the peer, then its echo reply, corrupted on the way: no failure
    assert len(peer.history()) == 2
    # positive control: the same exchange, no fault left, arrives with its checksums right
    peer.send(IP(dst="10.0.0.1") / ICMP(type=8, id=1, seq=2) / Raw(b"0123456789abcdef"))
    again = peer.expect(IP(src="10.0.0.1") / ICMP(type=0, seq=2), within="10ms")
    assert _csum_ok(again)
