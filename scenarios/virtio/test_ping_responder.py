"""The native ping responder of the seL4 CAmkES "virtio net ping" demo, its bugs fixed.

RFC 792 (Echo or Echo Reply Message): "The data received in the echo message must be returned in the
echo reply message. The identifier and sequence number may be used by the echo sender to aid in
matching the replies with the echo requests." The demo's seed printed identifier and sequence in
network byte order (seq 256, 512, ... for 1, 2, ...), dumped decimal offsets beside hex bytes,
answered any IPv4 frame and only 56-byte payloads; these scenarios pin each fix.
"""

from __future__ import annotations

import pytest
from scapy.all import ARP, ICMP, IP, IPOption_NOP, Ether, Raw, rdpcap

pytestmark = [pytest.mark.area("virtio"), pytest.mark.dut("tern")]

US = 1000
MS = 1000 * US
LAT = dict(notify_latency="2us", device_latency="3us", irq_latency="7us")
GUEST_IP, RESPONDER_IP = "192.168.1.1", "192.168.1.2"


def demo_text(ip_bytes: bytes) -> str:
    """What the responder prints for one request: the demo's layout, offsets and bytes in hex,
    identifier and sequence number in host order."""
    lines = ["Packet Contents:"]
    for off in range(0, len(ip_bytes), 16):
        lines.append(f"{off:04x}:\t" + "".join(f"{b:02x} " for b in ip_bytes[off:off + 16]))
    ip = IP(ip_bytes)
    lines.append(f"IP Header - Version: IPv4 protocol: 1 | src address: {ip.src} | dest address: {ip.dst}")
    lines.append(f"ICMP Header - Type: 8 | id: {ip[ICMP].id} | seq: {ip[ICMP].seq}")
    return "\n".join(lines) + "\n\n"


@pytest.mark.rfc("792 echo")
def test_sel4_demo_five_pings_through_virtqueues(net):
    """The demo in virtual time: a Tern host in the guest's role, behind a virtio-net device, pings the
    responder (itself behind a virtqueue pair, as PingClient is) five times; the round-trip times are
    exactly the configured ones, and the transcript is the demo's with the bugs fixed."""
    guest = net.host("guest", ipv4=f"{GUEST_IP}/24")
    vguest = net.virtio_net("guest-virtio", guest, **LAT)
    responder = net.ping_responder("pingclient", ipv4=RESPONDER_IP)
    vmm = net.virtio_net("vmm-virtio", responder, **LAT)
    link = net.link(vguest, vmm, delay="5ms")
    sock = guest.ping_socket(ident=0x1234)
    # one way: guest's transmit (2+3 us), 5 ms, responder's receive (3+7 us); the same back
    rtt = 2 * (5 * US + 5 * MS + 10 * US)
    rtts = []
    for seq in range(1, 6):
        sent = net.now_ns
        sock.send(RESPONDER_IP, seq=seq, payload=56)
        net.run(for_="1s")
        reply = sock.recv()
        assert reply is not None and reply.seq == seq and reply.len == 56
        rtts.append(reply.time_ns - sent)
    # the first request waited for ARP's own round trip
    assert rtts == [2 * rtt] + [rtt] * 4
    recs = responder.records()
    assert [(r.ident, r.seq, r.payload_len, r.src, r.dst, r.replied) for r in recs] == \
        [(0x1234, s, 56, GUEST_IP, RESPONDER_IP, True) for s in range(1, 6)]
    # the transcript: one block per request, built from the requests as they crossed the link
    pcap = link.capture_path
    net.flush_captures()
    requests = [bytes(p[IP])[:p[IP].len] for p in rdpcap(str(pcap))
                if ICMP in p and p[ICMP].type == 8]
    assert len(requests) == 5
    assert responder.texts() == [demo_text(r) for r in requests]
    assert "ICMP Header - Type: 8 | id: 4660 | seq: 1\n" in responder.transcript()
    c = responder.counters()
    assert (c.requests, c.replies, c.arp_replies, c.bad_checksum) == (5, 5, 1, 0)


def direct(net):
    """The responder on a plain link to a scripted peer (no virtio): frames exactly as sent."""
    responder = net.ping_responder("pingclient", ipv4=RESPONDER_IP)
    peer = net.peer("peer", ipv4=f"{GUEST_IP}/24", arp=False)
    net.link(peer, responder)
    return responder, peer


def echo(peer, responder, **kw):
    ip = dict(src=GUEST_IP, dst=RESPONDER_IP)
    ip.update(kw.pop("ip", {}))
    payload = kw.pop("payload", b"hello")
    return Ether(src=peer.mac, dst=kw.pop("dst_mac", responder.mac)) / IP(**ip) / \
        ICMP(**{"type": 8, "id": 7, "seq": 1, **kw}) / Raw(payload)


@pytest.mark.rfc("792 echo")
def test_replies_only_to_echo_requests_addressed_to_it(net):
    responder, peer = direct(net)
    not_for_it = [
        echo(peer, responder, ip={"dst": "192.168.1.3"}),            # another IP address
        echo(peer, responder, dst_mac="02:00:00:00:00:99"),           # another MAC
        echo(peer, responder, type=0),                                # an echo reply
        echo(peer, responder, type=13, ts_ori=0, ts_rx=0, ts_tx=0),   # a timestamp request
    ]
    for f in not_for_it:
        peer.send(f)
    bad = echo(peer, responder)
    raw = bytearray(bytes(bad))
    raw[14 + 20 + 2] ^= 0xFF  # ICMP checksum wrong
    peer.send(raw)
    raw = bytearray(bytes(bad))
    raw[14 + 10] ^= 0xFF      # IPv4 header checksum wrong
    peer.send(raw)
    peer.send(echo(peer, responder, ip={"flags": "MF"}))  # a first fragment: not reassembled
    peer.expect_nothing("100ms")
    c = responder.counters()
    assert (c.requests, c.replies, c.ignored, c.bad_checksum) == (0, 0, 5, 2)
    assert responder.records() == []
    # positive control: the same request, addressed to it, is answered
    peer.send(echo(peer, responder, id=0xBEEF, seq=9, payload=b"xyz"))
    r = peer.expect(ICMP(type=0), within="10ms")
    assert (r[ICMP].id, r[ICMP].seq, r[IP].len) == (0xBEEF, 9, 28 + 3)
    assert bytes(r[IP])[28:31] == b"xyz"
    assert (r[IP].src, r[IP].dst, r[Ether].src, r[Ether].dst) == (RESPONDER_IP, GUEST_IP, responder.mac, peer.mac)


def test_fresh_ip_header(net):
    """The reply has a header of its own (no options copied, TTL 64, its address as source),
    with checksums right (scapy recomputes and compares)."""
    responder, peer = direct(net)
    peer.send(echo(peer, responder, ip={"ttl": 3, "tos": 0x10, "options": [IPOption_NOP()] * 4}))
    r = peer.expect(ICMP(type=0), within="10ms")
    assert (r[IP].ihl, r[IP].ttl, r[IP].tos, r[IP].src) == (5, 64, 0, RESPONDER_IP)
    ip = IP(bytes(r[IP])[:r[IP].len])
    sums = (ip.chksum, ip[ICMP].chksum)
    del ip.chksum
    del ip[ICMP].chksum
    again = IP(bytes(ip))
    assert (again.chksum, again[ICMP].chksum) == sums
    assert responder.records()[0].ttl == 3


@pytest.mark.rfc("792 echo")
@pytest.mark.parametrize("size", [0, 1, 55, 56, 57, 1000, 1471, 1472, 4000])
def test_any_payload_size(net, size):
    """The seed replied with 56 bytes whatever came; the whole payload comes back."""
    responder, peer = direct(net)
    data = bytes((i * 31 + 5) & 0xFF for i in range(size))
    peer.send(echo(peer, responder, payload=data))
    r = peer.expect(ICMP(type=0), within="10ms")
    assert bytes(r[ICMP].payload)[:size] == data and r[IP].len == 28 + size
    assert responder.records()[0].payload_len == size


def test_transcript_in_host_order_and_hex(net):
    """id 0x0102 and seq 0x0304 print as 258 and 772 (the seed printed 513 and 1027); offsets in hex."""
    responder, peer = direct(net)
    req = echo(peer, responder, id=0x0102, seq=0x0304, payload=bytes(range(40)))
    peer.send(req)
    peer.expect(ICMP(type=0), within="10ms")
    text = responder.texts()[0]
    assert "ICMP Header - Type: 8 | id: 258 | seq: 772\n" in text
    assert text == demo_text(bytes(req[IP]))
    lines = text.splitlines()
    assert lines[0] == "Packet Contents:"
    assert lines[1].startswith("0000:\t45 00 00 44 ")  # IPv4, total length 68 = 0x44
    # the payload starts at offset 0x1c: offset 0x20 holds its byte 4
    assert lines[3:6] == ["0020:\t04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 ",
                          "0030:\t14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 ",
                          "0040:\t24 25 26 27 "]


def test_arp_only_for_its_address(net):
    """RFC 826: a request for its protocol address gets its hardware address (the seed copied the
    requester's own into the sender field); a request for another address gets nothing."""
    responder, peer = direct(net)
    peer.send(Ether(src=peer.mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=peer.mac, psrc=GUEST_IP, pdst="192.168.1.9"))
    peer.expect_nothing("10ms")
    peer.send(Ether(src=peer.mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=peer.mac, psrc=GUEST_IP, pdst=RESPONDER_IP))
    r = peer.expect(ARP(op=2), within="10ms")
    assert (r[ARP].hwsrc, r[ARP].psrc, r[ARP].hwdst, r[ARP].pdst) == (responder.mac, RESPONDER_IP, peer.mac, GUEST_IP)
    assert r[Ether].src == responder.mac and r[Ether].dst == peer.mac


def test_same_seed_same_bytes(tmp_path):
    """DESIGN §6: the demo twice with one seed gives byte-identical captures and transcripts."""
    from pyharness import Network

    def once(tag):
        net = Network(seed=42, artifacts=tmp_path / tag)
        guest = net.host("guest", ipv4=f"{GUEST_IP}/24")
        vguest = net.virtio_net("guest-virtio", guest, **LAT)
        responder = net.ping_responder("pingclient", ipv4=RESPONDER_IP)
        vmm = net.virtio_net("vmm-virtio", responder, **LAT, indirect=True)
        link = net.link(vguest, vmm, delay="5ms", jitter="1ms")
        pcap = link.capture(tmp_path / f"{tag}.pcap")
        sock = guest.ping_socket(ident=9)
        for seq in range(3):
            sock.send(RESPONDER_IP, seq=seq, payload=100 + seq)
            net.run(for_="100ms")
        net.flush_captures()
        out = (pcap.read_bytes(), responder.transcript(), vguest.counters(), vmm.counters())
        net.close()
        return out

    a, b = once("a"), once("b")
    assert a == b
    assert len(a[0]) > 24 * 3 and a[1].count("Packet Contents:") == 3
