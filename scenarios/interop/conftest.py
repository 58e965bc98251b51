"""Fixtures of the interop scenarios: a Tern host linked, in real time, to the Linux kernel.

Each test gets its own network namespace (``tern-<pid>-<n>``) holding the
kernel's end of a TAP interface at 10.77.0.1/24; the Tern host is 10.77.0.2/24
on a simulated link from the TAP node (impairments go on that link). The
namespace, the TAP device and the programs started in it are removed when the
test ends, also when it fails. Without /dev/net/tun or CAP_NET_ADMIN every
test here is skipped with that reason.

Like every test of the suite, an interop test that fails leaves its pcaps,
its seed and a replay line in its artifacts directory (``--artifacts``; the
plugin's :func:`~pyharness.plugin.failure_artifacts`).
"""

from __future__ import annotations

import contextlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

from pyharness.bridge import KernelLink, RealtimeNetwork
from pyharness.host import Host
from pyharness.netns import unavailable
from pyharness.plugin import failure_artifacts

KERNEL_IP = "10.77.0.1"
TERN_IP = "10.77.0.2"
HELPERS = Path(__file__).resolve().parent / "helpers"


@dataclass
class PingResult:
    """What iputils ping reported."""

    status: int
    transmitted: int
    received: int
    rtt_min_ms: Optional[float]
    rtt_max_ms: Optional[float]
    output: str


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

    def kernel_ping(self, count: int = 3, size: int = 56, interval: float = 0.01, deadline: int = 10,
                    service: Optional[Callable[[], None]] = None) -> PingResult:
        """The kernel pings the Tern host until ``count`` replies came, or ``deadline`` seconds passed.

        Deadline mode (``-w``): without it, iputils ping waits after its last
        request only max(2 x the largest round trip so far, the interval)
        once a reply came (ping_common.c), so a reply held up by a loaded
        machine counted as lost ("2 received" of 3). With ``-w`` it ends as
        soon as ``count`` replies arrived and sends a request every
        ``interval`` until then, so ``transmitted`` (and ``received``: it reads
        every reply already queued) may exceed ``count``.
        ``service`` as in :meth:`run_process`.
        """
        status, out, err = self.run_process(
            ["ping", "-n", "-c", str(count), "-i", str(interval), "-w", str(deadline), "-s", str(size),
             self.tern_ip], timeout=deadline + 10, service=service)
        m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
        assert m, f"ping: no summary line\n{out}\n{err}"
        rtt = re.search(r"rtt min/avg/max/mdev = ([\d.]+)/([\d.]+)/([\d.]+)/", out)
        return PingResult(status, int(m.group(1)), int(m.group(2)), float(rtt.group(1)) if rtt else None,
                          float(rtt.group(3)) if rtt else None, out + err)

    def helper(self, name: str, *args: str) -> list[str]:
        """The argv of a helper script of scenarios/interop/helpers, run with this Python."""
        return [sys.executable, str(HELPERS / name), *args]


def _skip_reason(programs: tuple[str, ...]) -> Optional[str]:
    return unavailable(programs)


@pytest.fixture
def interop_artifacts(request: pytest.FixtureRequest) -> Iterator[tuple[Path, int]]:
    """This test's artifacts directory and network seed; a failing test leaves its pcaps, seed and replay line there."""
    with failure_artifacts(request) as (adir, seed):
        yield adir, seed


@pytest.fixture
def make_bridge(interop_artifacts: tuple[Path, int]) -> Iterator[Callable[..., Bridge]]:
    """A factory: ``make_bridge(loss=0.01, tcp={...}, capture=True, programs=("ping",))`` -> :class:`Bridge`.

    Keywords other than ``tcp``, ``capture``, ``programs``, ``mtu``,
    ``host`` (extra Network.host options) and ``seed`` (default: the test's
    seed, derived from ``--seed``) are link impairments. The capture goes to
    the test's artifacts directory as ``bridge.pcap``.
    """
    adir, test_seed = interop_artifacts
    stack = contextlib.ExitStack()

    def make(capture: bool = True, programs: tuple[str, ...] = (), tcp: Optional[dict] = None,
             host: Optional[dict] = None, seed: Optional[int] = None, **impairments: Any) -> Bridge:
        reason = _skip_reason(programs)
        if reason:
            pytest.skip(f"interop with the Linux kernel needs privileges: {reason}")
        net = RealtimeNetwork(seed=test_seed if seed is None else seed, artifacts=adir)
        stack.callback(net.close)
        dut = net.host("tern", ipv4=f"{TERN_IP}/24", tcp=tcp or {}, **(host or {}))
        k = stack.enter_context(net.kernel(dut, f"{KERNEL_IP}/24", **impairments))
        pcap = None
        if capture:
            pcap = k.link.capture(adir / "bridge.pcap")
        return Bridge(net, dut, k, pcap)

    with stack:
        yield make
