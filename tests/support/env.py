"""Environment for subprocesses of the tests: isolated from this machine's pip config."""

from __future__ import annotations

import os
from collections.abc import Mapping


def isolated_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """``os.environ`` without the machine's pip configuration (extra indexes, find-links,
    constraints) and without wheelguard settings, plus ``extra``.

    ``PIP_CONFIG_FILE=/dev/null`` stops pip from reading /etc/xdg/pip and ~/.config/pip;
    every ``PIP_*`` and ``WHEELGUARD_*`` variable is dropped so a test sets what it means.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "WHEELGUARD_", "PYTHONPATH", "VIRTUAL_ENV"))
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if extra:
        env.update(extra)
    return env
