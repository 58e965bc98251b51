#!/usr/bin/env python3
"""Mutation testing of the Tern stack and the simulator's link code.

``make mutate`` runs this script. It reads the mutants of
``tools/mutate/mutants.toml`` (each one: a file, a snippet that occurs exactly
once in it, the replacement, a description, optionally why it is equivalent),
applies them one at a time to a scratch copy of the tree, rebuilds the C tests
and the CFFI extension there incrementally, runs the tests of the mutated area
(first the C tests, then the scenarios, each stopping at the first failure),
restores the file, and prints one line per mutant: killed by which test, or
SURVIVED with the reason the list gives for it. The last line is
``BENCH mutants_killed_pct <value> %``: killed / (run - stillborn - equivalent), the usual mutation
score (a survivor the list shows to be equivalent cannot be killed by any test).

The source tree is never written: the scratch copy lives under a temporary
directory and is removed at the end (also on Ctrl-C or a crash).

Why the scratch copy needs its own import of ``pyharness``: the developer's
``.venv`` holds an editable install whose import hook maps ``pyharness`` to
the source tree. A ``sitecustomize`` put on ``PYTHONPATH`` removes that hook
(it runs after the ``.pth`` files, in pytest and in every xdist worker), so
the scratch tree's package and its mutated extension are the ones imported.

``--generate FILE`` prints candidate mutants of one C file made by
universalmutator (``pip install universalmutator``), in the list's format, for
a human to pick from: the tool's regular-expression rules make thousands of
mutants per file, most of them in comments, logging or duplicates, which is why
the list itself is kept by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_LIST = Path(__file__).resolve().parent / "mutants.toml"

SITECUSTOMIZE = '''\
"""Written by tools/mutate/mutate.py: import pyharness from the scratch tree, not the editable install."""
import sys

sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__module__.startswith("_editable_skbc")]
'''


class ListError(Exception):
    """The mutant list is malformed; the message names the mutant and what is wrong."""


@dataclass
class Area:
    """Which tests run for the files under ``prefix``."""

    prefix: str
    ctest: str  # ctest -R regular expression ("" for none)
    pytest: list[str]  # paths given to pytest


@dataclass
class Mutant:
    """One deliberate change of one source file."""

    id: str
    file: str
    find: str
    replace: str
    desc: str
    equivalent: str = ""
    missing: str = ""  # for a known survivor: which test is still missing
    line: int = 0  # computed: where ``find`` starts


@dataclass
class Outcome:
    """What happened to one mutant."""

    mutant: Mutant
    status: str  # killed / SURVIVED / stillborn / not run
    by: str = ""  # the test that killed it
    seconds: float = 0.0
    detail: str = ""


@dataclass
class MutantList:
    """The parsed list: areas and mutants."""

    areas: list[Area] = field(default_factory=list)
    mutants: list[Mutant] = field(default_factory=list)

    def area_of(self, path: str) -> Area:
        """The area (longest matching prefix) of a source path."""
        best = None
        for a in self.areas:
            if path.startswith(a.prefix) and (best is None or len(a.prefix) > len(best.prefix)):
                best = a
        if best is None:
            raise ListError(f"{path}: no [[area]] of the mutant list covers this file")
        return best


def load_list(path: Path, root: Path = ROOT) -> MutantList:
    """Parse and check the mutant list against the sources under ``root``."""
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ListError(f"{path}: {e}") from None
    ml = MutantList()
    for i, a in enumerate(data.get("area", [])):
        try:
            ml.areas.append(Area(a["prefix"], a.get("ctest", ""), list(a.get("pytest", []))))
        except KeyError as e:
            raise ListError(f"{path}: area #{i + 1} has no {e.args[0]!r}") from None
    seen: set[str] = set()
    for i, m in enumerate(data.get("mutant", [])):
        where = f"{path}: mutant #{i + 1} ({m.get('id', 'no id')})"
        for key in ("id", "file", "find", "replace", "desc"):
            if not isinstance(m.get(key), str) or (key != "replace" and not m[key]):
                raise ListError(f"{where}: {key!r} missing or not a string")
        unknown = set(m) - {"id", "file", "find", "replace", "desc", "equivalent", "missing"}
        if unknown:
            raise ListError(f"{where}: unknown key(s) {sorted(unknown)}")
        if m["id"] in seen:
            raise ListError(f"{where}: id {m['id']!r} used twice")
        seen.add(m["id"])
        src = root / m["file"]
        if not src.is_file():
            raise ListError(f"{where}: file {m['file']} does not exist")
        text = src.read_text()
        n = text.count(m["find"])
        if n != 1:
            raise ListError(f"{where}: snippet {m['find']!r} occurs {n} times in {m['file']} (must be exactly once)")
        if m["find"] == m["replace"]:
            raise ListError(f"{where}: the replacement equals the snippet")
        mu = Mutant(m["id"], m["file"], m["find"], m["replace"], m["desc"], m.get("equivalent", ""),
                     m.get("missing", ""))
        mu.line = text[: text.index(m["find"])].count("\n") + 1
        ml.area_of(mu.file)  # every mutant has an area
        ml.mutants.append(mu)
    return ml


def source_files(root: Path) -> list[str]:
    """Tracked and untracked (not ignored) files of the tree, as git sees it."""
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=root, check=True,
                         capture_output=True).stdout.decode()
    return [f for f in out.split("\0") if f and (root / f).is_file()]


def make_scratch(root: Path, base: Path) -> Path:
    """Copy the tree (without build output or the venv) under ``base``."""
    tree = base / "tree"
    for rel in source_files(root):
        if rel.startswith(("build/", ".venv/", "out/", "artifacts/")):
            continue
        dst = tree / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, dst)
    site = base / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return tree


_RUNNING: set[int] = set()  # process groups of the commands running now (killed on an interrupt)


def kill_running() -> None:
    """Kill every command still running (their whole process groups)."""
    for pgid in list(_RUNNING):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run(cmd: list[str], cwd: Path, timeout: float, env: dict[str, str] | None = None) -> tuple[int | None, str]:
    """Run a command in its own process group; (exit code or None on timeout, combined output)."""
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    _RUNNING.add(p.pid)
    try:
        out, _ = p.communicate(timeout=max(timeout, 1))
        return p.returncode, out
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        return None, out
    except BaseException:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise
    finally:
        _RUNNING.discard(p.pid)


class Runner:
    """Builds and tests the scratch tree."""

    def __init__(self, tree: Path, site: Path, jobs: int, per_mutant: float, verbose: bool) -> None:
        self.tree = tree
        self.build = tree / "build-mutate"
        self.jobs = jobs
        self.per_mutant = per_mutant
        self.verbose = verbose
        self.env = dict(os.environ, PYTHONPATH=f"{site}{os.pathsep}{tree}", TERN_ARTIFACTS=str(tree / "artifacts"),
                        PYTHONDONTWRITEBYTECODE="1")

    def log(self, msg: str) -> None:
        if self.verbose:
            print(f"  [{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    def configure(self) -> None:
        """Configure the scratch build: C tests and the extension in one build directory."""
        code, out = run(["cmake", "-S", ".", "-B", str(self.build), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                         "-DTERN_BUILD_TESTS=ON", "-DTERN_BUILD_BENCH=OFF", "-DTERN_BUILD_PYTHON=ON",
                         "-DTERN_BUILD_EXAMPLES=OFF", f"-DPython_EXECUTABLE={sys.executable}"],
                        self.tree, 600)
        if code != 0:
            raise SystemExit(f"mutate: cmake configure failed:\n{out[-3000:]}")

    def rebuild(self, timeout: float, target: str = "") -> tuple[bool, str]:
        """Incremental build (of ``target`` only, if given); copies the extension into the scratch package.
        (ok, output)."""
        cmd = ["cmake", "--build", str(self.build), "-j", str(self.jobs)] + (["--target", target] if target else [])
        code, out = run(cmd, self.tree, timeout)
        if code != 0:
            return False, out
        exts = list((self.build / "pyharness").glob("_ternffi*.so"))
        if len(exts) != 1:
            return False, f"expected one built extension, found {exts}"
        shutil.copy2(exts[0], self.tree / "pyharness" / exts[0].name)
        return True, out

    def ctest(self, regex: str, timeout: float) -> tuple[str | None, str]:
        """Run the C tests matching ``regex``; (first failing test or None, output)."""
        if not regex:
            return None, ""
        code, out = run(["ctest", "--test-dir", str(self.build), "-R", regex, "-j", str(self.jobs),
                         "--stop-on-failure", "--timeout", str(int(max(timeout, 10)))], self.tree, timeout + 5)
        if code is None:
            return "ctest (timeout: the mutant hangs, or the time per mutant ran out)", out
        if code == 0:
            return None, out
        m = re.search(r"The following tests FAILED:\s*\n\s*\d+\s*-\s*(\S+)", out)
        failed = m.group(1) if m else ""
        if not failed:
            m = re.search(r"\d+/\d+ Test\s+#\d+: (\S+) \.+\*+\s*(Failed|Exception|Timeout)", out)
            failed = m.group(1) if m else "ctest (failed; see output)"
        return f"ctest {failed}", out

    def pytest(self, paths: list[str], timeout: float, workers: int) -> tuple[str | None, str]:
        """Run pytest on ``paths``, stopping at the first failure; (first failing test or None, output)."""
        if not paths:
            return None, ""
        cmd = [sys.executable, "-m", "pytest", *paths, "-x", "-q", "-rf", "-p", "no:cacheprovider",
               "--no-plots", "--tb=no"]
        if workers > 1:
            cmd += ["-n", str(workers)]
        code, out = run(cmd, self.tree, timeout, self.env)
        if code is None:
            return "pytest (timeout: the mutant hangs or is too slow)", out
        if code == 0:
            return None, out
        if code == 5:  # nothing collected: a list error, not a kill
            raise SystemExit(f"mutate: pytest collected no test in {paths}:\n{out[-2000:]}")
        m = re.search(r"^(?:FAILED|ERROR) (\S+)", out, re.M)
        return (m.group(1) if m else f"pytest (exit {code}; see output)"), out


def apply(tree: Path, m: Mutant) -> str:
    """Write the mutant into the scratch tree; returns the original text."""
    path = tree / m.file
    original = path.read_text()
    path.write_text(original.replace(m.find, m.replace, 1))
    return original


def test_mutant(r: Runner, ml: MutantList, m: Mutant, hint: str, workers: int) -> Outcome:
    """Apply, build, test, restore one mutant.

    Order, cheapest kill first: the test that killed this mutant in the last run (``hint``) runs alone (a
    scenario after rebuilding the extension alone; a C test after the whole build, since a mutant killed
    only by a C test would otherwise wait for its area's scenarios, two minutes in the TCP area); then the
    scenarios of the area, stopping at the first failure; then the rest of the build (the C tests) and the
    C tests of the area.
    """
    t0 = time.monotonic()
    path = r.tree / m.file
    original = apply(r.tree, m)

    def left() -> float:
        return r.per_mutant - (time.monotonic() - t0)

    def done(status: str, by: str = "", detail: str = "") -> Outcome:
        return Outcome(m, status, by, time.monotonic() - t0, detail)

    try:
        ok, out = r.rebuild(min(left(), 300), target="_ternffi")
        if not ok:
            return done("stillborn", detail=out.strip().splitlines()[-1][:200] if out.strip() else "build failed")
        area = ml.area_of(m.file)
        hint_ctest = re.fullmatch(r"ctest ([\w.+-]+)", hint)
        if hint_ctest:
            ok, out = r.rebuild(min(left(), 300))
            if not ok:
                return done("stillborn", detail="the C tests do not build: " + out.strip().splitlines()[-1][:200])
            r.log(f"{m.id}: last killer first: {hint}")
            by, _ = r.ctest(f"^{re.escape(hint_ctest.group(1))}$", left())
            if by:
                return done("killed", by)
        elif hint and not hint.startswith("ctest"):
            r.log(f"{m.id}: last killer first: {hint}")
            by, _ = r.pytest([hint], left(), 1)
            # exit 4: pytest found no such test (a renamed scenario): a stale hint, not a kill
            if by and not by.startswith("pytest (exit 4"):
                return done("killed", by)
        r.log(f"{m.id}: pytest {' '.join(area.pytest)}")
        by, _ = r.pytest(area.pytest, left(), workers)
        if by:
            return done("killed", by)
        ok, out = r.rebuild(min(left(), 300))
        if not ok:
            return done("stillborn", detail="the C tests do not build: " + out.strip().splitlines()[-1][:200])
        r.log(f"{m.id}: ctest -R '{area.ctest}'")
        by, _ = r.ctest(area.ctest, left())
        if by:
            return done("killed", by)
        if left() <= 0:
            return done("killed", "timeout (the tests did not finish in the time per mutant)")
        return done("SURVIVED")
    finally:
        path.write_text(original)


def baseline(r: Runner, ml: MutantList, mutants: list[Mutant], workers: int) -> None:
    """Run the tests of every selected area on the unmutated tree: a test that fails there would kill
    every mutant and prove nothing."""
    areas = {ml.area_of(m.file).prefix: ml.area_of(m.file) for m in mutants}
    ctests = sorted({a.ctest for a in areas.values() if a.ctest})
    paths = sorted({p for a in areas.values() for p in a.pytest})
    print(f"mutate: baseline: ctest ({len(ctests)} patterns) and pytest {' '.join(paths)} on the unmutated tree",
          flush=True)
    for regex in ctests:
        by, out = r.ctest(regex, 900)
        if by:
            raise SystemExit(f"mutate: baseline: {by} fails without any mutant:\n{out[-3000:]}")
    by, out = r.pytest(paths, 1800, workers)
    if by:
        raise SystemExit(f"mutate: baseline: {by} fails without any mutant:\n{out[-3000:]}")


def reason_of(o: Outcome) -> str:
    """The table's last column."""
    if o.status == "killed":
        return o.by
    if o.status == "SURVIVED":
        if o.mutant.equivalent:
            return f"equivalent: {o.mutant.equivalent}"
        if o.mutant.missing:
            return f"missing test: {o.mutant.missing}"
        return "NO REASON GIVEN: add a test that kills it, or say in the list why it is equivalent"
    return o.detail


def is_named_killer(by: str) -> bool:
    """Whether ``by`` names one test worth running first next time: not a timeout, nor a run whose failing
    test could not be read ("pytest (...)", "ctest (...)")."""
    return bool(by) and not by.startswith(("pytest (", "ctest (", "timeout"))


def table(outcomes: list[Outcome]) -> list[str]:
    """Markdown table of the outcomes."""
    lines = ["| mutant | file:line | description | result | killed by / reason |", "|---|---|---|---|---|"]
    for o in outcomes:
        m = o.mutant
        cells = [m.id, f"{m.file}:{m.line}", m.desc, o.status, reason_of(o)]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return lines


def killed_pct(outcomes: list[Outcome]) -> tuple[int, int, float]:
    """(killed, counted, percent): the mutation score. Stillborn and not-run mutants are not counted, nor
    are survivors the list shows to be equivalent (no test can tell them from the original; each says
    why in the table)."""
    counted = [o for o in outcomes
               if o.status == "killed" or (o.status == "SURVIVED" and not o.mutant.equivalent)]
    k = sum(o.status == "killed" for o in counted)
    return k, len(counted), (100.0 * k / len(counted) if counted else 0.0)


_IDENT = re.compile(r"[A-Za-z_]\w*")


def useful(orig: str, mutated: str) -> bool:
    """Whether a universalmutator line change is worth a build: it keeps every identifier (the tool's
    rules also rewrite digits inside type names, ``uint32_t`` -> ``uint(32-1)_t``, which never compile),
    or it deletes a whole statement (not a line that opens or closes a block)."""
    o, m = orig.strip(), mutated.strip()
    if m == f"/*{o}*/":
        return o.endswith(";") and not o.startswith(("return", "break", "continue"))
    return sorted(_IDENT.findall(o)) == sorted(_IDENT.findall(m))


def generate(path: Path, count: int, seed: int) -> int:
    """Print ``count`` universalmutator candidates for ``path`` in the list's format."""
    exe = shutil.which("mutate") or str(Path(sys.executable).with_name("mutate"))
    if not Path(exe).exists():
        print("mutate: universalmutator is not installed (pip install universalmutator)", file=sys.stderr)
        return 2
    rel = path.resolve().relative_to(ROOT)
    text = path.read_text()
    src_lines = text.splitlines()
    with tempfile.TemporaryDirectory(prefix="tern-um-") as d:
        shutil.copy2(path, Path(d) / path.name)
        run([exe, path.name, "--noCheck"], Path(d), 600)
        cands = []
        for f in sorted(Path(d).glob(f"{path.stem}.mutant.*{path.suffix}")):
            mlines = f.read_text().splitlines()
            if len(mlines) != len(src_lines):
                continue
            diff = [i for i, (a, b) in enumerate(zip(src_lines, mlines)) if a != b]
            if len(diff) != 1:
                continue
            i = diff[0]
            s = src_lines[i].strip()
            if not s or s.startswith(("/*", "*", "//", "#")):
                continue  # comments and preprocessor lines
            if not useful(src_lines[i], mlines[i]) or text.count(s) != 1:
                continue
            cands.append((i, src_lines[i], mlines[i]))
    random.Random(seed).shuffle(cands)
    for k, (i, a, b) in enumerate(cands[:count]):
        print(f'[[mutant]]\nid = "{path.stem}-um{i + 1}-{k}"\nfile = "{rel}"\nfind = {json.dumps(a.strip())}\n'
              f'replace = {json.dumps(b.strip())}\ndesc = "universalmutator, line {i + 1}"\n')
    print(f"# {len(cands)} candidates in {rel}, {min(count, len(cands))} shown", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--list", type=Path, default=DEFAULT_LIST, help="the mutant list (TOML)")
    ap.add_argument("--only", action="append", default=[], help="run only this mutant id (repeatable) or id prefix*")
    ap.add_argument("--file", action="append", default=[], help="run only the mutants of this source file")
    ap.add_argument("--check", action="store_true", help="check the list against the sources and exit")
    ap.add_argument("--jobs", type=int, default=2, help="build jobs and pytest workers (at most 2 on this machine)")
    ap.add_argument("--per-mutant", type=float, default=150, help="seconds one mutant may take (build + tests)")
    ap.add_argument("--budget", type=float, default=44 * 60, help="seconds for the whole run; later mutants are not run")
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "mutate", help="where the table and results go")
    ap.add_argument("--no-hints", action="store_true", help="do not run the last run's killer first")
    ap.add_argument("--trees", type=int, default=2, help="scratch trees testing mutants side by side")
    ap.add_argument("--killers", type=Path, default=Path(__file__).resolve().parent / "killers.json",
                    help="which test killed each mutant last time (read first, rewritten after the run)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the run of the tests on the unmutated tree")
    ap.add_argument("--generate", type=Path, metavar="FILE", help="print universalmutator candidates for FILE")
    ap.add_argument("--count", type=int, default=20, help="with --generate: how many candidates")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    if args.generate:
        return generate(args.generate, args.count, 1)
    if args.jobs < 1 or args.jobs > 2:
        ap.error(f"--jobs {args.jobs}: must be 1 or 2 (the machine has 2 cores)")
    if args.trees < 1 or args.trees > args.jobs:
        ap.error(f"--trees {args.trees}: must be between 1 and --jobs ({args.jobs})")
    try:
        ml = load_list(args.list)
    except ListError as e:
        print(f"mutate: {e}", file=sys.stderr)
        return 2
    mutants = ml.mutants
    if args.only:
        mutants = [m for m in mutants if any(m.id == o or (o.endswith("*") and m.id.startswith(o[:-1]))
                                             for o in args.only)]
    if args.file:
        mutants = [m for m in mutants if m.file in args.file]
    if args.check:
        print(f"mutate: {len(ml.mutants)} mutants in {args.list}, every snippet found once")
        return 0
    if not mutants:
        print("mutate: no mutant selected", file=sys.stderr)
        return 2
    hints: dict[str, str] = {}
    if args.killers.exists() and not args.no_hints:
        hints = {k: v for k, v in json.loads(args.killers.read_text()).items() if v}
    signal.signal(signal.SIGTERM, _interrupt)  # a background job has SIGINT ignored: SIGTERM stops it cleanly
    start = time.monotonic()
    outcomes: dict[str, Outcome] = {}
    base = Path(tempfile.mkdtemp(prefix="tern-mutate-"))
    jobs = max(1, args.jobs // args.trees)  # build jobs and pytest workers per tree: args.jobs in all
    try:
        print(f"mutate: {len(mutants)} mutants, {args.trees} scratch tree(s) under {base}; building", flush=True)
        runners = []
        for k in range(args.trees):
            tree = make_scratch(ROOT, base / f"t{k}")
            runners.append(Runner(tree, base / f"t{k}" / "site", jobs, args.per_mutant, args.verbose))
        for r in runners:
            r.configure()
            ok, out = r.rebuild(1800)
            if not ok:
                raise SystemExit(f"mutate: the unmutated tree does not build:\n{out[-3000:]}")
        if not args.no_baseline:
            baseline(runners[0], ml, mutants, args.jobs)
        queue = list(enumerate(mutants))
        lock = threading.Lock()

        def worker(r: Runner) -> None:
            while True:
                with lock:
                    if not queue or stop.is_set():
                        return
                    i, m = queue.pop(0)
                if time.monotonic() - start > args.budget:
                    o = Outcome(m, "not run", detail="time budget used up")
                else:
                    o = test_mutant(r, ml, m, hints.get(m.id, ""), jobs)
                with lock:
                    outcomes[m.id] = o
                    print(f"[{len(outcomes)}/{len(mutants)}] {m.id} ({m.file}:{m.line}): {o.status} {reason_of(o)} "
                          f"({o.seconds:.0f}s)", flush=True)

        stop = threading.Event()
        threads = [threading.Thread(target=worker, args=(r,), daemon=True) for r in runners]
        for t in threads:
            t.start()
        try:
            while any(t.is_alive() for t in threads):
                for t in threads:
                    t.join(timeout=0.5)
        except KeyboardInterrupt:
            stop.set()  # no new mutant; the running commands die, each thread restores its file
            kill_running()
            for t in threads:
                t.join(timeout=30)
            raise
    except KeyboardInterrupt:
        print("mutate: interrupted; the scratch trees are removed, the source tree was never written", file=sys.stderr)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    ordered = [outcomes.get(m.id) or Outcome(m, "not run", detail="interrupted") for m in mutants]
    k, n, pct = killed_pct(ordered)
    lines = table(ordered)
    survivors = [o for o in ordered if o.status == "SURVIVED"]
    equivalent = sum(bool(o.mutant.equivalent) for o in survivors)
    summary = (f"{k} of {n} mutants killed ({pct:.1f} %; equivalent survivors not counted), {len(survivors)} "
               f"survived ({equivalent} equivalent, {len(survivors) - equivalent} not), "
               f"{sum(o.status == 'stillborn' for o in ordered)} did not build, "
               f"{sum(o.status == 'not run' for o in ordered)} not run; {time.monotonic() - start:.0f} s")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "mutants.md").write_text("# Mutation testing\n\n" + summary + "\n\n" + "\n".join(lines) + "\n")
    if not args.no_hints:
        merged = dict(hints)
        for o in ordered:
            if o.status == "SURVIVED":
                merged[o.mutant.id] = ""
            elif o.status == "killed" and is_named_killer(o.by):
                merged[o.mutant.id] = o.by  # (a timeout keeps the killer named before)
        args.killers.write_text(json.dumps({k: v for k, v in sorted(merged.items()) if v}, indent=1) + "\n")
    print("\n".join(lines))
    print(summary)
    print(f"table: {args.out / 'mutants.md'}")
    print(f"BENCH mutants_killed_pct {pct:.1f} %")
    return 0


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
