"""What a failing test leaves behind: pcaps, seed, replay command, time-sequence plots.

Layout, per test, under the artifacts directory::

    <artifacts>/<test dir>/
        <a>-<b>.pcap          every link of the test (captured by default under pytest)
        <a>-<b>.tsplot.png    time-sequence plot, when the link carried TCP
        seed.txt              the run's seed and the test's network seed
        replay.txt            one command that replays exactly this test
        counters.json         every link's and node's counters when the test ended

Directory names come from the test id, so no two tests (nor two xdist
workers) ever write to the same place.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import sys
from pathlib import Path
from typing import Iterable, Optional


def artifact_dir_name(nodeid: str) -> str:
    """A file-system-safe, collision-free directory name for a test id."""
    lossless = nodeid.replace("::", ".")
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", lossless).strip("_")
    if readable == lossless and len(readable) <= 150:
        return readable
    # Sanitising lost information: a hash of the id tells apart ids that map to the same text.
    return f"{readable[:150] or 'test'}-{hashlib.sha256(nodeid.encode()).hexdigest()[:8]}"


def replay_command(nodeid: str, run_seed: int, rootdir: Optional[Path] = None, extra: Iterable[str] = (),
                   relative: bool = False) -> str:
    """One shell line that runs exactly this test again with the same seed.

    By default it starts with ``cd <rootdir> &&`` and names this Python by
    its absolute path: it works from anywhere on this machine. With
    ``relative=True`` (reports, JUnit) it is to be run from the project's
    folder, with the project's virtual environment named relatively when
    this Python lives in it (``.venv/bin/python``), so a colleague can paste
    it in their own clone.
    """
    python = sys.executable
    if relative:
        python = "python3"
        if rootdir is not None:
            try:
                python = str(Path(sys.executable).relative_to(Path(rootdir).resolve()))
            except ValueError:
                try:
                    python = str(Path(sys.executable).relative_to(Path(rootdir)))
                except ValueError:
                    pass
    cmd = [python, "-m", "pytest", nodeid, "--seed", str(run_seed), "-p", "no:xdist", *extra]
    line = " ".join(shlex.quote(c) for c in cmd)
    return f"cd {shlex.quote(str(rootdir))} && {line}" if rootdir is not None and not relative else line


def project_relative(path: Path, rootdir: Path) -> str:
    """``path`` relative to the project's folder when it is inside it, else absolute."""
    try:
        return str(Path(path).resolve().relative_to(Path(rootdir).resolve()))
    except ValueError:
        return str(path)


def write_counters(directory: Path, network: object) -> Optional[Path]:
    """``counters.json``: every link's counters (both directions) and every node's, before the network closes."""
    import json
    from dataclasses import asdict, is_dataclass

    data: dict = {"links": {}, "nodes": {}}
    try:
        for link in getattr(network, "links", []):
            data["links"][link.name] = {d: asdict(link.counters(d)) for d in ("a_to_b", "b_to_a")}
        for node in getattr(network, "nodes", []):
            counters = getattr(node, "counters", None)
            if callable(counters):
                c = counters()
                data["nodes"][node.name] = asdict(c) if is_dataclass(c) else dict(vars(c))
    except Exception as exc:  # counters must never hide the real failure
        data["error"] = f"{type(exc).__name__}: {exc}"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "counters.json"
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return path


def write_transcripts(directory: Path, network: object) -> list[Path]:
    """``<gateway>.transcript.txt``: the decoded DHCP/DNS/ICMP transcript of every gateway node, before it closes."""
    out = []
    for node in getattr(network, "nodes", []):
        transcript = getattr(node, "transcript", None)
        if not callable(transcript):
            continue
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{node.name}.transcript.txt"
        try:
            transcript(path)
        except Exception as exc:  # an artifact must never hide the test's own outcome
            path.write_text(f"(no transcript: {type(exc).__name__}: {exc})\n")
        out.append(path)
    return out


def write_failure_artifacts(directory: Path, run_seed: int, net_seed: Optional[int], replay: str,
                            pcaps: Iterable[Path], plots: bool = True) -> list[Path]:
    """Write seed.txt, replay.txt and a time-sequence plot per pcap that carries TCP. Returns the files."""
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    seed = directory / "seed.txt"
    seed.write_text(f"run seed: {run_seed}\n"
                    f"replay: pytest --seed {run_seed} (the whole command is in replay.txt)\n"
                    + (f"network seed: {net_seed} (derived from the run seed and the test id; what "
                       f"Network(seed={net_seed}) would use outside pytest, not a --seed value)\n"
                       if net_seed is not None else ""))
    out.append(seed)
    rp = directory / "replay.txt"
    rp.write_text(replay + "\n")
    out.append(rp)
    if plots:
        from .plot import plot_pcap

        for pcap in pcaps:
            if pcap.exists() and pcap.stat().st_size > 24:
                try:
                    png = plot_pcap(pcap, pcap.with_suffix(".tsplot.png"), title=pcap.name)
                except Exception as exc:  # a plot must never hide the real failure
                    (directory / f"{pcap.stem}.plot-error.txt").write_text(f"{type(exc).__name__}: {exc}\n")
                    continue
                if png is not None:
                    out.append(png)
    return out


__all__ = ["artifact_dir_name", "replay_command", "write_failure_artifacts", "write_counters", "project_relative"]
