"""The default keep-alive idle time, seen on the wire (RFC 9293 §3.8.4, MUST-28).

RFC 9293 §3.8.4: the interval "MUST be configurable (MUST-27) and MUST default to no less than two hours
(MUST-28)". Keep-alive switched on without an idle time: nothing for two hours of virtual time, then the
first probe exactly 7200 s after the last segment received (the probe is the positive control of the
silence before it).
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from tcpkit import EXACT, T, passive, seq_add

pytestmark = pytest.mark.area("tcp")

S = 1_000_000_000


@pytest.mark.rfc("9293 3.8.4", "9293 MUST-28")
def test_default_keepalive_idle_is_two_hours_on_the_wire(dut, peer):
    conn, sock, _ = passive(dut, peer, keepalive=True)
    t0 = dut.net.now_ns - 1_000_000  # the peer's ACK of the handshake arrived 1 ms ago (passive() ran 1 ms)
    conn.expect_nothing(for_=T(t0 + 7200 * S - 1 - dut.net.now_ns))
    p = conn.expect(flags="A", at=T(t0 + 7200 * S), tolerance=EXACT)
    assert p[TCP].seq == seq_add(sock.info().snd_nxt, -1)
