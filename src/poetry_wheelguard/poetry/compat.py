"""The only module that reads Poetry's and cleo's private or version-dependent names.

(The four the plugin needs at activation - ``running_poetry_version``, ``version_tuple``,
``escape_markup``, ``is_self_command`` - are defined in :mod:`poetry_wheelguard.poetry`
itself, so that activation imports no further module, and re-exported here.)

:data:`NAMES` lists each with the Poetry versions that have it and the fallback used where
it is missing; the functions below read Poetry's objects by duck typing (no Poetry import
at module level) into plain values. :mod:`.hooks`, :mod:`.plugin` and :mod:`.commands`
import from here, and this module imports neither of them (no import cycle) and nothing
heavy at import time (the plugin imports it for every ``poetry`` command).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from poetry_wheelguard.poetry import (
    escape_markup,
    is_self_command,
    running_poetry_version,
    version_tuple,
)

__all__ = ["NAMES", "InstallerParts", "LinkFacts", "PoetryName", "escape_markup",
           "installer_parts", "is_dry_run", "is_self_command", "link_facts", "lock_is_fresh",
           "lock_path", "other_release_files", "project_dir_of", "repository_for",
           "repository_url", "running_poetry_version", "version_tuple"]


@dataclass(frozen=True)
class PoetryName:
    """A private or version-dependent Poetry/cleo name read here.

    Attributes:
        label: ``Executor._chooser``.
        poetry: the Poetry versions that have it (PEP 440 specifier, ``""`` for 1.8 and 2.x).
        fallback: what is used where it is missing.
    """

    label: str
    poetry: str
    fallback: str


NAMES = (
    PoetryName("InstallerCommand._installer", "", "the command is not guarded"),
    PoetryName("Installer.executor", ">=2", "Installer._executor"),
    PoetryName("Installer._executor", "<2", "the command cannot be guarded (error)"),
    PoetryName("Executor._chooser", "", "the command cannot be guarded (error)"),
    PoetryName("Executor._dry_run", "", "not a dry run"),
    PoetryName("InstallerCommand._env", "", "Installer._env"),
    PoetryName("Installer._env", "", "no environment: the running interpreter is the target"),
    PoetryName("Chooser._get_repository", ">=2", "Poetry 1.8's rule over Chooser._pool"),
    PoetryName("Chooser._pool", "", "the package is judged on the chosen file alone"),
    PoetryName("LegacyRepository._base_url", "", "Repository.url"),
    PoetryName("Poetry.pyproject_path", ">=2", "Poetry.file.path"),
    PoetryName("Link.url_without_fragment", "", "Link.url"),
    PoetryName("Link.hashes", ">=1.8", "Link.hash_name/Link.hash"),
    PoetryName("poetry.__version__.__version__", "", "importlib.metadata.version('poetry')"),
    PoetryName("cleo.formatters.formatter.Formatter.escape", "", "'<' escaped by hand"),
)


@dataclass(frozen=True)
class LinkFacts:
    """What the guard needs of one Poetry ``Link`` (``poetry.core.packages.utils.link``).

    Attributes:
        filename: the file name; url: the URL without fragment, credentials removed;
        sha256: the index's sha256 (URL fragment or PEP 691 ``hashes``), if any;
        yanked: PEP 592 flag; requires_python: ``data-requires-python``, if any.
    """

    filename: str
    url: str = ""
    sha256: Optional[str] = None
    yanked: bool = False
    requires_python: Optional[str] = None


def link_facts(link: Any) -> LinkFacts:
    """Read a Poetry ``Link`` (any Poetry >= 1.8) into :class:`LinkFacts`."""
    from poetry_wheelguard.report import redact_url

    hashes = getattr(link, "hashes", None) or {}
    sha = hashes.get("sha256") if isinstance(hashes, Mapping) else None
    if sha is None and getattr(link, "hash_name", None) == "sha256":
        sha = getattr(link, "hash", None)
    url = str(getattr(link, "url_without_fragment", None) or getattr(link, "url", ""))
    return LinkFacts(
        filename=str(link.filename),
        url=redact_url(url),
        sha256=str(sha).lower() if sha else None,
        yanked=bool(getattr(link, "yanked", False)),
        requires_python=getattr(link, "requires_python", None) or None,
    )


@dataclass(frozen=True)
class InstallerParts:
    """What :func:`installer_parts` found of a command's installer (``None``: missing)."""

    installer: Any
    executor: Any
    chooser: Any
    env: Any


def installer_parts(command: Any) -> InstallerParts | None:
    """The command's ``Installer``, its ``Executor`` and ``Chooser`` and the project
    environment; ``None`` when the command has no installer (nothing to guard)."""
    installer = getattr(command, "_installer", None)
    if installer is None:
        return None
    executor = getattr(installer, "executor", None) or getattr(installer, "_executor", None)
    chooser = getattr(executor, "_chooser", None)
    env = getattr(command, "_env", None) or getattr(installer, "_env", None)
    return InstallerParts(installer, executor, chooser, env)


def is_dry_run(executor: Any) -> bool:
    """``Executor._dry_run``."""
    return bool(getattr(executor, "_dry_run", False))


def repository_for(chooser: Any, package: Any) -> Any:
    """The repository Poetry's Chooser reads ``package``'s links from.

    Poetry 2.x has ``Chooser._get_repository``; Poetry 1.8 inlines the same rule in
    ``_get_links``: the package's named source, else the first repository when there is no
    PyPI in the pool, else PyPI. ``None`` when none can be found.
    """
    getter = getattr(chooser, "_get_repository", None)
    try:
        if callable(getter):
            return getter(package)
        pool = chooser._pool
        if getattr(package, "source_type", None):
            return pool.repository(package.source_reference)
        if not pool.has_repository("pypi"):
            return pool.repositories[0]
        return pool.repository("pypi")
    except Exception:  # an unknown Poetry layout: judged on the chosen file alone
        return None


def repository_url(repository: Any) -> str:
    """``Repository.url`` (else ``LegacyRepository._base_url``), ``""`` when neither."""
    return str(getattr(repository, "url", "") or getattr(repository, "_base_url", ""))


def other_release_files(repository: Any, package: Any) -> list[str]:
    """File names of every release on the project's index page (``get_page(name).links``),
    for the hints; empty when the repository has no such page (best effort)."""
    get_page = getattr(repository, "get_page", None)
    if not callable(get_page):
        return []
    try:
        # PEP 592: yanked files are no hint (an all-yanked release then gives none)
        return [str(link.filename) for link in get_page(package.name).links
                if not getattr(link, "yanked", False)]
    except Exception:  # hints only: never fail an install for them
        return []


def project_dir_of(poetry: Any) -> Path:
    """The directory of the project's pyproject.toml (``Poetry.pyproject_path`` in 2.x,
    ``Poetry.file.path`` in 1.8)."""
    path = getattr(poetry, "pyproject_path", None)
    if path is None:
        path = poetry.file.path
    return Path(str(path)).parent


def lock_path(poetry: Any, project_dir: Path) -> Path:
    """``Locker.lock`` (Poetry 1.8 and 2.x), else poetry.lock beside pyproject.toml."""
    lock = getattr(getattr(poetry, "locker", None), "lock", None)
    return Path(str(lock)) if lock is not None else project_dir / "poetry.lock"


def lock_is_fresh(poetry: Any) -> bool:
    """``Locker.is_fresh()``: the lock's content hash matches pyproject.toml (True when this
    Poetry cannot tell)."""
    is_fresh = getattr(getattr(poetry, "locker", None), "is_fresh", None)
    if not callable(is_fresh):
        return True
    try:
        return bool(is_fresh())
    except Exception:  # Poetry's own error on a lock that read_lock accepted
        return True
