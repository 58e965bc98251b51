"""Read and write pcap files with exact nanosecond timestamps, through libpcap (no floats)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Union

from .errors import TernIOError

PathLike = Union[str, Path]


def _message(buf) -> str:
    from ._lib import ffi

    return ffi.string(buf).decode(errors="replace")


def read_pcap(path: PathLike) -> list[tuple[int, bytes]]:
    """The frames of a pcap file as ``(time_ns, bytes)``, in file order.

    Read through libpcap (``tern/sim_pcap.h``): microsecond and nanosecond
    files alike, timestamps in nanoseconds. A missing, corrupt or truncated
    file raises :class:`TernIOError` with libpcap's reason.
    """
    from ._lib import ffi, lib

    p = Path(path)
    msg = ffi.new("char[]", 512)
    reader = ffi.new("sim_pcap_reader **")
    rc = lib.sim_pcap_reader_open(str(p).encode(), reader, ffi.NULL, msg, 512)
    if rc != 0:
        raise TernIOError(f"read_pcap({str(p)!r}): {_message(msg)}")
    r = reader[0]
    out = []
    data = ffi.new("const uint8_t **")
    length = ffi.new("size_t *")
    time_ns = ffi.new("uint64_t *")
    try:
        while True:
            rc = lib.sim_pcap_reader_next(r, data, length, ffi.NULL, time_ns, msg, 512)
            if rc == lib.TERN_ERR_EMPTY:
                break
            if rc != 0:
                raise TernIOError(f"read_pcap({str(p)!r}): {_message(msg)}")
            out.append((int(time_ns[0]), bytes(ffi.buffer(data[0], length[0]))))
    finally:
        lib.sim_pcap_reader_close(r)
    return out


def write_pcap(path: PathLike, frames: Iterable[tuple[int, bytes]]) -> Path:
    """Write ``(time_ns, bytes)`` frames to a nanosecond pcap (Ethernet) through libpcap. Returns the path."""
    from ._lib import ffi, lib

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    msg = ffi.new("char[]", 512)
    writer = ffi.new("sim_pcap_writer **")
    rc = lib.sim_pcap_writer_open(str(p).encode(), writer, msg, 512)
    if rc != 0:
        raise TernIOError(f"write_pcap({str(p)!r}): {_message(msg)}")
    w = writer[0]
    try:
        for t, b in frames:
            b = bytes(b)
            lib.sim_pcap_writer_write(w, int(t), b, len(b))
    finally:
        if lib.sim_pcap_writer_close(w) != 0:
            raise TernIOError(f"write_pcap({str(p)!r}): flushing failed")
    return p


def parsed(frames: Iterable[tuple[int, bytes]]) -> list[tuple[int, object]]:
    """``(time_ns, scapy Ether)`` pairs from ``(time_ns, bytes)`` pairs."""
    from ._scapy import scapy

    Ether = scapy().Ether
    return [(t, Ether(b)) for t, b in frames]


__all__ = ["read_pcap", "write_pcap", "parsed"]
