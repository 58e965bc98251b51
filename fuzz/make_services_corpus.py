#!/usr/bin/env python3
"""Regenerate the seed corpus of fuzz_services (fuzz/corpus/services/) with scapy.

Seeds: DHCP DISCOVER/OFFER/REQUEST/ACK/NAK messages with the options the stack
acts on, DHCPv6 Solicit/Advertise/Reply messages (IA_NA with addresses and status
codes, DNS options, preference, refresh time), and DNS queries and responses with compressed names and CNAMEs.

    pip install scapy && python3 fuzz/make_services_corpus.py
"""
from pathlib import Path

from scapy.all import BOOTP, DHCP, DNS, DNSQR, DNSRR
from scapy.layers.dhcp6 import (DUID_LL, DHCP6_Advertise, DHCP6_Reply, DHCP6_Solicit, DHCP6OptClientId,
                                DHCP6OptDNSDomains, DHCP6OptDNSServers, DHCP6OptElapsedTime, DHCP6OptIA_NA,
                                DHCP6OptIAAddress, DHCP6OptInfoRefreshTime, DHCP6OptOptReq, DHCP6OptPref,
                                DHCP6OptServerId, DHCP6OptStatusCode)

OUT = Path(__file__).resolve().parent / "corpus" / "services"
MAC = bytes.fromhex("020000000001") + bytes(10)


def dhcp(op: int, mtype: str, **opts: object) -> bytes:
    """A BOOTP/DHCP message of type mtype with the given options."""
    options = [("message-type", mtype)] + list(opts.items()) + ["end"]
    return bytes(BOOTP(op=op, xid=0x1234, chaddr=MAC, yiaddr="10.0.0.100" if op == 2 else "0.0.0.0")
                 / DHCP(options=options))


def seeds() -> dict[str, bytes]:
    """Name -> seed bytes."""
    full: dict[str, object] = dict(subnet_mask="255.255.255.0", router="10.0.0.1", name_server="10.0.0.1",
                lease_time=3600, renewal_time=1800, rebinding_time=3150, server_id="10.0.0.1",
                hostname=b"dut")
    full["interface-mtu"] = 1400
    return {
        "dhcp_discover": dhcp(1, "discover", param_req_list=[1, 3, 6, 12, 26, 51, 54, 58, 59],
                              client_id=b"\x01" + MAC[:6], max_dhcp_size=1500),
        "dhcp_offer": dhcp(2, "offer", **full),
        "dhcp_request": dhcp(1, "request", requested_addr="10.0.0.100", server_id="10.0.0.1"),
        "dhcp_ack": dhcp(2, "ack", **full),
        "dhcp_nak": dhcp(2, "nak", server_id="10.0.0.1", error_message=b"no"),
        "dns_query": bytes(DNS(id=1, rd=1, qd=DNSQR(qname="www.example.org"))),
        "dns_cname": bytes(DNS(id=2, qr=1, rd=1, ra=1, qd=DNSQR(qname="www.example.org"),
                               an=DNSRR(rrname="www.example.org", type="CNAME", rdata="web.example.org")
                               / DNSRR(rrname="web.example.org", type="A", ttl=60, rdata="192.0.2.7"))),
        "dns_loop": bytes.fromhex("000181800001000000000000c00c00010001"),
        **dhcpv6_seeds(),
    }


def dhcpv6_seeds() -> dict[str, bytes]:
    """DHCPv6 client/server messages (RFC 8415) the client sends and acts on."""
    cid = DHCP6OptClientId(duid=DUID_LL(lladdr="02:00:00:00:00:01"))
    sid = DHCP6OptServerId(duid=DUID_LL(lladdr="02:00:00:00:05:47"))
    ia = DHCP6OptIA_NA(iaid=1, T1=1000, T2=1600, ianaopts=[
        DHCP6OptIAAddress(addr="2001:db8::100", preflft=2000, validlft=3000),
        DHCP6OptIAAddress(addr="2001:db8::200", preflft=1, validlft=2,
                          iaaddropts=[DHCP6OptStatusCode(statuscode=4)])])
    dns = DHCP6OptDNSServers(dnsservers=["2001:db8::53"]) / DHCP6OptDNSDomains(dnsdomains=["lab.example."])
    return {
        "dhcpv6_solicit": bytes(DHCP6_Solicit(trid=0x123456) / cid / DHCP6OptIA_NA(iaid=1)
                                / DHCP6OptOptReq(reqopts=[23, 24]) / DHCP6OptElapsedTime()),
        "dhcpv6_advertise": bytes(DHCP6_Advertise(trid=0x123456) / cid / sid / ia / DHCP6OptPref(prefval=255)),
        "dhcpv6_reply": bytes(DHCP6_Reply(trid=0x654321) / cid / sid / ia / dns
                              / DHCP6OptInfoRefreshTime(reftime=3600)),
        "dhcpv6_noaddrs": bytes(DHCP6_Advertise(trid=1) / cid / sid
                                / DHCP6OptIA_NA(iaid=1, ianaopts=[DHCP6OptStatusCode(statuscode=2)])),
    }


def main() -> None:
    """Write every seed to OUT."""
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in seeds().items():
        (OUT / f"{name}.bin").write_bytes(data)


if __name__ == "__main__":
    main()
