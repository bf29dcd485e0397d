"""PEP 751 ``pylock.toml`` / ``pylock.<name>.toml`` read through :mod:`packaging.pylock`
(packaging 26.1+), into :class:`~.neutral.LockedRelease` per target.

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

from poetry_wheelguard.distfiles import normalize
from poetry_wheelguard.errors import ConfigError, WheelguardError
from poetry_wheelguard.locks.neutral import LockedRelease, LockInfo
from poetry_wheelguard.models import Candidate
from poetry_wheelguard.report import redact_url
from poetry_wheelguard.targets import Target

PYLOCK_NAME = re.compile(r"^pylock\.([^.]+\.)?toml$")
"""PEP 751 file names: ``pylock.toml`` or ``pylock.<name>.toml``."""

PYLOCK_VERSIONS = "1.x"


def is_pylock_name(path: str | Path) -> bool:
    """True for ``pylock.toml`` and ``pylock.<name>.toml`` (PEP 751 "File Name")."""
    return bool(PYLOCK_NAME.match(Path(path).name))


@dataclasses.dataclass(frozen=True)
class PylockFile:
    """A validated pylock.toml: ``info`` and the ``packaging.pylock.Pylock`` object."""

    info: LockInfo
    lock: Any


def _pylock_module() -> Any:
    try:
        from packaging import pylock
    except ImportError as exc:  # packaging < 26.1
        import packaging

        raise WheelguardError(
            f"reading pylock.toml needs packaging 26.1 or newer (this is "
            f"{packaging.__version__}); pip install -U packaging") from exc
    return pylock


def parse_pylock(data: Mapping[str, Any], path: str) -> PylockFile:
    """Validate a pylock.toml's TOML ``data`` with ``Pylock.from_dict``.

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
        lock = pylock.Pylock.from_dict(dict(data))
    except (pylock.PylockValidationError, pylock.PylockUnsupportedVersionError) as exc:
        raise WheelguardError(f"not a valid PEP 751 lock ({exc})", filename=path) from exc
    info = LockInfo(path, "pylock.toml", version, str(data.get("created-by") or ""))
    return PylockFile(info, lock)


def read_pylock(path: str | Path) -> PylockFile:
    """Read and validate the pylock.toml at ``path`` (:func:`parse_pylock`).

    Raises:
        WheelguardError: unreadable, not TOML (truncated), or as :func:`parse_pylock`.
    """
    from poetry_wheelguard._toml import tomllib

    p = Path(path)
    try:
        data = tomllib.loads(p.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise WheelguardError(f"cannot read the file ({reason})", filename=str(p)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise WheelguardError(f"not valid TOML, corrupt or truncated ({exc}); write the "
                              "lock again", filename=str(p)) from exc
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


def releases_for(lock: PylockFile, target: Target, extras: Sequence[str] = (),
                 groups: Sequence[str] | None = None, python_full_version: str | None = None,
                 ) -> list[LockedRelease]:
    """The packages a PEP 751 installer installs from ``lock`` on ``target`` (lock order).

    ``Pylock.select(environment=..., tags=...)`` with the target's marker environment and
    its supported tags, once for the lock (``requires-python``, ``environments``, unknown
    extras and groups: one line) and then per package: a package whose markers do not hold
    is left out; one with no file for the target has ``chosen = None`` (a lock that records
    one file, as ``pip lock`` does for the platform it ran on, planned for another target);
    VCS, directory and archive packages are first party. ``python_full_version`` (a real
    interpreter's ``X.Y.Z``) replaces the target's ``X.Y.0`` in the marker environment:
    ``uv pip compile`` writes ``requires-python = ">=X.Y.Z"`` for the interpreter it ran for.

    Raises:
        ConfigError: an extra or dependency group the lock does not declare, or a target
            the lock's ``requires-python``/``environments`` exclude.
    """
    from poetry_wheelguard.plan import marker_environment

    pylock = _pylock_module()
    env = marker_environment(target)
    if python_full_version:
        env["python_full_version"] = python_full_version
    kwargs: dict[str, Any] = {"environment": env, "tags": list(target.tags),
                              "extras": list(extras)}
    if groups is not None:
        kwargs["dependency_groups"] = list(groups)
    try:
        list(dataclasses.replace(lock.lock, packages=[]).select(**kwargs))
    except pylock.PylockSelectError as exc:
        raise ConfigError(f"{exc} (target {target.name})", filename=lock.info.path) from exc
    out: list[LockedRelease] = []
    for package in lock.lock.packages:
        name = normalize(str(package.name))
        version = str(package.version or "")
        index = redact_url(str(package.index or ""))
        one = dataclasses.replace(lock.lock, packages=[package])
        try:
            picked = list(one.select(**kwargs))
        except pylock.PylockSelectError:
            out.append(LockedRelease(name, version, _files(package), None, index))
            continue
        if not picked:
            continue  # its marker does not hold on the target
        dist = picked[0][1]
        if isinstance(dist, (pylock.PackageWheel, pylock.PackageSdist)):
            out.append(LockedRelease(name, version, _files(package), _candidate(dist), index))
        else:  # PackageVcs / PackageDirectory / PackageArchive
            where = str(getattr(dist, "url", None) or getattr(dist, "path", None) or name)
            out.append(LockedRelease(name, version, (), Candidate(filename=where, url=where),
                                     index, first_party=True, source=where))
    return out
