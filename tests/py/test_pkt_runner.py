"""The packetdrill-script runner: strict outbound matching, exact timing, errors as packetdrill writes them.

Each failing script has a passing twin (its positive control) that differs only in the line under test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pyharness.dut import make_tern_dut
from pyharness.pkt import PktError, PktUnsupported, parse, register_command, run_on_bench, run_script

PASSIVE = """0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
+0    > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK,nop,wscale 1>
+.1   < . 1:1(0) ack 1 win 257
+0    accept(3, ..., ...) = 4
"""


def run(net, text: str) -> None:
    """Run ``text`` on a fresh bench (``net`` is the test's network; a second run gets a network of its own)."""
    run_on_bench(parse(text, "t.pkt"), "tern", net)


def test_positive_control_delayed_ack(net):
    run(net, PASSIVE + "+0 < P. 1:101(100) ack 1 win 257\n+.2 > . 1:1(0) ack 101 win 32717\n")


def test_unexpected_outbound_packet_fails_naming_it(net):
    # The delayed ACK at 0.300 is not in the script: the read at 0.5 must not hide it.
    with pytest.raises(PktError) as e:
        run(net, PASSIVE + "+0 < P. 1:101(100) ack 1 win 257\n+.4 read(4, ..., 1000) = 100\n")
    msg = str(e.value)
    assert msg.startswith("t.pkt:9: unexpected outbound packet at 0.300000 sec")
    assert "actual packet: 0.300000 . 1:1(0) ack 101 win 32717" in msg


def test_unexpected_packet_at_end_of_script(net):
    # The SYN-ACK is never listed: the end of the script still checks what came.
    with pytest.raises(PktError, match=r"t.pkt:4: unexpected outbound packet at 0.000000 sec"):
        run(net, "\n".join(PASSIVE.splitlines()[:4]) + "\n")


def test_timing_error_as_packetdrill_writes_it(net):
    with pytest.raises(PktError) as e:
        run(net, PASSIVE + "+0 < P. 1:101(100) ack 1 win 257\n+.1 > . 1:1(0) ack 101 win 32717\n")
    msg = str(e.value)
    assert msg.splitlines()[0] == ("t.pkt:9: timing error: expected outbound packet at 0.200000 sec but happened at "
                                   "0.300000 sec; tolerance 0.000000 sec")
    assert "script packet: 0.200000 . 1:1(0) ack 101 win 32717" in msg
    assert "actual packet: 0.300000 . 1:1(0) ack 101 win 32717" in msg


def test_early_packet_is_a_timing_error(net):
    with pytest.raises(PktError, match=r"expected outbound packet at 0.400000 sec but happened at 0.300000 sec"):
        run(net, PASSIVE + "+0 < P. 1:101(100) ack 1 win 257\n+.3 > . 1:1(0) ack 101 win 32717\n")


def test_tolerance_option_is_honoured(net):
    run(net, "--tolerance_usecs=100000\n" + PASSIVE
        + "+0 < P. 1:101(100) ack 1 win 257\n+.1 > . 1:1(0) ack 101 win 32717\n")


def test_field_diff(net):
    with pytest.raises(PktError) as e:
        run(net, PASSIVE + "+0 < P. 1:101(100) ack 1 win 257\n+.2 > . 1:1(0) ack 100 win 32717\n")
    msg = str(e.value)
    assert "bad outbound TCP packet: ack" in msg
    assert re.search(r"ack\s+100\s+->\s+101", msg)


def test_syscall_result_and_errno(net):
    run(net, PASSIVE + "+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n+0 read(4, ..., 10) = -1 EAGAIN\n")
    with pytest.raises(PktError, match=r"t.pkt:9: read: expected result 5 but got -1 \(EAGAIN\)"):
        run(net, PASSIVE + "+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n+0 read(4, ..., 10) = 5\n")


def test_blocking_read_returns_at_the_data(net):
    run(net, PASSIVE + "+0...0.2 read(4, ..., 1000) = 100\n+.2 < P. 1:101(100) ack 1 win 257\n"
                       "+.2 > . 1:1(0) ack 101 win 32717\n")


def test_blocking_read_wrong_end_time(net):
    with pytest.raises(PktError, match=r"expected read to return at 0.400000 sec but it returned at 0.300000 sec"):
        run(net, PASSIVE + "+0...0.3 read(4, ..., 1000) = 100\n+.2 < P. 1:101(100) ack 1 win 257\n"
                           "+.2 > . 1:1(0) ack 101 win 32717\n")


def test_backticks_refused_naming_the_line(net):
    with pytest.raises(PktUnsupported, match=r"t.pkt:2: unsupported feature: back-quoted shell command `sysctl x`"):
        run(net, "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 `sysctl x`\n")


def test_option_the_dut_lacks_refused_naming_it_and_the_line(net):
    # TCP_QUICKACK is Linux's quick-ACK mode (the delayed-ACK twins set it to 0); Tern has no such mode.
    with pytest.raises(PktUnsupported, match=r"t.pkt:8: unsupported feature: setsockopt IPPROTO_TCP TCP_QUICKACK 0 "
                                             r"on this DUT \(unknown TCP socket option 'quickack'"):
        run(net, PASSIVE + "+0 setsockopt(4, IPPROTO_TCP, TCP_QUICKACK, [0], 4) = 0\n")


def test_backticks_with_a_handler(net):
    seen = []
    register_command(r"echo (\w+)", lambda r, m: seen.append(m.group(1)))
    run(net, "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 `echo hi`\n")
    assert seen == ["hi"]


def test_unsupported_syscall_names_feature_and_line(net):
    with pytest.raises(PktUnsupported, match=r"t.pkt:2: unsupported feature: system call writev\(\)"):
        run(net, "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 writev(3, ..., 0) = 0\n")


def test_code_block_on_tcp_info(net):
    run(net, PASSIVE + "+0 %{ assert tcpi_state == TCP_ESTABLISHED }%\n")
    with pytest.raises(PktError, match=r"t.pkt:8: assertion failed in %\{ \}% block"):
        run(net, PASSIVE + "+0 %{ assert tcpi_state == TCP_CLOSE_WAIT }%\n")


ACTIVE = """0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 1>
"""


def test_inbound_icmp_quotes_the_segment(net):
    run(net, ACTIVE + "+.1 < icmp unreachable port_unreachable [0:0(0)]\n"
                      "+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0\n")
    # Quoting ISN+1 (never sent) is ignored: the connect is still under way (the SO_ERROR check fails).
    with pytest.raises(PktError, match=r"t.pkt:6: getsockopt SO_ERROR: expected .* but the socket's error is 0"):
        run(net, ACTIVE + "+.1 < icmp unreachable port_unreachable [1:1(0)]\n"
                          "+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0\n")


UDP = """0     socket(..., SOCK_DGRAM, IPPROTO_UDP) = 3
+0    bind(3, ..., ...) = 0
+0    connect(3, ..., ...) = 0
+0    write(3, ..., 100) = 100
+0    > udp (100)
+.1   < udp (200)
+0    read(3, ..., 500) = 200
+0    sendto(3, ..., 10, 0, ..., ...) = 10
+0    > udp (10)
+0    sendmsg(3, {msg_name(...)=..., msg_iov(1)=[{..., 30}], msg_flags=0}, 0) = 30
+0    > udp (30)
+.1   < udp (40)
+0    recvmsg(3, {msg_name(...)=..., msg_iov(1)=[{..., 1000}], msg_flags=0}, 0) = 40
+.1   < udp (50)
+0    recvfrom(3, ..., 20, 0, ..., ...) = 20
+0    close(3) = 0
"""


def test_udp_socket_datagrams_both_ways(net):
    # A datagram to the closed port gets the ICMP port unreachable (RFC 1122 4.1.3.1), outbound in the script.
    run(net, UDP + "+.1   < udp (8)\n+0    > icmp unreachable port_unreachable\n")


def test_outbound_udp_length_checked(net):
    with pytest.raises(PktError, match=r"t.pkt:5: bad outbound UDP packet: length\n"
                                       r"script packet: 0.000000 udp \(99\)\nactual packet: 0.000000 udp \(100\)"):
        run(net, UDP.replace("> udp (100)", "> udp (99)"))


def test_outbound_icmp_type_checked_and_unexpected_icmp_named(net):
    with pytest.raises(PktError, match=r"t.pkt:18: bad outbound ICMP packet: code\n.*\n"
                                       r"actual packet: 0.400000 icmp unreachable port_unreachable"):
        run(net, UDP + "+.1   < udp (8)\n+0    > icmp unreachable host_unreachable\n")
    with pytest.raises(PktError, match=r"unexpected outbound packet at 0.400000 sec.*\n"
                                       r"actual packet: 0.400000 icmp unreachable port_unreachable"):
        run(net, UDP + "+.1   < udp (8)\n")


def test_sendmsg_recvfrom_on_tcp(net):
    run(net, PASSIVE + "+0 sendmsg(4, {msg_name(...)=..., msg_iov(1)=[{..., 10}], msg_flags=0}, 0) = 10\n"
                       "+0 > P. 1:11(10) ack 1 win 32767\n"
                       "+0 < P. 1:6(5) ack 11 win 257\n"
                       "+0 recvfrom(4, ..., 100, 0, ..., ...) = 5\n"
                       "+.2 > . 11:11(0) ack 6 win 32765\n")


def test_init_and_cleanup_commands_of_linux_scripts(net):
    # packetdrill's init command (no time, after the options) and cleanup command (after the last event);
    # set_sysctls.py's tcp_sack=0 takes effect: no sackOK in the SYN-ACK.
    run(net, "--tolerance_usecs=10000\n\n`../common/defaults.sh\n../common/set_sysctls.py "
             "/proc/sys/net/ipv4/tcp_sack=0 \\\n /proc/sys/net/ipv4/tcp_timestamps=0`\n" +
             PASSIVE.replace("<mss 1460,nop,nop,sackOK,nop,wscale 1>", "<mss 1460,nop,wscale 1>") +
             "`/tmp/sysctl_restore_${PPID}.sh`\n")
    with pytest.raises(PktUnsupported, match=r"t.pkt:1: unsupported feature: back-quoted shell command "
                                             r"`ip tcp_metrics flush`"):
        run(net, "`ip tcp_metrics flush`\n" + PASSIVE)


def test_unsupported_option_refused(net):
    with pytest.raises(PktUnsupported, match=r"unsupported option --ip_version=ipv6"):
        run(net, "--ip_version=ipv6\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n")


def test_unknown_tcpi_name_refused(net):
    with pytest.raises(PktError, match=r"t.pkt:8: unsupported feature: tcpi_unacked"):
        run(net, PASSIVE + "+0 %{ assert tcpi_unacked == 0 }%\n")


def test_wrong_seq_of_outbound_fails(net):
    """A positive control for the corpus's seq checks: the DUT's data at 1, the script says 2."""
    run(net, PASSIVE + "+0 write(4, ..., 10) = 10\n+0 > P. 1:11(10) ack 1 win 32767\n")
    with pytest.raises(PktError, match=r"bad outbound TCP packet: seq"):
        run(net, PASSIVE + "+0 write(4, ..., 10) = 10\n+0 > P. 2:12(10) ack 1 win 32767\n")


def test_sysctl_maps_to_socket_options(net):
    syn = "+0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>\n"
    listen = "+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n"
    run(net, "0 `sysctl -q net.ipv4.tcp_sack=0`\n" + listen + syn + "+0 > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 1>\n")
    # The positive control: without the sysctl the SYN-ACK permits SACK.
    with pytest.raises(PktError, match="bad outbound TCP packet: options"):
        run(net, "0 close(9) = -1 EBADF\n" + listen + syn + "+0 > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 1>\n")
    with pytest.raises(PktUnsupported, match=r"t.pkt:1: unsupported feature: sysctl net.ipv4.tcp_ecn"):
        run(net, "0 `sysctl -q net.ipv4.tcp_ecn=1`\n")


def test_poll_revents_checked(net):
    run(net, PASSIVE + "+0 poll([{fd=4, events=POLLIN|POLLOUT, revents=POLLOUT}], 1, 0) = 1\n")
    with pytest.raises(PktError, match=r"t.pkt:8: poll: fd 4: expected revents 0x1 but got 0x0"):
        run(net, PASSIVE + "+0 poll([{fd=4, events=POLLIN, revents=POLLIN}], 1, 0) = 1\n")


def test_getpeername_port_checked(net):
    with pytest.raises(PktError, match=r"getpeername: expected sin_port 1 but the socket's is 48879"):
        run(net, PASSIVE + "+0 getpeername(4, {sa_family=AF_INET, sin_port=htons(1)}, [16]) = 0\n")


def _sent_ecrs(net, text: str) -> list[tuple[int, int]]:
    """Run ``text`` and return (live TS val of the DUT's SYN, TS ecr of every segment the peer sent)."""
    from scapy.layers.inet import TCP

    dut, peer, _ = make_tern_dut(net)
    sent: list = []
    send = peer.send

    def record(frame, *a, **kw):
        sent.append(frame)
        return send(frame, *a, **kw)

    peer.send = record
    r = run_script(parse(text, "t.pkt"), dut, peer, net)
    ecrs = [dict(f[TCP].options).get("Timestamp", (0, None))[1] for f in sent if f.haslayer(TCP)]
    return r, ecrs


TS_ACTIVE = """0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) <...>
+.1 < S. 0:0(0) ack 1 win 5792 <mss 1460,sackOK,TS val 700 ecr 12345,nop,wscale 7>
+0 > . 1:1(0) ack 1 <nop,nop,TS val 5000 ecr 700>
+.1 < P. 1:101(100) ack 1 win 46 <nop,nop,TS val 800 ecr 5000>
+0 < P. 101:201(100) ack 1 win 46 <nop,nop,TS val 800 ecr 5030>
+0 > . 1:1(0) ack 201 <nop,nop,TS val 5300 ecr 800>
"""


def test_inbound_ecr_echoes_the_live_ts_val_the_script_named(net):
    # packetdrill's mapping: the SYN's options are <...> (they differ per DUT), so the SYN-ACK's ecr (a number the
    # script never wrote for an outbound packet) is the SYN's live TS val; ecr 5000 is the live value of the ACK the
    # script wrote as TS val 5000, and 5030 is 30 ticks after it (the interpolation of --tcp_ts_ecr_scaled).
    r, ecrs = _sent_ecrs(net, TS_ACTIVE)
    assert ecrs[0] != 12345 and ecrs[1] != 5000, ecrs  # not the script's numbers as written
    syn_val = r.ts_unnamed
    ack_val = r.ts_map[5000]
    assert syn_val is not None and ecrs == [syn_val, ack_val, (ack_val + 30) % 2**32]
    assert r.ts_base == (5000, ack_val) and 12345 not in (syn_val, ack_val)


def test_outbound_ts_val_is_not_checked_but_ecr_is(net):
    # The control: the DUT's TS val is whatever its clock says (script 5000), its ecr must be the peer's value.
    with pytest.raises(PktError, match=r"t.pkt:6: bad outbound TCP packet: options"):
        run(net, TS_ACTIVE.replace("TS val 5000 ecr 700", "TS val 5000 ecr 701"))


UDP_OPTS = (Path(__file__).resolve().parents[2] / "scenarios" / "pkt" / "udp_socket_options.pkt").read_text()


def test_udp_socket_options_trunc_and_quoted_datagram(net):
    run(net, UDP_OPTS)


@pytest.mark.parametrize("change, error", [
    # The TTL IP_TTL set is checked on the wire: 5, not the script's 6.
    (("> [ttl 5] udp (10)", "> [ttl 6] udp (10)"), r":17: bad outbound UDP packet: ttl"),
    # Without MSG_TRUNC a receive returns at most the buffer's length (100 of the 300 bytes).
    (("recvfrom(3, ..., 100, MSG_TRUNC, ..., ...) = 300", "recvfrom(3, ..., 100, 0, ..., ...) = 300"),
     r":21: recvfrom: expected result 300 but got 100"),
    # The quoted datagram is the script's 8-byte one: UDP length 16, not 17.
    (("[udp (8)]", "[udp (9)]"), r":29: bad outbound ICMP packet: quoted UDP length"),
    (("revents=POLLOUT}], 1, 0) = 1", "revents=POLLIN|POLLOUT}], 1, 0) = 1"), r":18: poll: fd 3: expected revents"),
    (("[SOCK_DGRAM]", "[SOCK_STREAM]"), r":14: getsockopt SO_TYPE: expected"),
])
def test_udp_socket_checks_fail_on_wrong_values(net, change, error):
    with pytest.raises(PktError, match=error):
        run(net, UDP_OPTS.replace(*change))


def test_outbound_icmp_quoting_a_tcp_segment_fails(net):
    # The DUT's port unreachable quotes the script's UDP datagram, not a TCP segment [0:0(0)].
    with pytest.raises(PktError, match=r"t.pkt:29: bad outbound ICMP packet: quoted protocol\n"
                                       r"script packet: .* \[0:0\(0\)\]\n"
                                       r"actual packet: .* \[udp \(8\)\]"):
        run(net, UDP_OPTS.replace("[udp (8)]", "[0:0(0)]"))


def test_udp_so_error_reports_the_icmp_error_once(net):
    # An ICMP port unreachable quoting the DUT's datagram: SO_ERROR reports ECONNREFUSED, then 0 (taken).
    text = ("0 socket(..., SOCK_DGRAM, IPPROTO_UDP) = 3\n+0 bind(3, ..., ...) = 0\n"
            "+0 sendto(3, ..., 10, 0, ..., ...) = 10\n+0 > udp (10)\n"
            "+.1 < icmp unreachable port_unreachable [udp (10)]\n")
    run(net, text + "+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0\n"
                    "+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0\n")
    with pytest.raises(PktError, match=r"t.pkt:6: getsockopt SO_ERROR: expected 0 but the socket's error is "
                                       r"ECONNREFUSED"):
        run(net, text + "+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0\n")


def test_blocking_poll_on_udp_returns_with_the_datagram(net):
    text = ("0 socket(..., SOCK_DGRAM, IPPROTO_UDP) = 3\n+0 bind(3, ..., ...) = 0\n"
            "+0...0.1 poll([{fd=3, events=POLLIN, revents=POLLIN}], 1, 1000) = 1\n+.1 < udp (20)\n"
            "+0 recv(3, ..., 100, 0) = 20\n")
    run(net, text)
    # The control: the poll times out after 50 ms with nothing (the datagram comes at 0.1).
    with pytest.raises(PktError, match=r"t.pkt:3: poll: fd 3: expected revents 0x1 but got 0x0"):
        run(net, text.replace("1, 1000) = 1", "1, 50) = 1"))


def test_udp_unsupported_option_named(net):
    with pytest.raises(PktUnsupported, match=r"t.pkt:2: unsupported feature: setsockopt SOL_SOCKET SO_RCVBUF on a "
                                             r"UDP socket"):
        run(net, "0 socket(..., SOCK_DGRAM, IPPROTO_UDP) = 3\n+0 setsockopt(3, SOL_SOCKET, SO_RCVBUF, [1], 4) = 0\n")


def test_kernel_only_sysctl_with_the_tern_value(net):
    # tcp_syn_linear_timeouts=0 is Tern's behaviour (the SYN RTO doubles from the first); another value is refused.
    run(net, "0 `sysctl -q net.ipv4.tcp_syn_linear_timeouts=0`\n" + ACTIVE + "+1 > S 0:0(0) <...>\n")
    with pytest.raises(PktUnsupported, match=r"t.pkt:1: unsupported feature: sysctl "
                                             r"net.ipv4.tcp_syn_linear_timeouts=4 \(the DUT behaves as "):
        run(net, "0 `sysctl -q net.ipv4.tcp_syn_linear_timeouts=4`\n" + ACTIVE)


KEEPALIVE = """+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 setsockopt(3, SOL_SOCKET, SO_KEEPALIVE, [1], 4) = 0
""" + PASSIVE.split("\n", 1)[1]


def test_keepalive_sysctl_is_the_default_idle_time(net):
    # tcp_keepalive_time sets the idle time of sockets without TCP_KEEPIDLE (on Tern: the option on each new socket;
    # on Linux the namespace sysctl). The probe is SND.NXT-1 after 10 s of quiet.
    probe = "+10 > . 0:0(0) ack 1 win 32767\n"
    run(net, "0 `sysctl -q net.ipv4.tcp_keepalive_time=10`\n" + KEEPALIVE + probe)
    # The positive control: without the sysctl the idle time is two hours, nothing comes at 10 s.
    with pytest.raises(PktError, match=r"t.pkt:10: timed out waiting for outbound packet at 10.100000 sec"):
        run(net, "0 close(9) = -1 EBADF\n" + KEEPALIVE + probe)
    run(net, "0 `sysctl -q net.ipv4.tcp_keepalive_time=5`\n0 `sysctl -q net.ipv4.tcp_keepalive_intvl=2`\n"
             "0 `sysctl -q net.ipv4.tcp_keepalive_probes=1`\n" + KEEPALIVE + "+5 > . 0:0(0) ack 1 win 32767\n"
             "+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n+2 read(4, ..., 10) = -1 ETIMEDOUT\n")


def test_fin_timeout_sysctl_takes_only_tern_value(net):
    # Tern's FIN-WAIT-2 timeout is 60 s (Linux's default): a script may set that, not another value.
    run(net, "0 `sysctl -q net.ipv4.tcp_fin_timeout=60`\n" + PASSIVE)
    with pytest.raises(PktUnsupported, match=r"t.pkt:1: unsupported feature: sysctl net.ipv4.tcp_fin_timeout=5 "
                                             r"\(the DUT behaves as tcp_fin_timeout=60\)"):
        run(net, "0 `sysctl -q net.ipv4.tcp_fin_timeout=5`\n" + PASSIVE)


def test_so_oobinline_on_is_tern_behaviour_off_is_refused(net):
    urgent = "+0 < UP. 1:11(10) ack 1 win 257 urg 10\n+0 read(4, ..., 100) = 10\n+.2 > . 1:1(0) ack 11 win 32762\n"
    run(net, "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 setsockopt(3, SOL_SOCKET, SO_OOBINLINE, [1], 4) = 0\n"
        + PASSIVE.split("\n", 1)[1] + urgent)
    with pytest.raises(PktUnsupported, match=r"t.pkt:2: unsupported feature: setsockopt SOL_SOCKET SO_OOBINLINE 0 on this DUT "
                                             r"\(oobinline off is not supported: the Tern stack always reads urgent"):
        run(net, "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                 "+0 setsockopt(3, SOL_SOCKET, SO_OOBINLINE, [0], 4) = 0\n" + PASSIVE.split("\n", 1)[1] + urgent)


def test_realtime_marker_parsed_and_checked():
    from pyharness.pkt import PktSyntaxError

    assert parse("// realtime: 70 s\n0 close(9) = -1 EBADF\n", "t.pkt").realtime_s == 70
    assert parse("0 close(9) = -1 EBADF\n", "t.pkt").realtime_s is None
    with pytest.raises(PktSyntaxError, match=r"t.pkt:2: bad realtime marker '70' \(write: // realtime: 70 s\)"):
        parse("// x\n// realtime: 70\n0 close(9) = -1 EBADF\n", "t.pkt")


def test_relative_times_count_from_the_packets_arrival(net, monkeypatch):
    # A runner that takes 50 ms to match the SYN-ACK (as a busy machine's runner does in real time): the ACK at
    # +.1 still comes 100 ms after the SYN-ACK arrived, so the blocking accept returns on time.
    from pyharness.pkt.runner import Runner

    match = Runner._match

    def slow_match(self, want, frame):
        out = match(self, want, frame)
        self.net.run(for_="50ms")
        return out

    monkeypatch.setattr(Runner, "_match", slow_match)
    script = PASSIVE.replace("+0    accept(3, ..., ...) = 4\n", "").replace(
        "+0    listen(3, 1) = 0\n", "+0    listen(3, 1) = 0\n+0...0.1 accept(3, ..., ...) = 4\n")
    run(net, script)
    # The control: with the ACK written 50 ms later the accept returns late, named.
    with pytest.raises(PktError, match=r"accept blocked: expected to return at 0.100000 sec, still blocked at 0.15"):
        run(net, script.replace("+.1   < .", "+.15  < ."))
