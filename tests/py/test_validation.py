"""Issue 18 item 3: every public call checks its arguments and names the bad one in a ConfigError."""

import pytest

from pyharness import ConfigError, Network, Tbf


@pytest.fixture
def hosts():
    with Network(seed=1) as net:
        dut = net.host("dut", ipv4="10.0.0.1/24")
        peer = net.peer("peer", ipv4="10.0.0.2/24")
        link = net.link(dut, peer, delay="1ms")
        yield net, dut, peer, link


@pytest.mark.parametrize("call, name", [
    (lambda d, p: d.tcp_connect("10.0.0.2", 70000), "port"),
    (lambda d, p: d.tcp_connect("10.0.0.2", 80, local_port=70000), "local_port"),
    (lambda d, p: d.tcp_connect("10.0.0.2", -1), "port"),
    (lambda d, p: d.tcp_connect("10.0.0.2", 0), "port"),
    (lambda d, p: d.tcp_listen(70000), "port"),
    (lambda d, p: d.tcp_listen("80"), "port"),
    (lambda d, p: d.udp_socket(port=70000), "port"),
    (lambda d, p: d.udp_socket(port=7).sendto(b"x", ("10.0.0.2", 70000)), "dest port"),
    (lambda d, p: d.udp_socket(port=7).sendto(b"x", "10.0.0.2"), "dest"),
    (lambda d, p: d.tcp_socket().bind(65536), "port"),
    (lambda d, p: p.tcp(d, 70000), "port"),
    (lambda d, p: p.tcp(d, 80, local_port=70000), "local_port"),
    (lambda d, p: p.tcp(d, 80, mss=70000), "mss"),
])
def test_out_of_range_ports_name_the_parameter(hosts, call, name):
    net, dut, peer, link = hosts
    with pytest.raises(ConfigError) as e:
        call(dut, peer)
    assert str(e.value).startswith(name + " "), e.value
    assert "65535" in str(e.value) or "pair" in str(e.value)


def test_valid_ports_still_work(hosts):
    """Positive control: the boundary values are accepted and a connection gets going."""
    net, dut, peer, link = hosts
    dut.udp_socket(port=65535).sendto(b"x", ("10.0.0.2", 65535))
    s = dut.tcp_connect("10.0.0.2", 65535, local_port=65534)
    conn = peer.tcp(dut, 65535, local_port=65535)
    assert s.state == "SYN_SENT" and conn.remote_port == 65535


def test_a_bpf_filter_that_does_not_compile_says_where(hosts):
    net, dut, peer, link = hosts
    with pytest.raises(ConfigError) as e:
        link.fault("drop", bpf="tcp port 80 and")
    msg = str(e.value)
    assert "bpf='tcp port 80 and' is not a valid BPF capture filter" in msg
    assert "at word 4 ('and'), after 'tcp port 80' which compiles" in msg
    assert "display filter" not in msg
    with pytest.raises(ConfigError, match=r"at word 5 \('bogus'\)"):
        link.fault("drop", bpf="tcp port 80 and bogus")


def test_a_wireshark_display_filter_is_recognised(hosts):
    net, dut, peer, link = hosts
    with pytest.raises(ConfigError) as e:
        link.fault("drop", bpf="tcp.flags.syn == 1")
    msg = str(e.value)
    assert "'tcp.flags.syn' looks like a Wireshark display filter field" in msg
    assert "tcp[tcpflags] & tcp-syn != 0" in msg
    assert "link 0" not in msg and "a:0" not in msg
    # Positive control: the suggested capture filter compiles and works.
    f = link.fault("drop", bpf="tcp[tcpflags] & tcp-syn != 0", direction="b_to_a")
    assert f.hits == 0


def test_a_tbf_without_limit_speaks_python(hosts):
    net, dut, peer, link = hosts
    with pytest.raises(ConfigError) as e:
        link.configure(tbf=Tbf(rate="1Mbit", burst="10KB"))
    msg = str(e.value)
    assert "needs exactly one of limit= (the queue size" in msg and "latency=" in msg and "got neither" in msg
    assert "latency_ns" not in msg and "link 0" not in msg
    link.configure(tbf=Tbf(rate="1Mbit", burst="10KB", limit="15KB"))  # positive control
