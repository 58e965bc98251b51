"""The packetdrill-script parser: every construct, and errors that name the line."""

from __future__ import annotations

import pytest

from pyharness.pkt import PktSyntaxError, parse
from pyharness.pkt import ast as A


def one(text: str) -> A.Event:
    s = parse(text)
    assert len(s.events) == 1
    return s.events[0]


def test_options_lines():
    s = parse("--tolerance_usecs=10000\n--mss=1000\n0 close(3) = 0\n")
    assert s.options == {"tolerance_usecs": "10000", "mss": "1000"}


@pytest.mark.parametrize("text,time", [
    ("0.840 close(3) = 0", A.Time(A.ABSOLUTE, 840_000)),
    ("2 close(3) = 0", A.Time(A.ABSOLUTE, 2_000_000)),
    ("+.1 close(3) = 0", A.Time(A.RELATIVE, 100_000)),
    ("+0 close(3) = 0", A.Time(A.RELATIVE, 0)),
    ("* > . 1:1(0) ack 1", A.Time(A.ANY)),
    ("0.1~0.25 > . 1:1(0) ack 1", A.Time(A.ABSOLUTE_RANGE, 100_000, 250_000)),
    ("+0.1~+0.2 > . 1:1(0) ack 1", A.Time(A.RELATIVE_RANGE, 100_000, 200_000)),
])
def test_times(text, time):
    assert one(text).time == time


def test_time_is_read_without_floating_point():
    assert one("1.000001 close(3) = 0").time.usecs == 1_000_001
    assert one("0.3 close(3) = 0").time.usecs == 300_000


def test_tcp_packet_every_field():
    ev = one("+0 < [ect0, tos 0x10, ttl 7] P. 1:1001(1000) ack 5 win 257 urg 3 "
             "<mss 1460,sackOK,TS val 100 ecr 7,nop,wscale 7,sack 1:2 5:9,eol>")
    p = ev.action
    assert isinstance(p, A.TcpPacket)
    assert (p.direction, p.flags, p.seq, p.end, p.length, p.ack, p.win, p.urg) == ("<", "P.", 1, 1001, 1000, 5, 257, 3)
    assert (p.ecn, p.tos, p.ttl) == ("ect0", 16, 7)
    assert [o.kind for o in p.options] == ["mss", "sackOK", "TS", "nop", "wscale", "sack", "eol"]
    assert p.options[2].values == (100, 7) and p.options[5].values == (1, 2, 5, 9)


def test_options_not_checked():
    assert one("+0 > S. 0:0(0) ack 1 <...>").action.options is None


def test_flags_forms():
    assert one("+0 > . 1:1(0) ack 1").action.flags == "."
    assert one("+0 > F. 1:1(0) ack 1").action.flags == "F."
    assert one("+0 < S 0:0(0) win 1").action.flags == "S"
    assert one("+0 < R 0:0(0) win 0").action.flags == "R"


def test_udp_and_icmp_packets():
    assert one("+0 > udp (10)").action == A.UdpPacket(">", 10, 1)
    ic = one("+0 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]").action
    assert (ic.type, ic.code, ic.mtu, ic.quoted) == ("unreachable", "frag_needed", 1200, (1, 1461, 1460))
    # packetdrill's quoted UDP datagram, and the TTL of a UDP datagram
    iu = one("+0 > icmp unreachable port_unreachable [udp (8)]").action
    assert (iu.quoted, iu.quoted_udp, iu.text()) == (None, 8, "icmp unreachable port_unreachable [udp (8)]")
    u = one("+0 > [ttl 5] udp (10)").action
    assert (u.ttl, u.text()) == (5, "[ttl 5] udp (10)")
    with pytest.raises(PktSyntaxError, match="only \\[ttl N\\] is supported"):
        one("+0 > [ect0] udp (10)")


def test_syscalls():
    c = one("+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)").action
    assert (c.name, c.result, c.errno, c.note) == ("connect", -1, "EINPROGRESS", "Operation now in progress")
    assert isinstance(c.args[1], A.Ellipsis_)
    f = one("+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0").action
    assert f.args[2] == A.BinOp("|", A.Name("O_RDWR"), A.Name("O_NONBLOCK"))
    s = one("+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0").action
    assert s.args[3] == A.ListExpr((1,))
    b = one('+0 bind(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("192.0.2.1")}, 16) = 0').action
    st = b.args[1]
    assert st.fields[1] == ("sin_port", A.Call("htons", (8080,)))
    assert st.fields[2] == ("sin_addr", A.Call("inet_addr", ("192.0.2.1",)))


def test_blocking_call():
    ev = one("+0...0.100 read(4, ..., 1000) = 1000")
    assert ev.time == A.Time(A.RELATIVE, 0) and ev.action.end_usecs == 100_000


def test_commands_and_code():
    assert one("0 `sysctl -q net.ipv4.tcp_sack=1`").action == A.Command("sysctl -q net.ipv4.tcp_sack=1")
    assert one("+0 %{ assert tcpi_rto == 1000000 }%").action == A.Code(" assert tcpi_rto == 1000000 ")


def test_comments_and_lines():
    s = parse("// one\n/* two\nthree */\n0 close(3) = 0\n\n+0 close(4) = 0 // tail\n")
    assert [e.line for e in s.events] == [4, 6]


@pytest.mark.parametrize("text,line,words", [
    ("0 close(3) = 0\n+0 > X 1:1(0)\n", 2, "TCP flags"),
    ("0 close(3) = 0\n\n+0 > . 1:3(1) ack 1\n", 3, "inconsistent segment lengths"),
    ("0 close(3) = 0\n* close(4) = 0\n", 2, "event time * can only be used with outbound packets"),
    ("0.1~0.2 < . 1:1(0) ack 1 win 1\n", 1, "range can only be used with outbound"),
    ("0.2~0.1 > . 1:1(0) ack 1\n", 1, "backwards"),
    ("0 close(3) = 0\n+0 > . 1:1(0) ack 1 <mss 1, bogus 3>\n", 2, "unknown TCP option 'bogus'"),
    ("0 close(3\n", 1, "')'"),
    ("0 close(3) = 0\n+0 `echo\n", 2, "unterminated back-quoted command"),
    ("0 close(3) = 0\n+0 %{ x = 1\n", 2, "unterminated %{"),
    ("0 close(3) = 0\n--mss=1\n", 2, "options go at the top"),
    ("0 close(3) = 0\n+0 < . 1:1(0) ack 1 win 1 <TS val 1>\n", 2, "'ecr'"),
    ("0 close(3) = 0\n+0 > . 1:1(0) 7\n", 2, "expected an action after the time"),
    ("0 close(3) = 0\n+0 ] x\n", 2, "a packet, system call"),
    ("0 close(3) = 0\n+0 < [ecn bad] . 1:1(0) win 1\n", 2, "unknown ECN codepoint"),
])
def test_errors_name_the_line(text, line, words):
    with pytest.raises(PktSyntaxError) as e:
        parse(text, "x.pkt")
    assert e.value.line == line
    assert str(e.value).startswith(f"x.pkt:{line}: ")
    assert words in str(e.value)


# -- the syntax of Linux's own scripts (gtests/net/...), written here in the same style -----------------------


def test_init_and_cleanup_commands_multi_line():
    s = parse("--tolerance_usecs=10000\n\n`../common/defaults.sh\n../common/set_sysctls.py "
              "/proc/sys/net/ipv4/tcp_sack=0 \\\n\t /proc/sys/net/ipv4/tcp_dsack=0`\n\n"
              "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n`/tmp/sysctl_restore_${PPID}.sh`\n")
    assert s.init_command is not None and s.init_line == 3
    assert s.init_command.text.startswith("../common/defaults.sh\n../common/set_sysctls.py")
    assert s.cleanup_command == A.Command("/tmp/sysctl_restore_${PPID}.sh")
    assert len(s.events) == 1


def test_hex_fast_open_cookie_is_one_value():
    e = one("+0 > S. 0:0(0) ack 1 <mss 1460,sackOK,FOEXP 1313a2da994a0951>")
    assert e.action.options[-1] == A.TcpOption("FOEXP", ("1313a2da994a0951",))


def test_multi_line_call_errno_and_notes():
    s = parse("0 fcntl(3, F_GETFL) = 0x2 (flags O_RDWR)\n"
              "+1 recvmsg(3, {msg_name(...)=...,\n    msg_iov(1)=[{...,0}],\n    msg_flags=MSG_ERRQUEUE,\n"
              "    msg_control=[]}, MSG_ERRQUEUE) = -1 EAGAIN (Resource temporarily unavailable)\n")
    a, b = s.events[0].action, s.events[1].action
    assert (a.result, a.errno, a.note) == (2, None, "flags O_RDWR")
    assert (b.name, b.result, b.errno) == ("recvmsg", -1, "EAGAIN")


def test_no_flags_segment():
    assert one("+.01 < - 1:1001(1000) win 20000").action.flags == ""


def test_symbol_defined_on_the_command_line_is_named():
    with pytest.raises(PktSyntaxError, match=r"<script>:2: unsupported feature: symbol MSS defined outside the script"):
        parse("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < S 0:0(0) win 1000 <mss MSS>\n")
