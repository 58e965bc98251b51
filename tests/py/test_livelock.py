"""The simulator's livelock guard as Python sees it: LivelockError names the node.

Two halves (sim.h): SIM_LIVELOCK_POLLS polls at one instant without progress,
and more than SIM_LIVELOCK_FRAMES frames from one node at one instant.
"""

from __future__ import annotations

import pytest

from pyharness import Network
from pyharness._lib import lib
from pyharness.errors import LivelockError


def test_frames_past_the_limit_at_one_instant_raise_livelock_error_naming_the_node():
    """A peer may send SIM_LIVELOCK_FRAMES frames at one instant; the next one is refused with
    LivelockError naming it; at the next instant it may send again."""
    limit = lib.SIM_LIVELOCK_FRAMES
    frame = bytes([0xFF] * 6 + [0x02, 0, 0, 0, 0, 9, 0x88, 0xB5]) + bytes(46)
    with Network(seed=1) as net:
        talker = net.peer("talker")  # no link: frames are counted and dropped
        for _ in range(limit):
            talker.send(frame)
        with pytest.raises(LivelockError, match=r"node 'talker' \(peer\) sent more than \d+ frames at t=0 ns"):
            talker.send(frame)
        assert talker.node_counters().tx_frames == limit
        assert talker.node_counters().max_burst_frames == limit
        net.run(for_="1ns")
        talker.send(frame)
        assert talker.node_counters().tx_frames == limit + 1
