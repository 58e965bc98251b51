"""Zephyr's DHCPv4-client flow on Arm FVP's user-mode network, in virtual time.

Zephyr documents FVP's network: 172.20.51.0/24, the gateway, DHCP and DNS
server at .254, the guest leasing .1. Here a Tern guest with its DHCP client
plays Zephyr: it gets 172.20.51.1, resolves a name through the gateway's DNS
server, opens TCP and UDP to a virtual Internet host through NAT and pings
the gateway (which FVP itself cannot: "You can use TCP and UDP over IP, but
not ICMP (ping)").
"""

from __future__ import annotations

import pytest

from gwkit import WWW, bound, guest_on, internet

pytestmark = pytest.mark.area("gateway")


@pytest.fixture
def fvp(net):
    gw = net.gateway("gw", profile="fvp")
    guest = guest_on(net, gw, "zephyr")
    hosts = internet(net, gw, ("www", WWW))
    return net, gw, guest, hosts["www"]


@pytest.mark.rfc("2131 4.3.1")
def test_guest_leases_first_address(fvp):
    """The guest's lease: 172.20.51.1/24, router and DNS .254, 86400 s."""
    net, gw, guest, _ = fvp
    lease = bound(net, guest)
    assert lease.address == "172.20.51.1"
    assert lease.subnet_mask == "255.255.255.0"
    assert lease.router == "172.20.51.254"
    assert lease.server_id == "172.20.51.254"
    assert lease.dns == ["172.20.51.254"]
    assert lease.lease_secs == 86400
    rows = gw.leases()
    assert [(r["state"], r["address"], r["mac"], r["hostname"]) for r in rows] == [
        ("bound", "172.20.51.1", guest.mac, "zephyr")]


def test_resolves_name_through_gateway(fvp):
    """The guest resolves a user record and the gateway's own name through the lease's DNS server."""
    net, gw, guest, _ = fvp
    bound(net, guest)
    assert guest.resolve("www.example") == [WWW]
    assert guest.resolve("gateway.tern") == ["172.20.51.254"]
    assert guest.resolve("zephyr.tern") == ["172.20.51.1"]
    assert gw.counters()["dns_local"] == 3


def test_tcp_through_nat(fvp):
    """A TCP connection from the guest reaches the Internet host from the gateway's outside address."""
    net, gw, guest, www = fvp
    bound(net, guest)
    lst = www.tcp_listen(80)
    c = guest.tcp_connect(WWW, 80, local_port=40000)
    assert net.run(until=lambda: c.state == "ESTABLISHED", for_="5s")
    srv = lst.accept()
    assert srv is not None
    c.send(b"GET / HTTP/1.0\r\n\r\n")
    assert net.run(until=lambda: srv.readable, for_="5s")
    assert srv.recv() == b"GET / HTTP/1.0\r\n\r\n"
    info = srv.info()
    assert (info.remote, info.remote_port) == ("198.51.100.2", 40000), "port preserved (RFC 4787 4.2.1)"
    srv.send(b"hello")
    assert net.run(until=lambda: c.readable, for_="5s")
    assert c.recv() == b"hello"
    (m,) = gw.nat_table()
    assert (m.protocol, m.inside, m.inside_port, m.outside, m.outside_port) == (
        "tcp", "172.20.51.1", 40000, "198.51.100.2", 40000)
    assert m.sessions[0].tcp_state == "established"


def test_udp_through_nat(fvp):
    """A UDP datagram out and its answer back through the mapping."""
    net, gw, guest, www = fvp
    bound(net, guest)
    srv = www.udp_socket(port=7)
    u = guest.udp_socket(port=5000)
    u.sendto(b"ping", (WWW, 7))
    assert net.run(until=lambda: srv.pending, for_="5s")
    data, src = srv.recvfrom()
    assert (data, src) == (b"ping", ("198.51.100.2", 5000))
    srv.sendto(b"pong", src)
    assert net.run(until=lambda: u.pending, for_="5s")
    assert u.recvfrom() == (b"pong", (WWW, 7))


def test_ping_gateway(fvp):
    """ICMP echo to the gateway's address is answered (FVP answers none)."""
    net, gw, guest, _ = fvp
    bound(net, guest)
    p = guest.ping_socket(ident=9)
    t0 = net.now_ns
    p.send("172.20.51.254", seq=1)
    replies = []
    assert net.run(until=lambda: replies.append(p.recv()) or replies[-1] is not None, for_="1s")
    r = replies[-1]
    assert (r.src, r.seq, r.len) == ("172.20.51.254", 1, 56)
    assert r.time_ns == t0, "a link without delay: the reply at the same instant"


def test_fvp_flow_golden(net, golden):
    """Golden traces of the whole flow, inside and outside: DHCP (DISCOVER/OFFER/REQUEST/ACK, the RFC 5227 probes and
    announcements), DNS, TCP through NAT, UDP through NAT, ping of the gateway."""
    gw = net.gateway("gw", profile="fvp")
    guest = net.host("zephyr", dhcp={"hostname": "zephyr"})
    inside = net.link(gw, guest, delay="1ms")
    www = net.host("www", ipv4=f"{WWW}/24")
    outside = net.link(gw, www, delay="5ms")
    inside.capture()
    outside.capture()
    gw.dns_add("www.example", WWW)
    bound(net, guest)
    assert guest.resolve("www.example") == [WWW]
    lst = www.tcp_listen(80)
    c = guest.tcp_connect(WWW, 80, local_port=40000)
    assert net.run(until=lambda: lst.accept_pending, for_="2s")
    srv = lst.accept()
    c.send(b"GET / HTTP/1.0\r\n\r\n")
    assert net.run(until=lambda: srv.readable, for_="2s")
    srv.recv()
    srv.send(b"HTTP/1.0 200 OK\r\n\r\nhello")
    srv.close()
    assert net.run(until=lambda: c.readable, for_="2s")
    assert c.recv() == b"HTTP/1.0 200 OK\r\n\r\nhello"
    c.close()
    u = guest.udp_socket(port=5000)
    echo = www.udp_socket(port=7)
    u.sendto(b"ping", (WWW, 7))
    assert net.run(until=lambda: echo.pending, for_="1s")
    data, src = echo.recvfrom()
    echo.sendto(data, src)
    assert net.run(until=lambda: u.pending, for_="1s")
    p = guest.ping_socket(ident=1)
    p.send("172.20.51.254", seq=1)
    net.run(for_="1s")
    golden.check(inside, name="inside")
    golden.check(outside, name="outside")
