"""The pytest plugin of pyharness (entry point ``pytest11: pyharness``).

Options: ``--seed N`` (the run's seed, default 1 or ``$TERN_SEED``) and
``--artifacts DIR`` (default ``artifacts``). The session header prints the
seed. The ``net`` fixture is a :class:`~pyharness.Network` seeded from the
run's seed and the test's node id, so tests are independent of each other and
of their order; its captures go to ``DIR/<test id>/``.

Loading the plugin imports nothing heavy: the C extension and scapy are
loaded when a test first uses ``net``.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import pytest

if TYPE_CHECKING:
    from .network import Network

DEFAULT_SEED = 1


def derive_seed(run_seed: int, nodeid: str) -> int:
    """A test's 64-bit seed from the run's seed and the test's node id."""
    h = hashlib.sha256(f"{run_seed}\0{nodeid}".encode()).digest()
    return int.from_bytes(h[:8], "big")


def artifact_dir_name(nodeid: str) -> str:
    """A file-system-safe directory name for a test id."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.replace("::", "."))
    return name.strip("_")[:150] or "test"


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


def run_seed(config: pytest.Config) -> int:
    """The seed of this pytest run."""
    seed = config.getoption("seed")
    if seed is None:
        env = os.environ.get("TERN_SEED")
        seed = int(env) if env else DEFAULT_SEED
    return int(seed)


def artifacts_root(config: pytest.Config) -> Path:
    """The artifacts directory of this pytest run."""
    opt = config.getoption("artifacts") or os.environ.get("TERN_ARTIFACTS") or "artifacts"
    return Path(opt)


def pytest_report_header(config: pytest.Config) -> str:
    return f"pyharness: seed {run_seed(config)} (replay with --seed {run_seed(config)}), artifacts in {artifacts_root(config)}/"


@pytest.fixture
def net(request: pytest.FixtureRequest) -> Iterator["Network"]:
    """A fresh Network seeded from the run's seed and this test's node id."""
    from .network import Network

    seed = derive_seed(run_seed(request.config), request.node.nodeid)
    network = Network(seed=seed, artifacts=artifacts_root(request.config) / artifact_dir_name(request.node.nodeid))
    try:
        yield network
    finally:
        network.close()


