"""Flow control (RFC 9293 §3.8.6, RFC 7323 §2, RFC 1122 §4.2.3.3-4):
window scaling, the zero window and its probes with backoff, silly-window
avoidance on both sides, window updates."""

from __future__ import annotations

import pytest

from pyharness.dut import linux_deviation
from scapy.layers.inet import TCP

from tcpkit import EXACT, T, drain, fill_window, ns, passive, seq_add, tcp_payload

pytestmark = pytest.mark.area("tcp")

RFC6298_24 = 'RFC 6298 (2.4): "Whenever RTO is computed, if it is less than 1 second, then the RTO SHOULD be rounded up to 1 second"; Linux: RTO = SRTT + max(4*RTTVAR, 200 ms), restarted on every ACK (RFC 6298 (5.3) restarts it only when new data is acknowledged)'

MSS = 1000


def data_segs(conn, within="10ms"):
    from pyharness.expect import ExpectationError

    out = []
    while True:
        try:
            p = conn.peer.expect(TCP(sport=conn.remote_port, dport=conn.local_port), within=within)
        except ExpectationError:
            return out
        if tcp_payload(p):
            out.append(p)


@pytest.mark.rfc("9293 3.8.6", "9293 3.10.7.4")
@pytest.mark.parametrize("window", [1, 500, 2500, 4000])
def test_sender_respects_offered_window(dut, peer, window, profile):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "window": window}, nodelay=True)
    sock.send(bytes(10 * MSS))
    segs = data_segs(conn)
    if window < profile.min_send_window:
        # Linux sends into a window below its smallest segment (48 bytes) only from its persist (probe)
        # timer, one RTO later: the override timeout (4) of RFC 9293 §3.8.6.2.1, not its "fraction Fs" case (3).
        assert segs == []
        segs = [conn.expect(seq=conn.rcv_nxt, within=T(sock.info().rto_ns + 1_000_000_000))]
    sent = sum(len(tcp_payload(s)) for s in segs)
    # Whole segments while the window allows them; a window smaller than one segment is used at once
    # (it is at least half the largest window offered: RFC 9293 §3.8.6.2.1).
    assert sent == (window if window < MSS else window - window % MSS)
    assert all(seq_add(s[TCP].seq, len(tcp_payload(s))) == seq_add(segs[0][TCP].seq, sum(
        len(tcp_payload(x)) for x in segs[:i + 1])) for i, s in enumerate(segs))
    if window % MSS and window > MSS:
        # Everything acknowledged, right edge unchanged: a usable window of less than one segment and
        # less than half the largest window. The DUT waits, then sends it when the override timer
        # expires (0.1 s to 1 s, RFC 9293 §3.8.6.2.1), never beyond the window.
        conn.send(flags="A", ack=seq_add(segs[0][TCP].seq, sent), window=window - sent)
        assert data_segs(conn, within="90ms") == []
        rest = conn.expect(seq=seq_add(segs[0][TCP].seq, sent), within="1s")
        assert len(tcp_payload(rest)) == window % MSS


@pytest.mark.rfc("7323 2.3", "7323 2.2")
@pytest.mark.parametrize("shift", [0, 1, 7, 14])
def test_peer_window_scale_applied(dut, peer, shift):
    """The peer's window field is shifted by its announced scale (from the first segment after the SYN)."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "wscale": shift, "window": 3 * MSS},
                            window_scaling=True)
    conn.send(flags="A")
    dut.net.run(for_="1ms")
    assert sock.info().snd_wnd == ((3 * MSS) >> shift) << shift
    assert sock.info().snd_wscale == shift


@pytest.mark.rfc("7323 2.2", "7323 2.3")
def test_window_in_syn_is_never_scaled(dut, peer):
    """The window of a SYN (and SYN-ACK) is not scaled (RFC 7323 §2.2)."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "wscale": 4, "window": 4000}, window_scaling=True)
    assert sock.info().snd_wnd in (4000, 4000 >> 4 << 4)


@pytest.mark.rfc("7323 2.3")
def test_dut_scales_its_advertised_window(dut, peer):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "wscale": 2}, window_scaling=True)
    shift = conn.remote_wscale
    assert shift is not None and shift == sock.info().rcv_wscale
    conn.send(flags="PA", payload=b"x")
    a = conn.expect(flags="A", within="1s")
    rcv_wnd = sock.info().rcv_wnd
    assert a[TCP].window == rcv_wnd >> shift


@pytest.mark.rfc("9293 3.8.6.1", "9293 MUST-36", "1122 4.2.2.17")
@linux_deviation(RFC6298_24)
def test_zero_window_probes_with_backoff(dut, peer, link, profile, golden):
    """Golden trace: the peer closes its window; the DUT probes at RTO, 2 RTO, 4 RTO... and the
    connection stays open while the probes are answered (MUST-37); a window update resumes the transfer."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS}, nodelay=True)
    sock.send(bytes(2 * MSS))
    segs = data_segs(conn)
    conn.window = 0
    conn.send(flags="A", ack=seq_add(segs[-1][TCP].seq, MSS))
    t0 = dut.net.now_ns
    rto = sock.info().rto_ns
    sock.send(b"blocked data")
    t, step = t0, rto
    for _ in range(5):
        t += step
        p = conn.expect(at=T(t), tolerance=EXACT)
        assert len(tcp_payload(p)) <= 1
        conn.rcv_nxt = p[TCP].seq  # the probe's byte does not fit a zero window: not accepted
        conn.send(flags="A")  # still zero
        step = min(step * 2, profile.rto_max)
    assert sock.state == "ESTABLISHED"
    assert sock.info().zero_window_probes == 5
    conn.window = 65535
    conn.send(flags="A")
    got = conn.expect_data(b"blocked data", within="10ms")
    assert got == b"blocked data"
    golden.check(link, mask=("ip.id",))


@pytest.mark.rfc("9293 3.8.6.1", "9293 MUST-37")
def test_zero_window_kept_open_indefinitely(dut, peer, profile):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "window": 0})
    sock.send(b"waiting for window")
    for _ in range(20):
        p = conn.expect(within=profile.rto_max / 1e9 + 2)
        conn.rcv_nxt = p[TCP].seq
        conn.send(flags="A")
    assert sock.state == "ESTABLISHED" and sock.info().error is None


@pytest.mark.rfc("9293 3.8.6.1", "9293 MUST-35", "9293 MUST-34")
def test_window_shrunk_to_zero_is_probed(dut, peer, profile):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "window": 3 * MSS}, nodelay=True)
    sock.send(bytes(6 * MSS))
    segs = data_segs(conn)
    assert len(segs) == 3
    conn.window = 0
    conn.send(flags="A", ack=seq_add(segs[0][TCP].seq, MSS))
    p = conn.expect(within=2 * profile.rto_max / 1e9)
    assert len(tcp_payload(p)) <= MSS
    conn.window = 10 * MSS
    conn.send(flags="A", ack=seq_add(segs[-1][TCP].seq, MSS))
    base = segs[0][TCP].seq
    top = 3 * MSS
    for _ in range(10):
        for x in data_segs(conn):
            top = max(top, (x[TCP].seq - base) % 2**32 + len(tcp_payload(x)))
        conn.send(flags="A", ack=seq_add(base, top))
        if top == 6 * MSS:
            break
    assert top == 6 * MSS, "the transfer did not resume after the window reopened"


@pytest.mark.rfc("9293 3.8.6.2.1", "9293 MUST-38", "1122 4.2.3.4")
def test_sender_sws_avoidance_no_tiny_segments(dut, peer):
    """The peer opens its window by 10 bytes at a time; the DUT does not send 10-byte segments while
    it has a full segment's worth queued (it waits for at least MSS or half the max window)."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "window": 4 * MSS}, nodelay=True)
    sock.send(bytes(8 * MSS))
    segs = data_segs(conn)
    edge = seq_add(segs[-1][TCP].seq, MSS)
    conn.window = 10
    conn.send(flags="A", ack=edge)
    small = data_segs(conn, within="50ms")
    assert all(len(tcp_payload(s)) >= 2 * MSS or len(tcp_payload(s)) >= MSS for s in small) or not small


@pytest.mark.rfc("9293 3.8.6.2.2", "9293 MUST-39", "1122 4.2.3.3")
def test_receiver_sws_avoidance_window_opens_in_large_steps(dut, peer, profile):
    """The application reads a few bytes at a time from a full buffer: the advertised window stays 0
    until at least min(RCV.BUFF/2, MSS) is free."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS}, rx_buffer=4000)
    # Tern advertises the 4000 asked for: 4 segments of MSS fill it (fill_window: whatever the DUT offered).
    filled, a = fill_window(conn, MSS)
    if profile.rx_buffer_is_window:
        assert filled == 4000
    assert a[TCP].window == 0
    windows = []
    for _ in range(20):
        sock.recv(50)
        dut.net.run(for_="1ms")
        for p in conn.peer.received():
            windows.append(p[TCP].window)
    assert all(w == 0 or w >= min(filled // 2, 536) for w in windows), f"silly window advertised: {windows}"


@pytest.mark.rfc("9293 3.8.6.2.2", "1122 4.2.3.3")
def test_window_update_sent_when_application_drains_buffer(dut, peer, profile):
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS}, rx_buffer=4000)
    offered = conn.snd_wnd  # the SYN-ACK's window: Tern the 4000 asked for, Linux less (buffer overhead)
    filled, a = fill_window(conn, MSS)
    if profile.rx_buffer_is_window:
        assert offered == filled == 4000  # 4 segments of MSS
    assert a[TCP].window == 0
    assert len(drain(sock)) == filled
    upd = conn.expect(flags="A", ack=conn.snd_nxt, within="10ms")
    assert upd[TCP].window >= offered - 1  # the window reopens at least as wide as first offered


@pytest.mark.rfc("9293 3.10.7.4", "1122 4.2.2.20")
def test_window_update_from_old_segment_ignored(dut, peer):
    """SND.WL1/SND.WL2: a reordered older ACK does not shrink the window learned from a newer one."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS, "window": 8 * MSS})
    old_seq = conn.snd_nxt
    conn.send(flags="PA", payload=b"data")
    dut.net.run(for_="1ms")
    assert sock.info().snd_wnd == 8 * MSS
    from tcpkit import inject

    inject(conn, flags="A", seq=old_seq, window=2 * MSS)
    dut.net.run(for_="1ms")
    assert sock.info().snd_wnd == 8 * MSS


@pytest.mark.rfc("9293 3.8.6.1")
def test_window_probe_answered_by_dut_with_zero_window(dut, peer):
    """The DUT's own zero window: a 1-byte probe gets an ACK with window 0 and RCV.NXT unchanged."""
    conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS}, rx_buffer=2000)
    conn.send(flags="PA", payload=bytes(MSS))
    conn.send(flags="PA", payload=bytes(MSS))
    conn.expect(flags="A", ack=conn.snd_nxt, window=0, within="1s")
    from tcpkit import inject

    inject(conn, flags="PA", payload=b"p")
    conn.expect(flags="A", ack=conn.snd_nxt, window=0, within="10ms")
