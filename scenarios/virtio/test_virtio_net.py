"""virtio-net (virtio v1.2 §5.1) over split virtqueues (§2.7), in virtual time.

A scripted peer plays the guest behind a virtio-net node, another peer the
wire. Each frame crosses a real split virtqueue in the node's guest memory;
the tests check what comes out on each side, at the exact virtual time the
configured latencies give, and what the driver and device wrote into guest
memory (used ring, virtio_net_hdr with num_buffers).
"""

from __future__ import annotations

import struct

import pytest
from scapy.all import IP, UDP, Ether, Raw

from pyharness.errors import ConfigError
from pyharness.virtio import RECEIVEQ, TRANSMITQ

pytestmark = [pytest.mark.area("virtio"), pytest.mark.dut("tern")]

US = 1000
LAT = dict(notify_latency="2us", device_latency="3us", irq_latency="7us")


def rig(net, **opts):
    """guest peer -- virtio-net node -- wire peer (no link delay)."""
    guest = net.peer("guest", ipv4="10.0.0.1/24", arp=False)
    wire = net.peer("wire", ipv4="10.0.0.2/24", arp=False)
    vn = net.virtio_net("vnet0", guest, **opts)
    net.link(vn, wire)
    return guest, vn, wire


def udp(src, dst, n, sport=1000):
    data = bytes((i * 7 + 3) & 0xFF for i in range(n))
    return Ether(src=src.mac, dst=dst.mac) / IP(src=src.ip, dst=dst.ip) / UDP(sport=sport, dport=9) / Raw(data)


def used_entries(vn, queue, count):
    """The last ``count`` used ring entries of ``queue``: (id, len, first 12 bytes of the buffer)."""
    desc, avail, used = vn.queue_gpa(queue)
    size = 256
    idx = int.from_bytes(vn.mem_read(used + 2, 2), "little")
    out = []
    for k in range(count, 0, -1):
        ent = used + 4 + 8 * ((idx - k) % size)
        ident, ln = struct.unpack("<II", vn.mem_read(ent, 8))
        addr, dlen, flags, _ = struct.unpack("<QIHH", vn.mem_read(desc + 16 * ident, 16))
        if flags & 4:  # an indirect table: its first descriptor holds the header
            addr, dlen, flags, _ = struct.unpack("<QIHH", vn.mem_read(addr, 16))
        out.append((ident, ln, vn.mem_read(addr, 12)))
    return out


@pytest.mark.parametrize("mode", ["plain", "indirect", "split_header", "indirect_split"])
def test_frames_cross_both_queues_at_exact_times(net, mode):
    """§5.1.6.2 transmit and §5.1.6.3 receive: bytes unchanged, times = the configured latencies."""
    guest, vn, wire = rig(net, indirect="indirect" in mode, split_header="split" in mode, **LAT)
    net.run(for_="1ms")
    t0 = net.now_ns
    out = udp(guest, wire, 300)
    guest.send(out)
    got = wire.expect(UDP(dport=9), within="1ms")
    assert bytes(got) == bytes(out)
    assert got.time_ns == t0 + 2 * US + 3 * US  # kick after notify_latency, then device_latency
    t1 = net.now_ns
    back = udp(wire, guest, 1000)
    wire.send(back)
    got = guest.expect(UDP(dport=9), within="1ms")
    assert bytes(got) == bytes(back)
    assert got.time_ns == t1 + 3 * US + 7 * US  # device_latency, then irq_latency
    c = vn.counters()
    assert (c.tx_frames, c.rx_frames) == (1, 1)
    # §5.1.6.4.1: without merged buffers in use, num_buffers is 1; the used len counts header + frame
    (_, ln, hdr), = used_entries(vn, RECEIVEQ, 1)
    assert ln == 12 + len(bytes(back))
    assert hdr == bytes(10) + struct.pack("<H", 1)
    # a transmit buffer comes back with used len 0: the device wrote nothing into it
    (_, ln, _), = used_entries(vn, TRANSMITQ, 1)
    assert ln == 0


def test_mrg_rxbuf_spreads_a_frame_over_buffers(net):
    """§5.1.6.4.1: "If VIRTIO_NET_F_MRG_RXBUF has been negotiated, the device MUST set num_buffers to
    indicate the number of buffers the packet (including the header) is spread over"; all buffers
    but the last are used completely."""
    guest, vn, wire = rig(net, rx_buf_size=256, **LAT)
    assert "mrg_rxbuf" in vn.features
    frame = udp(wire, guest, 1472)  # 1514 bytes + 12 of header = 1526 = 5 x 256 + 246
    wire.send(frame)
    got = guest.expect(UDP(dport=9), within="1ms")
    assert bytes(got) == bytes(frame)
    entries = used_entries(vn, RECEIVEQ, 6)
    assert [ln for _, ln, _ in entries] == [256] * 5 + [246]
    assert entries[0][2][10:12] == struct.pack("<H", 6)
    c = vn.counters()
    assert (c.rx_merged, c.max_num_buffers) == (1, 6)
    # positive control: a frame that fits one buffer is not merged
    small = udp(wire, guest, 100)
    wire.send(small)
    assert bytes(guest.expect(UDP(dport=9), within="1ms")) == bytes(small)
    assert used_entries(vn, RECEIVEQ, 1)[0][2][10:12] == struct.pack("<H", 1)
    assert vn.counters().rx_merged == 1


def test_without_mrg_rxbuf_num_buffers_is_one(net):
    """§5.1.6.4.1: "If VIRTIO_NET_F_MRG_RXBUF has not been negotiated, the device MUST set num_buffers to 1"."""
    guest, vn, wire = rig(net, driver_features=["version_1", "event_idx", "mac", "mtu"], **LAT)
    assert vn.features == {"version_1", "event_idx", "mac", "mtu"}
    frame = udp(wire, guest, 1472)
    wire.send(frame)
    assert bytes(guest.expect(UDP(dport=9), within="1ms")) == bytes(frame)
    (_, ln, hdr), = used_entries(vn, RECEIVEQ, 1)
    assert (ln, hdr[10:12]) == (12 + 1514, struct.pack("<H", 1))
    with pytest.raises(ConfigError, match="rx_buf_size=256"):
        net.virtio_net("small", net.peer("g2", arp=False), rx_buf_size=256, driver_features=["version_1"])


def test_mtu_limits_both_directions(net):
    """§5.1.4.1: "The device MUST NOT pass received packets that exceed mtu (plus low level ethernet
    header length)"; §5.1.4.2: the driver "MUST NOT transmit packets of size exceeding the value of mtu"."""
    guest, vn, wire = rig(net, mtu=1000, **LAT)
    assert vn.config()["mtu"] == 1000
    wire.send(udp(wire, guest, 1000 - 28))  # 1014 bytes: mtu + 14, passes (positive control)
    guest.expect(UDP(dport=9), within="1ms")
    wire.send(udp(wire, guest, 1000 - 27))  # one byte more
    guest.expect_nothing("10ms")
    guest.send(udp(guest, wire, 1000 - 28))
    wire.expect(UDP(dport=9), within="1ms")
    guest.send(udp(guest, wire, 1000 - 27))
    wire.expect_nothing("10ms")
    c = vn.counters()
    assert (c.rx_dropped, c.tx_dropped, c.rx_frames, c.tx_frames) == (1, 1, 1, 1)


def test_feature_negotiation_and_config(net):
    """§3.1.1: the driver accepts a subset of the offered features; §5.1.4: config mac, status, mtu."""
    guest = net.peer("guest", arp=False)
    vn = net.virtio_net("v", guest, features=["version_1", "mac", "status", "event_idx"],
                        driver_features=["version_1", "mac", "status", "mrg_rxbuf", "mtu"])
    assert vn.features == {"version_1", "mac", "status"}
    cfg = vn.config()
    assert cfg["mac"] == guest.mac and cfg["status"] == 0  # no link on the wire side yet
    assert vn.status == 1 | 2 | 8 | 4  # ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK
    wire = net.peer("wire", arp=False)
    link = net.link(vn, wire)
    assert vn.config()["status"] == 1
    link.down()  # LINK_UP follows the wire
    assert vn.config()["status"] == 0
    link.up()
    assert vn.config()["status"] == 1
    vn2 = net.virtio_net("v2", net.peer("g2", arp=False), driver_features=["version_1"])
    assert vn2.config()["status"] == 0  # no STATUS: the field is not there
    with pytest.raises(ConfigError, match="VIRTIO_F_VERSION_1"):
        net.virtio_net("v3", net.peer("g3", arp=False), driver_features=["mac"])
    with pytest.raises(ConfigError, match="queue_size=300"):
        net.virtio_net("v4", net.peer("g4", arp=False), queue_size=300)
    with pytest.raises(ConfigError, match="unknown feature"):
        net.virtio_net("v5", net.peer("g5", arp=False), features=["version_1", "tso"])


@pytest.mark.parametrize("event_idx", [True, False])
def test_notification_suppression_counts(net, event_idx):
    """§2.7.7 and §2.7.10: a burst of frames from the guest while the device is busy needs one kick;
    the device's re-check after re-enabling finds what came meanwhile."""
    feats = ["version_1", "mac", "mtu", "mrg_rxbuf"] + (["event_idx"] if event_idx else [])
    guest, vn, wire = rig(net, features=feats, notify_latency="2us", device_latency="50us", irq_latency="7us")
    net.run(for_="1ms")
    t0 = net.now_ns
    for i in range(5):  # 5 frames, 10 us apart: the device works on the first for 50 us
        guest.send(udp(guest, wire, 64, sport=2000 + i))
        net.run(for_="10us")
    got = [wire.expect(UDP(sport=2000 + i), within="1ms") for i in range(5)]
    c = vn.counters()
    assert c.kicks[TRANSMITQ] == 1 and c.kicks_suppressed[TRANSMITQ] == 4
    # the first kick reaches the device at t0+2us, its work ends at +52us and picks up all five
    assert [p.time_ns - t0 for p in got] == [52 * US] * 5


@pytest.mark.parametrize("event_idx", [True, False])
def test_lost_wakeup(net, event_idx):
    """§2.7.14's note: "beware the problem of missing notifications between emptying the ring and
    reenabling notifications. This is usually handled by re-checking for more used buffers after
    notifications are re-enabled". A frame used while the driver's handler runs (notifications off)
    reaches the guest when the driver re-enables and re-checks; a driver that does not re-check loses it."""
    feats = ["version_1", "mac", "mtu", "mrg_rxbuf"] + (["event_idx"] if event_idx else [])
    results = {}
    for mode in ("correct", "no_recheck"):
        guest = net.peer(f"guest-{mode}", ipv4="10.0.0.1/24", arp=False)
        wire = net.peer(f"wire-{mode}", ipv4="10.0.0.2/24", arp=False)
        vn = net.virtio_net(f"vnet-{mode}", guest, features=feats, driver_mode=mode, device_latency="3us",
                            irq_latency="7us", driver_latency="50us")
        net.link(vn, wire)
        results[mode] = (guest, vn, wire)
    net.run(for_="1ms")
    t0 = net.now_ns
    for guest, vn, wire in results.values():
        wire.send(udp(wire, guest, 64, sport=1))  # A: used at t0+3us, interrupt at t0+10us
    net.run(for_="20us")
    for guest, vn, wire in results.values():
        wire.send(udp(wire, guest, 64, sport=2))  # B: used at t0+23us, while the handler runs (10..60 us)
    guest, vn, _ = results["correct"]
    a = guest.expect(UDP(sport=1), within="1ms")
    b = guest.expect(UDP(sport=2), within="1ms")
    assert (a.time_ns - t0, b.time_ns - t0) == (10 * US, 60 * US)  # B when notifications come back on
    assert vn.counters().rechecks == 1
    guest, vn, wire = results["no_recheck"]
    guest.expect(UDP(sport=1), within="1ms")
    guest.expect_nothing("10ms")
    assert vn.counters().rechecks == 0
    wire.send(udp(wire, guest, 64, sport=3))  # C: does its notification wake the driver?
    if event_idx:
        # used_event was set to B's index, which is already behind: no notification until the 16-bit
        # index wraps; B and C stay in the used ring
        guest.expect_nothing("1s")
    else:
        # with flags, C's notification comes, and the handler finds B too
        t = net.now_ns
        assert guest.expect(UDP(sport=2), within="1ms").time_ns == t + 10 * US
        guest.expect(UDP(sport=3), within="1ms")


def test_receive_waits_for_buffers(net):
    """A burst larger than the receive queue: the device holds frames until the driver gives buffers
    back and kicks (§2.7.10), none lost, in order."""
    guest, vn, wire = rig(net, queue_size=4, **LAT)
    net.run(for_="1ms")
    frames = [udp(wire, guest, 80, sport=3000 + i) for i in range(10)]
    for f in frames:
        wire.send(f)
    got = [guest.expect(UDP(sport=3000 + i), within="10ms") for i in range(10)]
    assert [bytes(g) for g in got] == [bytes(f) for f in frames]
    c = vn.counters()
    assert c.rx_frames == 10 and c.rx_dropped == 0 and c.rx_no_buffer_waits >= 1
    assert c.kicks[RECEIVEQ] >= 2  # the initial fill and at least one refill the device asked for


def test_largest_queue(net):
    """§2.7: "The maximum Queue Size value is 32768"."""
    guest, vn, wire = rig(net, queue_size=32768, **LAT)
    guest.send(udp(guest, wire, 100))
    wire.expect(UDP(dport=9), within="1ms")
    wire.send(udp(wire, guest, 100))
    guest.expect(UDP(dport=9), within="1ms")


def test_impairments_and_capture_work_behind_the_device(net):
    """The device is a node on the simulated link: a scripted drop and the capture apply to its frames."""
    guest = net.peer("guest", ipv4="10.0.0.1/24", arp=False)
    wire = net.peer("wire", ipv4="10.0.0.2/24", arp=False)
    vn = net.virtio_net("vnet0", guest, **LAT)
    link = net.link(vn, wire, delay="1ms")
    link.fault("drop", nth=2, direction="a_to_b")
    for i in range(3):
        guest.send(udp(guest, wire, 64, sport=4000 + i))
        net.run(for_="5ms")
    got = [p[UDP].sport for p in wire.received()]
    assert got == [4000, 4002]
    paths = list(link.capture_paths.values())
    assert paths
    net.flush_captures()
    from scapy.all import rdpcap

    # the capture at the device's end shows the three frames the device sent onto the wire
    seen = [sorted(p[UDP].sport for p in rdpcap(str(path)) if UDP in p) for path in paths]
    assert seen == [[4000, 4001, 4002]]


def break_tx_ring(vn, descs, head=0):
    """Write descriptors into the transmit table and offer `head`, as a buggy driver would, and kick."""
    desc, avail, _ = vn.queue_gpa(TRANSMITQ)
    for i, (addr, ln, flags, nxt) in enumerate(descs):
        vn.mem_write(desc + 16 * i, struct.pack("<QIHH", addr, ln, flags, nxt))
    idx = int.from_bytes(vn.mem_read(avail + 2, 2), "little")
    vn.mem_write(avail + 4 + 2 * (idx % 256), struct.pack("<H", head))
    vn.mem_write(avail + 2, struct.pack("<H", (idx + 1) & 0xFFFF))
    vn.kick(TRANSMITQ)


@pytest.mark.parametrize("case", ["loop", "outside", "head", "order"])
def test_malformed_ring_needs_reset(net, case):
    """A driver that breaks §2.7 (a loop, a buffer outside its memory, a head out of range, a readable
    descriptor after a writable one): the device stops, sets DEVICE_NEEDS_RESET (§2.1.2: "The device
    SHOULD set DEVICE_NEEDS_RESET when it enters an error state that a reset is needed") and records
    what it found; it never reads outside the guest memory."""
    guest, vn, wire = rig(net, **LAT)
    # positive control: the queue works before
    guest.send(udp(guest, wire, 64))
    wire.expect(UDP(dport=9), within="1ms")
    assert not vn.needs_reset and vn.events() == []
    buf, _, _ = vn.queue_gpa(RECEIVEQ)  # inside the guest memory
    t_kick = net.now_ns
    cases = {
        "loop": ([(buf, 64, 1, 1), (buf, 64, 1, 0)], 0, "LOOP"),
        "outside": ([(0xDEAD0000000, 64, 0, 0)], 0, "DESC_ADDR"),
        "head": ([], 300, "DESC_INDEX"),
        "order": ([(buf, 64, 1 | 2, 1), (buf, 64, 0, 0)], 0, "WRITE_ORDER"),
    }
    descs, head, fault = cases[case]
    break_tx_ring(vn, descs, head)
    net.run(for_="1ms")
    ev = vn.events()
    assert [e.fault for e in ev] == [fault] and ev[0].queue == TRANSMITQ
    assert ev[0].time_ns == t_kick + 2 * US + 3 * US  # the kick's notify latency, then device work
    assert vn.needs_reset
    # from then on nothing crosses
    guest.send(udp(guest, wire, 64, sport=5))
    wire.expect_nothing("10ms")
