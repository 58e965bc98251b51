"""Compare a run against a third-party DUT with its committed difference document.

A difference document (``docs/smoltcp-differences.md``) holds, between ``<!-- differences -->`` and
``<!-- /differences -->``, a Markdown table whose first column is a scenario's node id in backquotes and
whose last column quotes the RFC text that decides. Every scenario listed there passes against Tern and
fails against the DUT. :func:`check` reads the run's ``junit.xml`` and reports

- a scenario that failed but is not listed (a new difference: document it, with the RFC text, or fix it);
- a listed scenario that ran and did not fail (the document is stale);
- with ``subset=False``, a listed scenario that did not run at all (a renamed or removed scenario);
- a row without quoted RFC text: the row quotes it, or names a cause ``[key]`` whose section
  (a heading ``### [key] ...``) quotes it, or says "No RFC requirement" (a difference where the RFCs
  leave the choice open: the section must say so in those words).

    python -m pyharness.differences docs/smoltcp-differences.md out/smoltcp/junit.xml [--subset]
"""

from __future__ import annotations

import argparse
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Outcomes", "listed_differences", "read_junit", "check", "main"]

BEGIN, END = "<!-- differences -->", "<!-- /differences -->"
_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|(.*)\|\s*$")


@dataclass
class Outcomes:
    """Node ids of a run by outcome."""

    passed: set
    failed: set
    skipped: set

    @property
    def ran(self) -> set:
        """Every node id the run reported."""
        return self.passed | self.failed | self.skipped


def listed_differences(doc: str) -> dict[str, str]:
    """node id -> the rest of its row, from the document's differences table."""
    if BEGIN not in doc or END not in doc:
        raise ValueError(f"the document has no {BEGIN} ... {END} table")
    body = doc[doc.index(BEGIN) + len(BEGIN):doc.index(END)]
    out: dict[str, str] = {}
    for line in body.splitlines():
        m = _ROW.match(line.strip())
        if m and "::" in m.group(1):
            out[m.group(1)] = m.group(2)
    return out


def scenario_key(nodeid: str) -> str:
    """The id a scenario is compared and listed under: its node id, the IPv4 run of a dual-family scenario without
    its family id ("test_x[ipv4]" -> "test_x", as it was named before it ran over both families); an IPv6 run
    keeps it ("test_x[ipv6]")."""
    from .plugin import without_family

    return without_family(nodeid, "ipv4")


def _nodeid(case: ET.Element) -> str:
    cls, name = case.get("classname", ""), case.get("name", "")
    parts = cls.split(".")
    # pytest's classname: the module path with dots, then any test classes (capitalised by convention).
    mods = [p for p in parts if not p[:1].isupper()]
    classes = parts[len(mods):]
    return scenario_key("::".join(["/".join(mods) + ".py", *classes, name]))


def read_junit(path: Path) -> Outcomes:
    """The outcomes of a run from its junit.xml."""
    out = Outcomes(set(), set(), set())
    for case in ET.parse(path).getroot().iter("testcase"):
        nid = _nodeid(case)
        if case.find("failure") is not None or case.find("error") is not None:
            out.failed.add(nid)
        elif case.find("skipped") is not None:
            out.skipped.add(nid)
        else:
            out.passed.add(nid)
    return out


def _causes(doc: str) -> dict[str, str]:
    """cause key -> the text of its section (from its ``### [key]`` heading to the next heading)."""
    out: dict[str, str] = {}
    for m in re.finditer(r"^###\s*\[([a-z0-9-]+)\](.*?)(?=^#|\Z)", doc, re.M | re.S):
        out[m.group(1)] = m.group(2)
    return out


def check(doc: str, outcomes: Outcomes, subset: bool = False) -> list[str]:
    """What disagrees between the document and the run (empty: they agree)."""
    listed = listed_differences(doc)
    problems = []
    for nid in sorted(outcomes.failed - set(listed)):
        problems.append(f"new difference: {nid} fails but is not in the document (add it with the RFC text "
                        f"that decides, or fix the DUT adapter)")
    for nid in sorted(set(listed) & (outcomes.passed | outcomes.skipped)):
        how = "passes" if nid in outcomes.passed else "is skipped"
        problems.append(f"stale difference: {nid} {how} now; remove it from the document")
    if not subset:
        for nid in sorted(set(listed) - outcomes.ran):
            problems.append(f"unknown scenario: {nid} is listed but did not run (renamed or removed?)")
    causes = _causes(doc)
    for nid, rest in sorted(listed.items()):
        keys = re.findall(r"\[([a-z0-9-]+)\]", rest)
        quoted = '"' in rest or any('"' in causes.get(k, "") or "No RFC requirement" in causes.get(k, "")
                                    for k in keys)
        unknown = [k for k in keys if k not in causes]
        if unknown:
            problems.append(f"{nid}: cause [{unknown[0]}] has no section '### [{unknown[0]}] ...' in the document")
        elif not quoted:
            problems.append(f"{nid}: the row quotes no RFC text")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command line: exit 1 and say what differs when the run and the document disagree."""
    ap = argparse.ArgumentParser(prog="python -m pyharness.differences", description=__doc__.split("\n\n")[0])
    ap.add_argument("doc", type=Path, help="the difference document (docs/<dut>-differences.md)")
    ap.add_argument("junit", type=Path, help="junit.xml of the run against that DUT")
    ap.add_argument("--subset", action="store_true", help="the run covered only part of the suite")
    args = ap.parse_args(argv)
    if not args.junit.is_file():
        print(f"differences: no {args.junit}: the run did not complete", file=sys.stderr)
        return 2
    outcomes = read_junit(args.junit)
    problems = check(args.doc.read_text(), outcomes, subset=args.subset)
    listed = listed_differences(args.doc.read_text())
    print(f"differences: {len(outcomes.passed)} passed, {len(outcomes.failed)} failed, {len(outcomes.skipped)} "
          f"skipped; {len(set(listed) & outcomes.failed)} failures documented in {args.doc}")
    for p in problems:
        print(f"  {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
