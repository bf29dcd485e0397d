"""pip's own resolver, run as a subprocess, for requirements that are not pinned.

``python -m pip install --dry-run --report -`` resolves for a target given by
``--platform``/``--python-version``/``--implementation``/``--abi``, from wheels only, and
prints the installation report (pip >= 22.2); this module builds that command, runs it
through an injectable :data:`~poetry_wheelguard.targets.Runner` and reads the report. It
starts pip in another process and imports nothing of pip.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence

from poetry_wheelguard.distfiles import normalize
from poetry_wheelguard.errors import IndexFetchError
from poetry_wheelguard.models import NormalizedName
from poetry_wheelguard.report import redact_text
from poetry_wheelguard.targets import Runner, Target


def _target_platforms(target: Target) -> list[str]:
    return list(dict.fromkeys(t.platform for t in target.tags if t.platform != "any"))


def pip_resolve_command(target: Target, requirements: Sequence[str], python: str,
                        index_args: Sequence[str] = (), target_dir: str = "") -> list[str]:
    """The ``pip install --dry-run --report -`` command that resolves ``requirements`` for
    ``target`` from wheels only (no build, no package code). ``--target DIR`` (an empty
    directory, never written by a dry run) is there because pip before 23.3 accepts
    ``--platform``/``--abi`` only with it."""
    major, minor = target.python_version
    cmd = [python, "-m", "pip", "install", "--dry-run", "--quiet", "--report", "-",
           "--ignore-installed", "--only-binary=:all:", "--disable-pip-version-check",
           *(["--target", target_dir] if target_dir else []),
           "--python-version", f"{major}.{minor}",
           "--implementation", target.interpreter[:2]]
    for platform in _target_platforms(target):
        cmd += ["--platform", platform]
    for abi in target.abis:
        cmd += ["--abi", abi]
    return [*cmd, *index_args, *requirements]


class NoWheelResolution(IndexFetchError):
    """pip found no wheel for some requirement (``No matching distribution found for X``):
    the wheels-only resolution cannot finish, though an sdist may exist. Attributes as
    :class:`IndexFetchError`; the reason is pip's error line, credentials removed."""


def _default_pip_runner(cmd: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), capture_output=True, text=True, check=False, timeout=900)


def pip_resolve(target: Target, requirements: Sequence[str], index_args: Sequence[str] = (),
                runner: Runner | None = None,
                python: str | None = None) -> dict[NormalizedName, str]:
    """Resolve ``requirements`` for ``target`` with pip's own resolver (see
    :func:`pip_resolve_command`); returns ``{normalized name: version}``.

    Raises:
        NoWheelResolution: pip found no wheel for a requirement (an sdist-only project).
        IndexFetchError: pip failed otherwise (its last error line, credentials removed) or
            printed no report.
    """
    run = runner or _default_pip_runner
    try:
        with tempfile.TemporaryDirectory(prefix="wheelguard-resolve-") as empty:
            proc = run(pip_resolve_command(target, requirements, python or sys.executable,
                                           index_args, empty))
    except (OSError, subprocess.SubprocessError) as exc:
        raise IndexFetchError(f"cannot run pip to resolve the unpinned requirements ({exc})"
                              ) from exc
    if proc.returncode != 0:
        lines = [ln.strip() for ln in (proc.stderr or "").splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.startswith("ERROR:")] or lines[-1:] or ["no output"]
        no_wheel = any("No matching distribution found" in ln for ln in errors)
        raise (NoWheelResolution if no_wheel else IndexFetchError)(
            f"pip could not resolve the unpinned requirements for {target.name}: "
            f"{redact_text(errors[0])} (resolution uses wheels only; pin a package "
            "PKG==VER to plan its sdist)")
    try:
        report = json.loads(proc.stdout)
        return {normalize(str(item["metadata"]["name"])): str(item["metadata"]["version"])
                for item in report["install"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise IndexFetchError("pip printed no installation report; pip >= 22.2 is needed "
                              "to resolve unpinned requirements") from exc
