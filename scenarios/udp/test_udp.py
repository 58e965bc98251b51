"""UDP (RFC 768, RFC 1122 §4.1): delivery with addresses, checksums
(generated, verified, zero accepted), lengths, port unreachable, broadcast,
ports and binding."""

from __future__ import annotations

import pytest
from scapy.all import ICMP, UDP, Ether, Raw, fragment
from scapy.layers.inet6 import ICMPv6DestUnreach, IPv6ExtHdrFragment, fragment6

from pyharness.errors import ConfigError, NetworkError
from pyharness.ipkit import host_ifaces, ip, ip_of, l4_checksum, port_unreachable

pytestmark = pytest.mark.area("udp")

SIZES = [0, 1, 2, 17, 100, 512, 1472, 1473, 3000, 8000, 30000, 65507]


def udp_checksum_ok(p):
    """Recompute the UDP checksum of a received datagram with scapy and compare."""
    return p[UDP].chksum == l4_checksum(p, UDP)


def is_fragment(p):
    """A fragment of a larger datagram (IPv4 MF or offset, or an IPv6 Fragment header)?"""
    layer = ip_of(p)
    if type(layer).__name__ == "IP":
        return bool(layer.flags.MF) or layer.frag > 0
    return p.haslayer(IPv6ExtHdrFragment)


def send_datagram(peer, dport, data, family, src, dst, sport=9):
    """A datagram from the peer, fragmented at 1500 bytes when larger (IPv6: a Fragment header, RFC 8200 §4.5)."""
    if family == "ipv4":
        pkt = ip(family, src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(data)
        frags = [pkt] if len(bytes(pkt)) <= 1500 else fragment(pkt, fragsize=1480)
    else:
        pkt = ip(family, src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(data)
        if len(bytes(pkt)) <= 1500:
            frags = [pkt]
        else:
            pkt = ip(family, src=src, dst=dst) / IPv6ExtHdrFragment(id=7) / UDP(sport=sport, dport=dport) / Raw(data)
            frags = fragment6(pkt, 1500)
    for f in frags:
        peer.send(f)


@pytest.mark.rfc("768 fields", "1122 4.1.3.4")
@pytest.mark.parametrize("size", SIZES)
def test_datagram_delivered_with_its_source(dut, peer, size, dut_ip, peer_ip, family):
    s = dut.udp_socket(port=7000)
    data = bytes((i * 5) & 0xFF for i in range(size))
    send_datagram(peer, 7000, data, family, peer_ip, dut_ip, sport=1234)
    dut.net.run(for_="1ms")
    got = s.recvfrom()
    assert got == (data, (peer_ip, 1234))


@pytest.mark.rfc("768 fields", "1122 4.1.3.4", "8200 8.1")
@pytest.mark.parametrize("size", [0, 1, 100, 1472, 1473, 9000])
def test_echo_back_has_correct_ports_lengths_and_checksum(dut, peer, size, dut_ip, peer_ip, family):
    s = dut.udp_socket(port=7)
    data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    send_datagram(peer, 7, data, family, peer_ip, dut_ip, sport=5555)
    dut.net.run(for_="1ms")
    msg, addr = s.recvfrom()
    s.sendto(msg, addr)
    first = peer.expect(ip(family, src=dut_ip) / UDP(sport=7, dport=5555), within="10ms")
    if not is_fragment(first):
        assert first[UDP].len == 8 + size
        assert first[UDP].chksum != 0 and udp_checksum_ok(first)


@pytest.mark.rfc("768 fields", "1122 4.1.3.4")
def test_bad_checksum_is_dropped(dut, peer, dut_ip, family):
    s = dut.udp_socket(port=7)
    peer.send(ip(family, dst=dut_ip) / UDP(sport=1, dport=7, chksum=0x1234) / Raw(b"bad"))
    dut.net.run(for_="1ms")
    assert s.recvfrom() is None
    peer.expect_nothing(for_="50ms")  # and no port unreachable either
    # positive controls: the same datagram with its checksum right is delivered, and
    # sent to a closed port it gets its port unreachable
    peer.send(ip(family, dst=dut_ip) / UDP(sport=1, dport=7) / Raw(b"bad"))
    dut.net.run(for_="1ms")
    got = s.recvfrom()
    assert got is not None and got[0] == b"bad"
    peer.send(ip(family, dst=dut_ip) / UDP(sport=1, dport=9) / Raw(b"bad"))
    peer.expect(ip(family, src=dut_ip) / port_unreachable(family), within="10ms")


@pytest.mark.rfc("768 fields", "1122 4.1.3.4", "8200 8.1")
def test_zero_checksum_means_none_over_ipv4_and_is_dropped_over_ipv6(dut, peer, dut_ip, peer_ip, family):
    """RFC 768: "An all zero transmitted checksum value means that the transmitter generated no checksum"; over
    IPv6 it is not optional: RFC 8200 §8.1: "IPv6 receivers must discard UDP packets containing a zero checksum
    and should log the error." The positive control over IPv6: the same datagram with its checksum is delivered."""
    s = dut.udp_socket(port=7)
    peer.send(ip(family, dst=dut_ip) / UDP(sport=1, dport=7, chksum=0) / Raw(b"no-checksum"))
    dut.net.run(for_="1ms")
    if family == "ipv4":
        assert s.recvfrom() == (b"no-checksum", (peer_ip, 1))
        return
    assert s.recvfrom() is None
    assert dut.counters().udp_bad_checksum == 1
    # to a closed port: dropped before the port is looked at, so not even a port unreachable
    peer.send(ip(family, dst=dut_ip) / UDP(sport=1, dport=9, chksum=0) / Raw(b"no-checksum"))
    peer.expect_nothing(for_="50ms")
    assert dut.counters().udp_bad_checksum == 2
    # the controls: with its checksum the datagram is delivered, and to the closed port it is answered
    peer.send(ip(family, dst=dut_ip) / UDP(sport=1, dport=7) / Raw(b"checksum"))
    dut.net.run(for_="1ms")
    assert s.recvfrom() == (b"checksum", (peer_ip, 1))
    peer.send(ip(family, dst=dut_ip) / UDP(sport=1, dport=9) / Raw(b"checksum"))
    peer.expect(ip(family, src=dut_ip) / port_unreachable(family), within="10ms")


def pseudo_header_words(src: str, dst: str, proto: int, length: int) -> list[int]:
    """The 16-bit words of the IPv4 (RFC 768) or IPv6 (RFC 8200 §8.1) pseudo-header."""
    import ipaddress
    import struct

    s, d = ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed
    tail = struct.pack("!BBH", 0, proto, length) if len(s) == 4 else struct.pack("!IxxxB", length, proto)
    raw = s + d + tail
    return [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]


@pytest.mark.rfc("768 fields", "8200 8.1")
def test_computed_zero_checksum_is_sent_as_all_ones(dut, peer, dut_ip, peer_ip):
    # A 2-byte payload chosen so that the checksum computes to zero; RFC 768
    # says it is then sent as all ones (RFC 8200 §8.1 over IPv6 too). Sum of pseudo-header and header with
    # the payload zero, then the payload that brings the sum to 0xFFFF.
    s = dut.udp_socket(port=40000)
    words = pseudo_header_words(dut_ip, peer_ip, 17, 10) + [40000, 9, 10]
    total = sum(words)
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    data = (0xFFFF - total).to_bytes(2, "big")
    s.sendto(data, (peer_ip, 9))
    got = peer.expect(UDP(dport=9), within="10ms")
    assert got[UDP].chksum == 0xFFFF


@pytest.mark.rfc("768 fields", "1122 4.1.3.4")
@pytest.mark.parametrize("length", [0, 7, 10, 2000], ids=["zero", "below-header", "above-data", "beyond-ip"])
def test_inconsistent_length_is_dropped(dut, peer, length, dut_ip, family):
    if family == "ipv6" and length == 0 and getattr(dut, "kind", None) == "linux":
        pytest.skip("Linux reads a UDP length of 0 over IPv6 as the jumbogram convention (RFC 2147 section 2: 'a "
                    "length of zero is used to indicate that it is to be ignored'; RFC 2675) also in a datagram that "
                    "is no jumbogram, and delivers it; Tern drops it (docs/linux-differences.md, IPv6)")
    s = dut.udp_socket(port=7)
    peer.send(ip(family, dst=dut_ip) / UDP(sport=1, dport=7, len=length) / Raw(b"x"))
    dut.net.run(for_="1ms")
    assert s.recvfrom() is None


@pytest.mark.rfc("768 fields")
def test_bytes_after_the_udp_length_are_ignored(dut, peer, dut_ip, peer_ip, family):
    s = dut.udp_socket(port=7)
    # The IP datagram carries 5 more bytes than the UDP length says; checksum over the 3.
    good = ip(family, src=peer_ip, dst=dut_ip) / UDP(sport=1, dport=7) / Raw(b"abc")
    chk = type(good)(bytes(good))[UDP].chksum
    raw = bytes(UDP(sport=1, dport=7, len=11, chksum=chk) / Raw(b"abc"))
    peer.send(ip(family, src=peer_ip, dst=dut_ip, proto=17) / Raw(raw + b"XXXXX"))
    dut.net.run(for_="1ms")
    assert s.recvfrom() == (b"abc", (peer_ip, 1))


@pytest.mark.rfc("1122 4.1.3.1", "4443 3.1")
@pytest.mark.parametrize("port", [1, 9, 53, 7001, 65535])
def test_closed_port_answers_port_unreachable(dut, peer, port, dut_ip, family):
    """RFC 4443 §3.1 over IPv6: "Destination Unreachable ... with Code 4 in response to a packet for which the
    transport protocol (e.g., UDP) has no listener"."""
    peer.send(ip(family, dst=dut_ip) / UDP(sport=4242, dport=port) / Raw(b"anyone?"))
    err = peer.expect(ip(family, src=dut_ip) / port_unreachable(family), within="10ms")
    quoted = bytes(err[ICMP].payload) if family == "ipv4" else bytes(err[ICMPv6DestUnreach].payload)
    inner = ip(family).__class__(quoted)
    assert inner[UDP].dport == port and inner[UDP].sport == 4242


@pytest.mark.rfc("1122 4.1.3.1", "1122 3.2.2", "4443 2.4")
@pytest.mark.parametrize("kind", ["limited", "subnet"])
def test_closed_port_broadcast_is_silent(dut, peer, kind, dut_ip, family):
    """No port unreachable about a datagram sent to a broadcast address (RFC 1122 §3.2.2), nor, over IPv6, to a
    multicast group the DUT listens to (RFC 4443 §2.4 (e.3): not "as a result of receiving ... a packet
    destined to an IPv6 multicast address"; the all-nodes group ff02::1 and the DUT's solicited-node group)."""
    if family == "ipv4":
        dst, mac = ("255.255.255.255" if kind == "limited" else "10.0.0.255"), "ff:ff:ff:ff:ff:ff"
    else:
        dst, mac = ("ff02::1", "33:33:00:00:00:01") if kind == "limited" else \
            ("ff02::1:ff00:1", "33:33:ff:00:00:01")
    peer.send(Ether(dst=mac) / ip(family, dst=dst) / UDP(sport=4242, dport=9) / Raw(b"?"))
    peer.expect_nothing(for_="100ms")
    # positive control: the same datagram to the DUT's unicast address gets its port unreachable
    peer.send(ip(family, dst=dut_ip) / UDP(sport=4242, dport=9) / Raw(b"?"))
    peer.expect(ip(family, src=dut_ip) / port_unreachable(family), within="10ms")


@pytest.mark.ipv4_only("IPv4 broadcast (RFC 1122 §4.1.3.5); IPv6 has no broadcast addresses (RFC 4291 §2)")
@pytest.mark.rfc("1122 4.1.3.5")
def test_broadcast_send_needs_permission(dut, peer, profile):
    s = dut.udp_socket()
    # An invalid argument on both DUTs (Linux: EACCES, reported as INVALID_ARGUMENT with the reason)
    with pytest.raises(ConfigError, match="broadcast"):
        s.sendto(b"hello all", ("255.255.255.255", 9))
    s.set_broadcast(True)
    s.sendto(b"hello all", ("255.255.255.255", 9))
    peer.expect(Ether(dst="ff:ff:ff:ff:ff:ff") / ip("ipv4", dst="255.255.255.255") / UDP(dport=9), within="10ms")
    s.sendto(b"hello net", ("10.0.0.255", 9))
    peer.expect(Ether(dst="ff:ff:ff:ff:ff:ff") / ip("ipv4", dst="10.0.0.255") / UDP(dport=9), within="10ms")


@pytest.mark.rfc("6056 3.3.1", "1122 4.1.3.4")
def test_ephemeral_ports_are_in_range_and_distinct(dut, peer, profile, peer_ip):
    ports = []
    for _ in range(8):
        s = dut.udp_socket()
        s.sendto(b"x", (peer_ip, 9))
        got = peer.expect(UDP(dport=9), within="10ms")
        ports.append(got[UDP].sport)
    assert all(profile.ephemeral_low <= p <= profile.ephemeral_high for p in ports)
    assert len(set(ports)) == len(ports)
    # Randomised, not sequential from the bottom of the range.
    assert sorted(ports) != list(range(ports[0], ports[0] + 8))


@pytest.mark.rfc("6056 3.3.1")
def test_ephemeral_port_depends_on_the_seed(net, peer_ip, family):
    from pyharness import Network

    def first_port(seed):
        n = Network(seed=seed)
        h = n.host("dut", **host_ifaces(family, 1))
        p = n.peer("peer", **host_ifaces(family, 2))
        n.link(h, p)
        h.udp_socket().sendto(b"x", (peer_ip, 9))
        return p.expect(UDP(dport=9), within="10ms")[UDP].sport

    assert first_port(1) == first_port(1)
    assert len({first_port(s) for s in range(1, 6)}) > 1


@pytest.mark.rfc("1122 4.1.3.4")
def test_binding_a_port_twice_is_refused(dut, peer):
    dut.udp_socket(port=9999)
    with pytest.raises(NetworkError, match="in use"):
        dut.udp_socket(port=9999)


@pytest.mark.rfc("1122 4.1.3.4")
def test_specific_address_binding_wins_over_any(dut, peer, dut_ip):
    any_s = dut.udp_socket(port=8000)
    del any_s
    # One socket bound to the DUT's address receives what is sent to it.
    s = dut.udp_socket()
    with pytest.raises(NetworkError):
        s.bind(8000, dut_ip)  # the port is taken by the wildcard socket


@pytest.mark.rfc("1122 4.1.3.4")
def test_queued_datagrams_are_kept_in_order(dut, peer, dut_ip, family):
    s = dut.udp_socket(port=7)
    for i in range(10):
        peer.send(ip(family, dst=dut_ip) / UDP(sport=1, dport=7) / Raw(b"%d" % i))
    dut.net.run(for_="1ms")
    got = []
    while (m := s.recvfrom()) is not None:
        got.append(m[0])
    assert got == [b"%d" % i for i in range(10)]


@pytest.mark.rfc("1122 4.1.3.4")
def test_full_receive_queue_drops_and_keeps_the_oldest(dut, peer, profile, dut_ip, family):
    s = dut.udp_socket(port=7)
    # A queue bounded in datagrams: 100 small ones; bounded in bytes (SO_RCVBUF): more 1400-byte ones than fit.
    total, pad = (100, b"") if profile.udp_rx_queue is not None else (max(100, profile.udp_rx_bytes // 1400 + 10),
                                                                     bytes(1397))
    for i in range(total):
        peer.send(ip(family, dst=dut_ip) / UDP(sport=1, dport=7) / Raw(b"%03d" % i + pad))
    dut.net.run(for_="1ms" if not pad else "100ms")
    got = []
    while (m := s.recvfrom()) is not None:
        got.append(m[0])
    assert 0 < len(got) < total
    if profile.udp_rx_queue is not None:
        assert len(got) <= profile.udp_rx_queue
    assert got == [b"%03d" % i + pad for i in range(len(got))]
