"""The report's comparison with Tern (issue 17): per scenario, Tern's result beside the DUT's, only rows that differ."""

from __future__ import annotations

from pyharness.differences import Outcomes
from pyharness.report import Result, comparison_section

DOC = """# x differences
### [rst] RSTs are not sent
RFC 9293: "reset"

<!-- differences -->
| Scenario | Cause |
|---|---|
| `scenarios/tcp/test_a.py::test_rst` | [rst] |
<!-- /differences -->
"""


def _r(nodeid: str, outcome: str) -> Result:
    return Result(nodeid=nodeid, area="tcp", outcome=outcome)


def test_only_differing_rows_with_the_documented_cause() -> None:
    results = [_r("scenarios/tcp/test_a.py::test_same", "passed"),
               _r("scenarios/tcp/test_a.py::test_rst", "failed"),
               _r("scenarios/tcp/test_a.py::test_new", "failed"),
               _r("scenarios/tcp/test_a.py::test_only_tern_fails", "passed"),
               _r("scenarios/tcp/test_a.py::test_known", "xfailed"),
               _r("scenarios/udp/test_u.py::test_udp", "skipped"),
               _r("scenarios/tcp/test_a.py::test_not_in_tern", "passed")]
    tern = Outcomes(passed={"scenarios/tcp/test_a.py::test_same", "scenarios/tcp/test_a.py::test_rst",
                            "scenarios/tcp/test_a.py::test_new", "scenarios/udp/test_u.py::test_udp",
                            "scenarios/tcp/test_a.py::test_gone"},
                    failed={"scenarios/tcp/test_a.py::test_only_tern_fails"},
                    skipped={"scenarios/tcp/test_a.py::test_known"})
    lines = comparison_section("toy", results, {"scenarios/udp/test_u.py::test_udp": "lacks udp"}, tern, DOC,
                               "docs/toy-differences.md")
    text = "\n".join(lines)
    assert lines[0] == "## Compared with Tern"
    assert ("3 scenarios differ from Tern's run (causes from `docs/toy-differences.md`); 1 that Tern passes are "
            "skipped against toy (see Skipped); 1 ran only here, 1 only in Tern's run.") in text
    rows = [line for line in lines if line.startswith("| `")]
    # Failures first, then the rest; equal results (and an xfail, a skip in junit.xml) are not rows.
    assert rows == [
        "| `scenarios/tcp/test_a.py::test_new` | passed | failed | (not in the difference document) |",
        "| `scenarios/tcp/test_a.py::test_rst` | passed | failed | [rst] RSTs are not sent |",
        "| `scenarios/tcp/test_a.py::test_only_tern_fails` | failed | passed | (not in the difference document) |",
    ]
    assert "| scenario | Tern | toy | cause |" in lines


def test_no_difference_no_table() -> None:
    lines = comparison_section("toy", [_r("scenarios/tcp/test_a.py::test_same", "passed")], {},
                               Outcomes({"scenarios/tcp/test_a.py::test_same"}, set(), set()))
    assert lines[2].startswith("0 scenarios differ from Tern's run;")
    assert not [line for line in lines if line.startswith("|")]


def test_html_section_lists_the_same_rows_with_links_to_failures() -> None:
    from pyharness.report import comparison_rows
    from pyharness.report_html import comparison_html

    results = [_r("scenarios/tcp/test_a.py::test_rst", "failed"), _r("scenarios/tcp/test_a.py::test_ok", "passed")]
    tern = Outcomes(passed={"scenarios/tcp/test_a.py::test_rst"}, failed={"scenarios/tcp/test_a.py::test_ok"},
                    skipped=set())
    summary, rows = comparison_rows("toy", results, {}, tern, DOC, "docs/toy-differences.md")
    html = "\n".join(comparison_html("toy", summary, rows))
    assert '<h2 id="compared">Compared with Tern</h2>' in html
    assert "2 scenarios differ from Tern&#x27;s run" in html or "2 scenarios differ from Tern's run" in html
    assert ('<tr><td><a href="#scenarios/tcp/test_a.py::test_rst">scenarios/tcp/test_a.py::test_rst</a></td>'
            '<td class="passed">passed</td><td class="failed">failed</td><td>[rst] RSTs are not sent</td></tr>') in html
    assert ('<tr><td>scenarios/tcp/test_a.py::test_ok</td><td class="failed">failed</td>'
            '<td class="passed">passed</td><td>(not in the difference document)</td></tr>') in html
