"""When the ACK field of an arriving segment is not taken (RFC 9293 §3.10.7.4).

- "If the RCV.WND is zero, no segments will be acceptable, but special allowance should be made to
  accept valid ACKs, URGs, and RSTs": with a zero window an empty segment is acceptable only at
  RCV.NXT (Table 6: "SEG.SEQ = RCV.NXT"); one elsewhere is answered with an ACK and its ACK field is
  ignored. Data at RCV.NXT is not acceptable either, even when the buffer has a little room that the
  receiver's SWS avoidance keeps closed (§3.8.6.2.2).
- "if the ACK bit is off, drop the segment and return": a segment without ACK is dropped, whatever its
  acknowledgment field says and whatever data it carries.
- "If the ACK acks something not yet sent (SEG.ACK > SND.NXT), then send an ACK, drop the segment, and
  return": also by one octet.

Each refusal has its positive control: the same segment made acceptable is taken.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import TCP

from tcpkit import EXACT, T, drain, fill_window, inject, ns, passive, seq_add, tcp_payload

pytestmark = pytest.mark.area("tcp")


def zero_window_with_data_in_flight(dut, peer):
    """The DUT's receive window filled (4096 bytes) and 100 bytes of its own data unacknowledged:
    (conn, sock, the DUT's data segment)."""
    conn, sock, _ = passive(dut, peer, rx_buffer=4096)
    _, zero = fill_window(conn, within=dut.profile.delack / 1e9 + 0.01)
    assert zero[TCP].window == 0
    sock.send(b"d" * 100)
    d = conn.expect(flags="PA", within="10ms")
    assert len(tcp_payload(d)) == 100
    return conn, sock, d


@pytest.mark.rfc("9293 3.10.7.4")
@pytest.mark.parametrize("seq_off,acceptable", [(0, True), (1, False), (1000, False)],
                         ids=["at_rcv_nxt", "one_past", "far"])
def test_zero_window_takes_the_ack_of_an_empty_segment_only_at_rcv_nxt(dut, peer, seq_off, acceptable):
    conn, sock, d = zero_window_with_data_in_flight(dut, peer)
    rto = sock.info().rto_ns
    inject(conn, flags="A", seq=seq_add(conn.snd_nxt, seq_off), ack=conn.rcv_nxt)
    if acceptable:
        dut.net.run(for_="10ms")
        assert sock.info().snd_una == conn.rcv_nxt
        conn.expect_nothing(for_=T(rto + 500_000_000), flags="PA")
    else:
        conn.expect(flags="A", ack=conn.snd_nxt, payload=b"", within="1ms")
        assert sock.info().snd_una == d[TCP].seq, "the ACK of an unacceptable segment was taken"
        conn.expect(flags="PA", seq=d[TCP].seq, at=T(ns(d) + rto), tolerance=EXACT)


@pytest.mark.rfc("9293 3.10.7.4", "9293 3.8.6.2.2")
def test_zero_window_refuses_data_at_rcv_nxt_even_with_room_in_the_buffer(dut, peer):
    """The application reads 100 bytes: the buffer has room for 100, but receiver SWS avoidance keeps
    the window at zero (less than min(buffer/2, MSS) freed). A byte at RCV.NXT is still refused and
    acknowledged with the unchanged RCV.NXT; once the application has read half the buffer the window
    opens and the same byte is taken (the positive control)."""
    conn, sock, _ = passive(dut, peer, rx_buffer=4096)
    _, zero = fill_window(conn, within=dut.profile.delack / 1e9 + 0.01)
    got = sock.recv(100)
    assert len(got) == 100
    dut.net.run(for_="10ms")
    peer.received()
    inject(conn, flags="PA", payload=b"X")
    ack = conn.expect(flags="A", within="10ms")
    assert ack[TCP].ack == conn.snd_nxt and ack[TCP].window == 0
    drain(sock)
    dut.net.run(for_="10ms")
    update = [p for p in peer.received() if TCP in p]
    assert update and update[-1][TCP].window > 0
    conn.send(flags="PA", payload=b"X")
    conn.expect(flags="A", ack=conn.snd_nxt, within="1s")
    assert drain(sock) == b"X"


@pytest.mark.rfc("9293 3.10.7.4")
def test_segment_without_ack_bit_is_dropped(dut, peer):
    """Data and an acknowledgment field on a segment whose ACK bit is off: neither is taken; the same
    segment with ACK set is (the positive control)."""
    conn, sock, _ = passive(dut, peer)
    sock.send(b"x" * 100)
    d = conn.expect(flags="PA", within="10ms")
    rto = sock.info().rto_ns
    inject(conn, flags="P", payload=b"no ack bit", ack=conn.rcv_nxt)
    dut.net.run(for_="10ms")
    assert drain(sock) == b"" and sock.info().snd_una == d[TCP].seq
    conn.expect(flags="PA", seq=d[TCP].seq, at=T(ns(d) + rto), tolerance=EXACT)
    conn.send(flags="PA", payload=b"with ack", ack=conn.rcv_nxt)
    dut.net.run(for_="10ms")
    assert drain(sock) == b"with ack" and sock.info().snd_una == conn.rcv_nxt


@pytest.mark.rfc("9293 3.10.7.4", "5961 5.2")
@pytest.mark.parametrize("ahead", [1, 1000])
def test_ack_of_data_never_sent_is_refused(dut, peer, ahead):
    """SEG.ACK = SND.NXT + ahead: an ACK comes back (<SEQ=SND.NXT><ACK=RCV.NXT>), the segment's data is
    not delivered; at SND.NXT exactly it is (the positive control)."""
    conn, sock, _ = passive(dut, peer)
    sock.send(b"x" * 100)
    d = conn.expect(flags="PA", within="10ms")
    snd_nxt = seq_add(d[TCP].seq, 100)
    inject(conn, flags="PA", payload=b"too far", ack=seq_add(snd_nxt, ahead))
    conn.expect(flags="A", seq=snd_nxt, ack=conn.snd_nxt, payload=b"", within="10ms")
    assert drain(sock) == b"" and sock.info().snd_una == d[TCP].seq
    conn.send(flags="PA", payload=b"exact", ack=snd_nxt)
    dut.net.run(for_="10ms")
    assert drain(sock) == b"exact" and sock.info().snd_una == snd_nxt
