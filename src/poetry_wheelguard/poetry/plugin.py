"""The Poetry application plugin (entry point ``poetry.application.plugin`` = ``wheelguard``).

:meth:`WheelguardPlugin.activate` runs for every ``poetry`` command, so it stays cheap: it
registers two cleo event listeners and three lazily-built commands (``wheelguard verify``,
``report`` and ``plan``), and imports nothing of the guard itself. Only a guarded command
(``install``, ``sync``, ``add``, ``update``, ``remove`` - never ``poetry self ...``) imports
:mod:`poetry_wheelguard.poetry.hooks` and the core, in the ``console.command`` listener,
after Poetry's own listeners have given the command its environment and installer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cleo.events.console_events import COMMAND, TERMINATE
from poetry.plugins.application_plugin import ApplicationPlugin

from poetry_wheelguard.poetry import (
    GUARDED_COMMANDS,
    escape_markup,
    is_self_command,
    running_poetry_version,
    version_tuple,
)

if TYPE_CHECKING:
    from poetry_wheelguard.poetry.hooks import Guard

MIN_POETRY = (1, 8)
"""Oldest Poetry whose installer layout the hooks know (tested: 1.8.5 and 2.5.1)."""


class WheelguardPlugin(ApplicationPlugin):  # type: ignore[misc,unused-ignore]
    """Guards Poetry's installs and adds ``poetry wheelguard verify|report|plan``.

    ``activate(application)`` checks the running Poetry's version (the plugin's Poetry
    requirement lives here and in the ``poetry`` extra, never in the package's
    dependencies), registers the commands as lazy factories, and adds a listener for
    ``console.command`` (hooks the installer of a guarded command) and one for
    ``console.terminate`` (verify, print, report, exit code).
    """

    def __init__(self) -> None:
        super().__init__()
        self._guards: dict[int, Guard] = {}
        self._errors: dict[int, tuple[str, int]] = {}
        self._poetry_version = ""
        self._supported = True

    def activate(self, application: Any) -> None:
        """Register the listeners and the ``wheelguard`` commands (no heavy import)."""
        self._poetry_version = running_poetry_version()
        self._supported = version_tuple(self._poetry_version) >= MIN_POETRY
        loader = application.command_loader
        loader.register_factory("wheelguard verify", _verify_command)
        loader.register_factory("wheelguard report", _report_command)
        loader.register_factory("wheelguard plan", _plan_command)
        dispatcher = application.event_dispatcher
        dispatcher.add_listener(COMMAND, self.on_command)
        dispatcher.add_listener(TERMINATE, self.on_terminate)

    @property
    def commands(self) -> list[Any]:
        """Empty: the commands are registered as lazy factories in :meth:`activate`."""
        return []

    def on_command(self, event: Any, event_name: str, dispatcher: Any) -> None:
        """``console.command``: guard the installer of an install-type command."""
        command = event.command
        name = str(getattr(command, "name", "") or "")
        if name not in GUARDED_COMMANDS or name.startswith("self") or is_self_command(command):
            return
        io = event.io
        if not self._supported:
            io.write_error_line(
                f"<warning>wheelguard: Poetry {self._poetry_version} is older than "
                f"{'.'.join(map(str, MIN_POETRY))}; this command is not guarded</warning>")
            return
        from poetry_wheelguard.errors import ConfigError, WheelguardError
        from poetry_wheelguard.exitcodes import INTERNAL, USAGE
        from poetry_wheelguard.poetry.hooks import attach

        try:
            guard = attach(command, self._poetry_version)
        except ConfigError as exc:
            self._errors[id(command)] = (f"wheelguard: error: {exc}", USAGE)
            event.disable_command()
            return
        except WheelguardError as exc:
            self._errors[id(command)] = (f"wheelguard: error: {exc}", INTERNAL)
            event.disable_command()
            return
        if guard is not None:
            self._guards[id(command)] = guard

    def on_terminate(self, event: Any, event_name: str, dispatcher: Any) -> None:
        """``console.terminate``: print the table and findings once, set the exit code."""
        key = id(event.command)
        io = event.io
        error = self._errors.pop(key, None)
        if error is not None:
            io.write_error_line(f"<error>{escape_markup(error[0])}</error>")
            event.set_exit_code(error[1])
            return
        guard = self._guards.pop(key, None)
        if guard is None:
            return
        code, lines = guard.finish(event.exit_code)
        for text, to_stderr in lines:
            if to_stderr:
                io.write_error_line(escape_markup(text))
            else:
                io.write_line(escape_markup(text))
        event.set_exit_code(code)



def _verify_command() -> Any:
    from poetry_wheelguard.poetry.commands import WheelguardVerifyCommand

    return WheelguardVerifyCommand()


def _report_command() -> Any:
    from poetry_wheelguard.poetry.commands import WheelguardReportCommand

    return WheelguardReportCommand()


def _plan_command() -> Any:
    from poetry_wheelguard.poetry.commands import WheelguardPlanCommand

    return WheelguardPlanCommand()
