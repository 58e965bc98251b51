"""A failing interop test leaves its pcaps, seed and replay line in the artifacts directory, like every other test.

The fixtures of scenarios/interop/conftest.py run inside pytester: once with a real-time network of two Tern
hosts (runs anywhere), once through the TAP bridge to the kernel (root only). A passing test leaves nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pyharness.artifacts import artifact_dir_name
from pyharness.netns import unavailable
from pyharness.plugin import derive_seed

INTEROP_CONFTEST = Path(__file__).resolve().parents[2] / "scenarios" / "interop" / "conftest.py"
RUN_SEED = 5


def _run(pytester: pytest.Pytester, test_file: str) -> tuple[pytest.RunResult, Path]:
    pytester.makeconftest(INTEROP_CONFTEST.read_text())
    pytester.makepyfile(test_interop_x=test_file)
    arts = pytester.path / "arts"
    result = pytester.runpytest("--seed", str(RUN_SEED), "--artifacts", str(arts), "--no-plots", "-p", "no:randomly")
    return result, arts


def _check_failure_artifacts(result: pytest.RunResult, arts: Path, nodeid: str, pcap: str) -> None:
    adir = arts / artifact_dir_name(nodeid)
    assert (adir / pcap).is_file(), f"no {pcap} in {adir}: {sorted(p.name for p in arts.rglob('*'))}"
    assert (adir / pcap).stat().st_size > 24, "the pcap holds no frame"
    seed = (adir / "seed.txt").read_text()
    assert f"run seed: {RUN_SEED}\n" in seed
    assert f"network seed: {derive_seed(RUN_SEED, nodeid)} " in seed
    replay = (adir / "replay.txt").read_text()
    assert nodeid in replay and f"--seed {RUN_SEED}" in replay
    result.stdout.fnmatch_lines([f"*artifacts: {adir}/*", f"*replay:*{nodeid}*--seed {RUN_SEED}*"])


def test_failing_realtime_test_leaves_pcaps_seed_and_replay(pytester: pytest.Pytester) -> None:
    """The interop artifacts fixture with a real-time network (no TAP needed): the failing test keeps its pcap,
    seed and replay line; the passing one leaves no directory; the network's seed is the test's."""
    result, arts = _run(pytester, """
        from pyharness.bridge import RealtimeNetwork
        from pyharness.plugin import derive_seed

        def _ping(adir, seed):
            net = RealtimeNetwork(seed=seed, artifacts=adir)
            a = net.host("a", ipv4="10.9.0.1/24")
            b = net.host("b", ipv4="10.9.0.2/24")
            net.link(a, b, delay="1ms").capture()
            sock = a.ping_socket()
            net.run_realtime(for_="1ms")
            sock.send("10.9.0.2")
            assert net.run_realtime(for_="5s", until=lambda: sock.recv() is not None)
            net.close()
            return net

        def test_fails(interop_artifacts, request):
            adir, seed = interop_artifacts
            assert seed == derive_seed(5, request.node.nodeid)
            _ping(adir, seed)
            assert False, "deliberate failure"

        def test_passes(interop_artifacts):
            _ping(*interop_artifacts)
        """)
    result.assert_outcomes(passed=1, failed=1)
    _check_failure_artifacts(result, arts, "test_interop_x.py::test_fails", "a-b.pcap")
    assert not (arts / artifact_dir_name("test_interop_x.py::test_passes")).exists()


def test_failing_bridge_test_leaves_pcaps_seed_and_replay(pytester: pytest.Pytester) -> None:
    """Through the TAP bridge to the kernel: the capture of the failing test is in its artifacts directory."""
    reason = unavailable(("ping",))
    if reason:
        pytest.skip(f"interop with the Linux kernel needs privileges: {reason}")
    result, arts = _run(pytester, """
        def test_fails(make_bridge):
            b = make_bridge(programs=("ping",))
            status, out, _ = b.run_process(["ping", "-n", "-c", "1", "-W", "5", b.tern_ip])
            assert status == 0, out
            assert False, "deliberate failure"
        """)
    result.assert_outcomes(failed=1)
    _check_failure_artifacts(result, arts, "test_interop_x.py::test_fails", "bridge.pcap")
