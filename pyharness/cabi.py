"""Helpers for a DUT whose stack is reached through a C ABI (``duts/lwip``, ``duts/smoltcp``, a user's own).

A plug-in DUT's UDP socket class usually wraps C calls of the shape ``<prefix>_udp_<fn>(state, handle, ...)``
returning a byte count or a negative ``tern_err``. :class:`CAbiUdpSocket` holds the operations of the DUT
contract's ``UdpSocket`` that are the same for any such ABI (``local``, ``sendto``, ``recvfrom``, ``pending``,
``set_ttl``); a subclass supplies ``_call(fn, *args)`` and ``_ok(rc, what)`` and the stack-specific rest
(``bind``, ``set_broadcast``, ``set_dont_fragment``, ``take_error``, ``close``). IPv4 addresses cross the ABI as
host-order ``uint32_t`` (0: none).
"""

from __future__ import annotations

import ipaddress
from typing import Any, Optional

from ._lib import lib
from .errors import ConfigError

#: ``TERN_ERR_WOULD_BLOCK`` (stack/include/tern/errors.h): nothing to return yet.
WOULD_BLOCK = int(lib.TERN_ERR_WOULD_BLOCK)
#: The largest datagram ``recvfrom`` takes back.
DATAGRAM_MAX = 65536


def ipv4_int(ip: str) -> int:
    """``"10.0.0.1"`` as the host-order integer the C ABI takes; a ConfigError names a bad address."""
    try:
        return int(ipaddress.IPv4Address(ip))
    except ValueError as e:
        raise ConfigError(f"not an IPv4 address: {ip!r}") from e


def ipv4_text(v: int) -> Optional[str]:
    """A host-order integer from the C ABI as text; None for 0 (no address)."""
    return str(ipaddress.IPv4Address(v)) if v else None


class CAbiUdpSocket:
    """The ABI-independent part of a plug-in DUT's UDP socket (see the module's docstring).

    Subclasses set ``dut`` (with ``_ffi``, the CFFI object of the ABI) and implement ``_call`` and ``_ok``.
    """

    dut: Any

    def _call(self, fn: str, *args: Any) -> int:  # pragma: no cover - the subclass's
        raise NotImplementedError

    def _ok(self, rc: int, what: str) -> int:  # pragma: no cover - the subclass's
        raise NotImplementedError

    @property
    def local(self) -> tuple[Optional[str], int]:
        """The bound (address, port)."""
        ip, port = self.dut._ffi.new("uint32_t *"), self.dut._ffi.new("uint16_t *")
        self._ok(self._call("local", ip, port), "local")
        return ipv4_text(ip[0]), int(port[0])

    def sendto(self, data: bytes, dest: tuple[str, int]) -> None:
        """Queue a datagram to ``(ip, port)``; it leaves at the node's poll at this instant."""
        ip, port = dest
        self._ok(self._call("sendto", ipv4_int(ip), port, data, len(data)), f"sendto({len(data)} bytes, {dest!r})")

    def recvfrom(self) -> Optional[tuple[bytes, tuple[str, int]]]:
        """The oldest datagram as ``(data, (ip, port))``, or None."""
        ffi = self.dut._ffi
        buf, ip, port = ffi.new("uint8_t[]", DATAGRAM_MAX), ffi.new("uint32_t *"), ffi.new("uint16_t *")
        rc = self._call("recvfrom", buf, DATAGRAM_MAX, ip, port)
        if rc == WOULD_BLOCK:
            return None
        n = self._ok(rc, "recvfrom()")
        return bytes(ffi.buffer(buf, min(n, DATAGRAM_MAX))), (ipv4_text(ip[0]) or "0.0.0.0", int(port[0]))

    @property
    def pending(self) -> int:
        """Datagrams waiting."""
        return self._ok(self._call("pending"), "pending")

    def set_ttl(self, ttl: int) -> None:
        """TTL of the datagrams sent from now on."""
        self._ok(self._call("set_ttl", ttl), f"set_ttl({ttl})")
