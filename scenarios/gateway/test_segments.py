"""A gateway with several inside segments routes between them without NAT, and
NATs each of them to the outside; runs are the same byte for byte per seed.
"""

from __future__ import annotations

import pytest

from gwkit import WWW

pytestmark = pytest.mark.area("gateway")


def build(net):
    gw = net.gateway("gw", profile="fvp", dhcp=False, segments=["10.1.0.1/24"])
    a = net.host("a", ipv4="172.20.51.1/24", gateway="172.20.51.254")
    b = net.host("b", ipv4="10.1.0.5/24", gateway="10.1.0.1")
    www = net.host("www", ipv4=f"{WWW}/24")
    net.link(gw, a)      # port 0: inside
    net.link(gw, www)    # port 1: outside
    net.link(gw, b)      # port 2: the second inside segment
    return gw, a, b, www


@pytest.mark.rfc("1812 5.3.1")
def test_routes_between_inside_segments_without_nat(net):
    """a (172.20.51.1) to b (10.1.0.5): b sees a's own address, TTL one less; the NAT table stays empty."""
    gw, a, b, _ = build(net)
    rx = b.udp_socket(port=9)
    a.udp_socket(port=1000).sendto(b"hi", ("10.1.0.5", 9))
    assert net.run(until=lambda: rx.pending, for_="1s")
    assert rx.recvfrom() == (b"hi", ("172.20.51.1", 1000))
    assert gw.nat_table() == []
    assert gw.stack_counters().ip_forwarded == 1


def test_each_segment_natted(net):
    """Both segments reach the Internet host from the one outside address."""
    gw, a, b, www = build(net)
    rx = www.udp_socket(port=7)
    a.udp_socket(port=1111).sendto(b"a", (WWW, 7))
    b.udp_socket(port=2222).sendto(b"b", (WWW, 7))
    assert net.run(until=lambda: rx.pending == 2, for_="1s")
    got = sorted([rx.recvfrom(), rx.recvfrom()])
    assert got == [(b"a", ("198.51.100.2", 1111)), (b"b", ("198.51.100.2", 2222))]
    assert sorted(m.inside for m in gw.nat_table()) == ["10.1.0.5", "172.20.51.1"]


def test_same_seed_same_bytes(tmp_path):
    """Two runs of the FVP flow with one seed write identical pcaps (DESIGN.md section 6)."""
    from pyharness import Network

    def run(d):
        net = Network(seed=11, artifacts=d)
        gw = net.gateway("gw", profile="fvp")
        g = net.host("zephyr", dhcp={"hostname": "zephyr"})
        link = net.link(gw, g)
        path = link.capture()
        www = net.host("www", ipv4=f"{WWW}/24")
        net.link(gw, www)
        gw.dns_add("www.example", WWW)
        net.run(until=lambda: g.dhcp_lease().state == "BOUND", for_="30s")
        g.resolve("www.example")
        lst = www.tcp_listen(80)
        c = g.tcp_connect(WWW, 80)
        net.run(until=lambda: c.state == "ESTABLISHED", for_="2s")
        c.send(b"x" * 5000)
        net.run(for_="1s")
        del lst
        net.flush_captures()
        data = path.read_bytes()
        net.close()
        return data

    first, second = run(tmp_path / "1"), run(tmp_path / "2")
    assert len(first) > 5000
    assert first == second
