"""The IP family parameter of the dual-family scenario areas (issue 12): transparent to seeds and IPv4 goldens,
counted per family in the report."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pyharness.ipkit import addr, default_mss, host_ifaces, ip, tcp_overhead
from pyharness.plugin import derive_seed, golden_name, seed_id, without_family
from pyharness.report import ReportPlugin, Result


@pytest.mark.parametrize("text,family,expected", [
    ("s/t.py::test_x[ipv4]", "ipv4", "s/t.py::test_x"),
    ("s/t.py::test_x[ipv6]", "ipv6", "s/t.py::test_x"),
    ("s/t.py::test_x[on-ipv4]", "ipv4", "s/t.py::test_x[on]"),
    ("s/t.py::test_x[ipv6-control]", "ipv6", "s/t.py::test_x[control]"),
    ("s/t.py::test_x[3-0-ipv4]", "ipv4", "s/t.py::test_x[3-0]"),
    ("s/t.py::test_x[on]", "ipv4", "s/t.py::test_x[on]"),  # no family id: unchanged
    ("s/t.py::test_x[ipv4]", None, "s/t.py::test_x[ipv4]"),  # no family parameter: unchanged
])
def test_without_family_drops_only_the_family_id(text, family, expected):
    assert without_family(text, family) == expected


def node(nodeid: str, name: str, family):
    return SimpleNamespace(nodeid=nodeid, name=name,
                           callspec=SimpleNamespace(params={} if family is None else {"family": family}))


def test_both_families_run_with_the_seed_the_scenario_had_before():
    """The seed of test_x[ipv4] and test_x[ipv6] is that of test_x: the IPv4 run is unchanged by the parameter."""
    before = derive_seed(1, "scenarios/tcp/t.py::test_x[on]")
    for fam in ("ipv4", "ipv6"):
        n = node(f"scenarios/tcp/t.py::test_x[on-{fam}]", f"test_x[on-{fam}]", fam)
        assert derive_seed(1, seed_id(n)) == before
    other = node("scenarios/tcp/t.py::test_x[off-ipv4]", "test_x[off-ipv4]", "ipv4")
    assert derive_seed(1, seed_id(other)) != before  # the control: another parameter, another seed


def test_golden_names_ipv4_as_before_ipv6_of_its_own():
    assert golden_name(node("a::test_g[ipv4]", "test_g[ipv4]", "ipv4")) == "test_g"
    assert golden_name(node("a::test_g[ipv6]", "test_g[ipv6]", "ipv6")) == "test_g[ipv6]"
    assert golden_name(node("a::test_g", "test_g", None)) == "test_g"


def test_report_counts_each_family(tmp_path):
    rep = ReportPlugin(out=tmp_path, seed=1)
    rows = [("tcp", "ipv4", "passed"), ("tcp", "ipv6", "passed"), ("tcp", "ipv6", "xfailed"),
            ("udp", "ipv6", "failed"), ("arp", "", "passed")]
    for i, (area, fam, outcome) in enumerate(rows):
        rep.results[f"t{i}"] = Result(f"t{i}", area, outcome, family=fam)
    fam = rep.family_counts()
    assert fam[("tcp", "ipv4")]["passed"] == 1
    assert (fam[("tcp", "ipv6")]["passed"], fam[("tcp", "ipv6")]["xfailed"]) == (1, 1)
    assert fam[("udp", "ipv6")]["failed"] == 1
    assert ("arp", "") not in fam
    assert any(line.startswith("tcp ipv6") for line in rep.summary_lines())
    text = rep.write().read_text()
    assert "| tcp | ipv6 | 1 | 0 | 0 | 1 | 0 |" in text


def test_ipkit_maps_ipv4_field_names_and_refuses_ipv4_only_ones():
    p = ip("ipv6", src="fd00::2", dst="fd00::1", ttl=7, proto=17, tos=8)
    assert (p.hlim, p.nh, p.tc) == (7, 17, 8)
    assert ip("ipv4", ttl=7).ttl == 7
    with pytest.raises(ValueError, match="id, options"):
        ip("ipv6", id=3, options=[])
    with pytest.raises(ValueError, match="family"):
        ip("ipv5")
    assert (tcp_overhead("ipv4"), tcp_overhead("ipv6")) == (40, 60)
    assert (default_mss("ipv4"), default_mss("ipv6")) == (536, 1220)
    assert (addr("ipv4", 3), addr("ipv6", 254)) == ("10.0.0.3", "fd00::fe")
    assert host_ifaces("ipv4", 1) == {"ipv4": "10.0.0.1/24"}
    assert host_ifaces("ipv6", 1) == {"ipv4": "10.0.0.1/24", "ipv6": "fd00::1/64"}


def test_differences_compare_ipv4_runs_under_their_old_ids(tmp_path):
    """A DUT's difference document names scenarios as they were before the family parameter: the IPv4 run of
    test_x (test_x[ipv4], test_x[on-ipv4]) is read as test_x (test_x[on]); the IPv6 run keeps its own id."""
    from pyharness.differences import read_junit, scenario_key

    junit = tmp_path / "junit.xml"
    junit.write_text('<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">'
                     '<testcase classname="scenarios.tcp.test_a" name="test_x[ipv4]" />'
                     '<testcase classname="scenarios.tcp.test_a" name="test_y[on-ipv4]"><failure message="m">f'
                     '</failure></testcase>'
                     '<testcase classname="scenarios.tcp.test_a" name="test_x[ipv6]"><skipped message="s" />'
                     '</testcase></testsuite></testsuites>')
    out = read_junit(junit)
    assert out.passed == {"scenarios/tcp/test_a.py::test_x"}
    assert out.failed == {"scenarios/tcp/test_a.py::test_y[on]"}
    assert out.skipped == {"scenarios/tcp/test_a.py::test_x[ipv6]"}
    assert scenario_key("a.py::test_z") == "a.py::test_z"
