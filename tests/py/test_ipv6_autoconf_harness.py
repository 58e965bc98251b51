"""The harness side of IPv6 autoconfiguration: Network.host's options (slaac, dad, dad_transmits,
stable_iid, ipv6_secret, temporary lifetimes), their defaults, the errors that name what is wrong,
and pyharness.ra's Router Advertisement / MLD query builders."""

from __future__ import annotations

import pytest
from scapy.layers.inet6 import ICMPv6MLQuery, ICMPv6MLQuery2, ICMPv6ND_RA, ICMPv6NDOptMTU, ICMPv6NDOptPrefixInfo

from pyharness import Network
from pyharness.errors import ConfigError
from pyharness.ra import INFINITY, mld_query, prefix_option, router_advertisement


def _frames(net, peer, for_="3s"):
    net.run(for_=for_)
    out = []
    while True:
        p = peer.recv()
        if p is None:
            return out
        out.append(p)


def test_host_without_addresses_autoconfigures_by_default():
    with Network(seed=3) as net:
        h = net.host("h")
        p = net.peer("p")
        net.link(h, p)
        assert h.ipv6_addresses()[0][2] == "tentative"
        assert _frames(net, p)  # DAD, MLD, RS


@pytest.mark.parametrize("kw", [{"ipv4": "10.0.0.1/24"}, {"ipv6": "fd00::1/64"}, {"slaac": False}])
def test_hosts_with_addresses_or_slaac_off_send_nothing_of_their_own(kw):
    with Network(seed=3) as net:
        h = net.host("h", **kw)
        p = net.peer("p")
        net.link(h, p)
        assert _frames(net, p, "12s") == []
        assert h.ipv6_addresses()[0][2] == "preferred"


def test_dad_on_for_a_static_address():
    with Network(seed=3) as net:
        h = net.host("h", ipv6="fd00::1/64", dad=True)
        net.link(h, net.peer("p"))
        assert [s for _, _, s in h.ipv6_addresses()] == ["tentative", "tentative"]


@pytest.mark.parametrize("kw,msg", [
    ({"dad_transmits": 11}, "dad_transmits"),
    ({"ipv6_secret": "00"}, "ipv6_secret must be 16 bytes"),
    ({"temp_preferred_lifetime": "1.5s"}, "temp_preferred_lifetime must be a whole number of seconds"),
    ({"temp_valid_lifetime": 100, "temp_preferred_lifetime": 200}, "ipv6_temp_preferred_s=200"),
    ({"bogus": 1}, "unknown option 'bogus'"),
])
def test_bad_options_are_named(kw, msg):
    with Network(seed=3) as net:
        with pytest.raises(ConfigError, match=msg):
            net.host("h", **kw)


def test_router_advertisement_builder():
    ra = router_advertisement("fe80::1", "02:00:00:00:00:01", prefixes=[
        "2001:db8:1::/64", {"prefix": "2001:db8:2::/64", "valid": "infinity", "preferred": "1h", "on_link": False}],
        router_lifetime=600, mtu=1400, retrans_timer="300ms", reachable_time=20000, hop_limit=9)
    assert ra[ICMPv6ND_RA].routerlifetime == 600 and ra[ICMPv6ND_RA].retranstimer == 300
    assert ra[ICMPv6ND_RA].reachabletime == 20000 and ra[ICMPv6ND_RA].chlim == 9
    assert ra[ICMPv6NDOptMTU].mtu == 1400
    pi = ra.getlayer(ICMPv6NDOptPrefixInfo, 2)
    assert pi.validlifetime == INFINITY and pi.preferredlifetime == 3600 and pi.L == 0 and pi.A == 1
    with pytest.raises(ConfigError, match="router_lifetime"):
        router_advertisement("fe80::1", "02:00:00:00:00:01", router_lifetime=70000)
    with pytest.raises(ConfigError, match="unknown key 'bogus'"):
        prefix_option({"prefix": "2001:db8::/64", "bogus": 1})
    with pytest.raises(ConfigError, match="not an IPv6 prefix"):
        prefix_option("10.0.0.0/8")


def test_mld_query_builder():
    q = mld_query("fe80::1", "ff05::3", max_response="2s", sources=["2001:db8::1"], qrv=3)
    assert q[ICMPv6MLQuery2].mrd == 2000 and q[ICMPv6MLQuery2].QRV == 3 and q.dst == "ff05::3"
    assert len(bytes(q[ICMPv6MLQuery2])) == 28 + 16
    v1 = mld_query("fe80::1", version=1, max_response="5s")
    assert v1.haslayer(ICMPv6MLQuery) and not v1.haslayer(ICMPv6MLQuery2) and v1.dst == "ff02::1"
    with pytest.raises(ConfigError, match="max_response"):
        mld_query("fe80::1", max_response="40s")
    with pytest.raises(ConfigError, match="no sources"):
        mld_query("fe80::1", version=1, sources=["2001:db8::1"])
