"""The seL4 virtio-net ping demo for real: a Linux guest in QEMU (TCG) whose virtio-net-pci device is
served by Tern's vhost-user back-end pings Tern's native ping responder across a simulated link, then
pings a Tern host and fetches a file from it over TCP through the same path.

Skipped, with the reason, where QEMU or the guest image's ingredients are missing (see
pyharness.virtio_demo.unavailable). Real time: the assertions are on what happened, not on timing.
"""

from __future__ import annotations

import subprocess

import pytest
from scapy.all import ICMP, IP, TCP, rdpcap

from pyharness import virtio_demo

pytestmark = [pytest.mark.area("virtio"), pytest.mark.dut("tern")]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    why = virtio_demo.unavailable()
    if why:
        pytest.skip(f"the QEMU guest demo cannot run here: {why}")
    try:
        virtio_demo.build_guest()
    except (OSError, subprocess.CalledProcessError) as e:  # no repository to download the kernel from
        pytest.skip(f"the guest image could not be built: {e}")
    return virtio_demo.run_demo(tmp_path_factory.mktemp("demo-virtio"), count=5, delay="1ms", with_host=True)


def test_guest_pings_the_responder(demo):
    """The guest's ping gets its five replies; the responder logged five requests, seq 0..4 in host order."""
    assert demo.qemu_rc == 0, demo.console[-2000:]
    assert demo.ping_ok, demo.console[-2000:]
    assert "5 packets transmitted, 5 packets received, 0% packet loss" in demo.console
    recs = demo.records
    assert [r.seq for r in recs] == [0, 1, 2, 3, 4]
    assert len({r.ident for r in recs}) == 1 and all(r.replied for r in recs)
    assert all((r.src, r.dst, r.payload_len) == ("192.168.1.1", "192.168.1.2", 56) for r in recs)
    for r in recs:
        assert f"ICMP Header - Type: 8 | id: {r.ident} | seq: {r.seq}\n" in demo.transcript


def test_vhost_user_negotiation(demo):
    """QEMU negotiated virtio 1.x over vhost-user and both rings ran."""
    st = demo.stats
    assert st.connections == 1 and st.mem_regions >= 1
    assert st.features >> 32 & 1  # VIRTIO_F_VERSION_1
    assert st.tx_frames >= 6 and st.rx_frames >= 6  # ARP + 5 echoes each way, and more
    assert st.kicks[1] >= 1 and st.calls[0] >= 1
    assert demo.events == []


def test_guest_pings_a_tern_host_and_fetches_a_file_over_tcp(demo):
    """The same path carries the guest's ping of a Tern host and an HTTP/1.0 fetch from it."""
    assert demo.host_ping_ok, demo.console[-2000:]
    assert demo.served == 1
    assert demo.fetched == virtio_demo.SERVED


def test_capture_shows_the_traffic(demo):
    """The capture of the back-end's link holds the echo requests and replies of both pings and the TCP exchange."""
    pkts = rdpcap(str(demo.pcap))
    icmp = [p for p in pkts if ICMP in p]
    to_responder = [p[ICMP].seq for p in icmp if p[ICMP].type == 8 and p[IP].dst == "192.168.1.2"]
    from_responder = [p[ICMP].seq for p in icmp if p[ICMP].type == 0 and p[IP].src == "192.168.1.2"]
    assert to_responder == from_responder == [0, 1, 2, 3, 4]
    assert [p[ICMP].seq for p in icmp if p[ICMP].type == 0 and p[IP].src == "192.168.1.3"] == [0, 1]
    tcp = [p for p in pkts if TCP in p and 8080 in (p[TCP].sport, p[TCP].dport)]
    assert tcp and tcp[0][TCP].flags == "S" and tcp[0][IP].dst == "192.168.1.3"
    # the server's bytes, by sequence number (a retransmission counts once), without Ethernet padding
    synack = next(p for p in tcp if p[TCP].sport == 8080 and p[TCP].flags == "SA")
    stream = bytearray()
    for p in tcp:
        if p[TCP].sport == 8080:
            start = p[IP].ihl * 4 + p[TCP].dataofs * 4
            data = bytes(p[IP])[start:p[IP].len]
            off = (p[TCP].seq - synack[TCP].seq - 1) & 0xFFFFFFFF
            if data:
                stream[len(stream):] = bytes(max(0, off + len(data) - len(stream)))
                stream[off:off + len(data)] = data
    stream = bytes(stream)
    assert stream.endswith(b"\r\n\r\n" + virtio_demo.SERVED)
