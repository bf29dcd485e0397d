"""The TOML parser: the standard library's ``tomllib`` (Python 3.11+) or its backport
``tomli`` (the same API) on older Pythons. Import ``tomllib`` from here; read a TOML file
given by the user (a lock, a pyproject.toml) with :func:`load_toml_file`.

The ``tomllib`` exported here is that module's API (``load``, ``loads``,
``TOMLDecodeError``) with one difference: a document nested deeper than the parser's
recursion allows (``a = [[[[...`` 100,000 deep) raises :class:`TOMLDecodeError` like any
other malformed document, instead of ``RecursionError``, so every caller that reports a
malformed file reports this one too.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Any, Callable

from poetry_wheelguard.errors import WheelguardError

if sys.version_info >= (3, 11):
    import tomllib as _tomllib
else:  # Python < 3.11
    import tomli as _tomllib


class TomlNestingError(_tomllib.TOMLDecodeError):
    """A TOML document nested too deeply to be parsed (a malformed document)."""

    def __init__(self, msg: str) -> None:
        ValueError.__init__(self, msg)  # not TOMLDecodeError's (msg, doc, pos) signature


_NESTING = "nested too deeply (arrays or inline tables inside each other)"


class _Toml:
    """``tomllib``'s API; deep nesting raises :class:`TomlNestingError`."""

    TOMLDecodeError = _tomllib.TOMLDecodeError

    @staticmethod
    def loads(text: str, *, parse_float: Callable[[str], Any] = float) -> dict[str, Any]:
        """:func:`tomllib.loads`; raises ``TOMLDecodeError`` for any malformed document."""
        try:
            return _tomllib.loads(text, parse_float=parse_float)
        except RecursionError as exc:
            raise TomlNestingError(_NESTING) from exc

    @staticmethod
    def load(fh: IO[bytes], *, parse_float: Callable[[str], Any] = float) -> dict[str, Any]:
        """:func:`tomllib.load`; raises ``TOMLDecodeError`` for any malformed document."""
        try:
            return _tomllib.load(fh, parse_float=parse_float)
        except RecursionError as exc:
            raise TomlNestingError(_NESTING) from exc


tomllib = _Toml

__all__ = ["TomlNestingError", "load_toml_file", "tomllib"]


def load_toml_file(path: Path, text: str | None = None, fix: str = "") -> dict[str, Any]:
    """The TOML document of the file at ``path`` (or of ``text``, read from it).

    Raises:
        WheelguardError: the file cannot be read (its OS reason), is not a regular file
            (:func:`~poetry_wheelguard.inputs.read_input_text`), or is not valid TOML
            ("corrupt or truncated", the parser's reason, deep nesting included, then
            ``fix``: what to do); both name the file.
    """
    from poetry_wheelguard.inputs import read_input_text

    try:
        # a regular file only: a FIFO or /dev/zero named as a lock would block or never end
        return tomllib.loads(read_input_text(path, "file") if text is None else text)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise WheelguardError(f"cannot read the file ({reason})", filename=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise WheelguardError(f"not valid TOML, corrupt or truncated ({exc})"
                              + (f"; {fix}" if fix else ""), filename=str(path)) from exc
