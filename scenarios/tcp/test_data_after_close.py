"""Data arriving after CLOSE is answered with a RST (RFC 9293 §3.6.1 SHLD-3, RFC 1122 §4.2.2.13).

RFC 9293 §3.6.1: "If such a host issues a CLOSE call while received data is still pending in the TCP
connection, or if new data is received after CLOSE is called, its TCP implementation SHOULD send a RST
to show that data was lost (SHLD-3)." The DUT's application closes (not shutdown of the write side
only): its FIN goes out; data the peer sends afterwards draws a RST and ends the connection. The
positive control: after shutdown("wr") the same data is still received and acknowledged.
"""

from __future__ import annotations

import pytest

from tcpkit import drain, passive

pytestmark = pytest.mark.area("tcp")


@pytest.mark.rfc("9293 3.6.1", "9293 SHLD-3", "1122 4.2.2.13")
def test_data_after_close_draws_rst(dut, peer):
    conn, sock, _ = passive(dut, peer)
    sock.close()
    conn.expect(flags="FA", within="10ms")
    conn.send(flags="PA", payload=b"too late")
    conn.expect(flags="R", within="10ms")
    conn.expect_nothing(for_="1s")


@pytest.mark.rfc("9293 3.6.1")
def test_data_after_shutdown_of_the_write_side_is_received(dut, peer):
    conn, sock, _ = passive(dut, peer)
    sock.shutdown("wr")
    conn.expect(flags="FA", within="10ms")
    conn.send(flags="PA", payload=b"still wanted")
    conn.expect(flags="A", ack=conn.snd_nxt, within="1s")
    assert drain(sock) == b"still wanted"


@pytest.mark.rfc("9293 3.6.1", "1122 4.2.2.13")
def test_shutdown_of_the_read_side_discards_what_arrives(dut, peer, profile):
    """shutdown("rd") is accepted; data arriving afterwards is acknowledged and, on a DUT that discards it
    (``profile.shut_rd``: Tern), not delivered (the window stays open); the DUT can still send. What the data
    becomes is the implementation's choice (Linux delivers it: SHUT_RD only marks the socket)."""
    conn, sock, _ = passive(dut, peer)
    sock.shutdown("rd")
    conn.send(flags="PA", payload=b"x" * 100)
    ack = conn.expect(flags="A", ack=conn.snd_nxt, within="1s")
    assert drain(sock) == (b"" if profile.shut_rd == "discard" else b"x" * 100)
    assert ack["TCP"].window > 0
    sock.send(b"still talking")
    conn.expect(flags="PA", payload=b"still talking", within="10ms")
