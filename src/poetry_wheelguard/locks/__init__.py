"""Lock files, read into one format-neutral model (:mod:`poetry_wheelguard.locks.model`).

:func:`read_lock` reads a lock by its format; :func:`locked_packages_for` and
:func:`check_selection` answer by the lock's format too. One module per format:
``locks/poetry.py`` (poetry.lock 2.0 and 2.1) today; ``locks/pylock.py`` (PEP 751
pylock.toml) and ``locks/uv.py`` (uv.lock) come beside it and return the same objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from poetry_wheelguard.locks import poetry
from poetry_wheelguard.locks.model import Lock, LockedDependency, LockedPackage, LockFormat
from poetry_wheelguard.targets import Target

__all__ = ["Lock", "LockFormat", "LockedDependency", "LockedPackage", "check_selection",
           "locked_packages_for", "read_lock"]


def read_lock(path: str | Path) -> Lock:
    """Read the lock at ``path`` by its format. Every lock is read as a poetry.lock today
    (:func:`poetry_wheelguard.locks.poetry.read_poetry_lock`), whatever its file name.

    Raises:
        WheelguardError: unreadable, not TOML, a lock format or version not supported, or
            a malformed package entry (names the file).
    """
    return poetry.read_poetry_lock(path)


def locked_packages_for(lock: Lock, target: Target, extras: Sequence[str] = (),
                        groups: Sequence[str] = ()) -> list[LockedPackage]:
    """The lock's packages that install on ``target`` with the root ``extras`` and the
    dependency ``groups`` (all when empty), in lock order, as the lock's installer selects
    them (:func:`poetry_wheelguard.locks.poetry.locked_packages_for`).

    Raises:
        WheelguardError: an invalid environment marker in the lock.
    """
    return poetry.locked_packages_for(lock, target, extras, groups)


def check_selection(lock: Lock, extras: Sequence[str] = (), groups: Sequence[str] = (),
                    *, extras_option: str = "--extras", group_option: str = "--group") -> None:
    """Refuse group and extra names the lock's project does not have, as its installer
    refuses them (:func:`poetry_wheelguard.locks.poetry.check_selection`); the options are
    named in the error as the command spells them.

    Raises:
        ConfigError: a group or extra not found, or groups the lock cannot tell apart.
    """
    poetry.check_selection(lock, extras, groups, extras_option=extras_option,
                           group_option=group_option)
