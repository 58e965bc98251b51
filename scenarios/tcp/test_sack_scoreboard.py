"""The sender's SACK scoreboard (RFC 6675 §3) holds every hole its window can have: 20 SACKed ranges with a
hole between each (more than the 16 ranges it once kept) are all remembered, so none of the SACKed data counts
as outstanding and none of it is retransmitted."""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from tcpkit import passive, seq_add

pytestmark = pytest.mark.area("tcp")

MSS = 1000
RFC6675_3 = ('RFC 6675 §3: "For a TCP sender to implement the algorithm defined in the next section, it must '
             'keep a data structure to store incoming selective acknowledgment information on a per connection '
             'basis."')


@pytest.mark.rfc("6675 3")
def test_scoreboard_keeps_twenty_sacked_ranges(dut, peer, profile):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "sack": True, "window": 65535}, sack=True,
                            nodelay=True, initial_window=41)
    assert sock.send(bytes(41 * MSS)) == 41 * MSS
    segs = []
    while len(segs) < 41:
        segs.append(conn.expect(within="10ms"))
    base = segs[0][TCP].seq
    odd = [(seq_add(base, k * MSS), seq_add(base, (k + 1) * MSS)) for k in range(1, 41, 2)]  # 20 ranges
    for i in range(0, 20, 4):
        blocks = odd[i:i + 4]
        conn.send(flags="A", ack=base, options=[("NOP", None), ("NOP", None),
                                                ("SAck", tuple(x for b in blocks for x in b))])
    dut.net.run(for_="1ms")
    assert sock.info().sacked == 20 * MSS, RFC6675_3
