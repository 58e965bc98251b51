"""UDP (RFC 768, RFC 1122 §4.1): delivery with addresses, checksums
(generated, verified, zero accepted), lengths, port unreachable, broadcast,
ports and binding."""

from __future__ import annotations

import pytest
from scapy.all import ICMP, IP, UDP, Ether, Raw, fragment

from pyharness.dut import DUT_IP, PEER_IP
from pyharness.errors import ConfigError, NetworkError

pytestmark = pytest.mark.area("udp")

SIZES = [0, 1, 2, 17, 100, 512, 1472, 1473, 3000, 8000, 30000, 65507]


def udp_checksum_ok(p):
    """Recompute the UDP checksum of a received datagram with scapy and compare."""
    u = p[UDP]
    received = u.chksum
    clone = IP(bytes(p[IP])[:p[IP].len])
    del clone[UDP].chksum
    return received == IP(bytes(clone))[UDP].chksum


def send_datagram(peer, dport, data, sport=9, **ip):
    pkt = IP(src=PEER_IP, dst=DUT_IP, **ip) / UDP(sport=sport, dport=dport) / Raw(data)
    if len(bytes(pkt)) <= 1500:
        peer.send(pkt)
    else:
        for f in fragment(pkt, fragsize=1480):
            peer.send(f)


@pytest.mark.rfc("768 fields", "1122 4.1.3.4")
@pytest.mark.parametrize("size", SIZES)
def test_datagram_delivered_with_its_source(dut, peer, size):
    s = dut.udp_socket(port=7000)
    data = bytes((i * 5) & 0xFF for i in range(size))
    send_datagram(peer, 7000, data, sport=1234)
    dut.net.run(for_="1ms")
    got = s.recvfrom()
    assert got == (data, (PEER_IP, 1234))


@pytest.mark.rfc("768 fields", "1122 4.1.3.4")
@pytest.mark.parametrize("size", [0, 1, 100, 1472, 1473, 9000])
def test_echo_back_has_correct_ports_lengths_and_checksum(dut, peer, size):
    s = dut.udp_socket(port=7)
    data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    send_datagram(peer, 7, data, sport=5555)
    dut.net.run(for_="1ms")
    msg, addr = s.recvfrom()
    s.sendto(msg, addr)
    first = peer.expect(IP(src=DUT_IP) / UDP(sport=7, dport=5555), within="10ms")
    if not first[IP].flags.MF:
        assert first[UDP].len == 8 + size
        assert first[UDP].chksum != 0 and udp_checksum_ok(first)


@pytest.mark.rfc("768 fields", "1122 4.1.3.4")
def test_bad_checksum_is_dropped(dut, peer):
    s = dut.udp_socket(port=7)
    peer.send(IP(dst=DUT_IP) / UDP(sport=1, dport=7, chksum=0x1234) / Raw(b"bad"))
    dut.net.run(for_="1ms")
    assert s.recvfrom() is None
    peer.expect_nothing(for_="50ms")  # and no port unreachable either
    # positive controls: the same datagram with its checksum right is delivered, and
    # sent to a closed port it gets its port unreachable
    peer.send(IP(dst=DUT_IP) / UDP(sport=1, dport=7) / Raw(b"bad"))
    dut.net.run(for_="1ms")
    got = s.recvfrom()
    assert got is not None and got[0] == b"bad"
    peer.send(IP(dst=DUT_IP) / UDP(sport=1, dport=9) / Raw(b"bad"))
    peer.expect(IP(src=DUT_IP) / ICMP(type=3, code=3), within="10ms")


@pytest.mark.rfc("768 fields", "1122 4.1.3.4")
def test_zero_checksum_means_none_and_is_accepted(dut, peer):
    s = dut.udp_socket(port=7)
    peer.send(IP(dst=DUT_IP) / UDP(sport=1, dport=7, chksum=0) / Raw(b"no-checksum"))
    dut.net.run(for_="1ms")
    assert s.recvfrom() == (b"no-checksum", (PEER_IP, 1))


@pytest.mark.rfc("768 fields")
def test_computed_zero_checksum_is_sent_as_all_ones(dut, peer):
    # A 2-byte payload chosen so that the checksum computes to zero; RFC 768
    # says it is then sent as all ones. Sum of pseudo-header and header with
    # the payload zero, then the payload that brings the sum to 0xFFFF.
    s = dut.udp_socket(port=40000)
    words = [0x0A00, 0x0001, 0x0A00, 0x0002, 17, 10, 40000, 9, 10]
    total = sum(words)
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    data = (0xFFFF - total).to_bytes(2, "big")
    s.sendto(data, (PEER_IP, 9))
    got = peer.expect(UDP(dport=9), within="10ms")
    assert got[UDP].chksum == 0xFFFF


@pytest.mark.rfc("768 fields", "1122 4.1.3.4")
@pytest.mark.parametrize("length", [0, 7, 10, 2000], ids=["zero", "below-header", "above-data", "beyond-ip"])
def test_inconsistent_length_is_dropped(dut, peer, length):
    s = dut.udp_socket(port=7)
    peer.send(IP(dst=DUT_IP) / UDP(sport=1, dport=7, len=length) / Raw(b"x"))
    dut.net.run(for_="1ms")
    assert s.recvfrom() is None


@pytest.mark.rfc("768 fields")
def test_bytes_after_the_udp_length_are_ignored(dut, peer):
    s = dut.udp_socket(port=7)
    raw = bytes(UDP(sport=1, dport=7, len=8 + 3) / Raw(b"abc"))
    # The IP datagram carries 5 more bytes than the UDP length says; checksum over the 3.
    dgram = IP(src=PEER_IP, dst=DUT_IP, proto=17) / Raw(raw + b"XXXXX")
    good = IP(src=PEER_IP, dst=DUT_IP) / UDP(sport=1, dport=7) / Raw(b"abc")
    chk = IP(bytes(good))[UDP].chksum
    raw = bytes(UDP(sport=1, dport=7, len=11, chksum=chk) / Raw(b"abc"))
    peer.send(IP(src=PEER_IP, dst=DUT_IP, proto=17) / Raw(raw + b"XXXXX"))
    dut.net.run(for_="1ms")
    assert s.recvfrom() == (b"abc", (PEER_IP, 1))
    del dgram


@pytest.mark.rfc("1122 4.1.3.1")
@pytest.mark.parametrize("port", [1, 9, 53, 7001, 65535])
def test_closed_port_answers_port_unreachable(dut, peer, port):
    peer.send(IP(dst=DUT_IP) / UDP(sport=4242, dport=port) / Raw(b"anyone?"))
    err = peer.expect(IP(src=DUT_IP) / ICMP(type=3, code=3), within="10ms")
    inner = IP(bytes(err[ICMP].payload))
    assert inner[UDP].dport == port and inner[UDP].sport == 4242


@pytest.mark.rfc("1122 4.1.3.1", "1122 3.2.2")
@pytest.mark.parametrize("dst", ["255.255.255.255", "10.0.0.255"])
def test_closed_port_broadcast_is_silent(dut, peer, dst):
    peer.send(Ether(dst="ff:ff:ff:ff:ff:ff") / IP(dst=dst) / UDP(sport=4242, dport=9) / Raw(b"?"))
    peer.expect_nothing(for_="100ms")
    # positive control: the same datagram to the DUT's unicast address gets its port unreachable
    peer.send(IP(dst=DUT_IP) / UDP(sport=4242, dport=9) / Raw(b"?"))
    peer.expect(IP(src=DUT_IP) / ICMP(type=3, code=3), within="10ms")


@pytest.mark.rfc("1122 4.1.3.5")
def test_broadcast_send_needs_permission(dut, peer, profile):
    s = dut.udp_socket()
    with pytest.raises(ConfigError if profile.name == "tern" else NetworkError, match="broadcast"):
        s.sendto(b"hello all", ("255.255.255.255", 9))
    s.set_broadcast(True)
    s.sendto(b"hello all", ("255.255.255.255", 9))
    peer.expect(Ether(dst="ff:ff:ff:ff:ff:ff") / IP(dst="255.255.255.255") / UDP(dport=9), within="10ms")
    s.sendto(b"hello net", ("10.0.0.255", 9))
    peer.expect(Ether(dst="ff:ff:ff:ff:ff:ff") / IP(dst="10.0.0.255") / UDP(dport=9), within="10ms")


@pytest.mark.rfc("6056 3.3.1", "1122 4.1.3.4")
def test_ephemeral_ports_are_in_range_and_distinct(dut, peer, profile):
    ports = []
    for _ in range(8):
        s = dut.udp_socket()
        s.sendto(b"x", (PEER_IP, 9))
        got = peer.expect(UDP(dport=9), within="10ms")
        ports.append(got[UDP].sport)
    assert all(profile.ephemeral_low <= p <= profile.ephemeral_high for p in ports)
    assert len(set(ports)) == len(ports)
    # Randomised, not sequential from the bottom of the range.
    assert sorted(ports) != list(range(ports[0], ports[0] + 8))


@pytest.mark.rfc("6056 3.3.1")
def test_ephemeral_port_depends_on_the_seed(net):
    from pyharness import Network

    def first_port(seed):
        n = Network(seed=seed)
        h = n.host("dut", ipv4="10.0.0.1/24")
        p = n.peer("peer", ipv4="10.0.0.2/24")
        n.link(h, p)
        h.udp_socket().sendto(b"x", (PEER_IP, 9))
        return p.expect(UDP(dport=9), within="10ms")[UDP].sport

    assert first_port(1) == first_port(1)
    assert len({first_port(s) for s in range(1, 6)}) > 1


@pytest.mark.rfc("1122 4.1.3.4")
def test_binding_a_port_twice_is_refused(dut, peer):
    dut.udp_socket(port=9999)
    with pytest.raises(NetworkError, match="in use"):
        dut.udp_socket(port=9999)


@pytest.mark.rfc("1122 4.1.3.4")
def test_specific_address_binding_wins_over_any(dut, peer):
    any_s = dut.udp_socket(port=8000)
    del any_s
    # One socket bound to the DUT's address receives what is sent to it.
    s = dut.udp_socket()
    with pytest.raises(NetworkError):
        s.bind(8000, DUT_IP)  # the port is taken by the wildcard socket


@pytest.mark.rfc("1122 4.1.3.4")
def test_queued_datagrams_are_kept_in_order(dut, peer):
    s = dut.udp_socket(port=7)
    for i in range(10):
        peer.send(IP(dst=DUT_IP) / UDP(sport=1, dport=7) / Raw(b"%d" % i))
    dut.net.run(for_="1ms")
    got = []
    while (m := s.recvfrom()) is not None:
        got.append(m[0])
    assert got == [b"%d" % i for i in range(10)]


@pytest.mark.rfc("1122 4.1.3.4")
def test_full_receive_queue_drops_and_keeps_the_oldest(dut, peer, profile):
    s = dut.udp_socket(port=7)
    # A queue bounded in datagrams: 100 small ones; bounded in bytes (SO_RCVBUF): more 1400-byte ones than fit.
    total, pad = (100, b"") if profile.udp_rx_queue is not None else (max(100, profile.udp_rx_bytes // 1400 + 10),
                                                                     bytes(1397))
    for i in range(total):
        peer.send(IP(dst=DUT_IP) / UDP(sport=1, dport=7) / Raw(b"%03d" % i + pad))
    dut.net.run(for_="1ms" if not pad else "100ms")
    got = []
    while (m := s.recvfrom()) is not None:
        got.append(m[0])
    assert 0 < len(got) < total
    if profile.udp_rx_queue is not None:
        assert len(got) <= profile.udp_rx_queue
    assert got == [b"%03d" % i + pad for i in range(len(got))]
