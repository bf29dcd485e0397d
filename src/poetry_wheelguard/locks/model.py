"""The locked-package model every lock reader returns, whatever the lock's format.

A reader (``locks/poetry.py``, ``locks/uv.py``, ``locks/pylock.py``) turns its format
into a :class:`Lock`: the packages, each with its files (file
name, URL, sha256), its dependencies (name, constraint, PEP 508 markers, extras), its
groups and its environment markers, plus the project's roots, extras and groups. Planning
(:mod:`poetry_wheelguard.planning`) reads nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from poetry_wheelguard.models import Candidate, NormalizedName

LockFormat = Literal["poetry.lock", "uv.lock", "pylock.toml"]
"""The lock formats read: poetry.lock 2.0/2.1, uv.lock version 1, PEP 751 pylock.toml 1.x."""

FIRST_PARTY_SOURCES = frozenset({"directory", "git", "file", "url"})
"""Source types of a package built from a local directory, a VCS checkout, a local file
or a URL (not a release of an index)."""


@dataclass(frozen=True)
class LockedDependency:
    """One dependency edge of a locked package (one constraint of it), or one direct
    dependency of the project (a root).

    Attributes:
        name: the dependency's PEP 503 normalized name.
        constraint: its version constraint as the lock writes it (PEP 440, or Poetry's
            ``^``/``~``/``||`` forms; ``*`` for any).
        markers: the PEP 508 marker of the edge; ``None`` = always.
        optional: followed only when a requested extra names it.
        extras: the extras asked of the dependency.
        group: a root's dependency group (PEP 503 normalized: ``main``, ``dev``, or a
            declared group's name); ``main`` for a package's own dependencies.
        specifier: ``constraint`` as a PEP 440 specifier set (``^0.25`` ->
            ``>=0.25,<0.26``), ``""`` for any version or a constraint PEP 440 cannot
            express (Poetry's ``||``); the reader fills it for the roots (the hints name
            versions inside it: :attr:`~poetry_wheelguard.models.Selection.specifier`).
        extra: the package's own extra that brings the (optional) edge in, when the lock
            records edges per extra (uv.lock ``[package.optional-dependencies]``);
            ``None`` otherwise (poetry.lock names them in ``LockedPackage.extras``).
    """

    name: NormalizedName
    constraint: str
    markers: str | None
    optional: bool
    extras: tuple[str, ...]
    group: str = "main"
    specifier: str = ""
    extra: str | None = None


@dataclass(frozen=True)
class LockedPackage:
    """One locked package (one release of one project).

    Attributes:
        files: the release's files; each :class:`~poetry_wheelguard.models.Candidate`
            has its file name and, when the lock records them, URL and sha256.
        groups: the dependency groups the package belongs to (``main`` by default).
        markers: the environments it installs in: one PEP 508 marker, or
            ``{group: marker}``; ``None`` = always (or: the lock tells only by its edges).
        extras: the package's own extras, ``{extra: (PEP 508 requirements, ...)}``.
        source_type: ``legacy``, ``directory``, ``git``, ``file``, ``url`` or ``None``
            (the default index); uv.lock's ``registry`` for a release of a named index
            (its ``editable``/``directory`` read as ``directory``, ``path`` as ``file``).
        source_url: the index or the first-party source's URL (credentials removed).
    """

    name: NormalizedName
    version: str
    files: tuple[Candidate, ...]
    groups: tuple[str, ...]
    markers: str | dict[str, str] | None
    dependencies: tuple[LockedDependency, ...]
    extras: dict[str, tuple[str, ...]]
    source_type: str | None
    source_url: str

    @property
    def first_party(self) -> bool:
        """Built from its source (:data:`FIRST_PARTY_SOURCES`), not installed from an
        index's file."""
        return self.source_type in FIRST_PARTY_SOURCES


@dataclass(frozen=True)
class Lock:
    """A parsed lock and, when the format keeps it beside the lock, its project's roots.

    Attributes:
        path: the lock file, as given.
        format: the lock's format (:data:`LockFormat`).
        lock_version: the format's own version (poetry.lock: ``2.0``, ``2.1``; uv.lock:
            ``1 revision 3``; pylock.toml: ``1.0``).
        packages: the locked packages, in lock order.
        roots: the project's direct dependencies, each with its group; empty when the
            lock and its project do not tell.
        extras: the project's own extras, ``{normalized extra: (project names, ...)}``.
        declared_groups: the dependency groups the project declares (normalized;
            ``main`` included), or ``None`` when they cannot be read.
        created_by: the tool that wrote the lock, when the format says (pylock.toml
            ``created-by``); ``""`` otherwise.
        document: the format's validated document where selection runs on it (pylock.toml:
            the ``packaging.pylock.Pylock`` that ``Pylock.select`` is called on); ``None``
            for the other formats.
    """

    path: str
    format: LockFormat
    lock_version: str
    packages: tuple[LockedPackage, ...]
    roots: tuple[LockedDependency, ...] = ()
    extras: Mapping[str, tuple[NormalizedName, ...]] = field(default_factory=dict)
    declared_groups: frozenset[str] | None = None
    created_by: str = ""
    document: Any = field(default=None, compare=False, repr=False)
