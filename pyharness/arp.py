"""ARP for scripted peers, on raw bytes (RFC 826): recognise requests, build replies.

Working on bytes keeps the per-frame cost of a peer that answers ARP tiny:
no scapy parse for the frames that are not ARP.
"""

from __future__ import annotations

import ipaddress
import struct
from typing import Optional
from .errors import hide_from_traceback as __tracebackhide__  # noqa: F401  (pytest shows the test's line, not ours)

ETH_P_ARP = 0x0806
ETH_MIN = 60  # an Ethernet frame without FCS is at least 60 bytes; shorter ones are padded

_ARP_HDR = struct.Struct("!HHBBH6s4s6s4s")


def ip_bytes(ip: str) -> bytes:
    """Four bytes of a dotted-quad IPv4 address."""
    return ipaddress.IPv4Address(ip).packed


def parse_arp(frame: bytes) -> Optional[tuple[int, bytes, bytes, bytes, bytes]]:
    """``(op, sender MAC, sender IP, target MAC, target IP)`` of an Ethernet/IPv4 ARP frame, else None."""
    if len(frame) < 42 or frame[12:14] != b"\x08\x06":
        return None
    htype, ptype, hlen, plen, op, sha, spa, tha, tpa = _ARP_HDR.unpack_from(frame, 14)
    if htype != 1 or ptype != 0x0800 or hlen != 6 or plen != 4:
        return None
    return op, sha, spa, tha, tpa


def arp_reply(my_mac: bytes, my_ip: bytes, to_mac: bytes, to_ip: bytes) -> bytes:
    """An ARP reply "my_ip is-at my_mac", unicast to the asker, padded to 60 bytes."""
    eth = to_mac + my_mac + struct.pack("!H", ETH_P_ARP)
    arp = _ARP_HDR.pack(1, 0x0800, 6, 4, 2, my_mac, my_ip, to_mac, to_ip)
    return (eth + arp).ljust(ETH_MIN, b"\0")


def arp_request(my_mac: bytes, my_ip: bytes, target_ip: bytes) -> bytes:
    """A broadcast ARP request "who-has target_ip tell my_ip", padded to 60 bytes."""
    eth = b"\xff" * 6 + my_mac + struct.pack("!H", ETH_P_ARP)
    arp = _ARP_HDR.pack(1, 0x0800, 6, 4, 1, my_mac, my_ip, b"\0" * 6, target_ip)
    return (eth + arp).ljust(ETH_MIN, b"\0")


__all__ = ["parse_arp", "arp_reply", "arp_request", "ip_bytes", "ETH_P_ARP"]
