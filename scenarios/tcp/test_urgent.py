"""The urgent mechanism (RFC 9293 §3.8.5, which takes in RFC 6093), over the wire: the DUT as sender sets URG and
the urgent pointer on the octet following the urgent data, for urgent data of any length; as receiver it tracks
RCV.UP, tells the application that urgent data is pending and where it ends, and delivers it inline."""

from __future__ import annotations

import pytest

from pyharness.ipkit import addr, host_ifaces, tcp_overhead
from scapy.layers.inet import TCP

from pyharness.dut import make_tern_dut
from tcpkit import EXACT, PEER_PORT, T, active, drain, ns, passive, seq_add, tcp_payload

pytestmark = pytest.mark.area("tcp")

SEC = 1_000_000_000

MUST30 = ('RFC 9293 §3.8.5: "TCP implementations MUST still include support for the urgent mechanism (MUST-30)"')
MUST31 = 'RFC 9293 §3.8.5: "A TCP implementation MUST support a sequence of urgent data of any length (MUST-31)"'
MUST62 = ('RFC 9293 §3.8.5: "The urgent pointer MUST point to the sequence number of the octet following the urgent '
          'data (MUST-62)"')
MUST32 = ('RFC 9293 §3.8.5: "A TCP implementation MUST (MUST-32) inform the application layer asynchronously whenever '
          'it receives an urgent pointer and there was previously no pending urgent data, or whenever the urgent '
          'pointer advances in the data stream"')
MUST33 = ('RFC 9293 §3.8.5: "The TCP implementation MUST (MUST-33) provide a way for the application to learn how '
          'much urgent data remains to be read from the connection, or at least to determine whether more urgent '
          'data remains to be read"')
MUST66 = ('RFC 9293 §3.4 (MUST-66): "A TCP receiver MUST process the RST and URG fields of all incoming segments, '
          'even when the receive window is zero"')
TERN_ONLY = "the urgent mark and notification count are the Tern socket API's (Linux has SIOCATMARK and SIGURG)"


def urgent_state(sock) -> tuple:
    """(pending, mark, signals) of the DUT's socket."""
    return sock.urgent_pending, sock.urgent_mark, sock.urgent_signals


# ---------------------------------------------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.rfc("9293 3.8.5", "9293 3.10.2", "9293 MUST-30", "9293 MUST-62")
def test_sender_points_after_the_urgent_data(dut, peer):
    """"URGENT" sent urgent: one segment of 6 octets with URG and urgent pointer 6, the octet after the last urgent
    one (SND.UP <- SND.NXT), not 5 (the last urgent octet, RFC 1122's reading that RFC 9293 replaced). Once it is
    acknowledged, later data has no URG."""
    conn, sock = active(dut, peer)
    sock.send(b"URGENT", urgent=True)
    d = conn.expect(flags="PAU", payload=b"URGENT", urgptr=6, within="10ms")
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    sock.send(b"after")
    conn.expect(flags="PA", seq=seq_add(d[TCP].seq, 6), payload=b"after", urgptr=0, within="10ms")


@pytest.mark.rfc("9293 3.8.5", "9293 MUST-31", "9293 MUST-62")
def test_urgent_data_spanning_several_segments(dut, peer, family):
    """2000 urgent octets in 536-octet segments: every segment carries URG, and its pointer, an offset from its own
    sequence number, names the same octet, the one after the urgent data (ISS + 1 + 2000)."""
    # The peer announces no MSS: 536 over IPv4; over IPv6 (where no MSS means 1220) it announces 536.
    conn, sock = active(dut, peer, peer_opts={"mss": 536} if family == "ipv6" else None)
    data = bytes(range(256)) * 7 + bytes(208)
    assert len(data) == 2000
    sock.send(data, urgent=True)
    start = seq_add(sock.info().snd_una, 0)
    got = b""
    for i in range(4):  # 536, 536, 536, 392
        size = min(536, 2000 - 536 * i)
        seg = conn.expect(flags="AU" if i < 3 else "PAU", seq=seq_add(start, 536 * i), within="10ms",
                          urgptr=2000 - 536 * i)
        assert len(tcp_payload(seg)) == size
        got += tcp_payload(seg)
    assert got == data, MUST31
    sock.send(b"tail")  # sent before the ACK: it starts at SND.UP, so no URG
    conn.expect(flags="PA", seq=seq_add(start, 2000), payload=b"tail", urgptr=0, within="10ms")


@pytest.mark.rfc("9293 3.8.5", "9293 MUST-31")
@pytest.mark.dut("tern", reason="a send buffer above 64 KiB is a Tern host setting")
def test_urgent_data_longer_than_the_pointer_field(net, family):
    """70000 urgent octets: the 16-bit pointer cannot reach the end from the first segments, which carry 65535
    (still inside the urgent data); from the first segment within 65535 octets of the end, the exact offset."""
    dut, peer, _ = make_tern_dut(net, tcp={"tx_buffer": 131072}, family=family)
    conn, sock = active(dut, peer, peer_opts={"mss": 1460})
    mss = min(1460, dut.profile.mtu - tcp_overhead(family))
    sock.send(bytes(70000), urgent=True)
    start = sock.info().snd_una
    for i in range(10):  # the initial window: 10 segments
        off = mss * i
        conn.expect(flags="AU", seq=seq_add(start, off), urgptr=min(65535, 70000 - off), within="10ms")


@pytest.mark.rfc("9293 3.8.5", "9293 3.10.2")
@pytest.mark.dut("tern", reason="sending in SYN-SENT queues the data on Tern (RFC 9293 §3.10.2); a non-blocking "
                 "Linux socket refuses it until ESTABLISHED (EAGAIN)")
def test_urgent_data_queued_before_the_open_is_marked(dut, peer, peer_ip):
    """Urgent data sent while the connection is still in SYN-SENT: after the handshake it leaves with URG and the
    pointer after its last octet (RFC 9293 §3.10.2: "The urgent bit if requested in the command must be sent
    with the data segments sent as a result of this command")."""
    sock = dut.tcp_connect(peer_ip, PEER_PORT, local_port=45300)
    sock.send(b"hello ")
    sock.send(b"!!", urgent=True)
    conn = peer.tcp(dut, 45300, local_port=PEER_PORT, isn=5000)
    syn = conn.expect(flags="S", within="10ms")
    assert not tcp_payload(syn)
    conn.send(flags="SA")
    conn.expect(flags="PAU", seq=seq_add(syn[TCP].seq, 1), payload=b"hello !!", urgptr=8, within="10ms")


@pytest.mark.rfc("9293 3.8.5", "9293 3.7.4")
@pytest.mark.parametrize("urgent", [True, False], ids=["urgent", "control-normal"])
def test_nagle_does_not_hold_urgent_data(dut, peer, urgent):
    """One small segment is unacknowledged: Nagle holds a second small one (control), but not urgent data,
    which leaves at once with URG."""
    conn, sock = active(dut, peer)
    sock.send(b"first")
    conn.expect(flags="PA", payload=b"first", within="10ms")
    sock.send(b"!", urgent=urgent)
    if urgent:
        conn.expect(flags="PAU", payload=b"!", urgptr=1, within="1ms")
    else:
        conn.expect_nothing(for_="100ms")


@pytest.mark.rfc("9293 3.8.5", "9293 3.8.6.1")
@pytest.mark.dut("tern", reason="the zero-window probe's form is the DUT's (Tern: one octet of new data, RFC 9293 "
                 "§3.8.6.1; Linux: no data at SND.UNA - 1, plus one at SND.UNA in urgent mode)")
def test_zero_window_probe_carries_the_urgent_pointer(dut, peer, profile):
    """The peer's window is zero when "ABORT" is sent urgent: the zero-window probe (one octet, at the RTO) carries
    URG with the pointer 5 octets on, beyond its own data, so the peer learns urgent data is waiting although its
    window is closed."""
    conn, sock = active(dut, peer)
    conn.send(flags="A", window=0)
    dut.net.run(for_="1ms")
    sock.send(b"ABORT", urgent=True)
    t0 = dut.net.now_ns
    probe = conn.expect(flags="AU", at=T(t0 + sock.info().rto_ns), tolerance=EXACT, urgptr=5)
    assert tcp_payload(probe) == b"A"


@pytest.mark.rfc("9293 3.8.5")
@pytest.mark.dut("tern", reason="the error is the Tern API's (a BSD send of 0 octets with MSG_OOB returns 0)")
def test_send_urgent_needs_one_octet(dut, peer):
    """RFC 9293 §3.8.5: "To send an urgent indication, the user must also send at least one data octet"."""
    from pyharness.errors import TernError

    _, sock = active(dut, peer)
    with pytest.raises(TernError, match="at least one octet"):
        sock.send(b"", urgent=True)


# ---------------------------------------------------------------------------------------------------------------
# Receiving
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.rfc("9293 3.8.5", "9293 3.10.7.4", "9293 MUST-33", "9293 MUST-62")
@pytest.mark.dut("tern", reason=TERN_ONLY)
@pytest.mark.parametrize("urgptr", [0, 1, 5, 6, 100, 65535])
def test_the_mark_follows_the_pointer_of_one_segment(dut, peer, urgptr):
    """"urgent" (6 octets) with URG and pointer N, then "-normal": the mark is N (the octet following the urgent
    data is N octets on); N = 0 names the segment's own first octet, so nothing is urgent. Reading stops at the
    mark; a pointer past all the data keeps urgent mode on after everything has been read."""
    conn, sock, _ = passive(dut, peer)
    conn.send(flags="PAU", payload=b"urgent", urgptr=urgptr)
    conn.send(flags="PA", payload=b"-normal")
    dut.net.run(for_="1ms")
    stream = b"urgent-normal"
    if urgptr == 0:
        assert urgent_state(sock) == (False, None, 0)
        assert drain(sock) == stream
        return
    assert urgent_state(sock) == (True, urgptr, 1), MUST62
    first = sock.recv()
    assert first == stream[:urgptr], "one read crossed the end of the urgent data"
    assert drain(sock) == stream[len(first):]
    left = urgptr - len(stream)
    assert urgent_state(sock) == ((True, left, 1) if left > 0 else (False, None, 1))


@pytest.mark.rfc("9293 3.8.5", "9293 3.10.7.4", "9293 MUST-32", "9293 MUST-33")
@pytest.mark.dut("tern", reason=TERN_ONLY)
def test_receiver_marks_urgent_data_spanning_several_segments(dut, peer):
    """300 urgent octets in three segments, each pointing at the same end (urgptr 300, 200, 100), then 50 normal
    ones: urgent mode from the first segment (one notification, mark 300, before the rest has arrived); a read
    returns the 300 urgent octets and stops there; then normal mode and the 50 normal octets."""
    conn, sock, _ = passive(dut, peer)
    urgent = bytes(range(100)) * 3
    conn.send(flags="AU", payload=urgent[:100], urgptr=300)
    dut.net.run(for_="1ms")
    assert urgent_state(sock) == (True, 300, 1), MUST32
    assert sock.readable == 100
    conn.send(flags="AU", payload=urgent[100:200], urgptr=200)
    conn.send(flags="PAU", payload=urgent[200:], urgptr=100)
    conn.send(flags="PA", payload=b"n" * 50)
    dut.net.run(for_="1ms")
    assert urgent_state(sock) == (True, 300, 1), "the pointer did not advance: no second notification"
    assert sock.readable == 350
    assert sock.recv() == urgent, MUST33
    assert urgent_state(sock) == (False, None, 1)
    assert sock.recv() == b"n" * 50
    conn.expect(flags="A", ack=conn.snd_nxt, within="300ms")


@pytest.mark.rfc("9293 3.8.5", "9293 3.10.7.4", "9293 MUST-32")
@pytest.mark.dut("tern", reason=TERN_ONLY)
def test_a_sequence_of_urgent_pointers(dut, peer):
    """Four urgent segments of 10 octets (R is the first one's sequence number), each moving the pointer on while
    urgent data is pending: R+10, R+20, R+21, then R+30 (pointer 0: everything before this segment is urgent).
    Each advance is a notification and the mark follows. A retransmission overlapping them whose pointer is
    behind RCV.UP (R+26) changes nothing (RCV.UP <- max(RCV.UP, SEG.UP)). Once all is read, a new urgent
    sequence is notified again."""
    conn, sock, _ = passive(dut, peer)
    r = conn.snd_nxt
    conn.send(flags="PAU", payload=b"a" * 10, urgptr=10)
    dut.net.run(for_="1ms")
    assert urgent_state(sock) == (True, 10, 1)
    conn.send(flags="PAU", payload=b"b" * 10, urgptr=10)
    dut.net.run(for_="1ms")
    assert urgent_state(sock) == (True, 20, 2), MUST32
    conn.send(flags="PAU", payload=b"c" * 10, urgptr=1)
    conn.send(flags="PAU", payload=b"d" * 10, urgptr=0)
    dut.net.run(for_="1ms")
    assert urgent_state(sock) == (True, 30, 4), MUST32
    # R+25..R+44: 15 octets again and 5 new ones, pointer R+26
    conn.send(flags="PAU", seq=seq_add(r, 25), payload=b"c" * 5 + b"d" * 10 + b"g" * 5, urgptr=1)
    dut.net.run(for_="1ms")
    assert sock.readable == 45
    assert urgent_state(sock) == (True, 30, 4), "a pointer behind RCV.UP moved it"
    assert sock.recv() == b"a" * 10 + b"b" * 10 + b"c" * 10  # up to the mark
    assert urgent_state(sock) == (False, None, 4)
    assert sock.recv() == b"d" * 10 + b"g" * 5
    conn.snd_nxt = seq_add(r, 45)
    conn.send(flags="PAU", payload=b"f", urgptr=1)
    dut.net.run(for_="1ms")
    assert urgent_state(sock) == (True, 1, 5)
    assert sock.recv() == b"f" and not sock.urgent_pending


@pytest.mark.rfc("9293 3.8.5", "9293 3.10.7.4", "9293 MUST-32", "9293 MUST-33")
@pytest.mark.dut("tern", reason=TERN_ONLY)
def test_urgent_pointer_beyond_the_segment(dut, peer):
    """A 10-octet segment whose pointer is 1000 octets on: urgent mode at once (the application learns of urgent
    data it has not received), the mark counts down as it reads, and normal mode comes when the 1000th octet is
    read, not before."""
    conn, sock, _ = passive(dut, peer)
    conn.send(flags="PAU", payload=b"x" * 10, urgptr=1000)
    dut.net.run(for_="1ms")
    assert urgent_state(sock) == (True, 1000, 1), MUST32
    assert sock.recv() == b"x" * 10
    assert urgent_state(sock) == (True, 990, 1), MUST33
    conn.send(flags="PA", payload=b"y" * 990)
    conn.send(flags="PA", payload=b"z" * 10)
    dut.net.run(for_="1ms")
    assert sock.recv() == b"y" * 990  # stops at the mark although "z" has arrived
    assert urgent_state(sock) == (False, None, 1)
    assert sock.recv() == b"z" * 10


@pytest.mark.rfc("9293 3.8.5", "9293 MUST-66")
@pytest.mark.dut("tern", reason=TERN_ONLY)
def test_urgent_pointer_in_a_zero_window(dut, peer):
    """The DUT's window is full (rx_buffer 1000): a segment at RCV.NXT with URG and one octet is not taken (no
    room), but its urgent pointer is: the application is told urgent data waits beyond what it can hold."""
    from tcpkit import fill_window, inject

    conn, sock, _ = passive(dut, peer, rx_buffer=1000)
    filled, _ = fill_window(conn)
    assert not sock.urgent_pending
    inject(conn, flags="PAU", payload=b"!", urgptr=1)
    conn.expect(flags="A", ack=conn.snd_nxt, window=0, within="10ms")
    assert urgent_state(sock) == (True, filled + 1, 1), MUST66
    assert len(drain(sock)) == filled
    assert urgent_state(sock) == (True, 1, 1)


@pytest.mark.rfc("9293 3.8.5", "9293 3.10.7.3")
@pytest.mark.dut("tern", reason=TERN_ONLY)
def test_urgent_data_on_the_syn_ack(dut, peer, peer_ip):
    """A SYN-ACK carrying text with URG (pointer 4 from the SYN's sequence number: the first 3 octets are urgent):
    SYN-SENT continues "at the sixth step ... where the URG bit is checked" (RFC 9293 §3.10.7.3)."""
    sock = dut.tcp_connect(peer_ip, PEER_PORT, local_port=45400)
    conn = peer.tcp(dut, 45400, local_port=PEER_PORT, isn=5000)
    conn.expect(flags="S", within="10ms")
    conn.send(flags="SAU", payload=b"URGrest", urgptr=4)
    dut.net.run(for_="1ms")
    assert sock.state == "ESTABLISHED"
    assert urgent_state(sock) == (True, 3, 1)
    assert sock.recv() == b"URG" and not sock.urgent_pending
    assert sock.recv() == b"rest"


@pytest.mark.rfc("9293 3.8.5", "9293 MUST-30")
@pytest.mark.dut("tern", reason="two Tern hosts talk to each other")
def test_urgent_data_between_two_tern_hosts(net, family):
    """Two Tern hosts: urgent data sent by one is reported, marked and delivered inline by the other; the
    sender is in urgent mode until the urgent data is acknowledged."""
    a = net.host("a", **host_ifaces(family, 1))
    b = net.host("b", **host_ifaces(family, 2))
    net.link(a, b)
    listener = b.tcp_listen(80)
    client = a.tcp_connect(addr(family, 2), 80)
    net.run(until=lambda: listener.accept_pending > 0, for_="1s")
    server = listener.accept()
    client.send(b"data-")
    client.send(b"INTERRUPT", urgent=True)
    client.send(b"-more")
    assert client.urgent_sending
    net.run(for_="1s")
    assert not client.urgent_sending
    assert urgent_state(server) == (True, 14, 1), MUST30
    assert server.recv() == b"data-INTERRUPT"
    assert not server.urgent_pending
    assert server.recv() == b"-more"


@pytest.mark.rfc("9293 3.8.5", "9293 3.10.7.2", "9293 3.10.7.3")
@pytest.mark.dut("tern", reason=TERN_ONLY)
@pytest.mark.parametrize("open_", ["passive", "simultaneous"])
def test_urgent_pointer_of_a_syn_with_text_waits_for_established(dut, peer, open_, peer_ip):
    """A SYN carrying "URGrest" with URG and pointer 4 (the first 3 octets urgent), to a listener or crossing the
    DUT's own SYN: its text and its urgent pointer are "queued for processing" (RFC 9293 §3.10.7.2 and
    §3.10.7.3); once ESTABLISHED the text is delivered, and urgent mode starts with the mark at 3."""
    listener = sock = None
    if open_ == "passive":
        listener = dut.tcp_listen(80)
        conn = peer.tcp(dut, 80, local_port=40500, isn=1000)
    else:
        sock = dut.tcp_connect(peer_ip, PEER_PORT, local_port=45500)
        conn = peer.tcp(dut, 45500, local_port=PEER_PORT, isn=1000)
        conn.expect(flags="S", within="10ms")
    conn.send(flags="SU", payload=b"URGrest", urgptr=4)
    synack = conn.expect(flags="SA", ack=1001, within="10ms")
    conn.send(flags="A", seq=1008, ack=seq_add(synack[TCP].seq, 1))
    conn.expect(flags="A", ack=1008, within="10ms")
    if listener is not None:
        sock = listener.accept()
    assert urgent_state(sock) == (True, 3, 1)
    assert sock.recv() == b"URG" and not sock.urgent_pending
    assert sock.recv() == b"rest"
