"""Bad configuration raises the right class, naming the parameter and the value."""

import pytest
from tern_helpers import frame

from pyharness import GilbertElliott, Markov4, Network, Tbf
from pyharness import errors as E


def test_error_table_follows_the_c_list():
    from pyharness._lib import ffi, lib

    code = -1
    while lib.tern_error_pyclass(code) != ffi.NULL:
        cls = E.error_class(code)
        assert cls.__name__ == ffi.string(lib.tern_error_pyclass(code)).decode()
        assert issubclass(cls, E.TernError)
        code -= 1
    assert code < -20
    assert E.error_class(lib.TERN_ERR_INVALID_ARGUMENT) is E.ConfigError
    assert E.error_class(lib.TERN_ERR_IO) is E.TernIOError
    assert E.error_class(lib.TERN_ERR_CLOSED) is E.StateError
    assert E.error_class(lib.TERN_ERR_LIVELOCK) is E.LivelockError
    assert issubclass(E.ConfigError, ValueError) and issubclass(E.TernIOError, OSError)
    err = E.make_error(lib.TERN_ERR_UNKNOWN_NODE, "node=7", "ctx")
    assert isinstance(err, E.ConfigError) and err.error_name == "UNKNOWN_NODE" and str(err) == "ctx: node=7"


@pytest.fixture
def ab(net):
    a, b = net.peer("a"), net.peer("b")
    return net, a, b, net.link(a, b)


@pytest.mark.parametrize(
    "kwargs, cls, words",
    [
        (dict(rate=-1), E.ConfigError, ["rate", "-1"]),
        (dict(rate=0), E.ConfigError, ["rate", "0"]),
        (dict(rate="10Mbps"), E.ConfigError, ["rate", "10Mbps", "Mbit"]),
        (dict(delay="-5ms"), E.ConfigError, ["delay", "-5ms"]),
        (dict(delay="1ms", jitter="2ms"), E.ConfigError, ["jitter", "delay", "2ms"]),
        (dict(loss=1.5), E.ConfigError, ["loss.p", "1.5"]),
        (dict(loss=-0.1), E.ConfigError, ["loss.p", "-0.1"]),
        (dict(loss="lots"), E.ConfigError, ["loss", "lots"]),
        (dict(loss=GilbertElliott(p=0.1, r=2)), E.ConfigError, ["loss.r", "2"]),
        (dict(loss=GilbertElliott(p=0.1, one_minus_h=-1)), E.ConfigError, ["loss.one_minus_h", "-1"]),
        (dict(loss=Markov4(p13=0.2, p14=0.9)), E.ConfigError, ["p14"]),  # state 1 sums above 1 (C check)
        (dict(loss=object()), E.ConfigError, ["loss"]),
        (dict(duplicate=2), E.ConfigError, ["duplicate", "2"]),
        (dict(corrupt=float("nan")), E.ConfigError, ["corrupt", "nan"]),
        (dict(reorder=-1), E.ConfigError, ["reorder", "-1"]),
        (dict(queue_limit=0), E.ConfigError, ["queue_limit", "0"]),
        (dict(queue_limit=1.5), E.ConfigError, ["queue_limit", "1.5"]),
        (dict(size_limit="0B"), E.ConfigError, ["size_limit", "0B"]),
        (dict(size_limit="10kb"), E.ConfigError, ["size_limit", "10kb", "KiB"]),
        (dict(tbf=Tbf(rate="-1Mbit", burst=1000, limit=1000)), E.ConfigError, ["tbf.rate", "-1Mbit"]),
        (dict(tbf=Tbf(rate="1001bit", burst=1000, limit=1000)), E.ConfigError, ["tbf.rate", "1001bit"]),
        (dict(tbf=Tbf(rate="1Mbit", burst=1000)), E.ConfigError, ["limit", "latency"]),
        (dict(tbf=Tbf(rate="1Mbit", burst=1000, limit=1000, latency="1ms")), E.ConfigError, ["limit", "latency"]),
        (dict(tbf=Tbf(rate="1Mbit", burst=1000, limit=1000, peak="2Mbit")), E.ConfigError, ["mtu"]),
        (dict(tbf=Tbf(rate="1Mbit", burst=0, limit=1000)), E.ConfigError, ["burst"]),
        (dict(tbf="fast"), E.ConfigError, ["tbf", "fast"]),
        (dict(bandwidth="10Mbit"), E.ConfigError, ["bandwidth", "rate", "delay", "loss", "tbf"]),
    ],
)
def test_bad_impairments(ab, kwargs, cls, words):
    net, a, b, link = ab
    with pytest.raises(cls) as e:
        link.configure(**kwargs)
    msg = str(e.value)
    for w in words:
        assert w in msg, msg


def test_bad_impairment_in_link_call(net):
    a, b = net.peer("a"), net.peer("b")
    with pytest.raises(E.ConfigError, match="latency_ms"):
        net.link(a, b, latency_ms=5)


def test_nothing_changes_when_one_setting_is_wrong(ab):
    net, a, b, link = ab
    with pytest.raises(E.ConfigError):
        link.configure(delay="5ms", loss=3)
    a.send(frame(a.mac, b.mac, 1))
    net.run(for_="1ms")
    assert b.recv().time_ns == 0  # the delay was not applied


def test_bad_direction(ab):
    net, a, b, link = ab
    with pytest.raises(E.ConfigError, match="sideways"):
        link.configure(direction="sideways", delay="1ms")
    with pytest.raises(E.ConfigError, match="both"):
        link.counters("both")


@pytest.mark.parametrize("seed", [-1, 2**64, "7", 1.0, None])
def test_bad_seed(seed):
    with pytest.raises(E.ConfigError, match="seed"):
        Network(seed=seed)


def test_bad_nodes_and_ports(net):
    a = net.peer("a", ports=2)
    sw = net.switch("sw", ports=2)
    with pytest.raises(E.ConfigError) as e:
        net.peer("a")
    assert "a" in str(e.value) and e.value.error_name == "INVALID_ARGUMENT"
    with pytest.raises(E.ConfigError, match="ports"):
        net.peer("z", ports=0)
    with pytest.raises(E.ConfigError, match="name.*63"):
        net.peer("x" * 64)
    with pytest.raises(E.ConfigError, match="ageing"):
        net.switch("s2", ageing="-1s")
    with pytest.raises(E.ConfigError, match="table_size"):
        net.switch("s3", table_size=0)
    with pytest.raises(E.ConfigError, match="nobody"):
        net.link(a, "nobody")
    with pytest.raises(E.ConfigError, match="port"):
        net.link(a, sw, port_a=5)
    net.link(a, sw, port_a=1, port_b=1)
    with pytest.raises(E.ConfigError) as e:
        net.link(a, sw, port_a=1, port_b=0)
    assert e.value.error_name == "PORT_IN_USE"
    with pytest.raises(E.ConfigError) as e:
        net.link(a, a, port_a=0, port_b=0)
    with pytest.raises(E.ConfigError, match="another network"):
        with Network(seed=1) as other:
            net.link(a, other.peer("q"))
    with pytest.raises(E.ConfigError, match="mac"):
        net.peer("m", mac="02:00:00")


def test_bad_frames(net):
    a, b = net.peer("a"), net.peer("b")
    net.link(a, b)
    with pytest.raises(E.FrameError):
        a.send(b"")
    with pytest.raises(E.FrameError):
        a.send(bytes(70000))
    with pytest.raises(E.ConfigError) as e:
        a.send(frame(a.mac, b.mac, 1), port=3)
    assert e.value.error_name == "UNKNOWN_PORT"
    with pytest.raises(E.ConfigError, match="scapy packet or bytes"):
        a.send("hello")


def test_time_errors(net):
    net.run(until="10ms")
    with pytest.raises(E.ConfigError) as e:
        net.run(until="5ms")
    assert e.value.error_name == "TIME_BACKWARDS"
    with pytest.raises(E.ConfigError, match="exactly one"):
        net.run()
    with pytest.raises(E.ConfigError, match="exactly one"):
        net.run(for_=1, until=2)
    with pytest.raises(E.ConfigError, match="for_"):
        net.run(for_="-1s")
    with pytest.raises(E.ConfigError, match="at"):
        net.link(net.peer("a"), net.peer("b")).down(at="-1ms")


def test_capture_io_error(net, tmp_path):
    a, b = net.peer("a"), net.peer("b")
    link = net.link(a, b)
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(E.TernIOError) as e:
        link.capture(blocker / "x.pcap")  # its directory would be a file
    assert isinstance(e.value, OSError) and "file" in str(e.value)
    with pytest.raises(E.TernIOError) as e:
        link.capture(tmp_path)  # a directory: libpcap cannot open it (the C error)
    assert e.value.error_name == "IO" and str(tmp_path) in str(e.value)
    with pytest.raises(E.ConfigError, match="side"):
        link.capture(tmp_path / "y.pcap", side="c")


def test_switch_lookup_bad_mac(net):
    sw = net.switch("sw")
    with pytest.raises(E.ConfigError, match="MAC"):
        sw.lookup("not-a-mac")
    assert sw.lookup(b"\x02\x00\x00\x00\x00\x01") is None
