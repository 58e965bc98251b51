"""A bulk TCP transfer between two Tern hosts, driven to completion in virtual time.

Property tests need the same loop again and again: connect, send what fits,
read what arrived, wait until something can move, stop when everything
arrived, the connection died or a time limit passed. :func:`tcp_transfer`
is that loop.

>>> from pyharness import Network
>>> with Network(seed=1) as net:
...     a, b = net.host("a", ipv4="10.0.0.1/24"), net.host("b", ipv4="10.0.0.2/24")
...     link = net.link(a, b, delay="5ms", rate="10Mbit")
...     result = tcp_transfer(net, a, b, b"x" * 10_000)
>>> result.complete
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from .errors import ConfigError
from .units import TimeLike, parse_time
from .validate import check_port
from .errors import hide_from_traceback as __tracebackhide__  # noqa: F401  (pytest shows the test's line, not ours)

if TYPE_CHECKING:
    from .host import Host
    from .network import Network


@dataclass(frozen=True)
class TransferResult:
    """What :func:`tcp_transfer` achieved."""

    #: the bytes the server read, in order
    received: bytes
    #: True when ``received`` is exactly the data sent
    complete: bool
    #: the client socket's state at the end ("ESTABLISHED", "CLOSED"...)
    client_state: str
    #: the client's error name ("TIMED_OUT", "RESET"...) or None
    client_error: Optional[str]
    #: virtual time at the end, ns
    end_ns: int

    def __str__(self) -> str:
        how = "complete" if self.complete else f"incomplete ({len(self.received)} bytes)"
        err = f", error {self.client_error}" if self.client_error else ""
        return f"transfer {how} at {self.end_ns / 1e9:g} s, client {self.client_state}{err}"


def tcp_transfer(net: "Network", client: "Host", server: "Host", data: bytes, port: int = 5001,
                 limit: TimeLike = "30s", check: TimeLike = "50ms") -> TransferResult:
    """Send ``data`` from ``client`` to ``server`` (Tern hosts) over TCP, until done or ``limit``.

    ``server`` listens on ``port``; ``client`` connects to the server's
    first address. The loop sends whatever fits, reads whatever arrived and
    otherwise runs the network until the server has bytes, the client has
    room or its connection closed (checked at least every ``check`` of
    virtual time). It stops when all of ``data`` arrived, the client's
    connection is CLOSED, or ``limit`` (virtual time from now) has passed.
    The client is not closed: the caller may go on using the network.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise ConfigError(f"data must be bytes, got {type(data).__name__}")
    port = check_port(port, "port")
    end = net.now_ns + parse_time(limit, "limit")
    ip = server.ip
    if ip is None:
        raise ConfigError(f"server {server.name!r} has no IPv4 address to connect to")
    listener = server.tcp_listen(port)
    sock = client.tcp_connect(ip, port)
    conn = None
    sent, got = 0, bytearray()

    def movable() -> bool:
        if conn is None:
            return listener.accept_pending > 0 or sock.state == "CLOSED"
        return (conn.readable > 0 or sock.state == "CLOSED"
                or (sent < len(data) and sock.state == "ESTABLISHED" and sock.writable > 0))

    while net.now_ns < end:
        if sent < len(data) and sock.state == "ESTABLISHED":
            sent += sock.send(bytes(data[sent:]))
        conn = conn or listener.accept()
        while conn is not None and (chunk := conn.recv()):
            got += chunk
        if len(got) >= len(data) or sock.state == "CLOSED":
            break
        net.run(until=movable, for_=min(parse_time(check, "check"), end - net.now_ns))
    info = sock.info()
    return TransferResult(bytes(got), bytes(got) == bytes(data), info.state, info.error, net.now_ns)


__all__ = ["tcp_transfer", "TransferResult"]
