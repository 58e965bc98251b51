"""tools/mutate/mutate.py: the mutant list stays in step with the sources; the table and the figure."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any, Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load():
    spec = importlib.util.spec_from_file_location("tern_mutate", ROOT / "tools" / "mutate" / "mutate.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["tern_mutate"] = mod
    spec.loader.exec_module(mod)
    return mod


mutate = _load()


def test_every_mutant_of_the_list_applies_to_the_sources():
    """Each snippet occurs exactly once in its file (a change to stack/ that moves one fails here, naming
    the mutant); every file has an area; at least 150 mutants."""
    ml = mutate.load_list(mutate.DEFAULT_LIST, ROOT)
    assert len(ml.mutants) >= 150
    for m in ml.mutants:
        for p in ml.area_of(m.file).pytest:
            assert (ROOT / p).exists(), f"area of {m.file}: {p} does not exist"


def test_list_errors_name_the_mutant(tmp_path):
    (tmp_path / "a.c").write_text("int x = 1;\nint y = 1;\n")
    bad = tmp_path / "m.toml"
    bad.write_text('[[area]]\nprefix = "a.c"\n\n[[mutant]]\nid = "m1"\nfile = "a.c"\nfind = " = 1;"\n'
                   'replace = " = 2;"\ndesc = "d"\n')
    with pytest.raises(mutate.ListError, match=r"mutant #1 \(m1\).*occurs 2 times"):
        mutate.load_list(bad, tmp_path)
    bad.write_text('[[mutant]]\nid = "m1"\nfile = "a.c"\nfind = "x = 1"\nreplace = "x = 2"\ndesc = "d"\n')
    with pytest.raises(mutate.ListError, match="no \\[\\[area\\]\\]"):
        mutate.load_list(bad, tmp_path)


def test_table_and_percentage():
    m = [mutate.Mutant(f"m{i}", "stack/src/x.c", "a", "b", "d", line=i) for i in range(4)]
    m[2].equivalent = "cannot be told apart"
    outs = [mutate.Outcome(m[0], "killed", "scenarios/tcp/test_a.py::t"), mutate.Outcome(m[1], "SURVIVED"),
            mutate.Outcome(m[2], "SURVIVED"), mutate.Outcome(m[3], "stillborn", detail="error")]
    assert mutate.killed_pct(outs) == (1, 2, pytest.approx(50.0))  # the equivalent survivor is not counted
    text = "\n".join(mutate.table(outs))
    assert "| m0 | stack/src/x.c:0 | d | killed | scenarios/tcp/test_a.py::t |" in text
    assert "NO REASON GIVEN" in text and "equivalent: cannot be told apart" in text


def test_universalmutator_candidates_are_filtered():
    assert mutate.useful("if (a < b) {", "if (a <= b) {")
    assert mutate.useful("x = y;", "/*x = y;*/")
    assert not mutate.useful("uint32_t x = y;", "uint(32-1)_t x = y;")
    assert not mutate.useful("if (a) {", "/*if (a) {*/")


class _FakeRunner:
    """Stands for mutate.Runner: records what test_mutant asks for; the C test ``killer`` fails."""

    def __init__(self, tree: Path, killer: str) -> None:
        self.tree, self.per_mutant, self.killer, self.calls = tree, 100.0, killer, []

    def log(self, msg: str) -> None:
        pass

    def rebuild(self, timeout: float, target: str = "") -> tuple[bool, str]:
        self.calls.append(("build", target))
        return True, ""

    def pytest(self, paths: list[str], timeout: float, workers: int) -> tuple[None, str]:
        self.calls.append(("pytest", tuple(paths)))
        return None, ""

    def ctest(self, regex: str, timeout: float) -> tuple[Optional[str], str]:
        self.calls.append(("ctest", regex))
        return (f"ctest {self.killer}" if re.search(regex, self.killer) else None), ""


def _one_mutant(tmp_path: Path) -> tuple[Any, Any]:
    (tmp_path / "stack").mkdir()
    (tmp_path / "stack" / "x.c").write_text("int x = 1;\n")
    ml = mutate.MutantList([mutate.Area("stack", "^test_", ["scenarios/x"])])
    return ml, mutate.Mutant("m1", "stack/x.c", "x = 1", "x = 2", "d")


def test_a_c_test_hint_runs_first_and_alone(tmp_path):
    """A mutant a C test killed last time: the whole build, then that one C test, and no scenario at all
    (the scenarios of the TCP area take minutes); the source comes back unchanged."""
    ml, m = _one_mutant(tmp_path)
    r = _FakeRunner(tmp_path, "test_tcp_tlp")
    o = mutate.test_mutant(r, ml, m, "ctest test_tcp_tlp", 1)
    assert (o.status, o.by) == ("killed", "ctest test_tcp_tlp")
    assert r.calls == [("build", "_ternffi"), ("build", ""), ("ctest", "^test_tcp_tlp$")]
    assert (tmp_path / "stack" / "x.c").read_text() == "int x = 1;\n"


def test_a_stale_c_test_hint_falls_through_to_the_area(tmp_path):
    """When the hinted C test passes, the area's scenarios and C tests run as without a hint."""
    ml, m = _one_mutant(tmp_path)
    r = _FakeRunner(tmp_path, "test_other")
    o = mutate.test_mutant(r, ml, m, "ctest test_tcp_tlp", 1)
    assert (o.status, o.by) == ("killed", "ctest test_other")
    assert r.calls == [("build", "_ternffi"), ("build", ""), ("ctest", "^test_tcp_tlp$"),
                       ("pytest", ("scenarios/x",)), ("build", ""), ("ctest", "^test_")]


def test_timeouts_are_not_remembered_as_killers():
    assert mutate.is_named_killer("ctest test_tcp_tlp")
    assert mutate.is_named_killer("scenarios/tcp/test_a.py::t[ipv4]")
    for by in ("ctest (timeout: the mutant hangs, or the time per mutant ran out)", "pytest (exit 2; see output)",
               "timeout (the tests did not finish in the time per mutant)", ""):
        assert not mutate.is_named_killer(by), by
