"""Extract the uncompressed ELF vmlinux from a bzImage (what the kernel's scripts/extract-vmlinux
does, for the compressions Debian uses): find each compressed stream's magic, decompress it, and keep
the first result that is an ELF file. Exit status 1 when none is found."""

from __future__ import annotations

import gzip
import lzma
import sys
import zlib


def candidates(data: bytes):
    magics = [(b"\xfd7zXZ\x00", "xz"), (b"\x1f\x8b\x08", "gzip"), (b"\x28\xb5\x2f\xfd", "zstd")]
    for magic, kind in magics:
        start = 0
        while (i := data.find(magic, start)) >= 0:
            yield kind, i
            start = i + 1


def decompress(kind: str, blob: bytes) -> bytes:
    if kind == "xz":
        return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(blob)
    if kind == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(blob)
    raise ValueError(kind)


def main() -> int:
    src, dst = sys.argv[1], sys.argv[2]
    data = open(src, "rb").read()
    for kind, off in candidates(data):
        try:
            out = decompress(kind, data[off:])
        except (lzma.LZMAError, zlib.error, gzip.BadGzipFile, ValueError, EOFError):
            continue
        if out[:4] == b"\x7fELF":
            open(dst, "wb").write(out)
            return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
