"""Resource exhaustion (issue 21): a host keeps serving whatever one misbehaving or merely busy peer sends.

- TIME-WAIT does not hold a socket: 10,000 short connections that the server closes first are all served
  by a server with 16 sockets (RFC 9293 §3.6.1: a SYN may reopen a 4-tuple in TIME-WAIT; the compact
  TIME-WAIT table recycles its oldest entry when full).
- With no socket free, a SYN gets a RST at once (never silence that outlives the cause), and the next SYN
  after a socket is freed is served.

Both ends are Tern hosts in the 10,000-connection scenarios (the client side is not under test); every count
is exact.
"""

from __future__ import annotations

import pytest
from tcpkit import CLIENT_PORT, SERVER_PORT

pytestmark = [pytest.mark.area("tcp"),
              pytest.mark.dut("tern", reason="two Tern hosts, and the Tern stack's resource counters")]

N = 10_000


def serve_short_connections(net, n, client_port, tcp_timewait):
    """``n`` connections in a row from a Tern client to a 16-socket Tern server; the server sends one line and
    closes first (it keeps TIME-WAIT). ``client_port(i)`` is the client's port for connection i. Returns the
    server host and how many connections were served byte-exact."""
    srv = net.host("srv", ipv4="10.0.0.1/24", tcp_sockets=16, tcp_timewait=tcp_timewait,
                   tcp={"timestamps": False})
    cli = net.host("cli", ipv4="10.0.0.2/24", tcp_sockets=16, tcp={"timestamps": False})
    net.link(srv, cli, delay="100us")
    listener = srv.tcp_listen(SERVER_PORT, backlog=8)
    served = 0
    for i in range(n):
        c = cli.tcp_connect("10.0.0.1", SERVER_PORT, local_port=client_port(i))
        assert net.run(until=lambda: listener.accept_pending > 0, for_="3s"), f"connection {i}: not accepted"
        s = listener.accept()
        line = b"connection %d\n" % i
        s.send(line)
        s.close()
        got = bytearray()

        def at_eof() -> bool:
            d = c.recv()
            if d:
                got.extend(d)
            return d == b""

        assert net.run(until=at_eof, for_="3s"), f"connection {i}: no end of stream"
        assert bytes(got) == line, f"connection {i}: {bytes(got)!r}"
        c.close()
        served += 1
    net.run(for_="10ms")
    return srv, served


@pytest.mark.rfc("9293 3.6.1", "9293 3.10.7.4", "1122 4.2.2.13")
def test_10000_connections_on_50_tuples_reopen_time_wait(net):
    """50 client ports in turn: from the 51st connection on, every SYN finds its 4-tuple in TIME-WAIT at the
    server and reopens it (its ISN, from the client's RFC 6528 clock, is above the old one's)."""
    srv, served = serve_short_connections(net, N, lambda i: 41000 + i % 50, tcp_timewait=64)
    c = srv.counters()
    assert served == N
    assert c.tcp_timewait_entered == N
    assert c.tcp_timewait_reused == N - 50
    assert c.tcp_timewait_recycled == 0
    assert c.tcp_no_pcb_rst == 0


@pytest.mark.rfc("9293 3.6.1")
def test_10000_connections_on_distinct_tuples_recycle_the_oldest_time_wait(net):
    """10,000 distinct 4-tuples through a 64-entry TIME-WAIT table: every connection is served; the table
    recycles its oldest entry once full (exactly N - 64 times)."""
    srv, served = serve_short_connections(net, N, lambda i: 30000 + i, tcp_timewait=64)
    c = srv.counters()
    assert served == N
    assert c.tcp_timewait_entered == N
    assert c.tcp_timewait_reused == 0
    assert c.tcp_timewait_recycled == N - 64


@pytest.mark.rfc("9293 3.10.7.2")
def test_syn_with_no_socket_free_gets_rst_then_is_served(net):
    """A 4-socket server: the listener and three connections hold every socket. A fourth SYN gets a RST (with
    ACK, RFC 9293 §3.10.7.1 form) at once and is counted; after one connection ends, the same SYN again is
    served (the positive control)."""
    srv = net.host("dut", ipv4="10.0.0.1/24", tcp_sockets=4)
    peer = net.peer("peer", ipv4="10.0.0.2/24")
    net.link(srv, peer)
    listener = srv.tcp_listen(SERVER_PORT, backlog=8)
    socks = []
    for k in range(3):
        conn = peer.tcp(srv, SERVER_PORT, local_port=CLIENT_PORT + k)
        conn.connect(within="10ms")
        net.run(for_="1ms")
        socks.append(listener.accept())
    fourth = peer.tcp(srv, SERVER_PORT, local_port=CLIENT_PORT + 3, isn=5000)
    fourth.send(flags="S")
    fourth.expect(flags="RA", ack=5001, within="1ms")
    assert srv.counters().tcp_no_pcb_rst == 1
    socks[0].abort()
    net.run(for_="1ms")
    peer.received()
    again = peer.tcp(srv, SERVER_PORT, local_port=CLIENT_PORT + 3, isn=9000)
    again.connect(within="10ms")
    assert srv.counters().tcp_no_pcb_rst == 1
