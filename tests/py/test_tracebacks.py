"""Issue 18 item 6: a failure shows the test's line and pyharness's message, not pyharness's internals."""

import pytest

from pyharness.errors import ConfigError, hide_from_traceback

SCENARIO = """
from scapy.layers.inet import TCP

def test_expectation(net):
    dut = net.host("dut", ipv4="10.0.0.1/24")
    peer = net.peer("peer", ipv4="10.0.0.2/24")
    net.link(dut, peer, delay="5ms")
    dut.tcp_connect("10.0.0.2", 80)
    peer.expect(TCP(flags="SA"), within="30ms")   # THE-TEST-LINE

def test_config(net):
    dut = net.host("dut", ipv4="10.0.0.1/24")
    dut.tcp_connect("10.0.0.2", 70000)            # THE-CONFIG-LINE
"""


def test_failures_lead_with_the_test_line_and_our_message(pytester):
    pytester.makepyfile(test_tb=SCENARIO)
    r = pytester.runpytest("-p", "no:cacheprovider", "--no-plots")
    r.assert_outcomes(failed=2)
    out = r.stdout.str()
    for name, marker, message in (("test_expectation", "THE-TEST-LINE", "expected TCP(flags=SA)"),
                                  ("test_config", "THE-CONFIG-LINE", "port (a TCP/UDP port) must be in 1..65535, got 70000")):
        section = out.split(f"_ {name} _", 1)[1].split("- pyharness -", 1)[0]
        assert "pyharness/" not in section and "site-packages" not in section, section
        lines = section.strip().splitlines()
        at = next(i for i, ln in enumerate(lines) if marker in ln)
        first_e = next(i for i, ln in enumerate(lines) if ln.startswith("E "))
        assert at < first_e and first_e - at <= 2, section
        assert message in section, section
        # The test's own lines come first: no more than the test body before the message.
        assert first_e < 15, section


def test_internal_bugs_keep_their_frames():
    """Positive control: anything but our own errors (a bug in pyharness) is not hidden."""

    class Info:
        def __init__(self, exc):
            self.exc = exc

        def errisinstance(self, cls):
            return isinstance(self.exc, cls)

    assert hide_from_traceback(Info(ConfigError("x")))
    assert hide_from_traceback(Info(AssertionError("x")))
    assert not hide_from_traceback(Info(TypeError("x")))
    assert not hide_from_traceback(None)
