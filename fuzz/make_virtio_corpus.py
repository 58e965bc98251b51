"""Write the seed corpus of fuzz_virtio (fuzz/corpus/virtio): well-formed rings of each kind, so the
fuzzer starts from chains the device accepts (see fuzz_virtio.c for the input layout)."""

from __future__ import annotations

import struct
from pathlib import Path

GPA = 0x10000
OUT = Path(__file__).parent / "corpus" / "virtio"


def image(descs, heads, used=(), ind=()):
    mem = bytearray(0x1200)
    for i, (addr, ln, flags, nxt) in enumerate(descs):
        mem[16 * i:16 * i + 16] = struct.pack("<QIHH", addr, ln, flags, nxt)
    struct.pack_into("<HH", mem, 0x100, 0, len(heads))
    for i, h in enumerate(heads):
        struct.pack_into("<H", mem, 0x104 + 2 * i, h)
    struct.pack_into("<HH", mem, 0x140, 0, len(used))
    for i, (ident, ln) in enumerate(used):
        struct.pack_into("<II", mem, 0x144 + 8 * i, ident, ln)
    for i, (addr, ln, flags, nxt) in enumerate(ind):
        struct.pack_into("<QIHH", mem, 0x1000 + 16 * i, addr, ln, flags, nxt)
    return bytes(mem)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    buf = GPA + 0x200
    seeds = {
        "single": (3, 0, image([(buf, 64, 0, 0)], [0])),
        "chain": (3, 1, image([(buf, 12, 1, 1), (buf + 64, 100, 1 | 2, 2), (buf + 200, 100, 2, 0)], [0], used=[(0, 50)])),
        "indirect": (3, 2, image([(GPA + 0x1000, 32, 4, 0)], [0], ind=[(buf, 12, 1, 1), (buf + 64, 200, 2, 0)])),
        "rx-mrg": (4, 5, image([(buf + 128 * i, 128, 2, 0) for i in range(16)], list(range(16)))),
        "full": (2, 1, image([(buf + 64 * i, 64, 2, 0) for i in range(4)], [3, 2, 1, 0], used=[(1, 8), (0, 8)])),
    }
    for name, (size_code, feat, mem) in seeds.items():
        (OUT / name).write_bytes(bytes([size_code, feat]) + mem)


if __name__ == "__main__":
    main()
