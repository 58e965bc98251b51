"""Hosts: configuration, UDP and ping sockets, counters, run-time changes; TCP when the stack has it."""

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from pyharness.errors import ConfigError, StateError


def tcp_available():
    from pyharness._lib import lib

    return hasattr(lib, "tern_tcp_open")


needs_tcp = pytest.mark.skipif(not tcp_available(), reason="TCP is not in this build of the stack yet")


@pytest.fixture
def lan(net):
    dut = net.host("dut", ipv4="10.0.0.1/24", mac="02:00:00:00:00:01")
    peer = net.peer("peer", ipv4="10.0.0.2/24", mac="02:00:00:00:00:02")
    net.link(dut, peer, delay="1ms")
    return net, dut, peer


def test_udp_echo_through_python(lan):
    net, dut, peer = lan
    s = dut.udp_socket(port=7)
    assert s.local == (None, 7) or s.local[1] == 7
    peer.send(IP(dst="10.0.0.1") / UDP(sport=9, dport=7) / Raw(b"hello"))
    net.run(for_="5ms")
    data, src = s.recvfrom()
    assert data == b"hello" and src == ("10.0.0.2", 9)
    s.sendto(data, src)
    got = peer.expect(IP(src="10.0.0.1") / UDP(sport=7, dport=9), within="10ms")
    assert got[Raw].load == b"hello"
    assert peer.arp_answered == 1  # the host asked for 10.0.0.2 first
    assert dut.arp_lookup("10.0.0.2") == "02:00:00:00:00:02"
    c = dut.counters()
    assert c.udp_in == 1 and c.udp_out == 1 and c.arp_requests_sent == 1
    assert s.recvfrom() is None


def test_host_answers_arp_and_ping(lan):
    net, dut, peer = lan
    peer.send(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=peer.mac, psrc="10.0.0.2", pdst="10.0.0.1"))
    peer.expect(ARP(op=2, psrc="10.0.0.1", hwsrc=dut.mac), within="10ms")
    peer.send(IP(dst="10.0.0.1") / ICMP(type=8, id=3, seq=4) / Raw(b"x" * 8))
    reply = peer.expect(ICMP(type=0, id=3, seq=4), within="10ms")
    assert reply[IP].src == "10.0.0.1"


def test_ping_socket(lan):
    net, dut, peer = lan
    ps = dut.ping_socket(ident=9)
    ps.send("10.0.0.2", seq=1, payload=b"abcd")
    req = peer.expect(ICMP(type=8, id=9, seq=1), within="50ms")
    peer.send(IP(dst="10.0.0.1") / ICMP(type=0, id=9, seq=1) / Raw(req[Raw].load))
    net.run(for_="5ms")
    r = ps.recv()
    assert r.src == "10.0.0.2" and r.seq == 1 and r.payload == b"abcd"


def test_udp_port_unreachable_error_reaches_the_socket(lan):
    net, dut, peer = lan
    s = dut.udp_socket(port=5000)
    s.sendto(b"x", ("10.0.0.2", 53))
    sent = peer.expect(UDP(dport=53), within="50ms")
    peer.send(IP(dst="10.0.0.1") / ICMP(type=3, code=3) / bytes(sent[IP])[:28])
    net.run(for_="5ms")
    err = s.take_error()
    assert err is not None and (err.icmp_type, err.icmp_code) == (3, 3)


def test_routes_and_gateway(net):
    dut = net.host("dut", ipv4="10.0.0.1/24", gateway="10.0.0.254")
    gw = net.peer("gw", ipv4="10.0.0.254/24")
    net.link(dut, gw)
    s = dut.udp_socket(port=1)
    s.sendto(b"x", ("192.0.2.1", 9))
    got = gw.expect(IP(dst="192.0.2.1") / UDP(dport=9), within="50ms")
    assert got[Ether].dst == gw.mac
    dut.del_route("0.0.0.0/0")
    with pytest.raises(Exception, match="route"):
        s.sendto(b"x", ("192.0.2.1", 9))
    dut.add_route("192.0.2.0/24", "10.0.0.254")
    s.sendto(b"y", ("192.0.2.1", 9))
    gw.expect(UDP(dport=9), within="50ms")


def test_run_time_address_and_mtu(lan):
    net, dut, peer = lan
    dut.add_address("10.0.0.5/24")
    peer.send(IP(dst="10.0.0.5") / ICMP(type=8, id=1, seq=1))
    peer.expect(ICMP(type=0), within="50ms")
    dut.set_mtu(576)
    with pytest.raises(ConfigError):
        dut.set_mtu(10)
    dut.forwarding = True
    assert dut.forwarding


def test_bad_host_configuration_names_the_parameter(net):
    with pytest.raises(ConfigError, match="ipv4"):
        net.host("a", ipv4="10.0.0.300/24")
    with pytest.raises(ConfigError, match="unknown option 'bogus'"):
        net.host("b", ipv4="10.0.0.1/24", bogus=1)
    with pytest.raises(ConfigError, match="unknown TCP option 'nagle'"):
        net.host("c", ipv4="10.0.0.1/24", tcp={"nagle": True})
    with pytest.raises(ConfigError, match="mtu"):
        net.host("d", ipv4="10.0.0.1/24", mtu=20)


def test_host_after_close_raises(lan):
    net, dut, peer = lan
    s = dut.udp_socket(port=7)
    net.close()
    with pytest.raises(StateError):
        s.sendto(b"x", ("10.0.0.2", 9))
    with pytest.raises(StateError):
        dut.counters()


def test_two_interfaces_forwarding(net):
    r = net.host("r", ifaces=[{"ipv4": "10.0.0.1/24"}, {"ipv4": "10.0.1.1/24"}], forwarding=True)
    a = net.peer("a", ipv4="10.0.0.2/24")
    b = net.peer("b", ipv4="10.0.1.2/24")
    net.link(a, r, port_b=0)
    net.link(r, b, port_a=1)
    a.send(Ether(dst=r.mac) / IP(dst="10.0.1.2", ttl=5) / UDP(dport=9))
    got = b.expect(IP(dst="10.0.1.2", ttl=4) / UDP(dport=9), within="50ms")
    assert got[Ether].src == r.interfaces[1].mac


@needs_tcp
def test_tcp_handshake_with_a_scripted_peer_and_tcp_info(lan):
    net, dut, peer = lan
    listener = dut.tcp_listen(80)
    conn = peer.tcp(dut, 80, mss=1460)
    conn.connect(within="100ms")
    net.run(for_="1ms")
    s = listener.accept()
    assert s is not None
    info = s.info()
    assert info.state == "ESTABLISHED" and info.remote == "10.0.0.2" and info.rcv_nxt == conn.snd_nxt
    conn.send(flags="PA", payload=b"hello")
    conn.expect(flags="A", ack=conn.snd_nxt, within="1s")
    assert s.recv() == b"hello"


@needs_tcp
def test_tcp_connect_sends_a_syn(lan):
    net, dut, peer = lan
    dut.tcp_connect("10.0.0.2", 80)
    syn = peer.expect(TCP(flags="S", dport=80), within="10ms")
    peer.expect(TCP(flags="S", seq=syn[TCP].seq), at=syn.time + 1.0, tolerance="50ms")
