"""Unanswered zero-window probes end the connection after the retransmission limit, not before.

RFC 1122 §4.2.2.17: "As long as the receiving TCP continues to send acknowledgments in response to the
probe segments, the sending TCP MUST allow the connection to stay open" (test_flow_control.py checks
that, RFC 9293 MUST-37); a peer that stops answering is a dead peer, and the probes count like
retransmissions toward the limit R2 (RFC 9293 §3.8.3). With data_retries = 5 the DUT sends five probes
and ends the connection (TIMED_OUT) at the sixth timeout, exactly; before that it stays established.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from tcpkit import EXACT, T, ns, passive, seq_add

pytestmark = pytest.mark.area("tcp")

MSS = 1000


@pytest.mark.rfc("9293 3.8.6.1", "9293 3.8.3", "1122 4.2.2.17")
@pytest.mark.parametrize("retries", [3, 5])
def test_unanswered_zero_window_probes_end_after_the_limit(dut, peer, profile, retries):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS}, data_retries=retries, nodelay=True)
    sock.send(bytes(MSS))
    d = conn.expect(seq=conn.rcv_nxt, within="10ms")
    conn.window = 0
    conn.send(flags="A", ack=seq_add(d[TCP].seq, MSS))  # everything acknowledged, window closed
    sock.send(b"blocked")
    # The persist timer starts with the blocked send (read the clock after it: a DUT in real time, Linux, takes
    # the call some milliseconds after the scenario makes it).
    t = dut.net.now_ns
    step = sock.info().rto_ns
    for _ in range(retries):  # the probes, unanswered, at RTO, 2 RTO, 4 RTO...
        t += step
        conn.expect(at=T(t), tolerance=EXACT)
        step = min(step * 2, profile.rto_max)
    assert sock.state == "ESTABLISHED"
    late = profile.tolerance(step)  # 0 in virtual time; a timer wheel (Linux) fires up to a bucket late
    dut.net.run(until=T(t + step - 1 - late))
    assert sock.state == "ESTABLISHED"
    dut.net.run(until=T(t + step + late))
    info = sock.info()
    assert info.state == "CLOSED" and info.error == "TIMED_OUT"
