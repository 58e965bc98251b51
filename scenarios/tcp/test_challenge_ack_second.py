"""The challenge-ACK allowance is per second, not per shorter interval (RFC 5961 §7).

RFC 5961 §7: an implementation limits "the number of challenge ACKs sent per second" (the DUT's profile
gives the number, ``challenge_ack_limit``). After the allowance is spent, RSTs that would draw a challenge
ACK 200 ms and 900 ms later draw none; one second after the first, the allowance is back (the positive
control).
"""

from __future__ import annotations

import pytest

from tcpkit import T, inject, passive, seq_add

pytestmark = pytest.mark.area("tcp")


@pytest.mark.rfc("5961 7")
def test_challenge_ack_allowance_lasts_a_whole_second(dut, peer, profile):
    conn, sock, _ = passive(dut, peer)
    n = profile.challenge_ack_limit
    t0 = dut.net.now_ns
    for i in range(n):
        inject(conn, flags="R", seq=seq_add(conn.snd_nxt, 100 + i), ack=0)
    dut.net.run(for_="10ms")
    acks = [p for p in peer.received() if p.haslayer("TCP") and str(p["TCP"].flags) == "A"]
    assert len(acks) == n
    for at_ms in (200, 900):
        dut.net.run(until=T(t0 + at_ms * 1_000_000))
        inject(conn, flags="R", seq=seq_add(conn.snd_nxt, 7), ack=0)
        conn.expect_nothing(for_="10ms", flags="A")
    dut.net.run(until=T(t0 + 1_000_000_000 + 1))
    inject(conn, flags="R", seq=seq_add(conn.snd_nxt, 7), ack=0)
    conn.expect(flags="A", ack=conn.snd_nxt, within="10ms")
    assert sock.state == "ESTABLISHED"
