"""ICMPv6 echo (RFC 4443 section 4) and the processing rules for messages of unknown type (section
2.4 (a), (b)).

RFC 4443 section 4.2: "The source address of an Echo Reply sent in response to a unicast Echo
Request message MUST be the same as the destination address of that Echo Request message. An Echo
Reply SHOULD be sent in response to an Echo Request message sent to an IPv6 multicast or anycast
address. In this case, the source address of the reply MUST be a unicast address belonging to the
interface on which the Echo Request message was received. The data received in the ICMPv6 Echo
Request message MUST be returned entirely and unmodified in the ICMPv6 Echo Reply message."
"""

from __future__ import annotations

import pytest
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6Unknown, IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from v6kit import ALL_NODES, DUT6, PEER6, dut, peer, to_dut, v6  # noqa: F401  (fixtures)
from pyharness.dut import tern_stack

pytestmark = pytest.mark.area("icmpv6")


@pytest.mark.rfc("4443 4.2")
def test_echo_request_is_answered(dut, peer):
    """The reply carries the request's identifier, sequence number and data, from the address the
    request went to, with the interface's CurHopLimit (64, RFC 4861 section 6.3.2)."""
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=0x4242, seq=7, data=b"tern echo")))
    rep = peer.expect(Ether(src=dut.mac, dst=peer.mac) / IPv6(src=DUT6, dst=PEER6, hlim=64) /
                      ICMPv6EchoReply(id=0x4242, seq=7, data=b"tern echo"), within="1ms")
    assert rep[ICMPv6EchoReply].code == 0
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().icmp6_echo_replies_sent == 1


@pytest.mark.rfc("4443 4.2", "4443 2.2")
def test_reply_source_is_the_request_destination(dut, peer):
    """To the link-local address: the reply comes from the link-local address, not the global one
    ("MUST be the same as the destination address of that Echo Request message")."""
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=2), src=peer.link_local, dst=dut.link_local))
    peer.expect(IPv6(src=dut.link_local, dst=peer.link_local) / ICMPv6EchoReply(id=2), within="1ms")


@pytest.mark.rfc("4443 4.2")
def test_echo_to_all_nodes_is_answered_from_a_unicast_address(dut, peer):
    """"the source address of the reply MUST be a unicast address belonging to the interface on which
    the Echo Request message was received": the link-local one, for a link-scoped group."""
    peer.send(Ether(src=peer.mac, dst="33:33:00:00:00:01") /
              IPv6(src=peer.link_local, dst=ALL_NODES) / ICMPv6EchoRequest(id=3))
    rep = peer.expect(ICMPv6EchoReply(id=3), within="1ms")
    assert rep[IPv6].src == dut.link_local and rep[IPv6].dst == peer.link_local


@pytest.mark.rfc("4443 4.2")
@pytest.mark.parametrize("size", [0, 1, 7, 1232, 1452])
def test_echo_data_is_returned_entirely_and_unmodified(dut, peer, size):
    data = bytes((i * 13) & 0xFF for i in range(size))
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=4, seq=size, data=data)))
    rep = peer.expect(ICMPv6EchoReply(id=4, seq=size), within="1ms")
    assert rep[ICMPv6EchoReply].data == data


@pytest.mark.rfc("4443 2.3")
def test_echo_with_a_bad_checksum_is_discarded(dut, peer):
    """RFC 4443 section 2.3: the checksum covers the message and the pseudo-header; a message whose
    checksum does not verify is not one (counted)."""
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=5, cksum=0x1234)))
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().icmp6_bad_checksum == 1
    # positive control: a plain echo request is answered
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=5, seq=9)))
    peer.expect(ICMPv6EchoReply(id=5, seq=9), within="1ms")


@pytest.mark.rfc("4443 2.3")
def test_checksum_covers_the_pseudo_header(dut, peer):
    """A checksum right for another destination address is wrong here: the pseudo-header counts."""
    good_elsewhere = bytes(IPv6(src=PEER6, dst="fd00::99") / ICMPv6EchoRequest(id=6))[40:]
    peer.send(to_dut(dut, peer, IPv6(src=PEER6, dst=DUT6, nh=58) / Raw(good_elsewhere)))
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().icmp6_bad_checksum == 1
    # positive control: a plain echo request is answered
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=6, seq=9)))
    peer.expect(ICMPv6EchoReply(id=6, seq=9), within="1ms")


@pytest.mark.rfc("4443 4.1")
def test_truncated_echo_request_is_discarded(dut, peer):
    """An echo request has 8 bytes of header (type, code, checksum, identifier, sequence number)."""
    msg = bytes(IPv6(src=PEER6, dst=DUT6) / ICMPv6EchoRequest(id=7))[40:44]
    peer.send(to_dut(dut, peer, IPv6(src=PEER6, dst=DUT6, nh=58) / Raw(msg)))
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().icmp6_malformed + dut.counters().icmp6_bad_checksum == 1
    # positive control: a plain echo request is answered
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=7, seq=9)))
    peer.expect(ICMPv6EchoReply(id=7, seq=9), within="1ms")


@pytest.mark.rfc("4443 2.4")
@pytest.mark.parametrize("mtype", [200, 255, 160])
def test_informational_message_of_unknown_type_is_discarded(dut, peer, mtype):
    """(b) "If an ICMPv6 informational message of unknown type is received, it MUST be silently
    discarded.\""""
    peer.send(to_dut(dut, peer, ICMPv6Unknown(type=mtype, msgbody=b"\0" * 8)))
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().icmp6_unknown_type == 1
    # positive control: a plain echo request is answered
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=8, seq=9)))
    peer.expect(ICMPv6EchoReply(id=8, seq=9), within="1ms")


@pytest.mark.rfc("4443 2.4")
def test_error_message_of_unknown_type_goes_up_and_draws_no_answer(dut, peer):
    """(a) "If an ICMPv6 error message of unknown type is received at its destination, it MUST be
    passed to the upper-layer process that originated the packet that caused the error, where this
    can be identified": counted as an error received, and (e.1) nothing is sent about it."""
    quote = bytes(IPv6(src=DUT6, dst=PEER6) / ICMPv6EchoRequest(id=9))
    peer.send(to_dut(dut, peer, ICMPv6Unknown(type=100, code=0, msgbody=b"\0\0\0\0" + quote)))
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().icmp6_errors_in == 1
    # positive control: a plain echo request is answered
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=9, seq=9)))
    peer.expect(ICMPv6EchoReply(id=9, seq=9), within="1ms")


@pytest.mark.rfc("4443 4.2")
def test_unsolicited_echo_reply_draws_nothing(dut, peer):
    """An echo reply nobody asked for goes to the ping sockets (none here) and is never answered."""
    peer.send(to_dut(dut, peer, ICMPv6EchoReply(id=10, seq=1)))
    peer.expect_nothing(for_="100ms")
    # positive control: a plain echo request is answered
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=10, seq=9)))
    peer.expect(ICMPv6EchoReply(id=10, seq=9), within="1ms")
