"""``pip-guard plan``: what each package would install on each target, without installing.

    pip-guard plan --target NAME... [-r requirements.txt | PKG==VER ... | --lock poetry.lock]
                   [--index-url URL] [--extra-index-url URL]... [--find-links LOC]...
                   [--no-index] [--no-cache] [--extras NAME]... [--group NAME]...

Nothing is built or installed and no package code runs; only index pages are read
(and, for unpinned requirements, what pip's resolver reads: wheel metadata):

* **poetry.lock** (lock format 2.0 and 2.1), offline: the candidate files are the lock's
  ``files`` (with their hashes). Packages are kept for a target when their environment
  markers hold there (2.1: the package's ``markers``; 2.0: the markers of the dependency
  edges, walked from the project's roots). The file is the one Poetry's ``Chooser`` picks
  (:func:`choose_like_poetry`).
* **pinned requirements** (``==``/``===``; ``--hash`` honoured; the format ``pip freeze`` and
  pip-compile write): the index listings (:mod:`poetry_wheelguard.index`), the file pip picks
  (:func:`choose_like_pip`). A fully pinned set is planned as given (like ``--no-deps``).
* **unpinned requirements**: pip's own resolver, run for each target as
  ``python -m pip install --dry-run --quiet --report - --ignore-installed
  --only-binary=:all: --platform TAG... --python-version X.Y --implementation cp --abi cpXY``
  (wheels only, so no sdist is built to read its metadata and no package code runs; pip
  reads each wheel's metadata from PEP 658 ``.metadata`` files, or from the wheel itself on
  indexes without them); every package of that resolution not pinned by the user is then
  planned as a pinned requirement.

Findings come from :func:`poetry_wheelguard.policy.evaluate`, plus ``NO_DISTRIBUTION`` when no
file of the release installs on the target; hints name the nearest version with a wheel for
the target (:func:`~poetry_wheelguard.policy.nearest_wheel_versions`).
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import parse_wheel_filename
from packaging.version import InvalidVersion, Version

from poetry_wheelguard import exitcodes
from poetry_wheelguard.config import Config
from poetry_wheelguard.distfiles import normalize, try_classify
from poetry_wheelguard.errors import ConfigError, IndexFetchError, WheelguardError
from poetry_wheelguard.models import Candidate, NormalizedName, PackageRecord, Selection
from poetry_wheelguard.policy import (
    evaluate,
    no_distribution,
    record_for,
    verdict_for,
    version_hint,
)
from poetry_wheelguard.report import (
    VERDICT_STYLE,
    Cell,
    Report,
    check_report_path,
    print_table,
    redact_text,
    redact_url,
    render_findings,
    write_json_atomic,
)
from poetry_wheelguard.targets import Runner, Target, running_target

# --- the target's marker environment (PEP 508) --------------------------------------------

_PY_IMPL = {"cpython": "CPython", "pypy": "PyPy"}


def marker_environment(target: Target) -> dict[str, str]:
    """The PEP 508 marker environment of ``target`` (a Linux system).

    ``python_full_version`` is ``X.Y.0``, as pip takes ``--python-version X.Y``.
    """
    major, minor = target.python_version
    return {
        "implementation_name": target.implementation,
        "implementation_version": f"{major}.{minor}.0",
        "os_name": "posix",
        "platform_machine": target.machine,
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": f"{major}.{minor}.0",
        "platform_python_implementation": _PY_IMPL.get(target.implementation,
                                                       target.implementation),
        "python_version": f"{major}.{minor}",
        "sys_platform": "linux",
        "extra": "",
    }


@lru_cache(maxsize=4096)
def _marker(text: str) -> Marker:
    return Marker(text)


def marker_holds(text: str | None, env: Mapping[str, str],
                 extras: Iterable[str] = (), where: str = "") -> bool:
    """True when the PEP 508 marker ``text`` holds in ``env`` for no extra or for any of
    ``extras`` (``extra == "x"``). An empty marker always holds.

    Raises:
        WheelguardError: the marker is not valid PEP 508 (names ``where``).
    """
    if not text or not text.strip():
        return True
    try:
        marker = _marker(text)
        return any(marker.evaluate({**env, "extra": e}) for e in ("", *extras))
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName) as exc:
        raise WheelguardError(f"invalid environment marker {text!r} ({exc})",
                              filename=where or None) from exc


# --- file choice: Poetry's Chooser and pip's CandidateEvaluator ---------------------------

@lru_cache(maxsize=65536)
def _build_tag(filename: str) -> tuple[int, str] | tuple[()]:
    """A wheel's PEP 427 build tag as ``(number, rest)``; ``()`` when it has none or for an
    sdist (pip and Poetry compare it this way)."""
    if not filename.endswith(".whl"):
        return ()
    build = parse_wheel_filename(filename)[2]
    return (build[0], build[1]) if build else ()


def choose_like_poetry(files: Sequence[Candidate], target: Target) -> Candidate | None:
    """The file Poetry's ``Chooser.choose_for`` picks among a locked release's ``files``.

    Follows ``poetry/installation/chooser.py`` (Poetry 1.8-2.x):

    1. wheels none of whose tags the environment supports are skipped
       (``Wheel.is_supported_by_environment``); ``.egg``/``.exe``/``.msi``/``.rpm`` too;
    2. the rest are sorted by ``_sort_key`` = (hash allowed, not yanked, binary preference,
       version, build tag, priority), best first, where a wheel's priority is
       ``-(lowest index of its tags in the supported-tag list)`` and an sdist's is
       ``-len(supported tags)``; every file of a lock has an allowed hash and the lock
       records no yank, so the build tag and then the tag priority decide;
    3. ties keep the lock's order (a stable sort), so the first best file wins.

    Returns ``None`` when nothing is left (Poetry: "Unable to find installation candidates").
    """
    support_num = len(target.tags)
    best: Candidate | None = None
    best_key: tuple[Any, ...] | None = None
    for cand in files:
        dist = try_classify(cand.filename)
        if dist is None:
            continue  # not a wheel or sdist name (.egg, .exe...): Poetry skips it
        if dist.kind == "wheel":
            rank = target.rank(dist.tags)
            if rank is None:
                continue
            pri = -rank
        else:
            pri = -support_num
        key = (_build_tag(dist.filename), pri)
        if best_key is None or key > best_key:
            best, best_key = cand, key
    return best


def _python_full(target: Target) -> Version:
    # pip normalizes --python-version X.Y to (X, Y, 0) (TargetPython.py_version_info).
    return Version(f"{target.python_version[0]}.{target.python_version[1]}.0")


def requires_python_ok(spec: str | None, target: Target) -> bool:
    """pip's ``_check_link_requires_python``: an invalid ``Requires-Python`` is ignored."""
    if not spec:
        return True
    try:
        return SpecifierSet(spec).contains(_python_full(target), prereleases=True)
    except InvalidSpecifier:
        return True


@dataclass(frozen=True)
class PipChoice:
    """What pip would do with one pinned release on one target.

    Attributes:
        chosen: the file pip picks, or ``None`` (pip: "No matching distribution").
        candidates: every file of the release, with pip's reason on the rejected ones.
    """

    chosen: Candidate | None
    candidates: tuple[Candidate, ...]


def choose_like_pip(files: Sequence[Candidate], target: Target,
                    hashes: frozenset[str] = frozenset(), pinned: bool = True) -> PipChoice:
    """The file pip's resolver picks among one release's ``files`` for ``target``.

    Follows pip's ``LinkEvaluator.evaluate_link``, ``filter_unallowed_hashes``,
    ``CandidateEvaluator._sort_key`` and the resolver factory (pip 22-26):

    1. a wheel none of whose tags the target supports is rejected ("none of the wheel's
       tags ... are compatible"); so is a file whose ``Requires-Python`` excludes the
       target's ``X.Y.0``;
    2. PEP 592: yanked files are skipped unless every remaining file is yanked and the
       requirement is pinned (``==``/``===``);
    3. ``--hash``: when some file's sha256 is among ``hashes``, files with another digest are
       dropped (files without a digest stay);
    4. the best by (allowed hash, not yanked, version, tag priority, build tag), where a
       wheel's priority is ``-(its best tag's index)`` and an sdist's ``-len(tags)``; pip
       iterates its ascending-sorted candidates from the end, so of equal keys the last
       listed wins.
    """
    support_num = len(target.tags)
    keyed: list[tuple[tuple[Any, ...], Candidate]] = []
    out: list[Candidate] = []
    for cand in files:
        dist = try_classify(cand.filename)
        reason: str | None = None
        rank: int | None = None
        if dist is None:
            reason = "not a wheel or sdist file name"
        elif dist.kind == "wheel":
            rank = target.rank(dist.tags)
            if rank is None:
                reason = (f"none of the wheel's tags ({', '.join(dist.tag_strings)}) are "
                          f"compatible with {target.name}")
        if reason is None and not requires_python_ok(cand.requires_python, target):
            reason = f"{dist.version if dist else ''} Requires-Python {cand.requires_python}"
        if reason is not None or dist is None:
            out.append(replace(cand, rejected_reason=reason))
            continue
        out.append(cand)
        pri = -rank if rank is not None else -support_num
        keyed.append(((0, -int(cand.yanked), pri, _build_tag(dist.filename)), cand))
    if hashes and any(c.sha256 in hashes for _, c in keyed):
        keyed = [((int(c.sha256 in hashes), *k[1:]), c) for k, c in keyed
                 if c.sha256 is None or c.sha256 in hashes]
    if keyed and not (pinned and all(c.yanked for _, c in keyed)):
        keyed = [(k, c) for k, c in keyed if not c.yanked]
    chosen: Candidate | None = None
    best: tuple[Any, ...] | None = None
    for key, cand in keyed:
        if best is None or key >= best:
            chosen, best = cand, key
    return PipChoice(chosen, tuple(out))


# --- poetry.lock ----------------------------------------------------------------------------

@dataclass(frozen=True)
class LockedDependency:
    """One ``[package.dependencies]`` entry (one constraint of it), or one direct
    dependency of the project (a root, read from pyproject.toml).

    Attributes:
        group: a root's dependency group (PEP 503 normalized, as Poetry compares them:
            ``main``, ``dev`` for ``dev-dependencies``, or ``[tool.poetry.group.NAME]``'s
            name); ``main`` for a package's own dependencies.
    """

    name: NormalizedName
    constraint: str
    markers: str | None
    optional: bool
    extras: tuple[str, ...]
    group: str = "main"


@dataclass(frozen=True)
class LockedPackage:
    """One ``[[package]]`` of a poetry.lock.

    Attributes:
        markers: lock 2.1 ``markers``: a string, or ``{group: marker}``; ``None`` = always.
        source_type: ``legacy``, ``directory``, ``git``, ``file``, ``url`` or ``None`` (PyPI).
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


@dataclass(frozen=True)
class PoetryLock:
    """A parsed poetry.lock (format 2.x) and, when beside it, its pyproject's roots.

    Attributes:
        roots: the project's direct dependencies (pyproject.toml beside the lock), each
            with its group; empty without a pyproject.toml.
        extras: the project's own extras, ``{normalized extra: (project names, ...)}``:
            the lock's top-level ``[extras]`` table (Poetry writes it in 2.0 and 2.1)
            merged with pyproject.toml's ``[tool.poetry.extras]`` and
            ``[project.optional-dependencies]``.
        declared_groups: the dependency groups pyproject.toml declares (normalized;
            ``main`` included), or ``None`` without a pyproject.toml beside the lock.
    """

    path: str
    lock_version: str
    packages: tuple[LockedPackage, ...]
    roots: tuple[LockedDependency, ...] = ()
    extras: Mapping[str, tuple[NormalizedName, ...]] = field(default_factory=dict)
    declared_groups: frozenset[str] | None = None


def _load_toml(path: Path, text: str | None = None) -> dict[str, Any]:
    from poetry_wheelguard._toml import tomllib
    try:
        return tomllib.loads(path.read_text("utf-8") if text is None else text)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise WheelguardError(f"cannot read the file ({reason})", filename=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise WheelguardError(f"not valid TOML ({exc})", filename=str(path)) from exc


# Poetry writes each release's files as one array of one-line inline tables. Those arrays
# are nine tenths of a lock; they are read with these patterns (plain strings only: no
# escape, no quote) and every other part of the lock by the TOML parser. An array in any
# other form is left to the TOML parser too.
_FILES_ARRAY = re.compile(
    r'^files = \[\n((?:[ \t]*\{file = "[^"\\\n]*", hash = "[^"\\\n]*"\},?[ \t]*\n)*)\]$',
    re.M)
_FILE_ENTRY = re.compile(r'\{file = "([^"\\\n]*)", hash = "([^"\\\n]*)"\}')
_FILES_REF = "@wheelguard-files-"


def _load_lock_toml(path: Path) -> tuple[dict[str, Any], list[list[dict[str, str]]]]:
    """The lock as TOML data, with each fast-read ``files`` array replaced by the string
    ``@wheelguard-files-N`` (N indexes the second value)."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise WheelguardError(f"cannot read the file ({reason})", filename=str(path)) from exc
    arrays: list[list[dict[str, str]]] = []

    def stash(m: re.Match[str]) -> str:
        arrays.append([{"file": f, "hash": h} for f, h in _FILE_ENTRY.findall(m.group(1))])
        return f'files = "{_FILES_REF}{len(arrays) - 1}"'

    return _load_toml(path, _FILES_ARRAY.sub(stash, text)), arrays


def _requirement_name(text: str) -> NormalizedName:
    """The project name of a lock ``extras`` entry (``"foo (>=1.0)"``, PEP 508)."""
    try:
        return normalize(Requirement(text).name)
    except InvalidRequirement:
        return normalize(text.split()[0] if text.split() else text)


def _dependencies(raw: Any) -> tuple[LockedDependency, ...]:
    out = []
    for name, spec in (raw or {}).items():
        for one in spec if isinstance(spec, list) else [spec]:
            if isinstance(one, str):
                out.append(LockedDependency(normalize(name), one, None, False, ()))
            elif isinstance(one, dict):
                out.append(LockedDependency(
                    normalize(name), str(one.get("version", "*")),
                    str(one["markers"]) if one.get("markers") else None,
                    bool(one.get("optional", False)),
                    tuple(str(e) for e in one.get("extras", []))))
    return tuple(out)


def _poetry_root_marker(spec: Mapping[str, Any]) -> str | None:
    """A PEP 508 marker for a ``[tool.poetry.dependencies]`` table's ``markers``,
    ``platform`` and ``python`` keys (``python`` only when it is PEP 440; Poetry's ``^``/``~``
    forms are left out, so such a dependency is kept)."""
    parts = []
    if spec.get("markers"):
        parts.append(f"({spec['markers']})")
    if spec.get("platform"):
        parts.append(f'sys_platform == "{spec["platform"]}"')
    if spec.get("python"):
        try:
            specs = SpecifierSet(str(spec["python"]))
            parts += [f'python_full_version {s.operator} "{s.version}"' for s in specs]
        except InvalidSpecifier:
            pass
    return " and ".join(parts) or None


@dataclass(frozen=True)
class _Pyproject:
    """What a lock's pyproject.toml adds: roots, declared groups, the project's extras."""

    roots: tuple[LockedDependency, ...]
    groups: frozenset[str]
    extras: dict[str, tuple[NormalizedName, ...]]


def _read_pyproject(path: Path) -> _Pyproject:
    """Direct dependencies of the project beside a lock, with their groups, extras and
    markers: PEP 621 ``[project]`` dependencies (optional ones gated by their extra),
    ``[tool.poetry.dependencies]`` (``optional = true`` ones gated by
    ``[tool.poetry.extras]``), ``dev-dependencies`` (group ``dev``) and every Poetry group;
    the declared group names (also PEP 735 ``[dependency-groups]``, which Poetry 2.x
    reads); the project's extras."""
    data = _load_toml(path)
    roots: list[LockedDependency] = []
    project = data.get("project", {})
    extras: dict[str, tuple[NormalizedName, ...]] = {}
    requirements = [(str(r), False) for r in project.get("dependencies", [])]
    for extra, group in project.get("optional-dependencies", {}).items():
        requirements += [(str(r), True) for r in group]
        extras[normalize(str(extra))] = tuple(_requirement_name(str(r)) for r in group)
    for req_text, optional in requirements:
        try:
            req = Requirement(req_text)
        except InvalidRequirement:
            continue
        roots.append(LockedDependency(normalize(req.name), str(req.specifier) or "*",
                                      str(req.marker) if req.marker else None, optional,
                                      tuple(sorted(req.extras))))
    poetry = data.get("tool", {}).get("poetry", {})
    for extra, names in (poetry.get("extras") or {}).items():
        extras[normalize(str(extra))] = tuple(_requirement_name(str(n)) for n in names)
    tables = [("main", poetry.get("dependencies", {})),
              ("dev", poetry.get("dev-dependencies", {}))]
    tables += [(normalize(str(g)), t.get("dependencies", {}))
               for g, t in poetry.get("group", {}).items()]
    groups = {"main", *(g for g, _ in tables[2:]),
              *(normalize(str(g)) for g in data.get("dependency-groups", {}))}
    if tables[1][1]:
        groups.add("dev")
    for group, table in tables:
        for name, spec in table.items():
            if name.lower() == "python":
                continue
            for one in spec if isinstance(spec, list) else [spec]:
                table_spec = one if isinstance(one, dict) else {}
                roots.append(LockedDependency(
                    normalize(name), "*", _poetry_root_marker(table_spec),
                    bool(table_spec.get("optional", False)),
                    tuple(str(e) for e in table_spec.get("extras", [])), group))
    return _Pyproject(tuple(roots), frozenset(groups), extras)


def read_lock(path: str | Path) -> PoetryLock:
    """Parse a poetry.lock of format 2.0 or 2.1; a pyproject.toml beside it gives the
    project's direct dependencies (used to walk a 2.0 lock).

    Raises:
        WheelguardError: unreadable, not TOML, another lock format, or a package without
            ``name``/``version`` (names the file).
    """
    p = Path(path)
    data, arrays = _load_lock_toml(p)
    version = str(data.get("metadata", {}).get("lock-version", ""))
    if not version.startswith("2."):
        raise WheelguardError(
            f"lock format {version or 'unknown'} is not supported (2.0 and 2.1 are); "
            "run `poetry lock` with Poetry 1.5 or newer", filename=str(p))
    packages = []
    try:
        for raw in data.get("package", []):
            source = raw.get("source") or {}
            raw_files = raw.get("files", [])
            if isinstance(raw_files, str) and raw_files.startswith(_FILES_REF):
                raw_files = arrays[int(raw_files[len(_FILES_REF):])]
            files = tuple(
                Candidate(filename=str(f["file"]),
                          url=redact_url(str(f["url"])) if f.get("url") else "",
                          sha256=(str(f["hash"]).split(":", 1)[1].lower()
                                  if str(f.get("hash", "")).startswith("sha256:") else None))
                for f in raw_files)
            markers = raw.get("markers")
            packages.append(LockedPackage(
                name=normalize(str(raw["name"])),
                version=str(raw["version"]),
                files=files,
                groups=tuple(str(g) for g in raw.get("groups", ["main"])),
                markers=(dict(markers) if isinstance(markers, dict)
                         else str(markers) if markers else None),
                dependencies=_dependencies(raw.get("dependencies")),
                extras={str(k): tuple(str(x) for x in v)
                        for k, v in (raw.get("extras") or {}).items()},
                source_type=str(source["type"]) if source.get("type") else None,
                source_url=redact_url(str(source.get("url", ""))),
            ))
    except (KeyError, TypeError, AttributeError) as exc:
        raise WheelguardError(f"malformed [[package]] entry ({exc!r} missing or wrong)",
                              filename=str(p)) from exc
    extras: dict[str, tuple[NormalizedName, ...]] = {
        normalize(str(k)): tuple(_requirement_name(str(x)) for x in v)
        for k, v in (data.get("extras") or {}).items()}
    pyproject = p.with_name("pyproject.toml")
    if not pyproject.is_file():
        return PoetryLock(str(p), version, tuple(packages), (), extras, None)
    project = _read_pyproject(pyproject)
    return PoetryLock(str(p), version, tuple(packages), project.roots,
                      {**extras, **project.extras}, project.groups)


def _locked_for_21(lock: PoetryLock, env: Mapping[str, str], extras: Sequence[str],
                   groups: Sequence[str]) -> list[LockedPackage]:
    wanted = {normalize(g) for g in groups}
    out = []
    for pkg in lock.packages:
        chosen_groups = [g for g in pkg.groups if not wanted or normalize(g) in wanted]
        if not chosen_groups:
            continue
        if isinstance(pkg.markers, dict):
            ok = any(marker_holds(pkg.markers.get(g), env, extras, lock.path)
                     for g in chosen_groups)
        else:
            ok = marker_holds(pkg.markers, env, extras, lock.path)
        if ok:
            out.append(pkg)
    return out


def _satisfies(version: str, constraint: str) -> bool:
    """Does ``version`` meet a lock's dependency constraint? PEP 440 forms and Poetry's bare
    ``1.0`` (``==1.0``) are checked; Poetry-only forms (``^``, ``~``, ``||``) match anything."""
    parts = [p.strip() for p in constraint.split(",") if p.strip() not in ("", "*")]
    parts = ["==" + p if p[:1].isdigit() else p for p in parts]
    try:
        return SpecifierSet(",".join(parts)).contains(version, prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return True


def _locked_for_20(lock: PoetryLock, env: Mapping[str, str], extras: Sequence[str],
                   groups: Sequence[str]) -> list[LockedPackage]:
    """Walk a 2.0 lock from its roots along the dependency edges whose markers hold.

    The roots are those of the selected ``groups`` (all when empty); an optional root is
    followed only when a requested root extra names it (Poetry installs it only then)."""
    by_name: dict[NormalizedName, list[LockedPackage]] = {}
    for pkg in lock.packages:
        by_name.setdefault(pkg.name, []).append(pkg)
    wanted = {normalize(g) for g in groups}
    extra_roots = {n for e in extras for n in lock.extras.get(normalize(e), ())}
    roots = lock.roots
    if not roots:  # no pyproject beside the lock: every package nothing depends on,
        # optional when one of the lock's [extras] names it
        needed = {d.name for p in lock.packages for d in p.dependencies}
        in_extras = {n for names in lock.extras.values() for n in names}
        roots = tuple(LockedDependency(p.name, "*", None, p.name in in_extras, ())
                      for p in lock.packages if p.name not in needed)
    queue: list[tuple[NormalizedName, str, tuple[str, ...]]] = [
        (r.name, "*", r.extras) for r in roots
        if (not wanted or r.group in wanted) and (not r.optional or r.name in extra_roots)
        and marker_holds(r.markers, env, extras, lock.path)]
    chosen: dict[tuple[NormalizedName, str], set[str]] = {}
    while queue:
        name, constraint, want = queue.pop()
        candidates = [p for p in by_name.get(name, []) if _satisfies(p.version, constraint)]
        candidates = candidates or by_name.get(name, [])
        if not candidates:
            continue
        pkg = max(candidates, key=lambda p: Version(p.version))
        key = (pkg.name, pkg.version)
        seen = chosen.get(key)
        if seen is not None and set(want) <= seen:
            continue
        active = (seen or set()) | set(want)
        chosen[key] = active
        extra_deps = {_requirement_name(r) for e in active for r in pkg.extras.get(e, ())}
        for dep in pkg.dependencies:
            if dep.optional and dep.name not in extra_deps:
                continue
            if marker_holds(dep.markers, env, active, lock.path):
                queue.append((dep.name, dep.constraint, dep.extras))
    return [p for p in lock.packages if (p.name, p.version) in chosen]


def locked_packages_for(lock: PoetryLock, target: Target, extras: Sequence[str] = (),
                        groups: Sequence[str] = ()) -> list[LockedPackage]:
    """The lock's packages that install on ``target``, in lock order.

    Lock 2.1: a package is kept when one of its groups is selected (all when ``groups`` is
    empty) and its ``markers`` (for that group) hold for the target with the root extras
    ``extras``. Lock 2.0 (no ``markers``, no ``groups``): the dependency graph is walked
    from the project's roots (pyproject.toml beside the lock, with their groups; else
    every package nothing depends on), from the roots of the selected groups only,
    following the edges whose markers hold, optional roots only when a requested root
    extra names them and optional edges only for requested extras; where a name is locked
    at several versions, the constraint picks one. Group and extra names compare
    normalized (PEP 503), as Poetry compares them; :func:`check_selection` refuses unknown
    ones (:func:`plan_lock` calls it).
    """
    env = marker_environment(target)
    if lock.lock_version == "2.0":
        return _locked_for_20(lock, env, extras, groups)
    return _locked_for_21(lock, env, extras, groups)


def project_groups(lock: PoetryLock) -> frozenset[str] | None:
    """The project's dependency groups (normalized), as far as the lock tells: lock 2.1,
    every package's ``groups`` plus ``main`` and the groups pyproject.toml declares; lock
    2.0 records no groups, so only pyproject.toml beside it can tell (``None`` without
    one)."""
    if lock.lock_version == "2.0":
        return lock.declared_groups
    found = {"main", *(normalize(g) for p in lock.packages for g in p.groups)}
    return frozenset(found | (lock.declared_groups or frozenset()))


def check_selection(lock: PoetryLock, extras: Sequence[str] = (), groups: Sequence[str] = (),
                    *, extras_option: str = "--extras", group_option: str = "--group") -> None:
    """Refuse group and extra names the project does not have, as Poetry refuses them
    (``Group(s) not found``, ``Extra [x] is not specified``) instead of planning an empty
    or unfiltered selection. Names compare normalized (PEP 503). The options are named in
    the error as the command spells them.

    Known groups: :func:`project_groups`. Known extras: :attr:`PoetryLock.extras` (the
    lock's ``[extras]`` table and pyproject.toml's extras).

    Raises:
        ConfigError: a group or extra not found (one line naming the lock, the unknown
            names and the known ones), or groups asked of a 2.0 lock with no
            pyproject.toml beside it (such a lock cannot tell groups apart).
    """
    if groups:
        known = project_groups(lock)
        if known is None:
            raise ConfigError(
                f"{group_option}: lock format 2.0 records no dependency groups and there is "
                "no pyproject.toml beside the lock to read them from; plan the lock in its "
                "project directory, or leave out " + group_option, filename=lock.path)
        missing = [g for g in dict.fromkeys(groups) if normalize(g) not in known]
        if missing:
            raise ConfigError(
                f"group(s) not found: {', '.join(missing)} ({group_option}); the project's "
                f"groups: {', '.join(sorted(known))}", filename=lock.path)
    missing = [e for e in dict.fromkeys(extras) if normalize(e) not in lock.extras]
    if missing:
        have = ", ".join(sorted(lock.extras)) or "none"
        raise ConfigError(
            f"extra(s) not specified: {', '.join(missing)} ({extras_option}); the project's "
            f"extras: {have}", filename=lock.path)


# --- planning -------------------------------------------------------------------------------

@dataclass
class PlanResult:
    """The plan: per target, one record per package (in input order).

    Attributes:
        installer: whose choice was reproduced: ``poetry`` (lock) or ``pip``.
        targets: the targets, in command-line order.
        records: ``{target name: [PackageRecord, ...]}``.
    """

    installer: str
    targets: list[Target]
    records: dict[str, list[PackageRecord]] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        """True when strict mode would refuse something on some target."""
        return any(r.verdict == "refused" for recs in self.records.values() for r in recs)


def _no_distribution_record(selection: Selection, target: Target,
                            config: Config) -> PackageRecord:
    finding = no_distribution(selection.name, selection.version,
                              version_hint(selection, target))
    return PackageRecord(selection=selection, kind=None, tags=(), pure=False,
                         findings=[finding], verdict=verdict_for([finding], config.strict))


def plan_selection(selection: Selection | None, fallback: Selection, target: Target,
                   config: Config) -> PackageRecord:
    """The record of one package on one target: the policy's evaluation of the chosen
    file, or ``NO_DISTRIBUTION`` when ``selection`` is ``None`` (nothing installable)."""
    if selection is None:
        return _no_distribution_record(fallback, target, config)
    return record_for(selection, evaluate(selection, target, config))


def plan_lock(lock: PoetryLock, targets: Sequence[Target], config: Config,
              extras: Sequence[str] = (), groups: Sequence[str] = ()) -> PlanResult:
    """Plan a poetry.lock offline for each target, with Poetry's choice of file.

    ``other_versions`` for hints are the other versions of the same name in the lock.

    Raises:
        ConfigError: an unknown group or extra (:func:`check_selection`).
        WheelguardError: an invalid environment marker in the lock.
    """
    check_selection(lock, extras, groups)
    result = PlanResult("poetry", list(targets))
    by_name: dict[NormalizedName, list[LockedPackage]] = {}
    for pkg in lock.packages:
        by_name.setdefault(pkg.name, []).append(pkg)
    for target in targets:
        recs = []
        for pkg in locked_packages_for(lock, target, extras, groups):
            others = tuple((p.version, tuple(f.filename for f in p.files))
                           for p in by_name[pkg.name] if p is not pkg)
            first_party = pkg.source_type in {"directory", "git", "file", "url"}
            base = Selection(name=pkg.name, version=pkg.version,
                             chosen=Candidate(filename="", url=pkg.source_url),
                             candidates=pkg.files, other_versions=others,
                             index=pkg.source_url, first_party=first_party)
            if first_party:
                chosen: Candidate | None = Candidate(filename=pkg.source_url or pkg.name,
                                                     url=pkg.source_url)
            else:
                chosen = choose_like_poetry(pkg.files, target)
            sel = replace(base, chosen=chosen) if chosen is not None else None
            recs.append(plan_selection(sel, base, target, config))
        result.records[target.name] = recs
    return result


# --- requirements files (pip's format) -------------------------------------------------------

@dataclass(frozen=True)
class PinnedRequirement:
    """One requirement line: the PEP 508 requirement, its ``--hash`` digests, its origin."""

    requirement: Requirement
    hashes: frozenset[str]
    origin: str

    @property
    def name(self) -> NormalizedName:
        """PEP 503 normalized name."""
        return normalize(self.requirement.name)

    @property
    def pin(self) -> str | None:
        """The version of a single ``==V`` (no wildcard) or ``===V`` specifier, else ``None``."""
        specs = list(self.requirement.specifier)
        if len(specs) == 1 and specs[0].operator in {"==", "==="} \
                and not specs[0].version.endswith(".*"):
            return specs[0].version
        return None


@dataclass
class RequirementSet:
    """Requirements plus the index options found in requirements files."""

    requirements: list[PinnedRequirement] = field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    no_index: bool = False


_OPTION_WITH_VALUE = {"-i": "index", "--index-url": "index", "--extra-index-url": "extra",
                      "-f": "links", "--find-links": "links", "-r": "req", "--requirement": "req",
                      "-c": "constraint", "--constraint": "constraint",
                      "--trusted-host": "skip", "--only-binary": "skip", "--no-binary": "skip",
                      "--use-feature": "skip"}
_FLAGS = {"--no-index", "--pre", "--prefer-binary", "--require-hashes"}


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    """pip's ``req_file`` joining: ``\\`` continues a line; `` #`` starts a comment."""
    buf, start = "", 0
    for number, line in enumerate(text.splitlines(), 1):
        if not buf:
            start = number
        line = re.sub(r"(^|\s+)#.*$", "", line)
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        if buf.strip():
            yield start, buf.strip()
        buf = ""
    if buf.strip():
        yield start, buf.strip()


def parse_requirement_line(line: str, origin: str, reqs: RequirementSet,
                           base: Path | None = None) -> None:
    """Add one logical line of a requirements file (or one command-line word) to ``reqs``.

    Raises:
        WheelguardError: an invalid requirement, an editable/local/URL requirement (not
            planned: it is built locally), or an unreadable ``-r`` file (names ``origin``).
    """
    # pip's req_file.break_args_options: the requirement runs up to the first word that
    # starts with "-"; the rest are options (shell-split).
    tokens = line.split()
    cut = next((i for i, t in enumerate(tokens) if t.startswith("-")), len(tokens))
    spec = " ".join(tokens[:cut])
    words = shlex.split(" ".join(tokens[cut:]))
    if not spec:
        if not words:
            return
        head = words[0]
        opt, _, inline = head.partition("=")
        if opt in _OPTION_WITH_VALUE:
            value = inline or (words[1] if len(words) > 1 else "")
            kind = _OPTION_WITH_VALUE[opt]
            if kind == "index":
                reqs.index_url = value
            elif kind == "extra":
                reqs.extra_index_urls.append(value)
            elif kind == "links":
                reqs.find_links.append(value)
            elif kind == "req":
                read_requirements_file((base or Path.cwd()) / value, reqs)
            return
        if head in _FLAGS:
            reqs.no_index = reqs.no_index or head == "--no-index"
            return
        raise WheelguardError(f"{head} {' '.join(words[1:2])}: local, editable and URL "
                              "requirements are built, not planned; plan their dependencies"
                              if head in {"-e", "--editable"} else
                              f"unknown option {head}", filename=origin)
    if spec.startswith((".", "/")) or ("://" in spec and "@" not in spec.split("://")[0]):
        raise WheelguardError(f"{spec}: local, editable and URL requirements are built, not "
                              "planned; plan their dependencies", filename=origin)
    hashes = set()
    for w in words:
        if w.startswith("--hash="):
            algo, _, digest = w[len("--hash="):].partition(":")
            if algo == "sha256":
                hashes.add(digest.lower())
    try:
        req = Requirement(spec)
    except InvalidRequirement as exc:
        first = str(exc).splitlines()[0] if str(exc) else "parse error"
        raise WheelguardError(f"invalid requirement {spec!r} ({first})",
                              filename=origin) from exc
    if req.url:
        raise WheelguardError(f"{req.name} @ URL: direct references are built or downloaded "
                              "as given, not planned", filename=origin)
    reqs.requirements.append(PinnedRequirement(req, frozenset(hashes), origin))


def read_requirements_file(path: Path, reqs: RequirementSet | None = None) -> RequirementSet:
    """Read a requirements file (pip's format, as ``pip freeze`` and pip-compile write it).

    Raises:
        WheelguardError: unreadable file or invalid line (names ``file:line``).
    """
    out = reqs if reqs is not None else RequirementSet()
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise WheelguardError(f"cannot read the requirements file ({exc.strerror})",
                              filename=str(path)) from exc
    for number, line in _logical_lines(text):
        parse_requirement_line(line, f"{path}:{number}", out, path.parent)
    return out


# --- pip's resolver, for unpinned requirements -----------------------------------------------

def _target_platforms(target: Target) -> list[str]:
    return list(dict.fromkeys(t.platform for t in target.tags if t.platform != "any"))


def pip_resolve_command(target: Target, requirements: Sequence[str], python: str,
                        index_args: Sequence[str] = (), target_dir: str = "") -> list[str]:
    """The ``pip install --dry-run --report -`` command that resolves ``requirements`` for
    ``target`` from wheels only (no build, no package code). ``--target DIR`` (an empty
    directory, never written by a dry run) is there because pip before 23.3 accepts
    ``--platform``/``--abi`` only with it."""
    major, minor = target.python_version
    cmd = [python, "-m", "pip", "install", "--dry-run", "--quiet", "--report", "-",
           "--ignore-installed", "--only-binary=:all:", "--disable-pip-version-check",
           *(["--target", target_dir] if target_dir else []),
           "--python-version", f"{major}.{minor}",
           "--implementation", target.interpreter[:2]]
    for platform in _target_platforms(target):
        cmd += ["--platform", platform]
    for abi in target.abis:
        cmd += ["--abi", abi]
    return [*cmd, *index_args, *requirements]


def _default_pip_runner(cmd: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), capture_output=True, text=True, check=False, timeout=900)


def pip_resolve(target: Target, requirements: Sequence[str], index_args: Sequence[str] = (),
                runner: Runner | None = None,
                python: str | None = None) -> dict[NormalizedName, str]:
    """Resolve ``requirements`` for ``target`` with pip's own resolver (see
    :func:`pip_resolve_command`); returns ``{normalized name: version}``.

    Raises:
        IndexFetchError: pip failed (its last error line, credentials removed) or printed
            no report.
    """
    run = runner or _default_pip_runner
    try:
        with tempfile.TemporaryDirectory(prefix="wheelguard-resolve-") as empty:
            proc = run(pip_resolve_command(target, requirements, python or sys.executable,
                                           index_args, empty))
    except (OSError, subprocess.SubprocessError) as exc:
        raise IndexFetchError(f"cannot run pip to resolve the unpinned requirements ({exc})"
                              ) from exc
    if proc.returncode != 0:
        lines = [ln.strip() for ln in (proc.stderr or "").splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.startswith("ERROR:")] or lines[-1:] or ["no output"]
        raise IndexFetchError(
            f"pip could not resolve the unpinned requirements for {target.name}: "
            f"{redact_text(errors[0])} (resolution uses wheels only; pin a package "
            "PKG==VER to plan its sdist)")
    try:
        report = json.loads(proc.stdout)
        return {normalize(str(item["metadata"]["name"])): str(item["metadata"]["version"])
                for item in report["install"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise IndexFetchError("pip printed no installation report; pip >= 22.2 is needed "
                              "to resolve unpinned requirements") from exc


def plan_requirements(reqs: RequirementSet, targets: Sequence[Target], config: Config,
                      client: Any, index_args: Sequence[str] = (),
                      runner: Runner | None = None) -> PlanResult:
    """Plan requirements for each target with pip's choice of file.

    ``client`` is an :class:`~poetry_wheelguard.index.IndexClient`. Requirements whose
    markers do not hold for a target are left out there.

    Raises:
        IndexFetchError: from the index client or the resolver.
        WheelguardError: a pinned version the index does not list.
    """
    result = PlanResult("pip", list(targets))
    per_target: dict[str, list[tuple[NormalizedName, str, PinnedRequirement | None]]] = {}
    for target in targets:
        env = marker_environment(target)
        active = [r for r in reqs.requirements
                  if marker_holds(str(r.requirement.marker or ""), env,
                                  tuple(r.requirement.extras), r.origin)]
        pinned = [(r.name, r.pin, r) for r in active if r.pin is not None]
        loose = [r for r in active if r.pin is None]
        rows: list[tuple[NormalizedName, str, PinnedRequirement | None]] = [
            (n, str(v), r) for n, v, r in pinned]
        if loose:
            resolved = pip_resolve(target, [str(r.requirement) for r in loose], index_args,
                                   runner)
            have = {n for n, _, _ in rows}
            by_name = {r.name: r for r in loose}
            rows += [(n, v, by_name.get(n)) for n, v in resolved.items() if n not in have]
        per_target[target.name] = rows
    names = list(dict.fromkeys(n for rows in per_target.values() for n, _, _ in rows))
    listings = client.listings(names) if names else {}
    for target in targets:
        recs = []
        for name, version, req in per_target[target.name]:
            listing = listings[name]
            versions = listing.versions()
            key = _version_key(version, versions)
            if key is None:
                raise WheelguardError(
                    f"version {version} is not on {', '.join(listing.sources)}; "
                    f"check the pin", package=name)
            files = versions[key]
            cands = [f.candidate for f in files]
            choice = choose_like_pip(cands, target, req.hashes if req else frozenset())
            source = next((f.source for f in files
                           if choice.chosen and f.candidate is choice.chosen), files[0].source)
            others = tuple((v, tuple(f.candidate.filename for f in fs))
                           for v, fs in versions.items() if v != key)
            base = Selection(name=name, version=key, chosen=Candidate(filename=""),
                             candidates=choice.candidates, other_versions=others,
                             index=source)
            sel = replace(base, chosen=choice.chosen) if choice.chosen else None
            recs.append(plan_selection(sel, base, target, config))
        result.records[target.name] = recs
    return result


def _version_key(version: str, versions: Mapping[str, Any]) -> str | None:
    try:
        want = str(Version(version))
    except InvalidVersion:
        return version if version in versions else None
    return want if want in versions else None


# --- output -------------------------------------------------------------------------------

def cell_label(rec: PackageRecord) -> str:
    """Short text of one package on one target: file kind and codes of its findings."""
    from poetry_wheelguard.report import table_rows

    if rec.kind is None:
        return "no file"
    _, _, label, verdict, codes = table_rows([rec])[0]
    return label + (f" [{codes}]" if codes else "") + ("" if verdict == "ok" else f" {verdict}")


def render_plan(result: PlanResult, stream: IO[str]) -> None:
    """One table, a column per target (:func:`report.print_table`), then every warning and
    error finding."""
    names = [t.name for t in result.targets]
    rows: dict[str, dict[str, PackageRecord]] = {}
    for tname in names:
        for rec in result.records[tname]:
            rows.setdefault(rec.selection.name, {})[tname] = rec
    table: list[list[Cell]] = []
    for pkg, by_target in rows.items():
        versions = sorted({r.selection.version for r in by_target.values()})
        cells: list[Cell] = []
        for tname in names:
            got = by_target.get(tname)
            if got is None:
                cells.append(("not installed", "dim"))
                continue
            text = cell_label(got)
            if len(versions) > 1:
                text = f"{got.selection.version}: {text}"
            cells.append((text, VERDICT_STYLE[got.verdict]))
        table.append([pkg, versions[0] if len(versions) == 1 else "varies", *cells])
    print_table(["package", "version", *names], table, stream,
                title=f"plan ({result.installer}'s choice of file)")
    for tname in names:
        render_findings(result.records[tname], stream, prefix=tname)


def plan_report(result: PlanResult, config: Config, exit_code: int,
                extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``wheelguard-report/1`` document of a plan: ``target`` is the list of target
    summaries and every package object carries the ``target`` name it is planned for."""
    records = [r for t in result.targets for r in result.records[t.name]]
    owners = [t.name for t in result.targets for _ in result.records[t.name]]
    report = Report(command="plan", mode=config.mode,
                    target=[t.summary() for t in result.targets],
                    installer={"name": result.installer}, packages=records,
                    exit_code=exit_code, extra=dict(extra or {}))
    data = report.to_json()
    for pkg, owner in zip(data["packages"], owners):
        pkg["target"] = owner
    return data


# --- command line -------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    from poetry_wheelguard.cli.options import add_global_options
    from poetry_wheelguard.target_options import add_target_options

    parser = argparse.ArgumentParser(
        prog="pip-guard plan",
        description="Show the file each package would install on each target, and every "
        "finding, without building or installing anything or running package code.")
    parser.add_argument("packages", nargs="*", metavar="PKG==VER",
                        help="requirements (pinned ones are planned as given)")
    parser.add_argument("-r", "--requirement", action="append", default=[], metavar="FILE",
                        help="a requirements file (pip freeze / pip-compile format)")
    parser.add_argument("--lock", metavar="LOCK",
                        help="plan a poetry.lock (offline), uv.lock or pylock.toml")
    parser.add_argument("--offline", action="store_true",
                        help="uv.lock / pylock.toml: plan from the lock's files alone, "
                        "without looking the releases up on their index")
    parser.add_argument("--extras", action="append", default=[], metavar="NAME",
                        help="root extras to include (lock)")
    parser.add_argument("--group", action="append", default=[], metavar="NAME",
                        help="only these dependency groups (lock; default: all)")
    parser.add_argument("-i", "--index-url", metavar="URL", help="base index URL (PEP 503)")
    parser.add_argument("--extra-index-url", action="append", metavar="URL", default=None)
    parser.add_argument("-f", "--find-links", action="append", metavar="LOC", default=None)
    parser.add_argument("--no-index", action="store_true", help="use only --find-links")
    parser.add_argument("--no-cache", action="store_true", help="do not cache index pages")
    add_target_options(parser)
    add_global_options(parser, suppress=True)
    return parser


def _index_args(ns: argparse.Namespace, reqs: RequirementSet) -> list[str]:
    args: list[str] = []
    index_url = ns.index_url or reqs.index_url
    if index_url:
        args += ["--index-url", index_url]
    for url in (ns.extra_index_url if ns.extra_index_url is not None
                else reqs.extra_index_urls):
        args += ["--extra-index-url", url]
    for loc in (ns.find_links if ns.find_links is not None else reqs.find_links):
        args += ["--find-links", loc]
    if ns.no_index or reqs.no_index:
        args.append("--no-index")
    return args


def run_plan(ns: argparse.Namespace, argv: list[str]) -> int:
    """``pip-guard plan``: parse ``argv``, plan, print the table, write the report.

    Exit codes: 0; 10 in strict mode when any refusal would happen on any target; 12 for
    unreadable input or an index error; 64 for a bad command line, a report path where no
    file can be written, or a group or extra the lock's project does not have (checked
    before anything is planned).

    Raises:
        ConfigError, WheelguardError: translated to exit codes by :func:`cli.main`.
    """
    from poetry_wheelguard.cli.options import config_from_namespace
    from poetry_wheelguard.index import IndexClient, default_cache_dir, pip_index_config
    from poetry_wheelguard.target_options import targets_from_options

    parser = _parser()
    try:
        own = parser.parse_args(argv)
    except SystemExit as exc:
        return exitcodes.OK if exc.code == 0 else exitcodes.USAGE
    merged = argparse.Namespace(**{**vars(ns), **{k: v for k, v in vars(own).items()}})
    config = config_from_namespace(merged)
    targets = targets_from_options(own) or [running_target()]
    sources = sum(bool(x) for x in (own.lock, own.requirement, own.packages))
    if sources != 1:
        raise ConfigError("give one of --lock LOCK, -r FILE or PKG==VER arguments")
    if not own.lock and (own.extras or own.group):
        raise ConfigError("--extras and --group select from a poetry.lock: give --lock, or "
                          "write the extras into the requirements (name[extra]==version)")
    if config.report:  # before planning: the report cannot fail at the end
        check_report_path(config.report)
    if own.lock:
        other = _plan_other_lock(own, targets, config)
        if other is not None:
            return finish_plan(other[0], config, other[1], sys.stdout)
        lock = read_lock(own.lock)
        check_selection(lock, own.extras, own.group)
        result = plan_lock(lock, targets, config, own.extras, own.group)
        extra: dict[str, Any] = {"plan": {"lock": own.lock, "lock_version": lock.lock_version}}
    else:
        reqs = RequirementSet()
        for path in own.requirement:
            read_requirements_file(Path(path), reqs)
        for word in own.packages:
            parse_requirement_line(word, "command line", reqs)
        index_args = _index_args(own, reqs)
        index_cfg = pip_index_config(
            index_url=own.index_url or reqs.index_url,
            extra_index_urls=own.extra_index_url if own.extra_index_url is not None
            else (reqs.extra_index_urls or None),
            find_links=own.find_links if own.find_links is not None
            else (reqs.find_links or None),
            no_index=own.no_index or reqs.no_index,
            cache_dir=None if own.no_cache else default_cache_dir())
        client = IndexClient(index_cfg)
        result = plan_requirements(reqs, targets, config, client, index_args)
        extra = {"plan": {"requirements": own.requirement + own.packages,
                          "sources": list(client.sources)}}
    return finish_plan(result, config, extra, sys.stdout)


def _plan_other_lock(own: argparse.Namespace, targets: Sequence[Target], config: Config
                     ) -> tuple[PlanResult, dict[str, Any]] | None:
    """Plan ``--lock`` when it is a uv.lock or pylock.toml (by name, then content);
    ``None`` for a poetry.lock. ``--index-url`` replaces the index the lock names."""
    from poetry_wheelguard.locks import planner

    path = Path(own.lock)
    try:
        head = path.read_text("utf-8")[:65536] if path.is_file() else None
    except (OSError, UnicodeDecodeError):
        head = None
    kind = planner.lock_kind(path, head)
    if kind is None:
        return None
    lock = planner.read_other_lock(path, kind)
    installer, records, info = planner.plan_other_lock(
        lock, targets, config, extras=own.extras, groups=own.group or None,
        index_url=own.index_url, offline=own.offline)
    result = PlanResult(installer, list(targets), records)
    return result, {"plan": info}


def finish_plan(result: PlanResult, config: Config, extra: dict[str, Any],
                stream: IO[str], errors: IO[str] | None = None,
                prog: str = "pip-guard") -> int:
    """Print the plan to ``stream``, write ``config.report`` and return the exit code
    (10 in strict mode when some target would refuse something, else 0). Shared by
    ``pip-guard plan`` and the Poetry plugin (``poetry wheelguard plan``).

    The strict-mode line goes to ``errors`` (default ``sys.stderr``), prefixed by ``prog``.

    Raises:
        WheelguardError: the report cannot be written.
    """
    code = exitcodes.REFUSED if config.strict and result.refused else exitcodes.OK
    render_plan(result, stream)
    if config.report:
        write_json_atomic(config.report, plan_report(result, config, code, extra))
    if code == exitcodes.REFUSED:
        print(f"{prog}: strict mode: the plan has refusals (exit 10)",
              file=errors if errors is not None else sys.stderr)
    return code
