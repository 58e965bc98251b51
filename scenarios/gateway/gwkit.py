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


def nat_bench(net: Any, guests: int = 1, **gw_options: Any) -> tuple[Any, list[Any], Any]:
    """(gateway, static guests .1, .2 ..., a scripted Internet peer at WWW on the outside port)."""
    gw = net.gateway("gw", profile="fvp", dhcp=False, **gw_options)
    sw = net.switch("lan", ports=guests + 1)
    net.link(gw, sw, port_a=gw.inside_port)
    hosts = []
    for i in range(guests):
        h = net.host(f"g{i + 1}", ipv4=f"172.20.51.{i + 1}/24", gateway="172.20.51.254")
        net.link(h, sw)
        hosts.append(h)
    www = net.peer("www", ipv4=f"{WWW}/24")
    net.link(gw, www, port_a=gw.outside_port)
    return gw, hosts, www


def udp_out(net: Any, host: Any, sport: int, dst: str = WWW, dport: int = 7, data: bytes = b"x") -> Any:
    """Send one datagram from ``host``:``sport`` and run until it is out (no delay links)."""
    s = host.udp_socket(port=sport)
    s.sendto(data, (dst, dport))
    return s
