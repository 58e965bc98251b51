"""DNS-SD over mDNS (RFC 6763 on RFC 6762): the Tern host registers one
service instance, "Web._http._tcp.local" on port 8080, and answers browsing
(PTR), resolving (SRV/TXT) and service enumeration; the instance name is
probed with the host name and renamed on conflict.

The host is 10.0.0.1 ("tern.local"); the scripted peer plays the other hosts.
"""

from __future__ import annotations

import pytest
from scapy.all import DNS, DNSQR, DNSRR, DNSRRSRV, IP, UDP, Ether

pytestmark = pytest.mark.area("mdns")

MS = 1_000_000
S = 1_000_000_000
MDNS = IP(dst="224.0.0.251") / UDP(sport=5353, dport=5353)
HOST = "tern.local"
INSTANCE = "Web._http._tcp.local"
PTR_NAME = "_http._tcp.local"
TYPE_A, TYPE_PTR, TYPE_TXT, TYPE_SRV = 1, 12, 16, 33


@pytest.fixture
def pair(net):
    host = net.host("dut", ipv4="10.0.0.1/24")
    peer = net.peer("peer", ipv4="10.0.0.2/24")
    net.link(host, peer)
    return net, host, peer


def send_mdns(peer, dns, sport=5353):
    peer.send(Ether(dst="01:00:5e:00:00:fb") / IP(dst="224.0.0.251", ttl=255) / UDP(sport=sport, dport=5353) / dns)


def registered(net, host, peer, txt=None):
    """Responder and service registered and announced; everything sent so far consumed."""
    host.mdns_start("tern")
    host.mdns_add_service("Web", "_http._tcp", 8080, txt if txt is not None else {"path": "/"})
    net.run(until=lambda: host.mdns_info().state == "ready", for_="10s")
    assert host.mdns_info().state == "ready"
    net.run(for_="2s")
    peer.received()


def records(section):
    """{(name, type): record} of a scapy DNS section."""
    out = {}
    for rr in section or []:
        out[(rr.rrname.decode().rstrip("."), rr.type)] = rr
    return out


@pytest.mark.rfc("6763 4.1", "6763 6", "6762 8.3", "6762 10")
def test_announcement_carries_ptr_srv_txt_and_a(pair):
    """RFC 6762 §8.3: the announcement holds "in the Answer Section, all of its newly registered
    resource records"; §10: TTL 120 s for records with a host name (A, SRV), 75 minutes for the
    others (TXT, PTR); unique records carry the cache-flush bit, the shared PTR does not. The SRV
    targets tern.local port 8080 (RFC 2782), the TXT holds "path=/" (RFC 6763 §6.3), and the
    service type is enumerated under _services._dns-sd._udp.local (RFC 6763 §9)."""
    net, host, peer = pair
    host.mdns_start("tern")
    host.mdns_add_service("Web", "_http._tcp", 8080, {"path": "/"})
    net.run(until=lambda: host.mdns_info().state == "ready", for_="10s")
    anns = [p for p in peer.received() if UDP in p and p[UDP].dport == 5353 and p[DNS].qr == 1]
    assert len(anns) == 2
    recs = records(anns[-1][DNS].an)
    a, srv, txt, ptr = (recs[(HOST, TYPE_A)], recs[(INSTANCE, TYPE_SRV)], recs[(INSTANCE, TYPE_TXT)],
                        recs[(PTR_NAME, TYPE_PTR)])
    enum = recs[("_services._dns-sd._udp.local", TYPE_PTR)]
    assert (a.ttl, srv.ttl, txt.ttl, ptr.ttl, enum.ttl) == (120, 120, 4500, 4500, 4500)
    assert (a.cacheflush, srv.cacheflush, txt.cacheflush, ptr.cacheflush, enum.cacheflush) == (1, 1, 1, 0, 0)
    assert srv.port == 8080 and srv.target == b"tern.local."
    assert txt.rdata == [b"path=/"]
    assert ptr.rdata == b"Web._http._tcp.local." and enum.rdata == b"_http._tcp.local."
    assert host.mdns_info().service == INSTANCE


@pytest.mark.rfc("6762 8.1", "6762 8.2")
def test_instance_name_probed_with_the_host_name(pair):
    """RFC 6762 §8: every unique record is probed before use: the probes ask for tern.local and
    Web._http._tcp.local (type ANY, QU) and propose the A, SRV and TXT records in the authority
    section (§8.2)."""
    net, host, peer = pair
    host.mdns_start("tern")
    host.mdns_add_service("Web", "_http._tcp", 8080)
    p = peer.expect(MDNS, within="1s")
    d = p[DNS]
    assert d.qr == 0 and [q.qname for q in d.qd] == [b"tern.local.", b"Web._http._tcp.local."]
    assert all(q.qtype == 255 and q.unicastresponse == 1 for q in d.qd)
    assert sorted(r.type for r in d.ns) == [TYPE_A, TYPE_TXT, TYPE_SRV]


@pytest.mark.rfc("6763 6.1")
def test_empty_txt_is_a_single_zero_byte(pair):
    """RFC 6763 §6.1: "An empty TXT record containing zero strings is not allowed ... every DNS-SD
    service MUST have a TXT record ... containing a single zero byte"."""
    net, host, peer = pair
    host.mdns_start("tern")
    host.mdns_add_service("Web", "_http._tcp", 8080)
    net.run(until=lambda: host.mdns_info().state == "ready", for_="10s")
    anns = [p for p in peer.received() if UDP in p and p[UDP].dport == 5353 and p[DNS].qr == 1]
    txt = records(anns[-1][DNS].an)[(INSTANCE, TYPE_TXT)]
    assert txt.rdata == [b""]  # one string of length 0: the single zero byte
    assert bytes(txt)[-3:] == b"\x00\x01\x00"  # RDLENGTH 1, then the zero byte


@pytest.mark.rfc("6762 6", "6763 12.1")
def test_browse_answered_after_shared_delay_with_additional_records(pair):
    """RFC 6762 §6: the PTR is a shared record: "each responder SHOULD delay its response by a
    random amount of time selected with uniform random distribution in the range 20-120 ms";
    RFC 6763 §12.1: with the PTR the responder "SHOULD include the following additional records:
    The SRV record(s) named in the PTR rdata. The TXT record(s) named in the PTR rdata. All
    address records ... named in the SRV rdata.\""""
    net, host, peer = pair
    registered(net, host, peer)
    send_mdns(peer, DNS(qd=DNSQR(qname=PTR_NAME, qtype="PTR")))
    t = net.now_ns
    r = peer.expect(MDNS, within="200ms")
    assert 20 * MS <= r.time_ns - t <= 120 * MS
    d = r[DNS]
    assert list(records(d.an)) == [(PTR_NAME, TYPE_PTR)]
    assert set(records(d.ar)) == {(HOST, TYPE_A), (INSTANCE, TYPE_SRV), (INSTANCE, TYPE_TXT)}


@pytest.mark.rfc("6762 6", "6763 12.2")
def test_srv_question_answered_at_once_with_address(pair):
    """An SRV question for the instance is about a unique record: answered at once (RFC 6762 §6
    delays only shared records), with the A record of its target as additional record (RFC 6763
    §12.2)."""
    net, host, peer = pair
    registered(net, host, peer)
    send_mdns(peer, DNS(qd=DNSQR(qname=INSTANCE, qtype="SRV")))
    t = net.now_ns
    r = peer.expect(MDNS, within="10ms")
    assert r.time_ns - t < MS
    assert list(records(r[DNS].an)) == [(INSTANCE, TYPE_SRV)]
    assert list(records(r[DNS].ar)) == [(HOST, TYPE_A)]


@pytest.mark.rfc("6763 9")
def test_service_type_enumeration(pair):
    """RFC 6763 §9: a PTR query for "_services._dns-sd._udp.local" yields the service types
    offered: _http._tcp.local."""
    net, host, peer = pair
    registered(net, host, peer)
    send_mdns(peer, DNS(qd=DNSQR(qname="_services._dns-sd._udp.local", qtype="PTR")))
    r = peer.expect(MDNS, within="200ms")
    assert r[DNS].an[0].rdata == b"_http._tcp.local."


@pytest.mark.rfc("6762 7.1")
def test_known_ptr_suppresses_the_browse_answer(pair):
    """RFC 6762 §7.1 for a shared record: a browse carrying our PTR as a known answer with at
    least half its TTL (2250 of 4500 s) gets nothing; with 2249 s it is answered (the control)."""
    net, host, peer = pair
    registered(net, host, peer)
    known = DNSRR(rrname=PTR_NAME, type="PTR", rdata=INSTANCE, ttl=2250)
    send_mdns(peer, DNS(qd=DNSQR(qname=PTR_NAME, qtype="PTR"), an=known))
    peer.expect_nothing(for_="500ms", matching=MDNS)
    known.ttl = 2249
    send_mdns(peer, DNS(qd=DNSQR(qname=PTR_NAME, qtype="PTR"), an=known))
    assert peer.expect(MDNS, within="200ms")[DNS].an[0].type == TYPE_PTR


@pytest.mark.rfc("6762 8.1", "6763 4.1.1")
def test_instance_conflict_while_probing_renames_the_instance(pair):
    """RFC 6762 §8.1 for the instance name: another host answers the probe with an SRV for
    Web._http._tcp.local on another target: the instance becomes "Web (2)" (the host name
    stays)."""
    net, host, peer = pair
    host.mdns_start("tern")
    host.mdns_add_service("Web", "_http._tcp", 8080)
    peer.expect(MDNS, within="1s")
    send_mdns(peer, DNS(qr=1, aa=1, an=DNSRRSRV(rrname=INSTANCE, port=80, target="other.local", ttl=120)))
    p = peer.expect(MDNS, within="1s")
    assert [q.qname for q in p[DNS].qd] == [b"tern.local.", b"Web (2)._http._tcp.local."]
    net.run(until=lambda: host.mdns_info().state == "ready", for_="5s")
    info = host.mdns_info()
    assert info.service == "Web (2)._http._tcp.local" and info.service_renames == 1
    assert info.name == HOST


@pytest.mark.rfc("6762 6.7", "6763 12.1")
def test_legacy_browse_gets_unicast_answer_with_additionals(pair):
    """A browse from a legacy resolver (dig -p 5353 ... PTR) is answered at once by unicast with
    the query ID and question, TTLs capped at 10 s (RFC 6762 §6.7), and the additional records
    of RFC 6763 §12.1."""
    net, host, peer = pair
    registered(net, host, peer)
    send_mdns(peer, DNS(id=99, qd=DNSQR(qname=PTR_NAME, qtype="PTR")), sport=40001)
    r = peer.expect(IP(dst="10.0.0.2") / UDP(sport=5353, dport=40001), within="10ms")
    d = r[DNS]
    assert d.id == 99 and d.qd[0].qname == b"_http._tcp.local."
    assert d.an[0].rdata == b"Web._http._tcp.local." and d.an[0].ttl == 10
    assert all(rr.ttl <= 10 and rr.cacheflush == 0 for rr in d.ar)
    assert set(records(d.ar)) == {(HOST, TYPE_A), (INSTANCE, TYPE_SRV), (INSTANCE, TYPE_TXT)}


def test_add_service_errors(pair):
    """Bad registrations are refused with a message naming the argument."""
    from pyharness.errors import TernError

    net, host, peer = pair
    with pytest.raises(TernError, match="current state"):  # not started
        host.mdns_add_service("Web", "_http._tcp", 80)
    host.mdns_start("tern")
    with pytest.raises(TernError, match="type"):
        host.mdns_add_service("Web", "http", 80)
    with pytest.raises(TernError, match="port"):
        host.mdns_add_service("Web", "_http._tcp", 0)
    with pytest.raises(TernError, match="instance"):
        host.mdns_add_service("a.b", "_http._tcp", 80)
    host.mdns_add_service("Web", "_http._tcp", 80)
    with pytest.raises(TernError, match="current state"):  # one service per host
        host.mdns_add_service("Web2", "_http._tcp", 81)
