"""UDP and ping sockets with both families at once (issue 12; stack.h "Families").

A UDP socket bound to no address takes datagrams of both families and answers each in its own
(RFC 3493 §5.3: with the IPV6_V6ONLY option off, its default, an AF_INET6 socket serves IPv4 too); bound to 0.0.0.0 it is
IPv4's, and an IPv6 datagram to its port finds no socket: ICMPv6 port unreachable (RFC 4443 §3.1, code 4).
An IPv4-mapped destination (RFC 4291 §2.5.5.2) is reached over IPv4. A ping socket sends ICMPv6 Echo
Requests (RFC 4443 §4.1) to an IPv6 destination and takes the Echo Replies (§4.2) that answer them.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import ICMP, UDP
from scapy.layers.inet6 import (ICMPv6DestUnreach, ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6PacketTooBig,
                               ICMPv6TimeExceeded)
from scapy.packet import Raw

from pyharness.errors import ConfigError
from pyharness.ipkit import ip, ip_of, port_unreachable, ttl_of

pytestmark = [pytest.mark.area("udp"),
              pytest.mark.both_families("each scenario sends over IPv4 and IPv6 at once"),
              pytest.mark.dut("tern", reason="the dual-stack choice is the Tern stack's (Linux: net.ipv6.bindv6only)")]

V4, V6 = ("10.0.0.1", "10.0.0.2"), ("fd00::1", "fd00::2")


@pytest.fixture
def dual(net):
    """The DUT with 10.0.0.1/24 and fd00::1/64, the peer with 10.0.0.2/24 and fd00::2/64."""
    from pyharness.dut import make_tern_dut

    return make_tern_dut(net, family="ipv6")


@pytest.mark.rfc("3493 5.3", "768 fields")
def test_unbound_address_takes_both_families_and_answers_in_each(dual):
    dut, peer, _ = dual
    s = dut.udp_socket(port=7000)
    peer.send(ip("ipv4", src=V4[1], dst=V4[0]) / UDP(sport=1111, dport=7000) / Raw(b"four"))
    peer.send(ip("ipv6", src=V6[1], dst=V6[0]) / UDP(sport=2222, dport=7000) / Raw(b"six"))
    dut.net.run(for_="1ms")
    assert s.recvfrom() == (b"four", (V4[1], 1111))
    assert s.recvfrom() == (b"six", (V6[1], 2222))
    s.sendto(b"to six", (V6[1], 2222))
    s.sendto(b"to four", (V4[1], 1111))
    six = peer.expect(ip("ipv6", src=V6[0], dst=V6[1]) / UDP(sport=7000, dport=2222), within="10ms")
    four = peer.expect(ip("ipv4", src=V4[0], dst=V4[1]) / UDP(sport=7000, dport=1111), within="10ms")
    # (the UDP length ends the datagram: a short IPv4 frame carries Ethernet padding after it)
    assert bytes(six[UDP].payload) == b"to six" and bytes(four[UDP].payload)[:four[UDP].len - 8] == b"to four"


@pytest.mark.rfc("3493 5.3", "4443 3.1")
def test_socket_bound_to_ipv4_any_is_ipv4_only(dual):
    """Bound to 0.0.0.0: an IPv6 datagram to its port is answered with ICMPv6 port unreachable and not delivered;
    the control: an IPv4 datagram is delivered."""
    dut, peer, _ = dual
    s = dut.udp_socket(port=7001, addr="0.0.0.0")
    peer.send(ip("ipv6", src=V6[1], dst=V6[0]) / UDP(sport=2222, dport=7001) / Raw(b"six"))
    err = peer.expect(ip("ipv6", src=V6[0]) / port_unreachable("ipv6"), within="10ms")
    assert err[ICMPv6DestUnreach].code == 4
    assert s.recvfrom() is None
    peer.send(ip("ipv4", src=V4[1], dst=V4[0]) / UDP(sport=1111, dport=7001) / Raw(b"four"))
    dut.net.run(for_="1ms")
    assert s.recvfrom() == (b"four", (V4[1], 1111))


@pytest.mark.rfc("4291 2.5.5.2")
def test_sendto_an_ipv4_mapped_address_goes_over_ipv4(dual):
    dut, peer, _ = dual
    s = dut.udp_socket(port=7002)
    s.sendto(b"mapped", ("::ffff:10.0.0.2", 9))
    got = peer.expect(UDP(sport=7002, dport=9), within="10ms")
    assert type(ip_of(got)).__name__ == "IP" and (ip_of(got).src, ip_of(got).dst) == V4
    # the control: the IPv6 address itself goes over IPv6
    s.sendto(b"six", (V6[1], 9))
    got6 = peer.expect(UDP(sport=7002, dport=9), within="10ms")
    assert type(ip_of(got6)).__name__ == "IPv6" and (ip_of(got6).src, ip_of(got6).dst) == V6


@pytest.mark.rfc("3493 5.3")
def test_socket_bound_to_an_ipv6_address_refuses_an_ipv4_destination(dual):
    """Bound to fd00::1, the socket cannot send to 10.0.0.2 (its source would be of the other family): refused with
    a message, nothing sent; the control: the same socket sends to fd00::2."""
    dut, peer, _ = dual
    s = dut.udp_socket(port=7003, addr=V6[0])
    with pytest.raises(ConfigError, match="other family"):
        s.sendto(b"four", (V4[1], 9))
    peer.expect_nothing(for_="50ms", matching=UDP())
    s.sendto(b"six", (V6[1], 9))
    peer.expect(ip("ipv6", src=V6[0], dst=V6[1]) / UDP(sport=7003, dport=9), within="10ms")


@pytest.mark.rfc("4443 4.1", "4443 4.2", "4443 2.3")
def test_ping_socket_sends_icmpv6_echo_and_takes_its_reply(dual):
    """An echo to fd00::2 leaves as an ICMPv6 Echo Request (type 128) with the socket's identifier, the sequence
    number, the payload and the hop limit asked for, its checksum right over the IPv6 pseudo-header (scapy
    verifies it as the peer parses); the Echo Reply the peer sends back is the socket's, with its source and
    hop limit. The same socket then pings 10.0.0.2 with ICMPv4."""
    dut, peer, _ = dual
    ping = dut.ping_socket(ident=0x4242)
    ping.send(V6[1], seq=7, payload=b"hello six", ttl=33)
    req = peer.expect(ip("ipv6", src=V6[0], dst=V6[1]) / ICMPv6EchoRequest(id=0x4242, seq=7), within="10ms")
    assert bytes(req[ICMPv6EchoRequest].data) == b"hello six" and ttl_of(req) == 33
    sent = req[ICMPv6EchoRequest].cksum
    clone = type(ip_of(req))(bytes(ip_of(req)))
    del clone[ICMPv6EchoRequest].cksum
    assert type(ip_of(req))(bytes(clone))[ICMPv6EchoRequest].cksum == sent
    peer.send(ip("ipv6", src=V6[1], dst=V6[0], ttl=61) / ICMPv6EchoReply(id=0x4242, seq=7, data=b"hello six"))
    dut.net.run(for_="1ms")
    reply = ping.recv()
    assert reply is not None and (reply.src, reply.seq, reply.ttl, reply.payload) == (V6[1], 7, 61, b"hello six")
    ping.send(V4[1], seq=8, payload=b"hello four")
    req4 = peer.expect(ip("ipv4", src=V4[0], dst=V4[1]) / ICMP(type=8, id=0x4242, seq=8), within="10ms")
    assert bytes(req4[ICMP].payload)[:ip_of(req4).len - 28] == b"hello four"  # Ethernet padding after it


@pytest.mark.rfc("4443 4.2")
def test_echo_reply_for_another_identifier_is_not_taken(dual):
    """An ICMPv6 Echo Reply with another identifier is not this socket's; the control: its own identifier is."""
    dut, peer, _ = dual
    ping = dut.ping_socket(ident=0x4242)
    ping.send(V6[1], seq=1, payload=b"x")
    peer.expect(ICMPv6EchoRequest(id=0x4242), within="10ms")
    peer.send(ip("ipv6", src=V6[1], dst=V6[0]) / ICMPv6EchoReply(id=0x4243, seq=1, data=b"x"))
    dut.net.run(for_="1ms")
    assert ping.recv() is None
    peer.send(ip("ipv6", src=V6[1], dst=V6[0]) / ICMPv6EchoReply(id=0x4242, seq=1, data=b"x"))
    dut.net.run(for_="1ms")
    assert ping.recv() is not None


@pytest.mark.rfc("1122 4.1.3.3", "4443 3.1")
def test_icmpv6_port_unreachable_reaches_the_udp_socket(dual):
    """RFC 1122 §4.1.3.3: "UDP MUST pass to the application layer all ICMP error messages that it receives from the
    IP layer", over IPv6 ICMPv6's: the socket that sent to fd00::2 gets type 1 code 4 from fd00::2; the control, an
    IPv4 port unreachable to a second socket, arrives as ICMP 3/3 (the type follows the error's family, stack.h
    tern_sock_error)."""
    dut, peer, _ = dual
    s6 = dut.udp_socket(port=7010)
    s6.sendto(b"hello?", (V6[1], 4444))
    sent = peer.expect(ip("ipv6", src=V6[0]) / UDP(dport=4444), within="10ms")
    peer.send(ip("ipv6", src=V6[1], dst=V6[0]) / ICMPv6DestUnreach(code=4) / Raw(bytes(ip_of(sent))[:48]))
    dut.net.run(for_="1ms")
    err = s6.take_error()
    assert err is not None and (err.icmp_type, err.icmp_code) == (1, 4)
    assert (err.sender, err.dst) == (V6[1], V6[1])
    s4 = dut.udp_socket(port=7011)
    s4.sendto(b"hello?", (V4[1], 4444))
    sent4 = peer.expect(ip("ipv4", src=V4[0]) / UDP(dport=4444), within="10ms")
    peer.send(ip("ipv4", src=V4[1], dst=V4[0]) / ICMP(type=3, code=3) / Raw(bytes(ip_of(sent4))[:28]))
    dut.net.run(for_="1ms")
    err4 = s4.take_error()
    assert err4 is not None and (err4.icmp_type, err4.icmp_code, err4.sender) == (3, 3, V4[1])
    assert s6.take_error() is None  # taken once


@pytest.mark.rfc("4443 3.2", "8201 4")
def test_packet_too_big_reaches_the_udp_socket_with_the_mtu(dual):
    """An ICMPv6 Packet Too Big (type 2) about a datagram the socket sent arrives with its MTU (1280)."""
    dut, peer, _ = dual
    s = dut.udp_socket(port=7012)
    s.sendto(b"x" * 1400, (V6[1], 4444))
    sent = peer.expect(ip("ipv6", src=V6[0]) / UDP(dport=4444), within="10ms")
    peer.send(ip("ipv6", src=V6[1], dst=V6[0]) / ICMPv6PacketTooBig(mtu=1280) / Raw(bytes(ip_of(sent))[:1232]))
    dut.net.run(for_="1ms")
    err = s.take_error()
    assert err is not None and (err.icmp_type, err.mtu) == (2, 1280)


@pytest.mark.rfc("4443 3.3", "4443 2.4")
def test_time_exceeded_reaches_the_ping_socket(dual):
    """An ICMPv6 Time Exceeded (type 3, hop limit) quoting the socket's Echo Request reaches that ping socket."""
    dut, peer, _ = dual
    ps = dut.ping_socket(ident=0x55)
    ps.send(V6[1], seq=1, payload=8, ttl=1)
    sent = peer.expect(ip("ipv6", ttl=1) / ICMPv6EchoRequest(id=0x55), within="10ms")
    peer.send(ip("ipv6", src=V6[1], dst=V6[0]) / ICMPv6TimeExceeded(code=0) / Raw(bytes(ip_of(sent))))
    dut.net.run(for_="1ms")
    err = ps.take_error()
    assert err is not None and (err.icmp_type, err.icmp_code, err.sender) == (3, 0, V6[1])
