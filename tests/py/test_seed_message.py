"""Issue 18 item 7: a failure prints one seed, the one that replays it."""

from pyharness.plugin import derive_seed

SCENARIO = """
from scapy.layers.inet import TCP

def test_x(net):
    dut = net.host("dut", ipv4="10.0.0.1/24")
    peer = net.peer("peer", ipv4="10.0.0.2/24")
    net.link(dut, peer, delay="5ms")
    dut.tcp_connect("10.0.0.2", 80)
    peer.expect(TCP(flags="SA"), within="30ms")
"""


def test_the_failure_names_the_seed_to_paste(pytester):
    pytester.makepyfile(test_s=SCENARIO)
    r = pytester.runpytest("-p", "no:cacheprovider", "--no-plots", "--seed", "5")
    r.assert_outcomes(failed=1)
    out = r.stdout.str()
    net_seed = derive_seed(5, "test_s.py::test_x")
    assert str(net_seed) not in out, "the network's derived seed is not something a user can pass back"
    assert "no frame matched (replay with --seed 5, now 0.030000000s)" in out
    assert "<Network replay with --seed 5 now=" in out
    assert "test_s.py::test_x --seed 5" in out  # the replay command agrees
    # Pasting what was printed reproduces the failure, message for message.
    again = pytester.runpytest("-p", "no:cacheprovider", "--no-plots", "test_s.py::test_x", "--seed", "5")
    again.assert_outcomes(failed=1)
    pick = [ln for ln in out.splitlines() if ln.startswith("E ")]
    assert pick == [ln for ln in again.stdout.str().splitlines() if ln.startswith("E ")]
    seed_txt = (pytester.path / "artifacts" / "test_s.py.test_x" / "seed.txt").read_text()
    assert seed_txt.startswith("run seed: 5\nreplay: pytest --seed 5")
    assert f"network seed: {net_seed} (derived from the run seed and the test id" in seed_txt


def test_outside_pytest_the_message_names_the_networks_own_seed():
    """Positive control: a Network made by hand is replayed with its own seed."""
    import pytest
    from scapy.layers.inet import TCP

    from pyharness import ExpectationError, Network

    with Network(seed=1234) as net:
        a, b = net.peer("a", ipv4="10.0.0.1/24"), net.peer("b", ipv4="10.0.0.2/24")
        net.link(a, b)
        with pytest.raises(ExpectationError, match=r"no frame matched \(seed=1234, now 0.001000000s\)"):
            b.expect(TCP(), within="1ms")
