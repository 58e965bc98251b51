"""IPv4 (RFC 791, RFC 1122 §3.2-3.3): header checks, TTL, options,
fragmentation on output, reassembly on input (in order, out of order,
overlapping, duplicate, timeout, too many), routing, broadcast."""

from __future__ import annotations

import itertools

import pytest
from scapy.all import ICMP, IP, UDP, Ether, IPOption_NOP, IPOption_RR, IPOption_Router_Alert, Raw, fragment

from pyharness.dut import DUT_IP, PEER_IP

pytestmark = pytest.mark.area("ipv4")


def echo(ident=1, seq=1, data=b"ping"):
    return ICMP(type=8, id=ident, seq=seq) / Raw(data)


def expect_echo_reply(peer, ident=1, within="10ms"):
    return peer.expect(IP(src=DUT_IP, dst=PEER_IP) / ICMP(type=0, id=ident), within=within)


def ip_data(p):
    ip = p[IP]
    return bytes(ip)[ip.ihl * 4:ip.len]


# ---- header checks -------------------------------------------------------------


@pytest.mark.rfc("791 3.1", "1122 3.2.1.2")
def test_bad_header_checksum_is_dropped(dut, peer):
    peer.send(IP(dst=DUT_IP, chksum=0xDEAD) / echo())
    peer.expect_nothing(for_="100ms", matching=ICMP())
    # positive control: the same echo request in a well-formed datagram is answered
    peer.send(IP(dst=DUT_IP) / echo(ident=11))
    expect_echo_reply(peer, ident=11)


@pytest.mark.rfc("1122 3.2.1.1")
@pytest.mark.parametrize("version", [0, 5, 6, 15])
def test_wrong_version_is_dropped(dut, peer, version):
    peer.send(IP(dst=DUT_IP, version=version) / echo())
    peer.expect_nothing(for_="100ms", matching=ICMP())
    # positive control: the same echo request in a well-formed datagram is answered
    peer.send(IP(dst=DUT_IP) / echo(ident=12))
    expect_echo_reply(peer, ident=12)


@pytest.mark.rfc("791 3.1")
@pytest.mark.parametrize("ihl", [0, 1, 4])
def test_header_length_below_five_words_is_dropped(dut, peer, ihl):
    peer.send(IP(dst=DUT_IP, ihl=ihl) / echo())
    peer.expect_nothing(for_="100ms", matching=ICMP())
    # positive control: the same echo request in a well-formed datagram is answered
    peer.send(IP(dst=DUT_IP) / echo(ident=13))
    expect_echo_reply(peer, ident=13)


@pytest.mark.rfc("791 3.1")
@pytest.mark.parametrize("total", [19, 27, 200, 65535])
def test_inconsistent_total_length_is_dropped(dut, peer, total):
    # Shorter than its header and ICMP header, or longer than the frame.
    peer.send(IP(dst=DUT_IP, len=total) / echo(data=b"x" * 20))
    peer.expect_nothing(for_="100ms", matching=ICMP())
    # positive control: the same echo request in a well-formed datagram is answered
    peer.send(IP(dst=DUT_IP) / echo(ident=14))
    expect_echo_reply(peer, ident=14)


@pytest.mark.rfc("791 3.1", "1122 2.3.3")
def test_ethernet_padding_beyond_total_length_is_ignored(dut, peer):
    s = dut.udp_socket(port=7)
    frame = bytes(Ether(dst=dut.mac, src=peer.mac) / IP(src=PEER_IP, dst=DUT_IP) / UDP(sport=9, dport=7) / Raw(b"a"))
    peer.send(frame + b"\xee" * (60 - len(frame)))
    dut.net.run(for_="1ms")
    got = s.recvfrom()
    assert got is not None and got[0] == b"a"


@pytest.mark.rfc("1122 3.2.1.3")
@pytest.mark.parametrize("src", ["255.255.255.255", "10.0.0.255", "224.0.0.5"])
def test_datagram_from_a_broadcast_or_multicast_source_is_dropped(dut, peer, src):
    peer.send(IP(src=src, dst=DUT_IP) / echo())
    peer.expect_nothing(for_="100ms", matching=ICMP())
    # positive control: the same request from the peer's unicast address is answered
    peer.send(IP(src=PEER_IP, dst=DUT_IP) / echo(ident=15))
    expect_echo_reply(peer, ident=15)


@pytest.mark.rfc("1122 3.3.6")
def test_datagram_for_another_host_is_not_delivered(dut, peer):
    s = dut.udp_socket(port=7)
    peer.send(Ether(dst=dut.mac) / IP(dst="10.0.0.99") / UDP(sport=9, dport=7) / Raw(b"x"))
    dut.net.run(for_="1ms")
    assert s.recvfrom() is None
    peer.expect_nothing(for_="50ms")
    # positive control: the same datagram for the DUT's address reaches the socket, and an
    # echo request for it is answered
    peer.send(Ether(dst=dut.mac) / IP(dst=DUT_IP) / UDP(sport=9, dport=7) / Raw(b"x"))
    dut.net.run(for_="1ms")
    assert s.recvfrom() is not None
    peer.send(Ether(dst=dut.mac) / IP(dst=DUT_IP) / echo(ident=16))
    expect_echo_reply(peer, ident=16)


# ---- TTL and options ---------------------------------------------------------------


@pytest.mark.rfc("1122 3.2.1.7")
def test_originated_datagrams_carry_the_default_ttl(dut, peer, profile):
    dut.udp_socket().sendto(b"x", (PEER_IP, 9))
    peer.expect(IP(src=DUT_IP, ttl=profile.ttl) / UDP(dport=9), within="10ms")


@pytest.mark.rfc("1122 3.2.1.7")
@pytest.mark.parametrize("ttl", [1, 2, 128, 255])
def test_per_socket_ttl(dut, peer, ttl):
    s = dut.udp_socket()
    s.set_ttl(ttl)
    s.sendto(b"x", (PEER_IP, 9))
    peer.expect(IP(src=DUT_IP, ttl=ttl) / UDP(dport=9), within="10ms")


@pytest.mark.rfc("1122 3.2.1.7")
@pytest.mark.parametrize("ttl", [1, 0])
def test_low_ttl_datagram_for_us_is_still_delivered(dut, peer, ttl):
    # TTL is only checked when forwarding; a host accepts what arrives.
    peer.send(IP(dst=DUT_IP, ttl=ttl) / echo(ident=9))
    expect_echo_reply(peer, ident=9)


@pytest.mark.rfc("791 3.1", "1122 3.2.1.8")
@pytest.mark.parametrize("options", [
    [IPOption_NOP(), IPOption_NOP(), IPOption_NOP(), IPOption_NOP()],
    [IPOption_Router_Alert()],
    [IPOption_RR(routers=["0.0.0.0"] * 3)],
    [IPOption_RR(routers=["0.0.0.0"] * 9)],
], ids=["nop", "router-alert", "record-route-3", "record-route-9"])
def test_datagram_with_options_is_processed(dut, peer, options):
    peer.send(IP(dst=DUT_IP, options=options) / echo(ident=7))
    if any(o.option == 7 for o in options):
        # The reply may carry the Record Route option, updated (RFC 1122 3.2.2.6 SHOULD; checked by
        # icmp/test_echo_reply_carries_the_record_route_with_our_address): an IP() template would ask for none.
        reply = peer.expect(ICMP(type=0, id=7), within="10ms")
        assert (reply[IP].src, reply[IP].dst) == (DUT_IP, PEER_IP)
        return
    expect_echo_reply(peer, ident=7)


@pytest.mark.rfc("791 3.1")
def test_malformed_options_do_not_crash_and_are_skipped(dut, peer):
    # An option whose length runs past the header: the datagram is processed or dropped, never more.
    raw = bytearray(bytes(IP(src=PEER_IP, dst=DUT_IP, options=[IPOption_NOP()] * 4) / echo(ident=5)))
    raw[20:24] = b"\x07\x30\x04\x00"  # record route claiming 48 bytes in a 4-byte option area
    peer.send(Ether(dst=dut.mac, src=peer.mac) / Raw(bytes(raw)))
    dut.net.run(for_="10ms")
    # Nothing to assert on the wire beyond survival: the DUT still answers afterwards.
    peer.send(IP(dst=DUT_IP) / echo(ident=6))
    expect_echo_reply(peer, ident=6)


# ---- fragmentation on output --------------------------------------------------------


@pytest.mark.rfc("791 3.2", "1122 3.3.5")
@pytest.mark.parametrize("size", [1472, 1473, 2952, 2953, 5000, 65507])
def test_large_datagrams_are_fragmented_to_the_mtu(dut, peer, profile, size):
    s = dut.udp_socket(port=4000)
    payload = bytes(i & 0xFF for i in range(size))
    s.sendto(payload, (PEER_IP, 9))
    parts = []
    while True:
        p = peer.expect(IP(src=DUT_IP, proto=17), within="10ms")
        parts.append(p)
        if not p[IP].flags.MF:
            break
    ids = {p[IP].id for p in parts}
    assert len(ids) == 1
    data = bytearray()
    for p in sorted(parts, key=lambda p: p[IP].frag):
        assert p[IP].frag * 8 == len(data)
        assert len(bytes(p[IP])[:p[IP].len]) <= profile.mtu
        data += ip_data(p)
    assert len(parts) == max(1, -(-(size + 8) // 1480))
    udp = UDP(bytes(data))
    assert bytes(udp.payload) == payload and udp.sport == 4000


@pytest.mark.rfc("1191 3", "1122 3.3.5")
def test_dont_fragment_refuses_what_does_not_fit(dut, peer):
    from pyharness.errors import NetworkError

    s = dut.udp_socket()
    s.set_dont_fragment(True)
    with pytest.raises(NetworkError, match="too long|MTU"):
        s.sendto(b"x" * 1473, (PEER_IP, 9))
    s.sendto(b"x" * 1472, (PEER_IP, 9))
    peer.expect(IP(flags="DF") / UDP(dport=9), within="10ms")


# ---- reassembly ----------------------------------------------------------------------


def fragments_of(size=3000, ident=77, fragsize=800, icmp_id=3):
    data = bytes((i * 31) & 0xFF for i in range(size))
    pkt = IP(src=PEER_IP, dst=DUT_IP, id=ident) / ICMP(type=8, id=icmp_id, seq=1) / Raw(data)
    return fragment(pkt, fragsize=fragsize), data


@pytest.mark.rfc("791 3.2", "815 3")
@pytest.mark.parametrize("order", list(itertools.permutations(range(4))), ids=lambda o: "".join(map(str, o)))
def test_reassembly_in_any_order(dut, peer, order):
    frags, data = fragments_of(size=3000, fragsize=800)
    assert len(frags) == 4
    for i in order:
        peer.send(frags[i])
    reply = peer.expect(ICMP(type=0, id=3), within="10ms")
    # The reply may be fragmented too; its first fragment is enough to prove reassembly.
    assert reply[IP].src == DUT_IP


@pytest.mark.rfc("791 3.2", "815 3")
def test_duplicate_fragments_are_harmless(dut, peer):
    frags, _ = fragments_of()
    for f in frags + frags[:2]:
        peer.send(f)
    peer.expect(ICMP(type=0, id=3), within="10ms")
    peer.expect_nothing(for_="100ms", matching=ICMP(type=0, id=3, seq=2))


@pytest.mark.rfc("791 3.2")
def test_overlapping_fragments_that_agree_are_reassembled(dut, peer, profile):
    frags, _ = fragments_of(size=2000, fragsize=1200)
    whole = bytes(frags[0][IP].payload) + bytes(frags[1][IP].payload)
    # Re-cut the same bytes with an overlap: [0, 1200) and [800, end).
    a = IP(src=PEER_IP, dst=DUT_IP, id=91, flags="MF", frag=0, proto=1) / Raw(whole[:1200])
    b = IP(src=PEER_IP, dst=DUT_IP, id=91, frag=100, proto=1) / Raw(whole[800:])
    peer.send(b)
    peer.send(a)
    if profile.frag_overlap == "drop":
        # RFC 1858 §4: a DUT may drop overlapping IPv4 fragments altogether (the whole datagram).
        peer.expect_nothing(for_="100ms", matching=ICMP(type=0, id=3))
        return
    peer.expect(ICMP(type=0, id=3), within="10ms")


@pytest.mark.rfc("791 3.2", "5722 4")
def test_overlapping_fragments_that_disagree_are_discarded(dut, peer):
    frags, _ = fragments_of(size=2000, fragsize=1200)
    whole = bytearray(bytes(frags[0][IP].payload) + bytes(frags[1][IP].payload))
    evil = bytearray(whole)
    evil[900] ^= 0xFF
    a = IP(src=PEER_IP, dst=DUT_IP, id=92, flags="MF", frag=0, proto=1) / Raw(bytes(whole[:1200]))
    b = IP(src=PEER_IP, dst=DUT_IP, id=92, frag=100, proto=1) / Raw(bytes(evil[800:]))
    peer.send(a)
    peer.send(b)
    peer.expect_nothing(for_="100ms", matching=ICMP())
    # positive control: the same two overlapping fragments, agreeing, are reassembled and answered
    b_ok = IP(src=PEER_IP, dst=DUT_IP, id=93, frag=100, proto=1) / Raw(bytes(whole[800:]))
    peer.send(IP(src=PEER_IP, dst=DUT_IP, id=93, flags="MF", frag=0, proto=1) / Raw(bytes(whole[:1200])))
    peer.send(b_ok)
    peer.expect(IP(src=DUT_IP) / ICMP(type=0), within="10ms")


@pytest.mark.rfc("791 3.2", "1122 3.3.2")
def test_reassembly_timeout_sends_time_exceeded_at_the_exact_time(dut, peer, profile):
    # The DUT learns the peer's MAC first, so the error is not held for ARP.
    peer.send(IP(dst=DUT_IP) / echo(ident=2))
    expect_echo_reply(peer, ident=2)
    frags, _ = fragments_of()
    peer.send(frags[0])
    t0 = dut.net.now_ns
    peer.send(frags[2])
    err = peer.expect(IP(src=DUT_IP) / ICMP(type=11, code=1), at=(t0 + profile.reasm_timeout) / 1e9, tolerance=0)
    # It quotes the first fragment's header.
    quoted = IP(bytes(err[ICMP].payload))
    assert quoted.id == frags[0][IP].id and quoted.frag == 0


@pytest.mark.rfc("1122 3.3.2")
def test_reassembly_timeout_without_the_first_fragment_is_silent(dut, peer, profile):
    frags, _ = fragments_of()
    peer.send(frags[1])
    peer.send(frags[2])
    peer.expect_nothing(for_=(profile.reasm_timeout + 1_000_000_000) / 1e9)
    # positive control: with the first fragment there, the timeout is reported (RFC 1122 §3.3.2)
    peer.send(frags[0])
    peer.expect(IP(src=DUT_IP) / ICMP(type=11, code=1), within=(profile.reasm_timeout + 1_000_000_000) / 1e9)


@pytest.mark.rfc("1122 3.3.2")
def test_fragments_after_the_timeout_start_afresh(dut, peer, profile):
    frags, _ = fragments_of()
    peer.send(frags[0])
    dut.net.run(for_=(profile.reasm_timeout + 1) / 1e9)
    peer.received()
    for f in frags[1:]:
        peer.send(f)
    peer.expect_nothing(for_="100ms", matching=ICMP(type=0))
    peer.send(frags[0])
    peer.expect(ICMP(type=0, id=3), within="10ms")


@pytest.mark.rfc("791 3.2")
def test_many_concurrent_datagrams_do_not_break_reassembly(dut, peer):
    # More partial datagrams than a small stack can hold at once; afterwards a
    # complete one still reassembles once the others have timed out or finished.
    firsts = [fragments_of(ident=200 + i, icmp_id=50 + i)[0][0] for i in range(20)]
    for f in firsts:
        peer.send(f)
    frags, _ = fragments_of(ident=999, icmp_id=99)
    for f in frags:
        peer.send(f)
    dut.net.run(for_="10ms")
    dut.net.run(for_="40s")
    peer.received()
    frags, _ = fragments_of(ident=1000, icmp_id=98)
    for f in frags:
        peer.send(f)
    peer.expect(ICMP(type=0, id=98), within="10ms")


@pytest.mark.rfc("791 3.2")
def test_fragment_beyond_65535_bytes_is_dropped(dut, peer):
    peer.send(IP(src=PEER_IP, dst=DUT_IP, id=5, flags="MF", frag=0, proto=1) / Raw(bytes(echo())))
    peer.send(IP(src=PEER_IP, dst=DUT_IP, id=5, frag=8189, proto=1) / Raw(b"x" * 100))
    peer.expect_nothing(for_="100ms", matching=ICMP(type=0))
    # positive control: the same first fragment with a last fragment that fits is answered
    head = bytes(echo())
    peer.send(IP(src=PEER_IP, dst=DUT_IP, id=6, flags="MF", frag=0, proto=1) / Raw(head[:8]))
    peer.send(IP(src=PEER_IP, dst=DUT_IP, id=6, frag=1, proto=1) / Raw(head[8:]))
    expect_echo_reply(peer)


# ---- routing and broadcast -------------------------------------------------------------


@pytest.mark.silent_peer
@pytest.mark.rfc("1122 3.3.1")
def test_off_link_destination_goes_through_the_gateway(dut, peer):
    dut.add_route("0.0.0.0/0", PEER_IP)
    dut.udp_socket().sendto(b"far", ("192.0.2.7", 53))
    req = peer.expect(Ether() / __import__("scapy.all", fromlist=["ARP"]).ARP(op=1, pdst=PEER_IP), within="10ms")
    from scapy.all import ARP

    peer.send(Ether(dst=req.src) / ARP(op=2, hwsrc=peer.mac, psrc=PEER_IP, hwdst=req[ARP].hwsrc, pdst=DUT_IP))
    peer.expect(Ether(dst=peer.mac) / IP(dst="192.0.2.7") / UDP(dport=53), within="10ms")


@pytest.mark.rfc("1812 5.2.4.3")
def test_longest_prefix_wins(dut, net, peer):
    # Two routes to 192.0.2.0: the /24 through the peer, a /16 through 10.0.0.9.
    dut.add_route("192.0.0.0/16", "10.0.0.9")
    dut.add_route("192.0.2.0/24", PEER_IP)
    dut.udp_socket().sendto(b"x", ("192.0.2.1", 53))
    peer.expect(Ether(dst=peer.mac) / IP(dst="192.0.2.1"), within="10ms")


@pytest.mark.rfc("1122 3.3.1")
def test_no_route_is_an_error_at_the_socket(dut, peer):
    from pyharness.errors import NetworkError

    with pytest.raises(NetworkError, match="no route"):
        dut.udp_socket().sendto(b"x", ("198.51.100.1", 53))


@pytest.mark.rfc("1122 3.3.6")
@pytest.mark.parametrize("dst", ["255.255.255.255", "10.0.0.255"])
def test_broadcast_datagrams_are_received(dut, peer, dst):
    s = dut.udp_socket(port=6000)
    peer.send(Ether(dst="ff:ff:ff:ff:ff:ff") / IP(dst=dst) / UDP(sport=1, dport=6000) / Raw(b"all"))
    dut.net.run(for_="1ms")
    got = s.recvfrom()
    assert got is not None and got[0] == b"all"
