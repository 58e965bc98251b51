"""tern_getaddrinfo (examples/lib/tern_netdb.h) over a TAP device against dnsmasq: tern-httpget
--dns resolves the URL's name through the stack's DNS client and fetches from the kernel's HTTP
server; a name dnsmasq knows not is EAI_NONAME, with the C library's own message."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from pyharness.netns import NetNamespace, unavailable

from .test_interop_examples import KERNEL_IP, example


@pytest.fixture
def dnsns(tmp_path: Path) -> Iterator[NetNamespace]:
    """tap0 at 192.168.69.100/24 with dnsmasq answering for tern.test on it (web.tern.test is the
    kernel's address; other tern.test names do not exist) and Python's http.server on port 8000."""
    reason = unavailable(("dnsmasq",))
    if reason:
        pytest.skip(f"needs privileges and dnsmasq: {reason}")
    with NetNamespace() as ns:
        ns.ip("tuntap", "add", "name", "tap0", "mode", "tap")
        ns.ip("link", "set", "tap0", "up")
        ns.ip("addr", "add", f"{KERNEL_IP}/24", "dev", "tap0")
        ns.popen(["dnsmasq", "--keep-in-foreground", "--port=53", f"--listen-address={KERNEL_IP}",
                  "--bind-interfaces", "--no-resolv", "--no-hosts", "--local=/tern.test/",
                  f"--address=/web.tern.test/{KERNEL_IP}", f"--pid-file={tmp_path / 'dnsmasq.pid'}",
                  "--user=root"])
        (tmp_path / "hello.txt").write_text("hello by name\n")
        ns.popen([sys.executable, "-m", "http.server", "--bind", KERNEL_IP, "8000"], cwd=tmp_path)
        deadline = time.monotonic() + 20
        while True:
            out = ns.run(["ss", "-lnH"]).stdout
            if f"{KERNEL_IP}:53 " in out and f"{KERNEL_IP}:8000 " in out:
                break
            # named here rather than as a DNS or HTTP failure of the test that follows
            assert time.monotonic() < deadline, f"dnsmasq (53) and http.server (8000) not both listening:\n{out}"
            time.sleep(0.05)
        yield ns


def test_httpget_resolves_a_name_with_getaddrinfo(dnsns: NetNamespace) -> None:
    r = dnsns.run([str(example("tern-httpget")), "--tap", "tap0", "--dns", KERNEL_IP,
                   "http://web.tern.test:8000/hello.txt"], timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hello by name\n"
    assert f"tern-httpget: web.tern.test is {KERNEL_IP}" in r.stderr


def test_unknown_name_is_eai_noname(dnsns: NetNamespace) -> None:
    """dnsmasq answers NXDOMAIN for a tern.test name it has no address for: EAI_NONAME, whose
    text is glibc's ("Name or service not known"); the positive control is the test above."""
    r = dnsns.run([str(example("tern-httpget")), "--tap", "tap0", "--dns", KERNEL_IP,
                   "http://nowhere.tern.test:8000/"], timeout=60)
    assert r.returncode == 1
    assert "tern-httpget: nowhere.tern.test: Name or service not known" in r.stderr, r.stderr


def test_a_name_without_dns_is_refused_at_once() -> None:
    r = subprocess.run([str(example("tern-httpget")), "http://web.tern.test/"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 2 and "a name needs --dns SERVER" in r.stderr
