"""Bring your own stack (issue 17): a DUT added without editing the repository, and a C node loaded by path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pyharness import Network
from pyharness.duts import load_dut, plugin_node
from pyharness.errors import ConfigError, TernError

REPO = Path(__file__).resolve().parents[2]

#: A toy third-party DUT: the Tern stack under another name and profile, without UDP (to show the skip).
TOY_DUT = textwrap.dedent("""
    import dataclasses
    from pyharness.dut import TERN_PROFILE, TernDut, PEER_IP, PREFIX
    from pyharness.duts import unsupported

    class ToyDut(TernDut):
        kind = "toy"
        capabilities = frozenset({"icmp_echo", "tcp_info", "tcp_options"})

        @classmethod
        def bench(cls, net, peer_arp=True):
            dut = cls(net, profile=dataclasses.replace(TERN_PROFILE, name="toy"))
            peer = net.peer("peer", ipv4=f"{PEER_IP}/{PREFIX}", arp=peer_arp)
            return dut, peer, net.link(dut.host, peer)

        def udp_socket(self, port=None, addr=None):
            unsupported("udp", self.kind)
""")


def _toy_package(root: Path, entry_point: bool) -> Path:
    """A folder holding module ``toydut`` and, with ``entry_point``, an installed distribution registering it."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "toydut.py").write_text(TOY_DUT)
    if entry_point:
        info = root / "toydut-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toydut\nVersion: 0.1\n")
        (info / "entry_points.txt").write_text("[pyharness.duts]\ntoy = toydut:ToyDut\n")
    return root


def _run(dut: str, pythonpath: Path, out: Path, *paths: str, extra: tuple = (),
         opts: tuple = ()) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(pythonpath), TERN_ARTIFACTS="")
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("TERN_DUT", None)
    return subprocess.run([sys.executable, "-m", "pyharness.cli", "run", *paths, "--dut", dut, "--out", str(out),
                           *opts, "--", "-p", "no:cacheprovider", "--no-plots", *extra],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def test_entry_point_dut_runs_scenarios(tmp_path: Path) -> None:
    """``pyharness run --dut toy``: the toy DUT comes from a distribution's entry point, nothing in the repo names it."""
    pkg = _toy_package(tmp_path / "site", entry_point=True)
    r = _run("toy", pkg, tmp_path / "out", "scenarios/tcp/test_handshake.py::test_passive_open_three_way_handshake",
             "scenarios/udp/test_udp.py::test_bad_checksum_is_dropped", extra=("-rs",))
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "1 passed" in out and "1 skipped" in out, out
    # The scenario needing UDP is skipped with the capability named, not failed.
    assert "DUT toy lacks capability udp" in out, out
    assert "DUT toy" in out
    assert (tmp_path / "out" / "report.md").is_file()


def test_module_path_dut_and_a_dut_marker_skip(tmp_path: Path) -> None:
    """``--dut toydut:ToyDut`` (no entry point); a scenario marked dut("tern") is skipped under it."""
    pkg = _toy_package(tmp_path / "site", entry_point=False)
    r = _run("toydut:ToyDut", pkg, tmp_path / "out", "scenarios/tcp/test_handshake.py::test_active_open_three_way_handshake")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 passed" in r.stdout, r.stdout


def test_unknown_dut_is_a_clear_error(tmp_path: Path) -> None:
    r = _run("nosuchstack", tmp_path, tmp_path / "out", "scenarios/tcp/test_handshake.py")
    assert r.returncode == 4
    assert "unknown DUT 'nosuchstack'" in r.stderr and "pyharness.duts" in r.stderr, r.stderr
    with pytest.raises(ConfigError, match="cannot import module 'no_such_mod'"):
        load_dut("no_such_mod:Dut")
    with pytest.raises(ConfigError, match="has no 'Nope'"):
        load_dut("pyharness.dut:Nope")
    with pytest.raises(ConfigError, match="not a DUT class"):
        load_dut("pyharness.dut:DutProfile")


#: A node in C, as a user's own build makes it: answers every frame with the MACs swapped and byte 14 set to
#: the number of frames seen; sends one frame of its own at the time its config names (poll_at/poll).
ECHO_C = r"""
#include <string.h>
#include <stdlib.h>
#include <tern/sim_plugin.h>

typedef struct echo { const sim_plugin_api *api; sim *s; sim_node_id id; unsigned seen; uint64_t hello_at; } echo;

static void echo_input(void *st, uint64_t now, uint32_t port, const uint8_t *f, size_t n) {
    echo *e = st;
    uint8_t out[1514];
    (void)now;
    if (n < 15 || n > sizeof out) return;
    memcpy(out, f + 6, 6); memcpy(out + 6, f, 6); memcpy(out + 12, f + 12, n - 12);
    out[14] = (uint8_t)++e->seen;
    e->api->node_send(e->s, e->id, port, out, n);
}
static void echo_poll(void *st, uint64_t now) {
    echo *e = st;
    if (e->hello_at != SIM_NEVER && now >= e->hello_at) {
        uint8_t hello[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 9, 0x88, 0xb5, 'h', 'i'};
        e->hello_at = SIM_NEVER;
        e->api->node_send(e->s, e->id, 0, hello, sizeof hello);
    }
}
static uint64_t echo_poll_at(void *st) { return ((echo *)st)->hello_at; }
static void echo_destroy(void *st) { free(st); }
static const sim_node_ops ops = {echo_input, echo_poll, echo_poll_at, echo_destroy};

tern_err tern_node_create(const sim_plugin_api *api, sim *s, const char *name, const char *config, char *err,
                          size_t errlen, sim_node_id *out) {
    if (api->version != SIM_PLUGIN_API_VERSION) return TERN_ERR_UNSUPPORTED;
    char *end;
    unsigned long long at = strtoull(config, &end, 10);
    if (*config == '\0' || *end != '\0') {
        strncpy(err, "config must be the hello time in ns", errlen - 1);
        return TERN_ERR_INVALID_ARGUMENT;
    }
    echo *e = calloc(1, sizeof *e);
    if (!e) return TERN_ERR_NO_MEMORY;
    e->api = api; e->s = s; e->hello_at = at;
    tern_err rc = api->node_add(s, name, "echo", 1, &ops, e, &e->id);
    if (rc != TERN_OK) { free(e); return rc; }
    *out = e->id;
    return TERN_OK;
}
"""


@pytest.fixture(scope="module")
def echo_lib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cc = shutil.which("cc")
    if cc is None:
        pytest.fail("no C compiler (cc) to build the plugin node")
    d = tmp_path_factory.mktemp("echo")
    (d / "echo.c").write_text(ECHO_C)
    subprocess.run([cc, "-std=c11", "-Wall", "-Werror", "-fPIC", "-shared", "-I", str(REPO / "sim/include"),
                    "-I", str(REPO / "stack/include"), "-o", str(d / "libecho.so"), str(d / "echo.c")], check=True)
    return d / "libecho.so"


def test_c_node_from_a_shared_library(echo_lib: Path) -> None:
    from scapy.layers.l2 import Ether

    with Network(seed=3) as net:
        node = plugin_node(net, "echo", echo_lib, config="5000000")
        peer = net.peer("p", mac="02:00:00:00:00:02")
        net.link(peer, node, delay="1ms")
        assert node.state != 0
        # The node's own frame, sent at the time it asked to be polled (5 ms) and seen 1 ms later.
        hello = peer.expect(Ether(type=0x88B5), within="10ms")
        assert int(hello.time_ns) == 6_000_000 and bytes(hello)[14:16] == b"hi"
        for i in (1, 2):
            peer.send(Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:09", type=0x88B6) / (b"\x00" * 50))
            back = peer.expect(Ether(type=0x88B6), within="5ms")
            assert back.dst == "02:00:00:00:00:02" and back.src == "02:00:00:00:00:09"
            assert bytes(back)[14] == i  # the node counts what it saw: its input ran once per frame


def test_plugin_errors_say_what_is_wrong(echo_lib: Path, tmp_path: Path) -> None:
    with Network(seed=1) as net:
        with pytest.raises(TernError, match="config must be the hello time in ns"):
            plugin_node(net, "e1", echo_lib, config="soon")
        with pytest.raises(TernError, match="has no function no_such_entry"):
            plugin_node(net, "e2", echo_lib, config="1", entry="no_such_entry")
        bogus = tmp_path / "bogus.so"
        bogus.write_text("not a library")
        with pytest.raises(TernError, match="cannot load"):
            plugin_node(net, "e3", bogus, config="1")
        with pytest.raises(ConfigError, match="no such library file"):
            plugin_node(net, "e4", tmp_path / "missing.so")
        plugin_node(net, "e5", echo_lib, config="1")
        with pytest.raises(TernError, match="already used"):
            plugin_node(net, "e5", echo_lib, config="1")


def test_run_compares_with_a_tern_run(tmp_path: Path) -> None:
    """``pyharness run --dut toy --compare-with TERN-JUNIT --differences DOC``: report.md lists each scenario whose
    result differs from Tern's, with the cause the difference document gives. The Tern junit.xml here is written by
    hand so that the handshake failed under Tern (a difference) and the UDP scenario passed (toy skips it)."""
    pkg = _toy_package(tmp_path / "site", entry_point=True)
    tern = tmp_path / "tern-junit.xml"
    tern.write_text('<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">'
                    '<testcase classname="scenarios.tcp.test_handshake" name="test_passive_open_three_way_handshake">'
                    '<failure message="x">boom</failure></testcase>'
                    '<testcase classname="scenarios.udp.test_udp" name="test_bad_checksum_is_dropped" />'
                    '</testsuite></testsuites>')
    doc = tmp_path / "toy-differences.md"
    doc.write_text("### [why] The reason\nNo RFC requirement.\n\n<!-- differences -->\n| Scenario | Cause |\n|---|---|\n"
                   "| `scenarios/tcp/test_handshake.py::test_passive_open_three_way_handshake` | [why] |\n"
                   "<!-- /differences -->\n")
    r = _run("toy", pkg, tmp_path / "out", "scenarios/tcp/test_handshake.py::test_passive_open_three_way_handshake",
             "scenarios/udp/test_udp.py::test_bad_checksum_is_dropped",
             opts=("--compare-with", str(tern), "--differences", str(doc)))
    assert r.returncode == 0, r.stdout + r.stderr
    report = (tmp_path / "out" / "report.md").read_text()
    section = report[report.index("## Compared with Tern"):]
    assert "1 scenarios differ from Tern's run" in section and "1 that Tern passes are skipped against toy" in section
    assert ("| `scenarios/tcp/test_handshake.py::test_passive_open_three_way_handshake` | failed | passed | "
            "[why] The reason |") in section, section
    missing = subprocess.run([sys.executable, "-m", "pyharness.cli", "run", "--dut", "toy", "--compare-with",
                              str(tmp_path / "nope.xml")], cwd=REPO, env=dict(os.environ, PYTHONPATH=str(pkg)),
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 4 and "--compare-with: no such file" in missing.stderr, missing.stderr
