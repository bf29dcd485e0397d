"""``pip-guard plan``: what each package would install on each target, without installing.

    pip-guard plan --target NAME... [-r requirements.txt | PKG==VER ... | --lock LOCK]
                   [--offline] [--index-url URL] [--extra-index-url URL]... [--find-links LOC]...
                   [--no-index] [--no-cache] [--extras NAME]... [--group NAME]...

Nothing is built or installed and no package code runs; only index pages are read
(and, for unpinned requirements, what pip's resolver reads: wheel metadata):

* **poetry.lock** (lock format 2.0 and 2.1), offline: the candidate files are the lock's
  ``files`` (with their hashes). Packages are kept for a target when their environment
  markers hold there (2.1: the package's ``markers``; 2.0: the markers of the dependency
  edges, walked from the project's roots; :mod:`poetry_wheelguard.locks.poetry`). The file
  is the one Poetry's ``Chooser`` picks
  (:func:`~poetry_wheelguard.choosers.choose_like_poetry`).
* **uv.lock** (version 1, revisions 1-5) and **pylock.toml** (PEP 751), recognised by name
  and content (:func:`poetry_wheelguard.locks.read_lock`): the packages uv (or a PEP 751
  installer, ``Pylock.select``) installs on the target, the file uv takes
  (:func:`~poetry_wheelguard.choosers.choose_like_uv`); each release is looked up on the
  index the lock names (``--index-url`` replaces it; ``--offline`` plans from the lock
  alone), since neither format keeps every file of a release.
* **pinned requirements** (``==``/``===``; ``--hash`` honoured; the format ``pip freeze`` and
  pip-compile write; :mod:`poetry_wheelguard.requirements`): the index listings
  (:mod:`poetry_wheelguard.index`), the file pip picks
  (:func:`~poetry_wheelguard.choosers.choose_like_pip`). A fully pinned set is planned as
  given (like ``--no-deps``).
* **unpinned requirements**: pip's own resolver, run for each target as
  ``python -m pip install --dry-run --quiet --report - --ignore-installed
  --only-binary=:all: --platform TAG... --python-version X.Y --implementation cp --abi cpXY``
  (:mod:`poetry_wheelguard.resolve`; wheels only, so no sdist is built to read its metadata
  and no package code runs; pip reads each wheel's metadata from PEP 658 ``.metadata``
  files, or from the wheel itself on indexes without them); every package of that
  resolution not pinned by the user is then planned as a pinned requirement.

Findings come from :func:`poetry_wheelguard.policy.evaluate` (:mod:`poetry_wheelguard.planning`),
plus ``NO_DISTRIBUTION`` when no file of the release installs on the target; hints name the
nearest version with a wheel for the target
(:func:`~poetry_wheelguard.policy.nearest_wheel_versions`). This module holds the command
line, the table (one column per target) and the report document.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from poetry_wheelguard import exitcodes
from poetry_wheelguard.cli.options import add_global_options, config_from_namespace
from poetry_wheelguard.config import Config
from poetry_wheelguard.errors import ConfigError
from poetry_wheelguard.locks import check_selection, read_lock
from poetry_wheelguard.models import PackageRecord
from poetry_wheelguard.planning import PlanResult, plan_lock, plan_requirements
from poetry_wheelguard.render import (
    VERDICT_STYLE,
    Cell,
    packages_line,
    print_table,
    render_findings,
    table_rows,
)
from poetry_wheelguard.report import Report, check_report_path, now_iso, write_json_atomic
from poetry_wheelguard.requirements import (
    RequirementSet,
    parse_requirement_line,
    read_requirements_file,
)
from poetry_wheelguard.target_options import add_target_options, targets_from_options
from poetry_wheelguard.targets import Target, running_target

STRICT_REFUSES = "warn, strict refuses"
"""The verdict text of a package whose findings include an error shown in warn mode: strict
mode would refuse it (a plain ``warn`` is a true warning, which strict mode lets through)."""

STRICT_REFUSES_STYLE = "bold dark_orange"
"""The rich style of :data:`STRICT_REFUSES` (a true warning is ``yellow``)."""


def cell_verdict(rec: PackageRecord) -> tuple[str, str]:
    """``(text, rich style)`` of one package's verdict in the plan table: ``ok``,
    ``refused`` (strict mode), ``warn`` (warnings only) or :data:`STRICT_REFUSES` (an
    error-severity finding in warn mode)."""
    if rec.verdict == "warn" and any(f.severity == "error" for f in rec.findings):
        return STRICT_REFUSES, STRICT_REFUSES_STYLE
    return rec.verdict, VERDICT_STYLE[rec.verdict]


def cell_label(rec: PackageRecord) -> str:
    """Short text of one package on one target: file kind, codes of its findings and the
    verdict (:func:`cell_verdict`; none when ``ok``)."""
    if rec.kind is None:
        return "no file"
    _, _, label, verdict, codes = table_rows([rec])[0]
    text, _ = cell_verdict(rec)
    return label + (f" [{codes}]" if codes else "") + ("" if verdict == "ok" else f" {text}")


def note_lines(targets: Sequence[Target], prog: str = "pip-guard") -> list[str]:
    """One ``PROG: note: ...`` line per target that carries a :attr:`Target.note` (a
    Python version newer than the presets table, planned on the family's newest base)."""
    return [f"{prog}: note: {t.note}" for t in targets if t.note]


def render_plan(result: PlanResult, stream: IO[str]) -> None:
    """One table, a column per target (:func:`render.print_table`), then every warning and
    error finding."""
    names = [t.name for t in result.targets]
    rows: dict[str, dict[str, PackageRecord]] = {}
    for tname in names:
        for rec in result.records[tname]:
            rows.setdefault(rec.selection.name, {})[tname] = rec
    table: list[list[Cell]] = []
    for pkg, by_target in rows.items():
        versions = sorted({r.selection.version for r in by_target.values()})
        cells: list[Cell] = []
        for tname in names:
            got = by_target.get(tname)
            if got is None:
                cells.append(("not installed", "dim"))
                continue
            text = cell_label(got)
            if len(versions) > 1:
                text = f"{got.selection.version}: {text}"
            cells.append((text, cell_verdict(got)[1]))
        table.append([pkg, versions[0] if len(versions) == 1 else "varies", *cells])
    print_table(["package", "version", *names], table, stream,
                title=f"plan ({result.installer}'s choice of file)")
    for tname in names:
        render_findings(result.records[tname], stream, prefix=tname)
    print(plan_summary(result), file=stream)


def plan_summary(result: PlanResult) -> str:
    """The plan's closing line: per target, its packages' verdicts (one line for every
    target), e.g. ``plan: python:3.11-slim: 4 packages: 3 ok, 1 warn, 0 refused``."""
    return "plan: " + "; ".join(packages_line(result.records[t.name], t.name)
                                for t in result.targets)


def plan_report(result: PlanResult, config: Config, exit_code: int,
                extra: dict[str, Any] | None = None, started: str = "") -> dict[str, Any]:
    """The ``wheelguard-report/1`` document of a plan: ``target`` is the list of target
    summaries and every package object carries the ``target`` name it is planned for;
    ``started`` is when the command started (default: now)."""
    records = [r for t in result.targets for r in result.records[t.name]]
    owners = [t.name for t in result.targets for _ in result.records[t.name]]
    report = Report(command="plan", mode=config.mode,
                    target=[t.summary() for t in result.targets],
                    installer={"name": result.installer}, packages=records,
                    exit_code=exit_code, started=started or now_iso(),
                    extra=dict(extra or {}))
    data = report.to_json()
    for pkg, owner in zip(data["packages"], owners):
        pkg["target"] = owner
    return data


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pip-guard plan",
        description="Show the file each package would install on each target, and every "
        "finding, without building or installing anything or running package code.")
    parser.add_argument("packages", nargs="*", metavar="PKG==VER",
                        help="requirements (pinned ones are planned as given)")
    parser.add_argument("-r", "--requirement", action="append", default=[], metavar="FILE",
                        help="a requirements file (pip freeze / pip-compile format)")
    parser.add_argument("--lock", metavar="LOCK",
                        help="plan a poetry.lock (offline), uv.lock or pylock.toml")
    parser.add_argument("--offline", action="store_true",
                        help="uv.lock / pylock.toml: plan from the lock's files alone, "
                        "without looking the releases up on their index")
    parser.add_argument("--extras", action="append", default=[], metavar="NAME",
                        help="root extras to include (lock)")
    parser.add_argument("--group", action="append", default=[], metavar="NAME",
                        help="only these dependency groups (lock; default: all)")
    parser.add_argument("-i", "--index-url", metavar="URL", help="base index URL (PEP 503)")
    parser.add_argument("--extra-index-url", action="append", metavar="URL", default=None)
    parser.add_argument("-f", "--find-links", action="append", metavar="LOC", default=None)
    parser.add_argument("--no-index", action="store_true", help="use only --find-links")
    parser.add_argument("--no-cache", action="store_true", help="do not cache index pages")
    add_target_options(parser)
    add_global_options(parser, suppress=True)
    return parser


def _index_args(ns: argparse.Namespace, reqs: RequirementSet) -> list[str]:
    args: list[str] = []
    index_url = ns.index_url or reqs.index_url
    if index_url:
        args += ["--index-url", index_url]
    for url in (ns.extra_index_url if ns.extra_index_url is not None
                else reqs.extra_index_urls):
        args += ["--extra-index-url", url]
    for loc in (ns.find_links if ns.find_links is not None else reqs.find_links):
        args += ["--find-links", loc]
    if ns.no_index or reqs.no_index:
        args.append("--no-index")
    return args


def run_plan(ns: argparse.Namespace, argv: list[str]) -> int:
    """``pip-guard plan``: parse ``argv``, plan, print the table, write the report.

    Exit codes: 0; 10 in strict mode when any refusal would happen on any target; 12 for
    unreadable input or an index error; 64 for a bad command line, a report path where no
    file can be written, or a group or extra the lock's project does not have (checked
    before anything is planned).

    Raises:
        ConfigError, WheelguardError: translated to exit codes by :func:`cli.main`.
    """
    from poetry_wheelguard.index import IndexClient, client_for, default_cache_dir
    from poetry_wheelguard.pip.config import pip_index_config

    started = now_iso()
    parser = _parser()
    try:
        own = parser.parse_args(argv)
    except SystemExit as exc:
        return exitcodes.OK if exc.code == 0 else exitcodes.USAGE
    merged = argparse.Namespace(**{**vars(ns), **{k: v for k, v in vars(own).items()}})
    config = config_from_namespace(merged)
    targets = targets_from_options(own) or [running_target()]
    for line in note_lines(targets):
        print(line, file=sys.stderr)
    sources = sum(bool(x) for x in (own.lock, own.requirement, own.packages))
    if sources != 1:
        raise ConfigError("give one of --lock LOCK, -r FILE or PKG==VER arguments")
    if not own.lock and (own.extras or own.group):
        raise ConfigError("--extras and --group select from a poetry.lock: give --lock, or "
                          "write the extras into the requirements (name[extra]==version)")
    if config.report:  # before planning: the report cannot fail at the end
        check_report_path(config.report)
    if own.lock:
        lock = read_lock(own.lock)
        check_selection(lock, own.extras, own.group)
        lookup = None if own.offline or lock.format == "poetry.lock" else client_for
        result = plan_lock(lock, targets, config, own.extras, own.group, lookup=lookup,
                           index_url=own.index_url)
        extra: dict[str, Any] = {"plan": {"lock": own.lock, "lock_version": lock.lock_version}}
        if lock.format != "poetry.lock":
            extra["plan"].update(lock_format=lock.format, index_lookup=lookup is not None)
    else:
        reqs = RequirementSet()
        for path in own.requirement:
            read_requirements_file(Path(path), reqs)
        for word in own.packages:
            parse_requirement_line(word, "command line", reqs)
        index_args = _index_args(own, reqs)
        index_cfg = pip_index_config(
            index_url=own.index_url or reqs.index_url,
            extra_index_urls=own.extra_index_url if own.extra_index_url is not None
            else (reqs.extra_index_urls or None),
            find_links=own.find_links if own.find_links is not None
            else (reqs.find_links or None),
            no_index=own.no_index or reqs.no_index,
            cache_dir=None if own.no_cache else default_cache_dir())
        client = IndexClient(index_cfg)
        result = plan_requirements(reqs, targets, config, client, index_args)
        extra = {"plan": {"requirements": own.requirement + own.packages,
                          "sources": list(client.sources)}}
    return finish_plan(result, config, extra, sys.stdout, started=started)


def finish_plan(result: PlanResult, config: Config, extra: dict[str, Any],
                stream: IO[str], errors: IO[str] | None = None,
                prog: str = "pip-guard", started: str = "") -> int:
    """Print the plan to ``stream``, write ``config.report`` and return the exit code
    (10 in strict mode when some target would refuse something, else 0). Shared by
    ``pip-guard plan`` and the Poetry plugin (``poetry wheelguard plan``).

    The strict-mode line goes to ``errors`` (default ``sys.stderr``), prefixed by ``prog``;
    ``started`` is the report's start time (:func:`~poetry_wheelguard.report.now_iso` taken
    when the command started; default: now).

    Raises:
        WheelguardError: the report cannot be written.
    """
    code = exitcodes.REFUSED if config.strict and result.refused else exitcodes.OK
    render_plan(result, stream)
    if config.report:
        write_json_atomic(config.report, plan_report(result, config, code, extra, started))
    if code == exitcodes.REFUSED:
        print(f"{prog}: strict mode: the plan has refusals (exit 10)",
              file=errors if errors is not None else sys.stderr)
    return code
