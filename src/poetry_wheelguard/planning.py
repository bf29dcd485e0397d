"""Planning: for each target, the file each package would install from and the policy's
findings, without installing anything.

* :func:`plan_lock`: a lock (:mod:`poetry_wheelguard.locks`); the candidate files are the
  lock's, the file is the one the lock's installer picks (:func:`poetry_wheelguard.locks.
  installs_for`: Poetry's for a poetry.lock, uv's for a uv.lock, ``Pylock.select``'s for
  a pylock.toml). A poetry.lock is planned offline. A uv.lock or pylock.toml does not keep
  every file of a release (uv.lock leaves out the wheels outside the project's
  ``requires-python``, ``pip lock`` records one file), so with an injected ``lookup``
  each release is looked up on the index the lock names (or ``index_url``)
  (:func:`lookup_listings`); a locked file whose sha256 differs from the index's is
  refused, and a release none of whose locked files installs on the target gets
  ``LOCK_OTHER_TARGET`` (locked for another platform), not ``NO_DISTRIBUTION``.
* :func:`plan_requirements`: a requirement set (:mod:`poetry_wheelguard.requirements`); the
  candidate files come from the injected index client, unpinned requirements are resolved
  by pip's own resolver (:func:`poetry_wheelguard.resolve.pip_resolve`, with an injectable
  runner), the file is the one pip picks (:func:`~poetry_wheelguard.choosers.choose_like_pip`);
  then every transitive dependency as far as metadata that needs no build reaches
  (:func:`plan_dependencies`), the rest named (``DEPENDENCY_NOT_PLANNED``).

Findings come from :func:`poetry_wheelguard.policy.evaluate`, plus ``NO_DISTRIBUTION`` when no
file of the release installs on the target. Pure apart from the injected client and runner.

One concern, one module, whatever its length: planning a lock or a requirement set per target.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Optional

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from poetry_wheelguard.choosers import choose_like_pip, choose_like_uv
from poetry_wheelguard.config import Config
from poetry_wheelguard.dependencies import Requires, read_requires
from poetry_wheelguard.distfiles import normalize
from poetry_wheelguard.errors import IndexFetchError, WheelguardError
from poetry_wheelguard.locks import Lock, LockedPackage, check_selection, installs_for
from poetry_wheelguard.markers import marker_environment, marker_holds
from poetry_wheelguard.models import Candidate, Finding, NormalizedName, PackageRecord, Selection
from poetry_wheelguard.policy import (
    apply_lock,
    evaluate,
    no_distribution,
    record_for,
    verdict_for,
    version_hint,
)
from poetry_wheelguard.requirements import PinnedRequirement, RequirementSet
from poetry_wheelguard.resolve import NoWheelResolution, pip_resolve
from poetry_wheelguard.targets import Runner, Target


@dataclass
class PlanResult:
    """The plan: per target, one record per package (in input order).

    Attributes:
        installer: whose choice was reproduced: ``poetry`` (lock) or ``pip``.
        targets: the targets, in command-line order.
        records: ``{target name: [PackageRecord, ...]}``.
        notes: one line each, for the user (``PROG: note: ...``) and the report
            (``plan.notes``): how the plan was made where it differs from the usual.
    """

    installer: str
    targets: list[Target]
    records: dict[str, list[PackageRecord]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

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


def plan_lock(lock: Lock, targets: Sequence[Target], config: Config,
              extras: Sequence[str] = (), groups: Sequence[str] = (), *,
              lookup: Callable[[str], Any] | None = None, index_url: str | None = None,
              python_full_version: str | None = None) -> PlanResult:
    """Plan a lock for each target, with its installer's choice of file
    (:func:`poetry_wheelguard.locks.installs_for`; ``python_full_version`` as there).

    ``lookup(index_url)`` returns an :class:`~poetry_wheelguard.index.IndexClient` for one
    index; given, a uv.lock's or pylock.toml's releases are looked up on their index (module
    docstring), on ``index_url`` when given; ``None`` plans from the lock's files alone. A
    poetry.lock is always planned offline. ``other_versions`` for hints are the other
    versions of the same name in the lock, or on the index.
    The ``specifier`` of a root package is the project's own constraint on it
    (:func:`root_specifiers`).

    Raises:
        ConfigError: an unknown group or extra (:func:`check_selection`), a pylock.toml
            that excludes the target.
        IndexFetchError: a release's index cannot be read.
        WheelguardError: an invalid environment marker in the lock, a locked file whose
            sha256 is not the index's.
    """
    check_selection(lock, extras, groups)
    poetry_lock = lock.format == "poetry.lock"
    result = PlanResult("poetry" if poetry_lock else "uv", list(targets))
    per_target = {t.name: installs_for(lock, t, extras, groups, python_full_version)
                  for t in targets}
    listings: dict[tuple[str, str], Any] | None = None
    if lookup is not None and not poetry_lock:
        every = [pkg for pairs in per_target.values() for pkg, _ in pairs]
        try:
            listings = lookup_listings(every, index_url, lookup)
        except IndexFetchError as exc:
            raise IndexFetchError(f"{exc.reason} (looking up the lock's releases; "
                                  "--offline plans from the lock alone)",
                                  package=exc.package) from exc
    by_name: dict[NormalizedName, list[LockedPackage]] = {}
    for pkg in lock.packages:
        by_name.setdefault(pkg.name, []).append(pkg)
    specifiers = root_specifiers(lock)
    for target in targets:
        if poetry_lock:
            recs = []
            for pkg, chosen in per_target[target.name]:
                others = tuple((p.version, tuple(f.filename for f in p.files))
                               for p in by_name[pkg.name] if p is not pkg)
                base = Selection(name=pkg.name, version=pkg.version,
                                 chosen=Candidate(filename="", url=pkg.source_url),
                                 candidates=pkg.files, other_versions=others,
                                 index=pkg.source_url, first_party=pkg.first_party,
                                 specifier=specifiers.get(pkg.name, ""), others_known=False)
                sel = replace(base, chosen=chosen) if chosen is not None else None
                recs.append(plan_selection(sel, base, target, config))
        else:
            recs = plan_installs(per_target[target.name], target, config, listings,
                                 index_url, lock.path, _refresh_hint(lock))
        result.records[target.name] = recs
    return result


def root_specifiers(lock: Lock) -> dict[NormalizedName, str]:
    """``{name: PEP 440 specifier}`` of the project's direct dependencies (the lock's
    roots, each root's :attr:`~poetry_wheelguard.locks.LockedDependency.specifier`); a
    name constrained in several groups gets every constraint (all hold)."""
    out: dict[NormalizedName, list[str]] = {}
    for root in lock.roots:
        if root.specifier:
            out.setdefault(root.name, []).append(root.specifier)
    return {name: ",".join(dict.fromkeys(specs)) for name, specs in out.items()}


def plan_requirements(reqs: RequirementSet, targets: Sequence[Target], config: Config,
                      client: Any, index_args: Sequence[str] = (),
                      runner: Runner | None = None, dependencies: bool = True) -> PlanResult:
    """Plan requirements for each target with pip's choice of file, and (``dependencies``)
    their transitive dependencies as far as metadata that needs no build reaches
    (:func:`plan_dependencies`).

    ``client`` is an :class:`~poetry_wheelguard.index.IndexClient`. Requirements whose
    markers do not hold for a target are left out there. A package the user required
    with a range gets the requirement's specifier (``>=0.25,<0.26``) for the hints
    (:func:`_hint_specifier`); pins and packages pip's resolver added get none.

    When pip's wheels-only resolution stops at a project with no wheel for the target
    (:class:`~poetry_wheelguard.resolve.NoWheelResolution`), the ranges of that target are
    planned without pip's resolver, with ``dependencies``: each gets the newest release
    inside it that has a file (:func:`_newest_fitting`, an sdist included), then the walk
    of :func:`plan_dependencies`; a line in :attr:`PlanResult.notes` says so.

    Raises:
        IndexFetchError: from the index client or the resolver (a dependency's listing
            that cannot be read is a finding instead).
        WheelguardError: a pinned version the index does not list; a range without a
            release that has a file for the target (planned without pip's resolver).
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
            try:
                resolved = pip_resolve(target, [str(r.requirement) for r in loose],
                                       index_args, runner)
            except NoWheelResolution as exc:
                if not dependencies:
                    raise
                why = exc.reason.split(" (resolution uses wheels only", 1)[0]
                result.notes.append(
                    f"{target.name}: pip's wheels-only resolution stopped ({why}); "
                    "the ranges were planned without it: the newest release inside each "
                    "range that has a file for the target, then their dependencies, without "
                    "backtracking")
                resolved = {r.name: "" for r in loose}  # chosen below, from the listing
            have = {n for n, _, _ in rows}
            by_name = {r.name: r for r in loose}
            rows += [(n, v, by_name.get(n)) for n, v in resolved.items() if n not in have]
        per_target[target.name] = rows
    names = list(dict.fromkeys(n for rows in per_target.values() for n, _, _ in rows))
    listings: dict[NormalizedName, Any] = client.listings(names) if names else {}
    metadata: dict[str, Requires] = {}
    for target in targets:
        recs = []
        extras: dict[NormalizedName, frozenset[str]] = {}
        for name, version, req in per_target[target.name]:
            listing = listings[name]
            if not version and req is not None:  # a range pip's resolver could not take
                picked = _newest_fitting(listing, req.requirement.specifier, target)
                if picked is None:
                    raise WheelguardError(
                        f"no release inside {req.requirement.specifier or 'any version'} "
                        f"has a file for {target.name}; widen the range", package=name)
                version = picked
            key = _listed_version(version, listing.versions())
            if key is None:
                raise WheelguardError(
                    f"version {version} is not on {', '.join(listing.sources)}; "
                    f"check the pin", package=name)
            recs.append(_requirement_record(name, key, listing, target, config,
                                            req.hashes if req else frozenset(),
                                            _hint_specifier(req)))
            if req is not None:
                extras[name] = extras.get(name, frozenset()) | frozenset(
                    req.requirement.extras)
        if dependencies:
            user = {r.name for r in reqs.requirements}
            plan_dependencies(recs, extras, user, target, config, client, listings, metadata)
        result.records[target.name] = recs
    return result


def _requirement_record(name: NormalizedName, key: str, listing: Any, target: Target,
                        config: Config, hashes: frozenset[str], specifier: str,
                        required_by: tuple[str, ...] = (), pinned: bool = True
                        ) -> PackageRecord:
    """The record of release ``key`` of ``listing`` on ``target``, with pip's choice of
    file (:func:`choose_like_pip`)."""
    files = listing.versions()[key]
    choice = choose_like_pip([f.candidate for f in files], target, hashes, pinned)
    source = next((f.source for f in files
                   if choice.chosen and f.candidate is choice.chosen), files[0].source)
    others = listing.other_versions(exclude=key)  # yanked files left out
    base = Selection(name=name, version=key, chosen=Candidate(filename=""),
                     candidates=choice.candidates, other_versions=others,
                     index=source, specifier=specifier, required_by=required_by)
    sel = replace(base, chosen=choice.chosen) if choice.chosen else None
    return plan_selection(sel, base, target, config)


DEPENDENCY_NOT_PLANNED = "DEPENDENCY_NOT_PLANNED"
"""A dependency that plan could not plan, or a package whose dependencies cannot be known
without a build (docs/codes.md)."""

_NOT_PLANNED_HINT = ("to plan it, pin what is needed as NAME==VERSION in the requirements "
                     "(pip-compile or pip freeze writes the whole set)")


def _not_planned(rec: PackageRecord, config: Config, message: str) -> None:
    rec.findings.append(Finding(DEPENDENCY_NOT_PLANNED, "warning", message, _NOT_PLANNED_HINT))
    rec.verdict = verdict_for(rec.findings, config.strict)


def _newest_fitting(listing: Any, spec: SpecifierSet, target: Target) -> str | None:
    """The version pip would take for a dependency on ``target``: the newest release inside
    ``spec`` (PEP 440 pre-release rules: ``SpecifierSet.filter``) one of whose files
    installs there (:func:`choose_like_pip`: wheels by tag, an sdist otherwise; yanked files
    only for an exact pin); ``None`` when there is none."""
    versions = listing.versions()
    parsed = []
    for key in versions:
        try:
            parsed.append(Version(key))
        except InvalidVersion:
            continue  # pip ignores a file whose version is not PEP 440
    pinned = any(s.operator in {"==", "==="} for s in spec)
    for version in spec.filter(sorted(parsed, reverse=True)):
        files = [f.candidate for f in versions[str(version)]]
        if choose_like_pip(files, target, pinned=pinned).chosen is not None:
            return str(version)
    return None


def _fetch_listings(client: Any, names: Sequence[NormalizedName],
                    out: dict[NormalizedName, Any]) -> None:
    """Listings of ``names`` into ``out``; a project whose listing cannot be read gets its
    :class:`IndexFetchError` there instead (named as not planned, not raised)."""
    wanted = [n for n in dict.fromkeys(names) if n not in out]
    if not wanted:
        return
    try:
        out.update(client.listings(wanted))
    except IndexFetchError:
        for name in wanted:
            try:
                out[name] = client.listing(name)
            except IndexFetchError as exc:
                out[name] = exc


def plan_dependencies(recs: list[PackageRecord], extras: Mapping[NormalizedName, frozenset[str]],
                      user: set[NormalizedName], target: Target, config: Config, client: Any,
                      listings: dict[NormalizedName, Any], metadata: dict[str, Requires]
                      ) -> None:
    """Add to ``recs`` (one target's records, changed in place) every dependency of theirs
    that is not there yet, transitively, breadth first, as pip would choose it.

    Each chosen file's ``Requires-Dist`` comes from metadata that needs no build
    (:func:`~poetry_wheelguard.dependencies.read_requires`, cached in ``metadata`` by URL
    across targets); markers are evaluated for ``target`` with the extras asked for the
    package (``extras``, by name; a dependency's from its requirement). A new dependency
    gets the newest release inside every specifier seen for it that has a file for the
    target (:func:`_newest_fitting`), its record ``required_by`` its parents. Nothing is
    guessed: a ``DEPENDENCY_NOT_PLANNED`` warning names, on the package concerned, a file
    whose dependencies cannot be read (dynamic sdist metadata, ...), a dependency off the
    index or with no fitting release, and a planned version outside a dependency's
    specifier (a conflict pip would refuse). ``user`` holds the names the user required
    (never marked ``required_by``). ``listings`` (by name) is read and filled.
    """
    env = marker_environment(target)
    planned = {r.selection.name: r for r in recs}
    done: dict[NormalizedName, frozenset[str]] = {}
    specs: dict[NormalizedName, list[str]] = {}
    queue = [(r.selection.name, extras.get(r.selection.name, frozenset())) for r in recs]
    while queue:
        level, queue = queue, []
        wanted: list[tuple[PackageRecord, Requirement]] = []
        for name, asked in level:
            have = done.get(name)
            if have is not None and asked <= have:
                continue
            asked = asked | (have or frozenset())
            done[name] = asked
            rec = planned[name]
            chosen = rec.selection.chosen
            if not chosen.filename:
                continue  # NO_DISTRIBUTION: no file, no metadata
            where = chosen.url or chosen.filename
            if where not in metadata:
                metadata[where] = read_requires(chosen, client, name)
            got = metadata[where]
            if isinstance(got, str):
                if have is None:
                    _not_planned(rec, config, f"{name} {rec.selection.version}: its "
                                 f"dependencies are not planned: {got}")
                continue
            for line in got:
                try:
                    req = Requirement(line)
                    holds = marker_holds(str(req.marker or ""), env, tuple(asked),
                                         f"{chosen.filename} metadata")
                except (InvalidRequirement, WheelguardError) as exc:
                    first = (str(exc).splitlines() or ["invalid"])[0]
                    _not_planned(rec, config, f"{name} {rec.selection.version}: dependency "
                                 f"{line!r} not planned: not valid PEP 508 ({first})")
                    continue
                if holds:
                    wanted.append((rec, req))
        _fetch_listings(client, [normalize(r.name) for _, r in wanted
                                 if normalize(r.name) not in planned], listings)
        for _, req in wanted:  # every specifier of the level before any choice
            if str(req.specifier) and not req.url:
                specs.setdefault(normalize(req.name), []).append(str(req.specifier))
        for parent, req in wanted:
            dep, who = normalize(req.name), parent.selection.name
            if req.url:
                _not_planned(parent, config, f"{who}: dependency {req.name} @ URL not "
                             "planned: a direct reference is built or downloaded as given")
                continue
            known = planned.get(dep)
            if known is None:
                listing = listings[dep]
                spec = SpecifierSet(",".join(specs.get(dep, [])))
                if isinstance(listing, IndexFetchError):
                    _not_planned(parent, config, f"{who}: dependency {req.name} not planned: "
                                 f"{listing.reason}")
                    continue
                key = _newest_fitting(listing, spec, target)
                if key is None:
                    _not_planned(parent, config, f"{who}: dependency {req.name}{spec} not "
                                 f"planned: no release inside it has a file for {target.name}")
                    continue
                new = _requirement_record(dep, key, listing, target, config, frozenset(),
                                          str(spec), (who,), pinned=False)
                planned[dep] = new
                recs.append(new)
            elif not req.specifier.contains(known.selection.version, prereleases=True):
                by = (f"required by {', '.join(known.selection.required_by)}"
                      if known.selection.required_by else "as required")
                _not_planned(parent, config, f"{who}: requires {req.name}{req.specifier}, but "
                             f"{dep} {known.selection.version} is planned ({by}): a conflict "
                             "pip's resolver would refuse")
                continue
            elif dep not in user and who not in known.selection.required_by:
                known.selection = replace(known.selection,
                                          required_by=(*known.selection.required_by, who))
            queue.append((dep, frozenset(req.extras)))


def _hint_specifier(req: PinnedRequirement | None) -> str:
    """The specifier that bounds the hints of a required package: the requirement's own,
    except for an exact pin (``==V``/``===V``), inside which no other version can be named
    (the hints then name the nearest versions as they are); ``""`` for a package only
    pip's resolver added."""
    if req is None or req.pin is not None:
        return ""
    return str(req.requirement.specifier)


def _listed_version(version: str, versions: Mapping[str, Any]) -> str | None:
    """The key of ``versions`` (a listing's ``{version: files}``) that is the pinned
    ``version``: the pin in its PEP 440 normal form (``1.0-A1`` -> ``1.0a1``), or as
    written when it is not PEP 440. ``None`` when the listing does not have it."""
    try:
        want = str(Version(version))
    except InvalidVersion:
        return version if version in versions else None
    return want if want in versions else None



LOCK_OTHER_TARGET = "LOCK_OTHER_TARGET"
"""A release none of whose locked files installs on the target (docs/codes.md)."""

Install = tuple[LockedPackage, Optional[Candidate]]
"""A package and the file its installer takes on one target (``None``: none installs)."""


def _refresh_hint(lock: Lock) -> str:
    return ("uv lock --upgrade-package NAME" if lock.format == "uv.lock"
            else "write the pylock.toml again (uv export / pip lock)")


def lookup_listings(packages: Sequence[LockedPackage], index_url: str | None,
                    lookup: Callable[[str], Any]) -> dict[tuple[str, str], Any]:
    """The index listing (:class:`~poetry_wheelguard.index.ProjectListing`) of every
    registry package, keyed ``(index, name)``: on ``index_url`` when given, else on each
    package's own index (``source_url``); first-party packages and packages without an
    index are not looked up.

    Raises:
        IndexFetchError: an index cannot be read, or a locked release is not on it.
    """
    wanted: dict[str, list[str]] = {}
    for pkg in packages:
        where = index_url or pkg.source_url
        if pkg.first_party or not where:
            continue
        wanted.setdefault(where, []).append(pkg.name)
    out: dict[tuple[str, str], Any] = {}
    for where, names in wanted.items():
        for name, listing in lookup(where).listings(list(dict.fromkeys(names))).items():
            out[(where, name)] = listing
    return out


def _merge(pkg: LockedPackage, listing: Any, lock_path: str,
           ) -> tuple[tuple[Candidate, ...], tuple[tuple[str, tuple[str, ...]], ...]]:
    """The release's candidates: the lock's files, then the index's other files of the
    same version (passed over: "not in the lock"); and the other versions for hints.

    Raises:
        WheelguardError: a locked file whose sha256 differs from the index's.
    """
    if listing is None:
        return pkg.files, ()
    versions = listing.versions()
    key = _listed_version(pkg.version, versions)
    listed = [f.candidate for f in versions.get(key, [])] if key else []
    locked = {c.filename: c for c in pkg.files}
    for cand in listed:
        mine = locked.get(cand.filename)
        if mine and mine.sha256 and cand.sha256 and mine.sha256 != cand.sha256:
            raise WheelguardError(
                f"{cand.filename}: the lock's sha256 {mine.sha256[:16]}... is not the "
                f"index's {cand.sha256[:16]}...; the lock does not describe what the index "
                "serves: lock again (or check the index)", package=pkg.name, filename=lock_path)
    extra = tuple(replace(c, rejected_reason="not in the lock") for c in listed
                  if c.filename not in locked)
    others = listing.other_versions(exclude=key)  # yanked files left out (PEP 592)
    return (*pkg.files, *extra), others


def _other_target_finding(pkg: LockedPackage, candidates: Sequence[Candidate],
                          target: Target, looked_up: bool) -> Finding:
    names = ", ".join(c.filename for c in pkg.files[:3]) or "no file"
    more = f" (+{len(pkg.files) - 3} more)" if len(pkg.files) > 3 else ""
    fits = choose_like_uv([c for c in candidates if c.rejected_reason], target)
    if fits is not None:
        hint = (f"the release has {fits.filename} for {target.name}: lock for this target "
                "(run the locker there, or uv lock for every platform)")
    elif looked_up:
        hint = "the release has no file for this target either; pick another version"
    else:
        hint = "give --index-url URL (without --offline) to look the release up"
    return Finding(
        LOCK_OTHER_TARGET, "error",
        f"{pkg.name} {pkg.version}: the lock holds {names}{more}, none of which installs "
        f"on {target.name}: it was locked for another platform", hint)


def plan_installs(installs: Sequence[Install], target: Target, config: Config,
                  listings: Mapping[tuple[str, str], Any] | None, index_url: str | None,
                  lock_path: str, refresh_hint: str) -> list[PackageRecord]:
    """One record per install on ``target`` (a uv.lock's, a pylock.toml's, or pins planned
    as uv picks): the policy's evaluation of the chosen file, with
    :func:`~poetry_wheelguard.policy.apply_lock` against the lock's hashes (a compatible
    wheel the lock lacks is ``LOCK_MISSING_WHEEL``, hint ``refresh_hint``); or
    ``LOCK_OTHER_TARGET`` when no locked file installs there. ``listings`` from
    :func:`lookup_listings` (``None``: the lock's files alone).

    Raises:
        WheelguardError: a hash mismatch between the lock and the index (:func:`_merge`).
    """
    recs: list[PackageRecord] = []
    for pkg, chosen in installs:
        where = index_url or pkg.source_url
        listing = listings.get((where, pkg.name)) if listings is not None else None
        candidates, others = _merge(pkg, listing, lock_path)
        base = Selection(name=pkg.name, version=pkg.version,
                         chosen=chosen or Candidate(filename="", url=""),
                         candidates=candidates, other_versions=others,
                         index="" if pkg.first_party else where, first_party=pkg.first_party)
        if chosen is None:
            finding = _other_target_finding(pkg, candidates, target, listing is not None)
            recs.append(PackageRecord(selection=base, kind=None, tags=(), pure=False,
                                      findings=[finding],
                                      verdict=verdict_for([finding], config.strict)))
            continue
        evaluation = evaluate(base, target, config)
        hashes = [f"sha256:{c.sha256}" for c in pkg.files if c.sha256]
        evaluation = apply_lock(base, evaluation, target, config, hashes, refresh_hint)
        recs.append(record_for(base, evaluation))
    return recs
