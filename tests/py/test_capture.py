"""Captures: valid pcaps (scapy and tshark), nanosecond timestamps of virtual time."""

import shutil
import struct
import subprocess

import pytest
from tern_helpers import frame, seq_of

PCAP_NSEC_MAGIC = 0xA1B23C4D


def make_capture(net, tmp_path, side="b"):
    a, b = net.peer("a"), net.peer("b")
    link = net.link(a, b, rate="10Mbit", delay="3ms")
    path = link.capture(tmp_path / "ab.pcap", side=side)
    arrivals = []
    for i in range(5):
        a.send(frame(a.mac, b.mac, i, 60 + i))
        net.run(for_="777us")
    net.run(for_="1s")
    arrivals = [(p.time_ns, bytes(p)) for p in b.received()]
    link.stop_capture()
    return path, arrivals


def test_pcap_is_nanosecond_ethernet(net, tmp_path):
    path, _ = make_capture(net, tmp_path)
    magic, _maj, _min, _tz, _sig, _snap, linktype = struct.unpack("<IHHiIII", path.read_bytes()[:24])
    assert magic == PCAP_NSEC_MAGIC
    assert linktype == 1  # Ethernet


def test_scapy_reads_it_with_virtual_times(net, tmp_path):
    from scapy.utils import rdpcap

    path, arrivals = make_capture(net, tmp_path)
    pkts = rdpcap(str(path))
    assert [bytes(p) for p in pkts] == [raw for _, raw in arrivals]
    assert [int(p.time * 10**9) for p in pkts] == [t for t, _ in arrivals]


def test_side_a_sees_send_times(net, tmp_path):
    from scapy.utils import rdpcap

    path, _ = make_capture(net, tmp_path, side="a")
    pkts = rdpcap(str(path))
    assert [int(p.time * 10**9) for p in pkts] == [i * 777_000 for i in range(5)]
    assert [seq_of(p) for p in pkts] == list(range(5))


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed (make test installs it)")
def test_tshark_reads_it_without_errors(net, tmp_path):
    path, arrivals = make_capture(net, tmp_path)
    res = subprocess.run(
        ["tshark", "-r", str(path), "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.len"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    lines = [l.split("\t") for l in res.stdout.splitlines() if l.strip()]
    assert len(lines) == len(arrivals)
    for (t, length), (t_ns, raw) in zip(lines, arrivals):
        sec, _, frac = t.partition(".")
        assert int(sec) * 10**9 + int(frac.ljust(9, "0")[:9]) == t_ns
        assert int(length) == len(raw)
    assert "error" not in res.stderr.lower()


def test_default_capture_path_is_in_the_artifacts_dir(net):
    a, b = net.peer("a"), net.peer("b")
    link = net.link(a, b)
    assert link.capture() == net.artifacts_dir / "a-b.pcap"
    assert link.capture(side="b") == net.artifacts_dir / "b-a.pcap"
    assert (net.artifacts_dir / "b-a.pcap").exists()


def test_capture_is_complete_after_close(tmp_path):
    from scapy.utils import rdpcap

    from pyharness import Network

    net = Network(seed=3)
    a, b = net.peer("a"), net.peer("b")
    path = net.link(a, b).capture(tmp_path / "x.pcap")
    for i in range(100):
        a.send(frame(a.mac, b.mac, i))
    net.run(for_="1ms")
    net.close()
    assert len(rdpcap(str(path))) == 100
