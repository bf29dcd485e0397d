"""The report: a versioned JSON document (``wheelguard-report/1``) and the end-of-run table.

The JSON schema ships as ``poetry_wheelguard/schema/report-1.json`` and is documented in
docs/report.md. Reports are written atomically (a temporary file in the same directory,
then ``os.replace``), so a reader never sees half a report. Index credentials are removed
from every URL (:func:`redact_url`) before anything is stored or printed.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Union
from urllib.parse import urlsplit, urlunsplit

from poetry_wheelguard import __version__
from poetry_wheelguard.errors import ConfigError, WheelguardError
from poetry_wheelguard.models import SEVERITY_RANK, Finding, PackageRecord

SCHEMA = "wheelguard-report/1"


def redact_url(url: str) -> str:
    """Remove credentials from ``url``: ``https://user:token@host/x`` -> ``https://host/x``.

    Also drops the fragment (hashes are reported in their own field). Text that is not a URL
    is returned as is, with any ``user:password@`` before a host removed.
    """
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"//[^/@\s]+@", "//", url)
    if parts.scheme and parts.netloc:
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit((parts.scheme, host, parts.path, parts.query, ""))
    return re.sub(r"//[^/@\s]+@", "//", url)


_URL_USERINFO = re.compile(r"(\w+://)[^/@\s]+@")
# userinfo with a password but no scheme, as installers print hosts in errors:
# "failed to connect to user:token@host:8080"
_BARE_USERINFO = re.compile(r"(?<![\w.:/@-])[^\s/@:'\"(<]+:[^\s/@'\"]+@(?=[\w\[])")


def redact_text(text: str) -> str:
    """Remove credentials from free text (messages, command lines, exception texts):
    ``user:password@`` or ``token@`` in every URL, and ``user:password@host`` without a
    scheme. An e-mail address (``name@host``, no colon) is left as it is."""
    return _BARE_USERINFO.sub("", _URL_USERINFO.sub(r"\1", text))


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


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically (temp file + ``os.replace``),
    with the permissions a plain ``open(path, "w")`` would give (``0666 & ~umask``).

    Raises:
        WheelguardError: the directory cannot be written (names the path).
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=str(target.parent))
        try:
            # mkstemp creates the file 0600; a report is an ordinary file: 0666 & ~umask
            os.fchmod(fd, 0o666 & ~_umask())
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2, sort_keys=False)
                fh.write("\n")
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise WheelguardError(f"cannot write the report ({exc.strerror})",
                              filename=str(target)) from exc


def check_report_path(path: str | os.PathLike[str], *,
                      setting: str = "--report / WHEELGUARD_REPORT") -> None:
    """Make sure :func:`write_json_atomic` can write ``path`` later: create its directory
    (as that function would) and create and remove a temporary file in it. Call it before
    a run whose report would otherwise fail only at the end (after an install).
    ``setting`` names, in the error, where the user sets the path.

    Raises:
        ConfigError: ``path`` is a directory, its directory cannot be created, or no file
            can be created in it (names the path and the OS reason).
    """
    target = Path(path)
    if target.is_dir():
        raise ConfigError(f"the report path is a directory; give a file name ({setting})",
                          filename=str(target))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=str(target.parent))
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise ConfigError(f"cannot write the report there ({exc.strerror or exc}); give a "
                          f"writable path ({setting})", filename=str(target)) from exc


def schema_path() -> Path:
    """Path of the shipped JSON schema of ``wheelguard-report/1``."""
    return Path(__file__).with_name("schema") / "report-1.json"


def _file_label(rec: PackageRecord) -> str:
    if rec.selection.first_party:
        return "local project"
    if rec.kind is None:
        return "no file"
    if rec.kind == "sdist":
        return "sdist (build)"
    if rec.pure:
        return "wheel, pure"
    # the PEP 600/656 perennial name first (manylinux_2_17_x86_64, not its manylinux2014 alias)
    plats = sorted({t.split("-", 2)[2] for t in rec.tags},
                   key=lambda p: (not p.startswith(("manylinux_", "musllinux_")), p))
    abis = sorted({t.split("-", 2)[0] + "-" + t.split("-", 2)[1] for t in rec.tags})
    more = f" (+{len(plats) - 1} tags)" if len(plats) > 2 else " (+1 tag)" if plats[1:] else ""
    return f"wheel, {abis[0] if abis else '?'} {plats[0] if plats else '?'}{more}"


def _codes(findings: Sequence[Finding]) -> str:
    seen = dict.fromkeys(f.code for f in findings if SEVERITY_RANK[f.severity] > 0)
    return ", ".join(seen)


def table_rows(records: Iterable[PackageRecord]) -> list[tuple[str, str, str, str, str]]:
    """One ``(package, version, file, verdict, codes)`` row per package."""
    return [
        (r.selection.name, r.selection.version, _file_label(r), r.verdict, _codes(r.findings))
        for r in records
    ]


Cell = Union[str, tuple[str, str]]
"""A table cell: its text, or ``(text, rich style)`` (the style is used on a terminal only)."""

VERDICT_STYLE = {"ok": "green", "warn": "yellow", "refused": "bold red"}
"""The rich style of each verdict."""


def print_table(header: Sequence[str], rows: Sequence[Sequence[Cell]], stream: IO[str],
                title: str = "") -> None:
    """Print a table: rich (boxes, colours) when ``stream`` is a terminal, aligned plain
    text otherwise (logs of a Docker build, CI, pipes). Every command's table goes
    through here."""
    texts = [[c if isinstance(c, str) else c[0] for c in row] for row in rows]
    if stream.isatty():
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=title or None)
        for h in header:
            table.add_column(h)
        for row in rows:
            table.add_row(*(escape(c) if isinstance(c, str) else f"[{c[1]}]{escape(c[0])}[/]"
                            for c in row))
        Console(file=stream, highlight=False).print(table)
        return
    widths = [max([len(h)] + [len(r[i]) for r in texts]) for i, h in enumerate(header)]
    if title:
        print(title, file=stream)
    for row in (list(header), *texts):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip(), file=stream)


def render_table(records: Sequence[PackageRecord], stream: IO[str], title: str = "") -> None:
    """Print the end-of-run table of install and verify: one row per package."""
    rows: list[list[Cell]] = [[name, version, label, (verdict, VERDICT_STYLE[verdict]), codes]
                              for name, version, label, verdict, codes in table_rows(records)]
    print_table(("package", "version", "file", "verdict", "findings"), rows, stream, title)


def render_findings(records: Sequence[PackageRecord], stream: IO[str],
                    prefix: str = "wheelguard") -> None:
    """Print every warning and error finding, one per line, with its hint below it.

    The word after ``prefix`` says what the finding did in this run: ``error`` when it
    refused the package (strict mode), ``warning`` otherwise; an error-severity finding
    that strict mode would refuse is marked so in warn mode.
    """
    for rec in records:
        for f in rec.findings:
            if SEVERITY_RANK[f.severity] == 0:
                continue
            enforced = f.severity == "error" and rec.verdict == "refused"
            word = "error" if enforced else "warning"
            note = " (refused in strict mode)" if f.severity == "error" and not enforced else ""
            print(f"{prefix}: {word}: {f.code}{note}: {redact_text(f.message)}", file=stream)
            if f.hint:
                print(f"  hint: {f.hint}", file=stream)
