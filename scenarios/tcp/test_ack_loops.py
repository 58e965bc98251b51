"""ACKs in answer to unacceptable segments are throttled, so two ends that disagree cannot ping-pong.

RFC 9293 §3.10.7.4: "If an incoming segment is not acceptable, an
acknowledgment should be sent in reply (unless the RST bit is set, if so drop
the segment and return)". Two ends that disagree about the sequence space
answer each other's answer, for ever and at line rate. RFC 9293 refers to
"RFC 5961 and Errata ID 4772" for "additional ACK throttling notes"; RFC 5961
§7: "In order to alleviate multiple RSTs/SYNs from triggering multiple
challenge ACKs, an ACK throttling mechanism is suggested". The DUT answers an
unacceptable segment without data at most once per ``invalid_ack_interval`` per
connection (Linux: tcp_invalid_ratelimit, 500 ms), and always answers one that
carries data (a retransmission whose ACK was lost must get its ACK).
"""

from __future__ import annotations

import pytest
from scapy.all import TCP, Ether, Raw

from tcpkit import T, addr, host_ifaces, inject, ip, passive, seq_add

pytestmark = pytest.mark.area("tcp")

MS = 1_000_000


def after_window(sock):
    info = sock.info()
    return seq_add(info.rcv_nxt, max(info.rcv_wnd, 1) + 1000)


@pytest.mark.rfc("9293 3.10.7.4", "5961 7")
def test_acks_to_unacceptable_pure_acks_are_throttled(dut, peer, profile):
    """Pure ACKs beyond the window: the first is answered <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>; the
    next ones within invalid_ack_interval of that answer are not; one at exactly the interval is."""
    conn, sock, _ = passive(dut, peer)
    iv = profile.invalid_ack_interval
    snd_nxt = sock.info().snd_nxt
    t0 = dut.net.now_ns
    inject(conn, flags="A", seq=after_window(sock))
    conn.expect(flags="A", seq=snd_nxt, ack=conn.snd_nxt, payload=b"", within="10ms")
    for k in (1, 2, 3):  # at t0 + iv/4, iv/2, 3iv/4
        dut.net.run(until=T(t0 + k * iv // 4))
        inject(conn, flags="A", seq=after_window(sock))
    conn.expect_nothing(for_=T(t0 + iv - 1 - dut.net.now_ns))
    dut.net.run(until=T(t0 + iv))
    inject(conn, flags="A", seq=after_window(sock))
    conn.expect(flags="A", seq=snd_nxt, ack=conn.snd_nxt, payload=b"", within="10ms")
    assert sock.state == "ESTABLISHED"


@pytest.mark.rfc("9293 3.10.7.4")
def test_unacceptable_segments_with_data_are_always_answered(dut, peer, profile):
    """Old data again (a retransmission whose ACK was lost), three times within one interval: each
    gets its ACK, throttle or not; the connection goes on."""
    conn, sock, _ = passive(dut, peer)
    conn.send_data(b"x" * 100)
    conn.expect(flags="A", ack=conn.snd_nxt, within="1s")
    snd_nxt = sock.info().snd_nxt
    for _ in range(3):
        inject(conn, flags="PA", seq=seq_add(conn.snd_nxt, -100), payload=b"x" * 100)
        conn.expect(flags="A", seq=snd_nxt, ack=conn.snd_nxt, within="10ms")
        dut.net.run(for_=T(profile.invalid_ack_interval // 8))
    # and a pure ACK beyond the window right after is still answered once (the data did not use up
    # the allowance)
    inject(conn, flags="A", seq=after_window(sock))
    conn.expect(flags="A", seq=snd_nxt, ack=conn.snd_nxt, payload=b"", within="10ms")


@pytest.mark.dut("tern", reason="two Tern hosts made to disagree; reads their node counters")
@pytest.mark.rfc("9293 3.10.7.4", "5961 7")
def test_two_desynchronised_tern_hosts_do_not_ping_pong(net, family):
    """Hosts a and b, connected, each told by a third party that the other sent 100 bytes it never
    sent: each one's ACKs now lie outside the other's window, and each answers the other's answer.
    Without throttling that is an endless ACK ping-pong (about 500 ACKs a second each over 1 ms
    links; without delay, without end at one instant). With it, each sends at most one such ACK per
    invalid_ack_interval (500 ms): over 4 s, a handful."""
    opts = {"timestamps": False}  # the injected segments carry no TSopt (RFC 7323 §3.2 would drop them)
    a = net.host("a", **host_ifaces(family, 1), tcp=opts)
    b = net.host("b", **host_ifaces(family, 2), tcp=opts)
    inj = net.peer("inj", **host_ifaces(family, 3))
    sw = net.switch("sw", ports=3)
    for n in (a, b, inj):
        net.link(n, sw, delay="1ms")
    listener = a.tcp_listen(80)
    cb = b.tcp_connect(addr(family, 1), 80, local_port=40000)
    net.run(for_="100ms")
    ca = listener.accept()
    assert ca is not None and ca.state == "ESTABLISHED" and cb.state == "ESTABLISHED"
    ia, ib = ca.info(), cb.info()

    def forged(dst, src_ip, dst_ip, sport, dport, seq, ack):
        return (Ether(dst=dst.mac) / ip(family, src=src_ip, dst=dst_ip)
                / TCP(sport=sport, dport=dport, flags="PA", seq=seq, ack=ack, window=65535) / Raw(b"z" * 100))

    # a believes b sent 100 more bytes, b believes a did
    inj.send(forged(a, addr(family, 2), addr(family, 1), 40000, 80, ia.rcv_nxt, ia.snd_nxt))
    inj.send(forged(b, addr(family, 1), addr(family, 2), 80, 40000, ib.rcv_nxt, ib.snd_nxt))
    a0, b0 = a.node_counters().tx_frames, b.node_counters().tx_frames
    net.run(for_="4s")
    sent_a = a.node_counters().tx_frames - a0
    sent_b = b.node_counters().tx_frames - b0
    # Each: the ACK of the forged data, then out-of-window answers at most one per 500 ms (and
    # nothing restarts the exchange once both are throttled).
    bound = 1 + (4000 // 500) + 1
    assert sent_a <= bound and sent_b <= bound, f"a sent {sent_a}, b sent {sent_b} frames in 4 s"
    assert a.counters().tcp_acks_rate_limited >= 1 or b.counters().tcp_acks_rate_limited >= 1
    # Both still hold their connection; the sockets are alive, just disagreeing.
    assert ca.state == "ESTABLISHED" and cb.state == "ESTABLISHED"


@pytest.mark.dut("tern", reason="two Tern hosts made to disagree")
@pytest.mark.rfc("9293 3.10.7.4", "5961 7")
def test_desynchronised_hosts_on_a_link_without_delay_stop(net, family):
    """The same disagreement over links without delay: unthrottled, the ping-pong runs at one virtual
    instant without end (the simulator's frame guard would stop it with LivelockError). Throttled,
    the run completes and each host's largest burst at one instant is a few frames."""
    opts = {"timestamps": False}
    a = net.host("a", **host_ifaces(family, 1), tcp=opts)
    b = net.host("b", **host_ifaces(family, 2), tcp=opts)
    inj = net.peer("inj", **host_ifaces(family, 3))
    sw = net.switch("sw", ports=3)
    for n in (a, b, inj):
        net.link(n, sw)
    listener = a.tcp_listen(80)
    cb = b.tcp_connect(addr(family, 1), 80, local_port=40000)
    net.run(for_="10ms")
    ca = listener.accept()
    assert ca is not None
    ia, ib = ca.info(), cb.info()
    inj.send(Ether(dst=a.mac) / ip(family, src=addr(family, 2), dst=addr(family, 1))
             / TCP(sport=40000, dport=80, flags="PA", seq=ia.rcv_nxt, ack=ia.snd_nxt) / Raw(b"z" * 100))
    inj.send(Ether(dst=b.mac) / ip(family, src=addr(family, 1), dst=addr(family, 2))
             / TCP(sport=80, dport=40000, flags="PA", seq=ib.rcv_nxt, ack=ib.snd_nxt) / Raw(b"z" * 100))
    net.run(for_="2s")
    assert a.node_counters().max_burst_frames <= 4
    assert b.node_counters().max_burst_frames <= 4
    assert ca.state == "ESTABLISHED" and cb.state == "ESTABLISHED"
