"""A UDP socket bound to one local address receives only datagrams for that address (RFC 1122 §4.1.3.5).

RFC 1122 §4.1.3.5 lets an application bind a specific local address; a datagram for the host's other
address to the same port finds no socket there: it is answered with a port unreachable
(§4.1.3.1) and never delivered. The control: a datagram to the bound address is delivered.
"""

from __future__ import annotations

import pytest
from scapy.all import UDP, Raw

from pyharness.ipkit import addr, host_ifaces, ip, port_unreachable

pytestmark = pytest.mark.area("udp")


@pytest.mark.dut("tern", reason="a DUT with two addresses is built here")
@pytest.mark.rfc("1122 4.1.3.5", "1122 4.1.3.1", "4443 3.1")
@pytest.mark.parametrize("dst_n,delivered", [(1, False), (3, True)], ids=["other_address", "control"])
def test_socket_bound_to_one_address(net, dst_n, delivered, family):
    """Over IPv6 the answer is ICMPv6's port unreachable (RFC 4443 §3.1: Destination Unreachable, code 4)."""
    ifaces = host_ifaces(family, 1)
    ifaces[family] = [ifaces[family], f"{addr(family, 3)}/{24 if family == 'ipv4' else 64}"]
    dut = net.host("dut", **ifaces)
    peer = net.peer("peer", **host_ifaces(family, 2))
    net.link(dut, peer)
    s = dut.udp_socket()
    s.bind(5000, addr(family, 3))
    dst = addr(family, dst_n)
    peer.send(ip(family, src=addr(family, 2), dst=dst) / UDP(sport=4000, dport=5000) / Raw(b"hello"))
    net.run(for_="10ms")
    got = s.recvfrom()
    if delivered:
        assert got is not None and got[0] == b"hello"
    else:
        assert got is None
        peer.expect(ip(family, src=dst) / port_unreachable(family), within="10ms")
