"""ICMPv6 errors the DUT sends (RFC 4443 sections 2.2, 2.4 and 3): what they quote, where they go,
when not to send them, the rate limit; and Packet Too Big received (RFC 8201).

RFC 4443 section 2.4: "(e) An ICMPv6 error message MUST NOT be originated as a result of receiving
the following: (e.1) An ICMPv6 error message. (e.2) An ICMPv6 redirect message [IPv6-DISC]. (e.3) A
packet destined to an IPv6 multicast address. (There are two exceptions to this rule: (1) the Packet
Too Big Message (Section 3.2) to allow Path MTU discovery to work for IPv6 multicast, and (2) the
Parameter Problem Message, Code 2 (Section 3.4) reporting an unrecognized IPv6 option (see Section
4.2 of [IPv6]) that has the Option Type highest-order two bits set to 10). (e.4) A packet sent as a
link-layer multicast (the exceptions from e.3 apply to this case, too). (e.5) A packet sent as a
link-layer broadcast (the exceptions from e.3 apply to this case, too). (e.6) A packet whose source
address does not uniquely identify a single node -- e.g., the IPv6 Unspecified Address, an IPv6
multicast address, or an address known by the ICMP message originator to be an IPv6 anycast
address."
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import UDP
from scapy.layers.inet6 import (HBHOptUnknown, ICMPv6DestUnreach, ICMPv6EchoReply, ICMPv6EchoRequest,
                                ICMPv6ND_Redirect, ICMPv6PacketTooBig, ICMPv6ParamProblem, IPv6, IPv6ExtHdrDestOpt,
                                IPv6ExtHdrFragment)
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from v6kit import ALL_NODES, DUT6, PEER6, at, dut, exchange_nd, ns, peer, to_dut, v6  # noqa: F401  (fixtures)
from pyharness.dut import linux_deviation, tern_stack

pytestmark = pytest.mark.area("icmpv6")

BAD_NH = 253  # an unrecognised Next Header: Parameter Problem code 1, pointer 6


def bad(src: str = PEER6, dst: str = DUT6, size: int = 16) -> IPv6:
    """A packet that draws a Parameter Problem code 1 (unrecognised Next Header), ``size`` payload bytes."""
    return IPv6(src=src, dst=dst, nh=BAD_NH) / Raw(bytes(i & 0xFF for i in range(size)))


@pytest.mark.rfc("4443 2.4", "4443 3.4")
def test_error_quotes_the_whole_small_invoking_packet(dut, peer):
    """(c) "Every ICMPv6 error message (type < 128) MUST include as much of the IPv6 offending
    (invoking) packet (the packet that caused the error) as possible without making the error message
    packet exceed the minimum IPv6 MTU [IPv6].\""""
    pkt = bad(size=100)
    peer.send(to_dut(dut, peer, pkt))
    err = peer.expect(ICMPv6ParamProblem(code=1, ptr=6), within="1ms")
    assert bytes(err[ICMPv6ParamProblem].payload) == bytes(pkt)


@pytest.mark.rfc("4443 2.4")
def test_error_about_a_large_packet_is_exactly_1280_bytes(dut, peer):
    pkt = bad(size=1400)
    peer.send(to_dut(dut, peer, pkt))
    err = peer.expect(ICMPv6ParamProblem(code=1, ptr=6), within="1ms")
    assert len(bytes(err[IPv6])) == 1280
    assert bytes(err[ICMPv6ParamProblem].payload) == bytes(pkt)[:1280 - 48]


@pytest.mark.rfc("4443 2.2", "4443 3.4")
def test_error_goes_to_the_source_from_the_destination(dut, peer):
    """Section 3.4 "Destination Address Copied from the Source Address field of the invoking packet.";
    section 2.2 (a): "If the message is a response to a message sent to one of the node's unicast
    addresses, the Source Address of the reply MUST be that same address.\""""
    peer.send(to_dut(dut, peer, bad(src=peer.link_local, dst=dut.link_local)))
    peer.expect(IPv6(src=dut.link_local, dst=peer.link_local) / ICMPv6ParamProblem(code=1), within="1ms")


@pytest.mark.rfc("4443 2.4")
def test_no_error_about_an_icmpv6_error(dut, peer):
    """(e.1): a Destination Unreachable carrying an option that asks for a Parameter Problem (type
    0x9e) draws nothing."""
    opt = IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x9E, optdata=b"ab")])
    peer.send(to_dut(dut, peer, opt / ICMPv6DestUnreach(code=4) / Raw(bytes(IPv6(src=DUT6, dst=PEER6)))))
    peer.expect_nothing(for_="100ms")
    # positive control: the same option before an echo request draws the Parameter Problem
    peer.send(to_dut(dut, peer, opt / ICMPv6EchoRequest(id=1)))
    peer.expect(ICMPv6ParamProblem(code=2), within="1ms")


@pytest.mark.rfc("4443 2.4")
def test_no_error_about_a_redirect(dut, peer):
    """(e.2): the same option before a Redirect draws nothing."""
    opt = IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x9E, optdata=b"ab")])
    peer.send(to_dut(dut, peer, opt / ICMPv6ND_Redirect(tgt="fe80::9", dst="fd00::77"), src=peer.link_local))
    peer.expect_nothing(for_="100ms")
    peer.send(to_dut(dut, peer, opt / ICMPv6EchoRequest(id=2)))
    peer.expect(ICMPv6ParamProblem(code=2), within="1ms")


@pytest.mark.rfc("4443 2.4")
def test_no_error_about_a_packet_to_a_multicast_address(dut, peer):
    """(e.3): an unrecognised Next Header to all-nodes draws no Parameter Problem code 1."""
    peer.send(Ether(src=peer.mac, dst="33:33:00:00:00:01") / bad(dst=ALL_NODES))
    peer.expect_nothing(for_="100ms")
    # positive control: the same packet, unicast from the peer, draws the error
    peer.send(to_dut(dut, peer, bad()))
    peer.expect(ICMPv6ParamProblem(code=1, ptr=6), within="1ms")


@pytest.mark.rfc("4443 2.4")
@pytest.mark.parametrize("mac", ["33:33:00:00:00:01", "ff:ff:ff:ff:ff:ff"], ids=["multicast", "broadcast"])
def test_no_error_about_a_link_layer_multicast_or_broadcast(dut, peer, mac):
    """(e.4), (e.5): a unicast packet in a multicast or broadcast frame draws no error."""
    peer.send(Ether(src=peer.mac, dst=mac) / bad())
    peer.expect_nothing(for_="100ms")
    # positive control: the same packet, unicast from the peer, draws the error
    peer.send(to_dut(dut, peer, bad()))
    peer.expect(ICMPv6ParamProblem(code=1, ptr=6), within="1ms")


@pytest.mark.rfc("4443 2.4")
def test_no_error_to_the_unspecified_address(dut, peer):
    """(e.6): from "the IPv6 Unspecified Address" nobody can be answered."""
    peer.send(to_dut(dut, peer, bad(src="::")))
    peer.expect_nothing(for_="100ms")
    # positive control: the same packet, unicast from the peer, draws the error
    peer.send(to_dut(dut, peer, bad()))
    peer.expect(ICMPv6ParamProblem(code=1, ptr=6), within="1ms")


@pytest.mark.rfc("4443 2.4")
@pytest.mark.dut("tern", reason="Tern's token bucket (100/s, burst 10); Linux limits per destination (net.ipv6.icmp.ratelimit 1 s, burst 6): RFC 4443 2.4 (f) leaves N and B open")
def test_errors_are_rate_limited_by_a_token_bucket(dut, peer, net):
    """(f) "an IPv6 node MUST limit the rate of ICMPv6 error messages it originates." and "A recommended
    method for implementing the rate-limiting function is a token bucket, limiting the average rate of
    transmission to N, where N can be either packets/second or a fraction of the attached link's
    bandwidth, but allowing up to B error messages to be transmitted in a burst, as long as the
    long-term average is not exceeded." Tern's defaults: B = 10, N = 100/s (icmp_rate, icmp_burst):
    15 bad packets at once draw 10 errors; the next token comes 10 ms later. (The peer's link-layer
    address is known first, so no error waits in the resolution queue.)"""
    exchange_nd(dut, peer)
    t0 = net.now_ns
    for _ in range(15):
        peer.send(to_dut(dut, peer, bad()))
    for _ in range(10):
        peer.expect(ICMPv6ParamProblem(code=1), at=at(t0), tolerance="1us")
    peer.expect_nothing(for_="9ms", matching=ICMPv6ParamProblem())
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().icmp6_rate_limited == 5
    net.run(until=at(t0 + ns(0.010)))
    peer.send(to_dut(dut, peer, bad()))
    peer.expect(ICMPv6ParamProblem(code=1), at=at(t0 + ns(0.010)), tolerance="1us")
    peer.send(to_dut(dut, peer, bad()))  # the bucket is empty again
    peer.expect_nothing(for_="5ms", matching=ICMPv6ParamProblem())


@pytest.mark.rfc("4443 2.4")
def test_rate_limit_is_configurable(net):
    """"The rate-limiting parameters SHOULD be configurable.": with icmp_burst=2, two errors, no
    third."""
    from v6kit import bench6

    dut, peer, _ = bench6(net, icmp_burst=2)
    exchange_nd(dut, peer)
    for _ in range(3):
        peer.send(to_dut(dut, peer, bad()))
    peer.expect(ICMPv6ParamProblem(code=1), within="1ms")
    peer.expect(ICMPv6ParamProblem(code=1), within="1ms")
    peer.expect_nothing(for_="5ms", matching=ICMPv6ParamProblem())
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().icmp6_rate_limited == 1


@pytest.mark.rfc("4443 3.1")
def test_udp_to_a_closed_port_gets_port_unreachable(dut, peer):
    """"A destination node SHOULD originate a Destination Unreachable message with Code 4 in response to
    a packet for which the transport protocol (e.g., UDP) has no listener, if that transport protocol
    has no alternative means to inform the sender.\""""
    dgram = IPv6(src=PEER6, dst=DUT6) / UDP(sport=40000, dport=9999) / Raw(b"anyone?")
    peer.send(to_dut(dut, peer, dgram))
    err = peer.expect(IPv6(src=DUT6, dst=PEER6) / ICMPv6DestUnreach(code=4), within="1ms")
    assert bytes(err[ICMPv6DestUnreach].payload) == bytes(dgram)


@pytest.mark.rfc("4443 2.4", "4443 3.1")
def test_udp_to_a_closed_port_via_multicast_gets_nothing(dut, peer):
    """(e.3) again, for the upper layer's error."""
    peer.send(Ether(src=peer.mac, dst="33:33:00:00:00:01") / IPv6(src=PEER6, dst=ALL_NODES) /
              UDP(sport=40000, dport=9999) / Raw(b"anyone?"))
    peer.expect_nothing(for_="100ms")
    peer.send(to_dut(dut, peer, IPv6(src=PEER6, dst=DUT6) / UDP(sport=40000, dport=9999)))
    peer.expect(ICMPv6DestUnreach(code=4), within="1ms")


# ---- Packet Too Big received: the path MTU (RFC 8201) -------------------------------------------------

def big_echo(dut, peer, ident: int, size: int = 2000) -> list:
    """Send a big echo request in two fragments; return the reply's fragments."""
    body = bytes(IPv6(src=PEER6, dst=DUT6) / ICMPv6EchoRequest(id=ident, data=b"p" * size))[40:]
    half = (len(body) // 2) & ~7
    peer.send(to_dut(dut, peer, IPv6ExtHdrFragment(nh=58, offset=0, m=1, id=ident) / Raw(body[:half])))
    peer.send(to_dut(dut, peer, IPv6ExtHdrFragment(nh=58, offset=half // 8, m=0, id=ident) / Raw(body[half:])))
    first = peer.expect(IPv6(src=DUT6) / IPv6ExtHdrFragment(offset=0), within="1ms")
    rest = []
    while True:
        f = peer.expect(IPv6(src=DUT6) / IPv6ExtHdrFragment(), within="1ms")
        rest.append(f)
        if not f[IPv6ExtHdrFragment].m:
            return [first] + rest


@pytest.mark.rfc("4443 3.2", "8201 4")
def test_packet_too_big_lowers_the_path_mtu(dut, peer):
    """RFC 4443 section 3.2: the Packet Too Big's "MTU The Maximum Transmission Unit of the next-hop
    link."; the path's estimate follows it: the next big reply is cut at 1400 bytes."""
    frags = big_echo(dut, peer, 1)
    assert len(bytes(frags[0][IPv6])) == 1496  # 1500 rounded down to the 8-byte data boundary
    peer.send(to_dut(dut, peer, ICMPv6PacketTooBig(mtu=1400) / Raw(bytes(frags[0][IPv6])[:1232])))
    frags = big_echo(dut, peer, 2)
    assert all(len(bytes(f[IPv6])) <= 1400 for f in frags)
    assert len(bytes(frags[0][IPv6])) == 1400


@pytest.mark.rfc("8201 4")
def test_packet_too_big_below_1280_is_discarded(dut, peer):
    """RFC 8201 section 4: "If a node receives a Packet Too Big message reporting a next-hop MTU that is
    less than the IPv6 minimum link MTU, it must discard it. A node must not reduce its estimate of the
    Path MTU below the IPv6 minimum link MTU on receipt of a Packet Too Big message." A Packet Too Big
    saying 600 changes nothing; one saying 1280 does."""
    frags = big_echo(dut, peer, 3)
    peer.send(to_dut(dut, peer, ICMPv6PacketTooBig(mtu=600) / Raw(bytes(frags[0][IPv6])[:1232])))
    frags = big_echo(dut, peer, 4)
    assert len(bytes(frags[0][IPv6])) == 1496
    peer.send(to_dut(dut, peer, ICMPv6PacketTooBig(mtu=1280) / Raw(bytes(frags[0][IPv6])[:1232])))
    frags = big_echo(dut, peer, 5)
    assert len(bytes(frags[0][IPv6])) == 1280


@pytest.mark.rfc("8201 4")
def test_packet_too_big_never_raises_the_estimate(dut, peer):
    """RFC 8201 section 4: "A node must not increase its estimate of the Path MTU in response to the
    contents of a Packet Too Big message." """
    frags = big_echo(dut, peer, 11)
    peer.send(to_dut(dut, peer, ICMPv6PacketTooBig(mtu=1300) / Raw(bytes(frags[0][IPv6])[:1232])))
    frags = big_echo(dut, peer, 12)
    assert len(bytes(frags[0][IPv6])) == 1296
    peer.send(to_dut(dut, peer, ICMPv6PacketTooBig(mtu=1400) / Raw(bytes(frags[0][IPv6])[:1232])))
    frags = big_echo(dut, peer, 13)
    assert len(bytes(frags[0][IPv6])) == 1296


@pytest.mark.rfc("8201 4")
@linux_deviation('RFC 8201 section 4: "Nodes should appropriately validate the payload of ICMPv6 PTB messages to '
                 'ensure these are received in response to transmitted traffic (i.e., a reported error condition that '
                 'corresponds to an IPv6 packet actually sent by the application) per [ICMPv6]." Linux lowers the '
                 'path MTU of the quoted destination whatever the quoted source')
def test_packet_too_big_about_someone_elses_packet_is_ignored(dut, peer):
    """A Packet Too Big quoting a packet whose source is not ours concerns no path of ours. RFC 8201 section
    4: "Nodes should appropriately validate the payload of ICMPv6 PTB messages to ensure these are received
    in response to transmitted traffic (i.e., a reported error condition that corresponds to an IPv6 packet
    actually sent by the application) per [ICMPv6]."
    """
    frags = big_echo(dut, peer, 15)
    forged = bytearray(bytes(frags[0][IPv6])[:1232])
    forged[8:24] = bytes(16)  # source :: : not ours
    forged[23] = 0x77
    peer.send(to_dut(dut, peer, ICMPv6PacketTooBig(mtu=1400) / Raw(bytes(forged))))
    frags = big_echo(dut, peer, 16)
    assert len(bytes(frags[0][IPv6])) == 1496


@pytest.mark.rfc("8201 4")
def test_path_mtu_ages_back_after_ten_minutes(dut, peer, net):
    """RFC 8201 section 4: "An attempt to detect an increase (by sending a packet larger than the
    current estimate) MUST NOT be done less than 5 minutes after a Packet Too Big message has been
    received for the given path. The recommended setting for this timer is twice its minimum value
    (10 minutes).\""""
    frags = big_echo(dut, peer, 7)
    t0 = net.now_ns
    peer.send(to_dut(dut, peer, ICMPv6PacketTooBig(mtu=1400) / Raw(bytes(frags[0][IPv6])[:1232])))
    net.run(until=at(t0 + ns(600) - 1000))
    assert len(bytes(big_echo(dut, peer, 8)[0][IPv6])) == 1400
    net.run(until=at(t0 + ns(600)))
    assert len(bytes(big_echo(dut, peer, 9)[0][IPv6])) == 1496


@pytest.mark.rfc("4443 2.4")
def test_param_problem_code_2_about_a_link_layer_multicast_is_sent(dut, peer):
    """(e.4) with the exception from (e.3): a 10-option in a link-layer multicast frame still draws the
    Parameter Problem code 2."""
    opt = IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x9E, optdata=b"ab")])
    peer.send(Ether(src=peer.mac, dst="33:33:00:00:00:01") / IPv6(src=PEER6, dst=DUT6) / opt /
              ICMPv6EchoRequest(id=10))
    peer.expect(ICMPv6ParamProblem(code=2, ptr=42), within="1ms")
    peer.expect_nothing(for_="20ms", matching=ICMPv6EchoReply())