"""The HTML report (out/report.html) in a real headless browser, and the per-test JUnit properties."""

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import pytest

SCENARIO = textwrap.dedent("""
    import pytest

    @pytest.mark.rfc("9293 3.10.7.4")
    def test_fails(net):
        a = net.host("a", ipv4="10.0.0.1/24")
        b = net.host("b", ipv4="10.0.0.2/24")
        link = net.link(a, b, delay="5ms", rate="10Mbit")
        link.fault("drop", nth=5)
        listener = b.tcp_listen(80)
        c = a.tcp_connect("10.0.0.2", 80)
        net.run(for_="100ms")
        c.send(bytes(20000))
        net.run(for_="2s")
        assert False, "deliberately failing after a transfer"

    def test_passes(net):
        pass

    def test_expectation(net):
        from scapy.layers.inet import IP, UDP
        a = net.peer("a", ipv4="10.0.0.1/24")
        b = net.peer("b", ipv4="10.0.0.2/24")
        net.link(a, b, delay="1ms")
        a.send(IP(src="10.0.0.1", dst="10.0.0.2") / UDP(dport=5))
        b.expect(UDP(dport=7), within="10ms")
""")

# Put at the top of a copy of the report: records every error and what the plot images became.
PROBE = """<script>
window.__errors = [];
window.addEventListener('error', function (e) {
  window.__errors.push((e.message || 'resource failed') + ' ' + ((e.target && e.target.src) || '').slice(0, 60));
}, true);
window.addEventListener('load', function () {
  var imgs = [].slice.call(document.querySelectorAll('img.plot'));
  var shown = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().height > 100; });
  document.body.setAttribute('data-probe', JSON.stringify({plots: imgs.length, shown: shown.length,
    failures: document.querySelectorAll('details.failure').length, errors: window.__errors}));
});
</script>"""


@pytest.fixture(scope="module")
def run_out(tmp_path_factory):
    proj = tmp_path_factory.mktemp("proj")
    (proj / "scn").mkdir()
    (proj / "scn" / "test_r.py").write_text(SCENARIO)
    r = subprocess.run([sys.executable, "-m", "pyharness.cli", "run", "scn", "--out", "out", "--",
                        "-p", "no:cacheprovider"], cwd=proj, capture_output=True, text=True, timeout=300,
                       env={k: v for k, v in os.environ.items() if k not in ("TERN_ARTIFACTS", "PYTEST_ADDOPTS")})
    assert r.returncode == 1, r.stdout + r.stderr
    return proj, r.stdout


def test_report_html_is_self_contained_and_complete(run_out):
    proj, _ = run_out
    page = (proj / "out" / "report.html").read_text()
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert page.count('src="data:image/png;base64,') == 1              # the failing test's plot, embedded
    assert "deliberately failing after a transfer" in page
    assert "RFC 9293 3.10.7.4" in page
    # The expectation's closest-frame table is shown apart, field by field.
    assert re.search(r"<h4>closest frame</h4><pre>\s*closest frame: #1 at 0.001000000s.*UDP.dport\s+7\s+5\s+MISMATCH",
                     page, re.S)
    m = re.search(r'<a href="([^"]+a-b\.pcap)">a-b.pcap</a>', page)
    assert m and not m.group(1).startswith("/") and (proj / "out" / m.group(1)).exists()
    assert "python3 -m pytest scn/test_r.py::test_fails --seed 1 -p no:xdist" in page   # relative replay
    assert str(proj) not in page                                        # every path relative to the project
    assert "dropped_fault=1" in page                                     # link counters when it ended
    assert re.search(r'<td class="failed">failed</td><td class="n">\d+\.\d\ds</td>', page)


def test_report_html_opens_in_headless_chromium(run_out, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "Chromium is needed for this test: `make deps` installs it (Debian package chromium)"
    proj, _ = run_out
    page = (proj / "out" / "report.html").read_text()
    probe = proj / "out" / "probe.html"  # beside the report, so its relative links are the report's
    probe.write_text(page.replace("<head>", "<head>" + PROBE, 1))
    r = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
                        "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()],
                       capture_output=True, text=True, timeout=180)
    m = re.search(r'data-probe="([^"]*)"', r.stdout)
    assert m, f"the page did not finish loading:\n{r.stderr[-2000:]}"
    got = json.loads(m.group(1).replace("&quot;", '"'))
    assert got == {"plots": 1, "shown": 1, "failures": 2, "errors": []}, got
    assert "Uncaught" not in r.stderr


def test_junit_carries_seed_replay_and_artifacts(run_out):
    proj, _ = run_out
    cases = {c.get("name"): {p.get("name"): p.get("value") for p in c.iter("property")}
             for c in ET.parse(proj / "out" / "junit.xml").iter("testcase")}
    fails = cases["test_fails"]
    assert fails["pyharness_seed"] == "1"
    assert fails["pyharness_replay"] == "python3 -m pytest scn/test_r.py::test_fails --seed 1 -p no:xdist"
    assert re.fullmatch(r"out/artifacts/scn_test_r\.py\.test_fails-[0-9a-f]{8}", fails["pyharness_artifacts"])
    assert (proj / fails["pyharness_artifacts"] / "a-b.pcap").exists()
    assert cases["test_passes"]["pyharness_replay"].endswith("scn/test_r.py::test_passes --seed 1 -p no:xdist")
