"""A segment is matched to the connection its four-tuple names now, not to one that had the tuple
before: the Tern stack answers a connection lookup from its last answer when it can (issue 19), so
a connection closed and then reopened on the same ports is where a stale answer would show.

RFC 793, SEGMENT ARRIVES (kept in RFC 9293 §3.10.7.1), for a tuple without a connection: "An
incoming segment not containing a RST causes a RST to be sent in response." and "If the ACK bit is
on, <SEQ=SEG.ACK><CTL=RST>".
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from pyharness.errors import NetworkError
from tcpkit import CLIENT_PORT, SERVER_PORT, passive

pytestmark = pytest.mark.area("tcp")


@pytest.mark.rfc("793 3.9", "9293 3.10.7.1")
def test_closed_then_reopened_on_the_same_ports(dut, peer):
    """A connection carries data (the last lookup is its own), then the peer resets it. A data
    segment on the old tuple gets a RST <SEQ=SEG.ACK> and reaches no socket; a new connection
    from the same port to the same port then carries its own data to its own socket, and the old
    socket reports only its reset."""
    conn, sock, listener = passive(dut, peer)
    conn.send_data(b"first")
    conn.expect(flags="A", ack=conn.snd_nxt, within="1s")
    assert sock.recv(100) == b"first"

    conn.reset()
    dut.net.run(for_="1ms")
    stale_ack = conn.rcv_nxt
    conn.send(flags="PA", payload=b"stale", ack=stale_ack)
    rst = conn.expect(flags="R", seq=stale_ack, within="10ms")
    assert "A" not in str(rst[TCP].flags)

    # positive control: the same ports again, a new incarnation with its own sequence space
    conn2 = peer.tcp(dut, SERVER_PORT, local_port=CLIENT_PORT, isn=900000)
    conn2.connect(within="1s")
    dut.net.run(for_="1ms")
    sock2 = listener.accept()
    assert sock2 is not None
    conn2.send_data(b"second")
    conn2.expect(flags="A", ack=conn2.snd_nxt, within="1s")
    assert sock2.recv(100) == b"second"
    with pytest.raises(NetworkError, match="connection reset"):
        sock.recv(100)  # the old socket only reports its reset
