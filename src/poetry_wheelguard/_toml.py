"""The TOML parser: the standard library's ``tomllib`` (Python 3.11+) or its backport
``tomli`` (the same API) on older Pythons. Import ``tomllib`` from here.

The ``tomllib`` exported here is that module's API (``load``, ``loads``,
``TOMLDecodeError``) with one difference: a document nested deeper than the parser's
recursion allows (``a = [[[[...`` 100,000 deep) raises :class:`TOMLDecodeError` like any
other malformed document, instead of ``RecursionError``, so every caller that reports a
malformed file reports this one too.
"""

from __future__ import annotations

import sys
from typing import IO, Any, Callable

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

__all__ = ["TomlNestingError", "tomllib"]
