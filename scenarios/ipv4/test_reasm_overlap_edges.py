"""Overlapping IPv4 fragments that disagree at the very edge of the overlap (RFC 791 §3.2, RFC 5722 §4).

test_ipv4.py checks a disagreement in the middle of an overlap; a reassembler that compares every byte
of an overlap but the first or the last would still pass it. Here the one differing byte is the first
byte of the overlap (the later fragment's first byte) or its last byte (the later fragment's last byte).
Either way the datagram is not delivered: no echo reply. The positive control is the same exchange with
the byte left alone, which is reassembled and answered (a DUT whose profile drops every overlap is
skipped, since it never answers either).
"""

from __future__ import annotations

import pytest
from scapy.all import ICMP, IP, Raw

from pyharness.dut import DUT_IP, PEER_IP

pytestmark = pytest.mark.area("ipv4")

# The echo request's IP payload: ICMP header (8 bytes) + 1992 bytes of data, 2000 bytes in all.
OVERLAP = (800, 1200)  # fragment A carries [0, 1200), fragment B [800, 2000)


def payload() -> bytearray:
    pkt = ICMP(type=8, id=5, seq=1) / Raw(bytes((i * 31) & 0xFF for i in range(1992)))
    return bytearray(bytes(pkt))


def send_pair(peer, ident: int, a_data: bytes, b_data: bytes, b_first: bool) -> None:
    a = IP(src=PEER_IP, dst=DUT_IP, id=ident, flags="MF", frag=0, proto=1) / Raw(a_data)
    b = IP(src=PEER_IP, dst=DUT_IP, id=ident, frag=OVERLAP[0] // 8, proto=1) / Raw(b_data)
    for f in ((b, a) if b_first else (a, b)):
        peer.send(f)


# edge: which byte of the overlap differs; the later fragment is the one whose edge that byte is.
CASES = {"first_byte": (OVERLAP[0], False), "last_byte": (OVERLAP[1] - 1, True)}


@pytest.mark.rfc("791 3.2", "5722 4")
@pytest.mark.parametrize("edge", sorted(CASES))
@pytest.mark.parametrize("differs", [False, True], ids=["agree_control", "disagree"])
def test_overlap_compared_up_to_its_edges(dut, peer, profile, edge, differs):
    if profile.frag_overlap == "drop":
        pytest.skip(f"the {profile.name} profile drops every overlapping datagram (RFC 1858 §4 allows it)")
    whole = payload()
    later = bytearray(whole)
    offset, b_first = CASES[edge]
    if differs:
        later[offset] ^= 0xFF
    # The fragment sent second carries the changed byte at its own edge.
    if b_first:  # A arrives second: its last byte is the overlap's last
        send_pair(peer, 93, bytes(later[: OVERLAP[1]]), bytes(whole[OVERLAP[0]:]), b_first=True)
    else:  # B arrives second: its first byte is the overlap's first
        send_pair(peer, 93, bytes(whole[: OVERLAP[1]]), bytes(later[OVERLAP[0]:]), b_first=False)
    if differs:
        peer.expect_nothing(for_="100ms", matching=ICMP())
    else:
        peer.expect(IP(src=DUT_IP, dst=PEER_IP) / ICMP(type=0, id=5), within="10ms")
