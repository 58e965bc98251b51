"""``%{ ... }%`` blocks: Python assertions on the DUT's tcp_info, as packetdrill's code events.

The names are Linux's ``struct tcp_info`` fields (``tcpi_state``, ``tcpi_rto``
in microseconds, ``tcpi_snd_cwnd`` in segments...) mapped to what the DUT
exposes (:class:`pyharness.sockets.TcpInfo`). A name the DUT lacks fails the
block, naming it and the line.
"""

from __future__ import annotations

import textwrap
from typing import Any

from .errors import PktError

#: Linux tcp_info states (TCP_ESTABLISHED = 1 ...), the values scripts compare tcpi_state with.
LINUX_STATES = {"ESTABLISHED": 1, "SYN_SENT": 2, "SYN_RECEIVED": 3, "FIN_WAIT_1": 4, "FIN_WAIT_2": 5,
                "TIME_WAIT": 6, "CLOSED": 7, "CLOSE_WAIT": 8, "LAST_ACK": 9, "LISTEN": 10, "CLOSING": 11}


def tcpi_names(info: Any) -> dict[str, Any]:
    """The tcpi_* names a block may use, from a :class:`~pyharness.sockets.TcpInfo`."""
    mss = max(int(info.snd_mss), 1)
    names = {
        "tcpi_state": LINUX_STATES.get(info.state, -1),
        "tcpi_rto": info.rto_ns // 1000,
        "tcpi_rtt": info.srtt_ns // 1000,
        "tcpi_rttvar": info.rttvar_ns // 1000,
        "tcpi_snd_mss": info.snd_mss,
        "tcpi_rcv_mss": info.rcv_mss,
        "tcpi_snd_cwnd": info.cwnd // mss,
        "tcpi_snd_ssthresh": info.ssthresh // mss,
        "tcpi_snd_wscale": info.snd_wscale,
        "tcpi_rcv_wscale": info.rcv_wscale,
        "tcpi_retransmits": info.retransmits,
        "tcpi_total_retrans": info.total_retransmits,
        "tcpi_segs_in": info.segs_in,
        "tcpi_segs_out": info.segs_out,
        "tcpi_bytes_acked": info.bytes_acked,
        "tcpi_bytes_received": info.bytes_received,
    }
    # tcpi_unacked, tcpi_sacked, tcpi_lost count segments in Linux; the DUT counts bytes: not offered.
    names.update({f"TCP_{k}": v for k, v in LINUX_STATES.items()})
    names["TCP_CA_Open"] = 0
    return names


def run_code(runner: Any, ev: Any, text: str, info: Any) -> None:
    """Run the block's statements (assertions) with the tcpi_* names; a failure names the line."""
    names = tcpi_names(info)
    try:
        code = compile(textwrap.dedent(text).strip(), f"{runner.path}:{ev.line}", "exec")
    except SyntaxError as e:
        raise PktError(runner.path, ev.line, f"%{{ }}% block: Python syntax error: {e.msg}") from None
    for n in code.co_names:
        if n.startswith("tcpi_") and n not in names:
            raise PktError(runner.path, ev.line, f"unsupported feature: {n} in a %{{ }}% block (the DUT exposes "
                                                 f"{', '.join(sorted(k for k in names if k.startswith('tcpi_')))})")
    try:
        exec(code, {"__builtins__": {"len": len, "abs": abs, "min": min, "max": max}}, names)  # noqa: S102
    except AssertionError as e:
        shown = {k: v for k, v in names.items() if k in code.co_names}
        raise PktError(runner.path, ev.line, f"assertion failed in %{{ }}% block: {text.strip()}"
                       + (f" ({e})" if str(e) else "") + f"; values: {shown}") from None


__all__ = ["run_code", "tcpi_names"]
