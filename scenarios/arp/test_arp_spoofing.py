"""ARP under a stream of datagrams from spoofed on-link sources (issue 21).

Each such datagram to a closed UDP port earns an ICMP port unreachable (RFC 1122 §3.2.2.1), and sending it
needs the spoofed source resolved: without care, the resolutions take the whole 64-entry table and push out
the neighbour a live exchange is using. RFC 826 ("Packet Reception") merges a sender into the table only when
an entry exists or the packet is addressed to us; the rest of the table management is the implementation's:
Tern never evicts an entry in use (a packet went through it within the time a resolution takes) and lets
unanswered resolutions churn among themselves.
"""

from __future__ import annotations

import pytest
from scapy.all import ARP, ICMP, IP, UDP, Ether

pytestmark = [pytest.mark.area("arp"),
              pytest.mark.dut("tern", reason="the Tern stack's ARP table and counters, on a /16 of its own")]

DUT = "10.0.0.1"
PEER = "10.0.0.2"
STREAM = 300  # spoofed datagrams, one every 10 ms (100 per second: the ICMP error rate limit)
GAP = "10ms"


def spoofed(i: int) -> str:
    return f"10.0.{1 + i // 200}.{1 + i % 200}"


def build(net):
    dut = net.host("dut", ipv4=f"{DUT}/16")
    peer = net.peer("peer", ipv4=f"{PEER}/16")
    net.link(dut, peer)
    return dut, peer


def echo(peer, dut, seq):
    peer.send(Ether(dst=dut.mac) / IP(dst=DUT) / ICMP(type=8, id=7, seq=seq))


def stream_with_exchange(net, dut, peer, live: bool):
    """STREAM spoofed datagrams; with ``live``, the peer pings the DUT every 10 ms meanwhile. Returns
    (ARP requests the DUT sent for the peer, echo replies received, echo requests sent)."""
    answered = peer.arp_answered  # the peer answers (and consumes) ARP requests for its address
    replies = sent = 0
    for i in range(STREAM):
        peer.send(Ether(dst=dut.mac) / IP(src=spoofed(i), dst=DUT) / UDP(sport=5000, dport=9) / b"spoof")
        if live:
            echo(peer, dut, i)
            sent += 1
        net.run(for_=GAP)
        for p in peer.received():
            if p.haslayer(ICMP) and p[ICMP].type == 0 and p[IP].dst == PEER:
                replies += 1
    return peer.arp_answered - answered, replies, sent


def resolve_peer(net, dut, peer):
    echo(peer, dut, 9999)
    net.run(for_="10ms")
    got = peer.received()
    assert any(p.haslayer(ICMP) and p[ICMP].type == 0 for p in got)


@pytest.mark.rfc("826 packet-reception", "1122 2.3.2.1")
def test_spoofed_stream_does_not_disturb_a_live_exchange(net):
    """300 spoofed datagrams (3 s at 100/s) while the peer pings the DUT every 10 ms: every echo is answered at
    once and the DUT never has to ask for the peer's address again."""
    dut, peer = build(net)
    resolve_peer(net, dut, peer)
    before = dut.counters()
    requests_for_peer, replies, sent = stream_with_exchange(net, dut, peer, live=True)
    c = dut.counters()
    assert requests_for_peer == 0
    assert dut.arp_lookup(PEER) == peer.mac
    assert replies == sent == STREAM
    assert c.arp_requests_sent - before.arp_requests_sent > 64  # the stream did fill the table (control)
    assert c.arp_evicted > 0


@pytest.mark.rfc("826 packet-reception", "1122 2.3.2.1")
def test_spoofed_stream_evicts_an_idle_neighbour(net):
    """The positive control: the same stream with the peer's entry idle (nothing sent to it for longer than a
    resolution takes) evicts that entry, and the next echo reply needs a new ARP request for the peer. (That
    reply may itself be lost: the datagrams waiting for the spoofed sources fill the ARP wait queue until
    their resolutions fail.)"""
    dut, peer = build(net)
    resolve_peer(net, dut, peer)
    net.run(for_="5s")
    requests_for_peer, _, _ = stream_with_exchange(net, dut, peer, live=False)
    assert requests_for_peer == 0
    assert dut.arp_lookup(PEER) is None
    answered = peer.arp_answered
    echo(peer, dut, 1)
    net.run(for_="10ms")
    assert peer.arp_answered == answered + 1
    assert dut.arp_lookup(PEER) == peer.mac


@pytest.mark.rfc("826 packet-reception")
def test_unrelated_arp_traffic_creates_no_entry(net):
    """RFC 826: "If the pair <protocol type, sender protocol address> is already in my translation table,
    update the sender hardware address field of the entry with the new information in the packet"; only
    then, if "I am the target protocol address", add it. A request between two other hosts creates no entry:
    the DUT still has to resolve that sender; a request for the DUT's address (the control) creates one."""
    dut, peer = build(net)
    peer.send(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=peer.mac, psrc=PEER, pdst="10.0.0.77"))
    net.run(for_="1ms")
    assert dut.arp_lookup(PEER) is None
    peer.send(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=peer.mac, psrc=PEER, pdst=DUT))
    net.run(for_="1ms")
    assert dut.arp_lookup(PEER) == peer.mac


@pytest.mark.rfc("1122 2.3.2.1")
def test_table_of_entries_in_use_refuses_a_new_resolution_counted(net):
    """A 4-entry table whose 4 neighbours are all in use: a datagram to a fifth address is dropped and counted
    (arp_table_full), no entry in use is touched; once the neighbours fall idle, the fifth resolves (control)."""
    dut = net.host("dut", ipv4=f"{DUT}/16", arp_entries=4)
    peer = net.peer("peer", ipv4=f"{PEER}/16", arp=False)
    net.link(dut, peer)
    macs = {f"10.0.0.{10 + k}": f"02:00:00:00:00:{10 + k:02x}" for k in range(4)}
    for ip, mac in macs.items():  # each asks for the DUT: RFC 826 merges it (the packet is for us)
        peer.send(Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=mac, psrc=ip, pdst=DUT))
    net.run(for_="1ms")
    u = dut.udp_socket()

    def use_all():
        for ip in macs:
            u.sendto(b"in use", (ip, 9))
        net.run(for_="100ms")

    use_all()
    u.sendto(b"fifth", ("10.0.0.99", 9))
    net.run(for_="1ms")
    assert dut.counters().arp_table_full == 1
    assert all(dut.arp_lookup(ip) == mac for ip, mac in macs.items())
    peer.received()
    net.run(for_="4s")  # idle for longer than a resolution takes
    u.sendto(b"fifth", ("10.0.0.99", 9))
    net.run(for_="1ms")
    assert any(p.haslayer(ARP) and p[ARP].pdst == "10.0.0.99" for p in peer.received())
    assert dut.counters().arp_table_full == 1
