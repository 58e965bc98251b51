"""After Network.close(), every object raises StateError and nothing crashes."""

import gc

import pytest
from tern_helpers import frame

from pyharness import Network, Tbf
from pyharness.errors import StateError


def build():
    net = Network(seed=5)
    a, b = net.peer("a"), net.peer("b")
    sw = net.switch("sw")
    link = net.link(a, sw)
    net.link(b, sw)
    fault = link.fault("drop", nth=1)
    a.send(frame(a.mac, b.mac, 1))
    net.run(for_="1ms")
    return net, a, b, sw, link, fault


def test_use_after_close_raises_state_error(tmp_path):
    net, a, b, sw, link, fault = build()
    net.close()
    net.close()  # idempotent
    assert net.closed
    calls = [
        lambda: net.now,
        lambda: net.now_ns,
        lambda: net.run(for_="1s"),
        lambda: net.peer("c"),
        lambda: net.switch("s2"),
        lambda: net.link(a, b, port_a=0),
        lambda: net.node("a"),
        lambda: net.events_processed,
        lambda: a.send(frame(a.mac, b.mac, 2)),
        lambda: a.recv(),
        lambda: a.received(),
        lambda: a.pending,
        lambda: a.rx_dropped,
        lambda: a.counters(),
        lambda: sw.counters(),
        lambda: sw.lookup(a.mac),
        lambda: link.configure(delay="1ms"),
        lambda: link.configure(tbf=Tbf(rate="1Mbit", burst=1000, limit=1000)),
        lambda: link.counters(),
        lambda: link.capture(tmp_path / "x.pcap"),
        lambda: link.stop_capture(),
        lambda: link.down(),
        lambda: link.up(at="1s"),
        lambda: link.fault("drop", nth=1),
        lambda: fault.hits,
    ]
    for call in calls:
        with pytest.raises(StateError, match="closed"):
            call()
    assert "closed" in repr(net)


def test_objects_keep_the_network_alive():
    _, a, b, sw, link, fault = build()  # the Network itself is dropped here
    gc.collect()
    assert fault.hits == 1
    a.send(frame(a.mac, b.mac, 2))
    link.net.run(for_="1ms")
    assert b.pending == 1


def test_context_manager_closes():
    with Network(seed=1) as net:
        p = net.peer("p")
    with pytest.raises(StateError):
        p.pending
