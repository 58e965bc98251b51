"""ICMPv4 (RFC 792, RFC 1122 §3.2.2): echo of every size, error generation
and its limits, errors delivered to sockets, no error about an error, and
the DUT's own echo (ping) sockets."""

from __future__ import annotations

import pytest
from scapy.all import ICMP, IP, UDP, Ether, Raw, fragment

from pyharness.dut import DUT_IP, PEER_IP

pytestmark = pytest.mark.area("icmp")

SIZES = [0, 1, 8, 18, 56, 64, 100, 512, 1000, 1471, 1472, 1473, 2000, 2952, 4000, 8000, 16000,
         32000, 65000, 65507]


def send_fragmented(peer, pkt, mtu=1500):
    """Send a datagram as a 1500-MTU sender would: whole, or in fragments."""
    if len(bytes(pkt)) <= mtu:
        peer.send(pkt)
    else:
        for f in fragment(pkt, fragsize=mtu - 20):
            peer.send(f)


def ip_data(p):
    """The IP payload bytes of a received frame, without Ethernet padding."""
    ip = p[IP]
    return bytes(ip)[ip.ihl * 4:ip.len]


def collect_reply(peer, within="100ms"):
    """Receive a (possibly fragmented) datagram and reassemble it here."""
    parts = []
    total = None
    while total is None or sum(len(ip_data(p)) for p in parts) < total:
        p = peer.expect(IP(src=DUT_IP), within=within)
        parts.append(p)
        if not p[IP].flags.MF:
            total = p[IP].frag * 8 + len(ip_data(p))
    data = bytearray(total)
    for p in parts:
        off = p[IP].frag * 8
        data[off:off + len(ip_data(p))] = ip_data(p)
    return parts, bytes(data)


@pytest.mark.rfc("792 echo", "1122 3.2.2.6")
@pytest.mark.parametrize("size", SIZES)
def test_echo_reply_of_every_size(dut, peer, size, profile):
    data = bytes((i * 13 + 7) & 0xFF for i in range(size))
    send_fragmented(peer, IP(dst=DUT_IP, id=4321) / ICMP(type=8, id=0xBEEF, seq=size & 0xFFFF) / Raw(data))
    parts, whole = collect_reply(peer)
    reply = ICMP(whole)
    assert reply.type == 0 and reply.code == 0
    assert reply.id == 0xBEEF and reply.seq == size & 0xFFFF
    assert bytes(reply.payload) == data
    # Each fragment fits the MTU; only the last has MF clear; offsets are multiples of 8.
    for p in parts:
        assert len(bytes(p[IP])) <= profile.mtu
    assert sum(1 for p in parts if not p[IP].flags.MF) == 1
    assert len(parts) == max(1, -(-(8 + size) // ((profile.mtu - 20) // 8 * 8)))


@pytest.mark.rfc("792 echo")
@pytest.mark.parametrize("ident,seq", [(0, 0), (1, 1), (0xFFFF, 0xFFFF), (0x1234, 0xABCD)])
def test_echo_identifier_and_sequence_preserved(dut, peer, ident, seq):
    peer.send(IP(dst=DUT_IP) / ICMP(type=8, id=ident, seq=seq) / Raw(b"abc"))
    peer.expect(IP(src=DUT_IP, dst=PEER_IP) / ICMP(type=0, id=ident, seq=seq), within="10ms")


@pytest.mark.rfc("1122 3.2.1.7")
def test_echo_reply_ttl_is_the_default(dut, peer, profile):
    peer.send(IP(dst=DUT_IP, ttl=3) / ICMP(type=8, id=1, seq=1))
    peer.expect(IP(src=DUT_IP, ttl=profile.ttl) / ICMP(type=0), within="10ms")


@pytest.mark.rfc("1122 3.2.2.6")
@pytest.mark.parametrize("dst", ["10.0.0.255", "255.255.255.255"])
def test_echo_to_broadcast(dut, peer, profile, dst):
    peer.send(Ether(dst="ff:ff:ff:ff:ff:ff") / IP(dst=dst) / ICMP(type=8, id=2, seq=2))
    if profile.echo_broadcast:
        peer.expect(ICMP(type=0, id=2), within="10ms")
    else:
        peer.expect_nothing(for_="100ms", matching=ICMP())


@pytest.mark.rfc("1122 3.2.2")
def test_echo_with_bad_checksum_is_dropped(dut, peer):
    peer.send(IP(dst=DUT_IP) / ICMP(type=8, id=3, seq=3, chksum=0x1234) / Raw(b"x"))
    peer.expect_nothing(for_="100ms", matching=ICMP())
    # positive control: the same request with its checksum right is answered
    peer.send(IP(dst=DUT_IP) / ICMP(type=8, id=3, seq=3) / Raw(b"x"))
    peer.expect(IP(src=DUT_IP) / ICMP(type=0, id=3, seq=3), within="10ms")


@pytest.mark.rfc("1122 3.2.2")
@pytest.mark.parametrize("icmp_type", [13, 15, 17, 42, 255])
def test_unknown_or_unanswered_types_are_silently_discarded(dut, peer, icmp_type):
    # Fixed timestamps: scapy would otherwise fill a timestamp request (type 13)
    # with the wall clock, and the run would stop being reproducible.
    peer.send(IP(dst=DUT_IP) / ICMP(type=icmp_type, code=0, ts_ori=0, ts_rx=0, ts_tx=0) / Raw(b"\x00" * 12))
    peer.expect_nothing(for_="100ms")
    # positive control: an echo request (type 8) the same way is answered
    peer.send(IP(dst=DUT_IP) / ICMP(type=8, id=9, seq=1) / Raw(b"\x00" * 12))
    peer.expect(IP(src=DUT_IP) / ICMP(type=0, id=9), within="10ms")


@pytest.mark.rfc("1122 4.1.3.1", "792 destination-unreachable")
def test_port_unreachable_quotes_the_datagram(dut, peer):
    sent = IP(src=PEER_IP, dst=DUT_IP, id=777) / UDP(sport=4000, dport=9) / Raw(b"probe-data")
    peer.send(sent)
    err = peer.expect(IP(src=DUT_IP, dst=PEER_IP) / ICMP(type=3, code=3), within="10ms")
    quoted = bytes(err[ICMP].payload)
    # At least the header and 8 bytes of the original (RFC 792); here the whole, it fits in 576.
    assert quoted[:28] == bytes(sent)[:28]


@pytest.mark.rfc("1122 3.2.2.1")
@pytest.mark.parametrize("proto", [0, 2, 41, 132, 253, 255])
def test_protocol_unreachable(dut, peer, proto, profile):
    if proto in profile.ip_protocols:
        pytest.skip(f"the {profile.name} DUT implements IP protocol {proto}")
    peer.send(IP(dst=DUT_IP, proto=proto) / Raw(b"12345678"))
    peer.expect(IP(src=DUT_IP) / ICMP(type=3, code=2), within="10ms")


@pytest.mark.rfc("1122 3.2.2")
@pytest.mark.parametrize("about", ["dest-unreach", "time-exceeded", "param-problem", "source-quench"])
def test_no_error_about_an_error(dut, peer, about):
    types = {"dest-unreach": 3, "time-exceeded": 11, "param-problem": 12, "source-quench": 4}
    inner = bytes(IP(src=DUT_IP, dst="10.9.9.9", proto=253) / Raw(b"abcdefgh"))
    # An ICMP error to a protocol-unreachable destination: still no error back.
    peer.send(IP(dst=DUT_IP) / ICMP(type=types[about], code=0) / Raw(inner))
    peer.expect_nothing(for_="100ms")
    # positive control: a datagram for an unimplemented protocol, not inside an error, gets one
    peer.send(IP(dst=DUT_IP, proto=253) / Raw(b"abcdefgh"))
    peer.expect(IP(src=DUT_IP) / ICMP(type=3, code=2), within="10ms")


@pytest.mark.rfc("1122 3.2.2")
def test_no_error_about_a_non_first_fragment(dut, peer):
    peer.send(IP(dst=DUT_IP, proto=253, id=5, frag=100, flags=0) / Raw(b"x" * 16))
    peer.expect_nothing(for_="100ms")
    # positive control: the same datagram unfragmented gets its protocol unreachable
    peer.send(IP(dst=DUT_IP, proto=253, id=6) / Raw(b"x" * 16))
    peer.expect(IP(src=DUT_IP) / ICMP(type=3, code=2), within="10ms")


@pytest.mark.rfc("1122 3.2.2")
@pytest.mark.parametrize("dst", ["10.0.0.255", "255.255.255.255", "224.0.0.1"])
def test_no_error_about_a_broadcast_or_multicast(dut, peer, dst):
    mac = "01:00:5e:00:00:01" if dst.startswith("224.") else "ff:ff:ff:ff:ff:ff"
    peer.send(Ether(dst=mac) / IP(dst=dst) / UDP(sport=1, dport=9) / Raw(b"b"))
    peer.expect_nothing(for_="100ms")
    # positive control: the same datagram to the DUT's unicast address gets its port unreachable
    peer.send(IP(dst=DUT_IP) / UDP(sport=1, dport=9) / Raw(b"b"))
    peer.expect(IP(src=DUT_IP) / ICMP(type=3, code=3), within="10ms")


@pytest.mark.rfc("1122 3.2.2")
def test_no_error_about_a_link_broadcast(dut, peer):
    peer.send(Ether(dst="ff:ff:ff:ff:ff:ff") / IP(dst=DUT_IP) / UDP(sport=1, dport=9) / Raw(b"b"))
    peer.expect_nothing(for_="100ms")
    # positive control: the same datagram in a unicast frame gets its port unreachable
    peer.send(Ether(dst=dut.mac) / IP(dst=DUT_IP) / UDP(sport=1, dport=9) / Raw(b"b"))
    peer.expect(IP(src=DUT_IP) / ICMP(type=3, code=3), within="10ms")


@pytest.mark.rfc("1122 3.2.2", "1812 4.3.2.8")
def test_errors_are_rate_limited(dut, peer, profile):
    # A burst, then one error per 1/rate seconds.
    for i in range(3 * profile.icmp_burst):
        peer.send(IP(dst=DUT_IP, proto=253, id=i) / Raw(b"x"))
    dut.net.run(for_="1ms")
    burst = [p for p in peer.received() if ICMP in p]
    assert len(burst) == profile.icmp_burst
    interval = 1_000_000_000 // profile.icmp_rate
    t0 = dut.net.now_ns
    # Ask 5 times per interval for 10 intervals: 10 more errors, no more.
    for i in range(50):
        dut.net.run(until=(t0 + (i + 1) * interval // 5) / 1e9)
        peer.send(IP(dst=DUT_IP, proto=253, id=1000 + i) / Raw(b"x"))
    dut.net.run(for_="1ms")
    later = [p for p in peer.received() if ICMP in p]
    assert len(later) == 10


@pytest.mark.rfc("1122 4.1.3.3")
def test_port_unreachable_reaches_the_udp_socket(dut, peer):
    s = dut.udp_socket()
    s.sendto(b"hello?", (PEER_IP, 4444))
    sent = peer.expect(UDP(dport=4444), within="10ms")
    peer.send(IP(dst=DUT_IP) / ICMP(type=3, code=3) / Raw(bytes(sent[IP])[:28]))
    dut.net.run(for_="1ms")
    err = s.take_error()
    assert err is not None and (err.icmp_type, err.icmp_code) == (3, 3)
    assert err.sender == PEER_IP and err.dst == PEER_IP


@pytest.mark.rfc("1191 4")
def test_fragmentation_needed_reaches_the_socket_with_the_mtu(dut, peer):
    s = dut.udp_socket()
    s.sendto(b"x" * 1000, (PEER_IP, 4444))
    sent = peer.expect(UDP(dport=4444), within="10ms")
    peer.send(IP(dst=DUT_IP) / ICMP(type=3, code=4, nexthopmtu=576) / Raw(bytes(sent[IP])[:28]))
    dut.net.run(for_="1ms")
    err = s.take_error()
    assert err is not None and (err.icmp_type, err.icmp_code, err.mtu) == (3, 4, 576)


@pytest.mark.rfc("1122 3.2.2")
def test_error_about_someone_elses_datagram_is_ignored(dut, peer, profile):
    if not profile.icmp_error_checks_source:
        pytest.skip(f"the {profile.name} profile matches ICMP errors to unconnected UDP sockets by port only "
                    "(RFC 1122 4.1.3.3 does not say how to match; RFC 5927 4.1 recommends checking)")
    s = dut.udp_socket(port=5000)
    foreign = bytes(IP(src="10.0.0.77", dst=PEER_IP) / UDP(sport=5000, dport=4444))[:28]
    peer.send(IP(dst=DUT_IP) / ICMP(type=3, code=3) / Raw(foreign))
    dut.net.run(for_="1ms")
    assert s.take_error() is None


@pytest.mark.rfc("792 echo")
@pytest.mark.parametrize("size", [0, 56, 1472, 3000])
def test_dut_ping_socket(dut, peer, size):
    ps = dut.ping_socket(ident=0x77)
    ps.send(PEER_IP, seq=9, payload=size)
    parts, whole = collect_reply(peer)
    req = ICMP(whole)
    assert (req.type, req.id, req.seq) == (8, 0x77, 9)
    assert len(bytes(req.payload)) == size
    # The peer answers; the socket gets the reply with its time and TTL.
    send_fragmented(peer, IP(dst=DUT_IP, ttl=33) / ICMP(type=0, id=0x77, seq=9) / Raw(bytes(req.payload)))
    dut.net.run(for_="1ms")
    reply = ps.recv()
    assert reply is not None and reply.seq == 9 and reply.len == size and reply.ttl == 33
    assert reply.src == PEER_IP


@pytest.mark.rfc("792 time-exceeded")
def test_time_exceeded_reaches_the_ping_socket(dut, peer):
    ps = dut.ping_socket(ident=0x55)
    ps.send(PEER_IP, seq=1, payload=8, ttl=1)
    sent = peer.expect(IP(ttl=1) / ICMP(type=8, id=0x55), within="10ms")
    peer.send(IP(dst=DUT_IP) / ICMP(type=11, code=0) / Raw(bytes(sent[IP])[:28]))
    dut.net.run(for_="1ms")
    err = ps.take_error()
    assert err is not None and (err.icmp_type, err.icmp_code) == (11, 0)


@pytest.mark.rfc("1122 3.2.2.6", "791 3.1")
def test_echo_reply_carries_the_record_route_with_our_address(dut, peer, profile):
    from scapy.all import IPOption_RR

    peer.send(IP(dst=DUT_IP, options=[IPOption_RR(routers=["0.0.0.0"] * 3)]) / ICMP(type=8, id=21, seq=1))
    reply = peer.expect(IP(src=DUT_IP) / ICMP(type=0, id=21), within="10ms")
    rr = [o for o in reply[IP].options if o.option == 7]
    assert rr, "the reply dropped the Record Route option"
    n = profile.echo_option_entries  # Tern 1; Linux records on input and on output (RFC 1122 3.2.2.6 says neither)
    assert rr[0].pointer == 4 + 4 * n and rr[0].routers[:n] == [DUT_IP] * n


@pytest.mark.rfc("1122 3.2.2.6", "791 3.1")
def test_echo_reply_carries_the_timestamp_option_stamped(dut, peer, profile):
    from scapy.all import IPOption

    dut.net.run(until="1.5s")
    # Timestamp option, flag 0 (timestamps only), room for two.
    ts = IPOption(b"\x44\x0c\x05\x00" + b"\x00" * 8)
    peer.send(IP(dst=DUT_IP, options=[ts]) / ICMP(type=8, id=22, seq=1))
    reply = peer.expect(IP(src=DUT_IP) / ICMP(type=0, id=22), within="10ms")
    raw = bytes(reply[IP])
    opts = raw[20:reply[IP].ihl * 4]
    n = profile.echo_option_entries
    assert opts[0] == 0x44 and opts[2] == 5 + 4 * n, f"pointer not advanced: {opts.hex()}"
    stamp = int.from_bytes(opts[4:8], "big")
    if profile.clock_is_virtual:
        assert stamp == 1500  # milliseconds since midnight, of virtual time
    else:  # the DUT's wall clock: milliseconds since midnight UT (RFC 791 3.1)
        import time

        assert abs(stamp - int(time.time() * 1000) % 86_400_000) <= 1000
