"""``pyharness run`` as a user runs it: outside the repository, twice in a row, as CI would."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCENARIO = textwrap.dedent("""
    import pytest

    @pytest.mark.rfc("9293 3.5")
    def test_golden(net, golden):
        a = net.peer("a", ipv4="10.0.0.1/24", mac="02:00:00:00:00:01")
        b = net.peer("b", ipv4="10.0.0.2/24", mac="02:00:00:00:00:02")
        link = net.link(a, b, delay="1ms")
        c = a.tcp(b, 80, local_port=4000, isn=7)
        c.send(flags="S")
        net.run(for_="5ms")
        golden.check(link)
""")


def run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m pyharness.cli ARGS`` in ``cwd``, a folder with no pytest configuration."""
    env = dict(os.environ, TERN_ARTIFACTS="")
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run([sys.executable, "-m", "pyharness.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_second_run_with_the_same_out_dir_finds_the_same_goldens(tmp_path):
    """Issue 18 item 1: the artifacts folder must not be taken as a test path once it exists."""
    proj = tmp_path / "mine"
    (proj / "scn").mkdir(parents=True)
    (proj / "scn" / "test_g.py").write_text(SCENARIO)
    # The output folder lies outside the project, as a CI job's often does.
    args = ("run", "scn", "--out", str(tmp_path / "ci-out"), "--", "-p", "no:cacheprovider", "--no-plots")
    first = run_cli(proj, *args)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "was missing and has been created" in first.stdout
    goldens = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.pcap") if "golden-pcaps" in p.parts)
    for i in (2, 3):
        again = run_cli(proj, *args)
        assert again.returncode == 0, f"run {i}:\n{again.stdout}\n{again.stderr}"
        assert "missing and has been created" not in again.stdout
        now = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.pcap") if "golden-pcaps" in p.parts)
        assert now == goldens, f"run {i} created goldens elsewhere: {now} (first run: {goldens})"
    assert goldens == [Path("mine/golden-pcaps/scn/test_g/test_golden.pcap")]
    assert (tmp_path / "ci-out" / "artifacts").is_dir()


def test_progress_in_a_log_is_one_line_per_area(tmp_path):
    """Not a terminal (CI): pytest counts tests, and each area says when it is done."""
    proj = tmp_path / "p"
    for area, n in (("arp", 2), ("udp", 3)):
        (proj / "scenarios" / area).mkdir(parents=True)
        body = "".join(f"def test_{i}():\n    pass\n\n" for i in range(n))
        (proj / "scenarios" / area / f"test_{area}.py").write_text(body + "def test_bad():\n    assert False\n")
    r = run_cli(proj, "run", "scenarios", "--out", "out", "--", "-p", "no:cacheprovider", "--no-plots")
    assert r.returncode == 1
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("pyharness: ") and " done: " in ln]
    assert lines == ["pyharness: arp done: 2 passed, 1 failed [3/7 tests, 42%]",
                     "pyharness: udp done: 3 passed, 1 failed [7/7 tests, 100%]"], r.stdout
    assert "[7/7]" in r.stdout  # pytest's own count style
