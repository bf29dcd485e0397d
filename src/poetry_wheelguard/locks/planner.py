"""Plan a uv.lock or pylock.toml: locked releases -> selections -> the policy's records.

Neither format keeps every file of a release: uv.lock leaves out the wheels outside the
project's ``requires-python`` (aiohttp 3.6.2's cp35-cp37 wheels on a ``>=3.11`` project),
and ``pip lock`` records only the file chosen for the platform it ran on. Whether a pure
wheel is a fallback needs those files, so each registry release is looked up on the index
the lock names (uv ``source.registry``, pylock ``packages.index``), or on ``--index-url``
when given; ``--offline`` plans from the lock's files alone. A file the lock records with
another sha256 than the index lists is refused (one line, exit 12): the lock does not
describe what the index serves.

A release none of whose locked files installs on the target gets ``LOCK_OTHER_TARGET``
(the lock was made for another platform), not ``NO_DISTRIBUTION``; with the index listing,
its hint names the release's file for the target.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Union

from poetry_wheelguard.config import Config
from poetry_wheelguard.distfiles import try_classify
from poetry_wheelguard.errors import IndexFetchError, WheelguardError
from poetry_wheelguard.index import IndexClient, IndexConfig, ProjectListing
from poetry_wheelguard.locks import pylock as pylock_mod
from poetry_wheelguard.locks import uv as uv_mod
from poetry_wheelguard.locks.neutral import LockedRelease, LockInfo
from poetry_wheelguard.models import Candidate, Finding, PackageRecord, Selection
from poetry_wheelguard.policy import apply_lock, evaluate, record_for, verdict_for
from poetry_wheelguard.targets import Target

LOCK_OTHER_TARGET = "LOCK_OTHER_TARGET"

OtherLock = Union[uv_mod.UvLock, pylock_mod.PylockFile]
ClientFactory = Callable[[str], IndexClient]


def lock_kind(path: str | Path, text: str | None = None) -> str | None:
    """``uv.lock``, ``pylock.toml`` or ``None`` (poetry.lock or unknown), by file name
    first (``uv.lock``; PEP 751's ``pylock.toml`` / ``pylock.<name>.toml``), then by
    content for other names: a top-level ``lock-version`` with ``[[packages]]`` is PEP 751,
    ``version`` with ``[[package]]`` and no ``[metadata]`` is uv."""
    p = Path(path)
    if p.name == "uv.lock":
        return "uv.lock"
    if pylock_mod.is_pylock_name(p):
        return "pylock.toml"
    if p.name == "poetry.lock" or text is None:
        return None
    head = text[:4096]
    if "\nlock-version" in "\n" + head and "[[packages]]" in text:
        return "pylock.toml"
    if "\nversion = " in "\n" + head and "[[package]]" in text and "[metadata]" not in text:
        return "uv.lock"
    return None


def read_other_lock(path: str | Path, kind: str) -> OtherLock:
    """Read a uv.lock or pylock.toml (``kind`` from :func:`lock_kind`).

    Raises:
        WheelguardError: unreadable, corrupt or truncated, or a format version not
            understood (one line each, naming the file).
    """
    if kind == "uv.lock":
        return uv_mod.read_uv_lock(path)
    return pylock_mod.read_pylock(path)


def lock_info(lock: OtherLock) -> LockInfo:
    """The :class:`LockInfo` of either kind."""
    return lock.info


def releases_for(lock: OtherLock, target: Target, extras: Sequence[str] = (),
                 groups: Sequence[str] | None = None, python_full_version: str | None = None,
                 ) -> list[LockedRelease]:
    """The releases installed on ``target`` from either kind of lock
    (``python_full_version``: see :func:`.pylock.releases_for`)."""
    if isinstance(lock, uv_mod.UvLock):
        return uv_mod.releases_for(lock, target, extras, groups)
    return pylock_mod.releases_for(lock, target, extras, groups, python_full_version)


def default_client(index_url: str) -> IndexClient:
    """An index client for one index (PEP 691/503), with the page cache."""
    from poetry_wheelguard.index import default_cache_dir

    return IndexClient(IndexConfig(index_urls=(index_url,), cache_dir=default_cache_dir()))


def lookup_releases(releases: Sequence[LockedRelease], index_url: str | None,
                    client_factory: ClientFactory = default_client,
                    ) -> dict[tuple[str, str], ProjectListing]:
    """The index listing of every registry release, keyed ``(index, name)``: on
    ``index_url`` when given, else on each release's own index.

    Raises:
        IndexFetchError: an index cannot be read, or a locked release is not on it.
    """
    wanted: dict[str, list[str]] = {}
    for rel in releases:
        where = index_url or rel.index
        if rel.first_party or not where:
            continue
        wanted.setdefault(where, []).append(rel.name)
    out: dict[tuple[str, str], ProjectListing] = {}
    for where, names in wanted.items():
        for name, listing in client_factory(where).listings(names).items():
            out[(where, name)] = listing
    return out


def _merge(rel: LockedRelease, listing: ProjectListing | None, lock_path: str,
           ) -> tuple[tuple[Candidate, ...], tuple[tuple[str, tuple[str, ...]], ...]]:
    """The release's candidates: the lock's files, then the index's other files of the
    same version (passed over: "not in the lock"); and the other versions for hints.

    Raises:
        WheelguardError: a locked file whose sha256 differs from the index's.
    """
    if listing is None:
        return rel.files, ()
    versions = listing.versions()
    key = next((v for v in versions if _same_version(v, rel.version)), None)
    listed = [f.candidate for f in versions.get(key, [])] if key else []
    locked = {c.filename: c for c in rel.files}
    for cand in listed:
        mine = locked.get(cand.filename)
        if mine and mine.sha256 and cand.sha256 and mine.sha256 != cand.sha256:
            raise WheelguardError(
                f"{cand.filename}: the lock's sha256 {mine.sha256[:16]}... is not the "
                f"index's {cand.sha256[:16]}...; the lock does not describe what the index "
                "serves: lock again (or check the index)", package=rel.name, filename=lock_path)
    extra = tuple(replace(c, rejected_reason="not in the lock") for c in listed
                  if c.filename not in locked)
    others = tuple((v, tuple(f.candidate.filename for f in fs)) for v, fs in versions.items()
                   if v != key)
    return (*rel.files, *extra), others


def _same_version(a: str, b: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def _other_target_finding(rel: LockedRelease, candidates: Sequence[Candidate],
                          target: Target, looked_up: bool) -> Finding:
    from poetry_wheelguard.locks.uv import choose_like_uv

    names = ", ".join(c.filename for c in rel.files[:3]) or "no file"
    more = f" (+{len(rel.files) - 3} more)" if len(rel.files) > 3 else ""
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
        f"{rel.name} {rel.version}: the lock holds {names}{more}, none of which installs "
        f"on {target.name}: it was locked for another platform", hint)


def plan_releases(releases: Sequence[LockedRelease], target: Target, config: Config,
                  listings: dict[tuple[str, str], ProjectListing] | None,
                  index_url: str | None, lock_path: str, refresh_hint: str,
                  ) -> list[PackageRecord]:
    """One record per release on ``target``: the policy's evaluation of the locked file
    (with :func:`~poetry_wheelguard.policy.apply_lock` against the lock's hashes), or
    ``LOCK_OTHER_TARGET``.

    Raises:
        WheelguardError: a hash mismatch between the lock and the index (:func:`_merge`).
    """
    recs: list[PackageRecord] = []
    for rel in releases:
        listing = None
        if listings is not None:
            listing = listings.get((index_url or rel.index, rel.name))
        candidates, others = _merge(rel, listing, lock_path)
        base = Selection(name=rel.name, version=rel.version,
                         chosen=rel.chosen or Candidate(filename="", url=""),
                         candidates=candidates, other_versions=others,
                         index=index_url or rel.index, first_party=rel.first_party)
        if rel.chosen is None:
            finding = _other_target_finding(rel, candidates, target, listing is not None)
            recs.append(PackageRecord(selection=base, kind=None, tags=(), pure=False,
                                      findings=[finding],
                                      verdict=verdict_for([finding], config.strict)))
            continue
        evaluation = evaluate(base, target, config)
        hashes = [f"sha256:{c.sha256}" for c in rel.files if c.sha256]
        evaluation = apply_lock(base, evaluation, target, config, hashes, refresh_hint)
        recs.append(record_for(base, evaluation))
    return recs


def plan_other_lock(lock: OtherLock, targets: Sequence[Target], config: Config, *,
                    extras: Sequence[str] = (), groups: Sequence[str] | None = None,
                    index_url: str | None = None, offline: bool = False,
                    client_factory: ClientFactory = default_client,
                    python_full_version: str | None = None,
                    ) -> tuple[str, dict[str, list[PackageRecord]], dict[str, Any]]:
    """Plan ``lock`` for every target: ``(installer, {target name: records}, report
    extra)``. The installer whose choice is reproduced is ``uv`` for uv.lock and for
    pylock.toml (uv and pip select a PEP 751 lock's files alike: best tag, else sdist).

    Raises:
        ConfigError: unknown extra or group, or a target the lock excludes.
        IndexFetchError: the index of a release cannot be read.
        WheelguardError: a hash mismatch, an invalid marker.
    """
    info = lock_info(lock)
    hint = ("uv lock --upgrade-package NAME" if info.kind == "uv.lock"
            else "write the pylock.toml again (uv export / pip lock)")
    per_target = {t.name: releases_for(lock, t, extras, groups, python_full_version)
                  for t in targets}
    listings = None
    if not offline:
        every = [r for rels in per_target.values() for r in rels]
        try:
            listings = lookup_releases(every, index_url, client_factory)
        except IndexFetchError as exc:
            raise IndexFetchError(f"{exc.reason} (looking up the lock's releases; "
                                  "--offline plans from the lock alone)",
                                  package=exc.package) from exc
    records = {t.name: plan_releases(per_target[t.name], t, config, listings, index_url,
                                     info.path, hint) for t in targets}
    extra = {"lock": info.path, "lock_format": info.kind, "lock_version": info.version,
             "index_lookup": not offline}
    return "uv", records, extra


def chosen_files(records: Sequence[PackageRecord]) -> list[str]:
    """The file names of the records' chosen files (for messages and tests)."""
    return [r.selection.chosen.filename for r in records
            if try_classify(r.selection.chosen.filename) is not None]
