"""examples/tern-tcpdump on a veth pair between two namespaces the test creates.

The kernel sends the frames (iputils ping, kernel UDP and TCP sockets); a raw
AF_PACKET socket in namespace A hands each frame of ``va`` to Tern's wire
parsers, one line per frame (format in examples/tcpdump.c). A frame the test
injects with a wrong UDP checksum and a truncated IPv4 header are the positive
controls of "no [bad cksum]" and "no malformed" on the kernel's frames.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import time
from typing import Iterator

import pytest

from pyharness.netns import NetNamespace, unavailable

from .test_interop_examples import example

MAC_A = "02:00:00:00:00:0a"
MAC_B = "02:00:00:00:00:0b"
IP_A = "10.99.0.1"
IP_B = "10.99.0.2"


@pytest.fixture
def veth() -> Iterator[tuple[NetNamespace, NetNamespace]]:
    """Namespaces A and B joined by veth va (A, 10.99.0.1) -- vb (B, 10.99.0.2), fixed MACs, IPv6 off."""
    reason = unavailable(("ping",))
    if reason:
        pytest.skip(f"interop with the Linux kernel needs privileges: {reason}")
    with NetNamespace() as a, NetNamespace() as b:
        for ns in (a, b):  # no IPv6 router/neighbour solicitations between the frames the test sends
            ns.run(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"], check=True)
            ns.run(["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"], check=True)
        a.ip("link", "add", "va", "address", MAC_A, "type", "veth", "peer", "name", "vb", "address", MAC_B,
             "netns", b.name)
        a.ip("addr", "add", f"{IP_A}/24", "dev", "va")
        b.ip("addr", "add", f"{IP_B}/24", "dev", "vb")
        a.ip("link", "set", "va", "up")
        b.ip("link", "set", "vb", "up")
        yield a, b


SERVER = f"""
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("{IP_B}", 5001)); s.listen(1); print("ready", flush=True)
c, _ = s.accept(); data = c.recv(100); c.close(); print(data.decode(), flush=True)
"""

CLIENT = f"""
import socket, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("{IP_A}", 40001))
u.sendto(b"hello", ("{IP_B}", 9)); time.sleep(0.2)
t = socket.create_connection(("{IP_B}", 5001), source_address=("{IP_A}", 40002))
t.sendall(b"abc"); t.shutdown(socket.SHUT_WR); t.recv(10); t.close(); time.sleep(0.2)
"""

# Raw frames from A: a UDP datagram whose checksum is wrong, and an IPv4 header cut short.
INJECT = f"""
import socket, struct
def csum(b):
    if len(b) % 2: b += b"\\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
src, dst = socket.inet_aton("{IP_A}"), socket.inet_aton("{IP_B}")
udp = struct.pack("!HHHH", 40003, 9, 12, 0x1234) + b"oops"
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, src, dst)
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
eth = bytes.fromhex("{MAC_B.replace(':', '')}{MAC_A.replace(':', '')}0800")
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(("va", 0))
s.send(eth + ip + udp)
s.send(eth + ip[:12])
"""


def _read_until(proc: subprocess.Popen, needle: str, timeout: float = 20.0) -> str:
    """What ``proc`` writes to standard output up to and including the first line holding ``needle``; fails
    with the output so far after ``timeout`` seconds (tern-tcpdump's lines are line-buffered)."""
    end = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    got = ""
    while needle not in got or not got.endswith("\n"):
        left = end - time.monotonic()
        assert left > 0, f"tern-tcpdump printed no line with {needle!r} within {timeout} s:\n{got}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 65536).decode()
            assert chunk, f"tern-tcpdump ended before a line with {needle!r}:\n{got}"
            got += chunk
    return got


def test_tcpdump_decodes_arp_icmp_udp_tcp_sent_by_the_kernel(veth: tuple[NetNamespace, NetNamespace]) -> None:
    a, b = veth
    dump = a.popen([str(example("tern-tcpdump")), "va"], text=True)
    line = dump.stderr.readline()
    assert "listening on va" in line, line
    srv = b.popen(["python3", "-c", SERVER], text=True)
    assert srv.stdout.readline().strip() == "ready"
    r = a.run(["ping", "-c", "2", "-i", "0.2", "-s", "56", IP_B], timeout=20)
    assert r.returncode == 0, r.stdout + r.stderr
    r = a.run(["python3", "-c", CLIENT], timeout=20)
    assert r.returncode == 0, r.stderr
    assert srv.stdout.readline().strip() == "abc"
    r = a.run(["python3", "-c", INJECT], timeout=20)
    assert r.returncode == 0, r.stderr
    # The last frame the test sends is the truncated header: stop tern-tcpdump once it has printed that line
    # (it was stopped 0.3 s after the injection, whether or not a busy machine had let it read the frame).
    head = _read_until(dump, "IPv4 malformed: ")
    dump.send_signal(signal.SIGTERM)
    out, err = dump.communicate(timeout=10)
    assert dump.returncode == 0, err
    out = head + out
    lines = out.splitlines()

    out_ab = f"out {MAC_A} > {MAC_B} "
    in_ba = f"in {MAC_B} > {MAC_A} "
    expected = [
        f"out {MAC_A} > ff:ff:ff:ff:ff:ff ARP request who-has {IP_B} tell {IP_A}",
        f"{in_ba}ARP reply {IP_B} is-at {MAC_B}",
        rf"{out_ab}IPv4 {IP_A} > {IP_B} ICMP echo request id (\d+) seq 1 len 56",
        rf"{in_ba}IPv4 {IP_B} > {IP_A} ICMP echo reply id (\d+) seq 1 len 56",
        rf"{out_ab}IPv4 {IP_A} > {IP_B} ICMP echo request id (\d+) seq 2 len 56",
        rf"{in_ba}IPv4 {IP_B} > {IP_A} ICMP echo reply id (\d+) seq 2 len 56",
        f"{out_ab}IPv4 {IP_A}:40001 > {IP_B}:9 UDP len 5",
        # the port unreachable quotes the whole datagram (Linux quotes up to 576 bytes): 20 + 8 + 5
        f"{in_ba}IPv4 {IP_B} > {IP_A} ICMP type 3 code 3 len 33",
        rf"{out_ab}IPv4 {IP_A}:40002 > {IP_B}:5001 TCP \[S\] seq (\d+) win \d+ len 0",
        rf"{in_ba}IPv4 {IP_B}:5001 > {IP_A}:40002 TCP \[S\.\] seq (\d+) ack (\d+) win \d+ len 0",
        rf"{out_ab}IPv4 {IP_A}:40002 > {IP_B}:5001 TCP \[\.\] seq (\d+) ack (\d+) win \d+ len 0",
        rf"{out_ab}IPv4 {IP_A}:40002 > {IP_B}:5001 TCP \[(F?P\.)\] seq (\d+) ack (\d+) win \d+ len 3",
        rf"{out_ab}IPv4 {IP_A}:40003 > {IP_B}:9 UDP len 4 \[bad cksum\]",
        rf"{out_ab}IPv4 malformed: .*",
    ]
    i = 0
    found = []
    for pattern in expected:  # in this order, other lines (ARP probes, the rest of TCP) between them
        while i < len(lines) and not re.fullmatch(pattern, lines[i]):
            i += 1
        assert i < len(lines), f"no line matching {pattern!r} in order in:\n{out}"
        found.append(re.fullmatch(pattern, lines[i]))
        i += 1
    # The reply echoes the request's identifier; the SYN-ACK acknowledges the SYN's sequence number + 1.
    assert found[2].group(1) == found[3].group(1)
    syn, synack = found[8], found[9]
    assert int(synack.group(2)) == (int(syn.group(1)) + 1) % 2**32
    # Every line has the documented shape; the kernel's own frames all decode, checksums right.
    for ln in lines:
        assert re.match(r"(in|out) ([0-9a-f]{2}:){5}[0-9a-f]{2} > ([0-9a-f]{2}:){5}[0-9a-f]{2} \S", ln), ln
    bad = [ln for ln in lines if "[bad cksum]" in ln or "malformed" in ln]
    assert len(bad) == 2, bad  # exactly the two injected frames


@pytest.mark.parametrize("args,message", [
    ([], "missing argument IFNAME"),
    (["--count", "0", "lo"], "--count '0'"),
    (["--bogus", "lo"], "unknown option '--bogus'"),
    (["lo", "extra"], "unexpected argument 'extra'"),
])
def test_tcpdump_bad_usage_exits_2(args: list[str], message: str) -> None:
    """Usage errors are named on standard error with exit status 2."""
    r = subprocess.run([str(example("tern-tcpdump")), *args], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and message in r.stderr


def test_tcpdump_unknown_interface_is_named() -> None:
    r = subprocess.run([str(example("tern-tcpdump")), "no-such-if0"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "IFNAME 'no-such-if0'" in r.stderr


def test_tcpdump_count_stops_after_n_frames(veth: tuple[NetNamespace, NetNamespace]) -> None:
    """--count 2 exits 0 by itself after the ARP request and reply of one ping."""
    a, _ = veth
    dump = a.popen([str(example("tern-tcpdump")), "--count", "2", "va"], text=True)
    assert "listening on va" in dump.stderr.readline()
    a.run(["ping", "-c", "1", IP_B], timeout=10)
    out, _ = dump.communicate(timeout=10)
    assert dump.returncode == 0
    assert out.splitlines() == [
        f"out {MAC_A} > ff:ff:ff:ff:ff:ff ARP request who-has {IP_B} tell {IP_A}",
        f"in {MAC_B} > {MAC_A} ARP reply {IP_B} is-at {MAC_B}",
    ]
