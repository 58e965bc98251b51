"""Path MTU discovery for IPv6 (RFC 8201 section 4): the estimate is kept per destination, so a
Packet Too Big about one path leaves the others alone; the estimate ages back to the link MTU."""

from __future__ import annotations

import pytest
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6PacketTooBig, IPv6, IPv6ExtHdrFragment
from scapy.packet import Raw

from autoconf_kit import S, T, bench

pytestmark = pytest.mark.area("icmpv6")

DUT = "fd00::1"
A, B = "fd00::a", "fd00::b"


def full_size_echo(peer, src, seq):
    """An Echo Request from src whose reply is a 1500-byte packet; returns the reply's first packet
    (the whole reply, or its first fragment)."""
    peer.send(IPv6(src=src, dst=DUT) / ICMPv6EchoRequest(id=0x31, seq=seq, data=b"m" * 1452))
    first = peer.expect(IPv6(src=DUT, dst=src), within="10ms")
    if first.haslayer(IPv6ExtHdrFragment):
        assert first[IPv6ExtHdrFragment].offset == 0
        while peer.expect(IPv6(src=DUT, dst=src) / IPv6ExtHdrFragment(), within="1ms")[IPv6ExtHdrFragment].m:
            pass
    return first


def too_big(peer, reply, mtu):
    """A Packet Too Big about the DUT's packet `reply`, quoting as much as fits 1280 bytes."""
    peer.send(IPv6(src=reply[IPv6].dst, dst=DUT) / ICMPv6PacketTooBig(mtu=mtu) / Raw(bytes(reply[IPv6])[:1232]))


@pytest.mark.rfc("8201 4", "8201 5.2")
def test_packet_too_big_lowers_only_its_destination(net):
    # RFC 8201 section 5.2: "the PMTU may be ... associated with each destination"; a Packet Too
    # Big reporting 1400 for the path to A lowers A's estimate, the reply to B stays whole.
    dut, peer, _ = bench(net, ipv6=f"{DUT}/64", peer_ipv6=[f"{A}/64", f"{B}/64"])
    r = full_size_echo(peer, A, 1)
    assert len(r[IPv6]) == 1500 and not r.haslayer(IPv6ExtHdrFragment)
    too_big(peer, r, 1400)
    a = full_size_echo(peer, A, 2)
    assert a.haslayer(IPv6ExtHdrFragment) and len(a[IPv6]) == 1400
    b = full_size_echo(peer, B, 3)
    assert len(b[IPv6]) == 1500 and not b.haslayer(IPv6ExtHdrFragment)


@pytest.mark.rfc("8201 4")
def test_each_destination_keeps_its_own_estimate(net):
    # Two Packet Too Big messages for two paths: 1400 for A, 1300 for B; each path uses its own.
    dut, peer, _ = bench(net, ipv6=f"{DUT}/64", peer_ipv6=[f"{A}/64", f"{B}/64"])
    too_big(peer, full_size_echo(peer, A, 1), 1400)
    too_big(peer, full_size_echo(peer, B, 2), 1300)
    a = full_size_echo(peer, A, 3)
    b = full_size_echo(peer, B, 4)
    # first fragments: 40 + 8 (fragment header) + the largest multiple of 8 that fits the path
    assert len(a[IPv6]) == 40 + 8 + 1352  # 1400
    assert len(b[IPv6]) == 40 + 8 + 1248  # 1296 (1300 - 48 = 1252, down to a multiple of 8)


@pytest.mark.rfc("8201 4")
def test_estimate_ages_back_up_per_destination(net):
    # "An attempt to detect an increase (by sending a packet larger than the current estimate)
    # MUST NOT be done less than 5 minutes after a Packet Too Big message has been received for the
    # given path. The recommended setting for this timer is twice its minimum value (10 minutes)."
    # A's estimate (lowered at t) is back to 1500 at t + 10 min; B's, lowered 5 min later, still
    # holds then and comes back at its own 10 minutes.
    dut, peer, _ = bench(net, ipv6=f"{DUT}/64", peer_ipv6=[f"{A}/64", f"{B}/64"])
    ra = full_size_echo(peer, A, 1)
    t = net.now_ns
    too_big(peer, ra, 1400)
    net.run(until=T(t + 300 * S))
    too_big(peer, full_size_echo(peer, B, 2), 1400)
    net.run(until=T(t + 600 * S - 1_000_000))
    assert full_size_echo(peer, A, 3).haslayer(IPv6ExtHdrFragment)
    net.run(until=T(t + 600 * S))
    assert len(full_size_echo(peer, A, 4)[IPv6]) == 1500
    assert full_size_echo(peer, B, 5).haslayer(IPv6ExtHdrFragment)
    net.run(until=T(t + 900 * S + 1_000_000))
    assert len(full_size_echo(peer, B, 6)[IPv6]) == 1500
