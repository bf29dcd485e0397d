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
"""

GUARDED_COMMANDS = frozenset({"install", "sync", "add", "update", "remove"})
"""Poetry commands whose installs are guarded (``poetry self ...`` never is)."""
