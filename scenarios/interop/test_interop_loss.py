"""tern-httpd sends 10 MiB to curl (the kernel's TCP) through 15 % frame loss, and through 15 % corruption.

Issue 22: under 15 % drop the Tern sender spent most of its time in backed-off retransmission timeouts and did
not finish 10 MiB in 120 s. The example's link drops (or flips one bit in) 15 % of the frames in each direction
(examples/common.c --drop-chance / --corrupt-chance, seeded); curl downloads the file and the test checks every
byte (SHA-256). The issue's goal, 30 s, came from the kernel sending with BBR on the same link (1.2 s drop,
0.3 s corruption; 296.7 s / unfinished with CUBIC, docs/tcp-loss-vs-linux.md): tern-httpd with
``--congestion bbr`` must meet it. The examples' default congestion control (NewReno) keeps its row with a
generous limit: random loss collapses a loss-based window, so its time is set by retransmission timeouts. The
test runs in real time with the other core possibly busy; the time each transfer took is printed.
"""

from __future__ import annotations

import hashlib
import random
import select
import subprocess
import time
from pathlib import Path

import pytest

from pyharness.netns import NetNamespace

from .test_interop_examples import TERN_IP, _wait_ready, example, tapns  # noqa: F401 (tapns is a fixture)

SIZE = 10 * 1024 * 1024
#: seconds per congestion control: BBR has the issue's goal (it takes about 1 s); NewReno ten times that
LIMIT_S = {"bbr": 30, "newreno": 300}


def _connection_stats(srv: subprocess.Popen, wait_s: float = 5.0) -> str:
    """The server's "connection done" line (its loss-recovery counters), printed when curl's connection closes;
    for the record only, so a server that has not printed it within ``wait_s`` gives an empty string."""
    deadline = time.monotonic() + wait_s
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([srv.stderr], [], [], left)
        if not ready:
            break
        line = srv.stderr.readline()
        if not line:
            break
        if "connection done" in line:
            return line.strip()
    return ""


@pytest.mark.parametrize("fault", ["drop", "corrupt"])
@pytest.mark.parametrize("cc", ["bbr", "newreno"])
def test_httpd_sends_10_mib_through_15_percent_faults(tapns: NetNamespace, tmp_path: Path, fault: str,
                                                      cc: str) -> None:
    root = tmp_path / "www"
    root.mkdir()
    body = random.Random(22).randbytes(SIZE)
    (root / "blob.bin").write_bytes(body)
    srv = tapns.popen([str(example("tern-httpd")), "--tap", "tap0", "--port", "8080", "--root", str(root),
                       f"--{fault}-chance", "15", "--seed", "22", "--congestion", cc], text=True)
    _wait_ready(srv, "tern-httpd")
    out = tmp_path / "got"
    t0 = time.monotonic()
    # --connect-timeout: the SYN and SYN-ACK see the faults too (1 s, 2 s, 4 s... retries)
    r = tapns.run(["curl", "-sS", "--fail", "--connect-timeout", "60", "--max-time", str(LIMIT_S[cc]),
                   "-o", str(out), f"http://{TERN_IP}:8080/blob.bin"], timeout=LIMIT_S[cc] + 30)
    took = time.monotonic() - t0
    stats = _connection_stats(srv)
    srv.kill()
    print(f"tern-httpd ({cc}) -> curl, 10 MiB, {fault} 15 %: {took:.1f} s; {stats}")
    assert r.returncode == 0, f"curl failed after {took:.1f} s: {r.stderr}"
    assert out.stat().st_size == SIZE
    assert hashlib.sha256(out.read_bytes()).hexdigest() == hashlib.sha256(body).hexdigest()
