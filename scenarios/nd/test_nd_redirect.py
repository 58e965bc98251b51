"""Redirect (RFC 4861 section 8): a router tells the DUT of a better first hop for a destination, or
that the destination is on-link.

The bench: the DUT routes ::/0 through the peer's link-local address (the peer plays the router);
2001:db8::5 is an off-link host whose echo requests come in through it.

RFC 4861 section 8.3: "A host receiving a valid redirect SHOULD update its Destination Cache
accordingly so that subsequent traffic goes to the specified target."
"""

from __future__ import annotations

from typing import Any

import pytest
from scapy.layers.inet6 import (ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6ND_Redirect,
                                ICMPv6NDOptDstLLAddr, ICMPv6NDOptRedirectedHdr, IPv6)
from scapy.layers.l2 import Ether

from v6kit import DUT6, PEER6, bench6, to_dut
from pyharness.dut import tern_stack

pytestmark = pytest.mark.area("nd")

FAR = "2001:db8::5"
NEW_ROUTER = "fe80::9"
NEW_MAC = "02:00:00:00:00:09"


@pytest.fixture
def routed(net: Any) -> tuple[Any, Any]:
    dut, peer, _ = bench6(net)
    dut.add_route("::/0", peer.link_local)
    return dut, peer


def ping_from_far(dut, peer, ident):
    """An echo request from FAR arrives through the router; the reply must go back out."""
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=ident), src=FAR))


def redirect(dut, peer, target=NEW_ROUTER, dest=FAR, src=None, hlim=255, tll=NEW_MAC, code=0):
    pkt = Ether(src=peer.mac, dst=dut.mac) / IPv6(src=src or peer.link_local, dst=DUT6, hlim=hlim) / \
        ICMPv6ND_Redirect(tgt=target, dst=dest, code=code)
    if tll:
        pkt = pkt / ICMPv6NDOptDstLLAddr(lladdr=tll)
    return pkt / ICMPv6NDOptRedirectedHdr(pkt=bytes(IPv6(src=DUT6, dst=dest) / ICMPv6EchoReply(id=99)))


def through_router(dut, peer, ident):
    ping_from_far(dut, peer, ident)
    peer.expect(Ether(dst=peer.mac) / IPv6(src=DUT6, dst=FAR) / ICMPv6EchoReply(id=ident), within="1ms")


@pytest.mark.rfc("4861 8.3")
def test_redirect_to_a_better_router(routed):
    """"If the redirect contains a Target Link-Layer Address option, the host either creates or updates
    the Neighbor Cache entry for the target." and "If the Target Address is not the same as the
    Destination Address, the host MUST set IsRouter to TRUE for the target.\""""
    dut, peer = routed
    through_router(dut, peer, 1)
    peer.send(redirect(dut, peer))
    ping_from_far(dut, peer, 2)
    peer.expect(Ether(dst=NEW_MAC) / IPv6(src=DUT6, dst=FAR) / ICMPv6EchoReply(id=2), within="1ms")
    assert dut.nd_lookup(NEW_ROUTER)[0] == NEW_MAC
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_redirects_in == 1


@pytest.mark.rfc("4861 8.3")
def test_redirect_to_the_on_link_destination(routed):
    """"If the Target and Destination Addresses are the same, the host MUST treat the Target as
    on-link.\""""
    dut, peer = routed
    through_router(dut, peer, 3)
    peer.send(redirect(dut, peer, target=FAR, tll="02:00:00:00:00:05"))
    ping_from_far(dut, peer, 4)
    peer.expect(Ether(dst="02:00:00:00:00:05") / IPv6(dst=FAR) / ICMPv6EchoReply(id=4), within="1ms")
    assert dut.nd_lookup(FAR) == ("02:00:00:00:00:05", "DELAY")  # STALE, then used


@pytest.mark.rfc("4861 8.3")
def test_redirect_without_link_layer_address_resolves_the_target(routed):
    """Without the option the new first hop is resolved like any neighbour: a solicitation for it."""
    dut, peer = routed
    through_router(dut, peer, 5)
    peer.send(redirect(dut, peer, tll=None))
    ping_from_far(dut, peer, 6)
    peer.expect(Ether(dst="33:33:ff:00:00:09") / ICMPv6ND_NS(tgt=NEW_ROUTER), within="1ms")


@pytest.mark.rfc("4861 8.1")
def test_redirect_from_another_than_the_first_hop_router_is_discarded(routed):
    """"The IP source address of the Redirect is the same as the current first-hop router for the
    specified ICMP Destination Address.\""""
    dut, peer = routed
    through_router(dut, peer, 7)
    peer.send(redirect(dut, peer, src="fe80::77"))
    through_router(dut, peer, 8)
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_invalid == 1
    peer.send(redirect(dut, peer))  # positive control: from the router itself
    ping_from_far(dut, peer, 9)
    peer.expect(Ether(dst=NEW_MAC) / ICMPv6EchoReply(id=9), within="1ms")


@pytest.mark.rfc("4861 8.1")
def test_redirect_from_a_global_address_is_discarded(routed):
    """"IP Source Address is a link-local address. Routers must use their link-local address as the
    source for Router Advertisement and Redirect messages so that hosts can uniquely identify
    routers.\""""
    dut, peer = routed
    peer.send(redirect(dut, peer, src=PEER6))
    through_router(dut, peer, 10)
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_invalid == 1


@pytest.mark.rfc("4861 8.1")
@pytest.mark.parametrize("field", ["hop_limit", "code", "multicast_dest", "global_target"])
def test_invalid_redirects_are_discarded(routed, field):
    """"The IP Hop Limit field has a value of 255", "ICMP Code is 0", "The ICMP Destination Address
    field in the redirect message does not contain a multicast address.", "The ICMP Target Address is
    either a link-local address (when redirected to a router) or the same as the ICMP Destination
    Address (when redirected to the on-link destination).\""""
    dut, peer = routed
    through_router(dut, peer, 11)
    kw = {"hop_limit": {"hlim": 254}, "code": {"code": 1}, "multicast_dest": {"dest": "ff0e::1"},
          "global_target": {"target": "2001:db8::9"}}[field]
    peer.send(redirect(dut, peer, **kw))
    through_router(dut, peer, 12)
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_invalid == 1
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_redirects_in == 0


@pytest.mark.rfc("4861 8.1")
def test_redirect_for_an_on_link_destination_is_discarded(routed):
    """The peer's own global address is on-link: the router is not its first hop, so a Redirect about it
    from the router fails the first-hop check."""
    dut, peer = routed
    peer.send(redirect(dut, peer, dest=PEER6))
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=13)))
    peer.expect(Ether(dst=peer.mac) / IPv6(dst=PEER6) / ICMPv6EchoReply(id=13), within="1ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_invalid == 1
