"""One way to run a script on the scenario bench, for every caller: pytest's ``.pkt`` items, the CLI, the tests.

:func:`run_on_bench` builds the DUT of a kind (``tern``: the Tern stack in virtual time; ``linux``: the kernel of a
network namespace in real time) and the scripted peer on a network, as the scenarios' bench is (DUT 10.0.0.1/24,
peer 10.0.0.2/24), and runs the script there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Union

from . import ast as A
from .runner import Runner, run_script

#: The DUT kinds a script runs against.
DUT_KINDS = ("tern", "linux")


def _network(dut: str, seed: int, artifacts: Optional[Path]) -> Any:
    if dut == "linux":
        from ..linux_dut import LinuxNetwork

        return LinuxNetwork(seed=seed, artifacts=artifacts)
    from ..network import Network

    return Network(seed=seed, artifacts=artifacts)


def run_on_bench(script: A.Script, dut: str = "tern", net: Any = None, seed: int = 1,
                 artifacts: Union[str, Path, None] = None) -> Runner:
    """Run ``script`` against a DUT of kind ``dut`` (``tern`` or ``linux``) on a fresh bench.

    ``net``: the network to build the bench on (a pytest ``net`` fixture; a :class:`~pyharness.linux_dut.LinuxNetwork`
    for ``linux``). Without one, or if ``net`` already holds nodes (a second run in one test), a network of the
    DUT's kind is made with ``seed`` (``net``'s seed if given) and ``artifacts`` (a directory for its pcaps), and
    closed after the run. Returns the finished :class:`~pyharness.pkt.runner.Runner`; raises
    :class:`~pyharness.pkt.errors.PktError` when the script fails, ``ValueError`` for an unknown DUT kind.
    """
    if dut not in DUT_KINDS:
        raise ValueError(f"unknown DUT kind {dut!r} (known: {', '.join(DUT_KINDS)})")
    if net is None or net.nodes:
        own = _network(dut, int(net.seed) if net is not None else seed,
                       Path(artifacts) if artifacts is not None else None)
        try:
            return run_on_bench(script, dut, own)
        finally:
            own.close()
    if dut == "linux":
        from ..linux_dut import make_linux_dut

        d, peer, _link = make_linux_dut(net)
    else:
        from ..dut import make_tern_dut

        d, peer, _link = make_tern_dut(net)
    return run_script(script, d, peer, net)


__all__ = ["DUT_KINDS", "run_on_bench"]
