"""The socket helper of the Linux DUT: runs inside the DUT's network namespace and owns real kernel sockets.

Started by :class:`pyharness.linux_dut.LinuxDut` as
``ip netns exec <ns> python -m pyharness._sockhelper``. It reads one JSON
command per line on stdin and answers one JSON line on stdout:
``{"ok": result}``, ``{"errno": n, "msg": text}`` (an OSError of the kernel) or
``{"error": text}`` (a bug or a bad command). Every socket is non-blocking;
``EAGAIN`` comes back as ``{"ok": null}`` where the caller expects "nothing
yet". Bytes travel as hex. Standard library only (no scapy, no extension), so
it starts in a few tens of milliseconds.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import select
import struct
import sys
import threading
import time
from typing import Any, Optional

# <linux/tcp.h> and <linux/in.h> constants Python's socket module may lack.
TCP_INFO = 11
TCP_USER_TIMEOUT = 18
TCP_CONGESTION = 13
TCP_SYNCNT = 7
IP_RECVERR = 11
IP_MTU_DISCOVER = 10
IP_PMTUDISC_DONT = 0
IP_PMTUDISC_DO = 2
IPV6_RECVERR = 25
IPV6_MTU_DISCOVER = 23
IPV6_RECVHOPLIMIT = 51
IPV6_HOPLIMIT = 52
IPV6_PMTUDISC_DONT = 0
IPV6_PMTUDISC_DO = 2
SIOCOUTQ = 0x5411
FIONREAD = 0x541B
SO_EE_ORIGIN_ICMP = 2
SO_EE_ORIGIN_LOCAL = 1
NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
INET_DIAG_INFO = 2

#: struct tcp_info (linux/tcp.h), the prefix every kernel since 4.x fills.
_TCP_INFO_FIELDS = (
    ("state", "B"), ("ca_state", "B"), ("retransmits", "B"), ("probes", "B"), ("backoff", "B"),
    ("options", "B"), ("wscale", "B"), ("flags", "B"),
    ("rto", "I"), ("ato", "I"), ("snd_mss", "I"), ("rcv_mss", "I"),
    ("unacked", "I"), ("sacked", "I"), ("lost", "I"), ("retrans", "I"), ("fackets", "I"),
    ("last_data_sent", "I"), ("last_ack_sent", "I"), ("last_data_recv", "I"), ("last_ack_recv", "I"),
    ("pmtu", "I"), ("rcv_ssthresh", "I"), ("rtt", "I"), ("rttvar", "I"), ("snd_ssthresh", "I"),
    ("snd_cwnd", "I"), ("advmss", "I"), ("reordering", "I"), ("rcv_rtt", "I"), ("rcv_space", "I"),
    ("total_retrans", "I"), ("pacing_rate", "Q"), ("max_pacing_rate", "Q"), ("bytes_acked", "Q"),
    ("bytes_received", "Q"), ("segs_out", "I"), ("segs_in", "I"), ("notsent_bytes", "I"), ("min_rtt", "I"),
    ("data_segs_in", "I"), ("data_segs_out", "I"), ("delivery_rate", "Q"), ("busy_time", "Q"),
    ("rwnd_limited", "Q"), ("sndbuf_limited", "Q"), ("delivered", "I"), ("delivered_ce", "I"),
    ("bytes_sent", "Q"), ("bytes_retrans", "Q"), ("dsack_dups", "I"), ("reord_seen", "I"),
    ("rcv_ooopack", "I"), ("snd_wnd", "I"),
)
_TCP_INFO_FMT = "=" + "".join(f for _, f in _TCP_INFO_FIELDS)
_TCP_INFO_LEN = struct.calcsize(_TCP_INFO_FMT)
#: Linux TCP states (include/net/tcp_states.h) -> RFC 9293 names.
LINUX_STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECEIVED", 4: "FIN_WAIT_1", 5: "FIN_WAIT_2",
                6: "TIME_WAIT", 7: "CLOSED", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING",
                12: "SYN_RECEIVED"}


def parse_tcp_info(raw: bytes) -> dict:
    """struct tcp_info bytes -> dict (missing tail fields are 0)."""
    raw = raw[:_TCP_INFO_LEN].ljust(_TCP_INFO_LEN, b"\0")
    return dict(zip((n for n, _ in _TCP_INFO_FIELDS), struct.unpack(_TCP_INFO_FMT, raw)))


class Helper:
    def __init__(self) -> None:
        self.socks: dict[int, dict] = {}
        self.groups: dict[str, list] = {}
        self.next_id = 1

    # -- plumbing ---------------------------------------------------------------

    def _add(self, s: socket.socket, kind: str, **extra: Any) -> int:
        s.setblocking(False)
        sid = self.next_id
        self.next_id += 1
        self.socks[sid] = {"s": s, "kind": kind, "err": 0, "tuple": None, **extra}
        return sid

    def _get(self, sid: int) -> dict:
        try:
            return self.socks[sid]
        except KeyError:
            raise OSError(errno.EBADF, f"socket {sid} is closed") from None

    def _sticky(self, e: dict) -> int:
        """Read SO_ERROR (which clears it) into the socket's sticky error."""
        v = e["s"].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if v:
            e["err"] = v
        return e["err"]

    # -- commands -----------------------------------------------------------------

    def op_ping(self) -> str:
        return "pong"

    def op_sysctl(self, name: str, value: Any) -> None:
        with open("/proc/sys/" + name.replace(".", "/"), "w") as f:
            f.write(str(value))

    def op_read_sysctl(self, name: str) -> str:
        with open("/proc/sys/" + name.replace(".", "/")) as f:
            return f.read().strip()

    def op_proc_net(self, name: str) -> str:
        """The text of ``/proc/net/<name>`` (``netstat``, ``snmp``) as this process's namespace sees it."""
        if name not in ("netstat", "snmp"):
            raise ValueError(f"proc_net: {name!r} is not netstat or snmp")
        with open("/proc/net/" + name) as f:
            return f.read()

    def op_watch(self, sid: int, events: int, timeout_ms: int) -> None:
        """Note when the socket becomes ready for ``events`` (poll bits; errors and hang-ups always count).

        A thread waits in poll() up to ``timeout_ms`` and records CLOCK_MONOTONIC at readiness (``op_ready_at``):
        a blocking call's completion is timed where the kernel completes it, not when the harness next asks
        (under load each question is a round trip through two busy processes).
        """
        e = self._get(sid)
        fd = e["s"].fileno()
        mark = object()
        e["watch"] = mark
        e["ready_at"] = None

        def wait() -> None:
            p = select.poll()
            p.register(fd, events)
            if p.poll(timeout_ms) and e.get("watch") is mark:
                e["ready_at"] = time.monotonic_ns()

        threading.Thread(target=wait, daemon=True).start()

    def op_ready_at(self, sid: int) -> Optional[int]:
        """CLOCK_MONOTONIC (ns) when the watched socket became ready (``op_watch``), or None."""
        return self._get(sid).get("ready_at")

    def op_open(self, kind: str, ident: int = 1, family: str = "ipv4") -> int:
        """A socket of ``kind`` (udp, tcp, ping) in ``family`` (ipv4: AF_INET, ipv6: AF_INET6, IPv6 only)."""
        v6 = family == "ipv6"
        af = socket.AF_INET6 if v6 else socket.AF_INET
        if kind == "udp":
            s = socket.socket(af, socket.SOCK_DGRAM)
            self._v6only(s, v6)
            s.setsockopt(*((socket.IPPROTO_IPV6, IPV6_RECVERR) if v6 else (socket.IPPROTO_IP, IP_RECVERR)), 1)
            return self._add(s, kind, v6=v6)
        if kind == "tcp":
            s = socket.socket(af, socket.SOCK_STREAM)
            self._v6only(s, v6)
            # Urgent data stays in the stream (RFC 6093 section 6: applications SHOULD use SO_OOBINLINE);
            # Linux otherwise takes the last urgent byte out of band.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_OOBINLINE, 1)
            return self._add(s, kind, v6=v6)
        if kind == "ping":
            if v6:
                # A raw ICMPv6 socket: the kernel fills in the checksum (RFC 3542 section 3.1) and
                # delivers the ICMPv6 message without the IPv6 header; the hop limit comes as ancillary data.
                s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
                s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
                s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1)
            else:
                s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
                s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
            return self._add(s, kind, ident=ident, v6=v6)
        raise ValueError(f"unknown socket kind {kind!r}")

    @staticmethod
    def _v6only(s: socket.socket, v6: bool) -> None:
        if v6:
            # The IPv6 bench's sockets talk IPv6 only (a Tern IPv6 socket does too).
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)

    def op_join_group(self, group: str, ifname: str) -> None:
        """Listen to the IPv6 multicast ``group`` on ``ifname`` (one membership socket per join, RFC 3493 section
        5.2 IPV6_JOIN_GROUP); the kernel's MLD listener reports it."""
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        mreq = socket.inet_pton(socket.AF_INET6, group) + struct.pack("=I", socket.if_nametoindex(ifname))
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
        self.groups.setdefault(group, []).append(s)

    def op_leave_group(self, group: str, ifname: str) -> None:
        """Drop one join of ``group`` (the last one leaves the group)."""
        socks = self.groups.get(group)
        if not socks:
            raise OSError(errno.EADDRNOTAVAIL, f"{group} was not joined")
        socks.pop().close()

    def op_bind(self, sid: int, addr: str, port: int) -> None:
        e = self._get(sid)
        e["s"].bind((addr or ("::" if e.get("v6") else "0.0.0.0"), port))

    def op_local(self, sid: int) -> list:
        return list(self._get(sid)["s"].getsockname())[:2]

    def op_listen(self, sid: int, backlog: int) -> None:
        self._get(sid)["s"].listen(backlog)

    def op_accept(self, sid: int) -> Optional[int]:
        try:
            s, peer = self._get(sid)["s"].accept()
        except BlockingIOError:
            return None
        sid = self._add(s, "tcp", v6=s.family == socket.AF_INET6)
        self.socks[sid]["tuple"] = (tuple(s.getsockname()[:2]), tuple(peer[:2]))
        return sid

    def op_connect(self, sid: int, ip: str, port: int) -> None:
        e = self._get(sid)
        try:
            e["s"].connect((ip, port))
        except BlockingIOError:
            pass
        e["tuple"] = (tuple(e["s"].getsockname()[:2]), (ip, port))

    def op_send(self, sid: int, data: str, oob: bool = False) -> int:
        e = self._get(sid)
        try:
            return e["s"].send(bytes.fromhex(data), socket.MSG_NOSIGNAL | (socket.MSG_OOB if oob else 0))
        except BlockingIOError:
            return 0
        except OSError as x:
            if x.errno == errno.EPIPE and self._sticky(e):
                raise OSError(e["err"], os.strerror(e["err"])) from None
            if x.errno in (errno.ECONNRESET, errno.ECONNREFUSED, errno.ETIMEDOUT):
                e["err"] = x.errno  # Linux reports it once; a Tern socket keeps reporting it (sticky)
            raise

    def op_recv(self, sid: int, n: int) -> Optional[str]:
        e = self._get(sid)
        try:
            data = e["s"].recv(n)
        except BlockingIOError:
            return None
        except OSError as x:
            e["err"] = x.errno or e["err"]
            raise
        if not data and self._sticky(e):
            raise OSError(e["err"], os.strerror(e["err"]))
        return data.hex()

    def op_sendto(self, sid: int, data: str, ip: str, port: int) -> None:
        e = self._get(sid)
        payload = bytes.fromhex(data)
        for attempt in range(2):
            try:
                e["s"].sendto(payload, (ip, port))
                return
            except OSError as x:
                # An earlier ICMP error left on the socket (IP_RECVERR) makes the next call fail once; the error
                # stays readable in the error queue (take_error), so send again.
                if attempt == 0 and x.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH,
                                                errno.EPROTO) and self._pending_errqueue(e):
                    continue
                raise

    def _pending_errqueue(self, e: dict) -> bool:
        return True

    def op_recvfrom(self, sid: int) -> Optional[list]:
        e = self._get(sid)
        for _ in range(4):
            try:
                data, addr = e["s"].recvfrom(65536)
                return [data.hex(), addr[0], addr[1]]
            except BlockingIOError:
                return None
            except OSError as x:
                if x.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EPROTO):
                    continue  # an ICMP error reported through SO_ERROR; it stays in the error queue
                raise
        return None

    def op_pending(self, sid: int) -> int:
        """Datagrams waiting (UDP): 1 if one waits (Linux reports bytes of the first, not a count)."""
        import fcntl

        e = self._get(sid)
        buf = fcntl.ioctl(e["s"].fileno(), FIONREAD, b"\0\0\0\0")
        n = struct.unpack("i", buf)[0]
        if e["kind"] == "udp":
            try:
                e["s"].recv(1, socket.MSG_PEEK)
                return max(1, n and 1)
            except (BlockingIOError, OSError):
                return 0
        return n

    def op_readable(self, sid: int) -> int:
        import fcntl

        buf = fcntl.ioctl(self._get(sid)["s"].fileno(), FIONREAD, b"\0\0\0\0")
        return struct.unpack("i", buf)[0]

    def op_writable(self, sid: int) -> int:
        import fcntl

        s = self._get(sid)["s"]
        buf = fcntl.ioctl(s.fileno(), SIOCOUTQ, b"\0\0\0\0")
        used = struct.unpack("i", buf)[0]
        return max(0, s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) // 2 - used)

    def op_shutdown(self, sid: int, how: int) -> None:
        self._get(sid)["s"].shutdown(how)

    def op_close(self, sid: int) -> None:
        e = self.socks.pop(sid)
        e["s"].close()

    def op_abort(self, sid: int) -> None:
        e = self.socks.pop(sid)
        e["s"].setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        e["s"].close()

    def op_setsockopt(self, sid: int, level: str, name: str, value: Any) -> None:
        s = self._get(sid)["s"]
        if level == "ip" and self._get(sid).get("v6"):
            # The IPv6 equivalents of the IPv4 options (RFC 3493 section 5.1: the unicast hop limit).
            level, name = "ipv6", {"IP_TTL": "IPV6_UNICAST_HOPS", "IP_MTU_DISCOVER": "IPV6_MTU_DISCOVER"}.get(name, name)
        lvl = {"sol": socket.SOL_SOCKET, "ip": socket.IPPROTO_IP, "tcp": socket.IPPROTO_TCP,
               "ipv6": socket.IPPROTO_IPV6}[level]
        opt = {"TCP_NODELAY": socket.TCP_NODELAY, "SO_KEEPALIVE": socket.SO_KEEPALIVE,
               "TCP_KEEPIDLE": socket.TCP_KEEPIDLE, "TCP_KEEPINTVL": socket.TCP_KEEPINTVL,
               "TCP_KEEPCNT": socket.TCP_KEEPCNT, "SO_RCVBUF": socket.SO_RCVBUF, "SO_SNDBUF": socket.SO_SNDBUF,
               "TCP_CONGESTION": TCP_CONGESTION, "TCP_SYNCNT": TCP_SYNCNT, "TCP_QUICKACK": socket.TCP_QUICKACK,
               "TCP_USER_TIMEOUT": TCP_USER_TIMEOUT,
               "TCP_MAXSEG": socket.TCP_MAXSEG, "IP_TTL": socket.IP_TTL, "SO_BROADCAST": socket.SO_BROADCAST,
               "IP_MTU_DISCOVER": IP_MTU_DISCOVER, "SO_REUSEADDR": socket.SO_REUSEADDR,
               "SO_OOBINLINE": socket.SO_OOBINLINE,
               "IPV6_UNICAST_HOPS": socket.IPV6_UNICAST_HOPS, "IPV6_MTU_DISCOVER": IPV6_MTU_DISCOVER}[name]
        s.setsockopt(lvl, opt, value.encode() if isinstance(value, str) else int(value))
        if name == "TCP_USER_TIMEOUT":
            self._get(sid)["user_timeout"] = int(value) > 0

    def op_state(self, sid: int) -> str:
        e = self._get(sid)
        if e["kind"] != "tcp":
            raise ValueError("state of a non-TCP socket")
        raw = e["s"].getsockopt(socket.IPPROTO_TCP, TCP_INFO, _TCP_INFO_LEN)
        self._sticky(e)
        return LINUX_STATES.get(raw[0], str(raw[0]))

    def op_info(self, sid: int) -> dict:
        e = self._get(sid)
        s = e["s"]
        info = parse_tcp_info(s.getsockopt(socket.IPPROTO_TCP, TCP_INFO, _TCP_INFO_LEN))
        info["state_name"] = LINUX_STATES.get(info["state"], str(info["state"]))
        info["error"] = self._sticky(e)
        info["user_timeout"] = bool(e.get("user_timeout"))
        try:
            info["local"] = list(s.getsockname())[:2]
        except OSError:
            info["local"] = None
        try:
            info["remote"] = list(s.getpeername())[:2]
            e["tuple"] = (tuple(info["local"]), tuple(info["remote"]))
        except OSError:
            info["remote"] = list(e["tuple"][1]) if e.get("tuple") else None
        return info

    def op_tuple(self, sid: int) -> Optional[list]:
        """The connection's (local, remote) as last known, for :meth:`op_diag` after close."""
        e = self._get(sid)
        if e.get("tuple") is None:
            try:
                e["tuple"] = (tuple(e["s"].getsockname()[:2]), tuple(e["s"].getpeername()[:2]))
            except OSError:
                return None
        return [list(e["tuple"][0]), list(e["tuple"][1])]

    def op_diag(self, lip: str, lport: int, rip: str, rport: int) -> Optional[dict]:
        """The kernel's view of a connection by its 4-tuple (sock_diag), also after close(); None if gone."""
        nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)
        try:
            # struct inet_diag_req_v2 + inet_diag_sockid
            v6 = ":" in lip
            af = socket.AF_INET6 if v6 else socket.AF_INET

            def raw(ip: str) -> bytes:
                return socket.inet_pton(af, ip).ljust(16, b"\0")

            sockid = struct.pack("!HH", lport, rport) + raw(lip) + raw(rip) + struct.pack("=I", 0) + \
                struct.pack("=II", 0xFFFFFFFF, 0xFFFFFFFF)
            req = struct.pack("=BBBBI", af, socket.IPPROTO_TCP, 1 << (INET_DIAG_INFO - 1), 0,
                              0xFFFFFFFF) + sockid
            hdr = struct.pack("=IHHII", 16 + len(req), SOCK_DIAG_BY_FAMILY, 0x1 | 0x300, 1, 0)
            nl.sendto(hdr + req, (0, 0))
            out = None
            while True:
                data = nl.recv(65536)
                off = 0
                done = False
                while off + 16 <= len(data):
                    length, typ, _flags, _seq, _pid = struct.unpack_from("=IHHII", data, off)
                    if typ == 3 or typ == 2:  # NLMSG_DONE, NLMSG_ERROR
                        done = True
                        break
                    body = data[off + 16: off + length]
                    # struct inet_diag_msg: family, state, timer, retrans, sockid(48), expires, rqueue, wqueue, uid, inode
                    state = body[1]
                    sport, dport = struct.unpack_from("!HH", body, 4)
                    alen_ = 16 if v6 else 4
                    src = socket.inet_ntop(af, body[8:8 + alen_])
                    dst = socket.inet_ntop(af, body[24:24 + alen_])
                    if (src, sport, dst, dport) == (lip, lport, rip, rport) and out is None:
                        out = {"state": state, "state_name": LINUX_STATES.get(state, str(state))}
                        a = 72
                        while a + 4 <= len(body):
                            alen, atype = struct.unpack_from("=HH", body, a)
                            if alen < 4:
                                break
                            if atype == INET_DIAG_INFO:
                                out.update(parse_tcp_info(body[a + 4: a + alen]))
                                out["state_name"] = LINUX_STATES.get(state, str(state))
                            a += (alen + 3) & ~3
                    off += (length + 3) & ~3
                if done:
                    return out
        finally:
            nl.close()

    def op_take_error(self, sid: int) -> Optional[dict]:
        e = self._get(sid)
        s = e["s"]
        try:
            _data, anc, _flags, addr = s.recvmsg(65536, 512, socket.MSG_ERRQUEUE)
        except BlockingIOError:
            return None
        e["s"].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)  # reported here: clear it
        for level, typ, cdata in anc:
            if (level, typ) in ((socket.IPPROTO_IP, IP_RECVERR), (socket.IPPROTO_IPV6, IPV6_RECVERR)):
                ee_errno, origin, itype, icode, _pad, info, _data2 = struct.unpack_from("=IBBBBII", cdata)
                sender = None
                if len(cdata) >= 16 + 8:
                    fam = struct.unpack_from("=H", cdata, 16)[0]
                    if fam == socket.AF_INET:
                        sender = socket.inet_ntoa(cdata[20:24])
                    elif fam == socket.AF_INET6 and len(cdata) >= 16 + 24:
                        sender = socket.inet_ntop(socket.AF_INET6, cdata[24:40])
                return {"errno": ee_errno, "origin": origin, "type": itype, "code": icode, "info": info,
                        "sender": sender, "dst": addr[0] if addr else None}
        return None

    def op_ping_send(self, sid: int, dst: str, seq: int, payload: str, ttl: int, df: bool) -> None:
        e = self._get(sid)
        s = e["s"]
        data = bytes.fromhex(payload)
        if e.get("v6"):
            # ICMPv6 Echo Request (RFC 4443 section 4.1); the kernel computes the checksum of a raw ICMPv6 socket.
            if ttl:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, ttl)
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO if df else IPV6_PMTUDISC_DONT)
            s.sendto(struct.pack("!BBHHH", 128, 0, 0, e["ident"], seq & 0xFFFF) + data, (dst, 0))
            return
        if ttl:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
        s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO if df else IP_PMTUDISC_DONT)
        hdr = struct.pack("!BBHHH", 8, 0, 0, e["ident"], seq & 0xFFFF)
        csum = _checksum(hdr + data)
        s.sendto(hdr[:2] + struct.pack("!H", csum) + hdr[4:] + data, (dst, 0))

    def op_ping_recv(self, sid: int) -> Optional[dict]:
        e = self._get(sid)
        if e.get("v6"):
            return self._ping6_recv(e)
        while True:
            try:
                pkt, (src, _) = e["s"].recvfrom(65536)
            except BlockingIOError:
                return None
            except OSError as x:
                if x.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EPROTO):
                    continue
                raise
            ihl = (pkt[0] & 0x0F) * 4
            ttl = pkt[8]
            icmp = pkt[ihl:]
            if len(icmp) < 8 or icmp[0] != 0:
                continue
            ident, seq = struct.unpack("!HH", icmp[4:8])
            if ident != e["ident"]:
                continue
            return {"src": src, "seq": seq, "ttl": ttl, "payload": icmp[8:].hex()}


    def _ping6_recv(self, e: dict) -> Optional[dict]:
        while True:
            try:
                icmp, anc, _flags, addr = e["s"].recvmsg(65536, 64)
            except BlockingIOError:
                return None
            except OSError as x:
                if x.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EPROTO, errno.EMSGSIZE):
                    continue
                raise
            hops = 0
            for level, typ, cdata in anc:
                if level == socket.IPPROTO_IPV6 and typ == IPV6_HOPLIMIT:
                    hops = struct.unpack("=i", cdata[:4])[0]
            if len(icmp) < 8 or icmp[0] != 129:
                continue
            ident, seq = struct.unpack("!HH", icmp[4:8])
            if ident != e["ident"]:
                continue
            return {"src": addr[0].split("%")[0], "seq": seq, "ttl": hops, "payload": icmp[8:].hex()}


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main() -> int:
    h = Helper()
    out = sys.stdout
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            op = req.pop("op")
            res: dict = {"ok": getattr(h, "op_" + op)(**req)}
        except OSError as x:
            res = {"errno": x.errno or 0, "msg": x.strerror or str(x)}
        except Exception as x:  # noqa: BLE001 - reported to the caller
            res = {"error": f"{type(x).__name__}: {x}"}
        out.write(json.dumps(res) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
