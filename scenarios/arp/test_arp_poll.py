"""A cache entry in use is polled before it times out, so traffic never waits for a new resolution (issue 22).

RFC 1122 §2.3.2.1 lists the ways to flush out-of-date entries: "(1) Timeout -- Periodically time out cache
entries, even if they are in use. Note that this timeout should be restarted when the cache entry is
"refreshed" (by observing the source fields, regardless of target address, of an ARP broadcast from the system
in question)." and "(2) Unicast Poll -- Actively poll the remote host by periodically sending a point-to-point ARP
Request to it, and delete the entry if no ARP Reply is received from N successive polls." With the timeout alone
the neighbour of a long transfer was forgotten at the end of every lifetime (60 s): the next segment waited for a
broadcast request and its reply, and for the request's retry (1 s) when either was lost. Now a datagram sent
through an entry in the last arp_retries x arp_retry (3 x 1 s) of its lifetime sends a request to the cached MAC
as well, at most one a second and three per lifetime; the reply restarts the lifetime. An entry nobody uses is not
polled and times out as before; an unanswered poll changes nothing either.

The bench: the peer does not answer ARP by itself; the scenario answers, or not. The entry is learnt at t_learn
(the reply to the first request); its lifetime is the profile's arp_timeout (60 s).
"""

from __future__ import annotations

from typing import Any

import pytest
from scapy.all import ARP, TCP, UDP, Ether

from pyharness.dut import PEER_IP, make_tern_dut

pytestmark = [
    pytest.mark.area("arp"),
    pytest.mark.dut("tern", reason="Tern's cache validation (Linux polls on its own schedule: NUD's STALE/DELAY/PROBE)"),
]

SEC = 1_000_000_000
MS = 1_000_000
BCAST = "ff:ff:ff:ff:ff:ff"


def answer(peer: Any, req: Any) -> None:
    """The peer's reply to an ARP request it received."""
    peer.send(Ether(dst=req[Ether].src) / ARP(op=2, hwsrc=peer.mac, psrc=req[ARP].pdst,
                                                hwdst=req[ARP].hwsrc, pdst=req[ARP].psrc))


def learn(net: Any, dut: Any, peer: Any) -> tuple[Any, int]:
    """Resolve the peer (one datagram, the request answered at once); returns the socket and t_learn."""
    s = dut.udp_socket()
    s.sendto(b"0", (PEER_IP, 9))
    answer(peer, peer.expect(Ether(dst=BCAST) / ARP(op=1, pdst=PEER_IP), within="1ms"))
    t_learn = net.now_ns
    peer.expect(UDP(), within="1ms")
    return s, t_learn


def send_at(net: Any, s: Any, t: int, data: bytes) -> None:
    net.run(until=t / 1e9)
    s.sendto(data, (PEER_IP, 9))


def poll(peer: Any, t: int) -> Any:
    """The DUT's request to the peer's own MAC (a point-to-point poll) at exactly t."""
    return peer.expect(Ether(dst=peer.mac) / ARP(op=1, pdst=PEER_IP, hwdst="00:00:00:00:00:00"),
                       at=f"{t}ns", tolerance="1ns")


@pytest.mark.rfc("1122 2.3.2.1")
def test_an_entry_in_use_is_polled_and_the_answer_restarts_its_lifetime(net):
    """A datagram 1 ns before the last 3 s of the lifetime: no poll (the control); one at the start of the last
    3 s: a request to the peer's MAC at that instant, and the datagram goes out at once, not held. The peer
    answers 10 ms later: at the old expiry a datagram leaves at once, without any request; the new lifetime
    ends 60 s after the answer (the next datagram there is held behind a broadcast request)."""
    dut, peer, _ = make_tern_dut(net, peer_arp=False)
    s, t_learn = learn(net, dut, peer)
    T = dut.profile.arp_timeout
    send_at(net, s, t_learn + T - 3 * SEC - 1, b"1")
    send_at(net, s, t_learn + T - 3 * SEC, b"2")
    net.run(for_="1ms")
    got = peer.received()
    assert [p.time_ns - t_learn for p in got if UDP in p and p[Ether].dst == peer.mac] == [T - 3 * SEC - 1,
                                                                                            T - 3 * SEC]
    polls = [p for p in got if ARP in p]
    assert [p.time_ns - t_learn for p in polls] == [T - 3 * SEC], "one poll, with the second datagram"
    req = polls[0]
    assert req[Ether].dst == peer.mac and req[ARP].op == 1 and req[ARP].pdst == PEER_IP
    net.run(for_="10ms")
    answer(peer, req)
    t_answer = net.now_ns
    net.run(for_="1ms")
    send_at(net, s, t_learn + T, b"3")
    assert peer.expect(Ether(dst=peer.mac) / UDP(), within="1ms").time_ns == t_learn + T
    peer.expect_nothing(for_="10ms", matching=ARP())
    # The restarted lifetime ends T after the answer: a datagram then is resolved afresh.
    send_at(net, s, t_answer + T, b"4")
    peer.expect(Ether(dst=BCAST) / ARP(op=1, pdst=PEER_IP), within="1ms")
    peer.expect_nothing(for_="10ms", matching=UDP())


@pytest.mark.rfc("1122 2.3.2.1")
def test_unanswered_polls_one_a_second_three_in_all_then_the_entry_times_out(net):
    """A datagram every 250 ms through the last 3 s: polls at T - 3 s, T - 2 s and T - 1 s (RFC 1122
    §2.3.2.1's one request a second; N = arp_retries = 3), none between and none in the last second (it would
    hold back the broadcast request at T by the same limit); unanswered, the entry times out at T and the next
    datagram waits for a broadcast request, sent at once."""
    dut, peer, _ = make_tern_dut(net, peer_arp=False)
    s, t_learn = learn(net, dut, peer)
    T = dut.profile.arp_timeout
    start = t_learn + T - 3 * SEC
    for k in range(12):
        send_at(net, s, start + k * 250 * MS, b"x")
    net.run(until=(t_learn + T - 1) / 1e9)
    got = peer.received()
    polls = [p for p in got if ARP in p]
    assert [p.time_ns - t_learn for p in polls] == [T - 3 * SEC, T - 2 * SEC, T - SEC]
    assert all(p[Ether].dst == peer.mac for p in polls)
    assert len([p for p in got if UDP in p]) == 12, "every datagram left at once"
    send_at(net, s, t_learn + T, b"y")
    peer.expect(Ether(dst=BCAST) / ARP(op=1, pdst=PEER_IP), within="1ms")
    peer.expect_nothing(for_="10ms", matching=UDP())


@pytest.mark.rfc("1122 2.3.2.1")
def test_an_idle_entry_is_not_polled(net):
    """The control: nothing sent in the last 3 s, no poll; the entry times out at T (a broadcast request for
    the next datagram)."""
    dut, peer, _ = make_tern_dut(net, peer_arp=False)
    s, t_learn = learn(net, dut, peer)
    T = dut.profile.arp_timeout
    send_at(net, s, t_learn + T - 3 * SEC - 1, b"1")  # the last datagram before the window: no poll
    net.run(until=(t_learn + T - 1) / 1e9)
    assert not [p for p in peer.received() if ARP in p]
    send_at(net, s, t_learn + T, b"2")
    peer.expect(Ether(dst=BCAST) / ARP(op=1, pdst=PEER_IP), within="1ms")


@pytest.mark.rfc("1122 2.3.2.1", "1122 2.3.2.2")
def test_a_tcp_transfer_across_several_lifetimes_never_waits_for_arp(net):
    """A connection sends 500 bytes every 100 ms for 12 s through an entry that lives 5 s (the peer answers ARP
    by itself, at once): the entry is polled 3 s before each expiry (at t_learn + 2 s, then 2 s after each
    answer), no broadcast request goes out after the first, and every segment leaves in the millisecond the
    application wrote it (before the change: held for a resolution at every expiry)."""
    dut, peer, _ = make_tern_dut(net, peer_arp=False, arp_timeout="5s")
    conn_sock = dut.tcp_connect(PEER_IP, 7000, nodelay=True)
    answer(peer, peer.expect(Ether(dst=BCAST) / ARP(op=1, pdst=PEER_IP), within="1ms"))
    t_learn = net.now_ns
    conn = peer.tcp(dut, local_port=7000, isn=5000)
    conn.expect(flags="S", within="1ms")
    conn.send(flags="SA")
    conn.expect(flags="A", within="1ms")
    peer.received()
    late, polls, next_poll = [], [], t_learn + 2 * SEC
    for k in range(120):
        t = t_learn + SEC + k * 100 * MS
        net.run(until=t / 1e9)
        conn_sock.send(bytes(500))
        if t == next_poll:
            req = poll(peer, t)  # the entry's last 3 s: a poll with the segment; answered at once
            answer(peer, req)
            polls.append(t)
            next_poll = t + 2 * SEC
        seg = conn.expect(payload=bytes(500), within="1ms")
        if int(seg.time_ns) != t:
            late.append((k, int(seg.time_ns) - t))
        conn.send(flags="A")
    assert not late, f"segments held: {late}"
    assert len(polls) == 6
    assert not [p for p in peer.received() if ARP in p], "no other request"
    assert dut.counters().arp_requests_sent == 1 + len(polls)
