"""TCP between kernel sockets (in the test's namespace) and Tern sockets, over TAP in real time.

10 MiB arrive byte-exact in both directions with 0 %, 1 % and 5 % loss and
with reordering on the simulated link (RFC 9293 §3.10.7.4: in-order delivery
to the user, retransmission until acknowledged), and the connection closes
with FINs, without a reset (RFC 9293 §3.6).
"""

from __future__ import annotations

import hashlib
import random

import pytest

SIZE = 10 * 1024 * 1024
SEED = 7
CHUNK = 256 * 1024
TCP = {"rx_buffer": 1 << 20, "tx_buffer": 1 << 20, "rto_min": "200ms"}
TCP_SACK = {**TCP, "sack": True, "timestamps": True, "window_scaling": True}
# The Tern sender runs without SACK: at 5 % loss (both directions, ~0.1 ms RTT)
# its SACK recovery currently takes ~110 RTOs per 10 MiB (~26 s) against ~56
# (~13 s) without, while the kernel sending to a SACK-enabled Tern receiver
# needs under 1 s. Switch to TCP_SACK once the sender's SACK recovery improves.

CONDITIONS = {
    "clean": {},
    "loss1": {"loss": 0.01},
    "loss5": {"loss": 0.05},
    "reorder": {"delay": "1ms", "reorder": 0.05},
}


def _data() -> bytes:
    return random.Random(SEED).randbytes(SIZE)


@pytest.mark.parametrize("cond", list(CONDITIONS))
def test_kernel_sends_to_tern(make_bridge, cond: str) -> None:
    """A kernel client's 10 MiB reach a Tern listener byte-exact; both close with FINs."""
    b = make_bridge(capture=False, tcp=TCP_SACK, **CONDITIONS[cond])
    ls = b.dut.tcp_listen(6970)
    conn = None
    h = hashlib.sha256()
    got = 0
    eof = False
    rst_before_close = None

    def serve() -> None:
        nonlocal conn, got, eof, rst_before_close
        if conn is None:
            conn = ls.accept()
            if conn is None:
                return
        while not eof:
            d = conn.recv(1 << 20)
            if d is None:
                break
            if d == b"":
                eof = True
                rst_before_close = b.dut.counters().tcp_rst_sent
                conn.close()
                break
            h.update(d)
            got += len(d)

    status, out, err = b.run_process(b.helper("tcp_peer.py", "source", b.tern_ip, "6970", str(SIZE), str(SEED)),
                                     timeout=60, service=serve)
    assert status == 0, f"kernel client: {out}\n{err}"
    assert eof, f"the Tern side saw no FIN ({got} bytes)"
    assert got == SIZE
    assert h.hexdigest() == hashlib.sha256(_data()).hexdigest()
    # No reset while the connection lived. After both FINs, a segment the
    # reordering link delivers late finds no connection and is answered with
    # a RST, as RFC 9293 §3.10.7.1 requires: that is not an unclean close.
    assert rst_before_close == 0


@pytest.mark.parametrize("cond", list(CONDITIONS))
def test_tern_sends_to_kernel(make_bridge, cond: str) -> None:
    """A Tern client's 10 MiB reach a kernel server byte-exact; both close with FINs."""
    b = make_bridge(capture=False, tcp=TCP, **CONDITIONS[cond])
    server = b.ns.popen(b.helper("tcp_peer.py", "sink", b.kernel_ip, "5001"), text=True)
    assert server.stdout.readline().strip() == "ready"
    data = _data()
    b.run_until(lambda: False, 0.001)
    conn = b.dut.tcp_connect(b.kernel_ip, 5001)
    sent = 0
    closed = False

    def push() -> bool:
        nonlocal sent, closed
        while sent < SIZE:
            n = conn.send(data[sent:sent + CHUNK])
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
    assert out == [str(SIZE), hashlib.sha256(data).hexdigest()]
    assert b.dut.counters().tcp_rst_sent == 0
