"""The time-sequence plot: scaled to the data, one time axis, drops and retransmissions marked."""

import pytest

from pyharness import Network
from pyharness.cli import read_events
from pyharness.pcap import read_pcap
from pyharness.plot import analyse, draw, plot_pcap
from pyharness.transfer import tcp_transfer

matplotlib = pytest.importorskip("matplotlib")


@pytest.fixture
def transfer_pcap(tmp_path):
    """10 KB from a to b under a 64 KB window; the link drops the 5th frame a sends."""
    with Network(seed=1, artifacts=tmp_path) as net:
        a, b = net.host("a", ipv4="10.0.0.1/24"), net.host("b", ipv4="10.0.0.2/24")
        link = net.link(a, b, delay="5ms", rate="10Mbit")
        pcap = link.capture()
        link.fault("drop", nth=5)
        assert tcp_transfer(net, a, b, bytes(10_000)).complete
    return pcap


def test_the_plot_is_scaled_to_the_data_and_marks_drops(transfer_pcap):
    import matplotlib.pyplot as plt

    dirs = analyse(read_pcap(transfer_pcap), read_events(transfer_pcap))
    data = [d for d in dirs if d.data_bytes]
    assert len(data) == 1 and len(data[0].dropped) == 1 and data[0].retransmissions >= 1
    assert max(a[2] for a in data[0].acks) > 60_000          # the window edge is far above the data...
    fig = draw(dirs, "t")
    try:
        (ax,) = fig.axes
        low, high = ax.get_ylim()
        assert high == 10_001 * 1.12, high  # ...but the axis is scaled to the 10 KB sent (+ FIN), 12 % headroom
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "dropped by the link (1)" in labels and any(t.startswith("retransmission") for t in labels)
        assert "10000 bytes" in ax.get_title() or "bytes sent" in ax.get_title()
    finally:
        plt.close(fig)


def test_both_directions_share_one_time_axis(transfer_pcap, tmp_path):
    import matplotlib.pyplot as plt

    with Network(seed=1, artifacts=tmp_path / "two") as net:
        a, b = net.host("a", ipv4="10.0.0.1/24"), net.host("b", ipv4="10.0.0.2/24")
        link = net.link(a, b, delay="5ms")
        pcap = link.capture()
        lst = b.tcp_listen(7)
        c = a.tcp_connect("10.0.0.2", 7)
        net.run(until=lambda: lst.accept_pending > 0, for_="1s")
        s = lst.accept()
        c.send(b"x" * 3000)
        net.run(for_="100ms")
        s.send(b"y" * 2000)
        net.run(for_="100ms")
    fig = draw(analyse(read_pcap(pcap)))
    try:
        assert len(fig.axes) == 2
        assert fig.axes[0].get_shared_x_axes().joined(fig.axes[0], fig.axes[1])
    finally:
        plt.close(fig)
    assert plot_pcap(pcap, tmp_path / "x.png").stat().st_size > 10_000
