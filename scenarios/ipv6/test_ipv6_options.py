"""IPv6 hop-by-hop and destination options (RFC 8200 section 4.2, 4.3, 4.6): padding, Router
Alert, and the action an unrecognised option's type asks for by its two highest-order bits.

RFC 8200 section 4.2: "The Option Type identifiers are internally encoded such that their
highest-order 2 bits specify the action that must be taken if the processing IPv6 node does not
recognize the Option Type:
   00 - skip over this option and continue processing the header.
   01 - discard the packet.
   10 - discard the packet and, regardless of whether or not the packet's Destination Address
        was a multicast address, send an ICMP Parameter Problem, Code 2, message to the packet's
        Source Address, pointing to the unrecognized Option Type.
   11 - discard the packet and, only if the packet's Destination Address was not a multicast
        address, send an ICMP Parameter Problem, Code 2, message to the packet's Source Address,
        pointing to the unrecognized Option Type."
"""

from __future__ import annotations

import pytest
from scapy.layers.inet6 import (HBHOptUnknown, ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ParamProblem, IPv6,
                                IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, Pad1, PadN, RouterAlert)
from scapy.layers.l2 import Ether

from v6kit import ALL_NODES, DUT6, PEER6, dut, peer, to_dut, v6  # noqa: F401  (fixtures)
from pyharness.dut import tern_stack

pytestmark = pytest.mark.area("ipv6")

HBH_OPT_AT = 42  # the first option of a header right after the 40-byte IPv6 header


def echo(ident: int) -> ICMPv6EchoRequest:
    return ICMPv6EchoRequest(id=ident, seq=1, data=b"opts")


def send_with(dut, peer, ext, ident, dst=DUT6, mac=None):
    peer.send(Ether(src=peer.mac, dst=mac or dut.mac) / IPv6(src=PEER6, dst=dst) / ext / echo(ident))


@pytest.mark.rfc("8200 4.2")
@pytest.mark.parametrize("opts", [[Pad1()], [PadN(optdata=b"\0\0\0\0")], [Pad1(), Pad1(), PadN(optdata=b"\0\0")]],
                         ids=["pad1", "padn", "mixed"])
def test_padding_options_are_skipped(dut, peer, opts):
    """RFC 8200 section 4.2: "The Pad1 option is used to insert 1 octet of padding into the
    Options area of a header." and "The PadN option is used to insert two or more octets of padding
    into the Options area of a header." Both are skipped and the packet processed."""
    send_with(dut, peer, IPv6ExtHdrHopByHop(options=opts), 1)
    peer.expect(ICMPv6EchoReply(id=1, seq=1), within="1ms")


@pytest.mark.rfc("8200 4.3", "2711 2.1")
def test_router_alert_option_is_accepted(dut, peer):
    """A hop-by-hop Router Alert (RFC 2711) is a known option: the packet is processed."""
    send_with(dut, peer, IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)]), 2)
    peer.expect(ICMPv6EchoReply(id=2), within="1ms")


@pytest.mark.rfc("8200 4.2")
@pytest.mark.parametrize("hdr", [IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt], ids=["hbh", "dst"])
def test_unknown_option_00_is_skipped(dut, peer, hdr):
    """Type 0x1e: highest-order bits 00, "skip over this option and continue processing the header"."""
    send_with(dut, peer, hdr(options=[HBHOptUnknown(otype=0x1E, optdata=b"ab")]), 3)
    peer.expect(ICMPv6EchoReply(id=3), within="1ms")


@pytest.mark.rfc("8200 4.2")
@pytest.mark.parametrize("hdr", [IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt], ids=["hbh", "dst"])
def test_unknown_option_01_discards_silently(dut, peer, hdr):
    """Type 0x5e: highest-order bits 01, "discard the packet" (and nothing is sent)."""
    send_with(dut, peer, hdr(options=[HBHOptUnknown(otype=0x5E, optdata=b"ab")]), 4)
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_option_discard == 1
    # positive control: the same packet with a skippable option is answered
    send_with(dut, peer, hdr(options=[HBHOptUnknown(otype=0x1E, optdata=b"ab")]), 4)
    peer.expect(ICMPv6EchoReply(id=4), within="1ms")


@pytest.mark.rfc("8200 4.2", "4443 3.4")
@pytest.mark.parametrize("hdr", [IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt], ids=["hbh", "dst"])
@pytest.mark.parametrize("otype", [0x9E, 0xDE], ids=["10", "11"])
def test_unknown_option_10_11_param_problem_to_unicast(dut, peer, hdr, otype):
    """10 and 11 to a unicast destination: "send an ICMP Parameter Problem, Code 2, message to the
    packet's Source Address, pointing to the unrecognized Option Type"."""
    send_with(dut, peer, hdr(options=[HBHOptUnknown(otype=otype, optdata=b"ab")]), 5)
    err = peer.expect(IPv6(src=DUT6, dst=PEER6) / ICMPv6ParamProblem(code=2, ptr=HBH_OPT_AT), within="1ms")
    # RFC 4443 section 3.4: the pointer "Identifies the octet offset within the invoking packet where
    # the error was detected"; that octet is the option type.
    assert bytes(err[ICMPv6ParamProblem].payload)[HBH_OPT_AT] == otype
    peer.expect_nothing(for_="50ms", matching=ICMPv6EchoReply())


@pytest.mark.rfc("8200 4.2", "4443 2.4")
def test_unknown_option_10_to_multicast_still_gets_param_problem(dut, peer):
    """10: "regardless of whether or not the packet's Destination Address was a multicast address";
    RFC 4443 section 2.4 (e.3) names this as an exception to the multicast rule."""
    send_with(dut, peer, IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x9E, optdata=b"ab")]), 6,
              dst=ALL_NODES, mac="33:33:00:00:00:01")
    err = peer.expect(ICMPv6ParamProblem(code=2, ptr=HBH_OPT_AT), within="1ms")
    # the error comes from a unicast address of ours, never from the group
    assert err[IPv6].src in (DUT6, dut.link_local)


@pytest.mark.rfc("8200 4.2", "4443 2.4")
def test_unknown_option_11_to_multicast_gets_no_error(dut, peer):
    """11: "only if the packet's Destination Address was not a multicast address"."""
    send_with(dut, peer, IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0xDE, optdata=b"ab")]), 7,
              dst=ALL_NODES, mac="33:33:00:00:00:01")
    peer.expect_nothing(for_="100ms")
    # positive control: the same to our unicast address draws the Parameter Problem
    send_with(dut, peer, IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0xDE, optdata=b"ab")]), 7)
    peer.expect(ICMPv6ParamProblem(code=2, ptr=HBH_OPT_AT), within="1ms")


@pytest.mark.rfc("8200 4.2")
def test_options_are_processed_in_order(dut, peer):
    """"The sequence of options within a header must be processed strictly in the order they appear
    in the header": a skippable option before a 10-option, the pointer names the second one."""
    send_with(dut, peer, IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x1E, optdata=b"ab"),
                                                     HBHOptUnknown(otype=0x9E, optdata=b"cd")]), 8)
    peer.expect(ICMPv6ParamProblem(code=2, ptr=HBH_OPT_AT + 4), within="1ms")


@pytest.mark.rfc("8200 4.2")
def test_discard_option_before_error_option_wins(dut, peer):
    """In order: an 01-option first discards the packet silently; the 10-option after it is never
    reached, so no Parameter Problem."""
    send_with(dut, peer, IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x5E, optdata=b"ab"),
                                                     HBHOptUnknown(otype=0x9E, optdata=b"cd")]), 9)
    peer.expect_nothing(for_="100ms")
    # positive control: the other order reports the 10-option
    send_with(dut, peer, IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x9E, optdata=b"cd"),
                                                     HBHOptUnknown(otype=0x5E, optdata=b"ab")]), 9)
    peer.expect(ICMPv6ParamProblem(code=2, ptr=HBH_OPT_AT), within="1ms")


@pytest.mark.rfc("8200 4.2")
def test_option_running_past_its_header_is_dropped(dut, peer):
    """An option whose Opt Data Len runs past the header cannot be processed: the packet is dropped
    (counted), and the stack survives it."""
    raw = bytearray(bytes(IPv6(src=PEER6, dst=DUT6) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0\0\0\0")]) /
                          echo(10)))
    raw[43] = 200  # PadN's length: far past the 8-byte header
    peer.send(Ether(src=peer.mac, dst=dut.mac, type=0x86DD) / bytes(raw))
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_option_malformed == 1
    # positive control: the packet as built is answered
    send_with(dut, peer, IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0\0\0\0")]), 10)
    peer.expect(ICMPv6EchoReply(id=10), within="1ms")


@pytest.mark.rfc("8200 4.6")
def test_two_destination_options_headers_are_processed(dut, peer):
    """RFC 8200 section 4.1: "Each extension header should occur at most once, except for the
    Destination Options header, which should occur at most twice (once before a Routing header and
    once before the upper-layer header)."."""
    send_with(dut, peer, IPv6ExtHdrDestOpt(options=[Pad1()]) / IPv6ExtHdrDestOpt(options=[Pad1()]), 11)
    peer.expect(ICMPv6EchoReply(id=11), within="1ms")
