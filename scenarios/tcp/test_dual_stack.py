"""Dual stack: one listening socket for IPv4 and IPv6 clients, and IPv4-mapped addresses (issue 12).

The Tern stack's choice (stack.h, "Families"): a listener bound to no address, or to the IPv6
unspecified address ::, takes connections of both families, as a BSD socket with IPV6_V6ONLY off
(RFC 3493 §5.3: the IPV6_V6ONLY option is off by default, and an AF_INET6 socket then serves IPv4 too); one bound to 0.0.0.0 takes
IPv4 only; a port has one owner, so separate IPv4 and IPv6 listeners on one port are refused. The
addresses the stack reports are in their own family: an IPv4 client is 10.0.0.2, never ::ffff:10.0.0.2.
An IPv4-mapped address given to connect (RFC 4291 §2.5.5.2: "This address type is used to represent
the addresses of IPv4 nodes as IPv6 addresses") reaches the IPv4 node over IPv4.

These scenarios use both families at once, so they are not run once per family (``both_families``).
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from pyharness.errors import TernError
from tcpkit import CLIENT_PORT, PEER_PORT, SERVER_PORT, drain, ip, ip_of

pytestmark = [pytest.mark.area("tcp"),
              pytest.mark.both_families("each scenario has an IPv4 and an IPv6 client at once"),
              pytest.mark.dut("tern", reason="the dual-stack choice is the Tern stack's (Linux: net.ipv6.bindv6only)")]

V4, V6 = ("10.0.0.1", "10.0.0.2"), ("fd00::1", "fd00::2")


@pytest.fixture
def dual(net):
    """The DUT with 10.0.0.1/24 and fd00::1/64, the peer with 10.0.0.2/24 and fd00::2/64."""
    from pyharness.dut import make_tern_dut

    return make_tern_dut(net, family="ipv6")


def connect_and_talk(dut, peer, listener, server_ip, local_port, text):
    """A client of the family of ``server_ip`` connects to the listener's port and sends ``text``; the accepted
    socket (returned) reads it and reports the client's address and port in that family."""
    conn = peer.tcp(server_ip, SERVER_PORT, local_port=local_port)
    synack = conn.connect(within="10ms")
    assert ip_of(synack).src == server_ip
    dut.net.run(for_="1ms")
    sock = listener.accept()
    assert sock is not None, f"no connection accepted from the {server_ip} client"
    conn.send(flags="PA", payload=text)
    dut.net.run(for_="1ms")
    assert drain(sock) == text
    return conn, sock


@pytest.mark.rfc("3493 5.3", "9293 3.9.1.1")
@pytest.mark.parametrize("bind", [None, "::"], ids=["no_address", "unspecified6"])
def test_one_listener_serves_ipv4_and_ipv6_clients(dual, bind):
    """A listener bound to no address (or to ::) accepts an IPv4 and an IPv6 client on one port; each connection
    answers from the address it was reached at and reports its peer in its own family."""
    dut, peer, _ = dual
    listener = dut.tcp_listen(SERVER_PORT, addr=bind)
    c4, s4 = connect_and_talk(dut, peer, listener, V4[0], CLIENT_PORT, b"over ipv4")
    c6, s6 = connect_and_talk(dut, peer, listener, V6[0], CLIENT_PORT + 1, b"over ipv6")
    assert (s4.info().remote, s4.info().remote_port) == (V4[1], CLIENT_PORT)
    assert (s6.info().remote, s6.info().remote_port) == (V6[1], CLIENT_PORT + 1)
    assert (s4.info().local, s6.info().local) == (V4[0], V6[0])
    s4.send(b"back4")
    c4.expect(flags="PA", payload=b"back4", within="10ms")
    s6.send(b"back6")
    back = c6.expect(flags="PA", payload=b"back6", within="10ms")
    assert ip_of(back).src == V6[0]


@pytest.mark.rfc("3493 5.3", "9293 3.10.7.1")
def test_listener_on_ipv4_any_takes_ipv4_only(dual):
    """Bound to 0.0.0.0 the listener is IPv4's: an IPv6 SYN to its port finds no listener and gets a RST (RFC 9293
    §3.10.7.1, CLOSED); the control: an IPv4 client connects."""
    dut, peer, _ = dual
    listener = dut.tcp_listen(SERVER_PORT, addr="0.0.0.0")
    c6 = peer.tcp(V6[0], SERVER_PORT, local_port=CLIENT_PORT + 1, isn=5000)
    c6.send(flags="S")
    c6.expect(flags="RA", ack=5001, within="10ms")
    dut.net.run(for_="1ms")
    assert listener.accept() is None
    connect_and_talk(dut, peer, listener, V4[0], CLIENT_PORT, b"ipv4 still")


@pytest.mark.rfc("3493 5.3", "9293 3.10.7.1")
def test_listener_on_an_ipv6_address_takes_that_address_only(dual):
    """Bound to fd00::1 the listener takes connections to that address; a SYN to 10.0.0.1 on the same port gets a
    RST; the control: the IPv6 client connects."""
    dut, peer, _ = dual
    listener = dut.tcp_listen(SERVER_PORT, addr=V6[0])
    c4 = peer.tcp(V4[0], SERVER_PORT, local_port=CLIENT_PORT, isn=5000)
    c4.send(flags="S")
    c4.expect(flags="RA", ack=5001, within="10ms")
    connect_and_talk(dut, peer, listener, V6[0], CLIENT_PORT + 1, b"ipv6 only")


@pytest.mark.rfc("3493 5.3")
def test_separate_ipv4_and_ipv6_listeners_on_one_port_are_refused(dual):
    """A port has one owner: with a listener on 0.0.0.0:80, a second one on [::]:80 fails (address in use) and the
    first one keeps serving (the dual-stack listener is the way to serve both families on one port)."""
    dut, peer, _ = dual
    listener = dut.tcp_listen(SERVER_PORT, addr="0.0.0.0")
    with pytest.raises(TernError) as failed:
        dut.tcp_listen(SERVER_PORT, addr="::")
    assert failed.value.error_name == "ADDR_IN_USE"
    connect_and_talk(dut, peer, listener, V4[0], CLIENT_PORT, b"first listener")


@pytest.mark.rfc("4291 2.5.5.2")
def test_connect_to_an_ipv4_mapped_address_goes_over_ipv4(dual):
    """connect(::ffff:10.0.0.2) reaches the IPv4 node over IPv4: the SYN is an IPv4 packet from 10.0.0.1, and the
    socket reports the peer as 10.0.0.2; the control: connect(fd00::2) sends an IPv6 SYN."""
    dut, peer, _ = dual
    sock = dut.tcp_connect("::ffff:10.0.0.2", PEER_PORT, local_port=45000)
    syn = peer.expect(TCP(flags="S", dport=PEER_PORT, sport=45000), within="10ms")
    assert type(ip_of(syn)).__name__ == "IP" and ip_of(syn).src == V4[0] and ip_of(syn).dst == V4[1]
    assert sock.info().remote == V4[1]
    dut.tcp_connect(V6[1], PEER_PORT, local_port=45001)
    syn6 = peer.expect(ip("ipv6", src=V6[0], dst=V6[1]) / TCP(flags="S", dport=PEER_PORT, sport=45001),
                       within="10ms")
    assert ip_of(syn6).src == V6[0]


@pytest.mark.rfc("3493 5.3")
def test_socket_bound_to_an_ipv4_address_cannot_connect_to_ipv6(dual):
    """A socket bound to 10.0.0.1 cannot reach fd00::2 (its source would be of the other family): refused with a
    message, nothing sent; the control: the same bind then connect to 10.0.0.2 sends its SYN."""
    dut, peer, _ = dual
    s = dut.tcp_socket()
    s.bind(45002, V4[0])
    with pytest.raises(TernError, match="other family"):
        s.connect(V6[1], PEER_PORT)
    peer.expect_nothing(for_="100ms", matching=TCP())
    s2 = dut.tcp_socket()
    s2.bind(45003, V4[0])
    s2.connect(V4[1], PEER_PORT)
    peer.expect(ip("ipv4", src=V4[0]) / TCP(flags="S", sport=45003), within="10ms")
