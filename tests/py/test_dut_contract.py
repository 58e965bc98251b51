"""docs/dut-contract.md cannot drift: its profile table, state names, info() fields and capabilities match the code."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from pyharness.dut import DutProfile
from pyharness.dut_contract import BEGIN, END, profile_fields, profile_table, replace_profile_table
from pyharness.duts import CAPABILITIES
from pyharness.sockets import _TCP_STATES, TcpInfo

DOC = Path(__file__).resolve().parents[2] / "docs" / "dut-contract.md"


def test_profile_table_matches_the_dataclass() -> None:
    doc = DOC.read_text()
    block = doc[doc.index(BEGIN) + len(BEGIN):doc.index(END)].strip()
    assert block == profile_table(), ("docs/dut-contract.md: the DutProfile table is stale; regenerate it with "
                                      "python -m pyharness.dut_contract --write docs/dut-contract.md")
    assert replace_profile_table(doc) == doc


def test_every_profile_field_is_explained() -> None:
    rows = profile_fields()
    assert [r[0] for r in rows] == [f.name for f in dataclasses.fields(DutProfile)]
    assert all(text for _, _, text in rows)
    # Group comments are shared (icmp_rate and icmp_burst), others have their own.
    meaning = {name: text for name, _, text in rows}
    assert meaning["icmp_burst"] == meaning["icmp_rate"] and meaning["ttl"] != meaning["icmp_rate"]


def test_a_stale_table_is_seen() -> None:
    """The positive control: a document whose table lost a field or has an old default is told apart."""
    doc = DOC.read_text()
    stale = doc.replace("| `ttl` | `64` |", "| `ttl` | `65` |")
    assert stale != doc and replace_profile_table(stale) == doc
    dropped = re.sub(r"^\| `notes` .*\n", "", doc, flags=re.M)
    assert dropped != doc and replace_profile_table(dropped) == doc


def test_state_names_info_fields_and_capabilities_are_documented() -> None:
    doc = DOC.read_text()
    states = re.search(r"<!-- states -->(.*)<!-- /states -->", doc).group(1)  # type: ignore[union-attr]
    assert re.findall(r"`([A-Z_0-9]+)`", states) == list(_TCP_STATES)
    info = doc[doc.index("### `info()` fields"):doc.index("### Error names")]
    documented = {name for row in info.splitlines() if row.startswith("| `")
                  for name in re.findall(r"`([a-z_]+)`", row.split("|")[1])}
    assert documented == set(TcpInfo.__dataclass_fields__)
    caps = doc[doc.index("## Optional capabilities"):doc.index("## DUT operations")]
    assert set(re.findall(r"^\| `([a-z_]+)` \|", caps, re.M)) == set(CAPABILITIES)
