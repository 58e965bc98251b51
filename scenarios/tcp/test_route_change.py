"""A connection's segments follow the route table as it is now: the Tern stack keeps each IPv4
connection's route instead of looking it up per segment (issue 19), and a change to the table must
reach an open connection at its next segment (RFC 1122 §3.3.1.1: the next hop is chosen from the
routing information for every datagram sent)."""

from __future__ import annotations

import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import ARP, Ether

from tcpkit import passive, seq_add

pytestmark = pytest.mark.area("tcp")

DUT_IP, PEER_IP, GW_IP, GW_MAC = "10.0.0.1", "10.0.0.2", "10.0.0.3", "02:00:00:00:00:03"


@pytest.mark.ipv4_only("the per-connection route kept by the stack is IPv4's (IPv6 routes follow Neighbor "
                       "Discovery and are looked up per segment)")
@pytest.mark.rfc("1122 3.3.1.1", "1812 5.2.4.3")
def test_route_change_reaches_an_open_connection(dut, peer):
    """Data first goes to the peer on-link (the control); a host route to the peer through 10.0.0.3 is added:
    the next segment makes the DUT resolve 10.0.0.3 and goes to that router's MAC; the route is removed: the
    next segment goes to the peer directly again."""
    conn, sock, _ = passive(dut, peer)
    sock.send(b"direct")
    seg = conn.expect(payload=b"direct", within="10ms")
    assert seg[Ether].dst == peer.mac
    conn.send(flags="A")
    dut.net.run(for_="1ms")

    dut.add_route(f"{PEER_IP}/32", GW_IP)
    sock.send(b"via-gw")
    req = peer.expect(Ether() / ARP(op=1, pdst=GW_IP), within="10ms")
    peer.send(Ether(dst=req.src) / ARP(op=2, hwsrc=GW_MAC, psrc=GW_IP, hwdst=req[ARP].hwsrc, pdst=DUT_IP))
    seg = peer.expect(Ether(dst=GW_MAC) / IP(dst=PEER_IP) / TCP(dport=conn.local_port), within="10ms")
    assert bytes(seg[TCP].payload) == b"via-gw"
    conn.rcv_nxt = seq_add(conn.rcv_nxt, len(b"via-gw"))
    conn.send(flags="A")
    dut.net.run(for_="1ms")

    if not hasattr(dut, "host"):
        return  # a DUT without route removal through the harness (Linux): the first two steps only
    dut.host.del_route(f"{PEER_IP}/32")
    sock.send(b"direct-again")
    seg = conn.expect(payload=b"direct-again", within="10ms")
    assert seg[Ether].dst == peer.mac
