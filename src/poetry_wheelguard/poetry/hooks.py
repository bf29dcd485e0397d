"""Hooks into one guarded Poetry command (``install``, ``sync``, ``add``, ``update``, ``remove``).

How a command is guarded (Poetry 1.8 and 2.x; every private name is feature-detected):

1. On cleo's ``console.command`` event, after Poetry has given the command its environment
   and its ``Installer``, :func:`attach` wraps two methods *of that command's executor
   instance* (nothing is patched at class level, so ``poetry self ...`` and every other
   command stay untouched):

   - ``executor._chooser.choose_for(package)`` - the file Poetry picks for a package. The
     wrapper remembers each answer, so the executor installs exactly the file that was judged.
   - ``executor.execute(operations)`` - Poetry's executor runs operations in a thread pool,
     so a refusal in the middle would be too late. The wrapper first judges *every* install
     and update operation (:meth:`Guard.check`); when strict mode refuses one, it returns 1
     without running any operation: nothing is downloaded, built, removed or installed.

2. For each package from an index, :meth:`Guard.check` asks the (wrapped) Chooser for the
   file, the repository for every file of that release (``find_links_for_package``: all
   platforms, compatible or not) and, for the hints, the project's other releases
   (``get_page(name).links``). :func:`build_selection` turns those into a core
   :class:`~poetry_wheelguard.models.Selection`, judged by :func:`policy.evaluate` against
   the project environment's interpreter, probed in a subprocess
   (:func:`targets.probe_interpreter`) - never Poetry's own interpreter - and by
   :func:`policy.apply_lock` against the hashes poetry.lock pins for the release.
   The Chooser judges an sdist link even when Poetry later installs a wheel it built from
   that sdist on an earlier run (its artifact cache): that is still an sdist build.

3. On ``console.terminate`` (:func:`finish`): verification of what was installed (in a
   subprocess, decided and merged by :func:`poetry_wheelguard.postinstall.verify_after_install`
   as for ``pip-guard install``), the table and findings
   printed once through Poetry's IO (hooks may have run in worker threads: everything is
   buffered), the report written, and the exit code set
   (:mod:`poetry_wheelguard.exitcodes`).

This module imports no Poetry module: it works on Poetry's objects by duck typing, through
:mod:`.compat` for every private or version-dependent name, and its pure helpers are
tested without Poetry.

One concern, one module, whatever its length: the guard of one Poetry command.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from io import StringIO
from pathlib import Path
from typing import Any, Callable

from packaging.requirements import InvalidRequirement, Requirement
from packaging.tags import Tag
from packaging.version import InvalidVersion, Version

from poetry_wheelguard import exitcodes
from poetry_wheelguard.config import Config, load_config
from poetry_wheelguard.distfiles import DistFile, normalize, try_classify
from poetry_wheelguard.errors import ConfigError, WheelguardError
from poetry_wheelguard.models import (
    SEVERITY_RANK,
    Candidate,
    PackageRecord,
    Selection,
)
from poetry_wheelguard.poetry import GUARDED_COMMANDS
from poetry_wheelguard.poetry.compat import (
    LinkFacts,
    installer_parts,
    is_dry_run,
    link_facts,
    other_release_files,
    project_dir_of,
    repository_for,
    repository_url,
)
from poetry_wheelguard.policy import UNSUPPORTED_TAG, Evaluation, apply_lock, evaluate, record_for
from poetry_wheelguard.postinstall import (
    VERIFY_MODULE,
    InstalledVerification,
    VerifyRunner,
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
    redact_url,
    write_json_atomic,
)
from poetry_wheelguard.targets import Target, probe_interpreter

INDEX_SOURCE_TYPES = frozenset({"", "legacy"})
"""``Package.source_type`` of packages from an index (``None``/``""``: PyPI; ``legacy``: a
``[[tool.poetry.source]]``). ``directory``/``git`` are first-party; ``file``/``url`` are
judged by their own kind."""

_MAX_WORKERS = 8


def locked_hashes(files: Any) -> frozenset[str]:
    """The ``"algo:hex"`` hashes of a Poetry package's ``files`` (from poetry.lock when the
    install runs from the lock; from the index after a fresh resolution)."""
    out = set()
    for entry in files or ():
        if isinstance(entry, Mapping) and isinstance(entry.get("hash"), str):
            out.add(entry["hash"].lower())
    return frozenset(out)


def rejected_reason(
    facts: LinkFacts, chosen: str, env_tags: frozenset[Tag] | None, locked: frozenset[str],
    dist: DistFile | None = None,
) -> str | None:
    """Why Poetry's Chooser could not take ``facts`` (``None`` if it could but ranked it lower).

    ``dist``: ``facts.filename`` already parsed (parsed here when not given).

    Mirrors ``Chooser.choose_for``: a wheel none of whose tags is in the environment's
    ``supported_tags``; a file whose sha256 is not among the lock's hashes (when the lock
    pins sha256 hashes); a yanked file.
    """
    if facts.filename == chosen:
        return None
    dist = dist or try_classify(facts.filename)
    if dist is not None and dist.kind == "wheel" and env_tags is not None \
            and dist.tags.isdisjoint(env_tags):
        return "not supported by the project environment's tags (poetry debug tags)"
    locked_sha = {h.split(":", 1)[1] for h in locked if h.startswith("sha256:")}
    if locked_sha and facts.sha256 and facts.sha256 not in locked_sha:
        return "hash not in poetry.lock"
    if facts.yanked:
        return "yanked"
    return None


def _version_key(text: str) -> tuple[int, Version | str]:
    try:
        return (1, Version(text))
    except InvalidVersion:
        return (0, text)


def build_selection(
    *,
    name: str,
    version: str,
    chosen: LinkFacts,
    release: Sequence[LinkFacts],
    other_files: Iterable[str] = (),
    index: str = "",
    env_tags: frozenset[Tag] | None = None,
    locked: frozenset[str] = frozenset(),
    specifier: str = "",
) -> Selection:
    """The core :class:`Selection` for one package from an index (pure).

    ``release`` is every file the repository lists for the chosen version (all platforms);
    ``other_files`` the file names of the project's other releases (for the hints, grouped
    by the version their names carry). ``env_tags`` (Poetry's ``env.supported_tags``) and
    ``locked`` give each passed-over candidate Poetry's reason (:func:`rejected_reason`);
    ``specifier`` is the root project's constraint on the package (PEP 440), for the hints.
    """
    files = list(release)
    if all(f.filename != chosen.filename for f in files):
        files.insert(0, chosen)
    dists = {f.filename: try_classify(f.filename) for f in files}
    candidates = tuple(
        Candidate(f.filename, f.url, f.sha256,
                  rejected_reason(f, chosen.filename, env_tags, locked, dists[f.filename]),
                  f.requires_python, f.yanked, dists[f.filename])
        for f in files
    )
    chosen_dist = dists[chosen.filename]
    this = chosen_dist.version if chosen_dist else None
    grouped: dict[str, list[str]] = {}
    for filename in other_files:
        dist = try_classify(filename)
        if dist is None or dist.version == this:
            continue
        grouped.setdefault(str(dist.version), []).append(filename)
    others = tuple((v, tuple(sorted(grouped[v]))) for v in sorted(grouped, key=_version_key))
    return Selection(
        name=normalize(name),
        version=version,
        chosen=Candidate(chosen.filename, chosen.url, chosen.sha256, None,
                         chosen.requires_python, chosen.yanked, chosen_dist),
        candidates=candidates,
        other_versions=others,
        index=redact_url(index),
        built_locally=chosen_dist is not None and chosen_dist.kind == "sdist",
        specifier=specifier,
    )


def tag_hint(poetry_version: str, target: Target) -> str | None:
    """The ``UNSUPPORTED_TAG`` hint for this Poetry and environment, or ``None`` to keep the
    policy's own.

    Poetry 2.x (``VirtualEnv.get_supported_tags``) asks the environment's interpreter for
    its platform tags only when that interpreter's ``sysconfig.get_platform()`` differs from
    Poetry's own; a musl environment and a glibc Poetry both say ``linux-x86_64``, so Poetry
    computes the tags in its own (glibc) process with packaging and chooses a manylinux
    wheel the musl interpreter cannot load. Upgrading does not help (2.5.1 does the same);
    Poetry 1.8.5 asks the environment's interpreter and picks the musllinux wheel, and a
    Poetry run by a musl interpreter computes musllinux tags itself.
    """
    try:
        major = Version(poetry_version).major
    except InvalidVersion:
        return None
    if major < 2 or target.libc != "musl":
        return None
    return (f"Poetry {poetry_version} computes the platform tags in its own process (glibc: "
            "manylinux), not the musl environment's, when both say linux "
            f"{target.machine}; what works: Poetry 1.8.5 (asks the environment's interpreter: "
            "musllinux), Poetry run by the musl interpreter itself (installed with it, as on "
            "Alpine), or `poetry export -f requirements.txt` then `pip-guard install -r` "
            "with the environment's interpreter")


def _with_tag_hint(evaluation: Evaluation, hint: str | None) -> Evaluation:
    """``evaluation`` with ``hint`` on its ``UNSUPPORTED_TAG`` findings (none: unchanged)."""
    if hint is None:
        return evaluation
    return replace(evaluation, findings=tuple(
        replace(f, hint=hint) if f.code == UNSUPPORTED_TAG else f
        for f in evaluation.findings))


def refresh_hint(poetry_version: str) -> str:
    """How to refresh poetry.lock's file hashes without changing its versions, for this
    Poetry version.

    ``--no-cache`` because Poetry keeps each release's file list in its repository cache:
    without it the lock gets the same stale list again (checked on 1.8.5 and 2.5.1; Poetry
    1.x needs ``--no-update`` to keep the locked versions, 2.x keeps them by default).
    """
    try:
        major = Version(poetry_version).major
    except InvalidVersion:
        major = 2
    command = "poetry lock --no-update --no-cache" if major < 2 else "poetry lock --no-cache"
    return f"refresh the lock's file hashes (the locked versions stay): {command}"


def last_report_path(cache_dir: Path, project_dir: Path) -> Path:
    """Where the last report of the project at ``project_dir`` is kept (Poetry's cache dir,
    one folder per project, keyed by a sha256 of its resolved path)."""
    key = hashlib.sha256(str(project_dir.resolve()).encode()).hexdigest()[:16]
    return cache_dir / "wheelguard" / key / "last-report.json"


@dataclass
class Guard:
    """The state of one guarded command, shared by its hooks (thread-safe where it must be).

    Attributes:
        config: the resolved settings; project_dir: the project's directory.
        command: the Poetry command name; poetry_version: the running Poetry's version.
        env_python: the project environment's interpreter (the target).
        env_tags: Poetry's ``env.supported_tags`` (``None`` when unknown).
        cache_dir: Poetry's cache dir (for the last report), if known.
        runner: replaces :func:`subprocess.run` for post-install verification
            (:data:`poetry_wheelguard.postinstall.VerifyRunner`), if given.
        records: one per judged package, in operation order.
        messages: lines to print at the end, ``(text, to_stderr)``.
        refused: strict mode refused something (nothing was executed).
        status: exit code this guard wants (``None``: keep Poetry's).
        started: when the guarded command started (the report's ``started``).
        installer: Poetry's ``Installer``; its ``_package`` (the project's
            ``ProjectPackage``, given the new dependency by ``poetry add`` before it runs)
            is read for :attr:`specifiers` at the first check.
        specifiers: the root package's constraint on each dependency, as PEP 440
            (:func:`root_specifiers`; read at the first check).
    """

    config: Config
    project_dir: Path
    command: str
    poetry_version: str
    env_python: str | None = None
    env_tags: frozenset[Tag] | None = None
    cache_dir: Path | None = None
    runner: VerifyRunner | None = None
    records: list[PackageRecord] = field(default_factory=list)
    messages: list[tuple[str, bool]] = field(default_factory=list)
    target: Target | None = None
    refused: bool = False
    executed: bool = False
    status: int | None = None
    chosen: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: str = field(default_factory=now_iso)
    installer: Any = None
    specifiers: dict[str, str] | None = None

    def say(self, text: str, error: bool = False) -> None:
        """Buffer one line for the end of the command (hooks may run in worker threads)."""
        with self.lock:
            self.messages.append((redact_text(text), error))

    # --- the Chooser hook ---------------------------------------------------------
    def choose(self, original: Callable[..., Any], package: Any, *args: Any,
               **kwargs: Any) -> Any:
        """``choose_for`` through a memo: the executor gets the very link that was judged."""
        key = _package_key(package)
        with self.lock:
            link = self.chosen.get(key)
        if link is None:
            link = original(package, *args, **kwargs)
            with self.lock:
                self.chosen.setdefault(key, link)
        return link

    # --- the Executor hook --------------------------------------------------------
    def check(self, chooser: Any, operations: Sequence[Any]) -> None:
        """Judge every install/update operation before the executor runs any of them.

        Sets :attr:`refused` when strict mode refuses a package, and :attr:`status` to
        ``INPUT_ERROR`` in strict mode when the target cannot be probed.
        """
        todo = [op for op in operations
                if getattr(op, "job_type", "") in ("install", "update")
                and not getattr(op, "skipped", False)]
        if not todo:
            return
        if self.target is None:
            try:
                assert self.env_python is not None, "no project environment"
                self.target = probe_interpreter(self.env_python)
            except (WheelguardError, AssertionError) as exc:
                self.say(f"wheelguard: error: cannot probe the project environment's "
                         f"interpreter: {exc}", error=True)
                if self.config.strict:
                    self.status = exitcodes.INPUT_ERROR
                    self.refused = True
                return
        if self.specifiers is None:
            self.specifiers = root_specifiers(getattr(self.installer, "_package", None))
        packages = [op.package for op in todo]
        workers = max(1, min(_MAX_WORKERS, len(packages)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            target = self.target
            records = list(pool.map(lambda p: self._judge(chooser, p, target), packages))
        for record in records:
            if record is None:
                continue
            self.records.append(record)
            if record.verdict == "refused":
                self.refused = True

    def _judge(self, chooser: Any, package: Any, target: Target) -> PackageRecord | None:
        """Select, evaluate and apply the lock rule for one package (a worker thread)."""
        found = self._select(chooser, package)
        if found is None:
            return None
        selection, repository = found
        specifier = (self.specifiers or {}).get(selection.name, "")
        selection = replace(selection, specifier=specifier)
        locked = locked_hashes(getattr(package, "files", None))
        hint = refresh_hint(self.poetry_version)
        tags_hint = tag_hint(self.poetry_version, target)
        evaluation = _with_tag_hint(apply_lock(
            selection, evaluate(selection, target, self.config), target, self.config, locked,
            hint), tags_hint)
        if repository is not None and any(
                SEVERITY_RANK[f.severity] > 0 for f in evaluation.findings):
            # The hints name the nearest releases with a wheel: read the project's other
            # releases only now (a large page costs time; a healthy package needs none).
            others = tuple(other_release_files(repository, package))
            if others:
                selection = build_selection(
                    name=selection.name, version=selection.version,
                    chosen=_facts_of(selection.chosen),
                    release=[_facts_of(c) for c in selection.candidates],
                    other_files=others, index=selection.index, env_tags=self.env_tags,
                    locked=locked, specifier=specifier)
                evaluation = _with_tag_hint(apply_lock(
                    selection, evaluate(selection, target, self.config), target,
                    self.config, locked, hint), tags_hint)
        return record_for(selection, evaluation)

    def _select(self, chooser: Any, package: Any) -> tuple[Selection, Any] | None:
        """The package's selection and the repository it came from (``None`` for packages
        not from an index), or ``None`` when it cannot be judged."""
        name = str(package.name)
        version = str(getattr(package, "version", ""))
        source_type = getattr(package, "source_type", None) or ""
        source_url = str(getattr(package, "source_url", None) or "")
        if source_type in ("directory", "git"):
            label = source_url.rstrip("/").rsplit("/", 1)[-1] or name
            return Selection(normalize(name), version, Candidate(label, redact_url(source_url)),
                             first_party=True, built_locally=True), None
        if source_type in ("file", "url"):
            facts = LinkFacts(Path(source_url.split("#", 1)[0]).name, redact_url(source_url))
            return build_selection(name=name, version=version, chosen=facts, release=[facts],
                                   index=""), None
        if source_type not in INDEX_SOURCE_TYPES:
            self.say(f"wheelguard: warning: {name} {version}: source type {source_type!r} "
                     "is not judged")
            return None
        try:
            link = chooser.choose_for(package)
        except Exception as exc:  # Poetry's own error: the executor raises it again, in place
            self.say(f"wheelguard: warning: {name} {version}: Poetry found no file to "
                     f"install ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")
            return None
        repository = repository_for(chooser, package)
        release: list[LinkFacts] = []
        index = ""
        if repository is not None:
            index = repository_url(repository)
            try:
                release = [link_facts(x) for x in repository.find_links_for_package(package)]
            except Exception as exc:  # an index error: judged on the chosen file alone
                self.say(f"wheelguard: warning: {name} {version}: cannot list the release's "
                         f"files ({type(exc).__name__}); judged on the chosen file alone")
        return build_selection(
            name=name, version=version, chosen=link_facts(link), release=release,
            index=index, env_tags=self.env_tags,
            locked=locked_hashes(getattr(package, "files", None)),
        ), repository

    # --- the end of the command ---------------------------------------------------
    def finish(self, exit_code: int) -> tuple[int, list[tuple[str, bool]]]:
        """Verify, render, write the reports; return ``(exit code, lines to print)``.

        Exit code: ``REFUSED`` after a strict refusal, this guard's own status (a probe
        failure in strict mode), else Poetry's own code; when Poetry succeeded and
        verification ran, verify's exit code (``VERIFY_ERRORS`` for an error in strict
        mode), as ``pip-guard install`` does. It is set on ``console.terminate``, after
        the command's ``handle()`` returned: Poetry has installed, written poetry.lock and
        (``add``, ``remove``) pyproject.toml by then, in 1.8 and 2.x alike, and a
        ``VERIFY_ERRORS`` line says that this stays so.
        """
        code = exit_code
        if self.refused and self.status is None:
            code = exitcodes.REFUSED
        elif self.status is not None:
            code = self.status
        code, verification = verify_after_install(
            self.records, code, self.config.strict, verify=self._verify, prog="wheelguard",
            say=lambda line: self.say(line, error=True), skip=[
                (not self.config.verify, "disabled (verify = false)"),
                (not self.executed or not self.records, "nothing was installed"),
                (not self.env_python, "no project environment"),
                (not verify_available(), f"{VERIFY_MODULE} is not installed"),
            ])
        lines: list[tuple[str, bool]] = []
        if self.records:
            title = f"wheelguard: files chosen by Poetry {self.poetry_version}" + (
                f" for {self.target.name}" if self.target else "")
            buf = StringIO()
            render_table(self.records, buf, title)
            render_findings(self.records, buf)
            for line in summary_lines(self.records, "wheelguard", verification):
                print(line, file=buf)
            lines += [("", False)] + [(line, False) for line in buf.getvalue().splitlines()]
        lines += self.messages
        if self.refused and code == exitcodes.REFUSED:
            names = ", ".join(r.selection.name for r in self.records if r.verdict == "refused")
            lines.append((f"wheelguard: strict mode refused {names} before Poetry's installer "
                          f"ran any operation: no package file was downloaded, built or "
                          f"installed (exit code {code})", True))
        elif code == exitcodes.VERIFY_ERRORS:
            files = ("poetry.lock and pyproject.toml as Poetry wrote them"
                     if self.command in ("add", "remove") else "poetry.lock as Poetry left it")
            lines.append((f"wheelguard: strict mode: verification found errors in the files "
                          f"Poetry installed (above); verification runs after Poetry has "
                          f"finished `poetry {self.command}`: the packages stay installed, "
                          f"{files} (exit code {code})", True))
        self._write_reports(code, verification, lines)
        return code, lines

    def _verify(self, names: list[str]) -> InstalledVerification:
        """Verify ``names`` in the project environment
        (:func:`~poetry_wheelguard.postinstall.verify_installed` with the project directory
        as working directory, no time limit).

        Raises:
            VerifyError: as :func:`~poetry_wheelguard.postinstall.verify_installed`.
        """
        assert self.env_python is not None  # a skip check otherwise
        return verify_installed(self.env_python, names, mode=self.config.mode,
                                cwd=self.project_dir, runner=self.runner, timeout=None)

    def _write_reports(self, code: int, verification: dict[str, Any],
                       lines: list[tuple[str, bool]]) -> None:
        report = Report(
            command="install",
            mode=self.config.mode,
            target=self.target.summary() if self.target else None,
            installer={"name": "poetry", "version": self.poetry_version},
            packages=self.records,
            exit_code=code, started=self.started,
            extra={"poetry": {"command": self.command,
                              "environment": redact_text(self.env_python or "")},
                   "verification": verification},
        )
        data = report.to_json()
        paths = []
        if self.config.report:
            paths.append(self.project_dir / self.config.report)
        if self.cache_dir is not None:
            paths.append(last_report_path(self.cache_dir, self.project_dir))
        for path in paths:
            try:
                write_json_atomic(path, data)
            except WheelguardError as exc:
                lines.append((f"wheelguard: error: {exc}", True))
        if self.config.sbom:
            from poetry_wheelguard.sbom import write_sbom

            try:
                write_sbom(str(self.project_dir / self.config.sbom), data)
            except WheelguardError as exc:
                lines.append((f"wheelguard: error: {exc}", True))


def _facts_of(candidate: Candidate) -> LinkFacts:
    return LinkFacts(candidate.filename, candidate.url, candidate.sha256, candidate.yanked,
                     candidate.requires_python)


def _package_key(package: Any) -> tuple[str, str, str]:
    return (str(getattr(package, "name", "")), str(getattr(package, "version", "")),
            str(getattr(package, "source_reference", None) or ""))


def root_specifiers(package: Any) -> dict[str, str]:
    """``{normalized name: PEP 440 specifier}`` of a Poetry root package's dependencies
    (every group: ``package.all_requires``), converted by poetry-core itself
    (``Dependency.base_pep_508_name``: ``^0.25`` -> ``>=0.25,<0.26``) and read by
    packaging. A constraint PEP 440 cannot write (``||``) or any version gives none; a
    name with several constraints gets all of them. Best effort: ``{}`` on an unknown
    Poetry layout."""
    out: dict[str, list[str]] = {}
    try:
        requires = list(package.all_requires)
    except Exception:  # hints only
        return {}
    for dep in requires:
        try:
            spec = str(Requirement(str(dep.base_pep_508_name)).specifier)
        except (InvalidRequirement, AttributeError, TypeError):
            continue
        if spec:
            out.setdefault(normalize(str(dep.name)), []).append(spec)
    return {name: ",".join(dict.fromkeys(specs)) for name, specs in out.items()}


def resolve_config(project_dir: Path, environ: Mapping[str, str] | None = None) -> Config:
    """The project's settings: ``project_dir/pyproject.toml`` ``[tool.wheelguard]``, then
    ``WHEELGUARD_*`` (``WHEELGUARD_CONFIG`` names another file).

    Raises:
        ConfigError: as :func:`poetry_wheelguard.config.load_config`.
    """
    return load_config(cwd=project_dir, environ=environ)


REPORT_SETTING = "report in [tool.wheelguard] / WHEELGUARD_REPORT"
"""Where a Poetry project sets its report path (named in a report-path error)."""


def attach(command: Any, poetry_version: str) -> Guard | None:
    """Guard ``command`` (a Poetry ``InstallerCommand`` already given its env and installer).

    Returns ``None`` when the command has no installer to guard. Runs before the command
    (cleo's ``console.command``), so its errors come before Poetry has resolved, locked,
    written pyproject.toml or installed anything. As ``pip-guard install``, it checks the
    report path first (:func:`~poetry_wheelguard.report.check_report_path`): a report that
    could only fail after the install fails the command before it.

    Raises:
        ConfigError: bad ``[tool.wheelguard]`` or ``WHEELGUARD_*``, or a ``report`` path
            where no file can be written.
        WheelguardError: the installer has none of the hooks this Poetry should have.
    """
    parts = installer_parts(command)
    if parts is None:
        return None
    poetry = command.poetry
    project_dir = project_dir_of(poetry)
    config = resolve_config(project_dir)
    if config.report:
        check_report_path(project_dir / config.report, setting=REPORT_SETTING)
    if config.sbom:  # before Poetry installs anything, not after
        from poetry_wheelguard.sbom import require_library

        check_report_path(project_dir / config.sbom,
                          setting="sbom in [tool.wheelguard] / WHEELGUARD_SBOM")
        require_library()
    executor, chooser, env = parts.executor, parts.chooser, parts.env
    execute = getattr(executor, "execute", None)
    choose_for = getattr(chooser, "choose_for", None)
    if not callable(execute) or not callable(choose_for):
        raise WheelguardError(
            f"Poetry {poetry_version}'s installer has no Executor.execute/Chooser.choose_for "
            "to hook; this Poetry version is not supported (1.8.5 and 2.x are)")
    env_python = str(env.python) if env is not None and getattr(env, "python", None) else None
    env_tags: frozenset[Tag] | None = None
    try:
        env_tags = frozenset(env.supported_tags) if env is not None else None
    except Exception:  # only used for the candidates' reasons
        env_tags = None
    cache_dir = None
    try:
        cache_dir = Path(str(poetry.config.get("cache-dir")))
    except Exception:  # no last report then
        cache_dir = None
    guard = Guard(config=config, project_dir=project_dir, command=str(command.name),
                  poetry_version=poetry_version, env_python=env_python, env_tags=env_tags,
                  cache_dir=cache_dir,
                  installer=parts.installer)

    def guarded_choose_for(*args: Any, **kwargs: Any) -> Any:
        package = args[0] if args else kwargs.pop("package")
        return guard.choose(choose_for, package, *args[1:], **kwargs)

    def guarded_execute(*args: Any, **kwargs: Any) -> int:
        operations = list(args[0] if args else kwargs.get("operations", []))
        guard.check(chooser, operations)
        dry_run = is_dry_run(executor)
        if guard.refused and not dry_run:
            return 1
        guard.executed = not dry_run
        result: int = execute(*args, **kwargs)
        return result

    setattr(chooser, "choose_for", guarded_choose_for)  # noqa: B010 - instance-level hook
    setattr(executor, "execute", guarded_execute)  # noqa: B010
    return guard


__all__ = [
    "GUARDED_COMMANDS",
    "REPORT_SETTING",
    "ConfigError",
    "Guard",
    "LinkFacts",
    "attach",
    "build_selection",
    "last_report_path",
    "link_facts",
    "locked_hashes",
    "project_dir_of",
    "refresh_hint",
    "rejected_reason",
    "resolve_config",
]
