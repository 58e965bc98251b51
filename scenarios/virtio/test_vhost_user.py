"""The vhost-user back-end without QEMU: this test plays the front-end (QEMU's role in
docs/interop/vhost-user.rst) with a memfd as guest memory, eventfds for kicks and calls, and a
driver written here against the split-ring layout (virtio v1.2 §2.7). It checks the negotiation,
that frames cross both rings, the calls, GET_VRING_BASE, and that a malformed ring is caught.
Real time (the back-end serves its socket in the real-time mode), so only what happened is
asserted, not when.
"""

from __future__ import annotations

import mmap
import os
import socket
import struct

import pytest
from scapy.all import UDP, Ether, IP, Raw

from pyharness.bridge import RealtimeNetwork
from pyharness.virtio import add_vhost_user

pytestmark = [pytest.mark.area("virtio"), pytest.mark.dut("tern")]

GET_FEATURES, SET_FEATURES, SET_OWNER, SET_MEM_TABLE = 1, 2, 3, 5
SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE = 8, 9, 10, 11
SET_VRING_KICK, SET_VRING_CALL, GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES = 12, 13, 15, 16
SET_VRING_ENABLE = 18
MEM = 1 << 20
GPA = 0x40000000     # guest-physical base of the region
UVA = 0x7F0000000000  # the "front-end's" address of the same region (only translated, never used)
QSIZE = 8
VERSION_1, EVENT_IDX, PROTOCOL = 1 << 32, 1 << 29, 1 << 30


class FrontEnd:
    """A minimal vhost-user front-end and virtio-net driver over one memfd."""

    def __init__(self, path: str):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.fd = os.memfd_create("guest")
        os.ftruncate(self.fd, MEM)
        self.mem = mmap.mmap(self.fd, MEM)
        self.kick = [os.eventfd(0, os.EFD_NONBLOCK), os.eventfd(0, os.EFD_NONBLOCK)]
        self.call = [os.eventfd(0, os.EFD_NONBLOCK), os.eventfd(0, os.EFD_NONBLOCK)]
        # ring q at 0x1000*q*4: desc +0, avail +0x800, used +0xC00; buffers from 0x10000
        self.avail_idx = [0, 0]
        self.last_used = [0, 0]

    def off(self, q: int, part: str) -> int:
        return 0x4000 * q + {"desc": 0, "avail": 0x800, "used": 0xC00}[part]

    def send(self, req: int, payload: bytes = b"", fds: tuple = ()) -> None:
        msg = struct.pack("<III", req, 1, len(payload)) + payload
        if fds:
            socket.send_fds(self.sock, [msg], list(fds))
        else:
            self.sock.sendall(msg)

    def reply(self) -> bytes:
        hdr = self.sock.recv(12, socket.MSG_WAITALL)
        req, flags, size = struct.unpack("<III", hdr)
        assert flags == 0x5  # version 1, reply
        return self.sock.recv(size, socket.MSG_WAITALL)

    def setup(self, net) -> int:
        self.send(GET_FEATURES)
        net.run_realtime(for_="5ms")
        offered = struct.unpack("<Q", self.reply())[0]
        self.send(SET_OWNER)
        self.send(GET_PROTOCOL_FEATURES)
        net.run_realtime(for_="5ms")
        proto = struct.unpack("<Q", self.reply())[0]
        self.send(SET_PROTOCOL_FEATURES, struct.pack("<Q", proto))
        self.send(SET_FEATURES, struct.pack("<Q", offered & (VERSION_1 | EVENT_IDX | PROTOCOL)))
        self.send(SET_MEM_TABLE, struct.pack("<II", 1, 0) + struct.pack("<QQQQ", GPA, MEM, UVA, 0), (self.fd,))
        for q in (0, 1):
            self.send(SET_VRING_NUM, struct.pack("<II", q, QSIZE))
            self.send(SET_VRING_BASE, struct.pack("<II", q, 0))
            self.send(SET_VRING_ADDR, struct.pack("<IIQQQQ", q, 0, UVA + self.off(q, "desc"),
                                                  UVA + self.off(q, "used"), UVA + self.off(q, "avail"), 0))
            self.send(SET_VRING_KICK, struct.pack("<Q", q), (self.kick[q],))
            self.send(SET_VRING_CALL, struct.pack("<Q", q), (self.call[q],))
            self.send(SET_VRING_ENABLE, struct.pack("<II", q, 1))
        net.run_realtime(for_="5ms")
        return offered

    def add(self, q: int, head: int, addr: int, length: int, write: bool) -> None:
        """One-descriptor buffer `head` at `addr`, made available, and a kick."""
        struct.pack_into("<QIHH", self.mem, self.off(q, "desc") + 16 * head, GPA + addr, length, 2 if write else 0, 0)
        a = self.off(q, "avail")
        struct.pack_into("<H", self.mem, a + 4 + 2 * (self.avail_idx[q] % QSIZE), head)
        self.avail_idx[q] += 1
        struct.pack_into("<H", self.mem, a + 2, self.avail_idx[q] & 0xFFFF)
        os.eventfd_write(self.kick[q], 1)

    def used(self, q: int) -> list[tuple[int, int]]:
        u = self.off(q, "used")
        idx = struct.unpack_from("<H", self.mem, u + 2)[0]
        out = []
        while self.last_used[q] != idx:
            out.append(struct.unpack_from("<II", self.mem, u + 4 + 8 * (self.last_used[q] % QSIZE)))
            self.last_used[q] = (self.last_used[q] + 1) & 0xFFFF
        return out

    def called(self, q: int) -> int:
        try:
            return os.eventfd_read(self.call[q])
        except BlockingIOError:
            return 0

    def close(self) -> None:
        self.sock.close()
        self.mem.close()
        for fd in [self.fd, *self.kick, *self.call]:
            os.close(fd)


@pytest.fixture
def rig(tmp_path):
    net = RealtimeNetwork(seed=1, artifacts=tmp_path)
    vh = add_vhost_user(net, "vhost0", str(tmp_path / "vhost.sock"))
    wire = net.peer("wire", ipv4="10.0.0.2/24", arp=False)
    net.link(vh, wire)
    fe = FrontEnd(str(tmp_path / "vhost.sock"))
    yield net, vh, wire, fe
    fe.close()
    net.close()


def frame(src: str, dst: str, n: int) -> bytes:
    return bytes(Ether(src=src, dst=dst) / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=9) / Raw(bytes(n)))


def test_frames_cross_both_rings(rig):
    net, vh, wire, fe = rig
    offered = fe.setup(net)
    assert offered & VERSION_1 and offered & EVENT_IDX and offered & PROTOCOL
    st = vh.stats()
    assert st.connections == 1 and st.mem_regions == 1 and st.features & VERSION_1
    # transmit: header (12 zero bytes) + frame in one device-readable buffer
    out = frame("52:54:00:00:00:01", wire.mac, 100)
    fe.mem[0x10000:0x10000 + 12 + len(out)] = bytes(12) + out
    fe.add(1, 0, 0x10000, 12 + len(out), write=False)
    assert net.run_realtime(until=lambda: wire.pending > 0, for_="2s")
    got = wire.recv()
    assert bytes(got) == out
    assert net.run_realtime(until=lambda: fe.used(1) == [(0, 0)] or fe.last_used[1] == 1, for_="1s")
    # receive: a device-writable buffer; the frame from the wire lands after a 12-byte header
    fe.add(0, 0, 0x20000, 2048, write=True)
    net.run_realtime(for_="5ms")
    back = frame(wire.mac, "52:54:00:00:00:01", 200)
    wire.send(Ether(back))
    entries = []
    assert net.run_realtime(until=lambda: bool(entries.extend(fe.used(0)) or entries), for_="2s")
    (head, length), = entries
    assert (head, length) == (0, 12 + len(back))
    hdr = bytes(fe.mem[0x20000:0x2000C])
    assert hdr == bytes(10) + struct.pack("<H", 1)  # num_buffers 1, no offloads
    assert bytes(fe.mem[0x2000C:0x2000C + len(back)]) == back
    assert fe.called(0) >= 1  # the used buffer was signalled (used_event 0: the first one)
    st = vh.stats()
    assert (st.tx_frames, st.rx_frames) == (1, 1) and st.started == (True, True)
    # GET_VRING_BASE stops the ring and tells where the back-end got to
    fe.send(GET_VRING_BASE, struct.pack("<II", 1, 0))
    net.run_realtime(for_="5ms")
    assert struct.unpack("<II", fe.reply()) == (1, 1)
    assert vh.stats().started == (True, False)
    assert vh.events() == []


def test_malformed_ring_is_caught(rig):
    """A descriptor loop in the transmit ring: the back-end stops the ring and records LOOP."""
    net, vh, wire, fe = rig
    fe.setup(net)
    d = fe.off(1, "desc")
    struct.pack_into("<QIHH", fe.mem, d, GPA + 0x10000, 64, 1, 1)
    struct.pack_into("<QIHH", fe.mem, d + 16, GPA + 0x10000, 64, 1, 0)
    a = fe.off(1, "avail")
    struct.pack_into("<HHH", fe.mem, a, 0, 1, 0)
    os.eventfd_write(fe.kick[1], 1)
    assert net.run_realtime(until=lambda: bool(vh.events()), for_="2s")
    ev, = vh.events()
    assert (ev.queue, ev.fault) == (1, "LOOP")
    assert vh.stats().started[1] is False
    assert wire.pending == 0
