"""IPv4 multicast sending on a host that is itself a member (RFC 1112 section 6): the loopback of
a copy to the host's own sockets (IP_MULTICAST_LOOP), the outgoing interface of a multicast
(IP_MULTICAST_IF), and the interface of a join left to the routing table, on multi-interface
hosts.

RFC 1112 section 6.1: "Second, for hosts that may be attached to more than one network, the
service interface should provide a way for the upper-layer protocol to identify the network
interface to be used for the multicast transmission." "Third (level 2 implementations only),
for the case where the host itself is a member of the group to which a datagram is being sent,
the service interface should provide a way for the upper-layer protocol to inhibit local
delivery of that datagram; by default, a copy of the datagram is looped back."
Section 6.2: "If the sending host is itself a member of the destination group on the outgoing
interface, a copy of the outgoing datagram must be looped-back for local delivery, unless
inhibited by the sender." "The IP source address of the outgoing datagram must be one of the
individual addresses corresponding to the outgoing interface."
"""

from __future__ import annotations

import pytest
from igmpkit import GROUP_A, IGMP_OUT
from scapy.all import IP, UDP

pytestmark = pytest.mark.area("igmp")

TO_GROUP = IP(dst=GROUP_A) / UDP(dport=6000)


@pytest.fixture
def pair(net):
    host = net.host("dut", ipv4="10.0.0.1/24")
    peer = net.peer("peer", ipv4="10.0.0.2/24")
    net.link(host, peer)
    return net, host, peer


@pytest.fixture
def two_nets(net):
    """A host on two links (10.0.0.1 on port 0, 10.1.0.1 on port 1), a peer on each."""
    host = net.host("dut", ifaces=[{"ipv4": "10.0.0.1/24"}, {"ipv4": "10.1.0.1/24"}])
    p0 = net.peer("p0", ipv4="10.0.0.2/24")
    p1 = net.peer("p1", ipv4="10.1.0.2/24")
    net.link(host, p0)
    net.link(host, p1)
    return net, host, p0, p1


@pytest.mark.rfc("1112 6.2", "1112 6.1")
def test_copy_looped_back_to_own_sockets_by_default(pair):
    """A socket on 6000 joined 239.1.2.3 sends to the group's port 6000: it receives its own
    datagram (from 10.0.0.1:6000), and the datagram also leaves on the link."""
    net, host, peer = pair
    s = host.udp_socket(6000)
    s.join(GROUP_A)
    net.run(for_="2s")
    s.sendto(b"to the group", (GROUP_A, 6000))
    net.run(for_="1ms")
    assert s.recvfrom() == (b"to the group", ("10.0.0.1", 6000))
    assert peer.expect(TO_GROUP, within="1ms")[IP].src == "10.0.0.1"
    assert host.counters().udp_mcast_looped == 1


@pytest.mark.rfc("1112 6.1")
def test_loop_inhibited_by_the_sender(pair):
    """IP_MULTICAST_LOOP off: no local copy (the datagram still leaves; the test above is the
    positive control)."""
    net, host, peer = pair
    s = host.udp_socket(6000)
    s.join(GROUP_A)
    s.set_multicast_loop(False)
    net.run(for_="2s")
    s.sendto(b"to the group", (GROUP_A, 6000))
    net.run(for_="1ms")
    assert s.recvfrom() is None
    peer.expect(TO_GROUP, within="1ms")
    assert host.counters().udp_mcast_looped == 0


@pytest.mark.rfc("1112 6.2")
def test_copy_goes_to_the_members_not_the_sender(pair):
    """A sender that did not join, a receiver on the same port that did: the receiver gets the
    copy, the sender nothing; a socket on the port that did not join gets nothing either."""
    net, host, peer = pair
    member = host.udp_socket(6000)
    member.join(GROUP_A)
    sender = host.udp_socket(5000)
    net.run(for_="2s")
    sender.sendto(b"hello", (GROUP_A, 6000))
    net.run(for_="1ms")
    assert member.recvfrom() == (b"hello", ("10.0.0.1", 5000))
    assert sender.recvfrom() is None


@pytest.mark.rfc("1112 6.2")
def test_no_copy_when_the_host_is_not_a_member(pair):
    """Nobody on the host joined the group: no copy, nothing counted as looped."""
    net, host, peer = pair
    other = host.udp_socket(6000)
    s = host.udp_socket(5000)
    s.sendto(b"x", (GROUP_A, 6000))
    net.run(for_="1ms")
    peer.expect(TO_GROUP, within="1ms")
    assert other.recvfrom() is None and host.counters().udp_mcast_looped == 0


@pytest.mark.rfc("1112 6.1", "1112 6.2")
def test_multicast_if_picks_the_outgoing_interface(two_nets):
    """By default a multicast leaves by interface 0 (no route for the group); with
    IP_MULTICAST_IF 1 it leaves by interface 1, from that interface's address 10.1.0.1, and
    nothing goes out of interface 0."""
    net, host, p0, p1 = two_nets
    s = host.udp_socket(5000)
    s.sendto(b"a", (GROUP_A, 6000))
    assert p0.expect(TO_GROUP, within="1ms")[IP].src == "10.0.0.1"
    p1.expect_nothing(for_="10ms", matching=TO_GROUP)
    s.set_multicast_if(1)
    s.sendto(b"b", (GROUP_A, 6000))
    assert p1.expect(TO_GROUP, within="1ms")[IP].src == "10.1.0.1"
    p0.expect_nothing(for_="10ms", matching=TO_GROUP)
    s.set_multicast_if(None)
    s.sendto(b"c", (GROUP_A, 6000))
    p0.expect(TO_GROUP, within="1ms")


@pytest.mark.rfc("1112 6.2")
def test_loop_only_for_membership_on_the_outgoing_interface(two_nets):
    """The host joined the group on interface 1 only: a multicast out of interface 0 is not
    looped back ("a member of the destination group on the outgoing interface"); out of
    interface 1 it is."""
    net, host, p0, p1 = two_nets
    r = host.udp_socket(6000)
    r.join(GROUP_A, iface=1)
    s = host.udp_socket(5000)
    net.run(for_="2s")
    s.sendto(b"out of 0", (GROUP_A, 6000))
    net.run(for_="1ms")
    assert r.recvfrom() is None
    s.set_multicast_if(1)
    s.sendto(b"out of 1", (GROUP_A, 6000))
    net.run(for_="1ms")
    assert r.recvfrom() == (b"out of 1", ("10.1.0.1", 5000))


@pytest.mark.rfc("1112 6.1", "3376 5.1")
def test_join_by_route_uses_the_route_interface(two_nets):
    """A route 239.0.0.0/8 through interface 1: a join with the interface left to the routing
    table reports on interface 1 (and interface 0 stays silent); without the route, interface 0
    is the default (positive control)."""
    net, host, p0, p1 = two_nets
    host.add_route("239.0.0.0/8", None, 1)
    host.udp_socket(6000).join(GROUP_A, iface=None)
    p1.expect(IGMP_OUT, within="1ms")
    p0.expect_nothing(for_="3s", matching=IGMP_OUT)
    assert host.igmp_groups(1) == [GROUP_A] and host.igmp_groups(0) == []
    host.udp_socket(6001).join("239.9.9.9", iface=None)  # also 239/8: interface 1
    assert host.igmp_groups(1) == [GROUP_A, "239.9.9.9"]
    host.udp_socket(6002).join("224.1.1.1", iface=None)  # no route: interface 0
    p0.expect(IGMP_OUT, within="1ms")
    assert host.igmp_groups(0) == ["224.1.1.1"]


def test_multicast_if_out_of_range_refused(pair):
    """IP_MULTICAST_IF 3 on a one-interface host: refused, naming the interface."""
    from pyharness.errors import ConfigError

    net, host, peer = pair
    with pytest.raises(ConfigError, match="interface 3"):
        host.udp_socket(5000).set_multicast_if(3)
