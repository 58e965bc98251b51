"""The ``pyharness`` command.

    pyharness demo [--out DIR] [--seed N] [--count N]

(``run``, ``show`` and ``plot`` arrive with the full API.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``pyharness`` console script."""
    ap = argparse.ArgumentParser(prog="pyharness", description="Tern's deterministic network lab.")
    sub = ap.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the bundled demonstration scenario and write its pcaps")
    demo.add_argument("--out", type=Path, default=Path("out/demo"), help="directory for the pcaps (default: out/demo)")
    demo.add_argument("--seed", type=int, default=42, help="simulation seed (default: 42)")
    demo.add_argument("--count", type=int, default=50, help="number of pings (default: 50)")
    args = ap.parse_args(argv)

    if args.command == "demo":
        from .demo import run_demo

        run_demo(out=args.out, seed=args.seed, count=args.count)
        return 0
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
