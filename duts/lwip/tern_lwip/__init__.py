"""lwIP 2.1 as a DUT of the Tern conformance suite (``--dut lwip``, registered in ``pyharness.duts``).

lwIP runs in ``libtern_lwip.so`` (``duts/lwip/``: Debian's lwIP source built NO_SYS with the raw API and a C
adapter, ``make lwip``), attached to the simulation as a plugin node (:func:`pyharness.duts.plugin_node`);
several nodes share the process, each with its own copy of lwIP's globals (``docs/lwip.md``). This module
binds the adapter's C ABI (``include/tern_lwip.h``) with CFFI in ABI mode and maps its sockets to the DUT
contract (``docs/dut-contract.md``).

Capabilities: ``udp``, ``icmp_echo``, ``tcp_shutdown``, ``tcp_abort``, ``tcp_accept_queue``. Not offered:
``tcp_info`` beyond the fields lwIP's pcb holds (snd_una, snd_nxt, rcv_nxt, windows, cwnd, ssthresh, mss,
rto, retransmits), ``tcp_urgent`` (lwIP's raw API neither sends nor reports urgent data), ``tcp_options``
beyond nodelay and keep-alive, ``routes`` (lwIP routes by netif only), ``counters``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from pathlib import Path
from typing import Any, Optional, Union

from cffi import FFI

from pyharness.dut import MS, PEER_IP, PREFIX, SEC, TERN_PROFILE, DutProfile
from pyharness.cabi import CAbiUdpSocket, ipv4_int, ipv4_text
from pyharness.duts import plugin_node, unsupported
from pyharness.errors import ConfigError, make_error
from pyharness.sockets import _TCP_STATES, PingReply, SockError

__all__ = ["LwipDut", "LwipTcpSocket", "LwipUdpSocket", "LwipPingSocket", "LWIP_PROFILE", "library_path"]

HERE = Path(__file__).resolve().parent.parent
DUT_IP = "10.0.0.1"
WOULD_BLOCK = -23

#: lwIP 2.1.3's values (src/include/lwip/opt.h, src/include/lwip/priv/tcp_priv.h, src/core/tcp.c) with
#: duts/lwip/port/lwipopts.h, where the RFCs leave a choice.
LWIP_PROFILE = dataclasses.replace(
    TERN_PROFILE,
    name="lwip",
    ip_protocols=(1, 6, 17),  # ICMP, TCP, UDP: LWIP_IGMP 0 in port/lwipopts.h
    ttl=255,  # IP_DEFAULT_TTL
    arp_timeout=300 * SEC,  # ARP_MAXAGE 300 ticks of ETHARP_TMR_INTERVAL 1 s
    arp_retry=1 * SEC,  # etharp_tmr re-sends a pending request every tick (1 s)
    arp_retries=5,  # the first request and one per tick until ARP_MAXPENDING (5) ticks
    arp_failure_icmp=False,  # a pending entry is dropped silently
    reasm_timeout=15 * SEC,  # IP_REASS_MAXAGE 15 ticks of IP_TMR_INTERVAL 1 s
    echo_broadcast=False,  # LWIP_BROADCAST_PING 0
    arp_queue=1,  # ARP_QUEUEING 0: "only the most recent packet is queued per IP address"
    arp_queue_keeps="newest",
    udp_rx_queue=16,  # the adapter's queue (the raw API keeps none): src/adapter.h LW_UDP_QUEUE
    ephemeral_low=0xC000,  # TCP_LOCAL_PORT_RANGE_START
    ephemeral_high=0xFFFF,  # TCP_LOCAL_PORT_RANGE_END
    rto_initial=3 * SEC,  # tcp_alloc: rto = 3000 / TCP_SLOW_INTERVAL ticks
    # tcp_receive's estimator in 500 ms ticks: with round trips under a tick, sv shrinks 6 -> 5 -> 4 -> 3 and
    # stays (sv >> 2 is 0), so the RTO settles at 3 ticks; there is no explicit lower clamp.
    rto_min=1500 * MS,
    rto_max=0x7FFF * 500 * MS,  # tcp_slowtmr caps the backed-off RTO at 0x7FFF ticks
    loss_recovery="newreno",  # fast retransmit / fast recovery (RFC 5681), no RACK, no SACK-based recovery
    classic_recovery={},  # nothing to select: lwIP has only the classic recovery
    syn_retries=6,  # TCP_SYNMAXRTX
    initial_window=3,  # LWIP_TCP_CALC_INITIAL_CWND: min(4 MSS, max(2 MSS, 4380)) = 3 segments at MSS 1460
    delack=250 * MS,  # TCP_FAST_INTERVAL: a delayed ACK leaves at the next fast-timer tick
    time_wait=120 * SEC,  # 2 x TCP_MSL (60 s)
    fin_wait2_timeout=20 * SEC,  # TCP_FIN_WAIT_TIMEOUT
    backlog_full="drop",  # tcp_listen_input drops a SYN when accepts_pending >= backlog
    notes={"source": "lwIP 2.1.3+dfsg1-2 (Debian bookworm source package)",
           "data_retries": "TCP_MAXRTX 12", "timers": "TCP ticks of 250 ms (fast) and 500 ms (slow)"},
)

#: Optional capabilities (pyharness.duts.CAPABILITIES) this DUT has.
CAPABILITIES: frozenset = frozenset({"udp", "icmp_echo", "tcp_shutdown", "tcp_abort", "tcp_accept_queue"})


def library_path() -> Path:
    """The built library: ``$TERN_LWIP_LIB``, else ``duts/lwip/build/libtern_lwip.so``."""
    p = Path(os.environ.get("TERN_LWIP_LIB") or HERE / "build" / "libtern_lwip.so")
    if not p.is_file():
        raise FileNotFoundError(f"the lwIP DUT library {p} is not built: run 'make lwip'")
    return p


_ffi: Optional[FFI] = None
_lib: Any = None


def _binding() -> tuple[FFI, Any]:
    global _ffi, _lib
    if _ffi is None:
        text = (HERE / "include" / "tern_lwip.h").read_text()
        cdef = text[text.index("/* BEGIN CDEF */"):text.index("/* END CDEF */")]
        ffi = FFI()
        ffi.cdef(re.sub(r"/\*.*?\*/", "", cdef, flags=re.S))
        _lib = ffi.dlopen(str(library_path()))  # the library the simulator loaded (dlopen counts references)
        _ffi = ffi
    return _ffi, _lib


_ip_int = ipv4_int  # pyharness.cabi: host-order uint32 across the ABI
_ip_text = ipv4_text


_ERROR_NAMES = {-25: "CONN_REFUSED", -26: "CONN_RESET", -27: "TIMED_OUT"}


class LwipInfo:
    """``info()`` of an lwIP socket: the mandatory fields and those lwIP's pcb holds; another skips (``tcp_info``)."""

    def __init__(self, **fields: Any):
        self.__dict__.update(fields)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        unsupported("tcp_info", "lwip")

    def __repr__(self) -> str:
        return f"LwipInfo({self.__dict__})"


class _Sock:
    def __init__(self, dut: "LwipDut", handle: int):
        self.dut = dut
        self._h = handle
        self.closed = False

    def _ok(self, rc: int, what: str) -> int:
        if rc < 0:
            raise make_error(int(rc), "", f"lwip {type(self).__name__}.{what}")
        return int(rc)


class LwipTcpSocket(_Sock):
    """An lwIP TCP pcb through the DUT contract's TcpSocket operations."""

    def __init__(self, dut: "LwipDut", handle: int):
        super().__init__(dut, handle)
        self.last_info: Optional[LwipInfo] = None

    def __repr__(self) -> str:
        return f"<LwipTcpSocket {self._h} {self.state}>"

    def _call(self, fn: str, *args: Any) -> int:
        if self.closed:
            raise make_error(-30, "", f"lwip tcp.{fn}: the socket is closed")
        return int(getattr(self.dut._lib, "lw_tcp_" + fn)(self.dut._st, self._h, *args))

    def bind(self, port: int = 0, addr: Optional[str] = None) -> None:
        """Bind to ``port`` (lwIP binds to any address)."""
        if addr not in (None, "0.0.0.0", DUT_IP):
            raise ConfigError(f"lwip: bind to {addr!r}: the DUT has one address, {DUT_IP}")
        self._bound = port
        if port:
            self._ok(self._call("bind", port), f"bind({port})")

    def listen(self, backlog: int = 8) -> None:
        """Listen (tcp_listen_with_backlog)."""
        self._ok(self._call("listen", backlog), f"listen({backlog})")

    def accept(self) -> Optional["LwipTcpSocket"]:
        """An established connection, or None."""
        rc = self._call("accept")
        if rc == WOULD_BLOCK:
            return None
        return LwipTcpSocket(self.dut, self._ok(rc, "accept()"))

    def connect(self, ip: str, port: int) -> None:
        """Active open (tcp_connect)."""
        self._ok(self._call("connect", _ip_int(ip), port), f"connect({ip!r}, {port})")

    def send(self, data: bytes, urgent: bool = False) -> int:
        """Queue what fits (tcp_write + tcp_output); how many bytes."""
        if urgent:
            unsupported("tcp_urgent", "lwip")
        return self._ok(self._call("send", data, len(data)), "send()")

    def recv(self, n: int = 65536) -> Optional[bytes]:
        """Up to ``n`` bytes; b"" at end of stream; None if nothing yet."""
        buf = self.dut._ffi.new("uint8_t[]", n)
        rc = self._call("recv", buf, n)
        if rc == WOULD_BLOCK:
            return None
        return bytes(self.dut._ffi.buffer(buf, self._ok(rc, "recv()")))

    def shutdown(self, how: Union[str, int] = "wr") -> None:
        """Half close (tcp_shutdown)."""
        rd, wr = {"rd": (1, 0), 0: (1, 0), "wr": (0, 1), 1: (0, 1), "rdwr": (1, 1), 2: (1, 1)}.get(how, (None, None))
        if rd is None:
            raise ConfigError(f"shutdown({how!r}): how is 'rd', 'wr' or 'rdwr'")
        self._ok(self._call("shutdown", rd, wr), f"shutdown({how!r})")

    def close(self) -> None:
        """Graceful close; ``state``/``info()`` keep what they were just before (the contract)."""
        if not self.closed:
            self.last_info = self.info()
            self._ok(self._call("close"), "close()")
            self.closed = True

    def abort(self) -> None:
        """RST (tcp_abort); then CLOSED with error CONN_RESET."""
        if not self.closed:
            info = self.info()
            self._ok(self._call("abort"), "abort()")
            self.last_info = LwipInfo(**{**info.__dict__, "state": "CLOSED", "error": "CONN_RESET"})
            self.closed = True

    def set_option(self, name: str, value: Any) -> None:
        """``nodelay``, ``keepalive``, ``keepidle``/``keepintvl`` (times), ``keepcnt``; others skip (``tcp_options``)."""
        from pyharness.units import parse_time

        opts = {"nodelay": (1, lambda v: int(bool(v))), "keepalive": (2, lambda v: int(bool(v))),
                "keepidle": (3, lambda v: parse_time(v, name) // 1_000_000),
                "keepintvl": (4, lambda v: parse_time(v, name) // 1_000_000), "keepcnt": (5, int)}
        if name not in opts:
            unsupported("tcp_options", "lwip")
        opt, conv = opts[name]
        self._ok(self._call("set_option", opt, conv(value)), f"set_option({name!r})")

    def _raw(self) -> Any:
        out = self.dut._ffi.new("lw_tcp_info *")
        self._ok(self._call("get_info", out), "info()")
        return out

    def info(self) -> LwipInfo:
        """The mandatory fields, and the pcb's own (``docs/lwip.md``)."""
        if self.closed and self.last_info is not None:
            return self.last_info
        r = self._raw()
        f: dict[str, Any] = dict(state=_TCP_STATES[r.state], local=_ip_text(r.local_ip), remote=_ip_text(r.remote_ip),
                                 local_port=int(r.local_port), remote_port=int(r.remote_port),
                                 error=_ERROR_NAMES.get(int(r.error)), ts_ok=bool(r.ts_ok))
        if r.state not in (0, 1):
            f.update(snd_una=int(r.snd_una), snd_nxt=int(r.snd_nxt), rcv_nxt=int(r.rcv_nxt), snd_wnd=int(r.snd_wnd),
                     rcv_wnd=int(r.rcv_wnd), cwnd=int(r.cwnd), ssthresh=int(r.ssthresh), snd_mss=int(r.snd_mss),
                     rto_ns=int(r.rto_ns), retransmits=int(r.retransmits))
        return LwipInfo(**f)

    @property
    def state(self) -> str:
        """RFC 9293 state name."""
        return self.info().state

    @property
    def readable(self) -> int:
        """Bytes readable now."""
        return 0 if self.closed else int(self._raw().readable)

    @property
    def writable(self) -> int:
        """Free bytes of send buffer."""
        return 0 if self.closed else int(self._raw().writable)

    @property
    def accept_pending(self) -> int:
        """Established connections of a listener not yet accepted."""
        return self._ok(self._call("accept_pending"), "accept_pending")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("urgent_"):
            unsupported("tcp_urgent", "lwip")
        raise AttributeError(name)


class LwipUdpSocket(_Sock, CAbiUdpSocket):
    """An lwIP udp_pcb with the adapter's receive queue, through the DUT contract's UdpSocket operations."""

    def _call(self, fn: str, *args: Any) -> int:
        if self.closed:
            raise make_error(-30, "", f"lwip udp.{fn}: the socket is closed")
        return int(getattr(self.dut._lib, "lw_udp_" + fn)(self.dut._st, self._h, *args))

    def bind(self, port: int = 0, addr: Optional[str] = None) -> None:
        """Bind to ``addr`` (None: any) and ``port`` (0: ephemeral)."""
        self._ok(self._call("bind", _ip_int(addr) if addr else 0, port), f"bind({port})")

    def set_broadcast(self, on: bool) -> None:
        """lwIP built without IP_SOF_BROADCAST sends to broadcast addresses always: nothing to set."""

    def set_dont_fragment(self, on: bool) -> None:
        """lwIP has no per-socket DF (it never sets DF on UDP): the scenario is skipped."""
        if on:
            unsupported("udp", "lwip")

    def take_error(self) -> None:
        """lwIP's raw API reports no ICMP error to a UDP pcb: always None."""
        return None

    def close(self) -> None:
        """Close (udp_remove); queued datagrams are dropped."""
        if not self.closed:
            self._ok(self._call("close"), "close()")
            self.closed = True


class LwipPingSocket(_Sock):
    """ICMP echo over an lwIP raw ICMP pcb."""

    def _call(self, fn: str, *args: Any) -> int:
        if self.closed:
            raise make_error(-30, "", f"lwip ping.{fn}: the socket is closed")
        return int(getattr(self.dut._lib, "lw_ping_" + fn)(self.dut._st, self._h, *args))

    def send(self, dst: str, seq: int = 1, payload: Union[bytes, int] = 56, ttl: int = 0,
             dont_fragment: bool = False) -> None:
        """An echo request to ``dst``; ``payload`` is bytes or a length (byte i is i mod 256)."""
        if dont_fragment:
            unsupported("icmp_echo", "lwip")
        data, n = (self.dut._ffi.NULL, payload) if isinstance(payload, int) else (payload, len(payload))
        self._ok(self._call("send", _ip_int(dst), seq, data, n, ttl), f"send({dst!r}, seq={seq})")

    def recv(self) -> Optional[PingReply]:
        """The oldest echo reply, or None."""
        ffi = self.dut._ffi
        out, buf = ffi.new("lw_ping_reply *"), ffi.new("uint8_t[]", 65536)
        rc = self._call("recv", out, buf, 65536)
        if rc == WOULD_BLOCK:
            return None
        self._ok(rc, "recv()")
        n = int(out.len)
        return PingReply(_ip_text(out.src) or "", int(out.seq), int(out.ttl), n, int(out.time),
                         bytes(ffi.buffer(buf, min(n, 65536))))

    def take_error(self) -> Optional[SockError]:
        """The last ICMP error (destination unreachable, time exceeded, parameter problem) quoting one of this
        socket's echo requests, as the raw ICMP pcb saw it (and clear it), or None."""
        out = self.dut._ffi.new("lw_ping_error *")
        rc = self._call("take_error", out)
        if rc == WOULD_BLOCK:
            return None
        self._ok(rc, "take_error()")
        return SockError(int(out.type), int(out.code), int(out.mtu), _ip_text(getattr(out, "from")),
                         _ip_text(out.dst), int(out.time))

    def close(self) -> None:
        """Close (raw_remove)."""
        if not self.closed:
            self._ok(self._call("close"), "close()")
            self.closed = True


class LwipDut:
    """lwIP 2.1 at 10.0.0.1/24, one plugin node in virtual time."""

    kind = "lwip"
    capabilities = CAPABILITIES

    def __init__(self, net: Any, profile: DutProfile = LWIP_PROFILE, name: str = "dut", ip: str = DUT_IP,
                 mac: str = "02:00:00:00:00:01"):
        """lwIP node ``name`` at ``ip``/24 with ``mac`` (defaults: the contract's DUT); several may share ``net``."""
        self.net = net
        self.profile = profile
        self.ip = ip
        self.mac = mac
        self._ffi, self._lib = _binding()
        seed = int.from_bytes(hashlib.sha256(f"{net.seed}\0lwip\0{name}".encode()).digest()[:8], "big") or 1
        cfg = f"mac={mac} ip={ip}/{PREFIX} mtu={profile.mtu} seed={seed}"
        self.node = plugin_node(net, name, library_path(), config=cfg, ip=ip, mac=mac)
        self.host = self.node
        self._st = self._ffi.cast("void *", self.node.state)
        self._assertions = int(self._lib.lw_assertions())

    @classmethod
    def bench(cls, net: Any, peer_arp: bool = True) -> tuple["LwipDut", Any, Any]:
        """(dut, peer, link): the contract's standard bench."""
        dut = cls(net)
        peer = net.peer("peer", ipv4=f"{PEER_IP}/{PREFIX}", arp=peer_arp)
        return dut, peer, net.link(dut.node, peer)

    def assertions(self) -> int:
        """lwIP assertions that failed since this DUT was made (0 unless lwIP met a bug)."""
        return int(self._lib.lw_assertions()) - self._assertions

    def _tcp(self, options: dict) -> LwipTcpSocket:
        s = LwipTcpSocket(self, int(self._lib.lw_tcp_open(self._st)))
        s._ok(s._h, "open")
        for k, v in options.items():
            s.set_option(k, v)
        return s

    def tcp_socket(self, **options: Any) -> LwipTcpSocket:
        """An unconnected TCP socket."""
        return self._tcp(options)

    def tcp_listen(self, port: int, backlog: int = 8, **options: Any) -> LwipTcpSocket:
        """A listener on ``port``."""
        s = self._tcp(options)
        s.bind(port)
        s.listen(backlog)
        return s

    def tcp_connect(self, ip: str, port: int, local_port: int = 0, **options: Any) -> LwipTcpSocket:
        """Active open."""
        s = self._tcp(options)
        s.bind(local_port)
        s.connect(ip, port)
        return s

    def udp_socket(self, port: Optional[int] = None, addr: Optional[str] = None) -> LwipUdpSocket:
        """A UDP socket, bound when ``port`` is given."""
        s = LwipUdpSocket(self, int(self._lib.lw_udp_open(self._st)))
        s._ok(s._h, "open")
        if port is not None:
            s.bind(port, addr)
        return s

    def ping_socket(self, ident: int = 1) -> LwipPingSocket:
        """An ICMP echo socket with identifier ``ident``."""
        s = LwipPingSocket(self, int(self._lib.lw_ping_open(self._st, ident)))
        s._ok(s._h, "open")
        return s

    def add_route(self, prefix: str, gateway: Optional[str] = None) -> None:
        unsupported("routes", self.kind)

    def counters(self) -> Any:
        unsupported("counters", self.kind)
