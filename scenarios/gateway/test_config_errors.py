"""Configuration of the gateway: validated completely before anything runs; every
mistake is a GatewayConfigError naming the field and the reason (FVP's own
user-mode networking reports none: "If setup fails, or the parameter syntax
is incorrect, there is no error reporting"). QEMU's hostfwd= and FVP's
userNetPorts= syntaxes are accepted, with precise messages for bad rules.
"""

from __future__ import annotations

import pytest

from pyharness.gateway import GatewayConfigError

pytestmark = pytest.mark.area("gateway")

CASES = [
    # (profile, options, field, reason)
    ("nope", {}, "profile", "'nope' is not a profile; known: fvp, sel4, slirp"),
    ("slirp", {"dhcp": {"pool": ("10.0.2.2", "10.0.2.20")}}, "dhcp.pool", "overlaps the gateway address 10.0.2.2"),
    ("slirp", {"dhcp": {"pool": ("10.0.2.3", "10.0.2.9")}}, "dhcp.pool", "overlaps the DNS address 10.0.2.3"),
    ("slirp", {"dhcp": {"pool": ("10.0.3.1", "10.0.3.9")}}, "dhcp.pool", "10.0.3.1 is not a host address of 10.0.2.0/24"),
    ("slirp", {"dhcp": {"pool": ("10.0.2.30", "10.0.2.15")}}, "dhcp.pool", "first 10.0.2.30 is above last 10.0.2.15"),
    ("slirp", {"dhcp": {"pool": "10.0.2.15"}}, "dhcp.pool", "'10.0.2.15' is not (first, last)"),
    ("slirp", {"dhcp": {"pool": ("10.0.2.15", "10.0.2.255")}}, "dhcp.pool",
     "10.0.2.255 is not a host address of 10.0.2.0/24"),
    ("slirp", {"dhcp": {"lease": "1.5s"}}, "dhcp.lease", "must be a whole number of seconds up to 2**32-1, got '1.5s'"),
    ("slirp", {"dhcp": {"t1": 100, "t2": 50}}, "dhcp.t1", "t1 100 s < t2 50 s < lease 86400 s does not hold"),
    ("slirp", {"dhcp": {"reservations": {"zz:00": "10.0.2.20"}}}, "dhcp.reservations[0]", "'zz:00' is not a MAC address"),
    ("slirp", {"dhcp": {"reservations": {"02:00:00:00:00:01": "10.0.2.2"}}}, "dhcp.reservations[0]",
     "10.0.2.2 is not a guest address of 10.0.2.0/24"),
    ("slirp", {"dhcp": {"leese": 5}}, "dhcp.leese", "unknown key; known: lease, mtu, offer_hold, pool, reservations, t1, t2"),
    ("sel4", {"dhcp": {"lease": 100}}, "dhcp.pool", "no pool: give dhcp={'pool': (first, last)} or dhcp=False"),
    ("fvp", {"inside": "10.9.0.1/24", "gateway_ip": "10.9.0.1"}, "inside",
     "'10.9.0.1/24' has host bits set (a prefix like '10.9.0.0/24')"),
    ("fvp", {"inside": "10.9.0.0/24"}, "gateway_ip", "a custom inside prefix 10.9.0.0/24 needs gateway_ip too"),
    ("fvp", {"gateway_ip": "10.0.2.2"}, "gateway_ip", "10.0.2.2 is not a host address of 172.20.51.0/24"),
    ("fvp", {"inside": "10.9.0.0/31", "gateway_ip": "10.9.0.1"}, "inside",
     "prefix length 31 leaves no room for hosts (1..30)"),
    ("fvp", {"outside": "172.20.0.2/16"}, "outside", "172.20.0.2/16 overlaps the inside segment 172.20.51.0/24"),
    ("fvp", {"outside": "198.51.100.2"}, "outside", "'198.51.100.2' has no prefix length (write '198.51.100.2/24')"),
    ("fvp", {"outside": "198.51.100.0/24"}, "outside", "198.51.100.0 is the network or broadcast address of 198.51.100.0/24"),
    ("fvp", {"outside_router": "192.0.2.1"}, "outside_router", "192.0.2.1 is not another host of 198.51.100.0/24"),
    ("fvp", {"outside": None, "outside_router": "192.0.2.1"}, "outside_router", "given without an outside segment"),
    ("fvp", {"segments": ["10.1.0.1/24", "10.1.0.129/25"]}, "segments[1]", "10.1.0.128/25 overlaps segments[0] 10.1.0.0/24"),
    ("fvp", {"segments": ["172.20.51.1/25"]}, "segments[0]", "172.20.51.0/25 overlaps the inside segment 172.20.51.0/24"),
    ("fvp", {"segments": [f"10.{i}.0.1/24" for i in range(7)]}, "segments", "a gateway has at most 8 ports"),
    ("fvp", {"bogus": 1}, "bogus", "unknown key; known: dhcp, dns, dns_ip, gateway_ip, hostfwd, icmp_burst, icmp_rate, "
                                   "inside, ipv6, mac, mtu, nat, outside, outside_router, port_forwards, seed, segments, "
                                   "user_net_ports"),
    ("fvp", {"nat": {"udp_timeot": 1}}, "nat.udp_timeot", "unknown key; known: allow_short_timeouts, filtering, "
                                                          "icmp_timeout, inbound_refresh, max_mappings, ports, "
                                                          "tcp_established_timeout, tcp_transitory_timeout, udp_timeout"),
    ("fvp", {"nat": {"filtering": "full-cone"}}, "nat.filtering",
     "'full-cone'; known: endpoint-independent, address-dependent, address-and-port-dependent"),
    ("fvp", {"nat": {"udp_timeout": "119s"}}, "nat.udp_timeout",
     "119 s is below the 120 s of RFC 4787 REQ-5 (set allow_short_timeouts)"),
    ("fvp", {"nat": {"icmp_timeout": "59s"}}, "nat.icmp_timeout",
     "59 s is below the 60 s of RFC 5508 REQ-2 (set allow_short_timeouts)"),
    ("fvp", {"nat": {"udp_timeout": "-1s"}}, "nat.udp_timeout", "must not be negative, got '-1s'"),
    ("fvp", {"nat": {"udp_timeout": 0}}, "nat.udp_timeout", "must be above 0, got 0"),
    ("fvp", {"nat": {"udp_timeout": "soon"}}, "nat.udp_timeout",
     "cannot read 'soon' as a number with a unit (known units: ns, us, µs, ms, s, min, h)"),
    ("fvp", {"nat": {"ports": (2000, 1000)}}, "nat.ports", "first 2000 above last 1000"),
    ("fvp", {"nat": {"ports": (1024, 61000)}}, "nat.ports",
     "last 61000 overlaps the gateway's own ephemeral ports 61000..65535"),
    ("fvp", {"nat": {"ports": (0, 100)}}, "nat.ports", "port 0 is outside 1..65535"),
    ("fvp", {"dns": {"upstream": ["dns.google"]}}, "dns.upstream[0]", "'dns.google' is not an IPv4 address"),
    ("fvp", {"dns": {"upstream": ["172.20.51.254"]}}, "dns.upstream[0]",
     "172.20.51.254 is the gateway's own address (a loop)"),
    ("fvp", {"dns": {"upstream": ["127.0.0.1"]}}, "dns.upstream[0]", "127.0.0.1 cannot be a server's address"),
    ("fvp", {"dns": {"enabled": False, "upstream": ["192.0.2.53"]}}, "dns.upstream", "given, but the DNS server is off"),
    ("fvp", {"dns": {"domain": "bad..name"}}, "dns.domain", "bad..name is not a domain name"),
    ("fvp", {"dns": {"records": {"www.example": "1.2.3"}}}, "dns.records['www.example']", "'1.2.3' is not an IPv4 or IPv6 address"),
    ("fvp", {"mtu": 50}, "mtu", "50 is outside 68..9000"),
    ("fvp", {"icmp_rate": 0}, "icmp_rate", "rate 0/s and burst 10 must be at least 1"),
    ("slirp", {"hostfwd": "tcp:5555-:22"}, "hostfwd[0]",
     "'tcp:5555-:22' does not match [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport"),
    ("slirp", {"hostfwd": ["tcp::5555-:22", "sctp::5556-:22"]}, "hostfwd[1]", "protocol 'sctp' is not tcp or udp"),
    ("slirp", {"hostfwd": "tcp:127.0.0.1:5555-:22"}, "hostfwd[0]",
     "host address 127.0.0.1: sealed mode listens on the gateway's outside address 198.51.100.2 (leave it empty)"),
    ("slirp", {"hostfwd": "tcp::5555-10.0.3.15:22"}, "hostfwd[0]",
     "guest 10.0.3.15 is not on an inside segment (10.0.2.0/24)"),
    ("slirp", {"hostfwd": "tcp::5555-:22x"}, "hostfwd[0].guest_port", "'22x' is not a port number"),
    ("slirp", {"hostfwd": "udp::65536-:53"}, "hostfwd[0].host_port", "port 65536 is outside 0..65535"),
    ("slirp", {"hostfwd": "tcp::5555-10.0.2.3:53"}, "hostfwd[0]",
     "guest 10.0.2.3 is the gateway's own or a network/broadcast address"),
    ("slirp", {"port_forwards": [{"protocol": "udp", "host_port": 5353, "guest": "10.0.2.15", "port": 53},
                                 {"protocol": "udp", "host_port": 5353, "guest": "10.0.2.16", "port": 53}]},
     "port_forwards[1]", "udp host port 5353 already in use by port_forwards[0]"),
    ("slirp", {"port_forwards": [{"protocol": "icmp", "host_port": 1, "port": 1}]}, "port_forwards[0]",
     "protocol 'icmp' is not tcp or udp"),
    ("slirp", {"port_forwards": [{"proto": "tcp"}]}, "port_forwards[0].proto",
     "unknown key; known: guest, host_port, port, protocol"),
    ("slirp", {"outside": None, "hostfwd": "tcp::5555-:22"}, "hostfwd[0]",
     "port forwards need an outside port (outside=None was given)"),
    ("sel4", {"hostfwd": "tcp::5555-:22"}, "hostfwd[0]",
     "no guest address given and the profile has no DHCP pool to take the first lease from"),
    ("fvp", {"user_net_ports": "8022:22"}, "user_net_ports[0]", "'8022:22' is not [host-ip:]hostport=[model-ip:]modelport"),
    ("fvp", {"user_net_ports": "8022=22,8080="}, "user_net_ports[1]", "'8080=': a port is missing"),
    ("fvp", {"user_net_ports": "8022=22,8022=23"}, "port_forwards[1]", "tcp host port 8022 already in use by port_forwards[0]"),
]


@pytest.mark.parametrize("profile,options,field,reason", CASES, ids=[f"{c[2]}-{i}" for i, c in enumerate(CASES)])
def test_configuration_error(net, profile, options, field, reason):
    """The error names the field and says why; nothing is added to the network."""
    with pytest.raises(GatewayConfigError) as e:
        net.gateway("gw", profile=profile, **options)
    assert (e.value.field, e.value.reason) == (field, reason)
    assert str(e.value) == f"{field}: {reason}"
    assert [n.name for n in net.nodes] == []


def test_valid_configuration_builds(net):
    """Positive control of the table: each profile with its defaults builds, with its addresses."""
    built = {p: net.gateway(f"gw-{p}", profile=p) for p in ("fvp", "slirp", "sel4")}
    assert {p: (g.ip, g.dns_ip, g.outside_ip) for p, g in built.items()} == {
        "fvp": ("172.20.51.254", "172.20.51.254", "198.51.100.2"),
        "slirp": ("10.0.2.2", "10.0.2.3", "198.51.100.2"),
        "sel4": ("192.168.1.1", "192.168.1.1", "198.51.100.2"),
    }
    assert built["sel4"].plan.dhcp is None


def test_hostfwd_rules_parsed(net):
    """QEMU's rules: protocol default tcp, empty guest = the first lease (10.0.2.15), host port 0 = a free port."""
    gw = net.gateway("gw", profile="slirp", hostfwd=["tcp::5555-:22", "udp:0.0.0.0:5353-10.0.2.16:53",
                                                     ":198.51.100.2:8080-:80", "tcp::0-:23"])
    assert [(f.protocol, f.host_port, f.guest, f.port) for f in gw.forwards] == [
        ("tcp", 5555, "10.0.2.15", 22), ("udp", 5353, "10.0.2.16", 53), ("tcp", 8080, "10.0.2.15", 80),
        ("tcp", 1024, "10.0.2.15", 23)]
    assert [(m.protocol, m.outside_port, m.inside, m.inside_port, m.forward, m.expires_at) for m in gw.nat_table()] \
        == [("tcp", 5555, "10.0.2.15", 22, True, None), ("udp", 5353, "10.0.2.16", 53, True, None),
            ("tcp", 8080, "10.0.2.15", 80, True, None), ("tcp", 1024, "10.0.2.15", 23, True, None)]


def test_user_net_ports_parsed(net):
    """FVP's userNetPorts: hostport=modelport, optional addresses; the model's default address is the first lease."""
    gw = net.gateway("gw", profile="fvp", user_net_ports="8022=22, 198.51.100.2:8080=172.20.51.7:80")
    assert [(f.protocol, f.host_port, f.guest, f.port) for f in gw.forwards] == [
        ("tcp", 8022, "172.20.51.1", 22), ("tcp", 8080, "172.20.51.7", 80)]


def test_runtime_forward_conflict(net):
    """gw.forward() onto a host port already forwarded: an error naming both, the first forward kept."""
    gw = net.gateway("gw", profile="slirp")
    assert gw.forward("udp", host_port=5353, port=53) == 5353
    with pytest.raises(GatewayConfigError) as e:
        gw.forward("udp", host_port=5353, guest="10.0.2.16", port=53)
    assert e.value.field == "forward.host_port"
    assert e.value.reason.endswith("port forward udp 5353: outside port already used by the forward to 10.0.2.15:53")
    assert [(f.host_port, f.guest) for f in gw.forwards] == [(5353, "10.0.2.15")]
