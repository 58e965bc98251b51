"""Write the demo guest's initramfs: a gzip'd cpio archive in the kernel's "newc" format.

Written here (not with cpio(1)) because the machines this runs on do not all have cpio; the
format is the one the kernel documents in Documentation/driver-api/early-userspace/buffer-format.rst:
each entry is a 110-byte ASCII header ("070701", 13 eight-digit hex fields), the NUL-terminated name,
padding to 4 bytes, the data, padding to 4 bytes; the archive ends with "TRAILER!!!".
"""

from __future__ import annotations

import argparse
import gzip
import os
import stat
from pathlib import Path

APPLETS = ["sh", "mount", "insmod", "ip", "ping", "poweroff", "sleep", "cat", "echo", "nc", "printf", "sed", "ls", "ifconfig",
           "dmesg", "sync", "mkdir", "uname", "true"]


class Cpio:
    """A newc archive being written (uid/gid 0, mtime 0: the same input gives the same bytes)."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.ino = 1

    def _entry(self, name: str, mode: int, data: bytes = b"", nlink: int = 1) -> None:
        nb = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(nb), 0]
        self.ino += 1
        self.buf += b"070701" + b"".join(b"%08X" % f for f in fields) + nb
        self.buf += b"\0" * (-len(self.buf) % 4)
        self.buf += data
        self.buf += b"\0" * (-len(self.buf) % 4)

    def dir(self, name: str) -> None:
        self._entry(name, stat.S_IFDIR | 0o755, nlink=2)

    def file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name: str, target: str) -> None:
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def node(self, name: str, mode: int, major: int, minor: int) -> None:
        nb = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, 1, 0, 0, 0, 0, major, minor, len(nb), 0]
        self.ino += 1
        self.buf += b"070701" + b"".join(b"%08X" % f for f in fields) + nb
        self.buf += b"\0" * (-len(self.buf) % 4)

    def finish(self) -> bytes:
        self._entry("TRAILER!!!", 0, nlink=1)
        self.buf += b"\0" * (-len(self.buf) % 512)
        return bytes(self.buf)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--busybox", required=True)
    ap.add_argument("--init", required=True)
    ap.add_argument("--modules", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    c = Cpio()
    for d in ["bin", "sbin", "dev", "proc", "sys", "tmp", "lib", "lib/modules", "etc"]:
        c.dir(d)
    c.node("dev/console", stat.S_IFCHR | 0o600, 5, 1)
    c.node("dev/null", stat.S_IFCHR | 0o666, 1, 3)
    c.file("bin/busybox", Path(a.busybox).read_bytes(), 0o755)
    for app in APPLETS:
        c.symlink(f"bin/{app}", "busybox")
    c.file("init", Path(a.init).read_bytes(), 0o755)
    mods = Path(a.modules)
    for m in sorted(mods.glob("*.ko")) if mods.is_dir() else []:
        c.file(f"lib/modules/{m.name}", m.read_bytes())
    # gzip with mtime 0: reproducible
    with open(a.out, "wb") as f:
        f.write(gzip.compress(c.finish(), mtime=0))
    os.chmod(a.out, 0o644)


if __name__ == "__main__":
    main()
