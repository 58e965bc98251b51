"""Kernel side of the UDP interop test: echo every datagram back to its sender, forever.

usage: udp_echo_server.py ADDR PORT   (prints "ready" once bound)
"""

import socket
import sys


def main() -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[1], int(sys.argv[2])))
    print("ready", flush=True)
    while True:
        data, src = s.recvfrom(70000)
        s.sendto(data, src)


if __name__ == "__main__":
    main()
