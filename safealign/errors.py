"""Exceptions a user can act on, and the one place that turns library exceptions into them.

The CLI and the stage runner print a ``SafealignError`` as one short line and exit with its code. Library
exceptions that mean "this input is bad" (PIL, safetensors, pyarrow, json, yaml, zip, OpenCV, OS errors
that name a file) are translated by ``user_error``; ``user_input(where)`` does the same around the reading
of one input, naming it, and also takes a ``ValueError`` or ``OSError`` there as a verdict on the data.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator

# A message line is cut to this many characters: a 20 MB value must not become a 20 MB error line.
MAX_LINE_CHARS = 1000
MAX_LINES = 20


class SafealignError(Exception):
    """Base class: an error whose message names what, where and what was expected."""

    exit_code = 1


class ConfigError(SafealignError):
    """params.yaml (or a CLI option) is invalid: wrong type, missing or unknown key."""

    exit_code = 2


class DataValidationError(SafealignError):
    """A Great Expectations suite failed at a stage boundary."""


class InputError(SafealignError):
    """An input file or directory is missing, empty, corrupt or of an unknown kind."""


def shorten(value: object, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters (with the full length), for echoing user values."""
    return _cut(repr(value), limit)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    tail = f"... ({len(text)} characters)"
    return text[:max(limit - len(tail), 10)] + tail


def format_error(exc: BaseException) -> str:
    """The message of ``exc`` with every line cut to ``MAX_LINE_CHARS`` and at most ``MAX_LINES`` lines."""
    lines = str(exc).splitlines() or [exc.__class__.__name__]
    out = [_cut(line, MAX_LINE_CHARS) for line in lines[:MAX_LINES]]
    if len(lines) > MAX_LINES:
        out.append(f"... and {len(lines) - MAX_LINES} more line(s)")
    return "\n".join(out)


def user_error(exc: BaseException, where: str | os.PathLike = "", data: bool = False) -> SafealignError | None:
    """The ``SafealignError`` that ``exc`` stands for, or None when it is not the user's input's fault.

    ``where`` names the input (file, option, key) in the message; ``data=True`` says the exception was
    raised while reading user data, so a plain ``ValueError`` or ``OSError`` is a verdict on that data too.
    """
    if isinstance(exc, SafealignError):
        return exc
    reason = library_reason(exc)
    if reason is None and data and isinstance(exc, (ValueError, OSError)):
        reason = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
    if reason is None:
        return None
    return InputError(f"{where}: {reason}" if str(where) else reason)


def report_error(exc: Exception, prefix: str) -> int:
    """Print a user error as ``<prefix>: error: <message>`` on stderr, return its exit code; re-raise a bug."""
    error = user_error(exc)
    if error is None:
        raise exc
    print(f"{prefix}: error: {format_error(error)}", file=sys.stderr)
    return error.exit_code


@contextlib.contextmanager
def user_input(where: str | os.PathLike) -> Iterator[None]:
    """Turn what goes wrong while reading ``where`` into an ``InputError`` naming it (bugs pass through)."""
    try:
        yield
    except SafealignError:
        raise
    except Exception as exc:
        error = user_error(exc, where, data=True)
        if error is None:
            raise
        raise error from exc


def library_reason(exc: BaseException) -> str | None:
    """What a known library exception says about the input, or None for any other exception."""
    import json
    import zipfile

    pil = sys.modules.get("PIL.Image")
    if pil is not None and isinstance(exc, (pil.DecompressionBombError, pil.DecompressionBombWarning)):
        return f"image too large, refused as a possible decompression bomb ({exc})"
    if pil is not None and isinstance(exc, pil.UnidentifiedImageError):
        return "not a readable image (unknown or corrupt format)"
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte {exc.start}: {exc.reason})"
    if isinstance(exc, zipfile.BadZipFile):
        return f"not a readable .npz/zip file ({exc})"
    if isinstance(exc, EOFError):
        return "truncated file (ended early)"
    yaml = sys.modules.get("yaml")
    if yaml is not None and isinstance(exc, yaml.YAMLError):
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        return f"not valid YAML ({at}{getattr(exc, 'problem', None) or exc})"
    if type(exc).__name__ == "SafetensorError":  # defined in the compiled safetensors_rust module
        return f"not a readable safetensors file ({exc})"
    arrow = sys.modules.get("pyarrow")
    if arrow is not None and isinstance(exc, arrow.ArrowException):
        return f"not a readable parquet/arrow file ({exc})"
    cv2 = sys.modules.get("cv2")
    if cv2 is not None and isinstance(exc, cv2.error):
        return f"not readable by OpenCV ({str(exc).strip().splitlines()[-1]})"
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror or exc.__class__.__name__} ({exc.filename})"
    return None
