"""The native ping responder over IPv6: Neighbor Discovery for its address and ICMPv6 echo.

RFC 4443 section 4.2: "The data received in the ICMPv6 Echo Request message MUST be returned
entirely and unmodified in the ICMPv6 Echo Reply message." Section 2.3: "The checksum is the 16-bit
one's complement of the one's complement sum of the entire ICMPv6 message, starting with the ICMPv6
message type field, and prepended with a "pseudo-header" of IPv6 header fields, as specified in
[IPv6, Section 8.1]. The Next Header value used in the pseudo-header is 58."

RFC 4861 section 7.2.4: "If the source of the solicitation is the unspecified address, the node MUST
set the Solicited flag to zero and multicast the advertisement to the all-nodes address. Otherwise,
the node MUST set the Solicited flag to one and unicast the advertisement to the Source Address of
the solicitation."

The responder answers only echo requests (ICMPv6 type 128) and the solicitations that make it
reachable; every other frame is counted and ignored, and each such test has its positive control.
"""

from __future__ import annotations

import pytest
from scapy.all import Ether, Raw, rdpcap
from scapy.layers.inet6 import (ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RS,
                                ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr, ICMPv6Unknown, IPv6,
                                IPv6ExtHdrHopByHop)

from pyharness.errors import ConfigError

pytestmark = [pytest.mark.area("virtio"), pytest.mark.dut("tern")]

US = 1000
MS = 1000 * US
LAT = dict(notify_latency="2us", device_latency="3us", irq_latency="7us")
GUEST6, RESPONDER6 = "fd00::1", "fd00::2"
SN_RESPONDER, SN_MAC = "ff02::1:ff00:2", "33:33:ff:00:00:02"  # its solicited-node group (RFC 4291 2.7.1)


def demo_text6(ip_bytes: bytes) -> str:
    """What the responder prints for one IPv6 request: the demo's layout with an IPv6 Header line."""
    lines = ["Packet Contents:"]
    for off in range(0, len(ip_bytes), 16):
        lines.append(f"{off:04x}:\t" + "".join(f"{b:02x} " for b in ip_bytes[off:off + 16]))
    ip = IPv6(ip_bytes)
    lines.append(f"IPv6 Header - Version: IPv6 next header: 58 | src address: {ip.src} | dest address: {ip.dst}")
    lines.append(f"ICMPv6 Header - Type: 128 | id: {ip[ICMPv6EchoRequest].id} | seq: {ip[ICMPv6EchoRequest].seq}")
    return "\n".join(lines) + "\n\n"


def same_checksum_when_recomputed(pkt) -> bool:
    """scapy recomputes the ICMPv6 checksum over the pseudo-header: equal to what was sent."""
    ip = IPv6(bytes(pkt[IPv6]))
    layer = ip.payload
    sent = layer.cksum
    del layer.cksum
    return IPv6(bytes(ip)).payload.cksum == sent


@pytest.mark.rfc("4443 4.2", "4861 7.2.4")
def test_ipv6_five_pings_through_virtqueues(net):
    """The demo over IPv6: a Tern host with an IPv6 address, behind a virtio-net device, pings the
    responder (behind its own virtqueue pair) five times. The first waits for the Neighbor
    Solicitation's round trip, as the IPv4 demo's first waits for ARP; every round-trip time is the
    configured one exactly, and the transcript is the demo's with an IPv6 Header line."""
    guest = net.host("guest", ipv6=f"{GUEST6}/64")
    vguest = net.virtio_net("guest-virtio", guest, **LAT)
    responder = net.ping_responder("pingclient", ipv4="192.168.1.2", ipv6=RESPONDER6)
    vmm = net.virtio_net("vmm-virtio", responder, **LAT)
    link = net.link(vguest, vmm, delay="5ms")
    sock = guest.ping_socket(ident=0x1234)
    # one way: guest's transmit (2+3 us), 5 ms, responder's receive (3+7 us); the same back
    rtt = 2 * (5 * US + 5 * MS + 10 * US)
    rtts = []
    for seq in range(1, 6):
        sent = net.now_ns
        sock.send(RESPONDER6, seq=seq, payload=56)
        net.run(for_="1s")
        reply = sock.recv()
        assert reply is not None and (reply.src, reply.seq, reply.len, reply.ttl) == (RESPONDER6, seq, 56, 64)
        rtts.append(reply.time_ns - sent)
    assert rtts == [2 * rtt] + [rtt] * 4
    recs = responder.records()
    assert [(r.version, r.ident, r.seq, r.payload_len, r.src, r.dst, r.ttl, r.ip_len, r.replied) for r in recs] == \
        [(6, 0x1234, s, 56, GUEST6, RESPONDER6, 64, 40 + 8 + 56, True) for s in range(1, 6)]
    pcap = link.capture_path
    net.flush_captures()
    frames = rdpcap(str(pcap))
    requests = [bytes(p[IPv6])[:40 + p[IPv6].plen] for p in frames if ICMPv6EchoRequest in p]
    assert len(requests) == 5
    assert responder.texts() == [demo_text6(r) for r in requests]
    # the advertisement that let the guest send: solicited, override, its MAC as target link-layer address
    (na,) = [p for p in frames if ICMPv6ND_NA in p]
    assert (na[Ether].src, na[Ether].dst, na[IPv6].src, na[IPv6].dst, na[IPv6].hlim) == \
        (responder.mac, guest.mac, RESPONDER6, GUEST6, 255)
    assert (na[ICMPv6ND_NA].tgt, na[ICMPv6ND_NA].R, na[ICMPv6ND_NA].S, na[ICMPv6ND_NA].O) == (RESPONDER6, 0, 1, 1)
    assert na[ICMPv6NDOptDstLLAddr].lladdr == responder.mac and same_checksum_when_recomputed(na)
    replies = [p for p in frames if ICMPv6EchoReply in p]
    assert len(replies) == 5 and all(same_checksum_when_recomputed(p) for p in replies)
    c = responder.counters()
    assert (c.requests, c.replies, c.nd_replies, c.arp_replies, c.bad_checksum, c.ignored) == (5, 5, 1, 0, 0, 0)


def direct6(net):
    """The responder on a plain link to a scripted peer (no virtio): frames exactly as sent."""
    responder = net.ping_responder("pingclient", ipv4="192.168.1.2", ipv6=RESPONDER6)
    peer = net.peer("peer", ipv6=f"{GUEST6}/64", nd=False)
    net.link(peer, responder)
    return responder, peer


def echo6(peer, responder, dst=RESPONDER6, dst_mac=None, hlim=64, **icmp):
    return Ether(src=peer.mac, dst=dst_mac or responder.mac) / IPv6(src=GUEST6, dst=dst, hlim=hlim) / \
        ICMPv6EchoRequest(**{"id": 7, "seq": 1, "data": b"hello", **icmp})


def ns6(peer, target=RESPONDER6, src=GUEST6, dst=SN_RESPONDER, mac=SN_MAC, hlim=255, code=0, sll=True):
    pkt = Ether(src=peer.mac, dst=mac) / IPv6(src=src, dst=dst, hlim=hlim) / ICMPv6ND_NS(tgt=target, code=code)
    return pkt / ICMPv6NDOptSrcLLAddr(lladdr=peer.mac) if sll else pkt


@pytest.mark.rfc("4861 7.2.4")
def test_solicitation_to_its_group_is_answered(net):
    """A multicast solicitation (to its solicited-node group and MAC) gets a unicast advertisement to
    the solicitation's source and link-layer address: S=1, O=1, R=0, hop limit 255, its MAC in the
    Target Link-Layer Address option, the checksum right over the pseudo-header."""
    responder, peer = direct6(net)
    peer.send(ns6(peer))
    na = peer.expect(Ether(src=responder.mac, dst=peer.mac) / IPv6(src=RESPONDER6, dst=GUEST6, hlim=255) /
                     ICMPv6ND_NA(tgt=RESPONDER6, R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=responder.mac),
                     within="1ms")
    assert na[ICMPv6ND_NA].code == 0 and same_checksum_when_recomputed(na)
    assert responder.counters().nd_replies == 1


@pytest.mark.rfc("4861 7.2.4")
def test_unicast_solicitation_without_source_link_layer_address(net):
    """A unicast solicitation (neighbour unreachability detection) need not carry the source's
    link-layer address: the advertisement goes to the frame's source MAC."""
    responder, peer = direct6(net)
    peer.send(ns6(peer, dst=RESPONDER6, mac=responder.mac, sll=False))
    peer.expect(Ether(src=responder.mac, dst=peer.mac) / IPv6(src=RESPONDER6, dst=GUEST6) /
                ICMPv6ND_NA(tgt=RESPONDER6, S=1), within="1ms")


@pytest.mark.rfc("4861 7.2.4")
def test_solicitation_from_the_unspecified_address_is_answered_to_all_nodes(net):
    """A Duplicate Address Detection probe for its address: the advertisement goes to all-nodes with
    the Solicited flag clear."""
    responder, peer = direct6(net)
    peer.send(ns6(peer, src="::", sll=False))
    na = peer.expect(Ether(src=responder.mac, dst="33:33:00:00:00:01") / IPv6(src=RESPONDER6, dst="ff02::1", hlim=255) /
                     ICMPv6ND_NA(tgt=RESPONDER6, S=0, O=1), within="1ms")
    assert same_checksum_when_recomputed(na)


@pytest.mark.rfc("4861 7.1.1", "4861 7.2.3")
def test_solicitations_it_must_not_answer(net):
    """Another target, a hop limit below 255, a nonzero code, a zero-length option, a bad checksum,
    a DAD probe carrying a source link-layer address, another solicited-node group: nothing.
    The control: a valid solicitation for its address is answered."""
    responder, peer = direct6(net)
    bad_sum = bytearray(bytes(ns6(peer)))
    bad_sum[14 + 40 + 2] ^= 0xFF
    for f in [ns6(peer, target="fd00::3", dst=RESPONDER6, mac=responder.mac),  # another target, to it
              ns6(peer, hlim=254),
              ns6(peer, code=1),
              ns6(peer, sll=False) / Raw(b"\x01\x00" + b"\0" * 6),           # option length 0
              ns6(peer, src="::"),                                              # DAD with a source lladdr
              ns6(peer, dst="ff02::1:ff00:3", mac="33:33:ff:00:00:03")]:        # another group
        peer.send(f)
    peer.send(bytes(bad_sum))
    peer.expect_nothing("100ms")
    c = responder.counters()
    assert (c.nd_replies, c.ignored, c.bad_checksum) == (0, 6, 1)
    # positive control
    peer.send(ns6(peer))
    peer.expect(ICMPv6ND_NA(tgt=RESPONDER6, S=1), within="1ms")


@pytest.mark.rfc("4443 4.2", "4443 2.3")
def test_replies_only_to_echo_requests_addressed_to_it(net):
    """Another IPv6 address (to its MAC), another MAC, its solicited-node group (to the group's MAC
    and to its own), an echo reply, a
    router solicitation, an unknown type, a bad checksum, a checksum right for another destination
    (the pseudo-header counts), a hop-by-hop header before the ICMPv6 (not read): all ignored and
    counted. The control: the same request, addressed to it, is answered."""
    responder, peer = direct6(net)
    ignored = [
        echo6(peer, responder, dst="fd00::3"),
        echo6(peer, responder, dst_mac="02:00:00:00:00:99"),
        echo6(peer, responder, dst=SN_RESPONDER, dst_mac=SN_MAC),
        echo6(peer, responder, dst=SN_RESPONDER),                      # its group's address, to its MAC
        Ether(src=peer.mac, dst=responder.mac) / IPv6(src=GUEST6, dst=RESPONDER6) / ICMPv6EchoReply(id=7),
        Ether(src=peer.mac, dst=responder.mac) / IPv6(src=GUEST6, dst=RESPONDER6, hlim=255) / ICMPv6ND_RS(),
        Ether(src=peer.mac, dst=responder.mac) / IPv6(src=GUEST6, dst=RESPONDER6) / ICMPv6Unknown(type=200),
        Ether(src=peer.mac, dst=responder.mac) / IPv6(src=GUEST6, dst=RESPONDER6) / IPv6ExtHdrHopByHop() /
        ICMPv6EchoRequest(id=7),
    ]
    for f in ignored:
        peer.send(f)
    raw = bytearray(bytes(echo6(peer, responder)))
    raw[14 + 40 + 2] ^= 0xFF
    peer.send(bytes(raw))
    good_elsewhere = bytes(IPv6(src=GUEST6, dst="fd00::99") / ICMPv6EchoRequest(id=7, data=b"hello"))[40:]
    peer.send(Ether(src=peer.mac, dst=responder.mac) / IPv6(src=GUEST6, dst=RESPONDER6, nh=58) / Raw(good_elsewhere))
    peer.expect_nothing("100ms")
    c = responder.counters()
    assert (c.requests, c.replies, c.ignored, c.bad_checksum) == (0, 0, 8, 2)
    assert responder.records() == []
    # positive control
    peer.send(echo6(peer, responder, id=0xBEEF, seq=9, data=b"xyz"))
    r = peer.expect(Ether(src=responder.mac, dst=peer.mac) / IPv6(src=RESPONDER6, dst=GUEST6) /
                    ICMPv6EchoReply(id=0xBEEF, seq=9, data=b"xyz"), within="1ms")
    assert r[IPv6].plen == 8 + 3 and same_checksum_when_recomputed(r)


def test_without_an_ipv6_address_it_ignores_ipv6(net):
    """A responder given no IPv6 address answers neither solicitations nor ICMPv6 echo; the control:
    its IPv4 side answers."""
    from scapy.all import ICMP, IP

    responder = net.ping_responder("pingclient", ipv4="192.168.1.2")
    peer = net.peer("peer", ipv4="192.168.1.1/24", ipv6=f"{GUEST6}/64", arp=False, nd=False)
    net.link(peer, responder)
    peer.send(ns6(peer))
    peer.send(echo6(peer, responder))
    peer.expect_nothing("100ms")
    assert responder.counters().ignored == 2
    peer.send(Ether(src=peer.mac, dst=responder.mac) / IP(src="192.168.1.1", dst="192.168.1.2") / ICMP(id=3))
    peer.expect(ICMP(type=0, id=3), within="1ms")


@pytest.mark.rfc("4443 4.2")
def test_fresh_ipv6_header(net):
    """The reply has a header of its own: hop limit 64, traffic class and flow label 0, its address
    as source, whatever the request had."""
    responder, peer = direct6(net)
    req = Ether(src=peer.mac, dst=responder.mac) / IPv6(src=GUEST6, dst=RESPONDER6, hlim=3, tc=0x10, fl=0x12345) / \
        ICMPv6EchoRequest(id=1, seq=2, data=b"abc")
    peer.send(req)
    r = peer.expect(ICMPv6EchoReply(id=1, seq=2), within="1ms")
    assert (r[IPv6].hlim, r[IPv6].tc, r[IPv6].fl, r[IPv6].src, r[IPv6].dst, r[IPv6].nh) == (64, 0, 0, RESPONDER6, GUEST6, 58)
    assert responder.records()[0].ttl == 3


@pytest.mark.rfc("4443 4.2")
@pytest.mark.parametrize("size", [0, 1, 55, 56, 57, 1000, 1452, 4000])
def test_any_ipv6_payload_size(net, size):
    """"returned entirely and unmodified": every size, up to and past a 1500-byte MTU's 1452."""
    responder, peer = direct6(net)
    data = bytes((i * 31 + 5) & 0xFF for i in range(size))
    peer.send(echo6(peer, responder, data=data))
    r = peer.expect(ICMPv6EchoReply(id=7, seq=1), within="1ms")
    assert bytes(r[ICMPv6EchoReply].data) == data and r[IPv6].plen == 8 + size
    assert same_checksum_when_recomputed(r)
    assert responder.records()[0].payload_len == size


def test_ipv6_transcript_in_host_order_and_hex(net):
    """id 0x0102 and seq 0x0304 print as 258 and 772; offsets in hex; the IPv6 Header line."""
    responder, peer = direct6(net)
    req = echo6(peer, responder, id=0x0102, seq=0x0304, data=bytes(range(40)))
    peer.send(req)
    peer.expect(ICMPv6EchoReply(id=0x0102), within="1ms")
    text = responder.texts()[0]
    assert text == demo_text6(bytes(req[IPv6]))
    lines = text.splitlines()
    assert lines[1].startswith("0000:\t60 00 00 00 00 30 3a 40 fd 00 ")  # payload length 48, next header 58, hop limit 64
    assert lines[-3:] == ["IPv6 Header - Version: IPv6 next header: 58 | src address: fd00::1 | dest address: fd00::2",
                          "ICMPv6 Header - Type: 128 | id: 258 | seq: 772", ""]


@pytest.mark.parametrize("bad", ["::", "ff02::1", "fd00::zz"])
def test_ipv6_address_must_be_unicast(net, bad):
    with pytest.raises(ConfigError, match="ipv6"):
        net.ping_responder("pingclient", ipv4="192.168.1.2", ipv6=bad)
    # the control: a unicast address is taken
    assert net.ping_responder("other", ipv4="192.168.1.3", ipv6="fd00::7").ip6 == "fd00::7"
