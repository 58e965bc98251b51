"""examples/tern-zperf inside a simulation (--sim-rate): client and server on two Tern hosts.

No TAP: the upload runs from host "client" (10.0.0.1, fd00::1) to the zperf server on host
"server" (10.0.0.2, fd00::2) over one simulated link of the given rate and 1 ms each way,
in virtual time. Both ends print their result line; the figures are virtual-time figures,
the same to the byte for the same seed, and checked exactly here.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _program() -> Path:
    env = os.environ.get("TERN_EXAMPLES_DIR")
    first = [Path(env) / "tern-zperf"] if env else []
    for cand in [*first, ROOT / "build" / "examples" / "tern-zperf",
                 *sorted(ROOT.glob("build*/**/examples/tern-zperf"))]:
        if cand.is_file() and os.access(cand, os.X_OK):
            return cand
    pytest.skip("examples/tern-zperf is not built (cmake -DTERN_BUILD_EXAMPLES=ON)")


def _zperf(*args: str) -> list[str]:
    r = subprocess.run([str(_program()), "--sim-rate", "10000000", "--time", "2", *args],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def test_tcp_ipv4_exact_figures() -> None:
    """TCP over IPv4 at 10 Mbit/s for 2 s of virtual time: both ends count the same bytes.

    2752512 bytes = 21 writes of 128 KiB, queued while the 2 s lasted; the server sees the
    stream from the handshake to the client's FIN, the client until the server's FIN.
    """
    assert _zperf("tcp", "upload", "10.0.0.2") == [
        "zperf: tcp download from 10.0.0.1:51017: 2752512 bytes in 2.302 s, 9564 kbit/s",
        "zperf: tcp upload to 10.0.0.2:5001: 2752512 bytes in 2.304 s, 9555 kbit/s",
    ]


def test_tcp_ipv6_exact_figures() -> None:
    """The same over IPv6: 20 bytes more of IP header per segment, one write fewer fits."""
    assert _zperf("tcp", "upload", "fd00::2") == [
        "zperf: tcp download from [fd00::1]:51017: 2621440 bytes in 2.223 s, 9431 kbit/s",
        "zperf: tcp upload to [fd00::2]:5001: 2621440 bytes in 2.225 s, 9422 kbit/s",
    ]


def test_udp_ipv6_exact_figures() -> None:
    """UDP at 5 Mbit/s for 2 s: 850 datagrams of 1470 bytes, paced; none lost on a clean link,
    jitter 0 (virtual time has none); the server report comes back to the client."""
    assert _zperf("--bandwidth", "5000000", "udp", "upload", "fd00::2") == [
        "zperf: udp upload to [fd00::2]:5001: 1249500 bytes, 850 datagrams in 2.000 s",
        "zperf: udp download from [fd00::1]:51017: 1249500 bytes, 850 datagrams, 0 lost, "
        "0 out of order, jitter 0 us, in 1.994 s",
        "zperf: server report: 1249500 bytes, 850 datagrams, 0 lost, 0 out of order, jitter 0 us",
    ]


def test_udp_loss_counted_and_reported() -> None:
    """With 5 % loss each way the server counts the gaps, and its report says the same."""
    lines = _zperf("--bandwidth", "5000000", "--drop-chance", "5", "--seed", "4",
                   "udp", "upload", "10.0.0.2")
    up = re.fullmatch(r"zperf: udp upload to 10\.0\.0\.2:5001: (\d+) bytes, (\d+) datagrams in 2\.000 s",
                      lines[0])
    down = re.fullmatch(r"zperf: udp download from 10\.0\.0\.1:\d+: (\d+) bytes, (\d+) datagrams, "
                        r"(\d+) lost, 0 out of order, jitter 0 us, in \S+ s", lines[1])
    assert up and down, lines
    sent, got, lost = int(up[2]), int(down[2]), int(down[3])
    assert sent == 850 and lost > 0 and got + lost == sent
    assert lines[2] == (f"zperf: server report: {int(down[1])} bytes, {sent} datagrams, {lost} lost, "
                        "0 out of order, jitter 0 us")


def test_same_seed_same_figures_other_seed_other_port() -> None:
    """Determinism: a run is repeated exactly; another seed picks another ephemeral port."""
    a = _zperf("--drop-chance", "5", "--seed", "3", "tcp", "upload", "10.0.0.2")
    assert a == _zperf("--drop-chance", "5", "--seed", "3", "tcp", "upload", "10.0.0.2")
    b = _zperf("--drop-chance", "5", "--seed", "8", "tcp", "upload", "10.0.0.2")
    assert a != b


def test_sim_needs_an_upload() -> None:
    """--sim-rate runs both ends, so it needs 'upload ADDRESS'; the message says so."""
    r = subprocess.run([str(_program()), "--sim-rate", "10000000", "tcp", "download"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "--sim-rate: give 'upload ADDRESS'" in r.stderr
