"""Determinism of whole runs (DESIGN.md §6): the same scenarios run twice with
the same seed produce byte-identical pcaps; another seed changes the bytes.

Runs ``pyharness run`` as a user would, on a small, timer-heavy part of the
suite (retransmission ladders, ICMP rate limits, fragmentation)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ["scenarios/tcp/test_retransmission.py", "scenarios/icmp/test_icmp.py"]


def run_suite(out: Path, seed: int) -> dict[str, bytes]:
    subprocess.run([sys.executable, "-m", "pyharness.cli", "run", *SCENARIOS, "--seed", str(seed),
                    "--out", str(out), "--", "--keep-artifacts", "-p", "no:cacheprovider", "-q"],
                   cwd=ROOT, check=False, capture_output=True, text=True, timeout=600)
    pcaps = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.pcap"))}
    assert pcaps, f"no pcaps under {out}"
    return pcaps


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """One run with seed 11, shared by both tests."""
    return run_suite(tmp_path_factory.mktemp("run") / "a", seed=11)


def test_same_seed_gives_byte_identical_pcaps(tmp_path: Path, first: dict[str, bytes]) -> None:
    second = run_suite(tmp_path / "b", seed=11)
    assert first.keys() == second.keys()
    different = [name for name in first if first[name] != second[name]]
    assert not different, f"{len(different)} pcaps differ between two runs with seed 11: {different[:5]}"


def test_another_seed_changes_the_bytes(tmp_path: Path, first: dict[str, bytes]) -> None:
    other = run_suite(tmp_path / "c", seed=12)
    common = first.keys() & other.keys()
    assert common
    assert any(first[name] != other[name] for name in common)
