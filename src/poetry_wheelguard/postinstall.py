"""After an install: verify what was installed, merge it into the install records, decide
the exit code. The one module both installer adapters (``pip-guard install``, the Poetry
plugin and ``poetry wheelguard verify``) call; they import no command-line module.

- :func:`verify_after_install`: the decision - whether verification runs, what a
  verification that cannot run means in warn and strict mode, which exit code wins;
- :func:`verify_installed`: runs ``pip-guard verify`` for an interpreter in a separate
  process and reads its report back (:class:`InstalledVerification`);
- :func:`merge_verification`: its findings and ``verification`` objects into the records.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Callable

from poetry_wheelguard import exitcodes
from poetry_wheelguard.distfiles import normalize
from poetry_wheelguard.errors import VerifyError, WheelguardError
from poetry_wheelguard.models import SEVERITY_RANK, Finding, PackageRecord
from poetry_wheelguard.policy import verdict_for
from poetry_wheelguard.report import finding_from_json, redact_text
from poetry_wheelguard.selfcmd import child_environment, isolated_guard_command

VERIFY_MODULE = "poetry_wheelguard.cli.verify"
"""The module of ``pip-guard verify``; verification runs only when it is installed."""


def verify_available() -> bool:
    """True when this installation has the ``verify`` command (:data:`VERIFY_MODULE`)."""
    return importlib.util.find_spec(VERIFY_MODULE) is not None


def verify_after_install(records: Sequence[PackageRecord], code: int, strict: bool, *,
                         skip: Iterable[tuple[bool, str]],
                         verify: Callable[[list[str]], InstalledVerification],
                         say: Callable[[str], None], prog: str
                         ) -> tuple[int, dict[str, Any]]:
    """Verify after an install, the same way for every installer; return the exit code
    and the report's ``verification`` object.

    ``code`` is the installer's exit code so far (a strict refusal already counted);
    ``skip`` the adapter's ``(applies, reason)`` checks in its order (disabled, nothing
    installed, another target...); ``verify(names)`` runs the verification of the records'
    distributions (:func:`verify_installed`); ``say`` prints one line; ``prog`` starts it.

    1. The first ``skip`` check that applies is the reason verification does not run
       (``{"status": "skipped", "reason": ...}``); ``code`` stays. A strict refusal
       (``code`` ``REFUSED``) installed nothing: skipped.
    2. An install that **failed** (``code`` neither 0 nor ``REFUSED``) may have installed
       part of the records (pip installs one distribution after another and keeps those
       done when a later one fails; Poetry's executor likewise): what is installed is
       verified all the same, so a half-installed environment is not left unchecked.
       Its findings are merged, the installer's ``code`` stays (the failure is the first
       thing to fix), and the object says so: ``{"status": "ran", "exit_code": N,
       "partial": true, "reason": "the install failed (exit code C); verified what was
       installed"}``; ``skipped`` when none of the records is installed, and a
       verification that cannot run is a warning line (``failed``), ``code`` staying.
    3. After a successful install, a verification that cannot run
       (:class:`~poetry_wheelguard.errors.WheelguardError`: no process, an unexpected exit
       code, no readable report) is a warning line; the exit code is ``INTERNAL`` (70) in
       strict mode and stays 0 in warn mode (``{"status": "failed", "reason": ...}``).
    4. Otherwise its findings are merged into ``records`` (:func:`merge_verification`) and
       its exit code wins: 0, or ``VERIFY_ERRORS`` (11) for an error in strict mode
       (``{"status": "ran", "exit_code": N, "elf_files": F, "distributions": D,
       "errors": E, "warnings": W}``, the counts from verify's own report).
    """
    reason = next((why for applies, why in skip if applies), None)
    if reason is None and code == exitcodes.REFUSED:
        reason = "strict mode refused; nothing was installed"
    if reason is not None:
        return code, {"status": "skipped", "reason": reason}
    failed = code != exitcodes.OK
    try:
        result = verify([r.selection.name for r in records])
    except WheelguardError as exc:
        if failed and isinstance(exc, VerifyError) and \
                exc.exit_code == exitcodes.INPUT_ERROR and "not installed" in str(exc):
            return code, {"status": "skipped",
                          "reason": f"the install failed (exit code {code}) and none of the "
                                    "packages is installed"}
        say(f"{prog}: warning: {exc}")
        if failed:
            return code, {"status": "failed", "reason": str(exc)}
        return (exitcodes.INTERNAL if strict else exitcodes.OK,
                {"status": "failed", "reason": str(exc)})
    merge_verification(records, result)
    out: dict[str, Any] = {"status": "ran", "exit_code": int(result.exit_code)}
    summary = result.report.get("verification")
    if isinstance(summary, dict):  # the counts of render.verification_line
        for key in ("elf_files", "distributions", "errors", "warnings"):
            if isinstance(summary.get(key), int):
                out[key] = summary[key]
    if failed:
        say(f"{prog}: the install failed (exit code {code}); verified what was installed "
            f"(verification exit code {int(result.exit_code)})")
        out.update(partial=True, reason=f"the install failed (exit code {code}); verified "
                                        "what was installed")
        return code, out
    return int(result.exit_code), out


VerifyRunner = Callable[..., "subprocess.CompletedProcess[str]"]
"""``runner(cmd)``, or ``runner(cmd, cwd=DIR)`` when :func:`verify_installed` is given a
``cwd``: runs the command list and returns its completed process (text output). Injected
so tests can replace :func:`subprocess.run`."""


@dataclass(frozen=True)
class InstalledVerification:
    """What :func:`verify_installed` found.

    Attributes:
        findings: per normalized distribution name, its findings (most severe first).
        verification: per name, the ``verification`` record of the report.
        report: the whole ``wheelguard-report/1`` document the subprocess wrote.
        exit_code: the subprocess's exit code (0, or 11 in strict mode with errors).
    """

    findings: Mapping[str, list[Finding]]
    verification: Mapping[str, dict[str, Any]]
    report: dict[str, Any]
    exit_code: int

    @classmethod
    def from_report(cls, data: Mapping[str, Any], exit_code: int) -> InstalledVerification:
        """Read a ``wheelguard-report/1`` document of ``pip-guard verify`` (docs/report.md):
        its ``packages`` by normalized name. Entries that are not objects, and findings of
        an unknown severity, are skipped; a ``verification`` that is not an object is left
        out."""
        findings: dict[str, list[Finding]] = {}
        verification: dict[str, dict[str, Any]] = {}
        for pkg in data.get("packages") or ():
            if not isinstance(pkg, Mapping) or not isinstance(pkg.get("name"), str):
                continue
            name = normalize(pkg["name"])
            findings[name] = [finding_from_json(raw) for raw in pkg.get("findings") or ()
                              if isinstance(raw, Mapping) and raw.get("severity") in SEVERITY_RANK]
            if isinstance(pkg.get("verification"), dict):
                verification[name] = pkg["verification"]
        return cls(findings, verification, dict(data), exit_code)

    @property
    def strict(self) -> bool:
        """The verification judged in strict mode (the report's ``mode``)."""
        return self.report.get("mode") == "strict"


def _run_verify_process(cmd: list[str], cwd: str | None, runner: VerifyRunner | None,
                        timeout: float | None) -> subprocess.CompletedProcess[str]:
    if runner is not None:
        return runner(cmd) if cwd is None else runner(cmd, cwd=cwd)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                          env=child_environment(), cwd=cwd, stdin=subprocess.DEVNULL)


def verify_installed(python: str, names: Iterable[str] | None = None, *,
                     mode: str = "warn", cwd: str | os.PathLike[str] | None = None,
                     runner: VerifyRunner | None = None,
                     timeout: float | None = 600) -> InstalledVerification:
    """Verify distributions installed for the interpreter ``python``, in a separate process.

    Runs ``sys.executable -I -S -c BOOT verify --python PYTHON --mode MODE --report TMP
    [--package NAME]...`` isolated (:func:`~poetry_wheelguard.selfcmd.isolated_guard_command`:
    no ``site``, so no ``.pth`` file of the environment just installed runs; the guard's
    own directories, or the single-file guard's archive, put on ``sys.path`` by ``BOOT``), in
    a clean environment (:func:`~poetry_wheelguard.selfcmd.child_environment`), in ``cwd``
    (default: this process's; the verify command reads
    ``[tool.wheelguard]`` there) and reads the report back (:meth:`InstalledVerification.
    from_report`). A separate process because pip 26 refuses imports while it installs, and
    nothing of the verified files may enter the installer's process. ``names`` limits the
    check to those distributions (``None`` or empty = all). ``runner`` replaces
    :func:`subprocess.run` (see :data:`VerifyRunner`); ``timeout`` in seconds (``None``: no
    limit) applies to the default runner.

    Raises:
        VerifyError: the verifying process could not be started (``exit_code`` 70), exited
            with a code other than 0 or 11, or wrote no readable report; the message has its
            last error line, credentials removed.
    """
    fd, report_path = tempfile.mkstemp(prefix="wheelguard-verify-", suffix=".json")
    os.close(fd)
    cmd = [*isolated_guard_command(), "verify", "--python", python, "--mode", mode,
           "--report", report_path]
    for name in names or ():
        cmd += ["--package", name]
    try:
        proc = _run_verify_process(cmd, None if cwd is None else os.fspath(cwd), runner,
                                   timeout)
        if proc.returncode not in (exitcodes.OK, exitcodes.VERIFY_ERRORS):
            last = (proc.stderr or proc.stdout or "").strip().splitlines()[-1:] or ["no output"]
            raise VerifyError(f"verification failed (exit {proc.returncode}): "
                              f"{redact_text(last[0])}", exit_code=proc.returncode)
        try:
            with open(report_path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError) as exc:
            raise VerifyError("verification wrote no readable report",
                              exit_code=proc.returncode) from exc
    except (OSError, subprocess.SubprocessError) as exc:
        raise VerifyError(f"cannot run the verification ({redact_text(str(exc))})",
                          exit_code=exitcodes.INTERNAL) from exc
    finally:
        if os.path.exists(report_path):
            os.unlink(report_path)
    if not isinstance(data, Mapping):
        raise VerifyError("verification wrote no readable report", exit_code=proc.returncode)
    return InstalledVerification.from_report(data, proc.returncode)


def merge_verification(records: Sequence[PackageRecord], result: InstalledVerification) -> int:
    """Add ``result``'s per-distribution findings and ``verification`` objects to the
    install records (matched by normalized name); return how many error findings joined.

    A finding a record already has is not added again (merging twice changes nothing).
    Verdicts only get worse, and agree with ``pip-guard verify`` and the exit code: a
    record with a new warning or error goes from ``ok`` to ``warn``; in strict mode
    (:attr:`InstalledVerification.strict`) a record with an error finding is ``refused``,
    as strict verification exits 11 for it (its files are installed all the same: the
    verdict refuses the result, it cannot undo the install).
    """
    rank = {"ok": 0, "warn": 1, "refused": 2}
    errors = 0
    for rec in records:
        name = rec.selection.name
        if name in result.verification:
            rec.verification = result.verification[name]
        found = result.findings.get(name, ())
        for finding in found:
            if finding in rec.findings:
                continue
            rec.findings.append(finding)
            if finding.severity == "error":
                errors += 1
        verdict = verdict_for(found, result.strict)
        if rank[verdict] > rank[rec.verdict]:
            rec.verdict = verdict
    return errors
