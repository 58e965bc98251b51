"""Port forwards into guests in sealed mode: TCP and UDP (FVP forwards TCP only:
"User mode networking does not support forwarding UDP ports on the host to the
model"), host port 0, removal, and the guest's answers leaving from the
forwarded port.
"""

from __future__ import annotations

import pytest
from scapy.all import IP, TCP, UDP

from gwkit import WWW, bound, nat_bench

pytestmark = pytest.mark.area("gateway")
OUT = "198.51.100.2"


def test_tcp_forward_into_guest(net):
    """An Internet host connects to the outside address on 2222; the guest's server on 22 accepts it and sees the
    remote's own address (no source translation inbound)."""
    gw, (g,), _ = nat_bench(net)
    www = net.node("www")
    gw.forward("tcp", host_port=2222, guest="172.20.51.1", port=22)
    lst = g.tcp_listen(22)
    www.send(IP(dst=OUT) / TCP(sport=3333, dport=2222, flags="S", seq=100))
    sa = www.expect(IP(src=OUT, dst=WWW) / TCP(sport=2222, dport=3333, flags="SA", ack=101), within="1s")
    www.send(IP(dst=OUT) / TCP(sport=3333, dport=2222, flags="A", seq=101, ack=sa[TCP].seq + 1))
    assert net.run(until=lambda: lst.accept_pending, for_="1s")
    conn = lst.accept()
    info = conn.info()
    assert (info.remote, info.remote_port, info.local_port) == (WWW, 3333, 22)
    (m,) = gw.nat_table()
    assert (m.forward, m.sessions[0].tcp_state) == (True, "established")


def test_tcp_forward_between_tern_hosts(net):
    """With the FVP profile: userNetPorts=8022=22, a Tern host on the Internet connects to 198.51.100.2:8022 and talks
    to the DHCP guest's server."""
    gw = net.gateway("gw", profile="fvp", user_net_ports="8022=22")
    g = net.host("zephyr", dhcp=True)
    net.link(gw, g)
    client = net.host("laptop", ipv4="198.51.100.10/24")
    net.link(gw, client)
    bound(net, g)
    lst = g.tcp_listen(22)
    c = client.tcp_connect(OUT, 8022)
    assert net.run(until=lambda: c.state == "ESTABLISHED", for_="2s")
    srv = lst.accept()
    srv.send(b"SSH-2.0-tern\r\n")
    assert net.run(until=lambda: c.readable, for_="1s")
    assert c.recv() == b"SSH-2.0-tern\r\n"


def test_udp_forward_into_guest(net):
    """UDP forward 5353 -> guest:53 (what FVP cannot do): the datagram reaches the guest's socket and the answer
    leaves from 5353."""
    gw, (g,), www = nat_bench(net)
    assert gw.forward("udp", host_port=5353, guest="172.20.51.1", port=53) == 5353
    s = g.udp_socket(port=53)
    www.send(IP(dst=OUT) / UDP(sport=4000, dport=5353) / b"query")
    assert net.run(until=lambda: s.pending, for_="1s")
    data, src = s.recvfrom()
    assert (data, src) == (b"query", (WWW, 4000))
    s.sendto(b"answer", src)
    r = www.expect(IP(src=OUT, dst=WWW) / UDP(sport=5353, dport=4000), within="1s")
    assert bytes(r[UDP].payload)[:6] == b"answer"


def test_host_port_zero_reports_port(net):
    """host_port=0 takes the first free port of the NAT range and returns it; the next one takes the following."""
    gw, (g,), www = nat_bench(net)
    assert gw.forward("udp", host_port=0, guest="172.20.51.1", port=9) == 1024
    assert gw.forward("udp", host_port=0, guest="172.20.51.1", port=10) == 1025
    s = g.udp_socket(port=10)
    www.send(IP(dst=OUT) / UDP(sport=1, dport=1025) / b"x")
    assert net.run(until=lambda: s.pending, for_="1s")


def test_forward_removed(net):
    """After unforward the port no longer reaches the guest: the gateway itself answers port unreachable."""
    from scapy.all import ICMP

    gw, (g,), www = nat_bench(net)
    gw.forward("udp", host_port=5353, guest="172.20.51.1", port=53)
    s = g.udp_socket(port=53)
    www.send(IP(dst=OUT) / UDP(sport=4000, dport=5353) / b"1")
    assert net.run(until=lambda: s.pending, for_="1s")
    gw.unforward("udp", 5353)
    www.send(IP(dst=OUT) / UDP(sport=4000, dport=5353) / b"2")
    www.expect(IP(src=OUT) / ICMP(type=3, code=3), within="1s")
    assert s.pending == 1


def test_forward_never_expires(net):
    """A forward stays in the table at any time, however long idle (expires_at None)."""
    gw, (g,), www = nat_bench(net)
    gw.forward("tcp", host_port=80, guest="172.20.51.1", port=8080)
    net.run(for_="3h")
    (m,) = gw.nat_table()
    assert (m.forward, m.expires_at, m.outside_port, m.inside_port) == (True, None, 80, 8080)
