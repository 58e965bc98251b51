"""Typed exceptions for every error code of Tern's C libraries.

The one error list lives in C (``stack/include/tern/errors.h``, an X-macro
that names the Python class of each code). At import, this module walks that
list through the extension and maps every code to its class; a class the list
names that is not defined below is created as a subclass of :class:`TernError`.

Every exception carries ``code`` (the negative C code, or None for errors
raised by Python-side checks) and ``error_name`` (``"UNKNOWN_NODE"``).
"""

from __future__ import annotations

from typing import NoReturn


class TernError(Exception):
    """Base class of every error pyharness raises."""

    code: int | None = None
    error_name: str | None = None

    def __init__(self, message: str, code: int | None = None, error_name: str | None = None):
        super().__init__(message)
        self.code = code
        self.error_name = error_name


class ConfigError(TernError, ValueError):
    """Invalid configuration: a bad value, an unknown node, port, link or unit."""


class ResourceError(TernError):
    """Out of memory, buffers or pool space."""


class TernIOError(TernError, OSError):
    """A file (a capture) could not be opened or written."""


class LivelockError(TernError):
    """A node asked to run again at the same instant without making progress, or sent an
    unbounded number of frames at one instant; the message names the node and the time."""


class FrameError(TernError):
    """A frame is too short, too long, truncated or malformed."""


class EmptyError(TernError):
    """Nothing to receive."""


class NetworkError(TernError):
    """A network-level failure reported by the stack (no route, refused, reset...)."""


class WouldBlockError(TernError):
    """A non-blocking operation could not proceed now."""


class StateError(TernError):
    """The operation is not allowed in the object's state (for example after close)."""


def hide_from_traceback(excinfo: object) -> bool:
    """pytest's ``__tracebackhide__`` for pyharness's modules (each sets it at module level).

    A test that fails on one of our errors (a :class:`TernError`, or an
    ``AssertionError`` such as a failed expectation or golden check) shows
    the test's own line and our message, not the library frames in between.
    Any other exception is a bug in pyharness: its frames stay visible.
    ``pytest --fulltrace`` shows everything.
    """
    errisinstance = getattr(excinfo, "errisinstance", None)
    return bool(errisinstance and errisinstance((TernError, AssertionError)))


__tracebackhide__ = hide_from_traceback


# code -> (class, symbolic name, generic message); filled from the C list below.
_BY_CODE: dict[int, tuple[type[TernError], str, str]] = {}


def _load_table() -> None:
    from ._lib import ffi, lib

    code = 0
    while True:
        pyclass = lib.tern_error_pyclass(code)
        if pyclass == ffi.NULL:
            break
        cls_name = ffi.string(pyclass).decode()
        cls = globals().get(cls_name)
        if not (isinstance(cls, type) and issubclass(cls, TernError)):
            cls = type(cls_name, (TernError,), {"__doc__": f"Tern error class {cls_name}."})
            globals()[cls_name] = cls
            __all__.append(cls_name)
        name = ffi.string(lib.tern_error_name(code)).decode()
        text = ffi.string(lib.tern_strerror(code)).decode()
        _BY_CODE[code] = (cls, name, text)
        code -= 1


def error_class(code: int) -> type[TernError]:
    """The exception class that stands for a C error code (TernError if unknown)."""
    entry = _BY_CODE.get(code)
    return entry[0] if entry else TernError


def error_name(code: int) -> str:
    """The symbolic name of a C error code ("UNKNOWN_NODE"), or "ERROR_<code>"."""
    entry = _BY_CODE.get(code)
    return entry[1] if entry else f"ERROR_{code}"


def make_error(code: int, message: str = "", context: str = "") -> TernError:
    """Build the exception for ``code``.

    ``message`` is the detailed C message (``sim_last_error()``, naming the
    parameter and the value); when empty the generic text of the code is used.
    ``context`` (what the Python call was doing) is prefixed.
    """
    entry = _BY_CODE.get(code)
    cls = entry[0] if entry else TernError
    text = message or (entry[2] if entry else f"error {code}")
    if context:
        text = f"{context}: {text}"
    return cls(text, code=code, error_name=entry[1] if entry else None)


def raise_error(code: int, message: str = "", context: str = "") -> NoReturn:
    """Raise the exception for a non-zero C error code (see :func:`make_error`)."""
    raise make_error(code, message, context)


__all__ = [
    "TernError",
    "ConfigError",
    "ResourceError",
    "TernIOError",
    "LivelockError",
    "FrameError",
    "EmptyError",
    "NetworkError",
    "WouldBlockError",
    "StateError",
    "error_class",
    "error_name",
    "make_error",
    "raise_error",
    "hide_from_traceback",
]

_load_table()
