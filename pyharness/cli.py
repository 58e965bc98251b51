"""The ``pyharness`` command.

    pyharness run [PATHS...] [--seed N] [--out DIR] [--dut tern|linux|NAME|module:Class]
                  [--compare-with TERN-JUNIT [--differences DOC]] [-- PYTEST ARGS]
    pyharness show FILE.pcap [--absolute-seq] [--mask KEY ...]
    pyharness plot FILE.pcap -o FILE.png
    pyharness demo [--out DIR] [--seed N] [--count N]
    pyharness pkt FILE.pkt... [--dut tern|linux] [--seed N] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


#: The conformance areas run against Linux (scenarios/interop already runs Tern against the kernel).
LINUX_DEFAULT_PATHS = [f"scenarios/{a}" for a in ("arp", "ethernet", "ipv4", "icmp", "udp", "tcp")]


#: pip's editable install imports pyharness before pytest could rewrite it; harmless, and noise to a user.
EDITABLE_WARNING = "ignore:Module already imported so cannot be rewritten:pytest.PytestAssertRewriteWarning"


def _run(args: argparse.Namespace, extra: list[str]) -> int:
    import pytest

    from .report import ReportPlugin

    if args.dut not in ("tern", "linux"):
        from .duts import load_dut
        from .errors import ConfigError

        try:
            load_dut(args.dut)
        except ConfigError as e:
            print(f"pyharness run: --dut: {e}", file=sys.stderr)
            return 4
    # `pyharness pkt` runs through here too, without these options.
    compare_with, differences_doc = getattr(args, "compare_with", None), getattr(args, "differences", None)
    if compare_with is not None and not compare_with.is_file():
        print(f"pyharness run: --compare-with: no such file {compare_with} (give the junit.xml of a Tern run, "
              f"e.g. out/junit.xml from 'make run')", file=sys.stderr)
        return 4
    if differences_doc is not None and not differences_doc.is_file():
        print(f"pyharness run: --differences: no such file {differences_doc}", file=sys.stderr)
        return 4
    if compare_with is not None and differences_doc is None and Path(f"docs/{args.dut}-differences.md").is_file():
        differences_doc = Path(f"docs/{args.dut}-differences.md")
    paths = args.paths or (["scenarios"] if args.dut == "tern" else LINUX_DEFAULT_PATHS)
    missing = [p for p in paths if not Path(p.split("::")[0]).exists()]
    if missing:
        print(f"pyharness run: no such path: {', '.join(missing)}", file=sys.stderr)
        return 4
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    # On a terminal pytest's own progress is enough; in a log (CI) each area also gets one line as it
    # completes, and pytest counts tests instead of percentages.
    tty = sys.stdout.isatty()
    plugin = ReportPlugin(out=out, seed=args.seed, progress=not tty, dut=args.dut, compare_with=compare_with,
                          differences_doc=differences_doc)
    if not tty:
        extra = ["-o", "console_output_style=count", *extra]
    # Every option value is glued to its option ("--artifacts=DIR"): pytest picks its rootdir before our
    # plugin's options are known, so a separate word that names an existing folder would count as a test
    # path and move the rootdir (and with it the golden traces) on the second run.
    pytest_args = [*paths, f"--seed={args.seed}", f"--dut={args.dut}", f"--artifacts={out / 'artifacts'}",
                   "--keep-artifacts", f"--junitxml={out / 'junit.xml'}", "-W", EDITABLE_WARNING, *extra]
    rc = int(pytest.main(pytest_args, plugins=[plugin]))
    if plugin.results:
        print()
        print(f"pyharness run (seed {args.seed}, DUT {args.dut}):")
        for line in plugin.summary_lines():
            print("  " + line)
        failed = [r for r in plugin.results.values() if r.outcome == "failed"]
        for r in failed[:20]:
            print(f"  FAILED {r.nodeid}" + (f" (RFC {r.rfc})" if r.rfc else ""))
        if len(failed) > 20:
            print(f"  ... and {len(failed) - 20} more failures (see the report)")
    print(f"pyharness run: report {out / 'report.md'} and {out / 'report.html'}, junit {out / 'junit.xml'}, "
          f"pcaps under {out / 'artifacts'}/")
    return rc


def _pkt(args: argparse.Namespace, extra: list[str]) -> int:
    """Run packetdrill scripts: each file is a pytest item (pyharness/pkt/collect.py), with seeds and artifacts."""
    bad = [str(p) for p in args.scripts if p.suffix != ".pkt" or not p.is_file()]
    if bad:
        print(f"pyharness pkt: not a .pkt script: {', '.join(bad)}", file=sys.stderr)
        return 4
    args.paths = [str(p) for p in args.scripts]
    return _run(args, extra)


def read_events(pcap: Path) -> dict[int, list[str]]:
    """What the link did to each frame of a capture (frame number from 1 -> events), from ``<pcap>.events``."""
    events: dict[int, list[str]] = {}
    path = Path(f"{pcap}.events")
    if path.exists():
        for line in path.read_text().splitlines():
            n, _, what = line.split(" ", 2)
            events.setdefault(int(n), []).append(what)
    return events


def _show(args: argparse.Namespace) -> int:
    from .canonical import canonical_lines
    from .pcap import parsed, read_pcap

    events = read_events(args.pcap)
    lines = canonical_lines(parsed(read_pcap(args.pcap)), relative_seq=not args.absolute_seq, mask=args.mask)
    for i, line in enumerate(lines, 1):
        marks = events.get(i)
        print(line + (f"  << {'; '.join(marks)}" if marks else ""))
    return 0


def _plot(args: argparse.Namespace) -> int:
    from .plot import plot_pcap

    out = plot_pcap(args.pcap, args.output, title=Path(args.pcap).name)
    if out is None:
        print(f"pyharness plot: {args.pcap} holds no TCP segment; nothing drawn", file=sys.stderr)
        return 1
    print(out)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``pyharness`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(prog="pyharness", description="Tern's deterministic network lab.")
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run scenarios; write report.md, junit.xml and pcaps")
    run.add_argument("paths", nargs="*", help="test files or directories (default: scenarios/)")
    run.add_argument("--seed", type=int, default=1, help="seed of the run (default 1)")
    run.add_argument("--out", type=Path, default=Path("out/run"), help="output directory (default out/run)")
    run.add_argument("--dut", default="tern",
                     help="device under test: tern (the Tern stack, virtual time), linux (the kernel in a "
                          "network namespace through TAP, real time), a DUT registered in the entry point group "
                          "pyharness.duts, or package.module:Class (docs/dut-contract.md); for all but tern the "
                          "default paths are the conformance areas")
    run.add_argument("--compare-with", type=Path, metavar="JUNIT",
                     help="junit.xml of a Tern run (e.g. out/junit.xml from 'make run'): report.md gets a section "
                          "listing each scenario whose result differs from Tern's, with its cause")
    run.add_argument("--differences", type=Path, metavar="DOC",
                     help="the DUT's difference document giving each known difference's cause (default "
                          "docs/<dut>-differences.md when it exists)")
    show = sub.add_parser("show", help="print the canonical text of a pcap, one line per frame, with what the "
                                       "link did to it (from FILE.pcap.events: '<< dropped loss')")
    show.add_argument("pcap", type=Path)
    show.add_argument("--absolute-seq", action="store_true", help="absolute TCP sequence numbers")
    show.add_argument("--mask", action="append", default=[], help="mask a field (ip.id, chksum, ts, time...)")
    plot = sub.add_parser("plot", help="draw the time-sequence plot of the TCP connections of a pcap")
    plot.add_argument("pcap", type=Path)
    plot.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")
    demo = sub.add_parser("demo", help="run the bundled demonstration scenario and write its pcaps")
    demo.add_argument("--out", type=Path, default=Path("out/demo"), help="directory for the pcaps (default: out/demo)")
    demo.add_argument("--seed", type=int, default=42, help="simulation seed (default: 42)")
    demo.add_argument("--count", type=int, default=50, help="number of pings (default: 50)")
    pkt = sub.add_parser("pkt", help="run packetdrill scripts (.pkt) against the DUT in virtual time")
    pkt.add_argument("scripts", nargs="+", type=Path, help=".pkt files")
    pkt.add_argument("--seed", type=int, default=1, help="seed of the run (default 1)")
    pkt.add_argument("--out", type=Path, default=Path("out/pkt"), help="output directory (default out/pkt)")
    pkt.add_argument("--dut", choices=("tern", "linux"), default="tern", help="device under test (default tern)")
    shell = sub.add_parser("shell", help="the network shell (the examples' --shell commands) on a Tern host of a "
                                         "scenario's network at a virtual time")
    shell.add_argument("network", metavar="FILE.py:FUNCTION",
                       help="a function taking no argument that builds (and may run) a Network; also "
                            "package.module:FUNCTION")
    shell.add_argument("--at", metavar="TIME", help="run the network until this virtual time first (\"2.5s\")")
    shell.add_argument("--host", help="the Tern host (needed when the network has several)")
    shell.add_argument("-c", "--command", dest="commands", action="append", default=[],
                       help="a command to answer (repeatable); without, commands are read from standard input")
    args = ap.parse_args(argv)
    if extra and args.command not in ("run", "pkt"):
        ap.error("arguments after -- are for pyharness run only")

    if args.command == "run":
        return _run(args, extra)
    if args.command == "pkt":
        return _pkt(args, extra)
    if args.command == "show":
        return _show(args)
    if args.command == "plot":
        return _plot(args)
    if args.command == "shell":
        from .shell import shell_main

        return shell_main(args.network, args.at, args.host, args.commands, sys.stdin, sys.stdout)
    if args.command == "demo":
        from .demo import run_demo

        run_demo(out=args.out, seed=args.seed, count=args.count)
        return 0
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
