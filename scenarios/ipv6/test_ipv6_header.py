"""The IPv6 header and the extension header chain on receipt (RFC 8200 sections 3 and 4), with the
address rules of RFC 4291.

RFC 8200 section 4: "If, as a result of processing a header, the destination node is required to
proceed to the next header but the Next Header value in the current header is unrecognized by the
node, it should discard the packet and send an ICMP Parameter Problem message to the source of the
packet, with an ICMP Code value of 1 ("unrecognized Next Header type encountered") and the ICMP
Pointer field containing the offset of the unrecognized value within the original packet. The same
action should be taken if a node encounters a Next Header value of zero in any header other than an
IPv6 header."
"""

from __future__ import annotations

import pytest
from scapy.layers.inet6 import (ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ParamProblem, IPv6, IPv6ExtHdrDestOpt,
                                IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Pad1)
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from v6kit import ALL_NODES, DUT6, PEER6, dut, peer, to_dut, v6  # noqa: F401  (fixtures)
from pyharness.dut import tern_stack

pytestmark = pytest.mark.area("ipv6")


def echo(ident: int = 1, data: bytes = b"hdr") -> ICMPv6EchoRequest:
    return ICMPv6EchoRequest(id=ident, seq=1, data=data)


@pytest.mark.rfc("8200 3")
def test_packet_to_our_address_is_processed(dut, peer):
    """The DUT's configured address receives: an echo request is answered from it, to the source."""
    peer.send(to_dut(dut, peer, echo(1)))
    rep = peer.expect(Ether(src=dut.mac, dst=peer.mac) / IPv6(src=DUT6, dst=PEER6, nh=58) / ICMPv6EchoReply(id=1),
                      within="1ms")
    assert rep[IPv6].plen == 8 + 3


@pytest.mark.rfc("8200 3")
def test_packet_to_link_local_address_is_processed(dut, peer):
    """Every interface has a link-local address (RFC 4291 section 2.1: "All interfaces are required
    to have at least one Link-Local unicast address"); packets to it are ours."""
    peer.send(to_dut(dut, peer, echo(2), src=peer.link_local, dst=dut.link_local))
    peer.expect(IPv6(src=dut.link_local, dst=peer.link_local) / ICMPv6EchoReply(id=2), within="1ms")


@pytest.mark.rfc("8200 3")
def test_packet_for_another_address_is_not_ours(dut, peer):
    """A host that does not forward takes only packets for its own addresses."""
    peer.send(to_dut(dut, peer, echo(3), dst="fd00::99"))
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_not_for_us == 1
    # positive control: a plain echo request is answered
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=3, seq=9)))
    peer.expect(ICMPv6EchoReply(id=3, seq=9), within="1ms")


@pytest.mark.rfc("8200 3")
def test_version_other_than_6_is_dropped(dut, peer):
    """"Version 4-bit Internet Protocol version number = 6.": anything else under EtherType 0x86DD is
    not IPv6."""
    raw = bytearray(bytes(IPv6(src=PEER6, dst=DUT6) / echo(4)))
    raw[0] = (raw[0] & 0x0F) | 0x40
    peer.send(Ether(src=peer.mac, dst=dut.mac, type=0x86DD) / bytes(raw))
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_bad_version == 1
    # positive control: a plain echo request is answered
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=4, seq=9)))
    peer.expect(ICMPv6EchoReply(id=4, seq=9), within="1ms")


@pytest.mark.rfc("8200 3")
def test_payload_length_beyond_the_frame_is_dropped(dut, peer):
    """"Payload Length 16-bit unsigned integer. Length of the IPv6 payload, i.e., the rest of the
    packet following this IPv6 header, in octets.": a packet claiming more than the frame holds is
    truncated and dropped."""
    raw = bytearray(bytes(IPv6(src=PEER6, dst=DUT6) / echo(5)))
    raw[5] += 20
    peer.send(Ether(src=peer.mac, dst=dut.mac, type=0x86DD) / bytes(raw))
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_truncated == 1
    # positive control: a plain echo request is answered
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=5, seq=9)))
    peer.expect(ICMPv6EchoReply(id=5, seq=9), within="1ms")


@pytest.mark.rfc("8200 3")
def test_bytes_after_payload_length_are_padding(dut, peer):
    """Bytes past the payload length (Ethernet padding) are not part of the packet: the echo reply
    returns exactly the data the payload length delimits."""
    pkt = bytes(IPv6(src=PEER6, dst=DUT6) / echo(6, b"ab")) + b"TRAILER!"
    peer.send(Ether(src=peer.mac, dst=dut.mac, type=0x86DD) / pkt)
    rep = peer.expect(ICMPv6EchoReply(id=6), within="1ms")
    assert rep[ICMPv6EchoReply].data == b"ab"


@pytest.mark.rfc("8200 3")
def test_hop_limit_zero_to_us_is_processed(dut, peer):
    """"A node that is the destination of a packet should not discard a packet with Hop Limit equal
    to zero; it should process the packet normally.\""""
    peer.send(to_dut(dut, peer, IPv6(src=PEER6, dst=DUT6, hlim=0) / echo(7)))
    peer.expect(ICMPv6EchoReply(id=7), within="1ms")


@pytest.mark.rfc("4291 2.7")
def test_multicast_source_is_dropped(dut, peer):
    """RFC 4291 section 2.7: "Multicast addresses must not be used as source addresses in IPv6
    packets or appear in any Routing header.\""""
    peer.send(to_dut(dut, peer, echo(8), src="ff02::1"))
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_bad_src == 1
    # positive control: a plain echo request is answered
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=8, seq=9)))
    peer.expect(ICMPv6EchoReply(id=8, seq=9), within="1ms")


@pytest.mark.rfc("4291 2.5.3")
def test_loopback_source_from_the_link_is_dropped(dut, peer):
    """RFC 4291 section 2.5.3: "The loopback address must not be used as the source address in IPv6
    packets that are sent outside of a single node.\""""
    peer.send(to_dut(dut, peer, echo(9), src="::1"))
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_bad_src == 1
    # positive control: a plain echo request is answered
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=9, seq=9)))
    peer.expect(ICMPv6EchoReply(id=9, seq=9), within="1ms")


@pytest.mark.rfc("9293 3.9.2.3", "9293 MUST-63")
def test_our_own_address_as_source_from_the_link_is_dropped(dut, peer):
    """A packet from the link claiming to come from the DUT itself is a spoof (the "land" attack): RFC
    9293 section 3.9.2.3, "An incoming SYN with an invalid source address MUST be ignored either by TCP
    or by the IP layer (MUST-63)"; the IP layer drops every such packet."""
    peer.send(to_dut(dut, peer, echo(30), src=DUT6))
    peer.send(to_dut(dut, peer, echo(31), src=dut.link_local, dst=dut.link_local))
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_bad_src == 2
    # positive control: a plain echo request is answered
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=30, seq=9)))
    peer.expect(ICMPv6EchoReply(id=30, seq=9), within="1ms")


@pytest.mark.rfc("4291 2.5.3")
def test_loopback_destination_from_the_link_is_dropped(dut, peer):
    """RFC 4291 section 2.5.3: "A packet received on an interface with a destination address of
    loopback must be dropped.\""""
    peer.send(to_dut(dut, peer, echo(10), dst="::1"))
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_bad_dst == 1
    # positive control: a plain echo request is answered
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=10, seq=9)))
    peer.expect(ICMPv6EchoReply(id=10, seq=9), within="1ms")


@pytest.mark.rfc("4291 2.5.2")
def test_unspecified_destination_is_dropped(dut, peer):
    """RFC 4291 section 2.5.2: "The unspecified address must not be used as the destination address
    of IPv6 packets or in IPv6 Routing headers.\""""
    peer.send(to_dut(dut, peer, echo(11), dst="::"))
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_bad_dst == 1
    # positive control: a plain echo request is answered
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=11, seq=9)))
    peer.expect(ICMPv6EchoReply(id=11, seq=9), within="1ms")


@pytest.mark.rfc("4291 2.7")
def test_group_we_did_not_join_is_ignored(dut, peer):
    """Multicast to a group the DUT does not listen to (ff02::1234) is not ours; all-nodes is."""
    peer.send(Ether(src=peer.mac, dst="33:33:00:00:12:34") / IPv6(src=PEER6, dst="ff02::1234") / echo(12))
    peer.expect_nothing(for_="100ms")
    # positive control: the all-nodes group every node belongs to
    peer.send(Ether(src=peer.mac, dst="33:33:00:00:00:01") / IPv6(src=PEER6, dst=ALL_NODES) / echo(12))
    peer.expect(ICMPv6EchoReply(id=12), within="1ms")


@pytest.mark.rfc("8200 4")
@pytest.mark.parametrize("nh", [253, 50, 51, 135], ids=["experimental", "esp", "ah", "mobility"])
def test_unrecognised_next_header_gets_param_problem_code_1(dut, peer, nh):
    """Unrecognised Next Header in the IPv6 header: Parameter Problem code 1, pointer 6 (the Next
    Header field). This host implements neither ESP nor AH."""
    peer.send(to_dut(dut, peer, IPv6(src=PEER6, dst=DUT6, nh=nh) / Raw(b"\0" * 16)))
    err = peer.expect(IPv6(src=DUT6, dst=PEER6) / ICMPv6ParamProblem(code=1, ptr=6), within="1ms")
    assert bytes(err[ICMPv6ParamProblem].payload)[6] == nh


@pytest.mark.rfc("8200 4")
def test_unrecognised_next_header_after_an_extension_header(dut, peer):
    """The pointer is "the offset of the unrecognized value within the original packet": here the
    Next Header field of the destination options header at offset 40."""
    peer.send(to_dut(dut, peer, IPv6ExtHdrDestOpt(nh=253, options=[Pad1()]) / Raw(b"\0" * 8)))
    peer.expect(ICMPv6ParamProblem(code=1, ptr=40), within="1ms")


@pytest.mark.rfc("8200 4")
def test_hop_by_hop_after_another_header_gets_param_problem(dut, peer):
    """"The same action should be taken if a node encounters a Next Header value of zero in any
    header other than an IPv6 header.\""""
    peer.send(to_dut(dut, peer, IPv6ExtHdrDestOpt(options=[Pad1()]) / IPv6ExtHdrHopByHop(options=[Pad1()]) /
                     echo(13)))
    peer.expect(ICMPv6ParamProblem(code=1, ptr=40), within="1ms")
    peer.expect_nothing(for_="50ms", matching=ICMPv6EchoReply())
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_unknown_next_header == 1


@pytest.mark.rfc("8200 4.7")
def test_no_next_header_ends_processing_silently(dut, peer):
    """RFC 8200 section 4.7: "The value 59 in the Next Header field of an IPv6 header or any
    extension header indicates that there is nothing following that header.\""""
    peer.send(to_dut(dut, peer, IPv6(src=PEER6, dst=DUT6, nh=59) / Raw(b"ignored bytes")))
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_no_next_header == 1
    # positive control: a plain echo request is answered
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=14, seq=9)))
    peer.expect(ICMPv6EchoReply(id=14, seq=9), within="1ms")


@pytest.mark.rfc("8200 4")
def test_truncated_extension_header_is_dropped(dut, peer):
    """A destination options header whose length runs past the packet cannot be processed."""
    raw = bytearray(bytes(IPv6(src=PEER6, dst=DUT6) / IPv6ExtHdrDestOpt(nh=59, options=[Pad1()])))
    raw[41] = 5  # 48 bytes claimed, 8 present
    peer.send(Ether(src=peer.mac, dst=dut.mac, type=0x86DD) / bytes(raw))
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_ext_truncated == 1
    # positive control: a plain echo request is answered
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=15, seq=9)))
    peer.expect(ICMPv6EchoReply(id=15, seq=9), within="1ms")


@pytest.mark.rfc("8200 4")
@pytest.mark.dut("tern", reason="checks the Tern stack's own bound (16 extension headers, DESIGN.md section 7); the Linux kernel already drops the 16-header chain, and RFC 8200 sets no number")
def test_extension_header_chain_is_bounded(dut, peer):
    """Bounded work per packet (DESIGN.md section 7): a chain of 16 destination options headers is
    processed, a 17th is too many and the packet is dropped."""
    chain16 = IPv6ExtHdrDestOpt(options=[Pad1()])
    for _ in range(15):
        chain16 = chain16 / IPv6ExtHdrDestOpt(options=[Pad1()])
    peer.send(to_dut(dut, peer, chain16 / echo(16)))
    peer.expect(ICMPv6EchoReply(id=16), within="1ms")
    peer.send(to_dut(dut, peer, IPv6ExtHdrDestOpt(options=[Pad1()]) / chain16 / echo(17)))
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_ext_too_long == 1


@pytest.mark.rfc("8200 4.4", "5095 3")
def test_routing_header_type_0_with_segments_left_is_refused(dut, peer):
    """RFC 5095 section 3: "An IPv6 node that receives a packet with a destination address assigned
    to it and that contains an RH0 extension header MUST NOT execute the algorithm specified in the
    latter part of Section 4.4 of [RFC2460] for RH0. Instead, such packets MUST be processed according
    to the behaviour specified in Section 4.4 of [RFC2460] for a datagram that includes an
    unrecognised Routing Type value", and RFC 8200 section 4.4: "If Segments Left is non-zero, the node must discard the packet and send an ICMP
    Parameter Problem, Code 0, message to the packet's Source Address, pointing to the unrecognized
    Routing Type.\""""
    peer.send(to_dut(dut, peer, IPv6ExtHdrRouting(type=0, segleft=1, addresses=["fd00::3"]) / echo(18)))
    peer.expect(ICMPv6ParamProblem(code=0, ptr=42), within="1ms")
    peer.expect_nothing(for_="50ms", matching=ICMPv6EchoReply())
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_rh_refused == 1


@pytest.mark.rfc("8200 4.4")
@pytest.mark.parametrize("rtype", [0, 2, 253])
def test_routing_header_with_no_segments_left_is_ignored(dut, peer, rtype):
    """"If Segments Left is zero, the node must ignore the Routing header and proceed to process the
    next header in the packet\"."""
    peer.send(to_dut(dut, peer, IPv6ExtHdrRouting(type=rtype, segleft=0, addresses=["fd00::3"]) / echo(19)))
    peer.expect(ICMPv6EchoReply(id=19), within="1ms")


@pytest.mark.rfc("8200 4.4")
def test_unknown_routing_type_with_segments_left_is_refused(dut, peer):
    """The same rule for a Routing Type nobody defined (253)."""
    peer.send(to_dut(dut, peer, IPv6ExtHdrRouting(type=253, segleft=2, addresses=["fd00::3", "fd00::4"]) /
                     echo(20)))
    peer.expect(ICMPv6ParamProblem(code=0, ptr=42), within="1ms")
