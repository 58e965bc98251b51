#!/usr/bin/env python3
"""Tern's bulk TCP figure beside smoltcp's and lwIP's, measured side by side (make bench-peers).

Each round runs the programs at both buffer sizes, in an order that rotates from round to round and is
reversed every second block of rounds (``balanced_order``), so that every stack sees the same machine load
and runs in every position equally often, each pair of neighbours in both orders; the medians over
the rounds are printed as ``BENCH tcp_bulk_gbps_<stack>_<size>``, and the load average before and after (a figure from a busy
machine is noisy; the ratios of interleaved rounds much less so). Two pairs of ratios:

- copying APIs: ``BENCH tcp_bulk_ratio_<peer>_<size>`` = Tern (``tern_tcp_send`` / a posted read into the
  application's buffer, ``tern_tcp_recv_post``; ``tern_tcp_recv`` until session 10) over the peer with its copying calls (smoltcp ``send_slice`` / ``recv_slice``; lwIP ``tcp_write``
  with copy and ``pbuf`` reads), the figure earlier sessions compared;
- best APIs: ``BENCH tcp_bulk_ratio_best_smoltcp_<size>`` = Tern's zero-copy calls (``tern_tcp_lend``
  / ``tern_tcp_recv_peek``, the ``tern_zc`` figures) over smoltcp's in-place calls (``send(|buf|)`` /
  ``recv(|buf|)``, the ``smoltcp_zc`` figures).

Every program checks every byte it receives and fails the run on a mismatch, which fails this script.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SIZES = {"64k": 65536, "1m": 1048576}


def commands(build: Path) -> dict[str, dict[str, list[str]]]:
    """The command line of each stack's program at each buffer size."""
    smol = ROOT / "bench/peers/smoltcp/target/release/bench-smoltcp"
    lwip = ROOT / "bench/peers/lwip/build"
    tern = str(build / "bench/bench_tcp")
    return {
        "tern": {s: [tern, "1", "peer", str(b), "copy"] for s, b in SIZES.items()},
        "smoltcp": {s: [str(smol), str(BYTES), str(b), "copy"] for s, b in SIZES.items()},
        "lwip": {s: [str(lwip / f"bench-lwip-{s}"), str(BYTES)] for s in SIZES},
        "tern_zc": {s: [tern, "1", "peer", str(b), "zerocopy"] for s, b in SIZES.items()},
        "smoltcp_zc": {s: [str(smol), str(BYTES), str(b), "zerocopy"] for s, b in SIZES.items()},
    }


BYTES = 400 << 20


def run(cmd: list[str], name: str) -> float:
    """One run: its Gbit per CPU second (the line named `name`), or exit on a failure."""
    env = dict(os.environ, TERN_BENCH_BYTES=str(BYTES))
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    m = re.search(rf"^BENCH {name} ([0-9.]+) Gbit/s$", p.stdout, re.M)
    if p.returncode != 0 or not m:
        sys.exit(f"bench_peers: {' '.join(cmd)} failed (exit {p.returncode}): {p.stderr.strip()}")
    return float(m.group(1))


def balanced_order(stacks: list[str], r: int) -> list[str]:
    """Round r's order: the list rotated by r, and reversed in every second block of len(stacks) rounds.

    The program that runs first in a pair of back-to-back runs is favoured by 3-4 % on this machine (two
    builds of equal speed, measured in both orders: docs/performance.md, branch rx19), so every stack must
    run in every position equally often, and a stack that runs right after another must also run right
    before it as often: over each 2 * len(stacks) rounds (10 for the five programs) both hold exactly.
    """
    k = r % len(stacks)
    order = stacks[k:] + stacks[:k]
    return order[::-1] if (r // len(stacks)) % 2 else order


def main() -> None:
    """Parse the arguments, run the rounds, print the medians and ratios."""
    global BYTES
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20,
                    help="interleaved rounds (default 20; a multiple of 10 puts every stack in every position equally)")
    ap.add_argument("--bytes", type=int, default=BYTES, help="bytes per transfer (default 400 MiB)")
    ap.add_argument("--build", type=Path, default=ROOT / "build/bench", help="Tern's bench build")
    args = ap.parse_args()
    if args.rounds < 1 or args.bytes < 1:
        ap.error("--rounds and --bytes must be positive")
    BYTES = args.bytes
    cmds = commands(args.build)
    stacks = list(cmds)
    results: dict[tuple[str, str], list[float]] = {(st, s): [] for st in stacks for s in SIZES}
    load0 = os.getloadavg()
    for r in range(args.rounds):
        order = balanced_order(stacks, r)
        for s in SIZES:
            for st in order:
                results[st, s].append(run(cmds[st][s], f"tcp_bulk_gbps_{st}_{s}"))
    load1 = os.getloadavg()
    med = {k: statistics.median(v) for k, v in results.items()}
    for s in SIZES:
        for st in stacks:
            print(f"BENCH tcp_bulk_gbps_{st}_{s} {med[st, s]:.2f} Gbit/s")
    for s in SIZES:
        for peer in ("smoltcp", "lwip"):  # copying APIs on both sides
            print(f"BENCH tcp_bulk_ratio_{peer}_{s} {med['tern', s] / med[peer, s]:.3f} x")
    for s in SIZES:  # each stack's best API: Tern's zero-copy calls, smoltcp's in-place ones
        print(f"BENCH tcp_bulk_ratio_best_smoltcp_{s} {med['tern_zc', s] / med['smoltcp_zc', s]:.3f} x")
    for st in stacks:
        print(f"BENCH tcp_bulk_drop_{st}_1m_vs_64k {100 * (1 - med[st, '1m'] / med[st, '64k']):.1f} %")
    print(
        f"# {args.rounds} rounds of {BYTES} bytes; load average {load0[0]:.2f} before, "
        f"{load1[0]:.2f} after"
    )


if __name__ == "__main__":
    main()
