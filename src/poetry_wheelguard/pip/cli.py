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
2 pip usage error, ...); ``REFUSED`` (10) for a strict refusal, whatever pip returned
(pip answers a refusal with 1, and with 1 too when its output pipe broke);
``VERIFY_ERRORS`` (11) when strict verification finds an error; ``INPUT_ERROR`` (12) for a
pip older than 22.2 or no pip; ``USAGE`` (64) for a bad pip-guard option, config file,
``WHEELGUARD_*`` variable or a report path that cannot be written (checked before pip
runs); ``INTERNAL`` (70) for a failure of the guard.

Ctrl-C (SIGINT) while pip runs exits ``130`` (pip itself answers it with 1). After pip
fails or is interrupted, a package whose distribution is not in the destination at the
chosen version gets the ``NOT_INSTALLED`` finding (:func:`mark_not_installed`): the table
and the report never say ``ok`` of a package pip did not install.

A closed output pipe (``pip-guard ... | head -1``) changes nothing but the output: on
``BrokenPipeError`` stdout and stderr are pointed at ``os.devnull`` (Python's documented
recipe) and the run ends as it would have, report and exit code included.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import site
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

from packaging.version import InvalidVersion, Version

from poetry_wheelguard import exitcodes
from poetry_wheelguard.cli.options import config_from_namespace
from poetry_wheelguard.config import Config
from poetry_wheelguard.distfiles import normalize
from poetry_wheelguard.installed import find_distributions  # before pip (pip 26)
from poetry_wheelguard.models import Finding, PackageRecord
from poetry_wheelguard.pip import hooks
from poetry_wheelguard.postinstall import (
    VERIFY_MODULE,
    InstalledVerification,
    verify_after_install,
    verify_available,
    verify_installed,
)
from poetry_wheelguard.render import render_findings, render_table, summary_lines
from poetry_wheelguard.report import (
    Report,
    check_report_path,
    now_iso,
    redact_text,
    write_json_atomic,
)
from poetry_wheelguard.targets import Target, running_target

SUBPROCESS_ENV = "WHEELGUARD_PIP_SUBPROCESS"
"""Set to ``1`` to use the subprocess mode even when every hook point exists."""

TABLE_TITLE = "pip-guard: the file pip chose for each package"

PIP_OLDEST = Version("23.0.1")
"""The oldest pip the in-process hooks support (and the tests run)."""

PIP_OLDEST_SUBPROCESS = Version("22.2")
"""The oldest pip the subprocess mode can use: ``pip install --dry-run --report``."""


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
        prepared: ``name version`` of what pip prepared before a strict refusal at the
            gate (see ``GuardSession.prepared_before``); empty after a refusal before
            pip's resolver started, and in the subprocess mode.
        degraded: the checks that did not run because a pip name was missing
            (``GuardSession.notes``, report ``degraded_checks``).
        passed_over: the files strict mode took out of pip's choice
            (``GuardSession.passed_over_json``, report ``pip.passed_over``).
        resolved: pip's resolver returned its final set (``False``: pip failed before
            installing anything).
        pip_extra: more of the report's ``pip`` object (``dry_run`` of the subprocess
            mode when pip's dry run failed).
    """

    pip_code: int
    records: list[PackageRecord]
    refused: bool
    target: Target
    pip_version: str
    mode: str
    options: dict[str, Any] = field(default_factory=dict)
    internal_error: BaseException | None = None
    prepared: list[str] = field(default_factory=list)
    degraded: list[dict[str, str]] = field(default_factory=list)
    passed_over: list[dict[str, Any]] = field(default_factory=list)
    resolved: bool = True
    pip_extra: dict[str, Any] = field(default_factory=dict)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _silence_broken_pipes() -> None:
    """Point stdout and stderr at ``os.devnull`` after a ``BrokenPipeError`` (Python's
    recipe, "Note on SIGPIPE" in the ``signal`` docs): later writes, and the flush at
    interpreter exit, then go nowhere instead of raising or printing "Exception ignored"."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for stream in (sys.stdout, sys.stderr):
            try:
                os.dup2(devnull, stream.fileno())
            except (OSError, ValueError, io.UnsupportedOperation):
                continue  # no file descriptor (replaced stream): nothing to point
    finally:
        os.close(devnull)


def _emit(write: Callable[[], None]) -> None:
    """Run ``write`` (printing to stderr) and flush; a closed pipe silences the output."""
    try:
        write()
        sys.stderr.flush()
    except BrokenPipeError:
        _silence_broken_pipes()


def say(*lines: str) -> None:
    """Print ``lines`` to stderr, surviving a closed pipe (:func:`_emit`)."""
    _emit(lambda: print(*lines, sep="\n", file=sys.stderr))


def _flush_stdout() -> None:
    """Flush pip's stdout now, while a closed pipe can still be silenced."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_broken_pipes()


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
    prepared = session.prepared_before() if session.refused else []
    return Outcome(code, session.records(), bool(session.refused), session.target,
                   api.version, "in-process", session.options, session.internal_error,
                   prepared, session.notes.to_json(), session.passed_over_json(),
                   session.final is not None or not api.owners.get(hooks.RESOLVED.label))


Verifier = Callable[[str, Sequence[str], str], InstalledVerification]
"""``verify_installed(python, names, mode)`` of :mod:`poetry_wheelguard.postinstall`."""


def load_verifier() -> Verifier | None:
    """The verifier, known before pip runs (pip 26 blocks imports once it installs);
    ``None`` when this installation has no verify command
    (:func:`~poetry_wheelguard.postinstall.verify_available`)."""
    if not verify_available():
        return None

    def verify(python: str, names: Sequence[str], mode: str) -> InstalledVerification:
        return verify_installed(python, names, mode=mode)

    return verify


def _verify_skip_checks(outcome: Outcome, config: Config, code: int, custom_target: bool,
                        verifier: Verifier | None) -> list[tuple[bool, str]]:
    """The ``(applies, reason)`` checks of ``pip-guard install`` for
    :func:`~poetry_wheelguard.postinstall.verify_after_install`, in their order."""
    opts = outcome.options
    checks = [
        (not config.verify, "disabled (--no-verify / verify = false)"),
        (code == exitcodes.INTERRUPTED, "interrupted (Ctrl-C)"),
        (verifier is None, f"{VERIFY_MODULE} is not installed"),
        (custom_target, "the target is not this interpreter (pip --platform/--python-version/"
                        "--abi/--implementation)"),
        (bool(opts.get("dry_run")), "pip --dry-run installed nothing"),
        (not outcome.records, "nothing was installed"),
        (not outcome.resolved, f"pip failed (exit code {code}) before its resolver chose what "
                               "to install; nothing was installed"),
    ]
    for key, flag in (("target_dir", "--target"), ("prefix_path", "--prefix"),
                      ("root_path", "--root")):
        checks.append((bool(opts.get(key)),
                       f"packages went to {flag} {opts.get(key)}; run pip-guard verify --path "
                       "on it"))
    return checks


def refusal_summary(outcome: Outcome) -> str:
    """The closing line of a strict refusal: exactly what was and was not fetched."""
    if outcome.mode != "in-process":
        return ("pip-guard: strict mode refused the files above; nothing was installed (pip's "
                "dry run in subprocess mode may have downloaded them and prepared their "
                "metadata)")
    if not outcome.prepared:
        return ("pip-guard: strict mode refused the files above before any distribution file "
                "was downloaded or built; nothing was installed")
    return ("pip-guard: strict mode refused the files above; they were not downloaded or "
            "built and nothing was installed, but pip had already fetched and prepared the "
            f"metadata of {', '.join(outcome.prepared)} (in pip's cache and temporary "
            "directories, not in the environment)")


NOT_INSTALLED = "NOT_INSTALLED"


def _destination_sites(outcome: Outcome) -> list[str] | None:
    """Where pip installed to, when it can be told without pip: ``--target DIR``, the user
    site (``--user``), else the running interpreter's purelib/platlib; ``None`` for
    ``--prefix``/``--root`` (not looked into)."""
    opts = outcome.options
    if opts.get("prefix_path") or opts.get("root_path"):
        return None
    if opts.get("target_dir"):
        return [str(opts["target_dir"])]
    sites = [p for p in (outcome.target.purelib, outcome.target.platlib) if p]
    if opts.get("use_user_site") and site.USER_SITE:
        sites.insert(0, site.USER_SITE)
    return sites


def mark_not_installed(outcome: Outcome, why: str) -> None:
    """After pip failed (``why``: ``"pip exited 1"``, ``"interrupted"``): every record whose
    distribution is not in the destination (:func:`_destination_sites`) at the chosen
    version gets a ``NOT_INSTALLED`` warning and is no longer ``ok`` (pip's own hash
    mismatch, a download error, Ctrl-C: pip installs nothing, or only part).
    Refused records keep their verdict."""
    sites = _destination_sites(outcome)
    found = {} if sites is None else {
        d.name: d.version for d in find_distributions(
            sites, [r.selection.name for r in outcome.records])}
    for rec in outcome.records:
        if rec.verdict == "refused":
            continue
        if found.get(normalize(rec.selection.name)) == rec.selection.version:
            continue
        where = "" if sites is not None else " (not looked for under --prefix/--root)"
        rec.findings.append(Finding(
            NOT_INSTALLED, "warning",
            f"{rec.selection.name} {rec.selection.version}: {why} before it was installed; "
            f"it is not in the environment{where}",
            "read pip's error above; run the install again"))
        rec.verdict = "warn"


class _Interrupts:
    """Notes Ctrl-C (SIGINT) while pip runs: pip catches ``KeyboardInterrupt`` and returns
    1, so without this the guard could not tell an interrupted install from a failed one.
    Only in the main thread (where Python delivers signals); the handler it replaces is
    put back on exit."""

    def __init__(self) -> None:
        self.seen = False
        self._previous: Any = None

    def _on_sigint(self, signum: int, frame: Any) -> None:
        self.seen = True
        raise KeyboardInterrupt

    def __enter__(self) -> _Interrupts:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def finish(outcome: Outcome, config: Config, argv: Sequence[str], *,
           custom_target: bool, verifier: Verifier | None, sbom: str | None = None,
           interrupted: bool = False, started: str = "") -> int:
    """Verify, print the table and findings, write the report (``started``: when the
    command started, default now); return the exit code.

    A strict refusal exits ``REFUSED`` whatever pip returned; Ctrl-C (``interrupted``)
    exits 130; after pip failed or was interrupted, a package that is not installed is
    marked ``NOT_INSTALLED`` (:func:`mark_not_installed`); a closed output pipe only
    silences the output (module docstring).
    """
    records = outcome.records
    _flush_stdout()
    if outcome.refused:
        code = exitcodes.REFUSED
    elif interrupted:
        code = exitcodes.INTERRUPTED
    elif outcome.internal_error is not None and outcome.pip_code != 0:
        code = exitcodes.INTERNAL
    else:
        code = outcome.pip_code
    if not outcome.refused and (interrupted or outcome.pip_code != 0):
        mark_not_installed(outcome, "interrupted (Ctrl-C)" if interrupted
                           else f"pip exited {outcome.pip_code}")

    def verify(names: list[str]) -> InstalledVerification:
        assert verifier is not None  # a skip check otherwise
        return verifier(sys.executable, names, config.mode)

    code, verification = verify_after_install(
        records, code, config.strict, verify=verify, say=say, prog="pip-guard",
        skip=_verify_skip_checks(outcome, config, code, custom_target, verifier))
    if records:
        def table() -> None:
            render_table(records, sys.stderr, title=TABLE_TITLE)
            render_findings(records, sys.stderr)
            for line in summary_lines(records, "pip-guard", verification):
                print(line, file=sys.stderr)

        _emit(table)
    if outcome.internal_error is not None:
        level = "error" if code == exitcodes.INTERNAL else "warning"
        say(f"pip-guard: {level}: internal error ({outcome.internal_error!r}); findings may "
            "be incomplete; please report it")
    if outcome.refused:
        say(refusal_summary(outcome))
    elif code == exitcodes.VERIFY_ERRORS:
        say("pip-guard: strict mode: verification found errors in the installed files above")
    if config.report or sbom:
        report = Report(
            command="install", mode=config.mode, target=outcome.target.summary(),
            installer={"name": "pip", "version": outcome.pip_version}, packages=records,
            exit_code=code, started=started or now_iso(), degraded_checks=outcome.degraded,
            extra={"pip": {"mode": outcome.mode, "args": [redact_text(a) for a in argv],
                           **({"passed_over": outcome.passed_over}
                              if outcome.passed_over else {}), **outcome.pip_extra},
                   "verification": verification},
        ).to_json()
        if config.report:
            write_json_atomic(config.report, report)
        if sbom:
            from poetry_wheelguard.sbom import write_sbom

            write_sbom(sbom, report)
    _flush_stdout()
    return code


def pip_support(version: str) -> str | None:
    """``None`` when pip ``version`` runs in-process; ``"subprocess"`` when only the
    subprocess mode can serve it (pip 22.2 up to 23.0.1); ``"unsupported"`` below 22.2
    (no ``pip install --dry-run --report``). A version that is no PEP 440 version is left
    to feature detection (``None``)."""
    try:
        parsed = Version(version)
    except InvalidVersion:
        return None
    if parsed < PIP_OLDEST_SUBPROCESS:
        return "unsupported"
    return "subprocess" if parsed < PIP_OLDEST else None


def run_install(ns: argparse.Namespace, argv: list[str]) -> int:
    """``pip-guard install``: run ``pip install argv`` guarded; return the exit code.

    Before pip runs: the report path is checked (created directory, a file can be
    written), and pip's version: below 22.2 one line and ``INPUT_ERROR``; from 22.2 to
    before 23.0.1 the subprocess mode, said on stderr.

    Raises:
        ConfigError: bad ``[tool.wheelguard]``, ``WHEELGUARD_*`` or flag, or a report path
            that cannot be written (exit 64).
        WheelguardError: the report cannot be written at the end (exit 12).
    """
    started = now_iso()
    config = config_from_namespace(ns)
    if config.report:
        check_report_path(config.report)
    if config.sbom:
        from poetry_wheelguard.sbom import require_library

        check_report_path(config.sbom, setting="--sbom")
        require_library()  # before pip runs, not after the install
    _warm_up()
    running = running_target()
    verifier = load_verifier() if config.verify else None
    api = hooks.detect()
    if not api.version:
        say("pip-guard: error: pip is not installed in this interpreter; install pip "
            ">= 23.0.1 (pip install 'poetry-wheelguard[pip]')")
        return exitcodes.INPUT_ERROR
    support = pip_support(api.version)
    if support == "unsupported":
        say(f"pip-guard: error: pip {api.version} is not supported by pip-guard install; "
            f"upgrade pip to {PIP_OLDEST} or newer")
        return exitcodes.INPUT_ERROR
    forced = _truthy(os.environ.get(SUBPROCESS_ENV))
    if forced or support == "subprocess" or not api.usable:
        if forced:
            why = f"{SUBPROCESS_ENV} is set"
        elif support == "subprocess":
            why = (f"pip {api.version} is older than {PIP_OLDEST}, the oldest pip the "
                   "in-process hooks support (for them, upgrade it: "
                   f"'{sys.executable} -m pip install --upgrade pip')")
        else:
            why = f"pip {api.version} lacks {', '.join(api.missing)}"
        say(f"pip-guard: {why}; using subprocess mode (pip install --dry-run --report, then "
            "pip install; see docs/pip.md)")
        from poetry_wheelguard.pip import subprocess_mode  # pip is not imported in-process

        with _Interrupts() as interrupts:
            sub = subprocess_mode.run(config, argv, running)
        outcome = Outcome(sub.pip_code, sub.records, sub.refused, sub.target,
                          api.version, "subprocess", sub.options, resolved=sub.dry_run is None,
                          pip_extra={} if sub.dry_run is None else {"dry_run": sub.dry_run})
    else:
        with _Interrupts() as interrupts:
            outcome = run_in_process(api, config, argv, running)
    if interrupts.seen:
        say("pip-guard: interrupted")
    return finish(outcome, config, argv, custom_target=outcome.target is not running,
                  verifier=verifier, sbom=config.sbom,
                  interrupted=interrupts.seen, started=started)
