"""DNS resolver: TCP after a truncated answer (RFC 1035 §4.2.2, RFC 7766) and
negative caching (RFC 2308), with exact virtual times.

The scripted peers play the servers: over UDP with scapy's DNS layer, over
TCP with a :class:`pyharness.tcpconn.TCPConn` accepting on port 53.
"""

from __future__ import annotations

import struct

import pytest
from scapy.all import DNS, DNSQR, DNSRR, DNSRRSOA, IP, TCP, UDP

pytestmark = pytest.mark.area("dns")

S = 1_000_000_000
NS1, NS2 = "10.0.0.53", "10.0.0.54"
QUERY1 = IP(dst=NS1) / UDP(dport=53)
QUERY2 = IP(dst=NS2) / UDP(dport=53)
NAME = "www.example.org"


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


def start(host, name):
    from pyharness.dns import start as s

    return s(host, name)


def result(host, qid):
    from pyharness.dns import result as r

    return r(host, qid)


def reply_udp(peer, q, body):
    peer.send(IP(src=peer.ip, dst=q[IP].src) / UDP(sport=53, dport=q[UDP].sport) / body)


def truncated(q):
    """An empty answer with TC set, as a server sends when the answer does not fit in 512 bytes."""
    return DNS(id=q[DNS].id, qr=1, rd=1, ra=1, tc=1, qd=q[DNS].qd)


def soa(ttl, minimum, zone="example.org"):
    return DNSRRSOA(rrname=zone, ttl=ttl, mname="ns1." + zone, rname="hostmaster." + zone, serial=1,
                    refresh=3600, retry=600, expire=86400, minimum=minimum)


def tcp_accept(peer, host_ip="10.0.0.1", within="100ms"):
    """Accept the host's TCP connection to port 53 of ``peer``; read one length-prefixed query.

    Returns (conn, syn, query as scapy DNS)."""
    from pyharness.tcpconn import tcp_payload

    conn = peer.tcp(host_ip, local_port=53)
    # The host's query rides on the ACK of our SYN-ACK (it was queued before the handshake), so
    # TCPConn.accept, which wants a bare ACK, is not used: SYN, SYN-ACK, then read.
    syn = conn.expect(flags="S", within=within)
    conn.send(flags="SA")
    data = b""
    while len(data) < 2 or len(data) < 2 + struct.unpack("!H", data[:2])[0]:
        data += tcp_payload(conn.expect(within="100ms"))
    conn.send(flags="A")
    (n,) = struct.unpack("!H", data[:2])
    assert len(data) == 2 + n, "one query, nothing after it"
    return conn, syn, DNS(data[2:])


def a_answer(q, *addrs, ttl=300, **flags):
    return bytes(DNS(id=q.id, qr=1, rd=1, ra=1, qd=q.qd,
                     an=[DNSRR(rrname=NAME, type="A", rdata=a, ttl=ttl) for a in addrs], **flags))


# ---- TCP after TC --------------------------------------------------------------------------


@pytest.mark.rfc("1035 4.2.2", "7766 5", "2181 9")
def test_truncated_answer_retried_over_tcp_to_same_server(two):
    """RFC 7766 §5: "...the resolver SHOULD retry the query using TCP"; RFC 2181 §9 "the
    requestor should... use a larger transport, such as TCP". The host connects to the server
    that answered with TC, at once, and sends the same question with a two-octet length prefix
    (RFC 1035 §4.2.2: "The message is prefixed with a two byte length field which gives the
    message length, excluding the two byte length field"); the TCP answer resolves the name and
    the host closes the connection."""
    net, host, p1, p2 = two
    qid = start(host, NAME)
    q = p1.expect(QUERY1, within="10ms")
    reply_udp(p1, q, truncated(q))
    t_tc = net.now_ns
    conn, syn, tq = tcp_accept(p1)
    assert syn.time_ns - t_tc < 1_000_000  # at once (the link's serialisation only)
    assert tq.id == q[DNS].id and tq.qd[0].qname == b"www.example.org." and tq.qd[0].qtype == 1
    body = a_answer(tq, *[f"192.0.2.{i}" for i in range(1, 9)])
    conn.send_data(struct.pack("!H", len(body)) + body)
    net.run(for_="10ms")
    a = result(host, qid)
    assert a.status == "ok" and a.addresses == [f"192.0.2.{i}" for i in range(1, 9)]
    conn.expect(flags="FA", within="100ms")
    c = host.dns_counters()
    assert c["truncated"] == 1 and c["tcp_queries"] == 1 and c["tcp_failed"] == 0
    assert not [p for p in p2.received() if UDP in p and p[UDP].dport == 53]


@pytest.mark.rfc("1035 4.2.2", "7766 8")
def test_tcp_answer_in_pieces(two):
    """RFC 7766 §8: "DNS clients and servers SHOULD pass the two-octet length field, and the
    message described by that length field, to the TCP layer at the same time" — but a client
    must read until the whole message is in: the length alone, then the message in two
    segments, still resolve."""
    net, host, p1, _ = two
    qid = start(host, NAME)
    q = p1.expect(QUERY1, within="10ms")
    reply_udp(p1, q, truncated(q))
    conn, _, tq = tcp_accept(p1)
    body = a_answer(tq, "192.0.2.77")
    conn.send_data(struct.pack("!H", len(body)))
    net.run(for_="5ms")
    conn.send_data(body[:10])
    net.run(for_="5ms")
    assert result(host, qid).status == "pending"
    conn.send_data(body[10:])
    net.run(for_="5ms")
    a = result(host, qid)
    assert a.status == "ok" and a.addresses == ["192.0.2.77"]


@pytest.mark.rfc("7766 5", "1035 4.2.1")
def test_tcp_refused_moves_to_next_server_at_once(two):
    """A server that answers TC but refuses the TCP connection (RST) cannot help: the next
    server is asked over UDP at once (RFC 1035 §4.2.1 leaves retransmission policy to the
    resolver; failover as for SERVFAIL)."""
    net, host, p1, p2 = two
    qid = start(host, NAME)
    q = p1.expect(QUERY1, within="10ms")
    reply_udp(p1, q, truncated(q))
    syn = p1.expect(IP(dst=NS1) / TCP(dport=53, flags="S"), within="10ms")
    p1.send(IP(dst="10.0.0.1") / TCP(sport=53, dport=syn[TCP].sport, flags="RA", seq=0, ack=syn[TCP].seq + 1))
    t_rst = net.now_ns
    q2 = p2.expect(QUERY2, within="10ms")
    assert q2.time_ns - t_rst < 2_000_000
    reply_udp(p2, q2, a_answer(q2[DNS], "192.0.2.5"))
    net.run(for_="5ms")
    assert result(host, qid).addresses == ["192.0.2.5"]
    assert host.dns_counters()["tcp_failed"] == 1


@pytest.mark.rfc("7766 5", "1035 4.2.1")
def test_tcp_silent_server_times_out_after_the_wait(two):
    """A TCP exchange that brings no answer ends with the query's wait (2 s) from the truncated
    answer; the next server is then asked over UDP, exactly 2 s later."""
    net, host, p1, p2 = two
    qid = start(host, NAME)
    q = p1.expect(QUERY1, within="10ms")
    reply_udp(p1, q, truncated(q))
    t_tc = net.now_ns
    conn, _, _ = tcp_accept(p1)
    q2 = p2.expect(QUERY2, within="3s")
    assert q2.time_ns == t_tc + 2 * S
    rst = conn.expect(flags="R", within="10ms")  # the exchange abandoned: RST (RFC 9293 §3.10.5 ABORT)
    assert rst is not None
    reply_udp(p2, q2, a_answer(q2[DNS], "192.0.2.6"))
    net.run(for_="5ms")
    assert result(host, qid).addresses == ["192.0.2.6"]


@pytest.mark.rfc("7766 5", "5452 9.1")
def test_tcp_answer_with_wrong_id_fails_that_server(two):
    """RFC 5452 §9.1 holds over TCP too: an answer whose ID is not the query's is not accepted;
    the connection has nothing more to give, so the next server is asked."""
    net, host, p1, p2 = two
    qid = start(host, NAME)
    q = p1.expect(QUERY1, within="10ms")
    reply_udp(p1, q, truncated(q))
    conn, _, tq = tcp_accept(p1)
    tq.id = (tq.id + 1) % 65536
    body = a_answer(tq, "6.6.6.6")
    conn.send_data(struct.pack("!H", len(body)) + body)
    q2 = p2.expect(QUERY2, within="10ms")
    reply_udp(p2, q2, a_answer(q2[DNS], "192.0.2.9"))
    net.run(for_="5ms")
    assert result(host, qid).addresses == ["192.0.2.9"]
    assert host.dns_counters()["rejected"] == 1


@pytest.mark.rfc("7766 5")
def test_truncated_answer_over_tcp_fails_that_server(two):
    """TC in an answer over TCP means the server could not give the whole answer even there: that
    server fails (no second TCP attempt), the next is asked."""
    net, host, p1, p2 = two
    qid = start(host, NAME)
    q = p1.expect(QUERY1, within="10ms")
    reply_udp(p1, q, truncated(q))
    conn, _, tq = tcp_accept(p1)
    body = bytes(DNS(id=tq.id, qr=1, rd=1, ra=1, tc=1, qd=tq.qd))
    conn.send_data(struct.pack("!H", len(body)) + body)
    q2 = p2.expect(QUERY2, within="10ms")
    reply_udp(p2, q2, a_answer(q2[DNS], "192.0.2.10"))
    net.run(for_="5ms")
    assert result(host, qid).addresses == ["192.0.2.10"]
    assert host.dns_counters()["tcp_queries"] == 1


# ---- negative caching (RFC 2308) --------------------------------------------------------------


def negative(peer, q, rcode, *authority):
    reply_udp(peer, q, DNS(id=q[DNS].id, qr=1, aa=1, rd=1, ra=1, rcode=rcode, qd=q[DNS].qd,
                           ns=list(authority)))


@pytest.mark.rfc("2308 5", "2308 3")
def test_nxdomain_cached_for_soa_minimum(two):
    """RFC 2308 §5: "the TTL of this record is set from the minimum of the MINIMUM field of the
    SOA record and the TTL of the SOA itself": SOA TTL 3600, MINIMUM 60: the NXDOMAIN is answered
    from the cache until 60 s after it came, and the name is asked again at 60 s exactly."""
    net, host, p1, _ = two
    qid = start(host, NAME)
    q = p1.expect(QUERY1, within="10ms")
    negative(p1, q, 3, soa(3600, 60))
    net.run(for_="1ms")
    t0 = q.time_ns  # the answer left the peer at once: arrival is t0 + link time
    a = result(host, qid)
    assert a.status == "nxdomain" and a.ttl == 60
    t_ans = net.now_ns
    net.run(until=lambda: False, for_=(t0 + 59 * S - net.now_ns) / S)
    a2 = host.resolve_answer(NAME)
    assert a2.status == "nxdomain" and a2.from_cache
    p1.expect_nothing(for_="100ms", matching=QUERY1)
    assert host.dns_counters()["negative_cached"] == 1
    net.run(until=lambda: False, for_=(t_ans + 60 * S - net.now_ns) / S)
    start(host, NAME)
    p1.expect(QUERY1, within="10ms")


@pytest.mark.rfc("2308 5")
def test_negative_ttl_is_the_soa_ttl_when_smaller(two):
    """RFC 2308 §5, the other side of the minimum: SOA TTL 30 below MINIMUM 300: cached 30 s."""
    net, host, p1, _ = two
    qid = start(host, NAME)
    q = p1.expect(QUERY1, within="10ms")
    negative(p1, q, 3, soa(30, 300))
    net.run(for_="1ms")
    assert result(host, qid).ttl == 30
    t_ans = net.now_ns
    net.run(until=lambda: False, for_="29s")
    assert host.resolve_answer(NAME).from_cache
    net.run(until=lambda: False, for_=(t_ans + 30 * S - net.now_ns) / S)
    start(host, NAME)
    p1.expect(QUERY1, within="10ms")


@pytest.mark.rfc("2308 5")
def test_nxdomain_without_soa_not_cached(two):
    """RFC 2308 §5: "Negative responses without SOA records SHOULD NOT be cached as there is no
    way to prevent the negative responses looping forever between a pair of servers even with a
    short TTL." The second resolve asks again (test_nxdomain_cached_for_soa_minimum is the
    positive control)."""
    net, host, p1, _ = two
    qid = start(host, NAME)
    q = p1.expect(QUERY1, within="10ms")
    negative(p1, q, 3)
    net.run(for_="1ms")
    assert result(host, qid).status == "nxdomain"
    start(host, NAME)
    p1.expect(QUERY1, within="10ms")
    assert host.dns_counters()["negative_cached"] == 0


@pytest.mark.rfc("2308 2.2", "2308 5")
def test_nodata_cached(two):
    """RFC 2308 §2.2: NODATA is "indicated by an answer with the RCODE set to NOERROR and no
    relevant answers in the answer section. The authority section will contain an SOA record";
    §5: it is cached like NXDOMAIN, for the SOA's negative TTL."""
    net, host, p1, _ = two
    qid = start(host, NAME)
    q = p1.expect(QUERY1, within="10ms")
    negative(p1, q, 0, soa(600, 120))
    net.run(for_="1ms")
    a = result(host, qid)
    assert a.status == "nodata" and a.ttl == 120
    net.run(until=lambda: False, for_="119s")
    a2 = host.resolve_answer(NAME)
    assert a2.status == "nodata" and a2.from_cache and 0 <= a2.ttl <= 1
    p1.expect_nothing(for_="100ms", matching=QUERY1)


@pytest.mark.rfc("2308 5", "1035 3.3.13")
def test_malformed_soa_not_cached(two):
    """An SOA whose RDATA is shorter than its two names and five 32-bit fields (RFC 1035
    §3.3.13) gives no negative TTL: the NXDOMAIN stands, uncached."""
    net, host, p1, _ = two
    qid = start(host, NAME)
    q = p1.expect(QUERY1, within="10ms")
    bad = DNSRR(rrname="example.org", type="SOA", ttl=3600, rdata=b"\x00\x00" + b"\x00" * 12)
    negative(p1, q, 3, bad)
    net.run(for_="1ms")
    assert result(host, qid).status == "nxdomain"
    start(host, NAME)
    p1.expect(QUERY1, within="10ms")


@pytest.mark.rfc("1035 4.2.2")
def test_tcp_answer_longer_than_the_resolver_takes_fails_that_server(two):
    """An answer announced longer than the resolver's TCP buffer (4096 octets) is not read: that
    server fails at once (bounded memory), the next one is asked."""
    net, host, p1, p2 = two
    qid = start(host, NAME)
    q = p1.expect(QUERY1, within="10ms")
    reply_udp(p1, q, truncated(q))
    conn, _, tq = tcp_accept(p1)
    conn.send_data(struct.pack("!H", 5000) + b"\0" * 100)
    q2 = p2.expect(QUERY2, within="10ms")
    reply_udp(p2, q2, a_answer(q2[DNS], "192.0.2.11"))
    net.run(for_="5ms")
    assert result(host, qid).addresses == ["192.0.2.11"]
    assert host.dns_counters()["tcp_failed"] == 1


@pytest.mark.rfc("7766 5")
def test_tcp_server_closing_early_fails_that_server(two):
    """A server that closes the connection (FIN) before the whole answer came: the next server."""
    net, host, p1, p2 = two
    qid = start(host, NAME)
    q = p1.expect(QUERY1, within="10ms")
    reply_udp(p1, q, truncated(q))
    conn, _, tq = tcp_accept(p1)
    body = a_answer(tq, "6.6.6.6")
    conn.send_data(struct.pack("!H", len(body)) + body[:5])
    conn.send(flags="FA")
    q2 = p2.expect(QUERY2, within="10ms")
    reply_udp(p2, q2, a_answer(q2[DNS], "192.0.2.12"))
    net.run(for_="5ms")
    assert result(host, qid).addresses == ["192.0.2.12"]


@pytest.mark.rfc("2308 5")
def test_negative_cache_entry_counts_down(two):
    """A negative answer from the cache reports what is left of its TTL (RFC 2308 §5: the negative
    TTL is a time to live like any other): 60 s at first, 20 s left after 40 s."""
    net, host, p1, _ = two
    qid = start(host, NAME)
    q = p1.expect(QUERY1, within="10ms")
    negative(p1, q, 3, soa(300, 60))
    net.run(for_="1ms")
    assert result(host, qid).ttl == 60
    net.run(until=lambda: False, for_="40s")
    a = host.resolve_answer(NAME)
    assert a.status == "nxdomain" and a.from_cache and a.ttl in (19, 20)


@pytest.mark.rfc("6762 5.1", "5452 9.1")
def test_one_shot_answer_must_come_from_port_5353(two):
    """The one-shot mDNS query takes an answer from any host of the link, but only from port 5353
    (RFC 6762 §5.1 one-shot answers come from the responder's port): one from port 53 is
    rejected, the same from 5353 accepted."""
    net, host, p1, _ = two
    qid = start(host, "printer.local")
    q = p1.expect(IP(dst="224.0.0.251") / UDP(dport=5353), within="10ms")
    body = DNS(id=q[DNS].id, qr=1, aa=1, qd=q[DNS].qd, an=DNSRR(rrname="printer.local", type="A",
                                                                 rdata="10.0.0.77", ttl=10))
    p1.send(IP(dst="10.0.0.1") / UDP(sport=53, dport=q[UDP].sport) / body)
    net.run(for_="1ms")
    assert result(host, qid).status == "pending" and host.dns_counters()["rejected"] == 1
    p1.send(IP(dst="10.0.0.1") / UDP(sport=5353, dport=q[UDP].sport) / body)
    net.run(for_="1ms")
    assert result(host, qid).addresses == ["10.0.0.77"]


@pytest.mark.rfc("6762 5.1", "1035 4.2.1")
def test_one_shot_query_retransmitted_then_times_out(two):
    """Nobody answers printer.local: the one-shot query is sent again after 2 s and 4 s more
    (the resolver's wait, doubled per round), and the query times out 8 s after the third, at
    14 s — the configured DNS servers are never asked for a .local name (RFC 6762 §3)."""
    net, host, p1, p2 = two
    qid = start(host, "printer.local")
    qs = [p1.expect(IP(dst="224.0.0.251") / UDP(dport=5353), within="10s") for _ in range(3)]
    t0 = qs[0].time_ns
    assert [q.time_ns - t0 for q in qs] == [0, 2 * S, 6 * S]
    net.run(until=lambda: False, for_=(t0 + 14 * S - 1 - net.now_ns) / S)
    assert result(host, qid).status == "pending"
    net.run(for_="1ms")
    assert result(host, qid).status == "timeout"
    assert not [p for p in p1.received() + p2.received() if UDP in p and p[UDP].dport == 53]
