"""The network shell over a simulation (pyharness/shell.py): the examples' --shell commands
on a Tern host of a Network, answered by the same C code (tern_netshell_run), at exact virtual
times. ping and dns run the network; the other commands only read the host.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pyharness.network import Network

ROOT = Path(__file__).resolve().parents[2]
#: A hang guard for each ``pyharness shell`` process, not a timing check: the process runs its scenario in
#: virtual time and ends by itself, so nothing is waited for but its exit. Its cost is a Python start (cffi,
#: scapy) and one second of virtual time, all CPU: the test's four runs took 10.6 s with both cores busy
#: (load average 14) and 37 s on a busier machine, against 60 s each. A limit that should fire only on a
#: hang must not depend on the machine's load, so it is ten minutes.
SHELL_PROCESS_LIMIT_S = 600


def two_hosts() -> tuple[Network, object, object]:
    net = Network(seed=1)
    h1 = net.host("h1", ipv4="10.0.0.1/24", ipv6="fd00::1/64", mac="02:00:00:00:00:01")
    h2 = net.host("h2", ipv4="10.0.0.2/24", ipv6="fd00::2/64", mac="02:00:00:00:00:02")
    net.link(h1, h2, delay="1ms")
    return net, h1, h2


def test_addresses_and_routes_of_both_families() -> None:
    net, h1, _ = two_hosts()
    assert h1.shell("iface").splitlines() == [
        "iface 0 mac 02:00:00:00:00:01 mtu 1500", "  ipv4 10.0.0.1/24", "  ipv6 fe80::ff:fe00:1/64",
        "  ipv6 fd00::1/64", "ok"]
    assert h1.shell("ipv4") == "10.0.0.1/24 iface 0\nok\n"
    assert h1.shell("ipv6").splitlines() == [
        "fe80::ff:fe00:1/64 iface 0 preferred link-local preferred-ms forever valid-ms forever",
        "fd00::1/64 iface 0 preferred static preferred-ms forever valid-ms forever", "ok"]
    h1.add_route("fd01::/48", "fd00::2")
    assert h1.shell("route").splitlines() == [
        "10.0.0.0/24 on-link iface 0", "fe80::/64 on-link iface 0", "fd00::/64 on-link iface 0",
        "fd01::/48 via fd00::2 iface 0", "ok"]
    net.close()


def test_slaac_address_lifetimes_and_ra_routes_count_down() -> None:
    """A Router Advertisement at 1 s: the SLAAC address with the preferred and valid lifetimes of
    its Prefix Information option, the on-link prefix and the default router, each with the time
    left; 100 ms later, 100 ms less."""
    net = Network(seed=1)
    h = net.host("h", mac="02:00:00:00:00:01", dad=False)
    r = net.peer("r", mac="02:00:00:00:00:fe")
    net.link(h, r, delay="1ms")
    net.run(until="1s")
    r.router_advertisement(prefixes=[{"prefix": "2001:db8:1::/64", "valid": 3600, "preferred": 1800}],
                           router_lifetime=900)
    net.run(until="1.001s")  # the RA arrives: every lifetime counts from here
    assert h.shell("ipv6").splitlines()[1] == (
        "2001:db8:1::ff:fe00:1/64 iface 0 preferred slaac preferred-ms 1800000 valid-ms 3600000")
    net.run(until="1.101s")
    assert h.shell("ipv6").splitlines()[1] == (
        "2001:db8:1::ff:fe00:1/64 iface 0 preferred slaac preferred-ms 1799900 valid-ms 3599900")
    assert h.shell("route").splitlines()[-3:] == [
        "2001:db8:1::/64 on-link iface 0 ra expires-in-ms 3599900",
        "::/0 via fe80::ff:fe00:fe iface 0 ra expires-in-ms 899900", "ok"]
    # RFC 4861 §6.3.4: "the IsRouter flag in the Neighbor Cache entry MUST be set to TRUE" and "If
    # a Neighbor Cache entry is created for the router, its reachability state MUST be set to
    # STALE as specified in Section 7.3.3."
    assert h.shell("nbr") == "fe80::ff:fe00:fe at 02:00:00:00:00:fe iface 0 STALE router probes 0 timer-ms none\nok\n"
    net.close()


def test_conn_lists_accept_queued_orphaned_and_time_wait_connections() -> None:
    net, h1, h2 = two_hosts()
    ls = h2.tcp_socket()
    ls.bind(80)
    ls.listen(4)
    a, b = h1.tcp_socket(), h1.tcp_socket()
    a.connect("fd00::2", 80)
    b.connect("10.0.0.2", 80)
    net.run(until="10ms")
    pa, pb = a.info().local_port, b.info().local_port
    acc = ls.accept()
    listener = "tcp *:80 *:0 LISTEN srtt-us 0 rto-ms 1000 cwnd 0 snd-mss 0 retransmits 0 owner app"
    # a's connection accepted; b's established and waiting in the accept queue.
    assert h2.shell("conn").splitlines() == [
        listener,
        f"tcp [fd00::2]:80 [fd00::1]:{pa} ESTABLISHED srtt-us 2000 rto-ms 1000 cwnd 14280 snd-mss 1428 "
        "retransmits 0 owner app",
        f"tcp 10.0.0.2:80 10.0.0.1:{pb} ESTABLISHED srtt-us 2000 rto-ms 1000 cwnd 14480 snd-mss 1448 "
        "retransmits 0 owner accept-queue",
        "ok"]
    # h2 closes its accepted connection: no handle any more, FIN-WAIT-1 until h1 ACKs the FIN ...
    acc.close()
    orphan = h2.shell("conn").splitlines()[1]
    assert orphan.startswith(f"tcp [fd00::2]:80 [fd00::1]:{pa} FIN-WAIT-1 ") and orphan.endswith(" owner orphan")
    net.run(until="12ms")
    orphan = h2.shell("conn").splitlines()[1]
    assert orphan.startswith(f"tcp [fd00::2]:80 [fd00::1]:{pa} FIN-WAIT-2 ") and orphan.endswith(" owner orphan")
    # ... h1 closes too at 20 ms: its FIN reaches h2 at 21 ms, h2 enters TIME-WAIT and the socket
    # moves to the TIME-WAIT table (listed after the sockets) for 2 x MSL, RFC 9293 §4: "MSL:
    # Maximum Segment Lifetime, the time a TCP segment can exist in the internetwork system.
    # Arbitrarily defined to be 2 minutes." At 30 ms: 240 s - 9 ms left.
    net.run(until="20ms")
    a.close()
    net.run(until="30ms")
    assert h2.shell("conn").splitlines()[1:] == [
        f"tcp 10.0.0.2:80 10.0.0.1:{pb} ESTABLISHED srtt-us 2000 rto-ms 1000 cwnd 14480 snd-mss 1448 "
        "retransmits 0 owner accept-queue",
        f"tcp [fd00::2]:80 [fd00::1]:{pa} TIME-WAIT expires-in-ms 239991 owner time-wait",
        "ok"]
    net.close()


def test_nbr_and_ping_over_ipv6_run_in_virtual_time() -> None:
    """ping runs the network: 2 requests 1 s apart, each answered 2 ms later; the answer is
    complete when the second reply arrives, at 1.002 s. The neighbour entry is REACHABLE with
    ReachableTime left on its timer (the random ReachableTime the host drew, its nd_params)."""
    net, h1, _ = two_hosts()
    assert h1.shell("nbr") == "ok\n"  # nothing yet (the positive control is just below)
    assert h1.shell("ping fd00::2 2").splitlines() == [
        "reply from fd00::2: seq 1 ttl 64", "reply from fd00::2: seq 2 ttl 64", "ping fd00::2: 2 sent, 2 received",
        "ok"]
    assert net.now_ns == 1_002_000_000
    reachable_ns = h1.nd_params()[0]
    # The NA that resolved fd00::2 came at 2 ms; REACHABLE until then + ReachableTime.
    left = (2_000_000 + reachable_ns - net.now_ns) // 1_000_000
    assert h1.shell("nbr") == f"fd00::2 at 02:00:00:00:00:02 iface 0 REACHABLE probes 0 timer-ms {left}\nok\n"
    # Nobody at 10.0.0.9: one request, no reply within the second after it.
    assert h1.shell("ping 10.0.0.9 1") == "ping 10.0.0.9: 1 sent, 0 received\nok\n"
    assert net.now_ns == 2_002_000_000
    assert h1.shell("ping 10.0.0") == "error: ping ADDRESS [COUNT]: '10.0.0' is not an IPv4 or IPv6 address\n"
    net.close()


def test_dhcp_client_state_lease_and_timers() -> None:
    """The DHCP client before and after it is bound: state, server, lease, T1/T2 left (T1 half the
    lease, T2 7/8 of it: RFC 2131 §4.4.5 "T1 defaults to (0.5 * duration_of_lease).  T2 defaults to
    (0.875 * duration_of_lease)")."""
    net = Network(seed=1)
    srv = net.host("srv", ipv4="10.0.0.1/24", dhcp_server={"ranges": [("10.0.0.100", "10.0.0.110")], "lease": 600,
                                                         "router": "10.0.0.1", "dns": ["10.0.0.53"]})
    cli = net.host("cli", dhcp=True)
    net.link(srv, cli, delay="1ms")
    assert cli.shell("dhcp").splitlines() == [
        "dhcp iface 0 state INIT",
        "  sent discover 0 request 0 decline 0 release 0; received offer 0 ack 0 nak 0 ignored 0", "ok"]
    assert srv.shell("dhcp").splitlines()[0] == "dhcp iface 0 state OFF"  # its client never started
    net.run(until="5s")
    lease = cli.dhcp_lease()
    out = cli.shell("dhcp").splitlines()
    assert out[0] == "dhcp iface 0 state BOUND" and out[1] == f"  server 10.0.0.1 xid 0x{lease.xid:08x}"
    # The lease counts from the DHCPACK at 4 ms (DISCOVER, OFFER, REQUEST, ACK over 1 ms links; the
    # RFC 5227 probes come after it): 4996 ms of it have passed at 5 s.
    t0 = (net.now_ns - lease.acquired_at) // 1_000_000
    assert lease.acquired_at == 4_000_000 and t0 == 4996
    assert out[2:] == [
        "  address 10.0.0.100/24 router 10.0.0.1 mtu 0",
        "  dns 10.0.0.53",
        f"  lease-s 600 t1-s 300 t2-s 525 t1-in-ms {300000 - t0} t2-in-ms {525000 - t0} expires-in-ms {600000 - t0}",
        "  sent discover 1 request 1 decline 0 release 0; received offer 1 ack 1 nak 0 ignored 0", "ok"]
    net.close()


def test_stats_names_every_counter_and_bad_input_is_named() -> None:
    net, h1, _ = two_hosts()
    stats = h1.shell("stats").splitlines()
    assert stats[-1] == "ok"
    names = [ln.split(" ")[0] for ln in stats[:-1]]
    assert not [n for n in names if n.startswith("counter_")], "a counter without a name"
    assert len(names) == len(set(names)) and {"frames_in", "ip6_in", "tcp_out"} <= set(names)
    assert h1.shell("bogus") == "error: unknown command 'bogus' (try help)\n"
    assert h1.shell("conn now") == "error: conn takes no argument\n"
    assert h1.shell("") == ""
    assert h1.shell("help").endswith("\nok\n")
    net.close()


def test_shell_loop_and_pyharness_shell_command(tmp_path: Path) -> None:
    """net.shell() answers command lines; ``pyharness shell FILE:FUNCTION --at T --host H`` runs the
    scenario's network to T and answers there (-c, or lines on standard input)."""
    import io

    net, h1, _ = two_hosts()
    out = io.StringIO()
    net.shell("h1", ["ipv4\n", "\n", "bogus\n"], out)
    assert out.getvalue() == "10.0.0.1/24 iface 0\nok\nerror: unknown command 'bogus' (try help)\n"
    net.close()

    scenario = ROOT / "tests" / "py" / "netshell_scenario.py"
    cmd = [sys.executable, "-m", "pyharness.cli", "shell", f"{scenario}:build", "--host", "h2"]
    # build() returns at 1 s, h1's close just called: h2's connection, never accepted, is still
    # ESTABLISHED in the accept queue; at 1.5 s h1's FIN has come: CLOSE-WAIT.
    r = subprocess.run([*cmd, "-c", "conn"], capture_output=True, text=True,
                       timeout=SHELL_PROCESS_LIMIT_S)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("tcp *:80 *:0 LISTEN ") and lines[-1] == "ok"
    assert len(lines) == 3 and " [fd00::1]:" in lines[1] and " ESTABLISHED " in lines[1] and lines[1].endswith(
        " owner accept-queue"), lines
    r = subprocess.run([*cmd, "--at", "1.5s"], input="conn\nipv4\n", capture_output=True, text=True,
                       timeout=SHELL_PROCESS_LIMIT_S)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert " CLOSE-WAIT " in lines[1] and lines[1].endswith(" owner accept-queue"), lines
    assert lines[-2:] == ["10.0.0.2/24 iface 0", "ok"]
    r = subprocess.run([*cmd[:-2], "-c", "conn"], capture_output=True, text=True,
                       timeout=SHELL_PROCESS_LIMIT_S)
    assert r.returncode != 0 and "give --host (Tern hosts: h1, h2)" in r.stderr
    r = subprocess.run([*cmd[:-1], "h9", "-c", "conn"], capture_output=True, text=True,
                       timeout=SHELL_PROCESS_LIMIT_S)
    assert r.returncode != 0 and "--host h9: no such Tern host" in r.stderr
