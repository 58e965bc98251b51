"""The system calls a script may make, each as an attempt: None while it would block, else (result, errno)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional

from ..errors import ConfigError
from . import ast as A
from .errors import PktError, PktUnsupported
from .syscalls import ERRNO, SOCKOPTS, Fd, arg_int, flag_names, tern_errno

if TYPE_CHECKING:
    from .runner import Runner

Result = Optional[tuple[int, Optional[str]]]

SOCKET_CALLS = ("socket", "bind", "listen", "accept", "connect", "read", "write", "send", "recv", "close",
                "shutdown", "setsockopt", "getsockopt", "fcntl", "poll", "getsockname", "getpeername",
                "sendto", "recvfrom", "sendmsg", "recvmsg")
POLL_BITS = {"POLLIN": 0x1, "POLLPRI": 0x2, "POLLOUT": 0x4, "POLLERR": 0x8, "POLLHUP": 0x10, "POLLRDNORM": 0x40,
             "POLLWRNORM": 0x100, "POLLRDHUP": 0x2000}
#: States after the peer's FIN: reading returns end of stream.
EOF_STATES = ("CLOSE_WAIT", "LAST_ACK", "CLOSING", "TIME_WAIT", "CLOSED")
SHUT = {"SHUT_RD": "rd", "SHUT_WR": "wr", "SHUT_RDWR": "rdwr", 0: "rd", 1: "wr", 2: "rdwr"}
STATE_ERR = {None: 0, "CONN_RESET": "ECONNRESET", "CONN_REFUSED": "ECONNREFUSED", "TIMED_OUT": "ETIMEDOUT",
             "USER_TIMEOUT": "ETIMEDOUT"}
ERRNO_NUM = {"ECONNRESET": 104, "ECONNREFUSED": 111, "ETIMEDOUT": 110, "EPIPE": 32, "ENETUNREACH": 101,
             "EHOSTUNREACH": 113, "ENOPROTOOPT": 92, "EMSGSIZE": 90, "EPROTO": 71}


def _guard(fn: Callable[[], Result]) -> Callable[[], Result]:
    """Turn Tern socket errors into (-1, errno); a would-block error into None (try again)."""

    def run() -> Result:
        try:
            return fn()
        except PktError:
            raise
        except Exception as e:  # noqa: BLE001 - only Tern errors are mapped; others re-raised
            errno = tern_errno(e)
            if errno is None:
                raise
            return (-1, errno)

    return run


def attempt(r: "Runner", ev: A.Event, call: A.Syscall) -> tuple[Callable[[], Result], bool]:
    """(the call's attempt function, whether the call blocks: a socket without O_NONBLOCK)."""
    name, args, line, path = call.name, call.args, ev.line, r.path
    if name not in SOCKET_CALLS:
        raise PktUnsupported(path, line, f"unsupported feature: system call {name}() "
                                         f"(supported: {', '.join(SOCKET_CALLS)})")

    def need(n: int) -> None:
        if len(args) < n:
            raise PktError(path, line, f"{name}() needs {n} arguments, got {len(args)}")

    if name == "socket":
        need(3)
        kinds = flag_names(args[1])
        udp = "SOCK_DGRAM" in kinds
        if "SOCK_STREAM" not in kinds and not udp:
            raise PktUnsupported(path, line, f"unsupported feature: socket type {sorted(kinds)} "
                                             "(SOCK_STREAM, SOCK_DGRAM)")

        def do_socket() -> Result:
            fd = 3
            while fd in r.fds:
                fd += 1
            if udp:
                sock = r.dut.udp_socket()
            else:
                sock = r.dut.tcp_socket()
                for opt, value in r.socket_defaults.items():
                    sock.set_option(opt, value)
            r.fds[fd] = Fd(sock, nonblock="SOCK_NONBLOCK" in kinds, udp=udp)
            r.last_fd = fd
            return (fd, None)

        return _guard(do_socket), False
    if name == "poll":
        return _poll(r, call, line, path)
    need(1)
    fdn = arg_int(args[0], f"{name}() file descriptor", line, path)
    if fdn not in r.fds:
        return (lambda: (-1, "EBADF")), False
    fd = r.fds[fdn]
    r.last_fd = fdn
    s = fd.sock
    if fd.udp:
        return _udp_call(r, fd, fdn, call, line, path)
    if name in ("sendto", "sendmsg", "recvfrom", "recvmsg"):
        # On a connected TCP socket the address is ignored: send/recv with the length of the buffer.
        need(3)
        n = _msg_len(args[1], line, path) if name.endswith("msg") else arg_int(args[2], f"{name}() length",
                                                                              line, path)
        name = "send" if name.startswith("send") else "recv"
        args = (args[0], A.Ellipsis_(), n, *args[3:])
    if name in ("getsockname", "getpeername"):
        want_port = _sockaddr_port(args[1], -1) if len(args) > 1 else -1

        def do_getname() -> Result:
            info = s.info()
            port = info.local_port if name == "getsockname" else info.remote_port
            if want_port >= 0 and port != want_port:
                raise PktError(path, line, f"{name}: expected sin_port {want_port} but the socket's is {port}")
            return (0, None)

        return _guard(do_getname), False
    if name == "bind":
        port = _sockaddr_port(args[1] if len(args) > 1 else A.Ellipsis_(), r.bind_port)

        def do_bind() -> Result:
            s.bind(port)
            fd.bound = port
            r.dut_port = port
            return (0, None)

        return _guard(do_bind), False
    if name == "listen":
        backlog = arg_int(args[1], "listen() backlog", line, path) if len(args) > 1 else 8

        def do_listen() -> Result:
            s.listen(max(backlog, 1))
            fd.listening = True
            return (0, None)

        return _guard(do_listen), False
    if name == "accept":
        def do_accept() -> Result:
            c = s.accept()
            if c is None:
                return (-1, "EAGAIN") if fd.nonblock else None
            n = 3
            while n in r.fds:
                n += 1
            r.fds[n] = Fd(c)
            r.last_fd = n
            return (n, None)

        return _guard(do_accept), not fd.nonblock
    if name == "connect":
        port = _sockaddr_port(args[1] if len(args) > 1 else A.Ellipsis_(), r.connect_port)

        def do_connect() -> Result:
            if not fd.connecting:
                fd.connecting = True
                r.remote_port = port
                s.connect(r.peer.ip, port)
                if fd.nonblock:
                    return (-1, "EINPROGRESS")
            st = s.state
            if st == "ESTABLISHED" or st == "CLOSE_WAIT":
                return (0, None)
            err = s.error
            if err:
                return (-1, STATE_ERR.get(err) or ERRNO.get(err, err))
            if st == "CLOSED":
                return (-1, "ECONNREFUSED")
            return (-1, "EALREADY") if fd.nonblock else None

        return _guard(do_connect), not fd.nonblock
    if name in ("write", "send"):
        need(3)
        n = arg_int(args[2], f"{name}() length", line, path)
        data = args[1].encode() if isinstance(args[1], str) else bytes(n)
        urgent = name == "send" and len(args) > 3 and "MSG_OOB" in flag_names(args[3])
        sent = [0]

        def do_write() -> Result:
            k = s.send(data[sent[0]:], urgent=urgent) if sent[0] < len(data) else 0
            sent[0] += k
            if sent[0] >= len(data):
                return (sent[0], None)
            if fd.nonblock:
                return (sent[0], None) if sent[0] else (-1, "EAGAIN")
            return None

        return _guard(do_write), not fd.nonblock
    if name in ("read", "recv"):
        need(3)
        n = arg_int(args[2], f"{name}() length", line, path)

        def do_read() -> Result:
            got = s.recv(n)
            if got is None:
                return (-1, "EAGAIN") if fd.nonblock else None
            return (len(got), None)

        return _guard(do_read), not fd.nonblock
    if name == "close":
        def do_close() -> Result:
            s.close()
            del r.fds[fdn]
            return (0, None)

        return _guard(do_close), False
    if name == "shutdown":
        need(2)
        how_e = args[1]
        how = SHUT.get(how_e.name if isinstance(how_e, A.Name) else how_e)  # type: ignore[arg-type]
        if how is None:
            raise PktError(path, line, f"shutdown(): unknown how {how_e!r} (SHUT_RD, SHUT_WR, SHUT_RDWR)")

        def do_shutdown() -> Result:
            s.shutdown(how)
            return (0, None)

        return _guard(do_shutdown), False
    if name == "fcntl":
        return _fcntl(fd, call, line, path)
    # setsockopt / getsockopt
    need(4)
    level = args[1].name if isinstance(args[1], A.Name) else str(args[1])
    opt = args[2].name if isinstance(args[2], A.Name) else str(args[2])
    if name == "getsockopt":
        if (level, opt) != ("SOL_SOCKET", "SO_ERROR"):
            raise PktUnsupported(path, line, f"unsupported feature: getsockopt {level} {opt} (SO_ERROR only)")
        want = args[3]

        def do_getsockopt() -> Result:
            err = s.error
            code = STATE_ERR.get(err, err)
            num = ERRNO_NUM.get(code, 0) if isinstance(code, str) else 0
            if isinstance(want, A.ListExpr) and want.items:
                item = want.items[0]
                exp = ERRNO_NUM.get(item.name, -2) if isinstance(item, A.Name) else item
                if isinstance(exp, int) and exp != num:
                    raise PktError(path, line, f"getsockopt SO_ERROR: expected {item!r} "
                                               f"but the socket's error is {code or 0}")
            return (0, None)

        return _guard(do_getsockopt), False
    if (level, opt) not in SOCKOPTS:
        raise PktUnsupported(path, line, f"unsupported feature: setsockopt {level} {opt} "
                                         f"(supported: {', '.join(o for _, o in SOCKOPTS)})")
    dut_opt, conv = SOCKOPTS[(level, opt)]
    value = arg_int(args[3], f"setsockopt {opt} value", line, path)

    def do_setsockopt() -> Result:
        if dut_opt is not None:
            try:
                s.set_option(dut_opt, conv(value))
            except ConfigError as e:
                # An option the runner knows but this DUT has not (TCP_QUICKACK on Tern, which has no quick-ACK
                # mode), or a value it cannot take (Tern: SO_OOBINLINE 0, it always reads urgent data inline):
                # refused like any unsupported feature, naming the option, the value and the line.
                raise PktUnsupported(path, line, f"unsupported feature: setsockopt {level} {opt} {value} on this DUT "
                                                 f"({e})") from e
        return (0, None)

    return _guard(do_setsockopt), False


def _poll_bits(e: A.Expr, line: int, path: str) -> int:
    names = flag_names(e)
    bits = 0
    for n in names:
        if n in POLL_BITS:
            bits |= POLL_BITS[n]
        elif n.isdigit():
            bits |= int(n)
        else:
            raise PktError(path, line, f"poll: unknown event {n!r} (known: {', '.join(POLL_BITS)})")
    return bits


def _revents(fd: Fd) -> int:
    """What poll() reports for a socket now."""
    s = fd.sock
    out = 0
    if fd.udp:
        # A UDP socket: readable while a datagram waits; always writable (a send never waits for room here).
        # POLLERR is not reported: the DUTs' UDP sockets give their ICMP error only by taking it (SO_ERROR).
        return (0x1 | 0x40 if s.pending else 0) | 0x4 | 0x100
    if fd.listening:
        return 0x1 if s.accept_pending else 0
    state = s.state
    err = None if state in ("SYN_SENT",) else s.error
    if s.readable or state in EOF_STATES:
        out |= 0x1 | 0x40
    if state in ("ESTABLISHED", "CLOSE_WAIT") and s.writable:
        out |= 0x4 | 0x100
    if err:
        out |= 0x8
    if state == "CLOSED" or (state in EOF_STATES and state != "CLOSE_WAIT"):
        out |= 0x10
    return out


def _poll(r: "Runner", call: A.Syscall, line: int, path: str) -> tuple[Callable[[], Result], bool]:
    """``poll([{fd=4, events=POLLIN, revents=POLLIN}], 1, timeout_ms)``: revents are checked where given."""
    args = call.args
    if len(args) < 3 or not isinstance(args[0], A.ListExpr):
        raise PktError(path, line, "poll() takes ([{fd=N, events=..., revents=...}, ...], nfds, timeout_ms)")
    entries = []
    for item in args[0].items:
        if not isinstance(item, A.StructExpr):
            raise PktError(path, line, f"poll: expected {{fd=N, events=...}}, got {item!r}")
        f = dict(item.fields)
        fdn = arg_int(f.get("fd"), "poll fd", line, path)
        events = _poll_bits(f["events"], line, path) if "events" in f else 0
        revents = _poll_bits(f["revents"], line, path) if "revents" in f else None
        entries.append((fdn, events, revents))
    timeout = arg_int(args[2], "poll timeout", line, path)
    deadline = r.net.now_ns + timeout * 1_000_000 if timeout > 0 else None

    def do_poll() -> Result:
        got = []
        for fdn, events, _ in entries:
            fd = r.fds.get(fdn)
            got.append(0x20 if fd is None else _revents(fd) & (events | 0x8 | 0x10))  # POLLNVAL for a bad fd
        ready = sum(1 for g in got if g)
        if not ready and timeout != 0 and (deadline is None or r.net.now_ns < deadline):
            return None
        for (fdn, _, want), g in zip(entries, got):
            if want is not None and want != g:
                names = [n for n, b in POLL_BITS.items() if g & b] or ["0"]
                raise PktError(path, line, f"poll: fd {fdn}: expected revents {want:#x} but got {g:#x} "
                                           f"({'|'.join(names)})")
        return (ready, None)

    return do_poll, timeout != 0


def _msg_len(e: A.Expr, line: int, path: str) -> int:
    """The total length of a msghdr's ``msg_iov`` (``{msg_iov(1)=[{..., 1000}]}``)."""
    if isinstance(e, A.StructExpr):
        for k, v in e.fields:
            if k == "msg_iov" and isinstance(v, A.ListExpr):
                total = 0
                for iov in v.items:
                    if isinstance(iov, A.StructExpr) and iov.fields and isinstance(iov.fields[-1][1], int):
                        total += iov.fields[-1][1]
                    else:
                        raise PktError(path, line, f"msg_iov: expected {{..., LENGTH}} entries, got {iov!r}")
                return total
    raise PktError(path, line, "sendmsg/recvmsg: expected a msghdr {msg_name(...)=..., msg_iov(N)=[{..., LEN}], "
                               "msg_flags=0}")


def _msg_name_port(e: A.Expr, default: int) -> int:
    """The port of a msghdr's ``msg_name`` sockaddr (``...`` -> the default)."""
    if isinstance(e, A.StructExpr):
        for k, v in e.fields:
            if k == "msg_name":
                return _sockaddr_port(v, default)
    return default


def _udp_call(r: "Runner", fd: Fd, fdn: int, call: A.Syscall, line: int,
              path: str) -> tuple[Callable[[], Result], bool]:
    """A call on a UDP socket (SOCK_DGRAM): bind, connect (records the destination), the send and receive
    family (one datagram per call; a receive returns at most the buffer's length), close."""
    name, args, s = call.name, call.args, fd.sock

    def need(n: int) -> None:
        if len(args) < n:
            raise PktError(path, line, f"{name}() needs {n} arguments, got {len(args)}")

    if name == "bind":
        port = _sockaddr_port(args[1] if len(args) > 1 else A.Ellipsis_(), r.bind_port)

        def do_bind() -> Result:
            s.bind(port)
            fd.bound = port
            r.dut_port = port
            return (0, None)

        return _guard(do_bind), False
    if name == "connect":
        port = _sockaddr_port(args[1] if len(args) > 1 else A.Ellipsis_(), r.connect_port)

        def do_connect() -> Result:
            fd.extra["dest"] = (r.peer.ip, port)
            r.remote_port = port
            return (0, None)

        return _guard(do_connect), False
    if name in ("write", "send", "sendto", "sendmsg"):
        need(2 if name == "sendmsg" else 3)
        if name == "sendmsg":
            n = _msg_len(args[1], line, path)
            port = _msg_name_port(args[1], -1)
        else:
            n = arg_int(args[2], f"{name}() length", line, path)
            port = _sockaddr_port(args[4], -1) if name == "sendto" and len(args) > 4 else -1
        data = args[1].encode() if isinstance(args[1], str) else bytes(n)

        def do_send() -> Result:
            dest = fd.extra.get("dest")
            if port >= 0 or (dest is None and name in ("sendto", "sendmsg")):
                dest = (r.peer.ip, port if port >= 0 else r.remote_port)
            if dest is None:
                return (-1, "EDESTADDRREQ")
            if fd.bound is None:
                s.bind(r.bind_port)
                fd.bound = r.bind_port
                r.dut_port = r.bind_port
            r.remote_port = dest[1]
            s.sendto(data, dest)
            return (len(data), None)

        return _guard(do_send), False
    if name in ("read", "recv", "recvfrom", "recvmsg"):
        need(2 if name == "recvmsg" else 3)
        n = _msg_len(args[1], line, path) if name == "recvmsg" else arg_int(args[2], f"{name}() length", line,
                                                                            path)
        # recv/recvfrom(..., MSG_TRUNC): the datagram's real length, even when longer than the buffer (udp(7)).
        rflags = flag_names(args[2 if name == "recvmsg" else 3]) if len(args) > (2 if name == "recvmsg" else 3) \
            else set()
        unknown = rflags - {"0", "MSG_TRUNC", "MSG_DONTWAIT"}
        if unknown:
            raise PktUnsupported(path, line, f"unsupported feature: {name}() flags {', '.join(sorted(unknown))} "
                                             "on a UDP socket (MSG_TRUNC, MSG_DONTWAIT)")
        trunc = "MSG_TRUNC" in rflags and name != "recvmsg"
        dontwait = "MSG_DONTWAIT" in rflags

        def do_recv() -> Result:
            got = s.recvfrom()
            if got is None:
                return (-1, "EAGAIN") if fd.nonblock or dontwait else None
            return (len(got[0]) if trunc else min(len(got[0]), n), None)

        return _guard(do_recv), not fd.nonblock and not dontwait
    if name == "close":
        def do_close() -> Result:
            s.close()
            del r.fds[fdn]
            return (0, None)

        return _guard(do_close), False
    if name == "setsockopt":
        return _udp_setsockopt(fd, call, line, path)
    if name == "getsockopt":
        return _udp_getsockopt(fd, call, line, path)
    if name == "fcntl":
        return _fcntl(fd, call, line, path)
    raise PktUnsupported(path, line, f"unsupported feature: {name}() on a UDP socket")


#: setsockopt on a UDP socket: (level, name) -> the socket method and how the script's integer becomes its value.
UDP_SOCKOPTS: dict[tuple[str, str], tuple[Optional[str], Callable[[int], Any]]] = {
    ("SOL_SOCKET", "SO_REUSEADDR"): (None, int),  # no bind conflict to override on the DUT's own port
    ("SOL_SOCKET", "SO_REUSEPORT"): (None, int),
    ("SOL_SOCKET", "SO_BROADCAST"): ("set_broadcast", bool),
    ("IPPROTO_IP", "IP_TTL"): ("set_ttl", int),
    # IP_PMTUDISC_DONT (0) clears DF; WANT (1), DO (2), PROBE (3) set it on the datagrams sent.
    ("IPPROTO_IP", "IP_MTU_DISCOVER"): ("set_dont_fragment", lambda v: v != 0),
}
#: Named constants of UDP socket option values.
UDP_OPT_VALUES = {"IP_PMTUDISC_DONT": 0, "IP_PMTUDISC_WANT": 1, "IP_PMTUDISC_DO": 2, "IP_PMTUDISC_PROBE": 3}
SOCK_TYPES = {"SOCK_STREAM": 1, "SOCK_DGRAM": 2}


def _opt_names(call: A.Syscall) -> tuple[str, str]:
    args = call.args
    level = args[1].name if isinstance(args[1], A.Name) else str(args[1])
    opt = args[2].name if isinstance(args[2], A.Name) else str(args[2])
    return level, opt


def _udp_setsockopt(fd: Fd, call: A.Syscall, line: int, path: str) -> tuple[Callable[[], Result], bool]:
    """setsockopt on a UDP socket: SO_REUSEADDR/SO_REUSEPORT (no effect), SO_BROADCAST, IP_TTL, IP_MTU_DISCOVER."""
    if len(call.args) < 4:
        raise PktError(path, line, f"setsockopt() needs 4 arguments, got {len(call.args)}")
    level, opt = _opt_names(call)
    if (level, opt) not in UDP_SOCKOPTS:
        raise PktUnsupported(path, line, f"unsupported feature: setsockopt {level} {opt} on a UDP socket "
                                         f"(supported: {', '.join(o for _, o in UDP_SOCKOPTS)})")
    method, conv = UDP_SOCKOPTS[(level, opt)]
    value = arg_int(call.args[3], f"setsockopt {opt} value", line, path, UDP_OPT_VALUES)

    def do_setsockopt() -> Result:
        if method is not None:
            getattr(fd.sock, method)(conv(value))
        return (0, None)

    return _guard(do_setsockopt), False


def _udp_getsockopt(fd: Fd, call: A.Syscall, line: int, path: str) -> tuple[Callable[[], Result], bool]:
    """getsockopt on a UDP socket: SO_ERROR (the socket's pending ICMP error, taken as the kernel does), SO_TYPE."""
    if len(call.args) < 4:
        raise PktError(path, line, f"getsockopt() needs 4 arguments, got {len(call.args)}")
    level, opt = _opt_names(call)
    want = call.args[3]
    item = want.items[0] if isinstance(want, A.ListExpr) and want.items else None
    if (level, opt) == ("SOL_SOCKET", "SO_TYPE"):
        def do_type() -> Result:
            exp = SOCK_TYPES.get(item.name, -1) if isinstance(item, A.Name) else item
            if isinstance(exp, int) and exp != 2:
                raise PktError(path, line, f"getsockopt SO_TYPE: expected {item!r} but the socket is SOCK_DGRAM")
            return (0, None)

        return do_type, False
    if (level, opt) != ("SOL_SOCKET", "SO_ERROR"):
        raise PktUnsupported(path, line, f"unsupported feature: getsockopt {level} {opt} on a UDP socket "
                                         "(SO_ERROR, SO_TYPE)")

    def do_error() -> Result:
        err = fd.sock.take_error()
        code = _udp_errno(err)
        num = ERRNO_NUM.get(code, 0) if code else 0
        if item is not None:
            exp = ERRNO_NUM.get(item.name, -2) if isinstance(item, A.Name) else item
            if isinstance(exp, int) and exp != num:
                raise PktError(path, line, f"getsockopt SO_ERROR: expected {item!r} but the socket's error is "
                                           f"{code or 0}")
        return (0, None)

    return _guard(do_error), False


def _udp_errno(err: Any) -> Optional[str]:
    """The errno a UDP socket's ICMP error (:class:`~pyharness.sockets.SockError`, or None) reports, as in the
    kernel's table for ICMP errors (destination unreachable codes 0-4, time exceeded, parameter problem)."""
    if err is None:
        return None
    typ, code = int(err.icmp_type), int(err.icmp_code)
    if typ == 3:
        return {0: "ENETUNREACH", 1: "EHOSTUNREACH", 2: "ENOPROTOOPT", 3: "ECONNREFUSED", 4: "EMSGSIZE"}.get(
            code, "EHOSTUNREACH")
    return "EPROTO" if typ == 12 else "EHOSTUNREACH"


def _fcntl(fd: Fd, call: A.Syscall, line: int, path: str) -> tuple[Callable[[], Result], bool]:
    """fcntl F_SETFL / F_GETFL with O_NONBLOCK."""
    args = call.args
    if len(args) < 2:
        raise PktError(path, line, f"fcntl() needs 2 arguments, got {len(args)}")
    cmd = args[1].name if isinstance(args[1], A.Name) else args[1]
    if cmd == "F_SETFL":
        if len(args) < 3:
            raise PktError(path, line, f"fcntl() needs 3 arguments, got {len(args)}")
        on = "O_NONBLOCK" in flag_names(args[2])

        def do_setfl() -> Result:
            fd.nonblock = on
            return (0, None)

        return do_setfl, False
    if cmd == "F_GETFL":
        return (lambda: (0x802 if fd.nonblock else 0x2, None)), False
    raise PktUnsupported(path, line, f"unsupported feature: fcntl command {cmd!r} (F_SETFL, F_GETFL)")


def _sockaddr_port(e: A.Expr, default: int) -> int:
    """The port of a sockaddr argument: ``...`` -> the script's default; a struct's ``sin_port=htons(N)``."""
    if isinstance(e, A.StructExpr):
        for k, v in e.fields:
            if k == "sin_port":
                if isinstance(v, A.Call) and v.name == "htons" and v.args and isinstance(v.args[0], int):
                    return v.args[0]
                if isinstance(v, int):
                    return v
    return default


__all__ = ["attempt", "SOCKET_CALLS"]
