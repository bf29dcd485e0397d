"""``poetry wheelguard verify``, ``poetry wheelguard report`` and ``poetry wheelguard plan``.

``verify`` checks the compiled files of the project environment against its interpreter
(the same check ``poetry install`` runs after an install; it runs ``pip-guard verify`` in a
subprocess with the environment's interpreter as ``--python``). ``report`` prints the last
report the plugin wrote for this project (kept in Poetry's cache directory), as the table
or, with ``--json``, as the ``wheelguard-report/1`` document. ``plan`` is
``pip-guard plan --lock`` on the project's poetry.lock: offline, for each ``--target``, the
file Poetry's Chooser would pick and every finding, one table with a column per target.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import replace
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING

from cleo.helpers import option
from poetry.console.commands.command import Command
from poetry.console.commands.env_command import EnvCommand

from poetry_wheelguard import exitcodes
from poetry_wheelguard.errors import ConfigError, VerifyError, WheelguardError
from poetry_wheelguard.poetry import compat
from poetry_wheelguard.poetry.compat import escape_markup, running_poetry_version
from poetry_wheelguard.poetry.hooks import last_report_path, project_dir_of, resolve_config
from poetry_wheelguard.postinstall import verify_available, verify_installed
from poetry_wheelguard.render import render_findings, render_table
from poetry_wheelguard.report import check_report_path, record_from_json, write_json_atomic

if TYPE_CHECKING:
    from poetry_wheelguard.targets import Target


_REPORT_OPTION = "--report / report in [tool.wheelguard] / WHEELGUARD_REPORT"


def _write_lines(command: Command, text: str) -> None:
    for line in text.splitlines():
        command.line(escape_markup(line))


class WheelguardReportCommand(Command):  # type: ignore[misc,unused-ignore]
    """``poetry wheelguard report [--json]``: print the last report of this project."""

    name = "wheelguard report"
    description = "Print the last wheelguard report of this project (table, or --json)."
    options = [option("json", None, "Print the JSON document (wheelguard-report/1).")]  # noqa: RUF012

    def handle(self) -> int:
        """Print the table and findings (or the JSON); exit 12 when there is no report."""
        project_dir = project_dir_of(self.poetry)
        path = last_report_path(Path(str(self.poetry.config.get("cache-dir"))), project_dir)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            records = [record_from_json(p) for p in data["packages"]]
        except FileNotFoundError:
            self.line_error(f"wheelguard: error: no report for {project_dir} yet; run "
                            "poetry install (or add, update, remove, sync) first",
                            style="error")
            return exitcodes.INPUT_ERROR
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self.line_error(f"wheelguard: error: {path}: not a wheelguard report ({exc}); "
                            "run poetry install again to write a new one", style="error")
            return exitcodes.INPUT_ERROR
        if self.option("json"):
            _write_lines(self, json.dumps(data, indent=2))
            return exitcodes.OK
        target = data.get("target") if isinstance(data.get("target"), dict) else {}
        installer = data.get("installer") or {}
        buf = StringIO()
        render_table(records, buf, title=(
            f"wheelguard: {data.get('command')} by {installer.get('name', '?')} "
            f"{installer.get('version', '')} for {target.get('name', '?')}, "
            f"{data.get('mode')} mode, {data.get('started')}, exit code {data.get('exit_code')}"))
        render_findings(records, buf)
        _write_lines(self, buf.getvalue())
        return exitcodes.OK


class WheelguardVerifyCommand(EnvCommand):  # type: ignore[misc,unused-ignore]
    """``poetry wheelguard verify [--report PATH]``: verify the project environment."""

    name = "wheelguard verify"
    description = ("Verify the compiled files of the project environment against its "
                   "interpreter and libc.")
    options = [  # noqa: RUF012
        option("report", None, "Also write the JSON report to this path.", flag=False),
    ]

    def handle(self) -> int:
        """Run the verification in a subprocess; its exit code is the command's."""
        project_dir = project_dir_of(self.poetry)
        try:
            config = resolve_config(project_dir)
        except ConfigError as exc:
            self.line_error(f"wheelguard: error: {exc}", style="error")
            return exitcodes.USAGE
        report_path = self.option("report") or config.report
        try:  # before verifying: the report cannot fail at the end
            if report_path:
                check_report_path(project_dir / report_path, setting=_REPORT_OPTION)
        except ConfigError as exc:
            self.line_error(escape_markup(f"wheelguard: error: {exc}"), style="error")
            return exitcodes.USAGE
        if not verify_available():
            self.line_error("wheelguard: error: verification is not available in this "
                            "poetry-wheelguard", style="error")
            return exitcodes.INTERNAL
        try:
            result = verify_installed(str(self.env.python), mode=config.mode, cwd=project_dir,
                                      timeout=None)
        except VerifyError as exc:
            self.line_error(f"wheelguard: error: {exc}", style="error")
            return exitcodes.INTERNAL
        records = [record_from_json(p) for p in result.report.get("packages") or ()]
        buf = StringIO()
        render_table(records, buf, title=f"wheelguard: verify {self.env.path}")
        render_findings(records, buf)
        _write_lines(self, buf.getvalue())
        if report_path:
            try:
                write_json_atomic(project_dir / report_path, result.report)
            except WheelguardError as exc:  # checked above; the disk may have filled since
                self.line_error(escape_markup(f"wheelguard: error: {exc}"), style="error")
                return exitcodes.INPUT_ERROR
        return result.exit_code


def _words(values: list[str] | None) -> list[str]:
    """Option values split on commas and white space (``-E "a b"``, ``--only main,dev``)."""
    return [w for value in values or [] for w in re.split(r"[,\s]+", value) if w]


class WheelguardPlanCommand(Command):  # type: ignore[misc,unused-ignore]
    """``poetry wheelguard plan --target NAME... [--report PATH] [--mode warn|strict]``.

    The project's poetry.lock (format 2.0 or 2.1) planned offline for each target, exactly
    as ``pip-guard plan --lock poetry.lock`` plans it (:func:`poetry_wheelguard.locks.read_lock`,
    :func:`~poetry_wheelguard.planning.plan_lock`, :func:`~poetry_wheelguard.cli.plan.finish_plan`):
    the same table, report and exit codes. Nothing is downloaded, built or installed, and
    the project environment is neither created nor used.
    """

    name = "wheelguard plan"
    description = ("Plan the project's poetry.lock for other targets (offline): the file "
                   "each package would install and every finding, a column per target.")
    options = [  # noqa: RUF012
        option("target", None, "A target preset, repeatable: python:3.X-slim, "
               "python:3.X-slim-trixie, python:3.X-alpine, aws-lambda-python3.X, ubi9, "
               "manylinux2014.", flag=False, multiple=True),
        option("arch", None, "Machine of every target: x86_64 (default) or aarch64.",
               flag=False),
        option("platform", None, "Explicit platform tag (repeatable), as pip's --platform.",
               flag=False, multiple=True),
        option("python-version", None, "Python version (3.X) of an explicit target or of a "
               "versionless preset.", flag=False),
        option("implementation", None, "cp (default) or pp, for an explicit target.",
               flag=False),
        option("abi", None, "Explicit ABI tag (repeatable; default cpXY).", flag=False,
               multiple=True),
        option("libc", None, "glibc-X.Y or musl-X.Y: the C library of an explicit target.",
               flag=False),
        option("extras", "E", "Root extras to include (repeatable).", flag=False,
               multiple=True),
        option("only", None, "Only these dependency groups (repeatable; default: every "
               "group).", flag=False, multiple=True),
        option("mode", None, "warn, or strict: exit 10 when anything would be refused.",
               flag=False),
        option("report", None, "Write the JSON report (wheelguard-report/1) to this path "
               "(relative to the project directory).", flag=False),
    ]

    def handle(self) -> int:
        """Plan, print through Poetry's IO, write the report. Exit 0; 10 in strict mode when
        some target would refuse a package; 12 without a readable poetry.lock; 64 for a bad
        option or configuration, a report path where no file can be written, or a group or
        extra the project does not have (all checked before anything is planned)."""
        from poetry_wheelguard.cli.plan import finish_plan, note_lines
        from poetry_wheelguard.config import load_config
        from poetry_wheelguard.locks import check_selection, read_lock
        from poetry_wheelguard.planning import plan_lock
        from poetry_wheelguard.report import now_iso

        started = now_iso()
        project_dir = project_dir_of(self.poetry)
        extras, groups = _words(self.option("extras")), _words(self.option("only"))
        try:
            config = load_config(cwd=project_dir, flags={
                "mode": self.option("mode"), "report": self.option("report")})
            targets = self._targets()
            for line in note_lines(targets, prog="wheelguard"):
                self.line_error(escape_markup(line), style="comment")
            if config.report:  # relative to the project dir, as [tool.wheelguard] report
                report = project_dir / config.report
                config = replace(config, report=str(report))
                # before planning, as pip-guard plan: a plan never fails at its end
                check_report_path(report, setting=_REPORT_OPTION)
        except ConfigError as exc:
            self._error(str(exc))
            return exitcodes.USAGE
        lock_path = compat.lock_path(self.poetry, project_dir)
        if not lock_path.is_file():
            self._error(f"{lock_path}: no poetry.lock; run `poetry lock` first")
            return exitcodes.INPUT_ERROR
        out, err = StringIO(), StringIO()
        try:
            lock = read_lock(lock_path)
            check_selection(lock, extras, groups, group_option="--only")
            if not compat.lock_is_fresh(self.poetry):
                self.line_error(escape_markup(
                    f"wheelguard: warning: pyproject.toml changed since {lock_path.name} was "
                    "written; this is the plan of the lock (`poetry lock` refreshes it)"),
                    style="comment")
            result = plan_lock(lock, targets, config, extras, groups)
            extra = {"plan": {"lock": str(lock_path), "lock_version": lock.lock_version},
                     "poetry": {"command": self.name, "version": running_poetry_version()}}
            code = finish_plan(result, config, extra, out, err, prog="wheelguard",
                               started=started)
        except ConfigError as exc:  # a group or extra the project does not have
            self._error(str(exc))
            return exitcodes.USAGE
        except WheelguardError as exc:  # the lock, or the report's directory
            _write_lines(self, out.getvalue())
            self._error(str(exc))
            return exitcodes.INPUT_ERROR
        _write_lines(self, out.getvalue())
        for line in err.getvalue().splitlines():
            self.line_error(escape_markup(line), style="error")
        return code

    def _targets(self) -> list[Target]:
        """The targets of the options, by :func:`~poetry_wheelguard.target_options.
        targets_from_options` (an ``argparse.Namespace`` with its attribute names).

        Raises:
            ConfigError: bad target options, or none given.
        """
        from poetry_wheelguard.target_options import targets_from_options

        ns = argparse.Namespace(
            target_names=self.option("target") or None, arch=self.option("arch"),
            platforms=self.option("platform") or None,
            python_version=self.option("python-version"),
            implementation=self.option("implementation"), abis=self.option("abi") or None,
            libc=self.option("libc"))
        targets = targets_from_options(ns)
        if not targets:
            raise ConfigError("give --target NAME (repeatable), or --platform/--libc with "
                              "--python-version")
        return targets

    def _error(self, text: str) -> None:
        self.line_error(escape_markup(f"wheelguard: error: {text}"), style="error")
