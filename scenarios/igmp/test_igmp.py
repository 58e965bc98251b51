"""IGMP host side (RFC 2236 IGMPv2, RFC 3376 IGMPv3, RFC 1112): reports on
join with their retransmissions, answers to general, group-specific and
group-and-source-specific queries within Max Resp Time, v2 suppression and
Leave, v3 state-change reports, compatibility modes with their timeouts,
the Ethernet group address, and UDP delivery to the sockets that joined.

The host is 10.0.0.1, a scripted peer (10.0.0.2) plays the querier and the
other hosts. Random delays come from the seeded generator: the tests check
the windows the RFCs give, and the exact count of messages.
"""

from __future__ import annotations

import pytest
from igmpkit import GROUP_A, GROUP_B, IGMP_OUT, S, expect_report, group_mac, reports, send_igmp, v2_message, \
    v3_query
from scapy.all import IP, UDP, Ether

pytestmark = pytest.mark.area("igmp")

TO_EX, TO_IN, IS_IN, IS_EX = 4, 3, 1, 2


@pytest.fixture
def pair(net):
    """(net, host 10.0.0.1, peer 10.0.0.2) on one link without delay."""
    host = net.host("dut", ipv4="10.0.0.1/24")
    peer = net.peer("peer", ipv4="10.0.0.2/24")
    net.link(host, peer)
    return net, host, peer


def joined(net, host, peer, *groups, version=3, port=5000):
    """A socket on ``port`` that joined ``groups``; the join reports consumed (run 30 s)."""
    if version == 2:
        host.igmp_set_version(2)
    s = host.udp_socket(port)
    for g in groups:
        s.join(g)
    net.run(for_="30s")
    peer.received()
    return s


# ---- joining: unsolicited reports --------------------------------------------------------


@pytest.mark.rfc("3376 5.1", "3376 4.2", "2236 2")
def test_v3_join_sends_state_change_report_at_once(pair):
    """RFC 3376 §5.1: a change of interface state sends a State-Change Report at once; for a join
    it is CHANGE_TO_EXCLUDE_MODE with no sources (RFC 3376 §5.1 "TO_EX( {} )"), to 224.0.0.22
    (§4.2.14 "Version 3 Reports are sent with an IP destination address of 224.0.0.22"), with
    TTL 1 and Router Alert (RFC 2236 §2: "all IGMP messages described in this document are sent
    with IP TTL 1, and contain the IP Router Alert option")."""
    net, host, peer = pair
    s = host.udp_socket(5000)
    s.join(GROUP_A)
    r = expect_report(peer, within="1ms")
    assert r.time_ns == 0
    assert r.type == 0x22 and [(x.rtype, x.group, x.sources) for x in r.records] == [(TO_EX, GROUP_A, [])]
    ip = r.pkt[IP]
    assert ip.dst == "224.0.0.22" and ip.src == "10.0.0.1" and ip.ttl == 1
    assert r.pkt[Ether].dst == "01:00:5e:00:00:16"
    assert bytes(ip)[20:24] == b"\x94\x04\x00\x00"  # Router Alert (RFC 2113)
    assert host.igmp_groups() == [GROUP_A]


@pytest.mark.rfc("3376 5.1", "3376 8.11", "3376 8.1")
def test_v3_join_report_retransmitted_once_within_one_second(pair):
    """RFC 3376 §5.1: "it is retransmitted [Robustness Variable] - 1 more times, at intervals
    chosen at random from the range (0, [Unsolicited Report Interval])"; §8.11 "Default: 1
    second"; §8.1 Robustness "Default: 2": exactly one more report, within 1 s, then none."""
    net, host, peer = pair
    host.udp_socket(5000).join(GROUP_A)
    first = expect_report(peer, within="1ms")
    second = expect_report(peer, within="1s")
    assert 0 < second.time_ns - first.time_ns <= 1 * S
    assert [(x.rtype, x.group) for x in second.records] == [(TO_EX, GROUP_A)]
    peer.expect_nothing(for_="60s", matching=IGMP_OUT)


@pytest.mark.rfc("3376 4.1.6", "3376 5.1")
def test_v3_querier_robustness_sets_retransmissions(pair):
    """RFC 3376 §4.1.6: "If non-zero, the QRV field contains the [Robustness Variable] value used
    by the querier"; a later join's report then goes out QRV times in all, each gap at most 1 s."""
    net, host, peer = pair
    send_igmp(peer, v3_query(10, qrv=4))  # a general query with QRV 4, nothing joined yet
    net.run(for_="2s")
    assert host.igmp_state().robustness == 4
    t0 = net.now_ns
    host.udp_socket(5000).join(GROUP_A)
    net.run(for_="10s")
    rs = reports(peer)
    assert len(rs) == 4 and rs[0].time_ns == t0
    assert all(0 < b.time_ns - a.time_ns <= S for a, b in zip(rs, rs[1:]))


@pytest.mark.rfc("2236 3", "2236 8.10", "2236 9", "1112 6.4")
def test_v2_join_report_to_group_then_once_more_within_ten_seconds(pair):
    """RFC 2236 §3: "When a host joins a multicast group, it should immediately transmit an
    unsolicited Version 2 Membership Report for that group ... it is recommended that it be
    repeated once or twice after short delays [Unsolicited Report Interval]" (§8.10: 10 s). §9: a
    Membership Report goes to "The group being reported", at its Ethernet address (RFC 1112 §6.4)."""
    net, host, peer = pair
    host.igmp_set_version(2)
    host.udp_socket(5000).join(GROUP_A)
    first = expect_report(peer, within="1ms")
    assert first.type == 0x16 and first.group == GROUP_A and first.time_ns == 0
    assert first.pkt[IP].dst == GROUP_A and first.pkt[Ether].dst == "01:00:5e:01:02:03"
    assert first.pkt[IP].ttl == 1
    second = expect_report(peer, within="10s")
    assert second.type == 0x16 and 0 < second.time_ns <= 10 * S
    peer.expect_nothing(for_="60s", matching=IGMP_OUT)


@pytest.mark.rfc("1112 6.4")
def test_group_mac_drops_high_bit_of_23(pair):
    """RFC 1112 §6.4: "placing the low-order 23-bits of the IP address into the low-order 23
    bits of the Ethernet multicast address 01-00-5E-00-00-00": 239.129.2.3 and 239.1.2.3 share
    01:00:5e:01:02:03; a datagram sent to the group goes there with TTL 1 (RFC 1112 §6.1: "If
    the upper-layer protocol chooses not to specify a time-to-live, it should default to 1")."""
    net, host, peer = pair
    host.igmp_set_version(2)
    s = host.udp_socket(5000)
    s.join("239.129.2.3")
    r = expect_report(peer, within="1ms")
    assert r.pkt[Ether].dst == "01:00:5e:01:02:03" == group_mac("239.129.2.3")
    net.run(for_="30s")
    peer.received()
    s.sendto(b"to the group", ("239.129.2.3", 6000))
    d = peer.expect(IP(dst="239.129.2.3") / UDP(dport=6000), within="1ms")
    assert d[Ether].dst == "01:00:5e:01:02:03" and d[IP].ttl == 1


@pytest.mark.rfc("2236 3", "3376 5")
def test_all_systems_group_never_reported(pair):
    """RFC 2236 §6: the all-systems group: the host "never sends a report for that group";
    joining 224.0.0.1 sends nothing (positive control: joining 239.1.2.3 right after does)."""
    net, host, peer = pair
    s = host.udp_socket(5000)
    s.join("224.0.0.1")
    peer.expect_nothing(for_="5s", matching=IGMP_OUT)
    s.join(GROUP_A)
    assert expect_report(peer, within="1ms").records[0].group == GROUP_A


# ---- queries --------------------------------------------------------------------------------


@pytest.mark.rfc("2236 3")
def test_v2_general_query_answered_per_group_within_max_resp(pair):
    """RFC 2236 §3: "When a host receives a General Query, it sets delay timers for each group
    ... selected from the range (0, Max Response Time]": one report per joined group, each
    within the 2.5 s asked, each to its own group."""
    net, host, peer = pair
    joined(net, host, peer, GROUP_A, GROUP_B, version=2)
    t0 = net.now_ns
    send_igmp(peer, v2_message(0x11, 25, "0.0.0.0"))
    rs = [expect_report(peer, within="2.5s"), expect_report(peer, within="2.5s")]
    assert sorted(r.group for r in rs) == [GROUP_A, GROUP_B]
    assert all(r.type == 0x16 and t0 < r.time_ns <= t0 + 25 * S // 10 for r in rs)
    peer.expect_nothing(for_="20s", matching=IGMP_OUT)


@pytest.mark.rfc("2236 3", "2236 5")
def test_v2_report_suppressed_by_another_hosts_report(pair):
    """RFC 2236 §3: "If the host receives another host's Report (version 1 or 2) while it has a
    timer running, it stops its timer for the specified group and does not send a Report"; §5:
    "The host MUST allow its Membership Report to be suppressed by either a Version 1 Membership
    Report or a Version 2 Membership Report." Another host reports A (v1) at once: only B is
    reported (the positive control)."""
    net, host, peer = pair
    joined(net, host, peer, GROUP_A, GROUP_B, version=2)
    send_igmp(peer, v2_message(0x11, 100, "0.0.0.0"))
    send_igmp(peer, v2_message(0x12, 0, GROUP_A), dst=GROUP_A, src="10.0.0.3")
    net.run(for_="10s")
    rs = reports(peer)
    assert [r.group for r in rs] == [GROUP_B]
    assert host.igmp_counters()["reports_suppressed"] == 1


@pytest.mark.rfc("2236 3")
def test_v2_shorter_max_resp_resets_timer(pair):
    """RFC 2236 §3: "If a timer for the group is already running, it is reset to the random value
    only if the requested Max Response Time is less than the remaining value of the running
    timer": a 25 s query then a 0.1 s group-specific one: the report comes within 0.1 s."""
    net, host, peer = pair
    joined(net, host, peer, GROUP_A, version=2)
    send_igmp(peer, v2_message(0x11, 250, "0.0.0.0"))
    net.run(for_="1us")
    t0 = net.now_ns
    send_igmp(peer, v2_message(0x11, 1, GROUP_A), dst=GROUP_A)
    r = expect_report(peer, within="100ms")
    assert r.group == GROUP_A and r.time_ns - t0 <= S // 10
    peer.expect_nothing(for_="30s", matching=IGMP_OUT)


@pytest.mark.rfc("3376 5.2")
def test_v3_general_query_one_current_state_report(pair):
    """RFC 3376 §5.2: "If the received Query is a General Query, the interface timer is used to
    schedule a response to the General Query after the selected delay": one report, within the
    2 s asked, with a MODE_IS_EXCLUDE({}) record for every group joined."""
    net, host, peer = pair
    joined(net, host, peer, GROUP_A, GROUP_B)
    t0 = net.now_ns
    send_igmp(peer, v3_query(20))
    rs = [expect_report(peer, within="2s")]
    assert t0 < rs[0].time_ns <= t0 + 2 * S
    assert sorted((x.rtype, x.group, tuple(x.sources)) for x in rs[0].records) == [
        (IS_EX, GROUP_A, ()), (IS_EX, GROUP_B, ())]
    peer.expect_nothing(for_="30s", matching=IGMP_OUT)


@pytest.mark.rfc("3376 5.2", "3376 4.1.1")
def test_v3_group_specific_query_answered_for_that_group(pair):
    """RFC 3376 §5.2: a Group-Specific Query uses the group timer; the answer carries only that
    group. Max Resp Code 0x8a is the floating-point form (§4.1.1: "(mant | 0x10) << (exp + 3)"),
    208 tenths: 20.8 s."""
    net, host, peer = pair
    joined(net, host, peer, GROUP_A, GROUP_B)
    t0 = net.now_ns
    send_igmp(peer, v3_query(0x8A, group=GROUP_B), dst=GROUP_B)
    net.run(for_="20.8s")
    rs = reports(peer)
    assert len(rs) == 1 and t0 < rs[0].time_ns <= t0 + 208 * S // 10
    assert [(x.rtype, x.group) for x in rs[0].records] == [(IS_EX, GROUP_B)]


@pytest.mark.rfc("3376 5.2")
def test_v3_group_and_source_specific_query_answered_with_sources(pair):
    """RFC 3376 §5.2: for a Group-and-Source-Specific Query the report holds the queried
    sources the interface listens to; in EXCLUDE({}) mode all of them: IS_IN(S1, S2)."""
    net, host, peer = pair
    joined(net, host, peer, GROUP_A)
    send_igmp(peer, v3_query(10, group=GROUP_A, sources=("10.9.0.1", "10.9.0.2")), dst=GROUP_A)
    net.run(for_="1s")
    rs = reports(peer)
    assert len(rs) == 1
    assert [(x.rtype, x.group, x.sources) for x in rs[0].records] == [(IS_IN, GROUP_A, ["10.9.0.1", "10.9.0.2"])]


@pytest.mark.rfc("3376 5.2")
def test_v3_query_for_group_not_joined_ignored(pair):
    """RFC 3376 §5.2: "If the interface has no reception state for the group ... no response"
    — a group-specific query for B, not joined, to B's address: nothing (the IP layer is not a
    member). Positive control: the same query for A is answered."""
    net, host, peer = pair
    joined(net, host, peer, GROUP_A)
    send_igmp(peer, v3_query(10, group=GROUP_B), dst=GROUP_B)
    peer.expect_nothing(for_="2s", matching=IGMP_OUT)
    send_igmp(peer, v3_query(10, group=GROUP_A), dst=GROUP_A)
    assert expect_report(peer, within="1s").records[0].group == GROUP_A


@pytest.mark.rfc("3376 9.1")
def test_v3_general_query_to_group_address_ignored(pair):
    """RFC 3376 §9.1: General Queries belong to 224.0.0.1 ("Hosts SHOULD ignore v2 or v3 General
    Queries sent to a multicast address other than 224.0.0.1"): one sent to group A is ignored;
    the same to 224.0.0.1 is answered (the positive control)."""
    net, host, peer = pair
    joined(net, host, peer, GROUP_A)
    send_igmp(peer, v3_query(10), dst=GROUP_A)
    peer.expect_nothing(for_="2s", matching=IGMP_OUT)
    assert host.igmp_counters()["queries_ignored"] == 1
    send_igmp(peer, v3_query(10))
    assert expect_report(peer, within="1s").records[0].rtype == IS_EX


@pytest.mark.rfc("2236 2.3", "3376 4.1.2")
def test_query_with_bad_checksum_ignored(pair):
    """RFC 2236 §2.3: the checksum "is the 16-bit one's complement of the one's complement sum of
    the whole IGMP message" — a query failing it is dropped (counted); the intact one is
    answered."""
    net, host, peer = pair
    joined(net, host, peer, GROUP_A)
    bad = bytearray(v3_query(10))
    bad[2] ^= 0xFF
    send_igmp(peer, bytes(bad))
    peer.expect_nothing(for_="2s", matching=IGMP_OUT)
    assert host.igmp_counters()["bad_checksum"] == 1
    send_igmp(peer, v3_query(10))
    expect_report(peer, within="1s")


@pytest.mark.rfc("3376 7.1")
def test_ten_byte_query_ignored(pair):
    """RFC 3376 §7.1: "Query messages that do not match any of the above conditions (e.g., a
    Query of length 10 octets) MUST be silently ignored." Positive control: the 12-byte one."""
    net, host, peer = pair
    joined(net, host, peer, GROUP_A)
    q = v3_query(10)[:10]
    q = q[:2] + b"\0\0" + q[4:]
    from igmpkit import _fix

    send_igmp(peer, _fix(q))
    peer.expect_nothing(for_="2s", matching=IGMP_OUT)
    assert host.igmp_counters()["malformed"] == 1
    send_igmp(peer, v3_query(10))
    expect_report(peer, within="1s")


# ---- leaving -----------------------------------------------------------------------------


@pytest.mark.rfc("2236 3", "2236 9")
def test_v2_leave_sent_by_last_reporter(pair):
    """RFC 2236 §3: "When a host leaves a multicast group, if it was the last host to reply to a
    Query with a Membership Report for that group, it SHOULD send a Leave Group message to the
    all-routers multicast group (224.0.0.2)." The leave goes at the leave's instant."""
    net, host, peer = pair
    s = joined(net, host, peer, GROUP_A, version=2)
    t0 = net.now_ns
    s.leave(GROUP_A)
    r = expect_report(peer, within="1ms")
    assert r.type == 0x17 and r.group == GROUP_A and r.time_ns == t0
    assert r.pkt[IP].dst == "224.0.0.2" and r.pkt[Ether].dst == "01:00:5e:00:00:02"
    assert host.igmp_groups() == []
    peer.expect_nothing(for_="30s", matching=IGMP_OUT)


@pytest.mark.rfc("2236 3")
def test_v2_no_leave_when_another_host_reported_last(pair):
    """RFC 2236 §3: "If it was not the last host to reply to a Query, it MAY send nothing as
    there must be another member on the subnet." After another host's report for A, leaving A
    sends nothing (test_v2_leave_sent_by_last_reporter is the positive control)."""
    net, host, peer = pair
    s = joined(net, host, peer, GROUP_A, version=2)
    send_igmp(peer, v2_message(0x16, 0, GROUP_A), dst=GROUP_A, src="10.0.0.3")
    net.run(for_="1ms")
    s.leave(GROUP_A)
    peer.expect_nothing(for_="30s", matching=IGMP_OUT)
    assert host.igmp_groups() == []
    # positive control: the host still speaks IGMP: joining again reports at once
    s.join(GROUP_A)
    assert expect_report(peer, within="1ms").group == GROUP_A


@pytest.mark.rfc("2236 3")
def test_v2_closing_the_socket_leaves(pair):
    """Closing the only socket in the group is the host leaving it (RFC 2236 §3): a Leave to
    224.0.0.2 at once; a second socket in the group keeps the membership (no leave until it too
    closes)."""
    net, host, peer = pair
    s = joined(net, host, peer, GROUP_A, version=2)
    s2 = host.udp_socket(5001)
    s2.join(GROUP_A)  # a second member: no new report (already a member)
    s.close()
    peer.expect_nothing(for_="5s", matching=IGMP_OUT)
    s2.close()
    r = expect_report(peer, within="1ms")
    assert r.type == 0x17 and r.group == GROUP_A


@pytest.mark.rfc("3376 5.1")
def test_v3_leave_sends_to_include_twice(pair):
    """RFC 3376 §5.1: leaving is the change EXCLUDE({}) -> INCLUDE({}), a TO_IN({}) State-Change
    Report at once and [Robustness Variable] - 1 more within (0, 1 s]; then silence."""
    net, host, peer = pair
    s = joined(net, host, peer, GROUP_A)
    t0 = net.now_ns
    s.leave(GROUP_A)
    a = expect_report(peer, within="1ms")
    b = expect_report(peer, within="1s")
    assert a.time_ns == t0 and 0 < b.time_ns - a.time_ns <= S
    assert [(x.rtype, x.group) for x in a.records + b.records] == [(TO_IN, GROUP_A)] * 2
    peer.expect_nothing(for_="30s", matching=IGMP_OUT)


# ---- compatibility modes --------------------------------------------------------------------


@pytest.mark.rfc("3376 7.2.1", "3376 8.12")
def test_v2_query_puts_v3_host_in_v2_mode_for_260_seconds(pair):
    """RFC 3376 §7.2.1: "If an IGMPv2 query is received" the host runs IGMPv2 compatibility and
    answers with v2 reports, for the Older Version Querier Present Timeout (§8.12: "the
    Robustness Variable times (the Query Interval in the last Query received)) plus (one Query
    Response Interval)" = 2 * 125 + 10 = 260 s); after it a join reports in v3 again."""
    net, host, peer = pair
    joined(net, host, peer, GROUP_A)
    t0 = net.now_ns
    send_igmp(peer, v2_message(0x11, 100, "0.0.0.0"))
    r = expect_report(peer, within="10s")
    assert r.type == 0x16 and r.group == GROUP_A and r.pkt[IP].dst == GROUP_A
    assert host.igmp_state().mode == 2
    net.run(until=lambda: False, for_=(t0 + 260 * S - 1 - net.now_ns) / S)
    assert host.igmp_state().mode == 2
    net.run(for_="1ms")
    assert host.igmp_state().mode == 3
    host.udp_socket(5001).join(GROUP_B)
    r = expect_report(peer, within="1ms")
    assert r.type == 0x22 and r.records[0].rtype == TO_EX


@pytest.mark.rfc("2236 4", "3376 7.2.1")
def test_v1_query_answered_with_v1_report_and_no_leave(pair):
    """RFC 2236 §4: an IGMPv1 query's Max Response Time 0 "MUST be interpreted as a value of 100
    (10 seconds)"; the host answers with Version 1 reports (RFC 3376 §7.2.1) and, v1 having no
    Leave, leaving sends nothing."""
    net, host, peer = pair
    s = joined(net, host, peer, GROUP_A)
    t0 = net.now_ns
    send_igmp(peer, v2_message(0x11, 0, "0.0.0.0"))
    r = expect_report(peer, within="10s")
    assert r.type == 0x12 and r.group == GROUP_A and t0 < r.time_ns <= t0 + 10 * S
    assert host.igmp_state().mode == 1
    s.leave(GROUP_A)
    peer.expect_nothing(for_="30s", matching=IGMP_OUT)


@pytest.mark.rfc("3376 7.2.1")
def test_mode_change_cancels_pending_retransmissions(pair):
    """RFC 3376 §7.2.1: "Whenever a host changes its compatibility mode, it cancels all its
    pending response and retransmission timers." A v2 query right after a v3 join (whose
    retransmission is pending) leaves only the v2 answer to that query."""
    net, host, peer = pair
    host.udp_socket(5000).join(GROUP_A)
    first = expect_report(peer, within="1ms")
    assert first.type == 0x22
    send_igmp(peer, v2_message(0x11, 50, "0.0.0.0"))
    net.run(for_="10s")
    rs = reports(peer)
    assert [(r.type, r.group) for r in rs] == [(0x16, GROUP_A)]


# ---- delivery -------------------------------------------------------------------------------


@pytest.mark.rfc("1112 6.2", "1112 7.2")
def test_group_datagram_delivered_only_to_joined_sockets(pair):
    """RFC 1112 §7.2: "An incoming datagram destined to one of those groups [the host is a member
    of] is processed exactly the same way as datagrams destined to one of the host's individual
    addresses", for the sockets that asked: a datagram to A port 5000 reaches the socket that
    joined A; to A port 5001 it does not reach the socket there, which did not join; to B (no
    member) nothing; to 224.0.0.1 port 5001 the socket that joined nothing (every host is a
    member of all-systems)."""
    net, host, peer = pair
    a = host.udp_socket(5000)
    a.join(GROUP_A)
    other = host.udp_socket(5001)
    net.run(for_="5s")

    def send(group, port, data):
        peer.send(Ether(dst=group_mac(group)) / IP(dst=group, ttl=1) / UDP(sport=9, dport=port) / data)

    send(GROUP_A, 5000, b"A:5000")
    send(GROUP_A, 5001, b"A:5001")
    send(GROUP_B, 5000, b"B:5000")
    send("224.0.0.1", 5001, b"all:5001")
    net.run(for_="1ms")
    got_a = [g[0] for g in (a.recvfrom(), a.recvfrom()) if g]
    got_o = [g[0] for g in (other.recvfrom(), other.recvfrom()) if g]
    assert got_a == [b"A:5000"] and got_o == [b"all:5001"]
    # no port unreachable about a multicast (RFC 1122 §3.2.2)
    assert not [p for p in peer.received() if IP in p and p[IP].proto == 1]


def test_join_errors(pair):
    """Bad joins are refused with a clear error: a unicast group, a second join of the same group,
    leaving a group not joined."""
    from pyharness.errors import TernError

    net, host, peer = pair
    s = host.udp_socket(5000)
    with pytest.raises(TernError, match="multicast"):
        s.join("10.0.0.9")
    s.join(GROUP_A)
    with pytest.raises(TernError):
        s.join(GROUP_A)
    with pytest.raises(TernError):
        s.leave(GROUP_B)


# ---- more timing and compatibility ------------------------------------------------------


@pytest.mark.rfc("2236 2.5", "2236 3")
def test_v2_host_treats_v3_query_as_v2(pair):
    """RFC 2236 §2.5: "As long as the Type is one that is recognized, an IGMPv2 implementation
    MUST ignore anything past the first 8 octets while processing the packet." A v2 host answers
    a 12-byte v3 query with a v2 report within the Max Response Time byte (20: 2 s)."""
    net, host, peer = pair
    joined(net, host, peer, GROUP_A, version=2)
    t0 = net.now_ns
    send_igmp(peer, v3_query(20))
    r = expect_report(peer, within="2s")
    assert r.type == 0x16 and r.group == GROUP_A and t0 < r.time_ns <= t0 + 2 * S
    assert host.igmp_state().mode == 2


@pytest.mark.rfc("3376 8.12", "3376 4.1.7")
def test_older_querier_timeout_follows_the_learned_query_interval(pair):
    """RFC 3376 §8.12 uses "the Query Interval in the last Query received": a v3 query with QQIC
    60 first, then a v2 query with Max Resp 10 s: v2 compatibility lasts 2 * 60 + 10 = 130 s."""
    net, host, peer = pair
    joined(net, host, peer, GROUP_A)
    send_igmp(peer, v3_query(10, qqic=60))
    net.run(for_="2s")
    assert host.igmp_state().query_interval == 60
    t0 = net.now_ns
    send_igmp(peer, v2_message(0x11, 100, "0.0.0.0"))
    net.run(until=lambda: False, for_=(t0 + 130 * S - 1 - net.now_ns) / S)
    assert host.igmp_state().mode == 2
    net.run(for_="1ms")
    assert host.igmp_state().mode == 3


@pytest.mark.rfc("2236 4", "2236 8.11")
def test_v2_host_v1_router_present_for_400_seconds(pair):
    """RFC 2236 §4: the v1/v2 state "MUST be based upon whether or not an IGMPv1 query was heard
    in the last [Version 1 Router Present Timeout] seconds" (§8.11: 400 s): a v2 host sends v1
    reports until 400 s after the v1 query, v2 reports after."""
    net, host, peer = pair
    joined(net, host, peer, GROUP_A, version=2)
    t0 = net.now_ns
    send_igmp(peer, v2_message(0x11, 0, "0.0.0.0"))
    r = expect_report(peer, within="10s")
    assert r.type == 0x12
    net.run(until=lambda: False, for_=(t0 + 400 * S - 1 - net.now_ns) / S)
    assert host.igmp_state().mode == 1
    net.run(for_="1ms")
    assert host.igmp_state().mode == 2
    send_igmp(peer, v2_message(0x11, 10, "0.0.0.0"))
    assert expect_report(peer, within="1s").type == 0x16


@pytest.mark.rfc("3376 5.2")
def test_v3_pending_general_response_sooner_absorbs_group_query(pair):
    """RFC 3376 §5.2 rule 1: "If there is a pending response to a previous General Query
    scheduled sooner than the selected delay, no additional response needs to be scheduled." A
    general query with Max Resp 0.1 s, then a group query with 25 s: one report only, within
    0.1 s, listing the group."""
    net, host, peer = pair
    joined(net, host, peer, GROUP_A)
    t0 = net.now_ns
    send_igmp(peer, v3_query(1))
    send_igmp(peer, v3_query(250, group=GROUP_A), dst=GROUP_A)
    net.run(for_="30s")
    rs = reports(peer)
    assert len(rs) == 1 and rs[0].time_ns - t0 <= S // 10
    assert [(x.rtype, x.group) for x in rs[0].records] == [(IS_EX, GROUP_A)]


@pytest.mark.rfc("3376 4.1.1", "3376 5.2")
def test_v3_max_resp_code_zero_answers_at_once(pair):
    """RFC 3376 §4.1.1: the Max Resp Code gives "the maximum time allowed before sending a
    responding report"; 0 leaves no room for a delay: the report goes at the query's instant."""
    net, host, peer = pair
    joined(net, host, peer, GROUP_A)
    send_igmp(peer, v3_query(0))
    t0 = net.now_ns
    r = expect_report(peer, within="10ms")
    assert r.time_ns - t0 < 1_000_000 and r.records[0].rtype == IS_EX


@pytest.mark.rfc("3376 5.1")
def test_v3_two_joins_at_one_instant_share_one_report(pair):
    """Two groups joined at the same instant: one State-Change Report carries both records (RFC
    3376 §5.1 sends the changes of the interface state; pending records go out together)."""
    net, host, peer = pair
    s = host.udp_socket(5000)
    s.join(GROUP_A)
    s.join(GROUP_B)
    r = expect_report(peer, within="1ms")
    assert sorted((x.rtype, x.group) for x in r.records) == [(TO_EX, GROUP_A), (TO_EX, GROUP_B)]


@pytest.mark.rfc("3376 5.1")
def test_v3_rejoin_during_leave_retransmissions(pair):
    """RFC 3376 §5.1: a new change of state while reports of the previous one are pending takes
    their place: a leave sends TO_IN, a join 1 ms later sends TO_EX at once, and the pending TO_IN
    retransmission never goes — only one more TO_EX, within 1 s."""
    net, host, peer = pair
    s = joined(net, host, peer, GROUP_A)
    s.leave(GROUP_A)
    net.run(for_="1ms")
    t_join = net.now_ns
    s.join(GROUP_A)
    net.run(for_="5s")
    rs = reports(peer)
    kinds = [(r.records[0].rtype, r.time_ns) for r in rs]
    assert [k for k, _ in kinds] == [TO_IN, TO_EX, TO_EX]
    assert kinds[1][1] == t_join and 0 < kinds[2][1] - t_join <= S
    assert host.igmp_groups() == [GROUP_A]


@pytest.mark.rfc("3376 4.1.6")
def test_v3_qrv_zero_keeps_robustness(pair):
    """RFC 3376 §4.1.6: "If non-zero, the QRV field contains the [Robustness Variable] value used
    by the querier" — a QRV of 0 leaves the host's robustness at 2 (a QRV of 3 sets it:
    the positive control)."""
    net, host, peer = pair
    send_igmp(peer, v3_query(10, qrv=0))
    net.run(for_="1s")
    assert host.igmp_state().robustness == 2
    send_igmp(peer, v3_query(10, qrv=3))
    net.run(for_="1s")
    assert host.igmp_state().robustness == 3


@pytest.mark.rfc("1112 6.1")
def test_socket_ttl_overrides_multicast_default(pair):
    """RFC 1112 §6.1: the default TTL of 1 applies "if the upper-layer protocol chooses not to
    specify a time-to-live": a socket with TTL 8 sends its multicast with 8."""
    net, host, peer = pair
    s = host.udp_socket(5000)
    s.set_ttl(8)
    s.sendto(b"x", (GROUP_A, 6000))
    d = peer.expect(IP(dst=GROUP_A) / UDP(dport=6000), within="1ms")
    assert d[IP].ttl == 8


@pytest.mark.rfc("2236 4", "3376 7.2.1")
def test_version_change_after_an_expired_v1_querier(pair):
    """An IGMPv1 querier heard long ago no longer counts (RFC 2236 §4: "...whether or not an
    IGMPv1 query was heard in the last [Version 1 Router Present Timeout] seconds"): setting the
    version to 3 500 s after it gives IGMPv3 at once, and a join reports in v3."""
    net, host, peer = pair
    joined(net, host, peer, GROUP_A, version=2)
    send_igmp(peer, v2_message(0x11, 0, "0.0.0.0"))
    assert expect_report(peer, within="10s").type == 0x12
    net.run(for_="500s")
    host.igmp_set_version(3)
    assert host.igmp_state().mode == 3
    host.udp_socket(5001).join(GROUP_B)
    assert expect_report(peer, within="1ms").type == 0x22


def _second_report_delay(seed: int) -> int:
    from pyharness import Network

    net = Network(seed=seed)
    host = net.host("dut", ipv4="10.0.0.1/24")
    peer = net.peer("peer", ipv4="10.0.0.2/24")
    net.link(host, peer)
    host.udp_socket(5000).join(GROUP_A)
    a = expect_report(peer, within="1ms")
    b = expect_report(peer, within="1s")
    return b.time_ns - a.time_ns


@pytest.mark.rfc("3376 5.1")
def test_report_delays_come_from_the_seeded_generator():
    """The random retransmission delay (RFC 3376 §5.1, "chosen at random from the range (0,
    [Unsolicited Report Interval])") comes from the host's seeded generator: the same seed gives
    the same nanosecond, other seeds other delays, all within (0, 1 s]."""
    d1 = [_second_report_delay(1) for _ in range(2)]
    others = {_second_report_delay(s) for s in (2, 3, 4)}
    assert d1[0] == d1[1]
    assert all(0 < d <= S for d in others | {d1[0]})
    assert len(others | {d1[0]}) == 4
