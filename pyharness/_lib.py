"""The compiled CFFI extension (``ffi`` and ``lib``), with a clear error when it is missing.

Nothing outside pyharness should import this module: the public API hides every C type.
"""

from __future__ import annotations

try:
    from ._ternffi import ffi, lib  # type: ignore[import-not-found]
except ImportError as exc:  # pragma: no cover - only without a build
    raise ImportError(
        "pyharness's C extension (pyharness._ternffi) is not built: run "
        "\"pip install -e '.[test]'\" (or \"make test\") from the repository root"
    ) from exc

__all__ = ["ffi", "lib"]
