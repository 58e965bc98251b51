"""Network services against implementations nobody here wrote, over TAP in a
namespace the test creates, in real time:

- examples/dhcp-client (the Tern DHCP client as a program) gets its lease from
  dnsmasq (Debian) and resolves a name through it;
- ISC dhclient (Debian isc-dhcp-client) gets a lease from the Tern DHCP server;
- dig (Debian bind9-dnsutils) asks the Tern mDNS responder for tern.local,
  by a legacy unicast query to its port 5353 and through 224.0.0.251
  (RFC 6762 §6.7).

Each is skipped with the reason when its program is missing or the machine
cannot make TAP devices and namespaces.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

import pytest

from pyharness.netns import NetNamespace, unavailable

from .test_interop_dhcp_dns import dnsmasq_argv  # noqa: F401  (one dnsmasq configuration style)
from .test_interop_examples import example

TAP_KERNEL_IP = "192.168.69.100"


@pytest.fixture
def tapns_dnsmasq():
    """A namespace with tap0 at 192.168.69.100/24 and dnsmasq serving DHCP and DNS on it."""
    reason = unavailable(("dnsmasq",))
    if reason:
        pytest.skip(f"interop with the Linux kernel needs privileges or programs: {reason}")
    with NetNamespace() as ns, tempfile.TemporaryDirectory() as d:
        ns.ip("tuntap", "add", "name", "tap0", "mode", "tap")
        ns.ip("link", "set", "tap0", "up")
        ns.ip("addr", "add", f"{TAP_KERNEL_IP}/24", "dev", "tap0")
        tmp = Path(d)
        argv = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                "--user=root", "--group=root", "--log-facility=-", "--log-dhcp", "--interface=tap0",
                "--bind-interfaces", f"--pid-file={tmp / 'dnsmasq.pid'}", f"--dhcp-leasefile={tmp / 'leases'}",
                "--dhcp-range=192.168.69.50,192.168.69.60,255.255.255.0,2m",
                f"--dhcp-option=3,{TAP_KERNEL_IP}", f"--dhcp-option=6,{TAP_KERNEL_IP}",
                "--address=/tern.test/192.168.69.99"]
        server = ns.popen(argv, text=True)
        # Ready once the kernel has its DHCP port bound (a fixed 0.2 s pause before; the client's first
        # DISCOVER would go unanswered, and the lease wait for a retransmission, when dnsmasq started late).
        deadline = time.monotonic() + 20
        while not ns.run(["ss", "-lnuH", "sport", "= :67"]).stdout.strip():
            assert server.poll() is None, f"dnsmasq ended: {server.communicate()}"
            assert time.monotonic() < deadline, "dnsmasq did not bind udp 67 within 20 s"
            time.sleep(0.05)
        yield ns, server


@pytest.mark.area("dhcp")
@pytest.mark.rfc("2131 3.1", "5227 2.1.1")
def test_dhcp_client_example_against_dnsmasq(tapns_dnsmasq, interop_artifacts) -> None:
    """examples/dhcp-client on tap0: DISCOVER..ACK with dnsmasq, the RFC 5227 probes, then it prints
    the lease (address in dnsmasq's range, router, DNS, 120 s lease with T1 60 s) and resolves
    www.tern.test through the lease's DNS server; dnsmasq logs the ACK with the host name."""
    ns, server = tapns_dnsmasq
    adir, _ = interop_artifacts
    adir.mkdir(parents=True, exist_ok=True)
    prog = example("tern-dhcp-client")
    r = ns.run([str(prog), "--tap", "tap0", "--hostname", "terndemo", "--resolve", "www.tern.test", "--timeout",
                "30", "--pcap", str(adir / "dhcp-client.pcap")], timeout=60)
    out = r.stdout
    assert r.returncode == 0, f"{out}\n{r.stderr}"
    m = re.search(r"^address 192\.168\.69\.(\d+)$", out, re.M)
    assert m and 50 <= int(m.group(1)) <= 60, out
    assert f"router {TAP_KERNEL_IP}" in out and f"dns {TAP_KERNEL_IP}" in out, out
    assert "netmask 255.255.255.0" in out and "lease 120 s (T1 60 s" in out, out
    assert "resolve www.tern.test 192.168.69.99" in out, out
    assert re.search(r"^event bound 192\.168\.69\.\d+ at ", out, re.M), out
    server.terminate()
    sout, serr = server.communicate(timeout=10)
    log = sout + serr
    assert "DHCPACK" in log and "terndemo" in log, log


# dhclient's script: report the lease it got (the interface is left alone).
DHCLIENT_SCRIPT = """#!/bin/sh
echo "reason=$reason ip=$new_ip_address mask=$new_subnet_mask routers=$new_routers dns=$new_domain_name_servers \
lease=$new_dhcp_lease_time server=$new_dhcp_server_identifier" >> "{out}"
"""


@pytest.mark.area("dhcp")
@pytest.mark.rfc("2131 4.3.1", "2131 4.3.2", "2132 3.3", "2132 9.2")
def test_dhclient_gets_lease_from_tern_server(make_bridge) -> None:
    """ISC dhclient (Debian) in the namespace gets a lease from the Tern DHCP server with its
    options (mask, router, DNS, lease time, server identifier); the server's table then holds
    the lease bound to dhclient's MAC."""
    pool = {"ranges": [("10.77.0.120", "10.77.0.130")], "router": "10.77.0.2", "dns": ["10.77.0.2"],
            "lease": 900}
    b = make_bridge(programs=("dhclient",), host={"dhcp_server": pool})
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        out = tmp / "events.txt"
        script = tmp / "script.sh"
        script.write_text(DHCLIENT_SCRIPT.replace("{out}", str(out)))
        script.chmod(0o755)
        p = b.ns.popen(["dhclient", "-d", "-1", "-v", "-sf", str(script), "-lf", str(tmp / "leases"),
                        "-pf", str(tmp / "pid"), b.kernel.ifname], text=True)
        try:
            def bound() -> bool:
                return out.exists() and "reason=BOUND" in out.read_text()

            ok = b.run_until(bound, 40)
        finally:
            p.kill()
            pout, perr = p.communicate(timeout=10)
        events = out.read_text() if out.exists() else ""
    assert ok, f"dhclient got no lease\n{events}\n{pout}\n{perr}"
    assert "reason=BOUND ip=10.77.0.120 mask=255.255.255.0 routers=10.77.0.2 dns=10.77.0.2 lease=900 " \
           "server=10.77.0.2" in events, events
    (le,) = b.dut.dhcp_server_leases()
    assert le["address"] == "10.77.0.120" and le["state"] == "bound"
    kernel_mac = b.ns.run(["cat", f"/sys/class/net/{b.kernel.ifname}/address"]).stdout.strip()
    assert le["mac"] == kernel_mac


def _claimed(b) -> None:
    b.dut.mdns_start("tern")
    assert b.run_until(lambda: b.dut.mdns_info().state == "ready", 10), b.dut.mdns_info()


@pytest.mark.area("mdns")
@pytest.mark.rfc("6762 6.7")
def test_dig_unicast_to_port_5353_of_the_responder(make_bridge) -> None:
    """dig -p 5353 @10.77.0.2 tern.local: a legacy query (source port not 5353) answered by unicast
    with the question repeated and a TTL of at most 10 s (RFC 6762 §6.7)."""
    b = make_bridge(programs=("dig",))
    _claimed(b)
    status, out, err = b.run_process(["dig", "+tries=3", "+time=2", "-p", "5353", "@10.77.0.2", "tern.local", "A"],
                                     timeout=30)
    assert status == 0, f"{out}\n{err}"
    m = re.search(r"^tern\.local\.\s+(\d+)\s+IN\s+A\s+10\.77\.0\.2$", out, re.M)
    assert m and int(m.group(1)) <= 10, out
    assert "status: NOERROR" in out and "QUESTION SECTION" in out, out


@pytest.mark.area("mdns")
@pytest.mark.rfc("6762 6.7", "6762 5.1")
def test_dig_to_the_mdns_group(make_bridge) -> None:
    """dig -p 5353 @224.0.0.251 tern.local, the issue's command: the query goes to the group (the
    namespace routes 224.0.0.0/4 to the TAP) from dig's own port, a legacy query; the Tern
    responder answers it by unicast from 10.77.0.2 to that port, the question and ID repeated
    (RFC 6762 §6.7). dig 9.18 connects its socket to the address it asked (224.0.0.251), so the
    kernel refuses an answer from any other address (ICMP port unreachable) and dig times out:
    the test checks, in the capture, the answer the responder sent and the kernel's refusal."""
    from scapy.all import DNS, ICMP, IP, UDP, rdpcap

    b = make_bridge(programs=("dig",))
    b.ns.ip("route", "add", "224.0.0.0/4", "dev", b.kernel.ifname)
    _claimed(b)
    status, out, err = b.run_process(["dig", "+tries=1", "+time=2", "-p", "5353", "@224.0.0.251", "tern.local", "A"],
                                     timeout=30)
    b.run_until(lambda: False, 0.2)
    b.net.flush_captures()
    frames = rdpcap(str(b.capture))
    queries = [f for f in frames if UDP in f and f[IP].dst == "224.0.0.251" and f[UDP].sport != 5353
               and DNS in f and f[DNS].qr == 0]
    answers = [f for f in frames if UDP in f and f[IP].src == "10.77.0.2" and f[IP].dst == "10.77.0.1"
               and f[UDP].sport == 5353 and DNS in f and f[DNS].qr == 1]
    assert queries and answers, f"{[f.summary() for f in frames]}\n{out}\n{err}"
    q, a = queries[0], answers[0]
    assert a[UDP].dport == q[UDP].sport and a[DNS].id == q[DNS].id and a[DNS].qd[0].qname == b"tern.local."
    assert a[DNS].an[0].rdata == "10.77.0.2" and a[DNS].an[0].ttl <= 10
    refused = [f for f in frames if ICMP in f and f[IP].src == "10.77.0.1" and f[ICMP].type == 3]
    assert refused, "the kernel took the answer: dig should then have printed it\n" + out
    assert b.dut.mdns_info().counters["answers_legacy"] >= 1


@pytest.mark.area("mdns")
@pytest.mark.rfc("6763 4.1", "6763 12.1", "6762 6.7")
def test_dig_browses_the_dnssd_service(make_bridge) -> None:
    """dig -p 5353 @10.77.0.2 _http._tcp.local PTR: the Tern responder's DNS-SD instance comes
    back as a PTR, with its SRV (port 8080, target tern.local), TXT and A records in the
    additional section (RFC 6763 §12.1), as dig prints them."""
    b = make_bridge(programs=("dig",))
    b.dut.mdns_start("tern")
    b.dut.mdns_add_service("Web", "_http._tcp", 8080, {"path": "/"})
    assert b.run_until(lambda: b.dut.mdns_info().state == "ready", 10), b.dut.mdns_info()
    status, out, err = b.run_process(["dig", "+tries=3", "+time=2", "-p", "5353", "@10.77.0.2",
                                      "_http._tcp.local", "PTR"], timeout=30)
    assert status == 0, f"{out}\n{err}"
    assert re.search(r"^_http\._tcp\.local\.\s+\d+\s+IN\s+PTR\s+Web\._http\._tcp\.local\.$", out, re.M), out
    assert re.search(r"^Web\._http\._tcp\.local\.\s+\d+\s+IN\s+SRV\s+0 0 8080 tern\.local\.$", out, re.M), out
    assert re.search(r'IN\s+TXT\s+"path=/"', out), out
    assert re.search(r"^tern\.local\.\s+\d+\s+IN\s+A\s+10\.77\.0\.2$", out, re.M), out


def test_avahi_resolve() -> None:
    """avahi-resolve needs avahi-daemon on a system D-Bus: not something a test can start in a namespace."""
    if unavailable(("avahi-resolve",)):
        pytest.skip("avahi-resolve is not installed (and needs avahi-daemon on a system D-Bus, which this "
                    "test cannot start in its namespace)")
    pytest.skip("avahi-resolve needs avahi-daemon on a system D-Bus, which this test cannot start in its namespace")
