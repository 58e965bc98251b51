"""The gateway's decoded transcript: one line per DHCP, DNS and ICMP message, with its virtual time.

A Tern guest on the FVP profile (inside link 1 ms, outside link 5 ms) leases
its address, resolves a user record and a local name that does not exist,
pings the gateway and an Internet host, sends a traceroute-style datagram with
TTL 1 and one UDP datagram to a closed port of the Internet host. The
transcript holds each message on each port, received ones as they came (before
NAT) and sent ones as they left (after NAT), at exact virtual times: the link
delays, the ARP resolution on the outside (one round trip, 10 ms) and nothing
else. The same text is the ``gw.transcript.txt`` artifact of the test.
"""

from __future__ import annotations

import re

import pytest

from gwkit import WWW, bound
from pyharness.dns import ResolveError

pytestmark = pytest.mark.area("gateway")

MS = 1_000_000


def at(ns: int) -> str:
    return f"{ns // 1_000_000_000}.{ns % 1_000_000_000:09d}"


@pytest.fixture
def lab(net):
    gw = net.gateway("gw", profile="fvp")
    guest = net.host("zephyr", dhcp={"hostname": "zephyr"}, slaac=False)  # IPv4 only: no Router Solicitation
    net.link(gw, guest, delay="1ms")
    www = net.host("www", ipv4=f"{WWW}/24")
    net.link(gw, www, delay="5ms")
    gw.dns_add("www.example", WWW)
    return net, gw, guest, www


@pytest.mark.rfc("2131 3.1", "1035 4.1.1", "792", "4787 4.1")
def test_transcript_of_a_session(lab):
    """DHCP DISCOVER/OFFER/REQUEST/ACK, two DNS exchanges, echo to the gateway and through NAT, time exceeded
    and a port unreachable translated back: every line, in order, at its exact virtual time."""
    net, gw, guest, www = lab
    bound(net, guest)
    assert guest.resolve("www.example") == [WWW]
    with pytest.raises(ResolveError, match="nxdomain"):
        guest.resolve("nope.tern")
    lines = gw.transcript()
    # What the guest chose at random (its DHCP xid, DNS IDs and ports) is read back from the lines.
    m = re.match(r"0\.001000000 in p0 DHCP DISCOVER xid (0x[0-9a-f]{8}) ", lines[0])
    assert m, lines[0]
    xid = m.group(1)
    dns = [re.match(r"(\d+\.\d{9}) in p0 DNS query id (0x[0-9a-f]{4}) A (\S+) 172\.20\.51\.1:(\d+) > "
                    r"172\.20\.51\.254:53$", ln) for ln in lines if " DNS query " in ln]
    assert all(dns) and [d.group(3) for d in dns] == ["www.example", "nope.tern"], lines
    mac = guest.mac
    want = [
        f"0.001000000 in p0 DHCP DISCOVER xid {xid} chaddr {mac} hostname zephyr 0.0.0.0:68 > 255.255.255.255:67",
        f"0.001000000 out p0 DHCP OFFER xid {xid} chaddr {mac} yiaddr 172.20.51.1 server 172.20.51.254 "
        "lease 86400 172.20.51.254:67 > 255.255.255.255:68",
        f"0.003000000 in p0 DHCP REQUEST xid {xid} chaddr {mac} requested 172.20.51.1 server 172.20.51.254 "
        "hostname zephyr 0.0.0.0:68 > 255.255.255.255:67",
        f"0.003000000 out p0 DHCP ACK xid {xid} chaddr {mac} yiaddr 172.20.51.1 server 172.20.51.254 "
        "lease 86400 172.20.51.254:67 > 255.255.255.255:68",
    ]
    for d, answer in zip(dns, ("NOERROR an 1 198.51.100.80", "NXDOMAIN an 0")):
        t, qid, name, port = d.groups()
        want += [f"{t} in p0 DNS query id {qid} A {name} 172.20.51.1:{port} > 172.20.51.254:53",
                 f"{t} out p0 DNS answer id {qid} A {name} {answer} 172.20.51.254:53 > 172.20.51.1:{port}"]
    assert lines == want

    t0 = net.now_ns
    guest.ping_socket(ident=9).send("172.20.51.254", seq=1)
    net.run(for_="10ms")
    guest.ping_socket(ident=10).send(WWW, seq=1)
    net.run(for_="30ms")
    u = guest.udp_socket(port=5000)
    u.set_ttl(1)
    u.sendto(b"x", (WWW, 33434))
    net.run(for_="10ms")
    u.set_ttl(64)
    u.sendto(b"x", (WWW, 9))
    net.run(for_="30ms")
    want += [
        # the gateway answers its own echo at once (RFC 792: the reply at the same instant it came)
        f"{at(t0 + 1 * MS)} in p0 ICMP echo request 172.20.51.1 > 172.20.51.254 id 0x0009 seq 1 len 56",
        f"{at(t0 + 1 * MS)} out p0 ICMP echo reply 172.20.51.254 > 172.20.51.1 id 0x0009 seq 1 len 56",
        # through NAT: out after the outside ARP round trip (10 ms), the identifier kept
        f"{at(t0 + 11 * MS)} in p0 ICMP echo request 172.20.51.1 > 198.51.100.80 id 0x000a seq 1 len 56",
        f"{at(t0 + 21 * MS)} out p1 ICMP echo request 198.51.100.2 > 198.51.100.80 id 0x000a seq 1 len 56",
        f"{at(t0 + 31 * MS)} in p1 ICMP echo reply 198.51.100.80 > 198.51.100.2 id 0x000a seq 1 len 56",
        f"{at(t0 + 31 * MS)} out p0 ICMP echo reply 198.51.100.80 > 172.20.51.1 id 0x000a seq 1 len 56",
        # TTL 1: time exceeded from the gateway's inside address (RFC 792, RFC 1812 5.3.1)
        f"{at(t0 + 41 * MS)} out p0 ICMP time exceeded ttl 172.20.51.254 > 172.20.51.1 "
        "about udp 172.20.51.1:5000 > 198.51.100.80:33434",
        # the Internet host's port unreachable, translated back to the guest (RFC 5508 REQ-3)
        f"{at(t0 + 61 * MS)} in p1 ICMP unreachable port 198.51.100.80 > 198.51.100.2 "
        "about udp 198.51.100.2:5000 > 198.51.100.80:9",
        f"{at(t0 + 61 * MS)} out p0 ICMP unreachable port 198.51.100.80 > 172.20.51.1 "
        "about udp 172.20.51.1:5000 > 198.51.100.80:9",
    ]
    assert gw.transcript() == want
    c = gw.counters()
    assert (c["transcript_lines"], c["transcript_dropped"]) == (len(want), 0)


def test_transcript_artifact_and_file(lab, tmp_path):
    """gw.transcript(path) writes the same text; the test's artifacts directory gets gw.transcript.txt."""
    net, gw, guest, _ = lab
    bound(net, guest)
    lines = gw.transcript(tmp_path / "t.txt")
    assert len(lines) == 4 and (tmp_path / "t.txt").read_text() == "\n".join(lines) + "\n"
    from pyharness.artifacts import write_transcripts

    (path,) = write_transcripts(tmp_path / "a", net)
    assert path.name == "gw.transcript.txt" and path.read_text().splitlines() == lines


def test_transcript_malformed_dns(net):
    """A DNS query whose question runs past the end gets a "malformed" line and the server's FORMERR (header
    only) its own; a well-formed query from the same scripted guest before it gets its two lines."""
    from scapy.all import DNS, DNSQR, IP, UDP, Ether

    gw = net.gateway("gw", profile="fvp", dhcp=False)
    guest = net.peer("guest", ipv4="172.20.51.1/24")
    net.link(gw, guest, port_a=gw.inside_port)
    to_gw = Ether(dst=gw.macs[0]) / IP(dst="172.20.51.254") / UDP(sport=4000, dport=53)
    guest.send(to_gw / DNS(id=0x1234, qd=DNSQR(qname="gateway.tern")))
    guest.expect(UDP(sport=53, dport=4000), within="1s")
    t = net.now_ns
    guest.send(to_gw / bytes.fromhex("beef01000001000000000000" "07676174657761"))  # label cut short
    net.run(for_="10ms")
    assert gw.transcript() == [
        "0.000000000 in p0 DNS query id 0x1234 A gateway.tern 172.20.51.1:4000 > 172.20.51.254:53",
        "0.000000000 out p0 DNS answer id 0x1234 A gateway.tern NOERROR an 1 172.20.51.254 "
        "172.20.51.254:53 > 172.20.51.1:4000",
        f"{at(t)} in p0 DNS malformed (19 bytes) 172.20.51.1:4000 > 172.20.51.254:53",
        f"{at(t)} out p0 DNS answer id 0xbeef (no question) FORMERR an 0 172.20.51.254:53 > 172.20.51.1:4000",
    ]
