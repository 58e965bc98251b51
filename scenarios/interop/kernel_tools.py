"""The kernel's tools in a test's namespace, waited on for what they report rather than for a fixed time.

The example programs and the kernel's tools are separate processes on a machine that may be busy: any of them
can be held up for a fraction of a second at any moment. So a test never stops a tool after a fixed pause
and never relies on a tool's own short grace period:

- :func:`ns_ping` runs iputils ping in deadline mode (``-w``). Without it, ping waits after its last request
  only max(2 x the largest round trip so far, the interval) once a reply has come (iputils ping_common.c), so
  a reply held up by a loaded machine was reported lost ("1 received" of 2).
- :class:`IperfServer` reads iperf 2's CSV lines (``-y C``) as the server writes them, and a test waits until
  the rows it needs have come before stopping the server: iperf's reporter writes a connection's row after
  the connection has ended, on its own time.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import time
from dataclasses import dataclass
from typing import Optional

from pyharness.netns import NetNamespace

#: iperf 2's CSV rows (``-y C``) start with a 14-digit timestamp.
CSV_ROW = re.compile(r"^\d{14},")


@dataclass
class NsPing:
    """What iputils ping reported (the summary line), and its whole output."""

    status: int
    transmitted: int
    received: int
    output: str


def ns_ping(ns: NetNamespace, address: str, count: int, interval: float = 0.2, size: Optional[int] = None,
            deadline: int = 15, ipv6: bool = False) -> NsPing:
    """The kernel pings ``address`` from ``ns`` until ``count`` replies came or ``deadline`` seconds passed.

    Deadline mode: ping sends a request every ``interval`` until ``count`` replies arrived (it ends as soon as
    they have), so ``transmitted`` may exceed ``count`` when a reply was late; ``received`` may too (ping reads
    every reply already queued). Status 0 means ``count`` replies came in time.
    """
    argv = ["ping", *(["-6"] if ipv6 else []), "-n", "-c", str(count), "-i", str(interval), "-w", str(deadline),
            *(["-s", str(size)] if size is not None else []), address]
    r = ns.run(argv, timeout=deadline + 15)
    out = r.stdout + r.stderr
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    assert m, f"{' '.join(argv)}: no summary line\n{out}"
    return NsPing(r.returncode, int(m.group(1)), int(m.group(2)), out)


class IperfServer:
    """``iperf -s -y C [extra]`` in ``ns``: its CSV rows read as they come, the server stopped when asked.

    ``ready`` waits until the kernel has the port bound (``ss``), so a client started next finds it.
    """

    def __init__(self, ns: NetNamespace, *extra: str, udp: bool = False, port: int = 5001):
        self.ns = ns
        self.udp = udp
        self.port = port
        self.proc = ns.popen(["iperf", "-s", *(["-u"] if udp else []), "-y", "C", *extra], text=True)
        self.lines: list[str] = []
        self._buf = ""

    def ready(self, timeout: float = 20.0) -> "IperfServer":
        """Wait until the port is bound; fails naming the port after ``timeout`` seconds."""
        flag = "-lnHu" if self.udp else "-lnHt"
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.ns.run(["ss", flag, "sport", f"= :{self.port}"]).stdout.strip():
                return self
            assert self.proc.poll() is None, f"iperf -s ended: {self.proc.communicate()}"
            time.sleep(0.05)
        raise AssertionError(f"iperf -s did not bind {'udp' if self.udp else 'tcp'} {self.port} within {timeout} s")

    def rows(self) -> list[list[str]]:
        """The CSV rows read so far, split into fields."""
        return [ln.split(",") for ln in self.lines if CSV_ROW.match(ln)]

    def wait_rows(self, n: int, timeout: float = 20.0) -> list[list[str]]:
        """Read the server's output until it has written ``n`` CSV rows; fails after ``timeout`` seconds
        with what it wrote. Returns the rows (all of them, possibly more than ``n``)."""
        end = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while len(self.rows()) < n:
            left = end - time.monotonic()
            assert left > 0, f"iperf -s wrote {len(self.rows())} CSV rows of {n} within {timeout} s:\n" + \
                "\n".join(self.lines) + self._buf
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            chunk = os.read(fd, 65536).decode()
            assert chunk, "iperf -s ended before writing its rows:\n" + "\n".join(self.lines) + self._buf
            self._buf += chunk
            *done, self._buf = self._buf.split("\n")
            self.lines += done
        return self.rows()

    def stop(self) -> str:
        """Stop the server (SIGTERM) and return everything it wrote to standard error."""
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err or ""
