"""Shared pieces of the ``slaac`` and ``mld`` scenarios: a Tern host doing IPv6 autoconfiguration
on one link with a scripted peer that plays the router and the querier, and scapy templates of
the messages the host sends.

Constants (RFC 4861 section 10, RFC 4862 section 5.1, RFC 3810 section 9):
MAX_RTR_SOLICITATION_DELAY 1 s, RTR_SOLICITATION_INTERVAL 4 s, MAX_RTR_SOLICITATIONS 3,
RetransTimer 1 s, DupAddrDetectTransmits 1, Robustness Variable 2, Unsolicited Report Interval 1 s.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from scapy.layers.inet6 import (ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6MLReport2, ICMPv6ND_NA, ICMPv6ND_NS,
                                ICMPv6ND_RS, ICMPv6NDOptSrcLLAddr, IPv6, IPv6ExtHdrHopByHop)
from scapy.layers.l2 import Ether

S = 1_000_000_000
MS = 1_000_000
MAX_RTR_SOLICITATION_DELAY = 1 * S
RTR_SOLICITATION_INTERVAL = 4 * S
MAX_RTR_SOLICITATIONS = 3
RETRANS_TIMER = 1 * S
UNSOLICITED_REPORT_INTERVAL = 1 * S
PREFIX = "2001:db8:1::/64"


def T(ns: int) -> str:
    """An exact virtual time (or duration) for the harness: integer nanoseconds as "<n>ns"."""
    return f"{int(ns)}ns"


def eui64_addr(prefix: str, mac: str) -> str:
    """prefix (a /64) + the modified EUI-64 identifier of mac (RFC 4291 appendix A)."""
    m = bytes(int(x, 16) for x in mac.split(":"))
    iid = bytes([m[0] ^ 2]) + m[1:3] + b"\xff\xfe" + m[3:]
    net = ipaddress.IPv6Network(prefix)
    return str(ipaddress.IPv6Address(net.network_address.packed[:8] + iid))


def solicited_node(addr: str) -> str:
    """ff02::1:ffXX:XXXX (RFC 4291 section 2.7.1)."""
    b = ipaddress.IPv6Address(addr).packed
    return str(ipaddress.IPv6Address(bytes.fromhex("ff0200000000000000000001ff") + b[13:]))


def bench(net: Any, peer_ipv6: Any = None, peer_nd: bool = True, **host: Any) -> tuple[Any, Any, Any]:
    """(dut, peer, link): a Tern host ``dut`` (IPv6 autoconfiguration by default: no static
    address) and a scripted peer on one link."""
    from pyharness.linux_dut import LinuxNetwork

    linux = isinstance(net, LinuxNetwork)
    if linux:
        # The kernel of a namespace, coming up as a Linux host does by default (DAD, Router Solicitations,
        # SLAAC, MLDv2) once linked to the peer; Tern host options have no Linux equivalent.
        import pytest

        from pyharness.linux_dut import LinuxDut

        static = host.pop("ipv6", None)
        host.pop("ipv4", None)
        if host:
            pytest.skip(f"Linux DUT: Tern host options {sorted(host)} have no Linux equivalent")
        # With a static address the interface is as quiet as a Tern host without autoconfiguration: up before the
        # peer is linked, its start-up MLD reports read off the TAP device (LinuxDut._quiet()).
        dut = LinuxDut(net, ipv4=None, ipv6=static, autoconf=static is None, up=static is not None)
    else:
        dut = net.host("dut", **host)
    # The peer always has an address so that it answers Neighbor Solicitations as they come (for
    # its link-local address too): the host's NUD of its router then succeeds. Without one given,
    # its link-local address is that address (and so the source of what it sends).
    from pyharness.nd import link_local
    from pyharness.nodes import default_mac, parse_mac

    own = [f"{link_local(parse_mac(default_mac('peer')))}/64"]
    peer = net.peer("peer", ipv6=peer_ipv6 or own, nd=peer_nd)
    link = net.link(dut.tap if linux else dut, peer)
    if linux and static is None:
        dut.up()
    return dut, peer, link


def dad_ns(target: str) -> Any:
    """RFC 4862 section 5.4.2: "the IP source is set to the unspecified address, and the IP
    destination is set to the solicited-node multicast address of the target address"."""
    return IPv6(src="::", dst=solicited_node(target), hlim=255) / ICMPv6ND_NS(tgt=target)


def mld_report(**ip: Any) -> Any:
    """An MLDv2 report (RFC 3810 section 5.2) to ff02::16 with hop limit 1."""
    return IPv6(dst="ff02::16", hlim=1, **ip) / ICMPv6MLReport2()


def rs(src: str) -> Any:
    """A Router Solicitation to all-routers with hop limit 255 (RFC 4861 sections 4.1, 6.3.7)."""
    return IPv6(src=src, dst="ff02::2", hlim=255) / ICMPv6ND_RS()


def echo(dut_addr: str, seq: int = 1, src: Any = None) -> Any:
    """An Echo Request to dut_addr (the peer's link-local address as source unless given)."""
    ip = IPv6(dst=dut_addr) if src is None else IPv6(src=src, dst=dut_addr)
    return ip / ICMPv6EchoRequest(id=0x77, seq=seq, data=b"autoconf")


def echo_reply(src: str, seq: int = 1) -> Any:
    return IPv6(src=src) / ICMPv6EchoReply(id=0x77, seq=seq)


def has_sll(pkt: Any) -> bool:
    return pkt.haslayer(ICMPv6NDOptSrcLLAddr)


def parse_records(raw: bytes) -> list[tuple[int, str, list[str]]]:
    """(record type, group, sources) of the Multicast Address Records in raw (RFC 3810 5.2.4)."""
    off, out = 0, []
    while off + 20 <= len(raw):
        rtype, aux, nsrc = raw[off], raw[off + 1], int.from_bytes(raw[off + 2:off + 4], "big")
        group = str(ipaddress.IPv6Address(raw[off + 4:off + 20]))
        srcs = [str(ipaddress.IPv6Address(raw[off + 20 + 16 * i:off + 36 + 16 * i])) for i in range(nsrc)]
        out.append((rtype, group, srcs))
        off += 20 + 16 * nsrc + 4 * aux
    return out


def records(pkt: Any) -> list[tuple[int, str, list[str]]]:
    """(record type, group, sources) of each record of an MLDv2 report (RFC 3810 section 5.2),
    read from the bytes: scapy's record list keeps only the first record of a multi-record
    report (the others end up in its payload)."""
    raw = bytes(pkt[ICMPv6MLReport2])
    n = int.from_bytes(raw[6:8], "big")
    recs = parse_records(raw[8:])
    assert len(recs) == n, f"report says {n} records, holds {len(recs)}"
    return recs


def has_router_alert(pkt: Any) -> bool:
    """A hop-by-hop header with the Router Alert option, value 0 (MLD) (RFC 2711)."""
    if not pkt.haslayer(IPv6ExtHdrHopByHop):
        return False
    return any(getattr(o, "otype", None) == 5 and getattr(o, "value", None) == 0
               for o in pkt[IPv6ExtHdrHopByHop].options)


def dad_within(dut: Any, tern: str = "1ms") -> str:
    """How soon after the event that forms an address (a unicast RA, an address added) its first DAD probe
    comes: at once on the Tern stack (``tern``); the Linux kernel delays every first probe by a random time
    in [0, rtr_solicit_delay = 1 s] (addrconf_dad_kick()), where RFC 4862 section 5.4.2 asks the random
    delay for the first message after interface initialization and for addresses from multicast RAs and
    leaves the others open."""
    return "1.001s" if getattr(dut, "kind", None) == "linux" else tern


def preferred(net: Any, dut: Any, *addrs: str) -> None:
    """Run until every one of ``addrs`` is assigned (DAD over: "preferred"), formed by an event just before (a
    unicast RA): on the Tern stack exactly RetransTimer after its probe, sent at once; the Linux kernel probes
    after a random 0 to 1 s (:func:`dad_within`) and ends DAD on its timer wheel (``profile.tolerance``). A
    source-address check made earlier sees a tentative address, and RFC 4862 section 5.4: "A tentative address
    is not considered "assigned to an interface" in the traditional sense": another address is then the source,
    whatever the DUT's source address selection."""
    from pyharness.dut import tern_stack

    bound = RETRANS_TIMER
    if not tern_stack(dut):
        bound += MAX_RTR_SOLICITATION_DELAY + dut.profile.tolerance(RETRANS_TIMER)
    done = net.run(until=lambda: all(addr_state(dut, a) == "preferred" for a in addrs), for_=T(bound))
    states = {a: addr_state(dut, a) for a in addrs}
    assert done, f"not all assigned {bound / S:.3f} s after they were formed: {states}"


def profile_of(dut: Any) -> Any:
    """The DUT's profile (:class:`pyharness.dut.DutProfile`): a Tern host of this bench is the Tern profile."""
    from pyharness.dut import TERN_PROFILE

    return getattr(dut, "profile", TERN_PROFILE)


def first_probe(peer: Any, target: str, within: str = "1.1s") -> Any:
    """The DUT's first DAD probe for target."""
    return peer.expect(dad_ns(target), within=within)


def na_for(peer: Any, target: str, dst: str = "ff02::1") -> Any:
    """A Neighbor Advertisement for target from the peer (another owner of the address)."""
    from pyharness.nd import multicast_mac

    pkt = Ether(src=peer.mac) / IPv6(src=peer.link_local, dst=dst, hlim=255) / ICMPv6ND_NA(
        tgt=target, R=0, S=0, O=1)
    if ipaddress.IPv6Address(dst).is_multicast:
        pkt[Ether].dst = ":".join("%02x" % b for b in multicast_mac(dst))
    return pkt




def ready(peer: Any, dut: Any, within: str = "4.1s") -> Any:
    """Wait for the DUT's link-local address to be assigned: its first Router Solicitation (sent
    when DAD of the link-local address ends). Returns that solicitation."""
    ll = eui64_addr("fe80::/64", dut.mac)
    return peer.expect(rs(ll), within=within)


def addr_state(dut: Any, addr: str) -> Any:
    """The state of one of the DUT's IPv6 addresses ("preferred", "tentative", "deprecated"), or
    None when it has no such address."""
    for a, _, st in dut.ipv6_addresses():
        if a == addr:
            return st
    return None


def multicast_echo(src: str, seq: int = 1) -> Any:
    """An Echo Request to all-nodes from ``src``: RFC 4443 section 4.2 has the reply come from "a
    unicast address belonging to the interface", so its source is the DUT's source address choice
    for the destination ``src`` (RFC 6724)."""
    from scapy.layers.inet6 import ICMPv6EchoRequest

    return Ether(dst="33:33:00:00:00:01") / IPv6(src=src, dst="ff02::1") / ICMPv6EchoRequest(
        id=0x66, seq=seq, data=b"which source")
