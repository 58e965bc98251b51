"""A received frame: raw bytes, virtual arrival time, port; parsed by scapy only when asked.

Parsing a frame with scapy costs tens of microseconds, more than everything
else a round trip does, so :attr:`Frame.pkt` returns a *lazy* ``Ether``: an
instance of a private subclass of scapy's ``Ether`` that holds the bytes and
dissects them on first use of any attribute or method (``pkt[TCP]``,
``pkt.time``, ``bytes(pkt)``, ``pkt.show()``...), turning itself into a plain
``Ether`` then. ``isinstance(pkt, Ether)`` holds before and after; an
expectation whose template was matched on the raw bytes (see
:func:`pyharness.template.compile_template`) returns such a packet and a test
that never looks at it never pays for the parse.
"""

from __future__ import annotations

from typing import Any, Optional

from .units import NS_PER_S


def seconds_text(ns: int) -> str:
    """Virtual time as seconds with nine decimals, exactly (no float rounding)."""
    return f"{ns // NS_PER_S}.{ns % NS_PER_S:09d}"


_LAZY: Any = None


def _lazy_class() -> Any:
    global _LAZY
    if _LAZY is None:
        from ._scapy import scapy

        ether = scapy().Ether

        class _LazyEther(ether):  # the leading "_" keeps it out of scapy's layer registry
            """An ``Ether`` not dissected yet: the first attribute access dissects it in place."""

            def __getattribute__(self, name: str) -> Any:
                d = object.__getattribute__(self, "__dict__")
                lazy = d.pop("_tern_lazy", None)
                if lazy is not None:
                    data, extra = lazy
                    object.__setattr__(self, "__class__", ether)
                    ether.__init__(self, data)
                    for k, v in extra.items():
                        setattr(self, k, v)
                return getattr(self, name) if lazy is not None else object.__getattribute__(self, name)

        _LazyEther.__name__ = _LazyEther.__qualname__ = "Ether"
        _LAZY = (_LazyEther, ether)
    return _LAZY


def lazy_ether(data: bytes, **extra: Any) -> Any:
    """A scapy ``Ether`` of ``data`` dissected on first use; ``extra`` attributes are set on it then.

    Frames scapy would not dissect as ``Ether`` (802.3 length field, shorter
    than a header) are dissected at once, as ``Ether(data)`` would.
    """
    lazy_cls, ether = _lazy_class()
    if len(data) < 14 or (data[12] << 8 | data[13]) <= 1500:
        p = ether(data)
        for k, v in extra.items():
            setattr(p, k, v)
        return p
    p = object.__new__(lazy_cls)
    object.__getattribute__(p, "__dict__")["_tern_lazy"] = (data, extra)
    return p


class Frame:
    """One frame a peer received (or a capture holds).

    ``data`` are the bytes, ``time_ns`` the virtual arrival time, ``port``
    the port it came in on and ``index`` its 1-based arrival number at that
    peer. :attr:`pkt` is the scapy ``Ether`` packet (parsed once, on demand)
    with ``.time`` (seconds, float), ``.time_ns`` and ``.port`` set.
    """

    __slots__ = ("data", "time_ns", "port", "index", "owner", "_pkt")

    def __init__(self, data: bytes, time_ns: int, port: int = 0, index: int = 0, owner: str = ""):
        self.data = data
        self.time_ns = time_ns
        self.port = port
        self.index = index
        self.owner = owner
        self._pkt: Optional[Any] = None

    @property
    def time(self) -> float:
        """Arrival time in seconds (float)."""
        return self.time_ns / NS_PER_S

    @property
    def pkt(self) -> Any:
        """The frame as a scapy ``Ether`` packet."""
        if self._pkt is None:
            self._pkt = lazy_ether(self.data, time_ns=self.time_ns, time=self.time_ns / NS_PER_S, port=self.port,
                                   index=self.index,
                                   sniffed_on=f"{self.owner}:{self.port}" if self.owner else None)
        return self._pkt

    def summary(self) -> str:
        """One line: number, time and the canonical description of the frame."""
        from .canonical import describe_frame

        return f"#{self.index} {seconds_text(self.time_ns)}s port {self.port}: {describe_frame(self.pkt)}"

    def __repr__(self) -> str:
        return f"<Frame #{self.index} t={seconds_text(self.time_ns)}s port={self.port} {len(self.data)}B>"


__all__ = ["Frame", "seconds_text", "lazy_ether"]
