"""smoltcp 0.12 as a DUT of the Tern conformance suite (``--dut smoltcp``, registered in ``pyharness.duts``).

The stack runs in the Rust library ``libtern_smoltcp.so`` (``duts/smoltcp/src/lib.rs``, built with cargo),
attached to the simulation as a plugin node (:func:`pyharness.duts.plugin_node`); this module binds its C
ABI (``include/tern_smoltcp.h``) with CFFI in ABI mode (the library is the user's, loaded by path, so there
is no extension to compile) and maps its sockets to the DUT contract (``docs/dut-contract.md``).

Capabilities: TCP only (no UDP/ping sockets, no routes, counters or tcp_info fields beyond the mandatory
ones; smoltcp's TCP has no urgent data, shutdown or accept queue beyond the listener's pool).
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import os
import re
from pathlib import Path
from typing import Any, Optional

from cffi import FFI

from pyharness.dut import MS, PEER_IP, PREFIX, SEC, TERN_PROFILE, DutProfile
from pyharness.duts import plugin_node, unsupported
from pyharness.errors import make_error
from pyharness.sockets import _TCP_STATES

__all__ = ["SmoltcpDut", "SmoltcpTcpSocket", "SMOLTCP_PROFILE", "library_path"]

HERE = Path(__file__).resolve().parent.parent
DUT_IP = "10.0.0.1"

#: smoltcp 0.12's values where the RFCs leave a choice (src/socket/tcp.rs, src/iface/neighbor.rs).
SMOLTCP_PROFILE = dataclasses.replace(
    TERN_PROFILE,
    name="smoltcp",
    rto_initial=700 * MS,  # RTTE_INITIAL_RTT 300 ms + 4 x RTTE_INITIAL_DEV 100 ms
    rto_min=10 * MS,  # RTTE_MIN_RTO
    rto_max=10 * SEC,  # RTTE_MAX_RTO
    delack=10 * MS,  # ACK_DELAY_DEFAULT
    time_wait=10 * SEC,  # CLOSE_DELAY
    arp_timeout=60 * SEC,  # ENTRY_LIFETIME
    arp_retry=1 * SEC,  # SILENT_TIME
    notes={"source": "smoltcp 0.12.0 from crates.io", "syn_retries": "unbounded (no R2 for SYN)"},
)

#: Optional capabilities (pyharness.duts.CAPABILITIES) this DUT has.
CAPABILITIES: frozenset = frozenset()


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


def _ip_int(ip: str) -> int:
    return int(ipaddress.IPv4Address(ip))


def _ip_text(v: int) -> Optional[str]:
    return str(ipaddress.IPv4Address(v)) if v else None


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

    def udp_socket(self, port: Optional[int] = None, addr: Optional[str] = None) -> Any:
        unsupported("udp", self.kind)

    def ping_socket(self, ident: int = 1) -> Any:
        unsupported("icmp_echo", self.kind)

    def add_route(self, prefix: str, gateway: Optional[str] = None) -> None:
        unsupported("routes", self.kind)

    def counters(self) -> Any:
        unsupported("counters", self.kind)
