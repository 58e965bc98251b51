"""Header prediction (issue 19): a receiver may take a short path for the common segments of a bulk transfer
(in-order data acknowledging nothing new; a pure ACK moving SND.UNA), but only for segments for which the general
processing of RFC 9293 §3.10.7.4 would do nothing more. Each scenario here sends a segment that differs from a
predictable one in one respect the short path must not skip (a window change, a SACK block, an old timestamp,
a closed window, an unacceptable sequence number) and checks the general path's outcome, beside a positive
control: the same segment without that difference, which the Tern stack takes on its short path (counted)."""

from __future__ import annotations

from typing import Any, Optional

import pytest
from scapy.layers.inet import TCP

from tcpkit import drain, inject, passive, seq_add, tcp_payload

pytestmark = pytest.mark.area("tcp")

MSS = 1000


def immediate(dut: Any) -> float:
    """Long enough for an ACK the DUT sends at once, shorter than its delayed-ACK timer."""
    return dut.profile.delack / 1e9 + 0.01


def predicted(dut: Any, profile: Any) -> Optional[tuple[int, int]]:
    """The Tern stack's counts of segments taken on the short paths (data, ACK); None for another DUT."""
    if profile.name != "tern":
        return None
    c = dut.counters()
    return (c.tcp_predicted_data, c.tcp_predicted_ack)


def took(before: Optional[tuple[int, int]], after: Optional[tuple[int, int]], data: int, ack: int) -> bool:
    """Whether the short paths took ``data`` data segments and ``ack`` ACKs between the two counts (always true
    for a DUT without the counts)."""
    if before is None or after is None:
        return True
    return (after[0] - before[0], after[1] - before[1]) == (data, ack)


def data_segments(conn: Any, within: str = "10ms") -> list[Any]:
    """The DUT's segments carrying data that arrive within ``within`` of each other."""
    from pyharness.expect import ExpectationError

    out = []
    while True:
        try:
            p = conn.peer.expect(TCP(sport=conn.remote_port, dport=conn.local_port), within=within)
        except ExpectationError:
            return out
        if tcp_payload(p):
            out.append(p)


@pytest.mark.rfc("9293 3.10.7.4")
def test_in_order_data_that_opens_the_window_updates_the_send_window(dut, peer, profile):
    """RFC 9293 §3.10.7.4 fifth, "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be updated": in-order
    data that acknowledges nothing new but opens the window from 1000 to 4000 bytes. The DUT then sends 3000
    bytes at once; a receiver that skipped the update would send only 1000. The control before it: in-order
    data with the window unchanged, taken on the short path."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "window": 1000}, nodelay=True)
    before = predicted(dut, profile)
    conn.send(flags="PA", payload=b"a" * 100)  # the control: the window unchanged
    dut.net.run(for_="1ms")
    mid = predicted(dut, profile)
    assert took(before, mid, 1, 0)
    conn.send(flags="PA", payload=b"b" * 100, window=4000)  # the same, the window opened
    dut.net.run(for_="1ms")
    assert took(mid, predicted(dut, profile), 0, 0)
    assert drain(sock) == b"a" * 100 + b"b" * 100
    sock.send(bytes(3000))
    segs = data_segments(conn)
    assert sum(len(tcp_payload(s)) for s in segs) == 3000


@pytest.mark.rfc("2883 4", "3708 2")
def test_in_order_data_with_a_dsack_block_is_read_for_its_sack_information(dut, peer, profile):
    """In-order data, nothing in flight, carrying a D-SACK block (RFC 2883 §4: a block below the cumulative
    ACK reports a duplicate) for data the DUT sent and had acknowledged: the DUT counts the D-SACK (RFC 3708
    §2 detection starts from it). The control: the same data without the block, taken on the short path."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "sack": True}, sack=True, nodelay=True)
    sock.send(b"x" * 200)
    seg = conn.expect(flags="PA", within="10ms")
    sent = seg[TCP].seq
    conn.send(flags="A")  # all of it acknowledged: nothing in flight
    dut.net.run(for_="1ms")
    before = predicted(dut, profile)
    dsacks = sock.info().dsack_blocks_in
    conn.send(flags="PA", payload=b"c" * 100)  # the control
    dut.net.run(for_="1ms")
    mid = predicted(dut, profile)
    assert took(before, mid, 1, 0)
    assert sock.info().dsack_blocks_in == dsacks
    block = [("NOP", None), ("NOP", None), ("SAck", (sent, seq_add(sent, 200)))]
    conn.send(flags="PA", payload=b"d" * 100, options=block)
    dut.net.run(for_="1ms")
    assert took(mid, predicted(dut, profile), 0, 0)
    assert sock.info().dsack_blocks_in == dsacks + 1
    assert drain(sock) == b"c" * 100 + b"d" * 100


@pytest.mark.rfc("7323 5.3")
def test_in_order_data_with_an_old_timestamp_is_dropped(dut, peer, profile):
    """RFC 7323 §5.3 R1: "If there is a Timestamps option in the arriving segment, SEG.TSval < TS.Recent,
    TS.Recent is valid (see later discussion), and if the RST bit is not set, then treat the arriving segment as
    not acceptable", answered with an acknowledgment and dropped. In-order data, nothing in flight, with TSval
    one below TS.Recent: an ACK that does not cover it, nothing delivered. The control: the
    same data with TSval equal to TS.Recent (not older) is taken on the short path and delivered."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "ts": True}, timestamps=True)
    dut.net.run(for_="100ms")
    first = conn.send(flags="PA", payload=b"fresh")
    dut.net.run(for_="1ms")
    assert drain(sock) == b"fresh"
    recent = first[TCP].options[-1][1][0]  # the TSval the DUT took as TS.Recent
    echo = conn.ts_recent
    before = predicted(dut, profile)
    old = [("NOP", None), ("NOP", None), ("Timestamp", ((recent - 1) % 2**32, echo))]
    inject(conn, flags="PA", payload=b"stale", options=old)
    conn.expect(flags="A", ack=conn.snd_nxt, within=immediate(dut))
    dut.net.run(for_="1ms")
    assert drain(sock) == b""
    mid = predicted(dut, profile)
    assert took(before, mid, 0, 0)
    same = [("NOP", None), ("NOP", None), ("Timestamp", (recent, echo))]
    conn.send(flags="PA", payload=b"equal", options=same)
    dut.net.run(for_="1ms")
    assert drain(sock) == b"equal"
    assert took(mid, predicted(dut, profile), 1, 0)


@pytest.mark.rfc("9293 3.10.7.4")
def test_in_order_data_into_a_closed_window_is_not_accepted(dut, peer, profile):
    """A window closed by a full buffer stays closed when the application reads less than a segment (receiver
    silly-window avoidance, RFC 9293 §3.8.6.2.2), though the buffer has room again. RFC 9293 §3.10.7.4 first:
    "If the RCV.WND is zero, no segments will be acceptable, but special allowance should be made to accept
    valid ACKs, URGs, and RSTs." In-order data at RCV.NXT then draws an ACK that does not cover it and is not
    delivered. The control: once the application has read enough for the window to open, the same data is
    acknowledged and delivered."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS}, rx_buffer=4096)
    for i in range(0, 4096, MSS):
        conn.send(flags="PA", payload=bytes([i // MSS]) * min(MSS, 4096 - i))
    ack = conn.expect(flags="A", ack=conn.snd_nxt, within="1s")
    if ack[TCP].window != 0:
        ack = conn.expect(flags="A", ack=conn.snd_nxt, window=0, within="1s")
    assert len(sock.recv(100)) == 100  # 100 bytes of room, less than a segment: the window stays closed
    conn.expect_nothing(for_="300ms")
    before = predicted(dut, profile)
    inject(conn, flags="PA", payload=b"z" * 50)
    conn.expect(flags="A", ack=conn.snd_nxt, window=0, within=immediate(dut))
    assert took(before, predicted(dut, profile), 0, 0)
    rest = drain(sock)
    assert len(rest) == 4096 - 100 and b"z" not in rest
    conn.expect(flags="A", ack=conn.snd_nxt, within="1s")  # the window update after the read
    conn.send(flags="PA", payload=b"z" * 50)
    conn.expect(flags="A", ack=conn.snd_nxt, within="1s")
    assert drain(sock) == b"z" * 50


@pytest.mark.rfc("9293 3.10.7.4")
def test_pure_ack_with_a_sequence_number_below_the_window_is_not_taken(dut, peer, profile):
    """RFC 9293 §3.10.7.4 first: a segment of length zero is acceptable when "RCV.NXT =< SEG.SEQ <
    RCV.NXT+RCV.WND"; "If an incoming segment is not acceptable, an acknowledgment should be sent in reply" and
    nothing else is done with it. The control first: a pure ACK of the DUT's data at RCV.NXT, taken on the short
    path, after which nothing is retransmitted. Then the same ACK of new data with SEG.SEQ = RCV.NXT - 1: the DUT
    answers with an ACK and, its data never acknowledged, retransmits it when its retransmission timer expires."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS})
    conn.send(flags="PA", payload=b"q" * 10)  # RCV.NXT moves past the handshake
    conn.expect(flags="A", ack=conn.snd_nxt, within="1s")
    rto = sock.info().rto_ns / 1e9
    sock.send(b"p" * 100)
    seg = conn.expect(flags="PA", within="10ms")
    before = predicted(dut, profile)
    conn.send(flags="A", ack=seq_add(seg[TCP].seq, 100))  # the control
    conn.expect_nothing(for_=f"{rto + 0.5}s")
    assert took(before, predicted(dut, profile), 0, 1)
    sock.send(b"r" * 300)
    seg = conn.expect(flags="PA", within="10ms")
    mid = predicted(dut, profile)
    inject(conn, flags="A", seq=seq_add(conn.snd_nxt, -1), ack=seq_add(seg[TCP].seq, 300))
    conn.expect(flags="A", ack=conn.snd_nxt, within=immediate(dut))
    assert took(mid, predicted(dut, profile), 0, 0)
    again = conn.expect(flags="PA", seq=seg[TCP].seq, within=f"{sock.info().rto_ns / 1e9 + 0.1}s")
    assert tcp_payload(again) == b"r" * 300


@pytest.mark.rfc("9293 3.10.7.4", "5961 5.2")
def test_pure_ack_of_data_never_sent_is_answered_not_taken(dut, peer, profile):
    """The fifth check of RFC 793, kept by RFC 9293 §3.10.7.4 and quoted in RFC 5961 §5.2: "If the ACK
    acknowledges something not yet sent (SEG.ACK > SND.NXT) then send an ACK, drop the segment, and return." A
    pure ACK at RCV.NXT acknowledging the DUT's 300 bytes and 1000 more it never sent: an ACK
    <SEQ=SND.NXT><ACK=RCV.NXT> in reply, and the 300 bytes, never acknowledged, are retransmitted when the
    retransmission timer expires. The control: an ACK of exactly what was sent, taken on the short path, after
    which nothing is retransmitted."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS})
    rto = sock.info().rto_ns / 1e9
    sock.send(b"p" * 100)
    seg = conn.expect(flags="PA", within="10ms")
    before = predicted(dut, profile)
    conn.send(flags="A", ack=seq_add(seg[TCP].seq, 100))  # the control
    conn.expect_nothing(for_=f"{rto + 0.5}s")
    assert took(before, predicted(dut, profile), 0, 1)
    sock.send(b"r" * 300)
    seg = conn.expect(flags="PA", within="10ms")
    snd_nxt = seq_add(seg[TCP].seq, 300)
    mid = predicted(dut, profile)
    inject(conn, flags="A", ack=seq_add(snd_nxt, 1000))
    conn.expect(flags="A", seq=snd_nxt, ack=conn.snd_nxt, payload=b"", within=immediate(dut))
    assert took(mid, predicted(dut, profile), 0, 0)
    again = conn.expect(flags="PA", seq=seg[TCP].seq, within=f"{sock.info().rto_ns / 1e9 + 0.1}s")
    assert tcp_payload(again) == b"r" * 300
