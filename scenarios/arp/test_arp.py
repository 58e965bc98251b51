"""ARP (RFC 826) with RFC 1122 §2.3.2 and RFC 5227: answering, resolution,
caching, expiry, the one-request-per-second limit, the queue of packets
waiting for resolution, and failure."""

from __future__ import annotations

import pytest
from scapy.all import ARP, IP, UDP, Ether, Raw

from pyharness.dut import DUT_IP, PEER_IP

BCAST = "ff:ff:ff:ff:ff:ff"
pytestmark = pytest.mark.area("arp")


def answer(peer, req, mac=None):
    """The peer's reply to an ARP request it received."""
    peer.send(Ether(dst=req[Ether].src) / ARP(op=2, hwsrc=mac or peer.mac, psrc=req[ARP].pdst,
                                                hwdst=req[ARP].hwsrc, pdst=req[ARP].psrc))


@pytest.mark.rfc("826 packet-reception")
def test_request_for_our_address_is_answered(dut, peer):
    peer.send(Ether(dst=BCAST) / ARP(op=1, hwsrc=peer.mac, psrc=PEER_IP, pdst=DUT_IP))
    reply = peer.expect(Ether(dst=peer.mac, src=dut.mac) /
                        ARP(op=2, hwsrc=dut.mac, psrc=DUT_IP, hwdst=peer.mac, pdst=PEER_IP), within="1ms")
    assert len(bytes(reply)) == 60  # padded to the Ethernet minimum


@pytest.mark.rfc("826 packet-reception")
@pytest.mark.parametrize("target", ["10.0.0.3", "10.0.0.255", "10.0.1.1", "0.0.0.0", "255.255.255.255"])
def test_request_for_another_address_is_ignored(dut, peer, target):
    peer.send(Ether(dst=BCAST) / ARP(op=1, hwsrc=peer.mac, psrc=PEER_IP, pdst=target))
    peer.expect_nothing(for_="100ms")
    # positive control: the same request for the DUT's own address is answered
    peer.send(Ether(dst=BCAST) / ARP(op=1, hwsrc=peer.mac, psrc=PEER_IP, pdst=DUT_IP))
    peer.expect(ARP(op=2, psrc=DUT_IP, pdst=PEER_IP), within="1ms")


@pytest.mark.silent_peer
@pytest.mark.rfc("826 packet-reception")
def test_requester_is_cached_from_its_request(dut, peer):
    # RFC 826: the packet is for us, so the sender's mapping is merged into the table.
    peer.send(Ether(dst=BCAST) / ARP(op=1, hwsrc=peer.mac, psrc=PEER_IP, pdst=DUT_IP))
    peer.expect(ARP(op=2), within="1ms")
    dut.udp_socket().sendto(b"no ARP needed", (PEER_IP, 9))
    peer.expect(Ether(dst=peer.mac) / IP(dst=PEER_IP) / UDP(dport=9), within="1ms")


@pytest.mark.silent_peer
@pytest.mark.rfc("826 packet-generation", "1122 2.3.2.2")
def test_first_datagram_waits_for_resolution(dut, peer):
    dut.udp_socket().sendto(b"hello", (PEER_IP, 9))
    req = peer.expect(Ether(dst=BCAST, src=dut.mac) /
                      ARP(op=1, hwsrc=dut.mac, psrc=DUT_IP, pdst=PEER_IP, hwdst="00:00:00:00:00:00"),
                      within="1ms")
    peer.expect_nothing(for_="50ms", matching=IP())
    answer(peer, req)
    got = peer.expect(Ether(dst=peer.mac) / IP(src=DUT_IP, dst=PEER_IP) / UDP(dport=9), within="1ms")
    assert bytes(got[UDP].payload)[:5] == b"hello"


@pytest.mark.silent_peer
@pytest.mark.rfc("1122 2.3.2.2")
def test_queued_datagrams_leave_in_order_after_the_reply(dut, peer):
    s = dut.udp_socket()
    for i in range(5):
        s.sendto(b"%d" % i, (PEER_IP, 9))
    req = peer.expect(ARP(op=1, pdst=PEER_IP), within="1ms")
    answer(peer, req)
    for i in range(5):
        got = peer.expect(UDP(dport=9), within="1ms")
        assert bytes(got[UDP].payload)[:1] == b"%d" % i


@pytest.mark.silent_peer
@pytest.mark.rfc("1122 2.3.2.1")
def test_requests_limited_to_one_per_second_then_failure(dut, peer, profile):
    s = dut.udp_socket()
    s.sendto(b"x", (PEER_IP, 9))
    first = peer.expect(ARP(op=1, pdst=PEER_IP), within="1ms")
    t0 = first.time_ns
    # More datagrams for the same address do not cause more requests.
    s.sendto(b"y", (PEER_IP, 9))
    s.sendto(b"z", (PEER_IP, 9))
    prev = t0
    # 0 in virtual time; a real-time DUT: its tolerance for a timer of one retry interval (timer wheel included).
    tol = profile.tolerance(profile.arp_retry)
    for k in range(1, profile.arp_retries):
        quiet_until = prev + profile.arp_retry - 1 - tol
        peer.expect_nothing(for_=quiet_until / 1e9 - peer.net.now, matching=ARP())
        # Exactly one retry interval after the previous request (a real-time DUT: within its profile's tolerance).
        prev = peer.expect(ARP(op=1, pdst=PEER_IP), at=(prev + profile.arp_retry) / 1e9, tolerance=tol / 1e9).time_ns
    peer.expect_nothing(for_="5s", matching=ARP())


@pytest.mark.silent_peer
@pytest.mark.rfc("1122 2.3.2.2")
def test_unresolvable_neighbour_reports_host_unreachable(dut, peer, profile):
    if not profile.arp_failure_icmp:
        pytest.skip(f"the {profile.name} profile does not report ARP failure with ICMP")
    s = dut.udp_socket()
    s.sendto(b"x", (PEER_IP, 9))
    dut.net.run(for_=(profile.arp_retries * profile.arp_retry + 1_000_000) / 1e9)
    err = s.take_error()
    assert err is not None and (err.icmp_type, err.icmp_code) == (3, 1)


@pytest.mark.silent_peer
@pytest.mark.rfc("1122 2.3.2.1")
def test_cache_entry_expires_after_its_lifetime(dut, peer, profile):
    s = dut.udp_socket()
    s.sendto(b"1", (PEER_IP, 9))
    answer(peer, peer.expect(ARP(op=1), within="1ms"))
    t_learn = peer.expect(UDP(), within="1ms").time_ns
    # Just before expiry: sent at once, without waiting for a resolution. (The entry, in use in its last
    # seconds, is polled with a request to its MAC: test_arp_poll.py; unanswered here.)
    dut.net.run(until=(t_learn + profile.arp_timeout - 1_000_000) / 1e9)
    s.sendto(b"2", (PEER_IP, 9))
    peer.expect(Ether(dst=peer.mac) / UDP(), within="1ms")
    peer.received()
    # At expiry: the next datagram resolves again (a broadcast request), and waits for it.
    dut.net.run(until=(t_learn + profile.arp_timeout) / 1e9)
    s.sendto(b"3", (PEER_IP, 9))
    peer.expect(Ether(dst=BCAST) / ARP(op=1, pdst=PEER_IP), within="1ms")
    peer.expect_nothing(for_="10ms", matching=UDP())


@pytest.mark.rfc("5227 3", "826 packet-reception")
def test_gratuitous_arp_updates_an_existing_entry(dut, peer):
    s = dut.udp_socket()
    s.sendto(b"1", (PEER_IP, 9))
    peer.expect(Ether(dst=peer.mac) / UDP(), within="1ms")
    new_mac = "02:00:00:00:99:99"
    peer.send(Ether(src=new_mac, dst=BCAST) / ARP(op=1, hwsrc=new_mac, psrc=PEER_IP, pdst=PEER_IP))
    dut.net.run(for_="1ms")
    s.sendto(b"2", (PEER_IP, 9))
    peer.expect(Ether(dst=new_mac) / UDP(), within="1ms")


@pytest.mark.silent_peer
@pytest.mark.rfc("826 packet-reception")
def test_gratuitous_arp_from_a_stranger_creates_no_entry(dut, peer):
    other = "10.0.0.7"
    peer.send(Ether(dst=BCAST) / ARP(op=1, hwsrc=peer.mac, psrc=other, pdst=other))
    dut.net.run(for_="1ms")
    dut.udp_socket().sendto(b"x", (other, 9))
    peer.expect(ARP(op=1, pdst=other), within="1ms")


@pytest.mark.silent_peer
@pytest.mark.rfc("5227 2.1.1")
def test_probe_from_unspecified_address_is_not_cached(dut, peer):
    peer.send(Ether(dst=BCAST) / ARP(op=1, hwsrc=peer.mac, psrc="0.0.0.0", pdst=PEER_IP))
    dut.net.run(for_="1ms")
    dut.udp_socket().sendto(b"x", (PEER_IP, 9))
    peer.expect(ARP(op=1, pdst=PEER_IP), within="1ms")


@pytest.mark.rfc("826 packet-reception")
@pytest.mark.parametrize("mangle", ["hwtype", "ptype", "hwlen", "plen", "truncated", "multicast-sender"])
def test_malformed_arp_is_ignored(dut, peer, mangle):
    arp = ARP(op=1, hwsrc=peer.mac, psrc=PEER_IP, pdst=DUT_IP)
    if mangle == "hwtype":
        arp.hwtype = 6
    elif mangle == "ptype":
        arp.ptype = 0x86DD
    elif mangle == "hwlen":
        arp.hwlen = 8
    elif mangle == "plen":
        arp.plen = 16
    elif mangle == "multicast-sender":
        arp.hwsrc = "01:00:5e:00:00:01"
    frame = bytes(Ether(dst=BCAST, src=peer.mac) / arp)
    if mangle == "truncated":
        frame = frame[:14 + 20]
    peer.send(frame)
    peer.expect_nothing(for_="100ms")
    # positive control: the same request, well formed, is answered
    peer.send(Ether(dst=BCAST, src=peer.mac) / ARP(op=1, hwsrc=peer.mac, psrc=PEER_IP, pdst=DUT_IP))
    peer.expect(ARP(op=2, psrc=DUT_IP, pdst=PEER_IP), within="1ms")


@pytest.mark.silent_peer
@pytest.mark.rfc("1122 2.3.2.2")
def test_waiting_queue_is_bounded(dut, peer, profile):
    # RFC 1122 §2.3.2.2: the queue SHOULD be small and bounded; what overflows is dropped.
    s = dut.udp_socket()
    if profile.arp_queue is None:
        # Bounded in bytes: datagrams of 1400 bytes, more of them than the byte bound could hold.
        total, pad = profile.arp_queue_bytes // 1400 + 10, bytes(1396)
    else:
        total, pad = max(40, 2 * profile.arp_queue), b""
    for batch in range(0, total, 10):
        for i in range(batch, min(batch + 10, total)):
            s.sendto(b"%04d" % i + pad, (PEER_IP, 9))
        dut.net.run(for_="1ms")
    req = peer.expect(ARP(op=1), within="1ms")
    answer(peer, req)
    dut.net.run(for_="10ms" if not pad else "200ms")
    got = [p for p in peer.received() if UDP in p]
    assert 0 < len(got) < total
    if profile.arp_queue is not None:
        assert len(got) <= profile.arp_queue
    # What was kept is in order, starting with the first datagram (or ending with the last one).
    nums = [int(bytes(p[UDP].payload)[:4]) for p in got]
    assert nums == sorted(nums)
    if profile.arp_queue_keeps == "oldest":
        assert nums[0] == 0
    else:
        assert nums[-1] == total - 1
