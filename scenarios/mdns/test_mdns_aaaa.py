"""mDNS responder, AAAA records (RFC 6762 with RFC 3596): an AAAA question for <hostname>.local is
answered with the host's IPv6 addresses (link-local and global, tentative ones left out), with
the cache-flush bit and the host-name TTL; legacy (non-5353) questions get the address records
in a unicast DNS answer; a Tern resolver resolves <hostname>.local with family=6 through it.

RFC 6762 section 10: "The recommended TTL value for Multicast DNS resource records with a host
name as the resource record's name (e.g., A, AAAA, HINFO) ... SHOULD be 120 seconds."
RFC 3596 section 2.2: "A 128 bit IPv6 address is encoded in the data portion of an AAAA resource
record in network byte order (high-order byte first)."
"""

from __future__ import annotations

import pytest
from scapy.all import DNS, DNSQR, IP, UDP, Ether

pytestmark = pytest.mark.area("mdns")

MDNS = IP(dst="224.0.0.251") / UDP(sport=5353, dport=5353)
NAME = "tern.local"
TYPE_AAAA = 28


@pytest.fixture
def pair(net):
    host = net.host("dut", ipv4="10.0.0.1/24", ipv6="2001:db8::1/64")
    peer = net.peer("peer", ipv4="10.0.0.2/24")
    net.link(host, peer)
    return net, host, peer


def claimed(net, host, peer, label="tern"):
    host.mdns_start(label)
    net.run(until=lambda: host.mdns_info().state == "ready", for_="10s")
    net.run(for_="2s")
    peer.received()


def send_mdns(peer, dns, sport=5353):
    peer.send(Ether(dst="01:00:5e:00:00:fb") / IP(dst="224.0.0.251", ttl=255) / UDP(sport=sport, dport=5353) / dns)


def aaaa(dns, section="an"):
    return [r for r in (getattr(dns, section) or []) if r.type == TYPE_AAAA]


@pytest.mark.rfc("6762 6", "6762 10", "3596 2.2")
def test_aaaa_question_answered_with_ipv6_addresses(pair):
    """An AAAA question for tern.local: one AAAA record per IPv6 address (link-local first, then
    2001:db8::1), TTL 120, cache-flush bit, from 5353 to the group; no A record in the answer."""
    net, host, peer = pair
    claimed(net, host, peer)
    send_mdns(peer, DNS(qd=DNSQR(qname=NAME, qtype="AAAA")))
    r = peer.expect(MDNS, within="10ms")
    d = r[DNS]
    assert d.qr == 1 and d.aa == 1 and d.qdcount == 0 and d.ancount == 2
    recs = aaaa(d)
    assert [x.rdata for x in recs] == [host.link_local, "2001:db8::1"]
    assert all(x.rrname == b"tern.local." and x.ttl == 120 and x.cacheflush == 1 and x.rclass == 1 for x in recs)
    assert all(x.type == TYPE_AAAA for x in d.an)


@pytest.mark.rfc("6762 7.1")
def test_known_aaaa_answer_suppressed(pair):
    """RFC 6762 section 7.1: "A Multicast DNS responder MUST NOT answer a Multicast DNS query if the
    answer it would give is already included in the Answer Section with an RR TTL at least half the
    correct value." Both AAAA records known: nothing; the same question without them is answered
    (the test above is the positive control)."""
    from scapy.all import DNSRR

    net, host, peer = pair
    claimed(net, host, peer)
    known = [DNSRR(rrname=NAME, type="AAAA", rdata=a, ttl=120) for a in (host.link_local, "2001:db8::1")]
    send_mdns(peer, DNS(qd=DNSQR(qname=NAME, qtype="AAAA"), an=known[0] / known[1]))
    peer.expect_nothing(for_="1s", matching=MDNS)
    send_mdns(peer, DNS(qd=DNSQR(qname=NAME, qtype="AAAA")))
    assert len(aaaa(peer.expect(MDNS, within="10ms")[DNS])) == 2


@pytest.mark.rfc("6762 6.7")
def test_legacy_aaaa_question(pair):
    """A question from port 53000 (a legacy resolver such as dig): a unicast answer repeating the
    ID and the question, the AAAA records without the cache-flush bit and with TTL at most 10 s
    (RFC 6762 section 6.7: "The resource record TTL given in a legacy unicast response SHOULD NOT
    be greater than ten seconds")."""
    net, host, peer = pair
    claimed(net, host, peer)
    send_mdns(peer, DNS(id=0x4242, qd=DNSQR(qname=NAME, qtype="AAAA")), sport=53000)
    r = peer.expect(IP(dst="10.0.0.2") / UDP(sport=5353, dport=53000), within="10ms")
    d = r[DNS]
    assert d.id == 0x4242 and d.qdcount == 1 and d.qd[0].qtype == TYPE_AAAA
    recs = aaaa(d)
    assert [x.rdata for x in recs] == [host.link_local, "2001:db8::1"]
    assert all(x.ttl == 10 and x.cacheflush == 0 for x in recs)


@pytest.mark.rfc("6762 5.1", "3596 2.2")
def test_tern_resolver_gets_aaaa_of_tern_responder(net):
    """A second Tern host resolves tern.local with family=6 (a one-shot mDNS query, RFC 6762
    section 5.1) and gets the responder's IPv6 addresses; family=4 still gets the A record."""
    a = net.host("a", ipv4="10.0.0.1/24", ipv6="2001:db8::1/64")
    b = net.host("b", ipv4="10.0.0.2/24")
    net.link(a, b)
    a.mdns_start("tern")
    net.run(until=lambda: a.mdns_info().state == "ready", for_="10s")
    net.run(for_="2s")
    assert b.resolve("tern.local", family=6, within="5s") == [a.link_local, "2001:db8::1"]
    assert b.resolve("tern.local", within="5s") == ["10.0.0.1"]
