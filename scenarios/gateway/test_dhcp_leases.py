"""The gateway's DHCP server in the profiles: first leases, renewal at T1,
expiry in virtual time, names that follow the leases, reservations, a
profile without DHCP.

The server is the Tern stack's own (RFC 2131); these scenarios check what
the gateway makes of it: the profile's pool and options, and its lease
table read from Python at any virtual time.
"""

from __future__ import annotations

import pytest
from scapy.all import BOOTP, DHCP, IP, UDP, Ether

from gwkit import S, bound

pytestmark = pytest.mark.area("gateway")


def lan(net, gw, n):
    sw = net.switch("lan", ports=n + 2)
    net.link(gw, sw, port_a=gw.inside_port)
    return sw


@pytest.mark.rfc("2131 4.3.1")
def test_slirp_leases_from_15(net):
    """slirp: the first guests lease 10.0.2.15 and 10.0.2.16, router 10.0.2.2, DNS 10.0.2.3."""
    gw = net.gateway("gw", profile="slirp")
    sw = lan(net, gw, 2)
    guests = []
    for name in ("a", "b"):
        h = net.host(name, dhcp={"hostname": name})
        net.link(h, sw)
        guests.append(h)
    leases = [bound(net, h) for h in guests]
    assert [(le.address, le.router, le.dns, le.server_id) for le in leases] == [
        ("10.0.2.15", "10.0.2.2", ["10.0.2.3"], "10.0.2.2"), ("10.0.2.16", "10.0.2.2", ["10.0.2.3"], "10.0.2.2")]
    assert sorted((r["address"], r["hostname"]) for r in gw.leases()) == [("10.0.2.15", "a"), ("10.0.2.16", "b")]


@pytest.mark.rfc("2131 4.4.5")
def test_renewal_at_t1_extends_lease(net):
    """At T1 = 43200 s the guest renews; the gateway's table then ends the lease 86400 s after the renewal."""
    gw = net.gateway("gw", profile="fvp")
    g = net.host("zephyr", dhcp={"hostname": "zephyr"})
    net.link(gw, g)
    lease = bound(net, g)
    assert lease.t1_at == lease.acquired_at + 43200 * S
    (row,) = gw.leases()
    assert row["expires_at"] == lease.acquired_at + 86400 * S
    net.run(until=f"{lease.t1_at + 1}ns")
    renewed = g.dhcp_lease()
    assert renewed.acquired_at == lease.t1_at, "the renewal was answered at once"
    (row,) = gw.leases()
    assert (row["state"], row["expires_at"]) == ("bound", lease.t1_at + 86400 * S)
    assert gw.dhcp_counters()["acks"] == 2


@pytest.mark.rfc("2131 4.4.5")
def test_expiry_when_guest_goes_away(net):
    """The guest's link goes down after binding: at 86400 s the lease is over, and its DNS name with it
    (asked by a second, static guest: before expiry it resolves, the positive control)."""
    gw = net.gateway("gw", profile="fvp")
    sw = lan(net, gw, 2)
    g = net.host("zephyr", dhcp={"hostname": "zephyr"})
    link = net.link(g, sw)
    asker = net.host("asker", ipv4="172.20.51.200/24", dns=["172.20.51.254"])
    net.link(asker, sw)
    lease = bound(net, g)
    link.down()
    assert asker.resolve("zephyr.tern") == ["172.20.51.1"]
    net.run(until=f"{lease.acquired_at + 86400 * S - 1}ns")
    assert [r["state"] for r in gw.leases()] == ["bound"]
    net.run(until=f"{lease.acquired_at + 86400 * S}ns")
    assert [r["state"] for r in gw.leases()] == ["released"]
    answer = asker.resolve_answer("zephyr.tern")
    assert answer.status == "nxdomain"


def test_guest_comes_back_to_same_address(net):
    """A guest that released its lease and asks again gets the same address (RFC 2131 4.3.1 "previous address")."""
    gw = net.gateway("gw", profile="fvp")
    sw = lan(net, gw, 2)
    a = net.host("a", dhcp=True)
    net.link(a, sw)
    assert bound(net, a).address == "172.20.51.1"
    a.dhcp_release()
    b = net.host("b", dhcp=True)
    net.link(b, sw)
    assert bound(net, b).address == "172.20.51.2", "released addresses stay with their clients while others are free"
    a.dhcp_start()
    assert bound(net, a).address == "172.20.51.1"


def test_reservation(net):
    """A reservation by MAC gives that guest its address."""
    mac = "02:00:00:00:00:42"
    gw = net.gateway("gw", profile="slirp", dhcp={"reservations": {mac: "10.0.2.42"}})
    g = net.host("g", mac=mac, dhcp=True)
    net.link(gw, g)
    assert bound(net, g).address == "10.0.2.42"


def test_sel4_profile_has_no_dhcp(net):
    """seL4's static network: a DISCOVER gets no answer there; the FVP gateway answers the same DISCOVER (control)."""
    results = {}
    for profile in ("sel4", "fvp"):
        from pyharness import Network

        n = Network(seed=net.seed)
        gw = n.gateway("gw", profile=profile)
        p = n.peer("p")
        n.link(gw, p)
        p.send(Ether(dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) /
               BOOTP(op=1, chaddr=bytes.fromhex(p.mac.replace(":", "")), xid=7) /
               DHCP(options=[("message-type", "discover"), "end"]))
        n.run(for_="100ms")
        results[profile] = [f for f in p.received() if f.haslayer(BOOTP)]
        n.close()
    assert results["sel4"] == []
    (offer,) = results["fvp"]
    assert offer[BOOTP].yiaddr == "172.20.51.1" and offer[BOOTP].xid == 7
