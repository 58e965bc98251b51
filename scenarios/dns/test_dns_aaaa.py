"""DNS stub resolver, AAAA queries (RFC 3596): the query, the answer's IPv6 addresses, the cache
kept apart from A, CNAME chains, NODATA, and AAAA records of the wrong length.

RFC 3596 section 2.1: "The AAAA resource record type is a record specific to the Internet class
that stores a single IPv6 address." Section 2.2: "A 128 bit IPv6 address is encoded in the data
portion of an AAAA resource record in network byte order (high-order byte first)."
Scripted peers play the DNS server over IPv4 (the query type says nothing of the transport).
"""

from __future__ import annotations

import pytest
from scapy.all import DNS, DNSQR, DNSRR, IP, UDP, Raw

pytestmark = pytest.mark.area("dns")

NS1 = "10.0.0.53"
QUERY = IP(dst=NS1) / UDP(dport=53)


@pytest.fixture
def one(net):
    host = net.host("dut", ipv4="10.0.0.1/24", dns=[NS1])
    p1 = net.peer("ns1", ipv4=f"{NS1}/24")
    net.link(host, p1)
    return net, host, p1


def answer(peer, q, *rrs, raw=None, **dns):
    body = raw if raw is not None else DNS(id=q[DNS].id, qr=1, rd=1, ra=1, qd=q[DNS].qd, an=list(rrs), **dns)
    peer.send(IP(src=peer.ip, dst=q[IP].src) / UDP(sport=53, dport=q[UDP].sport) / body)


def start(host, name, family=6):
    from pyharness.dns import start as s

    return s(host, name, family)


def result(host, qid):
    from pyharness.dns import result as r

    return r(host, qid)


@pytest.mark.rfc("3596 2.1", "1035 4.1.2")
def test_aaaa_query_fields(one):
    """family=6 asks QTYPE 28 (AAAA), class IN, at once."""
    net, host, p1 = one
    start(host, "www.example.org")
    q = p1.expect(QUERY, within="10ms")
    assert q[DNSQR].qtype == 28 and q[DNSQR].qclass == 1 and q[DNSQR].qname == b"www.example.org."


@pytest.mark.rfc("3596 2.2")
def test_aaaa_answer(one):
    """Two AAAA records come back as IPv6 addresses, in order; the TTL is the smaller."""
    net, host, p1 = one
    qid = start(host, "www.example.org")
    q = p1.expect(QUERY, within="10ms")
    answer(p1, q, DNSRR(rrname="www.example.org", type="AAAA", rdata="2001:db8::7", ttl=300),
           DNSRR(rrname="www.example.org", type="AAAA", rdata="2001:db8::8", ttl=100))
    net.run(for_="1ms")
    a = result(host, qid)
    assert a.status == "ok" and a.addresses == ["2001:db8::7", "2001:db8::8"] and a.ttl == 100


@pytest.mark.rfc("3596 2.2")
def test_host_resolve_family_6(one):
    """Host.resolve(name, family=6) returns the AAAA addresses; A records in the same answer are not
    taken for an AAAA question."""
    net, host, p1 = one
    from pyharness.dns import start as s

    qid = s(host, "both.example.org", 6)
    q = p1.expect(QUERY, within="10ms")
    answer(p1, q, DNSRR(rrname="both.example.org", type="A", rdata="192.0.2.1", ttl=60),
           DNSRR(rrname="both.example.org", type="AAAA", rdata="2001:db8::1", ttl=60))
    net.run(for_="1ms")
    assert result(host, qid).addresses == ["2001:db8::1"]
    assert host.resolve("both.example.org", family=6) == ["2001:db8::1"]  # from the cache


@pytest.mark.rfc("1035 3.2.1", "3596 2.1")
def test_a_and_aaaa_cached_apart(one):
    """A cached AAAA answer does not answer an A question for the same name (and the other way):
    the A question goes to the server."""
    net, host, p1 = one
    qid = start(host, "www.example.org")
    q = p1.expect(QUERY, within="10ms")
    answer(p1, q, DNSRR(rrname="www.example.org", type="AAAA", rdata="2001:db8::7", ttl=300))
    net.run(for_="1ms")
    result(host, qid)
    qid4 = start(host, "www.example.org", 4)
    q4 = p1.expect(QUERY, within="10ms")
    assert q4[DNSQR].qtype == 1
    answer(p1, q4, DNSRR(rrname="www.example.org", type="A", rdata="192.0.2.7", ttl=300))
    net.run(for_="1ms")
    assert result(host, qid4).addresses == ["192.0.2.7"]
    a6 = host.resolve_answer("www.example.org", family=6)
    a4 = host.resolve_answer("www.example.org", family=4)
    assert a6.from_cache and a6.addresses == ["2001:db8::7"]
    assert a4.from_cache and a4.addresses == ["192.0.2.7"]


@pytest.mark.rfc("1035 3.6.2", "3596 2.1")
def test_aaaa_through_cname(one):
    """A CNAME then the target's AAAA in one answer: the target's address, the canonical name."""
    net, host, p1 = one
    qid = start(host, "www.example.org")
    q = p1.expect(QUERY, within="10ms")
    answer(p1, q, DNSRR(rrname="www.example.org", type="CNAME", rdata="web.example.org", ttl=60),
           DNSRR(rrname="web.example.org", type="AAAA", rdata="2001:db8::99", ttl=60))
    net.run(for_="1ms")
    a = result(host, qid)
    assert a.status == "ok" and a.addresses == ["2001:db8::99"] and a.canonical == "web.example.org"


@pytest.mark.rfc("2308 2.2")
def test_aaaa_nodata(one):
    """The name has only an A record: an AAAA question ends NODATA."""
    net, host, p1 = one
    qid = start(host, "v4only.example.org")
    q = p1.expect(QUERY, within="10ms")
    answer(p1, q, DNSRR(rrname="v4only.example.org", type="A", rdata="192.0.2.1", ttl=60))
    net.run(for_="1ms")
    assert result(host, qid).status == "nodata"


@pytest.mark.rfc("3596 2.2")
def test_aaaa_of_wrong_length_refused(one):
    """An AAAA record with 4 bytes of RDATA is malformed: counted, not used; the query waits and
    a correct answer to its retransmission resolves it (positive control)."""
    net, host, p1 = one
    qid = start(host, "www.example.org")
    q = p1.expect(QUERY, within="10ms")
    bad = DNS(id=q[DNS].id, qr=1, rd=1, ra=1, qd=q[DNS].qd,
              an=DNSRR(rrname="www.example.org", type="AAAA", rdata="2001:db8::7", ttl=60))
    raw = bytes(bad)
    raw = raw[:-18] + b"\x00\x04" + raw[-16:-12]  # RDLENGTH 4, four bytes of address
    answer(p1, q, raw=raw)
    net.run(for_="1ms")
    assert result(host, qid).status == "pending"
    assert host.dns_counters()["malformed"] == 1
    answer(p1, q, DNSRR(rrname="www.example.org", type="AAAA", rdata="2001:db8::7", ttl=60))
    net.run(for_="1ms")
    assert result(host, qid).addresses == ["2001:db8::7"]


def test_bad_family_refused(one):
    """family=5 is refused, naming the family."""
    from pyharness.errors import ConfigError

    net, host, p1 = one
    with pytest.raises(ConfigError, match="family"):
        host.resolve("x.example.org", family=5)
