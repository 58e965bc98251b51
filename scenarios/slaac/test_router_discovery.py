"""The host side of Router Discovery (RFC 4861 sections 6.3.4 to 6.3.7): Router Solicitations
(MAX_RTR_SOLICITATIONS 3, RTR_SOLICITATION_INTERVAL 4 s apart), the Default Router List, the
Prefix List with its on-link flag, and the host variables an RA sets (Cur Hop Limit, Retrans
Timer, the MTU option)."""

from __future__ import annotations

import pytest
from scapy.layers.inet6 import (ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6ND_RS, IPv6,
                                IPv6ExtHdrFragment)
from scapy.layers.l2 import Ether

from autoconf_kit import (MAX_RTR_SOLICITATIONS, PREFIX, RETRANS_TIMER, RTR_SOLICITATION_INTERVAL, S, T, bench,
                          dad_ns, echo, echo_reply, eui64_addr, first_probe, has_sll, ready, rs)
from pyharness.dut import tern_stack

pytestmark = pytest.mark.area("slaac")

G = "2001:db8:1::"


def ll_of(dut):
    return eui64_addr("fe80::/64", dut.mac)


def global_of(dut, prefix=PREFIX):
    return eui64_addr(prefix, dut.mac)


@pytest.mark.rfc("4861 6.3.7", "4861 10")
@pytest.mark.dut("tern", reason="Linux's Router Solicitation schedule (rtr_solicit_interval 4 s with the RFC 7559 exponential backoff, rtr_solicit_delay) differs from the RFC 4861 section 6.3.7 timeline the scenario checks exactly")
def test_three_solicitations_four_seconds_apart_then_none(net):
    # "If a host sends MAX_RTR_SOLICITATIONS solicitations, and receives no Router Advertisements
    # after having waited MAX_RTR_SOLICITATION_DELAY seconds after sending the last solicitation,
    # the host concludes that there are no routers on the link"; section 10: RTR_SOLICITATION_INTERVAL
    # 4 seconds, MAX_RTR_SOLICITATIONS 3 transmissions.
    dut, peer, _ = bench(net)
    first = ready(peer, dut)
    for k in range(1, MAX_RTR_SOLICITATIONS):
        peer.expect(rs(ll_of(dut)), at=T(first.time_ns + k * RTR_SOLICITATION_INTERVAL), tolerance=0)
    peer.expect_nothing(for_="60s", matching=ICMPv6ND_RS())
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_rs_sent == 3


@pytest.mark.rfc("4861 6.3.7", "4861 4.1")
def test_solicitation_fields(net):
    # "The IP source address is set to either one of the interface's unicast addresses or the
    # unspecified address. The Source Link-Layer Address option SHOULD be set to the host's
    # link-layer address, if the IP source address is not the unspecified address."
    dut, peer, _ = bench(net)
    sol = ready(peer, dut)
    assert sol[Ether].dst == "33:33:00:00:00:02"
    assert sol[IPv6].src == ll_of(dut) and sol[IPv6].hlim == 255
    assert sol[ICMPv6ND_RS].code == 0
    assert has_sll(sol) and sol["ICMPv6 Neighbor Discovery Option - Source Link-Layer Address"].lladdr == dut.mac


@pytest.mark.rfc("4861 6.3.7")
def test_first_solicitation_not_delayed_again_after_dad(net):
    # "If a host has already performed a random delay since the interface became (re)enabled (e.g.,
    # as part of Duplicate Address Detection [ADDRCONF]), there is no need to delay again before
    # sending the first Router Solicitation message." It goes RetransTimer after the probe.
    dut, peer, _ = bench(net)
    ns = first_probe(peer, ll_of(dut))
    peer.expect(rs(ll_of(dut)), at=T(ns.time_ns + RETRANS_TIMER), tolerance=0)


@pytest.mark.rfc("4861 6.3.7")
def test_advertisement_stops_the_solicitations(net):
    # "Once the host sends a Router Solicitation, and receives a valid Router Advertisement with a
    # non-zero Router Lifetime, the host MUST desist from sending additional solicitations on that
    # interface". The control: test_three_solicitations_four_seconds_apart_then_none.
    dut, peer, _ = bench(net)
    ready(peer, dut, within="4.1s")
    peer.router_advertisement(router_lifetime=1800)
    peer.expect_nothing(for_="20s", matching=ICMPv6ND_RS())
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_rs_sent == 1


@pytest.mark.rfc("4861 6.3.7")
@pytest.mark.dut("tern", reason="Linux's Router Solicitation schedule (rtr_solicit_interval 4 s with the RFC 7559 exponential backoff, rtr_solicit_delay) differs from the RFC 4861 section 6.3.7 timeline the scenario checks exactly")
def test_zero_lifetime_advertisement_does_not_stop_them(net):
    # Only "a valid Router Advertisement with a non-zero Router Lifetime" ends the solicitations.
    dut, peer, _ = bench(net)
    first = ready(peer, dut)
    peer.router_advertisement(router_lifetime=0)
    peer.expect(rs(ll_of(dut)), at=T(first.time_ns + RTR_SOLICITATION_INTERVAL), tolerance=0)


@pytest.mark.rfc("4861 6.3.7")
@pytest.mark.dut("tern", reason="Linux's Router Solicitation schedule (rtr_solicit_interval 4 s with the RFC 7559 exponential backoff, rtr_solicit_delay) differs from the RFC 4861 section 6.3.7 timeline the scenario checks exactly")
def test_advertisement_before_any_solicitation_still_gets_one(net):
    # "Moreover, a host SHOULD send at least one solicitation in the case where an advertisement is
    # received prior to having sent a solicitation."
    dut, peer, _ = bench(net)
    ns = first_probe(peer, ll_of(dut))
    peer.router_advertisement(router_lifetime=1800)
    peer.expect(rs(ll_of(dut)), at=T(ns.time_ns + RETRANS_TIMER), tolerance=0)
    peer.expect_nothing(for_="10s", matching=ICMPv6ND_RS())


def _offlink_echo(peer, dut_addr, seq):
    """An Echo Request to the DUT from an off-link source: the reply must go to a default router."""
    peer.send(echo(dut_addr, seq=seq, src="2001:db8:99::5"))


@pytest.mark.rfc("4861 6.3.4", "4861 6.3.6", "4861 5.2")
def test_router_from_advertisement_carries_off_link_traffic(net):
    # "If the address is not already present in the host's Default Router List, and the
    # advertisement's Router Lifetime is non-zero, create a new entry in the list". Before the RA
    # the host has no route off the link (RFC 4861 5.2: off-link goes to a default router); after
    # it the reply goes to the router's MAC, no address resolution needed (the RA's Source
    # Link-Layer Address filled the cache).
    dut, peer, _ = bench(net, ipv6="2001:db8:1::1/64")
    peer.send(echo("2001:db8:1::1", seq=1, src="2001:db8:99::5"))
    peer.expect_nothing(for_="50ms", matching=ICMPv6EchoReply())
    peer.router_advertisement(router_lifetime=600)
    _offlink_echo(peer, "2001:db8:1::1", 2)
    reply = peer.expect(IPv6(src="2001:db8:1::1", dst="2001:db8:99::5") / ICMPv6EchoReply(seq=2), within="1ms")
    assert reply[Ether].dst == peer.mac


@pytest.mark.rfc("4861 6.3.5", "4861 6.3.4")
@pytest.mark.dut("tern", reason="exact start-up timeline of the Tern host (DAD, RS, address states at RetransTimer); the Linux kernel runs the same steps with random delays and timer-wheel lateness beyond the real-time tolerance")
def test_router_forgotten_when_its_lifetime_ends(net):
    # "Whenever the Lifetime of an entry in the Default Router List expires, that entry is
    # discarded." Router Lifetime 5 s: used until then, not after.
    dut, peer, _ = bench(net, ipv6="2001:db8:1::1/64")
    ra = peer.router_advertisement(router_lifetime=5)
    t0 = net.now_ns
    net.run(until=T(t0 + 5 * S - 1_000_000))
    _offlink_echo(peer, "2001:db8:1::1", 1)
    peer.expect(ICMPv6EchoReply(seq=1), within="1ms")
    net.run(until=T(t0 + 5 * S))
    _offlink_echo(peer, "2001:db8:1::1", 2)
    peer.expect_nothing(for_="100ms", matching=ICMPv6EchoReply())
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_routers_expired == 1
    assert ra is not None


@pytest.mark.rfc("4861 6.3.4")
def test_zero_lifetime_removes_the_router_at_once(net):
    # "If the address is already present in the host's Default Router List and the received Router
    # Lifetime value is zero, immediately time-out the entry".
    dut, peer, _ = bench(net, ipv6="2001:db8:1::1/64")
    peer.router_advertisement(router_lifetime=600)
    _offlink_echo(peer, "2001:db8:1::1", 1)
    peer.expect(ICMPv6EchoReply(seq=1), within="1ms")
    peer.router_advertisement(router_lifetime=0)
    _offlink_echo(peer, "2001:db8:1::1", 2)
    peer.expect_nothing(for_="100ms", matching=ICMPv6EchoReply())


@pytest.mark.rfc("4861 6.3.4")
def test_router_lifetime_is_reset_by_a_new_advertisement(net):
    # "If the address is already present in the host's Default Router List as a result of a
    # previously received advertisement, reset its invalidation timer to the Router Lifetime value
    # in the newly received advertisement."
    dut, peer, _ = bench(net, ipv6="2001:db8:1::1/64")
    peer.router_advertisement(router_lifetime=5)
    t0 = net.now_ns
    net.run(until=T(t0 + 4 * S))
    peer.router_advertisement(router_lifetime=5)
    net.run(until=T(t0 + 8 * S))
    _offlink_echo(peer, "2001:db8:1::1", 1)
    peer.expect(ICMPv6EchoReply(seq=1), within="1ms")
    net.run(until=T(t0 + 9 * S))
    _offlink_echo(peer, "2001:db8:1::1", 2)
    peer.expect_nothing(for_="100ms", matching=ICMPv6EchoReply())


@pytest.mark.rfc("4861 6.3.4", "4861 5.2")
def test_on_link_prefix_reached_directly(net):
    # "Prefix Information options that have the "on-link" (L) flag set indicate a prefix
    # identifying a range of addresses that should be considered on-link." A reply to an address of
    # that prefix is preceded by address resolution for it (not sent to the router).
    dut, peer, _ = bench(net, ipv6="fd00::1/64", peer_ipv6=["fd00::2/64", "2001:db8:5::7/64"])
    peer.router_advertisement(router_lifetime=600, prefixes=[
        {"prefix": "2001:db8:5::/64", "on_link": True, "autonomous": False}])
    answered = peer.nd_answered
    peer.send(echo("fd00::1", seq=1, src="2001:db8:5::7"))
    peer.expect(IPv6(dst="2001:db8:5::7") / ICMPv6EchoReply(seq=1), within="10ms")
    # the peer answered the host's solicitation for 2001:db8:5::7 (consumed, not in the inbox)
    assert peer.nd_answered == answered + 1 and peer.neighbors.get("fd00::1") == dut.mac


@pytest.mark.rfc("4861 6.3.4", "5942 4")
def test_prefix_without_on_link_flag_goes_through_the_router(net):
    # "a Prefix Information option with the on-link flag set to zero conveys no information
    # concerning on-link determination" and "The default behavior (see Section 5.2) when sending a
    # packet to an address for which no information is known about the on-link status of the
    # address is to forward the packet to a default router". No address resolution for the target.
    dut, peer, _ = bench(net, ipv6="fd00::1/64", peer_ipv6=["fd00::2/64", "2001:db8:5::7/64"])
    peer.router_advertisement(router_lifetime=600, prefixes=[
        {"prefix": "2001:db8:5::/64", "on_link": False, "autonomous": False}])
    answered = peer.nd_answered
    peer.send(echo("fd00::1", seq=1, src="2001:db8:5::7"))
    peer.expect(IPv6(dst="2001:db8:5::7") / ICMPv6EchoReply(seq=1), within="1ms")
    net.run(for_="100ms")
    assert peer.nd_answered == answered  # no solicitation for 2001:db8:5::7


@pytest.mark.rfc("4861 6.3.5", "4861 6.3.4")
def test_on_link_prefix_expires_with_its_valid_lifetime(net):
    # "Whenever the invalidation timer expires for a Prefix List entry, that entry is discarded."
    # Without a router, the destination is then unreachable.
    dut, peer, _ = bench(net, ipv6="fd00::1/64", peer_ipv6=["fd00::2/64", "2001:db8:5::7/64"])
    peer.router_advertisement(router_lifetime=0, prefixes=[
        {"prefix": "2001:db8:5::/64", "autonomous": False, "valid": 10, "preferred": 10}])
    t0 = net.now_ns
    peer.send(echo("fd00::1", seq=1, src="2001:db8:5::7"))
    peer.expect(ICMPv6EchoReply(seq=1), within="10ms")
    net.run(until=T(t0 + 10 * S))
    peer.send(echo("fd00::1", seq=2, src="2001:db8:5::7"))
    peer.expect_nothing(for_="100ms", matching=ICMPv6EchoReply())


@pytest.mark.rfc("4861 6.3.4")
def test_zero_valid_lifetime_cancels_on_link(net):
    # "If the new Lifetime value is zero, time-out the prefix immediately". With a router, the
    # destination is then reached through it.
    dut, peer, _ = bench(net, ipv6="fd00::1/64",
                         peer_ipv6=["fd00::2/64", "2001:db8:5::7/64", "2001:db8:5::8/64"])
    peer.router_advertisement(router_lifetime=600, prefixes=[{"prefix": "2001:db8:5::/64", "autonomous": False}])
    answered = peer.nd_answered
    peer.send(echo("fd00::1", seq=1, src="2001:db8:5::8"))
    peer.expect(ICMPv6EchoReply(seq=1), within="10ms")
    assert peer.nd_answered == answered + 1  # resolved on-link
    peer.router_advertisement(router_lifetime=600, prefixes=[
        {"prefix": "2001:db8:5::/64", "autonomous": False, "valid": 0, "preferred": 0}])
    peer.send(echo("fd00::1", seq=2, src="2001:db8:5::7"))
    peer.expect(IPv6(dst="2001:db8:5::7") / ICMPv6EchoReply(seq=2), within="1ms")
    net.run(for_="100ms")
    assert peer.nd_answered == answered + 1  # through the router: no solicitation for ::7


@pytest.mark.rfc("4861 6.3.4")
def test_cur_hop_limit_from_advertisement(net):
    # "If the received Cur Hop Limit value is non-zero, the host SHOULD set its CurHopLimit variable
    # to the received value." Zero leaves it alone.
    dut, peer, _ = bench(net, ipv6="fd00::1/64")
    peer.send(echo("fd00::1", seq=1))
    assert peer.expect(ICMPv6EchoReply(seq=1), within="10ms")[IPv6].hlim == 64
    peer.router_advertisement(router_lifetime=0, hop_limit=7)
    peer.send(echo("fd00::1", seq=2))
    assert peer.expect(ICMPv6EchoReply(seq=2), within="10ms")[IPv6].hlim == 7
    peer.router_advertisement(router_lifetime=0, hop_limit=0)
    peer.send(echo("fd00::1", seq=3))
    assert peer.expect(ICMPv6EchoReply(seq=3), within="10ms")[IPv6].hlim == 7


@pytest.mark.rfc("4861 6.3.4", "4862 5.1")
def test_retrans_timer_from_advertisement_paces_dad(net):
    # "The RetransTimer variable SHOULD be copied from the Retrans Timer field, if the received
    # value is non-zero." RFC 4862 5.1: for DAD, "RetransTimer specifies the delay between
    # consecutive Neighbor Solicitation transmissions ... as well as the time a node waits after
    # sending the last Neighbor Solicitation". Retrans Timer 300 ms with two transmits: probes
    # 300 ms apart, the address assigned 300 ms after the second.
    dut, peer, _ = bench(net, dad_transmits=2)
    ready(peer, dut)
    g = global_of(dut)
    peer.router_advertisement(dst=ll_of(dut), retrans_timer=300, prefixes=[PREFIX])
    t = net.now_ns
    net.run(until=T(t + 599_000_000))
    peer.send(echo(g, seq=1))
    peer.expect_nothing(for_="0.5ms", matching=echo_reply(g, seq=1))
    net.run(until=T(t + 600_000_000))
    peer.send(echo(g, seq=2))
    peer.expect(echo_reply(g, seq=2), within="1ms")
    # the two probes, from the inbox
    peer.expect(dad_ns(g), at=T(t), tolerance=0)
    peer.expect(dad_ns(g), at=T(t + 300_000_000), tolerance=0)


@pytest.mark.rfc("4861 6.3.4", "8200 5")
def test_mtu_option_lowers_the_link_mtu(net):
    # "If the MTU option is present, hosts SHOULD copy the option's value into LinkMTU so long as
    # the value is greater than or equal to the minimum link MTU [IPv6] and does not exceed the
    # maximum LinkMTU value". MTU 1400: a 1452-byte echo is answered in fragments of at most 1400.
    dut, peer, _ = bench(net, ipv6="fd00::1/64")
    peer.router_advertisement(router_lifetime=0, mtu=1400)
    peer.send(IPv6(dst="fd00::1") / ICMPv6EchoRequest(id=1, seq=1, data=b"x" * 1444))
    first = peer.expect(IPv6ExtHdrFragment(offset=0), within="10ms")
    assert len(first[IPv6]) <= 1400
    peer.expect(IPv6ExtHdrFragment(m=0), within="1ms")


@pytest.mark.rfc("4861 6.3.4")
@pytest.mark.parametrize("mtu", [1279, 9000])
def test_mtu_option_out_of_range_ignored(net, mtu):
    # Below the IPv6 minimum (1280) or above the link's MTU (1500): not copied. The same echo
    # comes back whole.
    dut, peer, _ = bench(net, ipv6="fd00::1/64")
    peer.router_advertisement(router_lifetime=0, mtu=mtu)
    peer.send(IPv6(dst="fd00::1") / ICMPv6EchoRequest(id=1, seq=1, data=b"x" * 1444))
    reply = peer.expect(ICMPv6EchoReply(seq=1), within="10ms")
    assert len(reply[IPv6]) == 1492
    peer.expect_nothing(for_="10ms", matching=IPv6ExtHdrFragment())
