#!/usr/bin/env python3
"""Regenerate the seed corpus of fuzz_mdns (fuzz/corpus/mdns/) with scapy.

Each seed is a sequence of fuzz_mdns records (flags, 16-bit length, payload):
mDNS queries (QM, QU, legacy, browse, SRV, enumeration), probes, conflicting
responses, known answers, IGMP v1/v2/v3 queries and reports, and one-shot
answers to the resolver.

    pip install scapy && python3 fuzz/make_mdns_corpus.py
"""
import struct
from pathlib import Path

from scapy.all import DNS, DNSQR, DNSRR, DNSRRSRV

OUT = Path(__file__).resolve().parent / "corpus" / "mdns"
MDNS, IGMP_ALL, ANSWER, IGMP_GROUP = 0, 1, 2, 3
FROM_5353 = 4


def rec(kind: int, payload: bytes, wait: int = 0) -> bytes:
    """One record: what the payload is, the 5353 source bit, 50 ms units to wait first."""
    return bytes([kind | (wait << 3)]) + struct.pack("!H", len(payload)) + payload


def csum(b: bytes) -> int:
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def igmp(body: bytes) -> bytes:
    c = csum(body[:2] + b"\0\0" + body[4:])
    return body[:2] + struct.pack("!H", c) + body[4:]


def seeds() -> dict[str, bytes]:
    q = lambda *qd, **kw: bytes(DNS(qd=list(qd), **kw))  # noqa: E731
    return {
        "query_a": rec(MDNS | FROM_5353, q(DNSQR(qname="tern.local", qtype="A"))),
        "query_qu": rec(MDNS | FROM_5353, q(DNSQR(qname="tern.local", qtype="A", unicastresponse=1))),
        "legacy": rec(MDNS, bytes(DNS(id=7, qd=DNSQR(qname="tern.local", qtype="A")))),
        "browse": rec(MDNS | FROM_5353, q(DNSQR(qname="_http._tcp.local", qtype="PTR")), 1),
        "srv_txt": rec(MDNS | FROM_5353, q(DNSQR(qname="Web._http._tcp.local", qtype="SRV"),
                                           DNSQR(qname="Web._http._tcp.local", qtype="TXT"))),
        "enum": rec(MDNS | FROM_5353, q(DNSQR(qname="_services._dns-sd._udp.local", qtype="PTR"))),
        "known": rec(MDNS | FROM_5353, bytes(DNS(qd=DNSQR(qname="_http._tcp.local", qtype="PTR"),
                                                 an=DNSRR(rrname="_http._tcp.local", type="PTR",
                                                          rdata="Web._http._tcp.local", ttl=4500)))),
        "probe": rec(MDNS | FROM_5353, bytes(DNS(qd=DNSQR(qname="tern.local", qtype="ALL"),
                                                 ns=DNSRR(rrname="tern.local", type="A", rdata="10.0.0.9")))),
        "conflict": rec(MDNS | FROM_5353, bytes(DNS(qr=1, aa=1, an=[
            DNSRR(rrname="tern.local", type="A", rdata="10.0.0.9", ttl=120),
            DNSRRSRV(rrname="Web._http._tcp.local", port=80, target="x.local")]))) + rec(MDNS, b"", 10),
        "oneshot": rec(ANSWER, b"\x00" * 12) + rec(ANSWER, bytes(DNS(qr=1, aa=1, qd=DNSQR(qname="printer.local"),
                                                                      an=DNSRR(rrname="printer.local",
                                                                               rdata="10.0.0.5")))),
        "igmp_v2_query": rec(IGMP_ALL, igmp(bytes([0x11, 100, 0, 0, 0, 0, 0, 0]))),
        "igmp_v1_query": rec(IGMP_ALL, igmp(bytes([0x11, 0, 0, 0, 0, 0, 0, 0]))),
        "igmp_v3_query": rec(IGMP_ALL, igmp(bytes([0x11, 10, 0, 0, 0, 0, 0, 0, 2, 125, 0, 0]))),
        "igmp_v3_group": rec(IGMP_GROUP, igmp(bytes([0x11, 10, 0, 0, 239, 1, 2, 3, 2, 125, 0, 1, 10, 0, 0, 9]))),
        "igmp_report": rec(IGMP_GROUP, igmp(bytes([0x16, 0, 0, 0, 239, 1, 2, 3]))),
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in seeds().items():
        (OUT / f"{name}.bin").write_bytes(data)
    print(f"{len(seeds())} seeds in {OUT}")


if __name__ == "__main__":
    main()
