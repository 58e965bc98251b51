"""examples/tern-tcpdump --sim-pings: the frames of a Tern host read from its packet socket
(AF_PACKET through the sockets layer, tern/packet.h) inside a simulation, decoded by the same
line printer as on a host interface, each after its virtual time. No privileges needed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _program() -> Path:
    env = os.environ.get("TERN_EXAMPLES_DIR")
    first = [Path(env) / "tern-tcpdump"] if env else []
    for cand in [*first, ROOT / "build" / "examples" / "tern-tcpdump",
                 *sorted(ROOT.glob("build*/**/examples/tern-tcpdump"))]:
        if cand.is_file() and os.access(cand, os.X_OK):
            return cand
    pytest.skip("examples/tern-tcpdump is not built (cmake -DTERN_BUILD_EXAMPLES=ON)")


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(_program()), *args], capture_output=True, text=True, timeout=30)


A, B = "02:00:00:00:00:01", "02:00:00:00:00:02"


def test_two_pings_frame_by_frame_at_virtual_times() -> None:
    """b pings a at 0 s and 1 s over a 1 ms link: ARP both ways first (a learns b from the
    request, so its reply needs no request of its own), then each echo request in and a's reply
    out at the instant it came."""
    r = _run("--sim-pings", "2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        f"0.001000 in {B} > ff:ff:ff:ff:ff:ff ARP request who-has 10.0.0.1 tell 10.0.0.2",
        f"0.001000 out {A} > {B} ARP reply 10.0.0.1 is-at {A}",
        f"0.003000 in {B} > {A} IPv4 10.0.0.2 > 10.0.0.1 ICMP echo request id 32343 seq 1 len 56",
        f"0.003000 out {A} > {B} IPv4 10.0.0.1 > 10.0.0.2 ICMP echo reply id 32343 seq 1 len 56",
        f"1.001000 in {B} > {A} IPv4 10.0.0.2 > 10.0.0.1 ICMP echo request id 32343 seq 2 len 56",
        f"1.001000 out {A} > {B} IPv4 10.0.0.1 > 10.0.0.2 ICMP echo reply id 32343 seq 2 len 56",
    ]
    assert _run("--sim-pings", "2").stdout == r.stdout  # same seed, same lines


def test_count_and_bad_usage() -> None:
    r = _run("--count", "3", "--sim-pings", "5")
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 3
    r = _run("--sim-pings", "0")
    assert r.returncode == 2 and "--sim-pings '0': not an integer in 1..1000" in r.stderr
    r = _run("--sim-pings", "1", "eth0")
    assert r.returncode == 2 and "--sim-pings takes no IFNAME ('eth0')" in r.stderr
