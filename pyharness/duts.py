"""Bring your own stack: where DUT classes come from, and nodes from a user's shared library.

A DUT is a Python class (the contract: ``docs/dut-contract.md``). ``--dut NAME`` finds it

- built in: ``tern`` (:class:`pyharness.dut.TernDut`), ``linux`` (:class:`pyharness.linux_dut.LinuxDut`);
- registered by an installed distribution in the entry point group ``pyharness.duts``
  (``[project.entry-points."pyharness.duts"] mystack = "mypkg.dut:MyDut"``);
- named directly as ``package.module:Class`` (importable from ``sys.path``).

A third-party DUT class has:

- ``kind``: a short name for reports;
- ``capabilities``: the optional capabilities it offers (:data:`CAPABILITIES`); scenarios that need
  another are skipped with its name (marker ``needs("tcp_info")``, or :func:`unsupported` from a DUT
  method at run time);
- ``bench(net, peer_arp=True) -> (dut, peer, link)``: a class method building the DUT, the scripted
  peer at 10.0.0.2/24 and the link between them in ``net`` (a virtual-time :class:`~pyharness.Network`);
- optionally ``network(seed, artifacts, capture) -> Network``: a class method making the network
  (a DUT in real time returns a :class:`~pyharness.bridge.RealtimeNetwork` subclass).

A stack written in C (or with a C ABI) attaches to the simulator with :func:`plugin_node`: its shared
library, built by its own build, is loaded by path (``sim_node_add_plugin``, ``sim/include/tern/sim_plugin.h``).
"""

from __future__ import annotations

import importlib
import os
from importlib import metadata
from typing import TYPE_CHECKING, Any, NoReturn, Optional

from ._lib import ffi, lib
from .errors import ConfigError
from .nodes import Node

if TYPE_CHECKING:
    from .network import Network

__all__ = ["ENTRY_POINT_GROUP", "BUILTIN", "CAPABILITIES", "load_dut", "dut_capabilities", "unsupported",
           "PluginNode", "plugin_node"]

#: The entry point group third-party DUT classes register in.
ENTRY_POINT_GROUP = "pyharness.duts"
#: DUTs that come with pyharness.
BUILTIN = {"tern": "pyharness.dut:TernDut", "linux": "pyharness.linux_dut:LinuxDut"}
#: Optional capabilities a DUT may lack (the rest of the contract is mandatory), with what they cover.
CAPABILITIES = {
    "udp": "udp_socket() and the UDP socket operations",
    "icmp_echo": "ping_socket(): sending ICMP echo requests and reading replies",
    "routes": "add_route()",
    "counters": "counters(): the stack's own statistics",
    "tcp_info": "TcpSocket.info() fields beyond the endpoints and the state (iss, irs, snd_*, rcv_*, rto...)",
    "tcp_urgent": "send(urgent=True) and the urgent_* properties (RFC 9293 §3.8.5)",
    "tcp_options": "TcpSocket.set_option() and option keywords of tcp_socket/tcp_listen/tcp_connect",
    "tcp_shutdown": "TcpSocket.shutdown()",
    "tcp_abort": "TcpSocket.abort() (close with RST)",
    "tcp_accept_queue": "a listen() backlog with more than one pending connection",
}


def load_dut(name: str) -> type:
    """The DUT class called ``name``: built in, registered under ``pyharness.duts``, or ``module:Class``.

    Raises :class:`~pyharness.errors.ConfigError` naming what is wrong (unknown name, module not found,
    no such class, not a DUT class).
    """
    target = BUILTIN.get(name)
    if target is None:
        eps = [ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
        if eps:
            try:
                cls = eps[0].load()
            except Exception as e:  # an entry point of a broken package: say which one
                raise ConfigError(f"DUT {name!r}: entry point {eps[0].value!r} ({ENTRY_POINT_GROUP}) does not "
                                  f"load: {type(e).__name__}: {e}") from e
            return _checked(name, cls)
        if ":" not in name:
            known = sorted(set(BUILTIN) | {ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)})
            raise ConfigError(f"unknown DUT {name!r}: not built in, not registered in the entry point group "
                              f"{ENTRY_POINT_GROUP!r}, and not 'package.module:Class'; known: {', '.join(known)}")
        target = name
    mod_name, _, attr = target.partition(":")
    try:
        mod = importlib.import_module(mod_name)
    except ImportError as e:
        raise ConfigError(f"DUT {name!r}: cannot import module {mod_name!r}: {e}") from e
    cls = getattr(mod, attr, None)
    if cls is None:
        raise ConfigError(f"DUT {name!r}: module {mod_name!r} has no {attr!r}")
    return _checked(name, cls)


def _checked(name: str, cls: Any) -> type:
    if name in BUILTIN:
        return cls
    missing = [a for a in ("kind", "bench") if not hasattr(cls, a)]
    if not isinstance(cls, type) or missing:
        raise ConfigError(f"DUT {name!r}: {cls!r} is not a DUT class (it needs {', '.join(missing or ['to be a class'])}; "
                          f"see docs/dut-contract.md)")
    unknown = set(getattr(cls, "capabilities", ())) - set(CAPABILITIES)
    if unknown:
        raise ConfigError(f"DUT {name!r}: unknown capabilities {sorted(unknown)}; known: {', '.join(CAPABILITIES)}")
    return cls


def dut_capabilities(name: str) -> frozenset:
    """The optional capabilities of DUT ``name`` (all of them for the built-in DUTs)."""
    if name in BUILTIN:
        return frozenset(CAPABILITIES)
    return frozenset(getattr(load_dut(name), "capabilities", ()))


def unsupported(capability: str, dut: str = "") -> NoReturn:
    """Skip the running scenario: the DUT lacks optional ``capability`` (one of :data:`CAPABILITIES`).

    A DUT method calls it for an operation it does not offer; pytest reports the scenario as skipped with
    the capability named, never failed.
    """
    import pytest

    if capability not in CAPABILITIES:
        raise ConfigError(f"unsupported(): unknown capability {capability!r}; known: {', '.join(CAPABILITIES)}")
    pytest.skip(f"DUT {dut + ' ' if dut else ''}lacks capability {capability}: {CAPABILITIES[capability]}")


class PluginNode(Node):
    """A node implemented in a shared library (``sim_node_add_plugin``); ``state`` is the plugin's state pointer."""

    kind = "plugin"

    def __init__(self, net: "Network", name: str, node_id: int, ports: int, path: str):
        super().__init__(net, name, node_id, ports)
        self.path = path
        #: the node's IPv4 address and MAC, when given to :func:`plugin_node`
        self.ip: Optional[str] = None
        self.mac: Optional[str] = None

    @property
    def state(self) -> int:
        """The plugin's state pointer (what its entry function gave ``node_add``), as an integer address.

        Cast it in your own binding of the library: ``my_ffi.cast("my_state *", node.state)``.
        """
        return int(ffi.cast("uintptr_t", lib.sim_node_state(self._net._handle(), self._id)))

    def wake(self) -> None:
        """Ask the simulator to call the node's ``poll_at`` again (after a change from Python)."""
        self._net._call(lib.sim_node_wake, self._id, context=f"{self.name}.wake()")


def plugin_node(net: "Network", name: str, path: "str | os.PathLike[str]", config: str = "",
                entry: Optional[str] = None, ports: int = 1, ip: Optional[str] = None,
                mac: Optional[str] = None) -> PluginNode:
    """Add node ``name`` from the shared library at ``path`` (its entry function ``entry``, default
    ``tern_node_create``) with the plugin's ``config`` text; ``ports`` is the number of ports the plugin
    gives ``node_add``. The library is loaded once per process (dlopen). ``ip`` and ``mac``: the node's
    address and MAC (as its config gives them to the stack), so that scripted peers address it by IP.

    Raises :class:`~pyharness.errors.TernIOError` if the library or its entry function cannot be found, or
    the error the entry function returns, with its message.
    """
    net._check_name(name)
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise ConfigError(f"plugin_node({name!r}): no such library file: {p}")
    out = ffi.new("sim_node_id *")
    net._call(lib.sim_node_add_plugin, p.encode(), entry.encode() if entry else ffi.NULL, name.encode(),
              config.encode(), out, context=f"plugin_node({name!r}, {p!r})")
    node = PluginNode(net, name, int(out[0]), ports, p)
    node.ip, node.mac = ip, mac
    net._nodes[name] = node
    if ip is not None:
        net._ip_owner.setdefault(ip, node)
    return node
