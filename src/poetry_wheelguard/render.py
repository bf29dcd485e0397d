"""Rendering at the edge: the tables and the finding lines every command prints.

:func:`print_table` is the one table printer (rich on a terminal, aligned plain text
otherwise); :func:`render_table` is the per-package table of install, verify and plan,
:func:`render_findings` the ``prefix: warning: CODE: message`` lines with their hints.

Everything printed passes :func:`~poetry_wheelguard.report.printable` here, at the one
place text leaves for the terminal: a package's METADATA name or version, a WHEEL tag or a
filename holding ESC, CSI or another control character is shown escaped (``\\x1b``), in
plain and in rich output, so it cannot colour, clear or retitle the terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Union

from poetry_wheelguard.models import SEVERITY_RANK, Finding, PackageRecord
from poetry_wheelguard.report import printable, redact_text


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
    header = [_cell(h) for h in header]
    title = _cell(title)
    rows = [[_cell(c) if isinstance(c, str) else (_cell(c[0]), c[1]) for c in row]
            for row in rows]
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


def _cell(text: str) -> str:
    """A table cell's text on one line: controls escaped (:func:`printable`), and the tab
    and newline it keeps too."""
    return printable(text).replace("\n", "\\n").replace("\t", "\\t")


def render_table(records: Sequence[PackageRecord], stream: IO[str], title: str = "") -> None:
    """Print the end-of-run table of install and verify: one row per package."""
    rows: list[list[Cell]] = [[name, version, label, (verdict, VERDICT_STYLE[verdict]), codes]
                              for name, version, label, verdict, codes in table_rows(records)]
    print_table(("package", "version", "file", "verdict", "findings"), rows, stream, title)


def render_findings(records: Sequence[PackageRecord], stream: IO[str],
                    prefix: str = "wheelguard") -> None:
    """Print every warning and error finding, grouped per package, with its hint below it.

    The word after ``prefix`` says what the finding did in this run: ``error`` when it
    refused the package (strict mode), ``warning`` otherwise; an error-severity finding
    that strict mode would refuse is marked so in warn mode. Findings of one package with
    the same code about several installed files (verify's per-file findings) are one
    line: the first file's message and how many more files have it (every file is in
    the report's findings), with the hint once: a package with a hundred defective files
    prints two lines, not two hundred.
    """
    for rec in records:
        groups: dict[tuple[str, str], list[Finding]] = {}
        for f in rec.findings:
            if SEVERITY_RANK[f.severity] == 0:
                continue
            key = (f.code, f.severity) if f.path is not None else (f.code, f"{id(f)}")
            groups.setdefault(key, []).append(f)
        for same in groups.values():
            f = same[0]
            enforced = f.severity == "error" and rec.verdict == "refused"
            word = "error" if enforced else "warning"
            note = " (refused in strict mode)" if f.severity == "error" and not enforced else ""
            more = (f" (and {len(same) - 1} more file{'s' if len(same) > 2 else ''} of "
                    f"{rec.selection.name} with {f.code}: see the report)"
                    if len(same) > 1 else "")
            line = f"{prefix}: {word}: {f.code}{note}: {redact_text(f.message)}{more}"
            print(fit_lines(printable(line), stream), file=stream)
            if f.hint:
                print(fit_lines(printable(f"  hint: {redact_text(f.hint)}"), stream),
                      file=stream)


_CUT = " ... (the report has it whole)"


def fit_lines(text: str, stream: IO[str], lines: int = 2) -> str:
    """``text`` cut to ``lines`` rows of the terminal ``stream`` writes to, saying so; as it
    is when ``stream`` is not a terminal (a log or CI keeps the whole line; the report always
    has it)."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    if not tty:
        return text
    import shutil

    room = shutil.get_terminal_size().columns * lines
    if len(text) <= room:
        return text
    return text[:max(room - len(_CUT), 0)] + _CUT


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def packages_line(records: Sequence[PackageRecord], prefix: str = "") -> str:
    """The closing count of a run: ``[prefix: ]N packages: A ok, B warn, C refused``
    (verdicts as the report's ``summary``)."""
    counts = {"ok": 0, "warn": 0, "refused": 0}
    for rec in records:
        counts[rec.verdict] += 1
    text = (f"{_plural(len(records), 'package')}: {counts['ok']} ok, {counts['warn']} warn, "
            f"{counts['refused']} refused")
    return f"{prefix}: {text}" if prefix else text


def verified_line(files: int, distributions: int, errors: int, warnings: int) -> str:
    """``verified N compiled files in M distributions: E errors, W warnings``: the line
    ``verify`` ends with, and install (pip-guard and the Poetry plugin) after its
    verification (:func:`verification_line`)."""
    return (f"verified {_plural(files, 'compiled file')} in "
            f"{_plural(distributions, 'distribution')}: {_plural(errors, 'error')}, "
            f"{_plural(warnings, 'warning')}")


def verification_line(verification: Mapping[str, object]) -> str | None:
    """The :func:`verified_line` of an install's ``verification`` object
    (:func:`poetry_wheelguard.postinstall.verify_after_install`): its counts when it ran,
    ``verification skipped: REASON`` / ``verification failed`` otherwise."""
    status = verification.get("status")
    if status == "ran":
        def count(key: str) -> int:
            value = verification.get(key)
            return value if isinstance(value, int) else 0
        return verified_line(count("elf_files"), count("distributions"), count("errors"),
                             count("warnings"))
    if status == "skipped":
        return f"verification skipped: {verification.get('reason')}"
    if status == "failed":
        return "verification failed (see the warning above)"
    return None


def summary_lines(records: Sequence[PackageRecord], prefix: str,
                  verification: Mapping[str, object] | None = None) -> list[str]:
    """The end of an install (pip-guard and the Poetry plugin alike): the verification
    line (:func:`verification_line`) when there is one, then :func:`packages_line`."""
    lines = []
    if verification is not None:
        line = verification_line(verification)
        if line:
            lines.append(f"{prefix}: {line}")
    lines.append(packages_line(records, prefix))
    return lines


def human_size(n: int | None) -> str:
    """``n`` bytes for a table cell: ``512 B``, ``48.3 KiB``, ``1.2 GiB`` (binary units,
    one decimal); ``? B`` when unknown."""
    if n is None:
        return "? B"
    value = float(n)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
