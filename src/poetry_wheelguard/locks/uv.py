"""uv.lock (``version = 1``, revisions 1-5) read into the format-neutral
:class:`~poetry_wheelguard.locks.model.Lock`, and the packages uv installs from it on a target.

The format (uv's ``crates/uv-resolver/src/lock/mod.rs``, ``const VERSION: u32 = 1``):
top-level ``version``, ``revision``, ``requires-python``, ``resolution-markers``; one
``[[package]]`` per locked release with ``name``, ``version``, ``source`` (``registry``,
``virtual``, ``editable``, ``directory``, ``path``, ``git``, ``url``), ``dependencies``
(``{name, version?, source?, marker?, extra?}``), ``sdist`` and ``wheels`` (``{url | path |
filename, hash = "sha256:...", size}``), ``[package.optional-dependencies]`` (extras) and
``[package.dev-dependencies]`` (dependency groups). uv 0.8.4 is the first release that writes
revision 3 (``exclude-newer-package``, uv PR 14489); uv 0.13 writes revision 5. uv itself
refuses a lock whose ``version`` is not 1 (``LockParseError::UnsupportedVersion``); this
module also refuses a revision newer than it was checked against.

The workspace's own packages (source ``virtual`` or ``editable`` that nothing depends on)
become the lock's roots: their ``dependencies`` (group ``main``), their extras' edges
(:attr:`~poetry_wheelguard.locks.model.LockedDependency.extra`) and their groups' edges; a
``virtual`` root is not installed and is not a package of the model. The walk from the
roots is :func:`poetry_wheelguard.locks.poetry.walk_roots`; the file uv takes from a
release is :func:`poetry_wheelguard.choosers.choose_like_uv`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from poetry_wheelguard._toml import load_toml_file
from poetry_wheelguard.distfiles import normalize
from poetry_wheelguard.errors import ConfigError, WheelguardError
from poetry_wheelguard.locks.model import Lock, LockedDependency, LockedPackage
from poetry_wheelguard.locks.poetry import walk_roots
from poetry_wheelguard.markers import marker_environment
from poetry_wheelguard.models import Candidate, NormalizedName
from poetry_wheelguard.report import redact_url
from poetry_wheelguard.targets import Target

UV_LOCK_VERSION = 1
UV_LOCK_REVISIONS = (0, 1, 2, 3, 4, 5)
"""Revisions understood: 0 (no ``revision`` key) up to 5, what uv 0.13 writes."""

SOURCE_KINDS = {"registry": "registry", "virtual": "virtual", "editable": "directory",
                "directory": "directory", "path": "file", "git": "git", "url": "url"}
"""uv's ``source`` keys -> the model's ``source_type`` (``virtual``: never installed)."""


def _sha256(raw: Mapping[str, Any]) -> str | None:
    value = str(raw.get("hash") or "")
    return value.split(":", 1)[1].lower() if value.startswith("sha256:") else None


def _file(raw: Any, where: str) -> Candidate:
    if not isinstance(raw, Mapping):
        raise WheelguardError(f"{where}: a file entry is not a table")
    url = str(raw.get("url") or raw.get("path") or "")
    filename = str(raw.get("filename") or url.rstrip("/").rsplit("/", 1)[-1].split("#")[0])
    if not filename:
        raise WheelguardError(f"{where}: a file entry has no url, path or filename")
    return Candidate(filename=filename, url=redact_url(url), sha256=_sha256(raw))


def _edges(raw: Any, where: str, *, group: str = "main",
           extra: str | None = None) -> tuple[LockedDependency, ...]:
    """One edge per entry: ``constraint`` ``==V`` when uv pins the version (a name locked
    at several versions), else ``*``."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise WheelguardError(f"{where}: dependencies are not an array")
    out = []
    for dep in raw:
        if not isinstance(dep, Mapping) or "name" not in dep:
            raise WheelguardError(f"{where}: a dependency has no name")
        out.append(LockedDependency(
            normalize(str(dep["name"])),
            f"=={dep['version']}" if dep.get("version") else "*",
            str(dep["marker"]) if dep.get("marker") else None,
            extra is not None, tuple(normalize(str(e)) for e in dep.get("extra") or ()),
            group=group, extra=extra))
    return tuple(out)


def _source(raw: Any) -> tuple[str, str]:
    if isinstance(raw, Mapping):
        for key in SOURCE_KINDS:
            if key in raw:
                return SOURCE_KINDS[key], redact_url(str(raw[key]))
    return "registry", ""


def _package(raw: Any, index: int
             ) -> tuple[LockedPackage, dict[NormalizedName, tuple[LockedDependency, ...]]]:
    """One ``[[package]]`` and its ``dev-dependencies`` edges by group."""
    if not isinstance(raw, Mapping) or "name" not in raw:
        raise WheelguardError(f"[[package]] #{index + 1}: no name")
    name = normalize(str(raw["name"]))
    where = f"package {name}"
    kind, source = _source(raw.get("source"))
    files = [_file(w, where) for w in raw.get("wheels") or []]
    if raw.get("sdist") is not None:
        files.append(_file(raw["sdist"], where))
    edges = list(_edges(raw.get("dependencies"), where))
    extras: dict[str, tuple[str, ...]] = {}
    for key, value in (raw.get("optional-dependencies") or {}).items():
        extra = normalize(str(key))
        these = _edges(value, where, extra=extra)
        extras[extra] = tuple(d.name for d in these)
        edges += these
    groups = {normalize(str(k)): _edges(v, where, group=normalize(str(k)))
              for k, v in (raw.get("dev-dependencies") or {}).items()}
    version = str(raw.get("version") or "")
    try:
        if version or kind == "registry":  # a workspace member's dynamic version: none
            Version(version)
    except InvalidVersion:
        raise WheelguardError(f"{where}: version {version!r} is not a PEP 440 version") \
            from None
    pkg = LockedPackage(name=name, version=version, files=tuple(files),
                        groups=("main",), markers=None, dependencies=tuple(edges),
                        extras=extras, source_type=kind, source_url=source)
    return pkg, groups


def parse_uv_lock(data: Mapping[str, Any], path: str) -> Lock:
    """A uv.lock's TOML ``data`` read into a :class:`Lock` (module docstring: roots,
    extras and groups from the workspace's own packages).

    Raises:
        WheelguardError: a ``version`` other than 1 or a revision newer than 5 (one line:
            the file, the version found, the versions understood), or a malformed entry.
    """
    version = data.get("version")
    revision = data.get("revision", 0)
    understood = (f"version {UV_LOCK_VERSION}, revisions "
                  f"{UV_LOCK_REVISIONS[1]}-{UV_LOCK_REVISIONS[-1]}")
    if version != UV_LOCK_VERSION or not isinstance(revision, int) \
            or revision not in UV_LOCK_REVISIONS:
        raise WheelguardError(
            f"uv.lock version {version!r} revision {revision!r} is not understood "
            f"({understood} are); upgrade poetry-wheelguard, or re-lock with uv 0.8.4-0.13",
            filename=path)
    parsed = []
    for i, raw in enumerate(data.get("package") or []):
        try:
            parsed.append(_package(raw, i))
        except WheelguardError as exc:
            raise WheelguardError(f"malformed uv.lock: {exc.reason}", filename=path) from exc
        except (TypeError, AttributeError, ValueError) as exc:
            raise WheelguardError(f"malformed uv.lock: [[package]] #{i + 1} ({exc})",
                                  filename=path) from exc
    depended = {d.name for p, groups in parsed
                for d in (*p.dependencies, *(e for g in groups.values() for e in g))}
    free = [(p, g) for p, g in parsed if p.name not in depended]
    members = [(p, g) for p, g in free if p.source_type in {"virtual", "directory"}] or free
    roots: list[LockedDependency] = []
    extras: dict[str, tuple[NormalizedName, ...]] = {}
    declared = {"main"}
    for pkg, groups in members:
        if pkg.source_type != "virtual":
            roots.append(LockedDependency(pkg.name, "*", None, False, ()))
        roots += pkg.dependencies
        for extra, names in pkg.extras.items():
            extras[extra] = (*extras.get(extra, ()), *(normalize(n) for n in names))
        for group, edges in groups.items():
            declared.add(group)
            roots += edges
    packages = tuple(p for p, _ in parsed if p.source_type != "virtual")
    return Lock(path, "uv.lock", f"{version} revision {revision}", packages, tuple(roots),
                extras, frozenset(declared))


def read_uv_lock(path: str | Path) -> Lock:
    """Read and parse the uv.lock at ``path`` (:func:`parse_uv_lock`).

    Raises:
        WheelguardError: unreadable, not TOML (a truncated lock), or as :func:`parse_uv_lock`.
    """
    p = Path(path)
    data = load_toml_file(p, fix="run `uv lock` again")
    return parse_uv_lock(data, str(p))


def locked_packages_for(lock: Lock, target: Target, extras: Sequence[str] = (),
                        groups: Sequence[str] = ()) -> list[LockedPackage]:
    """The packages uv installs from ``lock`` on ``target``, in lock order: the walk from
    the roots (:func:`~poetry_wheelguard.locks.poetry.walk_roots`) along the edges whose
    ``marker`` holds in the target's marker environment, the extras each edge enables, an
    edge's pinned version where a name is locked at several (uv's fork resolution).

    ``groups``: the dependency groups, ``main`` being the project's own dependencies;
    empty = every group (``uv sync --all-groups``). ``uv sync``'s default is
    ``["main", "dev"]``.

    Raises:
        WheelguardError: an invalid marker.
    """
    return walk_roots(lock, marker_environment(target), [normalize(e) for e in extras],
                      [normalize(g) for g in groups])


def member_lock(lock: Lock, name: str, extras: Sequence[str] = ()) -> Lock:
    """The lock as ``uv sync --package NAME`` installs from it: the roots become the
    workspace member ``name`` itself, with the requested ``extras`` of it, and every
    dependency-group edge of the workspace (uv syncs the member's groups; judging every
    member's is more, never less, than uv installs). The other members' own dependencies
    are left out, as uv leaves them out.

    Raises:
        ConfigError: ``name`` is not a first-party package of the lock (one line, with
            the workspace's packages).
    """
    want = normalize(name)
    if not any(p.name == want and p.first_party for p in lock.packages):
        have = ", ".join(sorted(p.name for p in lock.packages if p.first_party)) or "none"
        raise ConfigError(f"--package {name}: not a package of the workspace (its "
                          f"packages: {have})", filename=lock.path)
    roots = (LockedDependency(want, "*", None, False, tuple(normalize(e) for e in extras)),
             *(r for r in lock.roots if r.group != "main"))
    return replace(lock, roots=roots)
