"""``poetry wheelguard verify`` and ``poetry wheelguard report``.

``verify`` checks the compiled files of the project environment against its interpreter
(the same check ``poetry install`` runs after an install; it runs ``pip-guard verify`` in a
subprocess with the environment's interpreter as ``--python``). ``report`` prints the last
report the plugin wrote for this project (kept in Poetry's cache directory), as the table
or, with ``--json``, as the ``wheelguard-report/1`` document.
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

from cleo.helpers import option
from poetry.console.commands.command import Command
from poetry.console.commands.env_command import EnvCommand

from poetry_wheelguard import exitcodes
from poetry_wheelguard.errors import ConfigError
from poetry_wheelguard.poetry.hooks import (
    last_report_path,
    project_dir_of,
    record_from_json,
    resolve_config,
    run_verify,
)
from poetry_wheelguard.report import render_findings, render_table, write_json_atomic


def _write_lines(command: Command, text: str) -> None:
    from cleo.formatters.formatter import Formatter

    for line in text.splitlines():
        command.line(Formatter.escape(line))


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
        result = run_verify(str(self.env.python), config, project_dir)
        if result.report is not None:
            records = [record_from_json(p) for p in result.report.get("packages") or ()]
            buf = StringIO()
            render_table(records, buf, title=f"wheelguard: verify {self.env.path}")
            render_findings(records, buf)
            _write_lines(self, buf.getvalue())
            report_path = self.option("report") or config.report
            if report_path:
                write_json_atomic(project_dir / report_path, result.report)
        if result.problem:
            self.line_error(f"wheelguard: error: {result.problem}", style="error")
            if result.report is None:
                return exitcodes.INTERNAL
        return result.returncode
