"""pyharness: drive Tern's deterministic network simulator from Python and pytest.

>>> from pyharness import Network
>>> net = Network(seed=7)
>>> a, b = net.peer("a"), net.peer("b")
>>> link = net.link(a, b, rate="10Mbit", delay="5ms", loss=0.01)

Names are imported lazily, so ``import pyharness`` (and the pytest plugin)
stays cheap until a network is built.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Network": "network",
    "Peer": "peer",
    "Frame": "frames",
    "ANY": "template",
    "pred": "template",
    "one_of": "template",
    "between": "template",
    "has_flags": "template",
    "lacks_flags": "template",
    "ExpectationError": "expect",
    "TCPConn": "tcpconn",
    "Host": "host",
    "TcpInfo": "sockets",
    "UdpSocket": "sockets",
    "TcpSocket": "sockets",
    "PingSocket": "sockets",
    "Switch": "nodes",
    "Node": "nodes",
    "NodeCounters": "nodes",
    "SwitchCounters": "nodes",
    "Link": "link",
    "LinkCounters": "link",
    "Fault": "link",
    "Bernoulli": "impairments",
    "GilbertElliott": "impairments",
    "Markov4": "impairments",
    "Tbf": "impairments",
    "TernError": "errors",
    "ConfigError": "errors",
    "ResourceError": "errors",
    "TernIOError": "errors",
    "LivelockError": "errors",
    "FrameError": "errors",
    "EmptyError": "errors",
    "NetworkError": "errors",
    "WouldBlockError": "errors",
    "StateError": "errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pyharness' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
