"""Generate the C source of the CFFI extension ``pyharness._ternffi``.

The cdef is made from the public C headers themselves (the pymunk way): the C
preprocessor expands ``_cdef.h`` with ``TERN_CDEF`` defined, which makes the
headers skip their system includes, and the object-like ``SIM_*``/``TERN_*``
macros that ``-E`` drops are appended as ``#define NAME ...`` lines, whose
values cffi then takes from the compiled C (API mode).

Headers that include system headers without that guard get the empty stubs
of ``_cdef_stubs/`` instead (cffi knows ``bool``, ``size_t``, ``uint8_t``...).

With ``--lib`` (the built static libraries), functions a header declares but
no library defines yet are left out of the binding, so the extension loads
while a module is still being written (its Python wrappers then say the
function is not available); the generated C lists what was left out.

Usage (from pyharness/CMakeLists.txt)::

    python _ffi_build.py --cc CC --out OUT.c -I DIR [-I DIR ...] [--nm NM --lib LIB.a ...]
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODULE = "pyharness._ternffi"

# Object-like macros with a value: "#define SIM_NEVER 0xff..ULL". Function-like
# macros (a "(" right after the name) and empty include guards do not match.
_DEFINE = re.compile(r"^\s*#\s*define\s+((?:SIM|TERN)_[A-Z0-9_]+)(?=[ \t])[ \t]+\S", re.M)


def find_header(name: str, include_dirs: list[str]) -> Path:
    """Return the path of header ``name`` in the first include dir that has it."""
    for d in include_dirs:
        p = Path(d) / name
        if p.is_file():
            return p
    raise SystemExit(f"_ffi_build: {name} not found in {include_dirs}")


HEADERS = ("tern/errors.h", "tern/addr.h", "tern/sim.h", "tern/stack.h", "tern/sim_host.h",
           "tern/sim_realtime.h", "tern/sim_tap.h", "tern/sim_pcap.h",  # real-time bridge (issue 7)
           "tern/sim_plugin.h",  # stacks from a user's shared library (issue 17)
           "tern/dhcp.h", "tern/dhcpv6.h", "tern/dns.h", "tern/igmp.h", "tern/mdns.h",  # network services (issue 13)
           "tern/sim_virtio.h",  # virtio-net and the ping responder (issue 15)
           "tern/sim_gateway.h",  # the gateway node (issue 14)
           "tern/sim_hostbridge.h",  # its host bridge and journal (issue 14)
           "tern/packet.h",  # packet sockets (issue 20)
           "tern/netshell.h")  # the network shell's state commands (issue 20)
_FUNC = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def defined_symbols(nm: str, libs: list[str]) -> set[str]:
    """Global symbols the static libraries define."""
    out = subprocess.run([nm, "-g", "--defined-only", *libs], check=True, capture_output=True, text=True).stdout
    return {parts[-1] for parts in (line.split() for line in out.splitlines()) if len(parts) >= 3}


def statements(text: str) -> list[str]:
    """Top-level C statements (declarations) of preprocessed text."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        elif ch == ";" and depth == 0:
            out.append(text[start:i + 1].strip())
            start = i + 1
    return [s for s in out if s]


def drop_undefined(cdef: str, defined: set[str]) -> tuple[str, list[str]]:
    """Remove function declarations whose function no library defines. Returns (cdef, dropped names)."""
    kept, dropped = [], []
    for stmt in statements(cdef):
        m = _FUNC.search(stmt)
        is_func = m is not None and not stmt.startswith(("typedef", "struct", "enum", "union")) and "=" not in stmt
        if is_func and m.group(1) not in defined:  # type: ignore[union-attr]
            dropped.append(m.group(1))  # type: ignore[union-attr]
            continue
        kept.append(stmt)
    return "\n".join(kept) + "\n", dropped


def make_cdef(cc: list[str], include_dirs: list[str]) -> str:
    """Preprocess the headers into a cdef and append the constants."""
    stubs = str(HERE / "_cdef_stubs")
    cmd = [*cc, "-E", "-P", "-DTERN_CDEF", f"-I{stubs}", *(f"-I{d}" for d in include_dirs), str(HERE / "_cdef.h")]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    names: list[str] = []
    for header in HEADERS:
        for name in _DEFINE.findall(find_header(header, include_dirs).read_text()):
            if name not in names:
                names.append(name)
    defines = "\n".join(f"#define {n} ..." for n in names)
    return f"{out}\n{defines}\n"


def build(cc: list[str], include_dirs: list[str], out: Path, nm: str = "nm", libs: list[str] | None = None) -> None:
    """Write the extension's C source to ``out``."""
    import cffi

    cdef = make_cdef(cc, include_dirs)
    dropped: list[str] = []
    if libs:
        body, _, defines = cdef.partition("\n#define ")
        body, dropped = drop_undefined(body, defined_symbols(nm, libs))
        cdef = body + ("\n#define " + defines if defines else "")
    ffibuilder = cffi.FFI()
    ffibuilder.cdef(cdef)
    note = f"/* not in the libraries yet, left out of the binding: {', '.join(dropped) or 'none'} */\n"
    ffibuilder.set_source(MODULE, note + "".join(f'#include "{h}"\n' for h in HEADERS))
    tmp = out.with_suffix(out.suffix + ".tmp")
    ffibuilder.emit_c_code(str(tmp))
    # Only touch the output when it changed, so rebuilds stay incremental.
    if out.exists() and out.read_bytes() == tmp.read_bytes():
        tmp.unlink()
    else:
        os.replace(tmp, out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"), help="C compiler (may hold arguments)")
    ap.add_argument("--out", required=True, type=Path, help="C file to write")
    ap.add_argument("-I", dest="include", action="append", default=[], help="include directory")
    ap.add_argument("--nm", default="nm", help="nm program, to list what the libraries define")
    ap.add_argument("--lib", action="append", default=[], help="static library the extension links (repeatable)")
    args = ap.parse_args(argv)
    build(shlex.split(args.cc), args.include, args.out, args.nm, args.lib)
    return 0


if __name__ == "__main__":
    sys.exit(main())
