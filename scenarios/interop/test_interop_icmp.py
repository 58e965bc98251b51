"""ICMP echo between the Linux kernel's ping (iputils) and a Tern host, over TAP in real time.

RFC 792 (Echo and Echo Reply): the reply carries the request's data; RFC 1122
§3.2.2.6: every host MUST answer echo requests, and the data MUST be returned
entirely and unmodified. Sizes cover the empty echo, one full 1500-byte
frame (1472), the first fragmented size (1473) and the largest datagram
(65507 bytes of data: RFC 791 total length 65535), so reassembly in the Tern
stack and in the kernel are both exercised (RFC 791 §3.2, RFC 815).
"""

from __future__ import annotations

import os
import time

import pytest

from pyharness.sockets import PingReply

KERNEL_IP = "10.77.0.1"
TERN_IP = "10.77.0.2"

SIZES = [0, 56, 1472, 1473, 4000, 65507]


@pytest.mark.parametrize("size", SIZES)
def test_kernel_pings_tern(make_bridge, size: int) -> None:
    """RFC 1122 §3.2.2.6: the kernel's ping of every size gets its replies from the Tern host."""
    b = make_bridge(programs=("ping",))
    r = b.kernel_ping(count=3, size=size)
    assert r.status == 0 and r.received >= 3, f"ping -s {size}:\n{r.output}"
    c = b.dut.counters()
    # Every request that reached the host was answered, once.
    assert c.icmp_echo_replies_sent == c.icmp_echo_requests
    assert 3 <= c.icmp_echo_replies_sent <= r.transmitted, r.output


def test_kernel_ping_counts_a_reply_the_bridge_held_up(make_bridge) -> None:
    """A loaded machine holds the bridge up for 600 ms after the second reply: the third reply comes late, and
    the kernel's ping still counts it (the harness's ping runs in deadline mode; before, ping gave up one
    interval, 200 ms, after its last request and reported 2 of 3)."""
    b = make_bridge(programs=("ping",))
    stalls: list[int] = []

    def service() -> None:
        if not stalls and b.dut.counters().icmp_echo_replies_sent == 2:
            stalls.append(2)
            time.sleep(0.6)  # the test process held up, as by a busy machine

    r = b.kernel_ping(count=3, interval=0.2, service=service)
    assert stalls, "the bridge was never held up between the second and the third request"
    assert r.status == 0 and r.received >= 3, r.output
    assert r.rtt_max_ms is not None and r.rtt_max_ms >= 300.0, r.output  # the held-up reply counted
    c = b.dut.counters()
    assert c.icmp_echo_replies_sent == c.icmp_echo_requests


@pytest.mark.parametrize("size", SIZES)
def test_tern_pings_kernel(make_bridge, size: int) -> None:
    """RFC 792: the kernel's echo reply to a Tern ping carries the same data back, for every size.

    The first request waits for ARP; the Tern stack queues it fragment by
    fragment (45 fragments for 65507 bytes), more than its default ARP queue
    of 16 packets, so the host here gets a queue of 64 (found by this test:
    with the default, the largest ping loses fragments and is never answered).
    """
    b = make_bridge(host={"arp_queue": 64, "packet_buffers": 128})
    sock = b.dut.ping_socket(ident=0x7e57)
    payload = os.urandom(size)
    b.run_until(lambda: False, 0.001)  # bring virtual time to the wall clock first
    sock.send(KERNEL_IP, seq=1, payload=payload)
    replies: list[PingReply] = []

    def got_reply() -> bool:
        r = sock.recv()
        if r is not None:
            replies.append(r)
        return bool(replies)

    assert b.run_until(got_reply, 5), f"no echo reply from the kernel to {size} bytes; counters {b.dut.counters()}"
    (reply,) = replies
    assert reply.src == KERNEL_IP
    assert reply.seq == 1
    assert reply.payload == payload


def test_delay_on_the_link_is_what_the_kernel_measures(make_bridge) -> None:
    """An impairment between the TAP node and the host is seen by the kernel: 2 x 20 ms of delay.

    Frames from the kernel enter virtual time no earlier than they arrived (sim/src/nodes/realtime.c), and frames
    to it leave no earlier than their virtual time, so no round trip is shorter than 40 ms, however late
    the test process runs."""
    b = make_bridge(programs=("ping",), delay="20ms")
    r = b.kernel_ping(count=3, interval=0.05)
    assert r.status == 0 and r.received >= 3, r.output
    assert r.rtt_min_ms is not None and 40.0 <= r.rtt_min_ms < 200.0, r.output


def test_loss_on_the_link_loses_pings(make_bridge) -> None:
    """100% loss toward the host: the kernel's pings all go unanswered, and the link counts the drops."""
    b = make_bridge(programs=("ping",), capture=False)
    b.kernel.link.configure("a_to_b", loss=1.0)
    status, out, _ = b.run_process(["ping", "-n", "-c", "2", "-i", "0.05", "-W", "1", TERN_IP])
    assert status != 0
    assert "0 received" in out
    assert b.dut.counters().icmp_echo_replies_sent == 0
    assert b.kernel.link.counters("a_to_b").dropped_loss >= 2
