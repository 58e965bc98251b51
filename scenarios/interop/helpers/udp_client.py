"""Kernel side of the UDP interop test: send datagrams of the given sizes, expect each echoed back.

usage: udp_client.py HOST PORT SIZE [SIZE ...]   (exit 0 when every echo matched)
"""

import os
import socket
import sys


def main() -> int:
    host, port, sizes = sys.argv[1], int(sys.argv[2]), [int(x) for x in sys.argv[3:]]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2.0)
    done: set[int] = set()
    for n in sizes:
        data = os.urandom(n)
        for attempt in range(3):
            s.sendto(data, (host, port))
            try:
                got, src = s.recvfrom(70000)
                # A late echo of an earlier size (answering a retry) is not this one's.
                while len(got) != n and len(got) in done:
                    got, src = s.recvfrom(70000)
            except socket.timeout:
                continue
            if got != data:
                print(f"size {n}: echo differs ({len(got)} bytes back)")
                return 1
            print(f"size {n}: ok from {src[0]}:{src[1]}")
            done.add(n)
            break
        else:
            print(f"size {n}: no echo")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
