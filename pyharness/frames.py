"""A received frame: raw bytes, virtual arrival time, port; parsed by scapy only when asked."""

from __future__ import annotations

from typing import Any, Optional

from .units import NS_PER_S


def seconds_text(ns: int) -> str:
    """Virtual time as seconds with nine decimals, exactly (no float rounding)."""
    return f"{ns // NS_PER_S}.{ns % NS_PER_S:09d}"


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
            from ._scapy import scapy

            p = scapy().Ether(self.data)
            p.time_ns = self.time_ns
            p.time = self.time_ns / NS_PER_S
            p.port = self.port
            p.index = self.index
            p.sniffed_on = f"{self.owner}:{self.port}" if self.owner else None
            self._pkt = p
        return self._pkt

    def summary(self) -> str:
        """One line: number, time and the canonical description of the frame."""
        from .canonical import describe_frame

        return f"#{self.index} {seconds_text(self.time_ns)}s port {self.port}: {describe_frame(self.pkt)}"

    def __repr__(self) -> str:
        return f"<Frame #{self.index} t={seconds_text(self.time_ns)}s port={self.port} {len(self.data)}B>"


__all__ = ["Frame", "seconds_text"]
