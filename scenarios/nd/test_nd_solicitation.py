"""Neighbor Solicitations received and the Neighbor Advertisements that answer them (RFC 4861
sections 7.1.1, 7.2.3, 7.2.4).

RFC 4861 section 7.1.1: "A node MUST silently discard any received Neighbor Solicitation messages
that do not satisfy all of the following validity checks: - The IP Hop Limit field has a value of
255, i.e., the packet could not possibly have been forwarded by a router. - ICMP Checksum is valid.
- ICMP Code is 0. - ICMP length (derived from the IP length) is 24 or more octets. - Target Address
is not a multicast address. - All included options have a length that is greater than zero. - If the
IP source address is the unspecified address, the IP destination address is a solicited-node
multicast address. - If the IP source address is the unspecified address, there is no source
link-layer address option in the message."
"""

from __future__ import annotations

import pytest
from scapy.layers.inet6 import (ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr,
                                ICMPv6NDOptSrcLLAddr, ICMPv6NDOptUnknown, IPv6)
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from pyharness.nd import multicast_mac, solicited_node
from pyharness.nodes import format_mac
from v6kit import DUT6, PEER6, at, dut, ns as seconds, peer, to_dut, v6  # noqa: F401  (fixtures)
from pyharness.dut import tern_stack

pytestmark = pytest.mark.area("nd")

SN_DUT = "ff02::1:ff00:1"  # the solicited-node group of fd00::1
SN_MAC = "33:33:ff:00:00:01"


def ns(peer, target=DUT6, src=PEER6, dst=SN_DUT, mac=SN_MAC, hlim=255, code=0, sll=True, opts=None):
    pkt = Ether(src=peer.mac, dst=mac) / IPv6(src=src, dst=dst, hlim=hlim) / ICMPv6ND_NS(tgt=target, code=code)
    if sll:
        pkt = pkt / ICMPv6NDOptSrcLLAddr(lladdr=peer.mac)
    if opts is not None:
        pkt = pkt / opts
    return pkt


@pytest.mark.rfc("4861 7.2.4")
def test_solicitation_for_our_address_is_answered(dut, peer):
    """Section 7.2.4: "Otherwise, the node MUST set the Solicited flag to one and unicast the
    advertisement to the Source Address of the solicitation." With the Override flag ("Otherwise, the
    Override flag SHOULD be set to one"), the target link-layer address, and hop limit 255."""
    peer.send(ns(peer))
    na = peer.expect(Ether(src=dut.mac, dst=peer.mac) / IPv6(src=DUT6, dst=PEER6, hlim=255) /
                     ICMPv6ND_NA(tgt=DUT6, R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=dut.mac), within="1ms")
    assert na[ICMPv6ND_NA].code == 0
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_na_sent == 1


@pytest.mark.rfc("4861 7.2.4")
def test_solicitation_for_our_link_local_address_is_answered(dut, peer):
    sn = solicited_node(dut.link_local)
    peer.send(ns(peer, target=dut.link_local, src=peer.link_local, dst=sn, mac=format_mac(multicast_mac(sn))))
    peer.expect(IPv6(src=dut.link_local, dst=peer.link_local) / ICMPv6ND_NA(tgt=dut.link_local, S=1), within="1ms")


@pytest.mark.rfc("4861 7.2.3")
def test_solicitation_creates_a_stale_entry_for_its_source(dut, peer):
    """Section 7.2.3: "If an entry does not already exist, the node SHOULD create a new one and set its
    reachability state to STALE as specified in Section 7.3.3." The advertisement answering the
    solicitation is then a packet sent to that STALE neighbour, so section 7.3.3 moves the entry on: "The
    first time a node sends a packet to a neighbor whose entry is STALE, the sender changes the state to
    DELAY" (appendix C: STALE, "Sending packet", DELAY). Found against Linux, which does so; the Tern
    stack left the entry STALE (its advertisement bypassed the neighbour cache)."""
    assert dut.nd_lookup(PEER6) == (None, "NONE")
    peer.send(ns(peer))
    peer.expect(ICMPv6ND_NA(tgt=DUT6), within="1ms")
    assert dut.nd_lookup(PEER6) == (peer.mac, "DELAY")


@pytest.mark.rfc("4861 7.3.3", "4861 10")
def test_advertisement_to_a_new_neighbour_is_followed_by_a_probe(dut, peer, net):
    """On the wire: the advertisement answering a solicitation is the first packet to the new STALE
    neighbour, so the entry is in DELAY from then on, and with no reachability confirmation "If the entry
    is still in the DELAY state when the timer expires, the entry's state changes to PROBE" and "Upon
    entering the PROBE state, a node sends a unicast Neighbor Solicitation message to the neighbor using
    the cached link-layer address": DELAY_FIRST_PROBE_TIME (5 s, section 10) after the advertisement.
    Found against Linux; the Tern stack sent no probe (its entry stayed STALE). The peer answers the probe
    by itself (it does not reach its inbox): counted in ``nd_answered``, found in its history."""
    # Exact in virtual time; a real-time DUT (Linux) gets its profile's tolerance for a 5 s timer.
    tol = dut.profile.tolerance(seconds(5)) if hasattr(dut, "profile") else 0
    t0 = net.now_ns
    peer.send(ns(peer))
    peer.expect(ICMPv6ND_NA(tgt=DUT6), within="1ms")
    assert peer.nd_answered == 0
    net.run(until=at(t0 + seconds(5) - tol - 1))
    assert peer.nd_answered == 0, "a solicitation before DELAY_FIRST_PROBE_TIME"
    net.run(until=at(t0 + seconds(5) + tol))
    assert peer.nd_answered == 1, "no unicast probe DELAY_FIRST_PROBE_TIME after the advertisement"
    probe = [f for f in peer.history() if f.pkt.haslayer(ICMPv6ND_NS)][-1]
    assert probe.pkt[Ether].dst == peer.mac and probe.pkt[IPv6].dst == PEER6  # unicast, to the cached address
    assert abs(probe.time_ns - (t0 + seconds(5))) <= tol


@pytest.mark.rfc("4861 7.2.3")
def test_solicitation_with_a_new_link_layer_address_makes_the_entry_stale(dut, peer):
    """"If an entry already exists, and the cached link-layer address differs from the one in the
    received Source Link-Layer option, the cached address should be replaced by the received address,
    and the entry's reachability state MUST be set to STALE." The advertisement then sent to it (to the
    new address) is the first packet to the STALE neighbour: DELAY (section 7.3.3)."""
    peer.send(ns(peer))
    peer.expect(ICMPv6ND_NA(tgt=DUT6), within="1ms")
    peer.send(Ether(src=peer.mac, dst=SN_MAC) / IPv6(src=PEER6, dst=SN_DUT, hlim=255) / ICMPv6ND_NS(tgt=DUT6) /
              ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:aa:bb"))
    na = peer.expect(ICMPv6ND_NA(tgt=DUT6), within="1ms")
    assert na[Ether].dst == "02:00:00:00:aa:bb"
    assert dut.nd_lookup(PEER6) == ("02:00:00:00:aa:bb", "DELAY")


@pytest.mark.rfc("4861 7.2.4")
def test_solicitation_from_the_unspecified_address_is_answered_to_all_nodes(dut, peer):
    """"If the source of the solicitation is the unspecified address, the node MUST set the Solicited
    flag to zero and multicast the advertisement to the all-nodes address.\""""
    peer.send(ns(peer, src="::", sll=False))
    peer.expect(Ether(dst="33:33:00:00:00:01") / IPv6(src=DUT6, dst="ff02::1", hlim=255) /
                ICMPv6ND_NA(tgt=DUT6, S=0, O=1), within="1ms")
    assert dut.nd_lookup("::") == (None, "NONE")  # nothing learnt from ::


@pytest.mark.rfc("4861 7.2.3")
def test_solicitation_for_another_target_is_not_answered(dut, peer):
    """Section 7.2.3: "A valid Neighbor Solicitation that does not meet any of the following
    requirements MUST be silently discarded: - The Target Address is a "valid" unicast or anycast
    address assigned to the receiving interface [ADDRCONF]," ..."""
    peer.send(ns(peer, target="fd00::99", dst="ff02::1:ff00:99", mac="33:33:ff:00:00:99"))
    peer.expect_nothing(for_="100ms")
    # positive control: a valid solicitation for the DUT's address is answered
    peer.send(ns(peer))
    peer.expect(ICMPv6ND_NA(tgt=DUT6), within="1ms")


@pytest.mark.rfc("4861 7.1.1")
@pytest.mark.parametrize("hlim", [254, 64, 1])
def test_solicitation_with_hop_limit_below_255_is_discarded(dut, peer, hlim):
    """"The IP Hop Limit field has a value of 255, i.e., the packet could not possibly have been
    forwarded by a router.\""""
    peer.send(ns(peer, hlim=hlim))
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_invalid == 1
    # positive control: a valid solicitation for the DUT's address is answered
    peer.send(ns(peer))
    peer.expect(ICMPv6ND_NA(tgt=DUT6), within="1ms")


@pytest.mark.rfc("4861 7.1.1")
def test_solicitation_with_nonzero_code_is_discarded(dut, peer):
    """"ICMP Code is 0.\""""
    peer.send(ns(peer, code=1))
    peer.expect_nothing(for_="100ms")
    # positive control: a valid solicitation for the DUT's address is answered
    peer.send(ns(peer))
    peer.expect(ICMPv6ND_NA(tgt=DUT6), within="1ms")


@pytest.mark.rfc("4861 7.1.1")
def test_solicitation_for_a_multicast_target_is_discarded(dut, peer):
    """"Target Address is not a multicast address.\""""
    peer.send(ns(peer, target="ff02::1"))
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_invalid == 1
    # positive control: a valid solicitation for the DUT's address is answered
    peer.send(ns(peer))
    peer.expect(ICMPv6ND_NA(tgt=DUT6), within="1ms")


@pytest.mark.rfc("4861 7.1.1", "4861 4.6")
def test_solicitation_with_a_zero_length_option_is_discarded(dut, peer):
    """"All included options have a length that is greater than zero." (section 4.6: "Nodes MUST
    silently discard an ND packet that contains an option with length zero.")"""
    peer.send(ns(peer, sll=False, opts=Raw(b"\x01\x00" + b"\0" * 6)))
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_invalid == 1
    # positive control: a valid solicitation for the DUT's address is answered
    peer.send(ns(peer))
    peer.expect(ICMPv6ND_NA(tgt=DUT6), within="1ms")


@pytest.mark.rfc("4861 7.1.1")
def test_short_solicitation_is_discarded(dut, peer):
    """"ICMP length (derived from the IP length) is 24 or more octets.\""""
    msg = bytes(IPv6(src=PEER6, dst=SN_DUT) / ICMPv6ND_NS(tgt=DUT6))[40:60]
    peer.send(Ether(src=peer.mac, dst=SN_MAC) / IPv6(src=PEER6, dst=SN_DUT, hlim=255, nh=58) / Raw(msg))
    peer.expect_nothing(for_="100ms")
    # positive control: a valid solicitation for the DUT's address is answered
    peer.send(ns(peer))
    peer.expect(ICMPv6ND_NA(tgt=DUT6), within="1ms")


@pytest.mark.rfc("4861 7.1.1")
def test_unspecified_source_with_a_source_link_layer_option_is_discarded(dut, peer):
    """"If the IP source address is the unspecified address, there is no source link-layer address
    option in the message.\""""
    peer.send(ns(peer, src="::", sll=True))
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_invalid == 1
    # positive control: a valid solicitation for the DUT's address is answered
    peer.send(ns(peer))
    peer.expect(ICMPv6ND_NA(tgt=DUT6), within="1ms")


@pytest.mark.rfc("4861 7.1.1")
def test_unspecified_source_to_a_unicast_destination_is_discarded(dut, peer):
    """"If the IP source address is the unspecified address, the IP destination address is a
    solicited-node multicast address.\""""
    peer.send(ns(peer, src="::", dst=DUT6, mac=dut.mac, sll=False))
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_invalid == 1
    # positive control: a valid solicitation for the DUT's address is answered
    peer.send(ns(peer))
    peer.expect(ICMPv6ND_NA(tgt=DUT6), within="1ms")


@pytest.mark.rfc("4861 4.6")
def test_unknown_options_are_ignored(dut, peer):
    """Section 4.6: "Receivers MUST silently ignore any options they do not recognize and continue
    processing the message.\""""
    peer.send(ns(peer, opts=ICMPv6NDOptUnknown(type=42, len=1, data=b"\0" * 6)))
    peer.expect(ICMPv6ND_NA(tgt=DUT6, S=1), within="1ms")


@pytest.mark.rfc("4861 7.2.4")
def test_unicast_solicitation_is_answered(dut, peer):
    """A unicast solicitation (as NUD sends, section 7.3.3) to our address is answered too."""
    peer.send(ns(peer, dst=DUT6, mac=dut.mac))
    peer.expect(IPv6(dst=PEER6) / ICMPv6ND_NA(tgt=DUT6, S=1), within="1ms")


@pytest.mark.rfc("4861 7.2.4")
def test_unicast_solicitation_from_an_unknown_neighbour_is_answered_after_resolving_it(dut, peer):
    """Section 7.2.4: "Because unicast Neighbor Solicitations are not required to include a Source
    Link-Layer Address, it is possible that a node sending a solicited Neighbor Advertisement does not
    have a corresponding link-layer address for its neighbor in its Neighbor Cache. In such situations,
    a node will first have to use Neighbor Discovery to determine the link-layer address of its
    neighbor (i.e., send out a multicast Neighbor Solicitation)." (the peer answers that one by
    itself: the advertisement follows at once)."""
    # The Target Link-Layer Address option may be left out of the answer to a unicast solicitation (RFC 2461
    # section 4.4, kept by RFC 4861: "When responding to unicast solicitations, the option can be omitted since
    # the sender of the solicitation has the correct link-layer address"): the Tern stack includes it (and
    # sets Override); Linux leaves it out (and Override clear) unless net.ipv6.conf.*.force_tllao is set.
    peer.send(ns(peer, dst=DUT6, mac=dut.mac, sll=False))
    na = peer.expect(Ether(dst=peer.mac) / IPv6(src=DUT6, dst=PEER6, hlim=255) / ICMPv6ND_NA(tgt=DUT6, S=1),
                     within="1ms")
    if na.haslayer(ICMPv6NDOptDstLLAddr):
        assert na[ICMPv6NDOptDstLLAddr].lladdr == dut.mac and na[ICMPv6ND_NA].O == 1
    else:
        assert not tern_stack(dut), "the Tern stack includes the option"
        assert na[ICMPv6ND_NA].O == 0  # RFC 4861 section 7.2.4: without the option, Override is left clear
    assert peer.nd_answered == 1  # the DUT's own multicast solicitation for the peer came first
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_ns_sent == 1


@pytest.mark.rfc("4861 7.2.3")
def test_learnt_neighbour_is_used_without_resolution(dut, peer):
    """The STALE entry a solicitation made carries traffic at once: an echo reply goes to the cached
    link-layer address, with no solicitation of our own first."""
    peer.send(ns(peer))
    peer.expect(ICMPv6ND_NA(tgt=DUT6), within="1ms")
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=1)))
    peer.expect(ICMPv6EchoReply(id=1), within="1ms", strict=True)
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_ns_sent == 0
