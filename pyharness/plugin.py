"""The pytest plugin of pyharness (entry point ``pytest11: pyharness``).

Options:

- ``--seed N``: the run's seed (default 1 or ``$TERN_SEED``); each test's
  network seed derives from it and the test id, so tests are independent and
  reorderable, and give the same results under ``pytest-xdist``.
- ``--artifacts DIR``: where failing tests leave pcaps, seed, replay command
  and plots (default ``$TERN_ARTIFACTS`` or ``./artifacts``), one directory
  per test.
- ``--keep-artifacts``: keep the artifacts of passing tests too.
- ``--golden-update``: rewrite the golden traces checked (the tests still fail).
- ``--replay-journal PATH``: host bridges (:mod:`pyharness.hostbridge`) replay this
  journal instead of using the host: a test that used the real host reruns from
  the journal its run left beside its pcaps, in virtual time, with no network.
- ``--dut {tern,linux}``: the device under test of the conformance scenarios
  (default ``$TERN_DUT`` or tern). With ``linux`` the ``net`` fixture is a
  :class:`~pyharness.linux_dut.LinuxNetwork` (real time) and the scenarios'
  ``bench`` is the Linux kernel in a namespace; scenarios marked
  ``dut("tern")`` are skipped, and everything is skipped with the reason when
  the machine has no /dev/net/tun or CAP_NET_ADMIN.

Fixtures: ``net`` (a :class:`~pyharness.Network`, every link captured) and
``golden`` (a :class:`~pyharness.golden.Golden`). Markers: ``rfc("9293
3.10.7.4")``, ``dut("tern", ...)``, ``area("tcp")``, validated at collection.

The session header prints the seed; a failing test prints where its
artifacts are and one command that replays it. Loading the plugin imports
nothing heavy: the C extension and scapy load when a test first uses ``net``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Optional

import pytest

from .artifacts import artifact_dir_name, project_relative, replay_command  # noqa: F401  (artifact_dir_name: public)
from .pkt.collect import pytest_collect_file  # noqa: F401,E402  (.pkt scripts are tests: pyharness/pkt/collect.py)

if TYPE_CHECKING:
    from .golden import Golden
    from .network import Network

DEFAULT_SEED = 1
GOLDEN_DIR = "golden-pcaps"
#: DUT kinds the ``dut`` marker accepts.
DUTS = ("tern", "linux", "any")
RFC_RE = re.compile(r"^(RFC ?)?\d{3,5}( +§?[A-Za-z0-9][A-Za-z0-9.()\-]*)*$")
AREA_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

_net_key = pytest.StashKey["Network"]()
_adir_key = pytest.StashKey[Path]()

MARKERS = {
    "rfc": 'rfc("9293 3.10.7.4", ...): the RFC sections the test checks (number, then section)',
    "dut": f"dut(kind, ...): the devices under test the scenario applies to ({', '.join(DUTS)})",
    "area": 'area("tcp"): the protocol area of a scenario for reports (default: its directory)',
    "needs": 'needs("tcp_info", ...): optional DUT capabilities the scenario needs (pyharness.duts.CAPABILITIES); '
             'under a DUT without one it is skipped with the capability named',
    "deviation": 'deviation(kind, reason="RFC text"): the DUT kind deviates from the RFC here; under that DUT '
                 'the scenario is an expected failure (xfail, strict: a pass fails); under any other DUT it is unchanged',
}


def derive_seed(run_seed: int, nodeid: str) -> int:
    """A test's 64-bit seed from the run's seed and the test's node id."""
    h = hashlib.sha256(f"{run_seed}\0{nodeid}".encode()).digest()
    return int.from_bytes(h[:8], "big")


#: The parameter that runs a scenario over each IP family (``family``: "ipv4" or "ipv6", ids alike).
FAMILY_PARAM = "family"


def without_family(text: str, family: Optional[str]) -> str:
    """A node id or test name without the id of its ``family`` parameter ("t[ipv4]" -> "t", "t[x-ipv6]" -> "t[x]").

    The family parameter is transparent to seeds: both families of a scenario run with the seed the
    scenario had before it was parametrized, so its IPv4 run (and golden trace) is unchanged and the two
    runs differ by the family alone.
    """
    if not family or not text.endswith("]") or "[" not in text:
        return text
    head, ids = text[:-1].split("[", 1)
    parts = ids.split("-")
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == family:
            del parts[i]
            break
    else:
        return text
    return f"{head}[{'-'.join(parts)}]" if parts else head


def node_family(node: Any) -> Optional[str]:
    """The value of a test's ``family`` parameter, None when it has none."""
    callspec = getattr(node, "callspec", None)
    value = callspec.params.get(FAMILY_PARAM) if callspec is not None else None
    return value if isinstance(value, str) else None


def seed_id(node: Any) -> str:
    """The id a test's seed derives from: its node id without the family parameter (:func:`without_family`)."""
    return without_family(node.nodeid, node_family(node))


def golden_name(node: Any) -> str:
    """The name of a test's golden traces: the test's name, the IPv4 family's id left out (its goldens predate the
    family parameter); an IPv6 run has goldens of its own ("test_x[ipv6]")."""
    family = node_family(node)
    return without_family(node.name, family) if family == "ipv4" else node.name


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pyharness", "Tern network simulation")
    group.addoption(
        "--seed",
        type=int,
        default=None,
        help=f"seed of the run; each test's network seed derives from it and the test id "
        f"(default: $TERN_SEED or {DEFAULT_SEED})",
    )
    group.addoption(
        "--artifacts",
        default=None,
        metavar="DIR",
        help="directory for captures and other artifacts (default: $TERN_ARTIFACTS or ./artifacts)",
    )
    group.addoption("--keep-artifacts", action="store_true", default=False,
                    help="keep the artifacts (pcaps) of passing tests too")
    group.addoption("--golden-update", action="store_true", default=False,
                    help="rewrite the golden traces the tests check (those tests still fail)")
    group.addoption("--no-plots", action="store_true", default=False,
                    help="do not draw time-sequence plots for failing tests (saves the matplotlib import)")
    group.addoption("--no-capture-links", action="store_true", default=False,
                    help="do not capture every link of the net fixture")
    group.addoption("--dut", default=None,
                    help="device under test of the conformance scenarios: tern (default, or $TERN_DUT), linux "
                         "(the kernel in a network namespace, through TAP, in real time), a name registered in "
                         "the entry point group pyharness.duts, or package.module:Class (docs/dut-contract.md)")
    group.addoption("--tcp-recovery", default=None, choices=("rack", "classic"),
                    help="the Tern hosts' TCP loss recovery for the whole run: rack (default, or "
                         "$TERN_TCP_RECOVERY: RACK-TLP, RFC 8985) or classic (RFC 5681 / 6582 / 6675 as written); "
                         "scenarios that check one of them select it themselves")
    group.addoption("--replay-journal", default=None, metavar="PATH",
                    help="run the host bridge of the selected test from this journal (left beside the pcaps of the "
                         "run that recorded it) instead of the real host")
    parser.addini("golden_dir", f"directory of golden traces, relative to the rootdir (default {GOLDEN_DIR})",
                  default=GOLDEN_DIR)


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    tcp_recovery(config)  # a wrong $TERN_TCP_RECOVERY stops the run before any test, naming the value


def dut_kind(config: pytest.Config) -> str:
    """The DUT of this run: "tern" or "linux" (``--dut``, else ``$TERN_DUT``, else tern)."""
    kind = config.getoption("dut", None) or os.environ.get("TERN_DUT") or "tern"
    if kind not in DUTS[:-1]:
        from .duts import load_dut
        from .errors import ConfigError

        try:
            load_dut(kind)  # a third-party DUT (docs/dut-contract.md)
        except ConfigError as e:
            raise pytest.UsageError(f"--dut / TERN_DUT: {e}") from None
    return kind


def _dut_class(config: pytest.Config) -> Any:
    from .duts import load_dut

    return load_dut(dut_kind(config))


def tcp_recovery(config: pytest.Config) -> str:
    """The run's TCP loss recovery for Tern hosts: "rack" or "classic" (``--tcp-recovery``, else
    ``$TERN_TCP_RECOVERY``, else rack)."""
    kind = config.getoption("tcp_recovery", None) or os.environ.get("TERN_TCP_RECOVERY") or "rack"
    if kind not in ("rack", "classic"):
        raise pytest.UsageError(f"TERN_TCP_RECOVERY: {kind!r} is not one of rack, classic")
    return kind


def run_seed(config: pytest.Config) -> int:
    """The seed of this pytest run."""
    seed = config.getoption("seed")
    if seed is None:
        env = os.environ.get("TERN_SEED")
        seed = int(env) if env else DEFAULT_SEED
    return int(seed)


def artifacts_root(config: pytest.Config) -> Path:
    """The artifacts directory of this pytest run (absolute, so xdist workers agree)."""
    opt = config.getoption("artifacts") or os.environ.get("TERN_ARTIFACTS") or "artifacts"
    p = Path(opt)
    return p if p.is_absolute() else Path(config.invocation_params.dir) / p


def artifacts_dir_for(config: pytest.Config, nodeid: str) -> Path:
    """Where the artifacts of test ``nodeid`` go."""
    return artifacts_root(config) / artifact_dir_name(nodeid)


def golden_root(config: pytest.Config) -> Path:
    """The golden traces directory."""
    return Path(config.rootpath) / config.getini("golden_dir")


def golden_dir_for(config: pytest.Config, path: Path) -> Path:
    """``golden-pcaps/<scenario file>/`` for a test file (``scenarios/`` and ``.py`` dropped)."""
    try:
        rel = Path(path).resolve().relative_to(Path(config.rootpath).resolve())
    except ValueError:
        rel = Path(Path(path).name)
    parts = list(rel.with_suffix("").parts)
    if parts and parts[0] == "scenarios":
        parts = parts[1:]
    return golden_root(config).joinpath(*parts)


def pytest_report_header(config: pytest.Config) -> str:
    if dut_kind(config) != "tern":
        return (f"pyharness: DUT {dut_kind(config)}, seed {run_seed(config)}, artifacts in {artifacts_root(config)}/")
    return f"pyharness: seed {run_seed(config)} (replay with --seed {run_seed(config)}), artifacts in {artifacts_root(config)}/"


def _marker_errors(item: pytest.Item) -> list[str]:
    errs = []
    for m in item.iter_markers("rfc"):
        if not m.args or m.kwargs:
            errs.append(f'{item.nodeid}: rfc marker needs references like rfc("9293 3.10.7.4"), got {m}')
        for ref in m.args:
            if not isinstance(ref, str) or not RFC_RE.match(ref.strip()):
                errs.append(f'{item.nodeid}: rfc marker: {ref!r} is not "<RFC number> <section>" (e.g. "9293 3.10.7.4")')
    for m in item.iter_markers("dut"):
        if not m.args or set(m.kwargs) - {"reason"}:
            errs.append(f'{item.nodeid}: dut marker needs kinds like dut("tern"), got {m}')
        for kind in m.args:
            if kind not in DUTS:
                errs.append(f"{item.nodeid}: dut marker: unknown kind {kind!r}; known: {', '.join(DUTS)}")
    for m in item.iter_markers("deviation"):
        if len(m.args) != 1 or m.args[0] not in DUTS[:-1] or not m.kwargs.get("reason") or set(m.kwargs) != {"reason"}:
            errs.append(f'{item.nodeid}: deviation marker takes one DUT kind and reason="<RFC text>", got {m}')
    for m in item.iter_markers("needs"):
        from .duts import CAPABILITIES

        bad = [c for c in m.args if c not in CAPABILITIES]
        if not m.args or m.kwargs or bad:
            errs.append(f"{item.nodeid}: needs marker takes capabilities among {', '.join(CAPABILITIES)}, got {m}")
    for m in item.iter_markers("area"):
        if len(m.args) != 1 or m.kwargs or not isinstance(m.args[0], str) or not AREA_RE.match(m.args[0]):
            errs.append(f'{item.nodeid}: area marker takes one lower-case name like area("tcp"), got {m}')
    return errs


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    errs = [e for item in items for e in _marker_errors(item)]
    if errs:
        raise pytest.UsageError("pyharness: invalid markers:\n  " + "\n  ".join(errs))
    kind = dut_kind(config)
    for item in items:
        reasons = [m.kwargs["reason"] for m in item.iter_markers("deviation") if m.args[0] == kind]
        if reasons:
            # A documented deviation of this DUT from an RFC: an expected failure. Strict: a pass under this
            # DUT shows the marker's claim false (or the scenario too weak to see it), and fails the run.
            item.add_marker(pytest.mark.xfail(strict=True, reason=f"{kind} deviates: {'; '.join(reasons)}"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a scenario whose ``dut`` markers do not name this run's DUT (with the marker's reason)."""
    _set_replay_journal(item.config)
    kind = dut_kind(item.config)
    needed = [c for m in item.iter_markers("needs") for c in m.args]
    if needed and kind not in DUTS:
        from .duts import dut_capabilities, unsupported

        lacking = [c for c in needed if c not in dut_capabilities(kind)]
        if lacking:
            unsupported(lacking[0], kind)
    marks = list(item.iter_markers("dut"))
    if not marks:
        return
    kinds = {k for m in marks for k in m.args}
    if kind in kinds or "any" in kinds:
        return
    reasons = [m.kwargs["reason"] for m in marks if "reason" in m.kwargs]
    pytest.skip(f"scenario applies to DUT {', '.join(sorted(kinds))}, not {kind}"
                + (f": {'; '.join(reasons)}" if reasons else ""))


def _set_replay_journal(config: pytest.Config) -> None:
    """Hand ``--replay-journal`` to pyharness.hostbridge (imported only when the option is given)."""
    path = config.getoption("replay_journal", None)
    if path is None:
        return
    p = Path(path)
    if not p.is_file():
        raise pytest.UsageError(f"--replay-journal {path}: no such file")
    from . import hostbridge

    hostbridge.REPLAY_JOURNAL = p.resolve()


def rfc_refs(item: Any) -> list[str]:
    """The RFC references of a test item, from its ``rfc`` markers."""
    return [ref for m in item.iter_markers("rfc") for ref in m.args]


@pytest.fixture
def net(request: pytest.FixtureRequest) -> Iterator["Network"]:
    """A fresh Network seeded from the run's seed and this test's node id; every link is captured."""
    from .network import Network

    config = request.config
    seed = derive_seed(run_seed(config), seed_id(request.node))
    adir = artifacts_dir_for(config, request.node.nodeid)
    if adir.exists():
        shutil.rmtree(adir, ignore_errors=True)
    capture = not config.getoption("no_capture_links")
    if dut_kind(config) == "linux":
        from .linux_dut import LinuxNetwork, linux_unavailable

        reason = linux_unavailable()
        if reason:
            pytest.skip(f"the Linux DUT needs a TAP device in a network namespace: {reason}")
        network: Network = LinuxNetwork(seed=seed, artifacts=adir, capture=capture)
    elif dut_kind(config) != "tern" and hasattr(_dut_class(config), "network"):
        network = _dut_class(config).network(seed=seed, artifacts=adir, capture=capture)
    else:
        network = Network(seed=seed, artifacts=adir, capture=capture)
        network.tcp_recovery = tcp_recovery(config)
    # One seed in messages, the one to paste: the run's (this network's seed derives from it and the test id).
    network.seed_text = f"replay with --seed {run_seed(config)}"
    request.node.stash[_net_key] = network
    try:
        yield network
    finally:
        pcaps = [link.capture_path for link in network.links if link.capture_path is not None] \
            if not network.closed else []
        if not network.closed:
            from .artifacts import write_transcripts

            write_transcripts(adir, network)
        if not network.closed and _failed(request.node):
            from .artifacts import write_counters

            write_counters(adir, network)
        network.close()
        _after_test(request.node, adir, seed, pcaps)
        if adir.exists():
            # On the teardown report, hence in junit.xml: where this test's pcaps are.
            request.node.user_properties.append(("pyharness_artifacts", project_relative(adir, config.rootpath)))


def _failed(item: pytest.Item) -> bool:
    return any(r.failed for r in getattr(item, "_pyharness_reports", {}).values())


def _after_test(item: pytest.Item, adir: Path, net_seed: int, pcaps: list) -> None:
    reports = getattr(item, "_pyharness_reports", {})
    failed = any(r.failed for r in reports.values())
    config = item.config
    if failed:
        from .artifacts import write_failure_artifacts

        replay = replay_command(item.nodeid, run_seed(config), Path(config.rootpath))
        pcaps = sorted(adir.glob("*.pcap")) if adir.exists() else pcaps
        write_failure_artifacts(adir, run_seed(config), net_seed, replay, pcaps,
                                plots=not config.getoption("no_plots"))
    elif not config.getoption("keep_artifacts") and adir.exists():
        shutil.rmtree(adir, ignore_errors=True)


@contextlib.contextmanager
def failure_artifacts(request: pytest.FixtureRequest) -> Iterator[tuple[Path, int]]:
    """For fixtures that build their own network (the interop bridge): this test's artifacts directory and seed.

    Yields ``(directory, network seed)``: the directory is emptied first; put the test's pcaps there. When
    the test fails, the directory keeps them and gets seed.txt, replay.txt and plots, as with ``net``;
    when it passes, the directory goes (unless ``--keep-artifacts``). Close the network inside the block.
    """
    config = request.config
    seed = derive_seed(run_seed(config), seed_id(request.node))
    adir = artifacts_dir_for(config, request.node.nodeid)
    if adir.exists():
        shutil.rmtree(adir, ignore_errors=True)
    request.node.stash[_adir_key] = adir
    try:
        yield adir, seed
    finally:
        _after_test(request.node, adir, seed, [])


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> "Golden":
    """Golden traces of this test: ``golden.check(link)`` (see :class:`pyharness.golden.Golden`)."""
    from .golden import Golden

    config = request.config
    replay = replay_command(request.node.nodeid, run_seed(config), Path(config.rootpath))
    g = Golden(golden_dir_for(config, request.node.path), golden_name(request.node),
               update=config.getoption("golden_update"), replay=replay)
    request.node._pyharness_golden = g  # type: ignore[attr-defined]
    return g


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()
    if not hasattr(item, "_pyharness_reports"):
        item._pyharness_reports = {}  # type: ignore[attr-defined]
    item._pyharness_reports[rep.when] = rep  # type: ignore[attr-defined]
    g = getattr(item, "_pyharness_golden", None)
    if g is not None and rep.when == "call":
        for p in g.used:
            rep.user_properties.append(("pyharness_golden", str(p)))
    if rep.when == "setup":
        # Every test's JUnit record carries its seed and replay command (pytest writes the
        # properties of the item, as they are at teardown, into junit.xml).
        config = item.config
        item.user_properties.append(("pyharness_seed", str(run_seed(config))))
        item.user_properties.append(("pyharness_replay",
                                     replay_command(item.nodeid, run_seed(config), Path(config.rootpath),
                                                    relative=True)))
    if rep.failed:
        config = item.config
        replay = replay_command(item.nodeid, run_seed(config), Path(config.rootpath))
        lines = [f"replay: {replay}"]
        if _net_key in item.stash or _adir_key in item.stash:
            adir = artifacts_dir_for(config, item.nodeid)
            lines.insert(0, f"artifacts: {adir}/ (pcaps, seed.txt, replay.txt, time-sequence plots)")
            rep.user_properties.append(("pyharness_artifacts_here", str(adir)))
        rep.user_properties.append(("pyharness_replay_here", replay))
        rfcs = rfc_refs(item)
        if rfcs:
            rep.user_properties.append(("pyharness_rfc", ", ".join(rfcs)))
        rep.sections.append(("pyharness", "\n".join(lines)))


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    stats = terminalreporter.stats
    failed = [r for key in ("failed", "error") for r in stats.get(key, [])]
    lines = []
    used: set[str] = set()
    modules: set[str] = set()
    for key, reps in stats.items():
        for r in reps:
            if not hasattr(r, "user_properties"):
                continue
            modules.add(r.nodeid.split("::")[0])
            for k, v in r.user_properties:
                if k == "pyharness_golden":
                    used.add(v)
    for r in failed:
        props = dict(getattr(r, "user_properties", []))
        if "pyharness_replay_here" in props:
            lines.append(f"{r.nodeid}")
            if "pyharness_artifacts_here" in props:
                lines.append(f"    artifacts: {props['pyharness_artifacts_here']}/")
            lines.append(f"    replay:    {props['pyharness_replay_here']}")
    if lines:
        terminalreporter.section("pyharness: failures (artifacts and replay)")
        for line in lines:
            terminalreporter.write_line(line)
    unused = _unused_goldens(config, modules, used)
    if unused:
        terminalreporter.section("pyharness: unused goldens")
        terminalreporter.write_line("no test of this session checked these golden traces:")
        for p in unused:
            terminalreporter.write_line(f"    {p}")


def _unused_goldens(config: pytest.Config, modules: set[str], used: set[str]) -> list[str]:
    """Goldens of the scenario files that ran entirely (no -k/-m, no test ids) that no test checked."""
    if config.option.keyword or config.option.markexpr or any("::" in a for a in config.args):
        return []
    out = []
    for mod in sorted(modules):
        d = golden_dir_for(config, Path(config.rootpath) / mod)
        if d.is_dir():
            for p in sorted(d.glob("*.pcap")):
                if str(p) not in used:
                    out.append(str(p))
    return out
