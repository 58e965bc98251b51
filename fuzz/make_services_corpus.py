#!/usr/bin/env python3
"""Regenerate the seed corpus of fuzz_services (fuzz/corpus/services/) with scapy.

Seeds: DHCP DISCOVER/OFFER/REQUEST/ACK/NAK messages with the options the stack
acts on, and DNS queries and responses with compressed names and CNAMEs.

    pip install scapy && python3 fuzz/make_services_corpus.py
"""
from pathlib import Path

from scapy.all import BOOTP, DHCP, DNS, DNSQR, DNSRR

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
    }


def main() -> None:
    """Write every seed to OUT."""
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in seeds().items():
        (OUT / f"{name}.bin").write_bytes(data)


if __name__ == "__main__":
    main()
