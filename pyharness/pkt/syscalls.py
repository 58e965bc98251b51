"""System calls of a packetdrill script, played on a DUT's socket-level API.

The DUT's sockets are non-blocking; a call the script makes blocking (a socket
without O_NONBLOCK) is tried at its start time and, while it would block,
again at every event instant of the simulation until it completes (its
completion time is then checked against the script's ``...end`` time).
Script file descriptors start at 3, the lowest free one, as in a process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from . import ast as A
from .errors import PktError, PktUnsupported

#: Tern error names -> errno names.
ERRNO = {"WOULD_BLOCK": "EAGAIN", "NOT_CONNECTED": "ENOTCONN", "CONN_REFUSED": "ECONNREFUSED",
         "CONN_RESET": "ECONNRESET", "TIMED_OUT": "ETIMEDOUT", "USER_TIMEOUT": "ETIMEDOUT", "CLOSED": "EBADF",
         "ADDR_IN_USE": "EADDRINUSE", "PORT_IN_USE": "EADDRINUSE", "BAD_STATE": "EINVAL",
         "INVALID_ARGUMENT": "EINVAL", "HOST_UNREACHABLE": "EHOSTUNREACH", "NO_ROUTE": "ENETUNREACH",
         "MSG_TOO_LONG": "EMSGSIZE", "NO_BUFFER": "ENOBUFS"}
#: Errors a blocked call waits through (it is retried); any other ends it.
BLOCKING = {"EAGAIN", "EINPROGRESS", "EALREADY"}

#: setsockopt(level, name) -> (DUT option, conversion of the script's integer).
SOCKOPTS: dict[tuple[str, str], tuple[Optional[str], Callable[[int], Any]]] = {
    ("SOL_SOCKET", "SO_REUSEADDR"): (None, int),  # Tern has no TIME-WAIT bind conflict to override
    ("SOL_SOCKET", "SO_REUSEPORT"): (None, int),
    ("SOL_SOCKET", "SO_KEEPALIVE"): ("keepalive", bool),
    ("SOL_SOCKET", "SO_OOBINLINE"): ("oobinline", bool),  # Tern: always inline (on only); Linux: the option
    ("SOL_SOCKET", "SO_RCVBUF"): ("rx_buffer", int),
    ("SOL_SOCKET", "SO_SNDBUF"): ("tx_buffer", int),
    ("IPPROTO_TCP", "TCP_NODELAY"): ("nodelay", bool),
    ("IPPROTO_TCP", "TCP_KEEPIDLE"): ("keepidle", lambda v: f"{v}s"),
    ("IPPROTO_TCP", "TCP_KEEPINTVL"): ("keepintvl", lambda v: f"{v}s"),
    ("IPPROTO_TCP", "TCP_KEEPCNT"): ("keepcnt", int),
    ("IPPROTO_TCP", "TCP_MAXSEG"): ("mss", int),
    ("IPPROTO_TCP", "TCP_USER_TIMEOUT"): ("user_timeout", lambda v: f"{v}ms"),
    ("IPPROTO_TCP", "TCP_SYNCNT"): ("syn_retries", int),
    # Linux's quick-ACK mode (tcp(7)): 0 leaves it, so that the delayed ACK applies from the first segment (as
    # Linux's own delayed-ACK scripts do). A DUT without a quick-ACK mode (Tern) refuses it, naming the option.
    ("IPPROTO_TCP", "TCP_QUICKACK"): ("quickack", int),
}

SCRIPT_PORT = 8080  # packetdrill's default port of the DUT's socket (bind(..., ...)) and of the remote


@dataclass
class Fd:
    """A script file descriptor: its DUT socket, O_NONBLOCK, and what was asked of it so far."""

    sock: Any
    nonblock: bool = False
    bound: Optional[int] = None
    listening: bool = False
    connecting: bool = False
    udp: bool = False
    extra: dict = field(default_factory=dict)


def tern_errno(exc: Exception) -> Optional[str]:
    """The errno name of a Tern error (None if it is not one of the socket errors)."""
    name = getattr(exc, "error_name", None)
    if not name:
        return None
    # A DUT with a kernel (Linux) names the errno it got, "... (EPIPE: Broken pipe)": that one, not the
    # Tern error it was mapped to (EPIPE and ENOTCONN are both NOT_CONNECTED there).
    m = re.search(r"\((E[A-Z0-9]+): ", str(exc))
    return m.group(1) if m else ERRNO.get(name)


def arg_int(e: A.Expr, what: str, line: int, path: str, names: Optional[dict] = None) -> int:
    """An integer argument (``[1]`` is 1; named constants from ``names``)."""
    if isinstance(e, A.ListExpr) and len(e.items) == 1:
        e = e.items[0]
    if isinstance(e, int):
        return e
    if isinstance(e, A.Name) and names and e.name in names:
        return int(names[e.name])
    raise PktError(path, line, f"{what}: expected an integer, got {e!r}")


def flag_names(e: A.Expr) -> set:
    """``O_RDWR|O_NONBLOCK`` -> {"O_RDWR", "O_NONBLOCK"}."""
    if isinstance(e, A.BinOp):
        return flag_names(e.left) | flag_names(e.right)
    if isinstance(e, A.Name):
        return {e.name}
    if isinstance(e, int):
        return {str(e)}
    return set()


__all__ = ["Fd", "ERRNO", "BLOCKING", "SOCKOPTS", "SCRIPT_PORT", "tern_errno", "arg_int", "flag_names",
           "PktUnsupported"]
