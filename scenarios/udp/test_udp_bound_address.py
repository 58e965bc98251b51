"""A UDP socket bound to one local address receives only datagrams for that address (RFC 1122 §4.1.3.5).

RFC 1122 §4.1.3.5 lets an application bind a specific local address; a datagram for the host's other
address to the same port finds no socket there: it is answered with a port unreachable
(§4.1.3.1) and never delivered. The control: a datagram to the bound address is delivered.
"""

from __future__ import annotations

import pytest
from scapy.all import ICMP, IP, UDP, Raw

from pyharness.dut import DUT_IP, PEER_IP

pytestmark = pytest.mark.area("udp")


@pytest.mark.dut("tern", reason="a DUT with two addresses is built here")
@pytest.mark.rfc("1122 4.1.3.5", "1122 4.1.3.1")
@pytest.mark.parametrize("dst,delivered", [(DUT_IP, False), ("10.0.0.3", True)], ids=["other_address", "control"])
def test_socket_bound_to_one_address(net, dst, delivered):
    dut = net.host("dut", ipv4=[f"{DUT_IP}/24", "10.0.0.3/24"])
    peer = net.peer("peer", ipv4=f"{PEER_IP}/24")
    net.link(dut, peer)
    s = dut.udp_socket()
    s.bind(5000, "10.0.0.3")
    peer.send(IP(src=PEER_IP, dst=dst) / UDP(sport=4000, dport=5000) / Raw(b"hello"))
    net.run(for_="10ms")
    got = s.recvfrom()
    if delivered:
        assert got is not None and got[0] == b"hello"
    else:
        assert got is None
        peer.expect(IP(src=dst) / ICMP(type=3, code=3), within="10ms")
