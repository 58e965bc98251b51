"""Every code block of README.md and docs/ runs in a test (issue 18 item 2).

A fenced block's first info word says what it is and how it is checked:

- ``python``: executed on its own (fresh namespace, empty working folder);
  every ``test_*`` function it defines is then called.
- ``c``: compiled (``cc -fsyntax-only``) against the project's headers; a
  block whose info string says ``excerpt=PATH`` is instead a quotation of
  that file, and each of its declarations must be found there.
- ``sh``: each command is a ``make`` target that must exist in the Makefile,
  or a ``pyharness`` subcommand that must exist.
- ``text``: output shown to the reader, not code.

A block with any other (or no) info word fails the test, so an example
cannot slip in unchecked.
"""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.S | re.M)
KINDS = ("python", "c", "sh", "text")


def blocks() -> list[tuple[str, int, str, str]]:
    """(file, line, info string, code) of every fenced block of the docs."""
    out = []
    for path in DOCS:
        text = path.read_text()
        for m in FENCE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            out.append((str(path.relative_to(ROOT)), line, m.group(1).strip(), m.group(2)))
    return out


BLOCKS = blocks()


def ids(kind: str) -> list:
    return [pytest.param(b, id=f"{b[0]}:{b[1]}") for b in BLOCKS if b[2].split(" ")[0] == kind]


def test_every_block_says_what_it_is():
    assert len(BLOCKS) >= 6, "the docs lost their examples?"
    bad = [f"{f}:{line}: ```{info}" for f, line, info, _ in BLOCKS if info.split(" ")[0] not in KINDS]
    assert not bad, f"code blocks without a checked kind ({', '.join(KINDS)}):\n" + "\n".join(bad)


@pytest.mark.parametrize("block", ids("python"))
def test_python_example_runs(block, tmp_path, monkeypatch):
    """The block runs as written, and so does every test_* function it defines."""
    where, line, _, code = block
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TERN_ARTIFACTS", raising=False)
    script = tmp_path / f"example_{line}.py"
    # Line numbers in a traceback point into the document.
    script.write_text("\n" * line + code)
    ns = runpy.run_path(str(script), run_name="__doc_example__")
    for name, fn in sorted(ns.items()):
        if name.startswith("test_") and callable(fn):
            fn()


@pytest.mark.parametrize("block", ids("c"))
def test_c_example_compiles_or_quotes_the_header(block, tmp_path):
    where, line, info, code = block
    m = re.search(r"excerpt=(\S+)", info)
    if m:
        src = (ROOT / m.group(1)).read_text()
        flat = " ".join(src.split())
        # Each statement (up to a ';') must appear in the file, whitespace aside.
        decls = [" ".join(d.split()) + ";" for d in code.split(";") if d.strip()]
        assert decls
        missing = [d for d in decls if d not in flat]
        assert not missing, f"{where}:{line} quotes {m.group(1)}, which does not contain:\n" + "\n".join(missing)
        return
    cc = shutil.which("cc")
    assert cc, "a C compiler is needed to check the C examples"
    f = tmp_path / "example.c"
    f.write_text(f'#line {line + 1} "{where}"\n' + code)
    r = subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only",
                        "-I", str(ROOT / "sim" / "include"), "-I", str(ROOT / "stack" / "include"), str(f)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("block", ids("sh"))
def test_shell_example_names_real_commands(block):
    where, line, _, code = block
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([A-Za-z][\w-]*):", makefile, re.M))
    from pyharness.cli import main

    for cmd in (ln.split("#")[0].strip() for ln in code.splitlines()):
        if not cmd:
            continue
        words = cmd.split()
        if words[0] == "make":
            goals = [w for w in words[1:] if "=" not in w and not w.startswith("-")]
            assert goals and set(goals) <= targets, f"{where}:{line}: {cmd!r}: no such make target"
        elif Path(words[0]).name == "pyharness":
            with pytest.raises(SystemExit) as e:
                main([words[1], "--help"])
            assert e.value.code == 0, f"{where}:{line}: {cmd!r}: no such pyharness command"
        else:
            pytest.fail(f"{where}:{line}: {cmd!r}: the check knows make and pyharness commands only")


def test_the_docs_do_not_point_outside_the_repository():
    """Issue 18 item 12: links resolve inside the repository; nothing in it points at ../shared.

    Source comments cite "DESIGN.md §N": that is docs/DESIGN.md, which must exist.
    """
    assert (ROOT / "docs" / "DESIGN.md").exists()
    bad = []
    skip = {".git", ".venv", "build", "out", "artifacts", "node_modules", ".hypothesis"}
    suffixes = {".c", ".h", ".py", ".md", ".txt", ".toml", ".sh", ".cmake", ".cfg", ".ini", ".yml", ".yaml"}
    files = []
    for folder, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in skip and not d.startswith("build")]
        files += [Path(folder) / n for n in names
                  if Path(n).suffix in suffixes or n in ("Makefile", "CMakeLists.txt")]
    for path in files:
        text = path.read_text(errors="replace")
        if path != Path(__file__) and re.search(r"\.\./shared|/work/shared", text):
            bad.append(f"{path.relative_to(ROOT)}: points outside the repository (../shared)")
        if path.suffix == ".md" and path in DOCS:
            for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
                if re.match(r"[a-z]+:", target):
                    continue
                if not (path.parent / target).exists():
                    bad.append(f"{path.relative_to(ROOT)}: link to {target} does not resolve")
    assert not bad, "\n".join(bad)


def test_docstring_examples_of_the_new_helpers_run(tmp_path, monkeypatch):
    import doctest

    import pyharness.transfer

    monkeypatch.chdir(tmp_path)
    result = doctest.testmod(pyharness.transfer)
    assert result.attempted >= 3 and result.failed == 0
