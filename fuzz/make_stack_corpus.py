#!/usr/bin/env python3
"""Regenerate the seed corpus of fuzz_stack (fuzz/corpus/stack/) with scapy.

Each seed is a short conversation with the fuzzed host (see fuzz_stack.c for
the record format): ARP, pings (whole and fragmented), UDP to the echo port
and to a closed one, forwarding, TCP handshakes, and time passing.

    python3 fuzz/make_stack_corpus.py
"""
from pathlib import Path

from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, IPOption, IPOption_RR, Raw, fragment

OUT = Path(__file__).resolve().parent / "corpus" / "stack"
HOST0, HOST1 = "02:00:00:00:00:01", "02:00:00:00:01:01"
PEER = "02:00:00:00:00:02"


def rec(frame, advance=0, iface=0, poll=True):
    data = bytes(frame)
    flags = (advance & 0x3F) | (iface << 6) | (0x80 if poll else 0)
    return bytes([flags, len(data) >> 8, len(data) & 0xFF]) + data


def eth(payload, dst=HOST0):
    return Ether(dst=dst, src=PEER) / payload


def ip(**kw):
    return IP(src="10.0.0.2", dst="10.0.0.1", **kw)


def seeds():
    arp = rec(eth(ARP(op=1, hwsrc=PEER, psrc="10.0.0.2", pdst="10.0.0.1"), "ff:ff:ff:ff:ff:ff"))
    yield "arp_request", arp
    yield "ping", arp + rec(eth(ip() / ICMP(id=1, seq=1) / Raw(b"x" * 56)))
    yield "ping_record_route", arp + rec(eth(ip(options=[IPOption_RR(routers=["0.0.0.0"] * 4)]) / ICMP(id=1, seq=3)))
    yield "ping_timestamp", arp + rec(eth(ip(options=[IPOption(b"\x44\x0c\x05\x01" + b"\x00" * 8)]) / ICMP(id=1, seq=4)))
    big = ip(id=77) / ICMP(id=1, seq=2) / Raw(bytes(range(256)) * 12)
    yield "ping_fragments", arp + b"".join(rec(eth(f)) for f in fragment(big, 1000))
    yield "ping_fragments_reversed", arp + b"".join(rec(eth(f)) for f in reversed(fragment(big, 600)))
    yield "first_fragment_timeout", arp + rec(eth(fragment(big, 1000)[0])) + rec(eth(ip() / UDP()), 63)
    yield "udp_echo", arp + rec(eth(ip() / UDP(sport=9, dport=7) / Raw(b"hello")))
    yield "udp_closed", arp + rec(eth(ip() / UDP(sport=9, dport=9) / Raw(b"hello")))
    yield "forward", arp + rec(eth(IP(src="10.0.0.2", dst="10.0.1.9", ttl=5) / UDP() / Raw(b"f" * 800)))
    yield "forward_ttl1", arp + rec(eth(IP(src="10.0.0.2", dst="10.0.1.9", ttl=1) / UDP()))
    yield "unknown_proto", arp + rec(eth(ip(proto=253) / Raw(b"abcd")))
    syn = ip() / TCP(sport=40000, dport=80, seq=1000, flags="S",
                     options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("WScale", 7)])
    ack = ip() / TCP(sport=40000, dport=80, seq=1001, ack=0, flags="A")
    yield "tcp_syn", arp + rec(eth(syn))
    yield "tcp_handshake_data", arp + rec(eth(syn)) + rec(eth(ack)) + rec(
        eth(ip() / TCP(sport=40000, dport=80, seq=1001, flags="PA") / Raw(b"GET / HTTP/1.0\r\n\r\n")))
    yield "tcp_rst", arp + rec(eth(ip() / TCP(sport=40000, dport=80, seq=5, flags="R")))
    # Frames whose source is the host's own address (RFC 1122 §3.2.1.3 says to discard
    # them), or a loopback one, and the land SYN itself (own address and port 80 both
    # ways), which looped the host for ever before the hardening fix (fuzz/README.md).
    own = lambda **kw: IP(src="10.0.0.1", dst="10.0.0.1", **kw)  # noqa: E731
    yield "land_syn", arp + rec(eth(own() / TCP(sport=80, dport=80, seq=9, flags="S")))
    yield "own_source_ping", arp + rec(eth(own() / ICMP(id=1, seq=9) / Raw(b"o" * 8)))
    yield "own_source_udp", arp + rec(eth(own() / UDP(sport=7, dport=7) / Raw(b"own")))
    yield "own_source_syn_other_port", arp + rec(eth(own() / TCP(sport=4000, dport=80, seq=9, flags="S")))
    yield "loopback_source_ping", arp + rec(eth(IP(src="127.0.0.1", dst="10.0.0.1") / ICMP(id=1, seq=8)))
    yield "arp_unanswered", rec(eth(IP(src="10.0.0.2", dst="10.0.0.1") / UDP(dport=7) / Raw(b"q")))
    yield from seeds_v6()


def seeds_v6():
    """IPv6: neighbour discovery, echo, fragments, extension headers, errors, RA and Redirect."""
    from scapy.layers import inet6 as s6

    P6, H6 = "fd00::2", "fd00::1"
    ip6 = lambda **kw: s6.IPv6(src=P6, dst=H6, **kw)  # noqa: E731
    ns = rec(eth(s6.IPv6(src=P6, dst="ff02::1:ff00:1", hlim=255) / s6.ICMPv6ND_NS(tgt=H6) /
                 s6.ICMPv6NDOptSrcLLAddr(lladdr=PEER), "33:33:ff:00:00:01"))
    yield "v6_ns", ns
    yield "v6_ping", ns + rec(eth(ip6() / s6.ICMPv6EchoRequest(id=1, seq=1, data=b"x" * 56)))
    yield "v6_ping_unresolved", rec(eth(ip6() / s6.ICMPv6EchoRequest(id=1, seq=2)), 0) + rec(
        eth(s6.IPv6(src=P6, dst=H6, hlim=255) / s6.ICMPv6ND_NA(tgt=P6, S=1, O=1) /
            s6.ICMPv6NDOptDstLLAddr(lladdr=PEER)), 5)
    big = ip6() / s6.IPv6ExtHdrFragment(id=9) / s6.ICMPv6EchoRequest(id=1, seq=3, data=bytes(range(256)) * 12)
    frags = s6.fragment6(big, 1280)
    yield "v6_fragments", ns + b"".join(rec(eth(f)) for f in frags)
    yield "v6_fragments_reversed", ns + b"".join(rec(eth(f)) for f in reversed(frags))
    yield "v6_first_fragment_timeout", ns + rec(eth(frags[0])) + b"".join(rec(eth(ip6() / UDP()), 63)
                                                                          for _ in range(10))
    yield "v6_options", ns + rec(eth(ip6() / s6.IPv6ExtHdrHopByHop(options=[s6.RouterAlert()]) /
                                     s6.IPv6ExtHdrDestOpt(options=[s6.HBHOptUnknown(otype=0x9E, optdata=b"ab")]) /
                                     s6.ICMPv6EchoRequest()))
    yield "v6_rh0", ns + rec(eth(ip6() / s6.IPv6ExtHdrRouting(type=0, segleft=1, addresses=["fd00::3"]) /
                                 s6.ICMPv6EchoRequest()))
    yield "v6_udp_echo", ns + rec(eth(ip6() / UDP(sport=9, dport=7) / Raw(b"hello6")))
    yield "v6_udp_closed", ns + rec(eth(ip6() / UDP(sport=9, dport=9) / Raw(b"hello6")))
    yield "v6_tcp_syn", ns + rec(eth(ip6() / TCP(sport=40000, dport=80, flags="S", options=[("MSS", 1440)])))
    yield "v6_ra", rec(eth(s6.IPv6(src="fe80::2", dst="ff02::1", hlim=255) /
                           s6.ICMPv6ND_RA(chlim=32, reachabletime=5000, retranstimer=500) /
                           s6.ICMPv6NDOptSrcLLAddr(lladdr=PEER) / s6.ICMPv6NDOptMTU(mtu=1400), "33:33:00:00:00:01"))
    yield "v6_too_big", ns + rec(eth(ip6() / s6.ICMPv6PacketTooBig(mtu=1280) /
                                     Raw(bytes(s6.IPv6(src=H6, dst=P6) / UDP() / Raw(b"p" * 64)))))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in seeds():
        (OUT / name).write_bytes(data)


if __name__ == "__main__":
    main()
