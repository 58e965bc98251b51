"""ICMP from the gateway: time exceeded so that traceroute through it works,
host unreachable, fragmentation needed, echo on each of its addresses, and
the deterministic rate limit of its errors.

The guest sends with scapy (a scripted peer on the inside segment) so the
test sets TTL and DF itself; a Tern router on the outside segment stands
for the next hop of a traceroute.
"""

from __future__ import annotations

import pytest
from scapy.all import ICMP, IP, UDP, Ether, IPerror, Raw, UDPerror

from gwkit import S, WWW

pytestmark = pytest.mark.area("gateway")
GW = "172.20.51.254"
OUT = "198.51.100.2"
FAR = "203.0.113.7"


@pytest.fixture
def lab(net):
    """Inside: a scripted guest .1. Outside: router 198.51.100.1 (forwarding) to 203.0.113.0/24 with host FAR."""
    gw = net.gateway("gw", profile="fvp", dhcp=False, outside_router="198.51.100.1")
    guest = net.peer("guest", ipv4="172.20.51.1/24")
    net.link(gw, guest, port_a=gw.inside_port)
    router = net.host("isp", ifaces=[{"ipv4": "198.51.100.1/24"}, {"ipv4": "203.0.113.1/24"}], forwarding=True)
    net.link(gw, router, port_a=gw.outside_port)
    far = net.host("far", ipv4=f"{FAR}/24", gateway="203.0.113.1")
    net.link(router, far)
    router.add_route("172.20.51.0/24", "198.51.100.2")  # never used: NAT hides the inside
    return net, gw, guest, router, far


def to_gw(gw):
    """An Ethernet header to the gateway's inside port (the guest's next hop)."""
    return Ether(dst=gw.macs[0])


def probe(guest, ttl, dport=33434, df=False, size=0, dst=FAR):
    gw = guest.net.node("gw")
    guest.send(to_gw(gw) / IP(dst=dst, ttl=ttl, flags="DF" if df else 0) / UDP(sport=40000, dport=dport) / (b"\0" * size))


@pytest.mark.rfc("1812 5.3.1")
def test_traceroute_first_hop_is_gateway(lab):
    """TTL 1: time exceeded from the gateway's inside address, quoting the probe."""
    net, gw, guest, _, _ = lab
    probe(guest, 1)
    e = guest.expect(IP(src=GW, dst="172.20.51.1") / ICMP(type=11, code=0), within="1s")
    assert (e[IPerror].dst, e[UDPerror].dport) == (FAR, 33434)
    assert gw.stack_counters().ip_ttl_exceeded == 1


@pytest.mark.rfc("5508 4")
def test_traceroute_second_hop_through_nat(lab):
    """TTL 2: the router beyond the NAT answers time exceeded to the outside address; the gateway translates it back,
    quote included, so the guest's traceroute sees hop 2 = 198.51.100.1 about its own probe."""
    net, gw, guest, router, _ = lab
    probe(guest, 2)
    e = guest.expect(IP(src="198.51.100.1", dst="172.20.51.1") / ICMP(type=11, code=0), within="1s")
    assert (e[IPerror].src, e[IPerror].dst, e[UDPerror].sport, e[UDPerror].dport) == (
        "172.20.51.1", FAR, 40000, 33434)
    assert gw.counters()["nat_icmp_errors_in"] == 1


def test_traceroute_reaches_destination(lab):
    """TTL 3: the destination's port unreachable comes back through the NAT, translated."""
    net, gw, guest, _, _ = lab
    probe(guest, 3)
    e = guest.expect(IP(src=FAR, dst="172.20.51.1") / ICMP(type=3, code=3), within="1s")
    assert (e[IPerror].src, e[UDPerror].sport) == ("172.20.51.1", 40000)


@pytest.mark.rfc("1812 5.2.7.1")
def test_host_unreachable(net):
    """A destination on the outside segment nobody owns: after ARP's 3 tries (1 s apart), host unreachable."""
    gw = net.gateway("gw", profile="fvp", dhcp=False)
    guest = net.peer("guest", ipv4="172.20.51.1/24")
    net.link(gw, guest, port_a=gw.inside_port)
    wan = net.peer("wan", ipv4="198.51.100.99/24", arp=False)
    net.link(gw, wan, port_a=gw.outside_port)
    guest.send(to_gw(gw) / IP(dst="198.51.100.50") / UDP(sport=1, dport=2))
    e = guest.expect(IP(src=GW) / ICMP(type=3, code=1), within="5s")
    assert e.time_ns == 3 * S
    assert e[IPerror].dst == "198.51.100.50"


def test_net_unreachable_without_default_route(net):
    """No outside router configured: a destination off every segment gets net unreachable at once."""
    gw = net.gateway("gw", profile="fvp", dhcp=False)
    guest = net.peer("guest", ipv4="172.20.51.1/24")
    net.link(gw, guest, port_a=gw.inside_port)
    guest.send(to_gw(gw) / IP(dst="8.8.8.8") / UDP(sport=1, dport=53))
    e = guest.expect(IP(src=GW) / ICMP(type=3, code=0), within="1s")
    assert e.time_ns == 0


@pytest.mark.rfc("1191 4")
def test_fragmentation_needed(net):
    """Outside MTU 1500, inside 9000: a DF datagram of 2000 bytes gets fragmentation needed with next-hop MTU 1500;
    the same without DF is fragmented and leaves (positive control)."""
    gw = net.gateway("gw", profile="fvp", dhcp=False, mtu=1500)
    guest = net.peer("guest", ipv4="172.20.51.1/24")
    net.link(gw, guest, port_a=gw.inside_port)
    wan = net.peer("wan", ipv4=f"{WWW}/24")
    net.link(gw, wan, port_a=gw.outside_port)
    guest.send(to_gw(gw) / IP(dst=WWW, flags="DF") / UDP(sport=7, dport=7) / (b"a" * 1972))
    e = guest.expect(IP(src=GW) / ICMP(type=3, code=4), within="1s")
    assert e[ICMP].nexthopmtu == 1500
    guest.send(to_gw(gw) / IP(dst=WWW) / UDP(sport=7, dport=7) / (b"a" * 1972))
    first = wan.expect(IP(src=OUT, flags="MF", frag=0) / UDP(sport=7, dport=7), within="1s")
    rest = wan.expect(IP(src=OUT, frag=185), within="1s")
    assert len(first[IP]) == 1500 and rest[IP].flags == 0
    assert gw.counters()["nat_fragments_out"] == 1


@pytest.mark.rfc("1122 3.2.2")
def test_icmp_errors_rate_limited(net):
    """icmp_rate=1/s, icmp_burst=3: of 10 expiring datagrams at one instant, 3 get time exceeded (nothing more for
    1 s); at 1 s one token is back and the next one is answered (the positive control)."""
    gw = net.gateway("gw", profile="fvp", dhcp=False, icmp_rate=1, icmp_burst=3)
    guest = net.peer("guest", ipv4="172.20.51.1/24")
    net.link(gw, guest, port_a=gw.inside_port)
    for i in range(10):
        guest.send(to_gw(gw) / IP(dst=WWW, ttl=1) / UDP(sport=1000 + i, dport=9))
    got = [guest.expect(ICMP(type=11), within="10ms") for _ in range(3)]
    assert [g[UDPerror].sport for g in got] == [1000, 1001, 1002]
    guest.expect_nothing("1s", matching=ICMP(type=11))
    assert gw.stack_counters().icmp_rate_limited == 7
    guest.send(to_gw(gw) / IP(dst=WWW, ttl=1) / UDP(sport=2000, dport=9))
    assert guest.expect(ICMP(type=11), within="10ms")[UDPerror].sport == 2000


@pytest.mark.parametrize("profile,addrs", [
    ("fvp", ["172.20.51.254"]),
    ("slirp", ["10.0.2.2", "10.0.2.3"]),
    ("sel4", ["192.168.1.1"]),
])
def test_echo_on_each_address(net, profile, addrs):
    """The gateway answers ping on each of its inside addresses and on its outside address."""
    gw = net.gateway("gw", profile=profile, dhcp=False)
    inside_net = gw.plan.inside
    guest = net.peer("guest", ipv4=f"{list(inside_net.hosts())[9]}/24")
    net.link(gw, guest, port_a=gw.inside_port)
    for i, a in enumerate(addrs + [OUT]):
        guest.send(to_gw(gw) / IP(dst=a) / ICMP(type=8, id=1, seq=i) / b"ping")
        r = guest.expect(IP(src=a) / ICMP(type=0, id=1, seq=i), within="10ms")
        assert r[Raw].load == b"ping"


def test_arp_only_for_own_addresses(net):
    """The gateway answers ARP for its address and not for another one of the segment (a second request for its own
    address right after is answered: the positive control)."""
    from scapy.all import ARP, Ether

    gw = net.gateway("gw", profile="slirp", dhcp=False)
    guest = net.peer("guest", ipv4="10.0.2.15/24", arp=False)
    net.link(gw, guest, port_a=gw.inside_port)
    ask = lambda ip: guest.send(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, psrc="10.0.2.15", hwsrc=guest.mac, pdst=ip))
    ask("10.0.2.99")
    guest.expect_nothing("100ms", matching=ARP(op=2))
    ask("10.0.2.3")
    r = guest.expect(ARP(op=2, psrc="10.0.2.3"), within="10ms")
    assert r[ARP].hwsrc == gw.macs[0]
