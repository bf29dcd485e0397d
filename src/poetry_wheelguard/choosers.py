"""Which file of one release an installer picks for a target: like pip
(:func:`choose_like_pip`, pip's ``CandidateEvaluator``), like Poetry
(:func:`choose_like_poetry`, Poetry's ``Chooser``) and like uv (:func:`choose_like_uv`,
uv's ``Package::to_dist`` with its own tag order, :func:`uv_tags`). One function per
installer, each following that installer's own sort key.

Pure: the candidate files and the :class:`~poetry_wheelguard.targets.Target` in, the
chosen :class:`~poetry_wheelguard.models.Candidate` out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag
from packaging.utils import parse_wheel_filename
from packaging.version import Version

from poetry_wheelguard.distfiles import try_classify
from poetry_wheelguard.models import Candidate
from poetry_wheelguard.targets import Target


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
    """Does ``target`` satisfy the ``Requires-Python`` specifier ``spec`` (PEP 345 /
    the index's ``data-requires-python``)? As pip's ``_check_link_requires_python``: the
    target's Python is ``X.Y.0``, pre-releases match, and an empty or invalid specifier is
    ignored (True). The one check of it: :func:`choose_like_pip` and pip's subprocess mode
    (``pip/subprocess_mode.py``) both call it."""
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



def _uv_platforms(target: Target) -> list[str]:
    """``compatible_tags`` of uv's ``crates/uv-platform-tags/src/tags.rs`` for Linux: glibc
    ``manylinux_2_{N..min}`` with the legacy ``manylinux2010``/``manylinux2014``/
    ``manylinux1`` right after ``2_12``, ``2_17``, ``2_5``, then ``linux_<arch>`` last
    ("Non-manylinux is given lowest priority"); musl ``musllinux_1_{N..0}`` then
    ``linux_<arch>``, and never a manylinux tag (the ``Os::Musllinux`` arm). ``min`` is
    ``Arch::get_minimum_manylinux_minor``: 5 on x86_64/i686, 17 on other architectures."""
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
    abi = target.abis[0] if target.abis else \
        f"{impl}{target.python_version[0]}{target.python_version[1]}"
    key = (impl, target.python_version, abi, target.free_threaded)
    return _uv_tags_cached(key, tuple(_uv_platforms(target)))


@lru_cache(maxsize=64)
def _uv_rank_map(tags: tuple[Tag, ...]) -> dict[Tag, int]:
    return {t: i for i, t in enumerate(tags)}


def choose_like_uv(files: Sequence[Candidate], target: Target) -> Candidate | None:
    """The file uv installs from a locked release's ``files`` on ``target``.

    ``Package::to_dist`` (uv ``crates/uv-resolver/src/lock/mod.rs``): (1) the wheel with the
    highest ``(TagPriority, build tag)`` among those whose tags are compatible
    (``Package::find_best_wheel``: the tag priority decides first, the build tag only
    between equal priorities; the first of equal keys wins, ``>`` not ``>=``); (2) else the
    sdist (``to_source_dist``); (3) else none ("neither a source distribution nor a
    compatible wheel"). The same order as a resolution's ``PrioritizedDist::get``
    (``crates/uv-distribution-types/src/prioritized_distribution.rs``): a compatible wheel
    before a compatible sdist, the sdist when no wheel fits. ``TagPriority`` is the
    position in :func:`uv_tags`.
    """
    ranks = _uv_rank_map(uv_tags(target))
    best: Candidate | None = None
    best_key: tuple[Any, ...] | None = None
    sdist: Candidate | None = None
    for cand in files:
        dist = cand.dist
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
