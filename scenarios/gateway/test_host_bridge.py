"""The gateway's host bridge: the real host as the outside, in real time, journalled and replayed.

Each test makes its own network namespace; every host socket of the bridge
lives there (``netns=``), the host servers (``python3 -m http.server``, a UDP
echo server, curl) bind 127.0.0.1 inside it, and nothing leaves it. The
namespace's ``net.ipv4.ping_group_range`` is opened for the test's process so
ICMP echo can use unprivileged ping sockets. The guest is a Tern host with
``dhcp=True`` behind a slirp-profile gateway; the bridge's address
(198.51.100.1, the gateway's default router) stands for the host's 127.0.0.1.

Wall-clock waits are generous (a loaded machine only slows the run); exact
comparisons are made on the replay, which runs in virtual time from the
journal with the host servers stopped: its pcaps must equal the live run's
byte for byte.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

from pyharness import hostbridge
from pyharness.bridge import RealtimeNetwork
from pyharness.errors import ConfigError, StateError, TernIOError
from pyharness.netns import NetNamespace, unavailable
from pyharness.plugin import failure_artifacts

pytestmark = [pytest.mark.area("gateway"), pytest.mark.dut("tern")]

HTTP_PORT = 8080
ECHO_PORT = 7007
CLOSED_PORT = 9  # nothing listens there in a fresh namespace
GUEST_HTTP = 80
GUEST_UDP = 5000
WAIT = "30s"  # wall time: generous, the other core may be busy

ECHO_SERVER = """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", %d))
while True:
    d, a = s.recvfrom(65536)
    s.sendto(b"echo:" + d, a)
""" % ECHO_PORT

UDP_CLIENT = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(60)
s.sendto(b"ping-from-host", ("127.0.0.1", int(sys.argv[1])))
print(s.recvfrom(100)[0].decode())
"""


def _file_bytes(seed: int) -> bytes:
    return random.Random(seed).randbytes(150_000)


@dataclass
class HostSide:
    """The test's namespace and its servers (None on a replay: no host at all)."""

    ns: Optional[NetNamespace]
    www: Path
    data: bytes
    procs: list = field(default_factory=list)

    @property
    def netns(self) -> Optional[str]:
        return f"/run/netns/{self.ns.name}" if self.ns else None

    def stop_servers(self) -> None:
        """Stop the host servers (the replay must not need them)."""
        for p in self.procs:
            p.kill()
            p.wait(timeout=10)
        self.procs.clear()


def _wait_port(ns: NetNamespace, proto: str, port: int) -> None:
    flag = "-tln" if proto == "tcp" else "-uln"
    for _ in range(200):
        if f"127.0.0.1:{port}" in ns.run(["ss", "-H", flag]).stdout:
            return
        time.sleep(0.05)
    raise AssertionError(f"{proto} server on 127.0.0.1:{port} did not start")


@pytest.fixture
def hostside(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HostSide]:
    """A namespace with ping sockets allowed, an HTTP server and a UDP echo server on 127.0.0.1."""
    data = _file_bytes(7)
    www = tmp_path / "www"
    www.mkdir()
    (www / "file.bin").write_bytes(data)
    if hostbridge.REPLAY_JOURNAL is not None:
        yield HostSide(None, www, data)
        return
    reason = unavailable(("ss", "sysctl", "curl"))
    if reason:
        pytest.skip(reason)
    with NetNamespace() as ns:
        ns.run(["sysctl", "-w", "net.ipv4.ping_group_range=0 2147483647"], check=True)
        side = HostSide(ns, www, data)
        side.procs.append(ns.popen([sys.executable, "-m", "http.server", str(HTTP_PORT), "--bind", "127.0.0.1",
                                    "--directory", str(www)]))
        side.procs.append(ns.popen([sys.executable, "-c", ECHO_SERVER]))
        _wait_port(ns, "tcp", HTTP_PORT)
        _wait_port(ns, "udp", ECHO_PORT)
        yield side


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Iterator[tuple[Path, int]]:
    with failure_artifacts(request) as (adir, seed):
        yield adir, seed


def build(adir: Path, seed: int, netns: Optional[str], replay: Optional[Path] = None) -> tuple[Any, Any, Any, Any]:
    """The network: a slirp gateway, its host bridge (before any run), a DHCP guest; every link captured."""
    net = RealtimeNetwork(seed=seed, artifacts=adir)
    gw = net.gateway("gw", profile="slirp", outside_router="198.51.100.1")
    hb = net.host_bridge(gw, netns=netns, replay=replay)
    guest = net.host("guest", dhcp=True)
    net.link(gw, guest, port_a=gw.inside_port)
    net.capture()
    assert net.run_realtime(for_=WAIT, until=lambda: guest.dhcp_lease().state == "BOUND")
    return net, gw, hb, guest


def drain(sock: Any, buf: bytearray) -> None:
    while True:
        d = sock.recv()
        if not d:
            return
        buf.extend(d)


def fetch(net: Any, hb: Any, guest: Any, path: str) -> bytes:
    """The guest fetches ``path`` over HTTP/1.0 from the host's 127.0.0.1:HTTP_PORT; returns the body."""
    c = guest.tcp_connect(hb.ip, HTTP_PORT)
    assert net.run_realtime(for_=WAIT, until=lambda: c.state != "SYN_SENT"), c.state
    assert c.state == "ESTABLISHED", c.info()
    c.send(f"GET {path} HTTP/1.0\r\nHost: host\r\n\r\n".encode())
    buf = bytearray()

    def done() -> bool:
        drain(c, buf)
        return c.state in ("CLOSE_WAIT", "CLOSED")

    assert net.run_realtime(for_=WAIT, until=done), (c.state, len(buf))
    c.close()
    head, _, body = bytes(buf).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200"), head
    return body


def scenario(net: Any, gw: Any, hb: Any, guest: Any, side: HostSide, live: bool) -> dict[str, Any]:
    """Everything the bridge does, in one run: the same calls live and on replay (host-side steps live only)."""
    out: dict[str, Any] = {}
    # TCP out: a file from python3 -m http.server on the host's 127.0.0.1
    out["sha256"] = hashlib.sha256(fetch(net, hb, guest, "/file.bin")).hexdigest()
    # UDP out and back: the echo server
    u = guest.udp_socket(40000)
    u.sendto(b"hello", (hb.ip, ECHO_PORT))
    got: list = []
    assert net.run_realtime(for_=WAIT, until=lambda: bool(got.append(u.recvfrom()) or got[-1])), "no UDP echo"
    out["udp"] = got[-1]
    # ICMP echo through a ping socket
    ping = guest.ping_socket(ident=77)
    ping.send(hb.ip, seq=5, payload=b"tern-ping")
    rep: list = []
    assert net.run_realtime(for_=WAIT, until=lambda: bool(rep.append(ping.recv()) or rep[-1])), "no echo reply"
    out["ping"] = rep[-1]
    # a refused connection
    r = guest.tcp_connect(hb.ip, CLOSED_PORT)
    assert net.run_realtime(for_=WAIT, until=lambda: r.state == "CLOSED")
    out["refused"] = r.info().error
    # inbound TCP: curl on the host -> host port (0: any) -> the guest's server
    lst = guest.tcp_listen(GUEST_HTTP)
    port = hb.forward("tcp", host_port=0, guest=guest.dhcp_lease().address, port=GUEST_HTTP)
    out["tcp_port"] = port
    curl = None
    if live:
        curl = side.ns.popen(["curl", "-s", "--max-time", "60", f"http://127.0.0.1:{port}/hello"], text=True)
    st: dict[str, Any] = {"buf": bytearray()}

    def served() -> bool:
        if "c" not in st:
            a = lst.accept()
            if a is None:
                return False
            st["c"] = a
        c = st["c"]
        if "sent" not in st:
            drain(c, st["buf"])
        if b"\r\n\r\n" in st["buf"] and "sent" not in st:
            body = b"hello from the guest\n"
            c.send(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            c.shutdown("wr")
            st["sent"] = True
        return "sent" in st and c.state in ("TIME_WAIT", "CLOSED")

    assert net.run_realtime(for_=WAIT, until=served), st
    st["c"].close()
    out["request"] = bytes(st["buf"]).split(b"\r\n")[0]
    if curl is not None:
        text, _ = curl.communicate(timeout=60)
        out["curl"] = text
    # inbound UDP: a host client -> host port -> the guest, and the guest's answer back
    g = guest.udp_socket(GUEST_UDP)
    uport = hb.forward("udp", host_port=0, guest=guest.dhcp_lease().address, port=GUEST_UDP)
    client = None
    if live:
        client = side.ns.popen([sys.executable, "-c", UDP_CLIENT, str(uport)], text=True)
    seen: list = []
    assert net.run_realtime(for_=WAIT, until=lambda: bool(seen.append(g.recvfrom()) or seen[-1]))
    data, src = seen[-1]
    g.sendto(b"pong-from-guest", src)
    net.run_realtime(for_="200ms")
    out["udp_in"] = (data, src[0])
    if client is not None:
        text, _ = client.communicate(timeout=60)
        out["udp_client"] = text.strip()
    return out


def check(out: dict[str, Any], side: HostSide, hb: Any, live: bool) -> None:
    assert out["sha256"] == hashlib.sha256(side.data).hexdigest()
    assert out["udp"] == (b"echo:hello", (hb.ip, ECHO_PORT))
    assert (out["ping"].src, out["ping"].seq, out["ping"].payload) == (hb.ip, 5, b"tern-ping")
    assert out["refused"] == "CONN_REFUSED"
    assert out["tcp_port"] > 0
    assert out["request"] == b"GET /hello HTTP/1.1"
    assert out["udp_in"] == (b"ping-from-host", hb.ip)
    if live:
        assert out["curl"] == "hello from the guest\n"
        assert out["udp_client"] == "pong-from-guest"


def test_host_bridge_live_then_replay(hostside: HostSide, artifacts: tuple[Path, int]) -> None:
    """A guest reaches the real host (TCP, UDP, ICMP, refusal, inbound TCP and UDP forwards); the journal replays it
    with the host servers stopped, and the replay's pcaps equal the live run's byte for byte."""
    adir, seed = artifacts
    if hostbridge.REPLAY_JOURNAL is not None:
        net, gw, hb, guest = build(adir, seed, None)
        assert hb.replaying
        check(scenario(net, gw, hb, guest, hostside, live=False), hostside, hb, live=False)
        net.close()
        recorded = hostbridge.REPLAY_JOURNAL.parent
        for name in ("gw-guest.pcap", "gw-host.pcap"):  # the recorded run's pcaps, beside its journal
            if (recorded / name).exists():
                assert (adir / name).read_bytes() == (recorded / name).read_bytes(), name
        return
    net, gw, hb, guest = build(adir / "live", seed, hostside.netns)
    out = scenario(net, gw, hb, guest, hostside, live=True)
    check(out, hostside, hb, live=True)
    c = hb.counters()
    assert (c["tcp_connects"], c["tcp_refused"], c["tcp_accepted"]) == (2, 1, 1)
    assert c["bytes_to_guest"] > len(hostside.data)
    # what the host took: the guest's GET, and its answer to curl
    assert c["bytes_to_host"] == len(b"GET /file.bin HTTP/1.0\r\nHost: host\r\n\r\n") + len(
        b"HTTP/1.0 200 OK\r\nContent-Length: 21\r\n\r\nhello from the guest\n")
    journal = hb.journal_path
    net.close()
    hostside.stop_servers()
    # RFC 9293 3.6: the guest's FIN (it closed second, from CLOSE-WAIT) is acknowledged from the address
    # and port it talked with (the flow's rewriting outlives the host side), so it leaves LAST-ACK
    from scapy.all import TCP, rdpcap

    segs = [p for p in rdpcap(str(adir / "live" / "gw-guest.pcap")) if p.haslayer(TCP)]
    fins = [p[TCP] for p in segs if p[TCP].dport == HTTP_PORT and "F" in str(p[TCP].flags)]
    assert fins, "the guest closed the fetch"
    fin = fins[0]
    assert any(p[TCP].sport == HTTP_PORT and p[TCP].dport == fin.sport and p[TCP].ack == fin.seq + 1
               for p in segs), "the guest's FIN is acknowledged from 198.51.100.1:8080"

    net, gw, hb, guest = build(adir / "replay", seed, hostside.netns, replay=journal)
    assert hb.replaying
    check(scenario(net, gw, hb, guest, hostside, live=False), hostside, hb, live=False)
    assert hb.counters()["events"] == c["events"]
    net.close()
    live_pcaps = sorted(p.name for p in (adir / "live").glob("*.pcap"))
    assert live_pcaps == ["gw-guest.pcap", "gw-host.pcap"]
    for name in live_pcaps:
        assert (adir / "replay" / name).read_bytes() == (adir / "live" / name).read_bytes(), name


def test_replay_needs_the_recorded_run(hostside: HostSide, artifacts: tuple[Path, int]) -> None:
    """A replay that asks for something else than the journal recorded fails naming the record (not silently)."""
    if hostbridge.REPLAY_JOURNAL is not None:
        pytest.skip("records its own journal")
    adir, seed = artifacts
    net, gw, hb, guest = build(adir / "live", seed, hostside.netns)
    body = fetch(net, hb, guest, "/file.bin")
    assert body == hostside.data  # positive control: the recorded run itself worked
    journal = hb.journal_path
    net.close()
    net, gw, hb, guest = build(adir / "replay", seed, hostside.netns, replay=journal)
    # the recorded run fetched; this one pings instead: the journal cannot feed it
    ping = guest.ping_socket(ident=1)
    ping.send(hb.ip, seq=1)
    with pytest.raises(StateError, match="journal"):
        for _ in range(1000):
            net.run_realtime(for_="1s", until=lambda: ping.recv() is not None)
    net.close()


def test_ping_group_range_checked_at_start(artifacts: tuple[Path, int]) -> None:
    """ICMP echo needs ping sockets: where net.ipv4.ping_group_range excludes the process's group the bridge
    refuses to start and names the sysctl; once the range includes it, the same bridge starts (control)."""
    if hostbridge.REPLAY_JOURNAL is not None:
        pytest.skip("checks the live start")
    reason = unavailable(("sysctl",))
    if reason:
        pytest.skip(reason)
    adir, seed = artifacts
    with NetNamespace() as ns:
        ns.run(["sysctl", "-w", "net.ipv4.ping_group_range=1 0"], check=True)
        net = RealtimeNetwork(seed=seed, artifacts=adir)
        gw = net.gateway("gw", profile="slirp", outside_router="198.51.100.1")
        with pytest.raises(TernIOError, match=r"net\.ipv4\.ping_group_range \(\"1 0\"") as e:
            net.host_bridge(gw, netns=f"/run/netns/{ns.name}")
        assert "sysctl -w net.ipv4.ping_group_range" in str(e.value)
        net.close()
        ns.run(["sysctl", "-w", "net.ipv4.ping_group_range=0 2147483647"], check=True)
        net = RealtimeNetwork(seed=seed, artifacts=adir)
        gw = net.gateway("gw", profile="slirp", outside_router="198.51.100.1")
        hb = net.host_bridge(gw, netns=f"/run/netns/{ns.name}")
        assert not hb.replaying
        net.close()


RESET_SERVER = """
import socket, struct, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", %d))
s.listen(4)
print("ready", flush=True)
a, _ = s.accept()                      # 1: the host resets the connection it accepted
a.recv(100)
a.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
a.close()
b, _ = s.accept()                      # 2: the guest resets; the host sees ECONNRESET
b.settimeout(60)
try:
    while b.recv(100):
        pass
    print("eof", flush=True)
except ConnectionResetError:
    print("reset", flush=True)
c, _ = s.accept()                      # 3: the guest closes first, then the host
while c.recv(100):
    pass
c.close()
print("closed", flush=True)
"""
RESET_PORT = 8181


def test_resets_both_ways(artifacts: tuple[Path, int], tmp_path: Path) -> None:
    """A host reset reaches the guest as a RST (its connection ends CONN_RESET); a guest's RST resets the host's
    socket (the host sees ECONNRESET, not an orderly end)."""
    if hostbridge.REPLAY_JOURNAL is not None:
        pytest.skip("needs the host")
    reason = unavailable(("ss", "sysctl"))
    if reason:
        pytest.skip(reason)
    adir, seed = artifacts
    with NetNamespace() as ns:
        ns.run(["sysctl", "-w", "net.ipv4.ping_group_range=0 2147483647"], check=True)
        srv = ns.popen([sys.executable, "-c", RESET_SERVER % RESET_PORT], text=True)
        _wait_port(ns, "tcp", RESET_PORT)
        net, gw, hb, guest = build(adir, seed, f"/run/netns/{ns.name}")
        c = guest.tcp_connect(hb.ip, RESET_PORT)
        assert net.run_realtime(for_=WAIT, until=lambda: c.state == "ESTABLISHED")
        c.send(b"x")
        assert net.run_realtime(for_=WAIT, until=lambda: c.state == "CLOSED"), c.state
        assert c.info().error == "CONN_RESET"
        assert hb.counters()["tcp_resets"] == 1
        first = c.info().local_port
        net.flush_captures()
        from scapy.all import TCP, rdpcap
        segs = [p[TCP] for p in rdpcap(str(adir / "gw-guest.pcap"))
                if p.haslayer(TCP) and p[TCP].sport == RESET_PORT and p[TCP].dport == first]
        assert segs and "R" in str(segs[-1].flags), "the host's reset reaches the guest as a RST"
        assert not any("F" in str(s.flags) for s in segs), "no FIN before it: an abort, not a close"
        d = guest.tcp_connect(hb.ip, RESET_PORT)
        assert net.run_realtime(for_=WAIT, until=lambda: d.state == "ESTABLISHED")
        d.send(b"y")
        net.run_realtime(for_="100ms")
        d.abort()
        # the guest closes first; the host's FIN comes back from the port the guest used: TIME-WAIT
        e = guest.tcp_connect(hb.ip, RESET_PORT)
        assert net.run_realtime(for_=WAIT, until=lambda: e.state == "ESTABLISHED")
        e.send(b"bye")
        e.shutdown("wr")
        assert net.run_realtime(for_=WAIT, until=lambda: e.state == "TIME_WAIT"), e.state
        assert net.run_realtime(for_=WAIT, until=lambda: srv.poll() is not None)
        assert srv.stdout.read().split() == ["ready", "reset", "closed"]
        net.close()


UDP_RANGE_CLIENT = """
import socket, sys
for port in sys.argv[1:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"to-" + port.encode(), ("127.0.0.1", int(port)))
"""


def test_udp_forward_range(artifacts: tuple[Path, int]) -> None:
    """A range of host UDP ports forwarded to a range of guest ports: each host port reaches its guest port;
    ranges of different lengths are refused with both named."""
    if hostbridge.REPLAY_JOURNAL is not None:
        pytest.skip("needs the host")
    reason = unavailable(("sysctl",))
    if reason:
        pytest.skip(reason)
    adir, seed = artifacts
    with NetNamespace() as ns:
        ns.run(["sysctl", "-w", "net.ipv4.ping_group_range=0 2147483647"], check=True)
        net, gw, hb, guest = build(adir, seed, f"/run/netns/{ns.name}")
        me = guest.dhcp_lease().address
        with pytest.raises(ConfigError, match=r"host_ports \(41001, 41002\) and ports \(6001, 6003\) differ"):
            hb.forward_range("udp", (41001, 41002), me, (6001, 6003))
        socks = [guest.udp_socket(6001), guest.udp_socket(6002)]
        bound = hb.forward_range("udp", (41001, 41002), me, (6001, 6002))
        assert bound == [41001, 41002]
        ns.run([sys.executable, "-c", UDP_RANGE_CLIENT, "41001", "41002"], check=True)
        got: dict[int, bytes] = {}

        def both() -> bool:
            for i, u in enumerate(socks):
                d = u.recvfrom()
                if d:
                    got[6001 + i] = d[0]
            return len(got) == 2

        assert net.run_realtime(for_=WAIT, until=both), got
        assert got == {6001: b"to-41001", 6002: b"to-41002"}
        net.close()
