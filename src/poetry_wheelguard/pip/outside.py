"""``pip-guard --python PATH install ...``: guard another interpreter's environment from
outside it.

The guard stays where it is installed (its own venv, pipx, ``pip-guard.pyz``). The
interpreter at ``PATH`` runs its own pip with the same in-process hooks
(:mod:`.hooks`), started as ``PATH -c BOOTSTRAP ROOT COMMAND ARGS...``:

- ``ROOT`` is the guard's import root: the archive when this guard runs from
  ``pip-guard.pyz``; otherwise a temporary directory of symbolic links to the package
  directories of ``poetry_wheelguard`` and the dependencies its install command imports
  (packaging, tomli, rich, pygments), and to nothing else: no ``.dist-info``, so the
  target's pip sees exactly the distributions it sees without the guard. The bootstrap
  puts ``ROOT`` first on that process's ``sys.path`` only: no ``PYTHONPATH`` (pip's
  children, build backends included, never see the guard), no ``.pth``, nothing written
  into the target environment. The directory is removed afterwards.
- ``COMMAND`` is this guard's own isolated command
  (:func:`~poetry_wheelguard.selfcmd.isolated_guard_command`),
  with which the post-install verify runs (``pip-guard verify --python PATH``), so
  pyelftools and the verifier never enter the target interpreter either.

No ``-I``: ``PATH -m pip install`` honours ``PYTHONPATH`` and the user site directory,
and so does the guarded run. On Python 3.9 and 3.10 without ``tomli`` next to the guard,
pip's vendored copy reads ``[tool.wheelguard]``.

Before anything runs, ``PATH`` is probed (``PATH -c PROBE``, code valid in Python 2 too):
a missing file, a non-Python executable, Python 2 or a Python 3 older than 3.9, no pip,
a pip older than 22.2, or a Python version that the guard's own packaging does not
support each stop with one line (:class:`~poetry_wheelguard.errors.ProbeError`, exit 12)
naming ``PATH`` and what to do; nothing is installed. pip from 22.2 up to 23.0.1 runs in
the subprocess mode (docs/pip.md), and the line says how to upgrade it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipimport
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from importlib.util import find_spec

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

import poetry_wheelguard
from poetry_wheelguard.errors import ProbeError
from poetry_wheelguard.selfcmd import isolated_guard_command

OLDEST_PYTHON = (3, 9)
"""The oldest Python the guard's code runs on (pyproject.toml ``requires-python``)."""

PIP_OLDEST_SUBPROCESS = Version("22.2")
"""The oldest pip any mode serves (``pip install --dry-run --report``)."""

# (import name, distribution name, needed): what `pip-guard install` imports in the target
# process. rich and pygments only draw the table on a terminal (plain text otherwise).
LINKED = (("packaging", "packaging", True), ("tomli", "tomli", False),
          ("rich", "rich", False), ("pygments", "Pygments", False))

_MARK = "wheelguard-probe"

PROBE = (
    "import sys\n"
    "v = sys.version_info\n"
    "try:\n"
    "    import pip\n"
    "    p = pip.__version__\n"
    "except Exception:\n"
    "    p = '-'\n"
    "sys.stdout.write('%s %d.%d.%d %s\\n' % ('wheelguard' + '-probe', v[0], v[1], v[2], p))\n"
)
"""Prints ``wheelguard-probe X.Y.Z PIPVERSION`` (``-`` without pip); valid Python 2."""

BOOTSTRAP = (
    "import json, sys\n"
    "root, command, args = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]\n"
    "sys.argv = [sys.argv[0]] + args\n"
    "sys.path.insert(0, root)\n"
    "if sys.version_info < (3, 11):\n"
    "    try:\n"
    "        import tomli\n"
    "    except ImportError:\n"
    "        from pip._vendor import tomli\n"
    "        sys.modules['tomli'] = tomli\n"
    "from poetry_wheelguard import selfcmd\n"
    "selfcmd.OUTSIDE = command\n"
    "from poetry_wheelguard.cli import main\n"
    "raise SystemExit(main(args))\n"
)
"""Runs ``pip-guard ARGS`` in the target interpreter with ``ROOT`` first on ``sys.path``."""


@dataclass(frozen=True)
class Interpreter:
    """What the probe learnt of ``--python PATH``: ``python`` as a ``(major, minor,
    micro)`` tuple and ``pip`` (``pip.__version__``)."""

    path: str
    python: tuple[int, int, int]
    pip: str


def probe_python(path: str, timeout: float = 60) -> Interpreter:
    """Probe the interpreter at ``path`` (one ``path -c PROBE`` process, no package code
    besides ``import pip``).

    Raises:
        ProbeError: ``path`` is missing or a directory, cannot be executed, is not a
            Python, is a Python older than 3.9, has no pip, or has a pip older than 22.2;
            the message names ``path`` and what to do.
    """
    if not os.path.exists(path):
        raise ProbeError("no such file; give --python the path of a Python interpreter "
                         "(e.g. /app/.venv/bin/python)", filename=path)
    if os.path.isdir(path):
        raise ProbeError("is a directory; give --python the interpreter itself "
                         "(e.g. .venv/bin/python)", filename=path)
    try:
        proc = subprocess.run([path, "-c", PROBE], capture_output=True, text=True,
                              timeout=timeout, check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ProbeError(f"cannot be run as a Python interpreter ({exc.__class__.__name__}: "
                         f"{getattr(exc, 'strerror', None) or exc}); give --python the path "
                         "of a Python 3.9+ interpreter", filename=path) from exc
    words = next((line.split() for line in proc.stdout.splitlines()
                  if line.startswith(_MARK + " ")), None)
    if proc.returncode != 0 or words is None or len(words) != 3:
        raise ProbeError("is not a Python interpreter (it did not run the probe); give "
                         "--python the path of a Python 3.9+ interpreter", filename=path)
    try:
        major, minor, micro = (int(x) for x in words[1].split("."))
    except ValueError as exc:
        raise ProbeError("is not a Python interpreter (no Python version); give --python "
                         "the path of a Python 3.9+ interpreter", filename=path) from exc
    if (major, minor) < OLDEST_PYTHON:
        raise ProbeError(f"is Python {major}.{minor}; pip-guard needs Python 3.9 or newer "
                         "there: create the environment with a newer Python", filename=path)
    pip = words[2]
    if pip == "-":
        raise ProbeError(f"has no pip; install it with '{path} -m ensurepip --upgrade' "
                         "and run again", filename=path)
    try:
        too_old = Version(pip) < PIP_OLDEST_SUBPROCESS
    except InvalidVersion:
        too_old = False  # left to feature detection in the target
    if too_old:
        raise ProbeError(f"has pip {pip}, older than any pip-guard supports (22.2; in-process "
                         f"hooks from 23.0.1); upgrade it with '{path} -m pip install "
                         "--upgrade pip' and run again", filename=path)
    return Interpreter(path, (major, minor, micro), pip)


def _archive() -> str | None:
    """The ``pip-guard.pyz`` this guard was imported from, else ``None``."""
    spec = poetry_wheelguard.__spec__
    loader = spec.loader if spec is not None else None
    return loader.archive if isinstance(loader, zipimport.zipimporter) else None


def _fits(dist: str, python: tuple[int, int, int]) -> tuple[bool, str]:
    """``(runs on python, "dist version (Requires-Python)")`` for an installed ``dist``."""
    try:
        meta = metadata.distribution(dist).metadata
    except metadata.PackageNotFoundError:
        return True, dist
    requires = meta["Requires-Python"] or ""
    label = f"{dist} {meta['Version']}" + (f" (Requires-Python {requires})" if requires else "")
    try:
        ok = SpecifierSet(requires).contains(".".join(map(str, python)), prereleases=True)
    except InvalidSpecifier:
        ok = True
    return ok, label


def make_import_root(into: str, python: tuple[int, int, int], path: str = "") -> list[str]:
    """Fill the empty directory ``into`` with symbolic links to the package directories
    of ``poetry_wheelguard`` and of :data:`LINKED` (those installed for this guard whose
    ``Requires-Python`` admits ``python``); return the linked import names.

    Raises:
        ProbeError: a needed dependency (packaging) does not run on ``python``.
    """
    linked = ["poetry_wheelguard"]
    os.symlink(os.path.dirname(os.path.abspath(poetry_wheelguard.__file__ or "")),
               os.path.join(into, "poetry_wheelguard"))
    for module, dist, needed in LINKED:
        spec = find_spec(module)
        locations = list(spec.submodule_search_locations or ()) if spec else []
        if not locations:
            continue
        ok, label = _fits(dist, python)
        if not ok:
            if needed:
                raise ProbeError(
                    f"is Python {'.'.join(map(str, python[:2]))}, and this pip-guard's "
                    f"{label} does not run there; run pip-guard.pyz with it instead "
                    "(docs/pyz.md), or install the guard for an older Python", filename=path)
            continue
        os.symlink(locations[0], os.path.join(into, module))
        linked.append(module)
    return linked


def _wait(proc: subprocess.Popen[bytes]) -> int:
    """Wait for ``proc`` through Ctrl-C (the child, in the same process group, gets the
    signal and ends its run itself); a death by signal N becomes ``128 + N``."""
    while True:
        try:
            code = proc.wait()
            break
        except KeyboardInterrupt:
            continue
    return 128 - code if code < 0 else code


def run_outside(python: str, global_args: Sequence[str], command: str,
                args: Sequence[str], *, sbom: str | None = None,
                report: str | None = None) -> int:
    """Run ``pip-guard GLOBAL_ARGS COMMAND ARGS`` inside the interpreter at ``python``
    (module docstring); return its exit code.

    ``sbom`` (``--sbom PATH`` or ``WHEELGUARD_SBOM``, taken out of ``global_args`` and the
    child's environment) is written here, from
    the run's report (``report``, the ``--report`` path, or a temporary one), by this
    process: the SBOM library stays out of the target interpreter too.

    Raises:
        ProbeError: ``python`` is no usable interpreter (:func:`probe_python`,
            :func:`make_import_root`).
        WheelguardError: the SBOM library is missing (checked before anything runs), or
            the SBOM cannot be written.
    """
    if sbom:
        from poetry_wheelguard.report import check_report_path
        from poetry_wheelguard.sbom import require_library

        require_library()
        check_report_path(sbom, setting="--sbom")
    target = probe_python(python)
    argv = [*global_args, command, *args]
    archive = _archive()
    tmp = None if archive else tempfile.mkdtemp(prefix="pip-guard-root-")
    spill = None
    if sbom and not report:
        fd, spill = tempfile.mkstemp(prefix="pip-guard-report-", suffix=".json")
        os.close(fd)
        os.unlink(spill)  # the run writes it, atomically
        argv = ["--report", spill, *argv]
    try:
        if tmp is not None:
            make_import_root(tmp, target.python, target.path)
        root = archive or tmp
        assert root is not None
        sys.stdout.flush()
        sys.stderr.flush()
        # the SBOM is this process's (WHEELGUARD_SBOM or --sbom): not the target's
        env = {k: v for k, v in os.environ.items() if k != "WHEELGUARD_SBOM"}
        proc = subprocess.Popen([target.path, "-c", BOOTSTRAP, root,
                                 json.dumps(isolated_guard_command()), *argv], env=env)
        code = _wait(proc)
        written = spill or report
        if sbom and written and os.path.isfile(written):
            from poetry_wheelguard.sbom import write_sbom

            with open(written, encoding="utf-8") as fh:
                write_sbom(sbom, json.load(fh))
        return code
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if spill is not None and os.path.exists(spill):
            os.unlink(spill)


def strip_option(args: Sequence[str], option: str) -> list[str]:
    """``args`` without ``OPTION VALUE`` / ``OPTION=VALUE``."""
    out: list[str] = []
    skip = False
    for word in args:
        if skip:
            skip = False
        elif word == option:
            skip = True
        elif not word.startswith(option + "="):
            out.append(word)
    return out


def strip_python(args: Sequence[str]) -> list[str]:
    """``args`` without ``--python PATH`` / ``--python=PATH``."""
    return strip_option(args, "--python")
