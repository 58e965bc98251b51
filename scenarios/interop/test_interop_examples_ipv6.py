"""The example programs over IPv6 on a TAP interface, against the kernel's tools.

Each test makes its own namespace with tap0 at 192.168.69.100/24 and
fd00:69::100/64 (``nodad``: usable at once, the test does not wait out the
kernel's Duplicate Address Detection); the example's Tern host is
192.168.69.1 and, with ``--ip6``, fd00:69::1/64 behind it. The kernel's side:
``ping -6``, ``curl -6``, Python's http.server bound to ``::``, Python
sockets, and iperf 2 with ``-V``. Neighbour Discovery runs both ways (the
kernel resolves the Tern host's address and the Tern host the kernel's).
"""

from __future__ import annotations

import os
import subprocess
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from pyharness.netns import NetNamespace, unavailable

from .kernel_tools import IperfServer, ns_ping
from .test_interop_examples import KERNEL_IP, _wait_ready, example

KERNEL_IP6 = "fd00:69::100"
TERN_IP6 = "fd00:69::1"


@pytest.fixture
def tapns6() -> Iterator[NetNamespace]:
    """tap0 at 192.168.69.100/24 and fd00:69::100/64, up."""
    reason = unavailable(("ping", "curl"))
    if reason:
        pytest.skip(f"interop with the Linux kernel needs privileges: {reason}")
    with NetNamespace() as ns:
        ns.ip("tuntap", "add", "name", "tap0", "mode", "tap")
        ns.ip("link", "set", "tap0", "up")
        ns.ip("addr", "add", f"{KERNEL_IP}/24", "dev", "tap0")
        ns.ip("-6", "addr", "add", f"{KERNEL_IP6}/64", "dev", "tap0", "nodad")
        yield ns


def _listening(ns: NetNamespace, needle: str, udp: bool = False) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if needle in ns.run(["ss", "-lnH" + ("u" if udp else "t")]).stdout:
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {needle}")


def test_kernel_pings_and_talks_to_the_server_over_ipv6(tapns6: NetNamespace) -> None:
    """tern-server --ip6: ping -6 of 3000 bytes (fragmented both ways: beyond the 1500-byte MTU), UDP 6969
    and TCP 6969/6970 from Python over IPv6, and the same ports over IPv4 (one socket each)."""
    srv = tapns6.popen([str(example("tern-server")), "--tap", "tap0", "--ip6", f"{TERN_IP6}/64"], text=True)
    _wait_ready(srv, "tern-server")
    r = ns_ping(tapns6, TERN_IP6, count=2, interval=0.05, size=3000, ipv6=True)
    assert r.status == 0 and r.received >= 2, r.output
    script = f"""
import socket
for fam, host in ((socket.AF_INET6, "{TERN_IP6}"), (socket.AF_INET, "192.168.69.1")):
    s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(10)
    s.sendto(b"x", (host, 6969)); assert s.recv(100) == b"hello\\n"
    c = socket.create_connection((host, 6969), timeout=10)
    assert c.recv(100) == b"hello\\n" and c.recv(100) == b""
    c = socket.create_connection((host, 6970), timeout=10); c.sendall(b"abcdef")
    assert c.recv(100) == b"fedcba"; c.close()
print("ok")
"""
    r = tapns6.run([sys.executable, "-c", script], timeout=60)
    assert r.stdout.strip() == "ok", r.stderr
    neigh = tapns6.run(["ip", "-6", "neigh", "show", "dev", "tap0"]).stdout
    assert TERN_IP6 in neigh and "02:00:00:00:00:01" in neigh, neigh


def test_curl_6_gets_a_file_from_httpd(tapns6: NetNamespace, tmp_path: Path) -> None:
    """tern-httpd --ip6: curl -6 downloads 2 MB byte-exact from http://[fd00:69::1]:8080/."""
    root = tmp_path / "www"
    root.mkdir()
    body = os.urandom(2_000_000)
    (root / "blob.bin").write_bytes(body)
    srv = tapns6.popen([str(example("tern-httpd")), "--tap", "tap0", "--ip6", TERN_IP6, "--port", "8080",
                        "--root", str(root)], text=True)
    _wait_ready(srv, "tern-httpd")
    out = tmp_path / "got"
    r = tapns6.run(["curl", "-6", "-g", "-sS", "--fail", "--max-time", "30", "-o", str(out),
                    f"http://[{TERN_IP6}]:8080/blob.bin"], timeout=60)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == body


def test_httpget_and_ping_reach_the_kernel_over_ipv6(tapns6: NetNamespace, tmp_path: Path) -> None:
    """tern-httpget http://[fd00:69::100]:8000/ from Python's http.server on ::; tern-ping of the
    kernel's IPv6 address, 2000 bytes (fragmented)."""
    (tmp_path / "hello.txt").write_text("hello over IPv6\n")
    httpd = tapns6.popen([sys.executable, "-m", "http.server", "--bind", "::", "8000"], cwd=tmp_path, text=True)
    try:
        _listening(tapns6, ":8000 ")
        r = tapns6.run([str(example("tern-httpget")), "--tap", "tap0", "--ip6", TERN_IP6,
                        f"http://[{KERNEL_IP6}]:8000/hello.txt"], timeout=40)
        assert r.returncode == 0, r.stderr
        assert r.stdout == "hello over IPv6\n"
        r = tapns6.run([str(example("tern-ping")), "--tap", "tap0", "--ip6", TERN_IP6, "--count", "3",
                        "--interval", "50", "--size", "2000", KERNEL_IP6], timeout=40)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "3 received" in r.stdout
        assert re.search(rf"from {re.escape(KERNEL_IP6)}", r.stdout), r.stdout
    finally:
        httpd.kill()


def test_zperf_and_iperf_v_both_ways(tapns6: NetNamespace) -> None:
    """tern-zperf over IPv6 with iperf 2 -V: tern-zperf uploads to ``iperf -s -V``, then iperf -c -V
    uploads to tern-zperf's server; both ends count the same bytes (iperf's CSV, -y C)."""
    if shutil.which("iperf") is None:
        pytest.skip("needs iperf 2")
    srv = IperfServer(tapns6, "-V").ready()
    try:
        r = tapns6.run([str(example("tern-zperf")), "--tap", "tap0", "--ip6", TERN_IP6, "--time", "2",
                        "tcp", "upload", KERNEL_IP6], timeout=60)
        assert r.returncode == 0, r.stderr
        m = re.fullmatch(rf"zperf: tcp upload to \[{re.escape(KERNEL_IP6)}\]:5001: (\d+) bytes in \S+ s, "
                         r"\d+ kbit/s\n", r.stdout)
        assert m, r.stdout
        sent = int(m[1])
        # iperf's reporter writes the connection's row after it ended, on its own time (it used to be stopped
        # at once and its output read then).
        rows = srv.wait_rows(1)
    finally:
        srv.stop()
    # iperf 2's CSV: field 7 the bytes; it counts all but the first 4 (its header word), as over
    # IPv4 (test_interop_zperf.py).
    assert int(rows[-1][7]) == sent - 4, (rows, sent)
    assert rows[-1][1] == TERN_IP6 and rows[-1][3] == KERNEL_IP6, rows

    z = tapns6.popen([str(example("tern-zperf")), "--tap", "tap0", "--ip6", TERN_IP6, "--count", "1",
                      "tcp", "download"], text=True)
    line = z.stderr.readline()
    assert "tcp download on port 5001" in line, line
    r = tapns6.run(["iperf", "-c", TERN_IP6, "-V", "-t", "2", "-y", "C"], timeout=60)
    assert r.returncode == 0, r.stderr
    rows = [ln.split(",") for ln in r.stdout.splitlines() if re.match(r"^\d{14},", ln)]
    assert rows, r.stdout
    out, err = z.communicate(timeout=30)
    m = re.fullmatch(rf"zperf: tcp download from \[{re.escape(KERNEL_IP6)}\]:\d+: (\d+) bytes in \S+ s, "
                     r"\d+ kbit/s\n", out)
    assert m, out + err
    assert int(m[1]) == int(rows[-1][7]), (m[1], rows)


def test_shell_ipv6_nbr_route_ping_and_conn(tapns6: NetNamespace) -> None:
    """tern-server --shell --ip6 --gw6: the IPv6 addresses, the neighbour cache after the kernel
    pinged (an entry for the kernel with its MAC: made from the kernel's solicitation, then moved
    on by our reply; which of the states with a link-layer address it is in depends on wall-clock
    time, so any of them), the IPv6 default route, a shell ping -6 of the kernel, and an IPv6
    connection in conn."""
    from .test_interop_shell import Shell

    p = tapns6.popen([str(example("tern-server")), "--tap", "tap0", "--shell", "--ip6", f"{TERN_IP6}/64",
                      "--gw6", KERNEL_IP6], stdin=subprocess.PIPE)
    line = p.stderr.readline().decode()
    assert "tern-server" in line, line
    sh = Shell(p)
    assert sh.run("ipv6") == [
        "fe80::ff:fe00:1/64 iface 0 preferred link-local preferred-ms forever valid-ms forever",
        f"{TERN_IP6}/64 iface 0 preferred static preferred-ms forever valid-ms forever", "ok"]
    assert sh.run("route") == ["192.168.69.0/24 on-link iface 0", "fe80::/64 on-link iface 0",
                               "fd00:69::/64 on-link iface 0", f"::/0 via {KERNEL_IP6} iface 0", "ok"]
    assert sh.run("nbr") == ["ok"]  # positive control below: the same command after traffic
    r = tapns6.run(["ping", "-6", "-n", "-c", "1", "-W", "5", TERN_IP6], timeout=30)
    assert "1 received" in r.stdout, r.stdout
    kmac = re.search(r"link/ether ([0-9a-f:]{17})", tapns6.ip("link", "show", "tap0"))[1]
    nbr = sh.run("nbr")
    assert len(nbr) == 2 and re.fullmatch(
        rf"{re.escape(KERNEL_IP6)} at {kmac} iface 0 (REACHABLE|STALE|DELAY|PROBE) probes \d+ timer-ms (\d+|none)",
        nbr[0]), nbr
    assert sh.run(f"ping {KERNEL_IP6} 2") == [
        f"reply from {KERNEL_IP6}: seq 1 ttl 64", f"reply from {KERNEL_IP6}: seq 2 ttl 64",
        f"ping {KERNEL_IP6}: 2 sent, 2 received", "ok"]
    client = tapns6.popen([sys.executable, "-c",
                           f"import socket, time; s = socket.create_connection(('{TERN_IP6}', 6971)); "
                           "print(s.getsockname()[1], flush=True); time.sleep(30)"], text=True)
    try:
        kport = int(client.stdout.readline())
        # connect() returns when the kernel sends the handshake's last ACK; tern-server accepts
        # when that ACK has arrived, on its own time.
        conn = sh.run_until("conn", lambda ls: any(" ESTABLISHED " in ln and ln.endswith(" owner app") for ln in ls),
                            "the kernel's connection accepted by tern-server")
        est = [ln for ln in conn if " ESTABLISHED " in ln]
        assert len(est) == 1 and est[0].startswith(
            f"tcp [{TERN_IP6}]:6971 [{KERNEL_IP6}]:{kport} ESTABLISHED srtt-us "), est
        # MSS over IPv6: the MTU less 60 (the 40-byte IPv6 header and the 20-byte TCP header, as
        # tern/stack.h says), less the 12 bytes of the timestamp option.
        assert est[0].endswith(" snd-mss 1428 retransmits 0 owner app"), est
    finally:
        client.kill()
        p.kill()
