"""``pip-guard uv sync`` / ``uv pip install`` and uv.lock / pylock.toml plans with real uv
0.13.9 and 0.8.4: against the local fixture index (marker ``uv``) and the public index
(``uv`` and ``network``: the acceptance cases of issue 13)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.index import IndexServer
from tests.support.poetry import base_python
from tests.support.projects import FixtureIndex
from tests.support.schema import read_report
from tests.support.uv import UV_VERSIONS, UvProject, uv_venv, write_uv_project

pytestmark = pytest.mark.uv

GUARD = [sys.executable, "-m", "poetry_wheelguard"]


@pytest.fixture(params=UV_VERSIONS, scope="module")
def uv_bin(request: pytest.FixtureRequest) -> Path:
    return uv_venv(str(request.param)) / "bin" / "uv"


@pytest.fixture
def project(tmp_path: Path, uv_bin: Path, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[UvProject]:
    version = uv_bin.parent.parent.name.split("-", 1)[1]
    yield UvProject(tmp_path / "proj", version, uv_bin,
                    tmp_path_factory.getbasetemp() / f"uv-cache-{version}")


def verdicts(out: str) -> dict[str, str]:
    """``{package: "verdict CODES"}`` from the plan/install table."""
    rows: dict[str, str] = {}
    for line in out.splitlines():
        words = line.split()
        if len(words) >= 3 and words[0].startswith(("wg-", "aiohttp", "multidict", "orjson",
                                                     "uvloop")):
            rows[words[0]] = line
    return rows


# --- the local fixture index -----------------------------------------------------------------

def local_project(project: UvProject, index_server: IndexServer) -> UvProject:
    write_uv_project(project.path, dependencies=["wg-purefallback==1.0", "wg-sdistbuild==1.0",
                                                 "wg-healthy==1.0"],
                     index_url=index_server.url)
    run = project.uv_cmd("lock", "--python", base_python())
    assert run.returncode == 0, run.output
    return project


def test_plan_uv_lock_and_export_local(project: UvProject, index_server: IndexServer,
                                       fixture_index: FixtureIndex) -> None:
    local_project(project, index_server)
    text = (project.path / "uv.lock").read_text()
    revision = 5 if project.version.startswith("0.13") else 3
    assert f"revision = {revision}\n" in text
    run = project.uv_cmd("export", "--format", "pylock.toml", "-o", "pylock.toml")
    assert run.returncode == 0, run.output
    for lock in ("uv.lock", "pylock.toml"):
        plan = project.run([*GUARD, "plan", "--lock", lock, "--target", "python:3.11-slim"])
        rows = verdicts(plan.stdout)
        assert "PURE_FALLBACK" in rows["wg-purefallback"], plan.output
        assert "SDIST_BUILD" in rows["wg-sdistbuild"], plan.output
        assert "[" not in rows["wg-healthy"] and "wg-puredep" in plan.stdout, plan.output


def test_strict_sync_refuses_before_uv_installs_local(project: UvProject,
                                                      index_server: IndexServer,
                                                      fixture_index: FixtureIndex) -> None:
    local_project(project, index_server)
    marker = fixture_index.marker("wg-sdistbuild")
    marker.unlink(missing_ok=True)
    run = project.run([*GUARD, "--mode", "strict", "--report", "r.json", "uv", "sync"])
    assert run.returncode == 10, run.output
    assert "refused the files above before uv downloaded, built or installed" in run.output
    assert not project.env_dir.exists() or "wg_purefallback" not in str(
        list(project.env_dir.rglob("*")))
    assert not marker.exists()  # no build step of the sdist ran
    report = read_report(project.path / "r.json")
    assert report["installer"] == {"name": "uv", "version": project.version}
    assert report["exit_code"] == 10


def test_warn_sync_installs_and_verifies_local(project: UvProject, index_server: IndexServer,
                                               fixture_index: FixtureIndex) -> None:
    local_project(project, index_server)
    run = project.run([*GUARD, "--report", "r.json", "--allow-sdist", "wg-sdistbuild",
                       "uv", "sync"])
    assert run.returncode == 0, run.output
    assert {"wg-purefallback", "wg-healthy", "wg-sdistbuild"} <= project.installed()
    assert "PURE_FALLBACK" in run.stderr
    report = read_report(project.path / "r.json")
    assert report["verification"]["status"] == "ran"
    healthy = next(p for p in report["packages"] if p["name"] == "wg-healthy")
    assert healthy["verification"], healthy


def test_hash_mismatch_is_one_line(project: UvProject, index_server: IndexServer,
                                   fixture_index: FixtureIndex) -> None:
    local_project(project, index_server)
    lock = project.path / "uv.lock"
    text = lock.read_text()
    start = text.index('hash = "sha256:', text.index('name = "wg-healthy"')) + 15
    lock.write_text(text[:start] + "0" * 64 + text[start + 64:])
    run = project.run([*GUARD, "--mode", "strict", "uv", "sync", "--frozen"])
    assert run.returncode == 12, run.output
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "is not the index's" in lines[0] and "wg-healthy" in lines[0]
    assert not project.env_dir.exists()


def test_uv_failing_before_install_is_one_line(project: UvProject,
                                               index_server: IndexServer) -> None:
    write_uv_project(project.path, dependencies=["wg-does-not-exist==1.0"],
                     index_url=index_server.url)
    run = project.run([*GUARD, "--mode", "strict", "uv", "sync"])
    assert run.returncode == 12, run.output
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pip-guard: error: uv lock failed (exit")
    assert not project.env_dir.exists()


def test_strict_pip_install_sdist_refused_without_build_local(
        project: UvProject, index_server: IndexServer, fixture_index: FixtureIndex) -> None:
    project.path.mkdir(parents=True)
    run = project.uv_cmd("venv", "--python", base_python(), ".venv")
    assert run.returncode == 0, run.output
    marker = fixture_index.marker("wg-sdistbuild")
    marker.unlink(missing_ok=True)
    run = project.run([*GUARD, "--mode", "strict", "uv", "pip", "install", "--index-url",
                       index_server.url, "wg-sdistbuild==1.0"])
    assert run.returncode == 10, run.output
    assert "SDIST_BUILD" in run.stderr and not marker.exists()
    assert "wg-sdistbuild" not in project.installed()
    run = project.run([*GUARD, "--mode", "strict", "uv", "pip", "install", "--index-url",
                       index_server.url, "wg-healthy==1.0"])
    assert run.returncode == 0, run.output
    assert {"wg-healthy", "wg-puredep"} <= project.installed()


def test_wheel_built_earlier_and_reused_from_cache_is_built_locally(
        project: UvProject, index_server: IndexServer, fixture_index: FixtureIndex) -> None:
    """A wheel uv built from the sdist earlier is installed again from uv's cache, with no
    build step; the guard reports that install as built locally (SDIST_BUILD,
    ``built_locally``) and refuses it in strict mode. With ``--no-build`` these uv versions
    do not reuse the cached build: ``uv pip install`` and ``uv sync`` refuse the sdist
    themselves (uv's exit code), after the guard reported it."""
    project.path.mkdir(parents=True)
    pins = ["--index-url", index_server.url, "wg-sdistbuild==1.0"]
    marker = fixture_index.marker("wg-sdistbuild")

    def fresh_venv() -> None:
        if project.env_dir.exists():
            shutil.rmtree(project.env_dir)
        made = project.uv_cmd("venv", "--python", base_python(), ".venv")
        assert made.returncode == 0, made.output

    fresh_venv()
    first = project.run([*GUARD, "--allow-sdist", "wg-sdistbuild", "uv", "pip", "install",
                         *pins])
    assert first.returncode == 0, first.output  # built now, or by an earlier test: cached
    assert "wg-sdistbuild" in project.installed()
    fresh_venv()
    marker.unlink(missing_ok=True)
    run = project.run([*GUARD, "--report", "r.json", "--allow-sdist", "wg-sdistbuild", "uv",
                       "pip", "install", *pins])
    assert run.returncode == 0, run.output
    assert "wg-sdistbuild" in project.installed()
    assert not marker.exists()  # no build step ran: the wheel came from uv's cache
    report = read_report(project.path / "r.json")
    pkg = next(p for p in report["packages"] if p["name"] == "wg-sdistbuild")
    assert pkg["built_locally"] is True and pkg["kind"] == "sdist", pkg
    assert "SDIST_BUILD" in [f["code"] for f in pkg["findings"]]
    assert report["verification"]["status"] == "ran"
    fresh_venv()
    strict = project.run([*GUARD, "--mode", "strict", "uv", "pip", "install", *pins])
    assert strict.returncode == 10, strict.output
    assert "SDIST_BUILD" in strict.stderr and "wg-sdistbuild" not in project.installed()
    no_build = project.run([*GUARD, "--allow-sdist", "wg-sdistbuild", "uv", "pip", "install",
                            "--no-build", *pins])
    assert no_build.returncode not in (0, 10) and "SDIST_BUILD" in no_build.stderr
    assert "wg-sdistbuild" not in project.installed() and not marker.exists()
    write_uv_project(project.path, dependencies=["wg-sdistbuild==1.0"],
                     index_url=index_server.url)
    assert project.uv_cmd("lock", "--python", base_python()).returncode == 0
    shutil.rmtree(project.env_dir)
    sync = project.run([*GUARD, "--allow-sdist", "wg-sdistbuild", "uv", "sync", "--no-build"])
    assert sync.returncode not in (0, 10) and "SDIST_BUILD" in sync.stderr, sync.output
    assert "wg-sdistbuild" not in project.installed() and not marker.exists()


def test_real_uv_older_than_supported_is_one_line(tmp_path: Path,
                                                  index_server: IndexServer) -> None:
    """A real uv 0.8.3 (one release before the oldest supported) on PATH: one line, exit 12,
    and uv never ran (no lock, no environment)."""
    old = UvProject(tmp_path / "proj", "0.8.3", uv_venv("0.8.3") / "bin" / "uv",
                    tmp_path / "cache")
    write_uv_project(old.path, dependencies=["wg-healthy==1.0"], index_url=index_server.url)
    run = old.run([*GUARD, "--mode", "strict", "uv", "sync"])
    assert run.returncode == 12, run.output
    lines = run.stderr.strip().splitlines()
    assert lines == [f"pip-guard: error: uv 0.8.3 ({old.uv}) is too old for pip-guard uv: "
                     "upgrade to uv 0.8.4 or newer (pip install -U uv)"], run.output
    assert not (old.path / "uv.lock").exists() and not old.env_dir.exists()


# --- the public index: issue 13's acceptance ----------------------------------------------------

def public_project(project: UvProject) -> UvProject:
    write_uv_project(project.path, dependencies=["aiohttp==3.6.2", "orjson"], index_url=None)
    run = project.uv_cmd("lock", "--python", base_python())
    assert run.returncode == 0, run.output
    return project


@pytest.mark.network
def test_acceptance_plan_uv_lock_and_pylock(project: UvProject) -> None:
    public_project(project)
    run = project.uv_cmd("export", "--format", "pylock.toml", "-o", "pylock.toml")
    assert run.returncode == 0, run.output
    for lock in ("uv.lock", "pylock.toml"):
        plan = project.run([*GUARD, "plan", "--lock", lock, "--target", "python:3.11-slim"])
        assert plan.returncode == 0, plan.output
        rows = verdicts(plan.stdout)
        assert "PURE_FALLBACK" in rows["aiohttp"] and "SDIST_BUILD" in rows["multidict"]
        assert "[" not in rows["orjson"], plan.output


@pytest.mark.network
def test_acceptance_sync_strict_then_warn(project: UvProject) -> None:
    public_project(project)
    run = project.run([*GUARD, "--mode", "strict", "uv", "sync"])
    assert run.returncode == 10, run.output
    assert "aiohttp" not in project.installed()
    run = project.run([*GUARD, "--report", "r.json", "uv", "sync"])
    assert run.returncode == 0, run.output
    assert "aiohttp" in project.installed()
    report = read_report(project.path / "r.json")
    codes = {p["name"]: [f["code"] for f in p["findings"]] for p in report["packages"]}
    assert "PURE_FALLBACK" in codes["aiohttp"] and "SDIST_BUILD" in codes["multidict"]
    assert report["verification"]["status"] == "ran"
    assert report["installer"]["name"] == "uv"


@pytest.mark.network
def test_acceptance_pip_install_uvloop_strict(project: UvProject) -> None:
    project.path.mkdir(parents=True)
    assert project.uv_cmd("venv", "--python", base_python(), ".venv").returncode == 0
    run = project.run([*GUARD, "--mode", "strict", "uv", "pip", "install", "uvloop==0.14.0"])
    assert run.returncode == 10, run.output
    assert "SDIST_BUILD" in run.stderr and "uvloop" not in project.installed()
    assert "Building" not in run.output and "Built" not in run.output


@pytest.mark.network
def test_acceptance_pip_lock_uvloop(tmp_path: Path) -> None:
    venv = tmp_path / "pip26"
    subprocess.run([base_python(), "-m", "venv", str(venv)], check=True)
    from tests.support.env import isolated_env

    pip = [str(venv / "bin" / "python"), "-m", "pip"]
    subprocess.run([*pip, "install", "-q", "pip==26.3"], check=True, env=isolated_env())
    lock = tmp_path / "pylock.toml"
    run = subprocess.run([*pip, "lock", "uvloop==0.14.0", "-o", str(lock)],
                         capture_output=True, text=True, env=isolated_env())
    assert run.returncode == 0, run.stderr
    plan = subprocess.run([*GUARD, "plan", "--lock", str(lock)], capture_output=True,
                          text=True)
    assert plan.returncode == 0, plan.stderr
    assert "SDIST_BUILD" in verdicts(plan.stdout)["uvloop"], plan.stdout
    shutil.rmtree(venv)
