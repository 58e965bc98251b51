"""pyharness.differences: a run against a third-party DUT must agree with its committed difference document."""

from __future__ import annotations

from pathlib import Path

from pyharness.differences import Outcomes, check, listed_differences, main, read_junit

DOC = """# x differences
<!-- differences -->
| Scenario | Cause |
|---|---|
| `scenarios/tcp/test_a.py::test_one[1]` | RFC 6691 §2: "the sender MUST reduce the TCP data length" |
| `scenarios/tcp/test_a.py::test_two` | [rst] |
<!-- /differences -->

### [rst] RSTs
RFC 9293: "reset"
"""

JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="scenarios.tcp.test_a" name="test_one[1]"><failure message="x">boom</failure></testcase>
<testcase classname="scenarios.tcp.test_a" name="test_two"><failure message="x">boom</failure></testcase>
<testcase classname="scenarios.tcp.test_a" name="test_three" />
<testcase classname="scenarios.tcp.test_a.TestGroup" name="test_four"><skipped message="lacks udp" /></testcase>
</testsuite></testsuites>"""


def test_junit_node_ids_and_outcomes(tmp_path: Path) -> None:
    p = tmp_path / "junit.xml"
    p.write_text(JUNIT)
    o = read_junit(p)
    assert o.failed == {"scenarios/tcp/test_a.py::test_one[1]", "scenarios/tcp/test_a.py::test_two"}
    assert o.passed == {"scenarios/tcp/test_a.py::test_three"}
    assert o.skipped == {"scenarios/tcp/test_a.py::TestGroup::test_four"}


def test_agreeing_run_passes_and_the_command_says_so(tmp_path: Path, capsys) -> None:
    (tmp_path / "junit.xml").write_text(JUNIT)
    (tmp_path / "doc.md").write_text(DOC)
    assert main([str(tmp_path / "doc.md"), str(tmp_path / "junit.xml")]) == 0
    assert "2 failures documented" in capsys.readouterr().out


def test_new_stale_unknown_and_unquoted_differences_are_reported() -> None:
    listed = listed_differences(DOC)
    assert set(listed) == {"scenarios/tcp/test_a.py::test_one[1]", "scenarios/tcp/test_a.py::test_two"}
    new = Outcomes(passed=set(), failed={"scenarios/tcp/test_a.py::test_one[1]", "scenarios/tcp/test_a.py::test_two",
                                         "scenarios/tcp/test_b.py::test_new"}, skipped=set())
    assert any(p.startswith("new difference: scenarios/tcp/test_b.py::test_new") for p in check(DOC, new))
    stale = Outcomes(passed={"scenarios/tcp/test_a.py::test_two"}, failed={"scenarios/tcp/test_a.py::test_one[1]"},
                     skipped=set())
    assert check(DOC, stale) == ["stale difference: scenarios/tcp/test_a.py::test_two passes now; remove it from "
                                 "the document"]
    partial = Outcomes(passed=set(), failed={"scenarios/tcp/test_a.py::test_one[1]"}, skipped=set())
    assert check(DOC, partial, subset=True) == []
    assert any(p.startswith("unknown scenario") for p in check(DOC, partial))
    unquoted = DOC.replace('"reset"', "reset")
    both = Outcomes(passed=set(), failed=set(listed), skipped=set())
    assert check(DOC, both) == []
    assert check(unquoted, both) == ["scenarios/tcp/test_a.py::test_two: the row quotes no RFC text"]
    assert check(DOC.replace('RFC 9293: "reset"', "No RFC requirement: both are allowed"), both) == []
    undefined = DOC.replace("### [rst]", "### [other]")
    assert check(undefined, both) == ["scenarios/tcp/test_a.py::test_two: cause [rst] has no section "
                                      "'### [rst] ...' in the document"]
