"""The packetdrill-script runner: parse ``.pkt`` scripts and run them against a DUT in virtual time.

    from pyharness.pkt import parse_file, run_script
    run_script(parse_file("scenarios/pkt/handshake.pkt"), dut, peer, net)

See docs/packetdrill.md for the supported language and the differences.
"""

from .bench import run_on_bench
from .errors import PktError, PktSyntaxError, PktUnsupported
from .parser import parse, parse_file
from .runner import Runner, register_command, run_script

__all__ = ["parse", "parse_file", "run_script", "run_on_bench", "Runner", "register_command", "PktError", "PktSyntaxError",
           "PktUnsupported"]
