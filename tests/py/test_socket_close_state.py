"""Issue 18 item 9: a closed TcpSocket keeps its last state and info readable."""

import pytest
from scapy.layers.inet import TCP

from pyharness import Network
from pyharness.errors import StateError


@pytest.fixture
def pair():
    with Network(seed=3) as net:
        a = net.host("a", ipv4="10.0.0.1/24")
        b = net.host("b", ipv4="10.0.0.2/24")
        net.link(a, b, delay="1ms")
        listener = b.tcp_listen(80)
        client = a.tcp_connect("10.0.0.2", 80)
        assert net.run(until=lambda: listener.accept_pending > 0, for_="1s")
        yield net, client, listener.accept()


def test_state_and_info_after_close_are_the_last_ones(pair):
    net, client, server = pair
    assert client.state == "ESTABLISHED"
    client.send(b"abc")
    net.run(for_="500ms")                          # past the delayed ACK
    client.close()
    assert client.closed
    assert client.state == "ESTABLISHED"          # what the handle last saw; no StateError
    info = client.info()
    assert info.state == "ESTABLISHED" and info.error is None and info.bytes_acked == 3
    assert client.last_info == info
    net.run(for_="1s")                             # the stack goes on closing; the snapshot stays
    assert client.state == "ESTABLISHED"
    assert server.recv() == b"abc" and server.recv() == b""   # the FIN did go out
    with pytest.raises(StateError):
        client.send(b"more")                       # the handle itself is gone


def test_a_reset_connection_keeps_its_error_after_close(pair):
    net, client, server = pair
    server.abort()
    assert server.state == "CLOSED" and server.info().error == "CONN_RESET"
    net.run(for_="10ms")
    assert client.state == "CLOSED" and client.info().error == "CONN_RESET"
    client.close()
    assert client.state == "CLOSED" and client.info().error == "CONN_RESET"


def test_open_sockets_read_live_state(pair):
    """Positive control: while open, state follows the stack."""
    net, client, server = pair
    client.shutdown("wr")
    net.run(for_="10ms")
    assert client.state == "FIN_WAIT_2" and client.last_info is None
