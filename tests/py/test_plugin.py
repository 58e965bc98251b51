"""The pytest plugin: --seed, the session header, the net fixture's seed and artifacts."""

from pyharness.plugin import derive_seed


def test_net_fixture_is_seeded_from_the_run_seed_and_node_id(pytester):
    pytester.makepyfile(
        test_p="""
        from pyharness.plugin import derive_seed

        def test_one(net, request):
            assert net.seed == derive_seed(5, request.node.nodeid)
            assert net.artifacts_dir.name == "test_p.py.test_one"
            print("SEED", net.seed)

        def test_two(net):
            assert net.now_ns == 0
        """
    )
    result = pytester.runpytest("--seed", "5", "--artifacts", str(pytester.path / "arts"), "-s")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["pyharness: seed 5*", f"*SEED {derive_seed(5, 'test_p.py::test_one')}*"])


def test_default_seed_and_env(pytester, monkeypatch):
    pytester.makepyfile("def test_x(net):\n    pass\n")
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["pyharness: seed 1 *"])
    monkeypatch.setenv("TERN_SEED", "99")
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["pyharness: seed 99 *"])


def test_seeds_differ_per_test_and_per_run():
    assert derive_seed(1, "a::x") != derive_seed(1, "a::y")
    assert derive_seed(1, "a::x") != derive_seed(2, "a::x")
    assert 0 <= derive_seed(1, "a::x") < 2**64


def test_network_closed_after_the_test(pytester):
    pytester.makepyfile(
        """
        import pytest
        kept = []

        def test_a(net):
            kept.append(net)

        def test_b():
            assert kept[0].closed
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_plugin_import_is_cheap():
    import subprocess
    import sys

    code = "import sys, pyharness.plugin; print(sorted(m for m in ('scapy', 'pyharness._ternffi') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


_RECOVERY_PROBE = """
from pyharness.dut import make_tern_dut


def test_first_retransmission(net):
    # Two segments the peer never acknowledges over 10 ms + 10 ms, SACK on: RACK-TLP (RFC 8985 §7) sends a tail loss
    # probe two SRTTs after them (SRTT 40 ms: the SYN waited 20 ms for ARP), the last segment again; the classic
    # recovery waits for the RTO (1 s, RFC 6298 (2.4)) and resends the first.
    dut, peer, link = make_tern_dut(net)
    link.configure("both", delay="10ms")
    sock = dut.tcp_connect("10.0.0.2", 7000, nodelay=True)
    conn = peer.tcp(dut, local_port=7000, isn=5000, mss=1000, sack=True)
    conn.accept(within="5s")
    sock.send(bytes(2000))
    first = conn.expect(flags="A", within="100ms")
    last = conn.expect(seq=first["TCP"].seq + 1000, within="1ms")
    again = conn.expect(within="3s")
    print("PROFILE", dut.profile.loss_recovery, "SEQ", again["TCP"].seq - first["TCP"].seq,
          "GAP_MS", round((again.time - last.time) * 1000))
"""


def test_tcp_recovery_option_runs_the_suite_under_the_classic_profile(pytester, monkeypatch):
    """``--tcp-recovery classic`` (or $TERN_TCP_RECOVERY) gives every Tern host RFC 5681/6675 recovery without
    RACK-TLP, and the DUT's profile says so; the default run probes the tail two SRTTs after (the control)."""
    pytester.makepyfile(test_probe=_RECOVERY_PROBE)
    default = pytester.runpytest("-s", "-p", "no:randomly")
    default.assert_outcomes(passed=1)
    default.stdout.fnmatch_lines(["*PROFILE rack SEQ 1000 GAP_MS 80*"])
    classic = pytester.runpytest("-s", "-p", "no:randomly", "--tcp-recovery", "classic")
    classic.assert_outcomes(passed=1)
    classic.stdout.fnmatch_lines(["*PROFILE newreno SEQ 0 GAP_MS 1000*"])
    monkeypatch.setenv("TERN_TCP_RECOVERY", "classic")
    pytester.runpytest("-s", "-p", "no:randomly").stdout.fnmatch_lines(["*PROFILE newreno SEQ 0 GAP_MS 1000*"])
    monkeypatch.setenv("TERN_TCP_RECOVERY", "newreno")
    bad = pytester.runpytest("-p", "no:randomly")
    bad.stderr.fnmatch_lines(["*TERN_TCP_RECOVERY: 'newreno' is not one of rack, classic*"])
