"""IPv4 fragmentation and reassembly rules (RFC 791 §3.1-§3.2, RFC 815, RFC 1122 §3.3.2).

Each refusal goes with its positive control: the same exchange made valid gets its answer.
"""

from __future__ import annotations

import pytest
from scapy.all import ICMP, IP, UDP, IPOption_RR, Raw

from pyharness.dut import DUT_IP, PEER_IP, make_tern_dut

pytestmark = pytest.mark.area("ipv4")


def echo_payload(size: int, ident: int) -> bytes:
    """The bytes of an ICMP echo request (header + data) of ``size`` bytes in all."""
    return bytes(ICMP(type=8, id=ident, seq=1) / Raw(bytes((i * 7) & 0xFF for i in range(size - 8))))


def frag(ident: int, data: bytes, off: int, length: int, mf: bool):
    """A fragment carrying data[off:off+length] at byte offset ``off`` (a multiple of 8)."""
    assert off % 8 == 0
    return IP(src=PEER_IP, dst=DUT_IP, id=ident, proto=1, frag=off // 8, flags="MF" if mf else 0) / \
        Raw(data[off:off + length])


def expect_reply(peer, ident: int):
    return peer.expect(IP(src=DUT_IP, dst=PEER_IP) / ICMP(type=0, id=ident), within="10ms")


@pytest.mark.rfc("791 3.1", "791 3.2")
def test_fragments_after_the_first_carry_only_copied_options(dut, peer):
    """RFC 791 §3.1: the copied flag "indicates that this option is copied into all fragments on
    fragmentation"; Record Route (copied flag 0) stays in the first fragment only. A 3000-byte echo request
    with Record Route is answered with the option, in fragments: the first has it, the others none."""
    peer.send(IP(dst=DUT_IP, options=[IPOption_RR(routers=["0.0.0.0"] * 3)]) /
              ICMP(type=8, id=21, seq=1) / Raw(bytes(3000)))
    dut.net.run(for_="10ms")
    frags = [p for p in peer.received() if IP in p and p[IP].src == DUT_IP and p[IP].proto == 1]
    assert len(frags) >= 3, f"expected a fragmented reply, got {len(frags)} frame(s)"
    first = [p for p in frags if p[IP].frag == 0]
    later = [p for p in frags if p[IP].frag != 0]
    assert len(first) == 1 and first[0][IP].ihl > 5, "the first fragment lost its options"
    assert all(p[IP].ihl == 5 for p in later), [p[IP].ihl for p in later]


@pytest.mark.rfc("791 3.2", "6864 4.1")
def test_fragmented_datagrams_have_distinct_identifications(dut, peer):
    """RFC 791 §3.2: the identification "must be unique for that source-destination pair and protocol for
    the time the datagram will be active"; RFC 6864 §4.1 keeps that for non-atomic (fragmented) datagrams.
    Two 3000-byte UDP datagrams: the fragments of each share an identification, the two differ."""
    s = dut.udp_socket()
    s.sendto(bytes(3000), (PEER_IP, 9))
    s.sendto(bytes(3000), (PEER_IP, 9))
    dut.net.run(for_="10ms")
    ids = [p[IP].id for p in peer.received() if IP in p and p[IP].src == DUT_IP and p[IP].proto == 17]
    assert len(ids) >= 4
    half = len(ids) // 2
    assert len(set(ids[:half])) == 1 and len(set(ids[half:])) == 1 and ids[0] != ids[-1], ids


@pytest.mark.rfc("791 3.2", "815 3")
@pytest.mark.parametrize("first_len,answered", [(12, False), (16, True)], ids=["not_multiple_of_8", "control"])
def test_non_last_fragment_must_carry_a_multiple_of_8_bytes(dut, peer, first_len, answered):
    """RFC 791 §3.2: every fragment but the last carries "a multiple of 8 octets" of data. A first fragment
    of 12 bytes (its end is not where an offset can point) is dropped with the datagram; the second
    fragment at offset 8 overlaps it, agreeing, so with a 16-byte first fragment it reassembles."""
    data = echo_payload(40, ident=22)
    peer.send(frag(22, data, 0, first_len, mf=True))
    peer.send(frag(22, data, 8, 32, mf=False))
    if answered:
        expect_reply(peer, 22)
    else:
        peer.expect_nothing(for_="100ms", matching=ICMP())


@pytest.mark.dut("tern", reason="sets the reassembly limit, a stack option")
@pytest.mark.rfc("1122 3.3.2", "791 3.2")
@pytest.mark.parametrize("size,answered", [(6000, False), (3000, True)], ids=["over_limit", "control"])
def test_datagram_larger_than_the_reassembly_limit_is_dropped(net, size, answered):
    """RFC 1122 §3.3.2: a host has a maximum size of datagram it reassembles (EMTU_R); with 4000 bytes, a
    6000-byte echo request in fragments is dropped, a 3000-byte one answered."""
    dut, peer, _ = make_tern_dut(net, reasm_max_bytes=4000)
    data = echo_payload(size, ident=23)
    for off in range(0, size, 1480):
        peer.send(frag(23, data, off, 1480, mf=off + 1480 < size))
    if answered:
        peer.expect(IP(src=DUT_IP) / ICMP(type=0, id=23), within="10ms")
        assert dut.counters().ip_reasm_dropped == 0
    else:
        peer.expect_nothing(for_="100ms", matching=ICMP(type=0))
        # Dropped at the first fragment that reaches past the limit, not kept (beyond the slot's buffer).
        assert dut.counters().ip_reasm_dropped >= 1


@pytest.mark.dut("tern", reason="sets the reassembly limit, a stack option")
@pytest.mark.rfc("1122 3.3.2", "792 intro")
@pytest.mark.parametrize("second_len,kept", [(1048, False), (1040, True)], ids=["past_limit", "at_limit"])
def test_fragment_past_the_reassembly_limit_discards_the_datagram_at_once(net, second_len, kept):
    """RFC 1122 §3.3.2: "EMTU_R MUST be greater than or equal to 576, SHOULD be either configurable or
    indefinite"; configured to 4000 bytes, a fragment ending at byte 4008 discards the datagram in progress
    at once (its bytes are never written: they would run past the slot's buffer), one ending exactly at
    4000 is kept. Seen on the wire through RFC 792's time exceeded: "If a host reassembling a fragmented
    datagram cannot complete the reassembly due to missing fragments within its time limit it discards the
    datagram, and it may send a time exceeded message. If fragment zero is not available then no time
    exceeded need be sent at all." The kept datagram (fragment zero held) draws a Time Exceeded exactly one
    reassembly timeout after its first fragment; the discarded one nothing, its fragment zero being gone."""
    dut, peer, _ = make_tern_dut(net, reasm_max_bytes=4000)
    peer.send(IP(dst=DUT_IP) / ICMP(type=8, id=3, seq=1) / Raw(b"arp"))  # the DUT learns the peer's MAC
    peer.expect(ICMP(type=0, id=3), within="10ms")
    data = echo_payload(4400, ident=29)
    peer.send(frag(29, data, 0, 1480, mf=True))
    t0 = net.now_ns
    peer.send(frag(29, data, 2960, second_len, mf=True))
    timeout = dut.profile.reasm_timeout
    if kept:
        peer.expect(IP(src=DUT_IP) / ICMP(type=11, code=1), at=(t0 + timeout) / 1e9, tolerance=0)
        assert dut.counters().ip_reasm_dropped == 0
    else:
        peer.expect_nothing(for_=(timeout + 1_000_000_000) / 1e9, matching=ICMP(type=11))
        assert dut.counters().ip_reasm_dropped == 1


@pytest.mark.rfc("791 3.2", "815 3")
def test_contradicting_last_fragment_discards_the_datagram(dut, peer):
    """A last fragment ending at 1200 after bytes up to 1600 arrived contradicts them: the datagram is
    discarded. Its fragments sent again, with the true last one, then reassemble afresh (the control)."""
    data = echo_payload(2000, ident=24)
    peer.send(frag(24, data, 0, 800, mf=True))
    peer.send(frag(24, data, 800, 800, mf=True))
    peer.send(frag(24, data, 800, 400, mf=False))  # "ends at 1200"
    peer.expect_nothing(for_="50ms", matching=ICMP())
    for off, n, mf in ((0, 800, True), (800, 800, True), (1600, 400, False)):
        peer.send(frag(24, data, off, n, mf))
    expect_reply(peer, 24)


@pytest.mark.rfc("791 3.2", "815 3")
def test_fragment_beyond_the_known_end_discards_the_datagram(dut, peer):
    """After the last fragment fixed the end at 2000, a fragment reaching beyond it contradicts it: the
    datagram is discarded. Its fragments sent again reassemble afresh (the control)."""
    data = echo_payload(2000, ident=25) + bytes(400)
    peer.send(frag(25, data, 1600, 400, mf=False))
    peer.send(frag(25, data, 2000, 400, mf=True))  # beyond the end
    for off, n, mf in ((0, 800, True), (800, 800, True)):
        peer.send(frag(25, data, off, n, mf))
    peer.expect_nothing(for_="50ms", matching=ICMP())
    peer.send(frag(25, data, 1600, 400, mf=False))
    expect_reply(peer, 25)


@pytest.mark.rfc("1122 3.2.2", "792 intro")
@pytest.mark.parametrize("kind", ["icmp_error", "echo_control"])
def test_no_time_exceeded_about_an_icmp_error(dut, peer, profile, kind):
    """RFC 1122 §3.2.2: "An ICMP error message MUST NOT be sent as the result of receiving: an ICMP error
    message". The first fragment of a large ICMP error (destination unreachable quoting a datagram of the
    DUT's) whose other fragments never come times out in reassembly without a Time Exceeded; the same
    with an echo request gets one (the control)."""
    peer.send(IP(dst=DUT_IP) / ICMP(type=8, id=2, seq=1) / Raw(b"arp"))  # the DUT learns the peer's MAC
    peer.expect(ICMP(type=0, id=2), within="10ms")
    if kind == "icmp_error":
        quoted = bytes(IP(src=DUT_IP, dst="10.0.0.9", proto=17) / UDP(sport=5000, dport=53) / Raw(bytes(1400)))
        data = bytes(ICMP(type=3, code=1) / Raw(quoted))
    else:
        data = echo_payload(1436, ident=26)
    peer.send(frag(27, data, 0, 800, mf=True))
    t0 = dut.net.now_ns
    if kind == "icmp_error":
        peer.expect_nothing(for_=(profile.reasm_timeout + 1_000_000_000) / 1e9, matching=ICMP(type=11))
    else:
        peer.expect(IP(src=DUT_IP) / ICMP(type=11, code=1), at=(t0 + profile.reasm_timeout) / 1e9, tolerance=0)


@pytest.mark.rfc("791 3.2", "815 3")
@pytest.mark.parametrize("send_middle", [False, True], ids=["hole", "control"])
def test_datagram_with_a_hole_is_never_delivered(dut, peer, send_middle):
    """A datagram whose middle 8 bytes never arrive is not delivered, even when those bytes would be
    zeros (so a reassembler that counted the hole as received would pass the ICMP checksum)."""
    data = bytearray(echo_payload(24, ident=28))
    data[8:16] = bytes(8)
    pkt = ICMP(data)
    del pkt.chksum
    data = bytes(pkt)
    assert data[8:16] == bytes(8)
    peer.send(frag(28, data, 0, 8, mf=True))
    if send_middle:
        peer.send(frag(28, data, 8, 8, mf=True))
    peer.send(frag(28, data, 16, 8, mf=False))
    if send_middle:
        expect_reply(peer, 28)
    else:
        peer.expect_nothing(for_="100ms", matching=ICMP(type=0))
