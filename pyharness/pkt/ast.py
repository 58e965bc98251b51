"""The syntax tree of a packetdrill script.

Times are integer microseconds, as packetdrill keeps them (no floating point
in timing decisions: ``0.840`` is read digit by digit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

#: Event time kinds (packetdrill's event_time_t).
ABSOLUTE, RELATIVE, ANY, ABSOLUTE_RANGE, RELATIVE_RANGE = "absolute", "relative", "any", "absolute_range", "relative_range"


@dataclass(frozen=True)
class Time:
    """When an event happens: ``kind`` and ``usecs`` (and ``end_usecs`` of a range)."""

    kind: str
    usecs: int = 0
    end_usecs: Optional[int] = None


@dataclass(frozen=True)
class TcpOption:
    """A TCP option: ``kind`` is nop, eol, mss, wscale, sackOK, sack, TS, FO, md5; ``values`` its numbers
    (sack: start, end pairs; TS: val, ecr)."""

    kind: str
    values: tuple = ()


@dataclass(frozen=True)
class TcpPacket:
    """An inbound (``<``) or outbound (``>``) TCP segment of the script."""

    direction: str
    flags: str
    seq: int
    end: int
    length: int
    ack: Optional[int] = None
    win: Optional[int] = None
    urg: Optional[int] = None
    #: None: ``<...>`` (options not checked); a tuple: exactly these options.
    options: Optional[tuple[TcpOption, ...]] = ()
    ecn: Optional[str] = None
    tos: Optional[int] = None
    ttl: Optional[int] = None
    line: int = 0

    def text(self) -> str:
        """The packet in script syntax (for error messages)."""
        out = f"{self.flags} {self.seq}:{self.end}({self.length})"
        if "." in self.flags or self.ack is not None:
            out += f" ack {self.ack}" if self.ack is not None else ""
        if self.win is not None:
            out += f" win {self.win}"
        if self.urg:
            out += f" urg {self.urg}"
        if self.options is None:
            out += " <...>"
        elif self.options:
            out += " <" + ",".join(option_text(o) for o in self.options) + ">"
        return out


def option_text(o: TcpOption) -> str:
    """One option in script syntax."""
    if o.kind == "sack":
        return "sack " + " ".join(f"{a}:{b}" for a, b in zip(o.values[::2], o.values[1::2]))
    if o.kind == "TS":
        return f"TS val {o.values[0]} ecr {o.values[1]}"
    return " ".join([o.kind, *map(str, o.values)])


@dataclass(frozen=True)
class UdpPacket:
    """A UDP datagram of the script: ``direction``, payload ``length`` and the IP TTL if written (``[ttl N]``)."""

    direction: str
    length: int
    line: int = 0
    ttl: Optional[int] = None

    def text(self) -> str:
        """The packet in script syntax, as errors show it."""
        return (f"[ttl {self.ttl}] " if self.ttl is not None else "") + f"udp ({self.length})"


@dataclass(frozen=True)
class IcmpPacket:
    """An ICMP message: ``type``/``code`` names (``unreachable``, ``port_unreachable``...), ``mtu`` if any,
    and what it quotes: a TCP segment (``[seq:end(len)]``) or a UDP datagram (``[udp (N)]``: ``quoted_udp`` N)."""

    direction: str
    type: str
    code: Optional[str]
    quoted: Optional[tuple[int, int, int]] = None
    mtu: Optional[int] = None
    line: int = 0
    quoted_udp: Optional[int] = None

    def text(self) -> str:
        """The message in script syntax, as errors show it."""
        out = "icmp " + self.type + (f" {self.code}" if self.code else "")
        if self.mtu is not None:
            out += f" mtu {self.mtu}"
        if self.quoted is not None:
            out += " [%d:%d(%d)]" % self.quoted
        if self.quoted_udp is not None:
            out += f" [udp ({self.quoted_udp})]"
        return out


@dataclass(frozen=True)
class Ellipsis_:
    """``...`` as a system call argument: any value (packetdrill fills in what it knows)."""


@dataclass(frozen=True)
class Name:
    """A symbol: ``SOCK_STREAM``, ``O_NONBLOCK``, ``EINPROGRESS``."""

    name: str


@dataclass(frozen=True)
class BinOp:
    """``a | b`` of flags."""

    op: str
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class Call:
    """``htons(8080)``, ``inet_addr("1.2.3.4")``."""

    name: str
    args: tuple


@dataclass(frozen=True)
class ListExpr:
    """``[1]``, ``[{fd=3, events=POLLIN}]``."""

    items: tuple


@dataclass(frozen=True)
class StructExpr:
    """``{sa_family=AF_INET, sin_port=htons(8080)}`` (field order kept)."""

    fields: tuple  # of (name or None, Expr)


Expr = Union[int, str, Ellipsis_, Name, BinOp, Call, ListExpr, StructExpr]


@dataclass(frozen=True)
class Syscall:
    """A system call: ``name(args) = result [ERRNO (text)]``; ``end_usecs`` for a blocking call (``...t``)."""

    name: str
    args: tuple
    result: Expr
    errno: Optional[str] = None
    note: Optional[str] = None
    end_usecs: Optional[int] = None


@dataclass(frozen=True)
class Command:
    """A back-quoted shell command."""

    text: str


@dataclass(frozen=True)
class Code:
    """A ``%{ ... }%`` block (Python in packetdrill, here restricted assertions on tcp_info)."""

    text: str


Action = Union[TcpPacket, UdpPacket, IcmpPacket, Syscall, Command, Code]


@dataclass(frozen=True)
class Event:
    """One line of the script: its time, action and line number."""

    time: Time
    action: Action
    line: int


@dataclass
class Script:
    """A parsed script: options (``--name=value``, in order) and events."""

    path: str
    options: dict = field(default_factory=dict)
    events: list = field(default_factory=list)
    #: The back-quoted command right after the options, without a time (packetdrill's init command:
    #: ``\`../common/defaults.sh\```), with its line; run before the first event.
    init_command: Optional[Command] = None
    init_line: int = 0
    #: The back-quoted command after the last event, without a time (packetdrill's cleanup command), run
    #: after the end-of-script checks.
    cleanup_command: Optional[Command] = None
    cleanup_line: int = 0
    #: Seconds of real time the script declares with its ``// realtime: N s`` header (None: the DUT's default).
    realtime_s: Optional[int] = None
