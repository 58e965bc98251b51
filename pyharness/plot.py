"""Time-sequence plots of TCP connections (as tcptrace draws them), from pcaps.

One panel per direction of a TCP connection that carries data (directions
with only SYN and FIN are left out unless nothing carried data), all panels
on one shared time axis: each segment is a vertical bar from its first to its
last sequence number (relative to the direction's first), the
acknowledgments coming back are a step line, the receive window's right edge
a dotted line, retransmissions are marked in red, and segments the link
dropped (from the capture's ``.events`` file) with an orange triangle. The y
axis is scaled to the data sent and acknowledged, not to the window: a 10 KB
transfer fills the panel even under a 64 KB window, whose edge is then drawn
as far as it fits. matplotlib is used with the Agg backend (no display).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Union

from .pcap import read_pcap

MAX_PANELS = 6


@dataclass
class Direction:
    """What one direction of a TCP connection did, in relative sequence numbers."""

    key: tuple  # (src, sport, dst, dport)
    base: Optional[int] = None
    segments: list[tuple[float, int, int, bool]] = field(default_factory=list)  # t, start, end, retransmission
    dropped: list[tuple[float, int, int]] = field(default_factory=list)  # t, start, end of segments the link dropped
    data_bytes: int = 0
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


def analyse(frames: Iterable[tuple[int, bytes]], events: Optional[dict[int, list[str]]] = None) -> list[Direction]:
    """Per TCP direction: segments (retransmissions flagged) and the ACKs coming back.

    ``events`` (frame number from 1 -> what the link did, see
    :func:`pyharness.cli.read_events`) marks the segments the link dropped.
    """
    events = events or {}
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether

    dirs: dict[tuple, Direction] = {}
    for number, (t_ns, data) in enumerate(frames, 1):
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
            d.data_bytes += n - ("S" in flags) - ("F" in flags)
            if any(e.startswith("dropped") for e in events.get(number, ())):
                d.dropped.append((t, start, end))
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
    from .cli import read_events

    dirs = analyse(read_pcap(pcap), read_events(Path(pcap)))
    if not dirs:
        return None
    fig = draw(dirs, title)  # selects the Agg backend before pyplot is imported
    import matplotlib.pyplot as plt

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def draw(dirs: list[Direction], title: Optional[str] = None) -> "Any":
    """The matplotlib figure of :func:`plot_pcap` for analysed directions (the caller closes it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with_data = [d for d in dirs if d.data_bytes]
    dirs = (with_data or dirs)[:MAX_PANELS]
    fig, axes = plt.subplots(len(dirs), 1, figsize=(10, 3.4 * len(dirs)), squeeze=False, sharex=True)
    for ax, d in zip(axes[:, 0], dirs):
        for t, s, e, retrans in d.segments:
            ax.plot([t, t], [s, e], color="red" if retrans else "black", linewidth=2 if retrans else 1.2)
        rt = [(t, s) for t, s, e, r in d.segments if r]
        if rt:
            ax.scatter([t for t, _ in rt], [s for _, s in rt], color="red", marker="x", zorder=3,
                       label=f"retransmission ({len(rt)})")
        if d.dropped:
            ax.scatter([t for t, _, _ in d.dropped], [(s + e) / 2 for _, s, e in d.dropped], color="darkorange",
                       marker="v", s=50, zorder=4, label=f"dropped by the link ({len(d.dropped)})")
        top = max([d.highest] + [a[1] for a in d.acks])
        if d.acks:
            ts = [a[0] for a in d.acks]
            ax.step(ts, [a[1] for a in d.acks], where="post", color="green", linewidth=1, label="ack")
            ax.step(ts, [a[2] for a in d.acks], where="post", color="steelblue", linestyle=":", linewidth=1.2,
                    label="receive window edge")
        # Scale to what was sent and acknowledged; the window edge is drawn only as far as that goes.
        ax.set_ylim(-0.03 * max(top, 1), max(top, 1) * 1.12)
        ax.set_title(f"{d.label}: {d.data_bytes} bytes sent in {len(d.segments)} segments", fontsize=9)
        ax.set_ylabel("relative sequence (bytes)")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    axes[-1, 0].set_xlabel("virtual time (s)")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


__all__ = ["Direction", "analyse", "draw", "plot_pcap"]
