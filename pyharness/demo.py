"""The bundled demonstration scenario (``make run``, ``pyharness demo``).

Two scripted peers, ``alice`` and ``bob``, talk through a learning switch.
The switch-to-bob link is shaped by a token bucket (256 kbit/s, 3 KB burst,
100 ms latency) and lossy (Gilbert-Elliott bursts); alice's link is clean.
Alice sends a 1 KB UDP "ping" every 20 ms (400 kbit/s, more than the shaper
lets through, so its queue builds up and then drops); bob echoes every one he receives at the instant it
arrives. Both links are captured to pcaps; the summary shows frames sent,
lost and delivered, round-trip times in virtual time, and the link counters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from .impairments import GilbertElliott, Tbf
from .network import Network
from .units import parse_time

ALICE_MAC, BOB_MAC = "02:00:00:00:00:0a", "02:00:00:00:00:0b"
ALICE_IP, BOB_IP = "10.0.0.1", "10.0.0.2"
PORT = 7  # echo


@dataclass
class DemoResult:
    """What the demo did."""

    sent: int
    echoed: int
    answered: int
    rtts_ns: list[int]
    pcaps: list[Path]


def run_demo(out: Path = Path("out/demo"), seed: int = 42, count: int = 50, stream: TextIO | None = None) -> DemoResult:
    """Run the demonstration and print its summary to ``stream`` (stdout by default)."""
    import sys

    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw

    stream = stream or sys.stdout
    out.mkdir(parents=True, exist_ok=True)
    with Network(seed=seed, artifacts=out) as net:
        alice, bob = net.peer("alice", mac=ALICE_MAC), net.peer("bob", mac=BOB_MAC)
        sw = net.switch("sw", ports=4)
        la = net.link(alice, sw, rate="100Mbit", delay="1ms")
        lb = net.link(
            sw, bob, rate="100Mbit", delay="10ms",
            tbf=Tbf(rate="256kbit", burst="3KB", latency="100ms"),
            loss=GilbertElliott(p=0.05, r=0.4),
        )
        pcaps = [la.capture(out / "alice-sw.pcap"), lb.capture(out / "sw-bob.pcap", side="b")]

        interval = parse_time("20ms")
        sent_at: dict[int, int] = {}
        rtts: list[int] = []
        echoed = 0
        for seq in range(count + 10):  # ten more intervals to let the last echoes come back
            if seq < count:
                payload = f"ping {seq:04d} ".encode() + bytes(1000)
                alice.send(Ether(src=ALICE_MAC, dst=BOB_MAC) / IP(src=ALICE_IP, dst=BOB_IP)
                           / UDP(sport=40000, dport=PORT) / Raw(payload))
                sent_at[seq] = net.now_ns
            deadline = net.now_ns + interval
            while net._run_to(deadline, stop_on_rx=True):
                for pkt in bob.received():  # echo at the instant it arrives
                    bob.send(Ether(src=BOB_MAC, dst=ALICE_MAC) / IP(src=BOB_IP, dst=ALICE_IP)
                             / UDP(sport=PORT, dport=40000) / Raw(bytes(pkt[UDP].payload)))
                    echoed += 1
                for pkt in alice.received():
                    n = int(bytes(pkt[UDP].payload)[5:9])
                    rtts.append(pkt.time_ns - sent_at[n])
        la_ab, lb_ab, lb_ba = la.counters("a_to_b"), lb.counters("a_to_b"), lb.counters("b_to_a")
        swc = sw.counters()

    ms = lambda ns: f"{ns / 1e6:.3f} ms"  # noqa: E731
    w = stream.write
    w(f"Tern demo (seed {seed}): alice -> switch -> [tbf 256kbit burst 3KB latency 100ms, Gilbert-Elliott loss] -> bob\n")
    w(f"  pings sent       {count}\n")
    w(f"  reached bob      {echoed}  (lost on the way: {count - echoed})\n")
    w(f"  echoes back      {len(rtts)}  (lost on the way back: {echoed - len(rtts)})\n")
    if rtts:
        w(f"  rtt min/avg/max  {ms(min(rtts))} / {ms(sum(rtts) // len(rtts))} / {ms(max(rtts))} (virtual time)\n")
    w(f"  alice->sw        in {la_ab.frames_in}, delivered {la_ab.delivered}\n")
    w(f"  sw->bob          in {lb_ab.frames_in}, delivered {lb_ab.delivered}, lost {lb_ab.dropped_loss}, "
      f"held by shaper {lb_ab.shaper_delayed}, shaper drops {lb_ab.dropped_shaper_limit}\n")
    w(f"  bob->sw          in {lb_ba.frames_in}, delivered {lb_ba.delivered}, lost {lb_ba.dropped_loss}\n")
    w(f"  switch           learned {swc.learned}, forwarded {swc.forwarded}, flooded {swc.flooded}\n")
    for p in pcaps:
        w(f"  capture          {p}\n")
    return DemoResult(count, echoed, len(rtts), rtts, pcaps)


__all__ = ["run_demo", "DemoResult"]
