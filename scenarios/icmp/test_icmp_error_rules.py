"""Rules for the ICMP errors a host sends (RFC 1122 §3.2.2, RFC 1812 §4.3.2.3).

Each silence has its positive control beside it.
"""

from __future__ import annotations

import pytest
from scapy.all import ICMP, IP, UDP, Ether, Raw

from pyharness.dut import DUT_IP, PEER_IP, make_tern_dut

pytestmark = pytest.mark.area("icmp")


@pytest.mark.rfc("1122 3.2.2", "1812 4.3.2.8")
def test_after_a_long_idle_the_burst_is_exactly_the_burst(dut, peer, profile):
    """The token bucket holds at most icmp_burst errors however long the host was idle: after 5 s of
    silence, 3 x burst datagrams of an unknown protocol draw exactly icmp_burst errors."""
    dut.net.run(for_="5s")
    for i in range(3 * profile.icmp_burst):
        peer.send(IP(dst=DUT_IP, proto=253, id=i) / Raw(b"x"))
    dut.net.run(for_="1ms")
    assert len([p for p in peer.received() if ICMP in p]) == profile.icmp_burst


@pytest.mark.rfc("1812 4.3.2.3", "792 intro")
@pytest.mark.parametrize("size", [100, 1400])
def test_error_quotes_as_much_as_fits_in_576_bytes(dut, peer, size):
    """RFC 1812 §4.3.2.3 (as RFC 1122 §3.2.2 asks for "at least the first 8 data octets"): the error quotes
    the original header and as much data as fits in a 576-byte datagram: a 100-byte datagram whole, a
    1400-byte one cut so that the error is exactly 576 bytes."""
    peer.send(IP(dst=DUT_IP) / UDP(sport=4000, dport=9999) / Raw(bytes(size)))
    err = peer.expect(IP(src=DUT_IP) / ICMP(type=3, code=3), within="10ms")
    total = err[IP].len
    original = 20 + 8 + size
    assert total == min(576, 20 + 8 + original), f"error of {total} bytes about a {original}-byte datagram"


@pytest.mark.dut("tern", reason="gives the DUT a default gateway (the peer)")
@pytest.mark.rfc("1122 3.2.2")
@pytest.mark.parametrize("src,answered", [("127.0.0.1", False), ("240.0.0.1", False), ("192.0.2.1", True)],
                         ids=["loopback", "class_e", "control"])
def test_no_error_to_a_source_that_is_not_one_host(net, src, answered):
    """RFC 1122 §3.2.2: no error about a datagram "whose source address does not define a single host --
    e.g., a zero address, a loopback address, a broadcast address, a multicast address, or a Class E
    address". With a default route, a port unreachable for 192.0.2.1 goes out through the gateway; for
    127.0.0.1 or 240.0.0.1 nothing does."""
    dut, peer, _ = make_tern_dut(net, gateway=PEER_IP)
    peer.send(IP(src=PEER_IP, dst=DUT_IP) / ICMP(type=8, id=1) / Raw(b"arp"))  # the DUT learns the peer's MAC
    peer.expect(ICMP(type=0, id=1), within="10ms")
    peer.send(Ether(dst=dut.mac) / IP(src=src, dst=DUT_IP) / UDP(sport=4000, dport=9999) / Raw(b"x"))
    if answered:
        peer.expect(IP(src=DUT_IP, dst=src) / ICMP(type=3, code=3), within="10ms")
    else:
        peer.expect_nothing(for_="100ms", matching=ICMP())


@pytest.mark.dut("tern", reason="gives the DUT a loopback address and has it send to itself (host API)")
@pytest.mark.rfc("1122 3.2.2", "1122 3.2.1.3")
@pytest.mark.parametrize("addr,answered", [("127.0.0.1", False), (DUT_IP, True)], ids=["loopback", "control"])
def test_no_error_to_our_own_loopback_source(net, addr, answered):
    """RFC 1122 §3.2.2: "An ICMP error message MUST NOT be sent as the result of receiving: [...] a datagram
    whose source address does not define a single host -- e.g., a zero address, a loopback address, [...]".
    From a link a 127/8 source never gets that far (RFC 1122 §3.2.1.3 (g): "Addresses of this form MUST NOT
    appear outside a host", dropped as a martian), so the rule is met where such a datagram can exist:
    inside the host. With 127.0.0.1/8 configured, a datagram from 127.0.0.1 to a closed port of 127.0.0.1
    reaches UDP through the loopback and draws no port unreachable; the same from the DUT's own 10.0.0.1
    (the control) draws one, looped back to the sending socket at the instant it was sent. Nothing of
    either crosses the link, where a datagram for the peer does (the silence's positive control)."""
    dut, peer, _ = make_tern_dut(net)
    dut.host.add_address("127.0.0.1/8")
    s = dut.udp_socket(port=7020, addr=addr)
    t0 = net.now_ns
    s.sendto(b"anyone?", (addr, 9999))
    peer.expect_nothing(for_="100ms", matching=IP())
    c = dut.counters()
    assert c.udp_no_port == 1, "the datagram did not reach UDP's closed-port check"
    err = s.take_error()
    if answered:
        assert (c.icmp_errors_sent, c.ip_loopback_in) == (1, 2)
        assert err is not None
        assert (err.icmp_type, err.icmp_code, err.sender, err.dst, err.time_ns) == (3, 3, addr, addr, t0)
    else:
        assert (c.icmp_errors_sent, c.ip_loopback_in) == (0, 1)
        assert err is None, err
    dut.udp_socket(port=7021).sendto(b"out", (PEER_IP, 9))
    peer.expect(IP(src=DUT_IP, dst=PEER_IP) / UDP(sport=7021, dport=9), within="10ms")


@pytest.mark.dut("tern", reason="the Tern profile returns a full Timestamp option with its overflow counted")
@pytest.mark.rfc("791 3.1", "1122 3.2.2.6")
@pytest.mark.parametrize("oflw,expected", [(0, 1), (14, 15)])
def test_full_timestamp_option_counts_the_overflow(dut, peer, oflw, expected):
    """RFC 791 §3.1 (Internet Timestamp): "If the timestamp data area is already full (the pointer exceeds
    the length) the datagram is forwarded without inserting the timestamp, but the overflow count is
    incremented by one." An echo request whose option is full comes back with the count one higher, up to
    15. (A count of 15 that would overflow: "the original datagram is considered to be in error and is
    discarded"; Tern keeps it at 15 and answers: not checked here.)"""
    from scapy.all import IPOption

    ts = IPOption(bytes([0x44, 0x08, 0x09, oflw << 4]) + bytes(4))
    peer.send(IP(dst=DUT_IP, options=[ts]) / ICMP(type=8, id=31, seq=1))
    reply = peer.expect(IP(src=DUT_IP) / ICMP(type=0, id=31), within="10ms")
    opts = bytes(reply[IP])[20:reply[IP].ihl * 4]
    assert opts[0] == 0x44 and opts[3] >> 4 == expected, opts.hex()
