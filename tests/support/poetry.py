"""Real Poetry for the tests: one venv per Poetry version with this project installed in it,
and throw-away Poetry projects that install from the local fixture index.

The venvs live in ``tests/.cache/poetry-<version>-py<X.Y>`` and are reused across sessions
(a stamp file records the Poetry version, the base interpreter and this checkout's path;
the project is installed editable, so code changes need no reinstall). Every Poetry run is
isolated from this machine's pip and Poetry configuration: own ``POETRY_CONFIG_DIR``, own
``POETRY_CACHE_DIR`` per session, in-project venvs, no ``PIP_*``/``WHEELGUARD_*``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.support.env import isolated_env

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / "tests" / ".cache"
POETRY_VERSIONS = ("1.8.5", "2.5.1")


def base_python() -> str:
    """The interpreter the running one was made from (outside any venv): the project envs
    use it, so the fixture index's compiled wheel (built for the running CPython) fits."""
    base = getattr(sys, "_base_executable", None) or sys.executable
    return str(base)


def poetry_venv(version: str) -> Path:
    """A venv with ``poetry==version`` and this project (editable); built once, then reused.

    Needs the public index the first time (Poetry and poetry-core for the editable build).
    """
    pyver = f"{sys.version_info[0]}.{sys.version_info[1]}"
    venv = CACHE / f"poetry-{version}-py{pyver}"
    want = {"poetry": version, "python": base_python(), "repo": str(REPO)}
    return cached_venv(venv, want, [f"poetry=={version}"], ["-e", str(REPO)])


def cached_venv(venv: Path, want: Mapping[str, str], *installs: Sequence[str]) -> Path:
    """``venv`` built with :func:`base_python` and each of ``installs`` (``pip install``
    arguments) run in it, isolated from this machine's pip configuration; reused while its
    stamp file holds ``want`` (what it was built for)."""
    stamp = venv / "wheelguard-stamp.json"
    if stamp.is_file() and json.loads(stamp.read_text()) == dict(want):
        return venv
    if venv.exists():
        shutil.rmtree(venv)
    env = isolated_env()
    subprocess.run([base_python(), "-m", "venv", str(venv)], check=True, env=env)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    for args in installs:
        subprocess.run([*pip, *args], check=True, env=env)
    stamp.write_text(json.dumps(dict(want)))
    return venv


@dataclass
class PoetryRun:
    """A finished ``poetry`` subprocess."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stdout and stderr together."""
        return self.stdout + self.stderr


@dataclass
class PoetryProject:
    """A temp Poetry project (``package-mode = false``) run by one Poetry version.

    Attributes:
        path: the project directory; version: the Poetry version; venv: Poetry's venv;
        cache: the session's ``POETRY_CACHE_DIR`` for that version.
    """

    path: Path
    version: str
    venv: Path
    cache: Path

    @property
    def major(self) -> int:
        """Poetry's major version."""
        return int(self.version.split(".")[0])

    @property
    def env_dir(self) -> Path:
        """The project's in-project environment (``.venv``)."""
        return self.path / ".venv"

    @property
    def site_packages(self) -> Path:
        """The project environment's site-packages."""
        return next((self.env_dir / "lib").glob("python3.*/site-packages"))

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of a Poetry run: isolated, in-project venvs, own config/cache."""
        return isolated_env({
            "POETRY_VIRTUALENVS_IN_PROJECT": "true",
            "POETRY_CACHE_DIR": str(self.cache),
            "POETRY_CONFIG_DIR": str(self.cache.parent / f"config-{self.version}"),
            "POETRY_NO_INTERACTION": "1",
            "POETRY_VIRTUALENVS_PREFER_ACTIVE_PYTHON": "false",
            **(extra or {}),
        })

    def poetry(self, *args: str, env: Mapping[str, str] | None = None,
               timeout: int = 600) -> PoetryRun:
        """Run ``poetry ARGS`` in the project directory."""
        proc = subprocess.run(
            [str(self.venv / "bin" / "poetry"), *args], cwd=self.path, capture_output=True,
            text=True, env=self.env(env), timeout=timeout, stdin=subprocess.DEVNULL,
        )
        return PoetryRun(proc.returncode, proc.stdout, proc.stderr)

    def create_env(self) -> None:
        """Create the project environment with :func:`base_python` (``poetry env use``)."""
        run = self.poetry("env", "use", base_python())
        assert run.returncode == 0, run.output

    def env_files(self) -> list[str]:
        """Every path in the project environment (relative), sorted: the "file list"."""
        return sorted(str(p.relative_to(self.env_dir)) for p in self.env_dir.rglob("*"))

    def installed(self) -> set[str]:
        """Normalized names of the distributions in the project environment."""
        from packaging.utils import canonicalize_name

        return {canonicalize_name(p.name.split("-")[0])
                for p in self.site_packages.glob("*.dist-info")}


def write_project(
    path: Path,
    *,
    dependencies: Mapping[str, str],
    index_url: str | None,
    wheelguard: Mapping[str, object] | None = None,
    python: str = ">=3.9,<4",
) -> Path:
    """Write ``path/pyproject.toml``: a ``package-mode = false`` project whose dependencies
    come from ``index_url`` (``[[tool.poetry.source]]``, priority primary, so PyPI is off),
    or from the public index's simple API when ``index_url`` is ``None``."""
    path.mkdir(parents=True, exist_ok=True)
    lines = [
        "[tool.poetry]", 'name = "wg-demo"', 'version = "0.1.0"', 'description = ""',
        'authors = ["wheelguard tests <tests@example.invalid>"]', "package-mode = false", "",
        "[tool.poetry.dependencies]", f'python = "{python}"',
    ]
    lines += [f'{name} = "{spec}"' for name, spec in dependencies.items()]
    # The public index through its simple API (PEP 503/691), as a legacy source.
    url = index_url or "https://pypi.org/simple/"
    lines += ["", "[[tool.poetry.source]]", 'name = "wgindex"', f'url = "{url}"',
              'priority = "primary"']
    lines += wheelguard_table(wheelguard)
    (path / "pyproject.toml").write_text("\n".join(lines) + "\n")
    return path


def wheelguard_table(wheelguard: Mapping[str, object] | None) -> list[str]:
    """The ``[tool.wheelguard]`` lines of a test project's pyproject.toml (none when
    ``wheelguard`` is empty)."""
    if not wheelguard:
        return []
    return ["", "[tool.wheelguard]",
            *(f"{key} = {json.dumps(value)}" for key, value in wheelguard.items())]


def drop_lock_files(lock: Path, filenames: Sequence[str]) -> None:
    """Remove the ``files`` entries of ``filenames`` from poetry.lock (a lock written before
    those files were uploaded)."""
    kept = [line for line in lock.read_text().splitlines(keepends=True)
            if not any(f'"{name}"' in line for name in filenames)]
    lock.write_text("".join(kept))


def env_python(project: PoetryProject) -> str:
    """The project environment's interpreter."""
    return str(project.env_dir / "bin" / "python")


def run_in_poetry_venv(venv: Path, script: str, cwd: Path,
                       env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a Python ``script`` with Poetry's own interpreter (in-process Poetry tests)."""
    return subprocess.run([str(venv / "bin" / "python"), "-c", script], cwd=cwd,
                          capture_output=True, text=True, env=isolated_env(env),
                          timeout=300, stdin=subprocess.DEVNULL)
