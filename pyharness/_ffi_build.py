"""Generate the C source of the CFFI extension ``pyharness._ternffi``.

The cdef is made from the public C headers themselves (the pymunk way): the C
preprocessor expands ``_cdef.h`` with ``TERN_CDEF`` defined, which makes the
headers skip their system includes, and the object-like ``SIM_*``/``TERN_*``
macros that ``-E`` drops are appended as ``#define NAME ...`` lines, whose
values cffi then takes from the compiled C (API mode).

Usage (from pyharness/CMakeLists.txt)::

    python _ffi_build.py --cc CC --out OUT.c -I DIR [-I DIR ...]
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


def make_cdef(cc: list[str], include_dirs: list[str]) -> str:
    """Preprocess the headers into a cdef and append the constants."""
    cmd = [*cc, "-E", "-P", "-DTERN_CDEF", *(f"-I{d}" for d in include_dirs), str(HERE / "_cdef.h")]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    names: list[str] = []
    for header in ("tern/errors.h", "tern/sim.h"):
        for name in _DEFINE.findall(find_header(header, include_dirs).read_text()):
            if name not in names:
                names.append(name)
    defines = "\n".join(f"#define {n} ..." for n in names)
    return f"{out}\n{defines}\n"


def build(cc: list[str], include_dirs: list[str], out: Path) -> None:
    """Write the extension's C source to ``out``."""
    import cffi

    ffibuilder = cffi.FFI()
    ffibuilder.cdef(make_cdef(cc, include_dirs))
    ffibuilder.set_source(MODULE, '#include "tern/errors.h"\n#include "tern/sim.h"\n')
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
    args = ap.parse_args(argv)
    build(shlex.split(args.cc), args.include, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
