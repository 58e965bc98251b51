"""Build the API reference with pdoc and check its cross-references: ``python -m pyharness.apidoc DIR``.

pdoc turns the docstrings of the public modules into HTML pages in ``DIR``
(``DIR/index.html``). pdoc leaves a reference it cannot resolve as plain
text without a word, so this module first checks every reference the
docstrings make: each Sphinx-style role (``:class:`~pyharness.link.Fault```,
``:meth:`Link.configure```, ``:func:``, ``:attr:``, ``:mod:``, ``:exc:``)
must name something that exists, looked up as written, in the module and
class where the docstring is, and in the ``pyharness`` package. A broken
reference fails the build with the docstring's place and the name.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator, Optional

#: The modules of the reference: everything public (internal modules start with "_").
MODULES = (
    "pyharness", "pyharness.network", "pyharness.nodes", "pyharness.host", "pyharness.peer", "pyharness.link",
    "pyharness.impairments", "pyharness.sockets", "pyharness.tcpconn", "pyharness.expect", "pyharness.template",
    "pyharness.frames", "pyharness.golden", "pyharness.canonical", "pyharness.pcap", "pyharness.strategies",
    "pyharness.transfer", "pyharness.units", "pyharness.validate", "pyharness.errors", "pyharness.dut",
    "pyharness.plugin", "pyharness.artifacts", "pyharness.report", "pyharness.report_html", "pyharness.plot",
    "pyharness.cli", "pyharness.demo", "pyharness.reproducible", "pyharness.arp", "pyharness.apidoc",
)
ROLE = re.compile(r":(?:class|meth|func|attr|mod|exc|data|obj):`~?([^`<>]+?)`")


def _resolve(name: str, module: ModuleType, owner: Optional[type]) -> bool:
    """Whether ``name`` names something, from ``module`` (and class ``owner``), or absolutely."""
    name = name.strip().rstrip("()")
    candidates = [name, f"{module.__name__}.{name}", f"pyharness.{name}"]
    if owner is not None:
        candidates.insert(0, f"{module.__name__}.{owner.__qualname__}.{name}")
    for cand in candidates:
        parts = cand.split(".")
        for i in range(len(parts), 0, -1):
            try:
                obj: Any = importlib.import_module(".".join(parts[:i]))
            except ImportError:
                continue
            try:
                for attr in parts[i:]:
                    obj = getattr(obj, attr) if hasattr(obj, attr) else _annotation(obj, attr)
                return True
            except AttributeError:
                break
    return False


def _annotation(obj: Any, attr: str) -> Any:
    """A class attribute known only by its annotation (dataclass fields, slots)."""
    if inspect.isclass(obj):
        for klass in obj.__mro__:
            if attr in getattr(klass, "__annotations__", {}) or attr in getattr(klass, "__slots__", ()):
                return None
    raise AttributeError(attr)


def _documented(module: ModuleType) -> Iterator[tuple[str, str, Optional[type]]]:
    """(place, docstring, owning class) of the module and everything defined in it."""
    yield module.__name__, module.__doc__ or "", None
    for name, obj in list(vars(module).items()):
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(obj):
            yield f"{module.__name__}.{name}", obj.__doc__ or "", obj
            for mname, member in list(vars(obj).items()):
                if mname.startswith("_") and mname != "__init__":
                    continue
                fn = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
                doc = getattr(fn, "__doc__", None)
                if doc and (inspect.isfunction(fn) or isinstance(member, property)):
                    yield f"{module.__name__}.{name}.{mname}", doc, obj
        elif inspect.isfunction(obj):
            yield f"{module.__name__}.{name}", obj.__doc__ or "", None


def broken_references(modules: tuple[str, ...] = MODULES) -> list[str]:
    """Every reference in the docstrings of ``modules`` that names nothing, as "place: name"."""
    out = []
    for modname in modules:
        module = importlib.import_module(modname)
        for place, doc, owner in _documented(module):
            for ref in ROLE.findall(doc):
                if not _resolve(ref, module, owner):
                    out.append(f"{place}: {ref}")
    return out


def build(out: Path, modules: tuple[str, ...] = MODULES) -> Path:
    """Check the references, then write the reference with pdoc into ``out``; returns ``out/index.html``."""
    bad = broken_references(modules)
    if bad:
        raise SystemExit("apidoc: broken references in docstrings:\n  " + "\n  ".join(bad))
    import pdoc
    import pdoc.render

    pdoc.render.configure(docformat="restructuredtext", footer_text="Tern pyharness API reference",
                          show_source=False)
    pdoc.pdoc(*modules, output_directory=out)
    return out / "index.html"


def main(argv: Optional[list[str]] = None) -> int:
    """``python -m pyharness.apidoc [DIR]`` (default build/docs)."""
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "build/docs")
    index = build(out)
    print(f"apidoc: API reference in {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
