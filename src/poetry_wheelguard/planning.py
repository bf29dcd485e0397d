"""Planning: for each target, the file each package would install from and the policy's
findings, without installing anything.

* :func:`plan_lock`: a lock (:mod:`poetry_wheelguard.locks`), offline; the candidate files
  are the lock's, the file is the one the lock's installer picks
  (:func:`~poetry_wheelguard.choosers.choose_like_poetry` for a poetry.lock).
* :func:`plan_requirements`: a requirement set (:mod:`poetry_wheelguard.requirements`); the
  candidate files come from the injected index client, unpinned requirements are resolved
  by pip's own resolver (:func:`poetry_wheelguard.resolve.pip_resolve`, with an injectable
  runner), the file is the one pip picks (:func:`~poetry_wheelguard.choosers.choose_like_pip`).

Findings come from :func:`poetry_wheelguard.policy.evaluate`, plus ``NO_DISTRIBUTION`` when no
file of the release installs on the target. Pure apart from the injected client and runner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from packaging.version import InvalidVersion, Version

from poetry_wheelguard.choosers import choose_like_pip, choose_like_poetry
from poetry_wheelguard.config import Config
from poetry_wheelguard.errors import WheelguardError
from poetry_wheelguard.locks import Lock, LockedPackage, check_selection, locked_packages_for
from poetry_wheelguard.markers import marker_environment, marker_holds
from poetry_wheelguard.models import Candidate, NormalizedName, PackageRecord, Selection
from poetry_wheelguard.policy import (
    evaluate,
    no_distribution,
    record_for,
    verdict_for,
    version_hint,
)
from poetry_wheelguard.requirements import PinnedRequirement, RequirementSet
from poetry_wheelguard.resolve import pip_resolve
from poetry_wheelguard.targets import Runner, Target


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


def plan_lock(lock: Lock, targets: Sequence[Target], config: Config,
              extras: Sequence[str] = (), groups: Sequence[str] = ()) -> PlanResult:
    """Plan a lock offline for each target, with its installer's choice of file (a
    poetry.lock: Poetry's).

    ``other_versions`` for hints are the other versions of the same name in the lock; the
    ``specifier`` of a root package is the project's own constraint on it
    (:func:`root_specifiers`).

    Raises:
        ConfigError: an unknown group or extra (:func:`check_selection`).
        WheelguardError: an invalid environment marker in the lock.
    """
    check_selection(lock, extras, groups)
    result = PlanResult("poetry", list(targets))
    by_name: dict[NormalizedName, list[LockedPackage]] = {}
    for pkg in lock.packages:
        by_name.setdefault(pkg.name, []).append(pkg)
    specifiers = root_specifiers(lock)
    for target in targets:
        recs = []
        for pkg in locked_packages_for(lock, target, extras, groups):
            others = tuple((p.version, tuple(f.filename for f in p.files))
                           for p in by_name[pkg.name] if p is not pkg)
            first_party = pkg.first_party
            base = Selection(name=pkg.name, version=pkg.version,
                             chosen=Candidate(filename="", url=pkg.source_url),
                             candidates=pkg.files, other_versions=others,
                             index=pkg.source_url, first_party=first_party,
                             specifier=specifiers.get(pkg.name, ""))
            if first_party:
                chosen: Candidate | None = Candidate(filename=pkg.source_url or pkg.name,
                                                     url=pkg.source_url)
            else:
                chosen = choose_like_poetry(pkg.files, target)
            sel = replace(base, chosen=chosen) if chosen is not None else None
            recs.append(plan_selection(sel, base, target, config))
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
                      runner: Runner | None = None) -> PlanResult:
    """Plan requirements for each target with pip's choice of file.

    ``client`` is an :class:`~poetry_wheelguard.index.IndexClient`. Requirements whose
    markers do not hold for a target are left out there. A package the user required
    with a range gets the requirement's specifier (``>=0.25,<0.26``) for the hints
    (:func:`_hint_specifier`); pins and packages pip's resolver added get none.

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
            key = _listed_version(version, versions)
            if key is None:
                raise WheelguardError(
                    f"version {version} is not on {', '.join(listing.sources)}; "
                    f"check the pin", package=name)
            files = versions[key]
            cands = [f.candidate for f in files]
            choice = choose_like_pip(cands, target, req.hashes if req else frozenset())
            source = next((f.source for f in files
                           if choice.chosen and f.candidate is choice.chosen), files[0].source)
            others = listing.other_versions(exclude=key)  # yanked files left out
            base = Selection(name=name, version=key, chosen=Candidate(filename=""),
                             candidates=choice.candidates, other_versions=others,
                             index=source, specifier=_hint_specifier(req))
            sel = replace(base, chosen=choice.chosen) if choice.chosen else None
            recs.append(plan_selection(sel, base, target, config))
        result.records[target.name] = recs
    return result


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

