"""Time-sequence plots of TCP connections (as tcptrace draws them), from pcaps.

One panel per direction of a TCP connection that carries data or control
segments: each segment is a vertical bar from its first to its last sequence
number (relative to the direction's first), the acknowledgments coming back
are a step line, the window's right edge a dotted line, and retransmissions
are marked in red. matplotlib is used with the Agg backend (no display).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Union

from .pcap import read_pcap

MAX_PANELS = 6


@dataclass
class Direction:
    """What one direction of a TCP connection did, in relative sequence numbers."""

    key: tuple  # (src, sport, dst, dport)
    base: Optional[int] = None
    segments: list[tuple[float, int, int, bool]] = field(default_factory=list)  # t, start, end, retransmission
    acks: list[tuple[float, int, int]] = field(default_factory=list)  # t, ack, right window edge (from the other side)
    highest: int = 0

    @property
    def label(self) -> str:
        s, sp, d, dp = self.key
        return f"{s}:{sp} > {d}:{dp}"

    @property
    def retransmissions(self) -> int:
        """Segments that resent sequence space already sent."""
        return sum(1 for seg in self.segments if seg[3])


def analyse(frames: Iterable[tuple[int, bytes]]) -> list[Direction]:
    """Per TCP direction: segments (retransmissions flagged) and the ACKs coming back."""
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether

    dirs: dict[tuple, Direction] = {}
    for t_ns, data in frames:
        pkt = Ether(data)
        ip, tcp = pkt.getlayer(IP), pkt.getlayer(TCP)
        if ip is None or tcp is None:
            continue
        t = t_ns / 1e9
        key = (ip.src, int(tcp.sport), ip.dst, int(tcp.dport))
        d = dirs.setdefault(key, Direction(key))
        flags = str(tcp.flags)
        seq = int(tcp.seq)
        if d.base is None or "S" in flags:
            d.base = seq
        n = max(int(ip.len) - int(ip.ihl) * 4 - int(tcp.dataofs) * 4, 0) + ("S" in flags) + ("F" in flags)
        start = (seq - d.base) % 2**32
        if n:
            end = start + n
            retrans = start < d.highest
            d.highest = max(d.highest, end)
            d.segments.append((t, start, end, retrans))
        rkey = (ip.dst, int(tcp.dport), ip.src, int(tcp.sport))
        r = dirs.get(rkey)
        if "A" in flags and r is not None and r.base is not None:
            ack = (int(tcp.ack) - r.base) % 2**32
            r.acks.append((t, ack, ack + int(tcp.window)))
    return [d for d in dirs.values() if d.segments]


def plot_pcap(pcap: Union[str, Path], out: Union[str, Path], title: Optional[str] = None) -> Optional[Path]:
    """Draw the time-sequence plot of every TCP direction in ``pcap`` to ``out`` (PNG).

    Returns the path, or None when the pcap holds no TCP segment.
    """
    dirs = analyse(read_pcap(pcap))
    if not dirs:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dirs = dirs[:MAX_PANELS]
    fig, axes = plt.subplots(len(dirs), 1, figsize=(10, 3.2 * len(dirs)), squeeze=False)
    for ax, d in zip(axes[:, 0], dirs):
        for t, s, e, retrans in d.segments:
            ax.plot([t, t], [s, e], color="red" if retrans else "black", linewidth=2 if retrans else 1)
        rt = [(t, s) for t, s, e, r in d.segments if r]
        if rt:
            ax.scatter([t for t, _ in rt], [s for _, s in rt], color="red", marker="x", zorder=3,
                       label=f"retransmission ({len(rt)})")
        if d.acks:
            ts = [a[0] for a in d.acks]
            ax.step(ts, [a[1] for a in d.acks], where="post", color="green", linewidth=1, label="ack")
            ax.step(ts, [a[2] for a in d.acks], where="post", color="gray", linestyle=":", linewidth=1,
                    label="window edge")
        ax.set_title(d.label, fontsize=9)
        ax.set_xlabel("virtual time (s)")
        ax.set_ylabel("relative sequence")
        ax.grid(True, alpha=0.3)
        if rt or d.acks:
            ax.legend(loc="upper left", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


__all__ = ["Direction", "analyse", "plot_pcap"]
