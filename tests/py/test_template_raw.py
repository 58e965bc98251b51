"""The raw-bytes pre-filter of templates agrees with the scapy matcher wherever it decides."""

from __future__ import annotations

import random

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, UDPerror
from scapy.layers.inet6 import ICMPv6EchoRequest, ICMPv6ND_NS, IPv6, IPv6ExtHdrDestOpt
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from pyharness.frames import Frame
from pyharness.template import ANY, compile_template, has_flags, match


def frames() -> list[bytes]:
    e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    out = [
        e / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=80, dport=1234, flags="SA", seq=5, ack=9, window=0),
        e / IP(src="10.0.0.1", dst="10.0.0.2", ttl=3, flags="DF") / TCP(sport=80, dport=1234, flags="A") / Raw(b"x" * 10),
        e / IP(src="10.0.0.2", dst="10.0.0.1", options=b"\x01" * 4) / TCP(sport=1234, dport=80, flags="PA") / b"hi",
        e / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=7, dport=9) / Raw(b"y" * 32),
        e / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=53, dport=9) / Raw(b"\0" * 12),
        e / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(type=0, id=1, seq=2) / b"abc",
        e / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(type=3, code=3) / IPerror(src="10.0.0.2", dst="10.0.0.1")
        / UDPerror(sport=9, dport=7),
        e / IP(src="10.0.0.1", dst="10.0.0.2", frag=10, proto=6) / Raw(b"z" * 24),
        e / IP(src="10.0.0.1", dst="10.0.0.2", len=30) / TCP(sport=1, dport=2),
        Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, psrc="10.0.0.1", pdst="10.0.0.2"),
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02", type=0x86DD) / Raw(b"\x60" + b"\0" * 39),
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02", type=100) / Raw(b"\0" * 40),
        # IPv6: the fixed header's integer fields are read from the bytes, the rest is scapy's
        e / IPv6(src="fd00::1", dst="fd00::2", tc=0xB8, fl=0x12345, hlim=9) / ICMPv6EchoRequest(id=3),
        e / IPv6(src="fd00::1", dst="fd00::2") / IPv6ExtHdrDestOpt() / UDP(sport=7, dport=9) / b"v6",
        e / IPv6(src="fe80::1", dst="ff02::1", hlim=255) / ICMPv6ND_NS(tgt="fd00::2"),
    ]
    data = [bytes(p) for p in out]
    data.append(bytes(out[0])[:40])  # truncated TCP
    return data


TEMPLATES = [
    TCP(flags="SA"), TCP(flags="S"), TCP(sport=80, dport=1234), TCP(dport=80), TCP(window=0), TCP(seq=5, ack=9),
    IP(src="10.0.0.1") / TCP(flags="A"), IP(ttl=3), IP(flags="DF"), IP(dst="10.0.0.2") / UDP(dport=9),
    UDP(sport=7, dport=9), UDP(dport=7), UDP(), ICMP(type=0), ICMP(type=3, code=3), ICMP(), ARP(op=1),
    ARP(pdst="10.0.0.2"), ARP(op=2), Ether(dst="ff:ff:ff:ff:ff:ff"), Ether(src="02:00:00:00:00:01"),
    Ether(type=0x86DD), Ether() / IP() / TCP(), TCP(flags=has_flags("S")), TCP(dport=ANY), TCP() / IP(),
    IP() / ICMP() / IP(), UDP(sport=9), IP(proto=6), IP(frag=10), Ether(dst="02:00:00:00:00:02") / ARP(),
    IPv6(hlim=9), IPv6(hlim=255), IPv6(tc=0xB8, fl=0x12345), IPv6(nh=58), IPv6(nh=60) / UDP(dport=9),
    IPv6(src="fd00::1"), Ether(type=0x86DD) / IPv6(plen=8), IPv6(version=6, hlim=64), IPv6() / ICMPv6ND_NS(),
]


@pytest.mark.parametrize("ti", range(len(TEMPLATES)))
def test_raw_prefilter_agrees_with_scapy(ti: int) -> None:
    template = TEMPLATES[ti]
    for exact in (True, False):
        m = compile_template(template, exact=exact)
        for data in frames():
            want = match(template, Ether(data)).ok
            got = m(data) if m is not None else None
            if got is not None:
                assert got == want, (template, data, exact)
                assert exact or got is False


def test_raw_prefilter_decides_the_common_cases() -> None:
    data = frames()
    assert compile_template(UDP(sport=7, dport=9))(data[3]) is True
    assert compile_template(UDP(sport=7, dport=9))(data[4]) is False  # another port: no parse needed
    assert compile_template(TCP(flags="SA"))(data[0]) is True
    assert compile_template(TCP(flags="SA"))(data[3]) is None  # a UDP payload may hold anything
    assert compile_template(ARP(op=2))(data[9]) is False
    assert compile_template(TCP(flags=has_flags("S")))(data[0]) is None  # predicates go to scapy
    assert compile_template(TCP(flags=has_flags("S"), dport=80))(data[0]) is False
    assert compile_template(IP(src="10.0.0.9"))(data[0]) is False
    assert compile_template(UDP(), exact=False)(data[3]) is None
    v6 = data[12]
    assert compile_template(IPv6(hlim=9))(v6) is True
    assert compile_template(IPv6(hlim=8))(v6) is False  # decided from the bytes
    assert compile_template(IPv6(src="fd00::1"))(v6) is None  # addresses go to scapy


def test_lazy_packet_matches_like_eager() -> None:
    rnd = random.Random(1)
    for data in frames():
        f = Frame(data, 5, 0, 1, "p")
        for t in rnd.sample(TEMPLATES, 8):
            assert match(t, f.pkt).ok == match(t, Ether(data)).ok
            f = Frame(data, 5, 0, 1, "p")
