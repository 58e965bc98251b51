"""Packet sockets (tern/packet.h, like Linux's AF_PACKET with SOCK_RAW) over the wire: a Tern
host's packet socket gets a copy of every frame in and out, at the virtual time it passed, and
sends raw frames the peer receives unchanged. Tern's own feature (the stack's hook), so these
scenarios build a Tern host themselves."""

from __future__ import annotations

import pytest
from scapy.all import ARP, ICMP, IP, Ether, Raw

pytestmark = pytest.mark.area("ethernet")

H_MAC, P_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"
EXPERIMENTAL = 0x88B5  # IEEE 802 "local experimental EtherType 1": no stack handles it


def bench(net, **options):
    h = net.host("h", ipv4="10.0.0.1/24", mac=H_MAC, packet_sockets=2, **options)
    p = net.peer("p", mac=P_MAC, ipv4="10.0.0.2/24")
    net.link(h, p, delay="1ms")
    return h, p


def test_frames_both_ways_byte_for_byte(net):
    h, p = bench(net)
    ps = h.packet_socket(iface=0)
    before = h.counters().eth_unknown_type
    sent = Ether(dst=H_MAC, src=P_MAC, type=EXPERIMENTAL) / Raw(b"to the packet socket")
    p.send(sent)
    net.run(until="2ms")
    [f] = ps.frames()
    assert (f.dir, f.time_ns, f.iface, f.data, f.len) == ("in", 1_000_000, 0, bytes(sent), len(bytes(sent)))
    # The stack itself does not know the EtherType: counted and dropped, nothing answered.
    assert h.counters().eth_unknown_type == before + 1
    p.expect_nothing(for_="10ms")
    # A raw frame out: sent at the host's next poll (now, 12 ms), on the wire 1 ms, unchanged
    # but for the zero padding to the 60-byte minimum (IEEE 802.3).
    raw = Ether(dst=P_MAC, src=H_MAC, type=EXPERIMENTAL) / Raw(b"from the packet socket")
    ps.send(raw)
    got = p.expect(Ether(type=EXPERIMENTAL), within="1ms")
    assert bytes(got) == bytes(raw) + bytes(60 - len(bytes(raw)))
    assert net.now_ns == 13_000_000
    # The sending socket does not get its own frame back; another socket sees it go out.
    assert ps.frames() == []
    other = h.packet_socket(iface=0)
    ps.send(raw)
    net.run(for_="2ms")
    [o] = other.frames()
    assert (o.dir, o.time_ns, o.data) == ("out", 13_000_000, bytes(raw) + bytes(60 - len(bytes(raw))))
    p.expect(Ether(type=EXPERIMENTAL), within="0ms")


def test_the_stacks_own_traffic_is_copied_in_and_out(net):
    """The peer pings: the echo request in (1 ms), the host's ARP request out at once, the peer's
    ARP reply in (3 ms: 1 ms each way) and the echo reply out, in order, at their virtual times,
    byte for byte as the peer saw the reply."""
    h, p = bench(net)
    ps = h.packet_socket()
    arp_only = h.packet_socket(ethertype=0x0806)
    p.send(Ether(dst=H_MAC, src=P_MAC) / IP(src="10.0.0.2", dst="10.0.0.1") / ICMP(id=7, seq=1) / Raw(b"x" * 18))
    reply = p.expect(ICMP(type=0, id=7), within="10ms")
    frames = ps.frames()
    assert [(f.dir, f.time_ns) for f in frames] == [("in", 1_000_000), ("out", 1_000_000), ("in", 3_000_000),
                                                    ("out", 3_000_000)]
    kinds = [Ether(f.data) for f in frames]
    assert kinds[0].haslayer(ICMP) and kinds[0][ICMP].type == 8
    assert kinds[1].haslayer(ARP) and kinds[1][ARP].op == 1 and kinds[1][ARP].pdst == "10.0.0.2"
    assert kinds[2].haslayer(ARP) and kinds[2][ARP].op == 2
    assert frames[3].data == bytes(reply)
    assert [f.data for f in arp_only.frames()] == [frames[1].data, frames[2].data]


def test_queue_is_bounded_and_drops_are_counted(net):
    """A socket nobody reads keeps packet_queue frames; the others are dropped and counted, and
    the stack goes on answering (the copies never hold the frames up)."""
    h, p = bench(net, packet_queue=4)
    ps = h.packet_socket()
    for i in range(3):
        p.send(Ether(dst=H_MAC, src=P_MAC) / IP(src="10.0.0.2", dst="10.0.0.1") / ICMP(id=9, seq=i))
        p.expect(ICMP(type=0, id=9, seq=i), within="10ms")
    # in, ARP out, ARP in, out; then 2 more in + out pairs: 8 frames, 4 kept.
    assert ps.pending == 4
    assert ps.stats() == (4, 4)
    assert [f.dir for f in ps.frames()] == ["in", "out", "in", "out"]


def test_bad_frames_are_refused_with_their_reason(net):
    from pyharness.errors import ConfigError, TernError

    h, _ = bench(net)
    ps = h.packet_socket(iface=0)
    with pytest.raises(ConfigError, match="an Ethernet header is 14"):
        ps.send(b"\x00" * 10)
    with pytest.raises(TernError, match=r"send\(1515 bytes\): message too long"):
        ps.send(bytes(Ether(dst=P_MAC, src=H_MAC, type=EXPERIMENTAL)) + bytes(1501))
    ps.send(bytes(Ether(dst=P_MAC, src=H_MAC, type=EXPERIMENTAL)) + bytes(1500))  # the positive control
    h.packet_socket()
    with pytest.raises(TernError, match=r"packet_socket\(iface=None, ethertype=0x0000\)"):
        h.packet_socket()
