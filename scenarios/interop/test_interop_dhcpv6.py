"""A Tern DHCPv6 client against dnsmasq (Debian) over TAP, in real time.

dnsmasq runs in the test's namespace on the kernel's end of the TAP link, whose interface gets
2001:db8:77::1/64 besides its link-local address. It sends Router Advertisements (--enable-ra)
and serves DHCPv6: a stateful range (the RA's M flag) or stateless information only
(ra-stateless: the O flag). The Tern client is started in "ra" mode, so what it does is what the
RA's flags say (RFC 4861 section 4.2). Skipped with the reason when dnsmasq is not installed or
the machine cannot create TAP devices and namespaces.
"""

from __future__ import annotations

import ipaddress
import tempfile
from pathlib import Path

import pytest

KERNEL_V6 = "2001:db8:77::1"


def dnsmasq_argv(tmp: Path, ifname: str, stateless: bool) -> list[str]:
    """dnsmasq in the foreground with nothing but this test's configuration: DHCPv6 and RAs only."""
    rng = "--dhcp-range=::,constructor:" + ifname + (",ra-stateless" if stateless else "")
    if not stateless:
        rng = f"--dhcp-range=2001:db8:77::100,2001:db8:77::1ff,64,2m"
    return ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
            "--user=root", "--group=root", "--log-facility=-", "--log-dhcp", "--port=0",
            f"--pid-file={tmp / 'dnsmasq.pid'}", f"--dhcp-leasefile={tmp / 'leases'}",
            f"--interface={ifname}", "--enable-ra", rng,
            f"--dhcp-option=option6:dns-server,[{KERNEL_V6}]", "--dhcp-option=option6:domain-search,tern.test"]


def start(make_bridge, tmp: Path, stateless: bool):
    b = make_bridge(programs=("dnsmasq", "ip"), host={"dhcpv6": "ra"})
    ifname = b.kernel.ifname
    b.ns.run(["ip", "-6", "addr", "add", f"{KERNEL_V6}/64", "dev", ifname, "nodad"])
    server = b.ns.popen(dnsmasq_argv(tmp, ifname, stateless), text=True)
    return b, server


@pytest.mark.area("dhcpv6")
@pytest.mark.rfc("8415 18.2.1", "8415 18.2.10.1", "4861 4.2")
def test_stateful_lease_from_dnsmasq(make_bridge) -> None:
    """dnsmasq's RA has M set: the client solicits, requests, and holds an address from the range
    with dnsmasq's lifetimes, T1 and T2, and the DNS option; dnsmasq logs the exchange."""
    with tempfile.TemporaryDirectory() as d:
        b, server = start(make_bridge, Path(d), stateless=False)
        try:
            bound = b.run_until(lambda: b.dut.dhcpv6_lease().state == "BOUND", 40)
            lease = b.dut.dhcpv6_lease()
            assert bound, f"no DHCPv6 lease from dnsmasq: {lease}"
            assert lease.mode == "stateful"
            addr = ipaddress.IPv6Address(lease.address)
            assert ipaddress.IPv6Address("2001:db8:77::100") <= addr <= ipaddress.IPv6Address("2001:db8:77::1ff")
            assert lease.valid_secs == 120 and 0 < lease.t1_secs < lease.t2_secs < lease.valid_secs
            assert lease.dns == [KERNEL_V6] and lease.domain == "tern.test"
            assert (str(addr), 128, "preferred") in b.dut.ipv6_addresses()
            assert [e.kind for e in b.dut.dhcpv6_events()] == ["bound"]
            # the kernel reaches the leased address (ND and ICMPv6 over the lease)
            # deadline mode (-w): one reply, however late the bridge runs (-W 3 gave up after 3 s)
            status, out, err = b.run_process(["ping", "-6", "-c", "1", "-w", "10", str(addr)], timeout=25)
            assert status == 0, out + err
        finally:
            server.terminate()
            out, err = server.communicate(timeout=10)
    log = out + err
    assert "DHCPSOLICIT" in log and "DHCPREPLY" in log, log


@pytest.mark.area("dhcpv6")
@pytest.mark.rfc("8415 18.2.6", "3646 3", "4861 4.2")
def test_stateless_information_from_dnsmasq(make_bridge) -> None:
    """dnsmasq's RA (ra-stateless) has O set and M clear: the client sends an Information-request
    and takes the DNS server and search domain from the Reply; no address is leased."""
    with tempfile.TemporaryDirectory() as d:
        b, server = start(make_bridge, Path(d), stateless=True)
        try:
            done = b.run_until(lambda: b.dut.dhcpv6_lease().state == "INFO-DONE", 40)
            lease = b.dut.dhcpv6_lease()
            assert done, f"no Information-request exchange with dnsmasq: {lease}"
            assert lease.mode == "stateless" and lease.address is None
            assert lease.dns == [KERNEL_V6] and lease.domain == "tern.test"
            assert lease.counters["solicits"] == 0
        finally:
            server.terminate()
            out, err = server.communicate(timeout=10)
    log = out + err
    assert "DHCPINFORMATION-REQUEST" in log, log
