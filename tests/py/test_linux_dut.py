"""The Linux DUT backend (pyharness/linux_dut.py, pyharness/_sockhelper.py).

The live tests need a TAP device in a network namespace (root, /dev/net/tun);
elsewhere they are skipped with that reason. The rest runs everywhere.
"""

from __future__ import annotations

import errno
import json
import struct
import subprocess
import sys

import pytest

from pyharness import _sockhelper
from pyharness.dut import MS, SEC, TERN_PROFILE
from pyharness.errors import NetworkError, WouldBlockError
from pyharness.linux_dut import LINUX_PROFILE, LINUX_SYSCTLS, errno_error, linux_unavailable

live = pytest.mark.skipif(linux_unavailable() is not None, reason=f"Linux DUT unavailable: {linux_unavailable()}")


def test_profiles_differ_where_linux_differs():
    assert LINUX_PROFILE.rto_min == 200 * MS and TERN_PROFILE.rto_min == 1 * SEC
    assert LINUX_PROFILE.delack == 40 * MS
    assert LINUX_PROFILE.time_wait == 60 * SEC
    assert LINUX_PROFILE.timing_tolerance > 0 and TERN_PROFILE.timing_tolerance == 0
    # the sysctls set in the namespace are the values the profile states
    assert LINUX_SYSCTLS["net.ipv4.ipfrag_time"] * SEC == LINUX_PROFILE.reasm_timeout
    assert LINUX_SYSCTLS["net.ipv4.tcp_keepalive_time"] * SEC == LINUX_PROFILE.keepalive_idle
    assert LINUX_SYSCTLS["net.ipv4.tcp_syn_retries"] == LINUX_PROFILE.syn_retries


def test_errno_maps_to_the_tern_exceptions():
    e = errno_error(errno.ECONNREFUSED, "Connection refused", "tcp.connect")
    assert isinstance(e, NetworkError) and e.error_name == "CONN_REFUSED"
    assert isinstance(errno_error(errno.EAGAIN, "", "x"), WouldBlockError)
    assert "in use" in str(errno_error(errno.EADDRINUSE, "", "udp.bind"))
    assert "broadcast" in str(errno_error(errno.EACCES, "", "udp.sendto"))


def test_tcp_info_parsing_pads_short_structs():
    raw = struct.pack("=BBBBBBBB", 1, 0, 2, 0, 1, 7, 0x75, 0) + struct.pack("=I", 204000)
    info = _sockhelper.parse_tcp_info(raw)
    assert info["state"] == 1 and info["retransmits"] == 2 and info["rto"] == 204000
    assert info["snd_wnd"] == 0  # beyond what the kernel gave


def test_helper_speaks_json_lines_without_a_namespace():
    p = subprocess.run([sys.executable, _sockhelper.__file__], input='{"op": "ping"}\n{"op": "nope"}\n'
                       '{"op": "bind", "sid": 99, "addr": "", "port": 1}\n', capture_output=True, text=True, timeout=20)
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    assert lines[0] == {"ok": "pong"}
    assert "error" in lines[1]
    assert lines[2]["errno"] == errno.EBADF


def test_plugin_has_the_dut_option(pytester):
    pytester.makepyfile("""
        import pytest
        @pytest.mark.dut("tern", reason="reads Tern counters")
        def test_tern_only(): pass
        def test_any(): pass
    """)
    r = pytester.runpytest("--dut", "linux", "-rs")
    r.assert_outcomes(passed=1, skipped=1)
    r.stdout.fnmatch_lines(["*applies to DUT tern, not linux: reads Tern counters*"])


def test_linux_deviation_is_xfail_under_linux_only(pytester):
    pytester.makepyfile("""
        import pytest
        from pyharness.dut import linux_deviation
        @linux_deviation('RFC 0000 1: "MUST"')
        def test_deviates(): assert False
        @pytest.mark.parametrize("x", [1, pytest.param(2, marks=linux_deviation("RFC 0000 2"))])
        def test_param(x): assert x == 1
    """)
    r = pytester.runpytest("--dut", "linux", "-rx")
    r.assert_outcomes(passed=1, xfailed=2)
    r.stdout.fnmatch_lines(["*linux deviates: RFC 0000 1*"])
    r = pytester.runpytest("--dut", "tern")
    r.assert_outcomes(passed=1, failed=2)


def test_linux_deviation_is_strict_an_unexpected_pass_fails(pytester):
    """A scenario marked as a Linux deviation that passes under Linux fails the run (XPASS(strict)): the marker
    claims the kernel breaks the RFC there, and a pass shows the claim is false (or the scenario too weak)."""
    pytester.makepyfile("""
        import pytest
        from pyharness.dut import linux_deviation
        @linux_deviation('RFC 0000 1: "MUST"')
        def test_marked_but_passes(): assert True
        @linux_deviation('RFC 0000 2: "MUST"')
        def test_marked_and_fails(): assert False
        @pytest.mark.parametrize("x", [1, pytest.param(2, marks=linux_deviation("RFC 0000 3"))])
        def test_param(x): assert x in (1, 2)
    """)
    r = pytester.runpytest("--dut", "linux", "-rfx")
    r.assert_outcomes(failed=2, xfailed=1, passed=1)
    r.stdout.fnmatch_lines(["*XPASS(strict)*linux deviates: RFC 0000 1*"])
    r = pytester.runpytest("--dut", "tern")
    r.assert_outcomes(passed=3, failed=1)
    assert r.ret != 0


def test_linux_profile_states_the_open_choices():
    assert (TERN_PROFILE.loss_recovery, LINUX_PROFILE.loss_recovery) == ("rack", "rack")
    assert TERN_PROFILE.classic_recovery == {"rack": False, "tail_loss_probe": False, "abc_l2": False}
    assert LINUX_PROFILE.classic_recovery is None
    assert (TERN_PROFILE.frag_overlap, LINUX_PROFILE.frag_overlap) == ("reassemble", "drop")
    assert TERN_PROFILE.backlog_extra == 0 and LINUX_PROFILE.backlog_extra == 1
    assert TERN_PROFILE.quickacks == 0 and LINUX_PROFILE.quickacks > 0
    assert LINUX_PROFILE.arp_queue is None and LINUX_PROFILE.udp_rx_queue is None


def test_tolerance_is_zero_in_virtual_time():
    assert TERN_PROFILE.tolerance(1 * SEC) == 0 and TERN_PROFILE.tolerance(0) == 0


def test_tolerance_adds_the_timer_wheel_bucket():
    from pyharness.dut import DutProfile

    fixed = DutProfile(name="rt", timing_tolerance=20 * MS, timing_tolerance_frac=0.05)
    assert fixed.tolerance(1 * SEC) == 20 * MS + 50 * MS
    assert fixed.tolerance(-5 * SEC) == 20 * MS  # a negative interval counts as 0
    hz250 = DutProfile(name="hz250", timer_hz=250)  # 4 ms ticks
    assert hz250.tolerance(100 * MS) == 4 * MS  # 25 ticks: level 0, one tick
    assert hz250.tolerance(1 * SEC) == 32 * MS  # 250 ticks: 8-tick buckets
    assert hz250.tolerance(10 * SEC) == 256 * MS  # 2500 ticks: 64-tick buckets
    assert hz250.tolerance(20 * SEC) == 2048 * MS  # 5000 ticks: 512-tick buckets
    hz1000 = DutProfile(name="hz1000", timer_hz=1000, timing_tolerance=20 * MS, timing_tolerance_frac=0.05)
    assert hz1000.tolerance(1 * SEC) == 20 * MS + 50 * MS + 64 * MS  # 1000 ticks: 64-tick buckets


def test_profile_values_of_the_window_and_user_timeout_choices():
    assert (TERN_PROFILE.user_timeout_error, LINUX_PROFILE.user_timeout_error) == ("USER_TIMEOUT", "TIMED_OUT")
    assert (TERN_PROFILE.min_send_window, LINUX_PROFILE.min_send_window) == (1, 48)
    assert (TERN_PROFILE.window_scale_rounding, LINUX_PROFILE.window_scale_rounding) == ("down", "up")
    assert TERN_PROFILE.rx_buffer_is_window and not LINUX_PROFILE.rx_buffer_is_window


def _info_from(segs, r):
    """LinuxTcpSocket._tcp_info on canned segments (flags, seq, ack) and a canned tcp_info dict."""
    from pyharness.linux_dut import LinuxDut

    s = LinuxDut.__new__(LinuxDut)
    s._dut_segments = lambda tup: segs
    s._highest_sent = lambda segs, una, tup: una
    s._netstat_cached = lambda: {}
    s._last_window = lambda tup, shift: 0
    return s._tcp_info(dict(r), ("10.0.0.1", 80, "10.0.0.2", 40001), None)


def test_snd_una_counts_the_syn_once_for_either_open():
    est = {"state_name": "ESTABLISHED"}
    # passive open: Linux's bytes_acked does not count the SYN-ACK
    passive = [(0x12, 1000, 5001)]
    assert _info_from(passive, {**est, "bytes_acked": 0}).snd_una == 1001
    assert _info_from(passive, {**est, "bytes_acked": 8000}).snd_una == 9001
    # active open: it counts the SYN
    active = [(0x02, 1000, 0), (0x10, 1001, 5001)]
    assert _info_from(active, {**est, "bytes_acked": 1}).snd_una == 1001
    assert _info_from(active, {**est, "bytes_acked": 8001}).snd_una == 9001
    assert _info_from(active, {"state_name": "SYN_SENT", "bytes_acked": 0}).snd_una == 1000


@live
def test_udp_and_tcp_against_the_kernel(tmp_path):
    from scapy.layers.inet import IP, TCP, UDP

    from pyharness.linux_dut import LinuxNetwork, make_linux_dut

    net = LinuxNetwork(seed=1, artifacts=tmp_path)
    try:
        dut, peer, _link = make_linux_dut(net)
        s = dut.udp_socket(port=5000)
        s.sendto(b"hello", ("10.0.0.2", 9))
        got = peer.expect(IP(src="10.0.0.1") / UDP(sport=5000, dport=9), within="1s")
        assert bytes(got[UDP].payload)[:5] == b"hello"
        peer.send(IP(dst="10.0.0.1") / UDP(sport=9, dport=5000) / b"back")
        assert net.run(until=lambda: s.pending > 0, for_="1s")
        assert s.recvfrom() == (b"back", ("10.0.0.2", 9))
        # TCP: passive open, data, tcp_info mapped onto TcpInfo
        ls = dut.tcp_listen(80)
        conn = peer.tcp(dut, 80, local_port=40001)
        conn.connect(within="1s")
        net.run(for_="5ms")
        sock = ls.accept()
        assert sock is not None and sock.state == "ESTABLISHED"
        conn.send_data(b"abc")
        conn.expect(flags="A", ack=conn.snd_nxt, within="300ms")
        assert sock.recv() == b"abc"
        info = sock.info()
        assert info.rcv_nxt == conn.snd_nxt and info.snd_una == conn.rcv_nxt == info.snd_nxt
        assert info.remote_port == 40001
        # a real-time "at" check passes within the profile's tolerance
        sock.send(b"xyz")
        seg = conn.expect(flags="PA", payload=b"xyz", within="100ms")
        rto = sock.info().rto_ns
        assert rto >= LINUX_PROFILE.rto_min
        # The retransmission, unacknowledged, at SEG + RTO. The kernel's timer fires in real time: on a loaded
        # machine (the test must pass with the other core busy) it was seen 39 ms late, past the profile's
        # 20 ms + 5 %; 60 ms still tells the RTO (>= 200 ms) from an early or doubled one.
        conn.expect(flags="PA", payload=b"xyz", at=f"{seg.time_ns + rto}ns", tolerance="60ms")
        sock.abort()
        conn.expect(flags="RA", within="100ms")  # Linux: RST with ACK
        assert sock.state == "CLOSED"
    finally:
        net.close()


@live
def test_ipv6_bench_against_the_kernel(tmp_path):
    """The IPv6 bench of the Linux DUT: UDP and an echo socket over IPv6, the kernel's neighbour cache read
    back (the peer answered its NS), a joined group reported by the kernel's MLDv2 listener."""
    from scapy.layers.inet import UDP
    from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6MLReport2, IPv6

    from pyharness.linux_dut import LinuxNetwork, make_linux_dut

    net = LinuxNetwork(seed=1, artifacts=tmp_path)
    try:
        dut, peer, _link = make_linux_dut(net, family="ipv6")
        assert (dut.ip, dut.peer_ip) == ("fd00::1", "fd00::2")
        assert ("fd00::1", 64, "preferred") in dut.ipv6_addresses()
        assert dut.ipv6_addresses()[0][0] == dut.link_local
        assert dut.nd_lookup("fd00::2") == (None, "NONE")
        s = dut.udp_socket(port=5000)
        assert s.local == (None, 5000)
        s.sendto(b"hello6", ("fd00::2", 9))
        got = peer.expect(IPv6(src="fd00::1", dst="fd00::2") / UDP(sport=5000, dport=9), within="1s")
        assert bytes(got[UDP].payload) == b"hello6"
        assert dut.nd_lookup("fd00::2") == (peer.mac, "REACHABLE")  # the peer answered the kernel's NS
        peer.send(IPv6(src="fd00::2", dst="fd00::1") / UDP(sport=9, dport=5000) / b"back6")
        assert net.run(until=lambda: s.pending > 0, for_="1s")
        assert s.recvfrom() == (b"back6", ("fd00::2", 9))
        ping = dut.ping_socket(ident=0x66)
        ping.send("fd00::2", seq=3, payload=b"echo6")
        req = peer.expect(IPv6(src="fd00::1") / ICMPv6EchoRequest(id=0x66, seq=3), within="1s")
        assert req[ICMPv6EchoRequest].data == b"echo6"
        peer.send(IPv6(src="fd00::2", dst="fd00::1") / ICMPv6EchoReply(id=0x66, seq=3, data=b"echo6"))
        replies = []
        assert net.run(until=lambda: replies.append(ping.recv()) or replies[-1] is not None, for_="1s")
        assert replies[-1].src == "fd00::2" and replies[-1].seq == 3 and replies[-1].payload == b"echo6"
        dut.join_group("ff05::1:3")
        peer.expect(IPv6(src=dut.link_local, dst="ff02::16") / ICMPv6MLReport2(), within="1s")
    finally:
        net.close()


@live
def test_route_metrics_go_on_the_route_of_the_bench_family(tmp_path):
    """The TCP options Linux has only per route (initial_window -> initcwnd, rto_min) go on the route the
    scenario's connection takes: the IPv4 subnet route, or on an IPv6 bench the fd00::/64 prefix route (once
    they went on the IPv4 route only, and IPv6 connections kept IW 10)."""
    from pyharness.linux_dut import LinuxNetwork, make_linux_dut

    for family, show in (("ipv4", ["route", "show", "10.0.0.0/24"]), ("ipv6", ["-6", "route", "show", "fd00::/64"])):
        net = LinuxNetwork(seed=1, artifacts=tmp_path / family)
        try:
            dut, _peer, _link = make_linux_dut(net, family=family)
            dut.tcp_socket(initial_window=2, rto_min="300ms")
            routes = [r for r in dut.ns.ip(*show).splitlines() if r.strip()]
            assert len(routes) == 1, routes  # replaced in place, not a second route of another metric
            assert "initcwnd 2" in routes[0] and "rto_min lock 300ms" in routes[0], routes
        finally:
            net.close()


#: The IPv6 scenarios of `make test`'s Linux subset: wire checks only, no waits beyond a few seconds.
IPV6_SUBSET = ["scenarios/icmpv6/test_icmpv6_echo.py", "scenarios/nd/test_nd_redirect.py"]


@live
def test_ipv6_scenario_subset_passes_against_the_kernel():
    """A small subset of the IPv6 areas against the kernel (`make run-linux` runs them all): every scenario
    passes (or is a documented strict xfail), none fails, none is skipped for want of a harness feature."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    r = subprocess.run([sys.executable, "-m", "pytest", *IPV6_SUBSET, "--dut", "linux", "-q", "-p", "no:cacheprovider",
                        "-p", "no:xdist", "-rs"], cwd=root, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert " passed" in r.stdout and "skipped" not in r.stdout and "failed" not in r.stdout, r.stdout[-3000:]
