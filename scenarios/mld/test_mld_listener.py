"""The MLDv2 listener (RFC 3810 sections 5, 6 and 8): State Change Reports for joined groups,
including the solicited-node groups Neighbor Discovery needs, with [Robustness Variable] - 1
retransmissions in (0, Unsolicited Report Interval = 1 s); answers to General, Multicast Address
Specific and Multicast Address and Source Specific Queries after a random delay in (0, Maximum
Response Delay) drawn from the host's seeded generator; MLDv1 compatibility."""

from __future__ import annotations

import pytest
from scapy.layers.inet6 import ICMPv6MLDone, ICMPv6MLQuery2, ICMPv6MLReport, ICMPv6MLReport2, IPv6
from scapy.layers.l2 import Ether

from autoconf_kit import (PREFIX, parse_records, RETRANS_TIMER, S, T, UNSOLICITED_REPORT_INTERVAL, bench, eui64_addr,
                          has_router_alert, mld_report, profile_of, ready, records, solicited_node)
from pyharness.dut import linux_deviation, tern_stack

pytestmark = pytest.mark.area("mld")

G = "ff05::1:3"
G2 = "ff0e::db8:77"
TO_EX, TO_IN, IS_IN, IS_EX = 4, 3, 1, 2


def ll_of(dut):
    return eui64_addr("fe80::/64", dut.mac)


def settled(net, peer, dut):
    """A host whose start-up chatter (DAD, its reports, the Router Solicitations) is over; the
    inbox emptied."""
    ready(peer, dut)
    peer.router_advertisement(router_lifetime=1800)  # ends the solicitations
    net.run(for_="2s")
    while peer.recv() is not None:
        pass


def pred_prefix():
    from pyharness.template import pred

    return pred(lambda t: str(t).startswith("2001:db8:1:"), "in 2001:db8:1::/64")


def drain(peer):
    """Forget what the peer received so far."""
    while peer.recv() is not None:
        pass


def report_for(group, rtype):
    """A template for an MLDv2 report whose records include (rtype, group)."""
    from pyharness.template import pred

    def has(recs):
        raw = bytes(recs[0]) if recs else b""  # the first record carries the others as payload
        return any(r[0] == rtype and r[1] == group for r in parse_records(raw))

    return IPv6(dst="ff02::16", hlim=1) / ICMPv6MLReport2(records=pred(has, f"a record ({rtype}, {group})"))


@pytest.mark.rfc("3810 6.1", "4862 5.4.2", "3810 5", "3810 5.2.14")
def test_start_reports_the_solicited_node_group_twice(net):
    # "To cover the possibility of the State Change Report being missed by one or more multicast
    # routers, [Robustness Variable] - 1 retransmissions are scheduled, through a Retransmission
    # Timer, at intervals chosen at random from the range (0, [Unsolicited Report Interval])."
    # Robustness 2: the report and one more, then no more. To ff02::16, hop limit 1, Router Alert.
    dut, peer, _ = bench(net)
    first = peer.expect(mld_report(src="::"), within="1.001s")
    assert first[Ether].dst == "33:33:00:00:00:16" and has_router_alert(first)
    assert first[ICMPv6MLReport2].type == 143
    sn = solicited_node(ll_of(dut))
    assert records(first) == [(TO_EX, sn, [])]
    again = peer.expect(mld_report(src="::"), within="1s")
    assert first.time_ns < again.time_ns < first.time_ns + UNSOLICITED_REPORT_INTERVAL
    assert records(again) == [(TO_EX, sn, [])]
    peer.expect_nothing(for_="20s", matching=ICMPv6MLReport2())


@pytest.mark.rfc("3810 6.1", "3810 5.2.13")
def test_join_reported_at_once_then_once_more(net):
    # A join is the change INCLUDE {} -> EXCLUDE {}: CHANGE_TO_EXCLUDE_MODE {}, at once, from the
    # link-local address now that it is valid ("An MLDv2 Report MUST be sent with a valid IPv6
    # link-local source address, or the unspecified address (::), if the sending interface has not
    # acquired a valid link-local address yet.").
    dut, peer, _ = bench(net)
    settled(net, peer, dut)
    t = net.now_ns
    dut.join_group(G)
    first = peer.expect(report_for(G, TO_EX), at=T(t), tolerance=0)
    assert first[IPv6].src == ll_of(dut) and records(first) == [(TO_EX, G, [])]
    again = peer.expect(report_for(G, TO_EX), within="1s")
    assert t < again.time_ns < t + UNSOLICITED_REPORT_INTERVAL
    peer.expect_nothing(for_="10s", matching=ICMPv6MLReport2())


@pytest.mark.rfc("3810 6.1")
def test_leave_reported_as_change_to_include(net):
    # The leave is EXCLUDE {} -> INCLUDE {}: CHANGE_TO_INCLUDE_MODE {}, with its retransmission.
    dut, peer, _ = bench(net)
    settled(net, peer, dut)
    dut.join_group(G)
    net.run(for_="2s")
    t = net.now_ns
    dut.leave_group(G)
    peer.expect(report_for(G, TO_IN), at=T(t), tolerance=0)
    again = peer.expect(report_for(G, TO_IN), within="1s")
    assert again.time_ns < t + UNSOLICITED_REPORT_INTERVAL
    peer.expect_nothing(for_="5s", matching=ICMPv6MLReport2())


@pytest.mark.rfc("3810 6.1", "3810 4")
def test_joins_counted_only_the_last_leave_reported(net):
    # The per-interface state changes only with the first join and the last leave.
    dut, peer, _ = bench(net)
    settled(net, peer, dut)
    dut.join_group(G)
    net.run(for_="2s")
    dut.join_group(G)
    peer.expect_nothing(for_="2s", matching=ICMPv6MLReport2())
    dut.leave_group(G)
    peer.expect_nothing(for_="2s", matching=ICMPv6MLReport2())
    dut.leave_group(G)
    peer.expect(report_for(G, TO_IN), within="1ms")


@pytest.mark.rfc("3810 6")
@pytest.mark.parametrize("group", ["ff02::1", "ff01::5", "ff00::5"])
def test_groups_never_reported(net, group):
    # "No MLD messages are ever sent regarding neither the link-scope all-nodes multicast address,
    # nor any multicast address of scope 0 (reserved) or 1 (node-local)."
    dut, peer, _ = bench(net)
    settled(net, peer, dut)
    dut.join_group(group)
    peer.expect_nothing(for_="3s", matching=ICMPv6MLReport2())
    dut.leave_group(group)
    peer.expect_nothing(for_="3s", matching=ICMPv6MLReport2())
    peer.mld_query(max_response="0s")
    rep = peer.expect(mld_report(), within="1ms")
    assert group not in [g for _, g, _ in records(rep)]
    # positive control: a link-scope group other than all-nodes is reported
    dut.join_group("ff02::1:3")
    peer.expect(report_for("ff02::1:3", TO_EX), within="1ms")


@pytest.mark.rfc("3810 6.2", "3810 6.3")
def test_general_query_answered_after_a_random_delay(net):
    # "a delay for a response is randomly selected in the range (0, [Maximum Response Delay])";
    # the Interface Timer's report has a Current State Record per group: MODE_IS_EXCLUDE {} for
    # the joined group and the solicited-node one, none for all-nodes.
    dut, peer, _ = bench(net)
    settled(net, peer, dut)
    dut.join_group(G)
    net.run(for_="2s")
    drain(peer)
    peer.mld_query(max_response="10s")
    t = net.now_ns
    rep = peer.expect(mld_report(), within="10s")
    assert t < rep.time_ns < t + 10 * S
    assert sorted(records(rep)) == sorted([(IS_EX, solicited_node(ll_of(dut)), []), (IS_EX, G, [])])
    assert rep[IPv6].src == ll_of(dut)
    peer.expect_nothing(for_="12s", matching=ICMPv6MLReport2())
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().mld_queries_in == 1


@pytest.mark.rfc("3810 6.2", "3810 5.1.3")
def test_maximum_response_code_zero_answers_at_once(net):
    # With a Maximum Response Delay of 0 the range (0, 0) leaves no wait: the report goes at once.
    dut, peer, _ = bench(net)
    settled(net, peer, dut)
    peer.mld_query(max_response="0s")
    peer.expect(mld_report(), at=T(net.now_ns), tolerance=0)


@pytest.mark.rfc("3810 6.2")
def test_hosts_answer_at_different_times(net):
    # The delay comes from each host's own seeded generator: three hosts on a switch answer one
    # General Query at three different times, all inside (0, 1 s).
    sw = net.switch("sw", ports=4)
    peer = net.peer("peer")
    net.link(sw, peer)
    hosts = [net.host(f"h{i}") for i in range(3)]
    for h in hosts:
        net.link(sw, h)
    net.run(for_="15s")
    while peer.recv() is not None:
        pass
    peer.mld_query(max_response="1s")
    t = net.now_ns
    times = {}
    for _ in hosts:
        rep = peer.expect(mld_report(), within="1s")
        times[rep[Ether].src] = rep.time_ns
    assert sorted(times) == sorted(h.mac for h in hosts)
    assert all(t < x < t + S for x in times.values()) and len(set(times.values())) == 3


@pytest.mark.rfc("3810 5.1.14")
def test_query_from_non_link_local_source_discarded(net):
    # "If a node (router or host) receives a Query message with the IPv6 Source Address set to the
    # unspecified address (::), or any other address that is not a valid IPv6 link-local address,
    # it MUST silently discard the message".
    from pyharness.ra import mld_query

    dut, peer, _ = bench(net)
    settled(net, peer, dut)
    for src in ("::", "2001:db8:1::99"):
        peer.send(mld_query(src, max_response="0s"))
        peer.expect_nothing(for_="100ms", matching=ICMPv6MLReport2())
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().mld_bad_queries == 2
    # positive control: from the link-local address it is answered
    peer.mld_query(max_response="0s")
    peer.expect(mld_report(), within="1ms")


@pytest.mark.rfc("3810 6.2", "3810 6.3")
def test_multicast_address_specific_query(net):
    # Rule 3: "If the received Query is a Multicast Address Specific Query ... and there is no
    # pending response to a previous Query for this multicast address, then the Multicast Address
    # Timer is used to schedule a report." The report holds that group only.
    dut, peer, _ = bench(net)
    settled(net, peer, dut)
    dut.join_group(G)
    dut.join_group(G2)
    net.run(for_="2s")
    drain(peer)
    peer.mld_query(G, max_response="2s")
    t = net.now_ns
    rep = peer.expect(mld_report(), within="2s")
    assert t < rep.time_ns < t + 2 * S and records(rep) == [(IS_EX, G, [])]
    peer.expect_nothing(for_="3s", matching=ICMPv6MLReport2())


@pytest.mark.rfc("3810 6.2")
def test_query_for_a_group_not_joined_is_not_answered(net):
    dut, peer, _ = bench(net)
    settled(net, peer, dut)
    dut.join_group(G)
    net.run(for_="2s")
    peer.mld_query(G2, max_response="1s")
    peer.expect_nothing(for_="2s", matching=ICMPv6MLReport2())
    peer.mld_query(G, max_response="1s")  # positive control
    peer.expect(report_for(G, IS_EX), within="1s")


@pytest.mark.rfc("3810 6.2", "3810 6.3")
@linux_deviation('RFC 3810 section 6.3: "If the expired timer is a Multicast Address Timer and the list of '
                 'recorded sources for that multicast address is non-empty (i.e., there is a pending response to a '
                 'Multicast Address and Source Specific Query), then if, and only if, the interface has listening '
                 'state for that multicast address, the contents of the corresponding Current State Record are '
                 'determined from the per-interface state and the pending response record, as specified in the '
                 'following table: ... EXCLUDE (A) B IS_IN (B-A)". Linux answers IS_EX {}: for an EXCLUDE-mode '
                 'group mld_xmarksources() clears MAF_GSQUERY and the query is answered as a Multicast Address '
                 'Specific one')
def test_multicast_address_and_source_specific_query(net):
    # For a group in EXCLUDE {} the answer to a query for sources B is IS_IN (B) (RFC 3810 6.3:
    # the sources the host wants out of those asked for: all of them).
    dut, peer, _ = bench(net)
    settled(net, peer, dut)
    dut.join_group(G)
    net.run(for_="2s")
    drain(peer)
    peer.mld_query(G, max_response="1s", sources=["2001:db8::a", "2001:db8::b"])
    rep = peer.expect(mld_report(), within="1s")
    assert records(rep) == [(IS_IN, G, ["2001:db8::a", "2001:db8::b"])]


@pytest.mark.rfc("3810 6.2")
def test_general_query_replaces_a_pending_general_answer(net):
    # Rule 2: "If the received Query is a General Query, the Interface Timer is used to schedule a
    # response to the General Query after the selected delay. Any previously pending response to a
    # General Query is canceled." A query with 10 s then one with 1 ms: one report, within 1 ms
    # (``mld_answer_late`` later on a DUT whose timers count ticks), and none for the first query.
    dut, peer, _ = bench(net)
    settled(net, peer, dut)
    profile = profile_of(dut)
    peer.mld_query(max_response="10s")
    peer.mld_query(max_response="1ms")
    t = net.now_ns
    late = profile.mld_answer_late + profile.tolerance(1_000_000)
    rep = peer.expect(mld_report(), within=T(1_000_000 + profile.mld_answer_late))
    assert rep.time_ns <= t + 1_000_000 + late
    peer.expect_nothing(for_="11s", matching=ICMPv6MLReport2())
    peer.mld_query(max_response="1ms")  # positive control: the DUT still answers
    peer.expect(mld_report(), within=T(1_000_000 + profile.mld_answer_late))


@pytest.mark.rfc("3810 6.2")
def test_pending_general_answer_covers_a_later_query(net):
    # Rule 1: "If there is a pending response to a previous General Query scheduled sooner than the
    # selected delay, no additional response needs to be scheduled." A General Query (1 ms) then a
    # query for the group (32 s): the one general report covers both.
    dut, peer, _ = bench(net)
    settled(net, peer, dut)
    dut.join_group(G)
    net.run(for_="2s")
    drain(peer)
    peer.mld_query(max_response="1ms")
    peer.mld_query(G, max_response="32s")
    rep = peer.expect(mld_report(), within="1ms")
    assert (IS_EX, G, []) in records(rep) and len(records(rep)) == 2
    peer.expect_nothing(for_="33s", matching=ICMPv6MLReport2())


@pytest.mark.rfc("3810 9.1", "3810 6.1")
def test_querier_robustness_variable_adopted(net):
    # RFC 3810 9.1: the Robustness Variable follows the querier's QRV. QRV 3: a join is reported
    # three times.
    dut, peer, _ = bench(net)
    settled(net, peer, dut)
    peer.mld_query(max_response="0s", qrv=3)
    peer.expect(mld_report(), within="1ms")
    dut.join_group(G)
    for _ in range(3):
        peer.expect(report_for(G, TO_EX), within="1s")
    peer.expect_nothing(for_="5s", matching=ICMPv6MLReport2())


@pytest.mark.rfc("3810 8.1")
def test_query_of_26_bytes_ignored(net):
    # RFC 3810 8.1: "Query messages that do not match any of the above conditions (e.g., a Query of
    # length 26 octets) MUST be silently ignored."
    from scapy.layers.inet6 import ICMPv6MLQuery, IPv6ExtHdrHopByHop, RouterAlert
    from scapy.packet import Raw

    dut, peer, _ = bench(net)
    settled(net, peer, dut)
    q = IPv6(src=peer.link_local, dst="ff02::1", hlim=1) / IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)]) / \
        ICMPv6MLQuery(mrd=0, mladdr="::") / Raw(b"\x02\x7d")
    peer.send(q)
    peer.expect_nothing(for_="100ms", matching=ICMPv6MLReport2())
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().mld_malformed == 1
    peer.mld_query(max_response="0s")  # positive control: 28 bytes
    peer.expect(mld_report(), within="1ms")


@pytest.mark.rfc("3810 8.2.1", "2710 4")
def test_mldv1_query_answered_with_mldv1_reports(net):
    # RFC 3810 8.2.1: on an MLDv1 query the host uses MLDv1: one Report per group, to the group
    # (RFC 2710 section 3), after a delay in [0, Maximum Response Delay].
    dut, peer, _ = bench(net)
    settled(net, peer, dut)
    dut.join_group(G)
    net.run(for_="2s")
    while peer.recv() is not None:
        pass
    peer.mld_query(max_response="5s", version=1)
    t = net.now_ns
    got = {}
    for _ in range(2):
        rep = peer.expect(ICMPv6MLReport(), within="5.001s")
        assert rep[IPv6].dst == rep[ICMPv6MLReport].mladdr and rep[IPv6].hlim == 1 and has_router_alert(rep)
        assert t <= rep.time_ns <= t + 5 * S
        got[rep[ICMPv6MLReport].mladdr] = rep.time_ns
    assert sorted(got) == sorted([G, solicited_node(ll_of(dut))])
    peer.expect_nothing(for_="6s", matching=ICMPv6MLReport2())


@pytest.mark.rfc("3810 8.2.1", "3810 9.12", "2710 4")
def test_mldv1_mode_joins_leaves_and_timeout(net):
    # In MLDv1 mode a join is an MLDv1 Report to the group, a leave a Done to all-routers
    # (ff02::2); MLDv2 queries are ignored. "This value MUST be ([Robustness Variable] times (the
    # [Query Interval] in the last Query received)) plus ([Query Response Interval])": 2 x 125 s
    # + 10 s = 260 s after the MLDv1 query the host is back to MLDv2.
    dut, peer, _ = bench(net)
    settled(net, peer, dut)
    peer.mld_query(max_response="1ms", version=1)
    t = net.now_ns
    net.run(for_="1s")
    dut.join_group(G)
    peer.expect(IPv6(dst=G) / ICMPv6MLReport(mladdr=G), within="1ms")
    peer.mld_query(max_response="0s")  # MLDv2: ignored
    peer.expect_nothing(for_="100ms", matching=ICMPv6MLReport2())
    dut.leave_group(G)
    done = peer.expect(ICMPv6MLDone(mladdr=G), within="1ms")
    assert done[IPv6].dst == "ff02::2"
    net.run(until=T(t + 260 * S - 1))
    dut.join_group(G2)
    peer.expect(ICMPv6MLReport(mladdr=G2), within="1ms")
    net.run(until=T(t + 260 * S))
    dut.join_group("ff05::99")
    peer.expect(report_for("ff05::99", TO_EX), within="1ms")


@pytest.mark.rfc("2710 4", "3810 8.2.1")
def test_mldv1_report_of_another_listener_suppresses_ours(net):
    # RFC 2710 section 4: a listener that hears another's Report for a group it has a pending Report
    # for cancels its own; having not sent the last Report it leaves silently.
    from scapy.layers.inet6 import IPv6ExtHdrHopByHop, RouterAlert

    dut, peer, _ = bench(net)
    settled(net, peer, dut)
    dut.join_group(G)
    net.run(for_="2s")
    peer.mld_query(G, max_response="10s", version=1)
    peer.send(IPv6(src=peer.link_local, dst=G, hlim=1) / IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)]) /
              ICMPv6MLReport(mladdr=G))
    peer.expect_nothing(for_="11s", matching=ICMPv6MLReport())
    dut.leave_group(G)
    peer.expect_nothing(for_="1s", matching=ICMPv6MLDone())
    # positive control: without the other report, ours comes
    peer.mld_query(G2, max_response="1s", version=1)
    dut.join_group(G2)
    peer.expect(ICMPv6MLReport(mladdr=G2), within="1ms")


@pytest.mark.rfc("3810 6.1", "4862 5.4.2", "7217 5")
def test_new_solicited_node_group_of_a_stable_address_reported(net):
    # With stable identifiers the global address has its own solicited-node group: joined (and
    # reported) before its probe, and left when the address is gone (its valid lifetime, 30 s).
    dut, peer, _ = bench(net, stable_iid=True)
    ll = dut.ipv6_addresses()[0][0]
    peer.expect(IPv6(src=ll, dst="ff02::2"), within="2.1s")
    peer.router_advertisement(dst=ll, router_lifetime=0, prefixes=[{"prefix": PREFIX, "valid": 30, "preferred": 30}])
    t = net.now_ns
    from scapy.layers.inet6 import ICMPv6ND_NS

    ns = peer.expect(ICMPv6ND_NS(tgt=pred_prefix()), within="1ms")
    sn = solicited_node(ns.tgt)
    assert sn != solicited_node(ll)
    rep = peer.expect(report_for(sn, TO_EX), at=T(t), tolerance=0)
    assert rep[IPv6].src == ll
    peer.expect(report_for(sn, TO_IN), at=T(t + 30 * S), tolerance=0)


@pytest.mark.rfc("3810 6.2", "4862 5.4.2")
def test_queries_answered_without_autoconfiguration(net):
    # A host with a static address and autoconfiguration off announces nothing at start (on the
    # Linux kernel the bench reads its start-up reports off before the peer is linked), but as a
    # listener it answers a General Query with the solicited-node groups of its addresses.
    dut, peer, _ = bench(net, ipv6="fd00::1/64")
    peer.expect_nothing(for_="5s")
    peer.mld_query(max_response="0s")
    rep = peer.expect(mld_report(), within=T(1_000_000 + profile_of(dut).mld_answer_late))
    assert sorted(records(rep)) == sorted([(IS_EX, solicited_node(ll_of(dut)), []),
                                           (IS_EX, solicited_node("fd00::1"), [])])
