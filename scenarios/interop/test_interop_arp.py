"""ARP between the Linux kernel and a Tern host (RFC 826), both ways, over TAP in real time."""

from __future__ import annotations


def _kernel_mac(b) -> str:
    out = b.ns.ip("-o", "link", "show", "dev", b.kernel.ifname)
    parts = out.split()
    return parts[parts.index("link/ether") + 1]


def test_kernel_resolves_tern(make_bridge) -> None:
    """RFC 826: the Tern host answers the kernel's request; the kernel's table holds the host's MAC."""
    b = make_bridge(programs=("ping",))
    r = b.kernel_ping(count=1)
    assert r.status == 0 and r.received >= 1, r.output
    assert b.ns.neighbours(b.kernel.ifname).get(b.tern_ip) == b.dut.mac
    assert b.dut.counters().arp_replies_sent >= 1


def test_tern_resolves_kernel(make_bridge) -> None:
    """RFC 826: the kernel answers the Tern host's request; the host's cache holds the TAP interface's MAC."""
    b = make_bridge()
    sock = b.dut.ping_socket()
    b.run_until(lambda: False, 0.001)
    sock.send(b.kernel_ip)
    assert b.run_until(lambda: b.dut.arp_lookup(b.kernel_ip) is not None, 3)
    assert b.dut.arp_lookup(b.kernel_ip) == _kernel_mac(b)
    assert b.run_until(lambda: sock.recv() is not None, 3)
    # The request also taught the kernel our address (RFC 826 "merge" of the sender's pair).
    assert b.ns.neighbours(b.kernel.ifname).get(b.tern_ip) == b.dut.mac


def test_nobody_answers_for_an_absent_address(make_bridge) -> None:
    """The kernel answers only for its own address: resolving 10.77.0.99 fails after the retries."""
    b = make_bridge(host={"arp_retry": "50ms", "arp_retries": 3})
    sock = b.dut.ping_socket()
    b.run_until(lambda: False, 0.001)
    sock.send("10.77.0.99")
    assert b.run_until(lambda: b.dut.counters().arp_resolution_failed >= 1, 3)
    assert b.dut.arp_lookup("10.77.0.99") is None
    assert b.dut.counters().arp_requests_sent == 3
