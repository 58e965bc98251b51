"""Strict expectations: the expected frame must be the next one; anything before it fails, named."""

from __future__ import annotations

import pytest
from scapy.layers.inet import IP, TCP, UDP

from pyharness.expect import ExpectationError


def pair(net):
    a = net.peer("a", ipv4="10.0.0.1/24", mac="02:00:00:00:00:01")
    b = net.peer("b", ipv4="10.0.0.2/24", mac="02:00:00:00:00:02")
    net.link(a, b)
    return a, b


def test_lenient_expect_skips_an_extra_frame(net):
    """The positive control: without strict the extra datagram goes unnoticed."""
    a, b = pair(net)
    a.send(IP(dst=b.ip) / UDP(sport=1, dport=9))
    a.send(IP(dst=b.ip) / UDP(sport=1, dport=7))
    assert b.expect(IP() / UDP(dport=7))[UDP].dport == 7


def test_strict_call_fails_naming_the_extra_frame(net):
    a, b = pair(net)
    a.send(IP(dst=b.ip) / UDP(sport=1, dport=9))
    a.send(IP(dst=b.ip) / UDP(sport=1, dport=7))
    with pytest.raises(ExpectationError) as e:
        b.expect(IP() / UDP(dport=7), strict=True)
    assert "strict: unexpected frame #1" in str(e.value)
    assert "9" in str(e.value).splitlines()[0]


def test_strict_peer_default(net):
    a, b = pair(net)
    b.strict = True
    a.send(IP(dst=b.ip) / UDP(sport=1, dport=9))
    a.send(IP(dst=b.ip) / UDP(sport=1, dport=7))
    with pytest.raises(ExpectationError, match="strict: unexpected frame"):
        b.expect(IP() / UDP(dport=7))


def test_strict_passes_when_the_next_frame_matches(net):
    a, b = pair(net)
    b.strict = True
    a.send(IP(dst=b.ip) / UDP(sport=1, dport=7))
    a.send(IP(dst=b.ip) / UDP(sport=1, dport=9))
    b.expect(IP() / UDP(dport=7))
    b.expect(IP() / UDP(dport=9))


def test_strict_connection_ignores_other_connections(net):
    """Per connection: a segment of another connection is left alone; one of this connection fails."""
    a, b = pair(net)
    conn = b.tcp(a, 80, local_port=4000, strict=True)
    a.send(IP(dst=b.ip) / TCP(sport=81, dport=4000, flags="A"))  # another connection
    a.send(IP(dst=b.ip) / TCP(sport=80, dport=4000, flags="SA", seq=5, ack=1001))
    conn.snd_nxt = 1001
    conn.expect(flags="SA", ack=1001)
    a.send(IP(dst=b.ip) / TCP(sport=80, dport=4000, flags="A", seq=6, ack=1001))  # extra, same connection
    a.send(IP(dst=b.ip) / TCP(sport=80, dport=4000, flags="PA", seq=6, ack=1001) / b"x")
    with pytest.raises(ExpectationError, match="strict: unexpected frame"):
        conn.expect(flags="PA")
