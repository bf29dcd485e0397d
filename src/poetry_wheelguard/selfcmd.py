"""How to start this guard again in a child process (the post-install verify).

An installed guard runs as ``python -m poetry_wheelguard``; the single-file guard
(``pip-guard.pyz``, a PEP 441 zip application built by scripts/build_pyz.py) is not on
the child's ``sys.path``, so the child runs the archive itself: ``python pip-guard.pyz``.
No ``PYTHONPATH`` is set either way, so nothing of the guard reaches pip's own children.

:func:`isolated_guard_command` starts the child isolated (``-I -S``: no ``site``, so no
``.pth`` file of the environment just installed runs; no ``PYTHON*`` variable, no user site,
no current directory on ``sys.path``): the directories the guard and its dependencies were
imported from are put on ``sys.path`` by the command itself, which runs no ``.pth`` file.
:func:`child_environment` is the clean environment it runs in.
"""

from __future__ import annotations

import os
import sys
import zipimport
from collections.abc import Mapping

import poetry_wheelguard


def guard_command() -> list[str]:
    """The argv prefix that runs ``pip-guard`` with this interpreter: ``[sys.executable,
    ARCHIVE]`` when this package was imported from a zip archive (:mod:`zipimport`),
    else ``[sys.executable, "-m", "poetry_wheelguard"]``."""
    spec = poetry_wheelguard.__spec__
    loader = spec.loader if spec is not None else None
    if isinstance(loader, zipimport.zipimporter):
        return [sys.executable, loader.archive]
    return [sys.executable, "-m", "poetry_wheelguard"]


# What the verify child imports: the guard and its runtime dependencies (rich only on a
# terminal; tomli on Python < 3.11).
_IMPORTS = ("poetry_wheelguard", "packaging", "elftools", "rich", "markdown_it", "mdurl",
            "pygments", "tomli", "typing_extensions")

_BOOT = ("import sys; sys.path[:0] = {paths!r}; "
         "from poetry_wheelguard.cli import main; sys.exit(main())")


def import_roots() -> list[str]:
    """The ``sys.path`` entries the guard and its dependencies were found in, in that order
    and each once: the zip archive of the single-file guard, else each package's parent
    directory (a site-packages directory, or ``src`` of an editable install)."""
    spec = poetry_wheelguard.__spec__
    loader = spec.loader if spec is not None else None
    if isinstance(loader, zipimport.zipimporter):
        return [loader.archive]
    roots: list[str] = []
    for name in _IMPORTS:
        root = _root_of(name)
        if root is not None and root not in roots:
            roots.append(root)
    return roots


def _root_of(name: str) -> str | None:
    """The ``sys.path`` entry top-level module ``name`` comes from: an imported module's
    ``__file__``, else the first ``sys.path`` directory (not the current one) holding
    ``name/`` or ``name.py``. Looked up on disk, not through the import system: pip 26
    warns about any import (and any finder lookup) after it installed, and this runs after
    the install."""
    module = sys.modules.get(name)
    file = getattr(module, "__file__", None)
    if isinstance(file, str):
        here = os.path.dirname(os.path.abspath(file))
        return os.path.dirname(here) if hasattr(module, "__path__") else here
    for entry in sys.path:
        if not entry:  # the current directory is never put on the child's path
            continue
        base = os.path.abspath(entry)
        if os.path.isdir(os.path.join(base, name)) or \
                os.path.isfile(os.path.join(base, name + ".py")):
            return base
    return None


def isolated_guard_command() -> list[str]:
    """The argv prefix that runs ``pip-guard`` with this interpreter, isolated:
    ``[sys.executable, "-I", "-S", "-c", BOOT]``, where ``BOOT`` puts
    :func:`import_roots` first on ``sys.path`` and runs :func:`poetry_wheelguard.cli.main`.
    ``-S`` skips the ``site`` module, so no ``.pth`` file runs (CPython's ``site`` is what
    executes their ``import`` lines; a directory put on ``sys.path`` by hand runs none)."""
    return [sys.executable, "-I", "-S", "-c", _BOOT.format(paths=import_roots())]


CHILD_ENV_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "XDG_CACHE_HOME",
                  "LD_LIBRARY_PATH")
"""The variables a guard child inherits, besides ``WHEELGUARD_*`` (its configuration):
where programs, libraries and the cache are found, and the locale. No ``PYTHON*``, no
``VIRTUAL_ENV``, no ``PIP_*``."""


def child_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The clean environment of a guard child: :data:`CHILD_ENV_KEEP` and ``WHEELGUARD_*``
    of ``environ`` (default ``os.environ``), except ``WHEELGUARD_REPORT`` (the child is
    given its own ``--report``)."""
    env = os.environ if environ is None else environ
    return {k: v for k, v in env.items()
            if k in CHILD_ENV_KEEP or (k.startswith("WHEELGUARD_") and k != "WHEELGUARD_REPORT")}
