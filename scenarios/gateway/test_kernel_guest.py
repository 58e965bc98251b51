"""A guest nobody here wrote behind the gateway: the Linux kernel, in real time.

The kernel's end of a TAP interface sits in a network namespace the test
creates, with no address; the TAP node is linked to the inside port of an
FVP-profile gateway (172.20.51.0/24, gateway/DHCP/DNS .254). A DHCP client of
Debian's (busybox ``udhcpc``, ISC ``dhclient``) configures the interface from
the gateway's DHCP server; ``dig`` then resolves the gateway's own name and a
user record through the gateway's DNS server, and ``curl`` fetches a page from
a virtual Internet host (a Tern stack at 198.51.100.80 on the sealed outside)
through the NAT. The bytes, the lease table and the NAT table entry are
checked. Skipped with the reason when TAP devices or namespaces cannot be
made here or a program is missing (``make deps`` installs them).
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from pyharness.bridge import RealtimeNetwork
from pyharness.netns import unavailable
from pyharness.plugin import failure_artifacts

from gwkit import WWW

pytestmark = pytest.mark.area("gateway")

GW = "172.20.51.254"
FIRST = "172.20.51.1"
OUT = "198.51.100.2"
CURL_PORT = 40123
BODY = b"hello from the sealed Internet\n"

# The clients' event scripts configure the interface as Debian's own scripts would (address,
# default route), but never touch the machine's /etc/resolv.conf: the test asks the lease's
# DNS server by address (dig @server).
UDHCPC_SCRIPT = """#!/bin/sh
case "$1" in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    ip route replace default via "$router" dev "$interface"
    echo "event=$1 ip=$ip mask=$mask router=$router dns=$dns lease=$lease serverid=$serverid" >> "$OUTFILE"
    ;;
esac
"""

# dhclient runs its script with an environment of its own: the output file is written in.
DHCLIENT_SCRIPT = """#!/bin/sh
case "$reason" in
  BOUND|RENEW|REBOOT)
    ip addr flush dev "$interface"
    ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface"
    ip route replace default via "$new_routers" dev "$interface"
    echo "reason=$reason ip=$new_ip_address mask=$new_subnet_mask router=$new_routers dns=$new_domain_name_servers lease=$new_dhcp_lease_time serverid=$new_dhcp_server_identifier" >> "{outfile}"
    ;;
esac
"""


@pytest.fixture
def kernel_behind_gateway(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """A factory: ``make(programs)`` -> (net, gw, kernel link, www host), or a skip with the reason."""
    with failure_artifacts(request) as (adir, seed), contextlib.ExitStack() as stack:

        def make(programs: tuple[str, ...]) -> tuple[Any, Any, Any, Any]:
            reason = unavailable(programs)
            if reason:
                pytest.skip(f"the kernel behind the gateway needs: {reason}")
            net = RealtimeNetwork(seed=seed, artifacts=adir)
            stack.callback(net.close)
            gw = net.gateway("gw", profile="fvp")
            k = stack.enter_context(net.kernel(gw, None))
            k.link.capture(adir / "inside.pcap")
            www = net.host("www", ipv4=f"{WWW}/24")
            outside = net.link(gw, www, port_a=gw.outside_port)
            outside.capture(adir / "outside.pcap")
            gw.dns_add("www.example", WWW)
            return net, gw, k, www

        yield make


def _run_while(net: Any, proc: Any, timeout: float, service: Callable[[], None] = lambda: None) -> None:
    def done() -> bool:
        service()
        return proc.poll() is not None

    if not net.run_realtime(for_=timeout, until=done):
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"{proc.args}: still running after {timeout} s\n{out}\n{err}")


def _http_server(www: Any) -> tuple[Callable[[], None], dict[str, Any]]:
    """A one-shot HTTP server on the Tern host: answers the first request on port 80 with BODY."""
    lst = www.tcp_listen(80)
    box: dict[str, Any] = {"request": b"", "conn": None, "answered": False}

    def service() -> None:
        if box["conn"] is None and lst.accept_pending:
            box["conn"] = lst.accept()
        c = box["conn"]
        if c is None or box["answered"]:
            return
        while c.readable:
            box["request"] += c.recv() or b""
        if b"\r\n\r\n" in box["request"]:
            info = c.info()
            box["peer"] = (info.remote, info.remote_port)
            c.send(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\nContent-Type: text/plain\r\n\r\n" % len(BODY)
                   + BODY)
            c.close()
            box["answered"] = True

    return service, box


def _after_lease(net: Any, gw: Any, k: Any, www: Any) -> None:
    """What every client's guest does once configured: its routes, DNS through the gateway, HTTP via NAT."""
    ns = k.ns
    routes = ns.ip("route", "show")
    assert f"default via {GW} dev {k.ifname}" in routes, routes
    assert f"{FIRST}/24" in ns.ip("addr", "show", "dev", k.ifname)

    for name, want in (("gateway.tern", GW), ("www.example", WWW)):
        p = ns.popen(["dig", f"@{GW}", "+short", "+tries=3", "+time=2", name, "A"], text=True)
        _run_while(net, p, 20)
        out, err = p.communicate()
        assert p.returncode == 0 and out.split() == [want], f"dig {name}: {out}\n{err}"
    assert gw.counters()["dns_local"] == 2

    service, box = _http_server(www)
    p = ns.popen(["curl", "-sS", "--max-time", "15", "--local-port", str(CURL_PORT), f"http://{WWW}/hello"],
                 stdout=-1, stderr=-1)
    _run_while(net, p, 25, service)
    out, err = p.communicate()
    assert p.returncode == 0, err
    assert out == BODY
    assert box["request"].startswith(b"GET /hello HTTP/1.1\r\n"), box["request"]
    # The server saw the gateway's outside address and curl's port, kept (RFC 4787 REQ-1 and 4.2.1).
    assert box["peer"] == (OUT, CURL_PORT)
    (m,) = [m for m in gw.nat_table() if m.protocol == "tcp"]
    assert (m.inside, m.inside_port, m.outside, m.outside_port) == (FIRST, CURL_PORT, OUT, CURL_PORT)
    assert m.sessions[0].remote == WWW and m.sessions[0].remote_port == 80


def _check_lease(gw: Any, k: Any) -> None:
    kernel_mac = k.ns.run(["cat", f"/sys/class/net/{k.ifname}/address"]).stdout.strip()
    rows = gw.leases()
    assert [(r["state"], r["address"], r["mac"]) for r in rows] == [("bound", FIRST, kernel_mac)], rows


@pytest.mark.rfc("2131 4.3.1", "1035 4.1.1", "4787 4.1")
def test_udhcpc_kernel_guest(kernel_behind_gateway) -> None:
    """busybox udhcpc configures the kernel from the gateway (172.20.51.1/24, router and DNS .254, 86400 s);
    dig resolves gateway.tern and www.example through the gateway; curl fetches a page through the NAT."""
    net, gw, k, www = kernel_behind_gateway(("busybox", "dig", "curl"))
    with tempfile.TemporaryDirectory() as d:
        script = Path(d) / "udhcpc.sh"
        script.write_text(UDHCPC_SCRIPT)
        script.chmod(0o755)
        outfile = Path(d) / "events"
        p = k.ns.popen(["env", f"OUTFILE={outfile}", "busybox", "udhcpc", "-f", "-q", "-n", "-t", "5", "-T", "1",
                        "-i", k.ifname, "-s", str(script)], text=True)
        _run_while(net, p, 30)
        out, err = p.communicate()
        assert p.returncode == 0, f"{out}\n{err}"
        events = outfile.read_text()
    assert events == (f"event=bound ip={FIRST} mask=24 router={GW} dns={GW} lease=86400 serverid={GW}\n"), events
    _check_lease(gw, k)
    _after_lease(net, gw, k, www)


@pytest.mark.rfc("2131 4.3.1", "1035 4.1.1", "4787 4.1")
def test_dhclient_kernel_guest(kernel_behind_gateway) -> None:
    """ISC dhclient (Debian's isc-dhcp-client) gets the same lease from the gateway; then DNS and HTTP as above."""
    net, gw, k, www = kernel_behind_gateway(("dhclient", "dig", "curl"))
    with tempfile.TemporaryDirectory() as d:
        script = Path(d) / "dhclient.sh"
        outfile = Path(d) / "events"
        script.write_text(DHCLIENT_SCRIPT.replace("{outfile}", str(outfile)))
        script.chmod(0o755)
        conf = Path(d) / "dhclient.conf"
        conf.write_text("request subnet-mask, routers, domain-name-servers;\n")
        p = k.ns.popen(["dhclient", "-d", "-1", "-v", "-cf", str(conf),
                        "-sf", str(script), "-lf", str(Path(d) / "leases"), "-pf", str(Path(d) / "pid"),
                        k.ifname], text=True)
        try:
            ok = net.run_realtime(for_=30, until=lambda: outfile.exists() and "reason=BOUND" in outfile.read_text())
        finally:
            p.terminate()
            out, err = p.communicate(timeout=10)
        assert ok, f"dhclient: no BOUND event\n{out}\n{err}"
        events = outfile.read_text()
    assert events == (f"reason=BOUND ip={FIRST} mask=255.255.255.0 router={GW} dns={GW} lease=86400 "
                      f"serverid={GW}\n"), events
    _check_lease(gw, k)
    _after_lease(net, gw, k, www)
