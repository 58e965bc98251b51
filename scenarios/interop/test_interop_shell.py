"""The examples' network shell (--shell): commands on standard input, checked answers.

tern-server (and tern-zperf, whose socket calls block) run with --shell on a TAP device in a
namespace the test creates, IPv6 off there so the ARP cache and the counters hold only what the
test caused. Each answer ends with "ok" or "error: ..." (formats in examples/shell.c).
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import time
from typing import Callable, Iterator

import pytest

from pyharness.netns import NetNamespace, unavailable

from .kernel_tools import ns_ping
from .test_interop_examples import KERNEL_IP, TERN_IP, _wait_ready, example


class Shell:
    """A running example with --shell: send a command, read its answer up to "ok" / "error: ..."."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.buf = b""

    def _line(self, timeout: float) -> str:
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            assert left > 0, f"no answer; so far {self.buf!r}"
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                assert chunk, "the program ended"
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def run(self, command: str, timeout: float = 10.0) -> list[str]:
        """The answer's lines, the final "ok" or "error: ..." included."""
        self.proc.stdin.write((command + "\n").encode())
        self.proc.stdin.flush()
        lines = []
        while True:
            line = self._line(timeout)
            lines.append(line)
            if line == "ok" or line.startswith("error: "):
                return lines

    def run_until(self, command: str, done: Callable[[list[str]], bool], what: str,
                  timeout: float = 10.0) -> list[str]:
        """Repeat `command` until its answer satisfies `done` (for state that another process
        reaches on its own time, such as the kernel's handshake completing and the program's
        accept); fail naming `what` and the last answer when `timeout` seconds pass first."""
        end = time.monotonic() + timeout
        while True:
            lines = self.run(command)
            if done(lines):
                return lines
            assert time.monotonic() < end, f"{what}: not seen within {timeout} s; last answer {lines}"
            time.sleep(0.05)


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


def _start(ns: NetNamespace, args: list[str], ready: str) -> Shell:
    p = ns.popen(args, stdin=subprocess.PIPE)
    line = p.stderr.readline().decode()
    assert ready in line, line
    return Shell(p)


def _kernel_mac(ns: NetNamespace) -> str:
    m = re.search(r"link/ether ([0-9a-f:]{17})", ns.ip("link", "show", "tap0"))
    assert m
    return m.group(1)


def test_shell_commands_on_tern_server(quietns: NetNamespace) -> None:
    sh = _start(quietns, [str(example("tern-server")), "--tap", "tap0", "--shell", "--gateway", KERNEL_IP],
                "tern-server")
    # The link-local address from the MAC (RFC 4291 appendix A) is there whatever the kernel does.
    assert sh.run("iface") == ["iface 0 mac 02:00:00:00:00:01 mtu 1500", f"  ipv4 {TERN_IP}/24",
                               "  ipv6 fe80::ff:fe00:1/64", "ok"]
    assert sh.run("ipv4") == [f"{TERN_IP}/24 iface 0", "ok"]
    assert sh.run("ipv6") == ["fe80::ff:fe00:1/64 iface 0 preferred link-local preferred-ms forever "
                              "valid-ms forever", "ok"]
    assert sh.run("route") == ["192.168.69.0/24 on-link iface 0", "fe80::/64 on-link iface 0",
                               f"0.0.0.0/0 via {KERNEL_IP} iface 0", "ok"]
    assert sh.run("nbr") == ["ok"]
    # Nothing has been said yet: an empty ARP cache ...
    assert sh.run("arp") == ["ok"]
    # tern-server's sockets take both families: bound to no address ("*").
    listeners = [f"tcp *:{p} *:0 LISTEN srtt-us 0 rto-ms 1000 cwnd 0 snd-mss 0 retransmits 0 owner app"
                 for p in (6969, 6970, 6971, 6972)]
    assert sh.run("conn") == [*listeners, "udp *:6969", "ok"]

    # ... then the kernel pings twice and opens a connection to the sink (6971).
    r = ns_ping(quietns, TERN_IP, count=2)
    assert r.status == 0 and r.received >= 2, r.output
    client = quietns.popen(["python3", "-c",
                            f"import socket, sys, time; s = socket.create_connection(('{TERN_IP}', 6971)); "
                            "print(s.getsockname()[1], flush=True); time.sleep(30)"], text=True)
    kport = int(client.stdout.readline())
    arp = sh.run("arp")
    assert len(arp) == 2 and re.fullmatch(
        rf"{KERNEL_IP} at {_kernel_mac(quietns)} iface 0 expires-in-ms (\d+)", arp[0]), arp
    assert 0 < int(arp[0].rsplit(" ", 1)[1]) <= 60000  # the cache lifetime, 60 s
    # The kernel's connect() returns when it sends the handshake's last ACK; the program accepts
    # when that ACK has arrived, on its own time.
    conn = sh.run_until("conn", lambda ls: any(" ESTABLISHED " in ln and ln.endswith(" owner app") for ln in ls),
                        "the kernel's connection accepted by tern-server")
    est = [ln for ln in conn if " ESTABLISHED " in ln]
    assert len(est) == 1 and est[0].startswith(f"tcp {TERN_IP}:6971 {KERNEL_IP}:{kport} ESTABLISHED srtt-us "), conn
    assert re.search(r" snd-mss 1448 retransmits 0 owner app$", est[0]), est[0]

    ping = sh.run(f"ping {KERNEL_IP} 2")
    assert ping == [f"reply from {KERNEL_IP}: seq 1 ttl 64", f"reply from {KERNEL_IP}: seq 2 ttl 64",
                    f"ping {KERNEL_IP}: 2 sent, 2 received", "ok"]
    # Nobody at .77: ARP fails, no reply (the positive control is the ping above).
    assert sh.run("ping 192.168.69.77 1", timeout=15) == ["ping 192.168.69.77: 1 sent, 0 received", "ok"]

    stats = sh.run("stats")
    assert stats[-1] == "ok"
    values = dict(ln.split(" ") for ln in stats[:-1])
    assert len(values) == len(stats) - 1 >= 73
    # Every request the kernel's ping sent (2, or more if a reply was held up: ns_ping's deadline mode) answered.
    assert values["icmp_echo_requests"] == str(r.transmitted), (values["icmp_echo_requests"], r.output)
    assert values["icmp_echo_replies_sent"] == str(r.transmitted)
    assert int(values["frames_in"]) > 0 and values["ip_bad_checksum"] == "0"
    assert int(values["arp_requests_sent"]) >= 1  # for .77

    assert sh.run("bogus") == ["error: unknown command 'bogus' (try help)"]
    assert sh.run("ping 1.2.3") == ["error: ping ADDRESS [COUNT]: '1.2.3' is not an IPv4 or IPv6 address"]
    assert sh.run("conn extra") == ["error: conn takes no argument"]
    assert sh.run("help")[-1] == "ok"
    client.kill()


def test_shell_answers_while_zperf_blocks_in_accept(quietns: NetNamespace) -> None:
    """tern-zperf's socket calls block; the shell still answers meanwhile (the driver's rounds run it)."""
    sh = _start(quietns, [str(example("tern-zperf")), "--tap", "tap0", "--shell", "--count", "1", "tcp", "download"],
                "tcp download on port 5001")
    conn = sh.run("conn")
    # tern-zperf's server is one AF_INET6 socket bound to [::] (both families).
    assert conn == ["tcp [::]:5001 *:0 LISTEN srtt-us 0 rto-ms 1000 cwnd 0 snd-mss 0 retransmits 0 owner app", "ok"]


def test_shell_is_refused_where_stdin_is_data() -> None:
    r = subprocess.run([str(example("tern-client")), "--shell", "1.2.3.4", "80"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 2 and "--shell: tern-client reads its data from standard input" in r.stderr


def test_shell_dns_against_dnsmasq(quietns: NetNamespace, tmp_path) -> None:
    """dns server / dns NAME through the stack's resolver, answered by dnsmasq on the kernel's side."""
    if unavailable(("dnsmasq",)):
        pytest.skip("needs dnsmasq")
    quietns.popen(["dnsmasq", "--keep-in-foreground", "--port=53", f"--listen-address={KERNEL_IP}",
                   "--bind-interfaces", "--no-resolv", "--no-hosts", "--address=/tern.test/10.1.2.3",
                   f"--pid-file={tmp_path / 'dnsmasq.pid'}", "--user=root"])
    for _ in range(100):
        if quietns.run(["ss", "-lnuH", "sport", "= :53"]).stdout.strip():
            break
        time.sleep(0.05)
    sh = _start(quietns, [str(example("tern-server")), "--tap", "tap0", "--shell"], "tern-server")
    assert sh.run("dns server 0.0.0.0") == ["error: dns server '0.0.0.0': refused (dns: server 0 is 0x00000000)"]
    assert sh.run(f"dns server {KERNEL_IP}") == ["ok"]
    assert sh.run("dns www.tern.test") == ["www.tern.test 10.1.2.3", "ok"]
    # dnsmasq without an upstream server answers REFUSED for other names: the resolver says FAILED
    assert sh.run("dns nowhere.invalid") == ["nowhere.invalid FAILED", "ok"]
    assert sh.run("dns") == ["error: dns NAME, or dns server ADDRESS"]
