"""The Poetry plugin with a musl project environment: Poetry (in its own glibc venv with this
project as its plugin) drives an environment made by ``poetry env use`` with the musl
interpreter; the project's only source is the musl index on 127.0.0.1.

Poetry itself does not run on this musl interpreter: its dependencies' musllinux_1_2 wheels
(rapidfuzz, cryptography) bundle a libgcc_s with packed relative relocations (DT_RELR), which
musl loads only from 1.2.4 on; this interpreter's loader is Debian's musl 1.2.3, and importing
them crashes the process (see test_fixtures.py's DT_RELR fixture and docs/alpine-runs.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from poetry_wheelguard import exitcodes
from tests.musl.conftest import error_codes, findings_of, validate_report
from tests.support.index import IndexServer
from tests.support.musl import (
    HEALTHY,
    MANYLINUX,
    PURE_FALLBACK,
    MuslPython,
    MuslVenv,
    readelf,
)
from tests.support.poetry import POETRY_VERSIONS, PoetryProject, poetry_venv, write_project

pytestmark = [pytest.mark.musl, pytest.mark.poetry]

POETRY_1, POETRY_2 = "1.8.5", "2.5.1"
assert {POETRY_1, POETRY_2} <= set(POETRY_VERSIONS)


@pytest.fixture(scope="session")
def poetry_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This session's Poetry cache root for the musl projects."""
    return tmp_path_factory.mktemp("musl-poetry-cache")


def musl_project(path: Path, version: str, dependencies: dict[str, str],
                 server: IndexServer, musl: MuslPython, cache: Path) -> PoetryProject:
    """A strict-mode project on the musl index whose environment is the musl interpreter's,
    run by Poetry ``version`` (its venv is built once and cached under tests/.cache)."""
    write_project(path, dependencies=dependencies, index_url=server.url,
                  wheelguard={"mode": "strict", "report": "wg-report.json"})
    project = PoetryProject(path, version, poetry_venv(version), cache / version)
    used = project.poetry("env", "use", str(musl.executable))
    assert used.returncode == 0, used.output
    env_python = (project.env_dir / "bin" / "python").resolve()
    assert "ld-musl-x86_64.so.1" in readelf("-l", env_python)
    locked = project.poetry("lock")
    assert locked.returncode == 0, locked.output
    return project


def _report(project: PoetryProject) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((project.path / "wg-report.json").read_text())
    validate_report(data)
    assert data["installer"]["name"] == "poetry"
    assert data["target"]["libc"] == "musl", data["target"]
    return data


def _package(data: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [p for p in data["packages"] if p["name"] == name]
    assert len(found) == 1, [p["name"] for p in data["packages"]]
    return found[0]


def test_poetry_refuses_pure_fallback_in_musl_env(
        musl_python: MuslPython, musl_server: IndexServer, poetry_cache: Path,
        tmp_path: Path) -> None:
    """Poetry 1.8.5 asks the environment's interpreter for its tags: musllinux."""
    project = musl_project(tmp_path / "refused", POETRY_1, {PURE_FALLBACK: "1.0"},
                           musl_server, musl_python, poetry_cache)
    env = MuslVenv(project.env_dir)
    before = env.state()
    seen = len(musl_server.requests)

    run = project.poetry("install")

    assert run.returncode == exitcodes.REFUSED, run.output
    assert "PURE_FALLBACK" in run.stdout
    assert "Traceback" not in run.output
    assert env.state() == before
    assert not [r for r in musl_server.requests[seen:] if r.startswith("/files/")]
    pkg = _package(_report(project), PURE_FALLBACK)
    assert pkg["filename"] == "wg_musl_purefallback-1.0-py3-none-any.whl"
    assert pkg["verdict"] == "refused"
    assert [f["code"] for f in pkg["findings"]] == ["PURE_FALLBACK"]


def test_poetry_installs_healthy_musllinux_wheel(
        musl_python: MuslPython, musl_server: IndexServer, poetry_cache: Path,
        tmp_path: Path) -> None:
    project = musl_project(tmp_path / "healthy", POETRY_1, {HEALTHY: "1.0"}, musl_server,
                           musl_python, poetry_cache)

    run = project.poetry("install")

    assert run.returncode == exitcodes.OK, run.output
    data = _report(project)
    pkg = _package(data, HEALTHY)
    assert pkg["filename"] == "wg_musl_healthy-1.0-cp311-cp311-musllinux_1_2_x86_64.whl"
    assert pkg["verdict"] == "ok" and pkg["findings"] == []
    assert error_codes(findings_of(data, HEALTHY)) == set()
    imported = MuslVenv(project.env_dir).import_answer("wg_musl_healthy")
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "42"


def test_poetry2_wheel_for_its_own_libc_refused_before_install(
        musl_python: MuslPython, musl_server: IndexServer, poetry_cache: Path,
        tmp_path: Path) -> None:
    """Poetry 2.5.1 computes a venv's tags in its own process when both report the same
    ``sysconfig.get_platform()`` (``VirtualEnv.get_supported_tags``): a glibc Poetry gives
    the musl environment manylinux tags and picks the manylinux wheel, which the
    environment's interpreter cannot import. The guard's target is that interpreter
    (probed: musl), so strict mode must refuse the file before anything is installed."""
    project = musl_project(tmp_path / "host-tags", POETRY_2, {HEALTHY: "1.0"}, musl_server,
                           musl_python, poetry_cache)
    env = MuslVenv(project.env_dir)
    before = env.state()
    seen = len(musl_server.requests)

    run = project.poetry("install")

    pkg = _package(_report(project), HEALTHY)
    assert pkg["filename"] == f"wg_musl_healthy-1.0-{MANYLINUX}.whl"  # Poetry's own choice
    assert run.returncode == exitcodes.REFUSED, run.output
    assert pkg["verdict"] == "refused"
    # the hint says why (Poetry 2 computes the tags in its own glibc process) and what
    # works (Poetry 1.8.5: test_poetry_installs_healthy_musllinux_wheel), not "upgrade"
    (tag,) = [f for f in pkg["findings"] if f["code"] == "UNSUPPORTED_TAG"]
    assert "in its own process" in tag["hint"] and "Poetry 1.8.5" in tag["hint"]
    assert "upgrade" not in tag["hint"]
    assert env.state() == before, "installed before refusing"
    assert not [r for r in musl_server.requests[seen:] if r.startswith("/files/")]
