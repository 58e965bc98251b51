"""The gateway ceasing to advertise (RFC 4861 section 6.2.5): a port taken away or the gateway shutting down sends
its final Router Advertisements with Router Lifetime zero, and guests drop it as default router.

RFC 4861 6.2.5 (quoted in RFC text by OpenBSD's rad commit 4a78c7c): "the router SHOULD transmit one or more (but
not more than MAX_FINAL_RTR_ADVERTISEMENTS) final multicast Router Advertisements on the interface with a Router
Lifetime field of zero." MAX_FINAL_RTR_ADVERTISEMENTS is 3 (section 10); section 6.2.4 keeps consecutive
all-nodes RAs MIN_DELAY_BETWEEN_RAS (3 s) apart.
"""

from __future__ import annotations

import pytest
from scapy.all import ICMPv6ND_RA, ICMPv6ND_RS, ICMPv6NDOptRDNSS, ICMPv6NDOptSrcLLAddr, Ether, IPv6

from gwkit import S
from pyharness.errors import StateError

pytestmark = pytest.mark.area("gateway")

RA = {"max_interval": "10s"}  # AdvDefaultLifetime 30 s


def finals(peer, n, within="30s"):
    """The next n RAs with Router Lifetime 0 the peer receives (RAs before them are passed over)."""
    return [peer.expect(IPv6(dst="ff02::1") / ICMPv6ND_RA(routerlifetime=0), within=within) for _ in range(n)]


def default_routers(host):
    """The host's Default Router List (RFC 4861 6.3.4), from its network shell's route table."""
    text = host.shell("route")
    return [ln.split()[2] for ln in str(text).splitlines() if ln.startswith("::/0 via") and " ra " in ln]


def rs(peer):
    peer.send(Ether(dst="33:33:00:00:00:02") / IPv6(src="fe80::7", dst="ff02::2", hlim=255) / ICMPv6ND_RS()
              / ICMPv6NDOptSrcLLAddr(lladdr=peer.mac))


@pytest.mark.rfc("4861 6.2.5", "4861 6.2.4", "8106 5.1")
def test_final_ras_when_a_port_stops(net):
    """ra_stop at 20 s: three RAs with Router Lifetime 0 (and RDNSS lifetime 0), the first 3 s after the previous RA
    or at once, then 3 s apart (an RS meanwhile moves none earlier); the SLAAC guest has taken the gateway off its
    Default Router List; nothing after the third, not even for an RS, while one before the stop was answered
    (control)."""
    gw = net.gateway("gw", profile="fvp", dhcp=False, ipv6={"ra": RA})
    sw = net.switch("lan", ports=3)
    net.link(gw, sw, port_a=gw.inside_port)
    guest = net.host("g", slaac=True)
    net.link(guest, sw)
    peer = net.peer("p", nd=False)
    net.link(peer, sw)
    net.run(until="10s")
    assert default_routers(guest) == [_link_local(gw.macs[gw.inside_port])]
    rs0 = gw.ra_state(gw.inside_port)["rs_received"]  # the guest's own solicitations at start
    rs(peer)  # control: answered within MAX_RA_DELAY_TIME (or by the RA already scheduled)
    answer = peer.expect(IPv6(dst="ff02::1") / ICMPv6ND_RA(), within="10s")
    net.run(until="20s")
    st = gw.ra_state(gw.inside_port)
    assert st["rs_received"] == rs0 + 1
    solicited = st["solicited"]
    last = st["last_at"]
    before = st["sent"]
    assert answer[ICMPv6ND_RA].routerlifetime == 30

    gw.ra_stop(gw.inside_port)
    first = max(20 * S, last + 3 * S)
    assert gw.ra_state(gw.inside_port)["next_at"] == first
    with pytest.raises(StateError, match="already sending its final RAs"):
        gw.ra_stop(gw.inside_port)
    rs(peer)  # the next final RA is its answer: the schedule stays
    got = finals(peer, 3)
    assert [r.time_ns for r in got] == [first, first + 3 * S, first + 6 * S]
    for r in got:
        assert r[IPv6].hlim == 255 and r[ICMPv6ND_RA].routerlifetime == 0
        assert r[ICMPv6NDOptRDNSS].lifetime == 0
    st = gw.ra_state(gw.inside_port)
    assert (st["enabled"], st["next_at"], st["final_left"], st["sent"]) == (False, None, 0, before + 3)
    assert (st["rs_received"], st["solicited"]) == (rs0 + 2, solicited)
    assert default_routers(guest) == []  # RFC 4861 6.3.4: a Router Lifetime of zero times the entry out at once
    rs(peer)  # the port no longer advertises: no answer
    peer.expect_nothing("120s", matching=ICMPv6ND_RA())
    assert gw.ra_state(gw.inside_port)["rs_received"] == rs0 + 2  # not even counted: not an advertising port


def test_shutdown_stops_every_advertising_port(net):
    """ra_stop() with no port (the gateway shutting down): every advertising port sends its final RAs; a port that
    never advertised is skipped, and asking it alone is refused by name."""
    gw = net.gateway("gw", profile="fvp", dhcp=False, ipv6={"ra": RA},
                     segments=[{"address": "10.1.0.1/24"}])
    a = net.peer("a", nd=False)
    net.link(gw, a, port_a=gw.inside_port)
    net.link(gw, net.host("w", ipv4="198.51.100.80/24"), port_a=gw.outside_port)
    b = net.peer("b", nd=False)
    net.link(gw, b, port_a=gw.segment_port(0))
    net.run(until="1s")
    with pytest.raises(StateError, match=f"port {gw.outside_port} does not advertise"):
        gw.ra_stop(gw.outside_port)
    gw.ra_stop()
    for p, port in ((a, gw.inside_port), (b, gw.segment_port(0))):
        got = finals(p, 3, within="20s")
        assert [r.time_ns for r in got] == [3 * S, 6 * S, 9 * S]  # the RA at 0 was 1 s ago: 3 s after it
        assert gw.ra_state(port)["enabled"] is False


def _link_local(mac: str) -> str:
    import ipaddress

    b = bytes.fromhex(mac.replace(":", ""))
    return str(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + bytes([b[0] ^ 2]) + b[1:3] + b"\xff\xfe" + b[3:]))
