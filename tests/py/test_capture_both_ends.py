"""Issue 18 item 4: a link captures both ends at once, and marks what it did to each frame."""

import struct

from scapy.layers.l2 import Ether
from scapy.packet import Raw

from pyharness import Network
from pyharness.cli import main, read_events
from pyharness.pcap import read_pcap


def frame(a, b, i):
    return Ether(dst=b.mac, src=a.mac, type=0x88B5) / Raw(struct.pack("!I", i) + bytes(60))


def test_a_second_capture_of_the_other_end_adds_a_file(tmp_path):
    with Network(seed=1, artifacts=tmp_path) as net:
        a, b = net.peer("a"), net.peer("b")
        link = net.link(a, b, delay="1ms")
        pa = link.capture()
        pb = link.capture(side="b")
        assert (pa.name, pb.name) == ("a-b.pcap", "b-a.pcap") and link.capture_paths == {"a": pa, "b": pb}
        a.send(frame(a, b, 1))
        b.send(frame(b, a, 2))
        net.run(for_="10ms")
    # Each end saw both frames: what it sent at 0 ms, what it received at 1 ms.
    assert [t for t, _ in read_pcap(pa)] == [0, 1_000_000]
    assert [t for t, _ in read_pcap(pb)] == [0, 1_000_000]
    assert read_pcap(pa)[0][1] == read_pcap(pb)[1][1]
    assert not (tmp_path / "a-b.pcap.events").exists()  # nothing happened to any frame: no events file


def test_capture_both_marks_drops_corruption_and_duplicates(tmp_path, capsys):
    with Network(seed=1, artifacts=tmp_path) as net:
        a, b = net.peer("a"), net.peer("b")
        link = net.link(a, b, delay="1ms")
        pa, pb = link.capture_both()
        link.fault("drop", nth=2)
        link.fault("duplicate", nth=3)
        link.fault("corrupt", nth=4)
        link.configure("a_to_b", loss=0.5)
        for i in range(1, 21):
            a.send(frame(a, b, i))
            net.run(for_="1ms")
        net.run(for_="10ms")
        c = link.counters("a_to_b")
    events = read_events(pa)
    assert events[2] == ["dropped fault"]
    assert "duplicated fault" in events[3] and "corrupted fault" in events[4]
    lost = [n for n, ev in events.items() if "dropped loss" in ev]
    assert len(lost) == c.dropped_loss > 0
    # The sender's file has all 20 frames; the receiver's only what arrived (the copy included).
    assert len(read_pcap(pa)) == 20 and len(read_pcap(pb)) == c.delivered
    assert read_events(pb) == {}  # b sent nothing
    assert main(["show", str(pa)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 20 and out[1].endswith("<< dropped fault")
    assert [("<<" in line) for line in out] == [(n in events) for n in range(1, 21)]
