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

The errors come from a router's address on the peer's side (10.0.0.254 through the peer's link).
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import ICMP, IP, TCP
from scapy.packet import Raw

from tcpkit import DUT_IP, EXACT, T, ns, passive, seq_add, tcp_payload

pytestmark = pytest.mark.area("tcp")

MSS = 1460
ROUTER = "10.0.0.254"  # a router between the hosts, as seen from the DUT: any address but the peer's


def icmp_error(seg, type_: int, code: int, mtu: int = 0, seq: int | None = None):
    """An ICMP error from ROUTER quoting the IP header and first 8 bytes of ``seg`` (RFC 792), its TCP
    sequence number replaced by ``seq`` when given."""
    quoted = seg[IP].copy()
    if seq is not None:
        quoted[TCP].seq = seq
        del quoted[TCP].chksum
    raw = bytes(quoted)[: quoted[IP].ihl * 4 + 8]
    icmp = ICMP(type=type_, code=code, nexthopmtu=mtu) if (type_, code) == (3, 4) else ICMP(type=type_, code=code)
    return IP(src=ROUTER, dst=DUT_IP) / icmp / Raw(raw)


def flight(dut, peer, nbytes: int = 3 * MSS):
    """An established connection with ``nbytes`` sent by the DUT and none acknowledged: (conn, sock, first segment)."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS})
    sock.send(bytes(range(256)) * (nbytes // 256) + bytes(nbytes % 256))
    first = conn.expect(flags="A", within="10ms")
    assert len(tcp_payload(first)) == MSS
    dut.net.run(for_="1ms")
    peer.received()  # the rest of the flight
    return conn, sock, first


@pytest.mark.rfc("9293 3.9.2.2", "9293 MUST-54", "9293 3.7.2", "1191 6")
def test_fragmentation_needed_lowers_the_segment_size_and_resends_at_once(dut, peer):
    conn, sock, first = flight(dut, peer)
    peer.send(icmp_error(first, 3, 4, mtu=1000))
    t = dut.net.now_ns
    again = conn.expect(seq=first[TCP].seq, within="1ms")
    # 1000 - 20 (IP) - 20 (TCP, no options on this connection)
    assert len(tcp_payload(again)) == 960
    assert tcp_payload(again) == tcp_payload(first)[:960]
    assert again[IP].flags.DF, "PMTUD needs DF on the segments (RFC 1191 §3)"
    assert ns(again) - t < 1_000_000  # at once, not at the retransmission timeout
    # The rest goes in 960-byte segments too once acknowledged.
    conn.send(flags="A", ack=seq_add(first[TCP].seq, 960))
    nxt = conn.expect(seq=seq_add(first[TCP].seq, 960), within="10ms")
    assert len(tcp_payload(nxt)) == 960


@pytest.mark.rfc("9293 3.9.2.2", "9293 MUST-54", "5927 4.1")
@pytest.mark.parametrize("where", ["above_snd_nxt", "below_snd_una"])
def test_fragmentation_needed_quoting_data_not_in_flight_is_ignored(dut, peer, where):
    """Positive control in the same test: the same error quoting the first segment's sequence number works."""
    conn, sock, first = flight(dut, peer)
    snd_una = first[TCP].seq
    snd_nxt = seq_add(snd_una, 3 * MSS)
    bad = seq_add(snd_nxt, 1000) if where == "above_snd_nxt" else seq_add(snd_una, -1000)
    peer.send(icmp_error(first, 3, 4, mtu=1000, seq=bad))
    conn.expect_nothing(for_="500ms")
    assert sock.state == "ESTABLISHED"
    # The retransmission timeout resends the first segment at full size: the MSS was not lowered.
    again = conn.expect(seq=snd_una, within="2s")
    assert len(tcp_payload(again)) == MSS
    peer.send(icmp_error(again, 3, 4, mtu=1000))
    smaller = conn.expect(seq=snd_una, within="1ms")
    assert len(tcp_payload(smaller)) == 960


# (type, code) of the soft errors of RFC 9293 §3.9.2.2 the stack records for the application.
SOFT_REPORTED = [(3, 0), (3, 1), (3, 5), (11, 0), (11, 1)]


@pytest.mark.rfc("9293 3.9.2.2", "9293 MUST-54", "9293 MUST-56", "9293 SHLD-25", "9293 3.9.1.8", "9293 MUST-47",
                 "1122 4.2.3.9")
@pytest.mark.parametrize("type_,code", SOFT_REPORTED)
def test_soft_error_does_not_abort_and_is_reported_at_the_timeout(dut, peer, profile, type_, code):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS}, data_retries=1)
    sock.send(b"soft")
    d = conn.expect(flags="PA", within="10ms")
    rto = sock.info().rto_ns
    peer.send(icmp_error(d, type_, code))
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
    peer.send(icmp_error(d, 12, 0))
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
    peer.send(icmp_error(d, 3, 1, seq=seq_add(d[TCP].seq, 100_000)))
    dut.net.run(for_="10s")
    info = sock.info()
    assert info.state == "CLOSED" and info.error == "TIMED_OUT"


def burst_lengths(dut, peer, port: int, quench: bool) -> list[int]:
    """Open a connection, send 4 MSS, optionally receive a Source Quench about the first segment,
    acknowledge everything, then send 20 MSS: the payload lengths of the burst that follows the ACK."""
    conn, sock, listener = passive(dut, peer, port=port, local_port=port + 40000, peer_opts={"mss": MSS})
    sock.send(bytes(4 * MSS))
    segs = [conn.expect(within="10ms") for _ in range(4)]
    if quench:
        peer.send(icmp_error(segs[0], 4, 0))
    dut.net.run(for_="5ms")
    sock.send(bytes(20 * MSS))
    conn.send(flags="A", ack=seq_add(segs[-1][TCP].seq, MSS))
    dut.net.run(for_="5ms")
    got = [len(tcp_payload(p)) for p in peer.received() if TCP in p and p[TCP].dport == port + 40000]
    conn.reset()
    dut.net.run(for_="1ms")
    return got


@pytest.mark.rfc("9293 3.9.2.2", "9293 MUST-55")
def test_source_quench_is_silently_discarded(dut, peer):
    """A connection that got a Source Quench sends exactly what one without it sends (the control)."""
    control = burst_lengths(dut, peer, 81, quench=False)
    quenched = burst_lengths(dut, peer, 82, quench=True)
    assert len(control) > 4, f"the control connection sent no burst: {control}"
    assert quenched == control


@pytest.mark.rfc("9293 3.9.2.2", "1122 4.2.3.9", "5927 4")
def test_soft_error_forgotten_once_data_is_acknowledged(dut, peer):
    """A soft error explains a later timeout only while nothing got through since: after the peer
    acknowledges the data the error was about, a timeout of later data reports TIMED_OUT (the positive
    control, with the error still standing, is test_soft_error_does_not_abort_and_is_reported_at_the_timeout)."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS}, data_retries=1)
    sock.send(b"first")
    d = conn.expect(flags="PA", within="10ms")
    peer.send(icmp_error(d, 3, 1))
    dut.net.run(for_="10ms")
    conn.send(flags="A")  # acknowledges "first": the path works
    sock.send(b"second")
    conn.expect(flags="PA", payload=b"second", within="10ms")
    dut.net.run(for_="10s")
    info = sock.info()
    assert info.state == "CLOSED" and info.error == "TIMED_OUT"
