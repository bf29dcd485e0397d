"""poetry.lock (formats 2.0 and 2.1) and the pyproject.toml beside it, read into the
format-neutral :class:`~poetry_wheelguard.locks.model.Lock`; which locked packages
install on a target (lock 2.1: each package's ``groups`` and ``markers``; lock 2.0: the
dependency graph walked from the project's roots); the project's groups and extras, checked
as Poetry checks ``--only``/``--with`` and ``--extras``.

One concern, one module, whatever its length: reading poetry.lock and its pyproject.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from poetry_wheelguard._toml import load_toml_file
from poetry_wheelguard.distfiles import normalize
from poetry_wheelguard.errors import ConfigError, WheelguardError
from poetry_wheelguard.inputs import read_input_text
from poetry_wheelguard.locks.model import Lock, LockedDependency, LockedPackage
from poetry_wheelguard.markers import marker_environment, marker_holds
from poetry_wheelguard.models import Candidate, NormalizedName
from poetry_wheelguard.report import printable, redact_url
from poetry_wheelguard.targets import Target

# --- the shape of the TOML data, checked once, here at the edge ------------------------------
# Every value read from a lock or its pyproject.toml goes through _get/_items: a value of
# the wrong TOML type is one line naming the file, the table and the key, never a
# TypeError/AttributeError deeper down (nor Poetry's bare "'str' object has no attribute").

_T = TypeVar("_T")
_TOML_TYPE = {dict: "a table", list: "an array", str: "a string", bool: "a boolean",
              int: "an integer", float: "a float"}


def _toml_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return next((name for kind, name in _TOML_TYPE.items() if isinstance(value, kind)),
                type(value).__name__)


def _get(obj: Mapping[str, Any], key: str, kind: type[_T], default: _T, where: str,
         path: Path) -> _T:
    """``obj[key]`` (``default`` when absent), which must be of TOML type ``kind``.

    Raises:
        WheelguardError: another type (names ``path``, the table ``where`` and ``key``).
    """
    value = obj.get(key, default)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise WheelguardError(f"{where}: {key!r} must be {_TOML_TYPE[kind]}, not "
                              f"{_toml_type(value)}", filename=str(path))
    return value


def _items(values: list[Any], kind: type[_T], where: str, path: Path) -> list[_T]:
    """The elements of an array, each of which must be of TOML type ``kind``.

    Raises:
        WheelguardError: an element of another type (names ``path`` and ``where``).
    """
    for value in values:
        if not isinstance(value, kind):
            raise WheelguardError(f"{where}: every element must be {_TOML_TYPE[kind]}, not "
                                  f"{_toml_type(value)}", filename=str(path))
    return values


def _string_lists(table: Mapping[str, Any], where: str, path: Path) -> dict[str, list[str]]:
    """A table of arrays of strings (``[extras]``, a package's ``extras``)."""
    return {str(k): _items(_get(table, k, list, [], where, path), str, f"{where}.{k}", path)
            for k in table}


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
    text = read_input_text(path, "lock")
    arrays: list[list[dict[str, str]]] = []

    def stash(m: re.Match[str]) -> str:
        arrays.append([{"file": f, "hash": h} for f, h in _FILE_ENTRY.findall(m.group(1))])
        return f'files = "{_FILES_REF}{len(arrays) - 1}"'

    return load_toml_file(path, _FILES_ARRAY.sub(stash, text)), arrays


def _requirement_name(text: str) -> NormalizedName:
    """The project name of a lock ``extras`` entry (``"foo (>=1.0)"``, PEP 508)."""
    try:
        return normalize(Requirement(text).name)
    except InvalidRequirement:
        return normalize(text.split()[0] if text.split() else text)


def _dependency_specs(table: Mapping[str, Any], where: str, path: Path
                      ) -> list[tuple[str, str | None, dict[str, Any]]]:
    """``(name, constraint string or None, spec table)`` for each entry of a dependency
    table: Poetry writes a constraint string, a table, or an array of tables (one per
    marker). The spec table's ``markers``/``python``/``platform``/``version`` must be
    strings, ``optional`` a boolean, ``extras`` an array of strings."""
    out: list[tuple[str, str | None, dict[str, Any]]] = []
    for name, spec in table.items():
        at = f"{where}.{name}"
        for one in spec if isinstance(spec, list) else [spec]:
            if isinstance(one, str):
                out.append((str(name), one, {}))
                continue
            if not isinstance(one, dict):
                raise WheelguardError(f"{at} must be a string, a table or an array of tables, "
                                      f"not {_toml_type(one)}", filename=str(path))
            for key in ("version", "markers", "python", "platform"):
                _get(one, key, str, "", at, path)
            _get(one, "optional", bool, False, at, path)
            _items(_get(one, "extras", list, [], at, path), str, f"{at}.extras", path)
            out.append((str(name), None, one))
    return out


def _dependencies(raw: Mapping[str, Any], where: str, path: Path
                  ) -> tuple[LockedDependency, ...]:
    out = []
    for name, constraint, one in _dependency_specs(raw, where, path):
        if constraint is not None:
            out.append(LockedDependency(normalize(name), constraint, None, False, ()))
        else:
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


_POETRY_OPERATOR = re.compile(r"^(\^|~=|~|===|==|!=|>=|<=|>|<)?\s*(.+)$")


def _upper(release: tuple[int, ...], index: int) -> str:
    """The version that bumps ``release[index]`` and drops what follows (``(1, 4)``, 0 ->
    ``2``); missing parts count as 0."""
    parts = list(release) + [0] * (index + 1 - len(release))
    return ".".join(str(p) for p in [*parts[:index], parts[index] + 1])


def _poetry_single(text: str) -> str | None:
    """One Poetry constraint (no ``,``/space/``|``) as a PEP 440 specifier; ``""`` for any
    version, ``None`` when it is not one."""
    if text in ("*", ""):
        return ""
    m = _POETRY_OPERATOR.match(text)
    if m is None:
        return None
    op, ver = m.group(1) or "", m.group(2).strip()
    if op in ("", "==", "!=") and ver.endswith(".*"):
        try:
            Version(ver[:-2])
        except InvalidVersion:
            return None
        return f"{op if op == '!=' else '=='}{ver}"
    try:
        version = Version(ver)
    except InvalidVersion:
        return None
    release = version.release
    if op == "^":  # poetry-core Version.next_breaking: the first non-zero part bumps
        if release[0] > 0 or len(release) == 1:
            index = 0
        elif release[1] > 0 or len(release) == 2:
            index = 1
        else:
            index = 2
        return f">={ver},<{_upper(release, index)}"
    if op == "~":  # poetry-core: ~1 -> <2; ~1.2 and ~1.2.3 -> <1.3
        return f">={ver},<{_upper(release, 0 if len(release) == 1 else 1)}"
    if op == "~=" and len(release) < 2:
        return None
    return f"{op or '=='}{ver}"


def poetry_specifier(constraint: str) -> str:
    """A Poetry version constraint as a PEP 440 specifier set, for the hints.

    Poetry's forms (poetry-core ``parse_constraint``): ``^X.Y.Z`` (up to the next bump of
    the first non-zero part: ``^1.4`` -> ``>=1.4,<2``, ``^0.25`` -> ``>=0.25,<0.26``,
    ``^0.0.3`` -> ``>=0.0.3,<0.0.4``), ``~X.Y`` (``~1.2.3`` -> ``>=1.2.3,<1.3``; ``~1`` ->
    ``>=1,<2``), a bare version (``==``), ``X.Y.*``, the PEP 440 operators, parts joined by
    ``,`` or spaces (all must hold). Returns ``""`` for any version (``*``), for ``||``/``|``
    (a union PEP 440 cannot write) and for text that is none of these.
    """
    if "|" in constraint:
        return ""
    merged = re.sub(r"(\^|~=|~|===|==|!=|>=|<=|>|<)\s+", r"\1", constraint.strip())
    parts = []
    for piece in re.split(r"[,\s]+", merged):
        one = _poetry_single(piece)
        if one is None:
            return ""
        if one:
            parts.append(one)
    try:
        return str(SpecifierSet(",".join(parts))) if parts else ""
    except InvalidSpecifier:
        return ""


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
    data = load_toml_file(path)
    roots: list[LockedDependency] = []
    project = _get(data, "project", dict, {}, "top level", path)
    extras: dict[str, tuple[NormalizedName, ...]] = {}
    requirements = [(r, False) for r in _items(
        _get(project, "dependencies", list, [], "[project]", path), str,
        "[project] dependencies", path)]
    optional_deps = _string_lists(_get(project, "optional-dependencies", dict, {},
                                       "[project]", path), "[project.optional-dependencies]",
                                  path)
    for extra, reqs in optional_deps.items():
        requirements += [(r, True) for r in reqs]
        extras[normalize(extra)] = tuple(_requirement_name(r) for r in reqs)
    for req_text, optional in requirements:
        try:
            req = Requirement(req_text)
        except InvalidRequirement:
            continue
        roots.append(LockedDependency(normalize(req.name), str(req.specifier) or "*",
                                      str(req.marker) if req.marker else None, optional,
                                      tuple(sorted(req.extras)),
                                      specifier=str(req.specifier)))
    tool = _get(data, "tool", dict, {}, "top level", path)
    poetry = _get(tool, "poetry", dict, {}, "[tool]", path)
    poetry_extras = _string_lists(_get(poetry, "extras", dict, {}, "[tool.poetry]", path),
                                  "[tool.poetry.extras]", path)
    for extra, names in poetry_extras.items():
        extras[normalize(extra)] = tuple(_requirement_name(n) for n in names)
    tables = [("main", "[tool.poetry.dependencies]",
               _get(poetry, "dependencies", dict, {}, "[tool.poetry]", path)),
              ("dev", "[tool.poetry.dev-dependencies]",
               _get(poetry, "dev-dependencies", dict, {}, "[tool.poetry]", path))]
    group_tables = _get(poetry, "group", dict, {}, "[tool.poetry]", path)
    for g in group_tables:
        where = f"[tool.poetry.group.{g}]"
        table = _get(group_tables, g, dict, {}, "[tool.poetry.group]", path)
        tables.append((normalize(str(g)), f"{where[:-1]}.dependencies]",
                       _get(table, "dependencies", dict, {}, where, path)))
    dependency_groups = _get(data, "dependency-groups", dict, {}, "top level", path)
    groups = {"main", *(g for g, _, _ in tables[2:]),
              *(normalize(str(g)) for g in dependency_groups)}
    if tables[1][2]:
        groups.add("dev")
    for group, where, table in tables:
        for name, given, table_spec in _dependency_specs(table, where, path):
            if name.lower() == "python":
                continue
            constraint = given or str(table_spec.get("version") or "*")
            roots.append(LockedDependency(
                normalize(name), constraint, _poetry_root_marker(table_spec),
                bool(table_spec.get("optional", False)),
                tuple(str(e) for e in table_spec.get("extras", [])), group,
                poetry_specifier(constraint)))
    return _Pyproject(tuple(roots), frozenset(groups), extras)


def _locked_package(raw: Mapping[str, Any], number: int,
                    arrays: list[list[dict[str, str]]], path: Path) -> LockedPackage:
    """The ``number``-th ``[[package]]`` table, its shape checked key by key.

    Raises:
        WheelguardError: a key missing or of the wrong type, a version that is not PEP 440
            (names the file, the package and the key).
    """
    name = _get(raw, "name", str, "", f"[[package]] #{number}", path)
    where = f"[[package]] #{number} ({printable(name)})" if name else f"[[package]] #{number}"
    version = _get(raw, "version", str, "", where, path)
    if not name or not version:
        raise WheelguardError(f"{where}: 'name' and 'version' are required",
                              filename=str(path))
    try:
        Version(version)
    except InvalidVersion as exc:
        raise WheelguardError(f"{where}: 'version' {printable(version)!r} is not a PEP 440 "
                              "version; run `poetry lock` again", filename=str(path)) from exc
    raw_files: Any = raw.get("files", [])
    if isinstance(raw_files, str) and raw_files.startswith(_FILES_REF) \
            and raw_files[len(_FILES_REF):].isdigit() \
            and int(raw_files[len(_FILES_REF):]) < len(arrays):
        raw_files = arrays[int(raw_files[len(_FILES_REF):])]
    else:
        raw_files = _items(_get(raw, "files", list, [], where, path), dict,
                           f"{where} files", path)
    files = []
    for f in raw_files:
        at = f"{where} files"
        file = _get(f, "file", str, "", at, path)
        if not file:
            raise WheelguardError(f"{at}: every entry needs 'file'", filename=str(path))
        url = _get(f, "url", str, "", at, path)
        digest = _get(f, "hash", str, "", at, path)
        files.append(Candidate(filename=file, url=redact_url(url) if url else "",
                               sha256=(digest.split(":", 1)[1].lower()
                                       if digest.startswith("sha256:") else None)))
    markers: Any = raw.get("markers")
    if isinstance(markers, dict):
        markers = {str(k): _get(markers, k, str, "", f"{where} markers", path)
                   for k in markers}
    elif markers is not None:
        markers = _get(raw, "markers", str, "", where, path) or None
    source = _get(raw, "source", dict, {}, where, path)
    source_type = _get(source, "type", str, "", f"{where} source", path)
    return LockedPackage(
        name=normalize(name),
        version=version,
        files=tuple(files),
        groups=tuple(_items(_get(raw, "groups", list, ["main"], where, path), str,
                            f"{where} groups", path)),
        markers=markers,
        dependencies=_dependencies(_get(raw, "dependencies", dict, {}, where, path),
                                   f"{where} dependencies", path),
        extras={k: tuple(v) for k, v in _string_lists(
            _get(raw, "extras", dict, {}, where, path), f"{where} extras", path).items()},
        source_type=source_type or None,
        source_url=redact_url(_get(source, "url", str, "", f"{where} source", path)),
    )


def read_poetry_lock(path: str | Path) -> Lock:
    """Parse a poetry.lock of format 2.0 or 2.1; a pyproject.toml beside it gives the
    project's direct dependencies (used to walk a 2.0 lock), its groups and extras.

    Raises:
        WheelguardError: unreadable, not TOML, another lock format, or a package without
            ``name``/``version`` (names the file).
    """
    p = Path(path)
    data, arrays = _load_lock_toml(p)
    metadata = _get(data, "metadata", dict, {}, "top level", p)
    version = str(_get(metadata, "lock-version", str, "", "[metadata]", p))
    if not version.startswith("2."):
        raise WheelguardError(
            f"lock format {version or 'unknown'} is not supported (2.0 and 2.1 are); "
            "run `poetry lock` with Poetry 1.5 or newer", filename=str(p))
    packages = [_locked_package(raw, n, arrays, p) for n, raw in enumerate(_items(
        _get(data, "package", list, [], "top level", p), dict, "[[package]]", p), 1)]
    lock_extras = _string_lists(_get(data, "extras", dict, {}, "top level", p), "[extras]", p)
    extras: dict[str, tuple[NormalizedName, ...]] = {
        normalize(k): tuple(_requirement_name(x) for x in v) for k, v in lock_extras.items()}
    pyproject = p.with_name("pyproject.toml")
    if not pyproject.is_file():
        return Lock(str(p), "poetry.lock", version, tuple(packages), (), extras, None)
    project = _read_pyproject(pyproject)
    return Lock(str(p), "poetry.lock", version, tuple(packages), project.roots,
                {**extras, **project.extras}, project.groups)


def _locked_for_21(lock: Lock, env: Mapping[str, str], extras: Sequence[str],
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


def _version_key(version: str) -> tuple[int, Version]:
    """Sort key of a locked version: PEP 440 versions by version order, after any other
    (a first-party package's missing or non-PEP 440 version)."""
    try:
        return 1, Version(version)
    except InvalidVersion:
        return 0, Version("0")


def walk_roots(lock: Lock, env: Mapping[str, str], extras: Sequence[str],
               groups: Sequence[str]) -> list[LockedPackage]:
    """Walk a lock from its roots along the dependency edges whose markers hold (a
    poetry.lock 2.0, and a uv.lock: :mod:`poetry_wheelguard.locks.uv`); in lock order.

    The roots are those of the selected ``groups`` (all when empty); an optional root is
    followed only when a requested root extra names it (Poetry installs it only then), a
    root or edge of one extra (:attr:`LockedDependency.extra`) only when that extra is
    requested of its package."""
    by_name: dict[NormalizedName, list[LockedPackage]] = {}
    for pkg in lock.packages:
        by_name.setdefault(pkg.name, []).append(pkg)
    wanted = {normalize(g) for g in groups}
    extra_roots = {n for e in extras for n in lock.extras.get(normalize(e), ())}
    wanted_extras = {normalize(e) for e in extras}
    roots = lock.roots
    if not roots:  # no pyproject beside the lock: every package nothing depends on,
        # optional when one of the lock's [extras] names it
        needed = {d.name for p in lock.packages for d in p.dependencies}
        in_extras = {n for names in lock.extras.values() for n in names}
        roots = tuple(LockedDependency(p.name, "*", None, p.name in in_extras, ())
                      for p in lock.packages if p.name not in needed)
    queue: list[tuple[NormalizedName, str, tuple[str, ...]]] = [
        (r.name, "*", r.extras) for r in roots
        if (not wanted or r.group in wanted)
        and (r.extra in wanted_extras if r.extra is not None
             else not r.optional or r.name in extra_roots)
        and marker_holds(r.markers, env, extras, lock.path)]
    chosen: dict[tuple[NormalizedName, str], set[str]] = {}
    while queue:
        name, constraint, want = queue.pop()
        candidates = [p for p in by_name.get(name, []) if _satisfies(p.version, constraint)]
        candidates = candidates or by_name.get(name, [])
        if not candidates:
            continue
        pkg = max(candidates, key=lambda p: _version_key(p.version))
        key = (pkg.name, pkg.version)
        seen = chosen.get(key)
        if seen is not None and set(want) <= seen:
            continue
        active = (seen or set()) | set(want)
        chosen[key] = active
        extra_deps = {_requirement_name(r) for e in active for r in pkg.extras.get(e, ())}
        for dep in pkg.dependencies:
            if dep.extra is not None:
                if dep.extra not in active:
                    continue
            elif dep.optional and dep.name not in extra_deps:
                continue
            if marker_holds(dep.markers, env, active, lock.path):
                queue.append((dep.name, dep.constraint, dep.extras))
    return [p for p in lock.packages if (p.name, p.version) in chosen]


def locked_packages_for(lock: Lock, target: Target, extras: Sequence[str] = (),
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
    ones (:func:`~poetry_wheelguard.planning.plan_lock` calls it).
    """
    env = marker_environment(target)
    if lock.lock_version == "2.0":
        return walk_roots(lock, env, extras, groups)
    return _locked_for_21(lock, env, extras, groups)


def project_groups(lock: Lock) -> frozenset[str] | None:
    """The project's dependency groups (normalized), as far as the lock tells: lock 2.1,
    every package's ``groups`` plus ``main`` and the groups pyproject.toml declares; lock
    2.0 records no groups, so only pyproject.toml beside it can tell (``None`` without
    one); a uv.lock or pylock.toml: the groups its reader declared."""
    if lock.format != "poetry.lock" or lock.lock_version == "2.0":
        return lock.declared_groups
    found = {"main", *(normalize(g) for p in lock.packages for g in p.groups)}
    return frozenset(found | (lock.declared_groups or frozenset()))


def check_selection(lock: Lock, extras: Sequence[str] = (), groups: Sequence[str] = (),
                    *, extras_option: str = "--extras", group_option: str = "--group") -> None:
    """Refuse group and extra names the project does not have, as Poetry refuses them
    (``Group(s) not found``, ``Extra [x] is not specified``) instead of planning an empty
    or unfiltered selection. Names compare normalized (PEP 503). The options are named in
    the error as the command spells them.

    Known groups: :func:`project_groups`. Known extras:
    :attr:`~poetry_wheelguard.locks.model.Lock.extras` (the lock's ``[extras]`` table and
    pyproject.toml's extras).

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

