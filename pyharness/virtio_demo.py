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
GUEST_IP, RESPONDER_IP = "192.168.1.1", "192.168.1.2"
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
    """Build (or reuse) the guest image; returns its folder."""
    out = cache_dir()
    if not (out / "initramfs.cpio.gz").exists() or not (out / "vmlinuz").exists():
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

    @property
    def ping_ok(self) -> bool:
        """The guest's ping exited 0 (every request answered)."""
        return "TERN-GUEST-PING-RC 0" in self.console


def qemu_command(guest: Path, sock: str, count: int, mem_mb: int = 256) -> list[str]:
    """The QEMU command line: TCG, shared memfd memory, virtio-net-pci on the vhost-user socket."""
    kernel = guest / "vmlinux" if (guest / "vmlinux").exists() else guest / "vmlinuz"
    return [
        qemu_binary() or "qemu-system-x86_64", "-accel", "tcg", "-m", f"{mem_mb}M", "-smp", "1",
        "-object", f"memory-backend-memfd,id=mem,size={mem_mb}M,share=on", "-machine", "q35,memory-backend=mem",
        "-kernel", str(kernel), "-initrd", str(guest / "initramfs.cpio.gz"),
        "-append", ("console=ttyS0 " + os.environ.get("TERN_GUEST_KARGS", "quiet loglevel=3") +
                    f" panic=-1 tern.ip={GUEST_IP}/24 tern.peer={RESPONDER_IP} tern.count={count}"),
        "-chardev", f"socket,id=chr0,path={sock}",
        "-netdev", "vhost-user,id=net0,chardev=chr0",
        "-device", f"virtio-net-pci,netdev=net0,mac={GUEST_MAC},mrg_rxbuf=on,vectors=0",
        "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
    ]


def run_demo(out_dir: Path, count: int = 5, delay: str = "1ms", timeout: float = 120.0) -> DemoResult:
    """Boot the guest on Tern's vhost-user back-end and let it ping the responder ``count`` times."""
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
        link = net.link(vh, responder, delay=delay)
        pcap = link.capture(out_dir / "demo-virtio.pcap")
        console: list[str] = []
        t0 = time.monotonic()
        wrapper = os.environ.get("TERN_QEMU_WRAPPER", "").split()  # e.g. "gdb -batch -ex run -ex bt --args"
        proc = subprocess.Popen(wrapper + qemu_command(guest, sock, count), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

        def reader() -> None:
            assert proc.stdout is not None
            for raw in proc.stdout:
                console.append(raw.decode(errors="replace"))

        th = threading.Thread(target=reader, daemon=True)
        th.start()
        try:
            net.run_realtime(until=lambda: proc.poll() is not None, for_=f"{timeout}s", slice="10ms")
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            th.join(5)
        net.flush_captures()
        res = DemoResult("".join(console), responder.transcript(), responder.records(), vh.stats(), vh.events(),
                         Path(pcap), proc.returncode, time.monotonic() - t0)
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
    a = ap.parse_args(argv)
    why = unavailable()
    if why:
        print(f"demo-virtio: cannot run: {why}", file=sys.stderr)
        return 2
    res = run_demo(Path(a.out), count=a.count, delay=a.delay)
    print(res.console)
    print("---- Tern ping responder ----")
    print(res.transcript)
    print(f"vhost-user: {res.stats}")
    print(f"boot to poweroff: {res.wall_s:.1f} s; capture: {res.pcap}")
    return 0 if res.ping_ok and len(res.records) == a.count else 1


if __name__ == "__main__":
    sys.exit(main())
