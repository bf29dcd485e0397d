"""Real uv for the tests: one venv per uv version, each holding only the ``uv`` package.

uv is a single static binary; the ``uv`` package on the index ships it as
``<venv>/bin/uv``. The venvs live in ``tests/.cache/uv-<version>`` and are reused across
sessions (a stamp file records the version and the base interpreter). Every uv run is
isolated from this machine's pip and uv configuration: no ``PIP_*``/``UV_*`` variables
except those a test sets, ``XDG_CONFIG_HOME`` in the cache (no ``uv.toml`` of the user;
``UV_NO_CONFIG`` would also drop the project's own ``[tool.uv]``), its own
``UV_CACHE_DIR`` per session, and ``UV_PYTHON_DOWNLOADS=never`` so uv only uses the
interpreters of this machine.

Versions (see docs/uv.md):

- ``UV_NEWEST`` 0.13.9: the newest release of the newest supported minor (0.13.x).
- ``UV_OLDEST`` 0.8.4: the first release that writes uv.lock revision 3 (uv's
  ``crates/uv-resolver/src/lock/mod.rs`` ``const REVISION: u32 = 3``, from commit
  "Add ``exclude-newer-package``" #14489, released in 0.8.4).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.support.env import isolated_env
from tests.support.poetry import PoetryRun, base_python, cached_venv, wheelguard_table

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / "tests" / ".cache"
UV_NEWEST = "0.13.9"
UV_OLDEST = "0.8.4"
UV_VERSIONS = (UV_NEWEST, UV_OLDEST)


def uv_venv(version: str) -> Path:
    """A venv with ``uv==version``; built once from the public index, then reused.

    Returns the venv directory; the binary is ``<venv>/bin/uv``.
    """
    return cached_venv(CACHE / f"uv-{version}", {"uv": version, "python": base_python()},
                       [f"uv=={version}"])


def uv_env(cache: Path, extra: Mapping[str, str] | None = None,
           uv_bin: Path | None = None) -> dict[str, str]:
    """The environment of a uv run: isolated (see the module docstring), ``UV_CACHE_DIR``
    = ``cache``, and ``uv_bin``'s directory first on ``PATH`` when given."""
    import os

    env = {k: v for k, v in isolated_env().items() if not k.startswith("UV_")}
    env.update({
        "XDG_CONFIG_HOME": str(cache / "xdg-config"),
        "UV_CACHE_DIR": str(cache),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_PROGRESS": "1",
    })
    if uv_bin is not None:
        env["PATH"] = f"{uv_bin.parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra or {})
    return env


UvRun = PoetryRun
"""A finished ``uv`` (or ``pip-guard uv``) subprocess: the same record as Poetry's runs."""


@dataclass
class UvProject:
    """A temp uv project (``[tool.uv] package = false``) run by one uv version.

    Attributes:
        path: the project directory; version: the uv version; uv: the uv binary;
        cache: the session's ``UV_CACHE_DIR`` for that version.
    """

    path: Path
    version: str
    uv: Path
    cache: Path

    @property
    def env_dir(self) -> Path:
        """The project environment uv syncs by default (``.venv``)."""
        return self.path / ".venv"

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of a run in this project (see :func:`uv_env`)."""
        return uv_env(self.cache, extra, self.uv)

    def run(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
            timeout: int = 600) -> UvRun:
        """Run ``argv`` in the project directory with :meth:`env`."""
        proc = subprocess.run(list(argv), cwd=self.path, capture_output=True, text=True,
                              env=self.env(env), timeout=timeout, stdin=subprocess.DEVNULL)
        return UvRun(proc.returncode, proc.stdout, proc.stderr)

    def uv_cmd(self, *args: str, env: Mapping[str, str] | None = None) -> UvRun:
        """Run ``uv ARGS`` in the project directory."""
        return self.run([str(self.uv), *args], env=env)

    def installed(self) -> set[str]:
        """Normalized names of the distributions in the project environment."""
        from packaging.utils import canonicalize_name

        return {canonicalize_name(p.name.split("-")[0])
                for p in self.env_dir.glob("lib/python3.*/site-packages/*.dist-info")}


def write_uv_project(path: Path, *, dependencies: Sequence[str], index_url: str | None,
                     python: str = ">=3.11", wheelguard: Mapping[str, object] | None = None,
                     ) -> Path:
    """Write ``path/pyproject.toml``: a PEP 621 project uv does not build
    (``tool.uv.package = false``) whose dependencies come from ``index_url`` (one
    ``[[tool.uv.index]]`` marked ``default = true``, so the public index is off), or from the
    public index when ``index_url`` is ``None``."""
    path.mkdir(parents=True, exist_ok=True)
    deps = ", ".join(json.dumps(d) for d in dependencies)
    lines = ["[project]", 'name = "wg-uv-demo"', 'version = "0.1.0"',
             f'requires-python = "{python}"', f"dependencies = [{deps}]", "",
             "[tool.uv]", "package = false"]
    if index_url:
        lines += ["", "[[tool.uv.index]]", 'name = "wgindex"', f'url = "{index_url}"',
                  "default = true"]
    lines += wheelguard_table(wheelguard)
    (path / "pyproject.toml").write_text("\n".join(lines) + "\n")
    return path
