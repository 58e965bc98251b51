"""Stateless address autoconfiguration of global addresses (RFC 4862 section 5.5): Prefix
Information options, the address lifetimes and their expiry, the two-hour rule, and the option to
turn it off."""

from __future__ import annotations

import pytest
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6ND_NA, ICMPv6ND_NS, IPv6
from scapy.layers.l2 import Ether

from autoconf_kit import (MAX_RTR_SOLICITATION_DELAY, PREFIX, RETRANS_TIMER, S, T, addr_state, bench, dad_ns,
                          dad_within, echo,
                          echo_reply, eui64_addr, multicast_echo, ready)
from pyharness.dut import tern_stack

pytestmark = pytest.mark.area("slaac")

HOUR = 3600 * S


def ll_of(dut):
    return eui64_addr("fe80::/64", dut.mac)


def g_of(dut, prefix=PREFIX):
    return eui64_addr(prefix, dut.mac)


def advertise(peer, dut, *prefixes, **fields):
    """A Router Advertisement sent to the DUT's link-local address (unicast: RFC 4862 5.4.2 asks
    the random delay only for a multicast one, so DAD starts at once)."""
    fields.setdefault("router_lifetime", 0)
    return peer.router_advertisement(dst=ll_of(dut), prefixes=list(prefixes), **fields)


def assigned(net, peer, dut, addr, within=None):
    """Wait for addr's DAD to end (its probe within `within`, default :func:`dad_within`, RetransTimer later)."""
    ns = peer.expect(dad_ns(addr), within=within or dad_within(dut))
    # A DUT in real time (Linux) ends DAD on its timer wheel, some milliseconds after RetransTimer.
    late = 0 if tern_stack(dut) else dut.profile.tolerance(RETRANS_TIMER)
    net.run(until=T(ns.time_ns + RETRANS_TIMER + late))
    return ns


@pytest.mark.rfc("4862 5.5", "4862 5.5.3")
def test_global_address_from_a_prefix(net):
    # "Global addresses are formed by appending an interface identifier to a prefix of appropriate
    # length. Prefixes are obtained from Prefix Information options contained in Router
    # Advertisements." The address is probed, then answers.
    dut, peer, _ = bench(net)
    ready(peer, dut)
    advertise(peer, dut, PREFIX)
    g = g_of(dut)
    assigned(net, peer, dut, g)
    peer.send(echo(g))
    peer.expect(echo_reply(g), within="1ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().slaac_addrs_formed == 1


@pytest.mark.rfc("4862 5.4")
def test_global_address_probed_though_it_shares_the_link_local_identifier(net):
    # "Each individual unicast address SHOULD be tested for uniqueness." and new implementations
    # "MUST NOT do that optimization" of testing only the link-local address.
    dut, peer, _ = bench(net)
    ready(peer, dut)
    advertise(peer, dut, PREFIX)
    ns = peer.expect(dad_ns(g_of(dut)), within=dad_within(dut))
    assert ns[ICMPv6ND_NS].tgt != ll_of(dut)


@pytest.mark.rfc("4862 5.4.2")
def test_multicast_advertisement_delays_the_probe(net):
    # "Even if the Neighbor Solicitation is not going to be the first message sent, the node SHOULD
    # delay joining the solicited-node multicast address by a random delay between 0 and
    # MAX_RTR_SOLICITATION_DELAY if the address being checked is configured by a router
    # advertisement message sent to a multicast address." A unicast one: no delay (below).
    dut, peer, _ = bench(net)
    ready(peer, dut)
    peer.router_advertisement(router_lifetime=0, prefixes=[PREFIX])
    t = net.now_ns
    ns = peer.expect(dad_ns(g_of(dut)), within="1.001s")
    assert t <= ns.time_ns <= t + MAX_RTR_SOLICITATION_DELAY


@pytest.mark.rfc("4862 5.4.2")
@pytest.mark.dut("tern", reason="Tern's choice: no random delay for an address from a unicast RA; Linux delays "
                 "every first DAD probe by a random 0..rtr_solicit_delay, which RFC 4862 5.4.2 leaves open")
def test_unicast_advertisement_probes_at_once(net):
    dut, peer, _ = bench(net)
    ready(peer, dut)
    advertise(peer, dut, PREFIX)
    peer.expect(dad_ns(g_of(dut)), at=T(net.now_ns), tolerance=0)


@pytest.mark.rfc("4862 5.5.3")
@pytest.mark.parametrize("option,why", [
    ({"prefix": "2001:db8:1::/64", "autonomous": False}, "a) Autonomous flag not set"),
    ({"prefix": "fe80::/64"}, "b) the link-local prefix"),
    ({"prefix": "2001:db8:1::/64", "valid": 300, "preferred": 600}, "c) preferred lifetime > valid"),
    ({"prefix": "2001:db8:1::/48"}, "d) 48 + 64 != 128"),
    ({"prefix": "2001:db8:1::/80"}, "d) 80 + 64 != 128"),
    ({"prefix": "2001:db8:1::/64", "valid": 0, "preferred": 0}, "d) Valid Lifetime 0"),
])
def test_prefix_option_ignored(net, option, why):
    # a) "If the Autonomous flag is not set, silently ignore the Prefix Information option."
    # b) "If the prefix is the link-local prefix, silently ignore the Prefix Information option."
    # c) "If the preferred lifetime is greater than the valid lifetime, silently ignore the Prefix
    #    Information option."
    # d) "if the Valid Lifetime is not 0, form an address"; "If the sum of the prefix length and
    #    interface identifier length does not equal 128 bits, the Prefix Information option MUST
    #    be ignored."
    dut, peer, _ = bench(net)
    ready(peer, dut)
    advertise(peer, dut, option)
    peer.expect_nothing(for_="2s", matching=ICMPv6ND_NS())
    assert len(dut.ipv6_addresses()) == 1, why
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().slaac_prefixes_ignored == 1
    # positive control: a good option in the next RA forms an address
    advertise(peer, dut, "2001:db8:2::/64")
    peer.expect(dad_ns(g_of(dut, "2001:db8:2::/64")), within=dad_within(dut))


@pytest.mark.rfc("4862 5.5")
def test_slaac_off(net):
    # "Creation of global addresses as described in this section SHOULD be locally configurable.
    # However, the processing described below MUST be enabled by default." With slaac=False (and
    # no static address) the host starts quiet and forms nothing; the default host forms (the
    # other tests).
    dut, peer, _ = bench(net, slaac=False)
    peer.expect_nothing(for_="12s")
    peer.router_advertisement(router_lifetime=0, prefixes=[PREFIX])
    peer.expect_nothing(for_="2s")
    assert [a for a, _, _ in dut.ipv6_addresses()] == [ll_of(dut)]
    # positive control: the host is alive on its link-local address
    peer.send(echo(ll_of(dut)))
    peer.expect(echo_reply(ll_of(dut)), within="1ms")


@pytest.mark.rfc("4862 5.5")
def test_slaac_off_but_dad_on(net):
    # slaac=False, dad=True: the link-local address is checked and the host solicits routers, but an
    # advertised prefix forms no address.
    dut, peer, _ = bench(net, slaac=False, dad=True)
    ready(peer, dut, within="4.1s")
    advertise(peer, dut, PREFIX)
    peer.expect_nothing(for_="2s", matching=ICMPv6ND_NS())
    assert len(dut.ipv6_addresses()) == 1


@pytest.mark.rfc("4862 5.5.3", "4862 5.5.4")
def test_lifetimes_from_the_option_deprecate_then_invalidate(net):
    # "the host adds it to the list of addresses assigned to the interface, initializing its
    # preferred and valid lifetime values from the Prefix Information option." / "A preferred
    # address becomes deprecated when its preferred lifetime expires." / "An address (and its
    # association with an interface) becomes invalid when its valid lifetime expires."
    dut, peer, _ = bench(net)
    ready(peer, dut)
    advertise(peer, dut, {"prefix": PREFIX, "preferred": 100, "valid": 200})
    t = net.now_ns
    g = g_of(dut)
    assigned(net, peer, dut, g)
    net.run(until=T(t + 100 * S - 1))
    assert addr_state(dut, g) == "preferred"
    net.run(until=T(t + 100 * S))
    assert addr_state(dut, g) == "deprecated"
    net.run(until=T(t + 200 * S - 1))
    assert addr_state(dut, g) == "deprecated"
    net.run(until=T(t + 200 * S))
    assert addr_state(dut, g) is None
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().slaac_addrs_expired == 1


@pytest.mark.rfc("4862 5.5.4")
def test_deprecated_address_still_receives(net):
    # "IP and higher layers (e.g., TCP, UDP) MUST continue to accept and process datagrams destined
    # to a deprecated address as normal since a deprecated address is still a valid address for
    # the interface."
    dut, peer, _ = bench(net)
    ready(peer, dut)
    advertise(peer, dut, {"prefix": PREFIX, "preferred": 10, "valid": 100})
    g = g_of(dut)
    assigned(net, peer, dut, g)
    net.run(for_="20s")
    assert addr_state(dut, g) == "deprecated"
    peer.send(echo(g))
    peer.expect(echo_reply(g), within="1ms")


@pytest.mark.rfc("4862 5.5.4")
def test_invalid_address_neither_receives_nor_answers_solicitations(net):
    # "An invalid address MUST NOT be used as a source address in outgoing communications and MUST
    # NOT be recognized as a destination on a receiving interface." The peer keeps the host's MAC.
    dut, peer, _ = bench(net)
    ready(peer, dut)
    advertise(peer, dut, {"prefix": PREFIX, "preferred": 10, "valid": 30})
    g = g_of(dut)
    assigned(net, peer, dut, g)
    peer.send(echo(g, seq=1))
    peer.expect(echo_reply(g, seq=1), within="1ms")  # positive control
    net.run(for_="30s")
    peer.send(Ether(dst=dut.mac) / echo(g, seq=2))
    peer.expect_nothing(for_="100ms", matching=ICMPv6EchoReply())
    from pyharness.nd import neighbor_solicit
    from pyharness.nodes import parse_mac

    peer.send(neighbor_solicit(parse_mac(peer.mac), peer.link_local, g))
    peer.expect_nothing(for_="100ms", matching=ICMPv6ND_NA(tgt=g))


@pytest.mark.rfc("4862 5.5.3")
def test_preferred_lifetime_reset_by_the_next_option(net):
    # "e) If the advertised prefix is equal to the prefix of an address configured by stateless
    # autoconfiguration in the list, the preferred lifetime of the address is reset to the Preferred
    # Lifetime in the received advertisement." A deprecated address becomes preferred again.
    dut, peer, _ = bench(net)
    ready(peer, dut)
    advertise(peer, dut, {"prefix": PREFIX, "preferred": 10, "valid": 7200})
    g = g_of(dut)
    assigned(net, peer, dut, g, within=dad_within(dut))  # the positive control: its DAD probe
    net.run(for_="15s")
    assert addr_state(dut, g) == "deprecated"
    advertise(peer, dut, {"prefix": PREFIX, "preferred": 60, "valid": 7200})
    net.run(for_="1ms")
    assert addr_state(dut, g) == "preferred"
    peer.expect_nothing(for_="1s", matching=dad_ns(g))  # the same address: no new probe


def _lifetime_end(net, peer, dut, first_valid, later_valid):
    """An address from an RA with Valid Lifetime first_valid (at t1), then, once assigned, an RA
    with later_valid (at t2). Returns (t1, t2, address)."""
    ready(peer, dut)
    advertise(peer, dut, {"prefix": PREFIX, "preferred": 0, "valid": first_valid})
    t1 = net.now_ns
    g = g_of(dut)
    assigned(net, peer, dut, g)
    advertise(peer, dut, {"prefix": PREFIX, "preferred": 0, "valid": later_valid})
    return t1, net.now_ns, g


def _gone_at(net, dut, g, t):
    net.run(until=T(t - 1))
    assert addr_state(dut, g) == "deprecated"
    net.run(until=T(t))
    assert addr_state(dut, g) is None


@pytest.mark.rfc("4862 5.5.3")
def test_two_hour_rule_longer_than_remaining_is_taken(net):
    # "1. If the received Valid Lifetime is greater than 2 hours or greater than RemainingLifetime,
    # set the valid lifetime of the corresponding address to the advertised Valid Lifetime."
    # Remaining about 60 min, received 90 min: valid until 90 min after that RA.
    dut, peer, _ = bench(net)
    t1, t2, g = _lifetime_end(net, peer, dut, 3600, 5400)
    _gone_at(net, dut, g, t2 + 5400 * S)


@pytest.mark.rfc("4862 5.5.3")
def test_two_hour_rule_short_lifetime_ignored_when_two_hours_or_less_remain(net):
    # "2. If RemainingLifetime is less than or equal to 2 hours, ignore the Prefix Information
    # option with regards to the valid lifetime". Remaining about 60 min, received 10 min: the
    # address lives to the end of the first lifetime.
    dut, peer, _ = bench(net)
    t1, t2, g = _lifetime_end(net, peer, dut, 3600, 600)
    net.run(until=T(t2 + 1800 * S))
    assert addr_state(dut, g) == "deprecated"
    _gone_at(net, dut, g, t1 + 3600 * S)


@pytest.mark.rfc("4862 5.5.3")
def test_two_hour_rule_otherwise_two_hours(net):
    # "3. Otherwise, reset the valid lifetime of the corresponding address to 2 hours."
    # Remaining about 5 h, received 10 min: invalid exactly 2 hours after that RA.
    dut, peer, _ = bench(net)
    t1, t2, g = _lifetime_end(net, peer, dut, 5 * 3600, 600)
    _gone_at(net, dut, g, t2 + 2 * HOUR)


@pytest.mark.rfc("4862 5.5.3")
def test_two_hour_rule_more_than_two_hours_taken_even_if_shorter(net):
    # Rule 1's first half: a received Valid Lifetime above 2 hours is taken even when shorter than
    # what remains. Remaining about 5 h, received 3 h.
    dut, peer, _ = bench(net)
    t1, t2, g = _lifetime_end(net, peer, dut, 5 * 3600, 3 * 3600)
    _gone_at(net, dut, g, t2 + 3 * HOUR)


@pytest.mark.rfc("4862 5.3")
def test_link_local_address_never_times_out(net):
    # "A link-local address has an infinite preferred and valid lifetime; it is never timed out."
    dut, peer, _ = bench(net)
    ready(peer, dut)
    net.run(for_="720h")
    ll = ll_of(dut)
    assert addr_state(dut, ll) == "preferred"
    peer.send(echo(ll))
    peer.expect(echo_reply(ll), within="1ms")


@pytest.mark.rfc("4862 5.5.3", "4861 6.3.4")
def test_two_prefixes_two_addresses(net):
    # Each Prefix Information option of an RA is processed ("For each Prefix-Information option in
    # the Router Advertisement").
    dut, peer, _ = bench(net)
    ready(peer, dut)
    advertise(peer, dut, "2001:db8:1::/64", "2001:db8:2::/64")
    probes = [peer.expect(dad_ns(g_of(dut, p)), within=dad_within(dut))
              for p in ("2001:db8:1::/64", "2001:db8:2::/64")]
    late = 0 if tern_stack(dut) else dut.profile.tolerance(RETRANS_TIMER)
    net.run(until=T(max(p.time_ns for p in probes) + RETRANS_TIMER + late))
    assert [st for _, _, st in dut.ipv6_addresses()] == ["preferred"] * 3


@pytest.mark.rfc("4862 5.4.5", "4862 5.4.4")
def test_global_address_owned_by_another_node_is_not_assigned(net):
    # The peer owns the address the host would form; it answers the probe ("If the target address
    # is tentative, the tentative address is not unique."), so "A tentative address that is
    # determined to be a duplicate as described above MUST NOT be assigned to an interface". The
    # link-local address, from the same identifier, stays (RFC 4862 5.4.5: IP operation "MAY be
    # continued" when the duplicate is not the hardware-derived link-local address).
    from pyharness.nodes import default_mac

    g = eui64_addr(PREFIX, default_mac("dut"))
    dut, peer, _ = bench(net, peer_ipv6=[f"{g}/64"])
    ready(peer, dut)
    advertise(peer, dut, PREFIX)
    net.run(for_="2s")
    assert addr_state(dut, g) is None
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().dad_duplicates == 1
    assert addr_state(dut, ll_of(dut)) == "preferred"
