"""A Tern DHCP client and DNS resolver against dnsmasq (Debian) over TAP, in real time.

dnsmasq runs in the test's namespace on the kernel's end (10.77.0.1) as DHCP
server (range 10.77.0.50-60, router and DNS 10.77.0.1) and DNS server (it
answers www.tern.test with 10.77.0.99). The Tern host gets a lease (RFC 2131,
with the RFC 5227 probes before use), then resolves the name through the
server its lease names. Skipped with the reason when dnsmasq is not
installed or the machine cannot create TAP devices and namespaces.
"""

from __future__ import annotations

import ipaddress
import tempfile
from pathlib import Path

import pytest

from pyharness.dns import result, start


def dnsmasq_argv(tmp: Path) -> list[str]:
    """dnsmasq in the foreground, with nothing but this test's configuration."""
    return ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
            "--user=root", "--group=root", "--log-facility=-", "--log-dhcp",
            f"--pid-file={tmp / 'dnsmasq.pid'}", f"--dhcp-leasefile={tmp / 'leases'}",
            "--dhcp-range=10.77.0.50,10.77.0.60,255.255.255.0,2m",
            "--dhcp-option=3,10.77.0.1", "--dhcp-option=6,10.77.0.1",
            "--address=/tern.test/10.77.0.99"]


@pytest.mark.area("dhcp")
@pytest.mark.rfc("2131 3.1", "5227 2.1.1", "1035 4.1.1")
def test_lease_from_dnsmasq_then_resolve(make_bridge) -> None:
    """DISCOVER..ACK with dnsmasq, ARP probes, BOUND with dnsmasq's options; then www.tern.test resolves."""
    b = make_bridge(programs=("dnsmasq",), host={"dhcp": {"hostname": "tern"}})
    with tempfile.TemporaryDirectory() as d:
        server = b.ns.popen(dnsmasq_argv(Path(d)), text=True)
        try:
            bound = b.run_until(lambda: b.dut.dhcp_lease().state == "BOUND", 30)
            lease = b.dut.dhcp_lease()
            assert bound, f"no lease from dnsmasq: {lease}"
            addr = ipaddress.IPv4Address(lease.address)
            assert ipaddress.IPv4Address("10.77.0.50") <= addr <= ipaddress.IPv4Address("10.77.0.60")
            assert lease.router == "10.77.0.1" and lease.dns == ["10.77.0.1"]
            assert lease.subnet_mask == "255.255.255.0" and lease.lease_secs == 120
            assert lease.t1_secs == 60 and lease.server_id == "10.77.0.1"
            assert [e.kind for e in b.dut.dhcp_events()] == ["bound"]
            qid = start(b.dut, "www.tern.test")
            box: list = []

            def answered() -> bool:
                a = result(b.dut, qid)
                if a.status != "pending":
                    box.append(a)
                return bool(box)

            assert b.run_until(answered, 15), "no DNS answer from dnsmasq"
            assert box[0].status == "ok" and box[0].addresses == ["10.77.0.99"]
        finally:
            server.terminate()
            out, err = server.communicate(timeout=10)
    log = out + err  # --log-facility=- logs to stderr
    assert "DHCPACK" in log and "tern" in log, log


# udhcpc's event script: report what it got (the interface is left as it is).
SCRIPT = """#!/bin/sh
echo "event=$1 ip=$ip subnet=$subnet router=$router dns=$dns lease=$lease serverid=$serverid"
"""


@pytest.mark.area("dhcp")
@pytest.mark.rfc("2131 4.3.1", "2131 4.3.2", "2131 4.1")
@pytest.mark.parametrize("broadcast", [False, True], ids=["unicast_replies", "broadcast_flag"])
def test_udhcpc_gets_lease_from_tern_server(make_bridge, broadcast: bool) -> None:
    """busybox udhcpc (Debian) in the namespace gets a lease from the Tern DHCP server, with its options;
    without -B the server answers unicast to chaddr/yiaddr (RFC 2131 4.1), with -B by broadcast.
    The server's table then holds the lease, bound to udhcpc's MAC."""
    pool = {"ranges": [("10.77.0.100", "10.77.0.110")], "router": "10.77.0.2", "dns": ["10.77.0.2"],
            "lease": 600}
    b = make_bridge(programs=("busybox",), host={"dhcp_server": pool})
    with tempfile.TemporaryDirectory() as d:
        script = Path(d) / "script.sh"
        script.write_text(SCRIPT)
        script.chmod(0o755)
        argv = ["busybox", "udhcpc", "-f", "-q", "-n", "-t", "5", "-T", "1", "-i", b.kernel.ifname,
                "-s", str(script)] + (["-B"] if broadcast else [])
        status, out, err = b.run_process(argv, timeout=30)
    assert status == 0, f"{out}\n{err}"
    assert "event=bound ip=10.77.0.100 subnet=255.255.255.0 router=10.77.0.2 dns=10.77.0.2 lease=600 " \
           "serverid=10.77.0.2" in out, out
    c = b.dut.dhcp_server_counters()
    assert c["offers"] >= 1 and c["acks"] >= 1 and c["naks"] == 0, c
    (le,) = b.dut.dhcp_server_leases()
    assert le["address"] == "10.77.0.100" and le["state"] == "bound"
    kernel_mac = b.ns.run(["cat", f"/sys/class/net/{b.kernel.ifname}/address"]).stdout.strip()
    assert le["mac"] == kernel_mac
