"""DHCPv6 client, stateless (RFC 8415 section 18.2.6, DNS options of RFC 3646) and the Router
Advertisement's M and O flags (RFC 4861 section 4.2) that start the client.

RFC 4861 section 4.2, M: "When set, it indicates that addresses are available via Dynamic Host
Configuration Protocol [DHCPv6]. If the M flag is set, the O flag is redundant and can be
ignored because DHCPv6 will return all available configuration information." O: "When set, it
indicates that other configuration information is available via DHCPv6."
"""

from __future__ import annotations

import pytest
from scapy.layers.dhcp6 import (DHCP6_InfoRequest, DHCP6_Reply, DHCP6_Solicit, DHCP6OptClientId,
                                DHCP6OptIA_NA, DHCP6OptOptReq, DHCP6OptServerId)
from scapy.layers.inet import UDP
from scapy.layers.inet6 import ICMPv6ND_RA, ICMPv6NDOptPrefixInfo, IPv6
from scapy.layers.l2 import Ether

from dhcpv6kit import (DNS1, INF_MAX_RT, INF_TIMEOUT, IRT_DEFAULT, IRT_MINIMUM, S, SOL_MAX_DELAY, SRV_MAC, T,
                       DHCP6OptDNSDomains, DHCP6OptDNSServers, DHCP6OptInfoRefreshTime, answer, bench, elapsed,
                       expect_msg, ll_of, msg_of)
from pyharness.dhcpv6 import next_rt

pytestmark = pytest.mark.area("dhcpv6")

INF_MAX_DELAY = 1 * S
DHCP_OUT = IPv6() / UDP(dport=547)


def info_reply(srv, ir, refresh=None, dns=(DNS1,), domains=("lab.example.",)):
    opts = [DHCP6OptDNSServers(dnsservers=list(dns)), DHCP6OptDNSDomains(dnsdomains=list(domains))]
    if refresh is not None:
        opts.append(DHCP6OptInfoRefreshTime(reftime=refresh))
    answer(srv, ir, DHCP6_Reply, ia=None, opts=opts)


@pytest.mark.rfc("8415 18.2.6", "8415 21.23", "3646 3")
def test_information_request_fields(net):
    """The first Information-request: within INF_MAX_DELAY of the start (section 21.23: "the client
    MUST delay sending the first Information-request by a random amount of time between 0 and
    INF_MAX_DELAY"), no IA_NA, no Server Identifier, the client's DUID, an Option Request for the
    DNS servers (23), the domain list (24) and the refresh time (32), Elapsed Time 0."""
    dut, srv = bench(net, dhcpv6="stateless")
    planned = dut.dhcpv6_lease().next_at
    assert 0 <= planned <= INF_MAX_DELAY
    ir = expect_msg(srv, DHCP6_InfoRequest, within="1.1s")
    assert ir.time_ns == planned
    assert DHCP6OptIA_NA not in ir and DHCP6OptServerId not in ir
    assert ir[DHCP6OptClientId].duid.lladdr == dut.mac
    assert {23, 24, 32} <= set(ir[DHCP6OptOptReq].reqopts)
    assert elapsed(ir) == 0
    assert dut.dhcpv6_lease().state == "INFO-REQUEST"


@pytest.mark.rfc("8415 15", "8415 7.6")
def test_information_request_retransmission(net):
    """Information-request: IRT INF_TIMEOUT 1 s, MRT INF_MAX_RT 3600 s, no limit; six
    retransmissions at the RTs computed from the drawn RAND, one transaction ID."""
    dut, srv = bench(net, dhcpv6="stateless")
    prev = expect_msg(srv, DHCP6_InfoRequest, within="1.1s")
    lease = dut.dhcpv6_lease()
    rt = lease.rt_ns
    assert rt == next_rt(0, lease.rand_ppm, INF_TIMEOUT, INF_MAX_RT, True)
    for _ in range(6):
        p = expect_msg(srv, DHCP6_InfoRequest, within=T(rt + 1))
        assert p.time_ns - prev.time_ns == rt
        assert msg_of(p).trid == msg_of(prev).trid
        lease = dut.dhcpv6_lease()
        assert lease.rt_ns == next_rt(rt, lease.rand_ppm, INF_TIMEOUT, INF_MAX_RT, False)
        rt, prev = lease.rt_ns, p


@pytest.mark.rfc("8415 18.2.6", "3646 3", "3646 4")
def test_reply_configures_dns_servers_and_domain(net):
    """The Reply's DNS Recursive Name Server and Domain Search List options reach the lease; event
    "info"; no address is configured."""
    dut, srv = bench(net, dhcpv6="stateless")
    ir = expect_msg(srv, DHCP6_InfoRequest, within="1.1s")
    info_reply(srv, ir, dns=(DNS1, "2001:db8::54"))
    t = net.now_ns
    net.run(for_="1us")
    lease = dut.dhcpv6_lease()
    assert lease.state == "INFO-DONE"
    assert lease.dns == [DNS1, "2001:db8::54"]
    assert lease.domain == "lab.example"
    assert [(e.kind, e.time) for e in dut.dhcpv6_events()] == [("info", t)]
    assert [a for a in dut.ipv6_addresses() if not a[0].startswith("fe80")] == []


@pytest.mark.rfc("8415 21.23", "8415 7.6")
def test_refresh_after_irt_default(net):
    """No Information Refresh Time option: the client asks again IRT_DEFAULT (86400 s) after the
    Reply, after a random delay of at most INF_MAX_DELAY; nothing before."""
    dut, srv = bench(net, dhcpv6="stateless")
    ir = expect_msg(srv, DHCP6_InfoRequest, within="1.1s")
    info_reply(srv, ir)
    t = net.now_ns
    net.run(for_="1us")
    assert dut.dhcpv6_lease().info_refresh_at == t + IRT_DEFAULT
    srv.expect_nothing(for_=T(IRT_DEFAULT - 2 * 1000), matching=DHCP_OUT)
    ir2 = expect_msg(srv, DHCP6_InfoRequest, within=T(INF_MAX_DELAY + 2 * 1000))
    assert t + IRT_DEFAULT <= ir2.time_ns <= t + IRT_DEFAULT + INF_MAX_DELAY
    assert msg_of(ir2).trid != msg_of(ir).trid


@pytest.mark.rfc("8415 21.23")
def test_refresh_time_below_minimum_raised(net):
    """An Information Refresh Time of 60 s is below IRT_MINIMUM: the client waits 600 s."""
    dut, srv = bench(net, dhcpv6="stateless")
    ir = expect_msg(srv, DHCP6_InfoRequest, within="1.1s")
    info_reply(srv, ir, refresh=60)
    t = net.now_ns
    net.run(for_="1us")
    assert dut.dhcpv6_lease().info_refresh_at == t + IRT_MINIMUM
    srv.expect_nothing(for_=T(IRT_MINIMUM - 2000), matching=DHCP_OUT)
    ir2 = expect_msg(srv, DHCP6_InfoRequest, within=T(INF_MAX_DELAY + 2000))
    assert ir2.time_ns >= t + IRT_MINIMUM


@pytest.mark.rfc("8415 21.23")
def test_refresh_time_option_honoured(net):
    """An Information Refresh Time of 3600 s: the next Information-request after 3600 s."""
    dut, srv = bench(net, dhcpv6="stateless")
    ir = expect_msg(srv, DHCP6_InfoRequest, within="1.1s")
    info_reply(srv, ir, refresh=3600)
    t = net.now_ns
    net.run(for_="1us")
    assert dut.dhcpv6_lease().info_refresh_at == t + 3600 * S


def ra(srv, m: int, o: int):
    srv.send(Ether(src=SRV_MAC, dst="33:33:00:00:00:01") / IPv6(src=ll_of(SRV_MAC), dst="ff02::1", hlim=255) /
             ICMPv6ND_RA(M=m, O=o, routerlifetime=1800) /
             ICMPv6NDOptPrefixInfo(prefix="2001:db8:1::", prefixlen=64, L=1, A=0))


@pytest.mark.rfc("4861 4.2", "8415 18.2.6")
def test_ra_other_flag_starts_stateless(net):
    """dhcpv6="ra": an RA with O set (M clear) starts an Information-request exchange."""
    dut, srv = bench(net, dhcpv6="ra")
    assert dut.dhcpv6_lease().state == "WAIT-RA"
    ra(srv, 0, 1)
    t = net.now_ns
    ir = expect_msg(srv, DHCP6_InfoRequest, within=T(INF_MAX_DELAY + 1))
    assert t <= ir.time_ns <= t + INF_MAX_DELAY
    assert dut.dhcpv6_lease().mode == "stateless"


@pytest.mark.rfc("4861 4.2", "8415 18.2.1")
def test_ra_managed_flag_starts_stateful(net):
    """dhcpv6="ra": an RA with M set starts a Solicit exchange (O is redundant with M)."""
    dut, srv = bench(net, dhcpv6="ra")
    ra(srv, 1, 1)
    t = net.now_ns
    sol = expect_msg(srv, DHCP6_Solicit, within=T(SOL_MAX_DELAY + 1))
    assert t <= sol.time_ns <= t + SOL_MAX_DELAY
    assert dut.dhcpv6_lease().mode == "stateful"


@pytest.mark.rfc("4861 4.2")
def test_ra_without_flags_starts_nothing(net):
    """An RA with neither flag: the client keeps waiting, no DHCPv6 message (the two tests above
    are the positive controls); a later RA with O starts it."""
    dut, srv = bench(net, dhcpv6="ra")
    ra(srv, 0, 0)
    srv.expect_nothing(for_="5s", matching=DHCP_OUT)
    assert dut.dhcpv6_lease().state == "WAIT-RA"
    ra(srv, 0, 1)
    expect_msg(srv, DHCP6_InfoRequest, within=T(INF_MAX_DELAY + 1))


@pytest.mark.rfc("4861 4.2")
def test_managed_flag_later_moves_stateless_to_stateful(net):
    """Configured statelessly after an O-only RA, the client meets an RA with M: it solicits."""
    dut, srv = bench(net, dhcpv6="ra")
    ra(srv, 0, 1)
    ir = expect_msg(srv, DHCP6_InfoRequest, within=T(INF_MAX_DELAY + 1))
    info_reply(srv, ir)
    net.run(for_="1ms")
    assert dut.dhcpv6_lease().state == "INFO-DONE"
    ra(srv, 1, 0)
    expect_msg(srv, DHCP6_Solicit, within=T(SOL_MAX_DELAY + 1))


@pytest.mark.rfc("4861 4.2")
def test_flags_ignored_when_started_explicitly(net):
    """A client started stateless by the user is not moved by an RA's M flag (only "ra" mode
    follows the flags): no Solicit, Information-requests only."""
    dut, srv = bench(net, dhcpv6="stateless")
    expect_msg(srv, DHCP6_InfoRequest, within="1.1s")
    ra(srv, 1, 0)
    srv.expect_nothing(for_="3s", matching=IPv6() / UDP() / DHCP6_Solicit())
    assert dut.dhcpv6_lease().mode == "stateless"


def test_start_errors(net):
    """Bad arguments name what is wrong: an unknown mode, a second start, a stop when off."""
    from pyharness.errors import ConfigError, StateError

    dut, srv = bench(net, dhcpv6=None)
    with pytest.raises(ConfigError, match="mode"):
        dut.dhcpv6_start("sometimes")
    with pytest.raises(StateError):
        dut.dhcpv6_stop()
    dut.dhcpv6_start("stateless")
    with pytest.raises(StateError):
        dut.dhcpv6_start("stateful")


@pytest.mark.rfc("3646 3", "8415 18.2.6", "3596 2.2")
def test_dns_servers_from_dhcpv6_feed_the_resolver(net):
    """RFC 3646 section 3: the DNS Recursive Name Server option's servers become the resolver's
    (no servers configured and no DHCPv4 lease): a query for www.example.org goes to
    2001:db8::53 over IPv6, and its AAAA answer resolves the name.
    Before the Reply the resolver has no server at all (status "failed": the control)."""
    from scapy.all import DNS, DNSQR, DNSRR

    dut = net.host("dut", dhcpv6="stateless", ipv6="2001:db8::1/64")
    srv = net.peer("srv", mac=SRV_MAC, ipv6=[f"{ll_of(SRV_MAC)}/64", f"{DNS1}/64"])
    net.link(dut, srv)
    assert dut.resolve_answer("www.example.org", family=6, within="10ms").status == "failed"
    ir = expect_msg(srv, DHCP6_InfoRequest, within="1.1s")
    info_reply(srv, ir)
    net.run(for_="1ms")
    from pyharness.dns import result, start

    qid = start(dut, "www.example.org", 6)
    q = srv.expect(IPv6(dst=DNS1) / UDP(dport=53), within="100ms")
    assert q[IPv6].src == "2001:db8::1" and q[DNSQR].qtype == 28
    srv.send(Ether(src=SRV_MAC, dst=dut.mac) / IPv6(src=DNS1, dst="2001:db8::1") /
             UDP(sport=53, dport=q[UDP].sport) /
             DNS(id=q[DNS].id, qr=1, rd=1, ra=1, qd=q[DNS].qd,
                 an=DNSRR(rrname="www.example.org", type="AAAA", rdata="2001:db8::80", ttl=60)))
    net.run(for_="1ms")
    a = result(dut, qid)
    assert a.status == "ok" and a.addresses == ["2001:db8::80"]


def test_dns_answer_from_another_ipv6_source_rejected(net):
    """An answer from an address other than the DHCPv6-given server is rejected (RFC 5452 9.1
    match on the server asked); the server's own answer then resolves (positive control)."""
    from scapy.all import DNS, DNSRR

    dut = net.host("dut", dhcpv6="stateless", ipv6="2001:db8::1/64")
    srv = net.peer("srv", mac=SRV_MAC, ipv6=[f"{ll_of(SRV_MAC)}/64", f"{DNS1}/64", "2001:db8::66/64"])
    net.link(dut, srv)
    ir = expect_msg(srv, DHCP6_InfoRequest, within="1.1s")
    info_reply(srv, ir)
    net.run(for_="1ms")
    from pyharness.dns import result, start

    qid = start(dut, "www.example.org", 6)
    q = srv.expect(IPv6(dst=DNS1) / UDP(dport=53), within="100ms")
    body = DNS(id=q[DNS].id, qr=1, rd=1, ra=1, qd=q[DNS].qd,
               an=DNSRR(rrname="www.example.org", type="AAAA", rdata="2001:db8::80", ttl=60))
    srv.send(Ether(src=SRV_MAC, dst=dut.mac) / IPv6(src="2001:db8::66", dst="2001:db8::1") /
             UDP(sport=53, dport=q[UDP].sport) / body)
    net.run(for_="1ms")
    assert result(dut, qid).status == "pending" and dut.dns_counters()["rejected"] == 1
    srv.send(Ether(src=SRV_MAC, dst=dut.mac) / IPv6(src=DNS1, dst="2001:db8::1") /
             UDP(sport=53, dport=q[UDP].sport) / body)
    net.run(for_="1ms")
    assert result(dut, qid).addresses == ["2001:db8::80"]
