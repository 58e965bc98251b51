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
