"""Environment for subprocesses of the tests: isolated from this machine's pip config."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pytest
from packaging.version import InvalidVersion, Version

_DROPPED = ("PIP_", "WHEELGUARD_", "PYTHONPATH", "VIRTUAL_ENV")
_SET = {
    "PIP_CONFIG_FILE": os.devnull,
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_NO_INPUT": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
}


def isolated_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """``os.environ`` without the machine's pip configuration (extra indexes, find-links,
    constraints) and without wheelguard settings, plus ``extra``.

    ``PIP_CONFIG_FILE=/dev/null`` stops pip from reading /etc/xdg/pip and ~/.config/pip;
    every ``PIP_*`` and ``WHEELGUARD_*`` variable is dropped so a test sets what it means.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED)}
    env.update(_SET)
    if extra:
        env.update(extra)
    return env


def isolate_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same isolation as :func:`isolated_env` for the test process itself (pip run
    in-process, pip's configuration read by the code under test, and every subprocess
    started without an ``env``); undone after the test by ``monkeypatch``."""
    for key in [k for k in os.environ if k.startswith(_DROPPED)]:
        monkeypatch.delenv(key)
    for key, value in _SET.items():
        monkeypatch.setenv(key, value)


def pyenv_versions(prefix: str = "") -> list[Path]:
    """pyenv's installed version directories whose name starts with ``prefix`` (give
    ``"3.11."`` for every 3.11, ``"3.13.0"`` for one), newest first; ``[]`` without pyenv.

    The root is ``$PYENV_ROOT`` or ``~/.pyenv``, as pyenv itself defaults.
    """
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    found = [p for p in root.glob(f"{prefix}*") if p.is_dir()]

    def key(p: Path) -> tuple[int, Version | str]:
        try:
            return (1, Version(p.name))
        except InvalidVersion:
            return (0, p.name)

    return sorted(found, key=key, reverse=True)


def pyenv_python(prefix: str) -> Path | None:
    """``bin/python`` of the newest pyenv version starting with ``prefix``, if any."""
    for version in pyenv_versions(prefix):
        exe = version / "bin" / "python"
        if exe.exists():
            return exe
    return None
