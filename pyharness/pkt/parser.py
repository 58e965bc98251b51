"""A parser of packetdrill scripts, after packetdrill's grammar (``parser.y``) and ``syntax.md``.

Hand-written recursive descent (the grammar is small and line-oriented, and
errors must name the line); read :mod:`pyharness.pkt.ast` for the tree.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional, Union

from . import ast as A
from .errors import PktSyntaxError
from .lexer import Token, tokenize

#: TCP flag letters packetdrill knows (F S R P . U E W; '.' is ACK).
TCP_FLAGS = set("FSRPUEWA.")
#: Options the runner understands (others are refused by the runner, naming the line).
ECN_WORDS = ("ect0", "ect1", "ect01", "ce", "noecn")


def parse_time_text(text: str) -> int:
    """``"0.840"`` → 840000 microseconds, digit by digit (no floating point)."""
    whole, _, frac = text.partition(".")
    frac = (frac + "000000")[:6]
    return int(whole or "0") * 1_000_000 + int(frac)


def parse_file(path: Union[str, Path]) -> A.Script:
    """Parse the script at ``path``."""
    p = Path(path)
    return parse(p.read_text(), str(p))


def parse(text: str, path: str = "<script>") -> A.Script:
    """Parse a script's text; raises :class:`~pyharness.pkt.errors.PktSyntaxError` naming the line."""
    script = _Parser(tokenize(text, path), path).script()
    script.realtime_s = realtime_budget(text, path)
    return script


#: The header marker ``// realtime: 70 s``: the script needs this long in real time against a real-time DUT.
_REALTIME = re.compile(r"^\s*//\s*realtime\s*:(.*)$")


def realtime_budget(text: str, path: str = "<script>") -> Optional[int]:
    """The seconds of real time a script declares with ``// realtime: N s`` (None without the marker).

    A real-time DUT (Linux) allows a scenario 20 s (``TERN_LINUX_BUDGET``); a script waiting on the kernel's
    timers for longer (a 60 s TIME-WAIT) declares its need, and the runner allows it that long.
    """
    for n, line in enumerate(text.splitlines(), 1):
        m = _REALTIME.match(line)
        if m:
            value = re.fullmatch(r"\s*(\d+)\s*s\s*", m.group(1))
            if value is None or int(value.group(1)) == 0:
                raise PktSyntaxError(path, n, f"bad realtime marker {m.group(1).strip()!r} (write: // realtime: 70 s)")
            return int(value.group(1))
    return None


class _Parser:
    def __init__(self, tokens: list[Token], path: str):
        self.t = tokens
        self.i = 0
        self.path = path

    # -- helpers ------------------------------------------------------------

    def peek(self, k: int = 0) -> Optional[Token]:
        j = self.i + k
        return self.t[j] if j < len(self.t) else None

    def line(self) -> int:
        tok = self.peek()
        return tok.line if tok is not None else (self.t[-1].line if self.t else 1)

    def err(self, msg: str, tok: Optional[Token] = None) -> PktSyntaxError:
        return PktSyntaxError(self.path, tok.line if tok is not None else self.line(), msg)

    def next(self, what: str) -> Token:
        tok = self.peek()
        if tok is None:
            raise self.err(f"expected {what}, got end of script")
        self.i += 1
        return tok

    def accept(self, kind: str, value: Any = None) -> Optional[Token]:
        tok = self.peek()
        if tok is not None and tok.kind == kind and (value is None or tok.value == value):
            self.i += 1
            return tok
        return None

    def expect(self, kind: str, what: str, value: Any = None) -> Token:
        tok = self.peek()
        if tok is None or tok.kind != kind or (value is not None and tok.value != value):
            got = "end of script" if tok is None else repr(tok.text)
            raise self.err(f"expected {what}, got {got}", tok)
        self.i += 1
        return tok

    def integer(self, what: str) -> int:
        tok = self.peek()
        if tok is not None and tok.kind == "WORD" and re.fullmatch(r"[A-Z][A-Z0-9_]*", str(tok.value)):
            # Linux's scripts take values such as MSS from the command line (packetdrill -D MSS=1000).
            raise self.err(f"unsupported feature: symbol {tok.value} defined outside the script "
                           f"(packetdrill's --define / -D) where {what} is due", tok)
        return int(self.expect("INT", what).value)  # type: ignore[arg-type]

    def is_word(self, value: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "WORD" and tok.value == value

    # -- script -------------------------------------------------------------

    def script(self) -> A.Script:
        s = A.Script(self.path)
        while self.peek() is not None and self.peek().kind == "OPTION":  # type: ignore[union-attr]
            tok = self.next("option")
            name, _, value = str(tok.value)[2:].partition("=")
            s.options[name] = value
        tok = self.peek()
        if tok is not None and tok.kind == "BACKTICK":
            self.i += 1
            s.init_command = A.Command(str(tok.value))
            s.init_line = tok.line
        while self.peek() is not None:
            tok = self.peek()
            if tok.kind == "BACKTICK" and self.peek(1) is None and s.events:  # type: ignore[union-attr]
                self.i += 1
                s.cleanup_command = A.Command(str(tok.value))  # type: ignore[union-attr]
                s.cleanup_line = tok.line  # type: ignore[union-attr]
                break
            s.events.append(self.event())
        return s

    def event(self) -> A.Event:
        tok = self.peek()
        assert tok is not None
        if tok.kind == "OPTION":
            raise self.err(f"option {tok.text} after the first event: options go at the top of the script", tok)
        time = self.event_time()
        action = self.action(tok)
        if time.kind == A.ANY and not (isinstance(action, A.TcpPacket) and action.direction == ">"):
            raise self.err("event time * can only be used with outbound packets", tok)
        if time.kind in (A.ABSOLUTE_RANGE, A.RELATIVE_RANGE) and not (
                isinstance(action, (A.TcpPacket, A.UdpPacket, A.IcmpPacket)) and action.direction == ">"):
            raise self.err("event time range can only be used with outbound packets", tok)
        return A.Event(time, action, tok.line)

    def time_value(self) -> int:
        tok = self.next("a time")
        if tok.kind == "INT":
            if int(tok.value) < 0:  # type: ignore[arg-type]
                raise self.err("negative time", tok)
            return int(tok.value) * 1_000_000  # type: ignore[arg-type]
        if tok.kind == "FLOAT":
            if str(tok.value).startswith("-"):
                raise self.err("negative time", tok)
            return parse_time_text(str(tok.value))
        raise self.err(f"expected a time (seconds, like 0.1 or +0.1 or *), got {tok.text!r}", tok)

    def event_time(self) -> A.Time:
        if self.accept("*"):
            return A.Time(A.ANY)
        if self.accept("+"):
            t = self.time_value()
            if self.accept("~"):
                self.expect("+", "'+' (a relative range is +a~+b)")
                end = self.time_value()
                if end < t:
                    raise self.err("time range is backwards")
                return A.Time(A.RELATIVE_RANGE, t, end)
            return A.Time(A.RELATIVE, t)
        t = self.time_value()
        if self.accept("~"):
            end = self.time_value()
            if end < t:
                raise self.err("time range is backwards")
            return A.Time(A.ABSOLUTE_RANGE, t, end)
        return A.Time(A.ABSOLUTE, t)

    def action(self, first: Token) -> A.Action:
        tok = self.peek()
        if tok is None:
            raise self.err("expected an action after the time, got end of script", first)
        if tok.kind in ("<", ">"):
            return self.packet()
        if tok.kind == "BACKTICK":
            self.i += 1
            return A.Command(str(tok.value))
        if tok.kind == "CODE":
            self.i += 1
            return A.Code(str(tok.value))
        if tok.kind in ("ELLIPSIS", "WORD"):
            return self.syscall()
        raise self.err(f"expected a packet, system call, command or code block, got {tok.text!r}", tok)

    # -- packets ------------------------------------------------------------

    def packet(self) -> Union[A.TcpPacket, A.UdpPacket, A.IcmpPacket]:
        d = self.next("direction")
        direction = str(d.kind)
        ecn = tos = ttl = None
        if self.accept("["):
            ecn, tos, ttl = self.ip_info()
        if self.accept("("):
            # (ecn ...) / (tos ...) as the shorthand of the IP info
            ecn2, tos2, ttl2 = self.ip_info(close=")")
            ecn, tos, ttl = ecn2 or ecn, tos2 if tos2 is not None else tos, ttl2 if ttl2 is not None else ttl
        if self.is_word("udp"):
            self.i += 1
            self.expect("(", "'(' before the UDP length")
            n = self.integer("UDP payload length")
            self.expect(")", "')'")
            if ecn is not None or tos is not None:
                raise self.err("IP info of a UDP datagram: only [ttl N] is supported", d)
            return A.UdpPacket(direction, n, d.line, ttl)
        if self.is_word("icmp"):
            return self.icmp(direction, d.line)
        flags = self.flags()
        seq = self.integer("sequence number (start:end(length))")
        self.expect(":", "':' in start:end(length)")
        end = self.integer("end sequence number")
        self.expect("(", "'(' in start:end(length)")
        length = self.integer("segment length")
        self.expect(")", "')' in start:end(length)")
        if (end - seq) % 2**32 != length % 2**32:
            raise self.err(f"inconsistent segment lengths: {seq}:{end}({length})", d)
        ack = win = urg = None
        while True:
            if self.is_word("ack"):
                self.i += 1
                ack = self.integer("ack number")
            elif self.is_word("win"):
                self.i += 1
                win = self.integer("window")
            elif self.is_word("urg"):
                self.i += 1
                urg = self.integer("urgent pointer")
            else:
                break
        if ack is not None and "." not in flags:
            raise self.err("ack number given but the flags have no '.' (ACK)", d)
        options: Optional[tuple] = ()
        tok = self.peek()
        if tok is not None and tok.kind == "<" and tok.line == d.line:
            self.i += 1
            if self.accept("ELLIPSIS"):
                options = None
            else:
                options = self.tcp_options()
            self.expect(">", "'>' closing the option list")
        return A.TcpPacket(direction, flags, seq, end, length, ack, win, urg, options, ecn, tos, ttl, d.line)

    def ip_info(self, close: str = "]") -> tuple:
        ecn = tos = ttl = None
        while not self.accept(close):
            tok = self.next(f"IP info or '{close}'")
            if tok.kind == "WORD" and tok.value in ECN_WORDS:
                ecn = str(tok.value)
            elif tok.kind == "WORD" and tok.value == "ecn":
                ecn = str(self.expect("WORD", "an ECN codepoint (ect0, ect1, ce, noecn)").value)
                if ecn not in ECN_WORDS:
                    raise self.err(f"unknown ECN codepoint {ecn!r}", tok)
            elif tok.kind == "WORD" and tok.value == "tos":
                tos = self.integer("TOS value")
            elif tok.kind == "WORD" and tok.value == "ttl":
                ttl = self.integer("TTL value")
            elif tok.kind == ",":
                continue
            else:
                raise self.err(f"unknown IP info {tok.text!r} (known: {', '.join(ECN_WORDS)}, tos N, ttl N)", tok)
        return ecn, tos, ttl

    def flags(self) -> str:
        tok = self.next("TCP flags")
        if tok.kind == ".":
            return "."
        if tok.kind == "-":
            return ""  # packetdrill's "no flags at all"
        if tok.kind != "WORD" or not set(str(tok.value)) <= TCP_FLAGS:
            raise self.err(f"expected TCP flags (letters of FSRPUEW, '.' for ACK, '-' for none), got {tok.text!r}", tok)
        flags = str(tok.value)
        if self.accept("."):
            flags += "."
        return flags

    def tcp_options(self) -> tuple:
        out = [self.tcp_option()]
        while self.accept(","):
            out.append(self.tcp_option())
        return tuple(out)

    def tcp_option(self) -> A.TcpOption:
        tok = self.expect("WORD", "a TCP option (nop, eol, mss, wscale, sackOK, sack, TS, FO, md5)")
        k = str(tok.value)
        if k in ("nop", "eol", "sackOK"):
            return A.TcpOption(k)
        if k in ("mss", "wscale"):
            return A.TcpOption(k, (self.integer(f"{k} value"),))
        if k == "sack":
            vals: list[int] = []
            while self.peek() is not None and self.peek().kind == "INT":  # type: ignore[union-attr]
                vals.append(self.integer("SACK block start"))
                self.expect(":", "':' in a SACK block start:end")
                vals.append(self.integer("SACK block end"))
            return A.TcpOption("sack", tuple(vals))
        if k == "TS":
            self.expect("WORD", "'val' in TS val N ecr N", "val")
            val = self.integer("TS val")
            self.expect("WORD", "'ecr' in TS val N ecr N", "ecr")
            return A.TcpOption("TS", (val, self.integer("TS ecr")))
        if k in ("FO", "FOEXP", "md5"):
            tok2 = self.peek()
            cookie = ()
            if tok2 is not None and tok2.kind in ("WORD", "INT") and tok2.line == tok.line:
                self.i += 1
                cookie = (tok2.text,)
            return A.TcpOption(k, cookie)
        raise self.err(f"unknown TCP option {k!r}", tok)

    def icmp(self, direction: str, line: int) -> A.IcmpPacket:
        self.i += 1
        typ = str(self.expect("WORD", "ICMP type (unreachable, time_exceeded, echo_request...)").value)
        code = None
        tok = self.peek()
        if tok is not None and tok.kind == "WORD" and tok.value != "mtu" and tok.line == line:
            code = str(tok.value)
            self.i += 1
        mtu = None
        if self.is_word("mtu"):
            self.i += 1
            mtu = self.integer("MTU")
        quoted = quoted_udp = None
        if self.accept("["):
            if self.is_word("udp"):
                # packetdrill's [udp (N)]: the quoted datagram is a UDP one of N payload bytes
                self.i += 1
                self.expect("(", "'(' before the quoted UDP length")
                quoted_udp = self.integer("quoted UDP length")
                self.expect(")", "')'")
            else:
                s = self.integer("quoted sequence start")
                self.expect(":", "':'")
                e = self.integer("quoted sequence end")
                self.expect("(", "'('")
                n = self.integer("quoted length")
                self.expect(")", "')'")
                quoted = (s, e, n)
            self.expect("]", "']'")
        return A.IcmpPacket(direction, typ, code, quoted, mtu, line, quoted_udp)

    # -- system calls -------------------------------------------------------

    def syscall(self) -> A.Syscall:
        end = None
        if self.accept("ELLIPSIS"):
            end = self.time_value()
        name_tok = self.expect("WORD", "a system call name")
        self.expect("(", f"'(' after {name_tok.value}")
        args: list = []
        if not self.accept(")"):
            args.append(self.expr())
            while self.accept(","):
                args.append(self.expr())
            self.expect(")", f"')' closing the arguments of {name_tok.value}")
        eq = self.expect("=", f"'= result' after {name_tok.value}(...)")
        result = self.expr()
        errno = note = None
        # The errno and the note follow the result on its line (a call's arguments may span lines).
        tok = self.peek()
        if tok is not None and tok.kind == "WORD" and tok.line == eq.line:
            errno = str(tok.value)
            self.i += 1
            tok = self.peek()
        if tok is not None and tok.kind == "(" and tok.line == eq.line:
            # ``= -1 EAGAIN (Resource temporarily unavailable)``, ``= 0x2 (flags O_RDWR)``: a comment.
            self.i += 1
            words = []
            while not self.accept(")"):
                words.append(self.next("')' closing the note after the result").text)
            note = " ".join(words)
        return A.Syscall(str(name_tok.value), tuple(args), result, errno, note, end)

    def expr(self) -> A.Expr:
        left = self.term()
        while self.accept("|"):
            left = A.BinOp("|", left, self.term())
        return left

    def term(self) -> A.Expr:
        tok = self.next("an expression")
        if tok.kind == "INT":
            return int(tok.value)  # type: ignore[arg-type]
        if tok.kind == "ELLIPSIS":
            return A.Ellipsis_()
        if tok.kind == "STRING":
            return str(tok.value)
        if tok.kind == "IPV4":
            return str(tok.value)
        if tok.kind == "WORD":
            if self.accept("("):
                args: list = []
                if not self.accept(")"):
                    args.append(self.expr())
                    while self.accept(","):
                        args.append(self.expr())
                    self.expect(")", f"')' closing {tok.value}(")
                return A.Call(str(tok.value), tuple(args))
            return A.Name(str(tok.value))
        if tok.kind == "[":
            items: list = []
            if not self.accept("]"):
                items.append(self.expr())
                while self.accept(","):
                    items.append(self.expr())
                self.expect("]", "']' closing a list")
            return A.ListExpr(tuple(items))
        if tok.kind == "{":
            fields: list = []
            if not self.accept("}"):
                fields.append(self.field())
                while self.accept(","):
                    fields.append(self.field())
                self.expect("}", "'}' closing a structure")
            return A.StructExpr(tuple(fields))
        raise self.err(f"expected an expression, got {tok.text!r}", tok)

    def field(self) -> tuple:
        a, b = self.peek(), self.peek(1)
        if a is not None and b is not None and a.kind == "WORD" and b.kind == "=":
            self.i += 2
            return (str(a.value), self.expr())
        if a is not None and b is not None and a.kind == "WORD" and b.kind == "(":
            # msghdr's sized fields: ``msg_iov(1)=[...]``, ``msg_name(...)=...`` (packetdrill's syntax).
            start = self.i
            self.i += 1
            self.term_call_args()
            if self.accept("="):
                return (str(a.value), self.expr())
            self.i = start
        return (None, self.expr())

    def term_call_args(self) -> None:
        """Skip ``( expr, ... )`` after a field name (its size, which the runner does not need)."""
        self.expect("(", "'('")
        if not self.accept(")"):
            self.expr()
            while self.accept(","):
                self.expr()
            self.expect(")", "')'")


__all__ = ["parse", "parse_file", "parse_time_text"]
