"""PEP 751 ``pylock.toml`` / ``pylock.<name>.toml`` read through :mod:`packaging.pylock`
(packaging 26.1+), into the format-neutral :class:`~poetry_wheelguard.locks.model.Lock`;
which packages install on a target, and from which file (:func:`installs_for`).

``Pylock.from_dict`` validates the file (``lock-version`` 1.x, the PEP's required keys and
types). The selection is ``Pylock.select`` with the target's marker environment and
supported tags given explicitly (the PEP 751 installation steps, numbered in packaging's
own code), run one package at a time so that one package without a file for the target is
reported as that package's finding rather than failing the whole lock. ``select`` falls
back silently to the sdist when no wheel matches: that sdist is what a PEP 751 installer
builds, and the plan reports it (``SDIST_BUILD``), it is never hidden.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from poetry_wheelguard._toml import load_toml_file
from poetry_wheelguard.distfiles import normalize
from poetry_wheelguard.errors import ConfigError, WheelguardError
from poetry_wheelguard.locks.model import Lock, LockedPackage
from poetry_wheelguard.markers import marker_environment
from poetry_wheelguard.models import Candidate
from poetry_wheelguard.report import redact_url
from poetry_wheelguard.targets import Target

PYLOCK_NAME = re.compile(r"^pylock\.([^.]+\.)?toml$")
"""PEP 751 file names: ``pylock.toml`` or ``pylock.<name>.toml``."""

PYLOCK_VERSIONS = "1.x"


def is_pylock_name(path: str | Path) -> bool:
    """True for ``pylock.toml`` and ``pylock.<name>.toml`` (PEP 751 "File Name")."""
    return bool(PYLOCK_NAME.match(Path(path).name))


def _pylock_module() -> Any:
    try:
        from packaging import pylock
    except ImportError as exc:  # packaging < 26.1
        import packaging

        raise WheelguardError(
            f"reading pylock.toml needs packaging 26.1 or newer (this is "
            f"{packaging.__version__}); pip install -U packaging") from exc
    return pylock


def _one_line(exc: Exception) -> str:
    """packaging's message on one line: a marker or specifier error's first line (its
    caret lines dropped) with the key it names (``in 'packages[0].marker'``)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()] or [type(exc).__name__]
    where = lines[-1][lines[-1].find(" in '"):] if len(lines) > 1 and " in '" in lines[-1] \
        else ""
    return lines[0] + where


def parse_pylock(data: Mapping[str, Any], path: str) -> Lock:
    """Validate a pylock.toml's TOML ``data`` with ``Pylock.from_dict``; the packages into
    the model (each package's wheels then sdist as its files; ``extras`` and
    ``dependency-groups`` as the project's), the ``Pylock`` as the lock's ``document``.

    Raises:
        WheelguardError: a ``lock-version`` other than 1.x (one line: the file, the
            version found, the versions understood) or any PEP 751 violation packaging
            reports (``PylockValidationError``, with the key it names).
    """
    pylock = _pylock_module()
    version = str(data.get("lock-version", ""))
    if not version.startswith("1."):
        raise WheelguardError(
            f"pylock.toml lock-version {version or 'missing'} is not understood "
            f"({PYLOCK_VERSIONS} is, PEP 751)", filename=path)
    try:
        doc = pylock.Pylock.from_dict(dict(data))
    except (pylock.PylockValidationError, pylock.PylockUnsupportedVersionError) as exc:
        raise WheelguardError(f"not a valid PEP 751 lock ({_one_line(exc)})",
                              filename=path) from exc
    packages = tuple(_package(p) for p in doc.packages)
    return Lock(path, "pylock.toml", version, packages,
                extras={normalize(str(e)): () for e in doc.extras or ()},
                declared_groups=frozenset(normalize(str(g))
                                          for g in doc.dependency_groups or ()),
                created_by=str(data.get("created-by") or ""), document=doc)


def read_pylock(path: str | Path) -> Lock:
    """Read and validate the pylock.toml at ``path`` (:func:`parse_pylock`).

    Raises:
        WheelguardError: unreadable, not TOML (truncated), or as :func:`parse_pylock`.
    """
    p = Path(path)
    data = load_toml_file(p, fix="write the lock again")
    return parse_pylock(data, str(p))


def _candidate(dist: Any) -> Candidate:
    url = str(getattr(dist, "url", None) or getattr(dist, "path", None) or "")
    name = getattr(dist, "name", None) or url.rstrip("/").rsplit("/", 1)[-1]
    hashes = getattr(dist, "hashes", None) or {}
    sha = hashes.get("sha256")
    return Candidate(filename=str(name), url=redact_url(url),
                     sha256=str(sha).lower() if sha else None)


def _files(package: Any) -> tuple[Candidate, ...]:
    files = [_candidate(w) for w in package.wheels or ()]
    if package.sdist is not None:
        files.append(_candidate(package.sdist))
    return tuple(files)


def _package(package: Any) -> LockedPackage:
    """A ``packaging.pylock.Package`` in the model: a registry release (``index``), or a
    first-party VCS checkout, directory or archive (``source_url`` its URL or path)."""
    name = normalize(str(package.name))
    first = package.vcs or package.directory or package.archive
    source_type: str | None = None
    source_url = redact_url(str(package.index or ""))
    if first is not None:
        source_type = ("git" if package.vcs is not None
                       else "directory" if package.directory is not None else "url")
        source_url = redact_url(str(getattr(first, "url", None) or getattr(first, "path", None)
                                    or name))
    return LockedPackage(name=name, version=str(package.version or ""),
                         files=_files(package), groups=("main",),
                         markers=str(package.marker) if package.marker else None,
                         dependencies=(), extras={}, source_type=source_type,
                         source_url=source_url)


def installs_for(lock: Lock, target: Target, extras: Sequence[str] = (),
                 groups: Sequence[str] = (), python_full_version: str | None = None,
                 ) -> list[tuple[LockedPackage, Candidate | None]]:
    """The packages a PEP 751 installer installs from ``lock`` on ``target`` (lock order),
    each with the file it installs from.

    ``Pylock.select(environment=..., tags=...)`` with the target's marker environment and
    its supported tags, once for the lock (``requires-python``, ``environments``, unknown
    extras and groups: one line) and then per package: a package whose markers do not hold
    is left out; one with no file for the target has ``None`` (a lock that records one
    file, as ``pip lock`` does for the platform it ran on, planned for another target);
    VCS, directory and archive packages are first party (their source). ``groups`` empty:
    the lock's default groups. ``python_full_version`` (a real interpreter's ``X.Y.Z``)
    replaces the target's ``X.Y.0`` in the marker environment: ``uv pip compile`` writes
    ``requires-python = ">=X.Y.Z"`` for the interpreter it ran for.

    Raises:
        ConfigError: an extra or dependency group the lock does not declare, or a target
            the lock's ``requires-python``/``environments`` exclude.
    """
    pylock = _pylock_module()
    doc = lock.document
    env = marker_environment(target)
    if python_full_version:
        env["python_full_version"] = python_full_version
    kwargs: dict[str, Any] = {"environment": env, "tags": list(target.tags),
                              "extras": list(extras)}
    if groups:
        kwargs["dependency_groups"] = list(groups)
    try:
        list(dataclasses.replace(doc, packages=[]).select(**kwargs))
    except pylock.PylockSelectError as exc:
        raise ConfigError(f"{_one_line(exc)} (target {target.name})",
                          filename=lock.path) from exc
    out: list[tuple[LockedPackage, Candidate | None]] = []
    for package, pkg in zip(doc.packages, lock.packages):
        one = dataclasses.replace(doc, packages=[package])
        try:
            picked = list(one.select(**kwargs))
        except pylock.PylockSelectError:
            out.append((pkg, None))
            continue
        if not picked:
            continue  # its marker does not hold on the target
        dist = picked[0][1]
        if isinstance(dist, (pylock.PackageWheel, pylock.PackageSdist)):
            out.append((pkg, _candidate(dist)))
        else:  # PackageVcs / PackageDirectory / PackageArchive
            out.append((pkg, Candidate(filename=pkg.source_url, url=pkg.source_url)))
    return out
