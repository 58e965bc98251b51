"""TCP options (RFC 9293 §3.2, §3.7.1; RFC 7323; RFC 2018): MSS absent ->
536, MSS clamping, window scale above 14, timestamps and PAWS, SACK blocks
sent, unknown options skipped, malformed option lists handled."""

from __future__ import annotations

import pytest
from pyharness import has_flags
from scapy.layers.inet import TCP

from pyharness.ipkit import default_mss, tcp_overhead
from tcpkit import (ip_of, peer_ip_of, send_raw_tcp, CLIENT_PORT, PEER_PORT, SERVER_PORT, active, drain, inject,
                    passive, seq_add, tcp_option, tcp_payload)

pytestmark = pytest.mark.area("tcp")


def first_data_len(conn, sock, n=5000):
    sock.set_option("nodelay", True)
    sock.send(bytes(n))
    seg = conn.expect(seq=conn.rcv_nxt, within="10ms")
    return len(tcp_payload(seg))


@pytest.mark.rfc("9293 3.7.1", "9293 MUST-15")
def test_mss_absent_means_536(dut, peer, family):
    """RFC 9293 §3.7.1: "If an MSS Option is not received at connection setup, TCP implementations MUST assume a
    default send MSS of 536 (576 - 40) for IPv4 or 1220 (1280 - 60) for IPv6 (MUST-15)."
    """
    conn, sock, _ = passive(dut, peer)
    assert sock.info().snd_mss == default_mss(family)
    assert first_data_len(conn, sock) == default_mss(family)


@pytest.mark.rfc("9293 3.7.1", "9293 MUST-14", "9293 MUST-16")
@pytest.mark.parametrize("mss", [88, 536, 1000, 1460, 8960, 65535])
def test_segments_never_exceed_peer_mss_or_mtu(dut, peer, profile, mss, family):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": mss})
    assert first_data_len(conn, sock, 20000) == min(mss, profile.mtu - tcp_overhead(family))


@pytest.mark.rfc("6691 2", "9293 3.7.1", "7323 3")
def test_full_segments_with_timestamps_fit_the_mtu(dut, peer, profile, family):
    """RFC 6691 §2: "the sender MUST reduce the TCP data length to account for any IP or TCP options that it is
    including in the packets that it sends." With timestamps (a 12-byte option on every segment, RFC 7323 §3)
    and an MSS of MTU - 40 from the peer (MTU - 60 over IPv6), a full segment carries 12 bytes less and its
    datagram is the MTU."""
    hdrs = tcp_overhead(family)
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": profile.mtu - hdrs, "ts": True}, timestamps=True)
    sock.set_option("nodelay", True)
    sock.send(bytes(3 * profile.mtu))
    seg = conn.expect(seq=conn.rcv_nxt, ts=True, within="10ms")
    size = len(ip_of(seg))
    assert size <= profile.mtu, f"a {size}-byte datagram on a {profile.mtu}-byte MTU"
    assert len(tcp_payload(seg)) == profile.mtu - hdrs - 12


@pytest.mark.rfc("9293 3.7.1", "9293 MUST-16")
@pytest.mark.parametrize("mss", [0, 1, 8])
def test_tiny_or_zero_mss_is_clamped_never_zero_size(dut, peer, mss):
    """A zero or tiny MSS is clamped to a floor: data still flows, never in zero-byte segments."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": mss})
    n = first_data_len(conn, sock, 300)
    assert n > 0
    assert sock.info().snd_mss > 0


@pytest.mark.rfc("9293 3.7.1", "9293 MUST-67")
def test_announced_mss_is_mtu_minus_40(dut, peer, profile, family):
    """RFC 9293 §3.7.1: the MSS announced is the MTU less the fixed headers: 40 bytes over IPv4, 60 over IPv6."""
    dut.tcp_listen(SERVER_PORT)
    conn = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT)
    conn.send(flags="S")
    conn.expect(flags="SA", mss=profile.mtu - tcp_overhead(family), within="10ms")


@pytest.mark.rfc("9293 3.2", "9293 MUST-65")
def test_mss_only_in_syn(dut, peer):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1000})
    sock.send(b"data")
    seg = conn.expect(flags="PA", within="10ms")
    assert tcp_option(seg, "MSS") is None


@pytest.mark.rfc("7323 2.3")
@pytest.mark.parametrize("shift", [15, 20, 255])
def test_window_scale_above_14_is_treated_as_14(dut, peer, shift):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1000, "wscale": shift, "window": 1}, window_scaling=True)
    conn.wscale = 14  # what the DUT must assume; our window field is shifted accordingly
    conn.window = 1 << 14
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    info = sock.info()
    assert info.snd_wscale == 14
    assert info.snd_wnd == 1 << 14


@pytest.mark.rfc("7323 1.3", "7323 2.2")
def test_no_window_scaling_unless_both_offer(dut, peer):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1000}, window_scaling=True)
    info = sock.info()
    assert info.snd_wscale == 0 and info.rcv_wscale == 0
    sock.send(b"x")
    assert conn.expect(flags="PA", within="10ms")[TCP].window == info.rcv_wnd


@pytest.mark.rfc("7323 3.2", "7323 4.3")
def test_timestamps_echoed(dut, peer):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1000, "ts": True}, timestamps=True)
    assert sock.info().ts_ok
    dut.net.run(for_="50ms")
    sent = conn.send(flags="PA", payload=b"tsdata")
    tsval = tcp_option(sent, "Timestamp")[0]
    a = conn.expect(flags="A", within="1s", ts=True)
    assert tcp_option(a, "Timestamp")[1] == tsval


@pytest.mark.rfc("7323 3.2")
def test_timestamps_on_every_segment_once_negotiated(dut, peer):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1000, "ts": True}, timestamps=True)
    sock.send(bytes(3000))
    for _ in range(3):
        conn.expect(seq=conn.rcv_nxt, ts=True, within="10ms")
    sock.shutdown("wr")
    conn.expect(flags=has_flags("F"), ts=True, within="1s")


@pytest.mark.rfc("7323 3.2")
def test_no_timestamps_when_peer_did_not_offer(dut, peer):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1000}, timestamps=True)
    sock.send(b"plain")
    conn.expect(flags="PA", ts=False, within="10ms")


@pytest.mark.rfc("7323 5.3", "7323 5.2")
def test_paws_drops_old_timestamp(dut, peer):
    """PAWS: a segment whose TSval is older than TS.Recent is dropped and answered with an ACK."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1000, "ts": True}, timestamps=True)
    dut.net.run(for_="100ms")
    conn.send(flags="PA", payload=b"fresh")
    dut.net.run(for_="1ms")
    assert drain(sock) == b"fresh"
    old = [("NOP", None), ("NOP", None), ("Timestamp", (1, conn.ts_recent))]  # TSval far in the past
    inject(conn, flags="PA", payload=b"stale", options=old)
    conn.expect(flags="A", ack=conn.snd_nxt, within="10ms")
    dut.net.run(for_="1ms")
    assert drain(sock) == b""


@pytest.mark.rfc("7323 5.3")
def test_paws_does_not_drop_rst(dut, peer):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1000, "ts": True}, timestamps=True)
    dut.net.run(for_="100ms")
    conn.send(flags="A")
    conn.send(flags="R", ack=0, options=[("NOP", None), ("NOP", None), ("Timestamp", (1, 0))])
    dut.net.run(for_="1ms")
    assert sock.info().state == "CLOSED"


@pytest.mark.rfc("2018 2", "2018 4")
def test_dut_sends_sack_blocks_for_out_of_order_data(dut, peer):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1000, "sack": True}, sack=True)
    base = conn.snd_nxt
    inject(conn, flags="PA", seq=seq_add(base, 100), payload=b"b" * 100)
    a = conn.expect(flags="A", ack=base, within="10ms")
    blocks = tcp_option(a, "SAck")
    assert blocks is not None and tuple(blocks[:2]) == (seq_add(base, 100), seq_add(base, 200))
    inject(conn, flags="PA", seq=seq_add(base, 300), payload=b"d" * 100)
    a = conn.expect(flags="A", ack=base, within="10ms")
    blocks = tcp_option(a, "SAck")
    assert tuple(blocks[:2]) == (seq_add(base, 300), seq_add(base, 400)), "the most recent block comes first"
    assert (seq_add(base, 100), seq_add(base, 200)) in list(zip(blocks[::2], blocks[1::2]))


@pytest.mark.rfc("2018 2")
def test_no_sack_blocks_without_sack_permitted(dut, peer):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1000}, sack=True)
    inject(conn, flags="PA", seq=seq_add(conn.snd_nxt, 100), payload=b"b" * 100)
    a = conn.expect(flags="A", within="10ms")
    assert tcp_option(a, "SAck") is None


@pytest.mark.rfc("9293 3.2", "9293 MUST-6", "9293 MUST-5")
# Kind 30 (MPTCP, not implemented), and the experimental kinds 254 and 253 (RFC 6994) with an 18-byte
# option; not kind 19 (TCP-MD5, RFC 2385, assigned: a stack that implements it drops a segment carrying it
# on a connection without a key, which MUST-6 does not cover).
@pytest.mark.parametrize("opt", [b"\x1e\x04\xab\xcd", b"\xfe\x06\x00\x00\x00\x00", b"\xfd\x12" + bytes(16)])
def test_unknown_options_are_skipped(dut, peer, opt):
    conn, sock, _ = passive(dut, peer)
    seg = conn.segment(flags="PA", payload=b"after-unknown")
    send_raw_tcp(peer, bytes(seg[TCP])[:20], opt, b"after-unknown", dst=dut.ip, src=peer_ip_of(dut))
    conn.snd_nxt = seq_add(conn.snd_nxt, len(b"after-unknown"))
    conn.expect(flags="A", ack=conn.snd_nxt, within="1s")
    assert drain(sock) == b"after-unknown"


MALFORMED = {
    "len0": b"\x08\x00" + b"\x01" * 6,  # timestamp with length 0 (an option loop)
    "len1": b"\x02\x01\x01\x01",  # MSS with length 1
    "past_end": b"\x01\x01\x05\x20",  # SACK claiming 32 bytes
    "mss_wrong_len": b"\x02\x03\x05\xb4",
    "ts_short": b"\x08\x06\x00\x00\x00\x01",
    "sack_odd": b"\x01\x01\x05\x06\x00\x00\x00\x01",
}


@pytest.mark.rfc("9293 3.2", "9293 MUST-7", "9293 MUST-68")
@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_option_list_in_data_segment(dut, peer, name):
    """A malformed option list: handled in bounded time (the segment dropped or the connection reset,
    MUST-7), and the DUT keeps working (a new connection completes)."""
    conn, sock, listener = passive(dut, peer)
    seg = conn.segment(flags="PA", payload=b"payload")
    send_raw_tcp(peer, bytes(seg[TCP])[:20], MALFORMED[name], b"payload", dst=dut.ip, src=peer_ip_of(dut))
    dut.net.run(for_="300ms")
    got = drain(sock) if sock.info().state == "ESTABLISHED" else b""
    assert got in (b"", b"payload")
    other = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT + 7, isn=777)
    other.connect(within="10ms")


@pytest.mark.rfc("9293 3.2", "9293 MUST-7")
@pytest.mark.parametrize("name", ["len0", "len1", "past_end"])
def test_malformed_option_list_in_syn(dut, peer, name):
    listener = dut.tcp_listen(SERVER_PORT)
    hdr = bytes(TCP(sport=CLIENT_PORT, dport=SERVER_PORT, flags="S", seq=1000, window=65535))[:20]
    send_raw_tcp(peer, hdr, MALFORMED[name], dst=dut.ip, src=peer_ip_of(dut))
    dut.net.run(for_="300ms")
    for p in peer.received():
        if p.haslayer(TCP) and "S" in str(p[TCP].flags):
            assert tcp_option(p, "MSS") is not None
    ok = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT + 9, isn=5)
    ok.connect(within="10ms")


@pytest.mark.rfc("9293 3.2", "9293 MUST-64")
def test_options_need_not_be_aligned(dut, peer):
    """MSS after a single NOP and SACK-permitted after three: unaligned options are parsed."""
    dut.tcp_listen(SERVER_PORT, sack=True)
    opts = b"\x01\x02\x04\x03\xe8\x01\x01\x01\x04\x02\x00\x00"
    send_raw_tcp(peer, bytes(TCP(sport=CLIENT_PORT, dport=SERVER_PORT, flags="S", seq=1000, window=65535))[:20],
                 opts, dst=dut.ip, src=peer_ip_of(dut))
    sa = peer.expect(TCP(flags="SA", dport=CLIENT_PORT), within="10ms")
    assert tcp_option(sa, "SAckOK") is not None
