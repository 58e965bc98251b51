"""What a host takes from Router Advertisements for Neighbor Discovery's own variables (RFC 4861
section 6.3.4), Router Solicitations ignored (section 6.2.6), and routes through a link-local router.

RFC 4861 section 6.1.2: "A node MUST silently discard any received Router Advertisement messages that
do not satisfy all of the following validity checks: - IP Source Address is a link-local address.
Routers must use their link-local address as the source for Router Advertisement and Redirect
messages so that hosts can uniquely identify routers. - The IP Hop Limit field has a value of 255,
i.e., the packet could not possibly have been forwarded by a router." ...
"""

from __future__ import annotations

from typing import Any

import pytest
from scapy.layers.inet6 import (ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6ND_RA, ICMPv6ND_RS,
                                ICMPv6NDOptMTU, ICMPv6NDOptSrcLLAddr, IPv6, IPv6ExtHdrFragment)
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from v6kit import DUT6, OTHER6, PEER6, at, bench6, dut, ns, peer, to_dut, v6  # noqa: F401  (fixtures)
from pyharness.dut import tern_stack

pytestmark = pytest.mark.area("nd")


def ra(dut, peer, src=None, hlim=255, **fields):
    opts = fields.pop("opts", None)
    pkt = Ether(src=peer.mac, dst="33:33:00:00:00:01") / IPv6(src=src or peer.link_local, dst="ff02::1", hlim=hlim) / \
        ICMPv6ND_RA(routerlifetime=0, **fields) / ICMPv6NDOptSrcLLAddr(lladdr=peer.mac)
    return pkt / opts if opts is not None else pkt


def reply_hlim(dut, peer, ident) -> int:
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=ident)))
    return int(peer.expect(ICMPv6EchoReply(id=ident), within="1ms")[IPv6].hlim)


@pytest.mark.rfc("4861 6.3.4")
def test_advertised_cur_hop_limit_is_used(dut, peer):
    """"If the received Cur Hop Limit value is non-zero, the host SHOULD set its CurHopLimit variable to
    the received value.\""""
    assert reply_hlim(dut, peer, 1) == 64
    peer.send(ra(dut, peer, chlim=200))
    assert reply_hlim(dut, peer, 2) == 200
    assert dut.nd_params()[2] == 200


@pytest.mark.rfc("4861 6.3.4")
def test_cur_hop_limit_zero_is_unspecified(dut, peer):
    peer.send(ra(dut, peer, chlim=0))
    assert reply_hlim(dut, peer, 3) == 64


@pytest.mark.rfc("4861 6.1.2")
@pytest.mark.parametrize("bad", ["global_source", "hop_limit"])
def test_invalid_advertisement_changes_nothing(dut, peer, bad):
    kw = {"global_source": {"src": PEER6}, "hop_limit": {"hlim": 254}}[bad]
    peer.send(ra(dut, peer, chlim=200, **kw))
    assert reply_hlim(dut, peer, 4) == 64
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_invalid == 1
    peer.send(ra(dut, peer, chlim=200))  # positive control: the valid one is taken
    assert reply_hlim(dut, peer, 5) == 200


@pytest.mark.rfc("4861 6.3.4", "4861 7.2.2")
def test_advertised_retrans_timer_paces_the_solicitations(dut, peer, net):
    """"The RetransTimer variable SHOULD be copied from the Retrans Timer field, if the received value is
    non-zero.": 2.5 s between the solicitations for a silent neighbour."""
    peer.send(ra(dut, peer, retranstimer=2500))
    net.run(for_="1ms")
    assert dut.nd_params()[1] == ns(2.5)
    t0 = net.now_ns
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=6), src=OTHER6))
    for k in (0, 2.5, 5):
        peer.expect(ICMPv6ND_NS(tgt=OTHER6), at=at(t0 + ns(k)), tolerance="1us")
    peer.expect_nothing(for_="5s", matching=ICMPv6ND_NS(tgt=OTHER6))


@pytest.mark.rfc("4861 6.3.4", "4861 6.3.2")
def test_advertised_reachable_time_redraws_reachable_time(dut, peer, net):
    """"If the received Reachable Time value is non-zero, the host SHOULD set its BaseReachableTime
    variable to the received value. If the new value differs from the previous value, the host SHOULD
    re-compute a new random ReachableTime value.": 10 s gives a ReachableTime in [5 s, 15 s]."""
    before = dut.nd_params()[0]
    peer.send(ra(dut, peer, reachabletime=10000))
    net.run(for_="1ms")
    after = dut.nd_params()[0]
    assert ns(5) <= after <= ns(15) and after != before
    peer.send(ra(dut, peer, reachabletime=10000))  # the same value: no new draw
    net.run(for_="1ms")
    assert dut.nd_params()[0] == after


def big_reply_first_fragment_len(dut, peer, ident) -> int:
    body = bytes(IPv6(src=PEER6, dst=DUT6) / ICMPv6EchoRequest(id=ident, data=b"m" * 2000))[40:]
    peer.send(to_dut(dut, peer, IPv6ExtHdrFragment(nh=58, offset=0, m=1, id=ident) / Raw(body[:1024])))
    peer.send(to_dut(dut, peer, IPv6ExtHdrFragment(nh=58, offset=128, m=0, id=ident) / Raw(body[1024:])))
    f = peer.expect(IPv6(src=DUT6) / IPv6ExtHdrFragment(offset=0), within="1ms")
    peer.expect(IPv6(src=DUT6) / IPv6ExtHdrFragment(m=0), within="1ms")
    return len(bytes(f[IPv6]))


@pytest.mark.rfc("4861 6.3.4", "4861 4.6.4")
def test_advertised_mtu_becomes_the_link_mtu(dut, peer):
    """Section 6.3.4: "If the MTU option is present, hosts SHOULD copy the option's value into LinkMTU so
    long as the value is greater than or equal to the minimum link MTU [IPv6] and does not exceed the
    maximum LinkMTU value specified in the link-type-specific document\"."""
    assert big_reply_first_fragment_len(dut, peer, 7) == 1496
    peer.send(ra(dut, peer, opts=ICMPv6NDOptMTU(mtu=1400)))
    assert big_reply_first_fragment_len(dut, peer, 8) == 1400


@pytest.mark.rfc("4861 6.3.4")
@pytest.mark.parametrize("mtu", [1000, 1279, 1600])
def test_advertised_mtu_outside_the_limits_is_ignored(dut, peer, mtu):
    peer.send(ra(dut, peer, opts=ICMPv6NDOptMTU(mtu=mtu)))
    assert big_reply_first_fragment_len(dut, peer, 9) == 1496
    peer.send(ra(dut, peer, opts=ICMPv6NDOptMTU(mtu=1280)))  # positive control
    assert big_reply_first_fragment_len(dut, peer, 10) == 1280


@pytest.mark.rfc("4861 6.2.6")
def test_router_solicitations_are_ignored_by_a_host(dut, peer):
    """"A host MUST silently discard any received Router Solicitation messages.\""""
    peer.send(Ether(src=peer.mac, dst="33:33:00:00:00:02") / IPv6(src=peer.link_local, dst="ff02::2", hlim=255) /
              ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=peer.mac))
    peer.expect_nothing(for_="100ms")
    # positive control: the host is alive and answers an echo request
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=11)))
    peer.expect(ICMPv6EchoReply(id=11), within="1ms")


@pytest.mark.rfc("4861 5.2")
def test_off_link_destination_needs_a_route(dut, peer):
    """No default router and no route: an off-link destination cannot be reached (counted), until a
    route through the router's link-local address is configured."""
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=12), src="2001:db8::5"))
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_no_route == 1
    dut.add_route("2001:db8::/32", peer.link_local)
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=13), src="2001:db8::5"))
    peer.expect(Ether(dst=peer.mac) / IPv6(src=DUT6, dst="2001:db8::5") / ICMPv6EchoReply(id=13), within="1ms")
