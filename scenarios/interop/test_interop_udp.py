"""UDP between kernel sockets (in the test's namespace) and a Tern host, over TAP in real time.

RFC 768: datagrams arrive whole with their ports; RFC 791 §3.2: datagrams
above the MTU are fragmented and reassembled (1473 bytes and up); RFC 1122
§4.1.3.1: a datagram to a port nobody listens on gets an ICMP port
unreachable, which the kernel reports to a connected socket as ECONNREFUSED.
"""

from __future__ import annotations

import os

SIZES = [1, 100, 1472, 1473, 8000, 65507]


def test_kernel_to_tern_echo(make_bridge) -> None:
    """A kernel client's datagrams of every size reach a Tern UDP socket, and its echoes come back whole."""
    b = make_bridge(host={"packet_buffers": 128, "udp_queue": 32})
    sock = b.dut.udp_socket(port=6969)
    echoed = []

    def serve() -> None:
        while (d := sock.recvfrom()) is not None:
            data, src = d
            sock.sendto(data, src)
            echoed.append(len(data))

    status, out, err = b.run_process(b.helper("udp_client.py", b.tern_ip, "6969", *map(str, SIZES)), service=serve)
    assert status == 0, f"{out}\n{err}"
    assert sorted(set(echoed)) == sorted(SIZES)


def test_tern_to_kernel_echo(make_bridge) -> None:
    """A Tern socket's datagrams of every size reach a kernel UDP server, and its echoes come back whole."""
    b = make_bridge(host={"packet_buffers": 128, "arp_queue": 64})
    server = b.ns.popen(b.helper("udp_echo_server.py", b.kernel_ip, "7000"), text=True)
    assert server.stdout.readline().strip() == "ready"
    sock = b.dut.udp_socket(port=40000)
    for n in SIZES:
        data = os.urandom(n)
        got: list = []

        def answered() -> bool:
            d = sock.recvfrom()
            if d is not None:
                got.append(d)
            return bool(got)

        for _attempt in range(3):
            sock.sendto(data, (b.kernel_ip, 7000))
            if b.run_until(answered, 2):
                break
        assert got, f"no echo of {n} bytes from the kernel; host counters {b.dut.counters()}"
        back, src = got[0]
        assert back == data, f"{n} bytes: echo differs"
        assert src == (b.kernel_ip, 7000)


def test_kernel_gets_port_unreachable(make_bridge) -> None:
    """RFC 1122 §4.1.3.1: the Tern host answers a closed port with ICMP port unreachable; the kernel sees ECONNREFUSED."""
    b = make_bridge()
    status, out, err = b.run_process(b.helper("udp_refused.py", b.tern_ip, "9"))
    assert status == 0, f"{out}\n{err}"
    c = b.dut.counters()
    assert c.udp_no_port >= 1
    assert c.icmp_errors_sent >= 1


def test_tern_gets_port_unreachable(make_bridge) -> None:
    """RFC 1122 §4.1.3.3: the kernel's port unreachable reaches the Tern socket as an error."""
    b = make_bridge()
    sock = b.dut.udp_socket(port=40001)
    b.run_until(lambda: False, 0.001)
    sock.sendto(b"anyone?", (b.kernel_ip, 9))
    errors: list = []

    def got_error() -> bool:
        e = sock.take_error()
        if e is not None:
            errors.append(e)
        return bool(errors)

    assert b.run_until(got_error, 3), f"no ICMP error delivered; counters {b.dut.counters()}"
    assert (errors[0].icmp_type, errors[0].icmp_code) == (3, 3)
    assert errors[0].sender == b.kernel_ip
