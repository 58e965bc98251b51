"""A TCP connection played by a scripted peer, in the style of gVisor's packetimpact.

The helper tracks both sequence spaces, so tests never do arithmetic::

    conn = peer.tcp(dut, 80)              # the peer's side of a connection to dut:80
    conn.connect()                        # SYN, expect SYN-ACK (ack=ISS+1), ACK
    conn.send(flags="PA", payload=b"x")   # seq and ack filled in; snd_nxt advances
    conn.expect(flags="A", ack=conn.snd_nxt)

Names follow RFC 9293 from the peer's point of view: ``iss``, ``snd_una``,
``snd_nxt`` (our sequence space), ``irs``, ``rcv_nxt`` (the remote's),
``snd_wnd`` (the window the remote offers us, scaled).

Options: ``mss``, ``wscale``, ``sack`` and ``ts`` (timestamps) go in our SYN
(or SYN-ACK, when the remote offered them). When both sides sent TSopt every
segment carries one (TSval = virtual milliseconds + 1, TSecr = the last TSval
received); with window scaling the window field is scaled.
"""

from __future__ import annotations

import ipaddress

import itertools
from typing import TYPE_CHECKING, Any, Optional

from .errors import ConfigError
from .template import Pred
from .units import TimeLike
from .validate import check_port, check_uint
from .errors import hide_from_traceback as __tracebackhide__  # noqa: F401  (pytest shows the test's line, not ours)

if TYPE_CHECKING:
    from .peer import Peer

MOD = 2**32
_ports = itertools.count(0)


def seq_add(a: int, n: int) -> int:
    """``a + n`` modulo 2**32."""
    return (a + n) % MOD


def seq_lt(a: int, b: int) -> bool:
    """``a < b`` in sequence space (RFC 9293 §3.4, modulo 2**32)."""
    return 0 < (b - a) % MOD < 2**31


def tcp_payload(pkt: Any) -> bytes:
    """The TCP payload of a frame (IPv4 or IPv6), without Ethernet padding."""
    from scapy.layers.inet import IP, TCP

    ip, tcp = pkt.getlayer(IP), pkt.getlayer(TCP)
    if tcp is None:
        return b""
    data = bytes(tcp.payload)
    if ip is not None and ip.len is not None:
        n = max(int(ip.len) - int(ip.ihl or 5) * 4 - int(tcp.dataofs or 5) * 4, 0)
        data = data[:n]
    # Over IPv6 there is no padding to cut: the smallest frame with a TCP header (74 bytes) is above
    # Ethernet's minimum of 60.
    return data


def tcp_option(pkt: Any, name: str) -> Any:
    """The value of TCP option ``name`` ("MSS", "WScale", "SAckOK", "Timestamp", "SAck"), or None."""
    from scapy.layers.inet import TCP

    tcp = pkt.getlayer(TCP)
    for opt in (tcp.options if tcp is not None else []):
        if isinstance(opt, tuple) and opt[0] == name:
            return opt[1] if opt[1] is not None else True
    return None


def _short(data: bytes) -> str:
    return f"{data[:32]!r}{'...' if len(data) > 32 else ''} ({len(data)} bytes)"


def _remote_addr(peer: "Peer", remote: Any) -> str:
    ip = getattr(remote, "ip", remote)
    if not isinstance(ip, str):
        raise ConfigError(f"remote must be a node with an IP address or an address string, got {remote!r}")
    return ip


class TCPConn:
    """One TCP connection between a scripted peer and a remote (host, peer or address).

    ``remote_port`` may be None for a connection the remote opens (learned
    from its SYN by :meth:`accept`). ``local_port`` defaults to a fixed
    sequence from 40000. ``isn`` (default 1000) is our initial sequence
    number, ``window`` the receive window we advertise (bytes).
    """

    def __init__(self, peer: "Peer", remote: Any, remote_port: Optional[int] = None,
                 local_port: Optional[int] = None, *, isn: int = 1000, window: int = 65535,
                 mss: Optional[int] = None, wscale: Optional[int] = None, sack: bool = False,
                 ts: bool = False, strict: bool = False):
        self.peer = peer
        self.remote = remote
        self.remote_ip = _remote_addr(peer, remote)
        try:
            self.v6 = ipaddress.ip_address(self.remote_ip).version == 6
        except ValueError:
            raise ConfigError(f"{peer.name}.tcp(): remote address {self.remote_ip!r} is not an IP address") from None
        #: The peer's end of the connection: its IPv4 address, or over IPv6 the address it sends from to the remote.
        self.local_ip: Optional[str] = peer.ip
        if self.v6:
            if not getattr(peer, "ip6", None):
                raise ConfigError(f"{peer.name}.tcp(): the peer needs an IPv6 address (give ipv6=) to reach "
                                  f"{self.remote_ip}")
            self.local_ip = peer._src6_for(self.remote_ip)
        elif peer.ip is None:
            raise ConfigError(f"{peer.name}.tcp(): the peer needs an IPv4 address (give ipv4=)")
        self.remote_port = None if remote_port is None else check_port(remote_port, "port", allow_zero=False)
        self.local_port = (40000 + next(_ports) % 20000 if local_port is None
                           else check_port(local_port, "local_port", allow_zero=False))
        check_uint(window, "window", 32, what="the advertised receive window in bytes")
        if mss is not None:
            check_uint(mss, "mss", 16, what="the MSS option's 16-bit value")
        if wscale is not None:  # a one-byte field: a test may well send a shift above 14 on purpose
            check_uint(wscale, "wscale", 8, what="the window scale option's one-byte shift")
        self.iss = isn % MOD
        self.snd_una = self.iss
        self.snd_nxt = self.iss
        self.irs: Optional[int] = None
        self.rcv_nxt: Optional[int] = None
        self.window = window
        self.snd_wnd = 0
        # what we offer
        self.mss, self.wscale, self.sack, self.ts = mss, wscale, sack, ts
        # what the remote offered
        self.remote_mss: Optional[int] = None
        self.remote_wscale: Optional[int] = None
        self.remote_sack = False
        self.remote_ts = False
        self.ts_recent = 0
        self.last: Any = None  # the last segment received
        #: Strict expectations: the segment :meth:`expect` waits for must be this connection's next one; any
        #: other segment of the connection before it fails, named (frames of other connections are left alone).
        self.strict = bool(strict)

    def __repr__(self) -> str:
        return (f"<TCPConn {self.local_ip}:{self.local_port} <-> {self.remote_ip}:{self.remote_port} "
                f"snd_una={self.snd_una} snd_nxt={self.snd_nxt} rcv_nxt={self.rcv_nxt}>")

    # -- negotiated state ----------------------------------------------------

    @property
    def ts_ok(self) -> bool:
        """Timestamps in use (both sides sent TSopt in their SYN)."""
        return self.ts and self.remote_ts

    @property
    def wscale_ok(self) -> bool:
        """Window scaling in use (both sides sent the option)."""
        return self.wscale is not None and self.remote_wscale is not None

    def _tsval(self) -> int:
        return (self.peer.net.now_ns // 1_000_000 + 1) % MOD

    def _syn_options(self, answering: bool) -> list:
        opts: list = []
        if self.mss is not None:
            opts.append(("MSS", self.mss))
        if self.sack and (not answering or self.remote_sack):
            opts.append(("SAckOK", b""))
        if self.ts and (not answering or self.remote_ts):
            opts.append(("Timestamp", (self._tsval(), self.ts_recent if answering else 0)))
        if self.wscale is not None and (not answering or self.remote_wscale is not None):
            opts += [("NOP", None), ("WScale", self.wscale)]
        return opts

    # -- sending ----------------------------------------------------------------

    def _ip(self, src: Any, dst: Any) -> Any:
        """The IP layer of this connection's family."""
        if self.v6:
            from scapy.layers.inet6 import IPv6

            return IPv6(src=src, dst=dst)
        from scapy.layers.inet import IP

        return IP(src=src, dst=dst)

    def segment(self, flags: str = "A", payload: bytes = b"", seq: Optional[int] = None,
                ack: Optional[int] = None, window: Optional[int] = None, options: Optional[list] = None,
                **tcp_fields: Any) -> Any:
        """Build (without sending) the IP/TCP segment :meth:`send` would send."""
        from scapy.layers.inet import TCP
        from scapy.packet import Raw

        if self.remote_port is None:
            raise ConfigError("the remote port is not known yet (accept() learns it from the SYN)")
        syn = "S" in flags
        if seq is None:
            seq = self.snd_nxt
        if ack is None:
            ack = self.rcv_nxt if ("A" in flags and self.rcv_nxt is not None) else 0
        if options is None:
            if syn:
                options = self._syn_options(answering="A" in flags)
            elif self.ts_ok:
                options = [("NOP", None), ("NOP", None), ("Timestamp", (self._tsval(), self.ts_recent))]
            else:
                options = []
        if window is None:
            window = self.window if syn or not self.wscale_ok else self.window >> self.wscale  # type: ignore[operator]
            window = min(window, 65535)
        seg = self._ip(self.local_ip, self.remote_ip) / TCP(
            sport=self.local_port, dport=self.remote_port, flags=flags, seq=seq, ack=ack,
            window=window, options=options, **tcp_fields)
        if payload:
            seg = seg / Raw(payload)
        return seg

    def send(self, flags: str = "A", payload: bytes = b"", seq: Optional[int] = None,
             ack: Optional[int] = None, window: Optional[int] = None, options: Optional[list] = None,
             **tcp_fields: Any) -> Any:
        """Send a segment now; return it.

        ``seq`` defaults to ``snd_nxt`` and ``ack`` to ``rcv_nxt`` (when
        ``flags`` has A). A segment sent at ``snd_nxt`` advances it by its
        length (SYN and FIN count one). ``window`` is in the header's units
        (default: our window, scaled once scaling is in use). Other keywords
        are TCP header fields (``urgptr``, ``dataofs``, ``chksum``...).
        """
        seg = self.segment(flags, payload, seq, ack, window, options, **tcp_fields)
        self.peer.send(seg)
        from scapy.layers.inet import TCP

        t = seg[TCP]
        length = len(payload) + ("S" in flags) + ("F" in flags)
        end = seq_add(int(t.seq), length)
        if seq_lt(self.snd_nxt, end):
            self.snd_nxt = end
        return seg

    def send_burst(self, payloads: list, flags: str = "A") -> list:
        """Send one segment per payload at ``snd_nxt`` onwards, back to back at one instant
        (:meth:`pyharness.peer.Peer.send_all`); return them. ``snd_nxt`` advances past them."""
        segs = []
        for payload in payloads:
            segs.append(self.segment(flags, payload, seq=self.snd_nxt))
            self.snd_nxt = seq_add(self.snd_nxt, len(payload))
        self.peer.send_all(segs)
        return segs

    def send_data(self, payload: bytes, flags: str = "PA") -> Any:
        """Send ``payload`` at ``snd_nxt`` with ``flags`` (default PSH+ACK)."""
        return self.send(flags=flags, payload=payload)

    # -- receiving ----------------------------------------------------------------

    def _template(self, flags: Optional[str], seq: Optional[int], ack: Optional[int], window: Any,
                  **tcp_fields: Any) -> Any:
        from scapy.layers.inet import TCP

        fields: dict[str, Any] = {"sport": self.remote_port, "dport": self.local_port}
        if self.remote_port is None:
            del fields["sport"]
        for name, value in (("flags", flags), ("seq", seq), ("ack", ack), ("window", window)):
            if value is not None:
                fields[name] = value
        fields.update(tcp_fields)
        return self._ip(self.remote_ip, self.local_ip) / TCP(**fields)

    def expect(self, flags: Optional[str] = None, seq: Optional[int] = None, ack: Optional[int] = None,
               payload: Optional[bytes] = None, window: Any = None, *, within: Optional[TimeLike] = None,
               at: Optional[TimeLike] = None, tolerance: Optional[TimeLike] = None,
               mss: Any = None, wscale: Any = None, sack_ok: Optional[bool] = None, ts: Optional[bool] = None,
               strict: Optional[bool] = None, **tcp_fields: Any) -> Any:
        """Wait for a segment of this connection; check what is given; update the state; return it.

        Values may be predicates or ``ANY`` as in templates. ``payload``
        (bytes) is the exact payload (``b""``: none). ``mss``/``wscale``
        check those options' values; ``sack_ok``/``ts`` their presence.
        Window, MSS, scaling, SACK and timestamps the remote announces are
        recorded; ``rcv_nxt`` advances over in-order data, SYN and FIN, and
        ``snd_una`` over what it acknowledges. ``strict`` (default: the
        connection's ``strict`` attribute): any other segment of this connection
        arriving first fails the expectation, naming it.
        """
        extra: list = []
        if payload is not None:
            want = bytes(payload)
            extra.append(("TCP.payload", Pred(lambda p: tcp_payload(p) == want, _short(want)),
                          lambda p: _short(tcp_payload(p))))
        for name, opt, value in (("mss", "MSS", mss), ("wscale", "WScale", wscale)):
            if value is not None:
                from .template import check_value

                extra.append((f"TCP.{name}", Pred(lambda p, o=opt, v=value: check_value(v, tcp_option(p, o)),
                                                  repr(value)), lambda p, o=opt: tcp_option(p, o)))
        for name, opt, value in (("sack_ok", "SAckOK", sack_ok), ("ts", "Timestamp", ts)):
            if value is not None:
                extra.append((f"TCP.{name}", Pred(lambda p, o=opt, v=value: (tcp_option(p, o) is not None) == v,
                                                  "present" if value else "absent"),
                              lambda p, o=opt: "present" if tcp_option(p, o) is not None else "absent"))
        from .expect import expect

        what = self._describe(flags, seq, ack, payload, window, mss, wscale, sack_ok, ts, tcp_fields)
        strict = self.strict if strict is None else bool(strict)
        pkt = expect(self.peer, self._template(flags, seq, ack, window, **tcp_fields), within=within, at=at,
                     tolerance=tolerance, extra=extra, what=what, strict=strict,
                     scope=self._template(None, None, None, None) if strict else None)
        self._received(pkt)
        return pkt

    def _describe(self, flags: Any, seq: Any, ack: Any, payload: Any, window: Any, mss: Any, wscale: Any,
                  sack_ok: Any, ts: Any, tcp_fields: dict) -> str:
        parts = [f"{k}={v!r}" if not isinstance(v, (int, str)) or isinstance(v, bool) else f"{k}={v}"
                 for k, v in (("flags", flags), ("seq", seq), ("ack", ack), ("window", window), ("mss", mss),
                              ("wscale", wscale), ("sack_ok", sack_ok), ("ts", ts), *tcp_fields.items())
                 if v is not None]
        if payload is not None:
            parts.append(f"payload={bytes(payload)[:32]!r} ({len(payload)} bytes)")
        return (f"segment {self.remote_ip}:{self.remote_port if self.remote_port is not None else '*'} > "
                f"{self.local_ip}:{self.local_port} [{' '.join(parts)}]")

    def _received(self, pkt: Any) -> None:
        from scapy.layers.inet import TCP

        t = pkt[TCP]
        flags = str(t.flags)
        self.last = pkt
        if self.remote_port is None:
            self.remote_port = int(t.sport)
        seq = int(t.seq)
        if "S" in flags:
            self.irs = seq
            self.rcv_nxt = seq_add(seq, 1)
            self.remote_mss = tcp_option(pkt, "MSS")
            self.remote_wscale = tcp_option(pkt, "WScale")
            self.remote_sack = tcp_option(pkt, "SAckOK") is not None
            self.remote_ts = tcp_option(pkt, "Timestamp") is not None
        elif self.rcv_nxt is not None and seq == self.rcv_nxt:
            self.rcv_nxt = seq_add(self.rcv_nxt, len(tcp_payload(pkt)) + ("F" in flags))
        tsopt = tcp_option(pkt, "Timestamp")
        if tsopt is not None and tsopt is not True:
            self.ts_recent = int(tsopt[0])
        if "A" in flags:
            ack = int(t.ack)
            if seq_lt(self.snd_una, ack) and not seq_lt(self.snd_nxt, ack):
                self.snd_una = ack
            shift = self.remote_wscale if (self.wscale_ok and "S" not in flags) else 0
            self.snd_wnd = int(t.window) << (shift or 0)

    def expect_data(self, data: bytes, within: TimeLike = "1s", ack: bool = False) -> bytes:
        """Receive exactly ``data`` in order (over one or more segments); ACK each segment if ``ack``."""
        from scapy.layers.inet import TCP

        from .template import ANY

        got = b""
        while len(got) < len(data):
            pkt = self.expect(seq=self.rcv_nxt if self.rcv_nxt is not None else ANY, within=within)
            chunk = tcp_payload(pkt)
            if not chunk and "F" not in str(pkt[TCP].flags):
                continue
            got += chunk
            if data[: len(got)] != got:
                raise AssertionError(f"{self.peer.name}: expected data {data!r}, received {got!r} so far")
            if ack:
                self.send(flags="A")
        return got

    def expect_nothing(self, for_: TimeLike, flags: Optional[str] = None, **tcp_fields: Any) -> None:
        """Fail if a segment of this connection (with ``flags``...) arrives within ``for_``."""
        from .expect import expect_nothing

        expect_nothing(self.peer, for_=for_, matching=self._template(flags, None, None, None, **tcp_fields))

    # -- handshakes ---------------------------------------------------------------

    def connect(self, within: TimeLike = "1s") -> Any:
        """Active open from the peer: send SYN, expect SYN-ACK acknowledging it, send ACK. Returns the SYN-ACK.

        Strict: the SYN-ACK must be the connection's next segment (a RST or anything else first fails, named).
        """
        self.send(flags="S")
        synack = self.expect(flags="SA", ack=self.snd_nxt, within=within, strict=True)
        self.send(flags="A")
        return synack

    def accept(self, within: TimeLike = "1s") -> Any:
        """Passive open: expect the remote's SYN, send SYN-ACK, expect the ACK. Returns the SYN.

        While waiting for the ACK (``within`` in all), a retransmitted SYN
        (the same sequence number: our SYN-ACK was lost) is answered with
        the same SYN-ACK again, as a TCP in SYN-RECEIVED does, so the
        handshake survives loss on the link.
        """
        from .units import parse_time

        syn = self.expect(flags="S", within=within)
        irs = self.irs
        self.send(flags="SA")
        net = self.peer.net
        end = net.now_ns + parse_time(within, "within")
        syn_or_ack = Pred(lambda f: str(f) in ("S", "A"), "S (a retransmitted SYN) or A")
        while True:
            pkt = self.expect(flags=syn_or_ack, within=f"{max(0, end - net.now_ns)}ns")
            t = pkt["TCP"]
            if str(t.flags) == "A":
                if int(t.ack) != self.snd_nxt:
                    raise AssertionError(f"{self.peer.name}: expected the ACK of our SYN-ACK (ack={self.snd_nxt}), "
                                         f"got ack={int(t.ack)} at {pkt.time_ns / 1e9:.9f}s")
                return syn
            if int(t.seq) != irs:
                raise AssertionError(f"{self.peer.name}: a SYN with a new sequence number {int(t.seq)} "
                                     f"(the first had {irs}) during the handshake")
            self.send(flags="SA", seq=self.iss)  # the same SYN-ACK again

    def close(self, within: TimeLike = "1s") -> None:
        """Send FIN+ACK and expect it acknowledged."""
        self.send(flags="FA")
        self.expect(flags=Pred(lambda f: "A" in str(f), "has A"), ack=self.snd_nxt, within=within)

    def reset(self) -> Any:
        """Send RST at ``snd_nxt``."""
        return self.send(flags="R", ack=0)


__all__ = ["TCPConn", "seq_add", "seq_lt", "tcp_payload", "tcp_option"]
