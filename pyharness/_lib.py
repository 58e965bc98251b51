"""The compiled CFFI extension (``ffi`` and ``lib``), with a clear error when it is missing.

Nothing outside pyharness should import this module: the public API hides every C type.
"""

from __future__ import annotations

import os

try:
    if os.environ.get("TERN_FFI_DIR"):
        # Another build of the extension, e.g. the AddressSanitizer one of `make asan-scenarios`:
        # loaded under the same module name from the directory the variable names.
        import importlib.util
        import sys
        from pathlib import Path

        _dir = Path(os.environ["TERN_FFI_DIR"])
        _found = sorted(_dir.glob("_ternffi*.so"))
        if not _found:
            raise ImportError(f"TERN_FFI_DIR={_dir}: no _ternffi*.so there")
        _spec = importlib.util.spec_from_file_location("pyharness._ternffi", _found[0])
        assert _spec is not None and _spec.loader is not None
        _mod = importlib.util.module_from_spec(_spec)
        sys.modules["pyharness._ternffi"] = _mod
        _spec.loader.exec_module(_mod)
        ffi, lib = _mod.ffi, _mod.lib
    else:
        from ._ternffi import ffi, lib  # type: ignore[import-not-found]
except ImportError as exc:  # pragma: no cover - only without a build
    raise ImportError(
        "pyharness's C extension (pyharness._ternffi) is not built: run "
        "\"pip install -e '.[test]'\" (or \"make test\") from the repository root"
    ) from exc

__all__ = ["ffi", "lib"]
