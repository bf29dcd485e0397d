"""``pip-guard [global options] uv sync ARGS`` and ``pip-guard uv pip install ARGS``.

Every ARG goes to the real uv unchanged (the ``uv`` on ``PATH``, else the binary of the
``uv`` package when it is importable). Before uv installs anything:

* ``uv sync``: the project's uv.lock is brought up to date with ``uv lock`` (``--locked``
  passed on; skipped with ``--frozen``, as uv skips it), read (:mod:`~poetry_wheelguard.
  locks.uv`) and planned for the interpreter of the environment uv will sync, probed as for
  Poetry: ``UV_PROJECT_ENVIRONMENT`` (relative to the project), the active ``VIRTUAL_ENV``
  with ``--active``, else ``<project>/.venv`` (uv's ``Workspace::environment_selection``);
  when that environment does not exist yet, the interpreter ``uv python find`` names for
  the project (what uv creates it with). The lock's releases are looked up on their
  index (:func:`poetry_wheelguard.planning.plan_lock`; not with ``--offline``). Extras
  and groups as ``uv sync`` takes them
  (``--extra``, ``--all-extras``, ``--group``, ``--all-groups``, ``--no-dev``; ``dev`` by
  default); ``--package NAME`` judges that workspace member and what it needs
  (:func:`~poetry_wheelguard.locks.uv.member_lock`), every member by default.
* ``uv pip install``: uv resolves the requirements for the target environment's
  interpreter into a PEP 751 lock first, ``uv pip compile --no-build --format pylock.toml``
  (``--no-build``: resolving reads wheel metadata only, so no sdist is built and no
  package code runs); the lock is judged and then exactly that lock is installed
  (``uv pip install -r pylock.toml`` plus the user's install options). When the
  requirements cannot be resolved without building an sdist, the pinned requirements are
  planned from the index listing as uv would pick (:func:`~poetry_wheelguard.choosers.
  choose_like_uv`): in strict mode a refusal stops there; with ``--no-build`` uv's error
  ends the run (uv's exit code, nothing installed); otherwise uv resolves again with
  builds allowed (it then builds metadata) and the result is judged as above.

In strict mode a refusal stops the run before uv downloads, builds or installs anything
(exit 10). In warn mode uv runs and the findings are reported. After uv installs, the same
post-install verification as for pip and Poetry runs, decided by
:func:`poetry_wheelguard.postinstall.verify_after_install` (``pip-guard verify`` in a
separate process); it reports a wheel uv built from an sdist earlier and took from its
cache as built locally (the wheel's own dist-info says so, whatever flag was given).

Exit codes: as ``pip-guard install``; uv's own code when uv fails on its own; 12 (one
line) for a missing uv, a uv older than :data:`UV_OLDEST`, a corrupt or truncated lock,
a lock hash that differs from the index, or uv failing before it installs anything.

One concern, one module, whatever its length: the uv front-end.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.version import InvalidVersion, Version

from poetry_wheelguard import exitcodes
from poetry_wheelguard.cli.options import config_from_namespace
from poetry_wheelguard.config import Config
from poetry_wheelguard.errors import WheelguardError
from poetry_wheelguard.index import client_for
from poetry_wheelguard.models import Candidate, PackageRecord
from poetry_wheelguard.postinstall import (
    VERIFY_MODULE,
    InstalledVerification,
    verify_after_install,
    verify_available,
    verify_installed,
)
from poetry_wheelguard.render import render_findings, render_table
from poetry_wheelguard.report import Report, check_report_path, redact_text, write_json_atomic
from poetry_wheelguard.targets import Target, probe_interpreter

UV_OLDEST = Version("0.8.4")
"""The oldest uv supported: the first that writes uv.lock revision 3 (see docs/uv.md)."""

TABLE_TITLE = "pip-guard: the file uv will install for each package"

UvRunner = Callable[[Sequence[str], Mapping[str, str] | None, str | None],
                    "subprocess.CompletedProcess[str]"]
"""``runner(cmd, env, cwd)`` runs uv and captures its output (tests pass their own)."""


def say(*lines: str) -> None:
    """Print guard lines on stderr (stdout stays uv's)."""
    for line in lines:
        print(line, file=sys.stderr, flush=True)


def _capture(cmd: Sequence[str], env: Mapping[str, str] | None, cwd: str | None
             ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), capture_output=True, text=True, env=env, cwd=cwd,
                          stdin=subprocess.DEVNULL, check=False)


def find_uv(environ: Mapping[str, str] | None = None) -> str | None:
    """The uv binary: ``uv`` on ``PATH``, else ``uv.find_uv_bin()`` of the ``uv`` package."""
    env = os.environ if environ is None else environ
    found = shutil.which("uv", path=env.get("PATH"))
    if found:
        return found
    try:
        import uv  # type: ignore[import-not-found,unused-ignore]

        return str(uv.find_uv_bin())
    except (ImportError, FileNotFoundError, AttributeError):
        return None


def uv_version(uv: str, runner: UvRunner = _capture) -> str:
    """``uv --version``'s version (``0.13.9``).

    Raises:
        WheelguardError: uv cannot run, or prints no version.
    """
    try:
        proc = runner([uv, "--version"], None, None)
    except OSError as exc:
        raise WheelguardError(f"cannot run {uv} ({exc.strerror or exc})") from exc
    match = re.match(r"uv\s+(\S+)", proc.stdout.strip())
    if proc.returncode != 0 or not match:
        raise WheelguardError(f"{uv} --version did not print a uv version")
    return match.group(1)


def check_uv(uv: str | None, runner: UvRunner = _capture) -> str:
    """The version of ``uv``, checked: present and :data:`UV_OLDEST` or newer.

    Raises:
        WheelguardError: no uv, or an older one (one line saying what to install).
    """
    if uv is None:
        raise WheelguardError(f"uv is not installed: install uv {UV_OLDEST} or newer "
                              "(pip install uv), or put it on PATH")
    version = uv_version(uv, runner)
    try:
        too_old = Version(version) < UV_OLDEST
    except InvalidVersion:
        too_old = False
    if too_old:
        raise WheelguardError(f"uv {version} ({uv}) is too old for pip-guard uv: upgrade "
                              f"to uv {UV_OLDEST} or newer (pip install -U uv)")
    return version


# --- reading uv's command line ------------------------------------------------------------

_SYNC_VALUE = {"--extra", "--group", "--only-group", "--no-group", "--python", "-p",
               "--project", "--directory", "--package", "--index", "--default-index",
               "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--config-file",
               "--cache-dir", "--no-binary-package", "--no-build-package"}


def option_values(args: Sequence[str], names: set[str]) -> dict[str, list[str]]:
    """Values of the options ``names`` in ``args`` (``--opt V`` and ``--opt=V``)."""
    out: dict[str, list[str]] = {}
    i = 0
    while i < len(args):
        word = args[i]
        if word == "--":
            break
        key, eq, value = word.partition("=")
        if key in names:
            if eq:
                out.setdefault(key, []).append(value)
            elif i + 1 < len(args):
                out.setdefault(key, []).append(args[i + 1])
                i += 1
        i += 1
    return out


def project_dir(args: Sequence[str], cwd: Path) -> Path:
    """The project uv works on: ``--project``/``--directory``, else the nearest directory
    from ``cwd`` up that has a ``pyproject.toml`` (uv's workspace discovery)."""
    vals = option_values(args, {"--project", "--directory"})
    start = Path((vals.get("--project") or vals.get("--directory") or [str(cwd)])[-1])
    start = (cwd / start).resolve()
    for d in (start, *start.parents):
        if (d / "pyproject.toml").is_file():
            return d
    return start


def sync_environment(project: Path, args: Sequence[str], environ: Mapping[str, str]) -> Path:
    """The environment ``uv sync`` installs into (uv ``Workspace::environment_selection``):
    ``UV_PROJECT_ENVIRONMENT`` (relative to the project), ``VIRTUAL_ENV`` with ``--active``,
    else ``<project>/.venv``."""
    value = environ.get("UV_PROJECT_ENVIRONMENT")
    if value:
        path = Path(value)
        return path if path.is_absolute() else project / path
    if "--active" in args and environ.get("VIRTUAL_ENV"):
        return Path(environ["VIRTUAL_ENV"]).absolute()
    return project / ".venv"


def sync_selection(args: Sequence[str], declared_groups: frozenset[str],
                   declared_extras: frozenset[str]) -> tuple[list[str], list[str]]:
    """``(extras, groups)`` ``uv sync ARGS`` installs, ``groups`` as
    :func:`poetry_wheelguard.locks.uv.locked_packages_for` takes them (``main`` = the
    project's own dependencies, always judged): ``--extra``/``--all-extras``; ``dev`` by
    default (when declared), ``--group`` adds, ``--all-groups``, ``--no-dev``,
    ``--no-group``, ``--only-group`` (whose group only, the project's dependencies judged
    too: more, never less, than uv installs)."""
    vals = option_values(args, {"--extra", "--group", "--no-group", "--only-group"})
    extras = sorted(declared_extras) if "--all-extras" in args else vals.get("--extra", [])
    if "--all-groups" in args:
        groups = set(declared_groups)
    elif vals.get("--only-group"):
        groups = set(vals["--only-group"])
    else:
        groups = {"dev"} & set(declared_groups) if "--no-default-groups" not in args else set()
        groups |= set(vals.get("--group", []))
    if "--no-dev" in args:
        groups.discard("dev")
    groups -= set(vals.get("--no-group", []))
    return list(extras), ["main", *sorted(groups - {"main"})]


# --- the run ------------------------------------------------------------------------------

@dataclass
class UvOutcome:
    """What the guarded uv run ended with: ``code`` (uv's, or the guard's), ``records``,
    ``refused``, the ``target`` judged, the env's ``python``, whether uv ``installed``."""

    code: int
    records: list[PackageRecord]
    refused: bool
    target: Target | None
    python: str | None
    installed: bool
    command: str


def _uv_failed(what: str, proc: subprocess.CompletedProcess[str]) -> WheelguardError:
    lines = (proc.stderr or proc.stdout or "").strip().splitlines()
    decor = " \u00d7\u2570\u2500\u25b6"  # uv's error tree: x, corner, dash, arrow
    last = next((ln.strip(decor) for ln in reversed(lines) if ln.strip(decor)), "no output")
    return WheelguardError(f"{what} failed (exit {proc.returncode}) before anything was "
                           f"installed: {redact_text(last)}")


def _probe(python: str) -> Target:
    return probe_interpreter(python)


def _env_python(env_dir: Path) -> str | None:
    exe = env_dir / "bin" / "python"
    return str(exe) if exe.exists() else None


def guard_sync(uv: str, args: list[str], config: Config, *, cwd: Path,
               environ: Mapping[str, str], runner: UvRunner = _capture,
               probe: Callable[[str], Target] = _probe) -> UvOutcome:
    """Judge and run ``uv sync ARGS`` (module docstring).

    Raises:
        WheelguardError: uv lock / uv python find failed, the lock is unreadable or its
            hashes differ from the index, the interpreter cannot be probed.
    """
    from poetry_wheelguard.locks.uv import member_lock, read_uv_lock
    from poetry_wheelguard.planning import plan_lock

    project = project_dir(args, cwd)
    env = dict(environ)
    if "--frozen" not in args:
        lock_cmd = [uv, "lock", "--project", str(project)]
        lock_cmd += [a for a in ("--locked", "--offline") if a in args]
        proc = runner(lock_cmd, env, str(cwd))
        if proc.returncode != 0:
            raise _uv_failed("uv lock", proc)
    lock_path = project / "uv.lock"
    lock = read_uv_lock(lock_path)
    env_dir = sync_environment(project, args, environ)
    python = _env_python(env_dir)
    if python is None:
        find = [uv, "python", "find", "--project", str(project)]
        find += [v for p in option_values(args, {"--python", "-p"}).values() for v in p[-1:]]
        proc = runner(find, env, str(project))
        if proc.returncode != 0 or not proc.stdout.strip():
            raise _uv_failed("uv python find", proc)
        python = proc.stdout.strip().splitlines()[-1]
    target = probe(python)
    extras, groups = sync_selection(args, lock.declared_groups or frozenset(),
                                    frozenset(lock.extras))
    member = option_values(args, {"--package"}).get("--package")
    if member and "--all-packages" not in args:
        lock = member_lock(lock, member[-1], extras)
    records = plan_lock(lock, [target], config, extras, groups,
                        lookup=None if "--offline" in args else client_for
                        ).records[target.name]
    refused = any(r.verdict == "refused" for r in records)
    if refused and config.strict:
        return UvOutcome(exitcodes.REFUSED, records, True, target, python, False, "sync")
    code = subprocess.call([uv, "sync", *args], env=env, cwd=str(cwd))
    final_python = _env_python(env_dir) or python
    return UvOutcome(code, records, False, target, final_python, code == 0, "sync")


_COMPILE_VALUE = {"-r", "--requirement", "-c", "--constraint", "--constraints",
                  "--override", "--overrides", "-i", "--index-url", "--extra-index-url",
                  "-f", "--find-links", "--index", "--default-index", "--index-strategy",
                  "--prerelease", "--extra", "--no-binary", "--only-binary",
                  "--exclude-newer", "--resolution"}
_COMPILE_FLAGS = {"--no-index", "--pre", "--all-extras", "-U", "--upgrade", "--no-deps"}
_INSTALL_ONLY_VALUE = {"--python", "-p", "--target", "--prefix", "--cache-dir",
                       "--config-file", "--link-mode", "--reinstall-package",
                       "--upgrade-package", "-P"}


def split_pip_install(args: Sequence[str]) -> tuple[list[str], list[str], list[str], bool]:
    """``uv pip install ARGS`` split into ``(requirement lines, compile args, install
    args, editable)``: positional requirements and ``-e`` become lines of a requirements
    file; resolution options (:data:`_COMPILE_VALUE`, :data:`_COMPILE_FLAGS`) go to
    ``uv pip compile`` and are dropped from the install of the lock (its files are
    pinned, with their URLs); everything else goes to the install."""
    reqs: list[str] = []
    compile_args: list[str] = []
    install_args: list[str] = []
    editable = False
    i = 0
    while i < len(args):
        word = args[i]
        key, eq, _ = word.partition("=")
        takes = key in _COMPILE_VALUE | _INSTALL_ONLY_VALUE | {"-e", "--editable"}
        value = [] if eq or not takes or i + 1 >= len(args) else [args[i + 1]]
        group = [word, *value]
        if key in {"-e", "--editable"}:
            editable = True
            reqs.append(f"-e {group[-1].partition('=')[2] if eq else group[-1]}")
        elif key in _COMPILE_VALUE or key in _COMPILE_FLAGS:
            if key in {"--no-deps"}:
                install_args += group
            compile_args += group
        elif key in _INSTALL_ONLY_VALUE:
            install_args += group
        elif not word.startswith("-"):
            reqs.append(word)
        else:
            install_args += group
        i += len(group)
    return reqs, compile_args, install_args, editable


def pip_target_python(args: Sequence[str], cwd: Path, environ: Mapping[str, str]
                      ) -> str | None:
    """The interpreter ``uv pip install`` installs for: ``--python``, else ``VIRTUAL_ENV``,
    else a ``.venv`` in ``cwd`` or a parent (uv's environment discovery); ``None`` when
    none (uv then refuses too, unless ``--system``)."""
    given = option_values(args, {"--python", "-p"})
    if given:
        value = given.get("--python", given.get("-p", [""]))[-1]
        path = Path(value)
        if path.is_dir():
            return _env_python(path)
        return value if os.sep in value else shutil.which(value) or value
    if environ.get("VIRTUAL_ENV"):
        return _env_python(Path(environ["VIRTUAL_ENV"]))
    for d in (cwd, *cwd.parents):
        found = _env_python(d / ".venv")
        if found:
            return found
    return shutil.which("python3") if "--system" in args else None


def _pinned_plan(reqs: Sequence[str], target: Target, config: Config,
                 compile_args: Sequence[str]) -> list[PackageRecord]:
    """Plan the ``name==version`` requirements as uv picks
    (:func:`~poetry_wheelguard.choosers.choose_like_uv` among the release's files on the
    index of ``--default-index``/``--index-url``/``-i`` in ``compile_args``, else the
    public index; :func:`~poetry_wheelguard.planning.plan_installs`).

    Raises:
        IndexFetchError: the index cannot be read, or does not list a pinned name.
    """
    from packaging.requirements import InvalidRequirement, Requirement

    from poetry_wheelguard.choosers import choose_like_uv
    from poetry_wheelguard.distfiles import normalize
    from poetry_wheelguard.index import PYPI_SIMPLE
    from poetry_wheelguard.locks.model import LockedPackage
    from poetry_wheelguard.planning import lookup_listings, plan_installs

    given = option_values(compile_args, {"--default-index", "--index-url", "-i"})
    index = next((v[-1] for v in given.values()), PYPI_SIMPLE)
    pins: list[LockedPackage] = []
    for line in reqs:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        versions = [s.version for s in req.specifier if s.operator in {"==", "==="}]
        if versions:
            pins.append(LockedPackage(normalize(req.name), versions[0], (), ("main",), None,
                                      (), {}, "registry", index))
    listings = lookup_listings(pins, None, client_for)
    installs: list[tuple[LockedPackage, Candidate | None]] = []
    for pkg in pins:
        listing = listings.get((index, pkg.name))
        files = tuple(f.candidate for f in (listing.versions().get(pkg.version, [])
                                            if listing else []))
        installs.append((replace(pkg, files=files), choose_like_uv(files, target)))
    return plan_installs(installs, target, config, listings, None, "requirements",
                         "pin another version")


def _full_version(python: str, runner: UvRunner) -> str | None:
    """The interpreter's ``platform.python_version()`` (``3.11.7``), ``None`` if unknown."""
    try:
        proc = runner([python, "-c", "import platform; print(platform.python_version())"],
                      None, None)
    except OSError:
        return None
    text = proc.stdout.strip()
    return text if proc.returncode == 0 and re.fullmatch(r"\d+\.\d+\.\d+\S*", text) else None


def guard_pip_install(uv: str, args: list[str], config: Config, *, cwd: Path,
                      environ: Mapping[str, str], runner: UvRunner = _capture,
                      probe: Callable[[str], Target] = _probe) -> UvOutcome:
    """Judge and run ``uv pip install ARGS`` (module docstring).

    Raises:
        WheelguardError: no environment to install into, uv pip compile failed, the
            resolved lock is unreadable, the interpreter cannot be probed.
    """
    from poetry_wheelguard.locks.pylock import read_pylock
    from poetry_wheelguard.planning import plan_lock

    python = pip_target_python(args, cwd, environ)
    if python is None:
        raise WheelguardError("uv pip install: no virtual environment found (no --python, "
                              "VIRTUAL_ENV or .venv); create one with uv venv")
    target = probe(python)
    reqs, compile_args, install_args, _ = split_pip_install(args)
    env = dict(environ)
    with tempfile.TemporaryDirectory(prefix="wheelguard-uv-") as tmp:
        req_in = Path(tmp) / "requirements.in"
        req_in.write_text("\n".join(reqs) + "\n")
        out = Path(tmp) / "pylock.toml"
        base = [uv, "pip", "compile", str(req_in), *compile_args, "--format", "pylock.toml",
                "-o", str(out), "--python", python, "--quiet"]
        proc = runner([*base, "--no-build"], env, str(cwd))
        if proc.returncode != 0:
            records = _pinned_plan(reqs, target, config, compile_args)
            if config.strict and any(r.verdict == "refused" for r in records):
                return UvOutcome(exitcodes.REFUSED, records, True, target, python, False,
                                 "pip install")
            if "--no-build" in install_args:  # no build allowed, not even for metadata
                say(f"pip-guard: error: {_uv_failed('uv pip compile --no-build', proc)}")
                return UvOutcome(proc.returncode, records, False, target, python, False,
                                 "pip install")
            proc = runner(base, env, str(cwd))
            if proc.returncode != 0:
                raise _uv_failed("uv pip compile", proc)
        lock = read_pylock(out)
        records = plan_lock(lock, [target], config,
                            lookup=None if "--offline" in args else client_for,
                            python_full_version=_full_version(python, runner)
                            ).records[target.name]
        if config.strict and any(r.verdict == "refused" for r in records):
            return UvOutcome(exitcodes.REFUSED, records, True, target, python, False,
                             "pip install")
        if "--python" not in install_args and "-p" not in install_args:
            install_args += ["--python", python]
        code = subprocess.call([uv, "pip", "install", "-r", str(out), *install_args],
                               env=env, cwd=str(cwd))
    return UvOutcome(code, records, False, target, python, code == 0, "pip install")


def _verify_skip_checks(outcome: UvOutcome, config: Config) -> list[tuple[bool, str]]:
    """The ``(applies, reason)`` checks of ``pip-guard uv`` for
    :func:`~poetry_wheelguard.postinstall.verify_after_install`, in their order."""
    return [
        (outcome.code != exitcodes.OK, f"exit code {outcome.code}"),
        (not config.verify, "disabled (--no-verify / verify = false)"),
        (not verify_available(), f"{VERIFY_MODULE} is not installed"),
        (not outcome.installed or not outcome.records, "nothing was installed"),
        (outcome.python is None, "the environment uv installed into has no interpreter"),
    ]


def mark_built_locally(records: Sequence[PackageRecord]) -> None:
    """Set ``built_locally`` on the records uv builds, or took built from its cache: the
    file uv takes from the lock is an sdist (uv installs a wheel it built from it earlier
    and cached, ``--no-build`` or not: the lock has no wheel for the target), or the
    verification of the installed distribution says ``local`` (a ``linux_<arch>`` tag, or
    PEP 610 data naming an sdist, :func:`~poetry_wheelguard.installed.provenance_of`)."""
    for rec in records:
        built = rec.kind == "sdist" and not rec.selection.first_party
        if rec.verification and rec.verification.get("provenance") == "local":
            built = True
        if built and not rec.selection.built_locally:
            rec.selection = replace(rec.selection, built_locally=True)


def finish(outcome: UvOutcome, config: Config, argv: Sequence[str], uv_ver: str) -> int:
    """Verify (after a successful install, :func:`~poetry_wheelguard.postinstall.
    verify_after_install`), print the table and findings, write the report
    (``installer`` = uv and its version); return the exit code."""

    def verify(names: list[str]) -> InstalledVerification:
        assert outcome.python is not None  # a skip check otherwise
        return verify_installed(outcome.python, names, mode=config.mode)

    code, verification = verify_after_install(
        outcome.records, outcome.code, config.strict, verify=verify, say=say,
        prog="pip-guard", skip=_verify_skip_checks(outcome, config))
    mark_built_locally(outcome.records)
    if outcome.records:
        render_table(outcome.records, sys.stderr, title=TABLE_TITLE)
        render_findings(outcome.records, sys.stderr)
    if outcome.refused:
        say("pip-guard: strict mode refused the files above before uv downloaded, built or "
            "installed anything; nothing was installed")
    elif code == exitcodes.VERIFY_ERRORS:
        say("pip-guard: strict mode: verification found errors in the installed files above")
    if config.report or config.sbom:
        report = Report(
            command="install", mode=config.mode,
            target=outcome.target.summary() if outcome.target else None,
            installer={"name": "uv", "version": uv_ver}, packages=outcome.records,
            exit_code=code,
            extra={"uv": {"command": outcome.command,
                          "args": [redact_text(a) for a in argv]},
                   "verification": verification})
        if config.report:
            write_json_atomic(config.report, report.to_json())
        if config.sbom:
            from poetry_wheelguard.sbom import write_sbom

            write_sbom(config.sbom, report.to_json())
    return code


def run_uv(ns: argparse.Namespace, argv: list[str], *, environ: Mapping[str, str] | None = None,
           runner: UvRunner = _capture) -> int:
    """``pip-guard uv sync ARGS`` / ``pip-guard uv pip install ARGS``; the exit code.

    Any other uv command is refused with a usage line (exit 64): only installing commands
    are guarded, run the others with uv itself.

    Raises:
        ConfigError: bad ``[tool.wheelguard]``/flags, or an unwritable report path (64).
        WheelguardError: missing or too old uv, corrupt lock, hash mismatch, uv failing
            before it installs (12).
    """
    env = dict(os.environ if environ is None else environ)
    config = config_from_namespace(ns)
    if config.report:
        check_report_path(config.report)
    if config.sbom:  # before uv runs, not after the install
        from poetry_wheelguard.sbom import require_library

        check_report_path(config.sbom, setting="--sbom")
        require_library()
    if argv[:1] == ["sync"]:
        kind, rest = "sync", argv[1:]
    elif argv[:2] == ["pip", "install"]:
        kind, rest = "pip install", argv[2:]
    else:
        say("pip-guard: error: pip-guard uv guards `uv sync ...` and `uv pip install ...`; "
            f"got `uv {' '.join(argv[:2])}`")
        return exitcodes.USAGE
    uv = find_uv(env)
    version = check_uv(uv, runner)
    assert uv is not None
    cwd = Path.cwd()
    if kind == "sync":
        outcome = guard_sync(uv, rest, config, cwd=cwd, environ=env, runner=runner)
    else:
        outcome = guard_pip_install(uv, rest, config, cwd=cwd, environ=env, runner=runner)
    return finish(outcome, config, argv, version)
