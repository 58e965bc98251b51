"""Every input of a connection's prebuilt headers reaches its next segment.

The Tern stack keeps the Ethernet and IPv4 headers of each IPv4 connection's segments prebuilt (a header
template, issue 19; stack/src/ipv4/tx_template.c) instead of routing, resolving and building them per
segment. Whatever those headers depend on may change while the connection is open: the neighbour's MAC,
the route, the ARP entry's lifetime, the interface MTU, the connection's TTL. Each scenario below sends one
segment before the change (the control: the headers as they were) and checks the first segment after it
over the wire. RFC 1122 §3.3.1: "The IP layer chooses the correct next hop for each datagram it sends."
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import ARP, Ether

from tcpkit import passive, seq_add

pytestmark = [
    pytest.mark.area("tcp"),
    pytest.mark.ipv4_only("the header template is IPv4's (IPv6 segments are built per segment)"),
]

DUT_IP, PEER_IP = "10.0.0.1", "10.0.0.2"
GW1_IP, GW1_MAC = "10.0.0.3", "02:00:00:00:00:03"
GW2_IP, GW2_MAC = "10.0.0.4", "02:00:00:00:00:04"
NEW_MAC = "02:00:00:00:99:99"
BCAST = "ff:ff:ff:ff:ff:ff"


def _tern_host(dut):
    """The Tern host behind the DUT (route and MTU changes go through it), or skip."""
    if not hasattr(dut, "host"):
        pytest.skip("changes the route table or MTU through the Tern host's API")
    return dut.host


def _ack(conn, dut, data: bytes, seen_raw: bool = False) -> None:
    """The peer acknowledges data the DUT sent (so nothing waits behind it: Nagle). ``conn.expect`` has
    advanced ``rcv_nxt`` over it already; a segment taken with ``peer.expect`` (seen_raw) has not."""
    if seen_raw:
        conn.rcv_nxt = seq_add(conn.rcv_nxt, len(data))
    conn.send(flags="A")
    dut.net.run(for_="1ms")


def _answer_arp(peer, req, ip: str, mac: str) -> None:
    """Answer the DUT's ARP request for ip with mac."""
    peer.send(Ether(dst=req.src) / ARP(op=2, hwsrc=mac, psrc=ip, hwdst=req[ARP].hwsrc, pdst=DUT_IP))


@pytest.mark.rfc("826 packet-reception", "5227 3")
def test_neighbour_mac_change_reaches_the_next_segment(dut, peer):
    """The peer announces a new MAC (a gratuitous ARP, RFC 5227 §3): the next segment goes to it."""
    conn, sock, _ = passive(dut, peer)
    sock.send(b"old-mac")
    seg = conn.expect(payload=b"old-mac", within="10ms")
    assert seg[Ether].dst == peer.mac  # control: the MAC the connection started with
    _ack(conn, dut, b"old-mac")

    peer.send(Ether(src=NEW_MAC, dst=BCAST) / ARP(op=1, hwsrc=NEW_MAC, psrc=PEER_IP, pdst=PEER_IP))
    dut.net.run(for_="1ms")
    sock.send(b"new-mac")
    seg = conn.expect(payload=b"new-mac", within="10ms")
    assert seg[Ether].dst == NEW_MAC, f"the segment after the announcement went to {seg[Ether].dst}"


@pytest.mark.rfc("1122 3.3.1", "1122 3.3.1.2")
def test_route_to_another_gateway_reaches_the_next_segment(dut, peer):
    """The peer is reached through one gateway, then the route is changed to another: the next segment
    resolves the new gateway and goes to its MAC, with the same IP header (the destination is the peer)."""
    host = _tern_host(dut)
    conn, sock, _ = passive(dut, peer)
    host.add_route(f"{PEER_IP}/32", GW1_IP)
    sock.send(b"via-gw1")
    _answer_arp(peer, peer.expect(Ether() / ARP(op=1, pdst=GW1_IP), within="10ms"), GW1_IP, GW1_MAC)
    seg = peer.expect(Ether(dst=GW1_MAC) / IP(dst=PEER_IP) / TCP(dport=conn.local_port), within="10ms")
    assert bytes(seg[TCP].payload) == b"via-gw1"  # control: the first gateway
    _ack(conn, dut, b"via-gw1", seen_raw=True)
    sock.send(b"via-gw1-again")
    seg = conn.expect(payload=b"via-gw1-again", within="10ms")
    assert seg[Ether].dst == GW1_MAC
    _ack(conn, dut, b"via-gw1-again")

    host.del_route(f"{PEER_IP}/32")
    host.add_route(f"{PEER_IP}/32", GW2_IP)
    sock.send(b"via-gw2")
    _answer_arp(peer, peer.expect(Ether() / ARP(op=1, pdst=GW2_IP), within="10ms"), GW2_IP, GW2_MAC)
    seg = peer.expect(Ether(dst=GW2_MAC) / IP(dst=PEER_IP) / TCP(dport=conn.local_port), within="10ms")
    assert bytes(seg[TCP].payload) == b"via-gw2"


@pytest.mark.rfc("1122 2.3.2.1")
def test_neighbour_expiry_reaches_the_next_segment(dut, peer, profile):
    """RFC 1122 §2.3.2.1: "An implementation of the Address Resolution Protocol (ARP) [LINK:2] MUST provide a
    mechanism to flush out-of-date cache entries"; the Tern stack's is "(1) Timeout -- Periodically time out
    cache entries, even if they are in use": a connection's segments stop going to the cached MAC when its
    entry times out. The peer refreshes the entry at t0;
    a segment 1 ms before t0 + arp_timeout leaves at once (the control), one at t0 + arp_timeout makes
    the DUT ask for the peer's MAC again before it leaves."""
    conn, sock, _ = passive(dut, peer)
    sock.send(b"first")
    conn.expect(payload=b"first", within="10ms")
    _ack(conn, dut, b"first")
    peer.send(Ether(dst=BCAST) / ARP(op=1, hwsrc=peer.mac, psrc=PEER_IP, pdst=PEER_IP))
    t0 = dut.net.now_ns  # the link takes no time: the entry is refreshed now
    dut.net.run(for_="1ms")

    dut.net.run(until=(t0 + profile.arp_timeout - 1_000_000) / 1e9)
    sock.send(b"before")
    seg = conn.expect(payload=b"before", within="1ms")
    assert seg[Ether].dst == peer.mac
    _ack(conn, dut, b"before")

    peer.arp = False  # the scenario answers the DUT's requests itself from here on
    dut.net.run(until=(t0 + profile.arp_timeout) / 1e9)
    sock.send(b"after")
    req = peer.expect(Ether(dst=BCAST) / ARP(op=1, pdst=PEER_IP), within="1ms")
    assert req.time_ns == t0 + profile.arp_timeout
    _answer_arp(peer, req, PEER_IP, NEW_MAC)
    seg = conn.expect(payload=b"after", within="10ms")
    assert seg[Ether].dst == NEW_MAC  # held for the resolution, then sent to its answer


@pytest.mark.rfc("791 3.2")
@pytest.mark.parametrize("mtu", [1000, 1430])
def test_mtu_change_reaches_the_next_segment(dut, peer, mtu):
    """The interface MTU drops (to 1000; to 1430, 10 bytes below the 1440-byte datagrams sent so far) while a
    connection is open: no datagram sent after the change is larger than the new MTU. RFC 791 §3.2: "The
    maximum sized datagram that can be transmitted through the next network is called the maximum
    transmission unit (MTU)", and the segments carry DF: "If the Don't Fragment flag (DF) bit is set, then
    internet fragmentation of this datagram is NOT permitted": TCP must send smaller segments."""
    host = _tern_host(dut)
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1460})
    sock.send(bytes(1400))
    seg = conn.expect(within="10ms")
    assert seg[IP].len == 1440  # control: a full-sized segment under the old MTU
    _ack(conn, dut, bytes(1400))

    host.set_mtu(mtu)
    sock.send(bytes(1400))
    seg = peer.expect(IP(src=DUT_IP) / TCP(dport=conn.local_port), within="1s")
    assert seg[IP].len <= mtu, f"a {seg[IP].len}-byte datagram after the MTU went to {mtu}"
    assert seg[IP].flags.DF and seg[IP].frag == 0  # a whole segment, not a fragment
    assert len(seg[TCP].payload) > 0


@pytest.mark.rfc("1122 3.2.1.7")
def test_ttl_option_change_reaches_the_next_segment(dut, peer):
    """RFC 1122 §3.2.1.7: "The IP layer MUST provide a means for the transport layer to set the TTL field of
    every datagram that is sent": the connection's TTL option, set mid-connection, is in its next segment, and
    set back to 0, the default TTL is again."""
    _tern_host(dut)
    conn, sock, _ = passive(dut, peer)
    sock.send(b"default-ttl")
    seg = conn.expect(payload=b"default-ttl", within="10ms")
    default_ttl = seg[IP].ttl
    assert default_ttl != 7  # control: the connection's default
    _ack(conn, dut, b"default-ttl")

    sock.set_option("ttl", 7)
    sock.send(b"ttl-7")
    seg = conn.expect(payload=b"ttl-7", within="10ms")
    assert seg[IP].ttl == 7
    _ack(conn, dut, b"ttl-7")
    sock.set_option("ttl", 0)  # back to the default
    sock.send(b"ttl-default")
    seg = conn.expect(payload=b"ttl-default", within="10ms")
    assert seg[IP].ttl == default_ttl
