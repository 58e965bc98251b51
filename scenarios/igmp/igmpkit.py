"""Helpers of the IGMP scenarios: queries built byte by byte (scapy's IGMPv3
layers re-encode Max Resp Code on their own), reports parsed from the bytes
the host sent."""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from typing import Any

from scapy.all import IP, Ether, IPOption_Router_Alert, Raw

S = 1_000_000_000  # ns per second
GROUP_A, GROUP_B = "239.1.2.3", "239.4.5.6"

#: Any IGMP datagram from the host.
IGMP_OUT = IP(proto=2)


def _csum(b: bytes) -> int:
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _fix(b: bytes) -> bytes:
    c = _csum(b[:2] + b"\0\0" + b[4:])
    return b[:2] + struct.pack("!H", c) + b[4:]


def _ip4(a: str) -> bytes:
    return ipaddress.IPv4Address(a).packed


def group_mac(group: str) -> str:
    """RFC 1112 section 6.4: 01-00-5E and the low-order 23 bits of the group."""
    b = _ip4(group)
    return "01:00:5e:%02x:%02x:%02x" % (b[1] & 0x7F, b[2], b[3])


def v2_message(mtype: int, max_resp_ds: int, group: str) -> bytes:
    """An 8-byte IGMPv1/v2 message with its checksum."""
    return _fix(struct.pack("!BBH4s", mtype, max_resp_ds, 0, _ip4(group)))


def v3_query(max_resp_code: int, group: str = "0.0.0.0", qrv: int = 2, qqic: int = 125, s: bool = False,
             sources: tuple[str, ...] = ()) -> bytes:
    """An IGMPv3 query (RFC 3376 section 4.1)."""
    body = struct.pack("!BBH4sBBH", 0x11, max_resp_code, 0, _ip4(group), (8 if s else 0) | qrv, qqic, len(sources))
    return _fix(body + b"".join(_ip4(a) for a in sources))


def send_igmp(peer: Any, payload: bytes, dst: str = "224.0.0.1", src: str = "") -> None:
    """Send IGMP ``payload`` from ``peer`` to ``dst`` (TTL 1, Router Alert), to the group's MAC."""
    ip = IP(dst=dst, ttl=1, proto=2, options=[IPOption_Router_Alert()])
    if src:
        ip.src = src
    mac = group_mac(dst) if ipaddress.IPv4Address(dst).is_multicast else None
    frame = (Ether(dst=mac) if mac else Ether()) / ip / Raw(payload)
    peer.send(frame)


@dataclass
class Record:
    """One group record of a v3 report."""

    rtype: int
    group: str
    sources: list[str]


@dataclass
class Report:
    """An IGMP message the host sent: ``type``, ``group`` (v1/v2), ``records`` (v3), ``time_ns``."""

    type: int
    group: str
    records: list[Record]
    time_ns: int
    pkt: Any


def parse(pkt: Any) -> Report:
    """Parse the IGMP message in ``pkt`` (checksum verified)."""
    ip = pkt[IP]
    data = bytes(ip.payload)[: ip.len - ip.ihl * 4]
    assert _csum(data) == 0, f"IGMP checksum wrong: {data.hex()}"
    t = data[0]
    recs: list[Record] = []
    group = ""
    if t == 0x22:
        (n,) = struct.unpack("!H", data[6:8])
        off = 8
        for _ in range(n):
            rtype, aux, ns = data[off], data[off + 1], struct.unpack("!H", data[off + 2:off + 4])[0]
            g = str(ipaddress.IPv4Address(data[off + 4:off + 8]))
            srcs = [str(ipaddress.IPv4Address(data[off + 8 + 4 * i:off + 12 + 4 * i])) for i in range(ns)]
            recs.append(Record(rtype, g, srcs))
            off += 8 + 4 * ns + 4 * aux
        assert off == len(data), "records do not fill the report"
    else:
        assert len(data) == 8, f"a v1/v2 message is 8 bytes, got {len(data)}"
        group = str(ipaddress.IPv4Address(data[4:8]))
    return Report(t, group, recs, pkt.time_ns, pkt)


def expect_report(peer: Any, within: Any = "1s", **kw: Any) -> Report:
    """The next IGMP message from the host, parsed."""
    return parse(peer.expect(IGMP_OUT, within=within, **kw))


def reports(peer: Any) -> list[Report]:
    """Every IGMP message received and not yet consumed, parsed (other frames dropped)."""
    return [parse(p) for p in peer.received() if IP in p and p[IP].proto == 2]
