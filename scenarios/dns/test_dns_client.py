"""DNS stub resolver (RFC 1035, RFC 5452): query fields, random port and ID,
answers accepted only when they match, CNAME chains with a bound, failover
between servers with exact retransmission times, TTL cache, NXDOMAIN, and
malformed answers (the NAME:WRECK class) survived.

Scripted peers play the DNS servers with scapy's DNS layer; the host starts
resolving at virtual time 0 on links without delay.
"""

from __future__ import annotations

import pytest
from scapy.all import DNS, DNSQR, DNSRR, IP, UDP, Ether, Raw

pytestmark = pytest.mark.area("dns")

S = 1_000_000_000
NS1, NS2 = "10.0.0.53", "10.0.0.54"
QUERY = IP(dst=NS1) / UDP(dport=53)


@pytest.fixture
def two(net):
    """(net, host 10.0.0.1 with servers NS1 and NS2, peer NS1, peer NS2) on a switch."""
    sw = net.switch("sw", ports=3)
    host = net.host("dut", ipv4="10.0.0.1/24", dns=[NS1, NS2])
    p1 = net.peer("ns1", ipv4=f"{NS1}/24")
    p2 = net.peer("ns2", ipv4=f"{NS2}/24")
    for n in (host, p1, p2):
        net.link(n, sw)
    return net, host, p1, p2


def answer(peer, q, *rrs, rcode=0, raw=None, qd=None, **dns):
    """Answer query packet ``q`` from ``peer`` with records ``rrs`` (or ``raw`` DNS bytes)."""
    body = raw if raw is not None else DNS(id=q[DNS].id, qr=1, rd=1, ra=1, rcode=rcode,
                                           qd=qd if qd is not None else q[DNS].qd, an=list(rrs), **dns)
    peer.send(IP(src=peer.ip, dst=q[IP].src) / UDP(sport=53, dport=q[UDP].sport) / body)


def start(host, name):
    from pyharness.dns import start as s

    return s(host, name)


def result(host, qid):
    from pyharness.dns import result as r

    return r(host, qid)


@pytest.mark.rfc("1035 4.1.1", "5452 9.2")
def test_query_fields(two):
    """An A query, RD set, from an ephemeral port to 53, to the first server at once."""
    net, host, p1, _ = two
    start(host, "www.example.org")
    q = p1.expect(QUERY, within="10ms")
    assert q.time_ns < 1_000_000  # at once (ARP for the server first)
    assert q[IP].src == "10.0.0.1" and 49152 <= q[UDP].sport <= 65535
    assert q[DNS].qr == 0 and q[DNS].rd == 1 and q[DNS].qdcount == 1 and q[DNS].ancount == 0
    assert q[DNSQR].qname == b"www.example.org." and q[DNSQR].qtype == 1 and q[DNSQR].qclass == 1


@pytest.mark.rfc("5452 9.2")
def test_port_and_id_random_per_query(two):
    """Each query takes a fresh random source port and ID (seeded: reproducible)."""
    net, host, p1, _ = two
    seen = set()
    for i in range(4):
        qid = start(host, f"h{i}.example.org")
        q = p1.expect(QUERY, within="10ms")
        seen.add((q[UDP].sport, q[DNS].id))
        answer(p1, q, DNSRR(rrname=q[DNSQR].qname, type="A", rdata="192.0.2.1", ttl=60))
        net.run(for_="1ms")
        assert result(host, qid).status == "ok"
    ports = {p for p, _ in seen}
    ids = {i for _, i in seen}
    assert len(ports) == 4 and len(ids) == 4


@pytest.mark.rfc("1035 4.1.3")
def test_a_answer(two):
    """An A answer resolves; several A records all come back."""
    net, host, p1, _ = two
    qid = start(host, "www.example.org")
    q = p1.expect(QUERY, within="10ms")
    answer(p1, q, DNSRR(rrname="www.example.org", type="A", rdata="192.0.2.7", ttl=300),
           DNSRR(rrname="www.example.org", type="A", rdata="192.0.2.8", ttl=200))
    net.run(for_="1ms")
    a = result(host, qid)
    assert a.status == "ok" and a.addresses == ["192.0.2.7", "192.0.2.8"] and a.ttl == 200


@pytest.mark.rfc("1035 3.2.1")
def test_ttl_cache(two):
    """A second resolve within the TTL sends nothing; after the TTL the name is asked again."""
    net, host, p1, _ = two
    qid = start(host, "www.example.org")
    q = p1.expect(QUERY, within="10ms")
    answer(p1, q, DNSRR(rrname="www.example.org", type="A", rdata="192.0.2.7", ttl=30))
    net.run(for_="1ms")
    result(host, qid)
    t0 = net.now_ns
    net.run(until=(t0 + 29 * S) / 1e9)
    a = host.resolve_answer("WWW.Example.ORG")
    assert a.status == "ok" and a.from_cache and a.addresses == ["192.0.2.7"] and a.ttl == 0
    p1.expect_nothing(for_="100ms", matching=QUERY)
    net.run(until=(t0 + 30 * S) / 1e9)
    start(host, "www.example.org")
    p1.expect(QUERY, within="10ms")
    assert host.dns_counters()["cache_hits"] == 1


@pytest.mark.rfc("1035 3.6.2")
def test_cname_chain_in_answer(two):
    """www -> web -> srv (CNAMEs, compressed) then srv A: resolved to srv's address, canonical name srv."""
    net, host, p1, _ = two
    qid = start(host, "www.example.org")
    q = p1.expect(QUERY, within="10ms")
    answer(p1, q, DNSRR(rrname="www.example.org", type="CNAME", rdata="web.example.org", ttl=100),
           DNSRR(rrname="web.example.org", type="CNAME", rdata="srv.example.org", ttl=50),
           DNSRR(rrname="srv.example.org", type="A", rdata="192.0.2.9", ttl=300))
    net.run(for_="1ms")
    a = result(host, qid)
    assert a.status == "ok" and a.addresses == ["192.0.2.9"] and a.canonical == "srv.example.org"
    assert a.ttl == 50


def test_cname_without_address_asks_target(two):
    """An answer that stops at a CNAME: the target is asked in a new query."""
    net, host, p1, _ = two
    qid = start(host, "www.example.org")
    q = p1.expect(QUERY, within="10ms")
    answer(p1, q, DNSRR(rrname="www.example.org", type="CNAME", rdata="cdn.example.net", ttl=100))
    q2 = p1.expect(QUERY, within="10ms")
    assert q2[DNSQR].qname == b"cdn.example.net." and q2[DNS].id != q[DNS].id
    answer(p1, q2, DNSRR(rrname="cdn.example.net", type="A", rdata="198.51.100.1", ttl=100))
    net.run(for_="1ms")
    assert result(host, qid).addresses == ["198.51.100.1"]


def test_cname_loop_bounded(two):
    """a -> b -> a ... : stopped after 8 links, status cname_loop, no further queries."""
    net, host, p1, _ = two
    qid = start(host, "a.example.org")
    q = p1.expect(QUERY, within="10ms")
    answer(p1, q, DNSRR(rrname="a.example.org", type="CNAME", rdata="b.example.org", ttl=100),
           DNSRR(rrname="b.example.org", type="CNAME", rdata="a.example.org", ttl=100))
    net.run(for_="1ms")
    assert result(host, qid).status == "cname_loop"
    p1.expect_nothing(for_="10s", matching=QUERY)


def test_cname_chain_over_queries_bounded(two):
    """A chain that goes on query after query stops at 8 links."""
    net, host, p1, _ = two
    qid = start(host, "c0.example.org")
    asked = 0
    for i in range(20):
        q = p1.expect(QUERY, within="10ms") if i < 9 else None
        if q is None:
            break
        asked += 1
        answer(p1, q, DNSRR(rrname=f"c{i}.example.org", type="CNAME", rdata=f"c{i + 1}.example.org", ttl=100))
        net.run(for_="1ms")
    assert asked == 9 and result(host, qid).status == "cname_loop"
    p1.expect_nothing(for_="5s", matching=QUERY)


@pytest.mark.rfc("1035 4.2.1")
def test_failover_and_retransmission_times(two):
    """Silent servers: NS1 at 0, NS2 at 2 s, NS1 at 4 s, NS2 at 8 s, NS1 at 12 s, NS2 at 20 s (timeout 2 s
    doubled each round, 3 rounds); timeout at 28 s."""
    net, host, p1, p2 = two
    qid = start(host, "www.example.org")
    sched = [(p1, 0), (p2, 2), (p1, 4), (p2, 8), (p1, 12), (p2, 20)]
    base = None
    ports = set()
    for peer, t in sched:
        q = peer.expect(IP(dst=peer.ip) / UDP(dport=53), within="30s")
        base = q.time_ns - t * S if base is None else base
        assert q.time_ns - base == t * S, (peer.name, t, (q.time_ns - base) / S)
        ports.add((q[UDP].sport, q[DNS].id))
    assert len(ports) == 1, "retransmissions keep the query's port and ID"
    net.run(until=(base + 28 * S - 1) / 1e9)
    assert result(host, qid).status == "pending"
    net.run(for_="1ns")
    assert result(host, qid).status == "timeout"
    assert host.dns_counters()["timeouts"] == 6


def test_failover_to_second_server(two):
    """The first server is silent, the second answers: resolved 2 s after the start."""
    net, host, p1, p2 = two
    qid = start(host, "www.example.org")
    p1.expect(QUERY, within="10ms")
    q = p2.expect(IP(dst=NS2) / UDP(dport=53), within="3s")
    answer(p2, q, DNSRR(rrname="www.example.org", type="A", rdata="192.0.2.7", ttl=60))
    net.run(for_="1ms")
    assert result(host, qid).addresses == ["192.0.2.7"]


@pytest.mark.rfc("1035 4.1.1")
def test_servfail_moves_on_at_once(two):
    """SERVFAIL from NS1: NS2 is asked at once, not after the timeout."""
    net, host, p1, p2 = two
    qid = start(host, "www.example.org")
    q = p1.expect(QUERY, within="10ms")
    answer(p1, q, rcode=2)
    t = net.now_ns
    q2 = p2.expect(IP(dst=NS2) / UDP(dport=53), within="10ms")
    assert q2.time_ns - t < 1_000_000
    answer(p2, q2, DNSRR(rrname="www.example.org", type="A", rdata="192.0.2.7", ttl=60))
    net.run(for_="1ms")
    assert result(host, qid).status == "ok"


@pytest.mark.rfc("1035 4.1.1")
def test_nxdomain(two):
    """RCODE 3: the name does not exist (resolve raises, the answer says nxdomain)."""
    net, host, p1, _ = two
    qid = start(host, "nope.example.org")
    q = p1.expect(QUERY, within="10ms")
    answer(p1, q, rcode=3)
    net.run(for_="1ms")
    assert result(host, qid).status == "nxdomain"


def test_resolve_raises_without_servers(net):
    """No server configured and no DHCP lease: resolve() raises ResolveError with status failed."""
    from pyharness.dns import ResolveError

    host = net.host("dut", ipv4="10.0.0.1/24")
    with pytest.raises(ResolveError) as ei:
        host.resolve("www.example.org")
    assert ei.value.answer.status == "failed"


def test_nodata(two):
    """An empty answer section with RCODE 0: nodata."""
    net, host, p1, _ = two
    qid = start(host, "www.example.org")
    q = p1.expect(QUERY, within="10ms")
    answer(p1, q)
    net.run(for_="1ms")
    assert result(host, qid).status == "nodata"


def _hdr(qid, an=1):
    return qid.to_bytes(2, "big") + bytes([0x81, 0x80, 0, 1, 0, an, 0, 0, 0, 0])


QNAME = b"\x03www\x07example\x03org\x00"


def _malformed(case, qid):
    """DNS answer bytes for query id ``qid`` broken in the way ``case`` names (question intact)."""
    q = QNAME + b"\x00\x01\x00\x01"
    a_tail = b"\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x07"
    return {
        "pointer_loop": _hdr(qid) + q + b"\xc0\x21" + a_tail[:0] + b"\xc0\x21",  # answer name points at itself
        "pointer_forward": _hdr(qid) + q + b"\xc0\x30" + a_tail + b"\x03www\x00",
        "pointer_past_end": _hdr(qid) + q + b"\xff\xff" + a_tail,
        "label_past_end": _hdr(qid) + q + b"\x3fwww",
        "rdlength_past_end": _hdr(qid) + q + b"\xc0\x0c" + a_tail[:8] + b"\x00\x40\xc0\x00",
        "a_rdlength_5": _hdr(qid) + q + b"\xc0\x0c" + a_tail[:8] + b"\x00\x05\xc0\x00\x02\x07\x01",
        "truncated_header": _hdr(qid)[:7],
        "name_over_255": _hdr(qid) + q + (b"\x3f" + b"x" * 63) * 4 + b"\x00" + a_tail,
        "cname_rdata_loop": _hdr(qid) + q + b"\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x02\xc0\x2d",
    }[case]


MALFORMED = ["pointer_loop", "pointer_forward", "pointer_past_end", "label_past_end", "rdlength_past_end",
             "a_rdlength_5", "truncated_header", "name_over_255", "cname_rdata_loop"]


@pytest.mark.rfc("1035 4.1.4", "1035 3.1")
@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_answer_survived(two, case):
    """A malformed answer is ignored and counted (never followed); the right answer after it is taken."""
    net, host, p1, _ = two
    qid = start(host, "www.example.org")
    q = p1.expect(QUERY, within="10ms")
    answer(p1, q, raw=Raw(_malformed(case, q[DNS].id)))
    net.run(for_="1ms")
    assert result(host, qid).status == "pending"
    assert host.dns_counters()["malformed"] == 1
    # positive control: a well-formed answer afterwards resolves the query
    answer(p1, q, DNSRR(rrname="www.example.org", type="A", rdata="192.0.2.7", ttl=60))
    net.run(for_="1ms")
    assert result(host, qid).addresses == ["192.0.2.7"]


@pytest.mark.rfc("5452 9.1")
@pytest.mark.parametrize("case", ["wrong_id", "wrong_question", "wrong_server", "wrong_port", "not_response"])
def test_mismatched_answer_rejected(two, case):
    """RFC 5452 9.1: an answer with another ID, question, source address or port is not accepted."""
    net, host, p1, p2 = two
    qid = start(host, "www.example.org")
    q = p1.expect(QUERY, within="10ms")
    rr = DNSRR(rrname="www.example.org", type="A", rdata="6.6.6.6", ttl=60)
    if case == "wrong_id":
        p1.send(IP(dst="10.0.0.1") / UDP(sport=53, dport=q[UDP].sport) / DNS(id=q[DNS].id ^ 1, qr=1, qd=q[DNS].qd, an=rr))
    elif case == "wrong_question":
        p1.send(IP(dst="10.0.0.1") / UDP(sport=53, dport=q[UDP].sport)
                / DNS(id=q[DNS].id, qr=1, qd=DNSQR(qname="evil.example.org"), an=rr))
    elif case == "wrong_server":
        p2.send(IP(dst="10.0.0.1") / UDP(sport=53, dport=q[UDP].sport) / DNS(id=q[DNS].id, qr=1, qd=q[DNS].qd, an=rr))
    elif case == "wrong_port":
        p1.send(IP(dst="10.0.0.1") / UDP(sport=53, dport=q[UDP].sport ^ 1) / DNS(id=q[DNS].id, qr=1, qd=q[DNS].qd, an=rr))
    else:
        p1.send(IP(dst="10.0.0.1") / UDP(sport=53, dport=q[UDP].sport) / DNS(id=q[DNS].id, qr=0, qd=q[DNS].qd, an=rr))
    net.run(for_="1ms")
    assert result(host, qid).status == "pending"
    answer(p1, q, DNSRR(rrname="www.example.org", type="A", rdata="192.0.2.7", ttl=60))
    net.run(for_="1ms")
    assert result(host, qid).addresses == ["192.0.2.7"]


def test_servers_from_dhcp_lease(net):
    """Without configured servers the resolver asks the DNS server of the DHCP lease (Tern server)."""
    srv = net.host("srv", ipv4="10.0.0.2/24",
                   dhcp_server={"ranges": [("10.0.0.100", "10.0.0.110")], "dns": ["10.0.0.53"]})
    cli = net.host("cli", dhcp={"probe": False})
    ns = net.peer("ns", ipv4="10.0.0.53/24")
    sw = net.switch("sw", ports=3)
    for n in (srv, cli, ns):
        net.link(n, sw)
    net.run(until=lambda: cli.dhcp_lease().state == "BOUND", for_="10s")
    qid = start(cli, "www.example.org")
    q = ns.expect(IP(dst="10.0.0.53") / UDP(dport=53), within="1s")
    assert q[IP].src == "10.0.0.100"
    answer(ns, q, DNSRR(rrname="www.example.org", type="A", rdata="192.0.2.7", ttl=60))
    net.run(for_="1ms")
    assert result(cli, qid).addresses == ["192.0.2.7"]


def test_resolve_helper(two):
    """host.resolve(name) runs virtual time until the answer is in."""
    net, host, p1, _ = two
    qid = start(host, "x.example.org")
    q = p1.expect(QUERY, within="10ms")
    answer(p1, q, DNSRR(rrname="x.example.org", type="A", rdata="192.0.2.3", ttl=60))
    net.run(for_="1ms")
    result(host, qid)
    assert host.resolve("x.example.org") == ["192.0.2.3"]  # from the cache


def test_bad_names_refused(two):
    """Names that cannot be encoded are refused with a clear error."""
    from pyharness.errors import ConfigError

    net, host, _, _ = two
    for bad in ("a..b", "x" * 64 + ".org", ".".join(["a"] * 130), ""):
        with pytest.raises(ConfigError, match="name"):
            start(host, bad)


def test_claimed_answer_leaves_other_query_timed(two):
    """Two queries in flight; the first is answered and its result claimed (its slot freed): the
    second, unanswered, is still asked of NS2 exactly 2 s after it started, and a third query
    started after both are claimed goes out at once. (The resolver's timers are skipped only
    while no slot is in use: a wrong count of slots in use shows here.)"""
    net, host, p1, p2 = two
    qa = start(host, "a.example.org")
    qb = start(host, "b.example.org")
    t0 = net.now_ns
    sent = [p1.expect(QUERY, within="10ms"), p1.expect(QUERY, within="10ms")]
    by_name = {bytes(q[DNSQR].qname): q for q in sent}
    assert set(by_name) == {b"a.example.org.", b"b.example.org."}
    answer(p1, by_name[b"a.example.org."],
           DNSRR(rrname="a.example.org", type="A", rdata="192.0.2.7", ttl=60))
    net.run(for_="1ms")
    assert result(host, qa).addresses == ["192.0.2.7"]  # claimed: its slot is free
    retry = p2.expect(IP(dst=NS2) / UDP(dport=53), within="3s")
    assert bytes(retry[DNSQR].qname) == b"b.example.org."
    assert retry.time_ns - t0 == 2 * S
    answer(p2, retry, DNSRR(rrname="b.example.org", type="A", rdata="192.0.2.8", ttl=60))
    net.run(for_="1ms")
    assert result(host, qb).addresses == ["192.0.2.8"]  # both claimed: no slot in use
    qc = start(host, "c.example.org")
    t1 = net.now_ns
    q = p1.expect(QUERY, within="10ms")
    assert bytes(q[DNSQR].qname) == b"c.example.org." and q.time_ns == t1
    answer(p1, q, DNSRR(rrname="c.example.org", type="A", rdata="192.0.2.9", ttl=60))
    net.run(for_="1ms")
    assert result(host, qc).addresses == ["192.0.2.9"]
