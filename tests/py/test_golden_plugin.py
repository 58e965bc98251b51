"""The plugin end to end with pytester: golden traces, failure artifacts and replay, markers, xdist, the command."""

import re

import pytest

# Loaded once here, so the in-process pytester runs below do not import them again each time.
import pyharness.canonical  # noqa: F401
import pyharness.golden  # noqa: F401
import pyharness.network  # noqa: F401
import pyharness.tcpconn  # noqa: F401
from scapy.layers import inet, l2  # noqa: F401

SCENARIO = """
import pytest
from scapy.layers.inet import IP, TCP

WIN = {win}

@pytest.mark.rfc("9293 3.5")
def test_exchange(net, golden):
    a = net.peer("a", ipv4="10.0.0.1/24", mac="02:00:00:00:00:01")
    b = net.peer("b", ipv4="10.0.0.2/24", mac="02:00:00:00:00:02")
    link = net.link(a, b, delay="1ms")
    c = a.tcp(b, 80, local_port=4000, isn=77)
    s = b.tcp(a, local_port=80, isn=999)
    c.send(flags="S")
    s.expect(flags="S")
    s.send(flags="SA", window=WIN)
    c.expect(flags="SA", ack=c.snd_nxt)
    c.send(flags="PA", payload=b"hello")
    s.expect(payload=b"hello")
    s.send(flags="A")
    c.expect(flags="A", ack=c.snd_nxt)
    golden.check(link, mask=["ip.id"])
"""


def write(pytester, win=65535):
    pytester.makepyfile(test_scn=SCENARIO.format(win=win))
    # Plots need matplotlib, whose numpy cannot be imported twice in one process (in-process pytester would).
    pytester.makeini("[pytest]\naddopts = --no-plots\n")


def test_missing_golden_is_created_and_fails_then_passes(pytester):
    write(pytester)
    r = pytester.runpytest("-p", "no:cacheprovider")
    r.assert_outcomes(failed=1)
    r.stdout.fnmatch_lines(["*golden*test_exchange.pcap was missing and has been created*"])
    gp = pytester.path / "golden-pcaps" / "test_scn" / "test_exchange.pcap"
    assert gp.exists() and gp.with_suffix(".txt").exists()
    text = gp.with_suffix(".txt").read_text().splitlines()
    assert len(text) == 4
    assert "tcp 4000>80 tcp.flags=S tcp.seq=0 tcp.ack=0" in text[0] and "ip.id=*" in text[0]
    assert "tcp.flags=PA tcp.seq=1 tcp.ack=1" in text[2] and text[2].endswith("len=5")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_difference_shows_fields_and_update_rewrites_but_fails(pytester):
    write(pytester)
    pytester.runpytest()
    write(pytester, win=1024)
    r = pytester.runpytest()
    r.assert_outcomes(failed=1)
    out = r.stdout.str()
    assert "capture differs from golden" in out
    assert re.search(r"frame 2 \(capture frame 2\): tcp\.win: 65535 -> 1024; tcp\.chksum: 0x[0-9a-f]+ -> 0x[0-9a-f]+", out)
    assert "--golden-update" in out
    r = pytester.runpytest("--golden-update")
    r.assert_outcomes(failed=1)
    r.stdout.fnmatch_lines(["*updated (--golden-update)*"])
    pytester.runpytest().assert_outcomes(passed=1)


def test_failure_leaves_artifacts_and_a_replay_command(pytester):
    pytester.makepyfile(test_f="""
        import pytest
        from scapy.layers.inet import IP, TCP

        @pytest.mark.rfc("9293 3.10.7.4")
        @pytest.mark.parametrize("n", [1])
        def test_bad(net, n):
            a = net.peer("a", ipv4="10.0.0.1/24")
            b = net.peer("b", ipv4="10.0.0.2/24")
            net.link(a, b)
            c = a.tcp(b, 80)
            c.send(flags="S")
            c.send(flags="PA", payload=b"x" * 100)
            b.expect(TCP(flags="R"), within="10ms")
    """)
    arts = pytester.path / "arts"
    # In a subprocess: matplotlib's numpy cannot be imported twice in one process (pytester in-process would).
    r = pytester.runpytest_subprocess("--seed", "7", "--artifacts", str(arts))
    r.assert_outcomes(failed=1)
    out = r.stdout.str()
    dirs = list(arts.iterdir())
    assert len(dirs) == 1 and dirs[0].name.startswith("test_f.py.test_bad_1-")
    names = sorted(p.name for p in dirs[0].iterdir())
    assert names == ["a-b.pcap", "a-b.tsplot.png", "counters.json", "replay.txt", "seed.txt"]
    assert "run seed: 7" in (dirs[0] / "seed.txt").read_text()
    replay = (dirs[0] / "replay.txt").read_text().strip()
    assert "'test_f.py::test_bad[1]' --seed 7" in replay
    assert f"artifacts: {dirs[0]}/" in out and "replay: " in out
    assert "pyharness: failures (artifacts and replay)" in out
    assert "closest frame" in out and "seed " in out


def test_passing_tests_leave_no_artifacts_unless_kept(pytester):
    pytester.makeini("[pytest]\naddopts = --no-plots\n")
    pytester.makepyfile(test_ok="""
        def test_ok(net):
            a, b = net.peer("a"), net.peer("b")
            net.link(a, b)
    """)
    arts = pytester.path / "arts"
    pytester.runpytest("--artifacts", str(arts)).assert_outcomes(passed=1)
    assert not any(arts.glob("*/*.pcap"))
    pytester.runpytest("--artifacts", str(arts), "--keep-artifacts").assert_outcomes(passed=1)
    assert [p.name for p in arts.glob("*/*.pcap")] == ["a-b.pcap"]


def test_markers_are_registered_and_validated(pytester):
    pytester.makepyfile(test_m="""
        import pytest

        @pytest.mark.rfc("9293 3.10.7.4", "RFC 5961 §4")
        @pytest.mark.dut("tern")
        @pytest.mark.area("tcp")
        def test_ok():
            pass
    """)
    pytester.runpytest("--strict-markers").assert_outcomes(passed=1)
    pytester.makepyfile(test_m="""
        import pytest

        @pytest.mark.rfc("section three")
        @pytest.mark.dut("windows")
        def test_bad():
            pass
    """)
    r = pytester.runpytest()
    assert r.ret != 0
    r.stderr.fnmatch_lines(["*invalid markers*", "*'section three' is not*", "*unknown kind 'windows'*"])


def test_unused_goldens_are_reported(pytester):
    write(pytester)
    pytester.runpytest()
    stale = pytester.path / "golden-pcaps" / "test_scn" / "test_gone.pcap"
    stale.write_bytes((pytester.path / "golden-pcaps" / "test_scn" / "test_exchange.pcap").read_bytes())
    r = pytester.runpytest()
    r.assert_outcomes(passed=1)
    r.stdout.fnmatch_lines(["*unused goldens*", f"*{stale}"])


def test_xdist_results_and_artifacts_do_not_depend_on_the_worker(pytester):
    pytest.importorskip("xdist")
    pytester.makepyfile(test_x="""
        import pytest

        @pytest.mark.parametrize("i", range(6))
        def test_seed(net, i):
            print("SEED", i, net.seed)
            assert i != 3, "boom"
    """)
    arts = pytester.path / "arts"
    serial = pytester.runpytest_subprocess("--artifacts", str(arts), "-s")
    parallel = pytester.runpytest_subprocess("--artifacts", str(arts / "x"), "-n", "3")
    serial.assert_outcomes(passed=5, failed=1)
    parallel.assert_outcomes(passed=5, failed=1)
    parallel.stdout.fnmatch_lines(["*test_x.py::test_seed[[]3[]]*", "*replay:*'test_x.py::test_seed[[]3[]]' --seed 1*"])
    names = [p.name for p in (arts / "x").iterdir()]
    assert len(names) == 1 and names[0].startswith("test_x.py.test_seed_3-")
    assert sorted(p.name for p in (arts / "x" / names[0]).iterdir()) == ["counters.json", "replay.txt", "seed.txt"]
    assert len(re.findall(r"SEED \d \d+", serial.stdout.str())) == 6


def test_cli_show_plot_and_run(pytester, capsys):
    from pyharness.cli import main

    write(pytester)
    pytester.runpytest()
    gp = pytester.path / "golden-pcaps" / "test_scn" / "test_exchange.pcap"
    capsys.readouterr()
    assert main(["show", str(gp), "--mask", "chksum"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4 and "tcp.chksum=*" in out[0]
    png = pytester.path / "x.png"
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "pyharness.cli", "plot", str(gp), "-o", str(png)], check=True)
    assert png.read_bytes()[:4] == b"\x89PNG"
    scen = pytester.path / "scenarios" / "tcp"
    scen.mkdir(parents=True)
    (scen / "test_s.py").write_text(
        "import pytest\n\n@pytest.mark.rfc('9293 3.1')\ndef test_fails(net):\n    assert False, 'nope'\n\n"
        "def test_passes(net):\n    pass\n")
    ok = pytester.path / "scenarios" / "udp"
    ok.mkdir(parents=True)
    (ok / "test_u.py").write_text(
        "import pytest\n\n@pytest.mark.rfc('9293 MUST-13')\ndef test_passes(net):\n    pass\n\n"
        "@pytest.mark.rfc('9293 MUST-13')\n@pytest.mark.xfail(reason='known: no PMTUD yet', strict=True)\n"
        "def test_known(net):\n    assert False\n\n"
        "def test_skip(net):\n    pytest.skip('needs root')\n")
    outdir = pytester.path / "out"
    rc = main(["run", str(scen), str(ok), "--out", str(outdir), "--", "-q", "-p", "no:cacheprovider"])
    assert rc == 1
    report = (outdir / "report.md").read_text()
    assert "| tcp | 1 | 1 | 0 | 0 | 0 |" in report and "(RFC 9293 3.1)" in report and "replay:" in report
    assert "| udp | 1 | 0 | 1 | 1 | 0 |" in report and "known: no PMTUD yet" in report
    assert "| needs root | 1 | udp |" in report
    assert "| MUST-13 | 3.6.1 | In TIME-WAIT state for 2MSL seconds | covered, known failure (xfail) |" in report
    assert (outdir / "pcaps").exists() or (outdir / "artifacts").exists()
    assert (outdir / "junit.xml").exists()
    printed = capsys.readouterr().out
    assert "FAILED" in printed and "report.md" in printed and "xfailed" in printed
    # Expected failures are not failures: the run passes.
    rc = main(["run", str(ok), "--out", str(pytester.path / "out2"), "--", "-q", "-p", "no:cacheprovider"])
    assert rc == 0
