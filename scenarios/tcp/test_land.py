"""SYNs from an invalid source: the "land" attack and its relatives (RFC 9293 §3.9.2.3, MUST-63).

RFC 9293 §3.9.2.3: "An incoming SYN with an invalid source address MUST be
ignored either by TCP or by the IP layer [(MUST-63)] (see Section 3.2.1.3)."
RFC 1122 §3.2.1.3: "A host MUST silently discard an incoming datagram
containing an IP source address that is invalid by the rules of this
section."

A land SYN carries the DUT's own address and port as its source. Accepted, it
made a connection that answered its own segments through the loopback: the
host's poll never returned. Each scenario sends the bad SYN, checks that
nothing comes back and no connection exists, and then opens a connection
from the peer as the positive control.
"""

from __future__ import annotations

import pytest
from scapy.all import TCP, Ether

from pyharness.dut import linux_deviation
from tcpkit import CLIENT_PORT, SERVER_PORT, family_of, ip, peer_ip_of

pytestmark = pytest.mark.area("tcp")


def linux_accepts(what: str):
    """The Linux kernel (measured, --dut linux) answers a SYN from these sources with a SYN-ACK."""
    return linux_deviation(
        'RFC 9293 3.9.2.3: "An incoming SYN with an invalid source address MUST be ignored either by TCP or by '
        f'the IP layer [(MUST-63)]"; Linux accepts a SYN from {what} and answers it with a SYN-ACK')


def is_tern(dut) -> bool:
    return getattr(dut, "kind", "") == "tern"


def bad_syn_then_control(dut, peer, src: str, sport: int) -> None:
    """Send a SYN from src:sport to the DUT's listener; expect nothing and no connection for 3 s
    (SYN-ACK retransmissions included); then a SYN from the peer is answered and accepted."""
    family = family_of(dut)
    listener = dut.tcp_listen(SERVER_PORT)
    # A default route through the peer: a SYN-ACK towards an off-link source would leave by it.
    dut.add_route("0.0.0.0/0" if family == "ipv4" else "::/0", peer_ip_of(dut))
    before = dut.counters() if is_tern(dut) else None
    peer.send(Ether(dst=dut.mac) / ip(family, src=src, dst=dut.ip) / TCP(sport=sport, dport=SERVER_PORT, flags="S",
                                                                         seq=1000, window=8192))
    peer.expect_nothing(for_="3s")
    assert listener.accept() is None
    if is_tern(dut):
        after = dut.counters()
        if family == "ipv4":
            assert after.ip_martian_src == before.ip_martian_src + 1
            assert after.tcp_in == before.tcp_in  # dropped by IP: TCP never saw it
        else:
            dropped = (after.ip6_bad_src - before.ip6_bad_src) + (after.tcp_malformed - before.tcp_malformed)
            assert dropped == 1, "the SYN from an invalid source was not counted as dropped"
    # positive control: a genuine SYN gets its SYN-ACK and the connection is accepted
    conn = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT)
    conn.connect(within="10ms")
    dut.net.run(for_="1ms")
    sock = listener.accept()
    assert sock is not None and sock.state == "ESTABLISHED"
    assert listener.accept() is None  # and only that one


@pytest.mark.rfc("9293 3.9.2.3", "9293 MUST-63", "1122 3.2.1.3")
def test_land_syn_is_ignored(dut, peer, dut_ip):
    """Source address and port equal to the destination's (the DUT's own): the host survives, no
    connection, no segment sent."""
    bad_syn_then_control(dut, peer, dut_ip, SERVER_PORT)


@pytest.mark.rfc("9293 3.9.2.3", "9293 MUST-63", "1122 3.2.1.3")
def test_syn_from_own_address_with_another_port_is_ignored(dut, peer, dut_ip):
    """The DUT's own address with another port: still a spoof, no connection."""
    bad_syn_then_control(dut, peer, dut_ip, 40000)


@pytest.mark.ipv4_only("IPv4's invalid source classes (RFC 1122 §3.2.1.3: 0/8, 127/8, class E, broadcast); "
                      "IPv6's (multicast, loopback: RFC 4291 §2.7, §2.5.3) are the ipv6 area's")
@pytest.mark.rfc("9293 3.9.2.3", "9293 MUST-63", "1122 3.2.1.3", "1122 3.2.2")
@pytest.mark.parametrize("src", [
    pytest.param("127.0.0.1", id="loopback"),
    pytest.param("0.0.0.0", id="this-host"),
    pytest.param("0.1.2.3", id="this-network-host", marks=linux_accepts("0/8 other than 0.0.0.0")),
    pytest.param("240.0.0.1", id="class-e", marks=linux_accepts("class E (240/4)")),
    pytest.param("224.0.0.1", id="multicast"),
    pytest.param("10.0.0.255", id="directed-broadcast",
                 marks=linux_accepts("the directed broadcast of its own subnet")),
])
def test_syn_from_an_invalid_source_is_ignored(dut, peer, src):
    """127/8, 0/8, class E, multicast and the subnet's broadcast: no SYN-ACK (which a default route
    would otherwise carry off-link), no connection."""
    bad_syn_then_control(dut, peer, src, 40000)
