"""A small network for ``pyharness shell`` (tests/py/test_netshell_sim.py runs
``pyharness shell tests/py/netshell_scenario.py:build``): two Tern hosts with both families,
h2 listening on port 80, h1 connected to it over IPv6 and closing at 1 s."""

from __future__ import annotations

from pyharness.network import Network


def build() -> Network:
    """The network, already set up; the connection closes 1 s in (h2's side finishes then)."""
    net = Network(seed=1)
    h1 = net.host("h1", ipv4="10.0.0.1/24", ipv6="fd00::1/64", mac="02:00:00:00:00:01")
    h2 = net.host("h2", ipv4="10.0.0.2/24", ipv6="fd00::2/64", mac="02:00:00:00:00:02")
    net.link(h1, h2, delay="1ms")
    ls = h2.tcp_socket()
    ls.bind(80)
    ls.listen(4)
    c = h1.tcp_socket()
    c.connect("fd00::2", 80)
    net.run(for_="1s")
    c.close()
    return net
