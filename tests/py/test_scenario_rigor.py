"""The conformance scenarios stay rigorous (issue 11, "Weak tests"), checked on their source (AST):

- a test whose only expectations are ``expect_nothing`` passes against a mute stack: every
  test that expects nothing also expects something (a positive control: the same setup with
  a valid frame gets its answer);
- ``pytest.raises(Exception)`` and ``except Exception`` accept a harness bug as the error
  under test: a scenario names the exact error class;
- golden traces compare checksums: no scenario masks ``chksum`` (Tern's traces are deterministic).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator

import pytest

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

#: Names too broad to stand for an expected error.
BROAD = {"Exception", "BaseException"}


def _call_name(call: ast.Call) -> str:
    f = call.func
    if isinstance(f, ast.Attribute):
        return f.attr
    if isinstance(f, ast.Name):
        return f.id
    return ""


def is_positive_expectation(call: ast.Call) -> bool:
    """A call that waits for a frame to arrive: ``expect*`` other than ``expect_nothing``, or any
    call given ``within=`` or ``at=`` (``conn.connect(within=...)``, ``conn.close(within=...)``)."""
    name = _call_name(call)
    if name.startswith("expect") and name != "expect_nothing":
        return True
    return any(k.arg in ("within", "at") for k in call.keywords)


def scenario_tests(root: Path) -> Iterator[tuple[str, ast.FunctionDef]]:
    """Every ``test_*`` function of every scenario file under ``root``, with its ``file:line``."""
    for path in sorted(root.rglob("test_*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"):
                yield f"{path.relative_to(root.parent)}:{node.lineno} {node.name}", node


def only_expect_nothing(root: Path) -> list[str]:
    """Tests under ``root`` that call ``expect_nothing`` and expect no frame at all."""
    weak = []
    for where, fn in scenario_tests(root):
        calls = [n for n in ast.walk(fn) if isinstance(n, ast.Call)]
        if any(_call_name(c) == "expect_nothing" for c in calls) and not any(map(is_positive_expectation, calls)):
            weak.append(where)
    return weak


def broad_error_checks(root: Path) -> list[str]:
    """``pytest.raises(Exception)``, ``except Exception`` and bare ``except:`` in the scenarios."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        rel = path.relative_to(root.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) == "raises" and node.args:
                arg = node.args[0]
                names = arg.elts if isinstance(arg, ast.Tuple) else [arg]
                if any(isinstance(n, ast.Name) and n.id in BROAD for n in names):
                    found.append(f"{rel}:{node.lineno} pytest.raises({ast.unparse(arg)})")
            if isinstance(node, ast.ExceptHandler):
                t = node.type
                names = [] if t is None else (t.elts if isinstance(t, ast.Tuple) else [t])
                if t is None or any(isinstance(n, ast.Name) and n.id in BROAD for n in names):
                    found.append(f"{rel}:{node.lineno} except {ast.unparse(t) if t is not None else ''}:")
    return found


def checksum_masks(root: Path) -> list[str]:
    """``golden.check(..., mask=(... "chksum" ...))`` calls (any checksum key)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) == "check":
                for k in node.keywords:
                    if k.arg == "mask" and any(isinstance(c, ast.Constant) and isinstance(c.value, str)
                                               and "chksum" in c.value for c in ast.walk(k.value)):
                        found.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    return found


def test_every_expect_nothing_has_a_positive_control() -> None:
    weak = only_expect_nothing(SCENARIOS)
    assert not weak, ("these scenarios only expect nothing, so a mute stack passes them; give each a positive "
                      "control (the same setup with a valid frame gets its answer):\n  " + "\n  ".join(weak))


def test_scenarios_name_the_exact_error() -> None:
    broad = broad_error_checks(SCENARIOS)
    assert not broad, ("these accept any exception, a harness bug included; name the exact error class:\n  "
                       + "\n  ".join(broad))


def test_goldens_do_not_mask_checksums() -> None:
    masked = checksum_masks(SCENARIOS)
    assert not masked, "golden checks masking checksums (they are deterministic):\n  " + "\n  ".join(masked)


# -- the checks themselves find what they are for ---------------------------------------------------------


@pytest.fixture
def weak_scenarios(tmp_path: Path) -> Path:
    root = tmp_path / "scenarios"
    root.mkdir()
    (root / "test_x.py").write_text('''
import pytest

def test_mute_passes(peer):
    peer.send(b"x")
    peer.expect_nothing(for_="1s")

def test_with_control(peer, conn):
    peer.expect_nothing(for_="1s")
    peer.expect(b"reply", within="1ms")

def test_with_connect(conn):
    conn.expect_nothing(for_="1s")
    conn.connect(within="10ms")

def test_broad(sock):
    with pytest.raises(Exception):
        sock.send(b"")
    try:
        sock.recv()
    except Exception:
        pass

def test_masked(golden, link):
    golden.check(link, mask=("ip.id", "chksum"))
''')
    return root


def test_the_checks_find_weak_tests(weak_scenarios: Path) -> None:
    assert [w.split()[1] for w in only_expect_nothing(weak_scenarios)] == ["test_mute_passes"]
    assert sorted(b.split(" ", 1)[1] for b in broad_error_checks(weak_scenarios)) == [
        "except Exception:", "pytest.raises(Exception)"]
    assert len(checksum_masks(weak_scenarios)) == 1
