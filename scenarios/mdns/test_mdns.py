"""Multicast DNS (RFC 6762): the Tern host's responder for <label>.local —
probing with its exact timing, announcing, answering multicast, unicast and
legacy queries, known-answer suppression, the one-second rate limit,
conflicts during probing (rename) and after (re-probe), simultaneous-probe
tiebreak — and the resolver's one-shot queries for .local names.

The host is 10.0.0.1; the scripted peer (10.0.0.2) plays the other hosts of
the link with scapy's DNS layer. Probing starts at a random 0-250 ms from the
seeded generator, so the tests measure from the first probe.
"""

from __future__ import annotations

import pytest
from scapy.all import DNS, DNSQR, DNSRR, IP, UDP, Ether

pytestmark = pytest.mark.area("mdns")

MS = 1_000_000
S = 1_000_000_000
MDNS = IP(dst="224.0.0.251") / UDP(sport=5353, dport=5353)
NAME = "tern.local"
TYPE_ANY, TYPE_A = 255, 1


@pytest.fixture
def pair(net):
    host = net.host("dut", ipv4="10.0.0.1/24")
    peer = net.peer("peer", ipv4="10.0.0.2/24")
    net.link(host, peer)
    return net, host, peer


def mdns_out(peer, within="2s"):
    """The next mDNS message the host multicast (IGMP reports skipped)."""
    return peer.expect(MDNS, within=within)


def claimed(net, host, peer, label="tern"):
    """Start the responder and run until it is ready; everything sent so far consumed."""
    host.mdns_start(label)
    net.run(until=lambda: host.mdns_info().state == "ready", for_="10s")
    assert host.mdns_info().state == "ready"
    net.run(for_="1s")
    peer.received()


def send_mdns(peer, dns, sport=5353, dst="224.0.0.251", dport=5353):
    eth = Ether(dst="01:00:5e:00:00:fb") if dst == "224.0.0.251" else Ether()
    peer.send(eth / IP(dst=dst, ttl=255) / UDP(sport=sport, dport=dport) / dns)


def a_record(pkt_dns, section="an"):
    rrs = getattr(pkt_dns, section)
    return [r for r in (rrs or []) if r.type == TYPE_A]


# ---- probing and announcing ---------------------------------------------------------------


@pytest.mark.rfc("6762 8.1", "6762 8.3")
def test_probes_three_250ms_apart_then_two_announcements_a_second_apart(pair):
    """RFC 6762 §8.1: "the host should first wait for a short random delay time, uniformly
    distributed in the range 0-250 ms"; "250 ms after the first query, the host should send a
    second; then, 250 ms after that, a third. If, by 250 ms after the third probe, no conflicting
    Multicast DNS responses have been received, the host may move to the next step, announcing."
    §8.3: "The Multicast DNS responder MUST send at least two unsolicited responses, one second
    apart." Exact virtual times from the first probe."""
    net, host, peer = pair
    host.mdns_start("tern")
    probes = [mdns_out(peer, within="1s") for _ in range(3)]
    t0 = probes[0].time_ns
    assert 0 <= t0 <= 250 * MS
    assert [p.time_ns - t0 for p in probes] == [0, 250 * MS, 500 * MS]
    for p in probes:
        d = p[DNS]
        assert d.qr == 0 and d.id == 0 and d.qdcount == 1 and d.nscount == 1 and d.ancount == 0
        assert d.qd[0].qname == b"tern.local." and d.qd[0].qtype == TYPE_ANY
        assert d.qd[0].unicastresponse == 1  # §8.1: probes "should set the QU bit"
        auth = d.ns[0]
        assert auth.rrname == b"tern.local." and auth.type == TYPE_A and auth.rdata == "10.0.0.1"
        assert p[IP].ttl == 255  # §11: "SHOULD be sent with IP TTL set to 255"
    anns = [mdns_out(peer, within="2s") for _ in range(2)]
    assert [a.time_ns - t0 for a in anns] == [750 * MS, 1750 * MS]
    for a in anns:
        d = a[DNS]
        assert d.qr == 1 and d.aa == 1 and d.id == 0 and d.qdcount == 0 and d.ancount == 1
        rr = d.an[0]
        assert rr.rrname == b"tern.local." and rr.rdata == "10.0.0.1" and rr.ttl == 120
        assert rr.cacheflush == 1  # §10.2: unique records carry the cache-flush bit
    peer.expect_nothing(for_="30s", matching=MDNS)
    assert host.mdns_info().state == "ready"


@pytest.mark.rfc("6762 8.1")
def test_start_joins_the_mdns_group(pair):
    """Receiving mDNS needs membership of 224.0.0.251: the start sends an IGMP report for it
    (RFC 3376 §5.1) before the first probe."""
    net, host, peer = pair
    host.mdns_start("tern")
    r = peer.expect(IP(proto=2, dst="224.0.0.22"), within="1ms")
    assert r.time_ns == 0
    assert host.igmp_groups() == ["224.0.0.251"]


@pytest.mark.rfc("6762 8.1", "6762 9")
def test_conflicting_response_during_probing_renames(pair):
    """RFC 6762 §8.1: "If any conflicting Multicast DNS response is received, then the probing
    host MUST defer to the existing host, and MUST choose new names". Another host answers the
    first probe with tern.local at 10.0.0.7: the host probes tern-2.local instead, and claims
    it."""
    net, host, peer = pair
    host.mdns_start("tern")
    mdns_out(peer, within="1s")
    send_mdns(peer, DNS(qr=1, aa=1, an=DNSRR(rrname=NAME, type="A", rdata="10.0.0.7", ttl=120, cacheflush=1)))
    p = mdns_out(peer, within="1s")
    assert p[DNS].qr == 0 and p[DNS].qd[0].qname == b"tern-2.local."
    net.run(until=lambda: host.mdns_info().state == "ready", for_="5s")
    info = host.mdns_info()
    assert info.name == "tern-2.local" and info.renames == 1 and info.counters["conflicts"] == 1


@pytest.mark.rfc("6762 8.2")
def test_simultaneous_probe_with_later_data_wins(pair):
    """RFC 6762 §8.2: simultaneous probes are compared "...first the record class ..., then the
    record type, then raw comparison of the binary content of the rdata"; the lexicographically
    later data wins and the loser "MUST defer to the winning host by waiting one second, and then
    begin probing for this record again." A probe proposing 10.0.0.200 beats ours (10.0.0.1):
    the next probe comes more than a second later."""
    net, host, peer = pair
    host.mdns_start("tern")
    first = mdns_out(peer, within="1s")
    send_mdns(peer, DNS(qd=DNSQR(qname=NAME, qtype="ALL", unicastresponse=1),
                        ns=DNSRR(rrname=NAME, type="A", rdata="10.0.0.200", ttl=120)))
    t_theirs = net.now_ns
    nxt = mdns_out(peer, within="2s")
    assert nxt.time_ns - t_theirs >= S and nxt[DNS].qr == 0
    assert host.mdns_info().name == NAME


@pytest.mark.rfc("6762 8.2")
def test_simultaneous_probe_with_earlier_data_loses(pair):
    """The other side of §8.2: a probe proposing 10.0.0.0 (earlier than ours) does not stop us:
    the second probe still comes 250 ms after the first (test_simultaneous_probe_with_later_data
    _wins is the control)."""
    net, host, peer = pair
    host.mdns_start("tern")
    first = mdns_out(peer, within="1s")
    send_mdns(peer, DNS(qd=DNSQR(qname=NAME, qtype="ALL", unicastresponse=1),
                        ns=DNSRR(rrname=NAME, type="A", rdata="10.0.0.0", ttl=120)))
    second = mdns_out(peer, within="1s")
    assert second.time_ns - first.time_ns == 250 * MS


# ---- answering ----------------------------------------------------------------------------


@pytest.mark.rfc("6762 6", "6762 18.1")
def test_multicast_query_answered_at_once_by_multicast(pair):
    """RFC 6762 §6: a responder answers questions for its unique records at once (the random
    20-120 ms delay is for shared records only), by multicast to 224.0.0.251:5353, with no
    question section ("Multicast DNS responses MUST NOT contain any questions")."""
    net, host, peer = pair
    claimed(net, host, peer)
    send_mdns(peer, DNS(qd=DNSQR(qname=NAME, qtype="A")))
    t = net.now_ns
    r = mdns_out(peer, within="10ms")
    assert r.time_ns - t < MS
    assert r[DNS].qr == 1 and r[DNS].aa == 1 and r[DNS].qdcount == 0
    assert a_record(r[DNS])[0].rdata == "10.0.0.1"


@pytest.mark.rfc("6762 6.7")
def test_legacy_query_gets_conventional_unicast_answer(pair):
    """RFC 6762 §6.7: a query from a source port other than 5353 gets a unicast response that
    "MUST repeat the query ID and the question given in the query message", to the source
    address and port, with no cache-flush bit and a TTL of at most ten seconds — what
    `dig -p 5353 @224.0.0.251 tern.local` gets."""
    net, host, peer = pair
    claimed(net, host, peer)
    send_mdns(peer, DNS(id=4242, rd=1, qd=DNSQR(qname=NAME, qtype="A")), sport=40000)
    r = peer.expect(IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=5353, dport=40000), within="10ms")
    d = r[DNS]
    assert d.id == 4242 and d.qr == 1 and d.qdcount == 1 and d.qd[0].qname == b"tern.local."
    rr = a_record(d)[0]
    assert rr.rdata == "10.0.0.1" and rr.ttl == 10 and rr.cacheflush == 0
    assert host.mdns_info().counters["answers_legacy"] == 1


@pytest.mark.rfc("6762 5.4")
def test_qu_question_answered_by_unicast_after_recent_multicast(pair):
    """RFC 6762 §5.4: a question with the unicast-response bit gets a unicast answer to the
    querier's port 5353 when the record was multicast within a quarter of its TTL (the
    announcements just were)."""
    net, host, peer = pair
    claimed(net, host, peer)
    send_mdns(peer, DNS(qd=DNSQR(qname=NAME, qtype="A", unicastresponse=1)))
    r = peer.expect(IP(dst="10.0.0.2") / UDP(sport=5353, dport=5353), within="10ms")
    assert a_record(r[DNS])[0].rdata == "10.0.0.1"
    assert host.mdns_info().counters["answers_unicast"] == 1


@pytest.mark.rfc("6762 5.4")
def test_qu_question_multicast_when_not_multicast_recently(pair):
    """RFC 6762 §5.4: "...if the responder has not multicast that record recently (within one
    quarter of its TTL), then the responder SHOULD instead multicast the response": 31 s after
    the announcements a QU question is answered by multicast."""
    net, host, peer = pair
    claimed(net, host, peer)
    net.run(for_="31s")
    send_mdns(peer, DNS(qd=DNSQR(qname=NAME, qtype="A", unicastresponse=1)))
    r = mdns_out(peer, within="10ms")
    assert r[DNS].qr == 1 and a_record(r[DNS])[0].rdata == "10.0.0.1"


@pytest.mark.rfc("6762 7.1")
def test_known_answer_suppresses_the_response(pair):
    """RFC 6762 §7.1: "A Multicast DNS responder MUST NOT answer a Multicast DNS query if the
    answer it would give is already included in the Answer Section with an RR TTL at least half
    the correct value." Known answer with TTL 60 (half of 120): nothing; with TTL 59: answered
    (the positive control)."""
    net, host, peer = pair
    claimed(net, host, peer)
    net.run(for_="2s")
    known = DNSRR(rrname=NAME, type="A", rdata="10.0.0.1", ttl=60)
    send_mdns(peer, DNS(qd=DNSQR(qname=NAME, qtype="A"), an=known))
    peer.expect_nothing(for_="1s", matching=MDNS)
    assert host.mdns_info().counters["known_answer_suppressed"] == 1
    known.ttl = 59
    send_mdns(peer, DNS(qd=DNSQR(qname=NAME, qtype="A"), an=known))
    assert mdns_out(peer, within="10ms")[DNS].qr == 1


@pytest.mark.rfc("6762 6")
def test_record_not_multicast_twice_within_a_second(pair):
    """RFC 6762 §6: "a Multicast DNS responder MUST NOT (except in the one special case of
    answering probe queries) multicast a record on a given interface until at least one second
    has elapsed since the last time that record was multicast on that particular interface."
    Two queries 500 ms apart: one answer; a third a second after the answer: answered."""
    net, host, peer = pair
    claimed(net, host, peer)
    net.run(for_="2s")
    send_mdns(peer, DNS(qd=DNSQR(qname=NAME, qtype="A")))
    first = mdns_out(peer, within="10ms")
    net.run(for_="500ms")
    send_mdns(peer, DNS(qd=DNSQR(qname=NAME, qtype="A")))
    peer.expect_nothing(for_="400ms", matching=MDNS)
    assert host.mdns_info().counters["rate_limited"] == 1
    net.run(until=lambda: False, for_=(first.time_ns + S - net.now_ns) / S)
    send_mdns(peer, DNS(qd=DNSQR(qname=NAME, qtype="A")))
    mdns_out(peer, within="10ms")


@pytest.mark.rfc("6762 6")
def test_query_for_other_name_or_type_not_answered(pair):
    """Only questions for the host's name, type A, AAAA or ANY, are ours: other.local and an MX
    question for tern.local get nothing; an ANY question does (the positive control)."""
    net, host, peer = pair
    claimed(net, host, peer)
    net.run(for_="2s")
    send_mdns(peer, DNS(qd=DNSQR(qname="other.local", qtype="A")))
    send_mdns(peer, DNS(qd=DNSQR(qname=NAME, qtype="MX")))
    peer.expect_nothing(for_="1s", matching=MDNS)
    send_mdns(peer, DNS(qd=DNSQR(qname="TERN.LOCAL", qtype="ALL")))
    assert a_record(mdns_out(peer, within="10ms")[DNS])[0].rdata == "10.0.0.1"


@pytest.mark.rfc("6762 8.1")
def test_no_answers_while_probing(pair):
    """While the name is still being probed it is not the host's: a query for it during probing
    gets no answer (the probes continue on time)."""
    net, host, peer = pair
    host.mdns_start("tern")
    first = mdns_out(peer, within="1s")
    send_mdns(peer, DNS(qd=DNSQR(qname=NAME, qtype="A")))
    second = mdns_out(peer, within="1s")
    assert second[DNS].qr == 0 and second.time_ns - first.time_ns == 250 * MS


@pytest.mark.rfc("6762 9")
def test_conflict_after_claim_sends_name_back_to_probing(pair):
    """RFC 6762 §9: on a response with a conflicting record, "the host MUST immediately reset its
    conflicted unique record to probing state": it probes tern.local again (within 250 ms)."""
    net, host, peer = pair
    claimed(net, host, peer)
    send_mdns(peer, DNS(qr=1, aa=1, an=DNSRR(rrname=NAME, type="A", rdata="10.0.0.9", ttl=120, cacheflush=1)))
    t = net.now_ns
    p = mdns_out(peer, within="1s")
    assert p[DNS].qr == 0 and p[DNS].qd[0].qname == b"tern.local." and p.time_ns - t <= 250 * MS
    assert host.mdns_info().state == "probing"


@pytest.mark.rfc("6762 18.3")
def test_nonzero_opcode_ignored(pair):
    """RFC 6762 §18.3: "Multicast DNS messages received with an OPCODE other than zero MUST be
    silently ignored." A query with opcode 2: nothing; opcode 0: answered."""
    net, host, peer = pair
    claimed(net, host, peer)
    net.run(for_="2s")
    send_mdns(peer, DNS(opcode=2, qd=DNSQR(qname=NAME, qtype="A")))
    peer.expect_nothing(for_="1s", matching=MDNS)
    send_mdns(peer, DNS(qd=DNSQR(qname=NAME, qtype="A")))
    mdns_out(peer, within="10ms")


def test_start_errors(pair):
    """Bad starts are refused with a message naming the problem."""
    from pyharness.errors import TernError

    net, host, peer = pair
    with pytest.raises(TernError, match="label"):
        host.mdns_start("a.b")
    with pytest.raises(TernError, match="label"):
        host.mdns_start("x" * 61)
    host.mdns_start("tern")
    with pytest.raises(TernError):
        host.mdns_start("tern")


# ---- one-shot queries ---------------------------------------------------------------------


@pytest.mark.rfc("6762 5.1", "6762 3")
def test_resolver_asks_local_names_by_one_shot_multicast(pair):
    """RFC 6762 §3: "Any DNS query for a name ending with ".local." MUST be sent to the mDNS IPv4
    link-local multicast address 224.0.0.251"; §5.1: a one-shot querier sends from its own port
    and takes a unicast answer from port 5353 of whichever host answers."""
    net, host, peer = pair
    from pyharness.dns import result, start

    qid = start(host, "printer.local")
    q = peer.expect(IP(dst="224.0.0.251") / UDP(dport=5353), within="10ms")
    assert q[UDP].sport != 5353 and q[DNS].qd[0].qname == b"printer.local."
    peer.send(IP(dst="10.0.0.1") / UDP(sport=5353, dport=q[UDP].sport) /
              DNS(id=q[DNS].id, qr=1, aa=1, qd=q[DNS].qd,
                  an=DNSRR(rrname="printer.local", type="A", rdata="10.0.0.2", ttl=10)))
    net.run(for_="1ms")
    a = result(host, qid)
    assert a.status == "ok" and a.addresses == ["10.0.0.2"]


def test_two_tern_hosts_resolve_each_other(net):
    """Two Tern hosts on a switch: each claims its name; each resolves the other's .local name
    through its responder (interop of the Tern querier and responder)."""
    sw = net.switch("sw", ports=2)
    a = net.host("a", ipv4="10.0.0.1/24")
    b = net.host("b", ipv4="10.0.0.2/24")
    net.link(a, sw)
    net.link(b, sw)
    a.mdns_start("alpha")
    b.mdns_start("beta")
    net.run(for_="5s")
    assert a.mdns_info().state == b.mdns_info().state == "ready"
    assert a.resolve("beta.local", within="5s") == ["10.0.0.2"]
    assert b.resolve("alpha.local", within="5s") == ["10.0.0.1"]


def test_two_tern_hosts_same_label_one_renames(net):
    """Two Tern hosts claiming the same label: the probes meet, one defers or renames (RFC 6762
    §8.1/§8.2), and they end with two different names."""
    sw = net.switch("sw", ports=2)
    a = net.host("a", ipv4="10.0.0.1/24")
    b = net.host("b", ipv4="10.0.0.2/24")
    net.link(a, sw)
    net.link(b, sw)
    a.mdns_start("tern")
    net.run(for_="3s")
    b.mdns_start("tern")
    net.run(for_="10s")
    ia, ib = a.mdns_info(), b.mdns_info()
    assert ia.state == ib.state == "ready"
    assert ia.name == "tern.local" and ib.name == "tern-2.local"


# ---- more responder behaviour ------------------------------------------------------------------


@pytest.mark.rfc("6762 6", "6762 8.1")
def test_probe_for_our_name_defended_within_a_second(pair):
    """RFC 6762 §6: the one-second rate limit has "the one special case of answering probe
    queries"; a probe for the host's name 500 ms after an answer was multicast is answered at once
    (a plain query at that moment would be rate-limited: test_record_not_multicast_twice_within_a_
    second)."""
    net, host, peer = pair
    claimed(net, host, peer)
    net.run(for_="2s")
    send_mdns(peer, DNS(qd=DNSQR(qname=NAME, qtype="A")))
    mdns_out(peer, within="10ms")
    net.run(for_="500ms")
    send_mdns(peer, DNS(qd=DNSQR(qname=NAME, qtype="ALL", unicastresponse=1),
                        ns=DNSRR(rrname=NAME, type="A", rdata="10.0.0.5", ttl=120)))
    r = mdns_out(peer, within="10ms")
    assert r[DNS].qr == 1 and a_record(r[DNS])[0].rdata == "10.0.0.1"


@pytest.mark.rfc("6762 6.7", "1035 2.3.3")
def test_legacy_answer_repeats_the_question_as_asked(pair):
    """RFC 6762 §6.7 "MUST repeat ... the question given in the query message": asked in capitals
    (names compare without case, RFC 1035 §2.3.3), the question comes back in capitals."""
    net, host, peer = pair
    claimed(net, host, peer)
    send_mdns(peer, DNS(id=7, qd=DNSQR(qname="TERN.Local", qtype="A")), sport=41000)
    r = peer.expect(IP(dst="10.0.0.2") / UDP(sport=5353, dport=41000), within="10ms")
    assert r[DNS].id == 7 and r[DNS].qd[0].qname == b"TERN.Local."


@pytest.mark.rfc("6762 18.1", "1035 4.1.1")
def test_malformed_query_survived(pair):
    """A query whose question runs past the end of the message, or whose name points forward, is
    dropped (counted); the responder still answers the next good query (the positive control)."""
    net, host, peer = pair
    claimed(net, host, peer)
    net.run(for_="2s")
    hdr = bytes([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])
    send_mdns(peer, hdr + b"\x04tern\x05loc")  # truncated name
    send_mdns(peer, hdr + b"\xc0\x20\x00\x01\x00\x01")  # forward pointer
    peer.expect_nothing(for_="1s", matching=MDNS)
    assert host.mdns_info().counters["malformed"] == 2
    send_mdns(peer, DNS(qd=DNSQR(qname=NAME, qtype="A")))
    mdns_out(peer, within="10ms")


@pytest.mark.rfc("6762 5.4")
def test_qu_probe_like_query_without_authority_is_a_question(pair):
    """A QU question for the name with no authority section is an ordinary question (not a
    probe): with the record multicast within a quarter of its TTL it is answered by unicast. (Type
    A: an ANY question would also take the AAAA records, which are not announced, and so be
    multicast, RFC 6762 section 5.4.)"""
    net, host, peer = pair
    claimed(net, host, peer)
    send_mdns(peer, DNS(qd=DNSQR(qname=NAME, qtype="A", unicastresponse=1)))
    r = peer.expect(IP(dst="10.0.0.2") / UDP(dport=5353), within="10ms")
    assert a_record(r[DNS])[0].rdata == "10.0.0.1"


@pytest.mark.rfc("6762 10.1", "3376 5.1")
def test_stop_says_goodbye_leaves_the_group_and_stops_answering(pair):
    """mdns_stop: RFC 6762 §10.1 "the host SHOULD send an unsolicited Multicast DNS response
    packet, giving the same resource record name, rrtype, rrclass, and rdata, but an RR TTL of
    zero" (a goodbye), then an IGMPv3 CHANGE_TO_INCLUDE({}) report for 224.0.0.251 (RFC 3376
    §5.1), and no answers afterwards (a datagram to the group is no longer the host's)."""
    net, host, peer = pair
    claimed(net, host, peer)
    t = net.now_ns
    host.mdns_stop()
    bye = mdns_out(peer, within="1ms")
    rr = a_record(bye[DNS])[0]
    assert bye.time_ns == t and bye[DNS].qr == 1 and rr.ttl == 0 and rr.rdata == "10.0.0.1"
    r = peer.expect(IP(proto=2, dst="224.0.0.22"), within="1ms")
    assert r is not None and host.igmp_groups() == []
    send_mdns(peer, DNS(qd=DNSQR(qname=NAME, qtype="A")))
    peer.expect_nothing(for_="2s", matching=MDNS)
    assert host.mdns_info().state == "off"


def test_start_needs_an_address(net):
    """Without an IPv4 address there is no A record to claim: the start is refused, named."""
    from pyharness.errors import TernError

    host = net.host("dut")
    peer = net.peer("peer", ipv4="10.0.0.2/24")
    net.link(host, peer)
    with pytest.raises(TernError, match="no IPv4 address"):
        host.mdns_start("tern")


@pytest.mark.rfc("6762 8.1")
def test_renamed_twice_on_two_conflicts(pair):
    """Each conflict while probing picks the next name: tern.local, tern-2.local, tern-3.local."""
    net, host, peer = pair
    host.mdns_start("tern")
    for name in ("tern.local", "tern-2.local"):
        p = mdns_out(peer, within="1s")
        assert p[DNS].qd[0].qname == (name + ".").encode()
        send_mdns(peer, DNS(qr=1, aa=1, an=DNSRR(rrname=name, type="A", rdata="10.0.0.7", ttl=120)))
    p = mdns_out(peer, within="1s")
    assert p[DNS].qd[0].qname == b"tern-3.local."
    assert host.mdns_info().renames == 2


def test_host_hostname_and_mdns_options(net):
    """``net.host(..., hostname="printer", mdns=True)`` claims printer.local at once; a second host
    resolves it (the harness options of the issue: hostname=)."""
    sw = net.switch("sw", ports=2)
    a = net.host("a", ipv4="10.0.0.1/24", hostname="printer", mdns=True)
    b = net.host("b", ipv4="10.0.0.2/24")
    net.link(a, sw)
    net.link(b, sw)
    net.run(for_="3s")
    assert a.mdns_info().name == "printer.local"
    assert b.resolve("printer.local", within="5s") == ["10.0.0.1"]


@pytest.mark.rfc("6762 10.1")
def test_no_goodbye_when_stopped_while_probing(pair):
    """Nothing was announced while probing, so a stop then says no goodbye: only the IGMP leave
    goes (the positive control is the goodbye after a claim, above)."""
    net, host, peer = pair
    host.mdns_start("tern")
    mdns_out(peer, within="1s")
    host.mdns_stop()
    peer.expect(IP(proto=2, dst="224.0.0.22"), within="1ms")
    peer.expect_nothing(for_="2s", matching=MDNS)


@pytest.mark.rfc("6762 8.1")
def test_fifteen_conflicts_in_ten_seconds_slow_probing_to_five_seconds(pair):
    """RFC 6762 §8.1: "If fifteen conflicts occur within any ten-second period, then the host MUST
    wait at least five seconds before each successive additional probe attempt." Every probe is
    answered with a conflicting record: the first 15 renames probe again within 250 ms, the 16th
    probe waits at least 5 s after the 15th conflict."""
    net, host, peer = pair
    host.mdns_start("tern")
    gaps = []
    for k in range(16):
        p = mdns_out(peer, within="10s")
        if k:
            gaps.append(p.time_ns - t_conflict)
        name = p[DNS].qd[0].qname.decode().rstrip(".")
        send_mdns(peer, DNS(qr=1, aa=1, an=DNSRR(rrname=name, type="A", rdata="10.0.0.7", ttl=120)))
        t_conflict = net.now_ns
    assert all(g <= 250 * MS for g in gaps[:14])
    assert gaps[14] >= 5 * S
    net.run(for_="1ms")
    assert host.mdns_info().counters["conflicts"] == 16
