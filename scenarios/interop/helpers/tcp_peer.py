"""Kernel side of the TCP interop tests.

usage:
  tcp_peer.py sink ADDR PORT         listen, accept one connection, read to EOF, close;
                                     prints "ready", then "<bytes> <sha256>"
  tcp_peer.py source HOST PORT N SEED connect, send N bytes of random.Random(SEED).randbytes,
                                     shut down writing, read to EOF, close; prints "sent <bytes>"
ADDR and HOST are IPv4 or IPv6 addresses.
Exit status: 0 on a clean close, 2 when the connection was reset.
"""

import hashlib
import random
import socket
import sys


def sink(addr: str, port: int) -> int:
    ls = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    print("ready", flush=True)
    c, _ = ls.accept()
    h = hashlib.sha256()
    n = 0
    try:
        while True:
            d = c.recv(1 << 20)
            if not d:
                break
            h.update(d)
            n += len(d)
    except ConnectionResetError:
        print(f"reset after {n} bytes", flush=True)
        return 2
    c.close()
    print(f"{n} {h.hexdigest()}", flush=True)
    return 0


def source(host: str, port: int, n: int, seed: int) -> int:
    data = random.Random(seed).randbytes(n)
    s = socket.create_connection((host, port), timeout=60)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
    except ConnectionResetError:
        print("reset", flush=True)
        return 2
    s.close()
    print(f"sent {n}", flush=True)
    return 0


def main() -> int:
    mode = sys.argv[1]
    if mode == "sink":
        return sink(sys.argv[2], int(sys.argv[3]))
    if mode == "source":
        return source(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    print(__doc__)
    return 64


if __name__ == "__main__":
    sys.exit(main())
