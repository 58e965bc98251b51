"""``pyharness run``'s report: a pytest plugin that gathers results and writes report.md.

Results are grouped by protocol area: the ``area`` marker, else the first
directory under ``scenarios/`` (``scenarios/tcp/test_x.py`` → ``tcp``), else
the test file's directory. Each failure lists its RFC references (``rfc``
marker), its artifacts directory and its replay command.
"""

from __future__ import annotations

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


@dataclass
class ReportPlugin:
    """Collects results during a pytest session and writes ``report.md`` at its end."""

    out: Path
    seed: int
    results: dict[str, Result] = field(default_factory=dict)

    def pytest_collection_modifyitems(self, items: list) -> None:
        for item in items:
            m = item.get_closest_marker("area")
            rfc = ", ".join(r for mk in item.iter_markers("rfc") for r in mk.args)
            self.results.setdefault(item.nodeid, Result(item.nodeid, area_of(item.nodeid, m.args[0] if m else ""),
                                                        "not run", rfc=rfc))

    def pytest_runtest_logreport(self, report: Any) -> None:
        r = self.results.setdefault(report.nodeid, Result(report.nodeid, area_of(report.nodeid), "not run"))
        props = dict(getattr(report, "user_properties", []))
        if props.get("pyharness_rfc"):
            r.rfc = props["pyharness_rfc"]
        if report.when == "call" or (report.when == "setup" and not report.passed):
            r.outcome = "skipped" if report.skipped else ("passed" if report.passed else "failed")
        elif report.when == "teardown" and report.failed:
            r.outcome = "failed"
        if report.failed:
            r.artifacts = props.get("pyharness_artifacts", r.artifacts)
            r.replay = props.get("pyharness_replay", r.replay)
            text = str(getattr(report, "longreprtext", "") or "")
            lines = [ln for ln in text.splitlines() if ln.startswith("E ")]
            r.message = (lines[0][1:].strip() if lines else text.strip().splitlines()[-1:][0] if text.strip() else "")[:200]

    def pytest_sessionfinish(self, session: Any) -> None:
        self.write()

    def write(self) -> Path:
        """Write ``report.md``; returns its path."""
        by_area: dict[str, list[Result]] = defaultdict(list)
        for r in self.results.values():
            by_area[r.area].append(r)
        total = defaultdict(int)
        for r in self.results.values():
            total[r.outcome] += 1
        lines = ["# Tern scenario report", "",
                 f"Seed {self.seed}. {total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped.",
                 "", "| area | passed | failed | skipped |", "|---|---|---|---|"]
        for area in sorted(by_area):
            rs = by_area[area]
            c = {k: sum(r.outcome == k for r in rs) for k in ("passed", "failed", "skipped")}
            lines.append(f"| {area} | {c['passed']} | {c['failed']} | {c['skipped']} |")
        for area in sorted(by_area):
            failed = [r for r in by_area[area] if r.outcome == "failed"]
            if not failed:
                continue
            lines += ["", f"## {area}: failures", ""]
            for r in failed:
                lines.append(f"- `{r.nodeid}`" + (f" (RFC {r.rfc})" if r.rfc else ""))
                if r.message:
                    lines.append(f"  - {r.message}")
                if r.artifacts:
                    lines.append(f"  - artifacts: `{r.artifacts}/`")
                if r.replay:
                    lines.append(f"  - replay: `{r.replay}`")
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / "report.md"
        path.write_text("\n".join(lines) + "\n")
        return path


__all__ = ["ReportPlugin", "Result", "area_of"]
