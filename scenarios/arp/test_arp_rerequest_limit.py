"""The one-request-per-second limit holds across resolutions, not only within one (RFC 1122 §2.3.2.1).

RFC 1122 §2.3.2.1: "A mechanism to prevent ARP flooding (repeatedly sending an ARP Request for the same
IP address, at a high rate) MUST be included. The recommended maximum rate is 1 per second per
destination." A cache entry that expires less than a second after its request left (here the cache
lifetime is set to 500 ms) is resolved again, but its new request waits until one second after the
previous one: exactly then it leaves (the positive control), and not before.
"""

from __future__ import annotations

import pytest
from scapy.all import ARP, UDP, Ether

from pyharness.dut import PEER_IP, make_tern_dut

pytestmark = pytest.mark.area("arp")

SEC = 1_000_000_000


def answer(peer, req):
    """The peer's reply to an ARP request it received."""
    peer.send(Ether(dst=req[Ether].src) / ARP(op=2, hwsrc=peer.mac, psrc=req[ARP].pdst,
                                                hwdst=req[ARP].hwsrc, pdst=req[ARP].psrc))


@pytest.mark.dut("tern", reason="sets the cache lifetime below the request interval (a stack option)")
@pytest.mark.rfc("1122 2.3.2.1")
@pytest.mark.parametrize("resend_ms", [501, 600, 999])
def test_rerequest_after_a_short_lived_entry_waits_a_second(net, resend_ms):
    dut, peer, _ = make_tern_dut(net, peer_arp=False, arp_timeout="500ms", arp_retry="1s")
    s = dut.udp_socket()
    s.sendto(b"1", (PEER_IP, 9))
    req = peer.expect(ARP(op=1, pdst=PEER_IP), within="1ms")
    t0 = req.time_ns
    answer(peer, req)
    peer.expect(UDP(dport=9), within="1ms")
    # The entry has expired (500 ms after the reply); the next datagram starts a new resolution.
    net.run(until=(t0 + resend_ms * 1_000_000) / 1e9)
    s.sendto(b"2", (PEER_IP, 9))
    peer.expect_nothing(for_=(t0 + SEC - 1 - net.now_ns) / 1e9, matching=ARP())
    again = peer.expect(ARP(op=1, pdst=PEER_IP), at=(t0 + SEC) / 1e9, tolerance="1ns")
    answer(peer, again)
    peer.expect(UDP(dport=9), within="1ms")


@pytest.mark.dut("tern", reason="sets the ARP cache to two entries (a stack option)")
@pytest.mark.rfc("5227 2.1.1", "826 packet-reception")
def test_probe_for_our_address_takes_no_cache_entry(net):
    """RFC 5227 §2.1.1: a probe's sender address is 0.0.0.0 and must not be cached (a probe only asks
    whether the address is in use). A two-entry cache holds the peer; a probe for the DUT's address, then
    a request for it from a real address (10.0.0.7, cached as RFC 826 says: the positive control) fill
    the second entry with 10.0.0.7 alone: datagrams to both the peer and 10.0.0.7 then leave without a
    request."""
    dut, peer, _ = make_tern_dut(net, peer_arp=False, arp_entries=2)
    s = dut.udp_socket()
    s.sendto(b"1", (PEER_IP, 9))
    answer(peer, peer.expect(ARP(op=1, pdst=PEER_IP), within="1ms"))
    peer.expect(UDP(dport=9), within="1ms")
    for sender in ("0.0.0.0", "10.0.0.7"):
        peer.send(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc="02:00:00:00:00:07", psrc=sender,
                                                       pdst="10.0.0.1"))
        net.run(for_="1ms")
    peer.received()
    s.sendto(b"2", (PEER_IP, 9))
    s.sendto(b"3", ("10.0.0.7", 9))
    net.run(for_="1ms")
    got = peer.received()
    assert not [p for p in got if ARP in p], f"a request was needed: {[p.summary() for p in got]}"
    assert len([p for p in got if UDP in p]) == 2


@pytest.mark.silent_peer
@pytest.mark.rfc("1122 2.3.2.2")
def test_datagrams_for_another_neighbour_keep_waiting(dut, peer):
    """RFC 1122 §2.3.2.2: a datagram held while its neighbour is resolved is sent when the reply comes. Two
    neighbours resolving at once (the peer and 10.0.0.9, whose replies the peer sends for it): the peer's
    reply releases the peer's datagram and leaves 10.0.0.9's waiting; 10.0.0.9's reply releases it."""
    s = dut.udp_socket()
    s.sendto(b"to-9", ("10.0.0.9", 9))
    s.sendto(b"to-peer", (PEER_IP, 9))
    reqs = {r[ARP].pdst: r for r in (peer.expect(ARP(op=1), within="1ms"), peer.expect(ARP(op=1), within="1ms"))}
    answer(peer, reqs[PEER_IP])
    got = peer.expect(UDP(dport=9), within="1ms")
    assert bytes(got[UDP].payload)[:7] == b"to-peer"  # (Ethernet pads short frames)
    peer.expect_nothing(for_="100ms", matching=UDP())
    nine = reqs["10.0.0.9"]
    peer.send(Ether(dst=nine[Ether].src) / ARP(op=2, hwsrc="02:00:00:00:00:09", psrc="10.0.0.9",
                                                 hwdst=nine[ARP].hwsrc, pdst=nine[ARP].psrc))
    late = peer.expect(Ether(dst="02:00:00:00:00:09") / UDP(dport=9), within="1ms")
    assert bytes(late[UDP].payload)[:4] == b"to-9"
