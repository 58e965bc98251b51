"""RFC 9293 MUSTs about the window field, the option list, OPEN calls and the IP layer under TCP.

Each test quotes the sentence of RFC 9293 it checks over the wire.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import IP, TCP, IPOption, IPOption_NOP, IPOption_Router_Alert

from pyharness.dut import tern_stack
from pyharness.errors import TernError
from tcpkit import (CLIENT_PORT, PEER_PORT, SERVER_PORT, addr, drain, host_ifaces, ip, ip_of, passive, seq_add,
                    tcp_payload, ttl_of)

pytestmark = pytest.mark.area("tcp")

MSS = 1460


def data_sent(peer, sport: int) -> int:
    """Payload bytes the peer has received from the DUT's port ``sport`` since the last call."""
    return sum(len(tcp_payload(p)) for p in peer.received() if TCP in p and p[TCP].sport == sport)


@pytest.mark.rfc("9293 3.1", "9293 MUST-1")
@pytest.mark.parametrize("window", [32768, 40000, 65535])
def test_window_above_32767_is_unsigned(dut, peer, window):
    """§3.1: "The window size MUST be treated as an unsigned number, or else large window sizes will appear
    like negative windows and TCP will not work (MUST-1)." Without window scaling, a window field with its
    top bit set is a large window: the DUT (its initial window raised so that the peer's window is the
    limit) fills it with whole segments, never more."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "window": window}, initial_window=64)
    assert not conn.wscale_ok
    sock.send(bytes(100_000))
    dut.net.run(for_="10ms")
    sent = data_sent(peer, SERVER_PORT)
    assert window - MSS < sent <= window, f"sent {sent} bytes into a window of {window}"


@pytest.mark.rfc("9293 3.2", "9293 MUST-4", "9293 MUST-14")
def test_mandatory_option_set_in_a_syn(dut, peer):
    """§3.2: "the following options MUST be supported (MUST-4 [...])": End of Option List, No-Operation and
    Maximum Segment Size. A SYN whose options are two NOPs, an MSS of 1000 and an EOL gets its MSS taken:
    the DUT's segments carry 1000 bytes."""
    listener = dut.tcp_listen(SERVER_PORT)
    conn = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT)
    conn.send(flags="S", options=[("NOP", None), ("NOP", None), ("MSS", 1000), ("EOL", None)])
    conn.expect(flags="SA", ack=conn.snd_nxt, within="10ms")
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    sock = listener.accept()
    assert sock is not None
    sock.send(bytes(3000))
    segs = [conn.expect(seq=conn.rcv_nxt, within="10ms") for _ in range(3)]
    assert [len(tcp_payload(s)) for s in segs] == [1000, 1000, 1000]


def option_bytes(pkt) -> bytes:
    """The raw option list of a TCP segment (between the fixed header and the data offset)."""
    raw = bytes(pkt[TCP])
    return raw[20:pkt[TCP].dataofs * 4]


def padding_after_eol(opts: bytes) -> bytes:
    """The bytes after an End of Option List option (b"" when the list has none)."""
    i = 0
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            return opts[i + 1:]
        if kind == 1:
            i += 1
            continue
        assert i + 1 < len(opts) and opts[i + 1] >= 2, f"malformed option list {opts.hex()}"
        i += opts[i + 1]
    assert i == len(opts), f"the option list runs past the data offset: {opts.hex()}"
    return b""


@pytest.mark.rfc("9293 3.1", "9293 MUST-69")
@pytest.mark.parametrize("peer_opts", [{"mss": 1000}, {"mss": 1000, "wscale": 2}, {"mss": 1000, "sack": True},
                                       {"mss": 1000, "ts": True, "sack": True, "wscale": 7}],
                         ids=["mss", "mss_ws", "mss_sack", "all"])
def test_option_list_padding_is_zero(dut, peer, peer_opts, dut_ip, peer_ip, family):
    """§3.1: "The content of the header beyond the End of Option List Option MUST be header padding of zeros
    (MUST-69)." The SYN-ACK, a data segment and the DUT's own SYN, whatever the options in use: the bytes
    after an EOL up to the data offset are zero, and the list ends exactly at the data offset."""
    listener = dut.tcp_listen(SERVER_PORT)
    conn = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT, **peer_opts)
    segs = [conn.connect(within="10ms")]
    dut.net.run(for_="1ms")
    sock = listener.accept()
    sock.send(b"hello")
    segs.append(conn.expect(flags="PA", within="10ms"))
    dut.tcp_connect(peer_ip, PEER_PORT)
    segs.append(peer.expect(ip(family, src=dut_ip) / TCP(flags="S", dport=PEER_PORT), within="10ms"))
    for p in segs:
        pad = padding_after_eol(option_bytes(p))
        assert pad == bytes(len(pad)), f"non-zero padding {pad.hex()} after EOL in {p.summary()}"


@pytest.mark.rfc("9293 3.9.1.1", "9293 MUST-41")
def test_passive_open_leaves_existing_connections_alone(dut, peer):
    """§3.9.1.1: "Every passive OPEN call either creates a new connection record in LISTEN state, or it
    returns an error; it MUST NOT affect any previously created connection record (MUST-41)." A second
    listener on another port, and one on the same port that fails (address in use), leave an established
    connection exchanging data both ways."""
    conn, sock, listener = passive(dut, peer)
    other = dut.tcp_listen(SERVER_PORT + 1)
    with pytest.raises(TernError) as failed:
        dut.tcp_listen(SERVER_PORT)
    assert failed.value.error_name == "ADDR_IN_USE", f"unexpected error {failed.value!r}"
    assert sock.state == "ESTABLISHED" and other.state == "LISTEN"
    sock.send(b"still here")
    conn.expect(flags="PA", payload=b"still here", within="10ms")
    conn.send(flags="PA", payload=b"and here")
    dut.net.run(for_="1ms")
    assert drain(sock) == b"and here"


def two_address_bench(net, family):
    """A DUT with two addresses on one link (10.0.0.1 and 10.0.0.3; over IPv6 fd00::1 and fd00::3 besides) and the
    scripted peer."""
    ifaces = host_ifaces(family, 1)
    ifaces[family] = [ifaces[family], f"{addr(family, 3)}/{24 if family == 'ipv4' else 64}"]
    dut = net.host("dut", **ifaces)
    peer = net.peer("peer", **host_ifaces(family, 2))
    net.link(dut, peer)
    return dut, peer


@pytest.mark.dut("tern", reason="a DUT with two addresses is built here")
@pytest.mark.rfc("9293 3.9.1.1", "9293 MUST-43", "9293 MUST-45")
def test_active_open_from_a_chosen_local_address(net, peer_ip, family):
    """§3.9.1.1: "The optional "local IP address" parameter MUST be supported to allow the specification of
    the local IP address (MUST-43)" and "TCP implementations MUST use the same local address that was used
    in those previous segments (MUST-45)": the SYN and every later segment leave from 10.0.0.3 (fd00::3)."""
    dut, peer = two_address_bench(net, family)
    three = addr(family, 3)
    s = dut.tcp_socket()
    s.bind(45000, three)
    s.connect(peer_ip, PEER_PORT)
    conn = peer.tcp(three, local_port=PEER_PORT, isn=5000)
    syn = conn.accept(within="10ms")
    assert ip_of(syn).src == three
    s.send(b"from three")
    d = conn.expect(flags="PA", within="10ms")
    assert ip_of(d).src == three and tcp_payload(d) == b"from three"
    conn.close(within="10ms")


@pytest.mark.dut("tern", reason="a DUT with two addresses is built here")
@pytest.mark.rfc("9293 3.9.1.1", "9293 MUST-44", "9293 MUST-45")
def test_active_open_without_local_address_asks_ip(net, dut_ip, peer_ip, family):
    """§3.9.1.1: without a local address the TCP implementation "MUST ask the IP layer to select a local IP
    address before sending the (first) SYN (MUST-44)", then keeps it (MUST-45): one of the interface's
    addresses (RFC 1122 §3.3.4.2 leaves which to the host) on the SYN, its retransmission and the data."""
    dut, peer = two_address_bench(net, family)
    s = dut.tcp_connect(peer_ip, PEER_PORT, local_port=45001)
    first = peer.expect(ip(family, dst=peer_ip) / TCP(flags="S", dport=PEER_PORT), within="10ms")
    src = ip_of(first).src
    assert src in (dut_ip, addr(family, 3)), f"the SYN left from {src}, not an address of the DUT"
    # The first SYN goes unanswered; the connection opens on its retransmission, from the same address.
    conn = peer.tcp(src, local_port=PEER_PORT, isn=5000)
    syn = conn.accept(within="2s")
    assert ip_of(syn).src == src
    s.send(b"x")
    assert ip_of(conn.expect(flags="PA", within="10ms")).src == src


@pytest.mark.rfc("9293 3.9.1.1", "9293 MUST-45")
def test_passive_open_answers_from_the_address_it_was_reached_at(net, family):
    """§3.9.1.1: a passive OPEN without a local address binds "the local IP address of the connection to the
    particular address that is used" and keeps it (MUST-45): a SYN to the second address is answered, and
    the connection goes on, from that address."""
    dut, peer = two_address_bench(net, family)
    three = addr(family, 3)
    listener = dut.tcp_listen(SERVER_PORT)
    conn = peer.tcp(three, SERVER_PORT, local_port=CLIENT_PORT)
    synack = conn.connect(within="10ms")
    assert ip_of(synack).src == three
    dut.net.run(for_="1ms")
    sock = listener.accept()
    sock.send(b"three")
    assert ip_of(conn.expect(flags="PA", within="10ms")).src == three


@pytest.mark.rfc("9293 3.9.1", "9293 MUST-49")
@pytest.mark.parametrize("ttl", [1, 17, 255])
def test_ttl_of_tcp_segments_is_configurable(dut, peer, ttl, dut_ip, peer_ip, family):
    """§3.9.1: "The TTL value used to send TCP segments MUST be configurable (MUST-49)": a listener's TTL on
    its SYN-ACK and data, a connecting socket's on its SYN (over IPv6 the Hop Limit)."""
    conn, sock, _ = passive(dut, peer, ttl=ttl)
    assert conn.last is not None
    sock.send(b"t")
    d = conn.expect(flags="PA", within="10ms")
    assert ttl_of(d) == ttl
    s2 = dut.tcp_connect(peer_ip, PEER_PORT, ttl=ttl)
    syn = peer.expect(ip(family, src=dut_ip) / TCP(flags="S", dport=PEER_PORT), within="10ms")
    assert ttl_of(syn) == ttl
    s2.abort()


@pytest.mark.ipv4_only("IPv4 header options (RFC 791 §3.1); IPv6 carries options in extension headers, which the "
                      "ipv6 area checks")
@pytest.mark.rfc("9293 3.9.2", "9293 MUST-50")
def test_ip_options_tcp_does_not_understand_are_ignored(dut, peer):
    """§3.9.2: "a TCP implementation MUST ignore options that it does not understand (MUST-50)": a SYN
    carrying a Router Alert, and data carrying an unknown option (type 30, experimental), are processed
    as without them."""
    listener = dut.tcp_listen(SERVER_PORT)
    conn = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT)
    syn = conn.segment(flags="S")
    syn[IP].options = [IPOption_Router_Alert(), IPOption_NOP(), IPOption_NOP(), IPOption_NOP(), IPOption_NOP()]
    peer.send(syn)
    conn.snd_nxt = seq_add(conn.snd_nxt, 1)
    conn.expect(flags="SA", ack=conn.snd_nxt, within="10ms")
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    sock = listener.accept()
    assert sock is not None
    data = conn.segment(flags="PA", payload=b"optioned")
    data[IP].options = [IPOption(b"\x1e\x04\xab\xcd")]
    peer.send(data)
    conn.snd_nxt = seq_add(conn.snd_nxt, 8)
    conn.expect(flags="A", ack=conn.snd_nxt, within="1s")
    assert drain(sock) == b"optioned"


@pytest.mark.rfc("9293 3.9.1.2", "9293 MUST-60", "9293 MUST-61")
def test_data_is_never_buffered_indefinitely(dut, peer):
    """§3.9.1.2: without PUSH on SEND the sender "MUST NOT buffer data indefinitely (MUST-60), and (2) MUST
    set the PSH bit in the last buffered segment (MUST-61)". The socket API has no PUSH flag: a small write
    with nothing in flight leaves at once with PSH; one written while data is unacknowledged (held by
    Nagle) leaves the instant the ACK arrives, with PSH."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1000})
    sock.send(b"first")
    a = conn.expect(flags="PA", payload=b"first", within="1ms")
    sock.send(b"second")
    conn.expect_nothing(for_="100ms", flags="PA")
    ack = conn.send(flags="A")
    t_ack = dut.net.now_ns
    b = conn.expect(flags="PA", payload=b"second", within="1ms")
    assert "P" in str(a[TCP].flags) and "P" in str(b[TCP].flags)
    assert ack is not None and b.time_ns - t_ack < 1_000_000


@pytest.mark.rfc("9293 3.10.7.4", "9293 MUST-58", "9293 3.8.6.3")
def test_acks_of_back_to_back_segments_are_aggregated(dut, peer, profile, family):
    """§3.10.7.4: "the processing of received segments MUST be implemented to aggregate ACK segments
    whenever possible (MUST-58)". Four full-sized segments arriving back to back draw fewer than four ACKs but
    at least one for every second segment (§3.8.6.3), and the last ACK covers all of them. The Tern stack sends
    exactly two (one per second segment); Linux acknowledges the first full-sized segment after small ones at
    once (its receive-MSS estimate grows) and holds the rest for its delayed-ACK timer while the window would
    shrink: two or three."""
    # A receive buffer the DUT's window starts at: a DUT that grows its window as data comes (Linux's
    # tcp_grow_window) acknowledges every segment at once while it grows, to announce the larger window.
    full = MSS if family == "ipv4" else MSS - 20  # full-sized on a 1500-byte link (IPv6's header is 20 longer)
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": full}, rx_buffer=16384)
    for _ in range(profile.quickacks):  # a DUT in quick-ACK mode at the start (Linux) first leaves it
        conn.send(flags="PA", payload=b"q")
        sent = dut.net.now_ns
        if conn.expect(flags="A", ack=conn.snd_nxt, within="1s").time_ns - sent > 10_000_000:
            break  # a delayed ACK: quick-ACK mode is over (Linux's quick ACKs number window / (2 x MSS), at most 16)
    conn.send_burst([bytes(full)] * 4)  # at one instant (a real-time DUT gets them microseconds apart)
    dut.net.run(for_="300ms")
    acks = [p for p in peer.received() if TCP in p and p[TCP].sport == SERVER_PORT]
    assert 2 <= len(acks) < 4, f"{len(acks)} ACKs for 4 segments: {[p[TCP].ack for p in acks]}"
    if tern_stack(dut):
        assert len(acks) == 2, f"{len(acks)} ACKs for 4 segments: {[p[TCP].ack for p in acks]}"
    assert acks[-1][TCP].ack == conn.snd_nxt


@pytest.mark.rfc("9293 3.9.2.3", "9293 MUST-57")
@pytest.mark.parametrize("to", ["subnet_broadcast", "control"])
def test_syn_to_the_subnet_broadcast_leaves_no_half_open_connection(dut, peer, to, dut_ip, peer_ip, family):
    """§3.9.2.3: "A TCP implementation MUST silently discard an incoming SYN segment that is addressed to a
    broadcast or multicast address (MUST-57)." Silently means no answer and no state: a SYN to 10.0.0.255
    (over IPv6, which has no broadcast, the all-nodes group ff02::1) draws nothing, and with a backlog of one it
    takes no place in the SYN queue: a real handshake right after completes. The control: the same SYN to the
    DUT's own address is answered."""
    from scapy.layers.l2 import Ether

    listener = dut.tcp_listen(SERVER_PORT, backlog=1)
    if to == "control":
        dst, eth = dut_ip, dut.mac
    elif family == "ipv4":
        dst, eth = "10.0.0.255", "ff:ff:ff:ff:ff:ff"
    else:
        dst, eth = "ff02::1", "33:33:00:00:00:01"
    peer.send(Ether(dst=eth) / ip(family, src=peer_ip, dst=dst) / TCP(sport=CLIENT_PORT + 7, dport=SERVER_PORT,
                                                                      flags="S", seq=1))
    if to == "control":
        peer.expect(ip(family, src=dut_ip) / TCP(flags="SA", dport=CLIENT_PORT + 7, ack=2), within="10ms")
        return
    peer.expect_nothing(for_="100ms", matching=TCP())
    conn = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT)
    conn.connect(within="10ms")
    dut.net.run(for_="1ms")
    assert listener.accept() is not None
