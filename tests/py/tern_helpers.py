"""Small helpers for pyharness's own tests: raw frames with a sequence number."""

from __future__ import annotations

import struct

ETH_TEST = 0x88B5  # IEEE 802 local experimental EtherType


def mac_bytes(mac: str) -> bytes:
    return bytes(int(p, 16) for p in mac.split(":"))


def frame(src: str, dst: str, seq: int, size: int = 100) -> bytes:
    """An Ethernet frame of ``size`` bytes carrying ``seq`` right after the header."""
    head = mac_bytes(dst) + mac_bytes(src) + struct.pack("!HI", ETH_TEST, seq)
    assert size >= len(head)
    return head + bytes(size - len(head))


def seq_of(pkt) -> int:
    """The sequence number of a frame made by :func:`frame` (scapy packet or bytes)."""
    raw = bytes(pkt)
    return struct.unpack("!I", raw[14:18])[0]
