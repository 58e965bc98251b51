"""Congestion control (RFC 5681, RFC 6928, RFC 3042, RFC 6582, RFC 6675,
RFC 9438): the initial window, slow start, congestion avoidance, fast
retransmit after three duplicate ACKs and fast recovery, SACK-based
recovery, limited transmit, the window after an RTO; on the wire and in
tcp_info."""

from __future__ import annotations

import pytest

from pyharness.dut import linux_deviation
from scapy.layers.inet import TCP

from tcpkit import EXACT, T, classic_recovery, ns, passive, seq_add, tcp_payload

pytestmark = pytest.mark.area("tcp")

ABC = 'RFC 5681 3.1 (3): "we RECOMMEND that TCP implementations increase cwnd, per: cwnd += min (N, SMSS)"; Linux adds every segment a stretch ACK covers'
IDLE = 'RFC 5681 4.1: "a TCP SHOULD set cwnd to no more than RW before beginning transmission if the TCP has not sent data in an interval exceeding the retransmission timeout"; Linux (tcp_slow_start_after_idle 1) was observed sending beyond RW after the idle period'
IW1 = 'RFC 5681 3.1: "if the SYN or SYN/ACK is lost, the initial window used by a sender after a correctly transmitted SYN MUST be one segment"; Linux keeps IW 10 after one lost SYN'

MSS = 1000


def bulk(dut, peer, nbytes, *, sack=False, ts=False, window=65535, **sockopts):
    """A connection (peer MSS 1000) with ``nbytes`` queued on the DUT with no-delay; returns (conn, sock)."""
    opts = {"mss": MSS, "window": window}
    if sack:
        opts["sack"] = True
        sockopts.setdefault("sack", True)
    conn, sock, _ = passive(dut, peer, peer_opts=opts, nodelay=True, **sockopts)
    data = bytes((i * 7) & 0xFF for i in range(nbytes))
    assert sock.send(data) == nbytes
    return conn, sock


def take_flight(conn, within="10ms"):
    """Every data segment that arrives now (until 10 ms of silence)."""
    segs = []
    while True:
        try:
            segs.append(conn.expect(payload=lambda p: len(p) > 0, within=within))
        except AssertionError:
            return segs


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


def ack(conn, upto, sack=None):
    opts = None
    if sack:
        opts = [("NOP", None), ("NOP", None), ("SAck", tuple(x for blk in sack for x in blk))]
    return conn.send(flags="A", ack=upto, options=opts)


@pytest.mark.rfc("6928 2", "5681 3.1")
def test_initial_window(dut, peer, profile):
    conn, sock = bulk(dut, peer, 30 * MSS)
    segs = data_segs(conn)
    assert len(segs) == profile.initial_window
    assert all(len(tcp_payload(s)) == MSS for s in segs)
    info = sock.info()
    assert info.cwnd >= profile.initial_window * MSS and info.cwnd < (profile.initial_window + 1) * MSS
    assert info.in_flight == profile.initial_window * MSS


@pytest.mark.rfc("5681 3.1")
@pytest.mark.parametrize("opener", ["passive", "active"])
def test_handshake_does_not_grow_cwnd(dut, peer, profile, opener):
    from tcpkit import active

    if opener == "passive":
        conn, sock, _ = passive(dut, peer, peer_opts={"mss": MSS})
    else:
        conn, sock = active(dut, peer, peer_opts={"mss": MSS})
    assert sock.info().cwnd == profile.initial_window * MSS


@pytest.mark.rfc("5681 3.1", "6928 2")
@linux_deviation(IW1)
def test_initial_window_is_one_segment_after_lost_syn(dut, peer, peer_ip):
    """RFC 5681 §3.1: if the SYN or SYN/ACK is lost, the initial window is one segment."""
    from tcpkit import PEER_PORT

    sock = dut.tcp_connect(peer_ip, PEER_PORT, nodelay=True)
    conn = peer.tcp(dut, local_port=PEER_PORT, isn=5000, mss=MSS)
    conn.expect(flags="S", within="10ms")
    conn.expect(flags="S", within="2s")  # the first SYN was "lost"
    conn.send(flags="SA")
    conn.expect(flags="A", within="10ms")
    sock.send(bytes(10 * MSS))
    assert len(data_segs(conn)) == 1
    assert sock.info().cwnd == MSS


@pytest.mark.rfc("6928 2", "5681 3.1")
@pytest.mark.parametrize("iw", [1, 2, 4])
def test_initial_window_option(dut, peer, iw):
    conn, sock = bulk(dut, peer, 20 * MSS, initial_window=iw)
    assert len(data_segs(conn)) == iw


@pytest.mark.rfc("5681 3.1", "9293 MUST-19")
def test_slow_start_doubles_per_round_trip(dut, peer, profile):
    """Each ACK of a full segment grows cwnd by one SMSS: ACKing one flight of N yields 2N."""
    iw = profile.initial_window
    conn, sock = bulk(dut, peer, 60 * MSS)
    flight = data_segs(conn)
    assert len(flight) == iw
    nxt = []
    for s in flight:
        ack(conn, seq_add(s[TCP].seq, MSS))
        nxt += data_segs(conn, within="1ms")
    assert len(nxt) == 2 * iw
    assert sock.info().cwnd // MSS == 2 * iw


def rfc5681_slow_start(profile) -> dict:
    """The socket options of the profile's classic recovery that select RFC 5681 §3.1's slow start (L = 1 SMSS;
    Tern's default is RFC 3465's L = 2 SMSS, ``abc_l2``); none on a DUT that has no such switch."""
    return {k: v for k, v in (profile.classic_recovery or {}).items() if k == "abc_l2"}


@pytest.mark.rfc("5681 3.1")
@linux_deviation(ABC)
def test_slow_start_counts_bytes_not_acks(dut, peer, profile):
    """One cumulative ACK for the whole flight grows cwnd by at most one SMSS (RFC 5681 (2), L=1 SMSS)."""
    iw = profile.initial_window
    conn, sock = bulk(dut, peer, 60 * MSS, **rfc5681_slow_start(profile))
    flight = data_segs(conn)
    cwnd0 = sock.info().cwnd
    ack(conn, seq_add(flight[-1][TCP].seq, MSS))
    nxt = data_segs(conn, within="1ms")
    assert sock.info().cwnd == cwnd0 + MSS
    assert len(nxt) == iw + 1


@pytest.mark.dut("tern", reason="Tern's default slow start (tern_tcp_config.abc_l2); lwIP and smoltcp have RFC 5681's")
@pytest.mark.rfc("5681 3.1", "5681 4.2")
@pytest.mark.parametrize("l2", [True, False], ids=["abc_l2", "rfc5681"])
def test_slow_start_doubles_per_round_trip_with_delayed_acks(dut, peer, profile, l2):
    """A receiver that ACKs every second segment (RFC 5681 §4.2: "an ACK SHOULD be generated for at least every
    second full-sized segment") still sees cwnd double per round trip: each ACK of two segments grows cwnd by
    2 SMSS (RFC 3465 §2.3's byte counting limit L = 2 SMSS, the default) and releases four segments, at the ACK's
    instant. The control (abc_l2 off, the classic profile's RFC 5681 §3.1: "cwnd += min (N, SMSS)") grows by
    1 SMSS per ACK: three segments per ACK, 1.5 x per round trip. Issue 22: under bursty loss a Tern sender
    reached a third less goodput against a Tern receiver (ACK every second segment) than against a kernel one
    (which ACKs every segment at first), the window at the first loss being that much smaller."""
    iw = profile.initial_window
    conn, sock = bulk(dut, peer, 60 * MSS, abc_l2=l2)
    flight = data_segs(conn)
    assert len(flight) == iw
    per_ack = 4 if l2 else 3
    for k in range(1, iw, 2):  # ACK segments 0-1, 2-3, ...: five ACKs of two segments each
        t_ack = dut.net.now_ns
        ack(conn, seq_add(flight[k][TCP].seq, MSS))
        out = data_segs(conn, within="1ms")
        assert len(out) == per_ack, f"{len(out)} segments for an ACK of two, not {per_ack}"
        assert all(len(tcp_payload(s)) == MSS and ns(s) == t_ack for s in out)  # at the ACK's instant
    assert sock.info().cwnd == (2 * iw if l2 else iw + iw // 2) * MSS


def lose_and_dupack(conn, flight, lost_index, dupacks, sack=False):
    """The peer receives ``flight`` except segment ``lost_index``; ACKs up to it, then ``dupacks`` dup ACKs."""
    hole = flight[lost_index][TCP].seq
    for i, s in enumerate(flight):
        if i < lost_index:
            ack(conn, seq_add(s[TCP].seq, MSS))
    sacked = []
    for i in range(lost_index + 1, lost_index + 1 + dupacks):
        blk = None
        if sack:
            sacked = [(seq_add(hole, MSS), seq_add(flight[i][TCP].seq, MSS))]
            blk = sacked
        ack(conn, hole, sack=blk)
    return hole


@pytest.mark.rfc("5681 3.2", "6582 3.2", "9293 MUST-19")
def test_fast_retransmit_after_three_dup_acks(dut, peer, profile):
    classic = classic_recovery(profile)  # the exact RFC 5681/6582/6675 timeline
    conn, sock = bulk(dut, peer, 40 * MSS, **classic)
    flight = data_segs(conn)
    hole = flight[2][TCP].seq
    for s in flight[:2]:
        ack(conn, seq_add(s[TCP].seq, MSS))
    data_segs(conn, within="1ms")  # slow start sends more
    flight_size = (sock.info().snd_nxt - sock.info().snd_una) % 2**32
    ack(conn, hole)
    ack(conn, hole)
    assert all(s[TCP].seq != hole for s in data_segs(conn, within="1ms")), "retransmitted after 2 dup ACKs"
    ack(conn, hole)
    r = conn.expect(seq=hole, within="1ms")
    assert len(tcp_payload(r)) == MSS
    info = sock.info()
    assert info.fast_retransmits == 1 and info.rto_timeouts == 0
    assert info.dup_acks_in >= 3
    # RFC 5681 §3.2 (2): ssthresh from FlightSize, "additional data sent in limited transmit MUST NOT be
    # included in this calculation".
    assert info.ssthresh == max(flight_size // 2, 2 * MSS)


@pytest.mark.rfc("3042 2", "5681 3.2")
def test_limited_transmit_sends_new_data_on_first_two_dup_acks(dut, peer, profile):
    classic = classic_recovery(profile)  # the exact RFC 5681/6582/6675 timeline
    conn, sock = bulk(dut, peer, 40 * MSS, initial_window=4, **classic)
    flight = data_segs(conn)
    assert len(flight) == 4
    hole = flight[0][TCP].seq
    top = seq_add(flight[-1][TCP].seq, MSS)
    cwnd = sock.info().cwnd
    ack(conn, hole)
    ack(conn, hole)
    new = data_segs(conn, within="1ms")
    assert [s[TCP].seq for s in new] == [top, seq_add(top, MSS)], "limited transmit: one new segment per dup ACK"
    assert sock.info().cwnd == cwnd, "limited transmit must not change cwnd"


@pytest.mark.rfc("6582 3.2", "5681 3.2")
def test_fast_recovery_inflates_then_deflates(dut, peer, profile):
    classic = classic_recovery(profile)  # the exact RFC 5681/6582/6675 timeline
    conn, sock = bulk(dut, peer, 40 * MSS, **classic)
    flight = data_segs(conn)
    hole = flight[0][TCP].seq
    for _ in range(3):
        ack(conn, hole)
    conn.expect(seq=hole, within="1ms")
    in_rec = sock.info()
    ssthresh = in_rec.ssthresh
    # Each further dup ACK lets one new segment out (cwnd inflation).
    for _ in range(5):
        ack(conn, hole)
    new = data_segs(conn, within="1ms")
    assert len(new) >= 3
    # A full ACK (everything sent before recovery) ends recovery: cwnd deflates to ssthresh.
    recover = seq_add(flight[-1][TCP].seq, MSS)
    ack(conn, recover)
    data_segs(conn, within="1ms")
    info = sock.info()
    assert info.cwnd <= ssthresh + MSS and info.cwnd >= min(ssthresh, info.in_flight)
    assert ssthresh == max(10 * MSS // 2, 2 * MSS)  # FlightSize without the limited-transmit segments


@pytest.mark.rfc("6582 3.2")
def test_newreno_partial_ack_retransmits_next_hole(dut, peer):
    """Two segments lost from one flight: the partial ACK after the first retransmission triggers the
    retransmission of the second, at once, without another three dup ACKs or an RTO."""
    conn, sock = bulk(dut, peer, 40 * MSS)
    flight = data_segs(conn)
    h1, h2 = flight[1][TCP].seq, flight[4][TCP].seq
    ack(conn, h1)
    for _ in range(3):
        ack(conn, h1)
    conn.expect(seq=h1, within="1ms")
    data_segs(conn, within="1ms")
    ack(conn, h2)  # partial ACK: up to the second hole
    r = conn.expect(seq=h2, within="1ms")
    assert len(tcp_payload(r)) == MSS
    info = sock.info()
    assert info.rto_timeouts == 0


@pytest.mark.rfc("6675 5", "2018 4")
def test_sack_recovery_retransmits_every_hole_without_partial_acks(dut, peer, profile):
    """With SACK, after three duplicate ACKs the DUT retransmits the first hole and, while the
    cumulative ACK has not moved, the second hole too (RFC 6675 NextSeg)."""
    classic = classic_recovery(profile)  # the exact RFC 5681/6582/6675 timeline
    conn, sock = bulk(dut, peer, 40 * MSS, sack=True, **classic)
    assert sock.info().sack_ok
    flight = data_segs(conn)
    h1, h2 = flight[1][TCP].seq, flight[5][TCP].seq
    ack(conn, h1)
    got = []
    for i in range(2, 10):
        blocks = [(seq_add(h1, MSS), seq_add(flight[min(i, 4)][TCP].seq, MSS))]
        if i >= 6:
            blocks = [(seq_add(h2, MSS), seq_add(flight[i][TCP].seq, MSS)), blocks[0]]
        if i == 5:
            continue
        ack(conn, h1, sack=blocks)
        got += data_segs(conn, within="1ms")
    # The receiver goes on SACKing what keeps arriving (the segments the DUT
    # sends in recovery) without moving the cumulative ACK. ssthresh leaves out
    # what limited transmit sent (RFC 5681 §3.2 step 2, RFC 6675 (4.2)), so the
    # second hole may need a few of these ACKs before pipe lets it go.
    right = seq_add(flight[9][TCP].seq, MSS)
    for _ in range(8):
        if h2 in [s[TCP].seq for s in got]:
            break
        for s in got:
            end = seq_add(s[TCP].seq, len(tcp_payload(s)))
            if s[TCP].seq == right:
                right = end
        ack(conn, h1, sack=[(seq_add(h2, MSS), right), (seq_add(h1, MSS), seq_add(flight[4][TCP].seq, MSS))])
        got += data_segs(conn, within="1ms")
    seqs = [s[TCP].seq for s in got]
    assert h1 in seqs and h2 in seqs, "both holes retransmitted before any cumulative ACK"
    info = sock.info()
    assert info.rto_timeouts == 0 and info.sack_blocks_in > 0


@pytest.mark.rfc("5681 3.1", "5681 4.1", "6298 5.5")
def test_cwnd_after_rto_is_one_segment(dut, peer, profile):
    """After a timeout: ssthresh = max(FlightSize / 2, 2 SMSS), cwnd = 1 SMSS (RFC 5681 (4), (5))."""
    classic = classic_recovery(profile)  # the exact RFC 5681/6582/6675 timeline
    conn, sock = bulk(dut, peer, 30 * MSS, **classic)
    flight = data_segs(conn)
    flight_size = len(flight) * MSS
    r = conn.expect(seq=flight[0][TCP].seq, at=T(ns(flight[0]) + profile.rto_min), tolerance=EXACT)
    info = sock.info()
    assert info.cwnd == MSS
    assert info.ssthresh == max(flight_size // 2, 2 * MSS)
    assert info.rto_timeouts == 1
    conn.expect_nothing(for_="100ms", flags="A")
    del r


@pytest.mark.rfc("5681 3.1")
def test_slow_start_after_rto_until_ssthresh_then_avoidance(dut, peer, profile):
    """After the RTO: slow start from one segment up to ssthresh, then roughly one SMSS per round trip."""
    classic = classic_recovery(profile)  # the exact RFC 5681/6582/6675 timeline
    conn, sock = bulk(dut, peer, 60 * MSS, **classic)
    flight = data_segs(conn)
    conn.expect(seq=flight[0][TCP].seq, within="2s")
    ssthresh = sock.info().ssthresh
    # ACK everything sent before the timeout at once: go-back-N from there.
    nxt = seq_add(flight[-1][TCP].seq, MSS)
    ack(conn, nxt)
    rounds = []
    for _ in range(6):
        segs = data_segs(conn, within="1ms")
        rounds.append(sock.info().cwnd)
        for s in segs:
            ack(conn, seq_add(s[TCP].seq, len(tcp_payload(s))))
    # cwnd never jumps above ssthresh by more than one segment in slow start, and grows slowly after.
    above = [c for c in rounds if c >= ssthresh]
    assert above, f"cwnd never reached ssthresh {ssthresh}: {rounds}"
    i = rounds.index(above[0])
    for a, b in zip(rounds[i:], rounds[i + 1:]):
        assert b - a <= 2 * MSS, f"congestion avoidance grew cwnd by {b - a} in one round trip: {rounds}"


@pytest.mark.rfc("9438 4.6", "9438 4.1")
def test_cubic_reduces_by_beta(dut, peer):
    """CUBIC (selectable per socket): on fast retransmit ssthresh = 0.7 x cwnd (RFC 9438 §4.6)."""
    conn, sock = bulk(dut, peer, 40 * MSS, congestion="cubic")
    flight = data_segs(conn)
    cwnd = sock.info().cwnd
    hole = flight[0][TCP].seq
    for _ in range(3):
        ack(conn, hole)
    conn.expect(seq=hole, within="1ms")
    ssthresh = sock.info().ssthresh
    assert abs(ssthresh - cwnd * 7 // 10) <= MSS


@pytest.mark.rfc("5681 4.1")
@linux_deviation(IDLE)
def test_restart_after_idle_uses_initial_window(dut, peer, profile):
    """After an idle period longer than the RTO, cwnd is reduced to the restart window (RFC 5681 §4.1)."""
    conn, sock = bulk(dut, peer, 40 * MSS)
    for _ in range(3):
        for s in data_segs(conn, within="1ms"):
            ack(conn, seq_add(s[TCP].seq, MSS))
    grown = sock.info().cwnd
    assert grown > profile.initial_window * MSS
    while sock.info().unacked:
        for s in data_segs(conn, within="1ms"):
            ack(conn, seq_add(s[TCP].seq, MSS))
    dut.net.run(for_=profile.rto_min / 1e9 * 3)
    sock.send(bytes(30 * MSS))
    burst = data_segs(conn, within="1ms")
    assert len(burst) <= profile.initial_window


@pytest.mark.rfc("5681 3.2", "6582 3.2")
@pytest.mark.dut("tern", reason="a golden trace is the Tern stack's canonical bytes (ISN, windows, options, timing)")
def test_golden_fast_retransmit(dut, peer, link, golden):
    """Golden trace: a data segment lost and recovered by fast retransmit."""
    conn, sock = bulk(dut, peer, 8 * MSS, initial_window=4)
    start = sock.info().snd_una
    flight = data_segs(conn)
    hole = flight[1][TCP].seq
    top = [seq_add(flight[-1][TCP].seq, MSS)]

    def seen(segs):
        for s in segs:
            end = seq_add(s[TCP].seq, len(tcp_payload(s)))
            if (end - start) % 2**32 > (top[0] - start) % 2**32:
                top[0] = end
        return segs

    ack(conn, hole)
    for _ in range(3):
        ack(conn, hole)
        seen(data_segs(conn, within="1ms"))
    end = seq_add(start, 8 * MSS)
    for _ in range(10):
        ack(conn, top[0])
        if top[0] == end:
            break
        seen(data_segs(conn, within="1ms"))
    dut.net.run(for_="10ms")
    info = sock.info()
    assert info.snd_una == end and info.rto_timeouts == 0 and info.fast_retransmits == 1
    golden.check(link, mask=("ip.id",))


@pytest.mark.rfc("6675 5", "2018 4")
@pytest.mark.dut("tern", reason="a golden trace is the Tern stack's canonical bytes (ISN, windows, options, timing)")
def test_golden_sack_recovery(dut, peer, link, golden):
    """Golden trace: a data segment lost and recovered with SACK."""
    conn, sock = bulk(dut, peer, 6 * MSS, sack=True, initial_window=6)
    flight = data_segs(conn)
    h = flight[1][TCP].seq
    ack(conn, h)
    for i in range(2, 6):
        ack(conn, h, sack=[(seq_add(h, MSS), seq_add(flight[i][TCP].seq, MSS))])
    conn.expect(seq=h, within="1ms")
    ack(conn, seq_add(flight[0][TCP].seq, 6 * MSS))
    dut.net.run(for_="10ms")
    assert sock.info().rto_timeouts == 0 and sock.info().fast_retransmits == 1
    golden.check(link, mask=("ip.id",))


@pytest.mark.rfc("6298 5.4", "5681 3.1")
@pytest.mark.dut("tern", reason="a golden trace is the Tern stack's canonical bytes (ISN, windows, options, timing)")
def test_golden_rto_recovery(dut, peer, link, golden, profile):
    """Golden trace: a data segment lost and recovered by the retransmission timer."""
    conn, sock = bulk(dut, peer, 2 * MSS, initial_window=2)
    flight = data_segs(conn)
    ack(conn, flight[0][TCP].seq)  # nothing arrived; only a window update
    conn.expect(seq=flight[0][TCP].seq, at=T(ns(flight[0]) + profile.rto_min), tolerance=EXACT)
    ack(conn, seq_add(flight[0][TCP].seq, 2 * MSS))
    dut.net.run(for_="10ms")
    assert sock.info().rto_timeouts == 1
    golden.check(link, mask=("ip.id",))
