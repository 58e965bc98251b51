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
    "ip6.hlim": "IPv6 hop limit",
    "ip6.fl": "IPv6 flow label",
    "ip6.frag.id": "IPv6 fragment identification (random by design, RFC 7739)",
    "icmp6.chksum": "ICMPv6 checksum",
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
            mask |= {"ip.chksum", "tcp.chksum", "udp.chksum", "icmp.chksum", "icmp6.chksum"}
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
    from scapy.layers.inet6 import IPv6

    if isinstance(payload, IPv6):
        return toks + _ipv6_tokens(payload, options, flows)
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
        toks += _tcp_tokens(l4, ip.src, ip.dst, _payload_len(l4, ip), options, flows)
    elif isinstance(l4, UDP):
        toks += _udp_tokens(l4)
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


def _tcp_tokens(t: Any, src: str, dst: str, plen: int, options: CanonicalOptions, flows: Optional[_Flows]) -> list[Token]:
    """The TCP tokens of a segment between src and dst carrying plen payload bytes."""
    toks: list[Token] = []
    key = (src, t.sport, dst, t.dport)
    rkey = (dst, t.dport, src, t.sport)
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
    toks.append(("len", f"len={plen}"))
    return toks


def _udp_tokens(u: Any) -> list[Token]:
    return [("udp", f"udp {u.sport}>{u.dport}"), ("udp.chksum", f"udp.chksum=0x{int(u.chksum):04x}"),
            ("len", f"len={max(int(u.len or 8) - 8, 0)}")]


#: ICMPv6 types shown by name (RFC 4443, RFC 4861, RFC 3810).
_ICMP6_NAMES = {1: "unreach", 2: "too-big", 3: "time-exceeded", 4: "param-problem", 128: "echo-request",
                129: "echo-reply", 130: "mld-query", 131: "mld-report", 132: "mld-done", 133: "rs", 134: "ra",
                135: "ns", 136: "na", 137: "redirect", 143: "mld2-report"}


def _nd_options(opts: bytes) -> str:
    """ND options (RFC 4861 section 4.6) compactly: sll:MAC, tll:MAC, mtu:N, prefix:P/L:flags:valid:pref,
    redirected:LEN, type:LEN for others."""
    out = []
    i = 0
    while i + 2 <= len(opts):
        t, n = opts[i], opts[i + 1] * 8
        if n == 0 or i + n > len(opts):
            out.append("malformed")
            break
        o = opts[i:i + n]
        if t in (1, 2) and n == 8:
            out.append(("sll:" if t == 1 else "tll:") + o[2:8].hex(":"))
        elif t == 5 and n == 8:
            out.append(f"mtu:{int.from_bytes(o[4:8], 'big')}")
        elif t == 3 and n == 32:
            import ipaddress

            flags = ("L" if o[3] & 0x80 else "") + ("A" if o[3] & 0x40 else "")
            out.append(f"prefix:{ipaddress.IPv6Address(o[16:32])}/{o[2]}:{flags or '-'}:"
                       f"{int.from_bytes(o[4:8], 'big')}:{int.from_bytes(o[8:12], 'big')}")
        elif t == 4:
            out.append(f"redirected:{n - 8}")
        else:
            out.append(f"{t}:{n}")
        i += n
    return ",".join(out) or "-"


def _ipv6_tokens(ip: Any, options: CanonicalOptions, flows: Optional[_Flows]) -> list[Token]:
    """The tokens of an IPv6 packet: header, extension headers, upper layer (read from the bytes
    where scapy's dissection would hide what matters, e.g. in ND messages)."""
    raw = bytes(ip)
    toks: list[Token] = [("ip6", f"ip6 {ip.src}>{ip.dst}"), ("ip6.hlim", f"ip6.hlim={ip.hlim}")]
    if int(ip.tc):
        toks.append(("ip6.tc", f"ip6.tc=0x{int(ip.tc):02x}"))
    if int(ip.fl):
        toks.append(("ip6.fl", f"ip6.fl={int(ip.fl)}"))
    plen = min(int.from_bytes(raw[4:6], "big"), len(raw) - 40)
    end = 40 + plen
    nh, off = raw[6], 40
    exts = []
    frag_later = False
    for _ in range(16):
        if nh in (0, 43, 60) and off + 2 <= end:
            hl = (raw[off + 1] + 1) * 8
            name = {0: "hbh", 43: "rh", 60: "dst"}[nh]
            if nh == 43 and off + 4 <= end:
                name += f":type={raw[off + 2]}:left={raw[off + 3]}"
            else:
                opts = []
                j = off + 2
                while j < min(off + hl, end):
                    if raw[j] == 0:
                        j += 1
                        continue
                    if j + 1 >= end:
                        break
                    if raw[j] != 1:
                        opts.append(f"0x{raw[j]:02x}")
                    j += 2 + raw[j + 1]
                if opts:
                    name += ":" + "+".join(opts)
            exts.append(name)
            nh, off = raw[off], off + hl
        elif nh == 44 and off + 8 <= end:
            fo = int.from_bytes(raw[off + 2:off + 4], "big")
            ident = int.from_bytes(raw[off + 4:off + 8], "big")
            exts.append(f"frag:off={fo & 0xFFF8}:m={fo & 1}")
            toks_id = ("ip6.frag.id", f"ip6.frag.id={ident}")
            nh, off = raw[off], off + 8
            frag_later = (fo & 0xFFF8) != 0
            exts_id = toks_id
            if frag_later:
                break
        else:
            break
    if exts:
        toks.append(("ip6.ext", "ip6.ext=" + ",".join(exts)))
        if any(e.startswith("frag") for e in exts):
            toks.append(exts_id)
    if frag_later or off > end:
        toks.append(("ip6.nh", f"ip6.nh={nh}"))
        toks.append(("len", f"len={max(end - off, 0)}"))
        return toks
    body = raw[off:end]
    if nh == 6 and len(body) >= 20:
        from scapy.layers.inet import TCP

        t = TCP(body)
        toks += _tcp_tokens(t, str(ip.src), str(ip.dst), len(body) - (body[12] >> 4) * 4, options, flows)
    elif nh == 17 and len(body) >= 8:
        from scapy.layers.inet import UDP

        toks += _udp_tokens(UDP(body))
    elif nh == 58 and len(body) >= 4:
        t, code = body[0], body[1]
        toks.append(("icmp6", f"icmp6 {_ICMP6_NAMES.get(t, 'type=' + str(t))} code={code}"))
        if t in (128, 129) and len(body) >= 8:
            toks.append(("icmp6.echo", f"icmp6.id={int.from_bytes(body[4:6], 'big')} "
                                       f"icmp6.seq={int.from_bytes(body[6:8], 'big')}"))
            toks.append(("len", f"len={len(body) - 8}"))
        elif t < 128 and len(body) >= 8:
            word = int.from_bytes(body[4:8], "big")
            if t in (2, 4):
                toks.append(("icmp6.param", f"{'mtu' if t == 2 else 'ptr'}={word}"))
            q = body[8:]
            if len(q) >= 40:
                import ipaddress

                toks.append(("icmp6.quote", f"quote={ipaddress.IPv6Address(q[8:24])}>"
                                            f"{ipaddress.IPv6Address(q[24:40])}/{q[6]} qlen={len(q)}"))
        elif t in (135, 136, 137) and len(body) >= 24:
            import ipaddress

            if t == 136:
                fl = "".join(c for c, bit in (("R", 0x80), ("S", 0x40), ("O", 0x20)) if body[4] & bit)
                toks.append(("nd.flags", f"nd.flags={fl or '-'}"))
            toks.append(("nd.target", f"nd.target={ipaddress.IPv6Address(body[8:24])}"))
            first_opt = 24
            if t == 137 and len(body) >= 40:
                toks.append(("nd.dest", f"nd.dest={ipaddress.IPv6Address(body[24:40])}"))
                first_opt = 40
            toks.append(("nd.opts", "nd.opts=" + _nd_options(body[first_opt:])))
        elif t == 134 and len(body) >= 16:
            toks.append(("nd.ra", f"nd.ra=hlim:{body[4]}:flags:0x{body[5]:02x}:life:{int.from_bytes(body[6:8], 'big')}"
                                  f":reach:{int.from_bytes(body[8:12], 'big')}:retrans:{int.from_bytes(body[12:16], 'big')}"))
            toks.append(("nd.opts", "nd.opts=" + _nd_options(body[16:])))
        elif t == 133:
            toks.append(("nd.opts", "nd.opts=" + _nd_options(body[8:])))
        else:
            toks.append(("len", f"len={len(body) - 4}"))
        toks.append(("icmp6.chksum", f"icmp6.chksum=0x{int.from_bytes(body[2:4], 'big'):04x}"))
    else:
        toks.append(("ip6.nh", f"ip6.nh={nh}"))
        toks.append(("len", f"len={len(body)}"))
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
        elif w in ("eth", "ip", "ip6", "tcp", "udp") and i + 1 < len(words):
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
