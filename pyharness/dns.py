"""The DNS stub resolver of a Tern host, seen from Python (C API: tern/dns.h).

``net.host(name, dns=["10.0.0.53", ...])`` sets the servers (without them
the resolver uses the DNS servers of the host's DHCP lease);
:meth:`pyharness.host.Host.resolve` resolves a name, running virtual time
until the answer is in.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from ._lib import ffi, lib
from .errors import ConfigError, NetworkError

if TYPE_CHECKING:
    from .host import Host

STATUS = {0: "pending", 1: "ok", 2: "nxdomain", 3: "nodata", 4: "timeout", 5: "failed", 6: "cname_loop"}


@dataclass(frozen=True)
class DnsAnswer:
    """A finished query: ``status`` ("ok", "nxdomain", "nodata", "timeout", "failed", "cname_loop"),
    ``addresses``, ``ttl`` (s), ``canonical`` name, ``from_cache``."""

    status: str
    addresses: list[str] = field(default_factory=list)
    ttl: int = 0
    canonical: str = ""
    from_cache: bool = False


class ResolveError(NetworkError):
    """A name did not resolve; ``answer`` holds the :class:`DnsAnswer`."""

    def __init__(self, message: str, answer: DnsAnswer):
        super().__init__(message)
        self.answer = answer


def configure(host: "Host", servers: list[str], timeout: Any = None, rounds: int = 0) -> None:
    """Set ``host``'s DNS servers (and optionally the first timeout and the rounds over all servers)."""
    from .units import parse_time

    cfg = ffi.new("tern_dns_config *")
    if len(servers) > lib.TERN_DNS_MAX_SERVERS:
        raise ConfigError(f"{host.name}: at most {lib.TERN_DNS_MAX_SERVERS} dns servers, got {len(servers)}")
    for i, s in enumerate(servers):
        try:
            cfg.servers[i] = int(ipaddress.IPv4Address(s))
        except ValueError as e:
            raise ConfigError(f"{host.name}: dns server {s!r} is not an IPv4 address") from e
    cfg.n_servers = len(servers)
    if timeout is not None:
        cfg.timeout_ns = parse_time(timeout, "timeout")
    cfg.rounds = int(rounds)
    host._check(lib.tern_dns_configure(host._st(), cfg), f"dns={servers!r}")


def _answer(a: Any) -> DnsAnswer:
    if a.qtype == 28:
        addrs = [str(ipaddress.IPv6Address(bytes(a.addrs6[i]))) for i in range(a.n_addrs)]
    else:
        addrs = [str(ipaddress.IPv4Address(a.addrs[i])) for i in range(a.n_addrs)]
    return DnsAnswer(STATUS.get(a.status, str(a.status)), addrs,
                     int(a.ttl), ffi.string(a.canonical).decode(errors="replace"), bool(a.from_cache))


def _qtype(family: int) -> int:
    if family not in (4, 6):
        raise ConfigError(f"resolve: family must be 4 (A) or 6 (AAAA), got {family!r}")
    return 1 if family == 4 else 28


def start(host: "Host", name: str, family: int = 4) -> int:
    """Start resolving ``name`` (``family`` 4: A records, 6: AAAA, RFC 3596); returns the query id for
    :func:`result`."""
    out = ffi.new("uint32_t *")
    host._check(lib.tern_dns_resolve_type(host._st(), host._net.now_ns, name.encode(), _qtype(family), out),
                f"resolve({name!r}, family={family})")
    host._wake()
    return int(out[0])


def result(host: "Host", qid: int) -> DnsAnswer:
    """The state of query ``qid`` (status "pending" while unanswered; a finished query is freed)."""
    a = ffi.new("tern_dns_answer *")
    host._check(lib.tern_dns_result(host._st(), qid, a), f"dns result({qid})")
    return _answer(a)


def resolve(host: "Host", name: str, within: Any = "60s", family: int = 4) -> DnsAnswer:
    """Resolve ``name`` (A, or AAAA with ``family=6``), running virtual time until the answer is in (at
    most ``within``)."""
    qid = start(host, name, family)
    box: list[DnsAnswer] = []

    def done() -> bool:
        a = result(host, qid)
        if a.status != "pending":
            box.append(a)
            return True
        return False

    host._net.run(until=done, for_=within)
    if not box:
        raise ResolveError(f"{host.name}.resolve({name!r}): no answer within {within}", DnsAnswer("pending"))
    return box[0]


def counters(host: "Host") -> dict[str, int]:
    """The resolver's counters."""
    c = ffi.new("tern_dns_counters *")
    lib.tern_dns_get_counters(host._st(), c)
    return {k: int(getattr(c, k)) for k in ("queries_sent", "answers", "rejected", "malformed", "cache_hits",
                                             "timeouts", "truncated", "tcp_queries", "tcp_failed",
                                             "negative_cached")}


__all__ = ["DnsAnswer", "ResolveError", "configure", "start", "result", "resolve", "counters"]
