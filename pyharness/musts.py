"""The RFC 9293 MUST table of ``report.md``: every MUST id of Appendix B and where the suite stands on it.

The ids, the features they name and the ones that are not implemented or not testable (with the reason)
are kept in ``pyharness/data/rfc9293_musts.toml``. A scenario covers a MUST by citing it in its ``rfc``
marker (``@pytest.mark.rfc("9293 MUST-13")``); the table combines the two:

- **covered, passing**: every scenario citing it that ran passed (at least one ran);
- **covered, FAILING**: at least one scenario citing it failed;
- **covered, known failure (xfail)**: none failed, at least one is an expected failure (a documented
  deviation of the DUT);
- **covered, not run**: scenarios cite it, none ran (all skipped, e.g. for another DUT);
- **not implemented** / **untestable**: the data file says so, with the reason;
- **NOT COVERED**: testable, implemented, and no scenario cites it (a gap in the suite).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Protocol

DATA = Path(__file__).resolve().parent / "data" / "rfc9293_musts.toml"
_CITE = re.compile(r"^9293 (MUST-\d+)$")
_STATUSES = ("testable", "not implemented", "untestable")
PASSED = ("passed", "xpassed")
FAILED = ("failed",)


class CitingResult(Protocol):
    """What the table needs of a test result (``report.Result`` has it)."""

    nodeid: str
    outcome: str
    rfc: str


@dataclass(frozen=True)
class Must:
    """One MUST id of RFC 9293 Appendix B."""

    id: str  # "MUST-13"
    feature: str
    section: str
    status: str = "testable"
    reason: str = ""

    @property
    def number(self) -> int:
        """13 for MUST-13 (for sorting)."""
        return int(self.id.split("-")[1])


def load_musts(path: Path = DATA) -> list[Must]:
    """Read the MUST list; raises ValueError naming the entry and field that is wrong."""
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib  # type: ignore[no-redef]
    data = tomllib.loads(path.read_text())
    out = []
    for key, entry in data.items():
        if not re.fullmatch(r"MUST-\d+", key):
            raise ValueError(f"{path}: [{key}]: not a MUST id (MUST-<n>)")
        status = entry.get("status", "testable")
        if status not in _STATUSES:
            raise ValueError(f"{path}: [{key}] status={status!r}: must be one of {', '.join(_STATUSES)}")
        reason = entry.get("reason", "")
        if status != "testable" and not reason:
            raise ValueError(f"{path}: [{key}] status={status!r} needs a reason")
        if not entry.get("feature"):
            raise ValueError(f"{path}: [{key}]: no feature")
        out.append(Must(key, entry["feature"], entry.get("section", ""), status, reason))
    return sorted(out, key=lambda m: m.number)


def citations(results: Iterable[CitingResult]) -> dict[str, list[CitingResult]]:
    """MUST id -> the results whose rfc references cite it."""
    by: dict[str, list[CitingResult]] = defaultdict(list)
    for r in results:
        for ref in (x.strip() for x in r.rfc.split(",")):
            m = _CITE.match(ref)
            if m:
                by[m.group(1)].append(r)
    return dict(by)


def verdict(must: Must, cited: list[CitingResult]) -> str:
    """The row's verdict (see the module docstring)."""
    if cited:
        if any(r.outcome in FAILED for r in cited):
            return "covered, FAILING"
        if any(r.outcome == "xfailed" for r in cited):
            return "covered, known failure (xfail)"
        if any(r.outcome in PASSED for r in cited):
            return "covered, passing"
        return "covered, not run"
    if must.status != "testable":
        return must.status
    return "NOT COVERED"


def must_rows(results: Iterable[CitingResult], musts: list[Must] | None = None) -> list[tuple[Must, str, list]]:
    """(must, verdict, citing results) for every MUST id of the list, in id order."""
    musts = load_musts() if musts is None else musts
    cites = citations(results)
    known = {m.id for m in musts}
    unknown = sorted(set(cites) - known, key=lambda k: int(k.split("-")[1]))
    if unknown:
        raise ValueError(f"scenarios cite MUST ids that RFC 9293 Appendix B does not have: {', '.join(unknown)} "
                         f"(cited by {cites[unknown[0]][0].nodeid})")
    return [(m, verdict(m, cites.get(m.id, [])), cites.get(m.id, [])) for m in musts]


def _short(nodeid: str) -> str:
    return nodeid.split("/")[-1]


def must_section(results: Iterable[CitingResult], musts: list[Must] | None = None, max_listed: int = 3) -> list[str]:
    """The report's markdown section: a count per verdict and one row per MUST id."""
    rows = must_rows(list(results), musts)
    counts: dict[str, int] = defaultdict(int)
    for _, v, _ in rows:
        counts[v] += 1
    order = ("covered, passing", "covered, FAILING", "covered, known failure (xfail)", "covered, not run",
             "not implemented", "untestable", "NOT COVERED")
    lines = ["## RFC 9293 MUST requirements (Appendix B)", "",
             f"{len(rows)} MUST ids: " + ", ".join(f"{counts[k]} {k}" for k in order if counts[k]) + ".",
             "A scenario covers an id by citing it (`rfc(\"9293 MUST-n\")`); ids that are not implemented or "
             "cannot be tested over the wire say why.", "",
             "| MUST | § | feature | verdict | scenarios or reason |", "|---|---|---|---|---|"]
    for m, v, cited in rows:
        if cited:
            names = [_short(r.nodeid) for r in cited]
            detail = ", ".join(f"`{n}`" for n in names[:max_listed])
            if len(names) > max_listed:
                detail += f" and {len(names) - max_listed} more"
            failing = [_short(r.nodeid) for r in cited if r.outcome in FAILED]
            if failing:
                detail = "failing: " + ", ".join(f"`{n}`" for n in failing[:max_listed]) + "; " + detail
        else:
            detail = m.reason or "no scenario cites it"
        cells = [m.id, m.section, m.feature, f"**{v}**" if v in ("covered, FAILING", "NOT COVERED") else v, detail]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return lines


__all__ = ["Must", "load_musts", "citations", "verdict", "must_rows", "must_section", "DATA"]
