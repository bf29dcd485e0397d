"""How to start this guard again in a child process (the post-install verify).

An installed guard runs as ``python -m poetry_wheelguard``; the single-file guard
(``pip-guard.pyz``, a PEP 441 zip application built by scripts/build_pyz.py) is not on
the child's ``sys.path``, so the child runs the archive itself: ``python pip-guard.pyz``.
No ``PYTHONPATH`` is set either way, so nothing of the guard reaches pip's own children.
"""

from __future__ import annotations

import sys
import zipimport

import poetry_wheelguard

OUTSIDE: list[str] | None = None
"""Set by the bootstrap of ``pip-guard --python PATH`` (:mod:`poetry_wheelguard.pip.outside`)
in the target interpreter: the command of the guard's own interpreter, which runs the
post-install verify there instead."""


def guard_command() -> list[str]:
    """The argv prefix that runs ``pip-guard``: :data:`OUTSIDE` when set; else, with this
    interpreter, ``[sys.executable, ARCHIVE]`` when this package was imported from a zip
    archive (:mod:`zipimport`), else ``[sys.executable, "-m", "poetry_wheelguard"]``."""
    if OUTSIDE is not None:
        return list(OUTSIDE)
    spec = poetry_wheelguard.__spec__
    loader = spec.loader if spec is not None else None
    if isinstance(loader, zipimport.zipimporter):
        return [sys.executable, loader.archive]
    return [sys.executable, "-m", "poetry_wheelguard"]
