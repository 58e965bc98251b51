"""Helpers of the DHCP scenarios: a scripted DHCP server built on scapy's
BOOTP/DHCP layers, and accessors for options of captured messages."""

from __future__ import annotations

from typing import Any, Optional

from scapy.all import BOOTP, DHCP, IP, UDP, Ether

SERVER_IP = "10.0.0.2"
OFFERED = "10.0.0.100"
S = 1_000_000_000  # ns per second

#: A DHCP message from the client: UDP 68 -> 67.
CLIENT_MSG = IP() / UDP(sport=68, dport=67)


def opt(pkt: Any, name: str) -> Any:
    """The value of DHCP option ``name`` in ``pkt`` (None when absent)."""
    for o in pkt[DHCP].options:
        if isinstance(o, tuple) and o[0] == name:
            return o[1] if len(o) == 2 else o[1:]
    return None


def msg_type(pkt: Any) -> Optional[int]:
    """The DHCP message type (1 DISCOVER ... 8 INFORM) of ``pkt``."""
    return opt(pkt, "message-type")


def expect_msg(peer: Any, mtype: int, **kw: Any) -> Any:
    """The next client message of type ``mtype`` (other frames before it fail the expectation)."""
    p = peer.expect(CLIENT_MSG, **kw)
    assert DHCP in p, p.summary()
    assert msg_type(p) == mtype, f"expected DHCP type {mtype}, got {msg_type(p)}: {p[DHCP].options}"
    return p


def reply(peer: Any, req: Any, mtype: str, yiaddr: str = OFFERED, lease: Optional[int] = 3600,
          extra: Optional[list] = None, server_id: Optional[str] = SERVER_IP, broadcast: bool = True,
          raw_options: Optional[bytes] = None) -> None:
    """Answer client message ``req`` with an OFFER/ACK/NAK (``mtype``) from the peer.

    ``raw_options`` replaces the options with the given bytes (malformed-input tests).
    """
    options: list = [("message-type", mtype)]
    if server_id:
        options.append(("server_id", server_id))
    if mtype != "nak":
        if lease is not None:
            options.append(("lease_time", lease))
        options += [("subnet_mask", "255.255.255.0"), ("router", SERVER_IP), ("name_server", SERVER_IP)]
    options += (extra or []) + ["end"]
    b = req[BOOTP]
    bootp = BOOTP(op=2, xid=b.xid, yiaddr=yiaddr if mtype != "nak" else "0.0.0.0", siaddr=SERVER_IP,
                  chaddr=b.chaddr, flags=b.flags)
    payload: Any = bootp / DHCP(options=options)
    if raw_options is not None:
        payload = bytes(bootp) + raw_options
    dst = "255.255.255.255" if broadcast else req[IP].src
    mac = "ff:ff:ff:ff:ff:ff" if broadcast else req[Ether].src
    peer.send(Ether(dst=mac) / IP(src=SERVER_IP, dst=dst) / UDP(sport=67, dport=68) / payload)


def acquire(net: Any, peer: Any, lease: int = 3600, extra: Optional[list] = None) -> tuple[Any, Any]:
    """Run DISCOVER/OFFER/REQUEST/ACK; returns (request, ack time in ns). Probes are not awaited."""
    d = expect_msg(peer, 1, within="2s")
    reply(peer, d, "offer", lease=lease, extra=extra)
    r = expect_msg(peer, 3, within="1s")
    reply(peer, r, "ack", lease=lease, extra=extra)
    t = net.now_ns
    net.run(for_="1us")  # deliver the ACK (the link has no delay: it arrives at t)
    return r, t
