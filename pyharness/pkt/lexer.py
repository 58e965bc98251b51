"""Tokens of the packetdrill script language.

Written from packetdrill's ``lexer.l`` (read for understanding, not copied):
numbers (integers, hex, floats that need a digit after the dot so that
``0...0.1`` is ``0``, ``...``, ``0.1``), words, quoted strings, back-quoted
shell commands, ``%{ ... }%`` code blocks, ``//`` and ``/* */`` comments, and
single punctuation characters. Every token carries its line number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import PktSyntaxError


@dataclass(frozen=True)
class Token:
    """One token: ``kind`` (INT, FLOAT, WORD, STRING, BACKTICK, CODE, ELLIPSIS, OPTION, IPV4, or the
    punctuation character itself), its ``value`` and the 1-based ``line`` it starts on."""

    kind: str
    value: object
    line: int
    text: str


_SPEC = [
    ("WS", r"[ \t\r]+"),
    ("NL", r"\n"),
    ("CPPCOMMENT", r"//[^\n]*"),
    ("CCOMMENT", r"/\*(?:.|\n)*?\*/"),
    ("CODE", r"%\{(?:.|\n)*?\}%"),
    ("ELLIPSIS", r"\.\.\."),
    ("OPTION", r"--[A-Za-z0-9_]+(?:=[^\s]*)?"),
    ("IPV4", r"\d+\.\d+\.\d+\.\d+"),
    ("HEX", r"0x[0-9a-fA-F]+"),
    ("FLOAT", r"-?\d*\.\d+"),
    ("INT", r"-?\d+(?![A-Za-z_0-9])"),  # not the digits opening a word (a hex FO cookie: 1313a2da...)
    ("WORD", r"[A-Za-z0-9_]+"),
    ("STRING", r'"(?:\\.|[^"\\])*"'),
    ("BACKTICK", r"`(?:\\[\s\S]|[^`\\])*`"),
    ("PUNCT", r"[^ \t\n]"),
]
_RE = re.compile("|".join(f"(?P<{n}>{p})" for n, p in _SPEC))


def tokenize(text: str, path: str = "<script>") -> list[Token]:
    """The tokens of ``text``; raises :class:`PktSyntaxError` naming the line of an unterminated item."""
    out: list[Token] = []
    line = 1
    pos = 0
    n = len(text)
    while pos < n:
        m = _RE.match(text, pos)
        if m is None:  # pragma: no cover - PUNCT matches any non-blank character
            raise PktSyntaxError(path, line, f"cannot read {text[pos:pos + 10]!r}")
        kind = m.lastgroup or ""
        s = m.group()
        if kind == "PUNCT" and s in ('"', "`"):
            what = "string" if s == '"' else "back-quoted command"
            raise PktSyntaxError(path, line, f"unterminated {what}")
        if kind == "PUNCT" and s == "%" and text.startswith("%{", pos):
            raise PktSyntaxError(path, line, "unterminated %{ code block (no closing }%)")
        if kind == "PUNCT" and s == "/" and text.startswith("/*", pos):
            raise PktSyntaxError(path, line, "unterminated /* comment")
        if kind in ("WS", "CPPCOMMENT", "CCOMMENT", "NL"):
            pass
        elif kind == "INT":
            out.append(Token("INT", int(s), line, s))
        elif kind == "HEX":
            out.append(Token("INT", int(s, 16), line, s))
        elif kind == "FLOAT":
            out.append(Token("FLOAT", s, line, s))
        elif kind == "STRING":
            out.append(Token("STRING", bytes(s[1:-1], "utf-8").decode("unicode_escape"), line, s))
        elif kind == "BACKTICK":
            out.append(Token("BACKTICK", s[1:-1], line, s))
        elif kind == "CODE":
            out.append(Token("CODE", s[2:-2], line, s))
        elif kind == "PUNCT":
            out.append(Token(s, s, line, s))
        else:
            out.append(Token(kind, s, line, s))
        line += s.count("\n")
        pos = m.end()
    return out


__all__ = ["Token", "tokenize"]
