"""The subprocess mode: pip's public interface only, for a pip whose private names the
in-process hooks cannot find (or with ``WHEELGUARD_PIP_SUBPROCESS=1``).

1. ``python -m pip install <args> --dry-run --quiet --report FILE`` (pip >= 22.2): pip
   resolves and writes what it would install (name, version, ``download_info.url`` and
   hashes) without installing anything.
2. Index listing (:mod:`poetry_wheelguard.index`): for each package from an index, its
   project page on every index and find-links location pip would read: pip's own
   configuration and ``PIP_*`` variables, overridden by ``--index-url``,
   ``--extra-index-url``, ``--find-links`` and ``--no-index`` from the command line and
   from the requirement files it names. Credentials in an index URL are sent as HTTP
   basic auth and never stored.
3. The policy judges each choice. Strict refusal: exit before step 4, nothing installed.
4. ``python -m pip install <args>``: the real install (pip resolves again).

When the dry run fails, pip writes no report (pip's own error is printed): the pinned
top-level requirements (``NAME==V`` on the command line and in ``-r`` files) are judged
from the index listings alone, the file pip picks among the release's files
(:func:`~poetry_wheelguard.choosers.choose_like_pip`) standing in for pip's choice, and
one line says what could be judged and what not (:func:`judge_pins`). A strict refusal
among them exits 10; otherwise pip's exit code stays.

Weaker than the in-process mode, and documented so: step 1 prepares every chosen file's
metadata, so pip downloads wheels (or their PEP 658 metadata) and runs an sdist's build
backend to get its metadata *before* the guard can refuse; pip's own reasons for
skipping a file are not known (``rejected_reason`` stays empty).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable
from urllib.parse import unquote, urlsplit

from poetry_wheelguard.choosers import choose_like_pip, requires_python_ok
from poetry_wheelguard.config import Config
from poetry_wheelguard.distfiles import try_classify
from poetry_wheelguard.errors import IndexFetchError, WheelguardError
from poetry_wheelguard.index import IndexClient, IndexConfig, ListedFile
from poetry_wheelguard.models import PackageRecord
from poetry_wheelguard.pip.config import pip_index_config
from poetry_wheelguard.pip.hooks import target_from_pip
from poetry_wheelguard.pip.selection import (
    CANDIDATE,
    DIRECT,
    SeenLink,
    build_selection,
    clean_url,
)
from poetry_wheelguard.policy import evaluate, record_for
from poetry_wheelguard.requirements import (
    PinnedRequirement,
    RequirementSet,
    parse_requirement_line,
    read_requirements_file,
)
from poetry_wheelguard.targets import Target

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


@dataclass
class PipOptions:
    """The ``pip install`` options this mode needs.

    Attributes:
        index: where listings come from (pip's configuration, then the command line).
        dry_run: pip's ``--dry-run`` was given (nothing is installed in step 4 either).
        target_python: pip's ``--platform``/``--python-version``/``--abi``/
            ``--implementation`` in the shape of pip's ``TargetPython``.
        install_options: ``target_dir``, ``prefix_path``, ``root_path``,
            ``use_user_site``, ``dry_run`` (as pip's option names).
    """

    index: IndexConfig
    dry_run: bool = False
    target_python: SimpleNamespace = field(default_factory=SimpleNamespace)
    install_options: dict[str, Any] = field(default_factory=dict)
    pins: list[PinnedRequirement] = field(default_factory=list)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    p.add_argument("-i", "--index-url", dest="index_url")
    p.add_argument("--extra-index-url", action="append", default=[])
    p.add_argument("-f", "--find-links", action="append", default=[])
    p.add_argument("--no-index", action="store_true")
    p.add_argument("-r", "--requirement", action="append", default=[])
    p.add_argument("-t", "--target", dest="target_dir")
    p.add_argument("--prefix", dest="prefix_path")
    p.add_argument("--root", dest="root_path")
    p.add_argument("--user", dest="use_user_site", action="store_true")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--platform", action="append", default=[])
    p.add_argument("--python-version")
    p.add_argument("--abi", action="append", default=[])
    p.add_argument("--implementation")
    return p


def _requirement_file_options(path: str, depth: int = 0) -> list[str]:
    """The option words of a requirement file's option lines (``-i``, ``-f``, ``-r``...)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []  # pip reports the unreadable file itself
    words: list[str] = []
    for line in lines:
        text = line.split(" #", 1)[0].strip()
        if not text.startswith("-"):
            continue
        parts = text.replace("=", " ", 1).split()
        if parts[0] in ("-r", "--requirement") and len(parts) > 1 and depth < 5:
            words += _requirement_file_options(str(Path(path).parent / parts[1]), depth + 1)
        elif parts[0] in ("-i", "--index-url", "--extra-index-url", "-f", "--find-links",
                          "--no-index"):
            words += parts[:2]
    return words


def _python_version(text: str | None) -> tuple[int, ...] | None:
    """pip's ``--python-version``: ``3``, ``3.11`` or ``311``."""
    if not text:
        return None
    if "." in text:
        return tuple(int(p) for p in text.split(".") if p.isdigit())
    return (int(text[0]), int(text[1:])) if len(text) > 1 else (int(text),)


def parse_pip_options(argv: Sequence[str], environ: Mapping[str, str] | None = None,
                      *, use_pip: bool = True) -> PipOptions:
    """Read the options of a ``pip install`` command line that this mode needs.

    Raises:
        ConfigError: pip's configuration cannot be read.
    """
    ns, rest = _parser().parse_known_args(list(argv))
    extra_words = [w for r in ns.requirement for w in _requirement_file_options(r)]
    if extra_words:
        more, _ = _parser().parse_known_args(extra_words)
        ns.index_url = ns.index_url or more.index_url
        ns.extra_index_url += more.extra_index_url
        ns.find_links += more.find_links
        ns.no_index = ns.no_index or more.no_index
    py = _python_version(ns.python_version)
    return PipOptions(
        index=pip_index_config(environ, index_url=ns.index_url,
                               extra_index_urls=ns.extra_index_url or None,
                               find_links=ns.find_links or None, no_index=ns.no_index,
                               use_pip=use_pip),
        dry_run=ns.dry_run,
        target_python=SimpleNamespace(
            platforms=ns.platform or None, _given_py_version_info=py, abis=ns.abi or None,
            implementation=ns.implementation, py_version_info=py),
        install_options={"target_dir": ns.target_dir, "prefix_path": ns.prefix_path,
                         "root_path": ns.root_path, "use_user_site": ns.use_user_site,
                         "dry_run": ns.dry_run},
        pins=_pins(rest, ns.requirement),
    )


def _pins(words: Sequence[str], files: Sequence[str]) -> list[PinnedRequirement]:
    """The pinned (``==V``/``===V``) named requirements among the command line's other
    words and in the ``-r`` files, in order; a word that is no such requirement (an
    option's value, a path, a range) is left out, as is an unreadable file."""
    reqs = RequirementSet()
    for word in words:
        if word.startswith("-"):
            continue
        try:
            parse_requirement_line(word, "the command line", reqs)
        except WheelguardError:
            continue
    for path in files:
        try:
            read_requirements_file(Path(path), reqs)
        except WheelguardError:
            continue  # pip named the unreadable file or bad line itself
    seen: dict[str, PinnedRequirement] = {}
    for req in reqs.requirements:
        if req.pin is not None and req.requirement.marker is None:
            seen.setdefault(req.name, req)
    return list(seen.values())


# -- index listings ---------------------------------------------------------------------
def _seen(listed: ListedFile, target: Target) -> SeenLink:
    """A listed file as a :class:`SeenLink`; pip's verdict is not known here, so the one
    told by the listing alone (yanked, Requires-Python) stands in for it."""
    cand = listed.candidate
    verdict = CANDIDATE
    if cand.yanked:
        verdict = "yanked"
    elif not requires_python_ok(cand.requires_python, target):
        verdict = "requires_python_mismatch"
    return SeenLink(filename=cand.filename, url=clean_url(cand.url), sha256=cand.sha256,
                    version=str(listed.dist.version), verdict=verdict,
                    requires_python=cand.requires_python, yanked=cand.yanked,
                    index=listed.source, dist=listed.dist)


def fetch_listing(client: IndexClient, project: str, target: Target
                  ) -> tuple[list[SeenLink], str | None]:
    """Every file the indexes and find-links locations list for ``project``, and the
    problem (one line without the project's name, no credentials) if they could not be
    read: the policy then judges with the chosen file alone."""
    try:
        listing = client.listing(project)
    except IndexFetchError as exc:
        return [], exc.reason
    return [_seen(f, target) for f in listing.files], None


# -- the run ----------------------------------------------------------------------------
@dataclass
class SubprocessOutcome:
    """What the subprocess mode ended with (see ``pip.cli.Outcome``)."""

    pip_code: int
    records: list[PackageRecord]
    refused: bool
    target: Target
    options: dict[str, Any]
    dry_run: dict[str, Any] | None = None
    """``None`` when pip's dry run succeeded; else the report's ``pip.dry_run``:
    ``{exit_code, judged, not_judged}`` (:func:`judge_pins`)."""


def _default_runner(cmd: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), text=True, check=False)


def records_from_report(data: Mapping[str, Any], client: IndexClient, target: Target,
                        config: Config, notes: list[str]) -> list[PackageRecord]:
    """Judge every ``install`` item of a pip installation report (pip's ``--report``
    format, version 1). Listing problems are appended to ``notes``, one per problem
    (``a, b: reason``: an index the interpreter cannot read is said once)."""
    records = []
    problems: dict[str, list[str]] = {}
    for item in data.get("install", []):
        meta = item.get("metadata") or {}
        info = item.get("download_info") or {}
        url = str(info.get("url") or "")
        direct = bool(item.get("is_direct"))
        first_party = direct and (url.startswith("file:") or "vcs_info" in info
                                  or info.get("dir_info") is not None)
        hashes = (info.get("archive_info") or {}).get("hashes") or {}
        filename = unquote(urlsplit(url).path).rstrip("/").rsplit("/", 1)[-1]
        name = str(meta.get("name") or filename)
        listing: list[SeenLink] = []
        if not direct:
            listing, problem = fetch_listing(client, name, target)
            if problem:
                problems.setdefault(problem, []).append(name)
        listed = next((s for s in listing if s.url == clean_url(url)), None)
        dist = listed.dist if listed is not None and listed.filename == filename \
            else try_classify(filename)
        chosen = listed or SeenLink(
            filename=filename, url=clean_url(url), sha256=hashes.get("sha256"),
            version=str(dist.version) if dist else None,
            verdict=DIRECT if direct else CANDIDATE, dist=dist)
        built = (dist.kind == "sdist") if dist else (True if first_party else None)
        selection = build_selection(name, str(meta.get("version") or ""), chosen, listing,
                                    first_party=first_party, built_locally=built)
        records.append(record_for(selection, evaluate(selection, target, config)))
    notes.extend(f"{', '.join(names)}: {reason}" for reason, names in problems.items())
    return records


def judge_pins(pins: Sequence[PinnedRequirement], client: IndexClient, target: Target,
               config: Config) -> tuple[list[PackageRecord], dict[str, str]]:
    """After a failed dry run: judge each pinned requirement from its index listing, the
    file pip picks among the pinned release's files for ``target`` (``--hash`` values
    applied) standing in for pip's choice. Returns the records and ``{name: why}`` for
    the pins that could not be judged (listing not read, no file of that version, no file
    pip could install)."""
    records: list[PackageRecord] = []
    missed: dict[str, str] = {}
    for pin in pins:
        listing, problem = fetch_listing(client, pin.name, target)
        if problem:
            missed[pin.name] = f"listing not read ({problem})"
            continue
        version = pin.pin or ""
        release = [s for s in listing if s.dist is not None and
                   pin.requirement.specifier.contains(s.dist.version, prereleases=True)]
        if not release:
            missed[pin.name] = f"no file of {version} on the index"
            continue
        choice = choose_like_pip([s.candidate() for s in release], target, pin.hashes)
        if choice.chosen is None:
            missed[pin.name] = f"no file of {version} installs on {target.name}"
            continue
        chosen = next(s for s in release if s.filename == choice.chosen.filename)
        built = chosen.dist.kind == "sdist" if chosen.dist else None
        selection = build_selection(pin.name, str(chosen.version or version), chosen,
                                    listing, built_locally=built,
                                    specifier=str(pin.requirement.specifier))
        records.append(record_for(selection, evaluate(selection, target, config)))
    return records, missed


def _dry_run_failed(code: int, options: PipOptions, target: Target, config: Config
                    ) -> SubprocessOutcome:
    """The outcome of a failed dry run (module docstring), with its one line said."""
    pins = options.pins
    records, missed = judge_pins(pins, IndexClient(options.index), target, config)
    judged = ", ".join(f"{r.selection.name} {r.selection.version}" for r in records)
    if records:
        line = (f"pip-guard: pip's dry run failed (exit {code}; pip's error above) and wrote "
                f"no report; judged the pinned requirements from the index alone: {judged}")
    else:
        line = (f"pip-guard: pip's dry run failed (exit {code}; pip's error above) and wrote "
                "no report: nothing could be judged (pip resolves only in its dry run, and "
                + ("no pinned requirement's file could be chosen from the index)" if pins
                   else "no requirement is pinned with ==)"))
    if missed:
        line += "; not judged: " + ", ".join(f"{n} ({why})" for n, why in missed.items())
    print(line, file=sys.stderr)
    refused = any(r.verdict == "refused" for r in records)
    return SubprocessOutcome(code, records, refused, target, options.install_options,
                             {"exit_code": code,
                              "judged": [r.selection.name for r in records],
                              "not_judged": missed})


def run(config: Config, argv: Sequence[str], running: Target,
        runner: Runner | None = None) -> SubprocessOutcome:
    """Run ``pip install argv`` in the subprocess mode (module docstring)."""
    run_ = runner or _default_runner
    options = parse_pip_options(argv)
    target = target_from_pip(options.target_python, running)
    with tempfile.TemporaryDirectory(prefix="pip-guard-") as tmp:
        report = Path(tmp) / "pip-report.json"
        proc = run_([sys.executable, "-m", "pip", "install", *argv, "--dry-run", "--quiet",
                     "--report", str(report)])
        if proc.returncode != 0:
            return _dry_run_failed(proc.returncode, options, target, config)
        try:
            data = json.loads(report.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            print("pip-guard: error: pip wrote no installation report (pip >= 22.2 needed "
                  "for the subprocess mode)", file=sys.stderr)
            return SubprocessOutcome(1, [], False, target, options.install_options)
    notes: list[str] = []
    records = records_from_report(data, IndexClient(options.index), target, config, notes)
    for note in dict.fromkeys(notes):
        print(f"pip-guard: warning: listing not read: {note}", file=sys.stderr)
    refused = any(r.verdict == "refused" for r in records)
    if refused or options.dry_run:
        return SubprocessOutcome(0, records, refused, target, options.install_options)
    final = run_([sys.executable, "-m", "pip", "install", *argv])
    return SubprocessOutcome(final.returncode, records, False, target, options.install_options)
