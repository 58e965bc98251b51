"""IPv6 fragmentation and reassembly (RFC 8200 section 4.5, with RFC 5722 on overlaps, RFC 6946 on
atomic fragments, RFC 7112 on the first fragment's header chain).

RFC 8200 section 4.5: "If insufficient fragments are received to complete reassembly of a packet
within 60 seconds of the reception of the first-arriving fragment of that packet, reassembly of that
packet must be abandoned and all the fragments that have been received for that packet must be
discarded. If the first fragment (i.e., the one with a Fragment Offset of zero) has been received,
an ICMP Time Exceeded -- Fragment Reassembly Time Exceeded message should be sent to the source of
that fragment."
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP
from scapy.layers.inet6 import (ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ParamProblem, ICMPv6TimeExceeded, IPv6,
                                IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, Pad1)
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from v6kit import DUT6, PEER6, at, dut, ns, peer, to_dut, v6  # noqa: F401  (fixtures)
from pyharness.dut import tern_stack

pytestmark = pytest.mark.area("ipv6")


def echo_bytes(ident: int, size: int) -> bytes:
    """The ICMPv6 echo request (checksum right for PEER6 -> DUT6) with ``size`` data bytes."""
    data = bytes((i * 7 + ident) & 0xFF for i in range(size))
    return bytes(IPv6(src=PEER6, dst=DUT6) / ICMPv6EchoRequest(id=ident, seq=1, data=data))[40:]


def frag(dut, peer, body: bytes, off: int, more: bool, ident: int, nh: int = 58) -> Ether:
    """One fragment of ``body`` (the fragmentable part) starting at byte ``off``."""
    return to_dut(dut, peer, IPv6ExtHdrFragment(nh=nh, offset=off // 8, m=int(more), id=ident) / Raw(body))


def split(body: bytes, size: int) -> list[tuple[int, bytes, bool]]:
    """(offset, piece, more) pieces of ``size`` bytes (a multiple of 8), the last one the rest."""
    out = []
    for off in range(0, len(body), size):
        piece = body[off:off + size]
        out.append((off, piece, off + size < len(body)))
    return out


def send_all(dut, peer, body: bytes, size: int, ident: int, order=None) -> None:
    pieces = split(body, size)
    for i in order if order is not None else range(len(pieces)):
        off, piece, more = pieces[i]
        peer.send(frag(dut, peer, piece, off, more, ident))


@pytest.mark.rfc("8200 4.5")
def test_fragments_in_order_are_reassembled(dut, peer):
    body = echo_bytes(1, 1000)
    send_all(dut, peer, body, 512, ident=0x100)
    rep = peer.expect(ICMPv6EchoReply(id=1), within="1ms")
    assert rep[ICMPv6EchoReply].data == body[8:]
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_reassembled == 1


@pytest.mark.rfc("8200 4.5")
@pytest.mark.parametrize("order", [[2, 1, 0], [1, 2, 0], [2, 0, 1]])
def test_fragments_out_of_order_are_reassembled(dut, peer, order):
    """"relative position in Fragmentable Part is computed from its Fragment Offset value": the
    order of arrival does not matter."""
    body = echo_bytes(2, 1200)
    send_all(dut, peer, body, 456, ident=0x200, order=order)
    rep = peer.expect(ICMPv6EchoReply(id=2), within="1ms")
    assert rep[ICMPv6EchoReply].data == body[8:]


@pytest.mark.rfc("8200 4.5")
def test_next_header_comes_from_the_offset_zero_fragment(dut, peer):
    """"The Next Header values in the Fragment headers of different fragments of the same original
    packet may differ. Only the value from the Offset zero fragment packet is used for reassembly.\""""
    body = echo_bytes(3, 600)
    peer.send(frag(dut, peer, body[:304], 0, True, 0x300, nh=58))
    peer.send(frag(dut, peer, body[304:], 304, False, 0x300, nh=17))
    peer.expect(ICMPv6EchoReply(id=3), within="1ms")


@pytest.mark.rfc("8200 4.5", "5722 4")
def test_overlapping_fragments_drop_the_datagram(dut, peer):
    """"If any of the fragments being reassembled overlap with any other fragments being reassembled
    for the same packet, reassembly of that packet must be abandoned and all the fragments that have
    been received for that packet must be discarded, and no ICMP error messages should be sent.\""""
    body = echo_bytes(4, 800)
    peer.send(frag(dut, peer, body[:512], 0, True, 0x400))
    peer.send(frag(dut, peer, body[504:], 504, False, 0x400))  # overlaps bytes 504..511
    peer.expect_nothing(for_="100ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_reasm_overlap == 1
    # positive control: the same datagram without the overlap (another identification) completes
    send_all(dut, peer, body, 512, ident=0x401)
    peer.expect(ICMPv6EchoReply(id=4), within="1ms")


@pytest.mark.rfc("8200 4.5", "5722 4")
def test_fragments_after_an_overlap_are_discarded_too(dut, peer):
    """RFC 8200 appendix B, from RFC 5722: "the entire datagram (and any constituent fragments) must
    be silently discarded": the missing pieces sent afterwards do not revive the datagram."""
    body = echo_bytes(5, 800)
    peer.send(frag(dut, peer, body[8:16], 8, True, 0x500))
    peer.send(frag(dut, peer, body[:16], 0, True, 0x500))  # overlaps the first
    send_all(dut, peer, body, 512, ident=0x500)  # the whole datagram, same identification
    peer.expect_nothing(for_="100ms")
    send_all(dut, peer, body, 512, ident=0x501)
    peer.expect(ICMPv6EchoReply(id=5), within="1ms")


@pytest.mark.rfc("8200 4.5", "5722 4")
def test_eight_byte_overlap_at_the_start_of_a_later_fragment_drops_the_datagram(dut, peer):
    """The smallest overlap, 8 bytes, against the start of a fragment already held: the datagram is
    dropped. Built so that an implementation that missed the overlap would complete it with the right
    bytes (a gap of 8 zero bytes elsewhere makes the byte count come out) and answer."""
    data = bytearray((i * 7 + 30) & 0xFF or 1 for i in range(800))
    data[240:248] = bytes(8)  # message bytes 248..255: the gap the pieces below leave
    body = bytes(IPv6(src=PEER6, dst=DUT6) / ICMPv6EchoRequest(id=30, seq=1, data=bytes(data)))[40:]
    peer.send(frag(dut, peer, body[504:], 504, False, 0x3000))    # last: 504..808
    peer.send(frag(dut, peer, body[256:512], 256, True, 0x3000))  # overlaps 504..511 of it
    peer.send(frag(dut, peer, body[:248], 0, True, 0x3000))       # first: 0..247
    peer.expect_nothing(for_="100ms", matching=ICMPv6EchoReply())
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_reasm_overlap == 1
    # positive control: the datagram in two clean pieces
    send_all(dut, peer, body, 504, ident=0x3001)
    peer.expect(ICMPv6EchoReply(id=30), within="1ms")


@pytest.mark.rfc("8200 4.5")
def test_exact_duplicate_fragment_is_tolerated(dut, peer):
    """"Instead of treating these exact duplicate fragments as overlapping fragments, an
    implementation may choose to detect this case and drop exact duplicate fragments while keeping the
    other fragments belonging to the same packet.\""""
    body = echo_bytes(6, 800)
    pieces = split(body, 512)
    peer.send(frag(dut, peer, pieces[0][1], 0, True, 0x600))
    peer.send(frag(dut, peer, pieces[0][1], 0, True, 0x600))
    peer.send(frag(dut, peer, pieces[1][1], 512, False, 0x600))
    peer.expect(ICMPv6EchoReply(id=6), within="1ms")


@pytest.mark.rfc("8200 4.5", "6946 4")
def test_atomic_fragment_is_processed_as_a_whole_packet(dut, peer):
    """"If the fragment is a whole datagram (that is, both the Fragment Offset field and the M flag
    are zero), then it does not need any further reassembly and should be processed as a fully
    reassembled packet\"."""
    peer.send(frag(dut, peer, echo_bytes(7, 100), 0, False, 0x700))
    peer.expect(ICMPv6EchoReply(id=7), within="1ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_atomic_fragments == 1
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_fragments_in == 0


@pytest.mark.rfc("8200 4.5", "6946 4")
def test_atomic_fragment_leaves_a_pending_reassembly_alone(dut, peer):
    """"Any other fragments that match this packet (i.e., the same IPv6 Source Address, IPv6
    Destination Address, and Fragment Identification) should be processed independently.\""""
    body = echo_bytes(8, 800)
    peer.send(frag(dut, peer, body[:512], 0, True, 0x800))
    peer.send(frag(dut, peer, echo_bytes(9, 16), 0, False, 0x800))  # atomic, same identification
    peer.expect(ICMPv6EchoReply(id=9), within="1ms")
    peer.send(frag(dut, peer, body[512:], 512, False, 0x800))
    peer.expect(ICMPv6EchoReply(id=8), within="1ms")


@pytest.mark.rfc("8200 4.5")
def test_reassembly_timeout_sends_time_exceeded_at_60_s(dut, peer, net):
    body = echo_bytes(10, 800)
    t0 = net.now_ns
    peer.send(frag(dut, peer, body[:512], 0, True, 0xA00))
    err = peer.expect(IPv6(src=DUT6, dst=PEER6) / ICMPv6TimeExceeded(code=1), at=at(t0 + ns(60)),
                      tolerance="1us")
    quoted = bytes(err[ICMPv6TimeExceeded].payload)
    assert quoted[40] == 58 and quoted[6] == 44  # the first fragment as it came: Fragment header first
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_reasm_timeout == 1
    # the datagram is gone: its last fragment alone does not complete anything
    peer.send(frag(dut, peer, body[512:], 512, False, 0xA00))
    peer.expect_nothing(for_="100ms", matching=ICMPv6EchoReply())


@pytest.mark.rfc("8200 4.5")
def test_reassembly_timeout_without_first_fragment_sends_nothing(dut, peer, net):
    """The Time Exceeded goes out only "If the first fragment ... has been received"."""
    body = echo_bytes(11, 800)
    peer.send(frag(dut, peer, body[512:], 512, False, 0xB00))
    peer.expect_nothing(for_="61s")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_reasm_timeout == 1
    # positive control: a complete datagram with that identification now reassembles afresh
    send_all(dut, peer, body, 512, ident=0xB00)
    peer.expect(ICMPv6EchoReply(id=11), within="1ms")


@pytest.mark.rfc("8200 4.5")
def test_timeout_counts_from_the_first_arriving_fragment(dut, peer, net):
    """A later fragment does not restart the 60 s: the Time Exceeded comes 60 s after the first."""
    body = echo_bytes(12, 1200)
    t0 = net.now_ns
    peer.send(frag(dut, peer, body[:400], 0, True, 0xC00))
    net.run(for_="30s")
    peer.send(frag(dut, peer, body[400:800], 400, True, 0xC00))
    peer.expect(ICMPv6TimeExceeded(code=1), at=at(t0 + ns(60)), tolerance="1us")


@pytest.mark.rfc("8200 4.5")
def test_fragment_not_a_multiple_of_8_gets_param_problem(dut, peer):
    """"If the length of a fragment ... is not a multiple of 8 octets and the M flag of that fragment
    is 1, then that fragment must be discarded and an ICMP Parameter Problem, Code 0, message should be
    sent to the source of the fragment, pointing to the Payload Length field of the fragment packet.\""""
    body = echo_bytes(13, 800)
    peer.send(frag(dut, peer, body[:500], 0, True, 0xD00))
    peer.expect(ICMPv6ParamProblem(code=0, ptr=4), within="1ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_frag_bad_length == 1


@pytest.mark.rfc("8200 4.5")
def test_fragment_past_65535_gets_param_problem(dut, peer):
    """"If the length and offset of a fragment are such that the Payload Length of the packet
    reassembled from that fragment would exceed 65,535 octets, then that fragment must be discarded and
    an ICMP Parameter Problem, Code 0, message should be sent to the source of the fragment, pointing
    to the Fragment Offset field of the fragment packet.\""""
    peer.send(frag(dut, peer, b"\0" * 64, 65528, False, 0xE00))
    peer.expect(ICMPv6ParamProblem(code=0, ptr=42), within="1ms")


@pytest.mark.rfc("8200 4.5", "7112 5")
def test_first_fragment_without_the_whole_chain_gets_param_problem_code_3(dut, peer):
    """"If the first fragment does not include all headers through an Upper-Layer header, then that
    fragment should be discarded and an ICMP Parameter Problem, Code 3, message should be sent to the
    source of the fragment, with the Pointer field set to zero.\""""
    dst_opts = bytes(IPv6ExtHdrDestOpt(nh=58, options=[Pad1()] * 14))  # 16 bytes
    body = dst_opts + echo_bytes(14, 64)
    peer.send(frag(dut, peer, body[:8], 0, True, 0xF00, nh=60))  # half of the options header
    peer.expect(ICMPv6ParamProblem(code=3, ptr=0), within="1ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_first_frag_incomplete == 1


@pytest.mark.rfc("8200 4.5", "7112 5")
def test_first_fragment_with_a_cut_upper_layer_header_gets_param_problem_code_3(dut, peer):
    """The chain ends in TCP, but the first fragment holds only 8 of the TCP header's 20 bytes: not
    "all headers through an Upper-Layer header"."""
    tcp = bytes(IPv6(src=PEER6, dst=DUT6) / IPv6ExtHdrDestOpt(nh=6, options=[Pad1()] * 6) /
                TCP(sport=1024, dport=80, flags="S", options=[("MSS", 1440)]))[40:]  # 8 + 24 bytes
    peer.send(frag(dut, peer, tcp[:16], 0, True, 0xF01, nh=60))
    peer.expect(ICMPv6ParamProblem(code=3, ptr=0), within="1ms")
    # positive control: a first fragment carrying the whole TCP header is taken (nothing sent yet)
    peer.send(frag(dut, peer, tcp[:32], 0, True, 0xF02, nh=60))
    peer.expect_nothing(for_="50ms", matching=ICMPv6ParamProblem())
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_first_frag_incomplete == 1


@pytest.mark.rfc("8200 4.5")
def test_reply_above_the_mtu_is_fragmented_at_the_source(dut, peer):
    """The echo reply of a 3000-byte request does not fit 1500 bytes: RFC 8200 section 4.5, "Each
    complete fragment, except possibly the last ("rightmost") one, is an integer multiple of 8 octets
    long.", with one identification and offsets that tile the packet."""
    body = echo_bytes(15, 3000)
    send_all(dut, peer, body, 1232, ident=0x1500)
    frags = [peer.expect(IPv6(src=DUT6, dst=PEER6) / IPv6ExtHdrFragment(), within="1ms") for _ in range(3)]
    idents = {f[IPv6ExtHdrFragment].id for f in frags}
    assert len(idents) == 1
    offset = 0
    data = b""
    for i, f in enumerate(frags):
        assert len(bytes(f)) <= 1514  # within the 1500-byte MTU
        fh = f[IPv6ExtHdrFragment]
        assert fh.offset * 8 == offset and fh.nh == 58
        piece = bytes(fh.payload)[:f[IPv6].plen - 8]
        assert fh.m == (i < 2)
        if i < 2:
            assert len(piece) % 8 == 0
        data += piece
        offset += len(piece)
    assert data[0] == 129 and data[8:] == body[8:]  # the whole echo reply, data unmodified
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_fragments_out == 3


@pytest.mark.rfc("8200 4.5")
def test_reassembly_slots_are_bounded(dut, peer):
    """Four datagrams reassemble at once (reasm_slots); a fifth in the meantime is dropped and counted,
    and the four complete."""
    bodies = [echo_bytes(20 + i, 800) for i in range(5)]
    for i, b in enumerate(bodies):
        peer.send(frag(dut, peer, b[:512], 0, True, 0x2000 + i))
    for i, b in enumerate(bodies[:4]):
        peer.send(frag(dut, peer, b[512:], 512, False, 0x2000 + i))
        peer.expect(ICMPv6EchoReply(id=20 + i), within="1ms")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().ip6_reasm_dropped == 1
    peer.send(frag(dut, peer, bodies[4][512:], 512, False, 0x2004))
    peer.expect_nothing(for_="100ms", matching=ICMPv6EchoReply())
