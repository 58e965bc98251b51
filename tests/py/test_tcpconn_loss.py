"""Issue 18 item 10: the scripted peer's accept() survives a lost SYN-ACK; nth= counts every frame."""

import pytest
from scapy.layers.inet import TCP

from pyharness import Network


@pytest.fixture
def lan():
    with Network(seed=4) as net:
        dut = net.host("dut", ipv4="10.0.0.1/24")
        peer = net.peer("peer", ipv4="10.0.0.2/24")
        link = net.link(dut, peer, delay="5ms")
        yield net, dut, peer, link


def test_accept_answers_a_retransmitted_syn(lan):
    net, dut, peer, link = lan
    lost = link.fault("drop", bpf="tcp[tcpflags] & tcp-syn != 0", direction="b_to_a")  # the first SYN-ACK
    sock = dut.tcp_connect("10.0.0.2", 80)
    conn = peer.tcp(dut, local_port=80)
    syn = conn.accept(within="3s")
    assert lost.hits == 1
    assert syn.time_ns == 15_000_000          # ARP round trip (10 ms), then the SYN (5 ms)
    # The DUT's SYN came again one initial RTO (1 s) after the first left at 0 s; the peer answered
    # with the same SYN-ACK, and the DUT's ACK completed the handshake.
    assert conn.last.time_ns == 1_015_000_000
    assert sock.state == "ESTABLISHED"
    assert link.counters("b_to_a").dropped_fault == 1
    conn.send(flags="PA", payload=b"hi")
    net.run(for_="20ms")
    assert sock.recv() == b"hi"


def test_accept_without_loss(lan):
    """Positive control: one SYN, one SYN-ACK, one ACK."""
    net, dut, peer, link = lan
    sock = dut.tcp_connect("10.0.0.2", 80)
    conn = peer.tcp(dut, local_port=80)
    conn.accept()
    assert conn.last.time_ns == 25_000_000 and sock.state == "ESTABLISHED"


def test_nth_counts_every_frame_from_link_creation(lan):
    """As documented (docs/links.md): frame 1 of the DUT's direction is its ARP request, frame 2 the SYN."""
    net, dut, peer, link = lan
    f = link.fault("drop", nth=2)
    dut.tcp_connect("10.0.0.2", 80)
    syn = peer.expect(TCP(flags="S"), within="2s")
    assert f.hits == 1 and syn.time_ns == 1_005_000_000  # the first SYN was the one dropped


def test_bpf_with_nth_counts_matching_frames_only(lan):
    """The 3rd data segment, whatever ARP and the handshake did before it (docs/links.md)."""
    from pyharness.tcpconn import tcp_payload

    net, dut, peer, link = lan
    data = "tcp[tcpflags] & tcp-push != 0"
    third = link.fault("drop", bpf=data, nth=3)
    every = link.fault("duplicate", bpf=data, count=100)  # positive control: every data segment, from the 1st
    sock = dut.tcp_connect("10.0.0.2", 80, nodelay=True)
    conn = peer.tcp(dut, local_port=80)
    conn.accept()
    got = []
    for chunk in (b"one", b"two", b"three", b"four"):
        sock.send(chunk)
        net.run(for_="50ms")
        for p in peer.received():
            if tcp_payload(p):
                got.append(tcp_payload(p))
                conn.send(flags="A", ack=(p[TCP].seq + len(tcp_payload(p))) % 2**32)
    assert (third.hits, every.hits) == (1, 3), got   # the dropped one is not duplicated: drops come first
    # "three" (the 3rd segment with PSH; ARP, SYN and ACKs before it do not count) never arrived.
    assert got == [b"one", b"one", b"two", b"two", b"four", b"four"]
