"""DHCPv4 client (RFC 2131, RFC 2132; address conflict detection of RFC 5227):
messages and their fields, retransmission timing, probing before use, T1/T2
renewal and rebinding, lease expiry, NAK, DECLINE, INIT-REBOOT, release, and
malformed server messages survived.

A scripted peer (10.0.0.2) plays the server with scapy's DHCP layer. The
client starts at virtual time 0 on a link without delay, so the times
asserted are the client's own timers.
"""

from __future__ import annotations

import pytest
from scapy.all import ARP, BOOTP, DHCP, IP, UDP, Ether

from dhcpkit import OFFERED, SERVER_IP, S, acquire, expect_msg, opt, reply

pytestmark = pytest.mark.area("dhcp")


@pytest.fixture
def setup(net):
    """(net, client host, server peer) on one link; the client's DHCP starts at time 0."""
    dut = net.host("dut", dhcp={"hostname": "tern-dut"})
    peer = net.peer("srv", ipv4=f"{SERVER_IP}/24")
    net.link(dut, peer)
    return net, dut, peer


@pytest.mark.rfc("2131 4.1", "2131 4.4.1")
def test_discover_fields(setup):
    """The first DISCOVER: from 0.0.0.0:68 to 255.255.255.255:67, broadcast bit, client id, hostname, parameter list."""
    net, dut, peer = setup
    d = expect_msg(peer, 1, within="1s")
    assert d.time_ns == 0
    assert d[Ether].dst == "ff:ff:ff:ff:ff:ff"
    assert d[IP].src == "0.0.0.0" and d[IP].dst == "255.255.255.255"
    b = d[BOOTP]
    assert b.op == 1 and b.htype == 1 and b.hlen == 6 and b.ciaddr == "0.0.0.0"
    assert b.flags & 0x8000, "RFC 2131 4.1: BROADCAST bit set by a client that cannot receive unicast yet"
    assert b.chaddr[:6] == bytes.fromhex(dut.mac.replace(":", ""))
    assert opt(d, "client_id") == b"\x01" + b.chaddr[:6]
    assert opt(d, "hostname") == b"tern-dut"
    params = opt(d, "param_req_list")
    for code in (1, 3, 6, 12, 26, 51, 54, 58, 59):
        assert code in params
    assert len(bytes(d[BOOTP])) >= 300, "RFC 1542 2.1: at least 300 bytes"
    assert dut.dhcp_lease().state == "SELECTING"


@pytest.mark.rfc("2131 4.1")
def test_discover_backoff_4_to_64_seconds(setup):
    """Retransmissions wait 4, 8, 16, 32, 64, 64 s, each within +-1 s, with the same xid."""
    net, dut, peer = setup
    times, xids = [], set()
    for _ in range(7):
        d = expect_msg(peer, 1, within="70s")
        times.append(d.time_ns)
        xids.add(d[BOOTP].xid)
    gaps = [b - a for a, b in zip(times, times[1:])]
    for gap, base in zip(gaps, (4, 8, 16, 32, 64, 64)):
        assert (base - 1) * S <= gap <= (base + 1) * S, (gaps, base)
    assert len(set(g % S for g in gaps)) > 1, "the randomisation is not a constant"
    assert len(xids) == 1
    # secs counts from the start of the acquisition
    assert dut.dhcp_lease().counters["discovers"] == 7


def test_backoff_is_deterministic_per_seed(net):
    """Same seed, same retransmission times (the jitter comes from the instance's seeded generator)."""
    from pyharness import Network

    def run():
        n = Network(seed=99)
        h = n.host("dut", dhcp=True)
        p = n.peer("srv", ipv4=f"{SERVER_IP}/24")
        n.link(h, p)
        return [expect_msg(p, 1, within="70s").time_ns for _ in range(4)]

    assert run() == run()


@pytest.mark.rfc("2131 3.1", "2131 4.3.2", "5227 2.1.1", "5227 2.3")
def test_full_exchange_probes_then_bound(setup):
    """OFFER -> REQUEST (server id, requested IP, ciaddr 0) -> ACK -> 3 ARP probes -> BOUND 2 s after the last -> 2 announcements."""
    net, dut, peer = setup
    r, t_ack = acquire(net, peer)
    assert opt(r, "server_id") == SERVER_IP and opt(r, "requested_addr") == OFFERED
    assert r[BOOTP].ciaddr == "0.0.0.0"
    assert dut.dhcp_lease().state == "CHECKING"
    probes = []
    for _ in range(3):
        a = peer.expect(ARP(op=1, psrc="0.0.0.0", pdst=OFFERED), within="3s")
        assert a[ARP].hwdst == "00:00:00:00:00:00"
        probes.append(a.time_ns)
    # RFC 5227 2.1.1: first probe after 0..PROBE_WAIT (1 s), then PROBE_MIN..PROBE_MAX (1..2 s) apart
    assert 0 <= probes[0] - t_ack <= 1 * S
    assert all(1 * S <= b - a <= 2 * S for a, b in zip(probes, probes[1:]))
    # ANNOUNCE_WAIT (2 s) after the last probe the address is used and announced
    ann = peer.expect(ARP(op=1, psrc=OFFERED, pdst=OFFERED), at=(probes[2] + 2 * S) / 1e9)
    peer.expect(ARP(op=1, psrc=OFFERED, pdst=OFFERED), at=(ann.time_ns + 2 * S) / 1e9)
    lease = dut.dhcp_lease()
    assert lease.state == "BOUND" and lease.address == OFFERED and lease.router == SERVER_IP
    assert lease.subnet_mask == "255.255.255.0" and lease.dns == [SERVER_IP]
    assert lease.acquired_at == t_ack and lease.lease_secs == 3600
    assert lease.t1_at == t_ack + 1800 * S and lease.t2_at == t_ack + 3150 * S
    ev = dut.dhcp_events()
    assert [(e.kind, e.time, e.address) for e in ev] == [("bound", probes[2] + 2 * S, OFFERED)]
    # the address works: the host answers ARP for it now
    assert peer.resolve(OFFERED) == dut.mac


@pytest.mark.rfc("5227 2.1.1", "2131 3.1")
def test_conflict_during_probe_declines(setup):
    """An ARP reply from another host for the probed address: DECLINE (requested IP, server id), DISCOVER 10 s later."""
    net, dut, peer = setup
    req, _ = acquire(net, peer)
    peer.expect(ARP(op=1, psrc="0.0.0.0", pdst=OFFERED), within="2s")
    peer.send(Ether(dst=dut.mac) / ARP(op=2, hwsrc="02:99:00:00:00:01", psrc=OFFERED,
                                        hwdst=dut.mac, pdst="0.0.0.0"))
    t = net.now_ns
    dec = expect_msg(peer, 4, within="1s")
    assert dec.time_ns == t
    assert opt(dec, "requested_addr") == OFFERED and opt(dec, "server_id") == SERVER_IP
    assert dec[BOOTP].ciaddr == "0.0.0.0"
    d = expect_msg(peer, 1, within="11s")
    assert d.time_ns == t + 10 * S
    assert d[BOOTP].xid != req[BOOTP].xid  # a fresh exchange
    assert [e.kind for e in dut.dhcp_events()] == ["conflict"]
    assert dut.dhcp_lease().address is None


def test_no_conflict_control(setup):
    """Positive control of the conflict test: an unrelated ARP packet during probing changes nothing."""
    net, dut, peer = setup
    acquire(net, peer)
    peer.expect(ARP(op=1, psrc="0.0.0.0", pdst=OFFERED), within="2s")
    peer.send(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc="02:99:00:00:00:01", psrc="10.0.0.77",
                                                    pdst="10.0.0.78"))
    net.run(for_="10s")
    assert dut.dhcp_lease().state == "BOUND"


@pytest.mark.rfc("2131 4.4.5")
def test_renew_rebind_expire_exact_times(setup):
    """No answer after the ACK: REQUEST unicast at T1 (ciaddr set, no server id), again after half the time to T2
    (at least 60 s), broadcast at T2, lease lost at expiry and DISCOVER at once."""
    net, dut, peer = setup
    _, t0 = acquire(net, peer, lease=1000)  # T1 500 s, T2 875 s
    net.run(for_="8s")
    assert [e.kind for e in dut.dhcp_events()] == ["bound"]
    t1, t2, end = t0 + 500 * S, t0 + 875 * S, t0 + 1000 * S
    r1 = expect_msg(peer, 3, at=t1 / 1e9, tolerance=0)
    assert r1[IP].src == OFFERED and r1[IP].dst == SERVER_IP and r1[Ether].dst != "ff:ff:ff:ff:ff:ff"
    assert r1[BOOTP].ciaddr == OFFERED
    assert opt(r1, "server_id") is None and opt(r1, "requested_addr") is None
    assert dut.dhcp_lease().state == "RENEWING"
    # RFC 2131 4.4.5: half of the time left until T2, at least 60 s, never past T2:
    # 375 s left -> 187.5 s; 187.5 -> 93.75 s; 93.75 -> 46.875, so 60 s; 33.75 -> 60 s, capped at T2
    r2 = expect_msg(peer, 3, at=(t1 + 187_500_000_000) / 1e9, tolerance=0)
    r3 = expect_msg(peer, 3, at=(r2.time_ns + 93_750_000_000) / 1e9, tolerance=0)
    expect_msg(peer, 3, at=(r3.time_ns + 60 * S) / 1e9, tolerance=0)
    rb = expect_msg(peer, 3, at=t2 / 1e9, tolerance=0)
    assert rb[IP].dst == "255.255.255.255" and rb[IP].src == OFFERED and rb[BOOTP].ciaddr == OFFERED
    assert opt(rb, "server_id") is None
    assert dut.dhcp_lease().state == "REBINDING"
    # REBINDING, half of the lease time left: 125 s -> 62.5 s; 62.5 -> 31.25, so 60 s; 2.5 -> capped at the end
    rb2 = expect_msg(peer, 3, at=(t2 + 62_500_000_000) / 1e9, tolerance=0)
    expect_msg(peer, 3, at=(rb2.time_ns + 60 * S) / 1e9, tolerance=0)
    d = expect_msg(peer, 1, at=end / 1e9, tolerance=0)
    assert d[IP].src == "0.0.0.0"
    ev = dut.dhcp_events()
    assert [(e.kind, e.time) for e in ev] == [("lost", end)]
    lease = dut.dhcp_lease()
    assert lease.state == "SELECTING" and lease.address is None


@pytest.mark.rfc("2131 4.4.5")
def test_renewed_by_ack_in_renewing(setup):
    """An ACK to the T1 REQUEST extends the lease from the time of the ACK; the next T1 follows."""
    net, dut, peer = setup
    _, t0 = acquire(net, peer, lease=1000)
    net.run(for_="8s")
    assert [e.kind for e in dut.dhcp_events()] == ["bound"]
    r = expect_msg(peer, 3, at=(t0 + 500 * S) / 1e9, tolerance=0)
    reply(peer, r, "ack", lease=2000, broadcast=False)
    t = net.now_ns
    net.run(for_="1ms")
    assert [e.kind for e in dut.dhcp_events()] == ["renewed"]
    lease = dut.dhcp_lease()
    assert lease.state == "BOUND" and lease.lease_secs == 2000 and lease.t1_at == t + 1000 * S
    expect_msg(peer, 3, at=(t + 1000 * S) / 1e9, tolerance=0)


@pytest.mark.rfc("2131 4.4.5")
def test_leases_renewed_for_hours(setup):
    """A server that answers every REQUEST: the lease (600 s) is renewed at every T1 for 6 hours, never lost."""
    net, dut, peer = setup
    _, t = acquire(net, peer, lease=600)
    net.run(for_="10s")
    kinds = [e.kind for e in dut.dhcp_events()]
    renewals = 0
    while net.now_ns < 6 * 3600 * S:
        r = expect_msg(peer, 3, at=(t + 300 * S) / 1e9, tolerance=0)
        reply(peer, r, "ack", lease=600, broadcast=False)
        t = net.now_ns
        renewals += 1
        kinds += [e.kind for e in dut.dhcp_events()]
    net.run(for_="1ms")
    kinds += [e.kind for e in dut.dhcp_events()]
    assert kinds == ["bound"] + ["renewed"] * renewals
    assert renewals == 72


@pytest.mark.rfc("2131 3.1", "2131 4.4.1")
def test_nak_in_requesting_restarts(setup):
    """A NAK to the REQUEST: back to INIT, a new DISCOVER (new xid) at once."""
    net, dut, peer = setup
    d = expect_msg(peer, 1, within="1s")
    reply(peer, d, "offer")
    r = expect_msg(peer, 3, within="1s")
    reply(peer, r, "nak")
    t = net.now_ns
    d2 = expect_msg(peer, 1, within="1s")
    assert d2.time_ns == t and d2[BOOTP].xid != d[BOOTP].xid
    assert [e.kind for e in dut.dhcp_events()] == ["nak"]


@pytest.mark.rfc("2131 3.1")
def test_request_retransmitted_then_init(setup):
    """No answer to the REQUEST: retransmitted after 4, 8, 16, 32 s (+-1 s), back to DISCOVER after the 64 s wait."""
    net, dut, peer = setup
    d = expect_msg(peer, 1, within="1s")
    reply(peer, d, "offer")
    times = [expect_msg(peer, 3, within="70s").time_ns for _ in range(5)]
    gaps = [b - a for a, b in zip(times, times[1:])]
    for gap, base in zip(gaps, (4, 8, 16, 32)):
        assert (base - 1) * S <= gap <= (base + 1) * S
    d2 = expect_msg(peer, 1, within="70s")
    assert 63 * S <= d2.time_ns - times[-1] <= 65 * S


@pytest.mark.rfc("2131 3.2", "2131 4.3.2")
def test_init_reboot(net):
    """INIT-REBOOT: REQUEST with the previous address, no server id, ciaddr 0, broadcast; ACK -> bound."""
    dut = net.host("dut", dhcp={"previous_address": "10.0.0.55", "probe": False})
    peer = net.peer("srv", ipv4=f"{SERVER_IP}/24")
    net.link(dut, peer)
    r = expect_msg(peer, 3, within="1s")
    assert opt(r, "requested_addr") == "10.0.0.55" and opt(r, "server_id") is None
    assert r[BOOTP].ciaddr == "0.0.0.0" and r[IP].dst == "255.255.255.255"
    reply(peer, r, "ack", yiaddr="10.0.0.55")
    net.run(for_="1ms")
    assert dut.dhcp_lease().state == "BOUND" and dut.dhcp_lease().address == "10.0.0.55"


def test_init_reboot_nak(net):
    """INIT-REBOOT refused: DISCOVER at once."""
    dut = net.host("dut", dhcp={"previous_address": "10.0.0.55"})
    peer = net.peer("srv", ipv4=f"{SERVER_IP}/24")
    net.link(dut, peer)
    r = expect_msg(peer, 3, within="1s")
    reply(peer, r, "nak")
    expect_msg(peer, 1, within="1ms")


@pytest.mark.rfc("2131 4.4.6")
def test_release(setup):
    """release(): DHCPRELEASE unicast to the server with ciaddr and server id; the address is gone."""
    net, dut, peer = setup
    acquire(net, peer)
    net.run(for_="8s")
    assert dut.dhcp_lease().state == "BOUND"
    dut.dhcp_release()
    rel = expect_msg(peer, 7, within="1s")
    assert rel[IP].src == OFFERED and rel[IP].dst == SERVER_IP and rel[BOOTP].ciaddr == OFFERED
    assert opt(rel, "server_id") == SERVER_IP
    assert dut.dhcp_lease().state == "OFF"


MALFORMED = {
    "truncated_option": bytes.fromhex("63825363") + bytes([53, 1, 2, 54, 4, 10, 0]),
    "no_end": bytes.fromhex("63825363") + bytes([53, 1, 2, 54, 4, 10, 0, 0, 2]),
    "bad_mask_len": bytes.fromhex("63825363") + bytes([53, 1, 2, 54, 4, 10, 0, 0, 2, 1, 3, 255, 255, 255, 255]),
    "type_zero_len": bytes.fromhex("63825363") + bytes([53, 0, 54, 4, 10, 0, 0, 2, 255]),
    "bad_cookie": bytes.fromhex("63825364") + bytes([53, 1, 2, 54, 4, 10, 0, 0, 2, 255]),
    "no_server_id": bytes.fromhex("63825363") + bytes([53, 1, 2, 51, 4, 0, 0, 1, 0, 255]),
    "router_len_5": bytes.fromhex("63825363") + bytes([53, 1, 2, 54, 4, 10, 0, 0, 2, 3, 5, 1, 2, 3, 4, 5, 255]),
}


@pytest.mark.rfc("2132 3.2", "2131 4.3.1")
@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_offer_ignored(setup, case):
    """A malformed OFFER is ignored (counted), the client keeps retransmitting, and a valid OFFER afterwards works."""
    net, dut, peer = setup
    d = expect_msg(peer, 1, within="1s")
    reply(peer, d, "offer", raw_options=MALFORMED[case])
    net.run(for_="1ms")
    lease = dut.dhcp_lease()
    assert lease.state == "SELECTING" and lease.counters["ignored"] == 1 and lease.counters["offers"] == 0
    d2 = expect_msg(peer, 1, within="6s")
    # positive control: the same exchange with a well-formed OFFER proceeds
    reply(peer, d2, "offer")
    expect_msg(peer, 3, within="1ms")


def test_reply_with_other_xid_ignored(setup):
    """An OFFER for another exchange (xid) is not taken; the right one is."""
    net, dut, peer = setup
    d = expect_msg(peer, 1, within="1s")
    wrong = d.copy()
    wrong[BOOTP].xid ^= 1
    reply(peer, wrong, "offer")
    peer.expect_nothing(for_="3s", matching=UDP(dport=67))
    reply(peer, d, "offer")
    expect_msg(peer, 3, within="1ms")


def test_ack_without_lease_time_ignored(setup):
    """RFC 2131 4.3.1 table 3 makes the lease time a MUST in an ACK: one without it starts no lease."""
    net, dut, peer = setup
    d = expect_msg(peer, 1, within="1s")
    reply(peer, d, "offer")
    r = expect_msg(peer, 3, within="1s")
    reply(peer, r, "ack", lease=None)
    net.run(for_="1ms")
    assert dut.dhcp_lease().state == "REQUESTING"
    reply(peer, r, "ack")
    net.run(for_="1ms")
    assert dut.dhcp_lease().state == "CHECKING"
