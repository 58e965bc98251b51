#!/usr/bin/env python3
"""Regenerate the seed corpus of fuzz_tcp (fuzz/corpus/tcp/).

Each seed is a conversation in fuzz_tcp.c's record format (read its header
comment): long ones (hundreds of data segments, with time passing, reads,
writes, losses and SACKs) so that the fuzzer starts from deep states instead
of one or two records, and segments from the host's own address.

    python3 fuzz/make_tcp_corpus.py
"""
import struct
from pathlib import Path

OUT = Path(__file__).resolve().parent / "corpus" / "tcp"


def seg(m=0, seq_off=None, ack_off=None, flags=None, window=16000, fin=False, psh=False,
        nsack=0, sacks=(), plen8=0, src_port=None, xor=b""):
    """One segment record; plen8 is the payload length in units of 8 bytes."""
    op = (0x01 if fin else 0) | (0x08 * nsack) | (0x02 if psh else 0)
    if seq_off is not None:
        m |= 1
    if ack_off is not None:
        m |= 2
    if flags is not None:
        m |= 4
    if src_port is not None:
        m |= 64
    if xor:
        m |= 32
    out = bytes([op, m])  # op % 8 in 0..3: a segment
    assert out[0] % 8 < 4
    if seq_off is not None:
        out += struct.pack(">h", seq_off)
    if ack_off is not None:
        out += struct.pack(">h", ack_off)
    if flags is not None:
        out += bytes([flags])
    out += struct.pack(">H", window)
    if src_port is not None:
        out += struct.pack(">H", src_port)
    for k in range(nsack):
        left, length = sacks[k] if k < len(sacks) else (0, 0)
        out += struct.pack(">HH", left, length)
    out += bytes([plen8])
    if xor:
        out += bytes([len(xor)]) + xor
    return out


def time(ms=0, s=0):
    return bytes([0x04 | (0x08 if s else 0)]) + struct.pack(">H", s or ms)


def user(send=0, recv=0):
    return bytes([0x05]) + struct.pack(">HH", send, recv)


def close(which_accepted=True):
    return bytes([0x06, (1 if which_accepted else 0) | (1 << 1)])


def shutdown_write():
    return bytes([0x06, 1 | (0 << 1) | (1 << 4)])


def seeds():
    hs = seg()  # the ACK that completes the handshake
    bulk = b"".join(seg(plen8=125) for _ in range(6)) + user(0, 4000)
    yield "long_bulk_in", hs + b"".join(
        seg(plen8=125, psh=True) + (user(0, 4095) if k % 4 == 3 else b"") + (time(ms=50) if k % 8 == 7 else b"")
        for k in range(300)) + time(s=1)
    yield "long_echo", hs + b"".join(seg(plen8=16) + user(128, 128) + time(ms=40) for _ in range(200))
    yield "loss_and_sack", hs + user(4000, 0) + bulk + b"".join(
        seg(seq_off=1000 * (k + 1), plen8=125, nsack=1, sacks=[(0, 1000)]) for k in range(4)) + seg(plen8=125) + time(s=2)
    yield "zero_window", hs + user(4000, 0) + seg(window=0) + time(s=5) + time(s=30) + seg(window=16000) + time(s=1)
    yield "rto_storm", hs + user(4095, 0) + time(s=1) + time(s=3) + time(s=7) + time(s=15) + seg() + time(s=60)
    yield "close_both", hs + seg(plen8=10) + user(100, 200) + shutdown_write() + seg(fin=True) + time(s=1) + close()
    yield "own_source", hs + seg(src_port=4000, flags=0x02) + seg(src_port=81, flags=0x02) + time(ms=10) + seg(plen8=4)
    yield "rst_in_window", hs + seg(plen8=20) + seg(flags=0x14) + time(s=1)
    yield "syn_in_established", hs + seg(flags=0x02) + time(s=1) + seg()
    yield "xor_header", hs + b"".join(seg(plen8=8, xor=bytes([0, 0, 0, 0, 0, 0, 0, k]) ) for k in range(1, 40)) + user(0, 4000)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in seeds():
        (OUT / f"{name}.bin").write_bytes(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
