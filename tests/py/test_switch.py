"""The learning switch over the wire: learning, flooding, forwarding, ageing."""

from tern_helpers import frame, seq_of

BCAST = "ff:ff:ff:ff:ff:ff"


def star(net, ageing="300s"):
    sw = net.switch("sw", ports=4, ageing=ageing)
    peers = {n: net.peer(n, mac=f"02:00:00:00:00:0{i + 1}") for i, n in enumerate("abc")}
    for p in peers.values():
        net.link(p, sw, delay="1ms")
    return sw, peers


def test_unknown_unicast_floods_then_learned_forwards(net):
    sw, p = star(net)
    a, b, c = p["a"], p["b"], p["c"]
    a.send(frame(a.mac, b.mac, 1))
    net.run(for_="10ms")
    assert [seq_of(x) for x in b.received()] == [1]
    assert [seq_of(x) for x in c.received()] == [1]  # flooded
    assert sw.lookup(a.mac) == 0 and sw.lookup(b.mac) is None

    b.send(frame(b.mac, a.mac, 2))  # a is known: forwarded to a only
    net.run(for_="10ms")
    assert [seq_of(x) for x in a.received()] == [2]
    assert c.received() == []
    assert sw.lookup(b.mac) == 1

    a.send(frame(a.mac, b.mac, 3))  # now b is known too
    net.run(for_="10ms")
    assert [seq_of(x) for x in b.received()] == [3]
    assert c.received() == []
    cnt = sw.counters()
    assert (cnt.flooded, cnt.forwarded, cnt.learned) == (1, 2, 2)


def test_broadcast_floods_to_every_other_port(net):
    sw, p = star(net)
    p["a"].send(frame(p["a"].mac, BCAST, 7))
    net.run(for_="10ms")
    assert p["a"].pending == 0 and p["b"].pending == 1 and p["c"].pending == 1
    assert sw.counters().flooded == 1


def test_arrival_through_switch_is_two_hops(net):
    sw, p = star(net)
    p["a"].send(frame(p["a"].mac, BCAST, 7))
    net.run(for_="10ms")
    assert p["b"].recv().time_ns == 2_000_000  # 1 ms per link, forwarding is immediate


def test_entries_age_out(net):
    sw, p = star(net, ageing="1s")
    a, b, c = p["a"], p["b"], p["c"]
    a.send(frame(a.mac, BCAST, 1))
    net.run(for_="500ms")
    assert sw.lookup(a.mac) == 0
    net.run(for_="2s")
    assert sw.lookup(a.mac) is None
    b.received(), c.received()
    b.send(frame(b.mac, a.mac, 2))  # a forgotten: flooded again
    net.run(for_="10ms")
    assert a.pending == 1 and c.pending == 1


def test_mac_moves_port(net):
    sw, p = star(net)
    a, c = p["a"], p["c"]
    a.send(frame(a.mac, BCAST, 1))
    net.run(for_="10ms")
    c.send(frame(a.mac, BCAST, 2))  # a's MAC now seen on c's port
    net.run(for_="10ms")
    assert sw.lookup(a.mac) == 2
    assert sw.counters().moved == 1
