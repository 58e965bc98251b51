"""Refuse packets whose bytes scapy would take from the wall clock.

Some scapy fields, left unset, are filled from the wall clock: the ICMP
timestamp fields hold the time of day when scapy was imported. A frame built
from such a packet differs from run to run, and a seed no longer replays a
run (DESIGN.md §6). :func:`check_reproducible` finds those fields in a packet
about to be sent and names them, so the test can set them. (The defaults
scapy randomises come from Python's generator, which :class:`Network` seeds.)
"""

from __future__ import annotations

from typing import Any

from .errors import ConfigError

# Layer class -> names of fields whose default is not reproducible. Built once per class.
_VOLATILE: dict[type, tuple[str, ...]] = {}

# Fields scapy fills from the clock: (layer name, field names).
_CLOCK_FIELDS = {"ICMP": ("ts_ori", "ts_rx", "ts_tx")}


def _volatile_fields(cls: type) -> tuple[str, ...]:
    names = _VOLATILE.get(cls)
    if names is None:
        names = _VOLATILE[cls] = tuple(_CLOCK_FIELDS.get(cls.__name__, ()))
    return names


def check_reproducible(pkt: Any, who: str) -> None:
    """Raise :class:`ConfigError` if a field that would be built is left to the clock or to chance."""
    layer = pkt
    while layer is not None and hasattr(layer, "fields_desc"):
        names = _volatile_fields(type(layer))
        for name in names:
            if name in layer.fields:
                continue
            fld = layer.get_field(name)
            present = fld is not None
            # A conditional field only counts when its condition holds for this packet.
            cond = getattr(fld, "cond", None)
            if present and cond is not None:
                try:
                    present = bool(cond(layer))
                except Exception:
                    present = True
            if present:
                raise ConfigError(
                    f"{who}: {type(layer).__name__}.{name} is not set and scapy would fill it from "
                    "the wall clock, so the frame would differ from run to run; set it explicitly "
                    f"(e.g. {type(layer).__name__}({name}=0))")
        payload = layer.payload
        layer = payload if payload is not None and type(payload).__name__ != "NoPayload" else None
