"""``pip-guard [global options] install <pip install arguments>``.

Every argument after ``install`` goes to ``pip install`` unchanged, and pip's own output
is kept. pip runs in this process with the hooks of :mod:`.hooks` (or, when a private pip
name is missing or ``WHEELGUARD_PIP_SUBPROCESS=1``, in the subprocess mode of
:mod:`.subprocess_mode`). At the end, on **stderr** (stdout stays pip's, so
``pip install --report -`` still writes clean JSON there): the table of the file chosen
for every package and every warning/error finding; then the JSON report (``--report`` /
``WHEELGUARD_REPORT``), written atomically; then post-install verification in a separate
process.

Exit codes (docs/pip.md): pip's own code when pip fails on its own (1 install error,
2 pip usage error, ...); ``REFUSED`` (10) for a strict refusal; ``VERIFY_ERRORS`` (11)
when strict verification finds an error; ``USAGE`` (64) for a bad pip-guard option,
config file or ``WHEELGUARD_*`` variable; ``INTERNAL`` (70) for a failure of the guard.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from poetry_wheelguard import exitcodes
from poetry_wheelguard.cli import config_from_namespace
from poetry_wheelguard.config import Config
from poetry_wheelguard.errors import WheelguardError
from poetry_wheelguard.models import PackageRecord
from poetry_wheelguard.pip import hooks
from poetry_wheelguard.report import (
    Report,
    redact_text,
    render_findings,
    render_table,
    write_json_atomic,
)
from poetry_wheelguard.targets import Target, running_target

if TYPE_CHECKING:
    from poetry_wheelguard.verify_cli import InstalledVerification

SUBPROCESS_ENV = "WHEELGUARD_PIP_SUBPROCESS"
"""Set to ``1`` to use the subprocess mode even when every hook point exists."""

VERIFY_MODULE = "poetry_wheelguard.verify_cli"
"""The module of ``pip-guard verify``; verification runs only when it is installed."""

TABLE_TITLE = "pip-guard: the file pip chose for each package"


@dataclass
class Outcome:
    """What one pip run (in-process or subprocess mode) ended with.

    Attributes:
        pip_code: pip's exit status.
        records: the report records of pip's choices (see ``GuardSession.records``).
        refused: strict mode refused at least one file.
        target: the target the policy judged against.
        pip_version: ``pip.__version__``.
        mode: ``in-process`` or ``subprocess``.
        options: pip's ``target_dir``, ``prefix_path``, ``root_path``, ``use_user_site``
            and ``dry_run`` when known.
        internal_error: an error of the guard itself, if one happened.
    """

    pip_code: int
    records: list[PackageRecord]
    refused: bool
    target: Target
    pip_version: str
    mode: str
    options: dict[str, Any] = field(default_factory=dict)
    internal_error: BaseException | None = None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _warm_up() -> None:
    """Import now what runs after pip: from pip 26 on, an import after pip started to
    install is blocked during installation and warned about after it."""
    if sys.stderr.isatty():  # render_table uses rich on a terminal; rich imports lazily
        from rich.console import Console
        from rich.table import Table

        table = Table(title="warm-up")
        table.add_column("package")
        table.add_row("[green]ok[/]")
        Console(file=io.StringIO(), force_terminal=True, width=80).print(table)


def call_pip(main: Callable[[list[str]], int], args: list[str],
             refusal: type[BaseException]) -> int:
    """Run pip's ``main(args)`` and return its status; ``SystemExit`` (pip's option
    parser) becomes its code; a refusal that escapes pip (``--debug``) becomes 1."""
    try:
        return int(main(args))
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return int(exc.code or 0)
        print(exc.code, file=sys.stderr)
        return 1
    except refusal:
        return 1


def run_in_process(api: hooks.PipApi, config: Config, argv: list[str],
                   running: Target) -> Outcome:
    """Run ``pip install argv`` in this process with the hooks installed."""
    session = hooks.GuardSession(config, running)
    assert api.main is not None
    with hooks.installed(api, session):
        code = call_pip(api.main, ["install", *argv], session.refusal)
    return Outcome(code, session.records(), bool(session.refused), session.target,
                   api.version, "in-process", session.options, session.internal_error)


Verifier = Callable[[str, Sequence[str], str], "InstalledVerification"]
"""``verify_installed(python, names, mode)`` of :mod:`poetry_wheelguard.verify_cli`."""


def load_verifier() -> Verifier | None:
    """Import ``pip-guard verify`` now, before pip runs (pip 26 blocks imports once it
    installs); ``None`` when this installation has no verify command."""
    try:
        from poetry_wheelguard.verify_cli import verify_installed
    except ImportError:
        return None

    def verify(python: str, names: Sequence[str], mode: str) -> InstalledVerification:
        return verify_installed(python, names, mode=mode)

    return verify


def _verify_skip_reason(outcome: Outcome, config: Config, custom_target: bool,
                        verifier: Verifier | None) -> str | None:
    opts = outcome.options
    if not config.verify:
        return "disabled (--no-verify / verify = false)"
    if verifier is None:
        return f"{VERIFY_MODULE} is not installed"
    if custom_target:
        return ("the target is not this interpreter (pip --platform/--python-version/--abi/"
                "--implementation)")
    if opts.get("dry_run"):
        return "pip --dry-run installed nothing"
    if not outcome.records:
        return "nothing was installed"
    for key, flag in (("target_dir", "--target"), ("prefix_path", "--prefix"),
                      ("root_path", "--root")):
        if opts.get(key):
            return f"packages went to {flag} {opts[key]}; run pip-guard verify --path on it"
    return None


def post_install_verify(outcome: Outcome, config: Config, verifier: Verifier
                        ) -> tuple[int, dict[str, Any]]:
    """Verify what pip installed, in a separate process (the single call site of
    verification for ``pip-guard install``); returns the exit code and the report's
    ``verification`` summary. A verify that cannot run is a warning in warn mode and
    ``INTERNAL`` in strict mode."""
    # already imported by load_verifier, before pip ran
    from poetry_wheelguard.verify_cli import merge_verification

    names = [r.selection.name for r in outcome.records]
    try:
        result = verifier(sys.executable, names, config.mode)
    except WheelguardError as exc:
        print(f"pip-guard: warning: {exc}", file=sys.stderr)
        code = exitcodes.INTERNAL if config.strict else exitcodes.OK
        return code, {"status": "failed", "reason": str(exc)}
    merge_verification(outcome.records, result)
    return int(result.exit_code), {"status": "ran", "exit_code": int(result.exit_code)}


def finish(outcome: Outcome, config: Config, argv: Sequence[str], *,
           custom_target: bool, verifier: Verifier | None) -> int:
    """Verify, print the table and findings, write the report; return the exit code."""
    err = sys.stderr
    records = outcome.records
    if outcome.internal_error is not None and outcome.pip_code != 0:
        code = exitcodes.INTERNAL
    elif outcome.refused:
        code = exitcodes.REFUSED
    else:
        code = outcome.pip_code
    verification: dict[str, Any] = {"status": "skipped", "reason": f"exit code {code}"}
    if code == exitcodes.OK:
        reason = _verify_skip_reason(outcome, config, custom_target, verifier)
        if reason is None and verifier is not None:
            code, verification = post_install_verify(outcome, config, verifier)
        else:
            verification["reason"] = reason
    if records:
        render_table(records, err, title=TABLE_TITLE)
        render_findings(records, err)
    if outcome.internal_error is not None:
        level = "error" if code == exitcodes.INTERNAL else "warning"
        print(f"pip-guard: {level}: internal error ({outcome.internal_error!r}); findings may "
              "be incomplete; please report it", file=err)
    if outcome.refused and outcome.mode == "in-process":
        print("pip-guard: strict mode refused the files above before they were downloaded, "
              "built or installed; nothing was installed", file=err)
    elif outcome.refused:
        print("pip-guard: strict mode refused the files above; nothing was installed (pip's "
              "dry run in subprocess mode may have downloaded them and prepared their "
              "metadata)", file=err)
    elif code == exitcodes.VERIFY_ERRORS:
        print("pip-guard: strict mode: verification found errors in the installed files "
              "above", file=err)
    if config.report:
        report = Report(
            command="install", mode=config.mode, target=outcome.target.summary(),
            installer={"name": "pip", "version": outcome.pip_version}, packages=records,
            exit_code=code,
            extra={"pip": {"mode": outcome.mode, "args": [redact_text(a) for a in argv]},
                   "verification": verification},
        )
        write_json_atomic(config.report, report.to_json())
    return code


def run_install(ns: argparse.Namespace, argv: list[str]) -> int:
    """``pip-guard install``: run ``pip install argv`` guarded; return the exit code.

    Raises:
        ConfigError: bad ``[tool.wheelguard]``, ``WHEELGUARD_*`` or flag (exit 64).
        WheelguardError: the report cannot be written (exit 12).
    """
    config = config_from_namespace(ns)
    _warm_up()
    running = running_target()
    verifier = load_verifier() if config.verify else None
    api = hooks.detect()
    if not api.version:
        print("pip-guard: error: pip is not installed in this interpreter; install pip "
              ">= 23.0.1 (pip install 'poetry-wheelguard[pip]')", file=sys.stderr)
        return exitcodes.INPUT_ERROR
    forced = _truthy(os.environ.get(SUBPROCESS_ENV))
    if forced or not api.usable:
        why = (f"{SUBPROCESS_ENV} is set" if forced
               else f"pip {api.version} lacks {', '.join(api.missing)}")
        print(f"pip-guard: {why}; using subprocess mode (pip install --dry-run --report, "
              "then pip install; see docs/pip.md)", file=sys.stderr)
        from poetry_wheelguard.pip import subprocess_mode  # pip is not imported in-process

        sub = subprocess_mode.run(config, argv, running)
        outcome = Outcome(sub.pip_code, sub.records, sub.refused, sub.target,
                          api.version, "subprocess", sub.options)
    else:
        outcome = run_in_process(api, config, argv, running)
    return finish(outcome, config, argv, custom_target=outcome.target is not running,
                  verifier=verifier)
