"""The API reference (`make docs`): built with pdoc, every docstring reference checked."""

import sys
import types

import pytest

from pyharness.apidoc import broken_references, build
from pyharness.link import IMPAIRMENTS


def test_no_docstring_reference_is_broken():
    assert broken_references() == []


def test_a_broken_reference_is_found():
    """Positive control for the checker."""
    mod = types.ModuleType("pyharness_fake_doc")
    mod.__doc__ = "See :class:`~pyharness.link.Fault` and :meth:`pyharness.link.Link.nothing_here`."

    def f():
        """Uses :func:`pyharness.units.parse_time` and :class:`NoSuchThing`."""

    f.__module__ = mod.__name__
    mod.f = f
    sys.modules[mod.__name__] = mod
    try:
        assert broken_references((mod.__name__,)) == [
            "pyharness_fake_doc: pyharness.link.Link.nothing_here", "pyharness_fake_doc.f: NoSuchThing"]
    finally:
        del sys.modules[mod.__name__]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("api")
    assert build(out).exists()
    return out


def test_the_reference_has_what_a_user_calls(reference):
    link = (reference / "pyharness" / "link.html").read_text()
    for name in ("Link.fault", "Fault.hits", "Link.counters", "Link.capture_both", "LinkCounters.reordered"):
        assert f'id="{name}"' in link, name
    for keyword in IMPAIRMENTS:
        assert f"<code>{keyword}" in link, keyword
    assert 'id="TCPConn.accept"' in (reference / "pyharness" / "tcpconn.html").read_text()
    assert "time_ns" in (reference / "pyharness" / "frames.html").read_text()
    assert 'id="link_conditions"' in (reference / "pyharness" / "strategies.html").read_text()
    assert (reference / "index.html").exists() and (reference / "search.js").exists()
