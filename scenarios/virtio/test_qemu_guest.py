"""The seL4 virtio-net ping demo for real: a Linux guest in QEMU (TCG) whose virtio-net-pci device is
served by Tern's vhost-user back-end pings Tern's native ping responder across a simulated link.

Skipped, with the reason, where QEMU or the guest image's ingredients are missing (see
pyharness.virtio_demo.unavailable). Real time: the assertions are on what happened, not on timing.
"""

from __future__ import annotations

import pytest
from scapy.all import ICMP, IP, rdpcap

from pyharness import virtio_demo

pytestmark = [pytest.mark.area("virtio"), pytest.mark.dut("tern")]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    why = virtio_demo.unavailable()
    if why:
        pytest.skip(f"the QEMU guest demo cannot run here: {why}")
    return virtio_demo.run_demo(tmp_path_factory.mktemp("demo-virtio"), count=5, delay="1ms")


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
    assert st.tx_frames >= 6 and st.rx_frames >= 6  # ARP + 5 echoes each way
    assert st.kicks[1] >= 1 and st.calls[0] >= 1
    assert demo.events == []


def test_capture_shows_the_traffic(demo):
    """The link's capture holds the five echo requests and their replies."""
    pkts = [p for p in rdpcap(str(demo.pcap)) if ICMP in p]
    reqs = [p for p in pkts if p[ICMP].type == 8]
    reps = [p for p in pkts if p[ICMP].type == 0]
    assert [p[ICMP].seq for p in reqs] == [0, 1, 2, 3, 4]
    assert [p[ICMP].seq for p in reps] == [0, 1, 2, 3, 4]
    assert all(p[IP].src == "192.168.1.2" for p in reps)
