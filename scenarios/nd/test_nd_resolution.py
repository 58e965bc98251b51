"""Address resolution and Neighbor Unreachability Detection (RFC 4861 sections 7.2 and 7.3): the
solicitations the DUT sends, their timing (RetransTimer 1 s, MAX_MULTICAST_SOLICIT 3,
DELAY_FIRST_PROBE_TIME 5 s, MAX_UNICAST_SOLICIT 3, REACHABLE_TIME 30 s with the random factor), the
queue of packets waiting, and the advertisements that update the cache.

The peer here does not answer solicitations by itself (nd=False): each scenario answers, or not.

RFC 4861 section 7.2.2: "While awaiting a response, the sender SHOULD retransmit Neighbor
Solicitation messages approximately every RetransTimer milliseconds, even in the absence of
additional traffic to the neighbor. Retransmissions MUST be rate-limited to at most one solicitation
per neighbor every RetransTimer milliseconds. If no Neighbor Advertisement is received after
MAX_MULTICAST_SOLICIT solicitations, address resolution has failed. The sender MUST return ICMP
destination unreachable indications with code 3 (Address Unreachable) for each packet queued
awaiting address resolution."
"""

from __future__ import annotations

from typing import Any

import pytest
from scapy.layers.inet6 import (ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr,
                                ICMPv6NDOptSrcLLAddr, IPv6)
from scapy.layers.inet import TCP
from scapy.layers.l2 import Ether

from v6kit import DUT6, PEER6, at, bench6, ns, to_dut
from pyharness.dut import tern_stack
from pyharness.expect import ExpectationError

pytestmark = pytest.mark.area("nd")

SN_PEER = "ff02::1:ff00:2"
NEW_MAC = "02:00:00:00:aa:bb"


@pytest.fixture
def silent(net: Any) -> tuple[Any, Any]:
    """(dut, peer) with a peer that answers no solicitation by itself."""
    dut, peer, _ = bench6(net, nd=False)
    return dut, peer


def na(dut, peer, solicited=True, override=True, router=False, mac=None, dst=DUT6, tll=True):
    pkt = Ether(src=peer.mac, dst=dut.mac) / IPv6(src=PEER6, dst=dst, hlim=255) / ICMPv6ND_NA(
        tgt=PEER6, R=int(router), S=int(solicited), O=int(override))
    if tll:
        pkt = pkt / ICMPv6NDOptDstLLAddr(lladdr=mac or peer.mac)
    return pkt


def ping(dut, peer, ident, seq=1, src=PEER6, dst=DUT6):
    peer.send(to_dut(dut, peer, ICMPv6EchoRequest(id=ident, seq=seq), src=src, dst=dst))


def multicast_ns(src=DUT6):
    return IPv6(src=src, dst=SN_PEER, hlim=255) / ICMPv6ND_NS(tgt=PEER6)


def resolve(dut, peer, net, ident=1):
    """Make the entry REACHABLE: a packet to the peer, its solicitation answered (solicited NA)."""
    ping(dut, peer, ident)
    peer.expect(ICMPv6ND_NS(tgt=PEER6), within="1ms")
    peer.send(na(dut, peer))
    peer.expect(ICMPv6EchoReply(id=ident), within="1ms")
    assert dut.nd_lookup(PEER6)[1] == "REACHABLE"
    return net.now_ns


@pytest.mark.rfc("4861 7.2.2")
def test_resolution_solicits_the_solicited_node_group(silent, net):
    """Section 7.2.2: "this entails creating a Neighbor Cache entry in the INCOMPLETE state and
    transmitting a Neighbor Solicitation message targeted at the neighbor. The solicitation is sent to
    the solicited-node multicast address corresponding to the target address."
    From the address of the packet that prompted it ("that address SHOULD be placed in the IP Source
    Address of the outgoing solicitation"), with the source link-layer address, hop limit 255."""
    dut, peer = silent
    ping(dut, peer, 1)
    req = peer.expect(Ether(src=dut.mac, dst="33:33:ff:00:00:02") / multicast_ns() /
                      ICMPv6NDOptSrcLLAddr(lladdr=dut.mac), within="1ms")
    assert req[ICMPv6ND_NS].code == 0
    assert dut.nd_lookup(PEER6) == (None, "INCOMPLETE")


@pytest.mark.rfc("4861 7.2.2")
def test_solicitation_source_follows_the_prompting_packet(silent, net):
    """The echo reply to the peer's link-local address comes from ours: so does its solicitation."""
    dut, peer = silent
    ping(dut, peer, 2, src=peer.link_local, dst=dut.link_local)
    peer.expect(IPv6(src=dut.link_local, hlim=255) / ICMPv6ND_NS(tgt=peer.link_local), within="1ms")


@pytest.mark.rfc("4861 7.2.2", "4861 10")
def test_solicitations_are_retransmitted_every_second_three_times_then_resolution_fails(silent, net):
    """RETRANS_TIMER 1,000 milliseconds and MAX_MULTICAST_SOLICIT 3 transmissions (section 10): NS at
    t0, t0 + 1 s, t0 + 2 s; at t0 + 3 s resolution has failed, the queued reply is dropped and no
    further solicitation goes out."""
    dut, peer = silent
    t0 = net.now_ns
    ping(dut, peer, 3)
    for k in range(3):
        peer.expect(multicast_ns(), at=at(t0 + ns(k)), tolerance="1us")
    peer.expect_nothing(for_="5s", matching=ICMPv6ND_NS())
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_resolution_failed == 1
    assert dut.nd_lookup(PEER6) == (None, "NONE")


@pytest.mark.rfc("4861 7.2.2")
def test_one_solicitation_per_retrans_timer_whatever_the_traffic(silent, net):
    """"Retransmissions MUST be rate-limited to at most one solicitation per neighbor every RetransTimer
    milliseconds.": five packets in the first second make one solicitation."""
    dut, peer = silent
    t0 = net.now_ns
    for i in range(5):
        ping(dut, peer, 10, seq=i)
        net.run(for_="100ms")
    peer.expect(multicast_ns(), at=at(t0), tolerance="1us")
    peer.expect(multicast_ns(), at=at(t0 + ns(1)), tolerance="1us")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_ns_sent == 2


@pytest.mark.rfc("4861 7.2.5")
def test_advertisement_completes_resolution_and_sends_the_queued_packet(silent, net):
    """Section 7.2.5: "It records the link-layer address in the Neighbor Cache entry. - If the
    advertisement's Solicited flag is set, the state of the entry is set to REACHABLE" and "It sends any
    packets queued for the neighbor awaiting address resolution.\""""
    dut, peer = silent
    ping(dut, peer, 4)
    peer.expect(ICMPv6ND_NS(tgt=PEER6), within="1ms")
    peer.send(na(dut, peer))
    peer.expect(Ether(dst=peer.mac) / IPv6(src=DUT6, dst=PEER6) / ICMPv6EchoReply(id=4), within="1ms")
    assert dut.nd_lookup(PEER6) == (peer.mac, "REACHABLE")


@pytest.mark.rfc("4861 7.2.5")
def test_unsolicited_advertisement_completes_resolution_as_stale(silent, net):
    """"otherwise, it is set to STALE.\""""
    dut, peer = silent
    ping(dut, peer, 5)
    peer.expect(ICMPv6ND_NS(tgt=PEER6), within="1ms")
    peer.send(na(dut, peer, solicited=False))
    peer.expect(ICMPv6EchoReply(id=5), within="1ms")
    # STALE, and the queued packet sent to it moved it on to DELAY (section 7.3.3)
    assert dut.nd_lookup(PEER6) == (peer.mac, "DELAY")


@pytest.mark.rfc("4861 7.2.5")
def test_advertisement_without_target_link_layer_address_leaves_resolution_pending(silent, net):
    """"If the link layer has addresses and no Target Link-Layer Address option is included, the
    receiving node SHOULD silently discard the received advertisement.\""""
    dut, peer = silent
    t0 = net.now_ns
    ping(dut, peer, 6)
    peer.expect(ICMPv6ND_NS(tgt=PEER6), within="1ms")
    peer.send(na(dut, peer, tll=False))
    peer.expect(multicast_ns(), at=at(t0 + ns(1)), tolerance="1us")  # still soliciting
    assert dut.nd_lookup(PEER6) == (None, "INCOMPLETE")
    peer.send(na(dut, peer))
    peer.expect(ICMPv6EchoReply(id=6), within="1ms")


@pytest.mark.rfc("4861 7.1.2")
def test_advertisement_to_multicast_with_solicited_flag_is_discarded(silent, net):
    """Section 7.1.2: "If the IP Destination Address is a multicast address the Solicited flag is
    zero.\""""
    dut, peer = silent
    ping(dut, peer, 7)
    peer.expect(ICMPv6ND_NS(tgt=PEER6), within="1ms")
    bad = na(dut, peer, dst="ff02::1")
    bad[Ether].dst = "33:33:00:00:00:01"
    peer.send(bad)
    peer.expect_nothing(for_="100ms", matching=ICMPv6EchoReply())
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_invalid == 1
    peer.send(na(dut, peer))
    peer.expect(ICMPv6EchoReply(id=7), within="1ms")


@pytest.mark.rfc("4861 7.1.2")
def test_advertisement_with_hop_limit_below_255_is_discarded(silent, net):
    dut, peer = silent
    ping(dut, peer, 8)
    peer.expect(ICMPv6ND_NS(tgt=PEER6), within="1ms")
    bad = na(dut, peer)
    bad[IPv6].hlim = 254
    peer.send(bad)
    peer.expect_nothing(for_="100ms", matching=ICMPv6EchoReply())
    peer.send(na(dut, peer))
    peer.expect(ICMPv6EchoReply(id=8), within="1ms")


@pytest.mark.rfc("4861 7.2.5")
def test_advertisement_with_no_entry_creates_none(silent, net):
    """"If no entry exists, the advertisement SHOULD be silently discarded.\""""
    dut, peer = silent
    peer.send(na(dut, peer, solicited=False))
    peer.expect_nothing(for_="100ms")
    assert dut.nd_lookup(PEER6) == (None, "NONE")
    # positive control: with a packet waiting, the same advertisement is taken
    ping(dut, peer, 9)
    peer.expect(ICMPv6ND_NS(tgt=PEER6), within="1ms")
    peer.send(na(dut, peer, solicited=False))
    peer.expect(ICMPv6EchoReply(id=9), within="1ms")


@pytest.mark.rfc("4861 7.2.2")
@pytest.mark.dut("tern", reason="Tern's queue of 3 packets per neighbour; Linux bounds it in bytes (unres_qlen_bytes), so five echo replies do not overflow it: RFC 4861 7.2.2 leaves the size open")
def test_queue_keeps_the_newest_packets(silent, net):
    """"the number of queued packets per neighbor SHOULD be limited to some small value. When a queue
    overflows, the new arrival SHOULD replace the oldest entry." Three per neighbour here: of five
    echo requests, the last three are answered once resolution completes."""
    dut, peer = silent
    for seq in range(1, 6):
        ping(dut, peer, 11, seq=seq)
    peer.expect(ICMPv6ND_NS(tgt=PEER6), within="1ms")
    peer.send(na(dut, peer))
    got = [peer.expect(ICMPv6EchoReply(id=11), within="1ms")[ICMPv6EchoReply].seq for _ in range(3)]
    assert got == [3, 4, 5]
    peer.expect_nothing(for_="50ms", matching=ICMPv6EchoReply())
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_queue_full == 2


@pytest.mark.rfc("4861 6.3.2", "4861 10")
def test_reachable_time_is_the_random_factor_times_30_s(net):
    """Section 6.3.2: ReachableTime is "a uniformly distributed random value between MIN_RANDOM_FACTOR
    and MAX_RANDOM_FACTOR times BaseReachableTime", REACHABLE_TIME 30,000 ms, factors 0.5 and 1.5 (section
    10). Drawn from the host's seeded generator: the same seed gives the same value."""
    dut, _, _ = bench6(net)
    reach, retrans, hop = dut.nd_params()
    assert ns(15) <= reach <= ns(45)
    assert retrans == ns(1) and hop == 64
    other = net.host("twin", ipv6="fd00::9/64")
    assert other.nd_params()[0] != reach  # another host's seed, another draw


@pytest.mark.rfc("4861 7.3.3")
@pytest.mark.dut("tern", reason="checks REACHABLE -> STALE at the nanosecond of the drawn ReachableTime; Linux's neighbour timer runs on the timer wheel (up to 2 s late at 30 s) and the wait exceeds the real-time budget")
def test_reachable_becomes_stale_after_reachable_time(silent, net):
    """Section 7.3.3: "When ReachableTime milliseconds have passed since receipt of the last reachability
    confirmation for a neighbor, the Neighbor Cache entry's state changes from REACHABLE to STALE." At
    the nanosecond, with the host's drawn ReachableTime."""
    dut, peer = silent
    t = resolve(dut, peer, net)
    reach = dut.nd_params()[0]
    net.run(until=at(t + reach - 1))
    assert dut.nd_lookup(PEER6)[1] == "REACHABLE"
    net.run(until=at(t + reach))
    assert dut.nd_lookup(PEER6) == (peer.mac, "STALE")
    # nothing is sent for it: STALE waits for traffic
    peer.expect_nothing(for_="10s", matching=ICMPv6ND_NS())
    ping(dut, peer, 2)
    peer.expect(ICMPv6EchoReply(id=2), within="1ms")


@pytest.mark.rfc("4861 7.3.3")
def test_stale_entry_probes_after_delay_first_probe_time(silent, net):
    """"The first time a node sends a packet to a neighbor whose entry is STALE, the sender changes the
    state to DELAY and sets a timer to expire in DELAY_FIRST_PROBE_TIME seconds. If the entry is still
    in the DELAY state when the timer expires, the entry's state changes to PROBE." and "Upon entering
    the PROBE state, a node sends a unicast Neighbor Solicitation message to the neighbor using the
    cached link-layer address.\""""
    dut, peer = silent
    peer.send(Ether(src=peer.mac, dst=dut.mac) / IPv6(src=PEER6, dst=DUT6, hlim=255) / ICMPv6ND_NS(tgt=DUT6) /
              ICMPv6NDOptSrcLLAddr(lladdr=peer.mac))
    peer.expect(ICMPv6ND_NA(), within="1ms")
    # The entry is STALE, then DELAY (the advertisement was sent to it). An unsolicited advertisement with
    # a new address makes it STALE again (section 7.2.5: "If the Solicited flag is zero and the link-layer
    # address was updated with a different address, the state MUST be set to STALE"), with nothing sent.
    peer.send(na(dut, peer, solicited=False, override=True, mac=NEW_MAC))
    net.run(for_="1ms")
    assert dut.nd_lookup(PEER6) == (NEW_MAC, "STALE")
    t0 = net.now_ns
    ping(dut, peer, 12)
    peer.expect(Ether(dst=NEW_MAC) / IPv6(dst=PEER6) / ICMPv6EchoReply(id=12), at=at(t0), tolerance="1us")
    assert dut.nd_lookup(PEER6)[1] == "DELAY"
    probe = peer.expect(Ether(dst=NEW_MAC) / IPv6(dst=PEER6, hlim=255) / ICMPv6ND_NS(tgt=PEER6),
                        at=at(t0 + ns(5)), tolerance="1us")
    # From one of the DUT's addresses: section 7.2.2 names the prompting packet's source, "Otherwise, any one
    # of the addresses assigned to the interface should be used"; a probe has no prompting packet queued (the
    # Tern stack uses the global address, Linux the link-local one).
    assert probe[IPv6].src in (DUT6, dut.link_local)
    assert probe is not None and dut.nd_lookup(PEER6)[1] == "PROBE"


@pytest.mark.rfc("4861 7.3.3", "4861 10")
@pytest.mark.dut("tern", reason="checks the entry's end at the nanosecond (+8 s); Linux's neighbour timers run on the timer wheel, hundreds of ms late at 5-8 s")
def test_unanswered_probes_delete_the_entry(silent, net):
    """"While in the PROBE state, a node retransmits Neighbor Solicitation messages every RetransTimer
    milliseconds until reachability confirmation is obtained." and "If no response is received after
    waiting RetransTimer milliseconds after sending the MAX_UNICAST_SOLICIT solicitations,
    retransmissions cease and the entry SHOULD be deleted." MAX_UNICAST_SOLICIT 3: probes at +5, +6,
    +7 s, the entry gone at +8 s."""
    dut, peer = silent
    peer.send(Ether(src=peer.mac, dst=dut.mac) / IPv6(src=PEER6, dst=DUT6, hlim=255) / ICMPv6ND_NS(tgt=DUT6) /
              ICMPv6NDOptSrcLLAddr(lladdr=peer.mac))
    peer.expect(ICMPv6ND_NA(), within="1ms")
    t0 = net.now_ns
    ping(dut, peer, 13)
    peer.expect(ICMPv6EchoReply(id=13), within="1ms")
    for k in (5, 6, 7):
        peer.expect(Ether(dst=peer.mac) / IPv6(dst=PEER6) / ICMPv6ND_NS(tgt=PEER6), at=at(t0 + ns(k)),
                    tolerance="1us")
    net.run(until=at(t0 + ns(8) - 1))
    assert dut.nd_lookup(PEER6)[1] == "PROBE"
    net.run(until=at(t0 + ns(8)))
    assert dut.nd_lookup(PEER6) == (None, "NONE")
    if tern_stack(dut):  # the Tern stack's own counters (a Linux DUT shows the same on the wire)
        assert dut.counters().nd_unreachable == 1
    # "Subsequent traffic to that neighbor will recreate the entry and perform address resolution again."
    ping(dut, peer, 14)
    peer.expect(Ether(dst="33:33:ff:00:00:02") / ICMPv6ND_NS(tgt=PEER6), within="1ms")


@pytest.mark.rfc("4861 7.3.3", "4861 7.2.5")
def test_answered_probe_makes_the_entry_reachable(silent, net):
    """A solicited advertisement in answer to the probe: REACHABLE, no further probe."""
    dut, peer = silent
    peer.send(Ether(src=peer.mac, dst=dut.mac) / IPv6(src=PEER6, dst=DUT6, hlim=255) / ICMPv6ND_NS(tgt=DUT6) /
              ICMPv6NDOptSrcLLAddr(lladdr=peer.mac))
    peer.expect(ICMPv6ND_NA(), within="1ms")
    t0 = net.now_ns
    ping(dut, peer, 15)
    peer.expect(ICMPv6EchoReply(id=15), within="1ms")
    peer.expect(ICMPv6ND_NS(tgt=PEER6), at=at(t0 + ns(5)), tolerance="1us")
    peer.send(na(dut, peer))
    net.run(for_="1ms")
    assert dut.nd_lookup(PEER6) == (peer.mac, "REACHABLE")
    peer.expect_nothing(for_="10s", matching=ICMPv6ND_NS())
    ping(dut, peer, 16)
    peer.expect(ICMPv6EchoReply(id=16), within="1ms")


@pytest.mark.rfc("4861 7.2.5")
def test_override_clear_with_a_new_address_only_makes_reachable_stale(silent, net):
    """"If the Override flag is clear and the supplied link-layer address differs from that in the
    cache, then one of two actions takes place: a. If the state of the entry is REACHABLE, set it to
    STALE, but do not update the entry in any other way.\""""
    dut, peer = silent
    resolve(dut, peer, net)
    peer.send(na(dut, peer, override=False, mac=NEW_MAC))
    net.run(for_="1ms")
    assert dut.nd_lookup(PEER6) == (peer.mac, "STALE")
    ping(dut, peer, 17)
    peer.expect(Ether(dst=peer.mac) / ICMPv6EchoReply(id=17), within="1ms")


@pytest.mark.rfc("4861 7.2.5")
def test_override_clear_with_a_new_address_is_ignored_when_stale(silent, net):
    """"b. Otherwise, the received advertisement should be ignored and MUST NOT update the cache.\""""
    dut, peer = silent
    resolve(dut, peer, net)
    peer.send(na(dut, peer, override=False, mac=NEW_MAC))
    peer.send(na(dut, peer, override=False, mac="02:00:00:00:cc:dd", solicited=True))
    net.run(for_="1ms")
    assert dut.nd_lookup(PEER6) == (peer.mac, "STALE")
    ping(dut, peer, 18)
    peer.expect(Ether(dst=peer.mac) / ICMPv6EchoReply(id=18), within="1ms")


@pytest.mark.rfc("4861 7.2.5")
def test_override_set_replaces_the_address(silent, net):
    """"II. If the Override flag is set, ... the received advertisement MUST update the Neighbor Cache
    entry as follows: - The link-layer address in the Target Link-Layer Address option MUST be inserted
    in the cache (if one is supplied and differs from the already recorded address). - If the Solicited
    flag is set, the state of the entry MUST be set to REACHABLE. If the Solicited flag is zero and the
    link-layer address was updated with a different address, the state MUST be set to STALE.\""""
    dut, peer = silent
    resolve(dut, peer, net)
    peer.send(na(dut, peer, override=True, solicited=False, mac=NEW_MAC))
    net.run(for_="1ms")
    assert dut.nd_lookup(PEER6) == (NEW_MAC, "STALE")
    ping(dut, peer, 19)
    peer.expect(Ether(dst=NEW_MAC) / ICMPv6EchoReply(id=19), within="1ms")


@pytest.mark.rfc("4861 7.2.5")
def test_solicited_advertisement_with_the_same_address_confirms_reachability(silent, net):
    """The Override flag clear but the same address: rule II applies; Solicited set: REACHABLE."""
    dut, peer = silent
    resolve(dut, peer, net)
    peer.send(na(dut, peer, override=False, solicited=False, mac=NEW_MAC))  # REACHABLE -> STALE
    net.run(for_="1ms")
    peer.send(na(dut, peer, override=False, solicited=True))
    net.run(for_="1ms")
    assert dut.nd_lookup(PEER6) == (peer.mac, "REACHABLE")
    ping(dut, peer, 20)
    peer.expect(ICMPv6EchoReply(id=20), within="1ms")


@pytest.mark.rfc("5681 3.1", "6298 5", "4861 7.2.2")
@pytest.mark.dut("tern", reason="the queue replacing a held SYN by its retransmission is Tern's rule (above)")
def test_a_syn_that_never_left_keeps_the_initial_window(silent, net):
    """The SYN that replaced its queued copy is the only one that crossed the link (the test above): it is the
    first transmission, not a retransmission after a lost SYN (scenarios/tcp/test_syn_held_for_arp.py, over
    ARP), so the connection starts with RFC 6928's 10 segments, not RFC 5681 §3.1's one (before: one)."""
    dut, peer = silent
    t0 = net.now_ns
    sock = dut.tcp_connect(PEER6, 7000, nodelay=True)
    peer.expect(ICMPv6ND_NS(tgt=PEER6), at=at(t0), tolerance="1ns")
    peer.expect(ICMPv6ND_NS(tgt=PEER6), at=at(t0 + 1_000_000_000), tolerance="1ns")
    peer.expect_nothing(for_="200ms", matching=TCP())
    peer.send(na(dut, peer))
    conn = peer.tcp(DUT6, local_port=7000, isn=5000, mss=1440)
    conn.expect(flags="S", at=at(t0 + 1_200_000_000), tolerance="1ns")
    conn.send(flags="SA")
    conn.expect(flags="A", within="1ms")
    sock.send(bytes(20 * 1440))
    segs = []
    while True:
        try:
            p = peer.expect(TCP(dport=7000), within="20ms")
        except ExpectationError:
            break
        if len(bytes(p[TCP].payload)) > 0:
            segs.append(p)
    assert len(segs) == 10


@pytest.mark.rfc("4861 7.2.2", "1122 2.3.2.2")
@pytest.mark.dut("tern", reason="which of a connection's queued segments the kernel keeps is its own choice "
                 "(RFC 4861 7.2.2 only asks for at least one): this is Tern's rule")
def test_a_syn_retransmitted_while_resolving_replaces_the_queued_one(silent, net):
    """"The queue MUST hold at least one packet, and MAY contain more." (section 7.2.2). The SYN that TCP sends
    again while the first solicitation is unanswered (RFC 6298's initial RTO, 1 s, as RetransTimer) is the latest
    copy of the same segment: it replaces the queued one, so one SYN leaves at the advertisement, the
    retransmission (issue 22; before, both left together). Control: the echo requests of
    test_queue_keeps_the_newest_packets, different packets, all stay."""
    dut, peer = silent
    t0 = net.now_ns
    dut.tcp_connect(PEER6, 7000)
    peer.expect(ICMPv6ND_NS(tgt=PEER6), at=at(t0), tolerance="1ns")
    peer.expect(ICMPv6ND_NS(tgt=PEER6), at=at(t0 + 1_000_000_000), tolerance="1ns")
    peer.expect_nothing(for_="200ms", matching=TCP())
    peer.send(na(dut, peer))
    peer.expect(TCP(flags="S", dport=7000), at=at(t0 + 1_200_000_000), tolerance="1ns")
    peer.expect_nothing(for_="1ns", matching=TCP(flags="S"))
    if tern_stack(dut):
        assert dut.counters().nd_queue_replaced == 1
