"""Network namespaces for tests that talk to the Linux kernel (iproute2).

A test creates a namespace of its own, moves a TAP interface into it, gives
it addresses, runs kernel programs in it (``ip netns exec``), and removes
everything when done, also when the test fails::

    with NetNamespace() as ns:
        ns.take("tern0", "10.77.0.1/24")
        out = ns.run(["ping", "-c", "1", "10.77.0.2"])

Traffic stays inside the namespace: it has only its loopback and the
interfaces the test moved into it.

:func:`unavailable` says why a machine cannot run such tests (no
``/dev/net/tun``, no CAP_NET_ADMIN, no ``ip``), so that they are skipped with
that reason instead of failing.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
from typing import Any, Optional, Sequence, Union

#: Prefix of the namespaces this module creates ("tern-<pid>-<n>").
PREFIX = "tern"
_counter = itertools.count(1)
_CAP_NET_ADMIN = 12
_CAP_SYS_ADMIN = 21


def _has_cap(bit: int) -> bool:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> bit & 1)
    except OSError:
        pass
    return False


def unavailable(programs: Sequence[str] = ()) -> Optional[str]:
    """Why TAP-in-namespace tests cannot run here, or None if they can.

    ``programs`` are extra commands the caller needs (``ping``, ``curl``...).
    """
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun on this machine (TAP devices unavailable)"
    if not os.access("/dev/net/tun", os.R_OK | os.W_OK):
        return "/dev/net/tun is not readable and writable by this user"
    if not _has_cap(_CAP_NET_ADMIN):
        return "no CAP_NET_ADMIN (run as root to create TAP devices and network namespaces)"
    if not _has_cap(_CAP_SYS_ADMIN):
        return "no CAP_SYS_ADMIN (needed by 'ip netns add')"
    for prog in ("ip", *programs):
        if shutil.which(prog) is None:
            return f"'{prog}' is not installed (make deps installs it)"
    return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale() -> list[str]:
    """Delete namespaces left by test processes that died without cleaning up. Returns their names."""
    removed = []
    try:
        names = os.listdir("/run/netns")
    except OSError:
        return removed
    for name in names:
        parts = name.split("-")
        if len(parts) == 3 and parts[0] == PREFIX and parts[1].isdigit() and not _pid_alive(int(parts[1])):
            if subprocess.run(["ip", "netns", "del", name], capture_output=True).returncode == 0:
                removed.append(name)
    return removed


class NetnsError(RuntimeError):
    """An iproute2 command failed; the message holds the command and its stderr."""


class NetNamespace:
    """A network namespace owned by the test: created on enter, deleted on exit.

    ``name`` defaults to ``tern-<pid>-<n>``. Processes started with
    :meth:`popen` are killed on exit. Use as a context manager (or call
    :meth:`create` and :meth:`close`).
    """

    def __init__(self, name: Optional[str] = None):
        self.name = name or f"{PREFIX}-{os.getpid()}-{next(_counter)}"
        self.created = False
        self._procs: list[subprocess.Popen] = []

    def __repr__(self) -> str:
        return f"<NetNamespace {self.name}{'' if self.created else ' (not created)'}>"

    # -- life -----------------------------------------------------------------

    def create(self) -> "NetNamespace":
        """Create the namespace and bring its loopback up."""
        remove_stale()
        self._ip("netns", "add", self.name, ns=False)
        self.created = True
        try:
            self.ip("link", "set", "lo", "up")
        except Exception:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Kill the processes started in it and delete it (and the interfaces inside). Idempotent."""
        for p in self._procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    p.kill()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self._procs.clear()
        if self.created:
            subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
            self.created = False

    def __enter__(self) -> "NetNamespace":
        return self.create()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- configuration ----------------------------------------------------------

    def _ip(self, *args: str, ns: bool = True) -> str:
        cmd = ["ip", *(("-n", self.name) if ns else ()), *args]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise NetnsError(f"{' '.join(cmd)}: {r.stderr.strip() or f'exit status {r.returncode}'}")
        return r.stdout

    def ip(self, *args: str) -> str:
        """Run ``ip -n <ns> ARGS`` and return its output; raises :class:`NetnsError` on failure."""
        return self._ip(*args)

    def take(self, ifname: str, address: Union[str, Sequence[str], None] = None, up: bool = True,
             mtu: Optional[int] = None) -> None:
        """Move interface ``ifname`` of the caller's namespace into this one, address it and bring it up."""
        self._ip("link", "set", "dev", ifname, "netns", self.name, ns=False)
        if mtu is not None:
            self.ip("link", "set", "dev", ifname, "mtu", str(mtu))
        addrs = [address] if isinstance(address, str) else list(address or [])
        for a in addrs:
            self.ip("addr", "add", a, "dev", ifname)
        if up:
            self.ip("link", "set", "dev", ifname, "up")

    def neighbours(self, ifname: str) -> dict[str, str]:
        """The kernel's neighbour (ARP) table on ``ifname``: IP -> MAC (entries with a MAC only)."""
        out = {}
        for line in self.ip("neigh", "show", "dev", ifname).splitlines():
            parts = line.split()
            if "lladdr" in parts:
                out[parts[0]] = parts[parts.index("lladdr") + 1]
        return out

    # -- programs -------------------------------------------------------------------

    def command(self, args: Sequence[str]) -> list[str]:
        """The argv that runs ``args`` inside the namespace."""
        return ["ip", "netns", "exec", self.name, *args]

    def run(self, args: Sequence[str], timeout: float = 30, check: bool = False,
            **kw: Any) -> subprocess.CompletedProcess:
        """Run a program in the namespace to completion (output captured as text)."""
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        return subprocess.run(self.command(args), timeout=timeout, check=check, **kw)

    def popen(self, args: Sequence[str], **kw: Any) -> subprocess.Popen:
        """Start a program in the namespace; it is killed (with its process group) on :meth:`close`."""
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        kw.setdefault("start_new_session", True)
        p = subprocess.Popen(self.command(args), **kw)
        self._procs.append(p)
        return p


__all__ = ["NetNamespace", "NetnsError", "unavailable", "remove_stale", "PREFIX"]
