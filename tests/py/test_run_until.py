"""run(until=predicate) on host state: checked at peer receptions, host deadlines and every `step`."""

from __future__ import annotations

import pytest
from scapy.layers.inet import IP, UDP

from pyharness import ConfigError, Network

MS = 1_000_000


def two_hosts(seed: int = 1, delay: str = "5ms", **tcp):
    net = Network(seed=seed)
    a = net.host("a", ipv4="10.0.0.1/24", tcp=tcp or None)
    b = net.host("b", ipv4="10.0.0.2/24", tcp=tcp or None)
    net.link(a, b, delay=delay)
    return net, a, b


def test_connection_established_is_seen_within_step() -> None:
    net, a, b = two_hosts()
    lst = b.tcp_listen(80)
    conn = a.tcp_connect("10.0.0.2", 80)
    # No peer anywhere: only host state can end this run.
    assert net.run(until=lambda: conn.state == "ESTABLISHED", for_="5s", step="100us") is True
    # ARP (one round trip) then SYN / SYN-ACK: established when the SYN-ACK arrives, 4 one-way delays.
    t = net.now_ns
    assert 20 * MS <= t <= 20 * MS + 100_000, t
    assert net.run(until=lambda: lst.accept_pending > 0, for_="1s", step="100us") is True
    assert net.now_ns <= 25 * MS + 100_000


def test_udp_readable_on_a_host() -> None:
    net = Network(seed=2)
    dut = net.host("dut", ipv4="10.0.0.1/24")
    peer = net.peer("peer", ipv4="10.0.0.2/24")
    net.link(dut, peer, delay="3ms")
    sock = dut.udp_socket(port=7)
    peer.send(IP(dst="10.0.0.1") / UDP(sport=9, dport=7) / b"hi")
    assert net.run(until=lambda: sock.pending > 0, for_="1s", step="50us") is True
    assert 3 * MS <= net.now_ns <= 3 * MS + 50_000


def test_timer_driven_change_stops_exactly_at_the_host_deadline() -> None:
    # A SYN nobody answers: the connection gives up at a host deadline; the run
    # stops exactly there, whatever the step.
    stops = []
    for step in ("1s", "7ms", "100us"):
        net = Network(seed=3)
        dut = net.host("dut", ipv4="10.0.0.1/24", tcp={"syn_retries": 2})
        peer = net.peer("peer", ipv4="10.0.0.2/24")
        net.link(dut, peer, delay="1ms")
        conn = dut.tcp_connect("10.0.0.2", 80)
        assert net.run(until=lambda: conn.state == "CLOSED", for_="120s", step=step) is True
        stops.append(net.now_ns)
    assert len(set(stops)) == 1, stops
    assert stops[0] > 1_000 * MS  # after at least one retransmission timeout


def test_false_at_the_bound_and_clock_there() -> None:
    net, a, b = two_hosts()
    assert net.run(until=lambda: False, for_="25ms") is False
    assert net.now_ns == 25 * MS


def test_unbounded_run_ends_when_nothing_happens() -> None:
    net, a, b = two_hosts()
    a.tcp_connect("10.0.0.2", 80)  # refused with a RST: then all is quiet
    assert net.run(until=lambda: False) is False
    assert net.now_ns < 200_000 * MS


def test_true_before_running_does_not_run() -> None:
    net, a, b = two_hosts()
    assert net.run(until=lambda: True, for_="1s") is True
    assert net.now_ns == 0


def test_step_validation() -> None:
    net, a, b = two_hosts()
    with pytest.raises(ConfigError, match="step"):
        net.run(until=lambda: False, for_="1ms", step=0)
    with pytest.raises(ConfigError, match="step"):
        net.run(for_="1ms", step="1ms")
    with pytest.raises(ConfigError, match="step"):
        net.run(until=lambda: False, for_="1ms", step="fast")
