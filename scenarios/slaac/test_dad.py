"""Duplicate Address Detection (RFC 4862 section 5.4) on every address, the link-local one first,
with the timing of RFC 4862 section 5.4.2 and RFC 4861 section 10: the first probe after a random
delay in [0, MAX_RTR_SOLICITATION_DELAY = 1 s], DupAddrDetectTransmits (1) probes RetransTimer (1 s)
apart, the address assigned RetransTimer after the last one."""

from __future__ import annotations

import pytest
from scapy.layers.inet6 import ICMPv6MLReport2, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RS, IPv6
from scapy.layers.l2 import Ether

from autoconf_kit import (MAX_RTR_SOLICITATION_DELAY, T, ready, PREFIX, RETRANS_TIMER, S, bench, dad_ns, echo, echo_reply,
                          eui64_addr, first_probe, has_router_alert, has_sll, mld_report, na_for, records, rs,
                          solicited_node)
from pyharness.dut import tern_stack

pytestmark = pytest.mark.area("slaac")


def ll_of(dut):
    return eui64_addr("fe80::/64", dut.mac)


@pytest.mark.rfc("4862 5.4.2", "4861 10")
def test_first_probe_after_random_delay_of_at_most_one_second(net):
    # "If the Neighbor Solicitation is going to be the first message sent from an interface after
    # interface (re)initialization, the node SHOULD delay joining the solicited-node multicast
    # address by a random delay between 0 and MAX_RTR_SOLICITATION_DELAY" (RFC 4862 5.4.2), which
    # RFC 4861 section 10 puts at 1 second. Three hosts started together on a switch draw three
    # different delays from their own seeded generators.
    sw = net.switch("sw", ports=4)
    peer = net.peer("peer")
    net.link(sw, peer)
    hosts = [net.host(f"h{i}") for i in range(3)]
    for h in hosts:
        net.link(sw, h)
    times = []
    for h in hosts:
        ns = peer.expect(dad_ns(ll_of(h)), within="1.001s")
        assert 0 <= ns.time_ns <= MAX_RTR_SOLICITATION_DELAY
        times.append(ns.time_ns)
    assert len(set(times)) == 3


@pytest.mark.rfc("4862 5.4.2", "4862 5.3")
def test_link_local_probe_fields(net):
    # "The solicitation's Target Address is set to the address being checked, the IP source is set
    # to the unspecified address, and the IP destination is set to the solicited-node multicast
    # address of the target address." The link-local address: FE80::0 and the interface
    # identifier (RFC 4862 5.3), here the modified EUI-64 of the MAC.
    dut, peer, _ = bench(net)
    ll = ll_of(dut)
    ns = first_probe(peer, ll)
    sn = solicited_node(ll)
    assert ns[Ether].dst == "33:33:" + ":".join(sn.split(":")[-2][i:i + 2] for i in (0, 2)) + ":" + \
        ":".join(sn.split(":")[-1].rjust(4, "0")[i:i + 2] for i in (0, 2))
    assert ns[IPv6].hlim == 255 and ns[IPv6].src == "::" and ns[IPv6].dst == sn
    assert ns[ICMPv6ND_NS].code == 0
    # RFC 4861 section 4.3: the Source Link-Layer Address "MUST NOT be included when the source IP
    # address is the unspecified address".
    assert not has_sll(ns)


@pytest.mark.rfc("4862 5.4.2", "3810 5.2.13", "3810 5")
@pytest.mark.dut("tern", reason="exact start-up timeline of the Tern host (DAD, RS, address states at RetransTimer); the Linux kernel runs the same steps with random delays and timer-wheel lateness beyond the real-time tolerance")
def test_solicited_node_group_reported_before_the_probe(net):
    # "Before sending a Neighbor Solicitation, an interface MUST join the all-nodes multicast
    # address and the solicited-node multicast address of the tentative address." The join is an
    # MLDv2 report, from :: since no link-local address is valid yet ("An MLDv2 Report MUST be sent
    # with a valid IPv6 link-local source address, or the unspecified address (::), if the sending
    # interface has not acquired a valid link-local address yet."), hop limit 1 with a Router Alert.
    dut, peer, _ = bench(net)
    ll = ll_of(dut)
    rep = peer.expect(mld_report(src="::"), within="1.001s", strict=True)
    assert has_router_alert(rep)
    assert records(rep) == [(4, solicited_node(ll), [])]  # CHANGE_TO_EXCLUDE_MODE {}
    ns = peer.expect(dad_ns(ll), within="1ms", strict=True)
    assert ns.time_ns == rep.time_ns


@pytest.mark.rfc("4862 5.4", "4862 5.1", "4861 6.3.7")
@pytest.mark.dut("tern", reason="exact start-up timeline of the Tern host (DAD, RS, address states at RetransTimer); the Linux kernel runs the same steps with random delays and timer-wheel lateness beyond the real-time tolerance")
def test_link_local_assigned_retrans_timer_after_the_probe(net):
    # "An address is considered unique if none of the tests indicate the presence of a duplicate
    # address within RetransTimer milliseconds after having sent DupAddrDetectTransmits Neighbor
    # Solicitations." With DupAddrDetectTransmits 1 and RetransTimer 1 s: tentative until exactly
    # 1 s after the probe, then preferred; the first Router Solicitation, from it, goes then.
    dut, peer, _ = bench(net)
    ll = ll_of(dut)
    ns = first_probe(peer, ll)
    net.run(until=T(ns.time_ns + RETRANS_TIMER - 1))
    assert dut.ipv6_addresses()[0] == (ll, 64, "tentative")
    net.run(until=T(ns.time_ns + RETRANS_TIMER))
    assert dut.ipv6_addresses()[0] == (ll, 64, "preferred")
    peer.expect(rs(ll), at=T(ns.time_ns + RETRANS_TIMER), tolerance=0)


@pytest.mark.rfc("4862 5.1", "4862 5.4.2")
def test_three_transmits_one_retrans_timer_apart(net):
    # "To check an address, a node sends DupAddrDetectTransmits Neighbor Solicitations, each
    # separated by RetransTimer milliseconds."
    dut, peer, _ = bench(net, dad_transmits=3)
    ll = ll_of(dut)
    first = first_probe(peer, ll)
    for k in (1, 2):
        peer.expect(dad_ns(ll), at=T(first.time_ns + k * RETRANS_TIMER), tolerance=0)
    peer.expect(rs(ll), at=T(first.time_ns + 3 * RETRANS_TIMER), tolerance=0)
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().dad_probes_sent == 3


@pytest.mark.rfc("4862 5.4", "4862 5.1", "4861 6.3.7")
def test_no_dad_when_transmits_zero(net):
    # "An interface whose DupAddrDetectTransmits variable is set to zero does not perform Duplicate
    # Address Detection." The address is assigned at once; the first Router Solicitation then takes
    # the random delay of RFC 4861 6.3.7 itself, since no DAD delay came before it.
    dut, peer, _ = bench(net, dad_transmits=0)
    ll = ll_of(dut)
    net.run(until=T(1))
    assert dut.ipv6_addresses()[0] == (ll, 64, "preferred")
    sol = peer.expect(rs(ll), within="1.001s")
    assert sol.time_ns <= MAX_RTR_SOLICITATION_DELAY
    peer.expect_nothing(for_="3.9s", matching=ICMPv6ND_NS())
    # positive control of the matcher: the default host probes
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().dad_probes_sent == 0


@pytest.mark.rfc("4862 5.4")
@pytest.mark.dut("tern", reason="exact start-up timeline of the Tern host (DAD, RS, address states at RetransTimer); the Linux kernel runs the same steps with random delays and timer-wheel lateness beyond the real-time tolerance")
def test_tentative_address_receives_nothing(net):
    # "Other packets addressed to the tentative address should be silently discarded." An Echo
    # Request to the link-local address while it is tentative gets no answer; the same request once
    # the address is assigned does (positive control).
    dut, peer, _ = bench(net)
    ll = ll_of(dut)
    peer.send(echo(ll, seq=1))
    peer.expect_nothing(for_="2.5ms", matching=echo_reply(ll))
    ns = first_probe(peer, ll)
    peer.send(echo(ll, seq=2))
    peer.expect_nothing(for_="100ms", matching=echo_reply(ll))
    net.run(until=T(ns.time_ns + RETRANS_TIMER))
    peer.send(echo(ll, seq=3))
    peer.expect(echo_reply(ll, seq=3), within="1ms")


@pytest.mark.rfc("4862 5.4.3")
def test_solicitation_from_unicast_source_for_tentative_address_is_ignored(net):
    # "If the target address is tentative, and the source address is a unicast address, the
    # solicitation's sender is performing address resolution on the target; the solicitation
    # should be silently ignored." and "In all cases, a node MUST NOT respond to a Neighbor
    # Solicitation for a tentative address." The address is still assigned after the test.
    dut, peer, _ = bench(net)
    ll = ll_of(dut)
    ns = first_probe(peer, ll)
    from pyharness.nd import neighbor_solicit
    from pyharness.nodes import parse_mac

    peer.send(neighbor_solicit(parse_mac(peer.mac), peer.link_local, ll))
    peer.expect_nothing(for_="500ms", matching=ICMPv6ND_NA(tgt=ll))
    peer.expect(rs(ll), at=T(ns.time_ns + RETRANS_TIMER), tolerance=0)
    # positive control: once assigned, the same solicitation is answered
    peer.send(neighbor_solicit(parse_mac(peer.mac), peer.link_local, ll))
    peer.expect(ICMPv6ND_NA(tgt=ll), within="1ms")


@pytest.mark.rfc("4862 5.4.3", "4862 5.4.5")
def test_solicitation_from_unspecified_source_makes_a_duplicate(net):
    # "If the source address of the Neighbor Solicitation is the unspecified address, the
    # solicitation is from a node performing Duplicate Address Detection. If the solicitation is
    # from another node, the tentative address is a duplicate and should not be used (by either
    # node)." "A tentative address that is determined to be a duplicate as described above MUST
    # NOT be assigned to an interface".
    dut, peer, _ = bench(net, ipv6="fd00::1/64", dad=True)
    target = "fd00::1"
    ns = first_probe(peer, target)
    peer.send(Ether(dst="33:33:ff:00:00:01") / dad_ns(target))
    net.run(until=T(ns.time_ns + 2 * RETRANS_TIMER))
    assert target not in [a for a, _, _ in dut.ipv6_addresses()]
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().dad_duplicates == 1
    peer.send(echo(target))
    peer.expect_nothing(for_="10ms", matching=echo_reply(target))
    # positive control: the link-local address, not duplicated, answers
    peer.send(echo(ll_of(dut), seq=2))
    peer.expect(echo_reply(ll_of(dut), seq=2), within="1ms")


@pytest.mark.rfc("4862 5.4.3")
def test_solicitation_before_our_own_probe_makes_a_duplicate(net):
    # "If a Neighbor Solicitation for a tentative address is received before one is sent, the
    # tentative address is a duplicate." During the random delay the interface listens ("an
    # interface MUST receive and process datagrams sent to the all-nodes multicast address or
    # solicited-node multicast address of the tentative address during the delay period"): the
    # host never probes for the address, nor uses it.
    dut, peer, _ = bench(net, ipv6="fd00::1/64", dad=True)
    target = "fd00::1"
    peer.send(Ether(dst="33:33:ff:00:00:01") / dad_ns(target))
    ll = ll_of(dut)
    first_probe(peer, ll, within="1.1s")
    peer.expect_nothing(for_="3s", matching=ICMPv6ND_NS(tgt=target))
    assert target not in [a for a, _, _ in dut.ipv6_addresses()]
    # positive control: the link-local address went through
    assert dut.ipv6_addresses()[0] == (ll, 64, "preferred")


@pytest.mark.rfc("4862 5.4.4", "4862 5.4.5")
def test_advertisement_for_tentative_address_makes_a_duplicate(net):
    # "If the target address is tentative, the tentative address is not unique."
    dut, peer, _ = bench(net, ipv6="fd00::1/64", dad=True)
    target = "fd00::1"
    ns = first_probe(peer, target, within="1.1s")
    peer.send(na_for(peer, target))
    net.run(until=T(ns.time_ns + RETRANS_TIMER))
    assert target not in [a for a, _, _ in dut.ipv6_addresses()]
    peer.send(echo(target))
    peer.expect_nothing(for_="10ms", matching=echo_reply(target))


@pytest.mark.rfc("4862 5.4")
def test_static_address_checked_with_the_link_local_one(net):
    # "Duplicate Address Detection MUST be performed on all unicast addresses prior to assigning
    # them to an interface, regardless of whether they are obtained through stateless
    # autoconfiguration, DHCPv6, or manual configuration". The link-local address goes first, the
    # configured one at the same instant; both are assigned RetransTimer later.
    dut, peer, _ = bench(net, peer_ipv6="fd00::2/64", ipv6="fd00::1/64", dad=True)
    ll = ll_of(dut)
    a = peer.expect(dad_ns(ll), within="1.001s", strict=False)
    b = peer.expect(dad_ns("fd00::1"), within="1ms")
    assert a.time_ns == b.time_ns
    peer.send(echo("fd00::1", src="fd00::2"))
    peer.expect_nothing(for_="100ms", matching=echo_reply("fd00::1"))
    net.run(until=T(a.time_ns + RETRANS_TIMER))
    peer.send(echo("fd00::1", seq=2, src="fd00::2"))
    peer.expect(echo_reply("fd00::1", seq=2), within="10ms")


@pytest.mark.rfc("4862 5.4.5")
def test_duplicate_mac_derived_link_local_stops_ipv6(net):
    # "If the address is a link-local address formed from an interface identifier based on the
    # hardware address, which is supposed to be uniquely assigned (e.g., EUI-64 for an Ethernet
    # interface), IP operation on the interface SHOULD be disabled. By disabling IP operation, the
    # node will then: - not send any IP packets from the interface, - silently drop any IP packets
    # received on the interface". The host sends no Router Solicitation, forms nothing from a
    # Router Advertisement, and its configured address (whose own DAD passed) answers nothing.
    dut, peer, _ = bench(net, ipv6="fd00::1/64", dad=True, slaac=True, peer_ipv6=["fd00::2/64"])
    ll = ll_of(dut)
    ns = first_probe(peer, ll, within="1.1s")
    peer.send(na_for(peer, ll))
    peer.expect_nothing(for_="12s", matching=ICMPv6ND_RS())
    peer.router_advertisement(prefixes=[PREFIX])
    peer.expect_nothing(for_="2s", matching=ICMPv6ND_NS())
    peer.send(echo("fd00::1", src="fd00::2"))
    peer.expect_nothing(for_="100ms", matching=echo_reply("fd00::1"))
    # nothing received is processed: a solicitation for the configured address gets no answer
    from pyharness.nd import neighbor_solicit
    from pyharness.nodes import parse_mac

    peer.send(neighbor_solicit(parse_mac(peer.mac), "fd00::2", "fd00::1"))
    peer.expect_nothing(for_="100ms", matching=ICMPv6ND_NA())
    # and nothing is sent: a join is not reported
    dut.join_group("ff05::1:3")
    peer.expect_nothing(for_="2s", matching=ICMPv6MLReport2())
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().dad_duplicates == 1 and dut.counters().ip6_iface_disabled >= 1
    assert ll not in [a for a, _, _ in dut.ipv6_addresses()]
    assert ns.time_ns <= MAX_RTR_SOLICITATION_DELAY


@pytest.mark.rfc("4862 5.4.5")
def test_no_duplicate_keeps_ipv6_running(net):
    # The positive control of the test above: the same host without the conflicting advertisement
    # answers on its configured address.
    dut, peer, _ = bench(net, ipv6="fd00::1/64", dad=True, slaac=True, peer_ipv6=["fd00::2/64"])
    ns = first_probe(peer, ll_of(dut))
    net.run(until=T(ns.time_ns + RETRANS_TIMER))
    peer.send(echo("fd00::1", src="fd00::2"))
    peer.expect(echo_reply("fd00::1"), within="10ms")
    from pyharness.nd import neighbor_solicit
    from pyharness.nodes import parse_mac

    peer.send(neighbor_solicit(parse_mac(peer.mac), "fd00::2", "fd00::1"))
    peer.expect(ICMPv6ND_NA(tgt="fd00::1"), within="1ms")
    dut.join_group("ff05::1:3")
    peer.expect(ICMPv6MLReport2(), within="1ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_iface_disabled == 0


@pytest.mark.rfc("4862 5.4")
@pytest.mark.dut("tern", reason="exact start-up timeline of the Tern host (DAD, RS, address states at RetransTimer); the Linux kernel runs the same steps with random delays and timer-wheel lateness beyond the real-time tolerance")
def test_address_added_at_run_time_is_probed(net):
    # DAD "regardless of whether they are obtained through stateless autoconfiguration, DHCPv6, or
    # manual configuration": an address added to a running host is tentative, probed at once, and
    # answers RetransTimer later.
    dut, peer, _ = bench(net, peer_ipv6=["fd00::2/64"])
    ready(peer, dut)
    dut.add_address("fd00::5/64")
    t = net.now_ns
    peer.expect(dad_ns("fd00::5"), at=T(t), tolerance=0)
    peer.send(echo("fd00::5", seq=1, src="fd00::2"))
    peer.expect_nothing(for_="500ms", matching=echo_reply("fd00::5", seq=1))
    net.run(until=T(t + RETRANS_TIMER))
    peer.send(echo("fd00::5", seq=2, src="fd00::2"))
    peer.expect(echo_reply("fd00::5", seq=2), within="10ms")


@pytest.mark.rfc("4862 5.4.4")
def test_unrelated_advertisement_does_not_stop_dad(net):
    # "Otherwise, the advertisement is processed as described in [RFC4861]." An advertisement for
    # another address leaves the test of ours alone.
    dut, peer, _ = bench(net)
    ll = ll_of(dut)
    ns = first_probe(peer, ll)
    peer.send(na_for(peer, "fe80::1234"))
    peer.expect(rs(ll), at=T(ns.time_ns + RETRANS_TIMER), tolerance=0)
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().dad_duplicates == 0
