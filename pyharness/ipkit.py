"""Family-aware packet helpers for scenarios that run over IPv4 and IPv6 (issue 12).

A scenario of the TCP and UDP areas runs once per family (the ``family`` parameter, "ipv4" or
"ipv6"). Where it builds or inspects the IP layer itself, it goes through these helpers instead of
naming scapy's ``IP`` or ``IPv6``:

- :func:`ip` — the IP layer of the family, written with IPv4's field names (``ttl``, ``proto``,
  ``tos``) which map to IPv6's (``hlim``, ``nh``, ``tc``); an IPv4-only field (``id``, ``flags``,
  ``frag``, ``options``, ``ihl``) over IPv6 is an error naming it;
- :func:`ip_of` — the IP layer of a received frame, either family;
- :func:`ttl_of` — its TTL or Hop Limit;
- :func:`port_unreachable` — the template of the family's "port unreachable" (ICMP 3/3, ICMPv6 1/4);
- :func:`l4_checksum` — the UDP or TCP checksum scapy computes for a datagram, to compare with the
  one the DUT sent;
- :func:`addr`, :func:`host_ifaces` — bench addresses (10.0.0.n/24 and fd00::n/64).
"""

from __future__ import annotations

from typing import Any

from .dut import FAMILIES

__all__ = ["FAMILIES", "ip", "ip_cls", "ip_of", "ttl_of", "port_unreachable", "l4_checksum", "tcp_overhead", "default_mss", "addr", "host_ifaces",
           "IPV4_ONLY_FIELDS"]

#: IPv4 header fields that have no IPv6 counterpart (RFC 8200 §3: fragmentation moved to an extension header,
#: options to extension headers, the header length is fixed).
IPV4_ONLY_FIELDS = ("id", "flags", "frag", "options", "ihl", "chksum")
_RENAMED = {"ttl": "hlim", "proto": "nh", "tos": "tc", "len": "plen"}


def _check(family: str) -> None:
    if family not in FAMILIES:
        raise ValueError(f"family: {family!r} is not one of {', '.join(FAMILIES)}")


def ip_cls(family: str) -> Any:
    """scapy's ``IP`` or ``IPv6`` class for ``family``."""
    _check(family)
    if family == "ipv4":
        from scapy.layers.inet import IP

        return IP
    from scapy.layers.inet6 import IPv6

    return IPv6


def ip(family: str, **fields: Any) -> Any:
    """The IP layer of ``family`` with ``fields`` given by their IPv4 names (``ttl`` is the Hop Limit over IPv6,
    ``proto`` the Next Header, ``tos`` the Traffic Class). Over IPv6 an IPv4-only field is a ValueError."""
    cls = ip_cls(family)
    if family == "ipv4":
        return cls(**fields)
    bad = sorted(k for k in fields if k in IPV4_ONLY_FIELDS)
    if bad:
        raise ValueError(f"ip(family='ipv6'): {', '.join(bad)} exist only in IPv4 headers")
    return cls(**{_RENAMED.get(k, k): v for k, v in fields.items()})


def ip_of(pkt: Any) -> Any:
    """The IPv4 or IPv6 layer of a frame, or None (an ICMP error's quote is scapy's IPerror/IPerror6: not this)."""
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6

    for layer in (IP, IPv6):
        if pkt.haslayer(layer):
            return pkt.getlayer(layer)
    return None


def ttl_of(pkt: Any) -> int:
    """The TTL (IPv4) or Hop Limit (IPv6) of a frame."""
    layer = ip_of(pkt)
    if layer is None:
        raise ValueError("ttl_of: the frame has no IP layer")
    return int(layer.ttl if type(layer).__name__ == "IP" else layer.hlim)


def port_unreachable(family: str) -> Any:
    """The family's port unreachable as an expectation template: ICMP type 3 code 3 (RFC 792), ICMPv6 type 1 code 4
    (RFC 4443 §3.1)."""
    _check(family)
    if family == "ipv4":
        from scapy.layers.inet import ICMP

        return ICMP(type=3, code=3)
    from scapy.layers.inet6 import ICMPv6DestUnreach

    return ICMPv6DestUnreach(code=4)


def l4_checksum(pkt: Any, l4: Any) -> int:
    """The checksum scapy computes for the ``l4`` layer (scapy's UDP or TCP class) of ``pkt`` as it was received
    (its IP layer rebuilt from the bytes with that checksum cleared): compare it with ``pkt[l4].chksum``."""
    layer = ip_of(pkt)
    cls = type(layer)
    raw = bytes(layer)
    if cls.__name__ == "IP":
        raw = raw[: layer.len]
    else:
        raw = raw[: 40 + layer.plen]
    clone = cls(raw)
    clone[l4].chksum = None
    return int(cls(bytes(clone))[l4].chksum)


def tcp_overhead(family: str) -> int:
    """Bytes of the fixed IP and TCP headers: 40 over IPv4, 60 over IPv6, what TCP's MSS leaves of the MTU (RFC 9293
    §3.7.1, RFC 8200 §8.3)."""
    _check(family)
    return 40 if family == "ipv4" else 60


def default_mss(family: str) -> int:
    """The send MSS a TCP assumes without the peer's MSS option: 536 over IPv4, 1220 over IPv6 (RFC 9293 §3.7.1
    MUST-15)."""
    _check(family)
    return 536 if family == "ipv4" else 1220


def addr(family: str, n: int) -> str:
    """Bench address number ``n`` of ``family``: 10.0.0.n, or fd00::n (hexadecimal) over IPv6."""
    _check(family)
    return f"10.0.0.{n}" if family == "ipv4" else f"fd00::{n:x}"


def host_ifaces(family: str, n: int) -> dict:
    """``net.host``/``net.peer`` address keywords for bench host ``n``: its IPv4 address always (10.0.0.n/24),
    and over IPv6 its IPv6 one too (fd00::n/64)."""
    out = {"ipv4": f"10.0.0.{n}/24"}
    if family == "ipv6":
        out["ipv6"] = f"fd00::{n:x}/64"
    elif family != "ipv4":
        _check(family)
    return out
