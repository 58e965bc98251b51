"""``pyharness pkt FILE.pkt...``: scripts run as pytest items, with report, artifacts and replay line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

GOOD = """// rfc: 9293 3.10.7.1
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    < S 0:0(0) win 32792 <mss 1000>
+0    > R. 0:0(0) ack 1 win 0
"""
#: The same script missing the RST: strict outbound matching must fail it.
BAD = "\n".join(GOOD.splitlines()[:3]) + "\n"


def run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, TERN_ARTIFACTS="")
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run([sys.executable, "-m", "pyharness.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_pkt_command_passes_and_fails(tmp_path):
    (tmp_path / "good.pkt").write_text(GOOD)
    (tmp_path / "bad.pkt").write_text(BAD)
    ok = run_cli(tmp_path, "pkt", "good.pkt", "--out", str(tmp_path / "o1"), "--", "-p", "no:cacheprovider",
                 "--no-plots")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1 passed" in ok.stdout
    bad = run_cli(tmp_path, "pkt", "good.pkt", "bad.pkt", "--out", str(tmp_path / "o2"), "--",
                  "-p", "no:cacheprovider", "--no-plots")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "bad.pkt:3: unexpected outbound packet at 0.000000 sec" in bad.stdout
    assert "actual packet: 0.000000 R. 0:0(0) ack 1 win 0" in bad.stdout
    assert "replay:" in bad.stdout and "bad.pkt::script" in bad.stdout
    assert list((tmp_path / "o2" / "artifacts").glob("*bad.pkt*/*.pcap")), "the failing script keeps its pcaps"


def test_pkt_command_refuses_other_files(tmp_path):
    (tmp_path / "x.txt").write_text("")
    r = run_cli(tmp_path, "pkt", "x.txt")
    assert r.returncode == 4 and "not a .pkt script: x.txt" in r.stderr


def test_header_comments_become_markers(tmp_path):
    from pyharness.pkt.collect import _markers

    p = tmp_path / "x.pkt"
    p.write_text("// what it checks\n// rfc: 9293 3.5, 5961 3.2\n// dut: tern\n// deviation linux: \"quoted RFC text\"\n"
                 "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n")
    marks = {m.name: m for m in (mk.mark for mk in _markers(p))}
    assert marks["rfc"].args == ("9293 3.5", "5961 3.2")
    assert marks["dut"].args == ("tern",) and "Tern DUT's values" in marks["dut"].kwargs["reason"]
    assert marks["deviation"].args == ("linux",) and marks["deviation"].kwargs == {"reason": '"quoted RFC text"'}
