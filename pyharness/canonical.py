"""The canonical text form of frames: one line per frame, fields as ``key=value`` tokens.

Golden traces are compared in this form, so that a user can decide what is
volatile. A line looks like::

    0.001000000 eth 02:00:00:00:00:01>02:00:00:00:00:02 ip 10.0.0.1>10.0.0.2 ip.id=0 ip.ttl=64 ip.flags=DF ip.chksum=0x66c4 tcp 49152>80 tcp.flags=S tcp.seq=0 tcp.ack=0 tcp.win=65535 tcp.opts=mss:1460,sackok,ts:1:0,nop,wscale:7 tcp.chksum=0x1a2b len=0

Every token has a key (``time``, ``eth``, ``ip.id``, ``tcp.seq``...);
masking a key replaces its value with ``*``. A key names one token
(``tcp.seq``), or a family: ``chksum`` masks every checksum, ``ts`` the TCP
timestamp values (``tcp.opts`` keeps the other options).

TCP sequence and acknowledgment numbers are relative by default: each
direction of a connection counts from its first sequence number (its ISN
when the SYN was seen), as Wireshark shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Optional, Sequence

from .frames import seconds_text

#: Keys a user may mask, and what they mean.
MASKABLE = {
    "time": "the virtual time of the frame",
    "eth": "Ethernet addresses",
    "ip.id": "IPv4 identification",
    "ip.ttl": "IPv4 TTL",
    "ip.chksum": "IPv4 header checksum",
    "tcp.seq": "TCP sequence number",
    "tcp.ack": "TCP acknowledgment number",
    "tcp.win": "TCP window",
    "tcp.chksum": "TCP checksum",
    "tcp.ts": "TCP timestamp values (TSval, TSecr)",
    "tcp.sport": "TCP source port (e.g. an ephemeral port)",
    "udp.chksum": "UDP checksum",
    "icmp.chksum": "ICMP checksum",
    "chksum": "every checksum",
    "ts": "TCP timestamp values",
}

Token = tuple[str, str]


@dataclass
class CanonicalOptions:
    """What the canonical form shows: relative TCP numbers, masked keys."""

    relative_seq: bool = True
    mask: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        mask = set(self.mask)
        unknown = sorted(mask - set(MASKABLE))
        if unknown:
            from .errors import ConfigError

            raise ConfigError(f"mask: unknown field {unknown[0]!r}; maskable: {', '.join(MASKABLE)}")
        if "chksum" in mask:
            mask |= {"ip.chksum", "tcp.chksum", "udp.chksum", "icmp.chksum"}
        if "ts" in mask:
            mask.add("tcp.ts")
        self.mask = frozenset(mask)


@dataclass
class _Flows:
    """First sequence number per TCP direction, for relative numbering."""

    isn: dict[tuple, int] = field(default_factory=dict)

    def base(self, key: tuple, seq: int, syn: bool) -> int:
        if syn or key not in self.isn:
            self.isn[key] = seq
        return self.isn[key]


def _tcp_options(opts: Sequence[Any], flows_base: Optional[int], mask_ts: bool, rel_ack_base: Optional[int]) -> str:
    out = []
    for opt in opts:
        name, val = (opt[0], opt[1]) if isinstance(opt, tuple) and len(opt) == 2 else (opt, None)
        if name == "MSS":
            out.append(f"mss:{val}")
        elif name == "WScale":
            out.append(f"wscale:{val}")
        elif name == "SAckOK":
            out.append("sackok")
        elif name == "SAck":
            blocks = list(val or ())
            pairs = []
            for i in range(0, len(blocks) - 1, 2):
                left, right = blocks[i], blocks[i + 1]
                if rel_ack_base is not None:
                    left, right = (left - rel_ack_base) % 2**32, (right - rel_ack_base) % 2**32
                pairs.append(f"{left}-{right}")
            out.append("sack:" + "/".join(pairs))
        elif name == "Timestamp":
            out.append("ts:*:*" if mask_ts else f"ts:{val[0]}:{val[1]}")
        elif name == "NOP":
            out.append("nop")
        elif name == "EOL":
            out.append("eol")
        else:
            out.append(f"{name}:{val!r}".replace(" ", ""))
    return ",".join(out) or "-"


def frame_tokens(pkt: Any, time_ns: Optional[int], options: CanonicalOptions, flows: Optional[_Flows]) -> list[Token]:
    """The tokens of one frame (``flows`` keeps relative-sequence state across frames)."""
    from scapy.layers.inet import ICMP, IP, TCP, UDP
    from scapy.layers.l2 import ARP, Ether
    from scapy.packet import Raw

    toks: list[Token] = []
    if time_ns is not None:
        toks.append(("time", seconds_text(time_ns)))
    if not isinstance(pkt, Ether):
        toks.append(("raw", f"raw len={len(bytes(pkt))}"))
        return toks
    toks.append(("eth", f"eth {pkt.src}>{pkt.dst}"))
    payload = pkt.payload
    if isinstance(payload, ARP):
        a = payload
        op = {1: "who-has", 2: "is-at"}.get(int(a.op), f"op={a.op}")
        if int(a.op) == 1:
            toks.append(("arp", f"arp who-has {a.pdst} tell {a.psrc} ({a.hwsrc})"))
        elif int(a.op) == 2:
            toks.append(("arp", f"arp {a.psrc} is-at {a.hwsrc} to {a.pdst}"))
        else:
            toks.append(("arp", f"arp {op} {a.psrc}>{a.pdst}"))
        return toks
    if not isinstance(payload, IP):
        toks.append(("eth.type", f"type=0x{int(pkt.type):04x} len={len(bytes(payload))}"))
        return toks
    ip = payload
    toks.append(("ip", f"ip {ip.src}>{ip.dst}"))
    toks.append(("ip.id", f"ip.id={ip.id}"))
    toks.append(("ip.ttl", f"ip.ttl={ip.ttl}"))
    if int(ip.flags):
        toks.append(("ip.flags", f"ip.flags={ip.flags}"))
    if int(ip.frag):
        toks.append(("ip.frag", f"ip.frag={ip.frag}"))
    if int(ip.tos):
        toks.append(("ip.tos", f"ip.tos=0x{int(ip.tos):02x}"))
    if int(ip.ihl or 5) != 5:
        toks.append(("ip.ihl", f"ip.ihl={ip.ihl}"))
    toks.append(("ip.chksum", f"ip.chksum=0x{int(ip.chksum):04x}"))
    l4 = ip.payload
    if int(ip.frag) or int(ip.flags) & 1:  # a fragment: no transport header to speak of
        toks.append(("ip.proto", f"ip.proto={ip.proto}"))
        toks.append(("len", f"len={max(int(ip.len or 0) - int(ip.ihl or 5) * 4, 0)}"))
        return toks
    if isinstance(l4, TCP):
        t = l4
        key = (ip.src, t.sport, ip.dst, t.dport)
        rkey = (ip.dst, t.dport, ip.src, t.sport)
        seq, ack = int(t.seq), int(t.ack)
        ack_base = None
        if options.relative_seq and flows is not None:
            base = flows.base(key, seq, "S" in str(t.flags))
            seq = (seq - base) % 2**32
            if rkey in flows.isn:
                ack_base = flows.isn[rkey]
                if "A" in str(t.flags):
                    ack = (ack - ack_base) % 2**32
        toks.append(("tcp", f"tcp {t.sport}>{t.dport}"))
        toks.append(("tcp.flags", f"tcp.flags={t.flags or '-'}"))
        toks.append(("tcp.seq", f"tcp.seq={seq}"))
        toks.append(("tcp.ack", f"tcp.ack={ack}"))
        toks.append(("tcp.win", f"tcp.win={t.window}"))
        if t.options:
            toks.append(("tcp.opts", "tcp.opts=" + _tcp_options(t.options, None, "tcp.ts" in options.mask, ack_base)))
        if int(t.urgptr):
            toks.append(("tcp.urp", f"tcp.urp={t.urgptr}"))
        toks.append(("tcp.chksum", f"tcp.chksum=0x{int(t.chksum):04x}"))
        toks.append(("len", f"len={_payload_len(t, ip)}"))
    elif isinstance(l4, UDP):
        u = l4
        toks.append(("udp", f"udp {u.sport}>{u.dport}"))
        toks.append(("udp.chksum", f"udp.chksum=0x{int(u.chksum):04x}"))
        toks.append(("len", f"len={max(int(u.len or 8) - 8, 0)}"))
    elif isinstance(l4, ICMP):
        c = l4
        toks.append(("icmp", f"icmp type={c.type} code={c.code}"))
        if int(c.type) in (0, 8):
            toks.append(("icmp.echo", f"icmp.id={c.id} icmp.seq={c.seq}"))
        toks.append(("icmp.chksum", f"icmp.chksum=0x{int(c.chksum):04x}"))
        inner = c.payload
        if inner is not None and inner.name.endswith("in ICMP"):
            toks.append(("icmp.quote", f"quote={inner.src}>{inner.dst}/{inner.proto}"))
        else:
            toks.append(("len", f"len={len(bytes(c.payload)) if c.payload else 0}"))
    else:
        toks.append(("ip.proto", f"ip.proto={ip.proto}"))
        toks.append(("len", f"len={len(bytes(l4)) if not isinstance(l4, Raw) else len(l4.load)}"))
    return toks


def _payload_len(t: Any, ip: Any) -> int:
    """TCP payload length from the IP total length (Ethernet padding excluded)."""
    total = int(ip.len) if ip.len is not None else len(bytes(ip))
    return max(total - int(ip.ihl or 5) * 4 - int(t.dataofs or 5) * 4, 0)


def render(tokens: Iterable[Token], mask: frozenset[str] = frozenset()) -> str:
    """Join tokens into a line, masked keys shown as ``key=*``."""
    out = []
    for key, text in tokens:
        if key in mask:
            out.append(f"{key}=*")
        else:
            out.append(text)
    return " ".join(out)


def describe_frame(pkt: Any) -> str:
    """A frame in canonical form without its time and with absolute sequence numbers."""
    return render(frame_tokens(pkt, None, CanonicalOptions(relative_seq=False), None))


def canonical_lines(
    frames: Iterable[tuple[int, Any]], relative_seq: bool = True, mask: Iterable[str] = ()
) -> list[str]:
    """The canonical lines of ``(time_ns, scapy packet)`` pairs, in order."""
    opts = CanonicalOptions(relative_seq=relative_seq, mask=frozenset(mask))
    flows = _Flows()
    return [render(frame_tokens(p, t, opts, flows), opts.mask) for t, p in frames]


def parse_line(line: str) -> list[tuple[str, str]]:
    """Split a canonical line back into ``(label, value)`` pairs for field-level diffs."""
    words = line.split(" ")
    out: list[tuple[str, str]] = []
    if words and words[0][:1].isdigit():
        out.append(("time", words.pop(0)))
    i = 0
    while i < len(words):
        w = words[i]
        if "=" in w:
            k, _, v = w.partition("=")
            out.append((k, v))
            i += 1
        elif w in ("eth", "ip", "tcp", "udp") and i + 1 < len(words):
            out.append((w, words[i + 1]))
            i += 2
        elif w == "arp":
            out.append((w, " ".join(words[i + 1:])))
            break
        else:
            out.append((w, ""))
            i += 1
    return out


__all__ = ["MASKABLE", "CanonicalOptions", "frame_tokens", "render", "describe_frame", "canonical_lines", "parse_line"]
