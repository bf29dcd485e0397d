"""The format-neutral locked release: what a uv.lock or pylock.toml says one package
installs from, for one target, after the format's own selection (markers, extras, groups).

A :class:`LockedRelease` is what :mod:`poetry_wheelguard.locks.planner` turns into a
:class:`~poetry_wheelguard.models.Selection` for the policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from poetry_wheelguard.models import Candidate, NormalizedName


@dataclass(frozen=True)
class LockedRelease:
    """One package of a lock, as selected for one target.

    Attributes:
        name: PEP 503 normalized name; version: the locked version.
        files: every distribution file the lock records for the release (wheels, sdist),
            with url and sha256 (``Candidate.sha256``) where the lock gives them.
        chosen: the file the installer takes from the lock for the target, ``None`` when
            no file of the lock installs there.
        index: the index the lock says the release comes from (uv ``source.registry``,
            pylock ``packages.index``), credentials removed; ``""`` when it names none.
        first_party: a local directory, VCS checkout or direct URL (never judged).
        source: a short text for first-party packages (the path or URL).
    """

    name: NormalizedName
    version: str
    files: tuple[Candidate, ...]
    chosen: Candidate | None
    index: str = ""
    first_party: bool = False
    source: str = ""


@dataclass(frozen=True)
class LockInfo:
    """Which lock was read: ``kind`` ``uv.lock`` or ``pylock.toml``, ``version`` as the file
    states it (``1 revision 3``, ``1.0``), ``created_by`` (pylock ``created-by``)."""

    path: str
    kind: str
    version: str
    created_by: str = ""
