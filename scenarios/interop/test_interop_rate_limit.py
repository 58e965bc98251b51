"""smoltcp's fault options on the examples: --tx-rate-limit / --rx-rate-limit N packets per bucket,
--shaping-interval MS, against 5 echo requests from the kernel (a raw ICMP socket, PING5) over a TAP device in
a namespace the test creates.

IPv6 is off in the namespace, so the kernel sends nothing the test did not ask for (no router
solicitations, no MLD reports) and every token is accounted for: the kernel's ARP request, the
host's ARP reply, then the echo requests and replies. The interval (10 s) is longer than the
test (the requests go within 0.4 s; then up to LINGER, 5 s, for late replies), so the buckets are never
refilled here (refilling is tested in virtual time by examples/test/test_bucket.c).
"""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import time
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


#: Exactly 5 echo requests, 0.1 s apart, from a raw ICMP socket; then the replies are counted until all 5 came
#: or LINGER seconds after the last request. iputils ping cannot do both: with -c 5 and no -w it waits only
#: max(2 x RTT, 0.1 s) after its last request, so a reply held up by a busy machine counted as lost (the
#: control's "5 received" failed, and tern-server could be stopped before it had read the last request, which
#: the limiter's counts include); with -w it sends more than 5 requests, which the token counts cannot allow.
PING5 = """
import os, select, socket, struct, sys, time
LINGER = float(sys.argv[2])
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident, got, start = os.getpid() & 0xffff, set(), time.monotonic()
for seq in range(1, 6):
    while time.monotonic() < start + (seq - 1) * 0.1:
        time.sleep(0.005)
    echo = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + bytes(56)
    s.sendto(echo[:2] + struct.pack("!H", csum(echo)) + echo[4:], (sys.argv[1], 0))
end = time.monotonic() + LINGER
while len(got) < 5 and (left := end - time.monotonic()) > 0:
    if select.select([s], [], [], left)[0]:
        d = s.recv(2048)
        icmp = d[(d[0] & 15) * 4:]
        t, _, _, i, q = struct.unpack("!BBHHH", icmp[:8])
        if t == 0 and i == ident:
            got.add(q)
print("5 transmitted", len(got), "received", flush=True)
"""
#: Seconds the replies are waited for after the fifth request: the control ends as soon as all 5 came.
LINGER = 5


def _ping_through(ns: NetNamespace, limits: list[str], hold_up: float = 0.0) -> tuple[int, str]:
    """Run tern-server with `limits`, ping it 5 times; returns (replies received, the server's stderr).

    ``hold_up`` (seconds): stop tern-server (SIGSTOP) that long from 0.3 s into the pings, as a busy machine may.
    """
    srv = ns.popen([str(example("tern-server")), "--tap", "tap0", *limits], text=True)
    _wait_ready(srv, "tern-server")
    held: list[float] = []

    def stall() -> None:
        time.sleep(0.3)
        os.killpg(srv.pid, signal.SIGSTOP)
        t0 = time.monotonic()
        time.sleep(hold_up)
        os.killpg(srv.pid, signal.SIGCONT)
        held.append(time.monotonic() - t0)

    staller = threading.Thread(target=stall) if hold_up else None
    if staller:
        staller.start()
    try:
        r = ns.run([sys.executable, "-c", PING5, TERN_IP, str(LINGER)], timeout=LINGER + 30)
    finally:
        if staller:
            staller.join()
    assert not hold_up or held, "tern-server was not held up"
    srv.send_signal(signal.SIGINT)
    _, err = srv.communicate(timeout=10)
    m = re.fullmatch(r"5 transmitted (\d+) received\n", r.stdout)
    assert m, r.stdout + r.stderr
    return int(m.group(1)), err


def test_without_limits_every_ping_is_answered(quietns: NetNamespace) -> None:
    """The positive control: the same pings, no rate limit, five replies and no limiter line."""
    got, err = _ping_through(quietns, [])
    assert got == 5
    assert "rate limit" not in err


def test_without_limits_a_held_up_server_still_gets_every_reply_counted(quietns: NetNamespace) -> None:
    """The control again with tern-server stopped for 1 s from 0.3 s (between the fourth and the fifth request):
    the late replies are counted (``ping -c 5 -i 0.1 -W 1``, used before, reported "3 received")."""
    got, err = _ping_through(quietns, [], hold_up=1.0)
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
