"""DHCP on more than one inside segment: each segment its own pool, options and lease table.

The gateway (FVP profile) has its first inside segment 172.20.51.0/24 on port
0, the outside on port 1 and a second inside segment 10.1.0.0/24 on port 2
with a DHCP server of its own (pool 10.1.0.100-101, lease 600 s). A guest on
each segment gets an address of its own segment's pool, with its segment's
router and DNS server (RFC 2131 4.3.1: the server answers from "the server's
pool of available addresses" of the network the client is on), leases are
listed by segment, a full pool on one segment does not borrow from the other,
and a renewal on the second segment is answered by its own server at T1.
"""

from __future__ import annotations

import pytest

from gwkit import S, bound
from pyharness.gateway import GatewayConfigError

pytestmark = pytest.mark.area("gateway")

SEG = {"address": "10.1.0.1/24", "dhcp": {"pool": ("10.1.0.100", "10.1.0.101"), "lease": 600}}


def build(net, seg=SEG, **kw):
    gw = net.gateway("gw", profile="fvp", segments=[seg], **kw)
    a = net.host("a", dhcp={"hostname": "a"})
    www = net.host("www", ipv4="198.51.100.80/24")
    net.link(gw, a, delay="1ms")      # port 0: the first inside segment
    net.link(gw, www)                 # port 1: outside
    sw = net.switch("lan2", ports=4)
    net.link(gw, sw, delay="1ms")     # port 2: the second inside segment
    return gw, a, sw


def guest(net, sw, name):
    h = net.host(name, dhcp={"hostname": name})
    net.link(sw, h)
    return h


@pytest.mark.rfc("2131 4.3.1")
def test_each_segment_leases_from_its_own_pool(net):
    """a (port 0) gets 172.20.51.1 with router/DNS .254 for 86400 s; b (port 2) gets 10.1.0.100 with router/DNS
    10.1.0.1 for 600 s from server 10.1.0.1; the lease tables are per segment."""
    gw, a, sw = build(net)
    b = guest(net, sw, "b")
    la, lb = bound(net, a), bound(net, b)
    assert (la.address, la.router, la.dns, la.server_id, la.lease_secs, la.subnet_mask) == (
        "172.20.51.1", "172.20.51.254", ["172.20.51.254"], "172.20.51.254", 86400, "255.255.255.0")
    assert (lb.address, lb.router, lb.dns, lb.server_id, lb.lease_secs, lb.subnet_mask) == (
        "10.1.0.100", "10.1.0.1", ["10.1.0.1"], "10.1.0.1", 600, "255.255.255.0")
    assert gw.segment_port(0) == 2
    assert [(r["address"], r["mac"], r["hostname"]) for r in gw.leases(port=0)] == [("172.20.51.1", a.mac, "a")]
    assert [(r["address"], r["mac"], r["hostname"]) for r in gw.leases(port=2)] == [("10.1.0.100", b.mac, "b")]
    assert [r["port"] for r in gw.leases()] == [0, 2]
    c0, c2 = gw.dhcp_counters(port=0), gw.dhcp_counters(port=2)
    assert (c0["discovers"], c0["offers"], c0["acks"]) == (1, 1, 1)
    assert (c2["discovers"], c2["offers"], c2["acks"]) == (1, 1, 1)
    # The guest on the second segment resolves its own name through its segment's DNS address.
    assert b.resolve("b.tern") == ["10.1.0.100"]


def test_exchange_stays_on_its_segment(net):
    """The transcript: b's DISCOVER/REQUEST come in on port 2 and its OFFER/ACK leave by port 2, from 10.1.0.1,
    1 ms after each (the link's delay from the switch); nothing of b's exchange on port 0."""
    gw, a, sw = build(net)
    b = guest(net, sw, "b")
    bound(net, a)
    bound(net, b)
    p2 = [ln.split(" xid ")[0] + " " + ln.split(" ")[-3] for ln in gw.transcript() if " p2 DHCP " in ln]
    assert p2 == ["0.001000000 in p2 DHCP DISCOVER 0.0.0.0:68",
                  "0.001000000 out p2 DHCP OFFER 10.1.0.1:67",
                  "0.003000000 in p2 DHCP REQUEST 0.0.0.0:68",
                  "0.003000000 out p2 DHCP ACK 10.1.0.1:67"]
    assert not [ln for ln in gw.transcript() if " p0 " in ln and b.mac in ln]


def test_full_pool_does_not_borrow(net):
    """Two guests take the second segment's two addresses; a third gets no offer (exhausted, on port 2 only) while
    the first segment's pool still has 253 addresses and a guest there still gets one."""
    gw, a, sw = build(net)
    b, c = guest(net, sw, "b"), guest(net, sw, "c")
    bound(net, b)
    bound(net, c)
    assert sorted(r["address"] for r in gw.leases(port=2)) == ["10.1.0.100", "10.1.0.101"]
    d = guest(net, sw, "d")
    net.run(for_="20s")
    assert d.dhcp_lease().state != "BOUND"
    assert gw.dhcp_counters(port=2)["exhausted"] >= 1
    assert gw.dhcp_counters(port=0)["exhausted"] == 0
    assert bound(net, a).address == "172.20.51.1"  # positive control: the other segment still leases
    assert gw.dhcp_counters(port=2)["offers"] == 2


@pytest.mark.rfc("2131 4.4.5")
def test_renewal_on_second_segment(net):
    """T1 = 300 s (half of 600 s) after b got its ACK (0.004 s: sent at 0.003, 1 ms link), b resolves 10.1.0.1 again
    (its ARP entry expired: 2 ms round trip) and unicasts its REQUEST (ciaddr 10.1.0.100) to 10.1.0.1, which arrives
    at 300.007 s and is ACKed by the second segment's server: the lease then runs to 300.007 + 600 s."""
    gw, a, sw = build(net)
    b = guest(net, sw, "b")
    bound(net, b)
    (row,) = gw.leases(port=2)
    assert row["expires_at"] == 600_003_000_000
    net.run(until=lambda: gw.dhcp_counters(port=2)["acks"] == 2, for_="400s")
    (row,) = gw.leases(port=2)
    assert row["state"] == "bound" and row["expires_at"] == 900_007_000_000
    renew = [ln for ln in gw.transcript() if " p2 DHCP " in ln][-2:]
    assert renew[0].startswith("300.007000000 in p2 DHCP REQUEST ") and " ciaddr 10.1.0.100 " in renew[0]
    assert renew[0].endswith("10.1.0.100:68 > 10.1.0.1:67")
    assert renew[1].startswith("300.007000000 out p2 DHCP ACK ") and renew[1].endswith("10.1.0.1:67 > 10.1.0.100:68")
    assert gw.dhcp_counters(port=0)["requests"] == 1  # a's one REQUEST (its lease is 86400 s)


@pytest.mark.parametrize("seg, field, reason", [
    ({"address": "10.1.0.1/24", "dhcp": {"pool": ("10.2.0.5", "10.2.0.9")}}, "segments[0].dhcp.pool",
     "10.2.0.5 is not a host address of 10.1.0.0/24"),
    ({"address": "10.1.0.1/24", "dhcp": {"pool": ("10.1.0.1", "10.1.0.9")}}, "segments[0].dhcp.pool",
     "overlaps the gateway address 10.1.0.1"),
    ({"address": "10.1.0.1/24", "dhcp": {"lease": 60}}, "segments[0].dhcp.pool",
     "a segment's DHCP server needs a pool: {'pool': (first, last)} inside 10.1.0.0/24"),
    ({"address": "10.1.0.1/24", "dhcp": True}, "segments[0].dhcp.pool",
     "a segment's DHCP server needs a pool: {'pool': (first, last)} inside 10.1.0.0/24"),
    ({"address": "10.1.0.1/24", "dhcp": {"pool": ("10.1.0.9", "10.1.0.5")}}, "segments[0].dhcp.pool",
     "first 10.1.0.9 is above last 10.1.0.5"),
    ({"address": "10.1.0.1/24", "dhcp": {"pool": ("10.1.0.5", "10.1.0.9"), "leas": 60}}, "segments[0].dhcp.leas",
     "unknown key; known: lease, mtu, offer_hold, pool, reservations, t1, t2"),
    ({"address": "10.1.0.1/24", "dhcp": {"pool": ("10.1.0.5", "10.1.0.9"), "lease": "0s"}},
     "segments[0].dhcp.lease", "must be above 0, got '0s'"),
    ({"address": "10.1.0.1/24", "dhcp": {"pool": ("10.1.0.5", "10.1.0.9"), "reservations": {"02:00:00:00:00:01":
                                                                                           "172.20.51.7"}}},
     "segments[0].dhcp.reservations[0]", "172.20.51.7 is not a guest address of 10.1.0.0/24"),
    ({"dhcp": {"pool": ("10.1.0.5", "10.1.0.9")}}, "segments[0].address",
     "missing (the gateway's address on the segment, like '10.1.0.1/24')"),
    ({"address": "10.1.0.1/24", "vlan": 3}, "segments[0].vlan", "unknown key; known: address, dhcp, mtu"),
])
def test_segment_dhcp_config_errors(net, seg, field, reason):
    """Every mistake in a segment's DHCP configuration is a GatewayConfigError naming the field, before anything
    is built."""
    with pytest.raises(GatewayConfigError) as e:
        net.gateway("gw", profile="fvp", segments=[seg])
    assert (e.value.field, e.value.reason) == (field, reason)
    assert net.nodes == []


def test_segment_without_dhcp_positive_control(net):
    """A segment given as a plain address (or dhcp=False) runs no server there: a guest gets no offer, while the
    same guest on a segment with a pool does."""
    gw = net.gateway("gw", profile="fvp", segments=["10.1.0.1/24", {"address": "10.2.0.1/24", "dhcp": False},
                                                     {"address": "10.3.0.1/24",
                                                      "dhcp": {"pool": ("10.3.0.10", "10.3.0.10")}}])
    net.link(gw, net.host("a0", ipv4="172.20.51.9/24"))
    net.link(gw, net.host("w", ipv4="198.51.100.80/24"))
    hosts = [net.host(f"g{i}", dhcp={"hostname": f"g{i}"}) for i in range(3)]
    for h in hosts:
        net.link(gw, h)
    net.run(for_="20s")
    assert [h.dhcp_lease().state == "BOUND" for h in hosts] == [False, False, True]
    assert hosts[2].dhcp_lease().address == "10.3.0.10"
    assert [r["port"] for r in gw.leases()] == [4]
