"""Stable interface identifiers (RFC 7217), temporary addresses (RFC 8981) and default source
address selection (RFC 6724 section 5), seen over the wire: the source of the host's Echo Reply to
an all-nodes Echo Request is its source address choice for the requester (RFC 4443 section 4.2:
"the source address of the reply MUST be a unicast address belonging to the interface on which
the Echo Request message was received")."""

from __future__ import annotations

import ipaddress

import pytest
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6ND_NS, IPv6

from autoconf_kit import (PREFIX, RETRANS_TIMER, S, T, addr_state, bench, dad_ns, echo, echo_reply, eui64_addr,
                          first_probe, multicast_echo, na_for, preferred, ready)
from pyharness.dut import tern_stack

pytestmark = pytest.mark.area("slaac")

SECRET = "000102030405060708090a0b0c0d0e0f"


def ll_of(dut):
    return eui64_addr("fe80::/64", dut.mac)


def iid(addr):
    return ipaddress.IPv6Address(addr).packed[8:]


def probes(net, peer, for_="1.5s"):
    """Targets of the DAD probes seen in the next for_."""
    net.run(for_=for_)
    out = []
    while True:
        p = peer.recv()
        if p is None:
            return out
        if p.haslayer(ICMPv6ND_NS) and p[IPv6].src == "::" and p[ICMPv6ND_NS].tgt.startswith("2001:"):
            out.append(p[ICMPv6ND_NS].tgt)


def stable_host(net, name, **opts):
    h = net.host(name, stable_iid=True, ipv6_secret=SECRET, **opts)
    return h


@pytest.mark.rfc("7217 5", "4862 5.3")
def test_stable_identifiers_are_not_the_mac(net):
    # RFC 7217 section 5: "RID = F(Prefix, Net_Iface, Network_ID, DAD_Counter, secret_key)", F "A
    # pseudorandom function (PRF) that MUST NOT be computable from the outside (without knowledge
    # of the secret key)". The link-local and the global address carry identifiers that are not
    # the EUI-64 of the MAC, and differ from each other (a different Prefix).
    dut, peer, _ = bench(net, stable_iid=True, ipv6_secret=SECRET)
    ll = dut.ipv6_addresses()[0][0]
    assert ll.startswith("fe80::") and ll != ll_of(dut)
    first_probe(peer, ll)
    peer.expect(IPv6(src=ll, dst="ff02::2"), within="1.1s")
    peer.router_advertisement(dst=ll, router_lifetime=0, prefixes=[PREFIX])
    ns = peer.expect(ICMPv6ND_NS(), within="1ms")
    g = ns[ICMPv6ND_NS].tgt
    assert g.startswith("2001:db8:1:0:") and g != eui64_addr(PREFIX, dut.mac)
    assert iid(g) != iid(ll)


@pytest.mark.rfc("7217 5")
def test_stable_identifier_same_for_same_prefix_and_secret(net):
    # The identifier is stable: two hosts with the same secret and MAC (on two networks, other
    # seeds) form the same address from the same prefix; another secret gives another address.
    from pyharness import Network

    def formed(seed, secret):
        with Network(seed=seed) as n:
            h = n.host("dut", stable_iid=True, ipv6_secret=secret, mac="02:00:00:00:00:09")
            p = n.peer("peer")
            n.link(h, p)
            n.run(for_="3s")
            p.router_advertisement(dst=h.ipv6_addresses()[0][0], router_lifetime=0, prefixes=[PREFIX])
            return p.expect(ICMPv6ND_NS(), within="1ms")[ICMPv6ND_NS].tgt

    a, b = formed(11, SECRET), formed(12, SECRET)
    assert a == b
    assert formed(11, "ff" * 16) != a


@pytest.mark.rfc("7217 6", "4862 5.4.5")
def test_stable_identifier_retried_after_a_duplicate(net):
    # RFC 7217 section 6: after a duplicate the DAD_Counter is incremented and a new identifier is
    # computed ("IDGEN_RETRIES": at most 3 more). The host probes a new address at once.
    dut, peer, _ = bench(net, stable_iid=True, ipv6_secret=SECRET)
    ll = dut.ipv6_addresses()[0][0]
    first_probe(peer, ll)
    peer.expect(IPv6(src=ll, dst="ff02::2"), within="1.1s")
    peer.router_advertisement(dst=ll, router_lifetime=0, prefixes=[PREFIX])
    seen = []
    for k in range(4):
        ns = peer.expect(ICMPv6ND_NS(), within="1ms")
        g = ns[ICMPv6ND_NS].tgt
        assert g.startswith("2001:db8:1:0:") and g not in seen
        seen.append(g)
        peer.send(na_for(peer, g))
    peer.expect_nothing(for_="3s", matching=ICMPv6ND_NS())
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().dad_duplicates == 4
    assert len(dut.ipv6_addresses()) == 1


@pytest.mark.rfc("8981 3.4", "8981 3.3.1")
def test_temporary_address_beside_the_public_one(net):
    # RFC 8981 section 3.4: a temporary address is generated for a prefix that forms a public
    # address; its identifier is random (section 3.3.1). Both are probed.
    dut, peer, _ = bench(net, temporary_addresses=True)
    ready(peer, dut)
    peer.router_advertisement(dst=ll_of(dut), router_lifetime=0, prefixes=[PREFIX])
    targets = probes(net, peer)
    public = eui64_addr(PREFIX, dut.mac)
    assert public in targets and len(targets) == 2
    temp = [t for t in targets if t != public][0]
    assert temp.startswith("2001:db8:1:0:") and iid(temp) != iid(public)
    assert addr_state(dut, temp) == "preferred" and addr_state(dut, public) == "preferred"


@pytest.mark.rfc("6724 5", "8981 3.4")
@pytest.mark.parametrize("prefer_public", [False, True])
def test_temporary_address_preferred_as_source(net, prefer_public):
    # RFC 6724 rule 7: "If SA is a temporary address and SB is a public address, then prefer SA."
    # and "Implementations MUST provide a mechanism to allow an application to reverse the sense of
    # this preference": prefer_public.
    dut, peer, _ = bench(net, temporary_addresses=True, prefer_public=prefer_public,
                         peer_ipv6=["2001:db8:1::99/64"])
    ready(peer, dut)
    peer.router_advertisement(dst=ll_of(dut), router_lifetime=0, prefixes=[PREFIX])
    targets = probes(net, peer)
    public = eui64_addr(PREFIX, dut.mac)
    temp = [t for t in targets if t != public][0]
    peer.send(multicast_echo("2001:db8:1::99"))
    reply = peer.expect(ICMPv6EchoReply(), within="10ms")
    assert reply[IPv6].src == (public if prefer_public else temp)


@pytest.mark.rfc("8981 3.5", "8981 3.8")
def test_temporary_address_regenerated_before_deprecation(net):
    # RFC 8981: a new temporary address is made REGEN_ADVANCE before the current one is deprecated;
    # "REGEN_ADVANCE = 2 + (TEMP_IDGEN_RETRIES * DupAddrDetectTransmits * RetransTimer / 1000)" =
    # 5 s here. TEMP_PREFERRED_LIFETIME 60 s less a DESYNC_FACTOR of at most 0.4 x 60 s: the new
    # address is probed between 31 s and 55 s after the first; the old one is deprecated 5 s after
    # that probe, and the new one is preferred then.
    dut, peer, _ = bench(net, temporary_addresses=True, temp_preferred_lifetime=60, temp_valid_lifetime=120)
    ready(peer, dut)
    peer.router_advertisement(dst=ll_of(dut), router_lifetime=0, prefixes=[PREFIX])
    t = net.now_ns
    public = eui64_addr(PREFIX, dut.mac)
    first = [x for x in probes(net, peer) if x != public][0]
    ns = peer.expect(ICMPv6ND_NS(), within="60s")
    second = ns[ICMPv6ND_NS].tgt
    assert second not in (first, public)
    assert t + 31 * S <= ns.time_ns <= t + 55 * S
    net.run(until=T(ns.time_ns + 5 * S - 1))
    assert addr_state(dut, first) == "preferred"
    net.run(until=T(ns.time_ns + 5 * S))
    assert addr_state(dut, first) == "deprecated" and addr_state(dut, second) == "preferred"
    net.run(until=T(t + 120 * S))
    assert addr_state(dut, first) is None  # TEMP_VALID_LIFETIME


@pytest.mark.rfc("6724 5")
def test_link_local_source_for_link_local_destination(net):
    # Rule 2 (prefer appropriate scope): to a link-local requester the reply comes from the
    # link-local address, to a global one from the global address (once DAD made it assigned).
    dut, peer, _ = bench(net, peer_ipv6=["2001:db8:1::99/64"])
    ready(peer, dut)
    peer.router_advertisement(dst=ll_of(dut), router_lifetime=0, prefixes=[PREFIX])
    preferred(net, dut, eui64_addr(PREFIX, dut.mac))
    peer.send(multicast_echo(peer.link_local, seq=1))
    assert peer.expect(ICMPv6EchoReply(seq=1), within="10ms")[IPv6].src == ll_of(dut)
    peer.send(multicast_echo("2001:db8:1::99", seq=2))
    assert peer.expect(ICMPv6EchoReply(seq=2), within="10ms")[IPv6].src == eui64_addr(PREFIX, dut.mac)


@pytest.mark.rfc("6724 5", "4862 5.5.4")
def test_deprecated_address_avoided_for_new_traffic(net):
    # Rule 3: "Avoid deprecated addresses."; RFC 4862 5.5.4: a deprecated address "SHOULD NOT be
    # used to initiate new communications if an alternate (non-deprecated) address of sufficient
    # scope can easily be used instead." Two prefixes; the longer match (rule 8) wins until its
    # address is deprecated, exactly at its preferred lifetime's end.
    dut, peer, _ = bench(net, peer_ipv6=["2001:db8:1::99/64", "2001:db8:2::99/64"])
    ready(peer, dut)
    peer.router_advertisement(dst=ll_of(dut), router_lifetime=0, prefixes=[
        {"prefix": "2001:db8:1::/64", "preferred": 30, "valid": 600}, "2001:db8:2::/64"])
    t = net.now_ns
    net.run(until=T(t + 30 * S - 1))
    peer.send(multicast_echo("2001:db8:1::99", seq=1))
    assert peer.expect(ICMPv6EchoReply(seq=1), within="1ms")[IPv6].src == eui64_addr("2001:db8:1::/64", dut.mac)
    net.run(until=T(t + 30 * S))
    peer.send(multicast_echo("2001:db8:1::99", seq=2))
    assert peer.expect(ICMPv6EchoReply(seq=2), within="1ms")[IPv6].src == eui64_addr("2001:db8:2::/64", dut.mac)


@pytest.mark.rfc("6724 5", "4862 5.4")
def test_longest_matching_prefix(net):
    # Rule 8: "If CommonPrefixLen(SA, D) > CommonPrefixLen(SB, D), then prefer SA." Both addresses
    # assigned first: while one is still tentative the other is the only candidate (the Linux
    # kernel probes each after its own random delay, so a fixed wait saw 2001:db8:1:: tentative).
    dut, peer, _ = bench(net, peer_ipv6=["2001:db8:2::99/64", "2001:db8:1::99/64"])
    ready(peer, dut)
    peer.router_advertisement(dst=ll_of(dut), router_lifetime=0, prefixes=["2001:db8:1::/64", "2001:db8:2::/64"])
    preferred(net, dut, eui64_addr("2001:db8:1::/64", dut.mac), eui64_addr("2001:db8:2::/64", dut.mac))
    for seq, (req, want) in enumerate([("2001:db8:1::99", "2001:db8:1::/64"),
                                       ("2001:db8:2::99", "2001:db8:2::/64")]):
        peer.send(multicast_echo(req, seq=seq))
        assert peer.expect(ICMPv6EchoReply(seq=seq), within="10ms")[IPv6].src == eui64_addr(want, dut.mac)


@pytest.mark.rfc("6724 5", "4862 5.4")
@pytest.mark.dut("tern", reason="exact start-up timeline of the Tern host (DAD, RS, address states at RetransTimer); the Linux kernel runs the same steps with random delays and timer-wheel lateness beyond the real-time tolerance")
def test_tentative_address_never_a_source(net):
    # RFC 4862 5.4: a tentative address "is not considered "assigned to an interface"": while the
    # global address is probed the reply to a global requester comes from the link-local address.
    dut, peer, _ = bench(net, peer_ipv6=["2001:db8:1::99/64"])
    ready(peer, dut)
    peer.router_advertisement(dst=ll_of(dut), router_lifetime=0, prefixes=[PREFIX])
    peer.expect(dad_ns(eui64_addr(PREFIX, dut.mac)), within="1ms")
    peer.send(multicast_echo("2001:db8:1::99", seq=1))
    assert peer.expect(ICMPv6EchoReply(seq=1), within="10ms")[IPv6].src == ll_of(dut)
    net.run(for_="1s")
    peer.send(multicast_echo("2001:db8:1::99", seq=2))
    assert peer.expect(ICMPv6EchoReply(seq=2), within="10ms")[IPv6].src == eui64_addr(PREFIX, dut.mac)
