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

import struct

import pytest
from pyharness.dut import TERN_PROFILE

from tcpkit import CLIENT_PORT, SERVER_PORT, addr, host_ifaces, inject, passive, seq_add

pytestmark = [pytest.mark.area("tcp"),
              pytest.mark.dut("tern", reason="two Tern hosts, and the Tern stack's resource counters")]

N = 10_000


def serve_short_connections(net, n, client_port, tcp_timewait, family):
    """``n`` connections in a row from a Tern client to a 16-socket Tern server; the server sends one line and
    closes first (it keeps TIME-WAIT). ``client_port(i)`` is the client's port for connection i. Returns the
    server host and how many connections were served byte-exact."""
    srv = net.host("srv", **host_ifaces(family, 1), tcp_sockets=16, tcp_timewait=tcp_timewait,
                   tcp={"timestamps": False})
    cli = net.host("cli", **host_ifaces(family, 2), tcp_sockets=16, tcp={"timestamps": False})
    net.link(srv, cli, delay="100us")
    listener = srv.tcp_listen(SERVER_PORT, backlog=8)
    served = 0
    for i in range(n):
        c = cli.tcp_connect(addr(family, 1), SERVER_PORT, local_port=client_port(i))
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
def test_10000_connections_on_50_tuples_reopen_time_wait(net, family):
    """50 client ports in turn: from the 51st connection on, every SYN finds its 4-tuple in TIME-WAIT at the
    server and reopens it (its ISN, from the client's RFC 6528 clock, is above the old one's)."""
    srv, served = serve_short_connections(net, N, lambda i: 41000 + i % 50, tcp_timewait=64, family=family)
    c = srv.counters()
    assert served == N
    assert c.tcp_timewait_entered == N
    assert c.tcp_timewait_reused == N - 50
    assert c.tcp_timewait_recycled == 0
    assert c.tcp_no_pcb_rst == 0


@pytest.mark.rfc("9293 3.6.1")
def test_10000_connections_on_distinct_tuples_recycle_the_oldest_time_wait(net, family):
    """10,000 distinct 4-tuples through a 64-entry TIME-WAIT table: every connection is served; the table
    recycles its oldest entry once full (exactly N - 64 times)."""
    srv, served = serve_short_connections(net, N, lambda i: 30000 + i, tcp_timewait=64, family=family)
    c = srv.counters()
    assert served == N
    assert c.tcp_timewait_entered == N
    assert c.tcp_timewait_reused == 0
    assert c.tcp_timewait_recycled == N - 64


@pytest.mark.rfc("9293 3.10.7.2")
def test_syn_with_no_socket_free_gets_rst_then_is_served(net, family):
    """A 4-socket server: the listener and three connections hold every socket. A fourth SYN gets a RST (with
    ACK, RFC 9293 §3.10.7.1 form) at once and is counted; after one connection ends, the same SYN again is
    served (the positive control)."""
    srv = net.host("dut", **host_ifaces(family, 1), tcp_sockets=4)
    peer = net.peer("peer", **host_ifaces(family, 2))
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


# ---- SYN flood: SYN cookies (RFC 4987 §3.6) ------------------------------------------------------------

FLOOD = 10_000  # spoofed SYNs, one every 100 us: 10,000 per second of virtual time
GAP_NS = 100_000
BACKLOG = 8
HOP_NS = 2 * 50_000  # DUT -> switch -> node


def _csum(b: bytes) -> int:
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class SpoofedSyns:
    """SYN frames from off-link benchmarking addresses (198.18.0.0/15, RFC 2544; over IPv6 2001:2::/48, RFC 5180):
    the DUT answers through its gateway, the flooder. Built from one scapy template by patching addresses, ports,
    ISN and checksums (the flood is 10,000 frames; scapy per frame would dominate the run)."""

    def __init__(self, src_mac: str, dst_mac: str, dst_ip: str, port: int):
        import ipaddress

        from scapy.layers.inet import IP, TCP
        from scapy.layers.inet6 import IPv6
        from scapy.layers.l2 import Ether

        self.dst = ipaddress.ip_address(dst_ip).packed
        self.v6 = len(self.dst) == 16
        l3 = IPv6(src="2001:2::1", dst=dst_ip, hlim=64) if self.v6 else IP(src="198.18.0.1", dst=dst_ip, ttl=64, id=0)
        self.hlen = 40 if self.v6 else 20
        self.tmpl = bytes(Ether(src=src_mac, dst=dst_mac) / l3
                          / TCP(sport=1024, dport=port, flags="S", seq=0, window=1024, options=[("MSS", 1460)]))

    def frame(self, i: int) -> bytes:
        ip = bytearray(self.tmpl[14:14 + self.hlen])
        if self.v6:
            src = bytes(ip[8:21]) + bytes([i >> 16 & 1, i >> 8 & 255, i & 255])
            ip[8:24] = src
        else:
            src = bytes([198, 18 + (i >> 16 & 1), i >> 8 & 255, i & 255])
            ip[12:16] = src
            ip[10:12] = b"\0\0"
            ip[10:12] = struct.pack("!H", _csum(bytes(ip)))
        tcp = bytearray(self.tmpl[14 + self.hlen:])
        tcp[0:2] = struct.pack("!H", 1024 + i % 60000)
        tcp[4:8] = struct.pack("!I", i * 2654435761 & 0xFFFFFFFF)
        tcp[16:18] = b"\0\0"
        if self.v6:
            pseudo = src + self.dst + struct.pack("!IxxxB", len(tcp), 6)
        else:
            pseudo = src + self.dst + struct.pack("!BBH", 0, 6, len(tcp))
        tcp[16:18] = struct.pack("!H", _csum(pseudo + bytes(tcp)))
        return self.tmpl[:14] + bytes(ip) + bytes(tcp)


def flood_network(net, family):
    gateway = {"gateway": "10.0.0.2"} if family == "ipv4" else {"routes": [("::/0", addr(family, 2))]}
    dut = net.host("dut", **host_ifaces(family, 1), **gateway, tcp_sockets=16)
    flooder = net.peer("flooder", **host_ifaces(family, 2), rx_limit=64)
    cli = net.host("cli", **host_ifaces(family, 3))
    sw = net.switch("sw", ports=3)
    for node in (dut, flooder, cli):
        net.link(node, sw, delay="50us")
    return dut, flooder, cli


@pytest.mark.rfc("4987 3.6", "9293 3.10.7.2")
def test_legitimate_clients_connect_during_a_syn_flood(net, family):
    """10,000 spoofed SYNs in one second of virtual time against a listener with backlog 8. The first 8 take
    the SYN queue; every later SYN, the three legitimate clients' included, gets a SYN cookie. Each legitimate
    client connects within its round trip and is served; no socket is spent on the flood beyond the 8."""
    dut, flooder, cli = flood_network(net, family)
    listener = dut.tcp_listen(SERVER_PORT, backlog=BACKLOG)
    syns = SpoofedSyns(flooder.mac, dut.mac, addr(family, 1), SERVER_PORT)
    net.run(for_="1ms")
    clients: list = []
    served: list = []
    for i in range(FLOOD):
        flooder.send(syns.frame(i))
        if i in (2500, 5000, 7500):
            clients.append((cli.tcp_connect(addr(family, 1), SERVER_PORT), net.now_ns))
        net.run(for_=f"{GAP_NS}ns")
        s = listener.accept()
        if s is not None:
            s.send(b"served %d" % len(served))
            s.close()
            served.append(net.now_ns)
        for c, t0 in clients:
            if c.state == "SYN_SENT":
                assert net.now_ns - t0 < 1_000_000, "a legitimate client was not answered within 1 ms"
    net.run(for_="10ms")
    for k, (c, _) in enumerate(clients):
        assert c.recv() == b"served %d" % k
        assert c.state == "CLOSE_WAIT"
    c = dut.counters()
    assert len(served) == 3
    assert c.tcp_syncookies_sent == FLOOD - BACKLOG + 3
    assert c.tcp_syncookies_ok == 3
    assert c.tcp_syncookies_failed == 0
    assert c.tcp_no_pcb_rst == 0


@pytest.mark.rfc("4987 3.6", "6298 5.5", "9293 3.8.3")
def test_flood_half_open_entries_end_with_their_synack_retransmissions(net, family):
    profile = TERN_PROFILE
    """The 8 half-open connections of a flood live exactly as long as their SYN-ACK retransmissions (initial
    RTO doubled ``syn_retries`` times up to the maximum RTO, RFC 6298 (5.5), (2.5)); until then a new SYN gets a cookie, afterwards a
    regular SYN-ACK with state (the cookie counter stays)."""
    dut, flooder, cli = flood_network(net, family)
    dut.tcp_listen(SERVER_PORT, backlog=BACKLOG)
    syns = SpoofedSyns(flooder.mac, dut.mac, addr(family, 1), SERVER_PORT)
    net.run(for_="1ms")
    flooder.received()
    for i in range(BACKLOG + 2):
        flooder.send(syns.frame(i))
        net.run(for_=f"{GAP_NS}ns")
    net.run(for_="1ms")
    synacks = [p for p in flooder.received() if p.haslayer("TCP") and str(p["TCP"].flags) == "SA"]
    assert len(synacks) == BACKLOG + 2
    created = [int(p.time_ns) - HOP_NS for p in synacks[:BACKLOG]]
    lifetime = sum(min(profile.rto_initial << k, profile.rto_max) for k in range(profile.syn_retries + 1))
    assert dut.counters().tcp_syncookies_sent == 2
    net.run(until=f"{created[0] + lifetime - 1_000_000}ns")
    c = cli.tcp_connect(addr(family, 1), SERVER_PORT)
    net.run(for_="1ms")
    assert c.state == "ESTABLISHED"
    assert dut.counters().tcp_syncookies_sent == 3, "the SYN queue emptied before the SYN-ACK retransmissions ended"
    net.run(until=f"{created[-1] + lifetime + 1_000_000}ns")
    c2 = cli.tcp_connect(addr(family, 1), SERVER_PORT)
    net.run(for_="1ms")
    assert c2.state == "ESTABLISHED"
    assert dut.counters().tcp_syncookies_sent == 3, "the flood's half-open entries outlived their SYN-ACKs"


def fill_syn_queue(dut, peer, listener_backlog=1):
    """A listener whose SYN queue (backlog 1) is taken by one half-open connection."""
    listener = dut.tcp_listen(SERVER_PORT, backlog=listener_backlog)
    half = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT + 100, isn=77)
    half.send(flags="S")
    half.expect(flags="SA", within="10ms")
    return listener


@pytest.mark.rfc("4987 3.6", "7323 2.2", "2018 2")
def test_syn_cookie_keeps_mss_wscale_and_sack_in_the_timestamp(dut, peer, family):
    """With timestamps, the cookie SYN-ACK carries window scaling and SACK-permitted, and the options the peer
    offered come back in its TSecr (low 6 bits: wscale, then the SACK bit, as Linux encodes them): the
    connection made from the ACK scales the peer's window and takes SACK; the MSS is the table value at or
    below the peer's (1300 for 1400; over IPv6, whose table is 1220, 1420, 1440 and 8940, 1220)."""
    listener = fill_syn_queue(dut, peer)
    conn = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT, mss=1400, wscale=7, sack=True, ts=True)
    synack = conn.connect(within="10ms")
    tsval = dict((k, v) for k, v in synack["TCP"].options)["Timestamp"][0]
    assert tsval & 0x3F == 7 | 0x10
    assert conn.remote_sack and conn.remote_wscale is not None
    dut.net.run(for_="1ms")
    sock = listener.accept()
    assert sock is not None
    info = sock.info()
    assert (info.snd_wscale, info.sack_ok, info.ts_ok) == (7, True, True)
    assert info.snd_mss == (1300 if family == "ipv4" else 1220) - 12
    c = dut.counters()
    assert (c.tcp_syncookies_sent, c.tcp_syncookies_ok) == (1, 1)


@pytest.mark.rfc("4987 3.6")
def test_syn_cookie_without_timestamps_offers_no_options_it_cannot_keep(dut, peer, family):
    """Without timestamps the cookie holds only the MSS: the SYN-ACK offers neither window scaling nor SACK
    (Linux does the same), and the connection works without them. The peer's 1460 is in the IPv4 table; over
    IPv6 the cookie names 1440 (1500 - 60)."""
    mss = 1460 if family == "ipv4" else 1440
    listener = fill_syn_queue(dut, peer)
    conn = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT, mss=1460, wscale=7, sack=True)
    synack = conn.connect(within="10ms")
    names = [k for k, _ in synack["TCP"].options]
    assert "WScale" not in names and "SAckOK" not in names and "Timestamp" not in names
    dut.net.run(for_="1ms")
    sock = listener.accept()
    info = sock.info()
    assert (info.snd_wscale, info.sack_ok, info.snd_mss) == (0, False, mss)
    sock.send(b"x" * 3000)
    seg = conn.expect(flags="A", within="10ms")
    assert len(seg["TCP"].payload) == mss


@pytest.mark.rfc("4987 3.6", "9293 3.10.7.2")
def test_ack_with_a_forged_cookie_gets_rst(dut, peer):
    """An ACK to the listener whose acknowledgment number is not a cookie it made gets a RST, no connection
    (RFC 9293 §3.10.7.2 second); the control: the real cookie + 1 connects."""
    listener = fill_syn_queue(dut, peer)
    conn = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT, isn=5000)
    conn.send(flags="S")
    sa = conn.expect(flags="SA", within="10ms")
    inject(conn, flags="A", ack=seq_add(sa["TCP"].seq, 2))
    conn.expect(flags="R", seq=seq_add(sa["TCP"].seq, 2), within="1ms")
    assert dut.counters().tcp_syncookies_failed == 1
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    assert listener.accept() is not None


@pytest.mark.rfc("9293 3.10.7.2")
def test_full_accept_queue_drops_the_ack_counted_and_recovers(dut, peer):
    """Backlog 1 with one connection waiting for accept(): a second handshake's ACK is dropped (counted in
    tcp_listen_overflow, the child stays half-open); once accept() makes room, the SYN-ACK retransmission
    and the peer's next ACK complete it."""
    listener = dut.tcp_listen(SERVER_PORT, backlog=1)
    first = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT, isn=1000)
    first.connect(within="10ms")
    second = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT + 1, isn=2000)
    sa = second.connect(within="10ms")
    dut.net.run(for_="1ms")
    assert listener.accept_pending == 1
    assert dut.counters().tcp_listen_overflow == 1
    assert listener.accept() is not None
    second.expect(flags="SA", seq=sa["TCP"].seq, within="2s")
    second.send(flags="A")
    dut.net.run(for_="1ms")
    assert listener.accept() is not None
    assert dut.counters().tcp_listen_overflow == 1


@pytest.mark.rfc("9293 3.10.4")
def test_orphan_fin_wait_2_ends_at_its_timeout_counted(dut, peer, profile):
    """The DUT closes and the peer acknowledges the FIN but never sends its own: the socket is held exactly
    ``fin_wait2_timeout`` (60 s; not 2 x MSL, which is now 4 minutes), then freed and counted; the peer's next
    segment gets a RST (the control that the connection is gone)."""
    conn, sock, _ = passive(dut, peer)
    sock.close()
    fin = conn.expect(flags="FA", within="10ms")
    conn.send(flags="A", ack=seq_add(fin["TCP"].seq, 1))
    t0 = dut.net.now_ns
    dut.net.run(until=f"{t0 + profile.fin_wait2_timeout - 1}ns")
    assert dut.counters().tcp_fin_wait2_timeouts == 0
    dut.net.run(until=f"{t0 + profile.fin_wait2_timeout}ns")
    assert dut.counters().tcp_fin_wait2_timeouts == 1
    conn.send(flags="A")
    conn.expect(flags="R", within="1ms")
