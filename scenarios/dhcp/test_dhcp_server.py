"""DHCPv4 server (RFC 2131 section 4.3): address choice, OFFER/ACK/NAK rules
for every REQUEST kind, DECLINE, RELEASE, INFORM, reply destinations of
section 4.1, reservations, lease expiry; malformed requests survived. The
scripted peer plays the client with scapy's DHCP layer; a second part runs
a Tern client against the Tern server over a lossy link for hours of
virtual time."""

from __future__ import annotations

import pytest
from scapy.all import BOOTP, DHCP, IP, UDP, Ether

from dhcpkit import S, opt

pytestmark = pytest.mark.area("dhcp")

SERVER = "10.0.0.1"
CMAC = "02:00:00:00:00:33"
POOL = {"ranges": [("10.0.0.100", "10.0.0.102")], "router": SERVER, "dns": [SERVER], "lease": 600}
SERVER_MSG = IP(src=SERVER) / UDP(sport=67)


@pytest.fixture
def srv(net):
    """(net, Tern server host 10.0.0.1/24, client peer without an address)."""
    host = net.host("srv", ipv4=f"{SERVER}/24", dhcp_server=POOL)
    peer = net.peer("cli", mac=CMAC)
    net.link(host, peer)
    return net, host, peer


def client_msg(mtype, xid=7, mac=CMAC, ciaddr="0.0.0.0", flags=0x8000, src="0.0.0.0", dst="255.255.255.255",
               giaddr="0.0.0.0", **options):
    """A client message from the peer (scapy) of type ``mtype``."""
    opts = [("message-type", mtype)] + list(options.items()) + ["end"]
    chaddr = bytes.fromhex(mac.replace(":", "")) + bytes(10)
    eth = Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") if dst == "255.255.255.255" else Ether(src=mac)
    return (eth / IP(src=src, dst=dst) / UDP(sport=68, dport=67)
            / BOOTP(op=1, xid=xid, chaddr=chaddr, ciaddr=ciaddr, flags=flags, giaddr=giaddr) / DHCP(options=opts))


def expect_reply(peer, mtype, **kw):
    """The server's next message, which must be of DHCP type ``mtype``."""
    kw.setdefault("within", "10ms")
    p = peer.expect(SERVER_MSG, **kw)
    assert opt(p, "message-type") == mtype, p[DHCP].options
    return p


def get_lease(net, peer, xid=1, mac=CMAC, **extra):
    """DISCOVER/OFFER/REQUEST/ACK as a scripted client; returns the ACK."""
    peer.send(client_msg("discover", xid=xid, mac=mac, **extra))
    off = expect_reply(peer, 2)
    peer.send(client_msg("request", xid=xid, mac=mac, server_id=SERVER, requested_addr=off[BOOTP].yiaddr, **extra))
    return expect_reply(peer, 5)


@pytest.mark.rfc("2131 4.3.1", "2131 4.1")
def test_offer_fields_and_broadcast(srv):
    """OFFER: yiaddr from the pool, server id, lease, mask, router, DNS; broadcast because the bit is set."""
    net, host, peer = srv
    peer.send(client_msg("discover"))
    off = expect_reply(peer, 2)
    assert off[IP].dst == "255.255.255.255" and off[Ether].dst == "ff:ff:ff:ff:ff:ff"
    assert off[BOOTP].op == 2 and off[BOOTP].xid == 7 and off[BOOTP].yiaddr == "10.0.0.100"
    assert opt(off, "server_id") == SERVER and opt(off, "lease_time") == 600
    assert opt(off, "subnet_mask") == "255.255.255.0" and opt(off, "router") == SERVER
    assert opt(off, "name_server") == SERVER
    assert host.dhcp_server_leases()[0]["state"] == "offered"


@pytest.mark.rfc("2131 4.1")
def test_offer_unicast_to_chaddr_without_broadcast_bit(srv):
    """No broadcast bit, ciaddr and giaddr 0: unicast to chaddr and yiaddr."""
    net, host, peer = srv
    peer.send(client_msg("discover", flags=0))
    off = expect_reply(peer, 2)
    assert off[IP].dst == "10.0.0.100" and off[Ether].dst == CMAC


@pytest.mark.rfc("2131 4.1")
def test_reply_to_relay_giaddr(net):
    """giaddr set: the reply goes to the relay's server port (67)."""
    host = net.host("srv", ipv4=f"{SERVER}/24", dhcp_server=POOL)
    relay = net.peer("relay", ipv4="10.0.0.9/24")
    net.link(host, relay)
    relay.send(client_msg("discover", mac=relay.mac, src="10.0.0.9", dst=SERVER, giaddr="10.0.0.9"))
    off = relay.expect(SERVER_MSG, within="1s")
    assert off[IP].dst == "10.0.0.9" and off[UDP].dport == 67 and off[BOOTP].giaddr == "10.0.0.9"


@pytest.mark.rfc("2131 4.3.2")
def test_request_ack_binds(srv):
    """REQUEST for the offered address: ACK, lease bound for the lease time."""
    net, host, peer = srv
    ack = get_lease(net, peer)
    assert ack[BOOTP].yiaddr == "10.0.0.100" and opt(ack, "lease_time") == 600
    (le,) = host.dhcp_server_leases()
    assert le["state"] == "bound" and le["mac"] == CMAC and le["expires_at"] == net.now_ns + 600 * S


@pytest.mark.rfc("2131 4.3.2")
def test_request_other_server_frees_offer(srv):
    """REQUEST naming another server: silence, and our offer is freed."""
    net, host, peer = srv
    peer.send(client_msg("discover"))
    expect_reply(peer, 2)
    peer.send(client_msg("request", server_id="10.0.0.254", requested_addr="10.0.0.100"))
    peer.expect_nothing(for_="1s", matching=SERVER_MSG)
    assert host.dhcp_server_leases()[0]["state"] == "released"
    # positive control: a REQUEST naming us is answered
    peer.send(client_msg("discover", xid=8))
    off = expect_reply(peer, 2)
    peer.send(client_msg("request", xid=8, server_id=SERVER, requested_addr=off[BOOTP].yiaddr))
    expect_reply(peer, 5)


@pytest.mark.rfc("2131 4.3.2", "2131 4.1")
def test_request_wrong_address_nak_broadcast(srv):
    """SELECTING REQUEST for an address not offered: NAK, broadcast (section 4.1), yiaddr 0."""
    net, host, peer = srv
    peer.send(client_msg("discover"))
    expect_reply(peer, 2)
    peer.send(client_msg("request", server_id=SERVER, requested_addr="10.0.0.101", flags=0))
    nak = expect_reply(peer, 6)
    assert nak[IP].dst == "255.255.255.255" and nak[BOOTP].yiaddr == "0.0.0.0"
    assert opt(nak, "lease_time") is None


@pytest.mark.rfc("2131 4.3.2")
def test_init_reboot_rules(srv):
    """INIT-REBOOT: known client and right address -> ACK; wrong address -> NAK; wrong subnet -> NAK;
    unknown client -> silence."""
    net, host, peer = srv
    get_lease(net, peer)
    peer.send(client_msg("request", xid=2, requested_addr="10.0.0.100"))
    expect_reply(peer, 5)
    peer.send(client_msg("request", xid=3, requested_addr="10.0.0.101"))
    expect_reply(peer, 6)
    peer.send(client_msg("request", xid=4, requested_addr="192.168.9.9"))
    expect_reply(peer, 6)
    peer.send(client_msg("request", xid=5, mac="02:00:00:00:00:44", requested_addr="10.0.0.101"))
    peer.expect_nothing(for_="1s", matching=SERVER_MSG)


@pytest.mark.rfc("2131 4.3.2", "2131 4.1")
def test_renewing_unicast_ack(srv):
    """RENEWING (ciaddr, unicast): ACK unicast to ciaddr, lease extended from now."""
    net, host, peer = srv
    get_lease(net, peer)
    net.run(for_="300s")
    from scapy.all import ARP

    peer.send(client_msg("request", xid=9, ciaddr="10.0.0.100", flags=0, src="10.0.0.100", dst=SERVER))
    # the server resolves 10.0.0.100 by ARP; the peer has no address to answer with, so answer by hand
    arp = peer.expect(ARP(pdst="10.0.0.100"), within="1s")

    peer.send(Ether(dst=host.mac) / ARP(op=2, hwsrc=CMAC, psrc="10.0.0.100", hwdst=host.mac, pdst=SERVER))
    ack = expect_reply(peer, 5, within="1s")
    assert ack[IP].dst == "10.0.0.100" and ack[BOOTP].ciaddr == "10.0.0.100"
    assert host.dhcp_server_leases()[0]["expires_at"] == ack.time_ns + 600 * S
    assert arp is not None


@pytest.mark.rfc("2131 4.3.2")
def test_rebinding_unknown_client_silent(srv):
    """REBINDING from a client the server has no record of: silence; the control: the same client's
    DISCOVER right after it gets its OFFER."""
    net, host, peer = srv
    peer.send(client_msg("request", ciaddr="10.0.0.77", src="10.0.0.77"))
    peer.expect_nothing(for_="1s", matching=SERVER_MSG)
    assert host.dhcp_server_counters()["ignored"] == 1
    peer.send(client_msg("discover", xid=2))
    assert expect_reply(peer, 2)[BOOTP].yiaddr == "10.0.0.100"


@pytest.mark.rfc("2131 4.3.3")
def test_decline_marks_address_unavailable(srv):
    """DECLINE: the address is not offered again; the next DISCOVER gets another."""
    net, host, peer = srv
    get_lease(net, peer)
    peer.send(client_msg("decline", xid=2, server_id=SERVER, requested_addr="10.0.0.100"))
    net.run(for_="1ms")
    assert host.dhcp_server_leases()[0]["state"] == "declined"
    peer.send(client_msg("discover", xid=3))
    assert expect_reply(peer, 2)[BOOTP].yiaddr == "10.0.0.101"


@pytest.mark.rfc("2131 4.3.4", "2131 4.3.1")
def test_release_then_same_address_again(srv):
    """RELEASE frees the address but the server remembers the client: its next DISCOVER gets the same one,
    even after another client took an address."""
    net, host, peer = srv
    get_lease(net, peer)
    peer.send(client_msg("release", xid=2, ciaddr="10.0.0.100", src="10.0.0.100", server_id=SERVER, flags=0))
    net.run(for_="1ms")
    assert host.dhcp_server_leases()[0]["state"] == "released"
    get_lease(net, peer, xid=3, mac="02:00:00:00:00:44")
    peer.send(client_msg("discover", xid=4))
    assert expect_reply(peer, 2)[BOOTP].yiaddr == "10.0.0.100"


@pytest.mark.rfc("2131 4.3.5")
def test_inform(srv):
    """INFORM: ACK to ciaddr with parameters, without lease time or yiaddr."""
    net, host, peer = srv
    from scapy.all import ARP

    peer.send(client_msg("inform", ciaddr="10.0.0.50", src="10.0.0.50", dst=SERVER, flags=0))
    peer.expect(ARP(pdst="10.0.0.50"), within="1s")
    peer.send(Ether(dst=host.mac) / ARP(op=2, hwsrc=CMAC, psrc="10.0.0.50", hwdst=host.mac, pdst=SERVER))
    ack = expect_reply(peer, 5, within="1s")
    assert ack[IP].dst == "10.0.0.50" and ack[BOOTP].yiaddr == "0.0.0.0"
    assert opt(ack, "lease_time") is None and opt(ack, "router") == SERVER


@pytest.mark.rfc("2131 4.3.1")
def test_pool_exhaustion_and_expiry(srv):
    """Three addresses, four clients: the fourth gets nothing until a lease expires (600 s)."""
    net, host, peer = srv
    for i in range(3):
        get_lease(net, peer, xid=10 + i, mac=f"02:00:00:00:01:0{i}")
    peer.send(client_msg("discover", xid=20, mac="02:00:00:00:01:09"))
    peer.expect_nothing(for_="1s", matching=SERVER_MSG)
    assert host.dhcp_server_counters()["exhausted"] == 1
    net.run(for_="600s")
    peer.send(client_msg("discover", xid=21, mac="02:00:00:00:01:09"))
    assert expect_reply(peer, 2)[BOOTP].yiaddr == "10.0.0.100"


@pytest.mark.rfc("2131 4.3.1")
def test_reservation_by_mac_and_client_id(net):
    """Reservations by MAC and by client id get their address; nobody else is offered it."""
    pool = dict(POOL, ranges=[("10.0.0.100", "10.0.0.101")],
                reservations={"02:00:00:00:00:55": "10.0.0.100", b"\x00tern": "10.0.0.200"})
    host = net.host("srv", ipv4=f"{SERVER}/24", dhcp_server=pool)
    peer = net.peer("cli", mac=CMAC)
    net.link(host, peer)
    peer.send(client_msg("discover"))
    assert expect_reply(peer, 2)[BOOTP].yiaddr == "10.0.0.101"
    peer.send(client_msg("discover", xid=2, mac="02:00:00:00:00:55"))
    assert expect_reply(peer, 2)[BOOTP].yiaddr == "10.0.0.100"
    peer.send(client_msg("discover", xid=3, mac="02:00:00:00:00:66", client_id=b"\x00tern"))
    assert expect_reply(peer, 2)[BOOTP].yiaddr == "10.0.0.200"


def test_bad_config_rejected(net):
    """Invalid server configurations are refused with a message naming the problem."""
    from pyharness.errors import ConfigError

    with pytest.raises(ConfigError, match="range"):
        net.host("a", ipv4="10.0.0.1/24", dhcp_server={"ranges": [("10.0.1.5", "10.0.1.9")]})
    with pytest.raises(ConfigError, match="t1"):
        net.host("b", ipv4="10.0.0.1/24", dhcp_server=dict(POOL, t1=500, t2=400))
    with pytest.raises(ConfigError, match="ranges"):
        net.host("c", ipv4="10.0.0.1/24", dhcp_server={})


MALFORMED = {
    "short": bytes(100),
    "no_end": None,
    "option_past_end": None,
    "bootreply_op": None,
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_request_survived(srv, case):
    """Malformed client messages are ignored and counted; a valid DISCOVER right after is answered."""
    net, host, peer = srv
    good = bytes(client_msg("discover")[BOOTP])
    if case == "short":
        payload = good[:100]
    elif case == "no_end":
        payload = good[:243]  # cookie + message type, no end
    elif case == "option_past_end":
        payload = good[:240] + bytes([53, 1, 1, 12, 40, 65])
    else:
        payload = bytes([2]) + good[1:]
    peer.send(Ether(src=CMAC, dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255")
              / UDP(sport=68, dport=67) / payload)
    peer.expect_nothing(for_="10ms", matching=SERVER_MSG)
    assert host.dhcp_server_counters()["ignored"] == 1
    peer.send(client_msg("discover"))
    expect_reply(peer, 2)


# ---- Tern client against the Tern server --------------------------------------------


@pytest.mark.rfc("2131 4.4.5", "2131 4.1")
@pytest.mark.parametrize("loss", [0.0, 0.1])
def test_tern_client_tern_server_hours(net, loss):
    """A Tern client keeps its lease from a Tern server for 12 hours of virtual time (lease 600 s),
    with loss on the link in both directions: never lost, renewed again and again."""
    server = net.host("srv", ipv4=f"{SERVER}/24", dhcp_server=dict(POOL, lease=600))
    client = net.host("cli", dhcp={"hostname": "cli"})
    net.link(server, client, loss=loss)
    kinds = []
    for _ in range(12 * 6):  # the client keeps 16 events: take them every 10 minutes
        net.run(for_="10min")
        kinds += [e.kind for e in client.dhcp_events()]
    lease = client.dhcp_lease()
    assert lease.address == "10.0.0.100" and lease.state in ("BOUND", "RENEWING", "REBINDING")
    assert "lost" not in kinds
    renewed = kinds.count("renewed")
    assert kinds[0] == "bound" and renewed >= 12 * 3600 // 600 - 2
    (le,) = server.dhcp_server_leases()
    assert le["state"] == "bound" and le["address"] == "10.0.0.100" and le["mac"] == client.mac
    if loss:
        assert client.dhcp_lease().counters["requests"] > renewed + 1, "loss made the client retransmit"
