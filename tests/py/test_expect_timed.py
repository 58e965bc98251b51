"""Issue 18 item 5: a missed timed expectation (at=, tolerance=) says when the frame did arrive."""

import pytest
from scapy.layers.inet import IP, UDP
from scapy.packet import Raw

from pyharness import ExpectationError, Network


@pytest.fixture
def pair():
    with Network(seed=2) as net:
        a = net.peer("a", ipv4="10.0.0.1/24")
        b = net.peer("b", ipv4="10.0.0.2/24")
        net.link(a, b, delay="5ms")
        yield net, a, b


def udp(dport, payload=b"hi"):
    return IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1000, dport=dport) / Raw(payload)


def send_at(net, a, t_ms, pkt):
    net.run(until=f"{t_ms}ms")
    a.send(pkt)


def test_a_late_frame_is_reported_with_its_arrival_and_only_the_window_is_listed(pair):
    net, a, b = pair
    send_at(net, a, 0, udp(1))        # arrives at 5 ms: before the window
    send_at(net, a, 95, udp(2))       # 100 ms: inside the window, wrong port
    send_at(net, a, 200, udp(7))      # 205 ms: the one expected, but late
    with pytest.raises(ExpectationError) as e:
        b.expect(UDP(dport=7), at="100ms", tolerance="10ms")
    msg = str(e.value)
    assert "expected UDP(dport=7) at 0.100000000s ± 0.010000000s: the matching frame arrived late, " \
           "at 0.205000000s (95ms after the window closed)" in msg
    assert "the matching frame: #3 at 0.205000000s" in msg
    listing = msg.split("frames seen in the window", 1)[1]
    assert listing.startswith(" (1):") and "#2 0.100000000s" in listing
    assert "#1 " not in listing and "#3 " not in listing
    assert e.value.closest.time_ns == 205_000_000


def test_no_matching_frame_at_all_says_so(pair):
    net, a, b = pair
    send_at(net, a, 0, udp(1))
    with pytest.raises(ExpectationError) as e:
        b.expect(UDP(dport=7), at="100ms", tolerance="10ms")
    msg = str(e.value)
    assert "no matching frame arrived before the window closed at 0.110000000s (nor in the 1s after it)" in msg
    assert "frames seen in the window: none" in msg
    assert "closest frame: #1 at 0.005000000s" in msg


def test_the_closest_frame_is_chosen_by_fields_then_time(pair):
    net, a, b = pair
    send_at(net, a, 0, udp(1, b"xx"))     # 5 ms: as many fields right as the next, far from the window
    send_at(net, a, 90, udp(2, b"xx"))    # 95 ms: nearest the window [100, 110] ms
    with pytest.raises(ExpectationError) as e:
        b.expect(IP(src="10.0.0.1") / UDP(dport=7), at="105ms", tolerance="5ms")
    assert "closest frame: #2 at 0.095000000s" in str(e.value)


def test_an_early_frame_says_how_early(pair):
    net, a, b = pair
    send_at(net, a, 0, udp(7))
    with pytest.raises(ExpectationError, match=r"arrived too early, at 0\.005000000s \(95ms before the window opened\)"):
        b.expect(UDP(dport=7), at="105ms", tolerance="5ms")


def test_a_frame_inside_the_window_passes(pair):
    """Positive control."""
    net, a, b = pair
    send_at(net, a, 100, udp(7))
    assert b.expect(UDP(dport=7), at="105ms", tolerance=0).time_ns == 105_000_000
