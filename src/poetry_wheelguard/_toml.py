"""The TOML parser: the standard library's ``tomllib`` (Python 3.11+) or its backport
``tomli`` (the same API) on older Pythons. Import ``tomllib`` from here; read a TOML file
given by the user (a lock, a pyproject.toml) with :func:`load_toml_file`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from poetry_wheelguard.errors import WheelguardError

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python < 3.11
    import tomli as tomllib

__all__ = ["load_toml_file", "tomllib"]


def load_toml_file(path: Path, text: str | None = None, fix: str = "") -> dict[str, Any]:
    """The TOML document of the file at ``path`` (or of ``text``, read from it).

    Raises:
        WheelguardError: the file cannot be read (its OS reason), or is not valid TOML
            ("corrupt or truncated", the parser's position, then ``fix``: what to do);
            both name the file.
    """
    try:
        return tomllib.loads(path.read_text("utf-8") if text is None else text)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise WheelguardError(f"cannot read the file ({reason})", filename=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise WheelguardError(f"not valid TOML, corrupt or truncated ({exc})"
                              + (f"; {fix}" if fix else ""), filename=str(path)) from exc
