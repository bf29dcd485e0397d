"""Which file of one release an installer picks for a target: like pip
(:func:`choose_like_pip`, pip's ``CandidateEvaluator``) and like Poetry
(:func:`choose_like_poetry`, Poetry's ``Chooser``). One function per installer, each
following that installer's own sort key; a uv chooser belongs beside them.

Pure: the candidate files and the :class:`~poetry_wheelguard.targets.Target` in, the
chosen :class:`~poetry_wheelguard.models.Candidate` out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
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

