"""The harness's IPv6 side: hosts with static IPv6 addresses, peers that answer neighbour
solicitations, IPv6 defaults on frames peers send, the canonical text form of IPv6 frames, and the
C API's checks of IPv6 configuration."""

from __future__ import annotations

import pytest
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS, IPv6, IPv6ExtHdrFragment

from pyharness import Network
from pyharness.canonical import canonical_lines, describe_frame
from pyharness.errors import ConfigError, NetworkError
from pyharness.nd import link_local, multicast_mac, neighbor_solicit, parse_nd, solicited_node


def bench(net: Network, **peer_kw):
    dut = net.host("dut", ipv4="10.0.0.1/24", ipv6="fd00::1/64")
    peer = net.peer("peer", ipv4="10.0.0.2/24", ipv6="fd00::2/64", **peer_kw)
    net.link(dut, peer)
    return dut, peer


def test_host_gets_link_local_then_static_addresses() -> None:
    net = Network(seed=1)
    dut = net.host("dut", ipv6=["fd00::1/64", "2001:db8::1/48"], mac="02:00:00:00:00:01")
    assert dut.ipv6_addresses() == [("fe80::ff:fe00:1", 64, "preferred"), ("fd00::1", 64, "preferred"),
                                    ("2001:db8::1", 48, "preferred")]
    assert dut.link_local == link_local(bytes.fromhex("020000000001")) == "fe80::ff:fe00:1"
    assert dut.ip6 == "fd00::1" and dut.ip is None


def test_host_ipv6_configuration_errors_name_the_value() -> None:
    net = Network(seed=1)
    with pytest.raises(ConfigError, match="not an IPv6 address"):
        net.host("a", ipv6="10.0.0.1/24")
    with pytest.raises(ConfigError, match="must be unicast"):
        net.host("b", ipv6="ff02::1/64")
    with pytest.raises(ConfigError, match="unknown key 'ipv7'"):
        net.host("c", ifaces=[{"ipv7": "x"}])


def test_addresses_added_and_removed_at_run_time() -> None:
    net = Network(seed=1)
    dut = net.host("dut", ipv6="fd00::1/64")
    dut.add_address("fd00:1::9/64")
    assert ("fd00:1::9", 64, "preferred") in dut.ipv6_addresses()
    with pytest.raises(NetworkError, match="already"):
        dut.add_address("fd00:1::9/64")
    dut.del_address("fd00:1::9")
    assert ("fd00:1::9", 64, "preferred") not in dut.ipv6_addresses()


def test_peer_answers_solicitations_for_its_addresses() -> None:
    net = Network(seed=1)
    dut, peer = bench(net)
    peer.send(IPv6(dst="fd00::1") / ICMPv6EchoRequest(id=1))
    rep = peer.expect(ICMPv6EchoReply(id=1), within="1ms")
    assert rep[IPv6].dst == "fd00::2"  # the peer's own address filled in as the source
    assert peer.nd_answered == 1
    assert dut.nd_lookup("fd00::2") == (peer.mac, "REACHABLE")
    assert peer.neighbors["fd00::1"] == dut.mac  # learnt from the solicitation


def test_silent_peer_leaves_solicitations_in_the_inbox() -> None:
    net = Network(seed=1)
    dut, peer = bench(net, nd=False)
    peer.send(IPv6(dst="fd00::1") / ICMPv6EchoRequest(id=2))
    ns = peer.expect(ICMPv6ND_NS(tgt="fd00::2"), within="1ms")
    assert ns.dst == "33:33:ff:00:00:02"
    assert peer.nd_answered == 0


def test_peer_resolves_the_host() -> None:
    net = Network(seed=1)
    dut, peer = bench(net)
    assert peer.resolve6("fd00::1") == dut.mac
    assert peer.resolve6(dut.link_local) == dut.mac


def test_peer_sources_link_scoped_packets_from_its_link_local_address() -> None:
    net = Network(seed=1)
    dut, peer = bench(net)
    peer.send(IPv6(dst=dut.link_local) / ICMPv6EchoRequest(id=3))
    rep = peer.expect(ICMPv6EchoReply(id=3), within="1ms")
    assert rep[IPv6].src == dut.link_local and rep[IPv6].dst == peer.link_local
    peer.send(IPv6(dst="ff02::1") / ICMPv6EchoRequest(id=4))
    assert peer.expect(ICMPv6EchoReply(id=4), within="1ms")[IPv6].dst == peer.link_local


def test_nd_helpers_build_what_they_parse() -> None:
    mac = bytes.fromhex("020000000002")
    f = neighbor_solicit(mac, "fd00::2", "fd00::1")
    nd = parse_nd(f)
    assert nd is not None and nd.type == 135 and nd.target == "fd00::1" and nd.lladdr == mac
    assert nd.dst == solicited_node("fd00::1") == "ff02::1:ff00:1"
    assert f[:6] == multicast_mac("ff02::1:ff00:1") == bytes.fromhex("3333ff000001")
    assert parse_nd(b"\0" * 90) is None


def test_canonical_form_of_ipv6_frames() -> None:
    net = Network(seed=1)
    dut, peer = bench(net, nd=False)
    peer.send(IPv6(dst="fd00::1") / ICMPv6EchoRequest(id=5, seq=6, data=b"abc"))
    ns = peer.expect(ICMPv6ND_NS(), within="1ms")
    assert describe_frame(ns) == (
        f"eth {dut.mac}>33:33:ff:00:00:02 ip6 fd00::1>ff02::1:ff00:2 ip6.hlim=255 icmp6 ns code=0 "
        f"nd.target=fd00::2 nd.opts=sll:{dut.mac} icmp6.chksum=0x{ns[ICMPv6ND_NS].cksum:04x}")
    frag = IPv6(src="fd00::1", dst="fd00::2") / IPv6ExtHdrFragment(nh=58, offset=2, m=1, id=77) / b"12345678"
    from scapy.layers.l2 import Ether

    (line,) = canonical_lines([(1_000_000, Ether(src=dut.mac, dst=peer.mac) / frag)], mask=("ip6.frag.id",))
    assert line == (f"0.001000000 eth {dut.mac}>{peer.mac} ip6 fd00::1>fd00::2 ip6.hlim=64 "
                    "ip6.ext=frag:off=16:m=1 ip6.frag.id=* ip6.nh=58 len=8")


def test_nd_params_are_the_seeded_draws() -> None:
    a = Network(seed=5).host("h", ipv6="fd00::1/64").nd_params()
    b = Network(seed=5).host("h", ipv6="fd00::1/64").nd_params()
    assert a == b
    # ReachableTime: seed 5's draw in [0.5, 1.5] x BaseReachableTime 30 s (RFC 4861 section 6.3.2)
    assert a == (16_979_149_090, 1_000_000_000, 64)


def test_na_template_matches_partially() -> None:
    net = Network(seed=1)
    dut, peer = bench(net, nd=False)
    from scapy.layers.inet6 import ICMPv6NDOptSrcLLAddr
    from scapy.layers.l2 import Ether

    peer.send(Ether(src=peer.mac, dst=dut.mac) / IPv6(src="fd00::2", dst="fd00::1", hlim=255) /
              ICMPv6ND_NS(tgt="fd00::1") / ICMPv6NDOptSrcLLAddr(lladdr=peer.mac))
    na = peer.expect(ICMPv6ND_NA(S=1, O=1), within="1ms")
    assert na[ICMPv6ND_NA].tgt == "fd00::1" and na[ICMPv6ND_NA].R == 0


def test_peer_without_ipv6_answers_for_its_link_local_address_at_once() -> None:
    # A peer given no address at all still has its link-local one (fe80:: + its EUI-64) and answers a
    # Neighbor Solicitation for it as it arrives, as a peer with ``ipv4=`` answers ARP: here while the test
    # only runs the clock (no expect draining the inbox). The host's echo reply follows at the same instant.
    net = Network(seed=1)
    dut = net.host("dut", ipv6="fd00::1/64")
    peer = net.peer("peer")
    net.link(dut, peer)
    peer.send(IPv6(src=peer.link_local, dst=dut.link_local) / ICMPv6EchoRequest(id=7, seq=1))
    t = net.now_ns
    net.run(for_="10ms")
    got = []
    while (p := peer.recv()) is not None:
        got.append(p)
    replies = [p for p in got if p.haslayer(ICMPv6EchoReply)]
    assert peer.nd_answered == 1 and len(replies) == 1, [p.summary() for p in got]
    assert replies[0].time_ns == t and replies[0][IPv6].dst == peer.link_local
    assert dut.nd_lookup(peer.link_local) == (peer.mac, "REACHABLE")
    assert not any(p.haslayer(ICMPv6ND_NS) for p in got)  # answered, not left in the inbox


def test_peer_with_nd_off_leaves_its_link_local_solicitation_unanswered() -> None:
    # Control of the test above: nd=False, and the solicitation waits in the inbox; no reply.
    net = Network(seed=1)
    dut = net.host("dut", ipv6="fd00::1/64")
    peer = net.peer("peer", nd=False)
    net.link(dut, peer)
    peer.send(IPv6(src=peer.link_local, dst=dut.link_local) / ICMPv6EchoRequest(id=8, seq=1))
    net.run(for_="10ms")
    ns = peer.expect(ICMPv6ND_NS(tgt=peer.link_local), within="1ms")
    assert ns is not None and peer.nd_answered == 0
    peer.expect_nothing(for_="10ms", matching=ICMPv6EchoReply())
