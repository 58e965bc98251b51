"""The network shell over a simulation: the examples' ``--shell`` commands on a Tern host of a
:class:`~pyharness.network.Network`, at the network's current virtual time.

The state commands (``iface``, ``ipv4``, ``ipv6``, ``route``, ``arp``, ``nbr``, ``conn``,
``stats``, ``dhcp``, ``help``) are answered by the same C code as the examples' shell
(``tern_netshell_run``, formats in ``examples/netshell/include/tern/netshell.h``); they only
read the host. ``ping ADDRESS [COUNT]`` and ``dns server ADDRESS`` / ``dns NAME`` need the
network to run: here they run the simulation (virtual time moves on, exactly as much as the
examples' shell would wait in real time). Every answer ends with a line ``ok`` or
``error: ...``.

Use it from a test or a script (``net.shell("h1")`` for an interactive loop on standard input,
``host.shell("conn")`` for one answer), or from the command line over a scenario's state at a
virtual time::

    pyharness shell my_scenario.py:build --at 2.5s --host h1 -c conn -c nbr
"""

from __future__ import annotations

import importlib.util
import ipaddress
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Optional, TextIO

from ._lib import ffi, lib
from .units import TimeLike, parse_time

if TYPE_CHECKING:  # pragma: no cover
    from .host import Host
    from .network import Network

PING_IDENT = 0x7465  # "te", as the examples' shell
PING_INTERVAL_NS = 1_000_000_000
PING_WAIT_NS = 1_000_000_000
PING_SIZE = 56
_DNS_STATUS = ["PENDING", "OK", "NXDOMAIN", "NODATA", "TIMEOUT", "FAILED", "CNAME-LOOP"]


class NetShell:
    """The network shell of one Tern host (see the module's documentation)."""

    def __init__(self, host: "Host"):
        self.host = host
        self.net: "Network" = host._net

    def run(self, command: str) -> str:
        """Run one command line; return its answer (lines ending in ``\\n``, the last one ``ok``
        or ``error: ...``), or ``""`` for an empty line."""
        words = command.split()
        if not words:
            return ""
        if words[0] == "ping":
            return self._ping(words[1:])
        if words[0] == "dns":
            return self._dns(words[1:])
        cap = 65536
        while True:
            buf = ffi.new("char[]", cap)
            n = lib.tern_netshell_run(self.host._st(), self.net.now_ns, command.encode(), buf, cap)
            if n < cap:
                return ffi.string(buf).decode()
            cap = n + 1

    def lines(self, command: str) -> list[str]:
        """:meth:`run`'s answer as a list of lines."""
        return self.run(command).splitlines()

    def interact(self, commands: Iterable[str], out: TextIO) -> None:
        """Answer each command of ``commands`` (lines, e.g. a file or standard input) to ``out``."""
        for line in commands:
            out.write(self.run(line.rstrip("\n")))
            out.flush()

    # -- the commands that run the network -------------------------------------------------

    def _ping(self, args: list[str]) -> str:
        target = args[0] if args else ""
        try:
            dst = ipaddress.ip_address(target)
        except ValueError:
            return f"error: ping ADDRESS [COUNT]: '{target}' is not an IPv4 or IPv6 address\n"
        try:
            count = int(args[1]) if len(args) > 1 else 3
        except ValueError:
            count = 0
        if len(args) > 2 or not 1 <= count <= 1000:
            return "error: ping COUNT must be 1..1000\n"
        try:
            sock = self.host.ping_socket(PING_IDENT)
        except Exception:  # noqa: BLE001 (the stack's reason does not matter to the shell)
            return "error: no ping socket free\n"
        out: list[str] = []
        got: list = []

        def replies() -> bool:
            r = sock.recv()
            while r is not None:
                got.append(r)
                r = sock.recv()
            return bool(got)

        sent = 0
        next_send = self.net.now_ns
        done_at = next_send
        try:
            while True:
                replies()
                for r in got:
                    out.append(f"reply from {r.src}: seq {r.seq} ttl {r.ttl}\n")
                received = len(out)
                got.clear()
                now = self.net.now_ns
                if sent < count and now >= next_send:
                    sent += 1
                    sock.send(str(dst), seq=sent, payload=PING_SIZE)
                    next_send = now + PING_INTERVAL_NS
                    done_at = now + PING_WAIT_NS
                if sent == count and (received == count or now >= done_at):
                    break
                until = next_send if sent < count else done_at
                self.net.run(for_=f"{until - now}ns", until=replies)
        finally:
            sock.close()
        out.append(f"ping {dst}: {sent} sent, {len(out)} received\nok\n")
        return "".join(out)

    def _dns(self, args: list[str]) -> str:
        st = self.host._st()
        if len(args) == 2 and args[0] == "server":
            try:
                srv = ipaddress.IPv4Address(args[1])
            except ValueError:
                return f"error: dns server '{args[1]}': not an IPv4 address\n"
            cfg = ffi.new("tern_dns_config *")
            cfg.servers[0] = int(srv)
            cfg.n_servers = 1
            if lib.tern_dns_configure(st, cfg) != 0:
                why = ffi.string(lib.tern_stack_last_error(st)).decode(errors="replace")
                return f"error: dns server '{args[1]}': refused ({why})\n"
            return "ok\n"
        if len(args) != 1:
            return "error: dns NAME, or dns server ADDRESS\n"
        name = args[0]
        qid = ffi.new("uint32_t *")
        if lib.tern_dns_resolve(st, self.net.now_ns, name.encode(), qid) != 0:
            why = ffi.string(lib.tern_stack_last_error(st)).decode(errors="replace")
            return f"error: dns '{name}': {why}\n"
        self.host._wake()
        ans = ffi.new("tern_dns_answer *")

        def answered() -> bool:
            return lib.tern_dns_result(st, qid[0], ans) == 0 and ans.status != lib.TERN_DNS_PENDING

        # The resolver's own timeouts end every query (tern/dns.h); the bound is a safety net.
        if not answered() and not self.net.run(for_="600s", until=answered):
            return f"error: dns '{name}': no outcome within 600 s\n"
        if ans.status == lib.TERN_DNS_OK:
            addrs = " ".join(str(ipaddress.IPv4Address(ans.addrs[i])) for i in range(ans.n_addrs))
            return f"{name} {addrs}\nok\n"
        status = _DNS_STATUS[ans.status] if 0 <= ans.status < len(_DNS_STATUS) else "?"
        return f"{name} {status}\nok\n"


def load_network(spec: str) -> "Network":
    """Build a network from ``FILE.py:FUNCTION`` (or ``package.module:FUNCTION``): the function
    takes no argument and returns a :class:`~pyharness.network.Network`."""
    target, sep, func = spec.rpartition(":")
    if not sep or not target or not func:
        raise SystemExit(f"pyharness shell: '{spec}': give FILE.py:FUNCTION or module:FUNCTION")
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            raise SystemExit(f"pyharness shell: '{target}': no such file")
        mspec = importlib.util.spec_from_file_location(path.stem, path)
        assert mspec is not None and mspec.loader is not None
        module = importlib.util.module_from_spec(mspec)
        sys.modules[path.stem] = module
        mspec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    build: Optional[Callable[[], "Network"]] = getattr(module, func, None)
    if not callable(build):
        raise SystemExit(f"pyharness shell: '{target}' has no function '{func}'")
    return build()


def shell_main(spec: str, at: Optional[TimeLike], host: Optional[str], commands: list[str],
               stdin: TextIO, stdout: TextIO) -> int:
    """``pyharness shell``: the network of ``spec`` run until ``at`` (virtual time), then the
    commands (``commands``, else the lines of ``stdin``) on ``host``."""
    from .host import Host

    net = load_network(spec)
    try:
        if at is not None:
            target = parse_time(at, "--at")
            if target < net.now_ns:
                raise SystemExit(f"pyharness shell: --at {at}: the network is already at {net.now_ns} ns")
            net.run(until=f"{target}ns")
        hosts = [n for n in net.nodes if isinstance(n, Host)]
        if host is not None:
            chosen = [h for h in hosts if h.name == host]
            if not chosen:
                names = ", ".join(h.name for h in hosts) or "none"
                raise SystemExit(f"pyharness shell: --host {host}: no such Tern host (hosts: {names})")
        elif len(hosts) == 1:
            chosen = hosts
        else:
            names = ", ".join(h.name for h in hosts) or "none"
            raise SystemExit(f"pyharness shell: give --host (Tern hosts: {names})")
        NetShell(chosen[0]).interact(commands if commands else stdin, stdout)
    finally:
        net.close()
    return 0
