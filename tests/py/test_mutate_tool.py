"""tools/mutate/mutate.py: the mutant list stays in step with the sources; the table and the figure."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

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
