"""BENCH tap_tcp_gbps_reader / tap_tcp_gbps_writer: TCP throughput between a Tern host and the Linux kernel over TAP.

The measurement of smoltcp's benchmark example (which publishes 2.6 and 5.3
Gbit/s on its reference laptop): examples/benchmark.c runs a Tern host in
real time on a TAP interface inside a network namespace made for the run;
"reader" is a kernel socket reading what the Tern host writes, "writer" a
kernel socket writing what the Tern host reads. Figures only: a machine
without the privileges (or without the example built) prints why and exits 0.

usage: python bench/bench_tap.py [--amount BYTES] [--binary PATH]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pyharness.netns import NetNamespace, unavailable  # noqa: E402


def find_binary() -> Optional[Path]:
    """The built tern-benchmark: the Release bench build first, then any build directory."""
    for cand in [ROOT / "build" / "bench" / "examples" / "tern-benchmark", *sorted(ROOT.glob("build*/**/examples/tern-benchmark"))]:
        if cand.is_file():
            return cand
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--amount", type=int, default=1_000_000_000, help="bytes per run (smoltcp: 1e9)")
    ap.add_argument("--binary", type=Path, default=None)
    ap.add_argument("--runs", type=int, default=5, help="runs per direction (median; default 5)")
    args = ap.parse_args()
    reason = unavailable()
    if reason:
        print(f"bench_tap: skipped: {reason}")
        return 0
    binary = args.binary or find_binary()
    if binary is None:
        print("bench_tap: skipped: examples/tern-benchmark is not built (cmake -DTERN_BUILD_EXAMPLES=ON)")
        return 0
    for mode in ("reader", "writer"):
        runs = []
        for _ in range(max(args.runs, 1)):
            with NetNamespace() as ns:
                ns.ip("tuntap", "add", "name", "tap0", "mode", "tap")
                ns.ip("link", "set", "tap0", "up")
                ns.ip("addr", "add", "192.168.69.100/24", "dev", "tap0")
                r = ns.run([str(binary), "--tap", "tap0", "--amount", str(args.amount), mode], timeout=300)
            m = re.search(r"throughput: ([\d.]+) Gbit/s", r.stdout)
            if r.returncode != 0 or not m:
                print(f"bench_tap: {mode} failed (status {r.returncode}): {r.stdout}{r.stderr}")
                break
            runs.append(float(m.group(1)))
        if runs:
            print(f"BENCH tap_tcp_gbps_{mode} {statistics.median(runs):.3f} Gbit/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
