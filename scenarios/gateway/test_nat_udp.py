"""NAT for UDP (RFC 4787): endpoint-independent mapping, port preservation,
filtering behaviours, the mapping timer and its refresh direction.

A static guest (172.20.51.1) behind the FVP-profile gateway sends to a
scripted Internet peer (198.51.100.80) on the outside segment, whose
frames the test reads and writes with scapy.
"""

from __future__ import annotations

import pytest
from scapy.all import ICMP, IP, UDP

from gwkit import S, WWW, nat_bench

pytestmark = pytest.mark.area("gateway")
OUT = "198.51.100.2"


def answer(www, pkt, sport=None, src=WWW):
    """The peer answers a datagram it received (optionally from another port or address)."""
    www.send(IP(src=src, dst=pkt[IP].src) / UDP(sport=sport or pkt[UDP].dport, dport=pkt[UDP].sport) / b"back")


@pytest.mark.rfc("4787 4.1")
def test_endpoint_independent_mapping(net):
    """REQ-1: "A NAT MUST have an "Endpoint-Independent Mapping" behavior." One outside port, two remotes."""
    gw, (g,), www = nat_bench(net)
    s = g.udp_socket(port=5000)
    s.sendto(b"a", (WWW, 7))
    s.sendto(b"b", (WWW, 9))
    a = www.expect(IP(src=OUT, dst=WWW) / UDP(dport=7), within="1s")
    b = www.expect(IP(src=OUT, dst=WWW) / UDP(dport=9), within="1s")
    assert a[UDP].sport == b[UDP].sport == 5000
    (m,) = gw.nat_table()
    assert (m.protocol, m.inside, m.inside_port, m.outside_port) == ("udp", "172.20.51.1", 5000, 5000)
    assert [(x.remote, x.remote_port) for x in m.sessions] == [(WWW, 7), (WWW, 9)]


@pytest.mark.rfc("4787 4.2.1")
def test_port_collision_takes_next_free_port(net):
    """Two guests with the same source port: the second gets the first free port of the range (REQ-3: no overloading)."""
    gw, (g1, g2), www = nat_bench(net, guests=2)
    g1.udp_socket(port=5000).sendto(b"1", (WWW, 7))
    first = www.expect(IP(src=OUT) / UDP(dport=7), within="1s")
    g2.udp_socket(port=5000).sendto(b"2", (WWW, 7))
    second = www.expect(IP(src=OUT) / UDP(dport=7), within="1s")
    assert first[UDP].sport == 5000
    assert second[UDP].sport == 1024, "the range starts at 1024; no two mappings share a port"
    assert [(m.inside, m.outside_port) for m in gw.nat_table()] == [("172.20.51.1", 5000), ("172.20.51.2", 1024)]


def test_answer_reaches_guest(net):
    """The remote's answer to the mapping's outside port reaches the guest's socket with the remote's address."""
    gw, (g,), www = nat_bench(net)
    s = g.udp_socket(port=5000)
    s.sendto(b"q", (WWW, 7))
    answer(www, www.expect(IP(src=OUT) / UDP(dport=7), within="1s"))
    assert net.run(until=lambda: s.pending, for_="1s")
    assert s.recvfrom() == (b"back", (WWW, 7))
    assert gw.counters()["nat_in"] == 1 and gw.counters()["nat_out"] == 1


@pytest.mark.parametrize("filtering,third_party_port,other_host,delivered", [
    ("endpoint-independent", True, True, (True, True)),
    ("address-dependent", True, True, (True, False)),
    ("address-and-port-dependent", True, True, (False, False)),
])
@pytest.mark.rfc("4787 5")
def test_filtering(net, filtering, third_party_port, other_host, delivered):
    """RFC 4787 section 5: from another port of the same remote / from another remote, by filtering behaviour.

    Positive control: the remote's own answer from the port the guest sent to is always delivered.
    """
    gw, (g,), www = nat_bench(net, nat={"filtering": filtering})
    s = g.udp_socket(port=5000)
    s.sendto(b"q", (WWW, 7))
    q = www.expect(IP(src=OUT) / UDP(dport=7), within="1s")
    answer(www, q)  # positive control
    assert net.run(until=lambda: s.pending, for_="1s")
    assert s.recvfrom()[1] == (WWW, 7)
    answer(www, q, sport=8)  # same address, other port
    net.run(for_="10ms")
    got = s.recvfrom()
    assert (got is not None) == delivered[0], got
    answer(www, q, src="198.51.100.81")  # another address on the outside segment
    net.run(for_="10ms")
    got = s.recvfrom()
    assert (got is not None) == delivered[1], got
    assert gw.counters()["nat_filtered"] == [not d for d in delivered].count(True)


@pytest.mark.rfc("4787 4.3")
def test_mapping_expires_after_default_300s(net):
    """REQ-5: "A NAT UDP mapping timer MUST NOT expire in less than two minutes"; c) "A default value of five
    minutes or more for the NAT UDP mapping timer is RECOMMENDED." The mapping lives exactly 300 s."""
    gw, (g,), www = nat_bench(net)
    g.udp_socket(port=5000).sendto(b"q", (WWW, 7))
    q = www.expect(IP(src=OUT) / UDP(dport=7), within="1s")
    t0 = net.now_ns
    assert q.time_ns == t0
    net.run(until=f"{t0 + 300 * S - 1}ns")
    assert [m.expires_at for m in gw.nat_table()] == [t0 + 300 * S]
    net.run(until=f"{t0 + 300 * S}ns")
    assert gw.nat_table() == []


def test_expired_mapping_drops_answer(net):
    """After expiry the remote's answer finds no mapping: it reaches the gateway itself (port unreachable), not the guest.
    Positive control: the same answer just before expiry is delivered."""
    gw, (g,), www = nat_bench(net, nat={"udp_timeout": "120s"})
    s = g.udp_socket(port=5000)
    s.sendto(b"q", (WWW, 7))
    q = www.expect(IP(src=OUT) / UDP(dport=7), within="1s")
    t0 = q.time_ns
    net.run(until=f"{t0 + 120 * S - 1}ns")
    answer(www, q)
    assert net.run(until=lambda: s.pending, for_="1ms")
    s.recvfrom()
    net.run(until=f"{t0 + 120 * S}ns")
    answer(www, q)
    err = www.expect(IP(src=OUT) / ICMP(type=3, code=3), within="1s")
    assert err is not None
    assert s.recvfrom() is None


@pytest.mark.rfc("4787 4.3")
def test_outbound_refresh(net):
    """REQ-6: "The NAT mapping Refresh Direction MUST have a "NAT Outbound refresh behavior" of "True"."
    A second datagram out at 200 s moves the end to 500 s."""
    gw, (g,), www = nat_bench(net)
    s = g.udp_socket(port=5000)
    s.sendto(b"1", (WWW, 7))
    t0 = www.expect(IP(src=OUT) / UDP(dport=7), within="1s").time_ns
    net.run(until=f"{t0 + 200 * S}ns")
    s.sendto(b"2", (WWW, 7))
    www.expect(IP(src=OUT) / UDP(dport=7), within="1s")
    assert [m.expires_at for m in gw.nat_table()] == [t0 + 500 * S]


@pytest.mark.parametrize("inbound_refresh,end", [(False, 300), (True, 500)])
def test_inbound_refresh_is_configurable(net, inbound_refresh, end):
    """Inbound datagrams refresh the mapping only with nat={"inbound_refresh": True} (RFC 4787 4.3 leaves it open)."""
    gw, (g,), www = nat_bench(net, nat={"inbound_refresh": inbound_refresh})
    s = g.udp_socket(port=5000)
    s.sendto(b"1", (WWW, 7))
    q = www.expect(IP(src=OUT) / UDP(dport=7), within="1s")
    t0 = q.time_ns
    net.run(until=f"{t0 + 200 * S}ns")
    answer(www, q)
    assert net.run(until=lambda: s.pending, for_="1ms")
    assert [m.expires_at for m in gw.nat_table()] == [t0 + end * S]


def test_timeout_below_two_minutes_refused(net):
    """A UDP timeout under 120 s is a configuration error unless asked for explicitly."""
    from pyharness.gateway import GatewayConfigError

    with pytest.raises(GatewayConfigError) as e:
        net.gateway("gw", profile="fvp", nat={"udp_timeout": "119s"})
    assert e.value.field == "nat.udp_timeout"
    assert "below the 120 s of RFC 4787 REQ-5" in e.value.reason
    gw = net.gateway("gw2", profile="fvp", nat={"udp_timeout": "10s", "allow_short_timeouts": True})
    assert gw.plan.nat["udp_timeout"] == 10 * S


def test_udp_checksums_stay_valid(net):
    """Translated datagrams carry right IP and UDP checksums (scapy recomputes and compares)."""
    gw, (g,), www = nat_bench(net)
    g.udp_socket(port=5000).sendto(b"checksum me", (WWW, 7))
    q = www.expect(IP(src=OUT) / UDP(dport=7), within="1s")
    raw = q[IP].copy()
    del raw.chksum
    del raw[UDP].chksum
    again = IP(bytes(raw))
    assert (q[IP].chksum, q[UDP].chksum) == (again.chksum, again[UDP].chksum)


@pytest.mark.rfc("4787 4.2.1")
def test_low_ports_stay_low(net):
    """REQ-3a: "If the host's source port was in the range 0-1023, it is RECOMMENDED the NAT's source port be in the
    same range." Port 123 is preserved for the first guest; the second guest's 123 becomes port 1."""
    gw, (g1, g2), www = nat_bench(net, guests=2)
    g1.udp_socket(port=123).sendto(b"ntp", (WWW, 123))
    a = www.expect(IP(src=OUT) / UDP(dport=123), within="1s")
    g2.udp_socket(port=123).sendto(b"ntp", (WWW, 123))
    b = www.expect(IP(src=OUT) / UDP(dport=123), within="1s")
    assert (a[UDP].sport, b[UDP].sport) == (123, 1)


def test_corrupt_datagram_not_forwarded(net):
    """A datagram with a wrong UDP checksum is dropped at the gateway (as Linux conntrack marks it invalid) instead of
    being translated; the same datagram with its right checksum goes out (the positive control)."""
    from scapy.all import Ether

    gw = net.gateway("gw", profile="fvp", dhcp=False)
    guest = net.peer("guest", ipv4="172.20.51.1/24")
    net.link(gw, guest)
    www = net.peer("www", ipv4=f"{WWW}/24")
    net.link(gw, www)
    guest.send(Ether(dst=gw.macs[0]) / IP(dst=WWW) / UDP(sport=5000, dport=7, chksum=0xbad) / b"payload")
    www.expect_nothing("100ms", matching=UDP())
    assert gw.counters()["transit_bad_checksum"] == 1
    guest.send(Ether(dst=gw.macs[0]) / IP(dst=WWW) / UDP(sport=5000, dport=7) / b"payload")
    www.expect(IP(src=OUT) / UDP(sport=5000, dport=7), within="1s")


@pytest.mark.rfc("4787 6")
def test_hairpinning(net):
    """RFC 4787 REQ-9: "A NAT MUST support "Hairpinning"." Guest a sends to the outside address and the port forwarded
    to guest b; b receives it from a's outside address and port (REQ-9 b, "External source IP address and port"), and
    its answer to that address and port comes back to a."""
    gw, (a, b), www = nat_bench(net, guests=2)
    gw.forward("udp", host_port=6000, guest="172.20.51.2", port=6000)
    rb = b.udp_socket(port=6000)
    b.ping_socket(ident=1).send("172.20.51.254")  # b speaks once: the gateway knows its MAC
    net.run(for_="10ms")
    sa = a.udp_socket(port=5000)
    sa.sendto(b"hi", (OUT, 6000))
    assert net.run(until=lambda: rb.pending, for_="1s")
    assert rb.recvfrom() == (b"hi", (OUT, 5000))
    rb.sendto(b"back", (OUT, 5000))
    assert net.run(until=lambda: sa.pending, for_="1s")
    assert sa.recvfrom() == (b"back", (OUT, 6000))
    assert gw.counters()["nat_hairpinned"] == 2


def test_hairpin_to_unmapped_port_reaches_gateway(net):
    """To the outside address and a port nobody maps, the datagram is the gateway's own: port unreachable from it."""
    gw, (a,), www = nat_bench(net)
    s = a.udp_socket(port=5000)
    s.sendto(b"?", (OUT, 7777))
    errs = []
    assert net.run(until=lambda: errs.append(s.take_error()) or errs[-1] is not None, for_="1s")
    assert (errs[-1].icmp_type, errs[-1].icmp_code, errs[-1].sender) == (3, 3, OUT)
    assert gw.counters()["nat_hairpinned"] == 0


def test_port_range_exhausted(net):
    """nat ports (1024, 1025): two guests' mappings take both ports; a third guest's datagram cannot be mapped and is
    dropped, counted; once a mapping expires (120 s) its port serves the third guest."""
    gw, (g1, g2, g3), www = nat_bench(net, guests=3, nat={"ports": (1024, 1025), "udp_timeout": "120s"})
    for g in (g1, g2):
        g.udp_socket(port=5000).sendto(b"x", (WWW, 7))
        www.expect(IP(src=OUT) / UDP(dport=7), within="1s")
    s3 = g3.udp_socket(port=5000)
    s3.sendto(b"x", (WWW, 7))
    www.expect_nothing("100ms", matching=UDP())
    assert (gw.counters()["nat_ports_exhausted"], gw.counters()["nat_table_full"]) == (1, 1)
    assert sorted(m.outside_port for m in gw.nat_table()) == [1024, 1025]
    net.run(for_="120s")
    s3.sendto(b"y", (WWW, 7))
    r = www.expect(IP(src=OUT) / UDP(dport=7), within="1s")
    assert r[UDP].sport in (1024, 1025)
    assert [m.inside for m in gw.nat_table()] == ["172.20.51.3"]
