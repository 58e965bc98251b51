"""BENCH peer_roundtrip_us: a scripted peer sends a UDP datagram to a host's echo socket and expects the answer.

The echo is driven from Python (recvfrom + sendto on the host's socket, then
the wake the socket calls do). Prints the median wall-clock microseconds per
round trip. Target: at most 50.
"""

from __future__ import annotations

import statistics
import time

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from pyharness import Network

ROUNDS = 2000


def main() -> None:
    net = Network(seed=1)
    dut = net.host("dut", ipv4="10.0.0.1/24")
    peer = net.peer("peer", ipv4="10.0.0.2/24")
    net.link(dut, peer, delay="10us")
    echo = dut.udp_socket(port=7)
    frame = bytes(Ether(src=peer.mac, dst=dut.mac) / IP(src="10.0.0.2", dst="10.0.0.1") / UDP(sport=9, dport=7) / Raw(b"x" * 32))
    template = UDP(sport=7, dport=9)
    samples = []
    for i in range(ROUNDS + 100):
        t0 = time.perf_counter_ns()
        peer.send(frame)
        net.run(for_="20us")
        data, src = echo.recvfrom()
        echo.sendto(data, src)
        peer.expect(template, within="1ms")
        if i >= 100:  # warm-up: ARP, caches
            samples.append(time.perf_counter_ns() - t0)
    print(f"BENCH peer_roundtrip_us {statistics.median(samples) / 1000:.1f} us")


if __name__ == "__main__":
    main()
