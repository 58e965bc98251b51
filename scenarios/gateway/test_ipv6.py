"""IPv6 on the gateway: one routed /64 per inside segment, no NAT66.

Choice: the gateway routes IPv6 (it does not translate it). Each inside
segment has a prefix of its own (``ipv6=True``: 2001:db8:0:1::/64 on the
first inside segment, 2001:db8:0:k+1::/64 on the extra ones, 2001:db8:ff::/64
outside, RFC 3849 documentation space); the gateway advertises the inside
prefixes with Router Advertisements so guests form SLAAC addresses, and the
sealed outside reaches them by a route to the gateway's outside address, the
way a delegated prefix is routed to a home router. The forwarding path is the
stack's (stack/src/ipv6/forward6.c): Hop Limit, Packet Too Big when the next
segment's MTU is smaller, Destination Unreachable without a route. Neighbor
Discovery answers only the gateway's own addresses.
"""

from __future__ import annotations

import socket

import pytest
from scapy.all import (ICMPv6DestUnreach, ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RS,
                       ICMPv6NDOptSrcLLAddr, ICMPv6PacketTooBig, IPv6, Ether)

from scapy.pton_ntop import inet_ntop, inet_pton
from scapy.utils6 import in6_getnsma, in6_getnsmac

from gwkit import S
from pyharness.gateway import GatewayConfigError

pytestmark = pytest.mark.area("gateway")

MS = 1_000_000
WWW6 = "2001:db8:ff::80"
RA = {"max_interval": "10s"}  # MinRtrAdvInterval then 0.33 x 10 s = 3.3 s, AdvDefaultLifetime 30 s


def at(ns: int) -> str:
    return f"{ns // S}.{ns % S:09d}"


def ra_lines(gw, port=0):
    return [ln for ln in gw.transcript() if f"out p{port} ICMPv6 router advertisement" in ln]


def ra_times(gw, port=0):
    out = []
    for ln in ra_lines(gw, port):
        sec, frac = ln.split(" ")[0].split(".")
        out.append(int(sec) * S + int(frac))
    return out


def lab(net, ra=RA, **kw):
    """Gateway with IPv6, a SLAAC Tern guest inside (1 ms link), an IPv6 host outside routing the inside prefix
    back to the gateway."""
    gw = net.gateway("gw", profile="fvp", ipv6={"ra": ra}, **kw)
    guest = net.host("g", slaac=True)
    net.link(gw, guest, delay="1ms")
    www = net.host("www", ipv4="198.51.100.80/24", ipv6=f"{WWW6}/64")
    net.link(gw, www, port_a=gw.outside_port)
    www.add_route("2001:db8:0:1::/64", "2001:db8:ff::2")
    return gw, guest, www


def global_addr(guest):
    (a,) = [a for a, plen, st in guest.ipv6_addresses() if a.startswith("2001:db8:0:1:") and st == "preferred"]
    return a


@pytest.mark.rfc("4861 6.2.4", "4862 5.5.3")
def test_ra_at_start_and_slaac(net):
    """The first RA goes out at 0 from the port's link-local address to ff02::1 with Hop Limit 255: router lifetime
    30 s (3 x MaxRtrAdvInterval), the MTU option, the /64 prefix on-link and autonomous with 30 and 7 days, the
    gateway's DNS server in an RDNSS option (test_ipv6_dns.py); the guest forms its SLAAC address in it and takes the
    gateway as default router."""
    gw, guest, _ = lab(net)
    net.run(for_="5s")
    first = ra_lines(gw)[0]
    assert first.startswith("0.000000000 out p0 ICMPv6 router advertisement fe80::")
    assert first.endswith("> ff02::1 lifetime 30 mtu 1500 prefix 2001:db8:0:1::/64 valid 2592000 preferred 604800"
                          " rdnss 2001:db8:0:1::1 lifetime 30")
    a = global_addr(guest)
    iid = a.split("2001:db8:0:1:")[1]
    assert guest.ipv6_addresses()[0][0] == "fe80::" + iid  # the same interface identifier (modified EUI-64)


@pytest.mark.rfc("4861 6.2.4")
def test_first_ras_capped_at_16s(net):
    """With the default MaxRtrAdvInterval 600 s (MinRtrAdvInterval 198 s) every random interval exceeds
    MAX_INITIAL_RTR_ADVERT_INTERVAL, so the first three RAs go at exactly 0, 16 and 32 s; the fourth after a random
    interval in [198 s, 600 s] - the very instant the schedule said."""
    gw = net.gateway("gw", profile="fvp", dhcp=False, ipv6=True)
    peer = net.peer("p", nd=False)
    net.link(gw, peer)
    net.run(for_="40s")
    assert ra_times(gw) == [0, 16 * S, 32 * S]
    nxt = gw.ra_state(0)["next_at"]
    assert 32 * S + 198 * S <= nxt <= 32 * S + 600 * S
    net.run(until=f"{nxt + 1}ns")
    assert ra_times(gw)[3] == nxt
    assert "lifetime 1800 " in ra_lines(gw)[3]  # AdvDefaultLifetime 3 x 600 s


@pytest.mark.rfc("4861 6.2.4")
def test_periodic_interval_within_min_max(net):
    """After the initial ones every interval is within [MinRtrAdvInterval 3.3 s, MaxRtrAdvInterval 10 s], each RA at
    the instant ra_state() announced; the intervals differ (they are random), and the same seed repeats them."""
    def run(n):
        gw = n.gateway("gw", profile="fvp", dhcp=False, ipv6={"ra": RA})
        n.link(gw, n.peer("p", nd=False))
        announced = []
        for _ in range(12):
            announced.append(gw.ra_state(0)["next_at"])
            n.run(until=f"{announced[-1] + 1}ns")
        return gw, announced

    gw, announced = run(net)
    times = ra_times(gw)
    assert times == announced
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(3_300_000_000 <= g <= 10 * S for g in gaps), gaps
    assert len(set(gaps)) > 5
    from pyharness import Network

    other = Network(seed=net.seed)
    assert run(other)[1] == announced
    other.close()


def _rs(peer, gw):
    peer.send(Ether(dst="33:33:00:00:00:02") / IPv6(src="fe80::7", dst="ff02::2", hlim=255) / ICMPv6ND_RS()
              / ICMPv6NDOptSrcLLAddr(lladdr=peer.mac))


@pytest.mark.rfc("4861 6.2.6")
def test_rs_answer_delayed_and_rate_limited(net):
    """An RS 1 s after the first RA (within MIN_DELAY_BETWEEN_RAS) is answered at 3 s + a random delay in
    [0, 0.5 s]; 30 more RSs before that change nothing (one answer, its delay from the first); an RS 5 s after that
    answer is answered within [5 s, 5.5 s]; each answer at the instant ra_state() announced."""
    gw = net.gateway("gw", profile="fvp", dhcp=False, ipv6={"ra": {"max_interval": "1800s"}})
    peer = net.peer("p", ipv6="2001:db8:0:1::7/64")
    net.link(gw, peer)
    net.run(until=f"{1 * S}ns")
    _rs(peer, gw)
    net.run(for_="1ms")
    st = gw.ra_state(0)
    assert st["rs_received"] == 1 and 3 * S <= st["next_at"] <= 3 * S + S // 2
    first_answer = st["next_at"]
    net.run(until=f"{2 * S}ns")
    for _ in range(30):  # each would draw a delay of its own, most of them earlier than the first one's
        _rs(peer, gw)
    net.run(for_="1ms")
    assert gw.ra_state(0)["next_at"] == first_answer
    net.run(until=f"{first_answer + 1}ns")
    assert ra_times(gw) == [0, first_answer]
    t = first_answer + 5 * S
    net.run(until=f"{t}ns")
    _rs(peer, gw)
    net.run(for_="1ms")
    second = gw.ra_state(0)["next_at"]
    assert t <= second <= t + S // 2
    net.run(until=f"{second + 1}ns")
    assert ra_times(gw) == [0, first_answer, second]
    st = gw.ra_state(0)
    assert (st["sent"], st["solicited"], st["rs_received"]) == (3, 2, 32)
    # the answer restarted the interval timer; past the initial three RAs it is no longer capped at 16 s:
    # uniform in [MinRtrAdvInterval 594 s (0.33 x 1800 s), MaxRtrAdvInterval 1800 s]
    assert second + 594 * S <= st["next_at"] <= second + 1800 * S


@pytest.mark.rfc("8200 3", "4443 4.1")
def test_guest_reaches_ipv6_host_outside(net):
    """The SLAAC guest pings the outside host: the request leaves the outside port with the guest's own address (no
    NAT66) and Hop Limit 63, the reply comes back; no NAT mapping is made."""
    gw, guest, www = lab(net)
    net.run(for_="5s")
    a = global_addr(guest)
    p = guest.ping_socket(ident=3)
    t0 = net.now_ns
    p.send(WWW6, seq=1)
    box = []
    assert net.run(until=lambda: box.append(p.recv()) or box[-1] is not None, for_="2s")
    r = box[-1]
    assert (r.src, r.seq, r.ttl) == (WWW6, 1, 63)
    lines = [ln for ln in gw.transcript() if "echo" in ln]
    assert lines[:2] == [f"{at(t0 + MS)} in p0 ICMPv6 echo request {a} > {WWW6} id 0x0003 seq 1 len 56",
                         f"{at(t0 + MS)} out p1 ICMPv6 echo request {a} > {WWW6} id 0x0003 seq 1 len 56"]
    assert gw.nat_table() == []
    assert gw.stack_counters().ip6_forwarded == 2


@pytest.mark.rfc("4443 3.3")
def test_hop_limit_1_time_exceeded(net):
    """Hop Limit 1 through the gateway: Time Exceeded code 0 from the gateway's inside address, quoting the request,
    2 ms after it arrived (the Neighbor Solicitation/Advertisement round trip for the guest's global address); nothing
    leaves the outside port."""
    gw, guest, _ = lab(net)
    net.run(for_="5s")
    a = global_addr(guest)
    t0 = net.now_ns
    guest.ping_socket(ident=4).send(WWW6, seq=1, ttl=1)
    net.run(for_="100ms")
    lines = [ln for ln in gw.transcript() if ln >= at(t0)]
    assert lines == [f"{at(t0 + MS)} in p0 ICMPv6 echo request {a} > {WWW6} id 0x0004 seq 1 len 56",
                     # sent once the gateway resolved the guest's address: NS and NA, 1 ms each way
                     f"{at(t0 + 3 * MS)} out p0 ICMPv6 time exceeded hop limit 2001:db8:0:1::1 > {a} "
                     f"about icmpv6 [{a}] > [{WWW6}]"]
    assert gw.stack_counters().ip6_hop_limit_exceeded == 1


@pytest.mark.rfc("4443 3.2", "8200 5")
def test_packet_too_big_to_smaller_segment(net):
    """A 1400-byte packet for a guest on a 1280-MTU segment: the gateway does not fragment it, it sends Packet Too
    Big with MTU 1280 to the source; a 1200-byte one passes (positive control)."""
    gw = net.gateway("gw", profile="fvp", dhcp=False, ipv6={"ra": RA},
                     segments=[{"address": "10.1.0.1/24", "mtu": 1280}])
    src = net.peer("src", ipv6="2001:db8:0:1::5/64")
    net.link(gw, src)                                # port 0
    net.link(gw, net.host("w", ipv4="198.51.100.80/24"))  # port 1
    dst = net.peer("dst", ipv6="2001:db8:0:2::9/64")
    net.link(gw, dst)                                # port 2, MTU 1280
    to_gw = Ether(dst=gw.macs[0]) / IPv6(src="2001:db8:0:1::5", dst="2001:db8:0:2::9", hlim=64)
    src.send(to_gw / ICMPv6EchoRequest(id=1, seq=1, data=b"x" * (1400 - 48)))
    e = src.expect(IPv6(dst="2001:db8:0:1::5") / ICMPv6PacketTooBig(), within="1s")
    assert e[ICMPv6PacketTooBig].mtu == 1280 and e[IPv6].src == "2001:db8:0:1::1"
    dst.expect_nothing("100ms", matching=ICMPv6EchoRequest())
    src.send(to_gw / ICMPv6EchoRequest(id=1, seq=2, data=b"x" * (1200 - 48)))
    got = dst.expect(IPv6(src="2001:db8:0:1::5") / ICMPv6EchoRequest(), within="1s")
    assert got[IPv6].hlim == 63 and len(got[IPv6]) == 1200
    assert gw.stack_counters().ip6_too_big_sent == 1


@pytest.mark.rfc("4443 3.1")
def test_no_route_destination_unreachable(net):
    """Without an IPv6 default route, a packet for 2001:db8:99::1 gets Destination Unreachable code 0 (no route)."""
    gw = net.gateway("gw", profile="fvp", dhcp=False, ipv6={"ra": RA})
    src = net.peer("src", ipv6="2001:db8:0:1::5/64")
    net.link(gw, src)
    src.send(Ether(dst=gw.macs[0]) / IPv6(src="2001:db8:0:1::5", dst="2001:db8:99::1") / ICMPv6EchoRequest())
    e = src.expect(IPv6(dst="2001:db8:0:1::5") / ICMPv6DestUnreach(), within="1s")
    assert e[ICMPv6DestUnreach].code == 0


@pytest.mark.rfc("4861 7.2.3")
def test_nd_only_for_own_addresses(net):
    """A Neighbor Solicitation for 2001:db8:0:1::99 (nobody's) gets no answer; one for the gateway's
    2001:db8:0:1::1 gets a solicited NA with the Router flag (positive control)."""
    gw = net.gateway("gw", profile="fvp", dhcp=False, ipv6={"ra": RA})
    p = net.peer("p", ipv6="2001:db8:0:1::5/64", nd=False)
    net.link(gw, p)

    def ns(target):
        snm = in6_getnsma(inet_pton(socket.AF_INET6, target))
        p.send(Ether(dst=in6_getnsmac(snm)) / IPv6(src="2001:db8:0:1::5", dst=inet_ntop(socket.AF_INET6, snm),
                                                   hlim=255) /
               ICMPv6ND_NS(tgt=target) / ICMPv6NDOptSrcLLAddr(lladdr=p.mac))

    net.run(for_="10ms")
    ns("2001:db8:0:1::99")
    p.expect_nothing("1s", matching=ICMPv6ND_NA())
    ns("2001:db8:0:1::1")
    na = p.expect(ICMPv6ND_NA(tgt="2001:db8:0:1::1"), within="1s")
    assert na[ICMPv6ND_NA].R == 1 and na[ICMPv6ND_NA].S == 1


def test_echo_on_gateway_ipv6_address(net):
    """ICMPv6 echo to the gateway's inside address is answered."""
    gw, guest, _ = lab(net)
    net.run(for_="5s")
    p = guest.ping_socket(ident=6)
    p.send("2001:db8:0:1::1", seq=1)
    box = []
    assert net.run(until=lambda: box.append(p.recv()) or box[-1] is not None, for_="1s")
    assert box[-1].src == "2001:db8:0:1::1"


@pytest.mark.parametrize("ipv6, field, reason", [
    ({"inside": "2001:db8:1::1/48"}, "ipv6.inside",
     "2001:db8:1::/48: Router Advertisements for SLAAC need a /64 (RFC 4862 5.5.3)"),
    ({"inside": "fe80::1/64"}, "ipv6.inside", "fe80::1 cannot be the gateway's global address"),
    ({"inside": "2001:db8:ff::1/64"}, "ipv6.outside", "2001:db8:ff::/64 overlaps ipv6.inside 2001:db8:ff::/64"),
    ({"ra": {"max_interval": "2s"}}, "ipv6.ra.max_interval", "2000 ms, must be 4..1800 s"),
    ({"ra": {"max_interval": "10s", "min_interval": "9s"}}, "ipv6.ra.min_interval",
     "9000 ms, must be 3 s..0.75 x max_interval"),
    ({"ra": {"lifetime": 9001}}, "ipv6.ra.lifetime", "9001 s, must be max_interval..9000 s"),
    ({"ra": {"interval": 5}}, "ipv6.ra.interval",
     "unknown key; known: lifetime, max_interval, min_interval, preferred, valid"),
    ({"outside_router": "2001:db8:77::1"}, "ipv6.outside_router", "2001:db8:77::1 is not on 2001:db8:ff::/64"),
    ({"nat66": True}, "ipv6.nat66", "unknown key; known: inside, outside, outside_router, ra, segments"),
])
def test_ipv6_config_errors(net, ipv6, field, reason):
    """Every IPv6 configuration mistake is a GatewayConfigError naming the field."""
    with pytest.raises(GatewayConfigError) as e:
        net.gateway("gw", profile="fvp", ipv6=ipv6)
    assert (e.value.field, e.value.reason) == (field, reason)
