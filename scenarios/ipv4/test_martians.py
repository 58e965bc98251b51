"""Datagrams from a link whose source no host may send from ("martians", RFC 1122 §3.2.1.3).

RFC 1122 §3.2.1.3: "A host MUST silently discard an incoming datagram
containing an IP source address that is invalid by the rules of this
section." Its forms: (a) { 0, 0 } ("MUST NOT be sent, except as a source
address as part of an initialization procedure by which the host learns its
own IP address") and (b) { 0, <Host-number> } alike, the limited and directed
broadcasts ("It
MUST NOT be used as a source address."), { 127, <any> } ("Internal host
loopback address.  Addresses of this form MUST NOT appear outside a host.").
RFC 1122 §3.2.2 adds the rest of a source that "does not define a single host
-- e.g., a zero address, a loopback address, a broadcast address, a multicast
address, or a Class E address". One of the DUT's own addresses arriving from
the wire is a spoof of the same kind (the "land" attack; RFC 9293 §3.9.2.3
MUST-63: "An incoming SYN with an invalid source address MUST be ignored
either by TCP or by the IP layer").

Each case sends a UDP datagram to a bound socket of the DUT from the martian
source, then the same datagram from the peer's real address as the positive
control: only the second is delivered. Under the Tern DUT the drop is counted
(``ip_martian_src``).
"""

from __future__ import annotations

import pytest
from scapy.all import ICMP, IP, UDP, Ether, Raw

from pyharness.dut import DUT_IP, PEER_IP, linux_deviation

pytestmark = pytest.mark.area("ipv4")

PORT = 7


def linux_accepts(what: str):
    """The Linux kernel (measured, --dut linux) delivers datagrams from these sources."""
    return linux_deviation(
        'RFC 1122 3.2.1.3: "A host MUST silently discard an incoming datagram containing an IP source address '
        f'that is invalid by the rules of this section"; Linux accepts {what} as a source (and answers a SYN '
        'from it with a SYN-ACK)')


#: Sources no datagram from a link may carry, each with the rule that forbids it.
MARTIANS = [
    pytest.param("10.0.0.1", id="own-address"),  # the DUT's own: a spoof
    pytest.param("127.0.0.1", id="loopback"),  # 1122 3.2.1.3 (g)
    pytest.param("127.200.1.9", id="loopback-net"),  # (g): all of 127/8
    pytest.param("0.0.0.0", id="this-host"),  # (a), to a unicast destination
    pytest.param("0.10.0.2", id="this-network-host",  # (b)
                 marks=linux_accepts("0/8 other than 0.0.0.0")),
    pytest.param("255.255.255.255", id="limited-broadcast"),  # (c)
    pytest.param("10.0.0.255", id="directed-broadcast",  # (d)/(e): the DUT's subnet
                 marks=linux_accepts("the directed broadcast of its own subnet")),
    pytest.param("224.0.0.5", id="multicast"),  # 3.2.2: "a multicast address"
    pytest.param("239.1.2.3", id="multicast-admin"),
    pytest.param("240.0.0.1", id="class-e", marks=linux_accepts("class E (240/4)")),  # 3.2.2: "a Class E address"
    pytest.param("254.1.2.3", id="class-e-high", marks=linux_accepts("class E (240/4)")),
]


def is_tern(dut) -> bool:
    return getattr(dut, "kind", "") == "tern"


def martians(dut) -> int:
    """The DUT's count of discarded martian datagrams (Tern); -1 where the DUT has no counters."""
    return dut.counters().ip_martian_src if is_tern(dut) else -1


def send_udp(peer, src: str, payload: bytes, dst: str = DUT_IP, dst_mac=None) -> None:
    ip = IP(src=src, dst=dst) / UDP(sport=5000, dport=PORT) / Raw(payload)
    peer.send(Ether(dst=dst_mac) / ip if dst_mac else ip)


@pytest.mark.rfc("1122 3.2.1.3", "1122 3.2.2")
@pytest.mark.parametrize("src", MARTIANS)
def test_datagram_from_a_martian_source_is_discarded(dut, peer, src):
    """Discarded silently (no delivery, nothing sent back), counted; a datagram from the peer's own
    address right after it is delivered."""
    s = dut.udp_socket(port=PORT)
    before = martians(dut)
    send_udp(peer, src, b"martian", dst_mac=dut.mac)
    peer.expect_nothing(for_="100ms")
    assert s.recvfrom() is None, f"a datagram from {src} was delivered"
    if is_tern(dut):
        assert martians(dut) == before + 1
    # positive control
    send_udp(peer, PEER_IP, b"genuine", dst_mac=dut.mac)
    dut.net.run(for_="1ms")
    got = s.recvfrom()
    assert got is not None and got[0] == b"genuine" and got[1] == (PEER_IP, 5000)
    assert s.recvfrom() is None
    if is_tern(dut):
        assert martians(dut) == before + 1
    # ... and the host answers it over the wire: it heard the genuine source, and only it
    s.sendto(b"answer", got[1])
    peer.expect(IP(src=DUT_IP, dst=PEER_IP) / UDP(sport=PORT, dport=5000) / Raw(b"answer"), within="10ms")


@pytest.mark.rfc("1122 3.2.1.3")
def test_echo_request_from_loopback_source_gets_no_reply(dut, peer):
    """An echo request claiming to come from 127.0.0.1 is discarded, not answered towards
    127.0.0.1 (with a default route, the reply would leave through the peer); the same request from
    the peer is answered."""
    dut.add_route("0.0.0.0/0", PEER_IP)
    peer.send(Ether(dst=dut.mac) / IP(src="127.0.0.1", dst=DUT_IP) / ICMP(type=8, id=9, seq=1) / Raw(b"lo"))
    peer.expect_nothing(for_="200ms")
    peer.send(IP(src=PEER_IP, dst=DUT_IP) / ICMP(type=8, id=9, seq=2) / Raw(b"lo"))
    peer.expect(IP(src=DUT_IP, dst=PEER_IP) / ICMP(type=0, id=9, seq=2), within="10ms")


@pytest.mark.rfc("1122 3.2.1.3", "2131 4.1")
def test_dhcp_broadcast_from_the_unspecified_source_is_still_heard(dut, peer):
    """The one exception: RFC 2131 §4.1, "DHCP messages broadcast by a client prior to that client
    obtaining its IP address must have the source address field in the IP header set to 0". A UDP
    datagram from 0.0.0.0 to 255.255.255.255 reaches a socket (a DHCP server's port 67); the same
    source towards the DUT's unicast address is a martian."""
    s = dut.udp_socket(port=67)
    before = martians(dut)
    peer.send(Ether(dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255")
              / UDP(sport=68, dport=67) / Raw(b"discover"))
    dut.net.run(for_="1ms")
    got = s.recvfrom()
    assert got is not None and got[0] == b"discover" and got[1] == ("0.0.0.0", 68)
    peer.send(Ether(dst=dut.mac) / IP(src="0.0.0.0", dst=DUT_IP) / UDP(sport=68, dport=67) / Raw(b"unicast"))
    dut.net.run(for_="1ms")
    assert s.recvfrom() is None
    if is_tern(dut):
        assert martians(dut) == before + 1
