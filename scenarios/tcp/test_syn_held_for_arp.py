"""A SYN whose earlier copies never left the host is a first transmission (issue 22).

The ARP queue keeps the latest copy of a TCP segment (RFC 1122 §2.3.2.2, stack/src/core/held.c): when the
first ARP request of a connection goes unanswered, the SYN's retransmission at its RTO (1 s, RFC 6298 (2.1))
replaces the held SYN, and only that copy leaves when the address resolves. The network then saw one SYN and
lost nothing. Before, the stack took the timer's copy for a retransmission all the same: the connection began
with RFC 5681 §3.1's one-segment window (for a lost SYN or SYN/ACK), the timer backed off (RFC 6298 (5.5)),
Karn's rule (RFC 6298 §3) discarded the handshake's RTT sample, and RFC 6298 (5.7) set the RTO to 3 s for the
start of data: "This document reduces the initial RTO from the previous 3 seconds [PA00] to 1 second, unless the
SYN or the ACK of the SYN is lost, in which case the default RTO is reverted to 3 seconds before data
transmission begins." (RFC 6298 §7). RFC 6298 §5: "An implementation MUST manage the retransmission timer(s) in
such a way that a segment is never retransmitted too early, i.e., less than one RTO after the previous
transmission of that segment." The copy that left is the first transmission: the full initial window, the timer
unchanged, a sample from its send time, no 3 s RTO. The controls: a SYN lost on the wire (one copy did leave)
keeps every rule of a retransmission, including when a later copy is held and replaced.

The bench: the peer answers no ARP request by itself; the scenario answers the second one, 200 ms after it.
"""

from __future__ import annotations

from typing import Any

import pytest
from scapy.all import ARP, TCP, Ether

from pyharness.dut import PEER_IP, make_tern_dut
from tcpkit import tcp_payload
from test_dsack_undo import data_segs

pytestmark = [
    pytest.mark.dut("tern", reason="the ARP queue replacing a held SYN by its retransmission is Tern's (held.c)"),
    pytest.mark.ipv4_only("about ARP's hold queue (the ND queue shares held.c)"),
]

SEC = 1_000_000_000
MS = 1_000_000
PORT = 7000
MSS = 1460


def answer(peer: Any, req: Any) -> None:
    """The peer's reply to an ARP request it received."""
    peer.send(Ether(dst=req[Ether].src) / ARP(op=2, hwsrc=peer.mac, psrc=req[ARP].pdst,
                                                hwdst=req[ARP].hwsrc, pdst=req[ARP].psrc))


def at(t: int) -> str:
    return f"{t}ns"


def syn_behind_lost_arp(net: Any, congestion: str = "newreno", ts: bool = True, **tcp: Any) -> tuple:
    """Connect with the first ARP request lost: the second (t0 + 1 s, with the SYN's RTO) is answered 200 ms
    later, and exactly one SYN leaves then, at t0 + 1.2 s. Returns (dut, peer, sock, conn, syn, t0)."""
    dut, peer, _ = make_tern_dut(net, peer_arp=False, tcp={"congestion": congestion, **tcp})
    t0 = net.now_ns
    sock = dut.tcp_connect(PEER_IP, PORT, timestamps=ts, sack=True, nodelay=True)
    peer.expect(ARP(op=1, pdst=PEER_IP), at=at(t0), tolerance="1ns")
    req = peer.expect(ARP(op=1, pdst=PEER_IP), at=at(t0 + SEC), tolerance="1ns")
    peer.expect_nothing(for_="200ms", matching=TCP())
    answer(peer, req)
    conn = peer.tcp(dut, local_port=PORT, isn=5000, ts=ts, sack=True, mss=MSS)
    syn = conn.expect(flags="S", at=at(t0 + 1200 * MS), tolerance="1ns")
    peer.expect_nothing(for_="1ns", matching=TCP(flags="S"))
    assert dut.counters().arp_queue_replaced == 1, "the retransmission replaced the held SYN"
    return dut, peer, sock, conn, syn, t0


def syn_lost_on_the_wire(net: Any, congestion: str = "newreno", ts: bool = True, **tcp: Any) -> tuple:
    """The control: the address is known, the first SYN leaves at t0 and is lost (the peer ignores it); its
    retransmission at t0 + 1 s is answered. Returns (dut, peer, sock, conn, syn, t0), syn the retransmission."""
    dut, peer, _ = make_tern_dut(net, tcp={"congestion": congestion, **tcp})
    u = dut.udp_socket()
    u.sendto(b"arp", (PEER_IP, 9))  # resolve the peer first (it answers ARP by itself here)
    net.run(for_="1ms")
    u.close()
    peer.received()
    t0 = net.now_ns
    sock = dut.tcp_connect(PEER_IP, PORT, timestamps=ts, sack=True, nodelay=True)
    conn = peer.tcp(dut, local_port=PORT, isn=5000, ts=ts, sack=True, mss=MSS)
    conn.expect(flags="S", at=at(t0), tolerance="1ns")
    syn = conn.expect(flags="S", at=at(t0 + SEC), tolerance="1ns")
    return dut, peer, sock, conn, syn, t0


def first_flight(sock: Any, conn: Any) -> list:
    """Complete the handshake (the SYN-ACK echoes the SYN that arrived), give the DUT 20 segments and return
    what it sends before any ACK (until 20 ms of silence)."""
    conn.send(flags="SA")
    conn.expect(flags="A", within="1ms")
    assert sock.state == "ESTABLISHED"
    sock.send(bytes(20 * MSS))
    segs = data_segs(conn, within="20ms")
    assert len({len(tcp_payload(s)) for s in segs}) == 1, "full-sized segments (SMSS less the options)"
    return segs


@pytest.mark.rfc("5681 3.1", "6928 2", "1122 2.3.2.2")
@pytest.mark.parametrize("congestion", ["newreno", "cubic", "bbr"])
def test_a_syn_that_never_left_keeps_the_initial_window(net, congestion):
    """One SYN crossed the link and was answered: RFC 6928's 10 segments (before: 1, as after a lost SYN)."""
    _, _, sock, conn, _, _ = syn_behind_lost_arp(net, congestion)
    assert len(first_flight(sock, conn)) == 10


@pytest.mark.rfc("5681 3.1")
@pytest.mark.parametrize("congestion", ["newreno", "cubic", "bbr"])
def test_control_a_syn_lost_on_the_wire_leaves_one_segment(net, congestion):
    """The control: the first SYN left and was lost; the SYN-ACK answers the retransmission: one segment."""
    _, _, sock, conn, _, _ = syn_lost_on_the_wire(net, congestion)
    assert len(first_flight(sock, conn)) == 1


@pytest.mark.rfc("6298 5", "6298 2")
def test_the_timer_is_not_backed_off_for_a_syn_that_never_left(net):
    """The SYN that left at t0 + 1.2 s went at the timer's expiry at t0 + 1 s with the RTO unchanged (1 s, no
    previous transmission to back off from): it goes again at t0 + 2 s (before: t0 + 3 s, the RTO doubled), and
    that copy, a retransmission of one that left, doubles the RTO: the next at t0 + 4 s."""
    _, peer, _, conn, _, t0 = syn_behind_lost_arp(net)
    peer.expect_nothing(for_=(t0 + 2 * SEC - 1 - net.now_ns) / 1e9, matching=TCP())
    conn.expect(flags="S", at=at(t0 + 2 * SEC), tolerance="1ns")
    peer.expect_nothing(for_=(t0 + 4 * SEC - 1 - net.now_ns) / 1e9, matching=TCP())
    conn.expect(flags="S", at=at(t0 + 4 * SEC), tolerance="1ns")


@pytest.mark.rfc("6298 5")
def test_control_the_timer_backs_off_after_a_syn_lost_on_the_wire(net):
    """The control: a SYN that left and was lost: retransmissions at t0 + 1 s and t0 + 3 s (RFC 6298 (5.5))."""
    _, peer, _, conn, _, t0 = syn_lost_on_the_wire(net)
    peer.expect_nothing(for_=(t0 + 3 * SEC - 1 - net.now_ns) / 1e9, matching=TCP())
    conn.expect(flags="S", at=at(t0 + 3 * SEC), tolerance="1ns")


def first_data_rto(sock: Any, conn: Any, net: Any) -> tuple[int, int]:
    """Complete the handshake now, send 100 bytes that the peer never acknowledges; returns when the SYN-ACK
    was sent and the time from the segment to its retransmission (no timestamps: Karn's rule is the only one;
    no tail loss probe)."""
    t_synack = net.now_ns
    conn.send(flags="SA")
    conn.expect(flags="A", within="1ms")
    sock.send(b"x" * 100)
    first = conn.expect(flags="PA", payload=b"x" * 100, within="1ms")
    again = conn.expect(flags="PA", payload=b"x" * 100, within="4s")
    return t_synack, int(again.time_ns) - int(first.time_ns)


@pytest.mark.rfc("6298 3", "6298 5", "6298 2")
def test_a_syn_that_never_left_gives_a_sample_and_no_3s_rto(net):
    """Without timestamps: the SYN-ACK, 200 ms after the copy that left was handed to ARP, is a sample (one
    instance left: no ambiguity for Karn's rule), so SRTT = 200 ms, RTTVAR = 100 ms, RTO = 200 + 4 x 100 =
    600 ms (RTO.min 200 ms here, below (2.4)'s 1 s, to see it), and RFC 6298 (5.7)'s 3 s does not apply (no
    SYN was lost). Before: no sample and 3 s."""
    _, _, sock, conn, _, t0 = syn_behind_lost_arp(net, ts=False, tail_loss_probe=False, rto_min="200ms")
    t_synack, rto = first_data_rto(sock, conn, net)
    sample = t_synack - (t0 + SEC)  # 200 ms (and the nanosecond the bench's checks took)
    assert 200 * MS <= sample < 201 * MS
    assert rto == sample + 4 * (sample // 2)  # RFC 6298 (2.2): SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR


@pytest.mark.rfc("6298 3", "6298 5")
def test_control_a_syn_lost_on_the_wire_gives_the_3s_rto(net):
    """The control: the SYN was lost on the wire, the retransmission answered 200 ms later: no sample without
    timestamps (Karn), and RFC 6298 (5.7)'s RTO of 3 s for the first data."""
    _, peer, sock, conn, _, _ = syn_lost_on_the_wire(net, ts=False, tail_loss_probe=False, rto_min="200ms")
    net.run(for_="200ms")
    assert first_data_rto(sock, conn, net)[1] == 3 * SEC


@pytest.mark.rfc("5681 3.1", "6298 5")
def test_control_a_held_copy_after_one_that_left_is_a_retransmission(net):
    """The first SYN leaves (the address is known) and is lost; the cache entry (lifetime 500 ms here) has
    expired when the SYN goes again at t0 + 1 s, so that copy is held, and the one at t0 + 3 s (the RTO
    doubled) replaces it. A copy did leave: the one that leaves at the reply (t0 + 3.2 s) is a retransmission,
    the RTO doubles again (next copy at t0 + 7 s) and the connection starts with one segment."""
    dut, peer, _ = make_tern_dut(net, peer_arp=False, arp_timeout="500ms", arp_retries=10)
    t0 = net.now_ns
    sock = dut.tcp_connect(PEER_IP, PORT, timestamps=True, sack=True, nodelay=True)
    answer(peer, peer.expect(ARP(op=1, pdst=PEER_IP), at=at(t0), tolerance="1ns"))
    conn = peer.tcp(dut, local_port=PORT, isn=5000, ts=True, sack=True, mss=MSS)
    conn.expect(flags="S", within="1ms")  # the first SYN, lost
    for k in (1, 2, 3):  # the entry expired: one request a second (RFC 1122 §2.3.2.1), unanswered
        req = peer.expect(ARP(op=1, pdst=PEER_IP), at=at(t0 + k * SEC), tolerance="1ns")
    assert dut.counters().arp_queue_replaced == 1
    net.run(for_="200ms")
    answer(peer, req)
    conn.expect(flags="S", at=at(t0 + 3200 * MS), tolerance="1ns")
    peer.expect_nothing(for_="1ns", matching=TCP(flags="S"))
    # The entry lives 500 ms again: the next copy's resolution starts at t0 + 7 s; answered at once.
    peer.expect_nothing(for_=(t0 + 7 * SEC - 1 - net.now_ns) / 1e9, matching=TCP())
    answer(peer, peer.expect(ARP(op=1, pdst=PEER_IP), at=at(t0 + 7 * SEC), tolerance="1ns"))
    conn.expect(flags="S", at=at(t0 + 7 * SEC), tolerance="1ns")
    assert len(first_flight(sock, conn)) == 1


@pytest.mark.rfc("9293 3.8.3", "6298 5")
def test_expiries_while_the_syn_never_left_do_not_count_towards_r2(net):
    """R2 as a count (syn_retries 2 here): the two expiries while the SYN waited for ARP (t0 + 1 s, t0 + 2 s, the
    second request answered at t0 + 2.2 s) retransmitted nothing the network had seen and are not counted:
    the SYN that left at t0 + 2.2 s is retransmitted twice (t0 + 3 s, t0 + 5 s) and the connection times out at
    the next expiry, t0 + 9 s. Counting them, the connection would end at t0 + 3 s with one SYN on the wire:
    without the backoff (not applied to a copy that never left) a count meant for seconds of doubling timeouts
    (RFC 9293 MUST-23: R2 for a SYN of at least 3 minutes) would run out in as many seconds."""
    dut, peer, _ = make_tern_dut(net, peer_arp=False, arp_retries=10, tcp={"syn_retries": 2})
    t0 = net.now_ns
    sock = dut.tcp_connect(PEER_IP, PORT, timestamps=True, sack=True)
    for k in (0, 1, 2):
        req = peer.expect(ARP(op=1, pdst=PEER_IP), at=at(t0 + k * SEC), tolerance="1ns")
    peer.expect_nothing(for_="200ms", matching=TCP())
    answer(peer, req)
    conn = peer.tcp(dut, local_port=PORT, isn=5000, ts=True, sack=True, mss=MSS)
    conn.expect(flags="S", at=at(t0 + 2200 * MS), tolerance="1ns")
    assert dut.counters().arp_queue_replaced == 2
    conn.expect(flags="S", at=at(t0 + 3 * SEC), tolerance="1ns")
    conn.expect(flags="S", at=at(t0 + 5 * SEC), tolerance="1ns")
    net.run(until=(t0 + 9 * SEC - 1) / 1e9)
    assert sock.state == "SYN_SENT"
    net.run(until=(t0 + 9 * SEC) / 1e9)
    info = sock.info()
    assert info.state == "CLOSED" and info.error == "TIMED_OUT"
    assert not [p for p in peer.received() if TCP in p and p[TCP].flags.S], "no SYN after the last"
