"""Golden traces of Neighbor Discovery (RFC 4861 section 7.2): address resolution that succeeds, and
one that fails after MAX_MULTICAST_SOLICIT solicitations one RetransTimer apart. The canonical text
form shows every ND field (target, flags, options) and the exact times."""

from __future__ import annotations

import pytest
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr, IPv6
from scapy.layers.l2 import Ether

from v6kit import DUT6, PEER6, bench6, to_dut
from pyharness.dut import tern_stack

pytestmark = [pytest.mark.area("nd"), pytest.mark.dut("tern", reason="golden traces hold the Tern stack's bytes at exact virtual times")]


@pytest.mark.rfc("4861 7.2.2", "4861 7.2.5", "4443 4.2")
def test_golden_resolution_then_echo(net, golden):
    """An echo request from an unknown neighbour: the reply waits for resolution, the solicited
    advertisement completes it, the reply leaves."""
    dut, peer, link = bench6(net, nd=False)
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=7, seq=1, data=b"golden")))
    peer.expect(ICMPv6ND_NS(tgt=PEER6), within="1ms")
    net.run(for_="100ms")
    peer.send(Ether(src=peer.mac, dst=dut.mac) / IPv6(src=PEER6, dst=DUT6, hlim=255) /
              ICMPv6ND_NA(tgt=PEER6, R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=peer.mac))
    peer.expect(ICMPv6EchoReply(id=7, seq=1), within="1ms")
    golden.check(link)


@pytest.mark.rfc("4861 7.2.2", "4861 10")
def test_golden_resolution_failure(net, golden):
    """Three solicitations at 0, 1 and 2 s, then silence: resolution failed at 3 s."""
    dut, peer, link = bench6(net, nd=False)
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=8, seq=1)))
    for _ in range(3):
        peer.expect(ICMPv6ND_NS(tgt=PEER6), within="1.1s")
    peer.expect_nothing(for_="5s", matching=ICMPv6ND_NS())
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_resolution_failed == 1
    golden.check(link)
