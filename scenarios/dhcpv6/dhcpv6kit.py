"""Helpers of the DHCPv6 scenarios: a scripted DHCPv6 server built on scapy's DHCP6 layers,
and the RFC 8415 section 7.6 parameters in nanoseconds.

The server is a scripted peer ("srv") with a link-local address; it answers the client's
messages (to ff02::1:2, port 547) with Advertise and Reply messages sent to the client's
link-local address, port 546, as RFC 8415 section 18.3 has a server do.
"""

from __future__ import annotations

from typing import Any, Optional

from scapy.layers.dhcp6 import (DUID_LL, DHCP6, DHCP6_Advertise, DHCP6_Reply, DHCP6OptClientId,
                                DHCP6OptDNSDomains, DHCP6OptDNSServers, DHCP6OptIA_NA, DHCP6OptIAAddress,
                                DHCP6OptInfoRefreshTime, DHCP6OptPref, DHCP6OptServerId, DHCP6OptStatusCode)
from scapy.layers.inet import UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

S = 1_000_000_000
MS = 1_000_000
# RFC 8415 section 7.6, Table 1 (see stack/src/services/dhcpv6_client.c for the quoted rows).
SOL_MAX_DELAY = 1 * S
SOL_TIMEOUT = 1 * S
SOL_MAX_RT = 3600 * S
REQ_TIMEOUT = 1 * S
REQ_MAX_RT = 30 * S
REQ_MAX_RC = 10
REN_TIMEOUT = 10 * S
REN_MAX_RT = 600 * S
REB_TIMEOUT = 10 * S
REB_MAX_RT = 600 * S
INF_TIMEOUT = 1 * S
INF_MAX_RT = 3600 * S
REL_TIMEOUT = 1 * S
REL_MAX_RC = 4
DEC_TIMEOUT = 1 * S
DEC_MAX_RC = 4
IRT_DEFAULT = 86400 * S
IRT_MINIMUM = 600 * S

ADDR = "2001:db8::100"
ADDR2 = "2001:db8::200"
DNS1 = "2001:db8::53"
SRV_MAC = "02:00:00:00:05:47"
SRV2_MAC = "02:00:00:00:05:48"

#: A client message: UDP 546 -> 547 to All_DHCP_Relay_Agents_and_Servers.
CLIENT_MSG = IPv6(dst="ff02::1:2") / UDP(sport=546, dport=547)


def T(ns: int) -> str:
    """An exact virtual time for the harness: integer nanoseconds as "<n>ns"."""
    return f"{int(ns)}ns"


def ll_of(mac: str) -> str:
    """fe80:: + the modified EUI-64 identifier of ``mac``."""
    from pyharness.nd import link_local

    return link_local(bytes(int(x, 16) for x in mac.split(":")))


def server_duid(mac: str = SRV_MAC) -> Any:
    """The scripted server's DUID-LL."""
    return DUID_LL(lladdr=mac)


def bench(net: Any, dhcpv6: Any = True, dad: bool = False, mac2: bool = False, **host: Any) -> tuple:
    """(dut, srv[, srv2]): a Tern host (the DHCPv6 client, started at time 0 unless dhcpv6 is
    None) and one or two scripted servers on a switch-less link (one server) or a switch."""
    dut = net.host("dut", dhcpv6=dhcpv6, dad=dad, **host)
    srv = net.peer("srv", mac=SRV_MAC, ipv6=[f"{ll_of(SRV_MAC)}/64"])
    if not mac2:
        net.link(dut, srv)
        return dut, srv
    sw = net.switch("sw")
    srv2 = net.peer("srv2", mac=SRV2_MAC, ipv6=[f"{ll_of(SRV2_MAC)}/64"])
    net.link(dut, sw)
    net.link(srv, sw)
    net.link(srv2, sw)
    return dut, srv, srv2


def expect_msg(peer: Any, layer: Any, **kw: Any) -> Any:
    """The next client message; it must carry the DHCP6 message class ``layer``."""
    p = peer.expect(CLIENT_MSG, **kw)
    assert layer in p, f"expected {layer.__name__}, got {p.summary()}"
    return p


def skip_to(peer: Any, layer: Any, within: str) -> Any:
    """The next client message carrying ``layer``, passing over other client messages (the
    retransmissions of an exchange that ends meanwhile) received within ``within`` of each other."""
    while True:
        p = peer.expect(CLIENT_MSG, within=within)
        if layer in p:
            return p


def msg_of(p: Any) -> Any:
    """The DHCP6 message layer of a captured client message."""
    return p[UDP].payload


def elapsed(p: Any) -> int:
    """The Elapsed Time option's value (hundredths of a second)."""
    from scapy.layers.dhcp6 import DHCP6OptElapsedTime

    return int(p[DHCP6OptElapsedTime].elapsedtime)


def ia_na(addr: Optional[str] = ADDR, t1: int = 1000, t2: int = 1600, preferred: int = 2000,
          valid: int = 3000, iaid: int = 0, status: Optional[int] = None, addr_status: Optional[int] = None) -> Any:
    """An IA_NA option with one address (``addr`` None: no address)."""
    opts: list = []
    if addr is not None:
        a = DHCP6OptIAAddress(addr=addr, preflft=preferred, validlft=valid)
        if addr_status is not None:
            a.iaaddropts = [DHCP6OptStatusCode(statuscode=addr_status)]
        opts.append(a)
    if status is not None:
        opts.append(DHCP6OptStatusCode(statuscode=status))
    return DHCP6OptIA_NA(iaid=iaid, T1=t1, T2=t2, ianaopts=opts)


def answer(peer: Any, req: Any, cls: Any, opts: Optional[list] = None, ia: Any = "default",
           pref: Optional[int] = None, xid: Optional[int] = None, client_duid: Any = "echo",
           server_mac: str = SRV_MAC, server: bool = True, raw: Optional[bytes] = None) -> None:
    """Send an Advertise/Reply (``cls``) for client message ``req`` from the peer.

    ``ia``: an IA_NA option (default: :func:`ia_na` with the request's IAID), None for none;
    ``client_duid``: "echo" (the client's own), None (left out) or bytes; ``raw`` replaces the
    whole DHCPv6 payload (malformed-input tests)."""
    m = msg_of(req)
    msg = cls(trid=m.trid if xid is None else xid)
    if client_duid == "echo":
        msg /= DHCP6OptClientId(duid=req[DHCP6OptClientId].duid)
    elif client_duid is not None:
        msg /= DHCP6OptClientId(duid=client_duid)
    if server:
        msg /= DHCP6OptServerId(duid=server_duid(server_mac))
    if ia == "default":
        iaid = req[DHCP6OptIA_NA].iaid if DHCP6OptIA_NA in req else 0
        ia = ia_na(iaid=iaid)
    if ia is not None:
        msg /= ia
    if pref is not None:
        msg /= DHCP6OptPref(prefval=pref)
    for o in opts or []:
        msg /= o
    payload: Any = bytes(msg) if raw is None else raw
    peer.send(Ether(src=server_mac, dst=req[Ether].src) /
              IPv6(src=ll_of(server_mac), dst=req[IPv6].src) / UDP(sport=547, dport=546) / payload)


def acquire(net: Any, dut: Any, srv: Any, ia: Any = "default", opts: Optional[list] = None) -> tuple:
    """Solicit/Advertise (preference 255: no collection wait)/Request/Reply; returns (request,
    time of the Reply in ns)."""
    from scapy.layers.dhcp6 import DHCP6_Request, DHCP6_Solicit

    sol = expect_msg(srv, DHCP6_Solicit, within="1.1s")
    answer(srv, sol, DHCP6_Advertise, ia=ia, pref=255, opts=opts)
    req = expect_msg(srv, DHCP6_Request, within="1ms")
    answer(srv, req, DHCP6_Reply, ia=ia, opts=opts)
    t = net.now_ns
    net.run(for_="1us")
    return req, t


__all__ = ["DUID_LL", "DHCP6", "DHCP6OptDNSDomains", "DHCP6OptDNSServers", "DHCP6OptInfoRefreshTime", "answer", "acquire",
           "bench", "expect_msg", "ia_na", "msg_of", "elapsed", "server_duid", "ll_of", "T"]
