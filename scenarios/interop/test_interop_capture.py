"""A capture of the bridged link is a valid pcap that Wireshark decodes cleanly.

tshark reads the file, verifies every IPv4, ICMP, UDP and TCP checksum
(RFC 791 §3.1, RFC 792, RFC 768, RFC 9293 §3.1: MUST-2/MUST-3) and reports
no malformed frame, in both directions: frames the kernel sent through the
TAP device and frames the Tern host sent.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

TSHARK_CHECKS = ["-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE"]
BAD = ("_ws.malformed || _ws.expert.severity == error || ip.checksum.status == 0 || icmp.checksum.status == 0"
       " || udp.checksum.status == 0 || tcp.checksum.status == 0")


def tshark(*args: str) -> str:
    r = subprocess.run(["tshark", *args], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"tshark {' '.join(args)}: {r.stderr}"
    return r.stdout


def test_capture_decodes_cleanly(make_bridge) -> None:
    """ARP, fragmented ICMP echo both ways and UDP both ways: no malformed frame, no checksum error."""
    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed (make deps installs it)")
    b = make_bridge(programs=("ping",), host={"arp_queue": 64, "packet_buffers": 128})
    r = b.kernel_ping(count=2, size=4000)
    assert r.status == 0 and r.received >= 2, r.output
    ping = b.dut.ping_socket()
    ping.send(b.kernel_ip, payload=3000)
    assert b.run_until(lambda: ping.recv() is not None, 3)
    server = b.ns.popen(b.helper("udp_echo_server.py", b.kernel_ip, "7000"), text=True)
    assert server.stdout.readline().strip() == "ready"
    u = b.dut.udp_socket(port=40000)
    u.sendto(b"x" * 2000, (b.kernel_ip, 7000))
    assert b.run_until(lambda: u.recvfrom() is not None, 3)
    pcap = b.capture
    b.net.close()  # flushes the capture

    lines = tshark("-r", str(pcap), *TSHARK_CHECKS, "-T", "fields", "-e", "frame.protocols").split()
    protos = " ".join(lines)
    for proto in ("arp", "icmp", "udp"):
        assert proto in protos, f"no {proto} frame in {pcap}"
    assert len(lines) >= 12
    bad = tshark("-r", str(pcap), *TSHARK_CHECKS, "-Y", BAD)
    assert bad.strip() == "", f"tshark finds malformed frames or bad checksums in {pcap}:\n{bad}"
