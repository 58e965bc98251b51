#!/usr/bin/env python3
"""Regenerate the seed corpus of fuzz_wire (fuzz/corpus/wire/) with scapy.

The seeds are the packets of the wire-layer unit tests (tests/c/test_wire_*.c),
each on its own (so every parser starts from a valid input) and wrapped in
full Ethernet frames (so the chained parse reaches every layer).

    pip install scapy && python3 fuzz/make_corpus.py
"""
from pathlib import Path

from scapy.all import ARP, ICMP, IP, TCP, UDP, Dot1Q, Ether, IPOption_Router_Alert, Raw

OUT = Path(__file__).resolve().parent / "corpus" / "wire"
M1, M2 = "02:00:00:00:00:01", "02:00:00:00:00:02"
A1, A2 = "10.0.0.1", "10.0.0.2"


def seeds():
    orig = IP(src=A1, dst="10.9.9.9", id=0x55, flags="DF", ttl=63, proto=17) / UDP(
        sport=40000, dport=33434) / Raw(b"x" * 1400)
    quote = bytes(orig)[:28]
    ip = lambda **kw: IP(src=A1, dst=A2, **kw)  # noqa: E731
    l4 = {
        "arp_request": ARP(op=1, hwsrc=M1, psrc=A1, pdst=A2),
        "arp_reply": ARP(op=2, hwsrc=M2, psrc=A2, hwdst=M1, pdst=A1),
        "ipv4_opts": IP(src="192.168.1.10", dst="224.0.0.22", id=0xBEEF, ttl=1, tos=0xB9, proto=2,
                        options=[IPOption_Router_Alert()]) / Raw(b"\x22\x00\xfa\x02"),
        "ipv4_frag": IP(src="10.1.2.3", dst="10.3.2.1", id=7, flags="MF", frag=185, ttl=255,
                        proto=1) / Raw(b"\x11" * 16),
        "icmp_echo": ip() / ICMP(type=8, id=0x4242, seq=7) / Raw(b"abcdefghijklmnopqrstuvwABCDEFGHI"),
        "icmp_frag_needed": ip() / ICMP(type=3, code=4, nexthopmtu=1400) / Raw(quote),
        "icmp_time_exceeded": ip() / ICMP(type=11) / Raw(bytes(orig)[:36]),
        "udp_dns": ip(id=0x1234, flags="DF") / UDP(sport=12345, dport=53) / Raw(b"tern-udp!"),
        "udp_nocsum": ip() / UDP(sport=7, dport=7, chksum=0) / Raw(b"echo"),
        "tcp_syn": ip() / TCP(sport=40000, dport=80, seq=0x01020304, flags="S", window=64240,
                              options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (0x11223344, 0)),
                                       ("NOP", None), ("WScale", 7)]),
        "tcp_data_ts": ip() / TCP(sport=40000, dport=80, seq=0x01020305, ack=0xA0B0C0D1, flags="PA",
                                  window=502, options=[("NOP", None), ("NOP", None),
                                                       ("Timestamp", (0x11223399, 0x55667788))])
        / Raw(b"GET / HTTP/1.0\r\n\r\n"),
        "tcp_sack3_ts": IP(src=A2, dst=A1) / TCP(sport=80, dport=40000, seq=0xA0B0C0D1, ack=0x01020317,
                                                 flags="A", window=1000,
                                                 options=[("NOP", None), ("NOP", None), ("Timestamp", (5, 6)),
                                                          ("NOP", None), ("NOP", None),
                                                          ("SAck", (0x1000, 0x2000, 0x3000, 0x4000, 0x5000,
                                                                    0x6000))]),
        "tcp_urg": ip() / TCP(sport=1, dport=2, seq=1, ack=2, flags="UPA", window=3, urgptr=5) / Raw(b"urgent"),
    }
    for name, pkt in l4.items():
        raw = bytes(pkt)
        yield name + ".bin", raw
        # The layer above IP on its own, for the UDP/TCP/ICMP parsers.
        if isinstance(pkt, IP) or pkt.haslayer(IP):
            ihl = (raw[0] & 0x0F) * 4
            yield name + ".l4.bin", raw[ihl:]
        yield name + ".eth.bin", bytes(Ether(dst=M2, src=M1) / pkt)
    yield "vlan_arp.eth.bin", bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=M1) / Dot1Q(prio=5, dei=1, vlan=100)
                                    / l4["arp_request"])
    yield "vlan_icmp.eth.bin", bytes(Ether(dst=M2, src=M1) / Dot1Q(vlan=7) / l4["icmp_echo"])
    yield from seeds_v6()


def seeds_v6():
    """IPv6 frames: extension header chains, fragments, ICMPv6 errors and echo, every ND message."""
    from scapy.layers import inet6 as s6

    B1, B2 = "fd00::1", "fd00::2"
    ip6 = lambda **kw: s6.IPv6(src=B1, dst=B2, **kw)  # noqa: E731
    big = ip6() / UDP(sport=5, dport=6) / Raw(b"z" * 1600)
    frags = s6.fragment6(s6.IPv6(src=B1, dst=B2) / s6.IPv6ExtHdrFragment(id=0x1234) / UDP(sport=5, dport=6)
                         / Raw(b"z" * 1600), 1280)
    v6 = {
        "ipv6_chain": ip6(tc=0xB8, fl=0x12345) / s6.IPv6ExtHdrHopByHop(options=[s6.RouterAlert(value=0)])
        / s6.IPv6ExtHdrDestOpt(options=[s6.PadN(optdata=b"\0\0\0\0")])
        / s6.IPv6ExtHdrFragment(offset=0, m=0, id=0xDEADBEEF) / UDP(sport=1000, dport=2000) / Raw(b"abcd"),
        "ipv6_unknown_opt": ip6() / s6.IPv6ExtHdrDestOpt(options=[s6.HBHOptUnknown(otype=0x9E, optdata=b"ab")])
        / s6.ICMPv6EchoRequest(),
        "ipv6_rh0": ip6() / s6.IPv6ExtHdrRouting(type=0, segleft=1, addresses=["fd00::3"]) / s6.ICMPv6EchoRequest(),
        "ipv6_frag_first": frags[0],
        "ipv6_frag_last": frags[1],
        "ipv6_tcp_syn": ip6() / TCP(sport=40000, dport=80, flags="S", options=[("MSS", 1440)]),
        "icmpv6_echo": ip6(hlim=64) / s6.ICMPv6EchoRequest(id=0x4242, seq=7, data=b"hello"),
        "icmpv6_param_problem": ip6() / s6.ICMPv6ParamProblem(code=1, ptr=6) / Raw(bytes(big)[:200]),
        "icmpv6_too_big": ip6() / s6.ICMPv6PacketTooBig(mtu=1280) / Raw(bytes(big)[:1232]),
        "icmpv6_unreach": ip6() / s6.ICMPv6DestUnreach(code=4) / Raw(bytes(big)[:64]),
        "nd_ns": s6.IPv6(src=B1, dst="ff02::1:ff00:2", hlim=255) / s6.ICMPv6ND_NS(tgt=B2)
        / s6.ICMPv6NDOptSrcLLAddr(lladdr=M1),
        "nd_ns_dad": s6.IPv6(src="::", dst="ff02::1:ff00:2", hlim=255) / s6.ICMPv6ND_NS(tgt=B2),
        "nd_na": s6.IPv6(src=B2, dst=B1, hlim=255) / s6.ICMPv6ND_NA(tgt=B2, R=0, S=1, O=1)
        / s6.ICMPv6NDOptDstLLAddr(lladdr=M2),
        "nd_rs": s6.IPv6(src="fe80::2", dst="ff02::2", hlim=255) / s6.ICMPv6ND_RS() / s6.ICMPv6NDOptSrcLLAddr(lladdr=M2),
        "nd_ra": s6.IPv6(src="fe80::1", dst="ff02::1", hlim=255)
        / s6.ICMPv6ND_RA(chlim=64, M=1, routerlifetime=1800, reachabletime=30000, retranstimer=1000)
        / s6.ICMPv6NDOptSrcLLAddr(lladdr=M1) / s6.ICMPv6NDOptMTU(mtu=1400)
        / s6.ICMPv6NDOptPrefixInfo(prefixlen=64, L=1, A=1, validlifetime=86400, preferredlifetime=14400,
                                   prefix="2001:db8:1::"),
        "nd_redirect": s6.IPv6(src="fe80::1", dst=B1, hlim=255)
        / s6.ICMPv6ND_Redirect(tgt="fe80::9", dst="2001:db8::5") / s6.ICMPv6NDOptDstLLAddr(lladdr=M2)
        / s6.ICMPv6NDOptRedirectedHdr(pkt=bytes(s6.IPv6(src=B1, dst="2001:db8::5") / UDP(sport=1, dport=2))),
    }
    for name, pkt in v6.items():
        raw = bytes(pkt)
        yield name + ".bin", raw
        yield name + ".l4.bin", raw[40:]
        yield name + ".eth.bin", bytes(Ether(dst=M2, src=M1) / pkt)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in seeds():
        (OUT / name).write_bytes(data)


if __name__ == "__main__":
    main()
