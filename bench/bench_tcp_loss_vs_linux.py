"""BENCH tcp_loss_vs_linux_<p>: Tern's and Linux's TCP senders on the same impaired link, side by side (issue 22).

The real-time bridge (pyharness.bridge) puts the Linux kernel of a network namespace of our own on a simulated
link through a TAP device: 100 Mbit/s, 10 ms each way (20 ms RTT), the loss of the setting in both directions,
the same settings as bench_tcp_loss.c (Bernoulli 0.5, 1, 2, 5, 10, 15 %, and netem's gemodel p 1 % r 30 %
1-h 50 % 1-k 0 % as "ge"). For each setting and seed, two transfers of ``--amount`` bytes over a fresh link,
each to the SAME kind of receiver (``--receiver``, default linux), so that the figures compare senders, not
receivers (they acknowledge differently: at 1 % loss, seed 1, a kernel receiver sent 877 ACKs for 1457 data
segments, a Tern receiver 1104 for 1451; fewer ACKs give a sender less ACK clock and later SACK information):

  tern   a Tern host sends (socket buffers as large as the kernel sender's can grow, tcp_wmem's maximum, or
         --tern-buffer-kib; the stack's defaults: SACK, timestamps, window scaling, RACK-TLP, F-RTO; CUBIC, as
         in bench_tcp_loss.c);
  linux  a kernel socket (python, in a namespace of its own) sends: the namespace's defaults (RACK-TLP, F-RTO,
         PRR), congestion control CUBIC, set with TCP_CONGESTION (a machine's default may be BBR, which keeps
         its rate under random loss and would compare congestion controls, not loss recovery);

and the receiver is, with ``--receiver linux``, a kernel socket in another namespace (TAP to TAP over the
simulated link; the kernel -> kernel transfer then never touches the stack), with ``--receiver tern`` a Tern
host with the same options as the sending one (Tern -> Tern then runs over the simulated link alone).

Both senders wait at least 200 ms for a retransmission timeout: the kernel's TCP_RTO_MIN, and the Tern host's
RTO.min set to the same (``--tern-rto-min-ms``, default 200; the stack's own default stays RFC 6298 (2.4)'s 1 s,
which the scenario timelines assume); the first BENCH line states both.

Both senders' applications write all ``--amount`` bytes and then shut down their sending side (the FIN goes
with the last, short segment; without it Nagle would hold that segment for an RTT or more, as it did for the Tern
sender before bbr6 in docs/bbr.md).

Goodput is amount * 8 / (the time from the receiver accepting the connection to the receiver holding the last
byte, on the wall clock: the simulation's real-time clock for a Tern receiver, the receiving process's
monotonic clock for a kernel receiver), the same measure for both senders. It prints, as medians over the seeds:

  BENCH tcp_loss_vs_linux_<p>_tern   Mbit/s
  BENCH tcp_loss_vs_linux_<p>_linux  Mbit/s
  BENCH tcp_loss_vs_linux_<p>        Tern's goodput / Linux's (the issue's goal: >= 1.0 up to 15 %)

and a run that does not finish within ``--limit`` seconds counts with the goodput of what it moved (and is
named on stderr). This runs in real time: the figures depend on the machine's load, and a machine without the
privileges for TAP devices and namespaces prints why and exits 0 (benchmarks never fail a run on a figure).

With ``--pcap DIR`` each run's link is captured at both ends, ``<setting>-<seed>-<sender>.pcap`` at the sender's
and ``<setting>-<seed>-<sender>-rx.pcap`` at the receiver's. An end's ``.events`` file names the fate of the frames
THAT end sent: a receiver's ACK the link dropped is named only in the ``-rx`` file's (the sender's capture just
lacks it; a 51 s stall at 15 %, seed 4, looked like ACKs lost in the bridge until both ends were read, see
"silence" in docs/tcp-loss-vs-linux.md).

With ``--pcap DIR`` and BENCH_BBR_TRACE=1 in the environment each run also writes the sender's state beside its
capture, ``<setting>-<seed>-<sender>.state``: for the Tern sender one line per 1 ms slice (time in ns, BBR mode,
BtlBw, pacing rate, round count, cwnd, in flight, SND.UNA and SND.NXT from the ISS, the peer's window, SACKed,
lost, fast recoveries, retransmissions, RTOs, SRTT), for the kernel sender `ss -tinHO` as often as ss runs,
each line behind the monotonic time it was taken (ss costs CPU: compare the kernel's figures without it).

usage: python bench/bench_tcp_loss_vs_linux.py [--receiver linux|tern] [--amount BYTES] [--seeds N] [--limit S]
       [--settings 0.5,1,...] [--first-seed K] [--senders tern,linux] [--pcap DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import statistics
import sys
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pyharness.bridge import RealtimeNetwork  # noqa: E402
from pyharness.impairments import GilbertElliott  # noqa: E402
from pyharness.netns import NetNamespace, unavailable  # noqa: E402

SETTINGS: dict[str, Any] = {
    "0.5": 0.005, "1": 0.01, "2": 0.02, "5": 0.05, "10": 0.10, "15": 0.15,
    "ge": GilbertElliott(0.01, 0.3, 0.5, 0.0),
}
TERN_IP, KERNEL_IP, PORT = "10.77.0.2", "10.77.0.1", 5001
# The kernel's minimum RTO (TCP_RTO_MIN, include/net/tcp.h: HZ / 5); the namespace's route sets no rto_min metric.
LINUX_RTO_MIN_MS = 200
VERBOSE = bool(os.environ.get("BENCH_VERBOSE"))  # link counters of every run on stderr

# The kernel's side, run with the namespace's python: "send HOST PORT N CC" or "recv PORT N" (prints "ready"
# once listening). Plain blocking sockets with the namespace's defaults, but for the sender's congestion control.
KERNEL_SCRIPT = r"""
import socket, sys, time
mode = sys.argv[1]
if mode == "send":
    host, port, n, cc = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    c = socket.socket()
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
    c.settimeout(600)
    c.connect((host, port))
    chunk = bytes(65536); left = n
    while left:
        left -= c.send(chunk[:min(left, len(chunk))])
    c.shutdown(socket.SHUT_WR)
    c.recv(1)
else:
    port, n = int(sys.argv[2]), int(sys.argv[3])
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("0.0.0.0", port)); l.listen(1)
    print("ready", flush=True)
    c, _ = l.accept(); got = 0; step = 1 << 20
    print("accepted", time.monotonic_ns(), flush=True)
    while got < n:
        d = c.recv(1 << 20)
        if not d:
            break
        got += len(d)
        if got >= step:
            print("p", got, time.monotonic_ns(), flush=True); step += 1 << 20
    print("done", got, time.monotonic_ns(), flush=True)
"""

SS_POLL = r"""
import subprocess, sys, time
with open(sys.argv[1], "w") as f:
    while True:
        t = time.monotonic_ns()
        o = subprocess.run(["ss", "-tinHO", "dst", "10.77.0.1"], capture_output=True, text=True).stdout
        for line in o.splitlines():
            f.write(f"{t} {line}\n")
"""


def _kernel_receiver_poll(proc: Any, st: dict[str, Any], amount: int) -> bool:
    """Reads the kernel receiver's lines ("accepted T", "p N T", "done N T"; T its monotonic clock in ns) that
    are there without blocking; fills st (t0, t1, moved) and returns whether all ``amount`` bytes arrived."""
    while select.select([proc.stdout], [], [], 0)[0]:
        line = proc.stdout.readline()
        if not line:
            return False
        f = line.split()
        if f[0] == "accepted":
            st["t0"], st["t1"] = int(f[1]), int(f[1])
        elif f[0] in ("p", "done"):
            st["moved"], st["t1"] = int(f[1]), int(f[2])
            if f[0] == "done":
                return st["moved"] >= amount
    return False


def one_run(setting: str, seed: int, sender: str, amount: int, limit_s: float, linux_cc: str = "cubic",
            tern_rto_min_ms: int = 0, receiver: str = "linux", tern_cc: str = "cubic",
            pcap_dir: Optional[Path] = None, tern_buffer_kib: int = 1024) -> tuple[float, bool]:
    """One transfer from ``sender`` to ``receiver`` (each "tern" or "linux"); returns (goodput in Mbit/s,
    finished). The time is the receiver's: from accepting the connection to holding the last byte. With
    ``pcap_dir`` the link is captured at the sender's end to ``<pcap_dir>/<setting>-<seed>-<sender>.pcap``
    and at the receiver's to ``...-<sender>-rx.pcap``, each with its ``.events`` file naming the losses of
    the frames that end sent. ``tern_buffer_kib``: the Tern hosts' send and receive
    buffers (fixed; a kernel socket's grow up to net.ipv4.tcp_wmem's and tcp_rmem's maximum)."""
    net = RealtimeNetwork(seed=seed)
    tcp: dict[str, Any] = {"rx_buffer": tern_buffer_kib << 10, "tx_buffer": tern_buffer_kib << 10}
    if tern_rto_min_ms:
        tcp["rto_min"] = f"{tern_rto_min_ms}ms"
    imp = {"rate": "100Mbit", "delay": "10ms", "loss": SETTINGS[setting]}
    st: dict[str, Any] = {"t0": None, "t1": None, "moved": 0}
    socks: list[Any] = []
    with contextlib.ExitStack() as stack:
        # The receiver's end: the namespace "kernel" (10.77.0.1) or the Tern host "tern_rx" (10.77.0.1).
        # The sender's end: the Tern host "tern" (10.77.0.2) or a second namespace (10.77.0.2).
        if receiver == "tern":
            rx = net.host("tern_rx", ipv4=f"{KERNEL_IP}/24", tcp=tcp)
            if sender == "tern":
                tx = net.host("tern", ipv4=f"{TERN_IP}/24", tcp=tcp)
                link = net.link(tx, rx, **imp)
            else:
                k = stack.enter_context(net.kernel(rx, f"{TERN_IP}/24", **imp))
                link = k.link
            stack.callback(net.close)
        else:
            rx_ns = stack.enter_context(NetNamespace())
            rx_tap = net.tap("kernel")
            rx_ns.take(rx_tap.ifname, f"{KERNEL_IP}/24")
            if sender == "tern":
                tx = net.host("tern", ipv4=f"{TERN_IP}/24", tcp=tcp)
            else:
                tx_ns = stack.enter_context(NetNamespace())
                tx = net.tap("kernel_tx")
                tx_ns.take(tx.ifname, f"{TERN_IP}/24")
            stack.callback(net.close)  # before the namespaces go (the TAP devices with it)
            link = net.link(tx, rx_tap, **imp)
            proc = rx_ns.popen([sys.executable, "-c", KERNEL_SCRIPT, "recv", str(PORT), str(amount)], text=True)
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        if pcap_dir is not None:
            pcap_dir.mkdir(parents=True, exist_ok=True)
            tx_side = "a" if link.a.name != "tern_rx" else "b"
            link.capture(pcap_dir / f"{setting}-{seed}-{sender}.pcap", side=tx_side)
            # The receiver's end too: an end's .events names the fate of the frames THAT end sent, so the
            # receiver's ACKs the link dropped are named only here (the sender's capture just lacks them).
            link.capture(pcap_dir / f"{setting}-{seed}-{sender}-rx.pcap", side="b" if tx_side == "a" else "a")
        if sender == "linux":
            ns = tx_ns if receiver == "linux" else k.ns
            if pcap_dir is not None and os.environ.get("BENCH_BBR_TRACE"):
                # the kernel sender's state (ss -ti) as often as ss runs, beside the capture
                poller = ns.popen([sys.executable, "-c", SS_POLL, str(pcap_dir / f"{setting}-{seed}-linux.state")])
                stack.callback(poller.kill)
            ns.popen([sys.executable, "-c", KERNEL_SCRIPT, "send", KERNEL_IP, str(PORT), str(amount), linux_cc])
        if receiver == "tern":
            lst = rx.tcp_listen(PORT)
        if sender == "tern":
            sock = tx.tcp_connect(KERNEL_IP, PORT, congestion=tern_cc)  # cubic: as bench_tcp_loss.c, and Linux
            socks.append(sock)
        data = bytes(1 << 20)
        queued = 0
        rsock: Optional[Any] = None
        # BENCH_BBR_TRACE=1 (with --pcap): the Tern sender's state each slice, beside the capture.
        trace = (open(pcap_dir / f"{setting}-{seed}-{sender}.state", "w")
                 if pcap_dir is not None and sender == "tern" and os.environ.get("BENCH_BBR_TRACE") else None)
        if trace is not None:
            stack.callback(trace.close)

        def pump() -> bool:
            nonlocal queued, rsock
            if trace is not None:
                i = sock.info()
                trace.write(f"{net.realtime_now_ns()} {i.bbr_mode} {i.bbr_btlbw} {i.bbr_pacing_rate} "
                            f"{i.bbr_round_count} {i.cwnd} {i.in_flight} {i.snd_una - i.iss} "
                            f"{i.snd_nxt - i.iss} {i.snd_wnd} {i.sacked} {i.lost} {i.fast_retransmits} "
                            f"{i.total_retransmits} {i.rto_timeouts} {i.srtt_ns}\n")
            if sender == "tern" and queued < amount:
                while queued < amount:
                    n = sock.send(data[: min(len(data), amount - queued)])
                    if n == 0:
                        break
                    queued += n
                if queued == amount:
                    # As the kernel's sender (KERNEL_SCRIPT's shutdown(SHUT_WR)): the FIN goes with the last,
                    # short segment. Without it Nagle (RFC 9293 §3.7.4) holds that segment until all else is
                    # acknowledged, one RTT or more at the end of every transfer (bbr6 in docs/bbr.md).
                    sock.shutdown("wr")
            if receiver == "linux":
                return _kernel_receiver_poll(proc, st, amount)
            if rsock is None:
                rsock = lst.accept()
                if rsock is None:
                    return False
                socks.append(rsock)
                st["t0"] = net.realtime_now_ns()
            while True:
                d = rsock.recv(1 << 20)
                if not d:
                    break
                st["moved"] += len(d)
            st["t1"] = net.realtime_now_ns()
            return bool(st["moved"] >= amount)

        done = bool(net.run_realtime(for_=f"{limit_s}s", until=pump, slice="1ms"))
        if VERBOSE:
            for s_ in socks:
                i = s_.info()
                print(f"  {setting} seed {seed} {sender}->{receiver}: tern socket: fast_retransmits "
                      f"{i.fast_retransmits} rto_timeouts {i.rto_timeouts} total_retransmits "
                      f"{i.total_retransmits} spurious_rtos {i.spurious_rtos} dsack_undos {i.dsack_undos} "
                      f"cwnd {i.cwnd} ssthresh {i.ssthresh} srtt {i.srtt_ns / 1e6:.1f} ms", file=sys.stderr)
            for d in ("a_to_b", "b_to_a"):
                print(f"  {setting} seed {seed} {sender}->{receiver}: link {d}: {link.counters(d)}",
                      file=sys.stderr)
        t0 = st["t0"] if st["t0"] is not None else 0
        t1 = st["t1"] if st["t1"] is not None else t0
        secs = max(t1 - t0, 1) / 1e9
        return st["moved"] * 8 / secs / 1e6, done


def _kernel_wmem_max_kib() -> int:
    """net.ipv4.tcp_wmem's maximum in KiB (the most a kernel sender's buffer grows to), or 4096."""
    try:
        return max(64, int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2]) >> 10)
    except (OSError, ValueError, IndexError):
        return 4096


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--amount", type=int, default=2 << 20, help="bytes per transfer (default 2 MiB; the issue's 10 MiB "
                    "takes minutes per run at 15 %% loss in real time)")
    ap.add_argument("--seeds", type=int, default=5, help="runs per setting and sender (median; default 5)")
    ap.add_argument("--limit", type=float, default=120.0, help="seconds a transfer may take (default 120)")
    ap.add_argument("--linux-cc", default="cubic",
                    help="the kernel sender's congestion control (TCP_CONGESTION; default cubic, as Tern's sender: "
                    "a machine's default may be bbr, which does not answer loss with a smaller window)")
    ap.add_argument("--tern-cc", default="cubic", choices=("newreno", "cubic", "bbr"),
                    help="the Tern sender's congestion control (default cubic)")
    ap.add_argument("--congestion", default=None, choices=("newreno", "cubic", "bbr"),
                    help="both senders' congestion control at once (kernel BBR against Tern BBR: --congestion bbr)")
    ap.add_argument("--tern-rto-min-ms", type=int, default=LINUX_RTO_MIN_MS,
                    help="the Tern host's RTO.min (default 200 ms, the kernel's TCP_RTO_MIN, so that both senders "
                    "wait alike; 0: the stack's own default, RFC 6298's 1 s)")
    ap.add_argument("--receiver", choices=("linux", "tern"), default="linux",
                    help="who receives, for both senders alike (default linux: a kernel socket in a namespace of "
                    "its own, as curl in the interop test; tern: a Tern host with the stack's defaults)")
    ap.add_argument("--settings", default=",".join(SETTINGS), help="comma-separated subset of " + ",".join(SETTINGS))
    ap.add_argument("--pcap", type=Path, default=None, metavar="DIR",
                    help="capture every run's link at the sender's end to DIR/<setting>-<seed>-<sender>.pcap "
                    "and at the receiver's end to DIR/<setting>-<seed>-<sender>-rx.pcap")
    ap.add_argument("--tern-buffer-kib", type=int, default=None,
                    help="the Tern hosts' send and receive buffers in KiB (default: the kernel sender's own "
                         "ceiling, net.ipv4.tcp_wmem's maximum, 4096 if it cannot be read; a kernel socket's "
                         "buffers grow to it, so both senders may keep as much unacknowledged data)")
    ap.add_argument("--first-seed", type=int, default=1, help="the seeds run are K .. K + seeds - 1 (default 1)")
    ap.add_argument("--senders", default="tern,linux", help="which senders run (default tern,linux)")
    args = ap.parse_args()
    if args.tern_buffer_kib is None:
        args.tern_buffer_kib = _kernel_wmem_max_kib()
    if args.congestion:
        args.tern_cc = args.congestion
        args.linux_cc = {"newreno": "reno"}.get(args.congestion, args.congestion)
    reason = unavailable()
    if reason:
        print(f"bench_tcp_loss_vs_linux: skipped: {reason}")
        return 0
    names = [s for s in args.settings.split(",") if s]
    bad = [s for s in names if s not in SETTINGS]
    senders = [s for s in args.senders.split(",") if s]
    if bad or args.seeds < 1 or args.amount < 1 or not senders or any(s not in ("tern", "linux") for s in senders):
        print(f"bench_tcp_loss_vs_linux: bad arguments: settings {bad or names}, seeds {args.seeds}, "
              f"amount {args.amount}, senders {senders}", file=sys.stderr)
        return 2
    tern_rto_min = f"{args.tern_rto_min_ms} ms" if args.tern_rto_min_ms else "the stack's default (1 s)"
    print(f"BENCH tcp_loss_vs_linux RTO.min: Tern {tern_rto_min}, Linux {LINUX_RTO_MIN_MS} ms "
          f"({'equal' if args.tern_rto_min_ms == LINUX_RTO_MIN_MS else 'NOT equal'}); "
          f"congestion control: Tern {args.tern_cc}, Linux {args.linux_cc}; receiver for both senders: {args.receiver} "
          f"({'the kernel' if args.receiver == 'linux' else 'a Tern host'}); {args.amount} bytes, "
          f"{args.seeds} seeds; Tern buffers {args.tern_buffer_kib} KiB", flush=True)
    for name in names:
        med = {}
        for sender in senders:
            runs = []
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                mbps, done = one_run(name, seed, sender, args.amount, args.limit, args.linux_cc,
                                     args.tern_rto_min_ms, args.receiver, args.tern_cc, args.pcap,
                                     args.tern_buffer_kib)
                if not done:
                    print(f"bench_tcp_loss_vs_linux: {sender} sender unfinished after {args.limit:.0f} s "
                          f"(setting {name}, seed {seed})", file=sys.stderr)
                runs.append(mbps)
            med[sender] = statistics.median(runs)
            print(f"BENCH tcp_loss_vs_linux_{name}_{sender} {med[sender]:.3f} Mbit/s "
                  f"(runs: {' '.join(f'{r:.2f}' for r in runs)})", flush=True)
        if len(senders) == 2:
            ratio = med["tern"] / med["linux"] if med["linux"] > 0 else float("inf")
            print(f"BENCH tcp_loss_vs_linux_{name} {ratio:.3f} x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
