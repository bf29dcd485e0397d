"""The Poetry plugin end to end: real Poetry 1.8.5 and 2.5.1 run ``poetry install`` (and
``add``) as subprocesses on temp projects whose only source is the local fixture index.

Each Poetry version has one venv per session (tests/support/poetry.py), with this project
installed in it as the plugin.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from poetry_wheelguard import exitcodes
from poetry_wheelguard._toml import tomllib
from poetry_wheelguard.locks import read_lock
from poetry_wheelguard.postinstall import verify_available
from tests.support.dists import build_wheel, compile_extension
from tests.support.index import IndexServer, StaticIndex
from tests.support.poetry import (
    POETRY_VERSIONS,
    PoetryProject,
    drop_lock_files,
    poetry_venv,
    write_project,
)
from tests.support.projects import FixtureIndex, tag_for
from tests.support.schema import validate_report

pytestmark = pytest.mark.poetry



@pytest.fixture(scope="session", params=POETRY_VERSIONS)
def poetry_version(request: pytest.FixtureRequest) -> str:
    """Each supported Poetry version (its venv is built once per session)."""
    version: str = request.param
    poetry_venv(version)
    return version


@pytest.fixture(scope="session")
def poetry_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's Poetry cache root (one ``POETRY_CACHE_DIR`` per version below it)."""
    return tmp_path_factory.mktemp("poetry-cache")


@pytest.fixture
def make_project(
    poetry_version: str, poetry_cache: Path, tmp_path: Path, index_server: IndexServer
) -> Iterator[Any]:
    """``make_project(deps, wheelguard=None, name="p", index_url=None)`` -> a
    :class:`PoetryProject` on the fixture index (or on ``index_url``), with its environment
    already created."""

    def make(dependencies: dict[str, str], wheelguard: dict[str, object] | None = None,
             name: str = "p", index_url: str | None = None) -> PoetryProject:
        path = write_project(tmp_path / name, dependencies=dependencies,
                             index_url=index_url or index_server.url, wheelguard=wheelguard)
        project = PoetryProject(path, poetry_version, poetry_venv(poetry_version),
                                poetry_cache / poetry_version)
        project.create_env()
        return project

    yield make


def report_of(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    validate_report(data)
    return data


def package(data: dict[str, Any], name: str) -> dict[str, Any]:
    found = [p for p in data["packages"] if p["name"] == name]
    assert len(found) == 1, [p["name"] for p in data["packages"]]
    return found[0]


def codes(pkg: dict[str, Any]) -> list[str]:
    return [f["code"] for f in pkg["findings"]]


def test_pure_fallback_strict_refuses_before_anything_runs(
    make_project: Any, index_server: IndexServer
) -> None:
    project = make_project({"wg-purefallback": "1.0", "wg-puredep": "1.0"},
                           {"report": "wg-report.json"})
    locked = project.poetry("lock")
    assert locked.returncode == 0, locked.output
    before = project.env_files()
    index_server.requests.clear()

    run = project.poetry("install", env={"WHEELGUARD_MODE": "strict"})

    assert run.returncode == exitcodes.REFUSED, run.output
    assert "PURE_FALLBACK" in run.stdout
    assert "refused" in run.stdout and "Traceback" not in run.output
    assert "no package file was downloaded, built or installed" in run.stderr
    # Nothing ran: the environment's file list is unchanged, no distribution file fetched,
    # not even the healthy dependency (operations run in parallel in Poetry).
    assert project.env_files() == before
    assert index_server.file_requests() == []
    data = report_of(project.path / "wg-report.json")
    assert data["installer"] == {"name": "poetry", "version": project.version}
    assert data["mode"] == "strict" and data["exit_code"] == exitcodes.REFUSED
    pkg = package(data, "wg-purefallback")
    assert pkg["verdict"] == "refused" and codes(pkg) == ["PURE_FALLBACK"]
    assert pkg["filename"] == "wg_purefallback-1.0-py3-none-any.whl"
    assert pkg["sha256"] and pkg["index"].startswith("http://127.0.0.1:")
    cands = {c["filename"]: c for c in pkg["candidates"]}
    assert set(cands) == {"wg_purefallback-1.0-py3-none-any.whl", "wg_purefallback-1.0.tar.gz",
                          "wg_purefallback-1.0-cp37.cp38-cp37m.cp38-manylinux1_x86_64.whl"}
    assert "not supported" in str(
        cands["wg_purefallback-1.0-cp37.cp38-cp37m.cp38-manylinux1_x86_64.whl"]["rejected_reason"])
    assert "2.0+" in pkg["findings"][0]["hint"]  # the hint names the release with a wheel
    assert package(data, "wg-puredep")["verdict"] == "ok"


def test_warn_mode_installs_and_reports_the_warning(make_project: Any) -> None:
    project = make_project({"wg-purefallback": "1.0"}, {"report": "wg-report.json"})

    run = project.poetry("install")

    assert run.returncode == 0, run.output
    assert "wg-purefallback" in project.installed()
    assert re.search(r"wg-purefallback\s+1\.0\s+wheel, pure\s+warn\s+PURE_FALLBACK", run.stdout)
    pkg = package(report_of(project.path / "wg-report.json"), "wg-purefallback")
    assert pkg["verdict"] == "warn" and codes(pkg) == ["PURE_FALLBACK"]
    # `poetry wheelguard report` prints this project's last report
    shown = project.poetry("wheelguard", "report")
    assert shown.returncode == 0, shown.output
    assert re.search(r"wg-purefallback\s+1\.0\s+wheel, pure\s+warn", shown.stdout)
    as_json = project.poetry("wheelguard", "report", "--json")
    assert as_json.returncode == 0, as_json.output
    validate_report(json.loads(as_json.stdout))


def test_sdist_build_refused_without_running_build_code_even_from_poetry_cache(
    make_project: Any, fixture_index: FixtureIndex
) -> None:
    marker = fixture_index.marker("wg-sdistbuild")
    project = make_project({"wg-sdistbuild": "1.0"})

    strict = project.poetry("install", env={"WHEELGUARD_MODE": "strict"})
    assert strict.returncode == exitcodes.REFUSED, strict.output
    assert "SDIST_BUILD" in strict.stdout
    assert not marker.exists()
    assert "wg-sdistbuild" not in project.installed()

    # Control: warn mode really builds it (the marker works under Poetry) ...
    warn = project.poetry("install")
    assert warn.returncode == 0, warn.output
    assert marker.exists()
    assert re.search(r"wg-sdistbuild\s+1\.0\s+sdist \(build\)\s+warn\s+SDIST_BUILD", warn.stdout)

    # ... and caches the built wheel: a fresh environment would install that cached wheel
    # without building. It is still an sdist build, and strict mode still refuses it.
    marker.unlink()
    project.poetry("env", "remove", "--all")
    project.create_env()
    again = project.poetry("install", env={"WHEELGUARD_MODE": "strict"})
    assert again.returncode == exitcodes.REFUSED, again.output
    assert "SDIST_BUILD" in again.stdout
    assert "wg-sdistbuild" not in project.installed()
    assert not marker.exists()


def test_healthy_wheel_installs_in_strict_mode(make_project: Any) -> None:
    project = make_project({"wg-healthy": "1.0"}, {"mode": "strict", "report": "r.json"})

    run = project.poetry("install")

    assert run.returncode == 0, run.output
    data = report_of(project.path / "r.json")
    assert {p["name"] for p in data["packages"]} == {"wg-healthy", "wg-puredep"}
    healthy = package(data, "wg-healthy")
    assert healthy["verdict"] == "ok" and healthy["findings"] == []
    assert healthy["kind"] == "wheel" and not healthy["pure"]
    assert re.match(r"wg_healthy-1\.0-cp3\d+-cp3\d+-manylinux_2_17_x86_64\.whl$",
                    healthy["filename"])
    assert data["target"]["executable"].startswith(str(project.env_dir))
    assert re.search(r"wg-healthy\s+1\.0\s+wheel, cp3\d+-cp3\d+ manylinux_2_17_x86_64\s+ok",
                     run.stdout)
    assert "wg-healthy" in project.installed() and "wg-puredep" in project.installed()
    if verify_available():  # verification ran in the project env, on what was installed
        assert data["verification"] == {"status": "ran", "exit_code": 0, "elf_files": 1,
                                        "distributions": 2, "errors": 0, "warnings": 0}
        assert healthy["verification"]["extensions"] == 1
        # the table ends with the verification's counts and the packages' verdicts
        lines = run.stdout.splitlines()
        assert "wheelguard: verified 1 compiled file in 2 distributions: 0 errors, " \
            "0 warnings" in lines, run.stdout
        assert "wheelguard: 2 packages: 2 ok, 0 warn, 0 refused" in lines
        assert package(data, "wg-puredep")["verification"]["elf_files"] == 0


def test_allow_lists_turn_refusals_into_warnings(make_project: Any) -> None:
    project = make_project(
        {"wg-purefallback": "1.0", "wg-sdistbuild": "1.0"},
        {"mode": "strict", "allow-pure": ["WG_PureFallback"], "allow-sdist": ["wg-sdistbuild"],
         "report": "r.json"})

    run = project.poetry("install")

    assert run.returncode == 0, run.output
    assert {"wg-purefallback", "wg-sdistbuild"} <= project.installed()
    data = report_of(project.path / "r.json")
    for name, code, allow in (("wg-purefallback", "PURE_FALLBACK", "allow-pure"),
                              ("wg-sdistbuild", "SDIST_BUILD", "allow-sdist")):
        pkg = package(data, name)
        assert pkg["verdict"] == "warn" and codes(pkg) == [code]
        assert pkg["findings"][0]["severity"] == "warning"
        assert f"allowed by {allow}" in pkg["findings"][0]["message"]
    assert package(data, "wg-sdistbuild")["built_locally"] is True


def test_stale_lock_names_the_lock_and_its_refresh_command(make_project: Any) -> None:
    project = make_project({"wg-ignored": "1.0"}, {"mode": "strict"})
    assert project.poetry("lock").returncode == 0
    wheel = "wg_ignored-1.0-py3-none-manylinux_2_17_x86_64.whl"
    # A lock written before the platform wheel was uploaded: Poetry can only take the
    # pure wheel, whose hash the lock has.
    drop_lock_files(project.path / "poetry.lock", [wheel])

    run = project.poetry("install")

    assert run.returncode == exitcodes.REFUSED, run.output
    assert "LOCK_MISSING_WHEEL" in run.stdout and "IGNORED_COMPATIBLE_WHEEL" not in run.stdout
    assert wheel in run.stdout
    hint = re.search(r"hint: refresh the lock's file hashes \(the locked versions stay\): "
                     r"(poetry lock[^\n]*)", run.stdout)
    assert hint, run.stdout
    expected = ("poetry lock --no-update --no-cache" if project.major < 2
                else "poetry lock --no-cache")
    assert hint.group(1).strip() == expected
    # The hint works: the lock gets the wheel's hash back and the install goes through.
    refresh = project.poetry(*hint.group(1).split()[1:])
    assert refresh.returncode == 0, refresh.output
    assert wheel in (project.path / "poetry.lock").read_text()
    fixed = project.poetry("install")
    assert fixed.returncode == 0, fixed.output
    assert re.search(r"wg-ignored\s+1\.0\s+wheel, py3-none manylinux_2_17_x86_64\s+ok",
                     fixed.stdout)


def test_bad_config_is_one_line_and_a_usage_exit(make_project: Any) -> None:
    project = make_project({"wg-puredep": "1.0"}, {"mode": "loud"})
    before = project.env_files()

    run = project.poetry("install")

    assert run.returncode == exitcodes.USAGE, run.output
    errors = [line for line in run.stderr.splitlines() if "wheelguard" in line]
    assert len(errors) == 1 and "mode" in errors[0] and "pyproject.toml" in errors[0]
    assert "Traceback" not in run.output
    assert project.env_files() == before


def test_poetry_add_refusal_leaves_project_and_env_unchanged(make_project: Any) -> None:
    project = make_project({"wg-puredep": "1.0"})
    assert project.poetry("install").returncode == 0
    pyproject = (project.path / "pyproject.toml").read_text()
    lock = (project.path / "poetry.lock").read_text()
    before = project.env_files()

    run = project.poetry("add", "wg-sdistbuild==1.0", env={"WHEELGUARD_MODE": "strict"})

    assert run.returncode == exitcodes.REFUSED, run.output
    assert "SDIST_BUILD" in run.stdout
    assert (project.path / "pyproject.toml").read_text() == pyproject
    assert (project.path / "poetry.lock").read_text() == lock
    assert project.env_files() == before


def test_report_has_the_pip_guard_shape(
    make_project: Any, index_server: IndexServer, tmp_path: Path
) -> None:
    """Both front-ends write the same document; compare the keys package by package."""
    pytest.importorskip("poetry_wheelguard.pip.cli")
    import subprocess
    import sys

    from tests.support.env import isolated_env

    project = make_project({"wg-purefallback": "1.0"}, {"report": "r.json"})
    assert project.poetry("install").returncode == 0
    poetry_data = report_of(project.path / "r.json")
    pip_report = tmp_path / "pip.json"
    subprocess.run(
        [sys.executable, "-m", "poetry_wheelguard", "--report", str(pip_report), "install",
         "--index-url", index_server.url, "--target", str(tmp_path / "t"),
         "wg-purefallback==1.0"], check=False, capture_output=True, env=isolated_env())
    pip_data = report_of(pip_report)
    # the same document, each front-end adding its own object ("pip" / "poetry")
    assert set(pip_data) - {"pip"} == set(poetry_data) - {"poetry"}
    assert poetry_data["poetry"]["command"] == "install"
    assert set(pip_data["verification"]) >= {"status"} <= set(poetry_data["verification"])
    optional = {"verification"}  # only where verification ran (pip --target skips it)
    assert set(package(pip_data, "wg-purefallback")) - optional == set(
        package(poetry_data, "wg-purefallback")) - optional
    assert codes(package(pip_data, "wg-purefallback")) == codes(package(poetry_data,
                                                                        "wg-purefallback"))


UNWRITABLE = "/proc/wg-none/report.json"  # /proc takes no new directory, not even for root


def test_unwritable_report_path_fails_before_poetry_runs(
    make_project: Any, index_server: IndexServer
) -> None:
    """As pip-guard install: a report path where no file can be written fails the command
    on its start (one line, exit 64), not after Poetry has installed: no resolution, no
    index request, poetry.lock, pyproject.toml and the environment unchanged, in strict
    mode too. From WHEELGUARD_REPORT (add, remove) and from [tool.wheelguard] (install)."""
    project = make_project({"wg-puredep": "1.0"})
    assert project.poetry("install").returncode == 0
    pyproject = (project.path / "pyproject.toml").read_text()
    lock = (project.path / "poetry.lock").read_text()
    before = project.env_files()
    index_server.requests.clear()
    env = {"WHEELGUARD_MODE": "strict", "WHEELGUARD_REPORT": UNWRITABLE}

    for args in (("add", "wg-healthy==1.0"), ("remove", "wg-puredep")):
        run = project.poetry(*args, env=env)

        assert run.returncode == exitcodes.USAGE, (args, run.output)
        lines = [line for line in run.output.splitlines() if line.strip()]
        assert len(lines) == 1, (args, run.output)
        assert lines[0].startswith(f"wheelguard: error: {UNWRITABLE}: cannot write the "
                                   "report there ("), lines
        assert "report in [tool.wheelguard] / WHEELGUARD_REPORT" in lines[0]
        assert (project.path / "pyproject.toml").read_text() == pyproject
        assert (project.path / "poetry.lock").read_text() == lock
        assert project.env_files() == before
        assert index_server.requests == []

    fresh = make_project({"wg-puredep": "1.0"}, {"mode": "strict", "report": UNWRITABLE},
                         name="fresh")
    fresh_env = fresh.env_files()
    run = fresh.poetry("install")
    assert run.returncode == exitcodes.USAGE, run.output
    lines = [line for line in run.output.splitlines() if line.strip()]
    assert len(lines) == 1 and UNWRITABLE in lines[0], run.output
    assert not (fresh.path / "poetry.lock").exists()
    assert fresh.env_files() == fresh_env


@pytest.fixture(scope="session")
def badelf_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """An index with ``wg-badelf 1.0`` (a compatible platform wheel whose extension module
    is a real one cut short: a CORRUPT_ELF verify error) and ``wg-puredep 1.0``."""
    work = tmp_path_factory.mktemp("badelf-index")
    name, data = compile_extension(work / "src", "_native")
    py = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    files = [build_wheel(work / "dl", "wg-badelf", "1.0", tag_for(py),
                         {"wg_badelf/__init__.py": "", f"wg_badelf/{name}": data[:300]}),
             build_wheel(work / "dl", "wg-puredep", "1.0")]
    index = StaticIndex(work / "tree")
    index.add(files)
    with index.serve() as server:
        yield server


def test_strict_verify_error_during_add_leaves_what_poetry_wrote(
    make_project: Any, badelf_index: IndexServer
) -> None:
    """Exit 11 comes from the verification after Poetry has finished ``poetry add``: on
    1.8.5 and 2.5.1 alike the package stays installed and poetry.lock and pyproject.toml
    both have it (docs/poetry.md, "Exit codes"), and the last line says so."""
    assert verify_available()
    project = make_project({"wg-puredep": "1.0"}, {"mode": "strict", "report": "r.json"},
                           index_url=badelf_index.url)
    assert project.poetry("install").returncode == 0

    run = project.poetry("add", "wg-badelf==1.0")

    assert run.returncode == exitcodes.VERIFY_ERRORS, run.output
    assert "Traceback" not in run.output
    assert re.search(r"wg-badelf\s+1\.0\s+wheel, cp3\d+-cp3\d+ manylinux_2_17_x86_64\s+"
                     r"refused\s+CORRUPT_ELF", run.stdout), run.stdout
    last = [line for line in run.stderr.splitlines() if line.strip()][-1]
    assert last == ("wheelguard: strict mode: verification found errors in the files Poetry "
                    "installed (above); verification runs after Poetry has finished `poetry "
                    "add`: the packages stay installed, poetry.lock and pyproject.toml as "
                    "Poetry wrote them (exit code 11)")
    # the documented state: installed, locked and in pyproject.toml
    assert {"wg-badelf", "wg-puredep"} <= project.installed()
    pyproject = tomllib.loads((project.path / "pyproject.toml").read_text())
    assert "wg-badelf" in pyproject["tool"]["poetry"]["dependencies"]
    locked = {(p.name, p.version) for p in read_lock(project.path / "poetry.lock").packages}
    assert ("wg-badelf", "1.0") in locked and ("wg-puredep", "1.0") in locked
    data = report_of(project.path / "r.json")
    assert data["exit_code"] == exitcodes.VERIFY_ERRORS
    assert data["verification"]["status"] == "ran"
    assert data["verification"]["exit_code"] == exitcodes.VERIFY_ERRORS
    assert data["verification"]["errors"] >= 1
    pkg = package(data, "wg-badelf")
    assert pkg["verdict"] == "refused" and "CORRUPT_ELF" in codes(pkg)


@pytest.fixture(scope="session")
def s16_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """S16's shapes for this interpreter (``cpXY``): ``wg-asyncpg`` 0.25.0 (sdist and a wheel
    for another CPython only) and 0.27.0 (a wheel for this one); ``wg-sqla`` 1.4.1 (a wheel
    for this CPython), 1.4.2 (sdist and another CPython's wheel) and 2.0.0 (this one's)."""
    work = tmp_path_factory.mktemp("s16-index")
    py = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    other = "cp38" if py != "cp38" else "cp39"
    dl = work / "dl"
    from tests.support.dists import build_sdist

    files = [build_sdist(dl, "wg-asyncpg", "0.25.0", work / "marker-a"),
             build_wheel(dl, "wg-asyncpg", "0.25.0", tag_for(other)),
             build_wheel(dl, "wg-asyncpg", "0.27.0", tag_for(py)),
             build_wheel(dl, "wg-sqla", "1.4.1", tag_for(py)),
             build_sdist(dl, "wg-sqla", "1.4.2", work / "marker-s"),
             build_wheel(dl, "wg-sqla", "1.4.2", tag_for(other)),
             build_wheel(dl, "wg-sqla", "2.0.0", tag_for(py))]
    index = StaticIndex(work / "tree")
    index.add(files)
    with index.serve() as server:
        yield server


def test_hints_name_versions_inside_the_projects_constraint(
    make_project: Any, s16_index: IndexServer
) -> None:
    """S16 through the plugin: the root package's ``^0.25`` / ``^1.4`` (Poetry's own
    objects) bound the hints: none inside ``^0.25`` has a wheel (so the hint says so, then
    names 0.27.0 outside it); inside ``^1.4`` the nearest is 1.4.1, not 2.0.0."""
    project = make_project({"wg-asyncpg": "^0.25", "wg-sqla": "^1.4"},
                           {"mode": "strict", "report": "r.json"}, index_url=s16_index.url)

    run = project.poetry("install")

    assert run.returncode == exitcodes.REFUSED, run.output
    data = report_of(project.path / "r.json")
    asyncpg, sqla = package(data, "wg-asyncpg"), package(data, "wg-sqla")
    assert (asyncpg["version"], sqla["version"]) == ("0.25.0", "1.4.2")
    assert codes(asyncpg) == ["SDIST_BUILD"] and codes(sqla) == ["SDIST_BUILD"]
    target = data["target"]["name"]
    assert asyncpg["findings"][0]["hint"].startswith(
        f"no version inside <0.26,>=0.25 has a wheel for {target}; outside it, "
        f"wg-asyncpg 0.27.0+ has a wheel for {target}"), asyncpg["findings"][0]["hint"]
    assert sqla["findings"][0]["hint"].startswith(
        "1.4.1 is the newest older version with one (inside <2.0,>=1.4)"), \
        sqla["findings"][0]["hint"]
