"""Shared set-ups of the gateway scenarios.

The sealed Internet is the gateway's outside segment 198.51.100.0/24 (RFC 5737
TEST-NET-2): the gateway at .2, virtual Internet hosts (Tern stacks) at other
addresses, on one switch. Guests are Tern hosts on the inside segment.
"""

from __future__ import annotations

from typing import Any

S = 1_000_000_000
WWW = "198.51.100.80"
WWW2 = "198.51.100.81"


def internet(net: Any, gw: Any, *hosts: tuple[str, str], records: bool = True) -> dict[str, Any]:
    """Virtual Internet hosts ``(name, ip)`` on a switch behind the gateway's outside port."""
    sw = net.switch("internet", ports=len(hosts) + 2)
    net.link(gw, sw, port_a=gw.outside_port)
    out = {}
    for name, ip in hosts:
        h = net.host(name, ipv4=f"{ip}/24")
        net.link(h, sw)
        out[name] = h
        if records:
            gw.dns_add(f"{name}.example", ip)
    return out


def guest_on(net: Any, gw: Any, name: str = "guest", **kw: Any) -> Any:
    """A Tern guest with the DHCP client, on the gateway's inside segment."""
    g = net.host(name, dhcp=kw.pop("dhcp", {"hostname": name}), **kw)
    net.link(gw, g, port_a=gw.inside_port)
    return g


def bound(net: Any, guest: Any, within: str = "30s") -> Any:
    """Run until the guest's DHCP client is BOUND; return its lease."""
    assert net.run(until=lambda: guest.dhcp_lease().state == "BOUND", for_=within), guest.dhcp_lease()
    return guest.dhcp_lease()


def echo_server(net: Any, host: Any, port: int) -> Any:
    """A UDP socket on ``host`` that the test drains and answers by hand."""
    return host.udp_socket(port=port)
