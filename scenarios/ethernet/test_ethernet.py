"""Ethernet II (RFC 894) as a host sees it: frames for its MAC, broadcast
and IPv4 multicast are taken; others, tagged frames (unless configured),
IEEE 802.3 length frames, runts and unknown EtherTypes are dropped."""

from __future__ import annotations

import pytest
from scapy.all import ICMP, IP, UDP, Dot1Q, Ether, Raw

from pyharness.dut import DUT_IP, PEER_IP

pytestmark = pytest.mark.area("ethernet")


def echo(ident=1):
    return IP(src=PEER_IP, dst=DUT_IP) / ICMP(type=8, id=ident, seq=1) / Raw(b"abc")


@pytest.mark.rfc("894 frame-format")
def test_frame_for_our_mac_is_taken(dut, peer):
    peer.send(Ether(dst=dut.mac) / echo(1))
    peer.expect(ICMP(type=0, id=1), within="10ms")


@pytest.mark.rfc("894 frame-format", "1122 2.4")
@pytest.mark.parametrize("mac", ["02:00:00:00:00:99", "00:00:00:00:00:00", "01:80:c2:00:00:00",
                                 "33:33:00:00:00:01"])
def test_frame_for_another_mac_is_dropped(dut, peer, mac):
    peer.send(Ether(dst=mac) / echo(2))
    peer.expect_nothing(for_="100ms")
    # positive control: the same echo request in a plain frame for the DUT's MAC is answered
    peer.send(Ether(dst=dut.mac) / echo(2))
    peer.expect(ICMP(type=0, id=2), within="10ms")


@pytest.mark.rfc("1112 6.4")
def test_ipv4_multicast_mac_reaches_ip(dut, peer):
    s = dut.udp_socket(port=5353)
    peer.send(Ether(dst="01:00:5e:00:00:01") / IP(src=PEER_IP, dst="224.0.0.1") / UDP(sport=5353, dport=5353) /
              Raw(b"mdns-ish"))
    dut.net.run(for_="1ms")
    got = s.recvfrom()
    assert got is not None and got[0] == b"mdns-ish"


@pytest.mark.rfc("894 frame-format")
@pytest.mark.parametrize("vlan", [0, 1, 100, 4094])
def test_tagged_frames_are_dropped_by_default(dut, peer, vlan):
    peer.send(Ether(dst=dut.mac) / Dot1Q(vlan=vlan) / echo(3))
    peer.expect_nothing(for_="100ms")
    # positive control: the same echo request in a plain frame for the DUT's MAC is answered
    peer.send(Ether(dst=dut.mac) / echo(3))
    peer.expect(ICMP(type=0, id=3), within="10ms")


@pytest.mark.rfc("894 frame-format")
@pytest.mark.parametrize("length", [0, 46, 1500])
def test_ieee_802_3_length_frames_are_ignored(dut, peer, length):
    frame = bytes(Ether(dst=dut.mac, src=peer.mac, type=length)) + bytes(echo(4))
    peer.send(frame)
    peer.expect_nothing(for_="100ms")
    # positive control: the same echo request in a plain frame for the DUT's MAC is answered
    peer.send(Ether(dst=dut.mac) / echo(4))
    peer.expect(ICMP(type=0, id=4), within="10ms")


@pytest.mark.rfc("894 frame-format")
@pytest.mark.parametrize("ethertype", [0x86DD, 0x88CC, 0x8035, 0xFFFF])
def test_unknown_ethertype_is_ignored(dut, peer, ethertype):
    peer.send(Ether(dst=dut.mac, type=ethertype) / Raw(b"\x00" * 46))
    peer.expect_nothing(for_="100ms")
    # positive control: the same echo request in a plain frame for the DUT's MAC is answered
    peer.send(Ether(dst=dut.mac) / echo(5))
    peer.expect(ICMP(type=0, id=5), within="10ms")


@pytest.mark.rfc("894 frame-format")
@pytest.mark.parametrize("length", [1, 6, 12, 13, 14, 20, 33])
def test_runt_frames_are_survived(dut, peer, length):
    frame = bytes(Ether(dst=dut.mac, src=peer.mac) / echo(5))[:length]
    peer.send(frame)
    peer.expect_nothing(for_="100ms")
    # Still alive and answering.
    peer.send(Ether(dst=dut.mac) / echo(6))
    peer.expect(ICMP(type=0, id=6), within="10ms")


@pytest.mark.rfc("894 frame-format")
def test_short_replies_are_padded_to_60_bytes(dut, peer):
    s = dut.udp_socket()
    s.sendto(b"", (PEER_IP, 9))
    got = peer.expect(UDP(dport=9), within="10ms")
    assert len(bytes(got)) == 60
    assert bytes(got)[42:] == b"\x00" * 18  # padding is zeros, never stale bytes


@pytest.mark.dut("tern")
@pytest.mark.rfc("894 frame-format")
def test_tagged_frames_are_processed_when_the_interface_accepts_them(net):
    from pyharness.dut import make_tern_dut

    dut, peer, _ = make_tern_dut(net, accept_vlan=True)
    peer.send(Ether(dst=dut.mac) / Dot1Q(vlan=7) / echo(8))
    reply = peer.expect(ICMP(type=0, id=8), within="10ms")
    assert Dot1Q not in reply  # the host has no VLAN of its own: it answers untagged
