"""Arm FVP's documented limits of its user-mode networking, each lifted by the
gateway on the FVP profile. Arm's text (Fast Models, "User mode networking"):

- "You can use TCP and UDP over IP, but not ICMP (ping)."
- "You can only make inward connections by mapping TCP ports on the host to
  the model." and "User mode networking does not support forwarding UDP ports
  on the host to the model."
- "Operations that require privileged source ports, for example NFS in its
  default configuration, do not work."
- "If setup fails, or the parameter syntax is incorrect, there is no error
  reporting."
"""

from __future__ import annotations

import pytest
from scapy.all import ICMP, IP, TCP, UDP

from gwkit import WWW, bound, guest_on

pytestmark = pytest.mark.area("gateway")
OUT = "198.51.100.2"


@pytest.fixture
def fvp(net):
    gw = net.gateway("gw", profile="fvp")
    guest = guest_on(net, gw, "zephyr")
    www = net.peer("www", ipv4=f"{WWW}/24")
    net.link(gw, www, port_a=gw.outside_port)
    bound(net, guest)
    return net, gw, guest, www


def test_ping_an_internet_host(fvp):
    """ICMP echo from the guest through the NAT to an Internet host, and its reply back."""
    net, gw, guest, www = fvp
    p = guest.ping_socket(ident=3)
    p.send(WWW, seq=9)
    req = www.expect(IP(src=OUT, dst=WWW) / ICMP(type=8, seq=9), within="1s")
    www.send(IP(dst=OUT) / ICMP(type=0, id=req[ICMP].id, seq=9) / req[ICMP].payload)
    replies = []
    assert net.run(until=lambda: replies.append(p.recv()) or replies[-1] is not None, for_="1s")
    assert (replies[-1].src, replies[-1].seq) == (WWW, 9)


def test_inward_udp_forward(fvp):
    """An inward UDP forward (userNetPorts cannot): 5683 (CoAP) to the guest's 5683."""
    net, gw, guest, www = fvp
    gw.forward("udp", host_port=5683, guest="172.20.51.1", port=5683)
    s = guest.udp_socket(port=5683)
    www.send(IP(dst=OUT) / UDP(sport=40000, dport=5683) / b"GET /.well-known/core")
    assert net.run(until=lambda: s.pending, for_="1s")
    assert s.recvfrom() == (b"GET /.well-known/core", (WWW, 40000))


@pytest.mark.rfc("4787 4.2.1")
def test_privileged_source_port_kept(fvp):
    """NFS clients bind ports below 1024: the guest's TCP from port 700 leaves from 700 (RFC 4787 REQ-3a)."""
    net, gw, guest, www = fvp
    guest.tcp_connect(WWW, 2049, local_port=700)
    syn = www.expect(IP(src=OUT) / TCP(flags="S", dport=2049), within="1s")
    assert syn[TCP].sport == 700


def test_bad_user_net_ports_reported(net):
    """A wrong userNetPorts value is an error naming the item and the syntax, before anything runs."""
    from pyharness.gateway import GatewayConfigError

    with pytest.raises(GatewayConfigError) as e:
        net.gateway("gw", profile="fvp", user_net_ports="8022=22,2222-22")
    assert str(e.value) == "user_net_ports[1]: '2222-22' is not [host-ip:]hostport=[model-ip:]modelport"
