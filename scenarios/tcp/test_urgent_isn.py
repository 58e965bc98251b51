"""Urgent pointers of any value do no harm: the data is delivered inline, in order, once (RFC 9293 §3.8.5: "a
TCP receiver should be robust to invalid urgent pointer values"; what the receiver makes of the pointer, and the
sending side, are in test_urgent.py), and initial sequence numbers (RFC 9293 §3.4.1, RFC 6528): different per
4-tuple, clock-driven, unpredictable."""

from __future__ import annotations

import pytest

from pyharness.dut import linux_deviation
from scapy.layers.inet import TCP

from tcpkit import CLIENT_PORT, SERVER_PORT, drain, passive, seq_add

pytestmark = pytest.mark.area("tcp")

ISN = 'RFC 6528 3: "M is the 4 microsecond timer"; RFC 9293 3.4.1: the ISN clock\'s "low-order bit is incremented roughly every 4 microseconds"; Linux ticks every 64 ns'


@pytest.mark.rfc("9293 3.8.5")
@pytest.mark.parametrize("urgptr", [0, 1, 5, 6, 100, 65535])
def test_urgent_data_delivered_inline(dut, peer, urgptr):
    """URG with any pointer (inside the data, at its end, past it, 0): the bytes arrive in order, once,
    and the connection goes on."""
    conn, sock, _ = passive(dut, peer)
    conn.send(flags="PAU", payload=b"urgent", urgptr=urgptr)
    conn.send(flags="PA", payload=b"-normal")
    dut.net.run(for_="300ms")
    assert drain(sock) == b"urgent-normal"
    assert sock.state == "ESTABLISHED"


@pytest.mark.rfc("9293 3.1", "9293 3.8.5")
@pytest.mark.parametrize("urgptr", [0, 1, 65535])
def test_urgent_pointer_without_urg_flag_ignored(dut, peer, urgptr):
    conn, sock, _ = passive(dut, peer)
    conn.send(flags="PA", payload=b"plain", urgptr=urgptr)
    dut.net.run(for_="300ms")
    assert drain(sock) == b"plain"


@pytest.mark.rfc("9293 3.8.5")
def test_urg_on_pure_ack_and_zero_window(dut, peer, profile):
    """URG on an ACK without data and on a segment a full window cannot take: the stream stays intact and the
    connection goes on (that the URG of both is processed, MUST-66, is test_urgent.py's)."""
    conn, sock, _ = passive(dut, peer, rx_buffer=1000)
    conn.send(flags="AU", urgptr=500)
    from tcpkit import fill_window, inject

    filled, _ = fill_window(conn)  # Tern: the 1000 asked for, one segment; Linux: what it advertised
    if profile.rx_buffer_is_window:
        assert filled == 1000
    inject(conn, flags="PAU", payload=b"u", urgptr=1)
    conn.expect(flags="A", ack=conn.snd_nxt, within="10ms")
    assert len(drain(sock)) == filled and sock.state == "ESTABLISHED"


@pytest.mark.rfc("9293 3.4.1", "6528 3", "9293 MUST-8", "9293 SHLD-1")
def test_isn_differs_per_four_tuple(dut, peer):
    dut.tcp_listen(SERVER_PORT)
    isns = []
    for i in range(8):
        c = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT + i, isn=1000)
        c.send(flags="S")
        isns.append(c.expect(flags="SA", within="10ms")[TCP].seq)
    assert len(set(isns)) == len(isns)
    # Not a simple increment either: consecutive ports do not give consecutive numbers.
    diffs = {(b - a) % 2**32 for a, b in zip(isns, isns[1:])}
    assert len(diffs) > 1


@pytest.mark.rfc("9293 3.4.1", "6528 3", "9293 MUST-8")
@linux_deviation(ISN)
def test_isn_for_same_tuple_advances_with_the_clock(dut, peer):
    """Same 4-tuple later: ISN = M + F(tuple), M a 4 us clock: the difference follows elapsed time."""
    dut.tcp_listen(SERVER_PORT)
    c = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT, isn=1000)
    c.send(flags="S")
    a = c.expect(flags="SA", within="10ms")
    c.send(flags="R", seq=1001, ack=0)
    dut.net.run(for_="4s")
    c2 = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT, isn=90000)
    c2.send(flags="S")
    b = c2.expect(flags="SA", within="10ms")
    elapsed_us = (float(b.time) - float(a.time)) * 1e6
    delta = (b[TCP].seq - a[TCP].seq) % 2**32
    assert abs(delta - elapsed_us / 4) <= 2, f"ISN advanced by {delta} in {elapsed_us} us"


@pytest.mark.rfc("6528 3", "9293 MUST-9")
def test_isn_of_active_opens_unpredictable(dut, peer, peer_ip):
    """Active opens to different ports: their ISNs do not follow from each other."""
    isns = []
    for port in (7001, 7002, 7003, 7004):
        dut.tcp_connect(peer_ip, port)
        c = peer.tcp(dut, local_port=port)
        isns.append(c.expect(flags="S", within="10ms")[TCP].seq)
    assert len(set(isns)) == 4
    assert len({(b - a) % 2**32 for a, b in zip(isns, isns[1:])}) > 1


@pytest.mark.rfc("6056 3", "9293 3.9.1.1")
def test_ephemeral_ports_randomised(dut, peer, peer_ip):
    ports = []
    for port in (7001, 7002, 7003, 7004, 7005):
        dut.tcp_connect(peer_ip, port)
        c = peer.tcp(dut, local_port=port)
        ports.append(c.expect(flags="S", within="10ms")[TCP].sport)
    assert len(set(ports)) == 5
    assert len({b - a for a, b in zip(ports, ports[1:])}) > 1, f"sequential ephemeral ports {ports}"
