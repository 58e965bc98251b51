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

from pyharness.dut import PEER_IP, make_tern_dut
from pyharness.plugin import dut_kind


@pytest.fixture
def bench(request: pytest.FixtureRequest, net: Any) -> tuple[Any, Any, Any]:
    """(dut, peer, link). A scenario marked ``silent_peer`` gets a peer that does not answer ARP.

    The DUT is the run's (``--dut tern`` or ``--dut linux``): a Tern host, or
    the Linux kernel in a network namespace reached through TAP
    (:mod:`pyharness.linux_dut`; the ``net`` fixture is then in real time).
    """
    peer_arp = request.node.get_closest_marker("silent_peer") is None
    if dut_kind(request.config) == "linux":
        from pyharness.linux_dut import make_linux_dut

        return make_linux_dut(net, peer_arp=peer_arp)
    if dut_kind(request.config) != "tern":  # a third-party DUT (docs/dut-contract.md)
        from pyharness.duts import load_dut

        return load_dut(dut_kind(request.config)).bench(net, peer_arp=peer_arp)
    return make_tern_dut(net, peer_arp=peer_arp)


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
def peer_ip() -> str:
    return PEER_IP


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "silent_peer: the scripted peer does not answer ARP by itself")
