"""uv.lock (``version = 1``, revisions 1-5) read into :class:`~.neutral.LockedRelease` per
target, and the file uv takes from it.

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

What uv installs from a lock (``Package::to_dist`` in the same file): the best compatible
wheel by ``(TagPriority, build tag)`` (``Package::find_best_wheel``), else the sdist, else
an error. ``TagPriority`` is the position in the list of ``Tags::from_env``
(``crates/uv-platform-tags/src/tags.rs``), rebuilt here by :func:`uv_tags`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from packaging.tags import Tag
from packaging.utils import parse_wheel_filename

from poetry_wheelguard.distfiles import normalize, try_classify
from poetry_wheelguard.errors import ConfigError, WheelguardError
from poetry_wheelguard.locks.neutral import LockedRelease, LockInfo
from poetry_wheelguard.models import Candidate, NormalizedName
from poetry_wheelguard.report import redact_url
from poetry_wheelguard.targets import Target

UV_LOCK_VERSION = 1
UV_LOCK_REVISIONS = (0, 1, 2, 3, 4, 5)
"""Revisions understood: 0 (no ``revision`` key) up to 5, what uv 0.13 writes."""

FIRST_PARTY_SOURCES = frozenset({"virtual", "editable", "directory", "path", "git", "url"})


# --- uv's tag order -----------------------------------------------------------------------

def _uv_platforms(target: Target) -> list[str]:
    """``compatible_tags`` of uv's tags.rs for Linux: glibc ``manylinux_2_{N..min}`` with
    the legacy ``manylinux2010``/``manylinux2014``/``manylinux1`` right after ``2_12``,
    ``2_17``, ``2_5``, then ``linux_<arch>`` last ("Non-manylinux is given lowest
    priority"); musl ``musllinux_1_{N..0}`` then ``linux_<arch>``, and never a manylinux tag
    (the ``Os::Musllinux`` arm). ``min`` is ``Arch::get_minimum_manylinux_minor``: 5 on
    x86_64/i686, 17 on other architectures."""
    arch = target.machine
    out: list[str] = []
    if target.libc == "glibc" and target.libc_version is not None:
        major, minor = target.libc_version
        lowest = 5 if arch in {"x86_64", "i686"} else 17
        for m in range(minor, lowest - 1, -1):
            out.append(f"manylinux_{major}_{m}_{arch}")
            if m == 12:
                out.append(f"manylinux2010_{arch}")
            if m == 17:
                out.append(f"manylinux2014_{arch}")
            if m == 5:
                out.append(f"manylinux1_{arch}")
    elif target.libc == "musl" and target.libc_version is not None:
        major, minor = target.libc_version
        out.extend(f"musllinux_{major}_{m}_{arch}" for m in range(minor, -1, -1))
    out.append(f"linux_{arch}")
    return out


@lru_cache(maxsize=64)
def _uv_tags_cached(key: tuple[Any, ...], platforms: tuple[str, ...]) -> tuple[Tag, ...]:
    impl, (major, minor), abi, free_threaded = key
    tags: list[Tag] = []
    lang = f"{impl}{major}{minor}"
    cpython = impl == "cp"
    # 1. This exact c api version (cp311-cp311-<platform>)
    tags += [Tag(lang, abi, p) for p in platforms]
    # 2. abi3 (abi3t on free-threaded builds) for cp3{Y..2}, and cp3Y-none-<platform>
    if cpython:
        for m in range(minor, 1, -1):
            stable = "abi3t" if free_threaded else "abi3"
            tags += [Tag(f"cp{major}{m}", stable, p) for p in platforms]
            if m == minor:
                tags += [Tag(f"cp{major}{m}", "none", p) for p in platforms]
    # 3. no abi: py3{Y..0}-none-<platform>, py3-none-<platform> right after py3Y
    for m in range(minor, -1, -1):
        tags += [Tag(f"py{major}{m}", "none", p) for p in platforms]
        if m == minor:
            tags += [Tag(f"py{major}", "none", p) for p in platforms]
    # 4. no binary: cp3Y-none-any, then py3{Y..0}-none-any with py3-none-any after py3Y
    if cpython:
        tags.append(Tag(lang, "none", "any"))
    for m in range(minor, -1, -1):
        tags.append(Tag(f"py{major}{m}", "none", "any"))
        if m == minor:
            tags.append(Tag(f"py{major}", "none", "any"))
    return tuple(dict.fromkeys(tags))


def uv_tags(target: Target) -> tuple[Tag, ...]:
    """The supported tags of ``target`` in uv's priority order, best first.

    Follows ``Tags::from_env`` (uv ``crates/uv-platform-tags/src/tags.rs``): (1) the exact
    ``cpXY-cpXY[t]`` for every platform tag, (2) ``abi3`` (``abi3t`` when free-threaded) from
    ``cpXY`` down to ``cp32`` and ``cpXY-none-<platform>``, (3) ``pyXY..py30-none-<platform>``
    with ``py3-none-<platform>``, (4) ``cpXY-none-any`` and ``py*-none-any`` last. Platform
    tags as :func:`_uv_platforms`. Only CPython gets (1)'s ABI from the target's first
    ABI tag; other implementations keep their interpreter tag and ABI.
    """
    impl = target.interpreter[:2] if target.interpreter[:2] in {"cp", "pp"} else "cp"
    abi = target.abis[0] if target.abis else f"{impl}{target.python_version[0]}" \
        f"{target.python_version[1]}"
    key = (impl, target.python_version, abi, target.free_threaded)
    return _uv_tags_cached(key, tuple(_uv_platforms(target)))


@lru_cache(maxsize=64)
def _uv_rank_map(tags: tuple[Tag, ...]) -> dict[Tag, int]:
    return {t: i for i, t in enumerate(tags)}


def _build_tag(filename: str) -> tuple[int, str] | tuple[()]:
    build = parse_wheel_filename(filename)[2]
    return (build[0], build[1]) if build else ()


def choose_like_uv(files: Sequence[Candidate], target: Target) -> Candidate | None:
    """The file uv installs from a locked release's ``files`` on ``target``.

    ``Package::to_dist`` (uv ``crates/uv-resolver/src/lock/mod.rs``): (1) the wheel with the
    highest ``(TagPriority, build tag)`` among those whose tags are compatible
    (``Package::find_best_wheel``: the tag priority decides first, the build tag only
    between equal priorities; the first of equal keys wins, ``>`` not ``>=``); (2) else the
    sdist (``to_source_dist``); (3) else none ("neither a source distribution nor a
    compatible wheel"). The same order as a resolution's ``PrioritizedDist::get``
    (``crates/uv-distribution-types/src/prioritized_distribution.rs``): a compatible wheel
    before a compatible sdist, the sdist when no wheel fits.
    """
    ranks = _uv_rank_map(uv_tags(target))
    best: Candidate | None = None
    best_key: tuple[Any, ...] | None = None
    sdist: Candidate | None = None
    for cand in files:
        dist = try_classify(cand.filename)
        if dist is None:
            continue
        if dist.kind == "sdist":
            sdist = sdist or cand
            continue
        found = [ranks[t] for t in dist.tags if t in ranks]
        if not found:
            continue
        key = (-min(found), _build_tag(dist.filename))
        if best_key is None or key > best_key:
            best, best_key = cand, key
    return best if best is not None else sdist


# --- reading uv.lock ----------------------------------------------------------------------

@dataclass(frozen=True)
class UvDependency:
    """One edge: ``name`` (normalized), the ``version`` uv pins when the name is locked at
    several versions, ``marker`` (PEP 508) and the dependency's ``extras`` it enables."""

    name: NormalizedName
    version: str | None
    marker: str | None
    extras: tuple[str, ...]


@dataclass(frozen=True)
class UvPackage:
    """One ``[[package]]`` of a uv.lock (see the module docstring for the fields)."""

    name: NormalizedName
    version: str
    source_kind: str
    source: str
    files: tuple[Candidate, ...]
    dependencies: tuple[UvDependency, ...]
    optional: Mapping[str, tuple[UvDependency, ...]] = field(default_factory=dict)
    groups: Mapping[str, tuple[UvDependency, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class UvLock:
    """A parsed uv.lock: ``info`` (version ``1 revision N``), ``requires_python`` and the
    packages in lock order."""

    info: LockInfo
    requires_python: str
    packages: tuple[UvPackage, ...]

    @property
    def roots(self) -> tuple[UvPackage, ...]:
        """The workspace's own packages, where :func:`releases_for` starts: those with
        source ``virtual`` or ``editable`` that no other package depends on (an editable
        dependency of the project is not a root); else every package nothing depends on."""
        depended = {d.name for p in self.packages for d in _all_edges(p)}
        free = [p for p in self.packages if p.name not in depended]
        own = [p for p in free if p.source_kind in {"virtual", "editable"}]
        return tuple(own or free)


def _all_edges(pkg: UvPackage) -> Iterable[UvDependency]:
    yield from pkg.dependencies
    for deps in pkg.optional.values():
        yield from deps
    for deps in pkg.groups.values():
        yield from deps


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


def _edges(raw: Any, where: str) -> tuple[UvDependency, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise WheelguardError(f"{where}: dependencies are not an array")
    out = []
    for dep in raw:
        if not isinstance(dep, Mapping) or "name" not in dep:
            raise WheelguardError(f"{where}: a dependency has no name")
        out.append(UvDependency(normalize(str(dep["name"])),
                                str(dep["version"]) if dep.get("version") else None,
                                str(dep["marker"]) if dep.get("marker") else None,
                                tuple(str(e) for e in dep.get("extra") or ())))
    return tuple(out)


def _source(raw: Any) -> tuple[str, str]:
    if isinstance(raw, Mapping):
        for kind in ("registry", *sorted(FIRST_PARTY_SOURCES)):
            if kind in raw:
                return kind, redact_url(str(raw[kind]))
    return "registry", ""


def parse_uv_lock(data: Mapping[str, Any], path: str) -> UvLock:
    """A uv.lock's TOML ``data`` read into a :class:`UvLock`.

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
    packages = []
    for i, raw in enumerate(data.get("package") or []):
        where = f"[[package]] #{i + 1}"
        if not isinstance(raw, Mapping) or "name" not in raw:
            raise WheelguardError(f"malformed {where}: no name", filename=path)
        name = normalize(str(raw["name"]))
        where = f"package {name}"
        kind, source = _source(raw.get("source"))
        try:
            files = [_file(w, where) for w in raw.get("wheels") or []]
            if raw.get("sdist") is not None:
                files.append(_file(raw["sdist"], where))
            packages.append(UvPackage(
                name=name, version=str(raw.get("version") or ""), source_kind=kind,
                source=source, files=tuple(files),
                dependencies=_edges(raw.get("dependencies"), where),
                optional={normalize(str(k)): _edges(v, where) for k, v in
                          (raw.get("optional-dependencies") or {}).items()},
                groups={normalize(str(k)): _edges(v, where) for k, v in
                        (raw.get("dev-dependencies") or {}).items()}))
        except WheelguardError as exc:
            raise WheelguardError(f"malformed uv.lock: {exc.reason}", filename=path) from exc
        except (TypeError, AttributeError, ValueError) as exc:
            raise WheelguardError(f"malformed uv.lock: {where} ({exc})", filename=path) from exc
    info = LockInfo(path, "uv.lock", f"{version} revision {revision}")
    return UvLock(info, str(data.get("requires-python") or ""), tuple(packages))


def read_uv_lock(path: str | Path) -> UvLock:
    """Read and parse the uv.lock at ``path`` (:func:`parse_uv_lock`).

    Raises:
        WheelguardError: unreadable, not TOML (a truncated lock), or as :func:`parse_uv_lock`.
    """
    from poetry_wheelguard._toml import tomllib

    p = Path(path)
    try:
        data = tomllib.loads(p.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise WheelguardError(f"cannot read the file ({reason})", filename=str(p)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise WheelguardError(f"not valid TOML, corrupt or truncated ({exc}); run `uv lock` "
                              "again", filename=str(p)) from exc
    return parse_uv_lock(data, str(p))


def known_groups(lock: UvLock) -> frozenset[str]:
    """The dependency groups the lock's roots declare (normalized)."""
    return frozenset(g for r in lock.roots for g in r.groups)


def known_extras(lock: UvLock) -> frozenset[str]:
    """The extras the lock's roots declare (normalized)."""
    return frozenset(e for r in lock.roots for e in r.optional)


def releases_for(lock: UvLock, target: Target, extras: Sequence[str] = (),
                 groups: Sequence[str] | None = None) -> list[LockedRelease]:
    """The packages uv installs from ``lock`` on ``target``, in lock order, each with the
    file :func:`choose_like_uv` takes.

    The graph is walked from :attr:`UvLock.roots`: their ``dependencies``, the
    ``optional-dependencies`` of ``extras`` and the ``dev-dependencies`` of ``groups``
    (``None`` = every group, as ``uv sync --all-groups``; ``uv sync``'s default is the
    ``dev`` group), following the edges whose ``marker`` holds in the target's marker
    environment and the extras each edge enables. An edge with a ``version`` picks that
    version where a name is locked at several (uv's fork resolution).

    Raises:
        ConfigError: an extra or group the roots do not declare.
        WheelguardError: an invalid marker.
    """
    from poetry_wheelguard.plan import marker_environment, marker_holds

    env = marker_environment(target)
    wanted_extras = [normalize(e) for e in extras]
    missing = [e for e in wanted_extras if e not in known_extras(lock)]
    if missing:
        raise ConfigError(f"extra(s) not declared: {', '.join(missing)}; the project's "
                          f"extras: {', '.join(sorted(known_extras(lock))) or 'none'}",
                          filename=lock.info.path)
    if groups is not None:
        wanted_groups = [normalize(g) for g in groups]
        missing = [g for g in wanted_groups if g not in known_groups(lock)]
        if missing:
            raise ConfigError(f"group(s) not found: {', '.join(missing)}; the project's "
                              f"groups: {', '.join(sorted(known_groups(lock))) or 'none'}",
                              filename=lock.info.path)
    by_name: dict[str, list[UvPackage]] = {}
    for pkg in lock.packages:
        by_name.setdefault(pkg.name, []).append(pkg)
    seen: set[tuple[str, str, str]] = set()
    kept: set[int] = set()
    stack: list[tuple[UvPackage, str]] = []
    for root in lock.roots:
        stack.append((root, ""))
        for extra in wanted_extras:
            stack.append((root, extra))
        for group in root.groups if groups is None else [normalize(g) for g in groups]:
            stack.append((root, "group:" + group))

    def follow(dep: UvDependency, where: str) -> None:
        if not marker_holds(dep.marker, env, wanted_extras, where):
            return
        options = by_name.get(dep.name, [])
        if dep.version is not None:
            options = [p for p in options if p.version == dep.version] or options
        for pkg in options[:1]:
            stack.append((pkg, ""))
            stack.extend((pkg, normalize(e)) for e in dep.extras)

    while stack:
        pkg, part = stack.pop()
        key = (pkg.name, pkg.version, part)
        if key in seen:
            continue
        seen.add(key)
        kept.add(id(pkg))
        if part.startswith("group:"):
            edges: Iterable[UvDependency] = pkg.groups.get(part[6:], ())
        elif part:
            edges = pkg.optional.get(part, ())
        else:
            edges = pkg.dependencies
        for dep in edges:
            follow(dep, f"{lock.info.path}: package {pkg.name}")
    out = []
    for pkg in lock.packages:
        if id(pkg) not in kept or (pkg in lock.roots and pkg.source_kind == "virtual"):
            continue
        first_party = pkg.source_kind in FIRST_PARTY_SOURCES
        chosen = None if first_party else choose_like_uv(pkg.files, target)
        out.append(LockedRelease(
            name=pkg.name, version=pkg.version, files=pkg.files,
            chosen=Candidate(filename=pkg.source or pkg.name, url=pkg.source)
            if first_party else chosen,
            index=pkg.source if pkg.source_kind == "registry" else "",
            first_party=first_party, source=pkg.source))
    return out
