"""The packetimpact-style TCP connection helper, with two scripted peers playing both ends."""

import pytest
from scapy.layers.inet import TCP

from pyharness import ANY, ExpectationError, has_flags
from pyharness.tcpconn import seq_add, seq_lt, tcp_option, tcp_payload


@pytest.fixture
def ends(net):
    a = net.peer("a", ipv4="10.0.0.1/24")
    b = net.peer("b", ipv4="10.0.0.2/24")
    net.link(a, b, delay="1ms")
    client = a.tcp(b, 80, isn=0xFFFFFFF0, mss=1460, wscale=7, sack=True, ts=True)
    server = b.tcp(a, local_port=80, isn=5000, mss=536, wscale=2, sack=True, ts=True)
    return net, client, server


def handshake(client, server):
    client.send(flags="S")
    server.expect(flags="S", mss=1460, wscale=7, sack_ok=True, ts=True)
    server.send(flags="SA")
    client.expect(flags="SA", ack=client.snd_nxt, mss=536, wscale=2)
    client.send(flags="A")
    server.expect(flags="A", ack=server.snd_nxt)


def test_handshake_without_arithmetic(ends):
    net, client, server = ends
    handshake(client, server)
    assert server.remote_port == client.local_port
    assert client.snd_nxt == 0xFFFFFFF1 and client.snd_una == client.snd_nxt
    assert server.rcv_nxt == client.snd_nxt and client.rcv_nxt == server.snd_nxt
    assert client.ts_ok and server.ts_ok and client.wscale_ok
    assert client.remote_mss == 536 and server.remote_wscale == 7


def test_data_and_acks_wrap_around_the_sequence_space(ends):
    net, client, server = ends
    handshake(client, server)
    client.send(flags="PA", payload=b"x" * 20)  # crosses 2**32
    seg = server.expect(flags="PA", seq=server.rcv_nxt, payload=b"x" * 20)
    assert tcp_payload(seg) == b"x" * 20
    assert server.rcv_nxt == seq_add(0xFFFFFFF1, 20) == 5
    server.send(flags="A")
    client.expect(flags="A", ack=client.snd_nxt)
    assert client.snd_una == client.snd_nxt


def test_window_is_scaled_after_the_handshake(ends):
    net, client, server = ends
    handshake(client, server)
    client.window = 1 << 20
    client.send(flags="A")
    seg = server.expect(flags="A")
    assert seg[TCP].window == (1 << 20) >> 7
    assert server.snd_wnd == 1 << 20


def test_timestamps_echo(ends):
    net, client, server = ends
    handshake(client, server)
    net.run(for_="10ms")
    client.send(flags="A")
    seg = server.expect(flags="A", ts=True)
    tsval, tsecr = tcp_option(seg, "Timestamp")
    assert tsval == net.now_ns // 1_000_000 and tsecr == client.ts_recent


def test_wrong_ack_fails_with_readable_diff(ends):
    net, client, server = ends
    client.send(flags="S")
    server.expect(flags="S")
    server.send(flags="SA", ack=123)
    with pytest.raises(ExpectationError) as ei:
        client.expect(flags="SA", ack=client.snd_nxt, within="10ms")
    msg = str(ei.value)
    assert "TCP.ack" in msg and "4294967281" in msg and "123" in msg and "MISMATCH" in msg


def test_payload_and_option_checks(ends):
    net, client, server = ends
    handshake(client, server)
    client.send(flags="PA", payload=b"hello")
    with pytest.raises(ExpectationError, match=r"TCP.payload\s+b'bye' \(3 bytes\)\s+b'hello' \(5 bytes\)\s+MISMATCH"):
        server.expect(payload=b"bye", within="10ms")
    server.expect(flags=has_flags("P"), payload=b"hello", sack_ok=False)


def test_expect_data_over_segments_and_close(ends):
    net, client, server = ends
    handshake(client, server)
    client.send_data(b"abc")
    client.send_data(b"def")
    assert server.expect_data(b"abcdef", ack=True) == b"abcdef"
    client.send(flags="FA")
    server.expect(flags="FA", seq=server.rcv_nxt)
    server.send(flags="A")
    client.expect(flags="A", ack=client.snd_nxt)
    server.expect_nothing(for_="100ms")


def test_sequence_helpers():
    assert seq_lt(2**32 - 1, 0) and not seq_lt(0, 2**32 - 1)
    assert seq_add(2**32 - 1, 2) == 1


def test_connect_helper_against_a_scripted_server(net):
    a = net.peer("a", ipv4="10.0.0.1/24")
    b = net.peer("b", ipv4="10.0.0.2/24")
    net.link(a, b)
    client = a.tcp("10.0.0.2", 80)
    client.send(flags="S")
    server = b.tcp(a, local_port=80, isn=77)
    server.expect(flags="S")
    server.send(flags="SA")
    # connect() as a whole would resend the SYN; here check expect() learns from the SYN-ACK
    client.expect(flags="SA", ack=client.snd_nxt, seq=ANY)
    assert client.irs == 77 and client.rcv_nxt == 78
