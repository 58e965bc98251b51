"""NAT for TCP (RFC 5382) and ICMP (RFC 5508): the mapping lifetime follows the
connection's state, echo identifiers are mapped like ports, and ICMP errors
about a mapped datagram are translated both ways, the quoted header included.

RFC 5382 REQ-5: "If a NAT cannot determine whether the endpoints of a TCP
connection are active, it MAY abandon the session if it has been idle for
some time. In such cases, the value of the "established connection
idle-timeout" MUST NOT be less than 2 hours 4 minutes. The value of the
"transitory connection idle-timeout" MUST NOT be less than 4 minutes."
"""

from __future__ import annotations

import pytest
from scapy.all import ICMP, IP, TCP, UDP, IPerror, TCPerror, UDPerror

from gwkit import S, WWW, nat_bench

pytestmark = pytest.mark.area("gateway")
OUT = "198.51.100.2"


def run_to(net, ns):
    net.run(until=f"{ns}ns")


@pytest.mark.rfc("5382 5")
def test_syn_only_is_transitory_240s(net):
    """A SYN nobody answers: the mapping lives the transitory 240 s from the last SYN sent."""
    gw, (g,), www = nat_bench(net)
    c = g.tcp_connect(WWW, 80, local_port=40000)
    syn = www.expect(IP(src=OUT) / TCP(flags="S", sport=40000, dport=80), within="1s")
    again = www.expect(IP(src=OUT) / TCP(flags="S", sport=40000), within="2s")
    c.abort()  # in SYN-SENT: nothing more is sent (RFC 9293 3.10.5)
    www.expect_nothing("2s")
    (m,) = gw.nat_table()
    assert m.sessions[0].tcp_state == "syn_sent"
    assert m.expires_at == again.time_ns + 240 * S
    assert again.time_ns == syn.time_ns + 1 * S
    run_to(net, m.expires_at - 1)
    assert gw.nat_table() != []
    run_to(net, m.expires_at)
    assert gw.nat_table() == []


@pytest.mark.rfc("5382 5")
def test_established_lives_2h4min(net):
    """SYNs both ways: the established idle-timeout, 7440 s from the last segment."""
    gw, (g,), peer = nat_bench(net)
    g_conn = g.tcp_connect(WWW, 80, local_port=40001)
    syn = peer.expect(IP(src=OUT) / TCP(flags="S", dport=80), within="1s")
    peer.send(IP(dst=OUT) / TCP(sport=80, dport=syn[TCP].sport, flags="SA", seq=1000, ack=syn[TCP].seq + 1))
    ack = peer.expect(IP(src=OUT) / TCP(flags="A", dport=80), within="1s")
    assert net.run(until=lambda: g_conn.state == "ESTABLISHED", for_="1s")
    (m,) = gw.nat_table()
    assert m.sessions[0].tcp_state == "established"
    assert m.expires_at == ack.time_ns + 7440 * S


@pytest.mark.rfc("5382 5")
@pytest.mark.parametrize("how", ["fin", "rst"])
def test_closed_connection_back_to_transitory(net, how):
    """After FINs both ways, or a RST, the mapping goes back to the transitory timeout (240 s)."""
    gw, (g,), www = nat_bench(net)
    c = g.tcp_connect(WWW, 80, local_port=40002)
    syn = www.expect(IP(src=OUT) / TCP(flags="S", dport=80), within="1s")
    isn = syn[TCP].seq
    www.send(IP(dst=OUT) / TCP(sport=80, dport=40002, flags="SA", seq=1000, ack=isn + 1))
    www.expect(IP(src=OUT) / TCP(flags="A"), within="1s")
    if how == "rst":
        www.send(IP(dst=OUT) / TCP(sport=80, dport=40002, flags="R", seq=1001))
        last = net.now_ns
        assert net.run(until=lambda: c.state == "CLOSED", for_="1s")
        state = "closed"
    else:
        c.close()
        fin = www.expect(IP(src=OUT) / TCP(flags="FA"), within="1s")
        www.send(IP(dst=OUT) / TCP(sport=80, dport=40002, flags="FA", seq=1001, ack=fin[TCP].seq + 1))
        last_ack = www.expect(IP(src=OUT) / TCP(flags="A", seq=fin[TCP].seq + 1), within="1s")
        last = last_ack.time_ns
        state = "closed"
    (m,) = gw.nat_table()
    assert m.sessions[0].tcp_state == state
    assert m.expires_at == last + 240 * S


@pytest.mark.rfc("5382 5")
def test_tcp_timeouts_below_rfc_refused(net):
    """Timeouts below 2 h 4 min (established) or 4 min (transitory) are configuration errors."""
    from pyharness.gateway import GatewayConfigError

    with pytest.raises(GatewayConfigError) as e:
        net.gateway("gw", profile="fvp", nat={"tcp_established_timeout": "2h"})
    assert (e.value.field, e.value.reason) == (
        "nat.tcp_established_timeout", "7200 s is below the 7440 s of RFC 5382 REQ-5 (set allow_short_timeouts)")
    with pytest.raises(GatewayConfigError) as e:
        net.gateway("gw", profile="fvp", nat={"tcp_transitory_timeout": "3min"})
    assert e.value.field == "nat.tcp_transitory_timeout"


def test_tcp_answer_translated_with_valid_checksum(net):
    """The SYN-ACK reaches the guest translated (address and port) with a checksum the guest accepts."""
    gw, (g,), www = nat_bench(net)
    c = g.tcp_connect(WWW, 80, local_port=40003)
    syn = www.expect(IP(src=OUT) / TCP(flags="S", sport=40003, dport=80), within="1s")
    www.send(IP(dst=OUT) / TCP(sport=80, dport=40003, flags="SA", seq=7, ack=syn[TCP].seq + 1))
    assert net.run(until=lambda: c.state == "ESTABLISHED", for_="1s")
    assert g.counters().tcp_bad_checksum == 0


@pytest.mark.rfc("5508 3")
def test_echo_identifier_mapped(net):
    """Two guests ping with the same identifier: the second gets another identifier outside, replies go back right."""
    gw, (g1, g2), www = nat_bench(net, guests=2)
    p1, p2 = g1.ping_socket(ident=77), g2.ping_socket(ident=77)
    p1.send(WWW, seq=1)
    r1 = www.expect(IP(src=OUT) / ICMP(type=8), within="1s")
    p2.send(WWW, seq=1)
    r2 = www.expect(IP(src=OUT) / ICMP(type=8), within="1s")
    assert (r1[ICMP].id, r2[ICMP].id) == (77, 1024)
    for r in (r2, r1):
        www.send(IP(dst=OUT) / ICMP(type=0, id=r[ICMP].id, seq=r[ICMP].seq) / r[ICMP].payload)
    net.run(for_="10ms")
    a, b = p1.recv(), p2.recv()
    assert (a.src, a.seq, b.src, b.seq) == (WWW, 1, WWW, 1)
    assert [(m.protocol, m.inside, m.inside_port, m.outside_port) for m in gw.nat_table()] == [
        ("icmp", "172.20.51.1", 77, 77), ("icmp", "172.20.51.2", 77, 1024)]


@pytest.mark.rfc("5508 3.2")
def test_icmp_query_mapping_60s(net):
    """RFC 5508 REQ-2: "An ICMP Query session timer MUST NOT expire in less than 60 seconds." It lives exactly 60 s."""
    gw, (g,), www = nat_bench(net)
    g.ping_socket(ident=5).send(WWW, seq=1)
    t = www.expect(IP(src=OUT) / ICMP(type=8), within="1s").time_ns
    run_to(net, t + 60 * S - 1)
    assert len(gw.nat_table()) == 1
    run_to(net, t + 60 * S)
    assert gw.nat_table() == []


@pytest.mark.rfc("5508 4")
def test_inbound_port_unreachable_translated(net):
    """The remote's port unreachable about the guest's datagram reaches the guest's socket: outer destination and the
    quoted source rewritten to the guest's address and port."""
    gw, (g,), www = nat_bench(net)
    s = g.udp_socket(port=5000)
    s.sendto(b"hello", (WWW, 9))
    q = www.expect(IP(src=OUT) / UDP(dport=9), within="1s")
    www.send(IP(dst=OUT) / ICMP(type=3, code=3) / bytes(q[IP])[:28])
    errs = []
    assert net.run(until=lambda: errs.append(s.take_error()) or errs[-1] is not None, for_="1s")
    e = errs[-1]
    assert (e.icmp_type, e.icmp_code, e.sender, e.dst) == (3, 3, WWW, WWW)
    assert gw.counters()["nat_icmp_errors_in"] == 1
    assert g.counters().icmp_errors_in == 1
    assert g.counters().icmp_bad_checksum == 0


@pytest.mark.rfc("5508 4")
def test_outbound_port_unreachable_translated(net):
    """A datagram forwarded to a guest port without a socket: the guest's port unreachable leaves from the outside
    address, its quote naming the forward's outside port (the remote sees its own datagram)."""
    gw, (g,), www = nat_bench(net)
    gw.forward("udp", host_port=6000, guest="172.20.51.1", port=6001)
    www.send(IP(dst=OUT) / UDP(sport=4444, dport=6000) / b"anyone?")
    err = www.expect(IP(src=OUT, dst=WWW) / ICMP(type=3, code=3), within="1s")
    assert err[IPerror].src == WWW and err[IPerror].dst == OUT
    assert (err[UDPerror].sport, err[UDPerror].dport) == (4444, 6000)
    assert gw.counters()["nat_icmp_errors_out"] == 1


@pytest.mark.rfc("5382 5")
def test_unsolicited_syn_answered_after_6s(net):
    """RFC 5382 REQ-4: "A NAT MUST NOT respond to an unsolicited inbound SYN packet for at least 6 seconds after the
    packet is received. [...] Otherwise, the NAT SHOULD send an ICMP Port Unreachable error (Type 3, Code 3) for the
    original SYN". Nothing for 6 s, then the error quoting the SYN, at exactly 6 s."""
    gw, (g,), www = nat_bench(net)
    www.resolve(OUT)
    t0 = net.now_ns
    www.send(IP(dst=OUT) / TCP(sport=5555, dport=40000, flags="S", seq=42))
    www.expect_nothing("5999ms")
    e = www.expect(IP(src=OUT, dst=WWW) / ICMP(type=3, code=3), within="10ms")
    assert e.time_ns == t0 + 6 * S
    assert (e[IPerror].src, e[TCPerror].sport, e[TCPerror].dport, e[TCPerror].seq) == (WWW, 5555, 40000, 42)
    assert gw.counters()["nat_syn_refused"] == 1


@pytest.mark.rfc("5382 5")
def test_simultaneous_open_drops_held_syn(net):
    """RFC 5382 REQ-4: "If during this interval the NAT receives and translates an outbound SYN for the connection the
    NAT MUST silently drop the original unsolicited inbound SYN packet." The guest's own SYN to the remote 1 s later
    goes out (the positive control) and no error ever follows."""
    gw, (g,), www = nat_bench(net)
    www.resolve(OUT)
    www.send(IP(dst=OUT) / TCP(sport=5555, dport=40000, flags="S", seq=42))
    net.run(for_="1s")
    g.tcp_connect(WWW, 5555, local_port=40000)
    www.expect(IP(src=OUT) / TCP(sport=40000, dport=5555, flags="S"), within="10ms")
    www.expect_nothing("6s", matching=ICMP())
    assert (gw.counters()["nat_syn_dropped"], gw.counters()["nat_syn_refused"]) == (1, 0)


def test_tcp_to_mapped_port_not_held(net):
    """A SYN-ACK to a live mapping is not unsolicited: it is translated at once (the held path is only for SYNs)."""
    gw, (g,), www = nat_bench(net)
    c = g.tcp_connect(WWW, 80, local_port=40004)
    syn = www.expect(IP(src=OUT) / TCP(flags="S"), within="1s")
    www.send(IP(dst=OUT) / TCP(sport=80, dport=40004, flags="SA", seq=1, ack=syn[TCP].seq + 1))
    assert net.run(until=lambda: c.state == "ESTABLISHED", for_="1ms")
    assert gw.counters()["nat_syn_held"] == 0
