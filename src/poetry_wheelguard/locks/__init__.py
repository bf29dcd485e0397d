"""Lock files, read into one format-neutral model (:mod:`poetry_wheelguard.locks.model`).

:func:`read_lock` reads a lock by its format (recognised by name, then content:
:func:`lock_format`); :func:`locked_packages_for`, :func:`installs_for` and
:func:`check_selection` answer by the lock's format too. One module per format:
``locks/poetry.py`` (poetry.lock 2.0 and 2.1), ``locks/uv.py`` (uv.lock version 1,
revisions 1-5) and ``locks/pylock.py`` (PEP 751 pylock.toml, through ``packaging.pylock``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from poetry_wheelguard.choosers import choose_like_poetry, choose_like_uv
from poetry_wheelguard.locks import poetry
from poetry_wheelguard.locks.model import Lock, LockedDependency, LockedPackage, LockFormat
from poetry_wheelguard.models import Candidate
from poetry_wheelguard.targets import Target

__all__ = ["Lock", "LockFormat", "LockedDependency", "LockedPackage", "check_selection",
           "installs_for", "lock_format", "locked_packages_for", "read_lock"]


def lock_format(path: str | Path, text: str | None = None) -> LockFormat:
    """The format of the lock at ``path``: by file name first (``poetry.lock``,
    ``uv.lock``; PEP 751's ``pylock.toml`` / ``pylock.<name>.toml``), then by ``text`` (the
    file's content) for other names: a top-level ``lock-version`` with ``[[packages]]`` is
    PEP 751, ``version`` with ``[[package]]`` and no ``[metadata]`` is uv; anything else
    is read as a poetry.lock (whose reader names what it found)."""
    from poetry_wheelguard.locks.pylock import is_pylock_name

    p = Path(path)
    if p.name == "uv.lock":
        return "uv.lock"
    if is_pylock_name(p):
        return "pylock.toml"
    if p.name == "poetry.lock" or text is None:
        return "poetry.lock"
    head = text[:4096]
    if "\nlock-version" in "\n" + head and "[[packages]]" in text:
        return "pylock.toml"
    if "\nversion = " in "\n" + head and "[[package]]" in text and "[metadata]" not in text:
        return "uv.lock"
    return "poetry.lock"


def read_lock(path: str | Path) -> Lock:
    """Read the lock at ``path`` by its format (:func:`lock_format`): a poetry.lock
    (:func:`~poetry_wheelguard.locks.poetry.read_poetry_lock`), a uv.lock
    (:func:`~poetry_wheelguard.locks.uv.read_uv_lock`) or a pylock.toml
    (:func:`~poetry_wheelguard.locks.pylock.read_pylock`).

    Raises:
        WheelguardError: unreadable, not TOML (corrupt or truncated), a lock format or
            version not supported (the version found and those understood), or a
            malformed package entry (names the file).
    """
    p = Path(path)
    text: str | None = None
    if p.name not in {"poetry.lock", "uv.lock"} and p.is_file():
        try:
            with p.open(encoding="utf-8", errors="replace") as fh:
                text = fh.read(65536)
        except OSError:
            text = None  # the reader says why it cannot read the file
    fmt = lock_format(p, text)
    if fmt == "uv.lock":
        from poetry_wheelguard.locks.uv import read_uv_lock

        return read_uv_lock(p)
    if fmt == "pylock.toml":
        from poetry_wheelguard.locks.pylock import read_pylock

        return read_pylock(p)
    return poetry.read_poetry_lock(p)


def locked_packages_for(lock: Lock, target: Target, extras: Sequence[str] = (),
                        groups: Sequence[str] = ()) -> list[LockedPackage]:
    """The lock's packages that install on ``target`` with the root ``extras`` and the
    dependency ``groups`` (all when empty; a pylock.toml: its default groups), in lock
    order, as the lock's installer selects them.

    Raises:
        WheelguardError: an invalid environment marker in the lock.
        ConfigError: a pylock.toml that excludes the target or lacks an extra or group.
    """
    if lock.format == "pylock.toml":
        return [pkg for pkg, _ in installs_for(lock, target, extras, groups)]
    if lock.format == "uv.lock":
        from poetry_wheelguard.locks.uv import locked_packages_for as uv_packages

        return uv_packages(lock, target, extras, groups)
    return poetry.locked_packages_for(lock, target, extras, groups)


def installs_for(lock: Lock, target: Target, extras: Sequence[str] = (),
                 groups: Sequence[str] = (), python_full_version: str | None = None,
                 ) -> list[tuple[LockedPackage, Candidate | None]]:
    """Each package that installs on ``target`` (:func:`locked_packages_for`) with the file
    the lock's installer takes from the lock: Poetry's choice for a poetry.lock
    (:func:`~poetry_wheelguard.choosers.choose_like_poetry`), uv's for a uv.lock
    (:func:`~poetry_wheelguard.choosers.choose_like_uv`), ``Pylock.select``'s for a
    pylock.toml (:func:`~poetry_wheelguard.locks.pylock.installs_for`;
    ``python_full_version`` applies there only). A first-party package's file is its source
    (a ``Candidate`` named by its URL or path); ``None`` when no file installs there.

    Raises:
        WheelguardError, ConfigError: as :func:`locked_packages_for`.
    """
    if lock.format == "pylock.toml":
        from poetry_wheelguard.locks.pylock import installs_for as pylock_installs

        return pylock_installs(lock, target, extras, groups, python_full_version)
    choose = choose_like_uv if lock.format == "uv.lock" else choose_like_poetry
    return [(pkg, Candidate(filename=pkg.source_url or pkg.name, url=pkg.source_url)
             if pkg.first_party else choose(pkg.files, target))
            for pkg in locked_packages_for(lock, target, extras, groups)]


def check_selection(lock: Lock, extras: Sequence[str] = (), groups: Sequence[str] = (),
                    *, extras_option: str = "--extras", group_option: str = "--group") -> None:
    """Refuse group and extra names the lock's project does not have, as its installer
    refuses them (:func:`poetry_wheelguard.locks.poetry.check_selection`, against the
    groups and extras every reader declares); the options are named in the error as the
    command spells them.

    Raises:
        ConfigError: a group or extra not found, or groups the lock cannot tell apart.
    """
    poetry.check_selection(lock, extras, groups, extras_option=extras_option,
                           group_option=group_option)
