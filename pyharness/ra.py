"""Router Advertisements and MLD queries a scripted peer sends (RFC 4861 section 4.2, RFC 3810
section 5.1), built with scapy: the peer plays the router or the multicast querier of a test.

``Peer.router_advertisement(...)`` and ``Peer.mld_query(...)`` use these; they are here so that a
test can also build the packet, change a field and send it itself.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Iterable, Optional, Union

from .errors import ConfigError
from .units import parse_time

#: RFC 4861 section 6.2.1 defaults: AdvValidLifetime 30 days, AdvPreferredLifetime 7 days.
ADV_VALID_LIFETIME = 2592000
ADV_PREFERRED_LIFETIME = 604800
#: A lifetime of all ones: infinity (RFC 4861 section 4.6.2).
INFINITY = 0xFFFFFFFF

PrefixSpec = Union[str, dict]


def _seconds(value: Any, name: str, maximum: int) -> int:
    """A lifetime in whole seconds: an int, "infinity", or a time string ("30s", "2h")."""
    if value == "infinity":
        return INFINITY
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    else:
        ns = parse_time(value, name)
        if ns % 1_000_000_000:
            raise ConfigError(f"{name} must be whole seconds, got {value!r}")
        n = ns // 1_000_000_000
    if not 0 <= n <= maximum:
        raise ConfigError(f"{name} must be 0..{maximum} seconds, got {value!r}")
    return n


def prefix_option(spec: PrefixSpec) -> Any:
    """A Prefix Information option (RFC 4861 section 4.6.2) from ``"2001:db8:1::/64"`` or a dict with
    ``prefix`` and optional ``valid`` / ``preferred`` (seconds, a time string, or "infinity";
    defaults 30 days / 7 days), ``on_link`` (L, default True), ``autonomous`` (A, default True)."""
    from scapy.layers.inet6 import ICMPv6NDOptPrefixInfo

    d = {"prefix": spec} if isinstance(spec, str) else dict(spec)
    unknown = set(d) - {"prefix", "valid", "preferred", "on_link", "autonomous"}
    if unknown:
        raise ConfigError(f"prefix option: unknown key {sorted(unknown)[0]!r}; known: prefix, valid, preferred, "
                          "on_link, autonomous")
    try:
        net = ipaddress.IPv6Network(d["prefix"], strict=False)
    except (KeyError, ValueError, TypeError):
        raise ConfigError(f"prefix option: not an IPv6 prefix like '2001:db8:1::/64': {d.get('prefix')!r}") from None
    valid = _seconds(d.get("valid", ADV_VALID_LIFETIME), "valid", INFINITY)
    preferred = _seconds(d.get("preferred", ADV_PREFERRED_LIFETIME), "preferred", INFINITY)
    return ICMPv6NDOptPrefixInfo(prefixlen=net.prefixlen, prefix=str(net.network_address),
                                 L=int(bool(d.get("on_link", True))), A=int(bool(d.get("autonomous", True))),
                                 validlifetime=valid, preferredlifetime=preferred)


def router_advertisement(src: str, src_mac: str, dst: str = "ff02::1", prefixes: Iterable[PrefixSpec] = (),
                         router_lifetime: Any = 1800, hop_limit: int = 64, reachable_time: Any = 0,
                         retrans_timer: Any = 0, mtu: Optional[int] = None, managed: bool = False,
                         other: bool = False, sll: bool = True, ip_hop_limit: int = 255) -> Any:
    """An IPv6 Router Advertisement (no Ethernet header) from ``src``.

    ``router_lifetime`` in seconds (0..9000, RFC 4861 section 6.2.1's MaxRtrAdvInterval bound is
    the sender's business: any 16-bit value may be given); ``reachable_time`` and ``retrans_timer``
    in milliseconds as ints or as time strings ("30s"); ``hop_limit`` the Cur Hop Limit; ``mtu`` an
    MTU option; ``sll`` a Source Link-Layer Address option with ``src_mac``; ``ip_hop_limit`` the
    IPv6 Hop Limit (255 for a valid RA, RFC 4861 section 6.1.2).
    """
    from scapy.layers.inet6 import IPv6, ICMPv6ND_RA, ICMPv6NDOptMTU, ICMPv6NDOptSrcLLAddr

    def ms(value: Any, name: str) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            n = value
        else:
            ns = parse_time(value, name)
            if ns % 1_000_000:
                raise ConfigError(f"{name} must be whole milliseconds, got {value!r}")
            n = ns // 1_000_000
        if not 0 <= n <= 0xFFFFFFFF:
            raise ConfigError(f"{name} must fit 32 bits of milliseconds, got {value!r}")
        return n

    lifetime = _seconds(router_lifetime, "router_lifetime", 0xFFFF)
    if not 0 <= hop_limit <= 255:
        raise ConfigError(f"hop_limit must be 0..255, got {hop_limit!r}")
    pkt = IPv6(src=src, dst=dst, hlim=ip_hop_limit) / ICMPv6ND_RA(
        chlim=hop_limit, M=int(managed), O=int(other), routerlifetime=lifetime,
        reachabletime=ms(reachable_time, "reachable_time"), retranstimer=ms(retrans_timer, "retrans_timer"))
    if sll:
        pkt = pkt / ICMPv6NDOptSrcLLAddr(lladdr=src_mac)
    if mtu is not None:
        pkt = pkt / ICMPv6NDOptMTU(mtu=int(mtu))
    for p in prefixes:
        pkt = pkt / prefix_option(p)
    return pkt


def mld_query(src: str, group: Optional[str] = None, max_response: Any = "10s", sources: Iterable[str] = (),
              version: int = 2, qrv: int = 2, qqic: int = 125, s_flag: bool = False, dst: Optional[str] = None,
              router_alert: bool = True, hop_limit: int = 1) -> Any:
    """An MLD query (RFC 3810 section 5.1; ``version=1``: the 24-byte MLDv1 query of RFC 2710).

    ``group`` None: a General Query to ff02::1; else a Multicast Address Specific Query (with
    ``sources``: Multicast Address and Source Specific) sent to the group. ``max_response`` is the
    Maximum Response Delay (a time; below 32.768 s it is coded exactly in milliseconds).
    """
    from scapy.layers.inet6 import IPv6, ICMPv6MLQuery, ICMPv6MLQuery2, IPv6ExtHdrHopByHop, RouterAlert

    ns = parse_time(max_response, "max_response")
    if ns % 1_000_000 or ns // 1_000_000 > 32767:
        raise ConfigError(f"max_response must be whole milliseconds up to 32767, got {max_response!r}")
    mrd = ns // 1_000_000
    grp = group or "::"
    to = dst or (group if group else "ff02::1")
    ip = IPv6(src=src, dst=to, hlim=hop_limit)
    if router_alert:
        ip = ip / IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)])
    if version == 1:
        if sources:
            raise ConfigError("an MLDv1 query has no sources")
        return ip / ICMPv6MLQuery(mrd=mrd, mladdr=grp)
    if version != 2:
        raise ConfigError(f"version must be 1 or 2, got {version!r}")
    return ip / ICMPv6MLQuery2(mrd=mrd, mladdr=grp, QRV=qrv, QQIC=qqic, S=int(s_flag), sources=list(sources))


__all__ = ["router_advertisement", "prefix_option", "mld_query", "ADV_VALID_LIFETIME", "ADV_PREFERRED_LIFETIME",
           "INFINITY"]
