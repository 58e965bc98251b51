"""TIME-WAIT lasts twice the MSL the host is configured with (RFC 9293 §3.6.1, MUST-13).

RFC 9293 §3.6.1: "When a connection is closed actively, it MUST linger in the TIME-WAIT state for a time
2xMSL (Maximum Segment Lifetime) (MUST-13)." Checked against an MSL the test sets, not a constant of the
stack: 7 s, and the 2 minutes of §3.4.2 ("For this specification the MSL is taken to be 2 minutes").
TIME-WAIT ends exactly 2 x MSL after the DUT's last ACK, not a nanosecond before.
"""

from __future__ import annotations

import pytest

from pyharness.dut import make_tern_dut
from tcpkit import T, ns, passive

pytestmark = pytest.mark.area("tcp")

SEC = 1_000_000_000


@pytest.mark.dut("tern", reason="sets the MSL, a stack option")
@pytest.mark.rfc("9293 3.6.1", "9293 3.4.2", "9293 MUST-13")
@pytest.mark.parametrize("msl_s", [7, 120])
def test_time_wait_lasts_twice_the_configured_msl(net, msl_s, family):
    dut, peer, _ = make_tern_dut(net, tcp={"msl": f"{msl_s}s"}, family=family)
    conn, sock, _ = passive(dut, peer)
    sock.shutdown("wr")
    conn.expect(flags="FA", within="10ms")
    conn.send(flags="FA")
    t0 = ns(conn.expect(flags="A", ack=conn.snd_nxt, within="10ms"))
    assert sock.state == "TIME_WAIT"
    dut.net.run(until=T(t0 + 2 * msl_s * SEC - 1))
    assert sock.state == "TIME_WAIT"
    dut.net.run(until=T(t0 + 2 * msl_s * SEC))
    assert sock.state == "CLOSED"
