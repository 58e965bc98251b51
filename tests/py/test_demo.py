"""The bundled demonstration (make demo) and the pyharness command."""

import io

from pyharness.cli import main
from pyharness.demo import run_demo


def test_demo_runs_and_writes_pcaps(tmp_path):
    from scapy.utils import rdpcap

    out = io.StringIO()
    res = run_demo(out=tmp_path, seed=42, count=30, stream=out)
    text = out.getvalue()
    assert res.sent == 30 and 0 < res.answered <= res.echoed <= 30
    assert str(tmp_path / "sw-bob.pcap") in text and "rtt" in text
    for p in res.pcaps:
        assert len(rdpcap(str(p))) > 0
    again = run_demo(out=tmp_path / "again", seed=42, count=30, stream=io.StringIO())
    assert again.rtts_ns == res.rtts_ns
    assert [p.read_bytes() for p in again.pcaps] == [p.read_bytes() for p in res.pcaps]


def test_cli_demo(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--count", "5"]) == 0
    assert "alice-sw.pcap" in capsys.readouterr().out
