"""What a Linux sender takes on the TAP link of the interop loss test (issue 22): kernel -> curl, 10 MiB.

scenarios/interop/test_interop_loss.py moves 10 MiB from tern-httpd to curl over the example's link: a simulated
link between the example's TAP device and the Tern host, dropping (or corrupting one bit of) 15 % of the frames in
each direction (examples/common.c: sim_link_set_loss_bernoulli / sim_link_set_corrupt, both directions, seed 22).
This puts the kernel on BOTH ends of the same kind of link: two TAP devices, each in a namespace of its own,
joined by a simulated link with the same fault and seed; python's http.server serves the same 10 MiB in one
namespace (the kernel's TCP sends, with the namespace's defaults but for the congestion control, ``--cc``)
and curl downloads it in the other, checked byte for byte. It prints, per fault and run:

  BENCH tap_loss_linux_sender_<fault> <seconds> s (curl's wall time, as the interop test measures it)

so that the test's 30 s goal can be set against what a Linux sender achieves with the same (kernel) receiver.
It lives in bench/manual/, outside `make bench`: with CUBIC one run takes up to five minutes.
Real time: the figure depends on the machine's load (it prints the load average); a machine without the
privileges for TAP devices and namespaces prints why and exits 0.

usage: python bench/manual/bench_tap_loss_linux_sender.py [--faults drop,corrupt] [--runs N] [--cc cubic] [--limit S]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # bench/manual/ -> the repository
sys.path.insert(0, str(ROOT))

from pyharness.bridge import RealtimeNetwork  # noqa: E402
from pyharness.netns import NetNamespace, unavailable  # noqa: E402

SIZE = 10 * 1024 * 1024
SERVER_IP, CLIENT_IP, PORT = "192.168.69.1", "192.168.69.100", 8080  # the interop test's addresses


# http.server's file handler, with the sender's congestion control set on each connection (TCP_CONGESTION: a
# namespace inherits the machine's default, which may be bbr, and root may not change a namespace's default to a
# congestion control outside tcp_allowed_congestion_control, but may set it on a socket).
SERVER_SCRIPT = r"""
import functools, http.server, socket, sys
ip, port, root, cc = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
class H(http.server.SimpleHTTPRequestHandler):
    def setup(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
        super().setup()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer((ip, port), functools.partial(H, directory=root)).serve_forever()
"""


def one_run(fault: str, seed: int, root: Path, body_sha: str, limit_s: float, cc: str) -> tuple[float, bool]:
    """One download; returns (curl's wall time in s, whether it completed byte-exact)."""
    net = RealtimeNetwork(seed=seed)
    with contextlib.ExitStack() as stack:
        srv_ns = stack.enter_context(NetNamespace())
        cli_ns = stack.enter_context(NetNamespace())
        srv_tap, cli_tap = net.tap("server"), net.tap("client")
        srv_ns.take(srv_tap.ifname, f"{SERVER_IP}/24")
        cli_ns.take(cli_tap.ifname, f"{CLIENT_IP}/24")
        stack.callback(net.close)  # before the namespaces go
        net.link(srv_tap, cli_tap, **{"loss" if fault == "drop" else "corrupt": 0.15})
        srv = srv_ns.popen([sys.executable, "-c", SERVER_SCRIPT, SERVER_IP, str(PORT), str(root), cc], text=True)
        out = root.parent / "got"
        with contextlib.suppress(FileNotFoundError):
            out.unlink()
        # let the server bind before curl's SYN (its SYN retries would count otherwise)
        net.run_realtime(for_="0.3s")
        assert srv.poll() is None, "http.server did not start"
        t0 = time.monotonic()
        curl = cli_ns.popen(["curl", "-sS", "--fail", "--connect-timeout", "60", "--max-time", str(limit_s),
                             "-o", str(out), f"http://{SERVER_IP}:{PORT}/blob.bin"])
        net.run_realtime(until=lambda: curl.poll() is not None, slice="1ms")
        took = time.monotonic() - t0
        ok = curl.returncode == 0 and out.exists() and hashlib.sha256(out.read_bytes()).hexdigest() == body_sha
        return took, ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faults", default="drop,corrupt", help="comma-separated subset of drop,corrupt")
    ap.add_argument("--runs", type=int, default=2, help="runs per fault (seeds 22, 23, ...; default 2)")
    ap.add_argument("--cc", default="cubic", help="the kernel sender's congestion control (default cubic, as "
                    "the Tern sender; the machine's default may be bbr, which keeps its rate under random loss)")
    ap.add_argument("--limit", type=float, default=300.0, help="curl's --max-time (default 300 s, as the test)")
    args = ap.parse_args()
    reason = unavailable(("curl",))
    if reason:
        print(f"bench_tap_loss_linux_sender: skipped: {reason}")
        return 0
    faults = [f for f in args.faults.split(",") if f]
    if any(f not in ("drop", "corrupt") for f in faults) or args.runs < 1:
        print(f"bench_tap_loss_linux_sender: bad arguments: faults {faults}, runs {args.runs}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "www"
        root.mkdir()
        body = random.Random(22).randbytes(SIZE)
        (root / "blob.bin").write_bytes(body)
        sha = hashlib.sha256(body).hexdigest()
        for fault in faults:
            for seed in range(22, 22 + args.runs):
                took, ok = one_run(fault, seed, root, sha, args.limit, args.cc)
                print(f"BENCH tap_loss_linux_sender_{fault} {took:.1f} s ({args.cc}, seed {seed}, "
                      f"{'complete, byte-exact' if ok else 'FAILED'}; load average "
                      f"{' '.join(f'{x:.2f}' for x in os.getloadavg())})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
