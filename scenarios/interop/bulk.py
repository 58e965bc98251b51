"""10 MiB over TCP between the kernel (in the test's namespace) and a Tern host on a TAP bridge, either way.

Shared by the IPv4 (test_interop_tcp.py) and IPv6 (test_interop_ipv6.py) interop tests: the kernel side is
helpers/tcp_peer.py (``source`` sends SIZE seeded bytes, ``sink`` prints the count and SHA-256 it got).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any, Optional

SIZE = 10 * 1024 * 1024
SEED = 7
CHUNK = 256 * 1024
TCP = {"rx_buffer": 1 << 20, "tx_buffer": 1 << 20, "rto_min": "200ms"}
TCP_SACK = {**TCP, "sack": True, "timestamps": True, "window_scaling": True}


def data() -> bytes:
    """The SIZE bytes both directions move (the same as tcp_peer.py's ``source`` with SEED)."""
    return random.Random(SEED).randbytes(SIZE)


@dataclass
class Received:
    """What the Tern listener saw of a kernel client's transfer."""

    got: int  # bytes received
    sha256: str
    eof: bool  # the client's FIN arrived
    rst_before_close: Optional[int]  # Tern's tcp_rst_sent when the FIN arrived (None: no FIN)
    remote: Optional[str]  # the client's address as the accepted connection reports it


def kernel_sends_to_tern(b: Any, tern_ip: str, port: int = 6970) -> Received:
    """A kernel client sends SIZE bytes to a Tern listener on ``tern_ip``; the Tern side closes at EOF.
    The kernel client must exit 0 within 60 s of wall time."""
    ls = b.dut.tcp_listen(port)
    conn = None
    h = hashlib.sha256()
    r = Received(0, "", False, None, None)

    def serve() -> None:
        nonlocal conn
        if conn is None:
            conn = ls.accept()
            if conn is None:
                return
            r.remote = conn.info().remote
        while not r.eof:
            d = conn.recv(1 << 20)
            if d is None:
                break
            if d == b"":
                r.eof = True
                r.rst_before_close = b.dut.counters().tcp_rst_sent
                conn.close()
                break
            h.update(d)
            r.got += len(d)

    status, out, err = b.run_process(b.helper("tcp_peer.py", "source", tern_ip, str(port), str(SIZE), str(SEED)),
                                     timeout=60, service=serve)
    assert status == 0, f"kernel client: {out}\n{err}"
    r.sha256 = h.hexdigest()
    return r


def tern_sends_to_kernel(b: Any, kernel_ip: str, port: int = 5001) -> None:
    """A Tern client sends SIZE bytes to a kernel server on ``kernel_ip`` and closes; asserts the server
    got them byte-exact (count and SHA-256) within 60 s and that Tern sent no reset."""
    server = b.ns.popen(b.helper("tcp_peer.py", "sink", kernel_ip, str(port)), text=True)
    assert server.stdout.readline().strip() == "ready"
    payload = data()
    b.run_until(lambda: False, 0.001)
    conn = b.dut.tcp_connect(kernel_ip, port)
    sent = 0
    closed = False

    def push() -> bool:
        nonlocal sent, closed
        while sent < SIZE:
            n = conn.send(payload[sent:sent + CHUNK])
            if n == 0:
                break
            sent += n
        if sent == SIZE and not closed:
            conn.close()
            closed = True
        return server.poll() is not None

    assert b.run_until(push, 60), f"kernel server still running; sent {sent} of {SIZE}"
    out = server.stdout.read().split()
    assert server.returncode == 0, f"kernel server: {' '.join(out)}"
    assert out == [str(SIZE), hashlib.sha256(payload).hexdigest()]
    assert b.dut.counters().tcp_rst_sent == 0
