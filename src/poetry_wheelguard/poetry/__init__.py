"""The Poetry adapter: an application plugin that guards ``poetry install`` and its kin.

- :mod:`.plugin` - the entry point (``poetry.application.plugin``); imports nothing heavy.
- :mod:`.hooks` - wraps the installer of a guarded command (Chooser and Executor), turns
  Poetry's packages and links into :class:`~poetry_wheelguard.models.Selection` objects,
  hands them to the core policy and prints the table at the end of the command. It imports
  no Poetry module, so it is testable without Poetry.
- :mod:`.commands` - ``poetry wheelguard verify``, ``poetry wheelguard report`` and
  ``poetry wheelguard plan``.

Poetry itself is not a dependency of ``poetry-wheelguard`` (``pip install poetry-wheelguard``
never pulls it); it is the ``poetry`` extra, and the plugin checks the running Poetry's
version when it is activated.

The Poetry/cleo names the plugin reads at activation live here (listed with every other
version-dependent name in :data:`.compat.NAMES`): :mod:`.plugin`, :mod:`.commands` and
:mod:`.compat` import them from this package module, none of them from another.
"""

from __future__ import annotations

from typing import Any

GUARDED_COMMANDS = frozenset({"install", "sync", "add", "update", "remove"})
"""Poetry commands whose installs are guarded (``poetry self ...`` never is)."""


def running_poetry_version() -> str:
    """The version of the running Poetry (``poetry.__version__``, else its distribution)."""
    try:
        from poetry.__version__ import __version__ as version
    except ImportError:  # very old or unusual layout
        from importlib.metadata import version as dist_version

        return dist_version("poetry")
    return str(version)


def version_tuple(text: str) -> tuple[int, int]:
    """``(major, minor)`` of a Poetry version string; ``(0, 0)`` when unreadable."""
    parts = [*text.split("."), "0", "0"][:2]
    try:
        return int(parts[0]), int("".join(c for c in parts[1] if c.isdigit()) or 0)
    except ValueError:
        return (0, 0)


def escape_markup(text: str) -> str:
    """Escape cleo's ``<tag>`` markup in plain text (``Formatter.escape``)."""
    try:
        from cleo.formatters.formatter import Formatter
    except ImportError:  # pragma: no cover - cleo always comes with Poetry
        return text.replace("<", "\\<")
    return str(Formatter.escape(text))


def is_self_command(command: Any) -> bool:
    """``command`` is a ``poetry self ...`` command (``SelfCommand``)."""
    try:
        from poetry.console.commands.self.self_command import SelfCommand
    except ImportError:  # pragma: no cover - both supported Poetry versions have it
        return False
    return isinstance(command, SelfCommand)
