"""The DUT's TCP options with its default configuration (tern_stack_config_default: SACK, timestamps and
window scaling on, RFC 2018 and RFC 7323): offered in its SYN, accepted in its SYN-ACK, negotiated."""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from pyharness.ipkit import tcp_overhead
from tcpkit import CLIENT_PORT, PEER_PORT, SERVER_PORT, passive, tcp_option

pytestmark = pytest.mark.area("tcp")


@pytest.mark.rfc("9293 3.7.1", "2018 2", "7323 2.2", "7323 3.2")
def test_syn_offers_every_option_by_default(dut, peer, profile, peer_ip, family):
    dut.tcp_connect(peer_ip, PEER_PORT)
    conn = peer.tcp(dut, local_port=PEER_PORT)
    syn = conn.expect(flags="S", within="10ms")
    assert tcp_option(syn, "MSS") == profile.mtu - tcp_overhead(family)  # RFC 9293 §3.7.1: MTU - 40 / 60
    assert tcp_option(syn, "SAckOK") is not None
    assert tcp_option(syn, "WScale") is not None
    ts = tcp_option(syn, "Timestamp")
    assert ts is not None and ts[1] == 0  # RFC 7323 §3.2: TSecr 0 in a SYN


@pytest.mark.rfc("2018 2", "7323 2.2", "7323 3.2")
def test_syn_ack_accepts_every_option_by_default(dut, peer):
    dut.tcp_listen(SERVER_PORT)
    conn = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT, mss=1000, sack=True, ts=True, wscale=7)
    conn.send(flags="S")
    sa = conn.expect(flags="SA", within="10ms")
    assert tcp_option(sa, "SAckOK") is not None
    assert tcp_option(sa, "WScale") is not None
    assert tcp_option(sa, "Timestamp") is not None


@pytest.mark.rfc("2018 2", "7323 2.2", "7323 3.2")
def test_handshake_negotiates_every_option_by_default(dut, peer, profile):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1000, "sack": True, "ts": True, "wscale": 7})
    info = sock.info()
    assert info.sack_ok and info.ts_ok
    assert info.snd_wscale == 7 and info.rcv_wscale > 0
    sock.send(b"x")
    seg = conn.expect(flags="PA", within="10ms")
    assert tcp_option(seg, "Timestamp") is not None  # RFC 7323 §3.2: on every segment once negotiated
    # RCV.WND shifted right by the scale (RFC 7323 §2.3), rounded the DUT's way: Linux rounds up so as not
    # to scale a small window away (its info.rcv_wnd is the window its SYN-ACK offered, from the wire).
    if profile.window_scale_rounding == "up":
        assert seg[TCP].window == -(-info.rcv_wnd >> info.rcv_wscale)
    else:
        assert seg[TCP].window == info.rcv_wnd >> info.rcv_wscale


@pytest.mark.rfc("7323 2.2", "2018 2")
def test_peer_without_options_gets_none(dut, peer):
    """Options are offered, not imposed: a peer that offers only MSS gets a connection without them."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": 1000})
    info = sock.info()
    assert not info.sack_ok and not info.ts_ok
    assert info.snd_wscale == 0 and info.rcv_wscale == 0
