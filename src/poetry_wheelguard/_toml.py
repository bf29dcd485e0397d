"""The TOML parser: the standard library's ``tomllib`` (Python 3.11+) or its backport
``tomli`` (the same API) on older Pythons. Import ``tomllib`` from here."""

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python < 3.11
    import tomli as tomllib

__all__ = ["tomllib"]
