"""Resets (RFC 9293 §3.5.2, §3.5.3, §3.10.7): a RST at RCV.NXT in every
synchronized state, abort() in every state, segments to a connection that no
longer exists, and what the socket reports afterwards."""

from __future__ import annotations

import pytest

from pyharness.dut import linux_deviation
from scapy.layers.inet import TCP

from pyharness import has_flags
from pyharness.errors import NetworkError
from tcpkit import PEER_PORT, active, passive, seq_add, to_state

pytestmark = pytest.mark.area("tcp")

REFUSED = 'RFC 9293 3.10.7.4 (SYN-RECEIVED, RST): "If this connection was initiated with an active OPEN (i.e., came from SYN-SENT state), then the connection was refused; signal the user connection refused"; Linux reports ECONNRESET'

SYNC_STATES = ["ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT"]
#: States where RFC 9293 §3.10.7.4 says the user is told "connection reset".
RESET_REPORTED = {"ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT"}


@pytest.mark.rfc("9293 3.10.7.4", "5961 3.2", "9293 MUST-12")
@pytest.mark.parametrize("state", SYNC_STATES)
@pytest.mark.parametrize("flags", ["R", "RA"])
def test_rst_at_rcv_nxt_ends_connection(dut, peer, state, flags):
    conn, sock = to_state(dut, peer, state)
    conn.send(flags=flags, seq=conn.snd_nxt, ack=conn.rcv_nxt if "A" in flags else 0)
    dut.net.run(for_="1ms")
    info = sock.info()
    assert info.state == "CLOSED"
    if state in RESET_REPORTED:
        assert info.error == "CONN_RESET"
    # Nothing answers a RST, and the connection does not come back (no retransmissions).
    conn.expect_nothing(for_="3s")
    # positive control: the connection is gone, so a segment for it now gets a RST (§3.5.2)
    conn.send(flags="PA", payload=b"?")
    conn.expect(flags=has_flags("R"), within="10ms")


@pytest.mark.rfc("9293 3.10.7.4", "9293 3.5.3")
def test_after_reset_send_and_recv_fail(dut, peer):
    conn, sock, _ = passive(dut, peer)
    conn.reset()
    dut.net.run(for_="1ms")
    with pytest.raises(NetworkError, match="connection reset"):
        sock.send(b"x")
    with pytest.raises(NetworkError, match="connection reset"):
        sock.recv()


@pytest.mark.rfc("9293 3.10.7.4", "9293 3.5.3")
def test_reset_keeps_data_already_received(dut, peer):
    """Data acknowledged before the RST stays readable or the reset is reported; never silent loss as EOF."""
    conn, sock, _ = passive(dut, peer)
    conn.send(flags="PA", payload=b"before-reset")
    dut.net.run(for_="1ms")
    conn.reset()
    dut.net.run(for_="1ms")
    try:
        got = sock.recv()
    except NetworkError as e:  # the reset reported: allowed
        assert "connection reset" in str(e)
        got = None
    assert got != b"", "a reset connection reported a clean end of stream"


@pytest.mark.rfc("9293 3.10.5", "9293 3.5.2")
@pytest.mark.parametrize("state", ["ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT"])
def test_abort_sends_rst_at_snd_nxt(dut, peer, state):
    """ABORT in a synchronized state: <SEQ=SND.NXT><CTL=RST> (§3.10.5)."""
    conn, sock = to_state(dut, peer, state)
    snd_nxt = sock.info().snd_nxt
    sock.abort()
    conn.expect(flags=has_flags("R"), seq=snd_nxt, within="10ms")
    conn.expect_nothing(for_="3s")


@pytest.mark.rfc("9293 3.10.5")
@pytest.mark.parametrize("state", ["CLOSING", "LAST_ACK", "TIME_WAIT"])
def test_abort_in_closing_states_sends_nothing(dut, peer, profile, state):
    """ABORT in CLOSING, LAST-ACK or TIME-WAIT: delete the TCB, send nothing (§3.10.5)."""
    if state == "TIME_WAIT" and not profile.abort_in_time_wait:
        pytest.skip(f"the {profile.name} DUT's ABORT cannot reach a connection in TIME-WAIT: the connection has "
                    f"left the socket (DutProfile.abort_in_time_wait)")
    conn, sock = to_state(dut, peer, state)
    sock.abort()
    conn.expect_nothing(for_="3s")
    # positive control: the TCB is deleted, so a segment for it now gets a RST (§3.5.2)
    conn.send(flags="PA", payload=b"?")
    conn.expect(flags=has_flags("R"), within="10ms")


@pytest.mark.rfc("9293 3.10.5")
def test_abort_in_syn_sent_sends_nothing(dut, peer, peer_ip):
    sock = dut.tcp_connect(peer_ip, PEER_PORT)
    conn = peer.tcp(dut, local_port=PEER_PORT)
    conn.expect(flags="S", within="10ms")
    sock.abort()
    conn.expect_nothing(for_="5s")


@pytest.mark.rfc("9293 3.10.5")
def test_abort_discards_queued_data(dut, peer):
    conn, sock, _ = passive(dut, peer, peer_opts={"window": 0})
    sock.send(b"q" * 5000)
    dut.net.run(for_="1ms")
    snd_nxt = sock.info().snd_nxt
    sock.abort()
    conn.expect(flags=has_flags("R"), seq=snd_nxt, within="10ms")
    conn.expect_nothing(for_="5s")


@pytest.mark.rfc("9293 3.5.2", "9293 3.10.7.1")
@pytest.mark.parametrize("flags", ["A", "PA", "FA"])
def test_segment_after_connection_is_gone_gets_rst(dut, peer, flags):
    """A half-open connection: the DUT forgot it (abort), the peer keeps sending -> RST (§3.5.2 case 2)."""
    conn, sock, _ = passive(dut, peer)
    sock.abort()
    conn.expect(flags=has_flags("R"), within="10ms")
    conn.send(flags=flags, payload=b"data" if "P" in flags else b"")
    conn.expect(flags="R", seq=conn.rcv_nxt, within="10ms")


@pytest.mark.rfc("9293 3.5.2")
def test_old_connection_after_last_ack_gets_rst(dut, peer):
    conn, sock = to_state(dut, peer, "LAST_ACK")
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    assert sock.state == "CLOSED"
    conn.send(flags="PA", payload=b"late data")
    conn.expect(flags="R", seq=conn.rcv_nxt, within="10ms")


@pytest.mark.rfc("9293 3.5.2", "9293 3.10.7.3")
def test_active_open_refused_by_rst(dut, peer, peer_ip):
    sock = dut.tcp_connect(peer_ip, PEER_PORT)
    conn = peer.tcp(dut, local_port=PEER_PORT)
    syn = conn.expect(flags="S", within="10ms")
    conn.send(flags="RA", seq=0, ack=seq_add(syn[TCP].seq, 1))
    dut.net.run(for_="1ms")
    assert sock.info().error == "CONN_REFUSED"


@pytest.mark.rfc("9293 3.10.7.4", "9293 3.5.2", "9293 MUST-11")
@linux_deviation(REFUSED)
def test_rst_in_syn_received_from_active_open_refuses(dut, peer, peer_ip):
    """SYN-RECEIVED reached by an active open (simultaneous open): RST -> CLOSED, "connection refused"."""
    sock = dut.tcp_connect(peer_ip, PEER_PORT, local_port=45000)
    conn = peer.tcp(dut, 45000, local_port=PEER_PORT, isn=7000)
    conn.expect(flags="S", within="10ms")
    conn.send(flags="S", ack=0)
    conn.expect(flags="SA", within="10ms")
    assert sock.state == "SYN_RECEIVED"
    conn.send(flags="R", seq=7001)
    dut.net.run(for_="1ms")
    info = sock.info()
    assert info.state == "CLOSED" and info.error == "CONN_REFUSED"


@pytest.mark.rfc("9293 3.5.2", "2525 2.17")
def test_rst_carries_no_data_and_valid_checksum(dut, peer):
    conn, sock, _ = passive(dut, peer)
    sock.abort()
    rst = conn.expect(flags=has_flags("R"), within="10ms")
    from pyharness.ipkit import ip_of, l4_checksum

    layer = ip_of(rst)
    size = layer.len - 20 if type(layer).__name__ == "IP" else layer.plen
    assert size == 20, "RST with payload or options"
    assert rst[TCP].chksum == l4_checksum(rst, TCP)


@pytest.mark.rfc("9293 3.5.2")
@pytest.mark.dut("tern", reason="a golden trace is the Tern stack's canonical bytes (ISN, windows, options, timing)")
def test_golden_rst_cases(dut, peer, link, golden):
    """Golden trace: a connection reset by the peer, then a segment to the dead connection answered by RST."""
    conn, sock, _ = passive(dut, peer)
    conn.send(flags="PA", payload=b"hello")
    conn.expect(flags="A", ack=conn.snd_nxt, within="1s")
    conn.reset()
    dut.net.run(for_="1ms")
    conn.send(flags="PA", payload=b"again")
    conn.expect(flags="R", within="10ms")
    other = peer.tcp(dut, 81, local_port=40002, isn=9000)
    other.send(flags="S")
    other.expect(flags="RA", ack=9001, within="10ms")
    dut.net.run(for_="10ms")
    golden.check(link, mask=("ip.id",))
