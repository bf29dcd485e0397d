"""The report: a versioned JSON document (``wheelguard-report/1``), written and read here.

The model (:class:`Report`, :func:`package_json`), the atomic write
(:func:`write_json_atomic`) and the one reader of report documents (:func:`load_report`,
:func:`record_from_json`, :func:`finding_from_json`); tables and finding lines are
:mod:`poetry_wheelguard.render`'s.

The JSON schema ships as ``poetry_wheelguard/schema/report-1.json`` and is documented in
docs/report.md. Reports are written atomically (a temporary file in the same directory,
then ``os.replace``), so a reader never sees half a report; ``-``, devices and FIFOs are
written directly and never replaced (:func:`write_json_atomic`). Index credentials are
removed from every URL (:func:`redact_url`, :func:`redact_text`) before anything is stored
or printed; :func:`printable` escapes terminal control characters of printed values.
"""

from __future__ import annotations

import datetime as _dt
import errno
import json
import os
import re
import stat
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

from poetry_wheelguard import __version__
from poetry_wheelguard.errors import ConfigError, WheelguardError
from poetry_wheelguard.inputs import read_input_text
from poetry_wheelguard.models import Candidate, Finding, PackageRecord, PassedOver, Selection

SCHEMA = "wheelguard-report/1"


# The authority of a URL (RFC 3986 section 3.2) ends at the first "/", "?" or "#" (WHATWG
# parsers also end it at "\"); its userinfo is everything before the authority's LAST "@".
# A password may hold "@" (p@ss), so the userinfo is matched greedily up to that last "@".
_URL_USERINFO = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://)[^/?#\\\s\"<>]*@")
# userinfo with a password but no scheme, as installers print hosts in errors:
# "failed to connect to user:token@host:8080" (the password may hold "@" too)
_BARE_USERINFO = re.compile(r"(?<![\w.:/@-])[^\s/@:'\"(<]+:[^\s/?#'\"<>]*@(?=[\w\[])")


def redact_url(url: str) -> str:
    """Remove credentials from ``url``: ``https://user:token@host/x`` -> ``https://host/x``.

    The userinfo is everything before the last ``@`` of the authority (RFC 3986: the
    authority ends at the first ``/``, ``?`` or ``#``), so ``http://u:p@ss@host/`` becomes
    ``http://host/``. Also drops the fragment (hashes are reported in their own field).
    Text that is not a URL is redacted as free text (:func:`redact_text`).
    """
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    if parts.scheme and parts.netloc:
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit((parts.scheme, host, parts.path, parts.query, ""))
    return redact_text(url)


def redact_text(text: str) -> str:
    """Remove credentials from free text (messages, command lines, exception texts):
    the userinfo (``user:password@``, ``token@``, up to the authority's last ``@``) of every
    URL-like word (``scheme://...``), and ``user:password@host`` without a scheme. An
    e-mail address (``name@host``, no colon) is left as it is."""
    return _BARE_USERINFO.sub("", _URL_USERINFO.sub(r"\1", text))


# C0 controls (but tab and newline), DEL and the C1 controls: ESC starts a terminal escape
# sequence (colour, screen clear, window title), CSI (U+009B) and OSC (U+009D) do too.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` safe to print on a terminal: every control character but tab and newline
    (ESC, CSI, OSC, BEL, CR, backspace...) as a visible ``\\xNN`` escape, so a package's
    METADATA or WHEEL values cannot colour, clear or retitle the user's terminal.
    ``printable("a\\x1b[2Jb") == "a\\\\x1b[2Jb"``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def now_iso() -> str:
    """The current UTC time, ISO 8601 with seconds (``2026-11-29T07:38:17Z``)."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def package_json(rec: PackageRecord, target_tags: frozenset[str] | None = None) -> dict[str, Any]:
    """The report object of one package (see docs/report.md)."""
    sel = rec.selection
    out: dict[str, Any] = {
        "name": sel.name,
        "version": sel.version,
        "filename": sel.chosen.filename,
        "url": redact_url(sel.chosen.url),
        "sha256": sel.chosen.sha256,
        "kind": rec.kind,
        "tags": list(rec.tags),
        "pure": rec.pure,
        "index": redact_url(sel.index),
        "built_locally": sel.built_locally,
        "first_party": sel.first_party,
        "required_by": list(sel.required_by),
        "candidates": [
            {
                "filename": c.filename,
                "url": redact_url(c.url),
                "sha256": c.sha256,
                "rejected_reason": c.rejected_reason,
            }
            for c in sel.candidates
        ],
        "findings": [f.to_json() for f in rec.findings],
        "verdict": rec.verdict,
    }
    if rec.verification is not None:
        out["verification"] = rec.verification
    if rec.passed_over:
        out["passed_over"] = [p.to_json() for p in rec.passed_over]
    return out


@dataclass
class Report:
    """One run's report.

    Attributes:
        command: ``install``, ``verify``, ``plan`` or ``diff``.
        installer: ``{"name": "pip", "version": "26.3"}`` or Poetry's, or ``None``.
        target: the target summary (:meth:`Target.summary`), or several for ``plan``.
        mode: ``warn`` or ``strict``.
        packages: one record per package, in the installer's order.
        started: when the command started (:func:`now_iso`): each command takes it at its
            start and passes it in (the default, the time the report is made, is the
            finishing time); ``finished`` is taken by :meth:`to_json`.
        extra: further top-level fields (``verification``, ``errors``...).
        degraded_checks: checks that did not run (fully) because an installer name was
            missing, as ``{check, missing, fallback}``; written only when not empty.
    """

    command: str
    mode: str
    target: dict[str, Any] | list[dict[str, Any]] | None
    installer: dict[str, str] | None = None
    packages: list[PackageRecord] = field(default_factory=list)
    started: str = field(default_factory=now_iso)
    exit_code: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    degraded_checks: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The whole report as JSON-ready data (``schema`` first)."""
        counts = {"ok": 0, "warn": 0, "refused": 0}
        for p in self.packages:
            counts[p.verdict] += 1
        data: dict[str, Any] = {
            "schema": SCHEMA,
            "tool": {"name": "poetry-wheelguard", "version": __version__},
            "command": self.command,
            "installer": self.installer,
            "target": self.target,
            "mode": self.mode,
            "started": self.started,
            "finished": now_iso(),
            "exit_code": self.exit_code,
            "summary": counts,
            "packages": [package_json(p) for p in self.packages],
        }
        if self.degraded_checks:
            data["degraded_checks"] = list(self.degraded_checks)
        data.update(self.extra)
        return data


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _report_destination(path: str | os.PathLike[str]) -> tuple[Path, bool]:
    """``(where to write, atomically?)`` for a report path (see :func:`write_json_atomic`).

    A symbolic link is followed: a link to a regular file (or to a name that does not
    exist yet) is written atomically at its target, and the link stays a link. An
    existing file that is not regular (``/dev/null``, ``/dev/stdout``, a FIFO, a
    ``/dev/fd/N`` of a shell's process substitution) is written directly, never replaced.

    Raises:
        OSError: ``path`` is a directory (``EISDIR``), or a symbolic link loop.
    """
    given = Path(path)
    try:
        st = os.stat(given)  # follows symbolic links
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(given))
    if st is not None and not stat.S_ISREG(st.st_mode):
        return given, False
    if given.is_symlink():
        return Path(os.path.realpath(given)), True
    return given, True


def _dump(data: Any, fh: IO[str]) -> None:
    json.dump(data, fh, indent=2, sort_keys=False)
    fh.write("\n")


def write_json_atomic(path: str | os.PathLike[str], data: Any,
                      stdout: IO[str] | None = None) -> None:
    """Write ``data`` as indented JSON to ``path``.

    * ``-``: to ``stdout`` (``sys.stdout`` by default);
    * a regular file or a new name: atomically (a temporary file in the same directory,
      then ``os.replace``), with the permissions a plain ``open(path, "w")`` would give
      (``0666 & ~umask``), so a reader never sees half a report;
    * a symbolic link: followed, its target written as above (the link is kept);
    * an existing file that is not regular (a device such as ``/dev/null``, a FIFO):
      opened and written directly; it is never replaced by a regular file.

    Raises:
        WheelguardError: the path is a directory or cannot be written (names the path).
    """
    if str(path) == "-":
        out = stdout or sys.stdout
        try:
            _dump(data, out)
            out.flush()
        except (OSError, ValueError) as exc:  # ValueError: stdout closed
            raise WheelguardError(f"cannot write the report to standard output ({exc})",
                                  filename="-") from exc
        return
    target = Path(path)
    try:
        target, atomic = _report_destination(path)
        if not atomic:
            # O_APPEND|O_WRONLY without O_CREAT/O_TRUNC: a device or FIFO as it is
            with open(os.open(target, os.O_WRONLY | os.O_APPEND), "w", encoding="utf-8") as fh:
                _dump(data, fh)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=str(target.parent))
        try:
            # mkstemp creates the file 0600; a report is an ordinary file: 0666 & ~umask
            os.fchmod(fd, 0o666 & ~_umask())
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                _dump(data, fh)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise WheelguardError(f"cannot write the report ({exc.strerror or exc})",
                              filename=str(path)) from exc


def check_report_path(path: str | os.PathLike[str], *,
                      setting: str = "--report / WHEELGUARD_REPORT") -> None:
    """Make sure :func:`write_json_atomic` can write ``path`` later: ``-`` always can; an
    existing non-regular file (device, FIFO) must be writable (it is not opened here: a
    FIFO would block); otherwise create the directory of the path (or of a symbolic
    link's target, as that function would) and create and remove a temporary file in it.
    Call it before a run whose report would otherwise fail only at the end (after an
    install). ``setting`` names, in the error, where the user sets the path.

    Raises:
        ConfigError: ``path`` is a directory, its directory cannot be created, or no file
            can be created in it (names the path and the OS reason).
    """
    if str(path) == "-":
        return
    shown = str(path)
    try:
        target, atomic = _report_destination(path)
    except IsADirectoryError as exc:
        raise ConfigError(f"the report path is a directory; give a file name ({setting})",
                          filename=shown) from exc
    except OSError as exc:
        raise ConfigError(f"cannot write the report there ({exc.strerror or exc}); give a "
                          f"writable path ({setting})", filename=shown) from exc
    try:
        if not atomic:
            if not os.access(target, os.W_OK):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), shown)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=str(target.parent))
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise ConfigError(f"cannot write the report there ({exc.strerror or exc}); give a "
                          f"writable path ({setting})", filename=shown) from exc


def schema_path() -> Path:
    """Path of the shipped JSON schema of ``wheelguard-report/1``."""
    return Path(__file__).with_name("schema") / "report-1.json"


# --- reading reports back -----------------------------------------------------------------

def load_report(path: str) -> dict[str, Any]:
    """Read and check a ``wheelguard-report/1`` file (a regular file, or ``-`` for standard
    input: :func:`~poetry_wheelguard.inputs.read_input_text`): a JSON object of this schema
    whose ``packages`` each have ``name``, ``version`` (strings) and ``kind``, and whose
    ``findings``, where present, are a list of objects.

    Raises:
        WheelguardError: unreadable, not a regular file, not UTF-8, not JSON (also JSON
            nested too deeply for the parser), another schema, or a package object without
            ``name``/``version``/``kind`` or with ``findings`` of another shape (names the
            file).
    """
    text = read_input_text(path, "report")
    try:
        data = json.loads(text)
    except RecursionError as exc:
        raise WheelguardError("not a wheelguard report (JSON nested too deeply)",
                              filename=path) from exc
    except ValueError as exc:
        raise WheelguardError(f"not a JSON report ({exc})", filename=path) from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise WheelguardError(f"not a wheelguard report (schema {found!r}, expected "
                              f"{SCHEMA!r}); give reports written with --report", filename=path)
    packages = data.get("packages")
    if not isinstance(packages, list) or not all(
            isinstance(p, dict) and isinstance(p.get("name"), str)
            and isinstance(p.get("version"), str) and "kind" in p for p in packages):
        raise WheelguardError("invalid report: every package needs name, version and kind",
                              filename=path)
    for pkg in packages:
        findings = pkg.get("findings", [])
        if not isinstance(findings, list) or not all(isinstance(f, dict) for f in findings):
            raise WheelguardError(
                f"invalid report: findings of package {printable(pkg['name'])!r} must be a "
                f"list of objects, not {type(findings).__name__}", filename=path)
    return data


def finding_from_json(raw: Mapping[str, Any]) -> Finding:
    """Rebuild a :class:`Finding` from its report object (docs/report.md): a missing
    ``code``, ``message`` or ``hint`` is ``""``, a ``path`` that is not a string ``None``.
    The severity is taken as it is (callers that need a known one check it against
    :data:`~poetry_wheelguard.models.SEVERITY_RANK`).

    Raises:
        KeyError: the object has no ``severity``.
    """
    path = raw.get("path")
    return Finding(str(raw.get("code", "")), raw["severity"], str(raw.get("message", "")),
                   str(raw.get("hint", "")), path if isinstance(path, str) else None)


def record_from_json(obj: Mapping[str, Any]) -> PackageRecord:
    """Rebuild a :class:`PackageRecord` from its report object (docs/report.md), the
    inverse of :func:`package_json`.

    Raises:
        KeyError, TypeError, ValueError: the object is not a package of a
            ``wheelguard-report/1`` document.
    """
    candidates = tuple(
        Candidate(str(c["filename"]), str(c.get("url") or ""), c.get("sha256"),
                  c.get("rejected_reason"))
        for c in obj.get("candidates") or ()
    )
    selection = Selection(
        name=obj["name"], version=str(obj["version"]),
        chosen=Candidate(str(obj["filename"]), str(obj.get("url") or ""), obj.get("sha256")),
        candidates=candidates, index=str(obj.get("index") or ""),
        first_party=bool(obj.get("first_party")), built_locally=obj.get("built_locally"),
        required_by=tuple(str(n) for n in obj.get("required_by") or ()),
    )
    findings = [finding_from_json(f) for f in obj.get("findings") or ()]
    passed = [PassedOver(str(p["version"]), str(p["filename"]),
                         tuple(str(c) for c in p.get("codes") or ()))
              for p in obj.get("passed_over") or () if isinstance(p, Mapping)]
    return PackageRecord(selection, obj["kind"], tuple(obj.get("tags") or ()),
                         bool(obj.get("pure")), findings, obj["verdict"],
                         obj.get("verification"), passed)
