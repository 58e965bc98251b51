"""Several lwIP nodes in one process (duts/lwip/src/instance.c): each has its own lwIP state.

lwIP keeps its state in globals; the adapter swaps a copy per node. These tests fail if the nodes share
state: two lwIP nodes on one link would then share one pcb list, one netif list and one ARP table
(lwIP would route 10.0.0.1 -> 10.0.0.3 inside itself and nothing would cross the link), and a run
interleaved with another network would differ from the same run alone.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from scapy.layers.inet import TCP
from scapy.layers.l2 import ARP

from pyharness import Network
from tern_lwip import LwipDut


def _pair(net: Network) -> tuple[LwipDut, LwipDut, object]:
    a = LwipDut(net, name="lwa", ip="10.0.0.1", mac="02:00:00:00:00:01")
    b = LwipDut(net, name="lwb", ip="10.0.0.3", mac="02:00:00:00:00:03")
    return a, b, net.link(a.node, b.node, delay="1ms")


def test_two_lwip_nodes_talk_over_the_link(tmp_path: Path) -> None:
    from scapy.utils import rdpcap

    with Network(seed=5, artifacts=tmp_path) as net:
        a, b, link = _pair(net)
        pcap = link.capture()
        server = b.tcp_listen(80)
        client = a.tcp_connect("10.0.0.3", 80, local_port=50000)
        assert net.run(for_="2s", until=lambda: server.accept_pending == 1)
        conn = server.accept()
        assert client.state == "ESTABLISHED" and conn.state == "ESTABLISHED"
        assert (conn.info().remote, conn.info().remote_port) == ("10.0.0.1", 50000)
        assert client.send(b"ping" * 100) == 400
        net.run(for_="1s")
        assert conn.recv() == b"ping" * 100
        assert conn.send(b"pong") == 4
        net.run(for_="1s")
        assert client.recv() == b"pong"
        # Each node answered its own ARP and TCP from its own state: the handshake crossed the link.
        ab, ba = link.counters("a_to_b"), link.counters("b_to_a")
        assert ab.delivered >= 3 and ba.delivered >= 2
        net.flush_captures()
    frames = rdpcap(str(pcap))
    syn = [f for f in frames if TCP in f and f[TCP].flags == "S"]
    synack = [f for f in frames if TCP in f and f[TCP].flags == "SA"]
    assert len(syn) == 1 and len(synack) == 1
    assert syn[0][TCP].sport == 50000 and synack[0][TCP].sport == 80
    assert any(ARP in f and f[ARP].op == 2 and f[ARP].psrc == "10.0.0.3" for f in frames)


def _exchange(net: Network, steps: list) -> None:
    a, b, link = _pair(net)
    link.capture()
    server = b.tcp_listen(80)
    client = a.tcp_connect("10.0.0.3", 80)  # ephemeral port from the node's own generator
    steps.append(lambda: net.run(for_="500ms"))
    steps.append(lambda: server.accept() and client.send(b"x" * 3000))
    steps.append(lambda: net.run(for_="3s"))
    steps.append(lambda: client.close())
    steps.append(lambda: net.run(for_="3s"))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_interleaved_networks_give_the_same_bytes_as_one_alone(tmp_path: Path) -> None:
    """Same seed, same bytes, whether or not another lwIP network runs between each step."""
    alone: list = []
    with Network(seed=9, artifacts=tmp_path / "alone") as net:
        _exchange(net, alone)
        for step in alone:
            step()
        ref = [_digest(p) for p in net.flush_captures()]
    one: list = []
    two: list = []
    with Network(seed=9, artifacts=tmp_path / "one") as n1, Network(seed=9, artifacts=tmp_path / "two") as n2:
        _exchange(n1, one)
        _exchange(n2, two)
        for s1, s2 in zip(one, two):
            s1()
            s2()
        got1 = [_digest(p) for p in n1.flush_captures()]
        got2 = [_digest(p) for p in n2.flush_captures()]
    assert got1 == ref and got2 == ref
