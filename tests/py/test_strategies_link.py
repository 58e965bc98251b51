"""Issue 18 item 8: link-condition strategies (rate, delay, loss, scripted events) and the transfer loop."""

import pytest
from hypothesis import HealthCheck, find, settings
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from pyharness import ConfigError, Network
from pyharness.strategies import Conditions, LinkConditions, link_conditions
from pyharness.transfer import tcp_transfer

QUICK = settings(max_examples=100, database=None, derandomize=True, suppress_health_check=list(HealthCheck))


def test_link_conditions_apply_rate_delay_loss_and_events():
    cond = LinkConditions(rate=1_000_000, delay_ns=3_000_000, loss=0.0, scripted=Conditions(drops=(1,)))
    with Network(seed=1) as net:
        a, b = net.peer("a"), net.peer("b")
        link = net.link(a, b)
        (drop,) = cond.apply(link, "a_to_b")
        for _ in range(2):
            a.send(Ether(dst=b.mac, src=a.mac, type=0x88B5) / Raw(bytes(111)))  # 125 bytes: 1 ms at 1 Mbit/s
        net.run(for_="1s")
        (p,) = b.received()
        assert p.time_ns == 1_000_000 + 3_000_000  # frame 2: serialised 1 ms, 3 ms of delay (frame 1 dropped)
        assert drop.hits == 1
    assert str(cond) == "rate 1 Mbit/s, delay 3 ms, drop frames [1]"


def test_link_conditions_shrink_towards_a_perfect_link():
    bad = find(link_conditions(), lambda c: c.delay_ns > 0, settings=QUICK)
    assert bad == LinkConditions(delay_ns=1_000_000)
    bad = find(link_conditions(), lambda c: c.loss > 0, settings=QUICK)
    assert bad == LinkConditions(loss=0.01)


def test_tcp_transfer_completes_and_reports():
    with Network(seed=1) as net:
        a, b = net.host("a", ipv4="10.0.0.1/24"), net.host("b", ipv4="10.0.0.2/24")
        link = net.link(a, b, delay="5ms", rate="10Mbit")
        Conditions(drops=(5, 6)).apply(link, "a_to_b")
        r = tcp_transfer(net, a, b, bytes(range(256)) * 40, limit="10s")
        assert r.complete and r.client_state == "ESTABLISHED" and r.client_error is None
        assert len(r.received) == 10240 and 0 < r.end_ns < 10 * 10**9
        assert link.counters("a_to_b").dropped_fault == 2
    with Network(seed=1) as net, pytest.raises(ConfigError, match="port"):
        a, b = net.host("a", ipv4="10.0.0.1/24"), net.host("b", ipv4="10.0.0.2/24")
        tcp_transfer(net, a, b, b"x", port=70000)


def test_tcp_transfer_reports_a_dead_connection():
    """Positive control: the link goes down for good; the client gives up and the result says so."""
    with Network(seed=1) as net:
        a = net.host("a", ipv4="10.0.0.1/24", tcp={"data_retries": 2, "rto_min": "200ms"})
        b = net.host("b", ipv4="10.0.0.2/24")
        link = net.link(a, b, delay="5ms", rate="1Mbit")
        link.down(at="100ms")
        r = tcp_transfer(net, a, b, bytes(200_000), limit="30s")
        assert not r.complete and r.client_state == "CLOSED" and r.client_error == "TIMED_OUT"
