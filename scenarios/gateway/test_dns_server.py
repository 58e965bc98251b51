"""The gateway's DNS server (RFC 1035): authoritative answers for its local data,
forwarding of everything else to its upstream servers, and the errors.

A scripted guest asks with scapy, so IDs, flags and timing are the test's.
The sealed Internet's resolver is a second gateway node (outside=None, its
DNS server holding the Internet's names) at 198.51.100.53.
"""

from __future__ import annotations

import pytest
from scapy.all import DNS, DNSQR, DNSRR, IP, UDP, Ether

from gwkit import S

pytestmark = pytest.mark.area("gateway")
UPSTREAM = "198.51.100.53"
OUT_ADDR = "198.51.100.2"


@pytest.fixture
def dns_lab(net):
    """(net, gw, guest peer .9) with fvp's gateway, an Internet switch and the upstream resolver on it."""

    def build(upstream=(UPSTREAM,), profile="fvp", **kw):
        gw = net.gateway("gw", profile=profile, dhcp=False, dns={"upstream": list(upstream), **kw})
        guest = net.peer("guest", ipv4=f"{list(gw.plan.inside.hosts())[8]}/24")
        net.link(gw, guest, port_a=gw.inside_port)
        sw = net.switch("internet", ports=4)
        net.link(gw, sw, port_a=gw.outside_port)
        isp = net.gateway("isp", profile="fvp", inside="198.51.100.0/24", gateway_ip=UPSTREAM, outside=None,
                          dhcp=False, dns={"records": {"www.example.com": ["93.184.216.34", "93.184.216.35"]}})
        net.link(isp, sw)
        return gw, guest, isp
    return build


def ask(guest, server, name, qtype="A", id_=0x1234, **dns):
    gw = guest.net.node("gw")
    guest.send(Ether(dst=gw.mac_of_ip(server)) / IP(dst=server) / UDP(sport=5353, dport=53) /
               DNS(id=id_, rd=1, qd=DNSQR(qname=name, qtype=qtype), **dns))


def answer_of(guest, server, within="1s"):
    return guest.expect(IP(src=server) / UDP(sport=53, dport=5353) / DNS(qr=1), within=within)


@pytest.mark.rfc("1035 4.1.1")
def test_local_record_authoritative(dns_lab):
    """A user record: AA set, both addresses in order, the configured TTL."""
    gw, guest, _ = dns_lab()
    gw.dns_add("printer.lab", "172.20.51.77", ttl=30)
    ask(guest, gw.ip, "printer.lab")
    a = answer_of(guest, gw.ip)
    assert (a[DNS].id, a[DNS].aa, a[DNS].rcode, a[DNS].ancount) == (0x1234, 1, 0, 1)
    assert (a[DNSRR].rdata, a[DNSRR].ttl, a[DNSRR].type) == ("172.20.51.77", 30, 1)
    assert a.time_ns == 0


def test_gateway_name(dns_lab):
    """gateway.tern is the gateway's inside address."""
    gw, guest, _ = dns_lab()
    ask(guest, gw.ip, "gateway.tern")
    assert answer_of(guest, gw.ip)[DNSRR].rdata == "172.20.51.254"


@pytest.mark.rfc("1035 4.1.1")
def test_unknown_local_name_nxdomain(dns_lab):
    """A name in the local domain without a record: NXDOMAIN (RCODE 3), authoritative, no answer."""
    gw, guest, _ = dns_lab()
    ask(guest, gw.ip, "nobody.tern")
    a = answer_of(guest, gw.ip)
    assert (a[DNS].rcode, a[DNS].aa, a[DNS].ancount) == (3, 1, 0)
    assert gw.counters()["dns_nxdomain"] == 1


def test_aaaa_for_local_name_is_nodata(dns_lab):
    """AAAA for a local name that exists: NOERROR without answers (no IPv6 records)."""
    gw, guest, _ = dns_lab()
    ask(guest, gw.ip, "gateway.tern", qtype="AAAA")
    a = answer_of(guest, gw.ip)
    assert (a[DNS].rcode, a[DNS].aa, a[DNS].ancount) == (0, 1, 0)


def test_forwarded_to_upstream(dns_lab):
    """Another name goes upstream with a fresh ID; the answer comes back with the guest's ID and both addresses."""
    gw, guest, isp = dns_lab()
    ask(guest, gw.ip, "www.example.com", id_=0x4242)
    a = answer_of(guest, gw.ip)
    assert a[DNS].id == 0x4242
    assert [a[DNS].an[i].rdata for i in range(a[DNS].ancount)] == ["93.184.216.34", "93.184.216.35"]
    assert (gw.counters()["dns_forwarded"], gw.counters()["dns_upstream_answers"]) == (1, 1)
    assert isp.counters()["dns_queries"] == 1


def test_next_upstream_after_timeout(dns_lab):
    """The first upstream never answers (nobody has its address): after upstream_timeout (2 s) the second is asked
    and its answer relayed at 2 s."""
    gw, guest, _ = dns_lab(upstream=("198.51.100.99", UPSTREAM))
    ask(guest, gw.ip, "www.example.com")
    a = answer_of(guest, gw.ip, within="5s")
    assert a.time_ns == 2 * S
    assert a[DNS].rcode == 0 and gw.counters()["dns_forwarded"] == 2


@pytest.mark.rfc("1035 4.1.1")
def test_servfail_when_every_upstream_is_silent(dns_lab):
    """No upstream answers: SERVFAIL (RCODE 2) to the guest after the last one's timeout (1 s here)."""
    gw, guest, _ = dns_lab(upstream=("198.51.100.99",), upstream_timeout="1s")
    ask(guest, gw.ip, "www.example.com")
    a = answer_of(guest, gw.ip, within="3s")
    assert (a.time_ns, a[DNS].rcode, a[DNS].id) == (1 * S, 2, 0x1234)


def test_no_upstream_servfail_at_once(net):
    """Without an upstream a name outside the local data is SERVFAIL at once."""
    gw = net.gateway("gw", profile="fvp", dhcp=False)
    guest = net.peer("guest", ipv4="172.20.51.9/24")
    net.link(gw, guest)
    ask(guest, gw.ip, "www.example.com")
    a = answer_of(guest, gw.ip)
    assert (a.time_ns, a[DNS].rcode) == (0, 2)


@pytest.mark.rfc("1035 4.1.1")
def test_two_questions_formerr(dns_lab):
    """QDCOUNT 2: FORMERR (RCODE 1)."""
    gw, guest, _ = dns_lab()
    ask(guest, gw.ip, "gateway.tern", qdcount=2)
    assert answer_of(guest, gw.ip)[DNS].rcode == 1


@pytest.mark.rfc("1035 4.1.1")
def test_status_opcode_notimp(dns_lab):
    """OPCODE 2 (STATUS): NOTIMP (RCODE 4)."""
    gw, guest, _ = dns_lab()
    ask(guest, gw.ip, "gateway.tern", opcode=2)
    assert answer_of(guest, gw.ip)[DNS].rcode == 4


def test_slirp_dns_answers_from_its_own_address(dns_lab):
    """slirp's DNS server is 10.0.2.3, not the gateway 10.0.2.2: the answer leaves from 10.0.2.3 (a resolver accepts
    answers only from the server it asked, RFC 5452 9.1)."""
    gw, guest, _ = dns_lab(profile="slirp")
    ask(guest, "10.0.2.3", "gateway.tern")
    a = answer_of(guest, "10.0.2.3")
    assert (a[IP].src, a[DNSRR].rdata) == ("10.0.2.3", "10.0.2.2")


@pytest.mark.rfc("1122 4.1.3.4")
def test_bad_udp_checksum_dropped(dns_lab):
    """A query with a wrong UDP checksum is dropped silently; the same query with a right one is answered (control)."""
    gw, guest, _ = dns_lab()
    frame = Ether(dst=gw.macs[0]) / IP(dst=gw.ip) / UDP(sport=5353, dport=53, chksum=0x1111) / \
        DNS(id=1, qd=DNSQR(qname="gateway.tern"))
    guest.send(frame)
    guest.expect_nothing("100ms", matching=DNS())
    assert gw.counters()["dns_malformed"] == 1
    ask(guest, gw.ip, "gateway.tern")
    a = guest.expect(IP(src=gw.ip) / UDP(sport=53, dport=5353) / DNS(qr=1), within="10ms")
    assert a[DNSRR].rdata == "172.20.51.254"


def test_dns_on_outside_address(dns_lab):
    """The upstream gateway itself answers on its address: a query from the Internet side to the isp node works
    (a gateway is a DNS server for whichever segment asks)."""
    gw, guest, isp = dns_lab()
    assert isp.dns_lookup("www.example.com") == ["93.184.216.34", "93.184.216.35"]
    assert isp.dns_lookup("example.org") is None


@pytest.mark.rfc("1035 4.2.1")
def test_long_upstream_answer_truncated_with_tc(net):
    """RFC 1035 4.2.1: "Messages carried by UDP are restricted to 512 bytes". A 40-record upstream answer reaches the
    guest cut to 512 bytes with TC set; a short one (the control) arrives whole without TC."""
    gw = net.gateway("gw", profile="fvp", dhcp=False, dns={"upstream": [UPSTREAM]})
    guest = net.peer("guest", ipv4="172.20.51.9/24")
    net.link(gw, guest)
    up = net.peer("up", ipv4=f"{UPSTREAM}/24")
    net.link(gw, up)
    for count, id_, name in ((2, 1, "few.example"), (40, 2, "many.example")):
        ask(guest, gw.ip, name, id_=id_)
        q = up.expect(IP(dst=UPSTREAM) / UDP(dport=53) / DNS(qr=0), within="1s")
        rrs = [DNSRR(rrname=name, type="A", ttl=60, rdata=f"192.0.2.{i + 1}") for i in range(count)]
        up.send(IP(dst=OUT_ADDR) / UDP(sport=53, dport=q[UDP].sport) /
                DNS(id=q[DNS].id, qr=1, rd=1, ra=1, qd=q[DNS].qd, an=rrs))
        a = answer_of(guest, gw.ip)
        raw = bytes(a[UDP].payload)
        if count == 2:
            assert (a[DNS].tc, a[DNS].ancount, a[DNS].id) == (0, 2, 1)
        else:
            assert (a[DNS].tc, len(a[UDP]) - 8, a[DNS].id) == (1, 512, 2)
            assert raw[:2] == b"\x00\x02"


@pytest.mark.rfc("1035 3.2.1")
def test_answer_cached_for_its_ttl(net):
    """RFC 1035 3.2.1: TTL "specifies the time interval that the resource record may be cached before the source of the
    information should again be consulted". The upstream's answer (TTL 100) is asked once; 30 s later the same name
    (in other letter case) comes from the cache with TTL 70, the client's ID and its own question; at 100 s the
    upstream is asked again (the positive control of the silence before)."""
    gw = net.gateway("gw", profile="fvp", dhcp=False, dns={"upstream": [UPSTREAM]})
    guest = net.peer("guest", ipv4="172.20.51.9/24")
    net.link(gw, guest)
    up = net.peer("up", ipv4=f"{UPSTREAM}/24")
    net.link(gw, up)

    def serve():
        q = up.expect(IP(dst=UPSTREAM) / UDP(dport=53) / DNS(qr=0), within="10ms")
        up.send(IP(dst=OUT_ADDR) / UDP(sport=53, dport=q[UDP].sport) /
                DNS(id=q[DNS].id, qr=1, rd=1, ra=1, qd=q[DNS].qd,
                    an=[DNSRR(rrname="cdn.example", type="A", ttl=100, rdata="192.0.2.10")]))
        return q

    ask(guest, gw.ip, "cdn.example", id_=1)
    serve()
    assert answer_of(guest, gw.ip)[DNSRR].ttl == 100
    net.run(for_="30s")
    ask(guest, gw.ip, "CDN.Example", id_=2)
    a = answer_of(guest, gw.ip)
    up.expect_nothing("10ms", matching=DNS())
    assert (a[DNS].id, a[DNSRR].ttl, a[DNSRR].rdata, a[DNS].qd[0].qname) == (2, 70, "192.0.2.10", b"CDN.Example.")
    (entry,) = gw.dns_cache()
    assert (entry["name"], entry["qtype"], entry["hits"], entry["expires_at"] - entry["stored_at"]) == (
        "cdn.example", 1, 1, 100 * S)
    net.run(until=f"{entry['expires_at']}ns")
    assert gw.dns_cache() == []
    ask(guest, gw.ip, "cdn.example", id_=3)
    serve()
    assert answer_of(guest, gw.ip)[DNS].id == 3
    assert gw.counters()["dns_cache_hits"] == 1
