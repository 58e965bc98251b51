"""Shared bench of the IPv6 areas (scenarios/ipv6, icmpv6, nd): a Tern host with a static IPv6
address and a scripted peer on one link, plus frame builders.

The DUT is ``fd00::1/64`` (and its link-local address from its MAC), the peer ``fd00::2/64``
answering neighbour solicitations for its addresses (``nd6=False`` in ``bench6`` for a silent
one). Links have no delay: times are exact.
"""

from __future__ import annotations

from typing import Any

import pytest
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

DUT6 = "fd00::1"
PEER6 = "fd00::2"
OTHER6 = "fd00::5"  #: an on-link address nobody answers for
ALL_NODES = "ff02::1"


def at(t_ns: int) -> str:
    """An ``at=`` value for an absolute virtual time in nanoseconds."""
    return f"{t_ns}ns"


def ns(seconds: float) -> int:
    """Seconds as integer nanoseconds."""
    return round(seconds * 1_000_000_000)


def linux_bench(net: Any) -> bool:
    """Whether ``net`` is the Linux DUT's real-time network (``--dut linux``)."""
    from pyharness.linux_dut import LinuxNetwork

    return isinstance(net, LinuxNetwork)


def bench6(net: Any, nd: bool = True, **host_options: Any) -> tuple[Any, Any, Any]:
    """(dut, peer, link): the DUT fd00::1/64 and the peer fd00::2/64 (answering ND unless nd=False).

    Under ``--dut linux`` the DUT is the kernel of a namespace with the same addresses and MAC
    (:class:`pyharness.linux_dut.LinuxDut`, quiet like a Tern host with static addresses); Tern host options
    (``host_options``) have no Linux equivalent, and a scenario that sets them is skipped there (mark it
    ``dut("tern", reason=...)``)."""
    if linux_bench(net):
        from pyharness.linux_dut import LinuxDut

        if host_options:
            pytest.skip(f"Linux DUT: Tern host options {sorted(host_options)} have no Linux equivalent")
        dut = LinuxDut(net, ipv6=f"{DUT6}/64")
        peer = net.peer("peer", ipv4="10.0.0.2/24", ipv6=f"{PEER6}/64", nd=nd)
        return dut, peer, net.link(dut.tap, peer)
    dut = net.host("dut", ipv4="10.0.0.1/24", ipv6=f"{DUT6}/64", **host_options)
    peer = net.peer("peer", ipv4="10.0.0.2/24", ipv6=f"{PEER6}/64", nd=nd)
    link = net.link(dut, peer)
    return dut, peer, link


@pytest.fixture
def v6(net: Any) -> tuple[Any, Any, Any]:
    """The standard IPv6 bench (see :func:`bench6`)."""
    return bench6(net)


@pytest.fixture
def dut(v6: tuple[Any, Any, Any]) -> Any:
    """The Tern host at fd00::1/64."""
    return v6[0]


@pytest.fixture
def peer(v6: tuple[Any, Any, Any]) -> Any:
    """The scripted peer at fd00::2/64."""
    return v6[1]


def to_dut(dut: Any, peer: Any, l3: Any, src: str = PEER6, dst: str = DUT6) -> Any:
    """An Ethernet frame from the peer to the DUT's MAC carrying ``l3`` (an IPv6 packet or what goes
    on top of a plain IPv6 header from ``src`` to ``dst``)."""
    pkt = l3 if isinstance(l3, IPv6) else IPv6(src=src, dst=dst) / l3
    return Ether(src=peer.mac, dst=dut.mac) / pkt


def exchange_nd(dut: Any, peer: Any) -> None:
    """Let the DUT learn the peer (an NS with the peer's link-layer address makes a STALE entry)."""
    from scapy.layers.inet6 import ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr

    peer.send(Ether(src=peer.mac, dst=dut.mac) / IPv6(src=PEER6, dst=DUT6, hlim=255) /
              ICMPv6ND_NS(tgt=DUT6) / ICMPv6NDOptSrcLLAddr(lladdr=peer.mac))
    from scapy.layers.inet6 import ICMPv6ND_NA

    peer.expect(ICMPv6ND_NA(tgt=DUT6), within="1ms")


__all__ = ["linux_bench", "DUT6", "PEER6", "OTHER6", "ALL_NODES", "at", "ns", "bench6", "v6", "dut", "peer", "to_dut",
           "exchange_nd"]
