"""smoltcp's fault options on the examples: --tx-rate-limit / --rx-rate-limit N packets per bucket,
--shaping-interval MS, against the kernel's ping over a TAP device in a namespace the test creates.

IPv6 is off in the namespace, so the kernel sends nothing the test did not ask for (no router
solicitations, no MLD reports) and every token is accounted for: the kernel's ARP request, the
host's ARP reply, then the echo requests and replies. The interval (10 s) is longer than the
test, so the buckets are never refilled here (refilling is tested in virtual time by
examples/test/test_bucket.c).
"""

from __future__ import annotations

import re
import signal
from typing import Iterator

import pytest

from pyharness.netns import NetNamespace, unavailable

from .test_interop_examples import KERNEL_IP, TERN_IP, _wait_ready, example


@pytest.fixture
def quietns() -> Iterator[NetNamespace]:
    """tap0 at 192.168.69.100/24 in a namespace without IPv6."""
    reason = unavailable(("ping",))
    if reason:
        pytest.skip(f"interop with the Linux kernel needs privileges: {reason}")
    with NetNamespace() as ns:
        for key in ("all", "default"):
            ns.run(["sysctl", "-qw", f"net.ipv6.conf.{key}.disable_ipv6=1"], check=True)
        ns.ip("tuntap", "add", "name", "tap0", "mode", "tap")
        ns.ip("link", "set", "tap0", "up")
        ns.ip("addr", "add", f"{KERNEL_IP}/24", "dev", "tap0")
        yield ns


def _ping_through(ns: NetNamespace, limits: list[str]) -> tuple[int, str]:
    """Run tern-server with `limits`, ping it 5 times; returns (replies received, the server's stderr)."""
    srv = ns.popen([str(example("tern-server")), "--tap", "tap0", *limits], text=True)
    _wait_ready(srv, "tern-server")
    r = ns.run(["ping", "-c", "5", "-i", "0.1", "-W", "1", TERN_IP], timeout=30)
    srv.send_signal(signal.SIGINT)
    _, err = srv.communicate(timeout=10)
    m = re.search(r"5 packets transmitted, (\d+) received", r.stdout)
    assert m, r.stdout
    return int(m.group(1)), err


def test_without_limits_every_ping_is_answered(quietns: NetNamespace) -> None:
    """The positive control: the same pings, no rate limit, five replies and no limiter line."""
    got, err = _ping_through(quietns, [])
    assert got == 5
    assert "rate limit" not in err


def test_tx_rate_limit_drops_what_the_host_sends_beyond_its_tokens(quietns: NetNamespace) -> None:
    """3 tokens from the host: the ARP reply and two echo replies pass, three replies are dropped."""
    got, err = _ping_through(quietns, ["--tx-rate-limit", "3", "--shaping-interval", "10000"])
    assert got == 2
    assert "rate limit: 3 frames from the host passed, 3 dropped; 6 to the host passed, 0 dropped" in err


def test_rx_rate_limit_drops_what_reaches_the_host_beyond_its_tokens(quietns: NetNamespace) -> None:
    """3 tokens to the host: the ARP request and two echo requests pass, three requests are dropped."""
    got, err = _ping_through(quietns, ["--rx-rate-limit", "3", "--shaping-interval", "10000"])
    assert got == 2
    assert "rate limit: 3 frames from the host passed, 0 dropped; 3 to the host passed, 3 dropped" in err


@pytest.mark.parametrize("args,message", [
    (["--tx-rate-limit", "-1"], "--tx-rate-limit '-1'"),
    (["--rx-rate-limit", "x"], "--rx-rate-limit 'x'"),
    (["--shaping-interval", "0"], "--shaping-interval '0'"),
])
def test_bad_limits_are_named(args: list[str], message: str) -> None:
    import subprocess
    r = subprocess.run([str(example("tern-server")), *args], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and message in r.stderr
