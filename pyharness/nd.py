"""IPv6 Neighbor Discovery for scripted peers, on raw bytes (RFC 4861): recognise Neighbor
Solicitations and Advertisements, build answers and requests.

As :mod:`pyharness.arp` does for ARP, this works on bytes so that a peer answering neighbour
solicitations costs almost nothing per frame: no scapy parse for the frames that are not ND.
Only packets with no extension headers (Next Header 58 right after the IPv6 header), as RFC 4861
messages are, are recognised.
"""

from __future__ import annotations

import ipaddress
import struct
from typing import NamedTuple, Optional

ETH_P_IPV6 = 0x86DD
ICMPV6_NS = 135
ICMPV6_NA = 136
ALL_NODES = "ff02::1"


def ip6_bytes(ip: str) -> bytes:
    """The 16 bytes of an IPv6 address."""
    return ipaddress.IPv6Address(ip).packed


def ip6_text(b: bytes) -> str:
    """The RFC 5952 text of 16 address bytes."""
    return str(ipaddress.IPv6Address(b))


def link_local(mac: bytes) -> str:
    """fe80:: + the modified EUI-64 interface identifier of ``mac`` (RFC 4291 appendix A)."""
    iid = bytes([mac[0] ^ 0x02]) + mac[1:3] + b"\xff\xfe" + mac[3:6]
    return ip6_text(b"\xfe\x80" + b"\0" * 6 + iid)


def solicited_node(ip: str) -> str:
    """ff02::1:ffXX:XXXX of ``ip`` (RFC 4291 section 2.7.1)."""
    return ip6_text(bytes.fromhex("ff0200000000000000000001ff") + ip6_bytes(ip)[13:])


def multicast_mac(group: str) -> bytes:
    """33:33 + the low 32 bits of a multicast group (RFC 2464 section 7)."""
    return b"\x33\x33" + ip6_bytes(group)[12:]


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def icmpv6_checksum(src: bytes, dst: bytes, msg: bytes) -> int:
    """The ICMPv6 checksum of ``msg`` (its checksum field zero) over the RFC 8200 section 8.1
    pseudo-header."""
    pseudo = src + dst + struct.pack("!I3xB", len(msg), 58)
    return _csum(pseudo + msg)


class NDMessage(NamedTuple):
    """A Neighbor Solicitation or Advertisement seen in a frame."""

    type: int  # 135 NS, 136 NA
    eth_src: bytes
    src: str
    dst: str
    hop_limit: int
    target: str
    lladdr: Optional[bytes]  # source (NS) or target (NA) link-layer address option
    flags: int  # NA: R 0x80, S 0x40, O 0x20


def parse_nd(frame: bytes) -> Optional[NDMessage]:
    """The NS or NA in an Ethernet frame, or None (not ND, or not one we read)."""
    if len(frame) < 78 or frame[12:14] != b"\x86\xdd" or frame[20] != 58 or frame[54] not in (135, 136):
        return None
    plen = frame[18] << 8 | frame[19]
    end = min(len(frame), 54 + plen)
    lladdr = None
    want = 1 if frame[54] == ICMPV6_NS else 2
    off = 78
    while off + 8 <= end:
        otype, olen = frame[off], frame[off + 1] * 8
        if olen == 0:
            return None  # RFC 4861 section 4.6: such a packet is discarded
        if otype == want and olen == 8:
            lladdr = frame[off + 2:off + 8]
        off += olen
    return NDMessage(frame[54], frame[6:12], ip6_text(frame[22:38]), ip6_text(frame[38:54]), frame[21],
                     ip6_text(frame[62:78]), lladdr, frame[58])


def _frame(eth_dst: bytes, eth_src: bytes, src: str, dst: str, msg: bytes) -> bytes:
    s, d = ip6_bytes(src), ip6_bytes(dst)
    msg = msg[:2] + struct.pack("!H", icmpv6_checksum(s, d, msg)) + msg[4:]
    ip = struct.pack("!IHBB", 6 << 28, len(msg), 58, 255) + s + d
    return (eth_dst + eth_src + struct.pack("!H", ETH_P_IPV6) + ip + msg).ljust(60, b"\0")


def neighbor_advert(my_mac: bytes, target: str, to_mac: bytes, to_ip: str, solicited: bool = True,
                    override: bool = True, router: bool = False) -> bytes:
    """A Neighbor Advertisement for ``target`` (with the target link-layer address option), sent from
    ``target`` to ``to_ip``/``to_mac`` with hop limit 255."""
    flags = (0x80 if router else 0) | (0x40 if solicited else 0) | (0x20 if override else 0)
    msg = struct.pack("!BBHB3x", ICMPV6_NA, 0, 0, flags) + ip6_bytes(target) + b"\x02\x01" + my_mac
    return _frame(to_mac, my_mac, target, to_ip, msg)


def neighbor_solicit(my_mac: bytes, my_ip: str, target: str, unicast_mac: Optional[bytes] = None) -> bytes:
    """A Neighbor Solicitation for ``target`` from ``my_ip`` (with the source link-layer address option
    unless my_ip is ::): to the target's solicited-node group, or unicast to ``unicast_mac``."""
    if unicast_mac is None:
        dst, eth_dst = solicited_node(target), multicast_mac(solicited_node(target))
    else:
        dst, eth_dst = target, unicast_mac
    msg = struct.pack("!BBH4x", ICMPV6_NS, 0, 0) + ip6_bytes(target)
    if ipaddress.IPv6Address(my_ip) != ipaddress.IPv6Address("::"):
        msg += b"\x01\x01" + my_mac
    return _frame(eth_dst, my_mac, my_ip, dst, msg)


__all__ = ["parse_nd", "NDMessage", "neighbor_advert", "neighbor_solicit", "link_local", "solicited_node",
           "multicast_mac", "icmpv6_checksum", "ip6_bytes", "ip6_text", "ALL_NODES", "ETH_P_IPV6"]
