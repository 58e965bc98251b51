"""Sockets of a host: UDP, ICMP echo (ping) and TCP, non-blocking, BSD-shaped.

Receiving returns None (or raises :class:`~pyharness.errors.WouldBlockError`
where a return value would be ambiguous) when nothing is there yet; run the
network to let things arrive. Every call wakes the host so that what it
queued leaves at the current virtual time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Optional, Union

from ._lib import ffi, lib
from .errors import ConfigError, TernError, raise_error
from .units import parse_time
from .validate import check_port
from .errors import hide_from_traceback as __tracebackhide__  # noqa: F401  (pytest shows the test's line, not ours)

if TYPE_CHECKING:
    from .host import Host

RECV_MAX = 65536
_TCP_STATES = ("CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2",
               "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT")


@dataclass(frozen=True)
class SockError:
    """The last ICMP error a socket received."""

    icmp_type: int
    icmp_code: int
    mtu: int
    sender: Optional[str]
    dst: Optional[str]
    time_ns: int


@dataclass(frozen=True)
class PingReply:
    """An ICMP echo reply a ping socket received."""

    src: str
    seq: int
    ttl: int
    len: int
    time_ns: int
    payload: bytes


class _Socket:
    proto = "socket"

    def __init__(self, host: "Host", handle: int):
        self.host = host
        self._h = handle
        self.closed = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self.host.name} #{self._h:#x}{' closed' if self.closed else ''}>"

    def _call(self, fn: Any, *args: Any, context: str) -> int:
        rc = fn(self.host._st(), self._h, *args)
        self.host._wake()
        return rc

    def _ok(self, rc: int, context: str) -> None:
        if rc != 0:
            self.host._check(rc, f"{self.proto}.{context}")

    def _ok_said(self, rc: int, context: str) -> None:
        """As :meth:`_ok`, with the stack's own message (``tern_stack_last_error``) for the errors a call sets it
        for (the zero-copy calls' NO_BUFFER and BAD_STATE name what is wrong)."""
        if rc in (lib.TERN_ERR_NO_BUFFER, lib.TERN_ERR_BAD_STATE):
            msg = ffi.string(lib.tern_stack_last_error(self.host._st())).decode(errors="replace")
            raise_error(rc, msg, f"{self.host.name}.{self.proto}.{context}")
        self._ok(rc, context)

    def _take_error(self, fn: Any) -> Optional[SockError]:
        from .host import addr_text

        out = ffi.new("tern_sock_error *")
        rc = fn(self.host._st(), self._h, out)
        if rc == lib.TERN_ERR_EMPTY:
            return None
        self._ok(rc, "take_error()")
        return SockError(out.icmp_type, out.icmp_code, out.mtu, addr_text(getattr(out, "from")),
                         addr_text(out.dst), int(out.time))


@dataclass
class PacketFrame:
    """A frame a packet socket received: the bytes kept (``caplen``), its length on the wire,
    the interface, ``"in"`` or ``"out"``, and the virtual time it went in or out."""

    data: bytes
    len: int
    iface: int
    dir: str
    time_ns: int


class PacketSocket(_Socket):
    """A packet socket of a host (tern/packet.h): copies of whole Ethernet frames in and out,
    and raw frames sent at the host's next poll. Needs ``net.host(..., packet_sockets=N)``."""

    proto = "packet"

    def recv(self) -> Optional[PacketFrame]:
        """The oldest frame of the queue, or None."""
        buf = ffi.new("uint8_t[]", 9022)
        meta = ffi.new("tern_packet_meta *")
        rc = lib.tern_packet_recv(self.host._st(), self._h, buf, 9022, meta)
        if rc == lib.TERN_ERR_WOULD_BLOCK:
            return None
        self._ok(rc, "recv()")
        return PacketFrame(bytes(ffi.buffer(buf, meta.caplen)), int(meta.len), int(meta.iface),
                           "out" if meta.dir == lib.TERN_PACKET_OUT else "in", int(meta.time))

    def frames(self) -> list[PacketFrame]:
        """Every frame waiting, oldest first."""
        out = []
        while (f := self.recv()) is not None:
            out.append(f)
        return out

    @property
    def pending(self) -> int:
        """Frames waiting in the queue."""
        return int(lib.tern_packet_pending(self.host._st(), self._h))

    def send(self, frame: Any, iface: Optional[int] = None) -> None:
        """Queue a whole Ethernet frame (bytes, or a scapy packet from ``Ether`` on) for the next
        poll, on ``iface`` (None: the socket's own interface)."""
        data = bytes(frame)
        where = lib.TERN_PACKET_ANY_IFACE if iface is None else iface
        self._ok(self._call(lib.tern_packet_send, where, data, len(data), context="send"),
                 f"send({len(data)} bytes)")

    def stats(self) -> tuple[int, int]:
        """(frames queued since the socket opened, copies dropped because the queue was full)."""
        rx, drop = ffi.new("uint64_t *"), ffi.new("uint64_t *")
        self._ok(lib.tern_packet_stats(self.host._st(), self._h, rx, drop), "stats()")
        return int(rx[0]), int(drop[0])

    def close(self) -> None:
        """Close the socket."""
        if not self.closed:
            self._ok(self._call(lib.tern_packet_close, context="close"), "close()")
            self.closed = True


class UdpSocket(_Socket):
    """A UDP socket of a host."""

    proto = "udp"

    def bind(self, port: int = 0, addr: Optional[str] = None) -> None:
        """Bind to ``addr`` (None: any) and ``port`` (0: ephemeral)."""
        from .host import make_addr

        port = check_port(port)
        a = make_addr(addr) if addr else ffi.new("tern_addr *")
        self._ok(self._call(lib.tern_udp_bind, a, port, context="bind"), f"bind({port})")

    @property
    def local(self) -> tuple[Optional[str], int]:
        """The bound (address, port)."""
        from .host import addr_text

        a, p = ffi.new("tern_addr *"), ffi.new("uint16_t *")
        self._ok(lib.tern_udp_local(self.host._st(), self._h, a, p), "local")
        return addr_text(a), int(p[0])

    def sendto(self, data: bytes, dest: tuple[str, int]) -> None:
        """Queue a datagram to ``(ip, port)``; it leaves on the host's next poll (now)."""
        from .host import make_addr

        try:
            ip, port = dest
        except (TypeError, ValueError):
            raise ConfigError(f"dest must be an (ip, port) pair, got {dest!r}") from None
        port = check_port(port, "dest port", allow_zero=False)
        self._ok(self._call(lib.tern_udp_sendto, make_addr(ip), port, data, len(data), context="sendto"),
                 f"sendto({len(data)} bytes, {dest!r})")

    def recvfrom(self) -> Optional[tuple[bytes, tuple[str, int]]]:
        """The oldest datagram as ``(data, (ip, port))``, or None if none waits."""
        from .host import addr_text

        st = self.host._st()
        scratch = self.__dict__.get("_scratch")
        if scratch is None:  # one receive buffer per socket, not 64 KiB zeroed per call
            scratch = self._scratch = (ffi.new("uint8_t[]", RECV_MAX), ffi.new("size_t *"), ffi.new("tern_addr *"),
                                       ffi.new("uint16_t *"))
        buf, n, src, sport = scratch
        rc = lib.tern_udp_recvfrom(st, self._h, buf, RECV_MAX, n, src, sport, ffi.NULL, ffi.NULL)
        if rc == lib.TERN_ERR_WOULD_BLOCK:
            return None
        self._ok(rc, "recvfrom()")
        self.host._wake()
        return bytes(ffi.buffer(buf, min(n[0], RECV_MAX))), (addr_text(src) or "", int(sport[0]))

    @property
    def pending(self) -> int:
        """Datagrams waiting to be read."""
        return int(lib.tern_udp_pending(self.host._st(), self._h))

    def set_ttl(self, ttl: int) -> None:
        """TTL of sent datagrams (1..255)."""
        self._ok(self._call(lib.tern_udp_set_ttl, ttl, context="ttl"), f"set_ttl({ttl})")

    def set_broadcast(self, on: bool) -> None:
        """Allow sending to broadcast addresses."""
        self._ok(self._call(lib.tern_udp_set_broadcast, bool(on), context="bc"), f"set_broadcast({on})")

    def set_dont_fragment(self, on: bool) -> None:
        """Set DF on sent datagrams."""
        self._ok(self._call(lib.tern_udp_set_dont_fragment, bool(on), context="df"), f"set_dont_fragment({on})")

    def join(self, group: str, iface: Optional[int] = 0) -> None:
        """Join the IPv4 multicast ``group`` on interface ``iface`` (IP_ADD_MEMBERSHIP; IGMP reports it);
        ``iface=None``: the interface the route to the group names."""
        from .host import make_addr

        i = lib.TERN_IFACE_BY_ROUTE if iface is None else iface
        self._ok(self._call(lib.tern_udp_join, make_addr(group), i, context="join"), f"join({group!r}, {iface})")

    def leave(self, group: str, iface: Optional[int] = 0) -> None:
        """Leave ``group`` on ``iface`` (IP_DROP_MEMBERSHIP; None: by route, as for :meth:`join`)."""
        from .host import make_addr

        i = lib.TERN_IFACE_BY_ROUTE if iface is None else iface
        self._ok(self._call(lib.tern_udp_leave, make_addr(group), i, context="leave"),
                 f"leave({group!r}, {iface})")

    def set_multicast_loop(self, on: bool) -> None:
        """IP_MULTICAST_LOOP: a copy of this socket's multicasts to groups the host joined is delivered
        locally (on by default, RFC 1112 section 6.1)."""
        self._ok(self._call(lib.tern_udp_set_multicast_loop, bool(on), context="mloop"),
                 f"set_multicast_loop({on})")

    def set_multicast_if(self, iface: Optional[int]) -> None:
        """IP_MULTICAST_IF: the interface this socket's IPv4 multicasts leave by (None: by route)."""
        i = lib.TERN_IFACE_BY_ROUTE if iface is None else int(iface)
        self._ok(self._call(lib.tern_udp_set_multicast_if, i, context="mif"), f"set_multicast_if({iface})")

    def take_error(self) -> Optional[SockError]:
        """The last ICMP error for this socket (and clear it), or None."""
        return self._take_error(lib.tern_udp_take_error)

    def close(self) -> None:
        """Close; queued datagrams are discarded."""
        if not self.closed:
            self._ok(self._call(lib.tern_udp_close, context="close"), "close()")
            self.closed = True


class PingSocket(_Socket):
    """An ICMP echo socket of a host."""

    proto = "ping"

    def send(self, dst: str, seq: int = 1, payload: Union[bytes, int] = 56, ttl: int = 0,
             dont_fragment: bool = False) -> None:
        """Queue an echo request to ``dst``; ``payload`` is bytes or a length (a pattern)."""
        from .host import make_addr

        data, n = (ffi.NULL, payload) if isinstance(payload, int) else (payload, len(payload))
        self._ok(self._call(lib.tern_ping_send, make_addr(dst), seq, data, n, ttl, dont_fragment, context="send"),
                 f"send({dst!r}, seq={seq})")

    def recv(self) -> Optional[PingReply]:
        """The oldest echo reply, or None."""
        from .host import addr_text

        out = ffi.new("tern_ping_reply *")
        buf = ffi.new("uint8_t[]", RECV_MAX)
        rc = lib.tern_ping_recv(self.host._st(), self._h, out, buf, RECV_MAX)
        if rc == lib.TERN_ERR_WOULD_BLOCK:
            return None
        self._ok(rc, "recv()")
        n = int(out.len)
        return PingReply(addr_text(getattr(out, "from")) or "", int(out.seq), int(out.ttl), n, int(out.time),
                         bytes(ffi.buffer(buf, min(n, RECV_MAX))))

    def take_error(self) -> Optional[SockError]:
        """The last ICMP error for this socket (and clear it), or None."""
        return self._take_error(lib.tern_ping_take_error)

    def close(self) -> None:
        """Close the socket."""
        if not self.closed:
            self._ok(self._call(lib.tern_ping_close, context="close"), "close()")
            self.closed = True


#: tern_tcp_cc by name (TERN_TCP_OPT_CONGESTION, tern_tcp_config.congestion).
CONGESTION_CONTROLS = {"newreno": 0, "cubic": 1, "bbr": 2}
_BBR_MODES = ("STARTUP", "DRAIN", "PROBE_BW", "PROBE_RTT")


def congestion_value(value: str) -> int:
    """The tern_tcp_cc of a congestion control's name ("newreno", "cubic", "bbr")."""
    if value not in CONGESTION_CONTROLS:
        raise ConfigError(f"congestion must be one of {', '.join(CONGESTION_CONTROLS)}, got {value!r}")
    return CONGESTION_CONTROLS[value]


_TCP_OPTIONS = {
    "nodelay": ("NODELAY", bool), "keepalive": ("KEEPALIVE", bool), "keepidle": ("KEEPIDLE_NS", "time"),
    "keepintvl": ("KEEPINTVL_NS", "time"), "keepcnt": ("KEEPCNT", int), "rx_buffer": ("RX_BUFFER", int),
    "tx_buffer": ("TX_BUFFER", int), "congestion": ("CONGESTION", "cc"), "syn_retries": ("SYN_RETRIES", int),
    "data_retries": ("DATA_RETRIES", int), "user_timeout": ("USER_TIMEOUT_NS", "time"), "mss": ("MSS", int),
    "ttl": ("TTL", int), "sack": ("SACK", bool), "timestamps": ("TIMESTAMPS", bool),
    "window_scaling": ("WINDOW_SCALING", bool), "delack": ("DELACK_NS", "time"), "rto_min": ("RTO_MIN_NS", "time"),
    "initial_window": ("INITIAL_WINDOW", int), "tail_loss_probe": ("TAIL_LOSS_PROBE", bool), "rack": ("RACK", bool),
    "dsack": ("DSACK", bool), "abc_l2": ("ABC_L2", bool),
}


@dataclass(frozen=True)
class TcpInfo:
    """A TCP connection's state, like Linux's ``struct tcp_info`` (``tern_tcp_info``)."""

    state: str
    local: Optional[str]
    remote: Optional[str]
    local_port: int
    remote_port: int
    srtt_ns: int
    rttvar_ns: int
    rto_ns: int
    snd_mss: int
    rcv_mss: int
    cwnd: int
    ssthresh: int
    iss: int
    irs: int
    snd_una: int
    snd_nxt: int
    snd_wnd: int
    rcv_nxt: int
    rcv_wnd: int
    snd_wscale: int
    rcv_wscale: int
    sack_ok: bool
    ts_ok: bool
    retransmits: int
    total_retransmits: int
    segs_in: int
    segs_out: int
    bytes_acked: int
    bytes_received: int
    fast_retransmits: int
    rto_timeouts: int
    dup_acks_in: int
    sack_blocks_in: int
    ooo_segments: int
    zero_window_probes: int
    keepalives_sent: int
    challenge_acks: int
    #: tail loss probes sent (RFC 8985 §7.3), whether new data or the last segment again.
    tlp_probes: int
    #: D-SACK blocks received (RFC 2883); of them, those reporting retransmitted data (RFC 3708 §2); loss
    #: episodes found spurious whose congestion-window reduction was undone (RFC 3708 §3).
    dsack_blocks_in: int
    spurious_retransmits: int
    dsack_undos: int
    #: retransmission timeouts found spurious (Eifel, RFC 3522; F-RTO, RFC 5682) and undone (RFC 4015).
    spurious_rtos: int
    unacked: int
    sacked: int
    lost: int
    in_flight: int
    error: Optional[str]
    #: BBR (``congestion="bbr"``; 0 otherwise): the mode ("STARTUP", "DRAIN", "PROBE_BW", "PROBE_RTT"; None
    #: for another congestion control), BtlBw and the pacing rate in bytes/s, RTprop in ns, the pacing and cwnd
    #: gains in 1/256 units, when RTprop was last measured (``bbr_rtprop_stamp_ns``), the gain cycle's phase, the round trips counted, whether STARTUP filled the pipe, and
    #: the bytes delivered as the delivery-rate estimator counts them.
    bbr_mode: Optional[str] = None
    bbr_btlbw: int = 0
    bbr_pacing_rate: int = 0
    bbr_rtprop_ns: int = 0
    bbr_rtprop_stamp_ns: int = 0
    bbr_pacing_gain: int = 0
    bbr_cwnd_gain: int = 0
    bbr_cycle_index: int = 0
    bbr_round_count: int = 0
    bbr_filled_pipe: bool = False
    delivered: int = 0


class TcpSocket(_Socket):
    """A TCP socket of a host."""

    proto = "tcp"

    def _f(self, name: str) -> Any:
        return self.host._fn(name)

    def bind(self, port: int = 0, addr: Optional[str] = None) -> None:
        """Bind to ``addr`` (None: any) and ``port``."""
        from .host import make_addr

        port = check_port(port)
        a = make_addr(addr) if addr else ffi.new("tern_addr *")
        self._ok(self._call(self._f("tern_tcp_bind"), a, port, context="bind"), f"bind({port})")

    def listen(self, backlog: int = 8) -> None:
        """Listen for connections."""
        self._ok(self._call(self._f("tern_tcp_listen"), backlog, context="listen"), f"listen({backlog})")

    def accept(self) -> Optional["TcpSocket"]:
        """An established connection from the accept queue, or None."""
        out = ffi.new("tern_sock *")
        rc = self._call(self._f("tern_tcp_accept"), out, context="accept")
        if rc == lib.TERN_ERR_WOULD_BLOCK:
            return None
        self._ok(rc, "accept()")
        return TcpSocket(self.host, int(out[0]))

    def connect(self, ip: str, port: int) -> None:
        """Start an active open to ``ip:port``."""
        from .host import make_addr

        port = check_port(port, allow_zero=False)
        self._ok(self._call(self._f("tern_tcp_connect"), make_addr(ip), port, context="connect"),
                 f"connect({ip!r}, {port})")

    def send(self, data: bytes, urgent: bool = False) -> int:
        """Queue as much of ``data`` as fits; returns how many bytes (0 if none fit).

        ``urgent=True`` marks the queued bytes as urgent data (RFC 9293 §3.8.5): the urgent pointer is set after
        the last of them, and the segments carrying them have URG set (``tern_tcp_send_urgent``). Urgent data
        stays in the stream: the peer reads it inline, in order.
        """
        sent = ffi.new("size_t *")
        fn = "tern_tcp_send_urgent" if urgent else "tern_tcp_send"
        rc = self._call(self._f(fn), data, len(data), sent, context="send")
        if rc == lib.TERN_ERR_WOULD_BLOCK:
            return 0
        self._ok(rc, f"send({len(data)} bytes{', urgent' if urgent else ''})")
        return int(sent[0])

    def recv(self, n: int = RECV_MAX) -> Optional[bytes]:
        """Up to ``n`` bytes; ``b""`` at end of stream; None if nothing yet."""
        buf = ffi.new("uint8_t[]", n)
        got = ffi.new("size_t *")
        rc = self._call(self._f("tern_tcp_recv"), buf, n, got, context="recv")
        if rc == lib.TERN_ERR_WOULD_BLOCK:
            return None
        self._ok_said(rc, "recv()")  # BAD_STATE: a buffer is posted (recv_post)
        return bytes(ffi.buffer(buf, got[0]))

    def lend(self, data: Union[bytes, bytearray]) -> int:
        """Queue ``data`` for sending without a copy (``tern_tcp_lend``); returns how many of its first bytes were
        queued (0 if the send buffer is full).

        The stack builds every segment carrying these bytes, retransmissions too, straight from ``data``'s own
        memory: this object keeps a reference to it until :meth:`lend_done` passes the end of those bytes, and
        the caller must not change a ``bytearray`` meanwhile (what the stack reads then is what goes out). Lent
        and :meth:`send` data mix on one connection in call order. Raises ``ResourceError`` (NO_BUFFER) when
        every lent-extent slot of the socket (``lend_extents``) holds an unacknowledged buffer.
        """
        buf = ffi.from_buffer("uint8_t[]", data)
        lent = ffi.new("size_t *")
        rc = self._call(self._f("tern_tcp_lend"), buf, len(data), lent, context="lend")
        if rc == lib.TERN_ERR_WOULD_BLOCK:
            return 0
        self._ok_said(rc, f"lend({len(data)} bytes)")
        n = int(lent[0])
        if n:
            self._lent_total = getattr(self, "_lent_total", 0) + n
            self._lent = [*getattr(self, "_lent", []), (self._lent_total, buf, data)]
        return n

    def lend_done(self) -> int:
        """Bytes lent over the socket's life (:meth:`lend`, in order) that the stack no longer needs: acknowledged
        by the peer, or released when the connection ended (``tern_tcp_lend_done``). A lent buffer whose bytes
        end at running total T may be reused once this is at least T."""
        done = ffi.new("uint64_t *")
        self._ok(self._call(self._f("tern_tcp_lend_done"), done, context="lend_done"), "lend_done()")
        n = int(done[0])
        self._lent = [x for x in getattr(self, "_lent", []) if x[0] > n]
        return n

    def recv_peek(self) -> Optional[list[bytes]]:
        """The bytes readable now as they lie in the stack's receive buffer (``tern_tcp_recv_peek``): one span, or
        two where the buffer wraps (copied into ``bytes`` for Python); ``[]`` at end of stream; None if nothing
        yet. Nothing is consumed: :meth:`recv_consume` does that."""
        span = ffi.new("tern_tcp_span[2]")
        avail = ffi.new("size_t *")
        rc = self._call(self._f("tern_tcp_recv_peek"), span, avail, context="recv_peek")
        if rc == lib.TERN_ERR_WOULD_BLOCK:
            return None
        self._ok_said(rc, "recv_peek()")
        return [bytes(ffi.buffer(span[i].data, span[i].len)) for i in range(2) if span[i].len]

    def recv_consume(self, n: int) -> None:
        """Drop the first ``n`` bytes :meth:`recv_peek` shows (``tern_tcp_recv_consume``), as a ``recv(n)`` that
        copies nothing would; more than are shown raises ``ConfigError`` naming both counts."""
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ConfigError(f"recv_consume: n must be a byte count >= 0, got {n!r}")
        rc = self._call(self._f("tern_tcp_recv_consume"), n, context="recv_consume")
        self._ok_said(rc, f"recv_consume({n})")

    def recv_post(self, buf: Union[bytearray, memoryview]) -> None:
        """Lend the stack ``buf`` to receive into (``tern_tcp_recv_post``): in-order data then goes from the
        arriving segments straight into ``buf``'s own memory, behind the bytes the receive buffer held at the post
        (they move in first). :meth:`recv_posted` tells how many bytes it holds, :meth:`recv_take` gives it back.

        ``buf`` must be a writable ``bytearray`` (or a writable, contiguous byte ``memoryview``) of 1 byte or more;
        the host keeps a reference to it until the take (or :meth:`close` / :meth:`abort`, after which the
        stack never writes it), and it cannot be resized meanwhile. Its bytes past :meth:`recv_posted`'s count
        are unspecified. While it is posted, :meth:`recv`, :meth:`recv_peek` and :meth:`recv_consume` raise
        ``StateError``; so does a second post.
        """
        if isinstance(buf, memoryview):
            if buf.readonly or not buf.contiguous or buf.itemsize != 1:
                raise ConfigError("recv_post: a memoryview must be writable, contiguous and of bytes")
        elif not isinstance(buf, bytearray):
            raise ConfigError(f"recv_post: buf must be a bytearray (the stack writes into it), got "
                              f"{type(buf).__name__}")
        if len(buf) == 0:
            raise ConfigError("recv_post: buf must hold at least 1 byte")
        cbuf = ffi.from_buffer("uint8_t[]", buf)
        rc = self._call(self._f("tern_tcp_recv_post"), cbuf, len(buf), context="recv_post")
        self._ok_said(rc, f"recv_post({len(buf)} bytes)")
        # The stack writes into buf until the take: the host (which lives as long as its stack) keeps it
        # alive, even if this socket object is dropped without a take or close.
        self._posted_keep()[self._h] = (cbuf, buf)

    def recv_posted(self) -> tuple[int, bool]:
        """``(filled, final)`` of the posted buffer (``tern_tcp_recv_posted``): the first ``filled`` bytes of it
        are the stream's next bytes and never change; ``final`` is True when nothing more will land in it before
        :meth:`recv_take` (full, the peer's FIN arrived, receiving shut down, the connection closed, or urgent data
        pending). Raises ``EmptyError`` when no buffer is posted."""
        filled = ffi.new("size_t *")
        final = ffi.new("bool *")
        rc = self._f("tern_tcp_recv_posted")(self.host._st(), self._h, filled, final)
        if rc == lib.TERN_ERR_EMPTY:
            raise_error(rc, "no buffer is posted (recv_post)", f"{self.host.name}.tcp.recv_posted()")
        self._ok(rc, "recv_posted()")
        return int(filled[0]), bool(final[0])

    def recv_take(self) -> bytes:
        """Take the posted buffer back (``tern_tcp_recv_take``; the stack forgets it) and return the bytes that
        landed in it (a copy of its first ``filled`` bytes; the buffer itself holds them too). Raises
        ``EmptyError`` when no buffer is posted."""
        got = ffi.new("size_t *")
        rc = self._call(self._f("tern_tcp_recv_take"), got, context="recv_take")
        if rc == lib.TERN_ERR_EMPTY:
            raise_error(rc, "no buffer is posted (recv_post)", f"{self.host.name}.tcp.recv_take()")
        self._ok(rc, "recv_take()")
        _, buf = self._posted_keep().pop(self._h, (None, b""))
        return bytes(buf[:got[0]])

    def _posted_keep(self) -> dict:
        """The posted buffers of the host's sockets, by handle (see :meth:`recv_post`)."""
        keep = getattr(self.host, "_tcp_posted", None)
        if keep is None:
            keep = self.host._tcp_posted = {}
        return keep

    def shutdown(self, how: Union[str, int] = "wr") -> None:
        """Shut down sending ("wr"), receiving ("rd") or both ("rdwr")."""
        h = {"rd": 0, "wr": 1, "rdwr": 2}.get(how, how) if isinstance(how, str) else how
        if h not in (0, 1, 2):
            raise ConfigError(f"shutdown how must be 'rd', 'wr' or 'rdwr', got {how!r}")
        self._ok(self._call(self._f("tern_tcp_shutdown"), h, context="shutdown"), f"shutdown({how!r})")

    def close(self) -> None:
        """Graceful close (FIN after queued data); the handle is released.

        The stack goes on with the connection (FIN-WAIT-1...), but this
        object no longer reaches it: :attr:`state` and :meth:`info` then
        return what they were just before the close (``last_info``).
        """
        if not self.closed:
            last = self._snapshot()
            self._ok_said(self._call(self._f("tern_tcp_close"), context="close"), "close()")
            self.last_info = last
            self.closed = True
            self._posted_keep().pop(self._h, None)  # the stack forgot a posted buffer

    def abort(self) -> None:
        """Send RST and drop everything; the handle is released.

        Afterwards :attr:`state` is "CLOSED" and :meth:`info` the last
        information with ``state="CLOSED"`` (and ``error="CONN_RESET"`` if
        the connection had no error yet), as the stack leaves it.
        """
        if not self.closed:
            last = self._snapshot()
            if last is not None:
                last = replace(last, state="CLOSED", error=last.error or "CONN_RESET")
            self.last_info = last
            self._ok(self._call(self._f("tern_tcp_abort"), context="abort"), "abort()")
            self.closed = True
            self._posted_keep().pop(self._h, None)  # the stack forgot a posted buffer

    def set_option(self, name: str, value: Any) -> None:
        """Set a socket option: ``nodelay``, ``keepalive``, ``rx_buffer``, ``mss``, ``sack``, ``rto_min``...

        ``oobinline`` (SO_OOBINLINE) may only be on: the stack always leaves urgent data in the stream, read in
        order (``send(urgent=True)``), which is what SO_OOBINLINE asks of a BSD socket; off is refused.
        """
        if name == "oobinline":
            if not value:
                raise ConfigError("oobinline off is not supported: the Tern stack always reads urgent data inline")
            return
        if name not in _TCP_OPTIONS:
            raise ConfigError(f"unknown TCP socket option {name!r}; known: {', '.join(_TCP_OPTIONS)}")
        cname, kind = _TCP_OPTIONS[name]
        if kind == "time":
            v = parse_time(value, name)
        elif kind == "cc":
            v = congestion_value(value)
        else:
            v = int(value)
        opt = getattr(lib, f"TERN_TCP_OPT_{cname}")
        self._ok(self._call(self._f("tern_tcp_set_option"), opt, v, context="set_option"),
                 f"set_option({name!r}, {value!r})")

    #: A closed socket's last :class:`TcpInfo` (None while open, or if it could not be read).
    last_info: Optional[TcpInfo] = None

    def _snapshot(self) -> Optional[TcpInfo]:
        try:
            return self.info()
        except TernError:
            return None

    @property
    def error(self) -> Optional[str]:
        """The connection's pending error (``info().error``: ``"TIMED_OUT"``, ``"CONNECTION_RESET"``...) or None."""
        return self.info().error

    def info(self) -> TcpInfo:
        """The connection's :class:`TcpInfo` (after close or abort: the last one, see :meth:`close`)."""
        from .errors import error_name

        if self.closed and self.last_info is not None:
            return self.last_info
        from .host import addr_text

        out = ffi.new("tern_tcp_info *")
        self._ok(self._f("tern_tcp_get_info")(self.host._st(), self._h, out), "info()")
        vals: dict[str, Any] = {}
        for f in TcpInfo.__dataclass_fields__:
            v = getattr(out, f)
            if f == "state":
                v = _TCP_STATES[int(v)] if 0 <= int(v) < len(_TCP_STATES) else str(int(v))
            elif f in ("local", "remote"):
                v = addr_text(v)
            elif f == "error":
                v = None if int(v) == 0 else error_name(int(v))
            elif f in ("sack_ok", "ts_ok", "bbr_filled_pipe"):
                v = bool(v)
            elif f == "bbr_mode":
                v = _BBR_MODES[int(v)] if int(out.bbr_pacing_rate) else None
            else:
                v = int(v)
            vals[f] = v
        return TcpInfo(**vals)

    @property
    def state(self) -> str:
        """The RFC 9293 state name ("ESTABLISHED"); after close or abort, the last one (see :meth:`close`)."""
        if self.closed and self.last_info is not None:
            return self.last_info.state
        out = self.__dict__.get("_state_buf")
        if out is None:  # cheap enough for run(until=...) predicates: no TcpInfo built
            out = self._state_buf = ffi.new("tern_tcp_info *")
        self._ok(self._f("tern_tcp_get_info")(self.host._st(), self._h, out), "state")
        v = int(out.state)
        return _TCP_STATES[v] if 0 <= v < len(_TCP_STATES) else str(v)

    @property
    def readable(self) -> int:
        """Bytes readable now."""
        return int(self._f("tern_tcp_readable")(self.host._st(), self._h))

    def _urgent(self) -> Any:
        out = ffi.new("tern_tcp_urgent_info *")
        self._ok(self._f("tern_tcp_get_urgent")(self.host._st(), self._h, out), "urgent")
        return out

    @property
    def urgent_pending(self) -> bool:
        """Urgent mode (RFC 9293 §3.8.5): the peer's urgent pointer is ahead of what has been read."""
        return bool(self._urgent().pending)

    @property
    def urgent_mark(self) -> Optional[int]:
        """In urgent mode, the bytes left to read up to the end of the urgent data (some may not have arrived
        yet); None when no urgent data is pending. ``recv`` stops there: urgent and normal bytes never come
        back from one call."""
        u = self._urgent()
        return int(u.mark) if u.pending else None

    @property
    def urgent_signals(self) -> int:
        """How many times the stack has signalled urgent data (RFC 9293 MUST-32): it grows when urgent data
        becomes pending and whenever the urgent pointer advances."""
        return int(self._urgent().signals)

    @property
    def urgent_sending(self) -> bool:
        """Urgent data of ours is not yet acknowledged: our segments carry URG."""
        return bool(self._urgent().sending)

    @property
    def writable(self) -> int:
        """Bytes of send buffer free now."""
        return int(self._f("tern_tcp_writable")(self.host._st(), self._h))

    @property
    def accept_pending(self) -> int:
        """A listener's accept queue length."""
        return int(self._f("tern_tcp_accept_pending")(self.host._st(), self._h))


__all__ = ["UdpSocket", "PingSocket", "TcpSocket", "TcpInfo", "PingReply", "SockError"]
