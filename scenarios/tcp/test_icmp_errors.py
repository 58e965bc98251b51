"""ICMP errors about TCP segments (RFC 9293 §3.9.2.2, RFC 5927, RFC 1191): an error is taken only when the
sequence number it quotes is one in flight, SND.UNA =< SEG.SEQ < SND.NXT (RFC 5927 §4.1); hard errors end a
connection in SYN-SENT, soft errors never abort one and are reported when it later times out."""

from __future__ import annotations

import struct

import pytest
from scapy.layers.inet import ICMP, TCP
from scapy.layers.inet6 import ICMPv6DestUnreach, ICMPv6PacketTooBig
from scapy.packet import Raw

from pyharness.dut import linux_deviation
from tcpkit import EXACT, PEER_PORT, T, active, ip, ip_of, ns, peer_ip_of, seq_add

pytestmark = pytest.mark.area("tcp")

SEC = 1_000_000_000

RFC5927_41 = ('RFC 5927 §4.1: "These implementations check that the TCP sequence number contained in the payload of '
              'the ICMP error message is within the range SND.UNA =< SEG.SEQ < SND.NXT"; Linux (tcp_v4_err) takes '
              'SND.UNA <= SEG.SEQ <= SND.NXT (between(), both ends included)')
HARD = ('RFC 9293 §3.9.2.2: "Hard Errors: For ICMP these include Destination Unreachable -- codes 2-4. These are '
        'hard error conditions, so TCP implementations SHOULD abort the connection (SHLD-26)"')
SOFT = ('RFC 9293 §3.9.2.2: "Since these Unreachable messages indicate soft error conditions, a TCP implementation '
        'MUST NOT abort the connection (MUST-56), and it SHOULD make the information available to the application '
        '(SHLD-25)"')

SOFT_LINUX = (SOFT + "; Linux keeps the soft error (sk_err_soft) but reports ETIMEDOUT when the connection then "
              "times out (seen in make run-linux), so an error quoting SND.NXT, which Linux would take, cannot be "
              "told apart either")


#: The errors these scenarios send, by family: ICMP (RFC 792) and ICMPv6 (RFC 4443 §3.1, §3.2). Port unreachable
#: is a hard error in SYN-SENT; host unreachable (ICMPv6: address unreachable, code 3) a soft one; "too big" is
#: ICMP's fragmentation needed (RFC 1191) or ICMPv6's Packet Too Big (RFC 8201).
KINDS = {"ipv4": {"port": (3, 3), "host": (3, 1), "too_big": (3, 4)},
         "ipv6": {"port": (1, 4), "host": (1, 3), "too_big": (2, 0)}}


def icmp_about(dut, segment, seq: int, kind: str = "port", mtu: int = 0):
    """An ICMP or ICMPv6 error from the peer quoting ``segment`` (the DUT's IP header and first 8 TCP octets, RFC
    792; RFC 4443 §3.1 asks for "as much of invoking packet as possible", the same 8 octets are enough) with its
    sequence number replaced by ``seq``."""
    layer = ip_of(segment)
    v4 = type(layer).__name__ == "IP"
    hlen = 20 if v4 else 40
    if v4:
        assert layer.ihl == 5, "the quote below assumes an IP header without options"
    quote = bytearray(bytes(layer)[:hlen + 8])
    quote[hlen + 4:hlen + 8] = struct.pack("!I", seq % 2**32)
    family = "ipv4" if v4 else "ipv6"
    icmp_type, code = KINDS[family][kind]
    if v4:
        msg = ICMP(type=icmp_type, code=code, **({"nexthopmtu": mtu} if kind == "too_big" else {}))
    elif kind == "too_big":
        msg = ICMPv6PacketTooBig(mtu=mtu)
    else:
        msg = ICMPv6DestUnreach(code=code)
    return ip(family, src=peer_ip_of(dut), dst=dut.ip) / msg / Raw(bytes(quote))


def connecting(dut, peer, **options):
    """The DUT connects to the peer: (its socket, the peer's side, the SYN)."""
    sock = dut.tcp_connect(peer_ip_of(dut), PEER_PORT, local_port=45100, **options)
    conn = peer.tcp(dut, 45100, local_port=PEER_PORT, isn=9000)
    syn = conn.expect(flags="S", within="10ms")
    return sock, conn, syn


@pytest.mark.rfc("5927 4.1", "9293 3.9.2.2", "9293 MUST-54")
@linux_deviation(RFC5927_41)
def test_port_unreachable_quoting_isn_plus_one_is_ignored_in_syn_sent(dut, peer):
    """In SYN-SENT, SND.UNA = ISS and SND.NXT = ISS + 1: an error quoting ISS + 1 is about no segment we sent.
    The connection stays in SYN-SENT, the SYN comes again at the RTO (1 s), and the handshake completes."""
    sock, conn, syn = connecting(dut, peer)
    iss = syn[TCP].seq
    peer.send(icmp_about(dut, syn, seq_add(iss, 1)))
    dut.net.run(for_="1ms")
    assert sock.state == "SYN_SENT" and sock.info().error is None
    conn.expect(flags="S", seq=iss, at=T(ns(syn) + SEC), tolerance=EXACT)
    conn.send(flags="SA")
    conn.expect(flags="A", seq=seq_add(iss, 1), ack=9001, within="10ms")
    assert sock.state == "ESTABLISHED"


@pytest.mark.rfc("5927 4.1", "9293 3.9.2.2", "9293 MUST-54", "1122 4.2.3.9")
def test_port_unreachable_quoting_the_isn_fails_the_connect(dut, peer, peer_ip):
    """Positive control of the test above: the same error quoting the SYN's own sequence number (ISS) is a hard
    error about our SYN: the connect fails at once with "connection refused" and no SYN follows."""
    sock = dut.tcp_connect(peer_ip, PEER_PORT, local_port=45100)
    conn = peer.tcp(dut, 45100, local_port=PEER_PORT, isn=9000)
    syn = conn.expect(flags="S", within="10ms")
    peer.send(icmp_about(dut, syn, syn[TCP].seq))
    dut.net.run(for_="1ms")
    info = sock.info()
    assert info.state == "CLOSED" and info.error == "CONN_REFUSED", HARD
    conn.expect_nothing(for_="5s", flags="S")


@pytest.mark.rfc("5927 4.1", "9293 3.9.2.2", "9293 MUST-56", "9293 SHLD-25")
@pytest.mark.parametrize("offset,error", [(0, "HOST_UNREACHABLE"), (1, "TIMED_OUT")], ids=["isn", "isn+1"])
@linux_deviation(SOFT + '; RFC 9293 §3.9.2.2 notes "widespread implementation behavior that treats soft errors as '
                 'hard errors during connection establishment": Linux (tcp_v4_err) ends a SYN-SENT connection on any '
                 'destination unreachable')
def test_soft_error_in_syn_sent_never_aborts_and_explains_the_timeout(dut, peer, profile, offset, error):
    """Host unreachable (a soft error) about the SYN: the SYN is still retransmitted at 1 s (MUST-56); when the
    connect times out, the error it reports is the ICMP one (SHLD-25). Quoting ISS + 1, the error is not ours
    to take: the time-out is reported as such."""
    sock, conn, syn = connecting(dut, peer, syn_retries=1)
    peer.send(icmp_about(dut, syn, seq_add(syn[TCP].seq, offset), kind="host"))
    dut.net.run(for_="1ms")
    assert sock.state == "SYN_SENT", SOFT
    again = conn.expect(flags="S", seq=syn[TCP].seq, at=T(ns(syn) + profile.rto_initial), tolerance=EXACT)
    dut.net.run(until=T(ns(again) + 2 * profile.rto_initial))
    info = sock.info()
    assert info.state == "CLOSED" and info.error == error


@pytest.mark.rfc("5927 4.1", "9293 3.9.2.2", "9293 MUST-56")
@pytest.mark.parametrize("where,error", [pytest.param("snd_una", "HOST_UNREACHABLE",
                                                      marks=linux_deviation(SOFT_LINUX)),
                                         ("snd_nxt", "TIMED_OUT")])
def test_soft_error_while_established_counts_only_for_data_in_flight(dut, peer, where, error):
    """ESTABLISHED with 7 octets in flight: a soft error quoting SND.UNA is kept and explains the later time-out;
    one quoting SND.NXT is about nothing in flight and is ignored. Neither aborts the connection."""
    conn, sock = active(dut, peer, data_retries=1)
    sock.send(b"payload")
    d = conn.expect(flags="PA", payload=b"payload", within="10ms")
    seq = d[TCP].seq if where == "snd_una" else seq_add(d[TCP].seq, 7)
    peer.send(icmp_about(dut, d, seq, kind="host"))
    dut.net.run(for_="1ms")
    assert sock.state == "ESTABLISHED", SOFT
    dut.net.run(for_="10s")
    info = sock.info()
    assert info.state == "CLOSED" and info.error == error


@pytest.mark.rfc("5927 4.1", "1191 6")
@pytest.mark.parametrize("where,shrinks", [("snd_una", True),
                                           pytest.param("snd_nxt", False, marks=linux_deviation(RFC5927_41))])
def test_fragmentation_needed_counts_only_for_data_in_flight(dut, peer, where, shrinks, family):
    """Fragmentation needed (next-hop MTU 576) quoting a segment in flight lowers the segment size and the data
    goes again in 536-octet segments at once (RFC 1191 §6); the same error quoting SND.NXT changes nothing.
    Over IPv6, Packet Too Big with MTU 1280 (the IPv6 minimum, RFC 8200 §5): 1220-octet segments (RFC 8201 §4:
    "the node MUST reduce the size of the packets it is sending along the path")."""
    mtu, new_mss, n = (576, 536, 1000) if family == "ipv4" else (1280, 1220, 1400)
    conn, sock = active(dut, peer, peer_opts={"mss": 1460})
    mss = sock.info().snd_mss
    sock.send(b"x" * n)
    d = conn.expect(flags="PA", within="10ms")
    seq = d[TCP].seq if where == "snd_una" else seq_add(d[TCP].seq, n)
    peer.send(icmp_about(dut, d, seq, kind="too_big", mtu=mtu))
    dut.net.run(for_="1ms")
    if shrinks:
        assert sock.info().snd_mss == new_mss
        conn.expect(flags="A", seq=d[TCP].seq, payload=b"x" * new_mss, within="1ms")
    else:
        assert sock.info().snd_mss == mss
        # The data waits for its RTO (Tern: 1 s; Linux: 200 ms RTO_MIN + RTT): nothing until 20 ms before it
        # (at most 500 ms), then the segment again at full size.
        conn.expect_nothing(for_=f"{min(500_000_000, ns(d) + sock.info().rto_ns - 20_000_000 - dut.net.now_ns)}ns")
        again = conn.expect(seq=d[TCP].seq, within="2s")
        assert bytes(again[TCP].payload) == bytes(d[TCP].payload)


@pytest.mark.ipv6_only("RFC 8201 §4's minimum: ICMPv4's fragmentation needed has no floor of its own (RFC 1191)")
@pytest.mark.rfc("8201 4", "8200 5")
@pytest.mark.parametrize("mtu,shrinks", [(1000, False), (1279, False), (1280, True)],
                         ids=["1000", "1279", "control-1280"])
def test_packet_too_big_below_the_ipv6_minimum_is_discarded(dut, peer, mtu, shrinks, family):
    """RFC 8201 §4: "If a node receives a Packet Too Big message reporting a next-hop MTU that is less than the IPv6
    minimum link MTU, it must discard it." A Packet Too Big of 1000 or 1279 about a segment in flight changes
    nothing (the MSS stays, the data waits for its RTO); the control, 1280, lowers the MSS to 1220 at once."""
    conn, sock = active(dut, peer, peer_opts={"mss": 1460})
    mss = sock.info().snd_mss
    sock.send(b"x" * 1400)
    d = conn.expect(flags="PA", within="10ms")
    peer.send(icmp_about(dut, d, d[TCP].seq, kind="too_big", mtu=mtu))
    dut.net.run(for_="1ms")
    if shrinks:
        assert sock.info().snd_mss == 1220
        conn.expect(flags="A", seq=d[TCP].seq, payload=b"x" * 1220, within="1ms")
    else:
        assert sock.info().snd_mss == mss
        # The data waits for its RTO (Tern: 1 s; Linux: 200 ms RTO_MIN + RTT): nothing until 20 ms before it
        # (at most 500 ms), then the segment again at full size.
        conn.expect_nothing(for_=f"{min(500_000_000, ns(d) + sock.info().rto_ns - 20_000_000 - dut.net.now_ns)}ns")
        again = conn.expect(seq=d[TCP].seq, within="2s")
        assert bytes(again[TCP].payload) == bytes(d[TCP].payload)
