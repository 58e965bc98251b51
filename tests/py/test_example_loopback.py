"""examples/tern-loopback: one Tern host talking to itself over its loopback, in virtual time.

No TAP, no privileges: the program runs as an unprivileged user here when the
test can switch to one. Its capture (--pcap) holds the datagrams the stack
delivered to itself (tern_stack_config.loopback_tap), each behind an Ethernet
header with zero addresses, as a capture of Linux's lo has them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Optional

import pytest
from scapy.all import IP, TCP, Ether, rdpcap

ROOT = Path(__file__).resolve().parents[2]


def _program() -> Path:
    env = os.environ.get("TERN_EXAMPLES_DIR")
    first = [Path(env) / "tern-loopback"] if env else []
    for cand in [*first, ROOT / "build" / "examples" / "tern-loopback",
                 *sorted(ROOT.glob("build*/**/examples/tern-loopback"))]:
        if cand.is_file() and os.access(cand, os.X_OK):
            return cand
    pytest.skip("examples/tern-loopback is not built (cmake -DTERN_BUILD_EXAMPLES=ON)")


def _run(args: list[str], user: Optional[str] = None) -> subprocess.CompletedProcess:
    cmd = [str(_program()), *args]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


EXPECTED = """\
[  0.000000000] server: listening on 127.0.0.1
[  0.000000000] client: connecting to 127.0.0.1
[  0.000000000] server: accepted a connection
[  0.000000000] client: sent '0123456789abcdef' and shut down sending
[  0.000000000] server: received '0123456789abcdef', end of stream; closing
[  0.000000000] client: the server closed; closing
[  1.000000000] 7 datagrams over the loopback
"""


def test_loopback_conversation_prints_and_captures_every_datagram(tmp_path: Path) -> None:
    """The client's message reaches the server; the capture has the 7 segments of the conversation."""
    pcap = tmp_path / "lo.pcap"
    r = _run(["--pcap", str(pcap)])
    assert r.returncode == 0, r.stderr
    assert r.stdout == EXPECTED
    frames = rdpcap(str(pcap))
    assert len(frames) == 7
    flags = []
    for f in frames:
        assert f[Ether].src == f[Ether].dst == "00:00:00:00:00:00" and f[Ether].type == 0x0800
        assert f[IP].src == f[IP].dst == "127.0.0.1"
        flags.append((str(f[TCP].flags), "to server" if f[TCP].dport == 1234 else "to client"))
    assert flags == [("S", "to server"), ("SA", "to client"), ("A", "to server"), ("FPA", "to server"),
                     ("A", "to client"), ("FA", "to client"), ("A", "to server")]
    assert bytes(frames[3][TCP].payload) == b"0123456789abcdef"
    assert frames[3][TCP].dport == 1234


def test_same_seed_same_capture_other_seed_other_capture(tmp_path: Path) -> None:
    """Determinism: the capture is a function of the seed (ISNs and the ephemeral port come from it)."""
    a, b, c = (tmp_path / n for n in ("a.pcap", "b.pcap", "c.pcap"))
    for path, seed in ((a, "7"), (b, "7"), (c, "8")):
        r = _run(["--pcap", str(path), "--seed", seed, "--message", "hi there", "--ip", "10.1.2.3"])
        assert r.returncode == 0, r.stderr
        assert "server: received 'hi there'" in r.stdout
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    assert {f[IP].src for f in rdpcap(str(a))} == {"10.1.2.3"}


def test_runs_without_privileges(tmp_path: Path) -> None:
    """As the unprivileged user nobody (no CAP_NET_ADMIN, no TAP) the program works the same."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to switch to an unprivileged user")
    with tempfile.TemporaryDirectory(prefix="tern-loopback-") as d:  # pytest's tmp_path is private to root
        os.chmod(d, 0o777)
        pcap = Path(d) / "nobody.pcap"
        r = _run(["--pcap", str(pcap)], user="65534")
        assert r.returncode == 0, r.stderr
        assert r.stdout == EXPECTED
        assert pcap.stat().st_uid == 65534
        assert len(rdpcap(str(pcap))) == 7


@pytest.mark.parametrize("args,message", [
    (["--bogus"], "unknown option or argument '--bogus'"),
    (["--port", "0"], "--port '0'"),
    (["--port", "70000"], "--port '70000'"),
    (["--ip", "1.2.3"], "--ip '1.2.3'"),
    (["--seed"], "--seed: missing value"),
    (["--message", ""], "--message ''"),
])
def test_bad_usage_is_named_and_exits_2(args: list[str], message: str) -> None:
    """Every bad option is named on standard error, exit status 2; --help goes to standard output."""
    r = _run(args)
    assert r.returncode == 2
    assert message in r.stderr
    h = _run(["--help"])
    assert h.returncode == 0 and "--pcap FILE" in h.stdout and "no privileges" in h.stdout


def test_unwritable_pcap_is_an_error_naming_the_file(tmp_path: Path) -> None:
    """A capture that cannot be created is named, exit status 1 (positive control: the run above writes it)."""
    r = _run(["--pcap", str(tmp_path / "missing-dir" / "x.pcap")])
    assert r.returncode == 1
    assert "missing-dir/x.pcap" in r.stderr
