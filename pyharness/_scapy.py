"""Lazy access to the few scapy names pyharness needs.

Importing scapy costs a noticeable fraction of a second, so nothing imports it
until a frame is actually sent or received.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=None)
def scapy() -> Any:
    """The scapy names pyharness uses, as a namespace (Ether, Packet, ...)."""
    import types

    from scapy.layers import inet, l2  # noqa: F401  (registers IPv4/ARP bindings under Ether)
    from scapy.packet import Packet

    from scapy.layers import inet6

    return types.SimpleNamespace(Ether=l2.Ether, Packet=Packet, IP=inet.IP, TCP=inet.TCP, UDP=inet.UDP, ICMP=inet.ICMP,
                                 ARP=l2.ARP, IPv6=inet6.IPv6)
