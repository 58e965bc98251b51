"""Fixtures of the interop scenarios: a Tern host linked, in real time, to the Linux kernel.

Each test gets its own network namespace (``tern-<pid>-<n>``) holding the
kernel's end of a TAP interface at 10.77.0.1/24; the Tern host is 10.77.0.2/24
on a simulated link from the TAP node (impairments go on that link). The
namespace, the TAP device and the programs started in it are removed when the
test ends, also when it fails. Without /dev/net/tun or CAP_NET_ADMIN every
test here is skipped with that reason.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

from pyharness.bridge import KernelLink, RealtimeNetwork
from pyharness.host import Host
from pyharness.netns import unavailable

KERNEL_IP = "10.77.0.1"
TERN_IP = "10.77.0.2"
HELPERS = Path(__file__).resolve().parent / "helpers"


@dataclass
class Bridge:
    """One Tern host and the kernel, linked through TAP."""

    net: RealtimeNetwork
    dut: Host
    kernel: KernelLink
    capture: Optional[Path]
    kernel_ip: str = KERNEL_IP
    tern_ip: str = TERN_IP

    @property
    def ns(self) -> Any:
        """The kernel's namespace (:class:`~pyharness.netns.NetNamespace`)."""
        return self.kernel.ns

    def run_until(self, pred: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Run the network in real time until ``pred()`` holds (True) or ``timeout`` seconds pass (False)."""
        return bool(self.net.run_realtime(for_=timeout, until=pred))

    def run_process(self, args: list[str], timeout: float = 20.0,
                    service: Optional[Callable[[], None]] = None) -> tuple[int, str, str]:
        """Run a program in the kernel's namespace while the network runs; returns (status, stdout, stderr).

        ``service`` (optional) is called between slices, to play the Tern side.
        """
        p = self.ns.popen(args, text=True)

        def done() -> bool:
            if service is not None:
                service()
            return p.poll() is not None

        if not self.run_until(done, timeout):
            p.kill()
            out, err = p.communicate()
            raise AssertionError(f"{' '.join(args)}: still running after {timeout} s\nstdout:\n{out}\nstderr:\n{err}")
        out, err = p.communicate()
        return p.returncode, out, err

    def helper(self, name: str, *args: str) -> list[str]:
        """The argv of a helper script of scenarios/interop/helpers, run with this Python."""
        return [sys.executable, str(HELPERS / name), *args]


def _skip_reason(programs: tuple[str, ...]) -> Optional[str]:
    return unavailable(programs)


@pytest.fixture
def make_bridge(tmp_path: Path) -> Iterator[Callable[..., Bridge]]:
    """A factory: ``make_bridge(loss=0.01, tcp={...}, capture=True, programs=("ping",))`` -> :class:`Bridge`.

    Keywords other than ``tcp``, ``capture``, ``programs``, ``mtu`` and
    ``host`` (extra Network.host options) are link impairments.
    """
    stack = contextlib.ExitStack()

    def make(capture: bool = True, programs: tuple[str, ...] = (), tcp: Optional[dict] = None,
             host: Optional[dict] = None, seed: int = 1, **impairments: Any) -> Bridge:
        reason = _skip_reason(programs)
        if reason:
            pytest.skip(f"interop with the Linux kernel needs privileges: {reason}")
        net = RealtimeNetwork(seed=seed, artifacts=tmp_path)
        stack.callback(net.close)
        dut = net.host("tern", ipv4=f"{TERN_IP}/24", tcp=tcp or {}, **(host or {}))
        k = stack.enter_context(net.kernel(dut, f"{KERNEL_IP}/24", **impairments))
        pcap = None
        if capture:
            pcap = k.link.capture(tmp_path / "bridge.pcap")
        return Bridge(net, dut, k, pcap)

    with stack:
        yield make
