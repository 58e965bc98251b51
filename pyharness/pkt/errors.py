"""Errors of the packetdrill-script runner, each naming the script and line."""

from __future__ import annotations


class PktError(AssertionError):
    """A script failed (or could not run): ``path:line: message``, as packetdrill prints it."""

    def __init__(self, path: str, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message


class PktSyntaxError(PktError):
    """The script does not follow the packetdrill grammar."""


class PktUnsupported(PktError):
    """The script uses a packetdrill feature this runner (or the DUT) does not support; the message names it."""


__all__ = ["PktError", "PktSyntaxError", "PktUnsupported"]
