"""Scripted peers: expect / expect_nothing, partial templates, failure messages, ARP answering."""

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from pyharness import ANY, ExpectationError, between, has_flags, one_of, pred
from pyharness.errors import ConfigError


@pytest.fixture
def pair(net):
    a = net.peer("a", ipv4="10.0.0.1/24")
    b = net.peer("b", ipv4="10.0.0.2/24")
    link = net.link(a, b, delay="5ms")
    return net, a, b, link


def udp(dport=7, payload=b"hi"):
    return IP(dst="10.0.0.2") / UDP(sport=1000, dport=dport) / Raw(payload)


def test_expect_returns_the_frame_at_its_arrival_time(pair):
    net, a, b, _ = pair
    a.send(udp())
    got = b.expect(UDP(dport=7), within="10ms")
    assert got.time_ns == 5_000_000 and got.time == pytest.approx(0.005)
    assert net.now_ns == 5_000_000  # ran only as far as needed
    assert got[IP].src == "10.0.0.1"  # the peer's address filled in
    assert got[Ether].dst == b.mac  # the destination MAC is known in the network
    assert got[Raw].load == b"hi"


def test_only_fields_set_in_the_template_are_compared(pair):
    net, a, b, _ = pair
    a.send(IP(dst="10.0.0.2", ttl=3) / TCP(sport=5, dport=80, flags="SA", seq=100))
    got = b.expect(IP(ttl=3) / TCP(flags="SA", dport=ANY, seq=between(50, 150)), within="10ms")
    assert got[TCP].seq == 100


def test_predicates_and_helpers(pair):
    net, a, b, _ = pair
    a.send(IP(dst="10.0.0.2") / TCP(sport=5, dport=80, flags="SA", window=0))
    b.expect(TCP(flags=has_flags("A"), window=pred(lambda w: w == 0, "zero"), dport=one_of(80, 443)), within="10ms")


def test_non_matching_frames_stay_for_a_later_expect(pair):
    net, a, b, _ = pair
    a.send(udp(dport=1))
    a.send(udp(dport=2))
    assert b.expect(UDP(dport=2), within="10ms")[UDP].dport == 2
    assert b.expect(UDP(dport=1), within="10ms")[UDP].dport == 1
    assert b.pending == 0


def test_failure_shows_closest_frame_field_by_field_the_seed_and_the_window(pair):
    net, a, b, _ = pair
    a.send(IP(dst="10.0.0.2") / TCP(sport=5, dport=80, flags="S"))
    a.send(udp(dport=9))
    with pytest.raises(ExpectationError) as ei:
        b.expect(TCP(flags="SA", dport=80), within="20ms")
    msg = str(ei.value)
    assert f"({net.seed_text}, now" in msg
    assert "expected TCP(dport=80 flags=SA) within 0.020000000s" in msg
    assert "closest frame: #1 at 0.005000000s" in msg
    assert "TCP.flags  SA        S       MISMATCH" in msg
    assert "TCP.dport  80        80      ok" in msg
    assert "frames seen in the window (2)" in msg and "udp 1000>9" in msg
    assert ei.value.closest.index == 1 and len(ei.value.frames) == 2
    assert net.now_ns == 20_000_000


def test_failure_without_any_frame(pair):
    net, a, b, _ = pair
    with pytest.raises(ExpectationError, match="no candidate frame arrived"):
        b.expect(UDP(), within="1ms")


def test_at_with_tolerance(pair):
    net, a, b, _ = pair
    net.run(until="1s")
    a.send(udp())
    b.expect(UDP(), at="1.005s", tolerance="1us")


def test_at_rejects_an_early_frame(pair):
    net, a, b, _ = pair
    a.send(udp())
    with pytest.raises(ExpectationError, match="too early"):
        b.expect(UDP(), at="1s")


def test_at_misses_a_late_frame(pair):
    net, a, b, link = pair
    link.configure(delay="50ms")
    a.send(udp())
    with pytest.raises(ExpectationError, match=r"arrived late, at 0\.050000000s \(39ms after the window closed\)"):
        b.expect(UDP(), at="10ms", tolerance="1ms")
    assert net.now_ns == 50_000_000  # it ran on to find the late frame, and no further


def test_bad_windows_are_config_errors(pair):
    net, a, b, _ = pair
    with pytest.raises(ConfigError, match="not both"):
        b.expect(UDP(), within="1s", at="1s")
    with pytest.raises(ConfigError, match="tolerance"):
        b.expect(UDP(), tolerance="1ms")


def test_expect_nothing(pair):
    net, a, b, _ = pair
    b.expect_nothing(for_="100ms")
    assert net.now_ns == 100_000_000
    a.send(udp(dport=1))
    b.expect_nothing(for_="100ms", matching=UDP(dport=2))
    a.send(udp(dport=2))
    with pytest.raises(ExpectationError, match=r"expected nothing \(UDP\(dport=2\)\).*frame #2 arrived at 0.205000000s"):
        b.expect_nothing(for_="100ms", matching=UDP(dport=2))
    assert net.now_ns == 205_000_000  # stopped at the offending frame


def test_peer_answers_arp_for_its_address(pair):
    net, a, b, _ = pair
    a.send(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=a.mac, psrc="10.0.0.1", pdst="10.0.0.2"))
    reply = a.expect(ARP(op=2, psrc="10.0.0.2", hwsrc=b.mac, pdst="10.0.0.1"), within="20ms")
    assert reply.time_ns == 10_000_000 and reply[Ether].dst == a.mac
    assert b.arp_answered == 1 and b.pending == 0  # the request does not reach b's inbox
    assert b.neighbors["10.0.0.1"] == a.mac


def test_peer_answers_arp_during_a_plain_run(pair):
    net, a, b, _ = pair
    a.send(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=a.mac, psrc="10.0.0.1", pdst="10.0.0.2"))
    net.run(for_="1s")
    assert b.arp_answered == 1
    assert a.recv()[ARP].op == 2


def test_arp_false_and_other_addresses_are_not_answered(net):
    a = net.peer("a", ipv4="10.0.0.1/24")
    b = net.peer("b", ipv4="10.0.0.2/24", arp=False)
    net.link(a, b)
    a.send(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, psrc="10.0.0.1", pdst="10.0.0.2"))
    a.send(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, psrc="10.0.0.1", pdst="10.0.0.3"))
    a.expect_nothing(for_="1s")
    assert b.arp_answered == 0
    assert [p[ARP].pdst for p in b.received()] == ["10.0.0.2", "10.0.0.3"]


def test_resolve_asks_by_arp(net):
    a = net.peer("a", ipv4="10.0.0.1/24")
    b = net.peer("b", ipv4="10.0.0.2/24", mac="02:00:00:00:00:bb")
    net.link(a, b, delay="1ms")
    a.neighbors.clear()
    assert a.resolve("10.0.0.2") == "02:00:00:00:00:bb"
    assert net.now_ns == 2_000_000
    with pytest.raises(ExpectationError, match="ARP reply for 10.0.0.9"):
        a.resolve("10.0.0.9", within="100ms")


def test_recv_and_icmp_template(pair):
    net, a, b, _ = pair
    a.send(IP(dst="10.0.0.2") / ICMP(type=8, id=1, seq=2))
    net.run(for_="10ms")
    b.expect(ICMP(type=8, seq=2), within=0)


def test_ipv4_must_parse(net):
    with pytest.raises(ConfigError, match="ipv4"):
        net.peer("x", ipv4="10.0.0.300/24")


def test_run_until_predicate_with_peers(pair):
    net, a, b, _ = pair
    a.send(udp())
    assert net.run(until=lambda: b.pending > 0, for_="1s")
    assert net.now_ns == 5_000_000
