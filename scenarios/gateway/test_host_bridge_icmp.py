"""The host bridge maps the host's ICMP errors back to the guest (real time, journalled, replayed).

A guest's UDP datagram that the host answers with an ICMP error (a closed port on 127.0.0.1, an
address of the test's namespace nobody answers ARP for) comes back to the guest as that ICMP error,
quoting the guest's own datagram as the gateway's NAT translates it back (RFC 5508 section 4). The
bridge reads the errors from its UDP socket's error queue (``IP_RECVERR``, ``MSG_ERRQUEUE``), and
journals each one, so ``--replay-journal`` reproduces the run byte for byte with no host.

Every host socket lives in a namespace the test makes; the guest talks only to 127.0.0.1 (the
bridge's 198.51.100.1) and to 10.99.0.2, an unanswered address on a veth pair inside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

from pyharness import hostbridge
from pyharness.bridge import RealtimeNetwork
from pyharness.netns import NetNamespace, unavailable
from pyharness.plugin import failure_artifacts

pytestmark = [pytest.mark.area("gateway"), pytest.mark.dut("tern")]

CLOSED_PORT = 9  # nothing listens there in a fresh namespace
ECHOLESS = "10.99.0.2"  # on the namespace's veth, no neighbour: ARP fails, the host says host unreachable
GUEST_PORT = 40000
VETH_MTU = 1280  # the namespace's path to 10.99.0.0/24: a DF datagram over it is refused
WAIT = "30s"  # wall time: generous, the other core may be busy


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Iterator[tuple[Path, int]]:
    with failure_artifacts(request) as (adir, seed):
        yield adir, seed


@pytest.fixture
def netns() -> Iterator[Optional[str]]:
    """A namespace with ping sockets allowed and a veth pair (10.99.0.1/24, nobody at .2); None on a replay."""
    if hostbridge.REPLAY_JOURNAL is not None:
        yield None
        return
    reason = unavailable(("sysctl", "ip"))
    if reason:
        pytest.skip(reason)
    with NetNamespace() as ns:
        ns.run(["sysctl", "-w", "net.ipv4.ping_group_range=0 2147483647"], check=True)
        ns.run(["ip", "link", "add", "hbv0", "type", "veth", "peer", "name", "hbv1"], check=True)
        ns.run(["ip", "addr", "add", "10.99.0.1/24", "dev", "hbv0"], check=True)
        ns.run(["ip", "link", "set", "hbv0", "mtu", str(VETH_MTU), "up"], check=True)
        ns.run(["ip", "link", "set", "hbv1", "up"], check=True)
        # one ARP probe, 100 ms: the host gives up on 10.99.0.2 quickly
        ns.run(["sysctl", "-w", "net.ipv4.neigh.hbv0.mcast_solicit=1"], check=True)
        ns.run(["sysctl", "-w", "net.ipv4.neigh.hbv0.retrans_time_ms=100"], check=True)
        yield f"/run/netns/{ns.name}"


def build(adir: Path, seed: int, netns: Optional[str], replay: Optional[Path] = None) -> tuple[Any, Any, Any, Any]:
    """A slirp gateway, its host bridge (before any run), a DHCP guest; every link captured."""
    net = RealtimeNetwork(seed=seed, artifacts=adir)
    gw = net.gateway("gw", profile="slirp", outside_router="198.51.100.1")
    hb = net.host_bridge(gw, netns=netns, replay=replay)
    guest = net.host("guest", dhcp=True)
    net.link(gw, guest, port_a=gw.inside_port)
    net.capture()
    assert net.run_realtime(for_=WAIT, until=lambda: guest.dhcp_lease().state == "BOUND")
    return net, gw, hb, guest


def scenario(net: Any, gw: Any, hb: Any, guest: Any) -> None:
    """The guest's datagrams the host refuses: the same calls live and on replay."""
    u = guest.udp_socket(GUEST_PORT)
    # 1: a closed port on the host's 127.0.0.1
    u.sendto(b"anyone-on-port-9?", (hb.ip, CLOSED_PORT))
    assert net.run_realtime(for_=WAIT, until=lambda: gw.counters()["nat_icmp_errors_in"] >= 1)
    # 2: an address on the namespace's veth nobody answers ARP for
    u.sendto(b"anyone-at-10.99.0.2?", (ECHOLESS, 5000))
    assert net.run_realtime(for_=WAIT, until=lambda: gw.counters()["nat_icmp_errors_in"] >= 2)
    # 3: a DF datagram over the host's path MTU to 10.99.0.0/24
    u.set_dont_fragment(True)
    u.sendto(b"D" * 1300, (ECHOLESS, 5001))
    assert net.run_realtime(for_=WAIT, until=lambda: gw.counters()["nat_icmp_errors_in"] >= 3)
    net.run_realtime(for_="100ms")  # the last error crosses the guest's link


def _fold(b: bytes) -> int:
    """The ones' complement sum of b (0xFFFF when b holds its own right checksum)."""
    if len(b) % 2:
        b += b"\0"
    s = sum(int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b), 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def errors_seen(pcap: Path, guest_ip: str) -> list[Any]:
    """The ICMP errors the guest received, in order."""
    from scapy.all import ICMP, IP, rdpcap

    return [p[IP] for p in rdpcap(str(pcap)) if p.haslayer(ICMP) and p[IP].dst == guest_ip and p[ICMP].type == 3]


def check(adir: Path, hb: Any, guest_ip: str) -> None:
    """Both errors reached the guest, each quoting the guest's own datagram (its addresses, ports, IP ID, bytes)."""
    from scapy.all import IP, UDP, IPerror, UDPerror, rdpcap

    pcap = adir / "gw-guest.pcap"
    sent = [p[IP] for p in rdpcap(str(pcap)) if p.haslayer(UDP) and p[IP].src == guest_ip and p[UDP].sport == GUEST_PORT]
    assert [(p.dst, p[UDP].dport) for p in sent] == [(hb.ip, CLOSED_PORT), (ECHOLESS, 5000), (ECHOLESS, 5001)]
    assert [p.flags.DF for p in sent] == [False, False, True]
    errs = errors_seen(pcap, guest_ip)
    # RFC 792: "If, in the destination host, the IP module cannot deliver the datagram because the indicated
    # protocol module or process port is not active, the destination host may send a destination unreachable
    # message to the source host." Code 3 is "port unreachable", code 1 "host unreachable".
    # RFC 1191: "the router MUST include the MTU of that next-hop network in the low-order 16 bits of the ICMP
    # header field that is labelled \"unused\" in the ICMP specification" (the host's own stack refused it: from
    # 198.51.100.1, which stands for the host)
    assert [(e.src, e.getlayer(1).type, e.getlayer(1).code) for e in errs] == [
        (hb.ip, 3, 3), ("10.99.0.1", 3, 1), (hb.ip, 3, 4)]
    assert errs[2].getlayer(1).nexthopmtu == VETH_MTU
    for err, orig in zip(errs[:2], sent):
        q = err[IPerror]
        # RFC 5508 section 4: the NAT translates the embedded header back to the guest's address and port
        assert (q.src, q.dst, q.id, q.proto) == (guest_ip, orig.dst, orig.id, 17)
        # RFC 1812 4.3.2.3: "The returned IP header (and user data) MUST be identical to that which was received,
        # except that the router is not required to undo any modifications to the IP header that are normally
        # performed in forwarding": the host got it one hop (the gateway) on
        assert q.ttl == orig.ttl - 1
        assert (err[UDPerror].sport, err[UDPerror].dport) == (GUEST_PORT, orig[UDP].dport)
        assert bytes(err[UDPerror].payload) == bytes(orig[UDP].payload)[:orig[UDP].len - 8]  # no Ethernet padding
        # the quote's checksums are right again after the translation (the whole datagram is quoted here)
        raw = bytes(q)
        assert _fold(raw[:20]) == 0xFFFF, "quoted IPv4 header checksum"
        pseudo = raw[12:20] + bytes([0, 17]) + len(raw[20:]).to_bytes(2, "big")
        assert _fold(pseudo + raw[20:]) == 0xFFFF, "quoted UDP checksum"
    # the refused DF datagram: the host quotes none of its payload, the bridge its IPv4 and UDP headers
    q = errs[2][IPerror]
    assert (q.src, q.dst, q.id, q.len, q.flags.DF) == (guest_ip, ECHOLESS, sent[2].id, 1328, True)
    assert (errs[2][UDPerror].sport, errs[2][UDPerror].dport, errs[2][UDPerror].len) == (GUEST_PORT, 5001, 1308)
    assert _fold(bytes(q)[:20]) == 0xFFFF


def test_host_icmp_errors_mapped_back_live_then_replay(netns: Optional[str], artifacts: tuple[Path, int]) -> None:
    """A UDP datagram to a closed port of 127.0.0.1 comes back to the guest as Port Unreachable from 198.51.100.1,
    one to an unanswered address of the namespace as Host Unreachable from the host's 10.99.0.1; both quote the
    guest's datagram. The journal holds both errors, and its replay (no host) gives the same pcaps byte for byte."""
    adir, seed = artifacts
    if hostbridge.REPLAY_JOURNAL is not None:
        net, gw, hb, guest = build(adir, seed, None)
        assert hb.replaying
        scenario(net, gw, hb, guest)
        ip = guest.dhcp_lease().address
        net.close()
        check(adir, hb, ip)
        recorded = hostbridge.REPLAY_JOURNAL.parent
        for name in ("gw-guest.pcap", "gw-host.pcap"):
            if (recorded / name).exists():
                assert (adir / name).read_bytes() == (recorded / name).read_bytes(), name
        return
    net, gw, hb, guest = build(adir / "live", seed, netns)
    scenario(net, gw, hb, guest)
    ip = guest.dhcp_lease().address
    c = hb.counters()
    assert (c["udp_out"], c["icmp_errors"], c["host_errors"]) == (3, 3, 0)
    journal = hb.journal_path
    net.close()
    check(adir / "live", hb, ip)

    net, gw, hb, guest = build(adir / "replay", seed, None, replay=journal)
    assert hb.replaying
    scenario(net, gw, hb, guest)
    assert hb.counters()["icmp_errors"] == 3
    net.close()
    for name in ("gw-guest.pcap", "gw-host.pcap"):
        assert (adir / "replay" / name).read_bytes() == (adir / "live" / name).read_bytes(), name
