"""Fixtures of the conformance suite: the DUT, its scripted peer, the link.

Every scenario gets a fresh network (the ``net`` fixture of the pyharness
plugin, seeded from the run's seed and the test id) with the DUT at 10.0.0.1/24
and the scripted peer at 10.0.0.2/24 on one link. Scenarios use only the
DUT's socket-level operations and its profile (``dut.profile``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

# The scenario folders are packages (so test files in different folders may
# share a name); helper modules next to the tests (tcp/tcpkit.py) are imported
# by their plain name, so their folders go on the path.
for _helpers in sorted(Path(__file__).parent.glob("*/")):
    if any(p.name != "__init__.py" and not p.name.startswith(("test_", "conftest")) for p in _helpers.glob("*.py")):
        sys.path.insert(0, str(_helpers))

from pyharness.dut import FAMILIES, family_addrs, make_tern_dut
from pyharness.plugin import dut_kind

#: The areas whose scenarios run over both IP families (issue 12): each of their scenarios is
#: parametrized with ``family`` ("ipv4", "ipv6"), unless marked ``ipv4_only(reason)`` because it is
#: about IPv4 itself. Scenarios that build their own network take the ``family`` fixture themselves.
FAMILY_AREAS = ("tcp", "udp")


def _area(path: Path) -> str:
    return path.parent.name


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every scenario of :data:`FAMILY_AREAS` that uses the bench (or asks for ``family``) once per family."""
    if "family" not in metafunc.fixturenames or _area(metafunc.definition.path) not in FAMILY_AREAS:
        return
    if any(metafunc.definition.get_closest_marker(m) is not None for m in ("ipv4_only", "both_families")):
        return
    only6 = metafunc.definition.get_closest_marker("ipv6_only") is not None
    metafunc.parametrize("family", ("ipv6",) if only6 else FAMILIES, ids=("ipv6",) if only6 else FAMILIES)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Nothing in the family areas is single-family silently: a scenario there runs over both families or says why
    it is about IPv4 alone (``ipv4_only(reason)``)."""
    errs = []
    for item in items:
        if _area(Path(str(item.path))) not in FAMILY_AREAS or not isinstance(item, pytest.Function):
            continue
        marker = item.get_closest_marker("ipv4_only")
        params = getattr(getattr(item, "callspec", None), "params", {})
        for name in ("ipv4_only", "ipv6_only", "both_families"):
            m = item.get_closest_marker(name)
            if m is not None and (len(m.args) != 1 or not str(m.args[0]).strip()):
                errs.append(f"{item.nodeid}: {name} needs one reason, e.g. {name}(\"... (RFC 791 §3.1)\")")
        if marker is None and "family" not in params and item.get_closest_marker("both_families") is None:
            errs.append(f"{item.nodeid}: runs over IPv4 only but does not say why: use the bench (dut, peer) or the "
                        f"family fixture, or mark it ipv4_only(reason)")
    if errs:
        raise pytest.UsageError("scenarios of the dual-family areas:\n  " + "\n  ".join(errs))


@pytest.fixture
def family() -> str:
    """The IP family a scenario runs over: "ipv4", or "ipv6" (parametrized in :data:`FAMILY_AREAS`)."""
    return "ipv4"


@pytest.fixture
def bench(request: pytest.FixtureRequest, net: Any, family: str) -> tuple[Any, Any, Any]:
    """(dut, peer, link). A scenario marked ``silent_peer`` gets a peer that does not answer ARP (nor NS).

    The DUT is the run's (``--dut tern`` or ``--dut linux``): a Tern host, or
    the Linux kernel in a network namespace reached through TAP
    (:mod:`pyharness.linux_dut`; the ``net`` fixture is then in real time).
    Over IPv6 (``family``) the bench is dual-stack and the scenario uses ``dut.ip`` / ``dut.peer_ip``
    (the ``dut_ip`` and ``peer_ip`` fixtures), its IPv6 addresses.
    """
    peer_arp = request.node.get_closest_marker("silent_peer") is None
    if family != "ipv4" and dut_kind(request.config) not in ("tern", "linux"):
        pytest.skip(f"the {dut_kind(request.config)} DUT's bench is IPv4 only (pyharness.duts): "
                    f"this scenario's {family} run needs a Tern or Linux DUT")
    if dut_kind(request.config) == "linux":
        from pyharness.linux_dut import make_linux_dut

        return make_linux_dut(net, peer_arp=peer_arp, family=family)
    if dut_kind(request.config) != "tern":  # a third-party DUT (docs/dut-contract.md)
        from pyharness.duts import load_dut

        return load_dut(dut_kind(request.config)).bench(net, peer_arp=peer_arp)
    return make_tern_dut(net, peer_arp=peer_arp, family=family)


@pytest.fixture
def dut(bench: tuple[Any, Any, Any]) -> Any:
    """The device under test."""
    return bench[0]


@pytest.fixture
def peer(bench: tuple[Any, Any, Any]) -> Any:
    """The scripted peer at 10.0.0.2/24, answering ARP for itself."""
    return bench[1]


@pytest.fixture
def link(bench: tuple[Any, Any, Any]) -> Any:
    """The link between the DUT and the peer."""
    return bench[2]


@pytest.fixture
def profile(dut: Any) -> Any:
    """The DUT's profile: the values where RFCs leave a choice."""
    return dut.profile


@pytest.fixture
def dut_ip(family: str) -> str:
    """The DUT's address in the scenario's family (10.0.0.1, fd00::1)."""
    return family_addrs(family)[0]


@pytest.fixture
def peer_ip(family: str) -> str:
    """The scripted peer's address in the scenario's family (10.0.0.2, fd00::2)."""
    return family_addrs(family)[1]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "silent_peer: the scripted peer does not answer ARP by itself")
    config.addinivalue_line("markers", "ipv4_only(reason): a scenario of a dual-family area (TCP, UDP) that is about "
                                       "IPv4 itself and runs over IPv4 only; the reason says why")
    config.addinivalue_line("markers", "both_families(reason): a scenario of a dual-family area that uses IPv4 and "
                                       "IPv6 at once (dual stack) and so runs once; the reason says why")
    config.addinivalue_line("markers", "ipv6_only(reason): a scenario of a dual-family area about a rule of IPv6 that "
                                       "has no IPv4 counterpart; runs over IPv6 only; the reason says why")
