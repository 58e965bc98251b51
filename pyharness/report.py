"""``pyharness run``'s report: a pytest plugin that gathers results and writes report.md.

Results are grouped by protocol area: the ``area`` marker, else the first
directory under ``scenarios/`` (``scenarios/tcp/test_x.py`` → ``tcp``), else
the test file's directory. Each failure lists its RFC references (``rfc``
marker), its artifacts directory and its replay command.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Result:
    """One test's outcome."""

    nodeid: str
    area: str
    outcome: str
    rfc: str = ""
    artifacts: str = ""
    replay: str = ""
    message: str = ""
    #: the whole failure text (traceback, message, closest-frame table, golden diff)
    longrepr: str = ""
    #: seconds, all phases
    duration: float = 0.0
    #: the IP family the scenario ran over ("ipv4", "ipv6": its ``family`` parameter), "" when it has none
    family: str = ""


def area_of(nodeid: str, marker_area: str = "") -> str:
    """The protocol area of a test id."""
    if marker_area:
        return marker_area
    parts = Path(nodeid.split("::")[0]).parts
    if "scenarios" in parts:
        i = parts.index("scenarios")
        if i + 2 < len(parts) + 1 and len(parts) > i + 2:
            return parts[i + 1]
    return parts[-2] if len(parts) > 1 else "(top)"


OUTCOMES = ("passed", "failed", "skipped", "xfailed", "xpassed")
MUST_RE = __import__("re").compile(r"^9293 (MUST-\d+)$")


def outcome_of(report: Any) -> str:
    """passed / failed / skipped / xfailed / xpassed for a test report (errors count as failures)."""
    xfail = hasattr(report, "wasxfail")
    if report.skipped:
        return "xfailed" if xfail else "skipped"
    if report.passed:
        return "xpassed" if xfail else "passed"
    return "failed"


@dataclass(eq=False)  # hashable: pytest keeps plugins in sets
class ReportPlugin:
    """Collects results during a pytest session and writes ``report.md`` at its end."""

    out: Path
    seed: int
    results: dict[str, Result] = field(default_factory=dict)
    #: the project's folder (pytest's rootdir), which the paths in the results are relative to
    root: Path = field(default_factory=Path.cwd)
    skip_reasons: dict[str, str] = field(default_factory=dict)
    #: name of the DUT the run tested (the report's title and the comparison name it)
    dut: str = "tern"
    #: junit.xml of a Tern run: the report gets a section comparing this run with it (:func:`comparison_section`)
    compare_with: Path | None = None
    #: the DUT's difference document (docs/<dut>-differences.md), naming the cause of each known difference
    differences_doc: Path | None = None

    #: one line per protocol area as it completes (for logs: when the output is not a terminal)
    progress: bool = False
    _left: dict[str, int] = field(default_factory=dict)
    _done: int = 0
    _config: Any = None

    def pytest_configure(self, config: Any) -> None:
        self._config = config

    def pytest_collection_modifyitems(self, items: list) -> None:
        for item in items:
            m = item.get_closest_marker("area")
            rfc = ", ".join(r for mk in item.iter_markers("rfc") for r in mk.args)
            from .plugin import node_family

            self.results.setdefault(item.nodeid, Result(item.nodeid, area_of(item.nodeid, m.args[0] if m else ""),
                                                        "not run", rfc=rfc, family=node_family(item) or ""))

    def pytest_collection_finish(self, session: Any) -> None:
        self._left = {}
        for r in self.results.values():
            self._left[r.area] = self._left.get(r.area, 0) + 1

    def _progress(self, r: Result) -> None:
        """After a test's last phase: count it, and report its area when the area is complete."""
        self._done += 1
        left = self._left.get(r.area, 0) - 1
        self._left[r.area] = left
        reporter = self._config.pluginmanager.get_plugin("terminalreporter") if self._config else None
        if left == 0 and self.progress and reporter is not None:
            c = self.counts().get(r.area, {})
            what = ", ".join(f"{c[k]} {k}" for k in OUTCOMES if c.get(k))
            total = len(self.results)
            reporter.write_line(f"pyharness: {r.area} done: {what} "
                                      f"[{self._done}/{total} tests, {100 * self._done // max(total, 1)}%]")

    def pytest_runtest_logreport(self, report: Any) -> None:
        r = self.results.setdefault(report.nodeid, Result(report.nodeid, area_of(report.nodeid), "not run"))
        if report.when == "teardown":
            self._progress(r)
        props = dict(getattr(report, "user_properties", []))
        if props.get("pyharness_rfc"):
            r.rfc = props["pyharness_rfc"]
        if report.when == "call" or (report.when == "setup" and not report.passed):
            r.outcome = outcome_of(report)
        elif report.when == "teardown" and report.failed:
            r.outcome = "failed"
        if report.skipped:
            lr = report.longrepr
            reason = getattr(report, "wasxfail", "") or (lr[2] if isinstance(lr, tuple) and len(lr) == 3 else str(lr or ""))
            self.skip_reasons[report.nodeid] = str(reason).removeprefix("Skipped: ").strip()[:200]
        r.duration += float(getattr(report, "duration", 0.0) or 0.0)
        # Relative to the project (set on every phase's report from setup on; artifacts at teardown).
        r.artifacts = props.get("pyharness_artifacts", r.artifacts)
        r.replay = props.get("pyharness_replay", r.replay)
        if report.failed:
            text = str(getattr(report, "longreprtext", "") or "")
            r.longrepr = (r.longrepr + "\n\n" + text).strip() if r.longrepr else text
            lines = [ln for ln in text.splitlines() if ln.startswith("E ")]
            r.message = (lines[0][1:].strip() if lines else text.strip().splitlines()[-1:][0] if text.strip() else "")[:200]

    def pytest_sessionfinish(self, session: Any) -> None:
        self.root = Path(session.config.rootpath)
        self.write()
        from .report_html import write_html

        write_html(self)

    # -- figures --------------------------------------------------------------

    def counts(self) -> dict[str, dict[str, int]]:
        """area -> outcome -> count (tests that never ran are left out)."""
        by: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(OUTCOMES, 0))
        for r in self.results.values():
            if r.outcome in OUTCOMES:
                by[r.area][r.outcome] += 1
        return dict(by)

    def family_counts(self) -> dict[tuple[str, str], dict[str, int]]:
        """(area, family) -> outcome -> count, for the areas whose scenarios run per IP family."""
        by: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(OUTCOMES, 0))
        for r in self.results.values():
            if r.family and r.outcome in OUTCOMES:
                by[(r.area, r.family)][r.outcome] += 1
        return dict(by)

    def totals(self) -> dict[str, int]:
        """outcome -> count over every area."""
        t = dict.fromkeys(OUTCOMES, 0)
        for c in self.counts().values():
            for k in OUTCOMES:
                t[k] += c[k]
        return t

    def must_coverage(self) -> dict[str, list[Result]]:
        """RFC 9293 requirement id ("MUST-13") -> the scenarios that cite it."""
        cov: dict[str, list[Result]] = defaultdict(list)
        for r in self.results.values():
            for ref in (x.strip() for x in r.rfc.split(",")):
                m = MUST_RE.match(ref)
                if m:
                    cov[m.group(1)].append(r)
        return dict(sorted(cov.items(), key=lambda kv: int(kv[0].split("-")[1])))

    def comparison(self) -> "tuple[str, list[tuple[str, str, str, str]]] | None":
        """The comparison with Tern's run (``--compare-with``): :func:`comparison_rows`, or None without one."""
        if self.compare_with is None:
            return None
        from .differences import read_junit

        doc = self.differences_doc.read_text() if self.differences_doc else None
        return comparison_rows(self.dut, self.results.values(), self.skip_reasons, read_junit(self.compare_with),
                               doc, str(self.differences_doc) if self.differences_doc else "")

    def summary_lines(self) -> list[str]:
        """A short summary per area, for the terminal."""
        counts = self.counts()
        w = max([len(a) for a in counts] + [5])
        lines = [f"{'area':<{w}}  " + "  ".join(f"{k:>7}" for k in OUTCOMES)]
        for area in sorted(counts):
            lines.append(f"{area:<{w}}  " + "  ".join(f"{counts[area][k]:>7}" for k in OUTCOMES))
        t = self.totals()
        lines.append(f"{'total':<{w}}  " + "  ".join(f"{t[k]:>7}" for k in OUTCOMES))
        fam = self.family_counts()
        if fam:
            lines.append("by IP family (scenarios run over each):")
            for (area, family) in sorted(fam):
                label = f"{area} {family}"
                lines.append(f"{label:<{w}}  " + "  ".join(f"{fam[(area, family)][k]:>7}" for k in OUTCOMES))
        return lines

    # -- report.md ------------------------------------------------------------

    def write(self) -> Path:
        """Write ``report.md``; returns its path."""
        by_area: dict[str, list[Result]] = defaultdict(list)
        for r in self.results.values():
            by_area[r.area].append(r)
        counts = self.counts()
        t = self.totals()
        verdict = "FAILED" if t["failed"] else "passed"
        lines = ["# Tern conformance report", "",
                 f"Seed {self.seed}: **{verdict}**. {t['passed']} passed, {t['failed']} failed, "
                 f"{t['skipped']} skipped, {t['xfailed']} xfailed (known, expected failures), {t['xpassed']} xpassed.",
                 "", "Replay any scenario with the command shown for it, from the project's folder; pcaps of "
                 "every scenario are under "
                 f"`{self.out / 'artifacts'}/` (one folder per test), JUnit XML in `{self.out / 'junit.xml'}`, "
                 "this report with plots in `report.html`.",
                 "", "| area | passed | failed | skipped | xfailed | xpassed |", "|---|---:|---:|---:|---:|---:|"]
        for area in sorted(counts):
            c = counts[area]
            lines.append(f"| {area} | " + " | ".join(str(c[k]) for k in OUTCOMES) + " |")
        lines.append("| **total** | " + " | ".join(f"**{t[k]}**" for k in OUTCOMES) + " |")
        fam = self.family_counts()
        if fam:
            lines += ["", "Scenarios run over each IP family (the `family` parameter; the others are single-family "
                      "or use both families at once):", "",
                      "| area | family | passed | failed | skipped | xfailed | xpassed |",
                      "|---|---|---:|---:|---:|---:|---:|"]
            for (area, family) in sorted(fam):
                c = fam[(area, family)]
                lines.append(f"| {area} | {family} | " + " | ".join(str(c[k]) for k in OUTCOMES) + " |")
        for area in sorted(by_area):
            failed = [r for r in by_area[area] if r.outcome == "failed"]
            if not failed:
                continue
            lines += ["", f"## {area}: failures", ""]
            for r in failed:
                lines.append(f"- `{r.nodeid}`" + (f" (RFC {r.rfc})" if r.rfc else " (no RFC reference)"))
                if r.message:
                    lines.append(f"  - {r.message}")
                if r.artifacts:
                    lines.append(f"  - artifacts: `{r.artifacts}/`")
                if r.replay:
                    lines.append(f"  - replay: `{r.replay}`")
        xfailed = [r for r in self.results.values() if r.outcome == "xfailed"]
        if xfailed:
            lines += ["", "## Expected failures (xfail)", ""]
            for r in xfailed:
                reason = self.skip_reasons.get(r.nodeid, "")
                lines.append(f"- `{r.nodeid}`" + (f" (RFC {r.rfc})" if r.rfc else "") + (f": {reason}" if reason else ""))
        skipped = defaultdict(list)
        for r in self.results.values():
            if r.outcome == "skipped":
                skipped[self.skip_reasons.get(r.nodeid, "") or "(no reason given)"].append(r)
        if skipped:
            lines += ["", "## Skipped", "", "| reason | scenarios | area(s) |", "|---|---:|---|"]
            for reason, rs in sorted(skipped.items(), key=lambda kv: -len(kv[1])):
                areas = ", ".join(sorted({r.area for r in rs}))
                lines.append(f"| {reason.replace('|', '/')} | {len(rs)} | {areas} |")
        from .musts import must_section

        lines += [""] + must_section(self.results.values())
        comparison = self.comparison()
        if comparison is not None:
            lines += [""] + _comparison_md(self.dut, *comparison)
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / "report.md"
        path.write_text("\n".join(lines) + "\n")
        return path


def _kind(outcome: str) -> str:
    """An outcome reduced to what two runs can share: junit.xml writes an xfail as a skip."""
    return {"xfailed": "skipped", "xpassed": "passed"}.get(outcome, outcome)


def comparison_section(dut: str, results: Any, skip_reasons: dict[str, str], tern: Any,
                       doc: str | None = None, doc_name: str = "") -> list[str]:
    """The report's "Compared with Tern" section (Markdown lines): :func:`comparison_rows` as a table."""
    return _comparison_md(dut, *comparison_rows(dut, results, skip_reasons, tern, doc, doc_name))


def _comparison_md(dut: str, summary: str, rows: list) -> list[str]:
    lines = ["## Compared with Tern", "", summary, ""]
    if rows:
        lines += [f"| scenario | Tern | {dut} | cause |", "|---|---|---|---|"]
        for nid, theirs, ours, cause in rows:
            lines.append(f"| `{nid}` | {theirs} | {ours} | {cause.replace('|', '/')} |")
    return lines


def comparison_rows(dut: str, results: Any, skip_reasons: dict[str, str], tern: Any,
                    doc: str | None = None, doc_name: str = "") -> tuple[str, list[tuple[str, str, str, str]]]:
    """The comparison with Tern: a summary sentence and one row (scenario, Tern's result, the DUT's, cause)
    per scenario whose result differs.

    ``results`` are this run's :class:`Result` objects, ``tern`` the :class:`pyharness.differences.Outcomes`
    of a Tern run (its junit.xml), ``doc`` the text of the DUT's difference document, whose table gives the
    cause of each known difference (its ``[key]`` and that section's heading). Scenarios that only one run
    holds are counted, not listed; so are scenarios Tern passes and the DUT skips (a capability it lacks,
    listed under "Skipped" with the reason). Every other difference is a row, failures first.
    """
    from .differences import _causes, listed_differences, scenario_key

    listed = listed_differences(doc) if doc else {}
    headings = {}
    for key, body in (_causes(doc) if doc else {}).items():
        headings[key] = body.strip().splitlines()[0].strip() if body.strip() else ""
    tern_of = {n: "failed" for n in tern.failed}
    tern_of.update({n: "skipped" for n in tern.skipped})
    tern_of.update({n: "passed" for n in tern.passed})
    rows, only_here, skipped_here = [], 0, 0
    for r in sorted(results, key=lambda r: r.nodeid):
        sid = scenario_key(r.nodeid)
        if sid not in tern_of:
            only_here += 1
            continue
        ours, theirs = _kind(r.outcome), tern_of[sid]
        if ours == theirs:
            continue
        if ours == "skipped" and theirs == "passed":
            skipped_here += 1
            continue
        cause = listed.get(sid, "").strip()
        for key in re.findall(r"\[([a-z0-9-]+)\]", cause):
            if headings.get(key):
                cause = cause.replace(f"[{key}]", f"[{key}] {headings[key]}", 1)
        if not cause and ours == "skipped":
            cause = skip_reasons.get(r.nodeid, "")
        rows.append((ours != "failed", sid, theirs, r.outcome, cause or "(not in the difference document)"))
    ran = {scenario_key(r.nodeid) for r in results}
    summary = (f"{len(rows)} scenarios differ from Tern's run"
               + (f" (causes from `{doc_name}`)" if doc_name else "")
               + f"; {skipped_here} that Tern passes are skipped against {dut} (see Skipped); "
               f"{only_here} ran only here, {len(set(tern_of) - ran)} only in Tern's run.")
    return summary, [(nid, theirs, ours, cause) for _, nid, theirs, ours, cause in sorted(rows)]


__all__ = ["ReportPlugin", "Result", "area_of", "comparison_rows", "comparison_section", "outcome_of", "OUTCOMES"]
