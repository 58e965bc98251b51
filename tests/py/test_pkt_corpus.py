"""The corpus of scenarios/pkt: every script cites its RFC sections with quoted text, and runs against Tern."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "scenarios" / "pkt"
SCRIPTS = sorted(CORPUS.glob("*.pkt"))
QUOTE = re.compile(r'^// RFC (\d+) ([\d.]+): "(.+)', re.M)


def test_corpus_size():
    assert len(SCRIPTS) >= 120


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_script_quotes_the_rfc_sections_it_cites(path):
    text = path.read_text()
    header = re.search(r"^// rfc: (.+)$", text, re.M)
    assert header, f"{path.name}: no // rfc: header"
    cited = {r.strip() for r in header.group(1).split(",")}
    quotes = QUOTE.findall(text)
    assert quotes, f"{path.name}: no quoted RFC text (// RFC N S: \"...\")"
    for rfc, sec, _ in quotes:
        assert f"{rfc} {sec}" in cited, f"{path.name}: quotes RFC {rfc} {sec} but its // rfc: header does not cite it"
