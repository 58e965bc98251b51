"""smoltcp 0.12 as a DUT of the Tern conformance suite (``--dut smoltcp``, registered in ``pyharness.duts``).

The stack runs in the Rust library ``libtern_smoltcp.so`` (``duts/smoltcp/src/lib.rs``, built with cargo),
attached to the simulation as a plugin node (:func:`pyharness.duts.plugin_node`); this module binds its C
ABI (``include/tern_smoltcp.h``) with CFFI in ABI mode (the library is the user's, loaded by path, so there
is no extension to compile) and maps its sockets to the DUT contract (``docs/dut-contract.md``).

Capabilities: ``udp`` and ``icmp_echo`` (smoltcp's UDP and ICMP sockets, ``src/dgram.rs``). Not offered:
routes, counters, tcp_info fields beyond the mandatory ones; smoltcp's TCP has no urgent data, shutdown or
accept queue beyond the listener's pool; DF cannot be set on a datagram (smoltcp sets it on none).
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

__all__ = ["SmoltcpDut", "SmoltcpTcpSocket", "SmoltcpUdpSocket", "SmoltcpPingSocket", "SMOLTCP_PROFILE",
           "library_path"]

HERE = Path(__file__).resolve().parent.parent
DUT_IP = "10.0.0.1"

#: smoltcp 0.12's values where the RFCs leave a choice (src/socket/tcp.rs, src/iface/neighbor.rs).
SMOLTCP_PROFILE = dataclasses.replace(
    TERN_PROFILE,
    name="smoltcp",
    ip_protocols=(1, 2, 6, 17),  # ICMP, IGMP (the multicast feature), TCP, UDP
    rto_initial=700 * MS,  # RTTE_INITIAL_RTT 300 ms + 4 x RTTE_INITIAL_DEV 100 ms
    rto_min=10 * MS,  # RTTE_MIN_RTO
    rto_max=10 * SEC,  # RTTE_MAX_RTO
    delack=10 * MS,  # ACK_DELAY_DEFAULT
    time_wait=10 * SEC,  # CLOSE_DELAY
    arp_timeout=60 * SEC,  # ENTRY_LIFETIME
    arp_retry=1 * SEC,  # SILENT_TIME
    arp_queue_keeps="oldest",  # as the profile said before the Tern profile's changed to "newest" (issue 22)
    arp_failure_icmp=False,  # iface/interface: an unresolved neighbour is asked again while a socket waits; no ICMP
    # socket/icmp.rs accepts_v4: an ICMP socket bound to a UDP port takes an error whose quoted UDP source port
    # is the port, whoever the quoted source address was
    icmp_error_checks_source=False,
    # socket/tcp.rs: a retransmission timer and a fast retransmit after three duplicate ACKs; no RACK-TLP and
    # no option to choose the recovery
    loss_recovery="newreno",
    classic_recovery={},
    notes={"source": "smoltcp 0.12.0 from crates.io", "syn_retries": "unbounded (no R2 for SYN)"},
)

#: Optional capabilities (pyharness.duts.CAPABILITIES) this DUT has.
CAPABILITIES: frozenset = frozenset({"udp", "icmp_echo"})
WOULD_BLOCK = -23


def library_path() -> Path:
    """The built library: ``$TERN_SMOLTCP_LIB``, else ``duts/smoltcp/target/release/libtern_smoltcp.so``."""
    p = Path(os.environ.get("TERN_SMOLTCP_LIB") or HERE / "target" / "release" / "libtern_smoltcp.so")
    if not p.is_file():
        raise FileNotFoundError(f"the smoltcp DUT library {p} is not built: run 'make smoltcp' (cargo build)")
    return p


_ffi: Optional[FFI] = None
_lib: Any = None


def _binding() -> tuple[FFI, Any]:
    global _ffi, _lib
    if _ffi is None:
        text = (HERE / "include" / "tern_smoltcp.h").read_text()
        cdef = text[text.index("/* BEGIN CDEF */"):text.index("/* END CDEF */")]
        ffi = FFI()
        ffi.cdef(re.sub(r"/\*.*?\*/", "", cdef, flags=re.S))
        _lib = ffi.dlopen(str(library_path()))  # the same library the simulator loaded (dlopen counts)
        _ffi = ffi
    return _ffi, _lib


_ip_int = ipv4_int  # pyharness.cabi: host-order uint32 across the ABI
_ip_text = ipv4_text


class SmoltcpInfo:
    """``info()`` of a smoltcp socket: the mandatory fields; reading another skips the scenario (``tcp_info``)."""

    def __init__(self, **fields: Any):
        self.__dict__.update(fields)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        unsupported("tcp_info", "smoltcp")

    def __repr__(self) -> str:
        return f"SmoltcpInfo({self.__dict__})"


class SmoltcpTcpSocket:
    """A smoltcp TCP socket through the DUT contract's TcpSocket operations."""

    def __init__(self, dut: "SmoltcpDut", handle: int):
        self.dut = dut
        self._h = handle
        self.closed = False
        self.last_info: Optional[SmoltcpInfo] = None

    def __repr__(self) -> str:
        return f"<SmoltcpTcpSocket {self._h} {self.state}>"

    def _ok(self, rc: int, what: str) -> int:
        if rc < 0:
            raise make_error(int(rc), "", f"smoltcp {what}")
        return int(rc)

    def bind(self, port: int = 0, addr: Optional[str] = None) -> None:
        """Remember the local port for the next connect or listen."""
        self._bound = port

    def listen(self, backlog: int = 8) -> None:
        """Listen on the bound port."""
        self._ok(self.dut._lib.smol_tcp_listen(self.dut._st, self._h, getattr(self, "_bound", 0), backlog), "listen")

    def accept(self) -> Optional["SmoltcpTcpSocket"]:
        """An established connection, or None."""
        rc = self.dut._lib.smol_tcp_accept(self.dut._st, self._h)
        if rc == -23:
            return None
        return SmoltcpTcpSocket(self.dut, self._ok(rc, "accept()"))

    def connect(self, ip: str, port: int) -> None:
        """Active open."""
        self._ok(self.dut._lib.smol_tcp_connect(self.dut._st, self._h, _ip_int(ip), port,
                                                getattr(self, "_bound", 0)), f"connect({ip!r}, {port})")

    def send(self, data: bytes, urgent: bool = False) -> int:
        """Queue what fits; how many bytes."""
        if urgent:
            unsupported("tcp_urgent", "smoltcp")
        return self._ok(int(self.dut._lib.smol_tcp_send(self.dut._st, self._h, data, len(data))), "send()")

    def recv(self, n: int = 65536) -> Optional[bytes]:
        """Up to ``n`` bytes; b"" at end of stream; None if nothing yet."""
        ffi = self.dut._ffi
        buf = ffi.new("uint8_t[]", n)
        rc = int(self.dut._lib.smol_tcp_recv(self.dut._st, self._h, buf, n))
        if rc == -23:
            return None
        return bytes(ffi.buffer(buf, self._ok(rc, "recv()")))

    def shutdown(self, how: Any = "wr") -> None:
        """smoltcp has no half close but its close() (FIN, still receiving): only "wr" maps to it."""
        if how not in ("wr", 1):
            unsupported("tcp_shutdown", "smoltcp")
        self._ok(self.dut._lib.smol_tcp_close(self.dut._st, self._h), "shutdown('wr')")

    def close(self) -> None:
        """Graceful close; ``state``/``info()`` keep what they were just before (the contract)."""
        if not self.closed:
            self.last_info = self.info()
            self._ok(self.dut._lib.smol_tcp_close(self.dut._st, self._h), "close()")
            self.closed = True

    def abort(self) -> None:
        """RST; then CLOSED with error CONN_RESET."""
        if not self.closed:
            info = self.info()
            self._ok(self.dut._lib.smol_tcp_abort(self.dut._st, self._h), "abort()")
            self.last_info = SmoltcpInfo(**{**info.__dict__, "state": "CLOSED", "error": "CONN_RESET"})
            self.closed = True

    def set_option(self, name: str, value: Any) -> None:
        """``nodelay``, ``keepintvl`` (keep-alive interval), ``delack``, ``timestamps``, ``sack``/``window_scaling`` on
        (smoltcp always offers them); others skip the scenario (``tcp_options``)."""
        from pyharness.units import parse_time

        opts = {"nodelay": (1, lambda v: int(bool(v))), "keepintvl": (2, lambda v: parse_time(v, name)),
                "delack": (3, lambda v: parse_time(v, name)), "timestamps": (5, lambda v: int(bool(v)))}
        if name in ("sack", "window_scaling") and value:
            return  # smoltcp always offers SACK-permitted and window scaling (RFC 2018, RFC 7323)
        if name not in opts:
            unsupported("tcp_options", "smoltcp")
        opt, conv = opts[name]
        self._ok(self.dut._lib.smol_tcp_set_option(self.dut._st, self._h, opt, conv(value)), f"set_option({name!r})")

    def _raw(self) -> Any:
        out = self.dut._ffi.new("smol_tcp_info *")
        self._ok(self.dut._lib.smol_tcp_get_info(self.dut._st, self._h, out), "info()")
        return out

    def info(self) -> SmoltcpInfo:
        """The mandatory fields (docs/dut-contract.md); smoltcp does not say why a connection ended (error None)."""
        if self.closed and self.last_info is not None:
            return self.last_info
        r = self._raw()
        return SmoltcpInfo(state=_TCP_STATES[r.state], local=_ip_text(r.local_ip), remote=_ip_text(r.remote_ip),
                           local_port=int(r.local_port), remote_port=int(r.remote_port), error=None,
                           ts_ok=bool(r.ts_ok))

    @property
    def state(self) -> str:
        """RFC 9293 state name."""
        return self.info().state

    @property
    def readable(self) -> int:
        """Bytes readable now."""
        return int(self._raw().readable)

    @property
    def writable(self) -> int:
        """Free bytes of send buffer."""
        return int(self._raw().writable)

    @property
    def accept_pending(self) -> int:
        """Established connections of a listener not yet accepted."""
        return int(self.dut._lib.smol_tcp_accept_pending(self.dut._st, self._h))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("urgent_"):
            unsupported("tcp_urgent", "smoltcp")
        raise AttributeError(name)


def _sock_error(e: Any) -> SockError:
    return SockError(int(e.icmp_type), int(e.code), int(e.mtu), _ip_text(getattr(e, "from")), _ip_text(e.dst),
                     int(e.time))


class _Dgram:
    """What the smoltcp UDP and echo sockets share: the handle and the call of ``smol_<proto>_<fn>``."""

    proto = ""

    def __init__(self, dut: "SmoltcpDut", handle: int):
        self.dut = dut
        self._h = handle
        self.closed = False

    def _call(self, fn: str, *args: Any) -> int:
        if self.closed:
            raise make_error(-30, "", f"smoltcp {self.proto}.{fn}: the socket is closed")
        return int(getattr(self.dut._lib, f"smol_{self.proto}_{fn}")(self.dut._st, self._h, *args))

    def _ok(self, rc: int, what: str) -> int:
        if rc < 0:
            raise make_error(int(rc), "", f"smoltcp {self.proto}.{what}")
        return int(rc)


class SmoltcpUdpSocket(_Dgram, CAbiUdpSocket):
    """A smoltcp UDP socket through the DUT contract's UdpSocket operations."""

    proto = "udp"

    def bind(self, port: int = 0, addr: Optional[str] = None) -> None:
        """Bind to ``addr`` (None: any) and ``port`` (0: ephemeral)."""
        if addr not in (None, "0.0.0.0", DUT_IP):
            raise ConfigError(f"smoltcp: bind to {addr!r}: the DUT has one address, {DUT_IP}")
        ip = _ip_int(addr) if addr and addr != "0.0.0.0" else 0
        self._ok(self._call("bind", ip, port), f"bind({port})")

    def set_broadcast(self, on: bool) -> None:
        """smoltcp sends to a broadcast address from any UDP socket: nothing to set."""

    def set_dont_fragment(self, on: bool) -> None:
        """smoltcp has no DF per socket: the scenario is skipped."""
        if on:
            unsupported("udp", "smoltcp")

    def take_error(self) -> Optional[SockError]:
        """The last ICMP error quoting one of this socket's datagrams (smoltcp's ICMP socket bound to the
        UDP port), and clear it; or None."""
        out = self.dut._ffi.new("smol_dgram_error *")
        rc = self._call("take_error", out)
        if rc == WOULD_BLOCK:
            return None
        self._ok(rc, "take_error()")
        return _sock_error(out)

    def close(self) -> None:
        """Close; queued datagrams are dropped."""
        if not self.closed:
            self._ok(self._call("close"), "close()")
            self.closed = True


class SmoltcpPingSocket(_Dgram):
    """ICMP echo over smoltcp: requests through its ICMP socket, replies and errors from a raw ICMP socket."""

    proto = "ping"

    def send(self, dst: str, seq: int = 1, payload: Union[bytes, int] = 56, ttl: int = 0,
             dont_fragment: bool = False) -> None:
        """An echo request to ``dst``; ``payload`` is bytes or a length (byte i is i mod 256)."""
        if dont_fragment:
            unsupported("icmp_echo", "smoltcp")
        data, n = (self.dut._ffi.NULL, payload) if isinstance(payload, int) else (payload, len(payload))
        self._ok(self._call("send", _ip_int(dst), seq, data, n, ttl), f"send({dst!r}, seq={seq})")

    def recv(self) -> Optional[PingReply]:
        """The oldest echo reply, or None."""
        ffi = self.dut._ffi
        out, buf = ffi.new("smol_ping_reply *"), ffi.new("uint8_t[]", 65536)
        rc = self._call("recv", out, buf, 65536)
        if rc == WOULD_BLOCK:
            return None
        self._ok(rc, "recv()")
        n = int(out.len)
        return PingReply(_ip_text(out.src) or "", int(out.seq), int(out.ttl), n, int(out.time),
                         bytes(ffi.buffer(buf, min(n, 65536))))

    def take_error(self) -> Optional[SockError]:
        """The last ICMP error quoting one of this socket's echo requests (and clear it), or None."""
        out = self.dut._ffi.new("smol_dgram_error *")
        rc = self._call("take_error", out)
        if rc == WOULD_BLOCK:
            return None
        self._ok(rc, "take_error()")
        return _sock_error(out)

    def close(self) -> None:
        """Close."""
        if not self.closed:
            self._ok(self._call("close"), "close()")
            self.closed = True


class SmoltcpDut:
    """smoltcp 0.12 at 10.0.0.1/24, one plugin node in virtual time."""

    kind = "smoltcp"
    capabilities = CAPABILITIES

    def __init__(self, net: Any, profile: DutProfile = SMOLTCP_PROFILE, timestamps: bool = False):
        self.net = net
        self.profile = profile
        self.ip = DUT_IP
        self.mac = "02:00:00:00:00:01"
        self._ffi, self._lib = _binding()
        seed = int.from_bytes(hashlib.sha256(f"{net.seed}\0smoltcp".encode()).digest()[:8], "big")
        cfg = f"mac={self.mac} ip={DUT_IP}/{PREFIX} mtu={profile.mtu} seed={seed} timestamps={int(timestamps)}"
        self.node = plugin_node(net, "dut", library_path(), config=cfg, ip=DUT_IP, mac=self.mac)
        self.host = self.node
        self._st = self._ffi.cast("void *", self.node.state)

    @classmethod
    def bench(cls, net: Any, peer_arp: bool = True) -> tuple["SmoltcpDut", Any, Any]:
        """(dut, peer, link): the contract's standard bench."""
        dut = cls(net)
        peer = net.peer("peer", ipv4=f"{PEER_IP}/{PREFIX}", arp=peer_arp)
        return dut, peer, net.link(dut.node, peer)

    def _sock(self, options: dict) -> SmoltcpTcpSocket:
        s = SmoltcpTcpSocket(self, int(self._lib.smol_tcp_open(self._st)))
        for k, v in options.items():
            s.set_option(k, v)
        return s

    def tcp_socket(self, **options: Any) -> SmoltcpTcpSocket:
        """An unconnected TCP socket."""
        return self._sock(options)

    def tcp_listen(self, port: int, backlog: int = 8, **options: Any) -> SmoltcpTcpSocket:
        """A listener: ``backlog`` smoltcp sockets listening on ``port``."""
        s = self._sock(options)
        s.bind(port)
        s.listen(backlog)
        return s

    def tcp_connect(self, ip: str, port: int, local_port: int = 0, **options: Any) -> SmoltcpTcpSocket:
        """Active open."""
        s = self._sock(options)
        s.bind(local_port)
        s.connect(ip, port)
        return s

    def udp_socket(self, port: Optional[int] = None, addr: Optional[str] = None) -> "SmoltcpUdpSocket":
        """A UDP socket, bound when ``port`` is given."""
        s = SmoltcpUdpSocket(self, int(self._lib.smol_udp_open(self._st)))
        if port is not None:
            s.bind(port, addr)
        return s

    def ping_socket(self, ident: int = 1) -> "SmoltcpPingSocket":
        """An ICMP echo socket with identifier ``ident``."""
        h = int(self._lib.smol_ping_open(self._st, ident))
        if h < 0:
            raise make_error(h, "", f"smoltcp ping_socket(ident={ident})")
        return SmoltcpPingSocket(self, h)

    def add_route(self, prefix: str, gateway: Optional[str] = None) -> None:
        unsupported("routes", self.kind)

    def counters(self) -> Any:
        unsupported("counters", self.kind)
