"""pytest collection of ``*.pkt`` scripts: each file is one test item with the ``net`` fixture.

The DUT is the run's (``--dut tern|linux``), built as the scenario bench is
(DUT 10.0.0.1/24, scripted peer 10.0.0.2/24), so seeds, pcaps, artifacts and
the replay line come from the pyharness plugin as for any scenario. Header
comments give markers: ``// rfc: 9293 3.5, 9293 3.10.7.2``,
``// deviation linux: <RFC text>``, ``// dut: tern`` (Tern's values), ``// dut: linux`` (a Linux-valued twin),
``// realtime: N s`` (the real time the script needs against a real-time DUT, read by the runner).
"""

from __future__ import annotations

import re
import types
from pathlib import Path
from typing import Any, Optional

import pytest

_HEADER = re.compile(r"^\s*//\s*(rfc|deviation linux|dut)\s*:\s*(.+?)\s*$")
_DUT_REASON = "the script's windows, options and timers are the Tern DUT's values (docs/packetdrill.md)"
#: ``// dut: linux``: the Linux-valued twin of a Tern-valued script (``NAME_linux.pkt`` beside ``NAME.pkt``).
_TWIN_REASON = "the Linux-valued twin of a Tern-valued script: Linux's values where the RFCs leave them open"


def _markers(path: Path) -> list:
    marks = []
    for line in path.read_text().splitlines():
        m = _HEADER.match(line)
        if not m:
            continue
        key, value = m.groups()
        if key == "rfc":
            marks.append(pytest.mark.rfc(*[v.strip() for v in value.split(",") if v.strip()]))
        elif key == "deviation linux":
            marks.append(pytest.mark.deviation("linux", reason=value))
        else:
            kinds = [v.strip() for v in value.split(",")]
            marks.append(pytest.mark.dut(*kinds, reason=_TWIN_REASON if kinds == ["linux"] else _DUT_REASON))
    return marks


def _run_pkt(path: Path, request: pytest.FixtureRequest, net: Any) -> None:
    from ..plugin import dut_kind
    from .bench import run_on_bench
    from .parser import parse_file

    run_on_bench(parse_file(path), dut_kind(request.config), net)


class PktFile(pytest.Module):
    """A ``.pkt`` script as a pytest module holding one test, ``script``."""

    def _getobj(self) -> Any:
        mod = types.ModuleType(f"pkt_{self.path.stem}")
        mod.__file__ = str(self.path)
        return mod

    def collect(self) -> list:
        self.session._fixturemanager.parsefactories(self)
        path = self.path

        def script(request: pytest.FixtureRequest, net: Any) -> None:
            __tracebackhide__ = True
            _run_pkt(path, request, net)

        script.__module__ = self.obj.__name__
        item = pytest.Function.from_parent(self, name="script", callobj=script)
        for m in _markers(path):
            item.add_marker(m)
        return [item]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Optional[pytest.Collector]:
    """Collect ``*.pkt`` files as tests."""
    if file_path.suffix == ".pkt":
        return PktFile.from_parent(parent, path=file_path)
    return None


__all__ = ["PktFile", "pytest_collect_file"]
