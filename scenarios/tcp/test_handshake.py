"""TCP connection establishment (RFC 9293 §3.5): passive and active open,
simultaneous open, SYN carrying data, options in the SYN, RSTs to
handshake segments that do not belong to a connection."""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from pyharness import ANY
from pyharness.dut import linux_deviation
from pyharness.errors import ConfigError, NetworkError
from pyharness.ipkit import default_mss, ip, tcp_overhead
from tcpkit import (EXACT, CLIENT_PORT, T, ns, PEER_PORT, SERVER_PORT, active, drain, passive, seq_add,
                    tcp_option, tcp_payload)

pytestmark = pytest.mark.area("tcp")


@pytest.mark.rfc("9293 3.5", "9293 3.10.7.2")
def test_passive_open_three_way_handshake(dut, peer, profile, peer_ip, family):
    listener = dut.tcp_listen(SERVER_PORT)
    conn = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT, isn=1000)
    conn.send(flags="S")
    synack = conn.expect(flags="SA", ack=1001, within="10ms", mss=profile.mtu - tcp_overhead(family))
    assert listener.accept() is None, "accept() returned a connection before the final ACK"
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    sock = listener.accept()
    assert sock is not None and sock.state == "ESTABLISHED"
    info = sock.info()
    assert info.irs == 1000 and info.rcv_nxt == 1001
    assert info.iss == synack[TCP].seq and info.snd_nxt == seq_add(info.iss, 1)
    assert (info.remote, info.remote_port, info.local_port) == (peer_ip, CLIENT_PORT, SERVER_PORT)


@pytest.mark.rfc("9293 3.5", "9293 3.10.1", "9293 3.10.7.3")
def test_active_open_three_way_handshake(dut, peer, profile, peer_ip, family):
    sock = dut.tcp_connect(peer_ip, PEER_PORT)
    conn = peer.tcp(dut, local_port=PEER_PORT, isn=5000)
    syn = conn.expect(flags="S", ack=0, within="10ms", dport=PEER_PORT, mss=profile.mtu - tcp_overhead(family))
    assert sock.state == "SYN_SENT"
    assert not tcp_payload(syn)
    conn.send(flags="SA")
    conn.expect(flags="A", seq=seq_add(syn[TCP].seq, 1), ack=5001, payload=b"", within="10ms")
    assert sock.state == "ESTABLISHED"
    info = sock.info()
    assert info.irs == 5000 and info.iss == syn[TCP].seq


@pytest.mark.rfc("9293 3.5", "9293 MUST-10")
def test_simultaneous_open(dut, peer, peer_ip):
    """Both ends send SYN: SYN-SENT -> SYN-RECEIVED -> ESTABLISHED (RFC 9293 figure 7)."""
    sock = dut.tcp_connect(peer_ip, PEER_PORT, local_port=45000)
    conn = peer.tcp(dut, 45000, local_port=PEER_PORT, isn=7000)
    syn = conn.expect(flags="S", within="10ms")
    conn.send(flags="S", ack=0)  # our own SYN crosses theirs
    synack = conn.expect(flags="SA", seq=syn[TCP].seq, ack=7001, within="10ms")
    assert sock.state == "SYN_RECEIVED"
    # Our SYN-ACK would repeat the SYN below RCV.NXT; the ACK of theirs completes the open.
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    assert sock.state == "ESTABLISHED"
    assert synack[TCP].ack == 7001
    sock.send(b"after-simultaneous-open")
    conn.expect(flags="PA", seq=seq_add(syn[TCP].seq, 1), ack=7001, payload=b"after-simultaneous-open",
                within="10ms")


@pytest.mark.rfc("9293 3.5", "9293 3.10.7.2")
def test_syn_with_data_is_delivered_after_the_handshake(dut, peer):
    """Data in a SYN is queued and delivered once the connection is established (§3.10.7.2)."""
    listener = dut.tcp_listen(SERVER_PORT)
    conn = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT, isn=1000)
    conn.send(flags="S", payload=b"early")
    conn.expect(flags="SA", ack=ANY, within="10ms")
    # Whether or not the SYN's data was kept, the ACK tells; resend what is not acknowledged.
    acked = conn.last[TCP].ack
    assert acked in (1001, 1006)
    conn.snd_nxt = acked
    conn.send(flags="A")
    if acked == 1001:
        conn.send(flags="PA", payload=b"early")
    dut.net.run(for_="300ms")
    sock = listener.accept()
    assert drain(sock) == b"early"


@pytest.mark.rfc("9293 3.10.7.3")
@linux_deviation('RFC 9293 section 3.10.7.3 (SYN-SENT, our SYN acknowledged): "If there are other controls or text '
                 'in the segment, then continue processing at the sixth step under Section 3.10.7.4 where the URG '
                 'bit is checked; otherwise, return." Linux acknowledges only the SYN of a SYN-ACK carrying data '
                 '(not TCP Fast Open) and frees the text: tcp_rcv_synsent_state_process() returns -1 after its ACK '
                 'and tcp_rcv_state_process() drops the segment; the peer must send it again.')
def test_syn_ack_with_data_in_syn_sent(dut, peer, peer_ip):
    sock = dut.tcp_connect(peer_ip, PEER_PORT)
    conn = peer.tcp(dut, local_port=PEER_PORT, isn=5000)
    conn.expect(flags="S", within="10ms")
    conn.send(flags="SA", payload=b"banner")
    conn.expect(flags="A", ack=5007, within=f"{dut.profile.delack + 10_000_000}ns")
    assert drain(sock) == b"banner"


@pytest.mark.rfc("9293 3.10.7.1", "9293 3.5.2")
@pytest.mark.parametrize("flags,expect_flags,seq_from", [
    ("S", "RA", None), ("A", "R", "ack"), ("PA", "R", "ack"), ("FA", "R", "ack"), ("F", "RA", None),
    ("", "RA", None),
])
def test_segment_to_closed_port_gets_rst(dut, peer, flags, expect_flags, seq_from):
    """CLOSED: ACK set -> <SEQ=SEG.ACK><CTL=RST>; else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>."""
    conn = peer.tcp(dut, 81, local_port=CLIENT_PORT, isn=1000)
    conn.rcv_nxt = 0xDEADBEEF
    payload = b"abc" if "P" in flags else b""
    seg = conn.send(flags=flags, payload=payload)
    seglen = len(payload) + ("S" in flags) + ("F" in flags)
    if seq_from == "ack":
        conn.expect(flags=expect_flags, seq=0xDEADBEEF, within="10ms")
    else:
        conn.expect(flags=expect_flags, seq=0, ack=seq_add(1000, seglen), within="10ms")
    del seg


@pytest.mark.rfc("9293 3.10.7.1")
def test_rst_to_closed_port_gets_nothing(dut, peer):
    conn = peer.tcp(dut, 81, local_port=CLIENT_PORT, isn=1000)
    conn.send(flags="R")
    conn.send(flags="RA", ack=5)
    conn.expect_nothing(for_="1s")
    # positive control: a SYN to the same closed port is answered with a RST
    conn.send(flags="S")
    conn.expect(flags="RA", within="10ms")


@pytest.mark.rfc("9293 3.10.7.2")
def test_listen_ignores_rst(dut, peer):
    dut.tcp_listen(SERVER_PORT)
    conn = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT)
    conn.send(flags="R")
    conn.expect_nothing(for_="500ms")
    conn.connect(within="10ms")  # the listener is still there


@pytest.mark.rfc("9293 3.10.7.2")
def test_listen_answers_ack_with_rst(dut, peer):
    dut.tcp_listen(SERVER_PORT)
    conn = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT)
    conn.send(flags="A", ack=123456)
    conn.expect(flags="R", seq=123456, within="10ms")


@pytest.mark.rfc("9293 3.10.7.2")
def test_listen_drops_segment_without_syn_ack_or_rst(dut, peer):
    listener = dut.tcp_listen(SERVER_PORT)
    conn = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT)
    conn.send(flags="F")
    conn.send(flags="P", payload=b"x")
    conn.expect_nothing(for_="500ms")
    assert listener.accept() is None
    conn.connect(within="10ms")  # positive control: a SYN to the same listener is answered


@pytest.mark.rfc("9293 3.10.7.3", "5961 3.2")
def test_syn_sent_unacceptable_ack_gets_rst(dut, peer, peer_ip):
    sock = dut.tcp_connect(peer_ip, PEER_PORT)
    conn = peer.tcp(dut, local_port=PEER_PORT, isn=5000)
    syn = conn.expect(flags="S", within="10ms")
    bad = seq_add(syn[TCP].seq, 1000)
    conn.send(flags="SA", ack=bad)
    conn.expect(flags="R", seq=bad, within="10ms")
    assert sock.state == "SYN_SENT"


@pytest.mark.rfc("9293 3.10.7.3")
def test_syn_sent_rst_with_acceptable_ack_refuses(dut, peer, peer_ip):
    sock = dut.tcp_connect(peer_ip, PEER_PORT)
    conn = peer.tcp(dut, local_port=PEER_PORT, isn=0)
    syn = conn.expect(flags="S", within="10ms")
    conn.send(flags="RA", seq=0, ack=seq_add(syn[TCP].seq, 1))
    dut.net.run(for_="1ms")
    info = sock.info()
    assert info.state == "CLOSED" and info.error == "CONN_REFUSED"
    conn.expect_nothing(for_="3s")  # no SYN retransmission after the refusal


@pytest.mark.rfc("9293 3.10.7.3")
@pytest.mark.parametrize("ack_off", [0, 2])
def test_syn_sent_rst_with_bad_or_no_ack_is_dropped(dut, peer, ack_off, peer_ip):
    sock = dut.tcp_connect(peer_ip, PEER_PORT)
    conn = peer.tcp(dut, local_port=PEER_PORT, isn=0)
    syn = conn.expect(flags="S", within="10ms")
    if ack_off:
        conn.send(flags="RA", seq=0, ack=seq_add(syn[TCP].seq, ack_off))
    else:
        conn.send(flags="R", seq=0, ack=0)
    dut.net.run(for_="1ms")
    assert sock.state == "SYN_SENT"


@pytest.mark.rfc("9293 3.10.7.4", "9293 3.5", "9293 MUST-11")
def test_syn_received_rst_returns_passive_open_to_listen(dut, peer):
    listener = dut.tcp_listen(SERVER_PORT)
    conn = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT, isn=1000)
    conn.send(flags="S")
    conn.expect(flags="SA", within="10ms")
    conn.send(flags="R")
    conn.expect_nothing(for_="2s")  # no SYN-ACK retransmission for a reset half-open connection
    assert listener.accept() is None
    again = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT + 1, isn=9000)
    again.connect(within="10ms")


@pytest.mark.rfc("9293 3.10.7.4", "9293 3.5")
def test_syn_received_bad_ack_gets_rst(dut, peer):
    dut.tcp_listen(SERVER_PORT)
    conn = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT, isn=1000)
    conn.send(flags="S")
    sa = conn.expect(flags="SA", within="10ms")
    bad = seq_add(sa[TCP].seq, 100)
    conn.send(flags="A", ack=bad)
    conn.expect(flags="R", seq=bad, within="10ms")


@pytest.mark.rfc("9293 3.5", "6298 5")
def test_syn_ack_retransmitted_when_final_ack_is_lost(dut, peer, profile):
    dut.tcp_listen(SERVER_PORT)
    conn = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT, isn=1000)
    conn.send(flags="S")
    sa = conn.expect(flags="SA", within="10ms")
    t0 = ns(sa)
    conn.expect(flags="SA", seq=sa[TCP].seq, ack=1001, at=T(t0 + profile.rto_initial), tolerance=EXACT)
    conn.expect(flags="SA", seq=sa[TCP].seq, ack=1001, at=T(t0 + 3 * profile.rto_initial), tolerance=EXACT)


@pytest.mark.rfc("9293 3.10.7.2")
def test_duplicate_syn_in_syn_received_gets_same_syn_ack(dut, peer):
    dut.tcp_listen(SERVER_PORT)
    conn = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT, isn=1000)
    conn.send(flags="S")
    sa = conn.expect(flags="SA", within="10ms")
    conn.send(flags="S", seq=1000)
    conn.expect(flags=ANY, seq=ANY, ack=1001, within="10ms")  # SYN-ACK again or a challenge ACK
    conn.send(flags="A")
    conn.snd_nxt = 1001
    dut.net.run(for_="1ms")
    del sa


OPTION_SETS = {
    "none": {},
    "mss": {"mss": 1000},
    "mss+wscale": {"mss": 1460, "wscale": 7},
    "mss+sack": {"mss": 1460, "sack": True},
    "mss+ts": {"mss": 1460, "ts": True},
    "all": {"mss": 1460, "wscale": 7, "sack": True, "ts": True},
    "wscale14": {"mss": 1460, "wscale": 14},
}


@pytest.mark.rfc("9293 3.7.1", "7323 2.2", "7323 3.2", "2018 2", "9293 MUST-14")
@pytest.mark.parametrize("name", list(OPTION_SETS))
def test_syn_ack_answers_only_options_offered(dut, peer, profile, name, family):
    """A SYN-ACK carries window scale, SACK-permitted and timestamps only if the SYN did (RFC 7323 §1.3, RFC 2018 §2)."""
    offered = OPTION_SETS[name]
    conn, sock, _ = passive(dut, peer, peer_opts=offered, sack=True, timestamps=True, window_scaling=True)
    info = sock.info()
    assert info.sack_ok == bool(offered.get("sack"))
    assert info.ts_ok == bool(offered.get("ts"))
    assert (conn.remote_wscale is not None) == ("wscale" in offered)
    assert conn.remote_sack == bool(offered.get("sack"))
    assert conn.remote_ts == bool(offered.get("ts"))
    # Effective send MSS: the peer's MSS (536 if absent, 1220 over IPv6), at most what the MTU leaves, less the
    # TCP options every segment carries (RFC 9293 §3.7.1, RFC 6691 §2).
    mss = min(offered.get("mss", default_mss(family)), profile.mtu - tcp_overhead(family))
    assert info.snd_mss == mss - (12 if offered.get("ts") else 0)


@pytest.mark.rfc("9293 3.7.1", "7323 2.2", "2018 2")
def test_active_open_offers_configured_options(dut, peer, profile, peer_ip, family):
    dut.tcp_connect(peer_ip, PEER_PORT, sack=True, timestamps=True, window_scaling=True)
    conn = peer.tcp(dut, local_port=PEER_PORT)
    syn = conn.expect(flags="S", within="10ms", mss=profile.mtu - tcp_overhead(family), sack_ok=True, ts=True,
                      wscale=ANY)
    tsval, tsecr = tcp_option(syn, "Timestamp")
    assert tsecr == 0


@pytest.mark.rfc("9293 3.7.1", "9293 MUST-67")
def test_mss_socket_option_clamps_announced_mss(dut, peer, peer_ip):
    dut.tcp_connect(peer_ip, PEER_PORT, mss=800)
    conn = peer.tcp(dut, local_port=PEER_PORT)
    conn.expect(flags="S", within="10ms", mss=800)


@pytest.mark.rfc("9293 3.9.1.2", "9293 MUST-46")
def test_connect_to_broadcast_is_refused(dut, peer, profile, peer_ip, family):
    """Over IPv6, which has no broadcast, the all-nodes multicast group ff02::1: MUST-46 covers "a broadcast or
    multicast" foreign socket alike."""
    # Tern refuses the address itself (ConfigError naming it); Linux answers ENETUNREACH.
    group = "10.0.0.255" if family == "ipv4" else "ff02::1"
    if profile.name == "tern":
        with pytest.raises(ConfigError, match="broadcast address" if family == "ipv4" else "unicast"):
            dut.tcp_connect(group, PEER_PORT)
    else:
        with pytest.raises(NetworkError, match="ENETUNREACH"):
            dut.tcp_connect(group, PEER_PORT)
    peer.expect_nothing(for_="100ms", matching=TCP())
    # positive control: a connection to the peer's unicast address sends its SYN
    dut.tcp_connect(peer_ip, PEER_PORT)
    peer.expect(TCP(flags="S", dport=PEER_PORT), within="1s")


@pytest.mark.rfc("9293 3.9.2.2", "9293 MUST-57")
def test_syn_to_broadcast_address_is_discarded(dut, peer, dut_ip, peer_ip, family):
    """Over IPv6 (no broadcast) the SYN goes to the all-nodes group ff02::1 in a multicast frame."""
    from scapy.layers.l2 import Ether

    dut.tcp_listen(SERVER_PORT)
    dst, mac = ("10.0.0.255", "ff:ff:ff:ff:ff:ff") if family == "ipv4" else ("ff02::1", "33:33:00:00:00:01")
    peer.send(Ether(dst=mac) / ip(family, src=peer_ip, dst=dst) /
              TCP(sport=CLIENT_PORT, dport=SERVER_PORT, flags="S", seq=1))
    peer.expect_nothing(for_="200ms", matching=TCP())
    # positive control: the same SYN to the DUT's unicast address gets its SYN-ACK
    peer.send(Ether(dst=dut.mac) / ip(family, src=peer_ip, dst=dut_ip) /
              TCP(sport=CLIENT_PORT, dport=SERVER_PORT, flags="S", seq=1))
    peer.expect(TCP(flags="SA", sport=SERVER_PORT, dport=CLIENT_PORT, ack=2), within="10ms")


@pytest.mark.rfc("9293 3.10.7.2", "9293 3.10.1")
def test_listen_queue_full_behaviour(dut, peer, profile):
    """Backlog 1: one connection waits for accept(); a second handshake cannot complete; a third
    SYN finds the SYN queue full. The profile says what a full queue does with a SYN."""
    listener = dut.tcp_listen(SERVER_PORT, backlog=1)
    held = 1 + profile.backlog_extra  # what the queue holds for backlog 1 (Linux: backlog + 1)
    for i in range(held):
        first = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT + (10 + i if i else 0), isn=1000 + 100 * i)
        first.connect(within="10ms")
    dut.net.run(for_="1ms")
    assert listener.accept_pending == held
    if profile.backlog_extra:
        pytest.skip(f"the {profile.name} profile drops SYNs while the accept queue is full (no SYN-ACK); the rest "
                    "of the scenario assumes a SYN-ACK whose ACK is ignored (RFC 9293 does not define the backlog)")
    second = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT + 1, isn=2000)
    second.send(flags="S")
    sa = second.expect(flags="SA", ack=2001, within="10ms")
    second.send(flags="A")
    dut.net.run(for_="1ms")
    assert listener.accept_pending == held, "a handshake completed into a full accept queue"
    third = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT + 2, isn=3000)
    third.send(flags="S")
    if profile.backlog_full == "drop":
        third.expect_nothing(for_="100ms")
    elif profile.backlog_full == "syncookie":
        third.expect(flags="SA", ack=3001, within="10ms")  # RFC 4987 §3.6: no state kept for it
    else:
        third.expect(flags="RA", ack=3001, within="10ms")
    assert listener.accept() is not None
    # Room again: the second connection completes with its next ACK (after its SYN-ACK comes again).
    second.expect(flags="SA", seq=sa[TCP].seq, within="2s")
    second.send(flags="A")
    dut.net.run(for_="1ms")
    assert listener.accept() is not None


@pytest.mark.rfc("9293 3.9.1.1", "9293 MUST-42")
def test_listener_keeps_listening_while_connections_exist(dut, peer):
    listener = dut.tcp_listen(SERVER_PORT)
    conns = []
    for i in range(3):
        c = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT + i, isn=1000 * (i + 1))
        c.connect(within="10ms")
        conns.append(c)
    dut.net.run(for_="1ms")
    socks = [listener.accept() for _ in range(3)]
    assert all(s is not None for s in socks)
    assert sorted(s.info().remote_port for s in socks) == [CLIENT_PORT, CLIENT_PORT + 1, CLIENT_PORT + 2]
