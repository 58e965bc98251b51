"""Kernel side: send to a closed UDP port of the Tern host; exit 0 when the ICMP port unreachable arrives.

usage: udp_refused.py HOST PORT
"""

import socket
import sys


def main() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((sys.argv[1], int(sys.argv[2])))
    s.settimeout(1.0)
    for _ in range(5):
        s.send(b"anyone?")
        try:
            s.recv(100)
        except ConnectionRefusedError:
            print("refused")
            return 0
        except socket.timeout:
            continue
    print("no ICMP port unreachable")
    return 1


if __name__ == "__main__":
    sys.exit(main())
