"""A tail loss probe that retransmits gives no RTT sample (RFC 8985 §7.3, RFC 6298 §3 Karn).

RFC 6298 §3: "TCP MUST use Karn's algorithm [KP87] for taking RTT samples. That is, RTT samples MUST
NOT be made using segments that were retransmitted". A tail loss probe that sends the last segment again
(RFC 8985 §7.3) is such a retransmission: when its ACK comes, SRTT stays what it was. The control: the
same exchange without the probe (the ACK comes before the probe timeout) does take a sample.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from tcpkit import passive

pytestmark = pytest.mark.area("tcp")


@pytest.mark.dut("tern", reason="reads SRTT from the socket")
@pytest.mark.rfc("6298 3", "8985 7.3", "9293 MUST-18")
@pytest.mark.parametrize("probe", [True, False], ids=["probe_retransmitted", "control"])
def test_ack_of_a_tail_loss_probe_retransmission_gives_no_rtt_sample(dut, peer, probe):
    # Tern sends tail loss probes only on connections with SACK (RACK-TLP relies on it).
    conn, sock, _ = passive(dut, peer, peer_opts={"sack": True}, tail_loss_probe=True, nodelay=True)
    sock.send(b"first")
    conn.expect(flags="PA", payload=b"first", within="10ms")
    dut.net.run(for_="5ms")
    conn.send(flags="A")  # a sample of 5 ms
    dut.net.run(for_="1ms")
    before = sock.info().srtt_ns
    sock.send(b"second")
    d = conn.expect(flags="PA", payload=b"second", within="10ms")
    if probe:
        again = conn.expect(flags="PA", seq=d[TCP].seq, within="2s")  # the probe: "second" again
        assert again.time_ns - d.time_ns < sock.info().rto_ns, "the retransmission is the RTO's, not a probe"
    else:
        dut.net.run(for_="5ms")
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    after = sock.info().srtt_ns
    if probe:
        assert after == before, f"SRTT moved from {before} to {after} on the ACK of a retransmission"
    else:
        assert after != before
