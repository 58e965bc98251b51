"""Read and write pcap files with exact nanosecond timestamps (no scapy, no floats)."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Iterable, Union

from .errors import TernIOError

MAGIC_US = 0xA1B2C3D4
MAGIC_NS = 0xA1B23C4D
LINKTYPE_ETHERNET = 1

PathLike = Union[str, Path]


def read_pcap(path: PathLike) -> list[tuple[int, bytes]]:
    """The frames of a pcap file as ``(time_ns, bytes)``, in file order."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise TernIOError(f"read_pcap({str(p)!r}): {exc.strerror}") from None
    if len(data) < 24:
        raise TernIOError(f"read_pcap({str(p)!r}): not a pcap file (too short)")
    for endian in "<>":
        magic = struct.unpack(endian + "I", data[:4])[0]
        if magic in (MAGIC_US, MAGIC_NS):
            break
    else:
        raise TernIOError(f"read_pcap({str(p)!r}): not a pcap file (magic {data[:4].hex()})")
    scale = 1 if magic == MAGIC_NS else 1000
    rec = struct.Struct(endian + "IIII")
    out = []
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, _wirelen = rec.unpack_from(data, off)
        off += 16
        out.append((sec * 1_000_000_000 + frac * scale, data[off:off + caplen]))
        off += caplen
    return out


def write_pcap(path: PathLike, frames: Iterable[tuple[int, bytes]]) -> Path:
    """Write ``(time_ns, bytes)`` frames to a nanosecond pcap (Ethernet). Returns the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    parts = [struct.pack("<IHHiIII", MAGIC_NS, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET)]
    for t, b in frames:
        parts.append(struct.pack("<IIII", t // 1_000_000_000, t % 1_000_000_000, len(b), len(b)))
        parts.append(bytes(b))
    p.write_bytes(b"".join(parts))
    return p


def parsed(frames: Iterable[tuple[int, bytes]]) -> list[tuple[int, object]]:
    """``(time_ns, scapy Ether)`` pairs from ``(time_ns, bytes)`` pairs."""
    from ._scapy import scapy

    Ether = scapy().Ether
    return [(t, Ether(b)) for t, b in frames]


__all__ = ["read_pcap", "write_pcap", "parsed"]
