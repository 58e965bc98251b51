"""``report.html``: the run's report as one self-contained page (no script, no external file).

Beside ``report.md``: per area and per test the status, duration and RFC
references; for each failure the message in full (with the closest-frame
table or the golden diff it contains), the time-sequence plots embedded as
PNG data, links to the pcaps, the link and node counters when the test
ended, and the replay command. Paths are relative to the project's folder
(links relative to the report), so the page works from a CI artifact.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .report import ReportPlugin, Result

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 78em; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.3em; border-bottom: 1px solid #ccc; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .5em 0; } td, th { border: 1px solid #ddd; padding: .2em .6em; }
th { background: #f4f4f4; text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.passed { color: #176b2c; } .failed { color: #b00020; font-weight: bold; } .skipped, .xfailed { color: #7a6400; }
.xpassed { color: #8a4f00; }
pre { background: #f7f7f7; border: 1px solid #e2e2e2; padding: .6em; overflow-x: auto; font-size: 12.5px; }
details.failure { border: 1px solid #e8b4b8; border-radius: 4px; padding: .4em .8em; margin: .8em 0; }
details.failure > summary { cursor: pointer; font-weight: bold; }
img.plot { max-width: 100%; border: 1px solid #ddd; margin: .4em 0; }
code { background: #f1f1f1; padding: 0 .2em; }
.verdict-failed { color: #b00020; } .verdict-passed { color: #176b2c; }
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _rel_link(root: Path, out: Path, rel: str) -> str:
    """A link from the report's folder to ``rel`` (relative to the project's folder)."""
    target = Path(rel) if Path(rel).is_absolute() else root / rel
    return os.path.relpath(target, out).replace(os.sep, "/")


def _sections(text: str) -> dict[str, str]:
    """The parts of a failure worth showing apart: the closest-frame table and the golden diff."""
    lines = [ln[1:].rstrip() if ln.startswith("E") else ln for ln in text.splitlines() if ln.startswith("E ")]
    out: dict[str, str] = {}
    for i, ln in enumerate(lines):
        if re.match(r"\s*(closest frame|the matching frame|the frame):", ln) and "closest frame" not in out:
            block = [ln]
            for nxt in lines[i + 1:]:
                if re.match(r"\s*frames seen in the window", nxt):
                    break
                block.append(nxt)
            out["closest frame"] = "\n".join(block)
        if "differs from golden" in ln and "golden diff" not in out:
            out["golden diff"] = "\n".join(lines[i:])
    return out


def _counters_table(path: Path) -> str:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return ""
    parts = []
    links = data.get("links", {})
    if links:
        keys = sorted({k for dirs in links.values() for c in dirs.values() for k in c})
        rows = []
        for name, dirs in links.items():
            for d, c in dirs.items():
                if c.get("frames_in") or c.get("delivered"):
                    nz = ", ".join(f"{k}={c[k]}" for k in keys if c.get(k))
                    rows.append(f"<tr><td>{_e(name)}</td><td>{_e(d)}</td><td>{_e(nz)}</td></tr>")
        if rows:
            parts.append("<table><tr><th>link</th><th>direction</th><th>counters (non-zero)</th></tr>"
                         + "".join(rows) + "</table>")
    nodes = data.get("nodes", {})
    if nodes:
        rows = [f"<tr><td>{_e(n)}</td><td>{_e(', '.join(f'{k}={v}' for k, v in sorted(c.items()) if v))}</td></tr>"
                for n, c in nodes.items()]
        parts.append("<table><tr><th>node</th><th>counters (non-zero)</th></tr>" + "".join(rows) + "</table>")
    return "".join(parts)


def _failure(plugin: "ReportPlugin", r: "Result", out: Path) -> str:
    root = plugin.root
    body = [f'<details class="failure" open id="{_e(r.nodeid)}"><summary>{_e(r.nodeid)}</summary>']
    if r.rfc:
        body.append(f"<p>RFC {_e(r.rfc)}</p>")
    if r.message:
        body.append(f"<p><b>{_e(r.message)}</b></p>")
    for title, block in _sections(r.longrepr).items():
        body.append(f"<h4>{_e(title)}</h4><pre>{_e(block)}</pre>")
    adir = (root / r.artifacts) if r.artifacts else None
    if adir is not None and adir.is_dir():
        for png in sorted(adir.glob("*.png")):
            data = base64.b64encode(png.read_bytes()).decode()
            body.append(f'<h4>time-sequence plot: {_e(png.name)}</h4>'
                        f'<img class="plot" alt="time-sequence plot {_e(png.name)}" src="data:image/png;base64,{data}">')
        pcaps = sorted(adir.glob("*.pcap"))
        if pcaps:
            links = ", ".join(f'<a href="{_e(_rel_link(root, out, str(Path(r.artifacts) / p.name)))}">{_e(p.name)}</a>'
                              for p in pcaps)
            body.append(f"<p>pcaps: {links} (folder <code>{_e(r.artifacts)}/</code>)</p>")
        counters = adir / "counters.json"
        if counters.exists():
            body.append("<h4>counters when the test ended</h4>" + _counters_table(counters))
    if r.replay:
        body.append(f"<h4>replay (from the project's folder)</h4><pre>{_e(r.replay)}</pre>")
    body.append(f"<h4>failure in full</h4><pre>{_e(r.longrepr)}</pre></details>")
    return "\n".join(body)


def comparison_html(dut: str, summary: str, rows: list) -> list[str]:
    """The "Compared with Tern" section (``pyharness run --compare-with``): the summary, and a table of the
    scenarios whose result differs from Tern's, each failure linked to its details below."""
    h = ['<h2 id="compared">Compared with Tern</h2>', f"<p>{_e(summary)}</p>"]
    if rows:
        h.append(f"<table><tr><th>scenario</th><th>Tern</th><th>{_e(dut)}</th><th>cause</th></tr>")
        for nid, theirs, ours, cause in rows:
            name = f'<a href="#{_e(nid)}">{_e(nid)}</a>' if ours == "failed" else _e(nid)
            h.append(f'<tr><td>{name}</td><td class="{_e(theirs)}">{_e(theirs)}</td>'
                     f'<td class="{_e(ours)}">{_e(ours)}</td><td>{_e(cause)}</td></tr>')
        h.append("</table>")
    return h


def render(plugin: "ReportPlugin") -> str:
    """The report page as a string."""
    from .report import OUTCOMES

    out = plugin.out
    by_area: dict[str, list] = defaultdict(list)
    for r in plugin.results.values():
        if r.outcome in OUTCOMES:
            by_area[r.area].append(r)
    t = plugin.totals()
    verdict = "FAILED" if t["failed"] else "passed"
    h = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
         f"<title>Tern conformance report: {verdict}</title><style>{STYLE}</style></head><body>",
         f'<h1>Tern conformance report: <span class="verdict-{verdict.lower()}">{verdict}</span></h1>',
         f"<p>Seed {plugin.seed}. " + ", ".join(f"{t[k]} {k}" for k in OUTCOMES) + ".</p>",
         "<table><tr><th>area</th>" + "".join(f"<th>{k}</th>" for k in OUTCOMES) + "</tr>"]
    counts = plugin.counts()
    for area in sorted(counts):
        h.append(f'<tr><td><a href="#area-{_e(area)}">{_e(area)}</a></td>'
                 + "".join(f'<td class="n">{counts[area][k]}</td>' for k in OUTCOMES) + "</tr>")
    h.append("<tr><th>total</th>" + "".join(f'<th class="n">{t[k]}</th>' for k in OUTCOMES) + "</tr></table>")
    comparison = plugin.comparison()
    if comparison is not None:
        h += comparison_html(plugin.dut, *comparison)
    failed = [r for r in plugin.results.values() if r.outcome == "failed"]
    if failed:
        h.append(f'<h2 id="failures">Failures ({len(failed)})</h2>')
        h += [_failure(plugin, r, out) for r in failed]
    for area in sorted(by_area):
        h.append(f'<h2 id="area-{_e(area)}">{_e(area)}</h2>')
        h.append("<table><tr><th>test</th><th>status</th><th>duration</th><th>RFC</th><th>note</th></tr>")
        for r in sorted(by_area[area], key=lambda r: r.nodeid):
            name = f'<a href="#{_e(r.nodeid)}">{_e(r.nodeid)}</a>' if r.outcome == "failed" else _e(r.nodeid)
            note = r.message if r.outcome == "failed" else plugin.skip_reasons.get(r.nodeid, "")
            h.append(f'<tr><td>{name}</td><td class="{_e(r.outcome)}">{_e(r.outcome)}</td>'
                     f'<td class="n">{r.duration:.2f}s</td><td>{_e(r.rfc)}</td><td>{_e(note)}</td></tr>')
        h.append("</table>")
    h.append("</body></html>")
    return "\n".join(h) + "\n"


def write_html(plugin: "ReportPlugin") -> Path:
    """Write ``report.html`` beside ``report.md``; returns its path."""
    plugin.out.mkdir(parents=True, exist_ok=True)
    path = plugin.out / "report.html"
    path.write_text(render(plugin))
    return path


__all__ = ["comparison_html", "render", "write_html"]
