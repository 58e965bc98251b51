"""Helpers of the TCP scenarios (imported by the test files as ``tcpkit``): connections in a known state, built only from
socket-level operations on the DUT and segments from the scripted peer.

- :func:`passive` — the DUT listens, the peer connects (DUT is the server);
- :func:`active` — the DUT connects, the peer accepts (DUT is the client);
- :func:`drain` — read what the DUT's socket has received;
- :func:`to_state` — drive a connection into a named RFC 9293 state.

The peer's local port is always given explicitly so that captures (and
golden traces) do not depend on which tests ran before.
"""

from __future__ import annotations

from typing import Any, Optional

import pytest

from scapy.layers.inet import TCP

from pyharness.dut import DUT_IP, PEER_IP
from pyharness.ipkit import addr, host_ifaces, ip, ip_of, port_unreachable, ttl_of
from pyharness.tcpconn import seq_add, tcp_option, tcp_payload

SERVER_PORT = 80  # the DUT's listening port in passive scenarios
PEER_PORT = 7000  # the peer's listening port in active scenarios
CLIENT_PORT = 40001  # the peer's port when it connects to the DUT

__all__ = ["SERVER_PORT", "PEER_PORT", "CLIENT_PORT", "passive", "active", "drain", "to_state", "seq_add",
           "tcp_option", "tcp_payload", "DUT_IP", "PEER_IP", "ns", "T", "EXACT", "wire_tcp", "inject", "warm_arp", "send_raw_tcp",
           "fill_window", "expect_probe", "family_of", "ipv6_layer_gap", "peer_ip_of", "ip", "ip_of", "ttl_of", "addr", "host_ifaces", "port_unreachable"]


def ns(pkt: Any) -> int:
    """A received frame's exact virtual arrival time (ns)."""
    return int(pkt.time_ns) if hasattr(pkt, "time_ns") else int(round(float(pkt.time) * 1e9))


#: The tolerance of an exact-time expectation: 1 ns, so that every event due at the instant runs
#: (with 0, ``expect`` stops at the first frame of that instant, e.g. an ARP refresh before the segment).
EXACT = "1ns"


def T(t_ns: int) -> str:
    """A virtual time in ns as a time argument for ``at=`` / ``within=`` ("1000000000ns")."""
    return f"{int(t_ns)}ns"


def expect_probe(conn: Any, profile: Any, seq: int, length: int, **timing: Any) -> list:
    """The tail loss probe that retransmits the octets [seq, seq + length) (RFC 8985 §7.3), expected with
    ``timing`` (``within=`` or ``at=`` / ``tolerance=``): on a DUT whose profile says ``tlp_probe_halves``
    (Tern) as two segments at one instant, of length // 2 octets and the rest (one segment when length is 1);
    otherwise as one segment. Returns the segments."""
    half = length // 2 if profile.tlp_probe_halves else 0
    segs = []
    if half:
        first = conn.expect(seq=seq, **timing)
        assert len(tcp_payload(first)) == half, f"the probe's first half: {len(tcp_payload(first))} octets"
        segs.append(first)
        timing = {"at": T(ns(first)), "tolerance": EXACT}
    rest = conn.expect(seq=seq_add(seq, half), **timing)
    assert len(tcp_payload(rest)) == length - half, f"the probe's last segment: {len(tcp_payload(rest))} octets"
    return segs + [rest]


def classic_recovery(profile: Any) -> dict:
    """The DUT socket options that select the classic RFC 5681 / 6582 / 6675 loss recovery, for scenarios that
    check its exact timelines (the default may be RACK-TLP, RFC 8985); skips the test when the DUT cannot
    select it and does not use it by default."""
    if profile.classic_recovery is not None:
        return dict(profile.classic_recovery)
    if profile.loss_recovery != "newreno":
        pytest.skip(f"the {profile.name} profile recovers losses with RACK-TLP (RFC 8985) and cannot select the "
                    "RFC 5681/6582/6675 recovery this scenario checks per socket")
    return {}


def rack_recovery(profile: Any) -> dict:
    """The DUT socket options that select RACK-TLP (RFC 8985) with the stack's other defaults, for scenarios
    about it: they then run in a suite run under the classic profile (``--tcp-recovery classic``) too. Skips
    the test when the DUT cannot select it and does not use it by default."""
    if profile.rack_recovery is not None:
        return dict(profile.rack_recovery)
    if profile.loss_recovery != "rack":
        pytest.skip(f"the {profile.name} profile does not detect losses with RACK-TLP (RFC 8985) and cannot "
                    "select it per socket")
    return {}


def fine_timing(profile: Any, resolution_ns: int, what: str) -> None:
    """Skip a scenario that tells times apart at ``resolution_ns`` when the DUT's timing checks are looser than
    that (``profile.tolerance``: 0 in virtual time; a kernel in real time, Linux, ~24 ms for short timers): its
    result would say nothing about ``what``."""
    tol = profile.tolerance(resolution_ns)
    if tol >= resolution_ns:
        pytest.skip(f"the scenario tells apart {resolution_ns / 1e6:g} ms steps of {what}; the {profile.name} DUT's "
                    f"timing tolerance is {tol / 1e6:g} ms (DutProfile.tolerance)")


def passive(dut: Any, peer: Any, *, port: int = SERVER_PORT, local_port: int = CLIENT_PORT,
            backlog: int = 8, peer_opts: Optional[dict] = None, **sockopts: Any) -> tuple[Any, Any, Any]:
    """The DUT listens on ``port`` and the peer connects: (peer conn, DUT socket, DUT listener)."""
    listener = dut.tcp_listen(port, backlog=backlog, **sockopts)
    conn = peer.tcp(dut, port, local_port=local_port, **(peer_opts or {}))
    conn.connect(within="5s")
    dut.net.run(for_="1ms")
    sock = listener.accept()
    assert sock is not None, "the DUT's listener has no established connection after the handshake"
    return conn, sock, listener


def fill_window(conn: Any, seg_size: Optional[int] = None, within: Any = "1s", rounds: int = 8) -> tuple[int, Any]:
    """Fill the DUT's receive window: send exactly the window it advertised (``conn.snd_wnd``: its last segment
    as the peer received it, scaled), in segments of ``seg_size`` bytes (None: one segment), wait for the ACK
    of all of it, and go on while that ACK still offers a window. Returns (bytes sent, the zero-window ACK).

    RFC 9293 leaves the buffer behind the window to the implementation: the Tern stack advertises the
    ``rx_buffer`` asked for (one round, that many bytes); Linux advertises less than SO_RCVBUF (its buffer
    also pays for overhead) and may open more as it goes: the scenario fills whatever was offered.
    """
    total = 0
    for _ in range(rounds):
        wnd = conn.snd_wnd
        assert wnd > 0, "the DUT offers no window to fill"
        step = seg_size or wnd
        for i in range(0, wnd, step):
            conn.send(flags="PA", payload=bytes(min(step, wnd - i)))
        total += wnd
        ack = conn.expect(flags="A", ack=conn.snd_nxt, within=within)
        if ack[TCP].window == 0:
            return total, ack
    raise AssertionError(f"the DUT still offers a window after {total} bytes in {rounds} rounds")


def family_of(dut: Any) -> str:
    """The IP family the scenario runs over ("ipv4", "ipv6"): ``dut.family``; "ipv4" for a DUT without one."""
    return getattr(dut, "family", "ipv4")


def ipv6_layer_gap(request: Any, family: str, reason: str) -> None:
    """Mark this run an expected failure (strict) when it runs over IPv6 and the IPv6 layer (stack/src/ipv6/, not
    TCP's) lacks what ``reason`` names: the scenario stays, fails visibly when the gap is closed (XPASS is a
    failure) and then loses this call."""
    if family == "ipv6":
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"IPv6 layer: {reason}"))


def peer_ip_of(dut: Any) -> str:
    """The scripted peer's address in the family the scenario runs over (``dut.peer_ip``; 10.0.0.2 for a DUT
    without one)."""
    return getattr(dut, "peer_ip", PEER_IP)


def active(dut: Any, peer: Any, *, port: int = PEER_PORT, peer_opts: Optional[dict] = None,
           **sockopts: Any) -> tuple[Any, Any]:
    """The DUT connects to the peer's ``port``, the peer accepts: (peer conn, DUT socket)."""
    sock = dut.tcp_connect(peer_ip_of(dut), port, **sockopts)
    conn = peer.tcp(dut, local_port=port, isn=(peer_opts or {}).pop("isn", 5000), **(peer_opts or {}))
    conn.accept(within="5s")
    assert sock.state == "ESTABLISHED", f"DUT socket in {sock.state} after the handshake"
    return conn, sock


def drain(sock: Any) -> bytes:
    """Everything the DUT's socket has received so far (b"" if nothing)."""
    out = b""
    while True:
        chunk = sock.recv()
        if not chunk:
            return out
        out += chunk


def wire_tcp(pkt: Any) -> Any:
    """The TCP layer of a frame."""
    return pkt[TCP]


def to_state(dut: Any, peer: Any, state: str) -> tuple[Any, Any]:
    """(peer conn, DUT socket) with the DUT's connection in ``state`` (a synchronized state).

    ESTABLISHED, FIN_WAIT_1 (DUT closed, its FIN unacknowledged), FIN_WAIT_2
    (FIN acknowledged), CLOSE_WAIT (peer's FIN received), LAST_ACK (then DUT
    closed), CLOSING (both FINs crossed, neither acknowledged), TIME_WAIT.
    The DUT socket is returned even when closed (info() still works until
    the connection is gone; None for states reached by close()).
    """
    conn, sock, _ = passive(dut, peer)
    if state == "ESTABLISHED":
        pass
    elif state in ("FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT"):
        sock.shutdown("wr")
        conn.expect(flags="FA", seq=conn.rcv_nxt, within="10ms")
        if state != "FIN_WAIT_1":
            conn.send(flags="A")
        if state == "TIME_WAIT":
            conn.send(flags="FA")
            conn.expect(flags="A", ack=conn.snd_nxt, within="10ms")
    elif state in ("CLOSE_WAIT", "LAST_ACK"):
        conn.send(flags="FA")
        conn.expect(flags="A", ack=conn.snd_nxt, within=dut.profile.delack + 10_000_000)
        if state == "LAST_ACK":
            sock.shutdown("wr")
            conn.expect(flags="FA", seq=conn.rcv_nxt, within="10ms")
    elif state == "CLOSING":
        sock.shutdown("wr")
        conn.expect(flags="FA", within="10ms")
        conn.send(flags="FA", ack=seq_add(conn.rcv_nxt, -1))
        conn.expect(flags="A", ack=conn.snd_nxt, within="10ms")
    else:
        raise ValueError(f"to_state: unsupported state {state!r}")
    dut.net.run(for_="1ms")
    got = sock.state
    assert got == state, f"to_state({state}): DUT socket is in {got}"
    return conn, sock


def inject(conn: Any, **fields: Any) -> Any:
    """Send a segment without moving the helper's ``snd_nxt`` (for out-of-window and attack segments)."""
    saved = conn.snd_nxt
    try:
        return conn.send(**fields)
    finally:
        conn.snd_nxt = saved


def warm_arp(dut: Any, peer: Any) -> None:
    """Let the DUT resolve the peer's address now (one UDP datagram; ARP, or Neighbor Discovery over IPv6), so that
    a later link delay measures TCP round trips only, not an address resolution queued in front of a SYN."""
    u = dut.udp_socket()
    u.sendto(b"arp", (peer_ip_of(dut), 9))
    dut.net.run(for_="1ms")
    u.close()
    peer.received()


def send_raw_tcp(peer: Any, header: bytes, options: bytes, payload: bytes = b"", dst: str = DUT_IP,
                 src: str = PEER_IP) -> None:
    """Send a TCP segment built from raw bytes (20-byte ``header`` with any checksum, ``options`` padded
    here to 4 bytes, ``payload``) from ``src`` to ``dst`` (IPv4 or IPv6); data offset and checksum (over the
    family's pseudo-header: RFC 9293 §3.1, RFC 8200 §8.1) are computed, nothing is parsed by scapy."""
    import ipaddress
    import struct

    from scapy.packet import Raw
    from scapy.utils import checksum

    opts = options + b"\x00" * (-len(options) % 4)
    hdr = bytearray(header[:20])
    hdr[12] = ((20 + len(opts)) // 4) << 4 | (hdr[12] & 0x0F)
    hdr[16:18] = b"\x00\x00"
    seg = bytes(hdr) + opts + payload
    s_ip, d_ip = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if s_ip.version == 4:
        pseudo = s_ip.packed + d_ip.packed + struct.pack("!BBH", 0, 6, len(seg))
    else:
        pseudo = s_ip.packed + d_ip.packed + struct.pack("!IxxxB", len(seg), 6)
    c = checksum(pseudo + seg)
    seg = seg[:16] + struct.pack("!H", c) + seg[18:]
    peer.send(ip("ipv4" if s_ip.version == 4 else "ipv6", src=src, dst=dst, proto=6) / Raw(seg))
