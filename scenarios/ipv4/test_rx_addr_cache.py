"""The IPv4 receive path keeps the verdict of its address checks for the last flow (issue 19: a
datagram from the same source to the same one of our unicast addresses on the same interface skips
the martian, local and broadcast checks). A change to the DUT's addresses must reach the very next
datagram of that flow: these scenarios send a flow, change the addresses, and send the flow again.

Test builds of the stack also recompute the verdict on every use of a kept one and stop on a
difference; the scenarios check the behaviour on the wire, which a stale verdict would change in
any build.
"""

from __future__ import annotations

import pytest
from scapy.all import IP, TCP, UDP, Ether, Raw

from pyharness.dut import DUT_IP, PEER_IP

pytestmark = pytest.mark.area("ipv4")

PORT = 7
EXTRA = "10.0.0.9"


def tern_host(dut):
    """The DUT's host, whose addresses these scenarios change (the Tern DUT's harness API)."""
    if getattr(dut, "kind", "") != "tern":
        pytest.skip("changes the DUT's interface addresses through the Tern harness")
    return dut.host


def udp_to(peer, dut, dst: str, payload: bytes) -> None:
    peer.send(Ether(dst=dut.mac) / IP(src=PEER_IP, dst=dst) / UDP(sport=5000, dport=PORT) / Raw(payload))


def test_removed_address_no_longer_receives(dut, peer):
    """A second address takes two datagrams of one flow (the second one by the kept verdict); once
    the address is removed, the same flow is not for the DUT (counted ``ip_not_for_us``, nothing
    delivered, nothing sent back); the DUT's remaining address still receives and answers (positive
    control)."""
    host = tern_host(dut)
    host.add_address(f"{EXTRA}/24")
    s = dut.udp_socket(port=PORT)
    for payload in (b"one", b"two"):
        udp_to(peer, dut, EXTRA, payload)
        dut.net.run(for_="1ms")
        got = s.recvfrom()
        assert got is not None and got[0] == payload and got[1] == (PEER_IP, 5000)

    host.del_address(EXTRA)
    before = dut.counters().ip_not_for_us
    udp_to(peer, dut, EXTRA, b"gone")
    peer.expect_nothing(for_="100ms")
    assert s.recvfrom() is None, "a datagram to a removed address was delivered"
    assert dut.counters().ip_not_for_us == before + 1

    udp_to(peer, dut, DUT_IP, b"still")
    dut.net.run(for_="1ms")
    got = s.recvfrom()
    assert got is not None and got[0] == b"still"
    assert dut.counters().ip_not_for_us == before + 1
    # ... and answers it over the wire from that address
    s.sendto(b"answer", got[1])
    peer.expect(IP(src=DUT_IP, dst=PEER_IP) / UDP(sport=PORT, dport=5000) / Raw(b"answer"), within="10ms")


@pytest.mark.rfc("1122 4.2.3.10")
def test_address_that_becomes_a_directed_broadcast_takes_no_syn(dut, peer):
    """10.0.1.255/16 is a unicast address of the DUT: SYNs to it are answered (twice: the second
    by the kept verdict). Adding 10.0.1.1/24 to the same interface makes 10.0.1.255 that subnet's
    directed broadcast, and RFC 1122 §4.2.3.10: "A TCP implementation MUST silently discard an
    incoming SYN segment that is addressed to a broadcast or multicast address." Two more SYNs get
    no answer (the second would be let through by a verdict kept from the first); a SYN to the
    DUT's own address is answered (positive control)."""
    host = tern_host(dut)
    host.add_address("10.0.1.255/16")
    dut.tcp_listen(PORT)

    def syn(dst: str, sport: int):
        peer.send(Ether(dst=dut.mac) / IP(src=PEER_IP, dst=dst) / TCP(sport=sport, dport=PORT, flags="S", seq=1000))

    for sport in (40001, 40002):
        syn("10.0.1.255", sport)
        peer.expect(IP(src="10.0.1.255", dst=PEER_IP) / TCP(sport=PORT, dport=sport, flags="SA", ack=1001),
                    within="10ms")

    host.add_address("10.0.1.1/24")
    for sport in (40003, 40004):
        syn("10.0.1.255", sport)
        peer.expect_nothing(for_="100ms")

    syn(DUT_IP, 40005)
    peer.expect(IP(src=DUT_IP, dst=PEER_IP) / TCP(sport=PORT, dport=40005, flags="SA", ack=1001), within="10ms")
