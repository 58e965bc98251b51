"""The example programs (examples/) on a TAP interface, driven by kernel tools.

Each example runs inside the test's namespace (``ip netns exec``) on a TAP
device created there; the kernel side is curl, ping and Python sockets.
Skipped when the examples are not built (cmake -DTERN_BUILD_EXAMPLES=ON,
which ``make test`` does).
"""

from __future__ import annotations

import os
import shutil
import socket  # noqa: F401  (used inside the namespace through helpers)
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, Optional

import pytest

from pyharness.netns import NetNamespace, unavailable

ROOT = Path(__file__).resolve().parents[2]
KERNEL_IP = "192.168.69.100"
TERN_IP = "192.168.69.1"


def _example(name: str) -> Optional[Path]:
    """The built example: $TERN_EXAMPLES_DIR, else make test's build/, else any build*/ directory."""
    env = os.environ.get("TERN_EXAMPLES_DIR")
    first = [Path(env) / name] if env else []
    for cand in [*first, ROOT / "build" / "examples" / name, *sorted(ROOT.glob(f"build*/**/examples/{name}"))]:
        if cand.is_file() and os.access(cand, os.X_OK):
            return cand
    return None


def example(name: str) -> Path:
    p = _example(name)
    if p is None:
        pytest.skip(f"examples/{name} is not built (cmake -DTERN_BUILD_EXAMPLES=ON)")
    return p


@pytest.fixture
def tapns() -> Iterator[NetNamespace]:
    """A namespace with a persistent TAP device tap0 at 192.168.69.100/24, up."""
    reason = unavailable(("ping", "curl"))
    if reason:
        pytest.skip(f"interop with the Linux kernel needs privileges: {reason}")
    with NetNamespace() as ns:
        ns.ip("tuntap", "add", "name", "tap0", "mode", "tap")
        ns.ip("link", "set", "tap0", "up")
        ns.ip("addr", "add", f"{KERNEL_IP}/24", "dev", "tap0")
        yield ns


def _wait_ready(proc: subprocess.Popen, word: str) -> None:
    line = proc.stderr.readline()
    assert word in line, f"example did not start: {line}"
    time.sleep(0.05)


def test_server_answers_ping_udp_and_tcp(tapns: NetNamespace, interop_artifacts: tuple[Path, int]) -> None:
    """examples/server: ping, UDP 6969 "hello", TCP 6969 hello+close, 6970 reversed echo, 6972 source."""
    adir, _ = interop_artifacts
    adir.mkdir(parents=True, exist_ok=True)
    srv = tapns.popen([str(example("tern-server")), "--tap", "tap0", "--pcap", str(adir / "server.pcap")], text=True)
    _wait_ready(srv, "tern-server")
    r = tapns.run(["ping", "-n", "-c", "2", "-i", "0.05", "-W", "2", "-s", "3000", TERN_IP])
    assert r.returncode == 0, r.stdout
    script = f"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(10)
s.sendto(b"x", ("{TERN_IP}", 6969)); assert s.recv(100) == b"hello\\n"
c = socket.create_connection(("{TERN_IP}", 6969), timeout=10)
assert c.recv(100) == b"hello\\n" and c.recv(100) == b""
c = socket.create_connection(("{TERN_IP}", 6970), timeout=10); c.sendall(b"abcdef")
assert c.recv(100) == b"fedcba"; c.close()
c = socket.create_connection(("{TERN_IP}", 6972), timeout=10); n = 0
while n < 1000000: n += len(c.recv(65536))
c.close()
c = socket.create_connection(("{TERN_IP}", 6971), timeout=10); c.sendall(b"z" * 1000000); c.close()
print("ok")
"""
    # Wall-clock timeouts are generous: on a busy machine a process may wait its turn for seconds.
    r = tapns.run([sys.executable, "-c", script], timeout=60)
    assert r.stdout.strip() == "ok", r.stderr


def test_curl_gets_a_file_from_httpd(tapns: NetNamespace, tmp_path: Path) -> None:
    """examples/httpd: curl (the kernel's TCP) downloads 2 MB byte-exact, twice on one keep-alive connection."""
    root = tmp_path / "www"
    root.mkdir()
    body = os.urandom(2_000_000)
    (root / "blob.bin").write_bytes(body)
    srv = tapns.popen([str(example("tern-httpd")), "--tap", "tap0", "--port", "8080", "--root", str(root)], text=True)
    _wait_ready(srv, "tern-httpd")
    out = tmp_path / "got"
    url = f"http://{TERN_IP}:8080/blob.bin"
    r = tapns.run(["curl", "-sS", "--fail", "--max-time", "20", "-o", str(out), url, "-o", str(out) + "2", url])
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == body
    assert Path(str(out) + "2").read_bytes() == body
    r = tapns.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"http://{TERN_IP}:8080/missing"])
    assert r.stdout == "404"


def test_httpget_and_ping_against_the_kernel(tapns: NetNamespace, tmp_path: Path) -> None:
    """examples/httpget fetches from a kernel HTTP server; examples/ping pings the kernel."""
    (tmp_path / "hello.txt").write_text("hello from the kernel\n")
    httpd = tapns.popen([sys.executable, "-m", "http.server", "--bind", KERNEL_IP, "8000"], cwd=tmp_path, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and f"{KERNEL_IP}:8000" not in tapns.run(["ss", "-ltn"]).stdout:
        time.sleep(0.05)
    assert f"{KERNEL_IP}:8000" in tapns.run(["ss", "-ltn"]).stdout, "the kernel's HTTP server did not start listening"
    r = tapns.run([str(example("tern-httpget")), "--tap", "tap0", f"http://{KERNEL_IP}:8000/hello.txt"], timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hello from the kernel\n"
    r = tapns.run([str(example("tern-ping")), "--tap", "tap0", "--count", "3", "--interval", "50", "--size", "2000",
                   KERNEL_IP], timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "3 received" in r.stdout
    httpd.kill()


def test_client_talks_to_a_kernel_server(tapns: NetNamespace) -> None:
    """examples/client sends its standard input to a kernel server and prints the answer until it closes."""
    if shutil.which("ss") is None:
        pytest.skip("needs ss (iproute2)")
    server = tapns.popen([sys.executable, "-c", f"""
import socket
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("{KERNEL_IP}", 7001)); ls.listen(1); print("ready", flush=True)
c, _ = ls.accept(); data = b""
while True:
    d = c.recv(65536)
    if not d: break
    data += d
c.sendall(data.upper()); c.close()
"""], text=True)
    assert server.stdout.readline().strip() == "ready"
    r = tapns.run([str(example("tern-client")), "--tap", "tap0", KERNEL_IP, "7001"], input="hello kernel\n", timeout=20)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "HELLO KERNEL\n"
