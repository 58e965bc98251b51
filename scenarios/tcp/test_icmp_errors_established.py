"""ICMP errors about a TCP connection in ESTABLISHED (RFC 9293 §3.9.2.2, RFC 1122 §4.2.3.9, RFC 1191, RFC 5927).

RFC 9293 §3.9.2.2: "TCP implementations MUST act on an ICMP error message passed up from the IP layer,
directing it to the connection that created the error (MUST-54)." "TCP implementations MUST silently
discard any received ICMP Source Quench messages (MUST-55)." Soft errors ("Destination Unreachable --
codes 0, 1, 5; Time Exceeded -- codes 0, 1; and Parameter Problem"): "a TCP implementation MUST NOT
abort the connection (MUST-56), and it SHOULD make the information available to the application
(SHLD-25)."

§3.7.2: PMTUD "relies on ICMP errors from routers along the path whenever a segment is too large to
traverse a link": a Fragmentation Needed error (type 3 code 4, RFC 1191 §4: the Next-Hop MTU in the
low-order 16 bits of the second word) lowers the segment size and the lost segment is sent again,
smaller. RFC 5927 §4.1 (TCP sequence number checking): an error is acted on only when the sequence
number it quotes is one of data in flight; an error quoting anything else is dropped, which is what
stops a blind attacker from resetting the MSS or poisoning the error report.

The errors come from a router's address on the peer's side (10.0.0.254 through the peer's link; over IPv6
fd00::fe, and the ICMPv6 counterparts of RFC 4443: Packet Too Big for fragmentation needed, RFC 8201;
Destination Unreachable codes 0, 2, 3 and Time Exceeded for the soft errors; Parameter Problem type 4).
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import ICMP, TCP
from scapy.layers.inet6 import ICMPv6DestUnreach, ICMPv6PacketTooBig, ICMPv6ParamProblem, ICMPv6TimeExceeded
from scapy.packet import Raw

from pyharness.dut import linux_deviation, tern_stack
from pyharness.ipkit import tcp_overhead
from tcpkit import EXACT, T, addr, family_of, ip, ip_of, ns, passive, seq_add, tcp_payload

pytestmark = pytest.mark.area("tcp")

MSS = 1460  # the peer's MSS option; the DUT's segments are at most MTU - 40 (IPv6: - 60), seg_size()


def seg_size(dut) -> int:
    """The DUT's full segment on these connections (no TCP options): 1460, over IPv6 1440."""
    return min(MSS, dut.profile.mtu - tcp_overhead(family_of(dut)))


#: ICMPv6 messages by type (RFC 4443 §3): the counterparts of the ICMPv4 errors these scenarios send.
ICMPV6 = {1: ICMPv6DestUnreach, 2: ICMPv6PacketTooBig, 3: ICMPv6TimeExceeded, 4: ICMPv6ParamProblem}


def icmp_error(dut, seg, type_: int, code: int, mtu: int = 0, seq: int | None = None):
    """An ICMP (or, over IPv6, ICMPv6: ``type_`` is then ICMPv6's) error from the router quoting the IP header and
    first 8 bytes of ``seg`` (RFC 792, RFC 4443 §3), its TCP sequence number replaced by ``seq`` when given."""
    layer = ip_of(seg)
    quoted = layer.copy()
    if seq is not None:
        quoted[TCP].seq = seq
        del quoted[TCP].chksum
    v4 = family_of(dut) == "ipv4"
    raw = bytes(quoted)[: (quoted.ihl * 4 if v4 else 40) + 8]
    router = "10.0.0.254" if v4 else addr("ipv6", 0xFE)
    if v4:
        icmp = ICMP(type=type_, code=code, nexthopmtu=mtu) if (type_, code) == (3, 4) else ICMP(type=type_, code=code)
    elif type_ == 2:
        icmp = ICMPv6PacketTooBig(mtu=mtu)
    else:
        icmp = ICMPV6[type_](code=code)
    return ip(family_of(dut), src=router, dst=dut.ip) / icmp / Raw(raw)


def too_big(dut, seg, seq: int | None = None):
    """Fragmentation needed with next-hop MTU 1000 (ICMPv4, RFC 1191 §4), or Packet Too Big with MTU 1280, the IPv6
    minimum (RFC 8201 §4)."""
    if family_of(dut) == "ipv4":
        return icmp_error(dut, seg, 3, 4, mtu=1000, seq=seq)
    return icmp_error(dut, seg, 2, 0, mtu=1280, seq=seq)


def quiet_until_rto(dut, sock, seg) -> str:
    """How long ("<n>ns") from now nothing may come before ``seg``'s retransmission timeout: up to 500 ms, and ending
    20 ms before the RTO (the DUT's own, read from the socket) counted from ``seg``."""
    return f"{min(500_000_000, ns(seg) + sock.info().rto_ns - 20_000_000 - dut.net.now_ns)}ns"


def smaller_size(dut) -> int:
    """The segment after :func:`too_big`: 1000 - 40 = 960, or 1280 - 60 = 1220 over IPv6."""
    return 960 if family_of(dut) == "ipv4" else 1220


def flight(dut, peer, nbytes: int = 3 * MSS):
    """An established connection with ``nbytes`` sent by the DUT and none acknowledged: (conn, sock, first segment)."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS})
    sock.send(bytes(range(256)) * (nbytes // 256) + bytes(nbytes % 256))
    first = conn.expect(flags="A", within="10ms")
    assert len(tcp_payload(first)) == seg_size(dut)
    dut.net.run(for_="1ms")
    peer.received()  # the rest of the flight
    return conn, sock, first


@pytest.mark.rfc("9293 3.9.2.2", "9293 MUST-54", "9293 3.7.2", "1191 6")
def test_fragmentation_needed_lowers_the_segment_size_and_resends_at_once(dut, peer):
    conn, sock, first = flight(dut, peer)
    peer.send(too_big(dut, first))
    t = dut.net.now_ns
    again = conn.expect(seq=first[TCP].seq, within="1ms")
    # 1000 - 20 (IP) - 20 (TCP, no options on this connection); over IPv6 1280 - 40 - 20
    n = smaller_size(dut)
    assert len(tcp_payload(again)) == n
    assert tcp_payload(again) == tcp_payload(first)[:n]
    if family_of(dut) == "ipv4":
        assert ip_of(again).flags.DF, "PMTUD needs DF on the segments (RFC 1191 §3)"
    assert ns(again) - t < 1_000_000  # at once, not at the retransmission timeout
    # The rest goes in smaller segments too once acknowledged.
    conn.send(flags="A", ack=seq_add(first[TCP].seq, n))
    nxt = conn.expect(seq=seq_add(first[TCP].seq, n), within="10ms")
    assert len(tcp_payload(nxt)) == n


@pytest.mark.rfc("9293 3.9.2.2", "9293 MUST-54", "5927 4.1")
@pytest.mark.parametrize("where", ["above_snd_nxt", "below_snd_una"])
def test_fragmentation_needed_quoting_data_not_in_flight_is_ignored(dut, peer, where):
    """Positive control in the same test: the same error quoting the first segment's sequence number works."""
    conn, sock, first = flight(dut, peer)
    snd_una = first[TCP].seq
    snd_nxt = seq_add(snd_una, 3 * MSS)
    bad = seq_add(snd_nxt, 1000) if where == "above_snd_nxt" else seq_add(snd_una, -1000)
    peer.send(too_big(dut, first, seq=bad))
    # Nothing until shortly before the retransmission timeout (Tern's 1 s: 500 ms; Linux's 200 ms RTO_MIN + RTT:
    # 20 ms before it): the error sent nothing smaller at once.
    conn.expect_nothing(for_=quiet_until_rto(dut, sock, first))
    assert sock.state == "ESTABLISHED"
    # The retransmission timeout resends the first segment at full size: the MSS was not lowered.
    again = conn.expect(seq=snd_una, within="2s")
    assert len(tcp_payload(again)) == seg_size(dut)
    peer.send(too_big(dut, again))
    smaller = conn.expect(seq=snd_una, within="1ms")
    assert len(tcp_payload(smaller)) == smaller_size(dut)


# (type, code) of the soft errors of RFC 9293 §3.9.2.2 the stack records for the application, and their ICMPv6
# counterparts (RFC 4443 §3.1 Destination Unreachable no route, beyond scope, address unreachable; §3.3 Time
# Exceeded hop limit, reassembly).
SOFT_REPORTED = [(3, 0), (3, 1), (3, 5), (11, 0), (11, 1)]
SOFT_REPORTED6 = [(1, 0), (1, 2), (1, 3), (3, 0), (3, 1)]


@pytest.mark.rfc("9293 3.9.2.2", "9293 MUST-54", "9293 MUST-56", "9293 SHLD-25", "9293 3.9.1.8", "9293 MUST-47",
                 "1122 4.2.3.9", "4443 3.1")
@pytest.mark.parametrize("k", range(len(SOFT_REPORTED)), ids=[f"{t}-{c}" for t, c in SOFT_REPORTED])
@linux_deviation('RFC 9293 §3.9.2.2: "a TCP implementation MUST NOT abort the connection (MUST-56), and it SHOULD '
                 'make the information available to the application (SHLD-25)"; Linux keeps the soft error '
                 '(sk_err_soft) but reports ETIMEDOUT when the connection then times out, over IPv4 and IPv6 alike')
def test_soft_error_does_not_abort_and_is_reported_at_the_timeout(dut, peer, profile, k):
    """Over IPv6 the k-th error is SOFT_REPORTED6's (the ids name the ICMPv4 one)."""
    type_, code = (SOFT_REPORTED if family_of(dut) == "ipv4" else SOFT_REPORTED6)[k]
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS}, data_retries=1)
    sock.send(b"soft")
    d = conn.expect(flags="PA", within="10ms")
    rto = sock.info().rto_ns
    peer.send(icmp_error(dut, d, type_, code))
    dut.net.run(for_="10ms")
    assert sock.state == "ESTABLISHED"
    # Not aborted: the segment is retransmitted exactly at the timeout, as without the error.
    conn.expect(flags="PA", seq=d[TCP].seq, at=T(ns(d) + rto), tolerance=EXACT)
    dut.net.run(for_="10s")
    info = sock.info()
    assert info.state == "CLOSED"
    # The timeout reports the soft error rather than a plain TIMED_OUT (RFC 1122 §4.2.3.9, SHLD-25).
    assert info.error == "HOST_UNREACHABLE"


@pytest.mark.rfc("9293 3.9.2.2", "9293 MUST-56")
def test_parameter_problem_does_not_abort(dut, peer):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS})
    sock.send(b"pp")
    d = conn.expect(flags="PA", within="10ms")
    peer.send(icmp_error(dut, d, 12 if family_of(dut) == "ipv4" else 4, 0))  # Parameter Problem, ICMPv6 type 4
    dut.net.run(for_="10ms")
    assert sock.state == "ESTABLISHED"
    conn.send(flags="A", ack=conn.rcv_nxt)
    sock.send(b"more")
    conn.expect(flags="PA", payload=b"more", within="10ms")


@pytest.mark.rfc("9293 3.9.2.2", "9293 MUST-54", "5927 4.1")
def test_soft_error_quoting_data_not_in_flight_is_not_reported(dut, peer):
    """Beside test_soft_error_does_not_abort_and_is_reported_at_the_timeout (the positive control): the same
    error quoting a sequence number beyond SND.NXT is dropped, and the timeout reports TIMED_OUT."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS}, data_retries=1)
    sock.send(b"soft")
    d = conn.expect(flags="PA", within="10ms")
    peer.send(icmp_error(dut, d, *((3, 1) if family_of(dut) == "ipv4" else (1, 3)), seq=seq_add(d[TCP].seq, 100_000)))
    dut.net.run(for_="10s")
    info = sock.info()
    assert info.state == "CLOSED" and info.error == "TIMED_OUT"


def burst_lengths(dut, peer, port: int, quench: bool) -> list[int]:
    """Open a connection, send 4 MSS, optionally receive a Source Quench about the first segment,
    acknowledge everything, then send 20 MSS: the payload lengths of the burst that follows the ACK (all of it,
    within 50 ms: no retransmission timer is that short)."""
    conn, sock, listener = passive(dut, peer, port=port, local_port=port + 40000, peer_opts={"mss": MSS})
    sock.send(bytes(4 * MSS))
    segs = [conn.expect(within="10ms") for _ in range(4)]
    if quench:
        peer.send(icmp_error(dut, segs[0], 4, 0))
    dut.net.run(for_="5ms")
    sock.send(bytes(20 * MSS))
    # What the window allows leaves before the ACK comes (a real-time DUT gets the write a moment after the call;
    # had the ACK come first, the connection would not have been window-limited, and the window grows less).
    dut.net.run(for_="5ms")
    conn.send(flags="A", ack=seq_add(segs[-1][TCP].seq, MSS))
    # The whole burst the window allows (then the DUT waits for ACKs): a pacing DUT (Linux) spreads it over a few
    # milliseconds, so a shorter wait would count however many left in time, not what the window let out.
    dut.net.run(for_="50ms")
    got = [len(tcp_payload(p)) for p in peer.received() if TCP in p and p[TCP].dport == port + 40000]
    conn.reset()
    dut.net.run(for_="1ms")
    return got


@pytest.mark.ipv4_only("ICMPv4 Source Quench (RFC 792); ICMPv6 has no such message (RFC 4443 §2.1)")
@pytest.mark.rfc("9293 3.9.2.2", "9293 MUST-55")
def test_source_quench_is_silently_discarded(dut, peer):
    """A connection that got a Source Quench sends exactly what one without it sends (the control)."""
    control = burst_lengths(dut, peer, 81, quench=False)
    quenched = burst_lengths(dut, peer, 82, quench=True)
    assert len(control) > 4, f"the control connection sent no burst: {control}"
    if tern_stack(dut):
        assert quenched == control
    else:
        # A DUT on real time (Linux) lets out a burst one or two segments longer or shorter from one connection to
        # the next, quench or not (its pacing and window growth race the harness's ACK): a reaction to the quench
        # (RFC 1122's slow start, cwnd one segment) would cut the burst to one or two segments.
        assert len(quenched) >= len(control) - 2, (control, quenched)


@pytest.mark.rfc("9293 3.9.2.2", "1122 4.2.3.9", "5927 4")
def test_soft_error_forgotten_once_data_is_acknowledged(dut, peer):
    """A soft error explains a later timeout only while nothing got through since: after the peer
    acknowledges the data the error was about, a timeout of later data reports TIMED_OUT (the positive
    control, with the error still standing, is test_soft_error_does_not_abort_and_is_reported_at_the_timeout)."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS}, data_retries=1)
    sock.send(b"first")
    d = conn.expect(flags="PA", within="10ms")
    peer.send(icmp_error(dut, d, *((3, 1) if family_of(dut) == "ipv4" else (1, 3))))
    dut.net.run(for_="10ms")
    conn.send(flags="A")  # acknowledges "first": the path works
    sock.send(b"second")
    conn.expect(flags="PA", payload=b"second", within="10ms")
    dut.net.run(for_="10s")
    info = sock.info()
    assert info.state == "CLOSED" and info.error == "TIMED_OUT"
