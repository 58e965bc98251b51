"""A held-up SYN is not a lost SYN: the initial window stays (issue 22).

RFC 5681 §3.1 sets the initial window to one segment when the SYN or SYN/ACK is lost (its text is quoted in
test_congestion.py). A timer retransmits the SYN without knowing whether it was lost: the first one may only
have been held up (behind address resolution whose first request was lost: 1 s, exactly the SYN's RTO, so
both leave together; or on a slow path). With timestamps the SYN-ACK tells: it echoes the TSval of the SYN it
answers (RFC 7323 §4.3). An echo of the first SYN's TSval means that SYN arrived and nothing was lost, and a
BBR connection keeps its full initial window (RFC 6928: 10 segments); an echo of the
retransmission's TSval leaves the one-segment window. NewReno and CUBIC keep their one-segment window in both
cases (the stack limits the change to BBR, whose figures at 15 % loss it was measured on).

The DUT connects with timestamps; the peer leaves the first SYN unanswered and answers the retransmission (at
RTO = 1 s) 100 ms later; then the DUT has 20 segments to send and the peer acknowledges nothing.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from tcpkit import EXACT, PEER_PORT, T, ns, peer_ip_of, warm_arp
from test_syn_held_for_arp import first_flight as answered_first_flight

pytestmark = pytest.mark.area("tcp")

MS = 1_000_000
MSS = 1460


def first_flight(dut, peer, profile, congestion: str, echo_first: bool) -> list:
    """The data segments the DUT sends after the handshake before any ACK (until 20 ms of silence)."""
    warm_arp(dut, peer)
    sock = dut.tcp_connect(peer_ip_of(dut), PEER_PORT, timestamps=True, sack=True, nodelay=True,
                           congestion=congestion)
    conn = peer.tcp(dut, local_port=PEER_PORT, isn=5000, sack=True, ts=True, mss=MSS)
    first = conn.expect(flags="S", within="10ms")
    again = conn.expect(flags="S", seq=first[TCP].seq, at=T(ns(first) + profile.rto_initial), tolerance=EXACT)
    dut.net.run(until=T(ns(again) + 100 * MS))
    echoed = first if echo_first else again
    conn.ts_recent = int(dict(echoed[TCP].options)["Timestamp"][0])
    return answered_first_flight(sock, conn)


@pytest.mark.rfc("5681 3.1", "7323 4.3", "6928 2")
def test_bbr_keeps_the_initial_window_when_the_first_syn_was_answered(dut, peer, profile):
    """The SYN-ACK echoes the first SYN: it arrived, the retransmission was spurious: 10 segments go."""
    assert len(first_flight(dut, peer, profile, "bbr", echo_first=True)) == 10


@pytest.mark.rfc("5681 3.1")
@pytest.mark.parametrize("congestion", ["bbr", "newreno"])
def test_one_segment_when_the_retransmitted_syn_was_answered(dut, peer, profile, congestion):
    """The control: the SYN-ACK echoes the retransmission (the first SYN may have been lost): one segment."""
    assert len(first_flight(dut, peer, profile, congestion, echo_first=False)) == 1


@pytest.mark.rfc("5681 3.1")
def test_newreno_keeps_one_segment_after_a_held_up_syn(dut, peer, profile):
    """NewReno's timeline is unchanged: one segment even when the first SYN was answered."""
    assert len(first_flight(dut, peer, profile, "newreno", echo_first=True)) == 1
