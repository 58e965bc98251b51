"""The seL4 virtio-net ping demo with a real Linux guest (``make demo-virtio``).

QEMU (TCG) boots a Debian kernel with a busybox initramfs (built and cached by
``tools/virtio-guest/build-guest.sh``); the guest's ``eth0`` is ``virtio-net-pci``
on Tern's vhost-user back-end; the guest runs ``ping -c N 192.168.1.2`` and Tern's
native ping responder answers across a simulated link, in real time::

    python -m pyharness.virtio_demo --out out/demo-virtio

:func:`unavailable` says why the demo cannot run here (no QEMU, no kernel
package), so a test can skip with the reason.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
BUILD_GUEST = ROOT / "tools" / "virtio-guest" / "build-guest.sh"
GUEST_IP, RESPONDER_IP, SERVER_IP = "192.168.1.1", "192.168.1.2", "192.168.1.3"
SERVER_PORT = 8080
#: What the Tern host serves over TCP to the guest (HTTP/1.0 through busybox nc).
SERVED = b"".join(b"line %04d: served by a Tern host over TCP through vhost-user\n" % i for i in range(200))
GUEST_MAC = "52:54:00:12:34:56"


def cache_dir() -> Path:
    """Where the guest kernel and initramfs are kept ($TERN_CACHE/virtio-guest, default ~/.cache/tern)."""
    base = os.environ.get("TERN_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "tern")
    return Path(base) / "virtio-guest"


def qemu_binary() -> Optional[str]:
    """The qemu-system-x86_64 to use, or None."""
    return shutil.which("qemu-system-x86_64")


def unavailable() -> Optional[str]:
    """Why the demo cannot run on this machine, or None when it can."""
    if qemu_binary() is None:
        return "qemu-system-x86_64 is not installed (as root: apt-get install qemu-system-x86)"
    if not (cache_dir() / "initramfs.cpio.gz").exists():
        if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
            return "no guest image cached and no apt-get/dpkg-deb to build one"
        busybox = shutil.which("busybox") or "/bin/busybox"
        if not os.path.exists(busybox):
            return "no static busybox (apt-get install busybox-static) to build the guest's initramfs"
    return None


def build_guest() -> Path:
    """Build (or reuse) the guest image; returns its folder. The initramfs is rebuilt when its inputs changed."""
    out = cache_dir()
    initrd = out / "initramfs.cpio.gz"
    inputs = [BUILD_GUEST.parent / n for n in ("init.sh", "mkinitramfs.py", "build-guest.sh")]
    stale = initrd.exists() and any(p.stat().st_mtime > initrd.stat().st_mtime for p in inputs)
    if not initrd.exists() or not (out / "vmlinuz").exists() or stale:
        subprocess.run(["sh", str(BUILD_GUEST), str(out)], check=True, stdout=subprocess.DEVNULL)
    return out


@dataclass
class DemoResult:
    """What happened: the guest's console, the responder's transcript and records, the back-end's stats."""

    console: str
    transcript: str
    records: list = field(default_factory=list)
    stats: object = None
    events: list = field(default_factory=list)
    pcap: Optional[Path] = None
    qemu_rc: Optional[int] = None
    wall_s: float = 0.0

    served: int = 0

    @property
    def host_ping_ok(self) -> bool:
        """The guest's ping of the Tern host exited 0."""
        return "TERN-GUEST-HOST-PING-RC 0" in self.console

    @property
    def fetched(self) -> Optional[bytes]:
        """The body of the HTTP response the guest printed between the markers, or None if it failed."""
        if "TERN-GUEST-FETCH-END 0" not in self.console:
            return None
        reply = self.console.split("TERN-GUEST-FETCH-BEGIN", 1)[1].split("TERN-GUEST-FETCH-END", 1)[0]
        # the serial console turns each "\n" into "\r\n": HTTP's "\r\n" arrives as "\r\r\n"
        reply = reply.replace("\r", "").lstrip("\n")
        if not reply.startswith("HTTP/1.0 200") or "\n\n" not in reply:
            return None
        return reply.split("\n\n", 1)[1].rstrip("\n").encode() + b"\n"

    @property
    def ping_ok(self) -> bool:
        """The guest's ping exited 0 (every request answered)."""
        return "TERN-GUEST-PING-RC 0" in self.console


def qemu_command(guest: Path, sock: str, count: int, mem_mb: int = 256, with_host: bool = False) -> list[str]:
    """The QEMU command line: TCG, shared memfd memory, virtio-net-pci on the vhost-user socket."""
    extra = f" tern.host={SERVER_IP} tern.port={SERVER_PORT} tern.url=/hello.txt" if with_host else ""
    kernel = guest / "vmlinux" if (guest / "vmlinux").exists() else guest / "vmlinuz"
    return [
        qemu_binary() or "qemu-system-x86_64", "-accel", "tcg", "-m", f"{mem_mb}M", "-smp", "1",
        "-object", f"memory-backend-memfd,id=mem,size={mem_mb}M,share=on", "-machine", "q35,memory-backend=mem",
        "-kernel", str(kernel), "-initrd", str(guest / "initramfs.cpio.gz"),
        "-append", ("console=ttyS0 " + os.environ.get("TERN_GUEST_KARGS", "quiet loglevel=3") +
                    f" panic=-1 tern.ip={GUEST_IP}/24 tern.peer={RESPONDER_IP} tern.count={count}" + extra),
        "-chardev", f"socket,id=chr0,path={sock}",
        "-netdev", "vhost-user,id=net0,chardev=chr0",
        "-device", f"virtio-net-pci,netdev=net0,mac={GUEST_MAC},mrg_rxbuf=on,vectors=0",
        "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
    ]


class FileServer:
    """A one-file HTTP/1.0 server on a Tern host's TCP socket, served from the real-time loop."""

    def __init__(self, host, port: int, body: bytes):
        self.listener = host.tcp_listen(port)
        self.body = body
        self.conns: list = []
        self.served = 0

    def step(self) -> None:
        """Accept, read a request to its blank line, send the response, close."""
        while (c := self.listener.accept()) is not None:
            self.conns.append([c, b"", False])
        for entry in self.conns:
            c, req, done = entry
            if done:
                continue
            data = c.recv()
            if data:
                entry[1] = req = req + data
            if b"\r\n\r\n" in req:
                c.send(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(self.body)
                       + self.body)
                c.close()
                entry[2] = True
                self.served += 1


def run_demo(out_dir: Path, count: int = 5, delay: str = "1ms", timeout: float = 120.0,
             with_host: bool = False) -> DemoResult:
    """Boot the guest on Tern's vhost-user back-end and let it ping the responder ``count`` times.

    With ``with_host``, a switch joins the back-end, the responder and a Tern host (192.168.1.3) that
    serves :data:`SERVED` over TCP (port 8080): the guest pings it and fetches the file (HTTP/1.0 over nc).
    """
    import time

    from .bridge import RealtimeNetwork
    from .virtio import add_vhost_user

    guest = build_guest()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="tern-vhost-")
    sock = os.path.join(tmp, "vhost.sock")
    net = RealtimeNetwork(seed=1, artifacts=out_dir)
    try:
        vh = add_vhost_user(net, "vhost0", sock)
        responder = net.ping_responder("pingclient", ipv4=RESPONDER_IP)
        server = None
        if with_host:
            sw = net.switch("switch", ports=3)
            link = net.link(vh, sw, delay=delay)
            net.link(sw, responder)
            host = net.host("server", ipv4=f"{SERVER_IP}/24")
            net.link(sw, host)
            server = FileServer(host, SERVER_PORT, SERVED)
        else:
            link = net.link(vh, responder, delay=delay)
        pcap = link.capture(out_dir / "demo-virtio.pcap")
        console: list[str] = []
        t0 = time.monotonic()
        wrapper = os.environ.get("TERN_QEMU_WRAPPER", "").split()  # e.g. "gdb -batch -ex run -ex bt --args"
        proc = subprocess.Popen(wrapper + qemu_command(guest, sock, count, with_host=with_host), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

        def reader() -> None:
            assert proc.stdout is not None
            for raw in proc.stdout:
                console.append(raw.decode(errors="replace"))

        th = threading.Thread(target=reader, daemon=True)
        th.start()
        try:
            def done() -> bool:
                if server is not None:
                    server.step()
                return proc.poll() is not None

            net.run_realtime(until=done, for_=f"{timeout}s", slice="5ms")
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            th.join(5)
        net.flush_captures()
        res = DemoResult("".join(console), responder.transcript(), responder.records(), vh.stats(), vh.events(),
                         Path(pcap), proc.returncode, time.monotonic() - t0, server.served if server else 0)
        (out_dir / "guest-console.txt").write_text(res.console)
        (out_dir / "responder-transcript.txt").write_text(res.transcript)
        return res
    finally:
        net.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="out/demo-virtio")
    ap.add_argument("--count", type=int, default=5)
    ap.add_argument("--delay", default="1ms")
    ap.add_argument("--with-host", action="store_true", help="also ping a Tern host and fetch a file from it over TCP")
    a = ap.parse_args(argv)
    why = unavailable()
    if why:
        print(f"demo-virtio: cannot run: {why}", file=sys.stderr)
        return 2
    res = run_demo(Path(a.out), count=a.count, delay=a.delay, with_host=a.with_host)
    print(res.console)
    print("---- Tern ping responder ----")
    print(res.transcript)
    print(f"vhost-user: {res.stats}")
    print(f"boot to poweroff: {res.wall_s:.1f} s; capture: {res.pcap}")
    ok = res.ping_ok and len(res.records) == a.count
    if a.with_host:
        ok = ok and res.host_ping_ok and res.fetched == SERVED
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
