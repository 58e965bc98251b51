"""DHCPv6 client, stateful (RFC 8415): Solicit, Advertise selection, Request, Reply, DAD before
use, Decline, Renew at T1, Rebind at T2, lease expiry, Release, and the retransmission timing
of section 15 with the parameters of section 7.6.

A scripted peer ("srv") plays the server with scapy's DHCP6 layers; the client starts at virtual
time 0 on a link without delay, so the times asserted are the client's own timers. RAND comes
from the host's seeded generator; each RT is checked exactly against the draw the client
reports (``lease.rand_ppm``) with :func:`pyharness.dhcpv6.next_rt`, and one test pins the
recorded values of a fixed seed.
"""

from __future__ import annotations

import pytest
from scapy.layers.dhcp6 import (DHCP6_Advertise, DHCP6_Decline, DHCP6_Rebind, DHCP6_Release, DHCP6_Renew,
                                DHCP6_Reply, DHCP6_Request, DHCP6_Solicit, DHCP6OptClientId, DHCP6OptIA_NA,
                                DHCP6OptIAAddress, DHCP6OptOptReq, DHCP6OptServerId)
from scapy.layers.inet import UDP
from scapy.layers.inet6 import ICMPv6ND_NA, ICMPv6ND_NS, IPv6
from scapy.layers.l2 import Ether

from dhcpv6kit import (ADDR, CLIENT_MSG, DEC_MAX_RC, DEC_TIMEOUT, REB_MAX_RT, REB_TIMEOUT, REL_MAX_RC, REL_TIMEOUT,
                       REN_MAX_RT, REN_TIMEOUT, REQ_MAX_RC, REQ_MAX_RT, REQ_TIMEOUT, S, SOL_MAX_DELAY,
                       SOL_MAX_RT, SOL_TIMEOUT, SRV2_MAC, T, acquire, answer, bench, elapsed, expect_msg, ia_na,
                       msg_of, server_duid, skip_to)
from pyharness.dhcpv6 import next_rt

pytestmark = pytest.mark.area("dhcpv6")

DHCP_OUT = IPv6() / UDP(dport=547)


def rt_ok(dut, prev_rt: int, irt: int, mrt: int, first: bool) -> int:
    """The client's current RT, checked against RFC 8415 section 15 with its reported RAND."""
    lease = dut.dhcpv6_lease()
    assert -100_000 <= lease.rand_ppm <= 100_000, "RAND is outside -0.1..+0.1"
    assert lease.rt_ns == next_rt(prev_rt, lease.rand_ppm, irt, mrt, first), lease
    return lease.rt_ns


@pytest.mark.rfc("8415 18.2.1", "8415 21.2", "8415 21.9", "8415 11.4")
def test_solicit_fields(net):
    """The first Solicit: link-local source, ff02::1:2 546->547, DUID-LL, IA_NA, ORO, Elapsed Time 0.

    RFC 8415 section 21.9: "the elapsed-time field is set to 0 in the first message in the
    message exchange"; section 11.4: DUID-LL is "DUID-Type (3)", "hardware type (16 bits)",
    "link-layer address"."""
    dut, srv = bench(net)
    p = expect_msg(srv, DHCP6_Solicit, within="1.1s")
    assert p[IPv6].src == dut.link_local
    assert p[IPv6].hlim == 1
    assert p[Ether].dst == "33:33:00:01:00:02"
    duid = p[DHCP6OptClientId].duid
    assert duid.type == 3 and duid.hwtype == 1 and duid.lladdr == dut.mac
    assert p[DHCP6OptIA_NA].iaid == int(dut.mac.replace(":", "")[-8:], 16)
    assert DHCP6OptIAAddress not in p, "a Solicit asks for no particular address"
    assert DHCP6OptServerId not in p
    assert {23, 24} <= set(p[DHCP6OptOptReq].reqopts)
    assert elapsed(p) == 0
    lease = dut.dhcpv6_lease()
    assert lease.state == "SOLICIT" and msg_of(p).trid == lease.xid


@pytest.mark.rfc("8415 18.2.1")
def test_first_solicit_delay_within_sol_max_delay(net):
    """RFC 8415 section 18.2.1: "The first Solicit message from the client on the interface SHOULD
    be delayed by a random amount of time between 0 and SOL_MAX_DELAY." The delay is the one the
    client scheduled at start (read back before it runs), and it differs between seeds."""
    from pyharness import Network

    delays = []
    for seed in (1, 2, 3):
        n = Network(seed=seed)
        dut, srv = bench(n)
        planned = dut.dhcpv6_lease().next_at
        assert 0 <= planned <= SOL_MAX_DELAY
        p = expect_msg(srv, DHCP6_Solicit, within="1.1s")
        assert p.time_ns == planned
        delays.append(planned)
    assert len(set(delays)) == 3


@pytest.mark.rfc("8415 18.2.1", "8415 15")
def test_first_solicit_rt_strictly_greater_than_irt(net):
    """RFC 8415 section 18.2.1: "the first RT MUST be selected to be strictly greater than IRT by
    choosing RAND to be strictly greater than 0." Over several seeds: RAND > 0 and the second
    Solicit at exactly IRT + RAND*IRT after the first."""
    from pyharness import Network

    for seed in (4, 5, 6, 7):
        n = Network(seed=seed)
        dut, srv = bench(n)
        first = expect_msg(srv, DHCP6_Solicit, within="1.1s")
        lease = dut.dhcpv6_lease()
        assert lease.rand_ppm > 0
        rt = rt_ok(dut, 0, SOL_TIMEOUT, SOL_MAX_RT, True)
        assert SOL_TIMEOUT < rt <= SOL_TIMEOUT * 11 // 10
        second = expect_msg(srv, DHCP6_Solicit, within=T(rt + 1))
        assert second.time_ns - first.time_ns == rt


@pytest.mark.rfc("8415 15", "8415 21.9")
def test_solicit_retransmissions_double_with_rand(net):
    """RFC 8415 section 15: "RT for each subsequent message transmission is based on the previous
    value of RT: RT = 2*RTprev + RAND*RTprev". Seven Solicits, each gap the RT computed from the
    RAND the client drew, the same transaction ID, Elapsed Time in hundredths since the first."""
    dut, srv = bench(net)
    first = expect_msg(srv, DHCP6_Solicit, within="1.1s")
    prev = first
    rt = rt_ok(dut, 0, SOL_TIMEOUT, SOL_MAX_RT, True)
    for _ in range(6):
        p = expect_msg(srv, DHCP6_Solicit, within=T(rt + 1))
        assert p.time_ns - prev.time_ns == rt
        assert msg_of(p).trid == msg_of(first).trid
        assert elapsed(p) == (p.time_ns - first.time_ns) // 10_000_000
        rt = rt_ok(dut, rt, SOL_TIMEOUT, SOL_MAX_RT, False)
        prev = p
    assert dut.dhcpv6_lease().counters["solicits"] == 7


@pytest.mark.rfc("8415 15")
def test_solicit_rt_capped_at_sol_max_rt(net):
    """RFC 8415 section 15: "if (RT > MRT) RT = MRT + RAND*MRT", MRT = SOL_MAX_RT (3600 s).
    The Elapsed Time option saturates at 0xffff (RFC 8415 section 21.9: "The client uses the
    value 0xffff to represent any elapsed time values greater than the largest")."""
    dut, srv = bench(net)
    first = expect_msg(srv, DHCP6_Solicit, within="1.1s")
    rt = rt_ok(dut, 0, SOL_TIMEOUT, SOL_MAX_RT, True)
    capped = 0
    for _ in range(16):
        p = expect_msg(srv, DHCP6_Solicit, within=T(rt + 1))
        rt = rt_ok(dut, rt, SOL_TIMEOUT, SOL_MAX_RT, False)
        if rt > 2 * SOL_MAX_RT // 2 * 9 // 10 and rt <= SOL_MAX_RT * 11 // 10 and rt >= SOL_MAX_RT * 9 // 10:
            capped += 1
    assert capped >= 3, "RT never settled at SOL_MAX_RT +- 10%"
    assert elapsed(p) == 0xFFFF
    assert p.time_ns - first.time_ns > 655 * S


def test_retransmission_times_of_seed_11(net):
    """Recorded values for seed 11 (same seed, same bytes): the first Solicit's time and the
    four RTs that follow, to the nanosecond."""
    from pyharness import Network

    n = Network(seed=11)
    dut, srv = bench(n)
    times = [expect_msg(srv, DHCP6_Solicit, within="200s").time_ns for _ in range(5)]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert (times[0], gaps) == RECORDED_SEED_11, (times[0], gaps)


#: Seed 11: first Solicit at 0.698507204 s (of SOL_MAX_DELAY), then RTs of 1.090022000 s
#: (RAND +0.090022), 2.147833850 s, 4.132496763 s, 7.986909554 s.
RECORDED_SEED_11 = (698507204, [1090022000, 2147833850, 4132496763, 7986909554])


@pytest.mark.rfc("8415 18.2.9", "8415 18.2.1")
def test_advertise_collected_until_first_rt(net):
    """RFC 8415 section 18.2.9: "A client MUST collect valid Advertise messages for the first RT
    seconds, unless it receives a valid Advertise message with a preference value of 255". An
    Advertise of preference 0 at once: no Request before the first RT ends, the Request exactly
    then (positive control of the silence)."""
    dut, srv = bench(net)
    sol = expect_msg(srv, DHCP6_Solicit, within="1.1s")
    rt = dut.dhcpv6_lease().rt_ns
    answer(srv, sol, DHCP6_Advertise, pref=0)
    srv.expect_nothing(for_=T(rt - 1), matching=IPv6() / UDP(dport=547))
    req = expect_msg(srv, DHCP6_Request, within="2ns")
    assert req.time_ns == sol.time_ns + rt
    assert dut.dhcpv6_lease().counters["solicits"] == 1


@pytest.mark.rfc("8415 18.2.1")
def test_preference_255_requests_at_once(net):
    """RFC 8415 section 18.2.1: "If the client receives a valid Advertise message that includes a
    Preference option with a preference value of 255, the client immediately begins a
    client-initiated message exchange"."""
    dut, srv = bench(net)
    sol = expect_msg(srv, DHCP6_Solicit, within="1.1s")
    answer(srv, sol, DHCP6_Advertise, pref=255)
    t = net.now_ns
    req = expect_msg(srv, DHCP6_Request, within="1ms")
    assert req.time_ns == t


@pytest.mark.rfc("8415 18.2.9")
def test_highest_preference_wins(net):
    """RFC 8415 section 18.2.9: "Those Advertise messages with the highest server preference value
    SHOULD be preferred over all other Advertise messages." Two servers advertise preference 10
    and 200; the Request names the second's DUID and asks for its address."""
    dut, srv, srv2 = bench(net, mac2=True)
    sol = expect_msg(srv, DHCP6_Solicit, within="1.1s")
    answer(srv, sol, DHCP6_Advertise, pref=10, ia=ia_na("2001:db8::10"))
    answer(srv2, sol, DHCP6_Advertise, pref=200, ia=ia_na("2001:db8::20"), server_mac=SRV2_MAC)
    req = expect_msg(srv, DHCP6_Request, within="1.2s")
    assert bytes(req[DHCP6OptServerId].duid) == bytes(server_duid(SRV2_MAC))
    assert req[DHCP6OptIAAddress].addr == "2001:db8::20"
    assert dut.dhcpv6_lease().preference == 200


@pytest.mark.rfc("8415 18.2.1")
def test_after_first_rt_first_advertise_taken(net):
    """RFC 8415 section 18.2.1: after the first RT "The client terminates the retransmission process
    as soon as it receives any Advertise message, and the client acts on the received Advertise
    message without waiting for any additional Advertise messages." Preference 0 after the
    second Solicit: the Request goes at once."""
    dut, srv = bench(net)
    expect_msg(srv, DHCP6_Solicit, within="1.1s")
    sol2 = expect_msg(srv, DHCP6_Solicit, within="1.2s")
    answer(srv, sol2, DHCP6_Advertise, pref=0)
    t = net.now_ns
    req = expect_msg(srv, DHCP6_Request, within="1ms")
    assert req.time_ns == t


@pytest.mark.rfc("8415 18.2.2", "8415 21.9")
def test_request_fields(net):
    """The Request: a new transaction ID, the chosen server's Server Identifier, the advertised
    address in the IA_NA, Elapsed Time 0 (a new exchange)."""
    dut, srv = bench(net)
    sol = expect_msg(srv, DHCP6_Solicit, within="1.1s")
    answer(srv, sol, DHCP6_Advertise, pref=255)
    req = expect_msg(srv, DHCP6_Request, within="1ms")
    assert msg_of(req).trid != msg_of(sol).trid
    assert bytes(req[DHCP6OptServerId].duid) == bytes(server_duid())
    assert req[DHCP6OptIAAddress].addr == ADDR
    assert req[DHCP6OptIA_NA].iaid == sol[DHCP6OptIA_NA].iaid
    assert elapsed(req) == 0


@pytest.mark.rfc("8415 15", "8415 18.2.2", "8415 7.6")
def test_request_retransmitted_ten_times_then_solicit(net):
    """Request: IRT REQ_TIMEOUT 1 s, MRT REQ_MAX_RT 30 s, MRC REQ_MAX_RC 10 (RFC 8415 section 15:
    "Unless MRC is zero, the message exchange fails once the client has transmitted the message
    MRC times."). Ten Requests at the computed RTs, then a new Solicit exchange."""
    dut, srv = bench(net)
    sol = expect_msg(srv, DHCP6_Solicit, within="1.1s")
    answer(srv, sol, DHCP6_Advertise, pref=255)
    prev = expect_msg(srv, DHCP6_Request, within="1ms")
    rt = rt_ok(dut, 0, REQ_TIMEOUT, REQ_MAX_RT, True)
    for _ in range(REQ_MAX_RC - 1):
        p = expect_msg(srv, DHCP6_Request, within=T(rt + 1))
        assert p.time_ns - prev.time_ns == rt
        rt = rt_ok(dut, rt, REQ_TIMEOUT, REQ_MAX_RT, False)
        assert rt <= REQ_MAX_RT * 11 // 10
        prev = p
    assert dut.dhcpv6_lease().counters["requests"] == REQ_MAX_RC
    # the exchange fails when the tenth RT runs out: a new Solicit (after its 0..1 s delay)
    sol2 = expect_msg(srv, DHCP6_Solicit, within=T(rt + SOL_MAX_DELAY + 1))
    assert prev.time_ns + rt <= sol2.time_ns <= prev.time_ns + rt + SOL_MAX_DELAY
    assert msg_of(sol2).trid != msg_of(sol).trid


@pytest.mark.rfc("8415 18.2.10.1")
def test_reply_binds_the_address(net):
    """A Reply with the address: it is on the interface, the lease holds T1/T2 and lifetimes from
    the Reply's time, the event "bound" comes."""
    dut, srv = bench(net)
    req, t = acquire(net, dut, srv)
    lease = dut.dhcpv6_lease()
    assert lease.state == "BOUND" and lease.address == ADDR
    assert (lease.t1_secs, lease.t2_secs, lease.preferred_secs, lease.valid_secs) == (1000, 1600, 2000, 3000)
    assert (lease.t1_at, lease.t2_at, lease.expires_at) == (t + 1000 * S, t + 1600 * S, t + 3000 * S)
    assert (ADDR, 128, "preferred") in dut.ipv6_addresses()
    ev = dut.dhcpv6_events()
    assert [(e.kind, e.address, e.time) for e in ev] == [("bound", ADDR, t)]


@pytest.mark.rfc("8415 18.2.10.1", "4862 5.4.2")
def test_address_checked_by_dad_before_use(net):
    """RFC 8415 section 18.2.10.1: the client performs DAD on a received address before use. With
    DAD on, a Neighbor Solicitation from :: for the address goes out, the address is tentative
    meanwhile, and bound after RetransTimer without an answer."""
    dut, srv = bench(net, dhcpv6=None, dad=True)
    net.run(for_="3s")  # the link-local address passes its own DAD first
    dut.dhcpv6_start("stateful")
    req, t = acquire(net, dut, srv)
    assert dut.dhcpv6_lease().state == "CHECKING"
    assert (ADDR, 128, "tentative") in dut.ipv6_addresses()
    ns = srv.expect(IPv6(src="::") / ICMPv6ND_NS(tgt=ADDR), within="1.1s")
    srv.expect_nothing(for_="999ms", matching=IPv6() / UDP(dport=547))
    net.run(for_="2ms")
    lease = dut.dhcpv6_lease()
    assert lease.state == "BOUND"
    assert (ADDR, 128, "preferred") in dut.ipv6_addresses()
    assert [e.kind for e in dut.dhcpv6_events()] == ["bound"]
    assert ns.time_ns >= t


@pytest.mark.rfc("8415 18.2.10.1", "8415 18.2.8")
def test_dad_failure_sends_decline(net):
    """RFC 8415 section 18.2.10.1: "If any of the addresses are found to be in use on the link, the
    client sends a Decline message to the server for those addresses as described in Section
    18.2.8." A Neighbor Advertisement for the tentative address: a Decline naming the server and
    the address, the address never used (the previous test is the positive control)."""
    dut, srv = bench(net, dhcpv6=None, dad=True)
    net.run(for_="3s")
    dut.dhcpv6_start("stateful")
    acquire(net, dut, srv)
    srv.expect(IPv6(src="::") / ICMPv6ND_NS(tgt=ADDR), within="1.1s")
    srv.send(Ether(dst="33:33:00:00:00:01") / IPv6(src="fe80::99", dst="ff02::1", hlim=255) /
             ICMPv6ND_NA(tgt=ADDR, O=1, S=0))
    dec = expect_msg(srv, DHCP6_Decline, within="1ms")
    assert bytes(dec[DHCP6OptServerId].duid) == bytes(server_duid())
    assert dec[DHCP6OptIAAddress].addr == ADDR
    assert elapsed(dec) == 0
    assert [e.kind for e in dut.dhcpv6_events()] == ["declined"]
    assert all(a[0] != ADDR for a in dut.ipv6_addresses())
    # the server acknowledges: a new Solicit exchange
    answer(srv, dec, DHCP6_Reply, ia=None)
    sol = expect_msg(srv, DHCP6_Solicit, within=T(SOL_MAX_DELAY + 1))
    assert sol.time_ns <= dec.time_ns + SOL_MAX_DELAY


@pytest.mark.rfc("8415 18.2.8", "8415 7.6", "8415 15")
def test_decline_retransmitted_dec_max_rc_times(net):
    """Decline: IRT DEC_TIMEOUT 1 s, MRC DEC_MAX_RC 4; without a Reply, four Declines at the
    computed RTs, then the client solicits again."""
    dut, srv = bench(net, dhcpv6=None, dad=True)
    net.run(for_="3s")
    dut.dhcpv6_start("stateful")
    acquire(net, dut, srv)
    srv.expect(IPv6(src="::") / ICMPv6ND_NS(tgt=ADDR), within="1.1s")
    srv.send(Ether(dst="33:33:00:00:00:01") / IPv6(src="fe80::99", dst="ff02::1", hlim=255) /
             ICMPv6ND_NA(tgt=ADDR, O=1, S=0))
    prev = expect_msg(srv, DHCP6_Decline, within="1ms")
    rt = rt_ok(dut, 0, DEC_TIMEOUT, 0, True)
    for _ in range(DEC_MAX_RC - 1):
        p = expect_msg(srv, DHCP6_Decline, within=T(rt + 1))
        assert p.time_ns - prev.time_ns == rt
        rt = rt_ok(dut, rt, DEC_TIMEOUT, 0, False)
        prev = p
    expect_msg(srv, DHCP6_Solicit, within=T(rt + SOL_MAX_DELAY + 1))
    assert dut.dhcpv6_lease().counters["declines"] == DEC_MAX_RC


@pytest.mark.rfc("8415 18.2.4")
def test_renew_at_t1(net):
    """RFC 8415 section 18.2.4: "At time T1, the client initiates a Renew/Reply message exchange to
    extend the lifetimes on any leases in the IA." Exactly T1 (1000 s) after the Reply: a Renew
    with the Server Identifier and the address; its first RT is REN_TIMEOUT + RAND*REN_TIMEOUT."""
    dut, srv = bench(net)
    _, t = acquire(net, dut, srv)
    ren = expect_msg(srv, DHCP6_Renew, within=T(1000 * S))
    assert ren.time_ns == t + 1000 * S
    assert bytes(ren[DHCP6OptServerId].duid) == bytes(server_duid())
    assert ren[DHCP6OptIAAddress].addr == ADDR
    assert elapsed(ren) == 0
    rt_ok(dut, 0, REN_TIMEOUT, REN_MAX_RT, True)
    assert dut.dhcpv6_lease().state == "RENEW"


@pytest.mark.rfc("8415 18.2.10.1", "8415 18.2.4")
def test_renew_reply_extends_the_lease(net):
    """The Reply to the Renew with new lifetimes: the lease runs from the Reply, event "renewed",
    the next Renew at the new T1."""
    dut, srv = bench(net)
    acquire(net, dut, srv)
    dut.dhcpv6_events()
    ren = expect_msg(srv, DHCP6_Renew, within=T(1000 * S))
    answer(srv, ren, DHCP6_Reply, ia=ia_na(t1=500, t2=800, preferred=1000, valid=1500,
                                           iaid=ren[DHCP6OptIA_NA].iaid))
    t = net.now_ns
    net.run(for_="1us")
    lease = dut.dhcpv6_lease()
    assert lease.state == "BOUND" and (lease.t1_at, lease.expires_at) == (t + 500 * S, t + 1500 * S)
    assert [e.kind for e in dut.dhcpv6_events()] == ["renewed"]
    ren2 = expect_msg(srv, DHCP6_Renew, within=T(500 * S))
    assert ren2.time_ns == t + 500 * S


@pytest.mark.rfc("8415 18.2.5", "8415 18.2.4", "8415 15")
def test_rebind_at_t2_without_server_id(net):
    """Renew unanswered: Renews at the computed RTs (REN_TIMEOUT doubling) until T2, the
    exchange's MRD; at exactly T2 (1600 s) a Rebind, which names no server (section 18.2.5)."""
    dut, srv = bench(net)
    _, t = acquire(net, dut, srv)
    prev = expect_msg(srv, DHCP6_Renew, within=T(1000 * S))
    rt = rt_ok(dut, 0, REN_TIMEOUT, REN_MAX_RT, True)
    n = 1
    while prev.time_ns + rt < t + 1600 * S:
        p = expect_msg(srv, DHCP6_Renew, within=T(rt + 1))
        assert p.time_ns - prev.time_ns == rt
        rt = rt_ok(dut, rt, REN_TIMEOUT, REN_MAX_RT, False)
        prev, n = p, n + 1
    assert n >= 5
    reb = expect_msg(srv, DHCP6_Rebind, within=T(t + 1600 * S - net.now_ns + 1))
    assert reb.time_ns == t + 1600 * S
    assert DHCP6OptServerId not in reb
    assert reb[DHCP6OptIAAddress].addr == ADDR
    rt_ok(dut, 0, REB_TIMEOUT, REB_MAX_RT, True)


@pytest.mark.rfc("8415 18.2.5")
def test_rebind_reply_from_another_server(net):
    """A Reply to the Rebind (from whichever server answers) extends the lease; later Renews name
    that server."""
    dut, srv, srv2 = bench(net, mac2=True)
    _, t = acquire(net, dut, srv)
    reb = skip_to(srv, DHCP6_Rebind, within=T(1000 * S + 1))
    assert reb.time_ns == t + 1600 * S
    answer(srv2, reb, DHCP6_Reply, server_mac=SRV2_MAC)
    net.run(for_="1us")
    assert dut.dhcpv6_lease().state == "BOUND"
    ren = expect_msg(srv, DHCP6_Renew, within=T(1000 * S + 1))
    assert bytes(ren[DHCP6OptServerId].duid) == bytes(server_duid(SRV2_MAC))


@pytest.mark.rfc("8415 18.2.5")
def test_valid_lifetime_end_removes_the_address(net):
    """Nobody answers: at the end of the valid lifetime (3000 s) the address leaves the interface,
    the event "lost" comes, and the client solicits again (section 18.2.5)."""
    dut, srv = bench(net)
    _, t = acquire(net, dut, srv)
    dut.dhcpv6_events()
    net.run(until=T(t + 3000 * S - 1))
    assert (ADDR, 128, "preferred") in dut.ipv6_addresses()
    assert dut.dhcpv6_lease().state == "REBIND"
    net.run(for_="1ns")
    assert all(a[0] != ADDR for a in dut.ipv6_addresses())
    assert [(e.kind, e.time) for e in dut.dhcpv6_events()] == [("lost", t + 3000 * S)]
    assert dut.dhcpv6_lease().state == "SOLICIT"
    srv.received()
    expect_msg(srv, DHCP6_Solicit, within=T(SOL_MAX_DELAY + 1))


@pytest.mark.rfc("8415 14.2", "8415 21.4")
def test_t1_t2_zero_left_to_the_client(net):
    """T1 and T2 of 0 leave the times to the client: it renews at 0.5 and rebinds at 0.8 of the
    preferred lifetime (2000 s: 1000 s and 1600 s)."""
    dut, srv = bench(net)
    _, t = acquire(net, dut, srv, ia=ia_na(t1=0, t2=0))
    lease = dut.dhcpv6_lease()
    assert (lease.t1_secs, lease.t2_secs) == (1000, 1600)
    ren = expect_msg(srv, DHCP6_Renew, within=T(1000 * S))
    assert ren.time_ns == t + 1000 * S
    while True:  # the Renew's retransmissions, then the Rebind
        reb = srv.expect(CLIENT_MSG, within=T(600 * S + 1))
        if DHCP6_Rebind in reb:
            break
        assert DHCP6_Renew in reb
    assert reb.time_ns == t + 1600 * S


@pytest.mark.rfc("8415 7.7")
def test_infinite_t1_never_renews(net):
    """RFC 8415 section 7.7: "A client will never attempt to extend the lifetimes of any addresses
    in an IA with T1 set to 0xffffffff." Infinite T1/T2 and lifetimes: nothing for a day (the
    finite lease of the other tests renews at 1000 s: the positive control)."""
    dut, srv = bench(net)
    inf = 0xFFFFFFFF
    acquire(net, dut, srv, ia=ia_na(t1=inf, t2=inf, preferred=inf, valid=inf))
    lease = dut.dhcpv6_lease()
    assert lease.t1_at is None and lease.expires_at is None
    srv.expect_nothing(for_="86400s", matching=IPv6() / UDP(dport=547))
    assert dut.dhcpv6_lease().state == "BOUND"
    # positive control: the client still speaks - stopping it sends a Release at once
    dut.dhcpv6_stop()
    expect_msg(srv, DHCP6_Release, within="1ms")


@pytest.mark.rfc("8415 7.7", "8415 18.2.5")
def test_infinite_t1_with_finite_valid_lifetime_expires(net):
    """T1 and T2 infinite, valid lifetime 300 s: RFC 8415 section 7.7, "A client will never attempt
    to extend the lifetimes of any addresses in an IA with T1 set to 0xffffffff", so no Renew and
    no Rebind; at exactly 300 s the address leaves and the client solicits again."""
    dut, srv = bench(net)
    inf = 0xFFFFFFFF
    _, t = acquire(net, dut, srv, ia=ia_na(t1=inf, t2=inf, preferred=200, valid=300))
    dut.dhcpv6_events()
    srv.expect_nothing(for_=T(t + 300 * S - 1 - net.now_ns), matching=DHCP_OUT)
    assert (ADDR, 128, "preferred") in dut.ipv6_addresses()
    net.run(for_="1ns")
    assert all(a[0] != ADDR for a in dut.ipv6_addresses())
    assert [(e.kind, e.time) for e in dut.dhcpv6_events()] == [("lost", t + 300 * S)]
    p = srv.expect(CLIENT_MSG, within=T(SOL_MAX_DELAY + 1))
    assert DHCP6_Solicit in p, "no Renew or Rebind: the next message is a Solicit"


@pytest.mark.rfc("8415 18.2.7")
def test_release_on_stop(net):
    """RFC 8415 section 18.2.7: "The client MUST stop using all of the addresses being released as
    soon as the client begins the Release message exchange process." Stop: the address leaves at
    once, a Release names the server and the address; the server's Reply ends it ("released")."""
    dut, srv = bench(net)
    acquire(net, dut, srv)
    dut.dhcpv6_events()
    dut.dhcpv6_stop()
    assert all(a[0] != ADDR for a in dut.ipv6_addresses())
    rel = expect_msg(srv, DHCP6_Release, within="1ms")
    assert bytes(rel[DHCP6OptServerId].duid) == bytes(server_duid())
    assert rel[DHCP6OptIAAddress].addr == ADDR
    answer(srv, rel, DHCP6_Reply, ia=None)
    net.run(for_="1us")
    assert [e.kind for e in dut.dhcpv6_events()] == ["released"]
    assert dut.dhcpv6_lease().state == "OFF"
    srv.expect_nothing(for_="10s", matching=IPv6() / UDP(dport=547))


@pytest.mark.rfc("8415 18.2.7", "8415 7.6", "8415 15")
def test_release_retransmitted_rel_max_rc_times(net):
    """Release unanswered: REL_TIMEOUT 1 s doubling, REL_MAX_RC 4 transmissions, then the client is
    off."""
    dut, srv = bench(net)
    acquire(net, dut, srv)
    dut.dhcpv6_stop()
    prev = expect_msg(srv, DHCP6_Release, within="1ms")
    rt = rt_ok(dut, 0, REL_TIMEOUT, 0, True)
    for _ in range(REL_MAX_RC - 1):
        p = expect_msg(srv, DHCP6_Release, within=T(rt + 1))
        assert p.time_ns - prev.time_ns == rt
        rt = rt_ok(dut, rt, REL_TIMEOUT, 0, False)
        prev = p
    srv.expect_nothing(for_=T(rt + 60 * S), matching=IPv6() / UDP(dport=547))
    assert dut.dhcpv6_lease().state == "OFF"
    assert dut.dhcpv6_lease().counters["releases"] == REL_MAX_RC


@pytest.mark.rfc("8415 18.2.9")
def test_advertise_with_no_addrs_avail_ignored(net):
    """RFC 8415 section 18.2.9: "The client MUST ignore any Advertise message that contains no
    addresses". An Advertise whose IA carries NoAddrsAvail (2) and no address is ignored (status
    event); a good one after it is taken (positive control)."""
    dut, srv = bench(net)
    sol = expect_msg(srv, DHCP6_Solicit, within="1.1s")
    answer(srv, sol, DHCP6_Advertise, pref=255, ia=ia_na(addr=None, status=2))
    srv.expect_nothing(for_="500ms", matching=IPv6() / UDP() / DHCP6_Request())
    ev = dut.dhcpv6_events()
    assert [(e.kind, e.status) for e in ev] == [("status", 2)]
    answer(srv, sol, DHCP6_Advertise, pref=255)
    expect_msg(srv, DHCP6_Request, within="1ms")


@pytest.mark.rfc("8415 18.2.10.1")
def test_reply_no_addrs_avail_restarts_with_solicit(net):
    """A Reply to the Request whose IA says NoAddrsAvail: no address is configured and the client
    starts over with a Solicit."""
    dut, srv = bench(net)
    sol = expect_msg(srv, DHCP6_Solicit, within="1.1s")
    answer(srv, sol, DHCP6_Advertise, pref=255)
    req = expect_msg(srv, DHCP6_Request, within="1ms")
    answer(srv, req, DHCP6_Reply, ia=ia_na(addr=None, status=2))
    sol2 = expect_msg(srv, DHCP6_Solicit, within=T(SOL_MAX_DELAY + 1))
    assert msg_of(sol2).trid not in (msg_of(sol).trid, msg_of(req).trid)
    assert all(a[0] != ADDR for a in dut.ipv6_addresses())
    assert dut.dhcpv6_lease().last_status == 2


@pytest.mark.rfc("8415 21.4")
def test_ia_with_t1_greater_than_t2_discarded(net):
    """RFC 8415 section 21.4: "If a client receives an IA_NA with T1 greater than T2 and both T1
    and T2 are greater than 0, the client discards the IA_NA option and processes the remainder of
    the message as though the server had not included the invalid IA_NA option." A Reply with
    T1 1600 > T2 1000: no address; the client solicits again."""
    dut, srv = bench(net)
    sol = expect_msg(srv, DHCP6_Solicit, within="1.1s")
    answer(srv, sol, DHCP6_Advertise, pref=255)
    req = expect_msg(srv, DHCP6_Request, within="1ms")
    answer(srv, req, DHCP6_Reply, ia=ia_na(t1=1600, t2=1000))
    expect_msg(srv, DHCP6_Solicit, within=T(SOL_MAX_DELAY + 1))
    assert all(a[0] != ADDR for a in dut.ipv6_addresses())


@pytest.mark.rfc("8415 21.6")
def test_address_with_preferred_over_valid_discarded(net):
    """RFC 8415 section 21.6: "The client MUST discard any addresses for which the preferred
    lifetime is greater than the valid lifetime." An Advertise whose only address has preferred
    3000 > valid 2000 is ignored; the same server with sane lifetimes is taken."""
    dut, srv = bench(net)
    sol = expect_msg(srv, DHCP6_Solicit, within="1.1s")
    answer(srv, sol, DHCP6_Advertise, pref=255, ia=ia_na(preferred=3000, valid=2000))
    srv.expect_nothing(for_="500ms", matching=IPv6() / UDP() / DHCP6_Request())
    answer(srv, sol, DHCP6_Advertise, pref=255)
    expect_msg(srv, DHCP6_Request, within="1ms")


@pytest.mark.rfc("8415 18.2.10.1")
def test_no_binding_on_renew_sends_request(net):
    """A Reply to the Renew whose IA says NoBinding (3): the client sends a Request to that server
    at once."""
    dut, srv = bench(net)
    acquire(net, dut, srv)
    ren = expect_msg(srv, DHCP6_Renew, within=T(1000 * S))
    answer(srv, ren, DHCP6_Reply, ia=ia_na(addr=None, status=3, iaid=ren[DHCP6OptIA_NA].iaid))
    t = net.now_ns
    req = expect_msg(srv, DHCP6_Request, within="1ms")
    assert req.time_ns == t
    assert bytes(req[DHCP6OptServerId].duid) == bytes(server_duid())
    assert req[DHCP6OptIAAddress].addr == ADDR


def test_same_seed_same_exchange(net):
    """Determinism: the same seed gives the same Solicit times and transaction IDs."""
    from pyharness import Network

    def run():
        n = Network(seed=21)
        dut, srv = bench(n)
        out = []
        for _ in range(3):
            p = expect_msg(srv, DHCP6_Solicit, within="10s")
            out.append((p.time_ns, msg_of(p).trid))
        return out

    assert run() == run()
