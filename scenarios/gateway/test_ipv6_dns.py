"""The gateway's DNS server for IPv6 guests: AAAA records (RFC 3596), queries over IPv6, and the server named in
the Router Advertisements' RDNSS option (RFC 8106).

Scripted guests (scapy peers on the inside segment, links without delay) ask, so every answer's content and
virtual time are the test's to check. The Tern stack's SLAAC client does not read RDNSS (it has no resolver
configuration from RAs); the option is checked on the wire.
"""

from __future__ import annotations

import ipaddress

import pytest
from scapy.all import (DNS, DNSQR, DNSRR, ICMPv6ND_RA, ICMPv6NDOptRDNSS, IP, UDP, Ether, IPv6)

from gwkit import S, bound

pytestmark = pytest.mark.area("gateway")

GW6 = "2001:db8:0:1::1"  # the gateway's address on the first inside segment (ipv6=True)
ME6 = "2001:db8:0:1::9"
RA = {"max_interval": "10s"}
UPSTREAM = "198.51.100.53"


def lab(net, peer_ipv6=ME6, dns=None, **kw):
    """(gw, scripted inside peer with an IPv6 address and 172.20.51.9) on an fvp gateway with IPv6."""
    gw = net.gateway("gw", profile="fvp", dhcp=False, ipv6={"ra": RA}, dns=dns or {}, **kw)
    peer = net.peer("guest", ipv4="172.20.51.9/24", ipv6=f"{peer_ipv6}/64")
    net.link(gw, peer, port_a=gw.inside_port)
    return gw, peer


def ask6(peer, gw, name, qtype="AAAA", id_=0x6666, server=GW6, chksum=None):
    """A query over IPv6 from the peer's port 5353 to ``server``:53."""
    udp = UDP(sport=5353, dport=53) if chksum is None else UDP(sport=5353, dport=53, chksum=chksum)
    peer.send(Ether(dst=gw.macs[gw.inside_port]) / IPv6(src=ME6, dst=server, hlim=64) / udp /
              DNS(id=id_, rd=1, qd=DNSQR(qname=name, qtype=qtype)))


def answer6(peer, server=GW6, within="1s"):
    return peer.expect(IPv6(src=server, dst=ME6) / UDP(sport=53, dport=5353) / DNS(qr=1), within=within)


def link_local(mac: str) -> str:
    """fe80::/64 with the modified EUI-64 of mac (RFC 4291 appendix A)."""
    b = bytes.fromhex(mac.replace(":", ""))
    iid = bytes([b[0] ^ 2]) + b[1:3] + b"\xff\xfe" + b[3:]
    return str(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + iid))


def rrs(a):
    """(type, rdata, ttl) of each answer record."""
    return [(a[DNS].an[i].type, a[DNS].an[i].rdata, a[DNS].an[i].ttl) for i in range(a[DNS].ancount)]


@pytest.mark.rfc("3596 2.1", "3596 2.2")
def test_user_aaaa_record_over_ipv6(net):
    """A user AAAA record asked over IPv6 at 0: answered at 0 from the address asked, AA set, the record (type 28,
    16 bytes) with its TTL; the same name's A record answers an A query, ANY gets both."""
    gw, peer = lab(net)
    gw.dns_add("printer.lab", "2001:db8:0:1::77", ttl=30)
    gw.dns_add("printer.lab", "172.20.51.77", ttl=30)
    assert gw.dns_lookup6("printer.lab") == ["2001:db8:0:1::77"]
    ask6(peer, gw, "printer.lab")
    a = answer6(peer)
    assert a.time_ns == 0
    assert (a[DNS].id, a[DNS].aa, a[DNS].rcode, a[DNS].ancount) == (0x6666, 1, 0, 1)
    assert rrs(a) == [(28, "2001:db8:0:1::77", 30)]
    ask6(peer, gw, "printer.lab", qtype="A", id_=2)
    assert rrs(answer6(peer)) == [(1, "172.20.51.77", 30)]
    ask6(peer, gw, "printer.lab", qtype=255, id_=3)
    assert rrs(answer6(peer)) == [(1, "172.20.51.77", 30), (28, "2001:db8:0:1::77", 30)]


@pytest.mark.rfc("2308 2.2")
def test_a_query_for_aaaa_only_name_is_nodata(net):
    """A name with only an AAAA record: an A query gets NOERROR, AA, no answer (it exists), asked over IPv4 too;
    a name without any record in the domain stays NXDOMAIN (control)."""
    gw, peer = lab(net)
    gw.dns_add("v6only.tern", "2001:db8:0:1::66")
    peer.send(Ether(dst=gw.macs[gw.inside_port]) / IP(src="172.20.51.9", dst="172.20.51.254") /
              UDP(sport=5353, dport=53) / DNS(id=7, rd=1, qd=DNSQR(qname="v6only.tern", qtype="A")))
    a = peer.expect(IP(src="172.20.51.254") / UDP(sport=53, dport=5353) / DNS(qr=1), within="1s")
    assert (a[DNS].rcode, a[DNS].aa, a[DNS].ancount) == (0, 1, 0)
    ask6(peer, gw, "nobody.tern")
    a = answer6(peer)
    assert (a[DNS].rcode, a[DNS].aa, a[DNS].ancount) == (3, 1, 0)


def test_gateway_name_aaaa_and_link_local_server(net):
    """gateway.tern's AAAA is the gateway's global address on the first inside segment; the server also answers a
    query sent to the port's link-local address, from that address."""
    gw, peer = lab(net)
    ask6(peer, gw, "gateway.tern")
    assert rrs(answer6(peer)) == [(28, GW6, 60)]
    ll = link_local(gw.macs[gw.inside_port])
    ask6(peer, gw, "gateway.tern", qtype="A", id_=9, server=ll)
    a = answer6(peer, server=ll)
    assert (a[DNS].id, rrs(a)) == (9, [(1, "172.20.51.254", 60)])


@pytest.mark.rfc("8200 8.1")
def test_ipv6_query_with_zero_checksum_dropped(net):
    """Over IPv6 the UDP checksum is mandatory: a query with checksum 0 is dropped without an answer; the same query
    with its checksum is answered (control)."""
    gw, peer = lab(net)
    ask6(peer, gw, "gateway.tern", chksum=0)
    peer.expect_nothing("500ms", matching=DNS())
    assert gw.counters()["dns_malformed"] == 1
    ask6(peer, gw, "gateway.tern")
    a = peer.expect(IPv6(src=GW6, dst=ME6) / UDP(sport=53, dport=5353) / DNS(qr=1), within="1s")
    assert rrs(a) == [(28, GW6, 60)]


@pytest.mark.rfc("3596 2.1")
def test_guest_name_has_its_slaac_address(net):
    """A Tern guest named "guest" (DHCP host name) that formed its SLAAC address from the gateway's RA: guest.tern
    answers AAAA with that address, learned from its Duplicate Address Detection, and A with its lease; a guest
    without IPv6 (control, "v4only") gets NOERROR with no AAAA but its A record."""
    gw = net.gateway("gw", profile="fvp", ipv6={"ra": RA})
    sw = net.switch("lan", ports=4)
    net.link(gw, sw, port_a=gw.inside_port)
    guest = net.host("guest", dhcp={"hostname": "guest"}, slaac=True)
    net.link(guest, sw)
    v4 = net.host("v4only", dhcp={"hostname": "v4only"}, slaac=False)
    net.link(v4, sw)
    peer = net.peer("asker", ipv6=f"{ME6}/64")
    net.link(peer, sw)
    lease = bound(net, guest)
    bound(net, v4)
    assert net.run(for_="10s", until=lambda: any(a.startswith("2001:db8:0:1:") and st == "preferred"
                                                 for a, _, st in guest.ipv6_addresses()))
    (mine,) = [a for a, _, st in guest.ipv6_addresses() if a.startswith("2001:db8:0:1:")]
    assert gw.dns_lookup6("guest.tern") == [mine]
    ask6(peer, gw, "guest.tern")
    a = answer6(peer)
    assert (a[DNS].rcode, a[DNS].aa, rrs(a)) == (0, 1, [(28, mine, 60)])
    ask6(peer, gw, "guest.tern", qtype="A", id_=2)
    assert rrs(answer6(peer)) == [(1, lease.address, 60)]
    ask6(peer, gw, "v4only.tern", id_=3)
    a = answer6(peer)
    assert (a[DNS].rcode, a[DNS].aa, a[DNS].ancount) == (0, 1, 0)
    ask6(peer, gw, "v4only.tern", qtype="A", id_=4)
    assert rrs(answer6(peer)) == [(1, v4.dhcp_lease().address, 60)]


@pytest.mark.rfc("8106 5.1")
def test_ra_carries_rdnss(net):
    """Every RA names the gateway's DNS server in an RDNSS option: type 25, length 3, lifetime 30 s
    (3 x MaxRtrAdvInterval 10 s), the port's global address; with the DNS server off the RA has none (control)."""
    gw, peer = lab(net)
    ra = peer.expect(IPv6(dst="ff02::1") / ICMPv6ND_RA(), within="1s")
    assert ra.time_ns == 0
    opt = ra[ICMPv6NDOptRDNSS]
    # RFC 8106 5.1: "The value of Lifetime SHOULD by default be at least 3 * MaxRtrAdvInterval, where
    # MaxRtrAdvInterval is the maximum RA interval as defined in [RFC4861]."
    assert (opt.type, opt.len, opt.lifetime, list(opt.dns)) == (25, 3, 30, [GW6])
    net2_gw = net.gateway("gw2", profile="fvp", dhcp=False, ipv6={"ra": RA}, dns={"enabled": False})
    p2 = net.peer("p2", nd=False)
    net.link(net2_gw, p2, port_a=net2_gw.inside_port)
    net.run(for_="1s")
    ra2 = p2.expect(IPv6(dst="ff02::1") / ICMPv6ND_RA(), within="1s")
    assert not ra2.haslayer(ICMPv6NDOptRDNSS)


def test_forwarder_relays_aaaa(net):
    """An AAAA query over IPv6 for an outside name is forwarded (over IPv4) to the upstream and its AAAA answer
    relayed to the guest over IPv6 with the guest's ID, at 0 (links without delay)."""
    gw, peer = lab(net, dns={"upstream": [UPSTREAM]})
    sw = net.switch("internet", ports=3)
    net.link(gw, sw, port_a=gw.outside_port)
    isp = net.gateway("isp", profile="fvp", inside="198.51.100.0/24", gateway_ip=UPSTREAM, outside=None,
                      dhcp=False, dns={"records": {"www.example.com": ["93.184.216.34", "2001:db8:ff::80"]}})
    net.link(isp, sw)
    ask6(peer, gw, "www.example.com", id_=0x4242)
    a = answer6(peer)
    assert a.time_ns == 0
    assert (a[DNS].id, a[DNS].aa) == (0x4242, 1)  # the upstream's answer as it is (isp is authoritative)
    assert rrs(a) == [(28, "2001:db8:ff::80", 60)]
    assert (gw.counters()["dns_forwarded"], gw.counters()["dns_upstream_answers"]) == (1, 1)
    assert isp.counters()["dns_queries"] == 1
