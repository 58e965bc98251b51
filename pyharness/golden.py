"""Golden traces: compare a capture with a committed pcap through the canonical text form.

A golden is ``<golden dir>/<scenario file>/<test>.pcap`` plus its canonical
text ``<test>.txt`` (for review in diffs). Comparison recomputes the text of
both pcaps with the test's options (relative sequence numbers by default,
masked fields on request), so changing a mask needs no update.

- a difference fails with a line diff and, for changed frames, the fields that differ;
- ``update=True`` (``--golden-update``) writes the new golden and still fails;
- a missing golden is written and the test fails.
"""

from __future__ import annotations

import difflib
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Optional, Union

from .canonical import canonical_lines, parse_line
from .errors import ConfigError
from .pcap import parsed, read_pcap, write_pcap
from .errors import hide_from_traceback as __tracebackhide__  # noqa: F401  (pytest shows the test's line, not ours)

if TYPE_CHECKING:
    from .link import Link

MAX_DIFF_LINES = 60


class GoldenMismatch(AssertionError):
    """A capture differs from its golden trace (or the golden was missing or updated)."""


def safe_name(name: str) -> str:
    """A file-system-safe version of a test name (``test_x[a/b]`` → ``test_x[a_b]``)."""
    return re.sub(r"[^A-Za-z0-9_.\[\]=+-]+", "_", name).strip("_") or "golden"


def _frames_of(capture: Any) -> tuple[list[tuple[int, bytes]], Optional[Path]]:
    """(time_ns, bytes) frames and the source pcap path, from a link, a path or frames."""
    from .link import Link

    if isinstance(capture, Link):
        path = capture.capture_path
        if path is None:
            raise ConfigError(f"golden.check({capture!r}): the link is not being captured (call link.capture())")
        capture.stop_capture()
        return read_pcap(path), path
    if isinstance(capture, (str, Path)):
        p = Path(capture)
        return read_pcap(p), p
    frames = []
    for item in capture:
        if isinstance(item, tuple):
            frames.append((int(item[0]), bytes(item[1])))
        else:  # a received packet or Frame
            frames.append((int(getattr(item, "time_ns", 0)), bytes(getattr(item, "data", item))))
    return frames, None


def field_diff(old: str, new: str) -> str:
    """The fields that differ between two canonical lines: ``tcp.win: 65535 -> 1024``."""
    a, b = parse_line(old), parse_line(new)
    out = []
    keys = list(dict.fromkeys([k for k, _ in a] + [k for k, _ in b]))
    da, db = dict(a), dict(b)
    for k in keys:
        va, vb = da.get(k, "(absent)"), db.get(k, "(absent)")
        if va != vb:
            out.append(f"{k}: {va} -> {vb}")
    return "; ".join(out)


def diff_lines(golden: list[str], actual: list[str]) -> str:
    """A readable diff: changed frames with their field differences, then a unified diff."""
    sm = difflib.SequenceMatcher(a=golden, b=actual, autojunk=False)
    fields = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "replace":
            for k in range(min(i2 - i1, j2 - j1)):
                fields.append(f"  frame {i1 + k + 1} (capture frame {j1 + k + 1}): {field_diff(golden[i1 + k], actual[j1 + k])}")
        elif tag == "delete":
            fields.append(f"  frames {i1 + 1}..{i2} of the golden are missing from the capture")
        elif tag == "insert":
            fields.append(f"  capture frames {j1 + 1}..{j2} are not in the golden")
    udiff = list(difflib.unified_diff(golden, actual, "golden", "capture", n=1, lineterm=""))
    if len(udiff) > MAX_DIFF_LINES:
        udiff = udiff[:MAX_DIFF_LINES] + [f"... ({len(udiff) - MAX_DIFF_LINES} more diff lines)"]
    return "\n".join(["field differences:", *fields[:MAX_DIFF_LINES], "line diff:", *udiff])


class Golden:
    """Golden traces of one test.

    ``directory`` holds this scenario file's goldens, ``test_name`` names
    them; ``update`` rewrites them (``--golden-update``). ``used`` lists the
    golden pcaps checked so far.
    """

    def __init__(self, directory: Union[str, Path], test_name: str, update: bool = False,
                 replay: str = ""):
        self.directory = Path(directory)
        self.test_name = safe_name(test_name)
        self.update = update
        self.replay = replay
        self.used: list[Path] = []

    def path(self, name: Optional[str] = None) -> Path:
        """The golden pcap for ``name`` (None: the test's own)."""
        stem = self.test_name if name is None else f"{self.test_name}.{safe_name(name)}"
        return self.directory / f"{stem}.pcap"

    def check(self, capture: Any, name: Optional[str] = None, mask: Iterable[str] = (),
              relative_seq: bool = True) -> None:
        """Compare ``capture`` (a :class:`~pyharness.link.Link`, a pcap path, or frames) with its golden.

        A link's capture is closed first so that the pcap is complete.
        ``name`` tells several goldens of one test apart. ``mask`` lists
        volatile fields (see :data:`pyharness.canonical.MASKABLE`: "ip.id",
        "ts", "time"...); ``relative_seq`` shows TCP numbers relative to
        each direction's first one. Checksums are compared: a Tern trace is
        deterministic, checksums included, and a wrong checksum is a bug the
        golden must show ("chksum" stays maskable for devices under test
        whose checksums vary, e.g. with offloading).
        """
        gp = self.path(name)
        if gp in self.used:
            raise ConfigError(f"golden {gp} checked twice in one test: give each check its own name=")
        self.used.append(gp)
        mask = tuple(mask)
        frames, src = _frames_of(capture)
        lines = canonical_lines(parsed(frames), relative_seq=relative_seq, mask=mask)
        if self.update or not gp.exists():
            why = "updated (--golden-update)" if gp.exists() else "was missing and has been created"
            self._write(gp, frames, src, lines)
            raise GoldenMismatch(
                f"golden {gp} {why}: {len(lines)} frames; review {gp.with_suffix('.txt')} and commit it. "
                f"The test fails so that nothing updates silently; run it again to check.")
        golden_lines = canonical_lines(parsed(read_pcap(gp)), relative_seq=relative_seq, mask=mask)
        if golden_lines != lines:
            msg = [f"capture differs from golden {gp} ({len(golden_lines)} frames golden, {len(lines)} captured):",
                   diff_lines(golden_lines, lines)]
            if self.replay:
                msg.append(f"if the change is intended: {self.replay} --golden-update")
            raise GoldenMismatch("\n".join(msg))

    def _write(self, gp: Path, frames: list, src: Optional[Path], lines: list[str]) -> None:
        gp.parent.mkdir(parents=True, exist_ok=True)
        if src is not None and src.exists():
            shutil.copyfile(src, gp)
        else:
            write_pcap(gp, frames)
        gp.with_suffix(".txt").write_text("\n".join(lines) + "\n")


__all__ = ["Golden", "GoldenMismatch", "diff_lines", "field_diff", "safe_name"]
