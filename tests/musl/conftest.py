"""Fixtures of the musl layer: the musl CPython, its local index, its venvs, the guard's runs.

Everything is built once per session. Without the interpreter (or musl's loader, or C
headers to build the fixtures) the layer is skipped, except under ``CI=true``, where that
is a failure: CI must run it (issue 6).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
from packaging.utils import canonicalize_name

from tests.support.index import IndexServer, StaticIndex
from tests.support.musl import (
    GLIBC_LINKED,
    HEALTHY,
    PIP_VERSION,
    PURE_FALLBACK,
    RELR,
    SDIST_BUILD,
    STATIC_TLS,
    MuslFixtures,
    MuslPython,
    MuslUnavailable,
    MuslVenv,
    build_musl_fixtures,
    build_project_wheel,
    create_venv,
    download_for_musl,
    locate_musl_python,
    pypi_proxy_server,
    python_headers,
    run,
    runtime_requirements,
)
from tests.support.projects import seed_wheels

CACHE = Path(__file__).resolve().parents[1] / ".cache"


def in_ci(environ: dict[str, str] | os._Environ[str] | None = None) -> bool:
    """``CI=true`` (or ``1``), as CI services set it."""
    env = os.environ if environ is None else environ
    return env.get("CI", "").lower() in {"true", "1"}


def unavailable(reason: str) -> None:
    """Skip the test (fail it under ``CI=true``) because the musl layer cannot run."""
    if in_ci():
        pytest.fail(f"musl layer required under CI=true: {reason}", pytrace=False)
    pytest.skip(f"musl layer: {reason}")


@pytest.fixture(scope="session")
def musl_python(tmp_path_factory: pytest.TempPathFactory) -> MuslPython:
    """The musl CPython, unpacked once per session, checked to run under musl's loader."""
    try:
        return locate_musl_python(tmp_path_factory.mktemp("musl-cpython"))
    except MuslUnavailable as exc:
        unavailable(str(exc))
        raise  # unreachable: unavailable() always raises


@pytest.fixture(scope="session")
def musl_include(musl_python: MuslPython, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``Python.h`` directory for compiling extensions for the musl interpreter."""
    try:
        return python_headers(musl_python, tmp_path_factory.mktemp("musl-headers"))
    except MuslUnavailable as exc:
        unavailable(str(exc))
        raise


@pytest.fixture(scope="session")
def musl_fixtures(musl_python: MuslPython, musl_include: Path,
                  tmp_path_factory: pytest.TempPathFactory) -> MuslFixtures:
    """The musl fixture distributions (see :func:`build_musl_fixtures`)."""
    work = tmp_path_factory.mktemp("musl-fixtures")
    return build_musl_fixtures(work / "dists", work, musl_python, musl_include)


@pytest.fixture(scope="session")
def project_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This repository's wheel, built from the working tree."""
    return build_project_wheel(tmp_path_factory.mktemp("project-wheel"))


@pytest.fixture(scope="session")
def musl_index(musl_python: MuslPython, musl_fixtures: MuslFixtures, project_wheel: Path,
               tmp_path_factory: pytest.TempPathFactory) -> StaticIndex:
    """The musl venv's only index: pip, the project and its dependencies, setuptools and
    wheel (so that an sdist build, where the guard fails to stop one, would really run),
    and the musl fixtures."""
    idx = StaticIndex(tmp_path_factory.mktemp("musl-index"))
    needs = [f"pip=={PIP_VERSION}", *runtime_requirements(project_wheel)]
    idx.add(download_for_musl(CACHE / "musl-runtime", needs, musl_python.version))
    idx.add([project_wheel])
    idx.add(seed_wheels(CACHE / "seed"))
    idx.add(list(musl_fixtures.files))
    return idx


@pytest.fixture(scope="session")
def musl_server(musl_index: StaticIndex) -> Iterator[IndexServer]:
    """The musl index on 127.0.0.1 (plain http: the musl interpreter has no ssl)."""
    with musl_index.serve() as server:
        yield server


@pytest.fixture(scope="session")
def musl_base_venv(musl_python: MuslPython, musl_server: IndexServer,
                   tmp_path_factory: pytest.TempPathFactory) -> MuslVenv:
    """A venv made the way a user makes one: ensurepip's pip, upgraded to pip 26.3 from the
    index, then ``pip install poetry-wheelguard`` from the index."""
    venv = create_venv(musl_python.executable, tmp_path_factory.mktemp("musl-base") / "venv")
    up = venv.pip("install", "--index-url", musl_server.url, "--upgrade", f"pip=={PIP_VERSION}")
    assert up.returncode == 0, up.stderr
    inst = venv.pip("install", "--index-url", musl_server.url, "poetry-wheelguard")
    assert inst.returncode == 0, inst.stdout + inst.stderr
    return venv


@pytest.fixture(scope="session")
def new_musl_venv(musl_python: MuslPython, musl_base_venv: MuslVenv, musl_server: IndexServer,
                  tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], MuslVenv]:
    """Make a fresh musl venv with pip 26.3 and the project, from the index.

    The base venv's pip installs into it (``pip --python``): the same files as the base
    venv's path, in one pip run instead of three.
    """

    def make(label: str) -> MuslVenv:
        root = tmp_path_factory.mktemp(f"musl-{label}") / "venv"
        proc = run([musl_python.executable, "-m", "venv", "--without-pip", root])
        assert proc.returncode == 0, proc.stderr
        venv = MuslVenv(root)
        inst = musl_base_venv.pip("--python", venv.python, "install", "--index-url",
                                  musl_server.url, f"pip=={PIP_VERSION}", "poetry-wheelguard")
        assert inst.returncode == 0, inst.stdout + inst.stderr
        return venv

    return make


@dataclass
class GuardRun:
    """One ``pip-guard`` run on the musl interpreter and what it left behind.

    Attributes:
        argv: the command line.
        proc: its completed process (exit code, output).
        report: the JSON report it wrote, or ``None`` if it wrote none.
        venv: the venv it ran in.
        before, after: :meth:`MuslVenv.state` before and after the run.
        file_requests: the index's distribution-file requests made during the run.
        markers: the sdist-build marker files that exist after the run.
    """

    argv: list[str]
    proc: subprocess.CompletedProcess[str]
    report: dict[str, Any] | None
    venv: MuslVenv
    before: tuple[str, list[tuple[str, int, int]]]
    after: tuple[str, list[tuple[str, int, int]]]
    file_requests: list[str] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        """stdout and stderr together."""
        return self.proc.stdout + self.proc.stderr

    def package(self, name: str) -> dict[str, Any]:
        """The report's entry for ``name`` (fails the test when absent)."""
        assert self.report is not None, f"no report written\n{self.output}"
        found: list[dict[str, Any]] = [p for p in self.report["packages"] if p["name"] == name]
        assert found, f"{name} not in report: {[p['name'] for p in self.report['packages']]}"
        return found[0]


def guard(venv: MuslVenv, index_url: str, work: Path, *args: str, mode: str = "strict",
          server: IndexServer | None = None) -> GuardRun:
    """Run ``<venv>/bin/pip-guard --mode MODE --report R install --index-url URL ARGS`` and
    record the venv before and after (and ``server``'s file requests, when given)."""
    report = work / "report.json"
    argv = [str(venv.bin / "pip-guard"), "--mode", mode, "--report", str(report),
            "install", "--index-url", index_url, *args]
    before = venv.state()
    seen = len(server.requests) if server else 0
    proc = run(argv, cwd=work)
    after = venv.state()
    data = json.loads(report.read_text()) if report.exists() else None
    if data is not None:
        validate_report(data)
    requests = server.requests[seen:] if server else []
    return GuardRun(argv, proc, data, venv, before, after,
                    [p for p in requests if p.startswith("/files/")])


class Scenarios:
    """Strict ``pip-guard install`` runs on the musl interpreter, each run once per session.

    Refusals share one venv (each must leave it as it was); every other run gets its own.
    """

    def __init__(self, make_venv: Callable[[str], MuslVenv], index_url: str,
                 tmp: pytest.TempPathFactory, *, refusals: frozenset[str],
                 server: IndexServer | None = None, markers: Path | None = None) -> None:
        self._make_venv = make_venv
        self._index_url = index_url
        self._tmp = tmp
        self._refusals = refusals
        self._server = server
        self._markers = markers
        self._runs: dict[str, GuardRun] = {}
        self._refusal_venv: MuslVenv | None = None

    def get(self, project: str, requirement: str | None = None) -> GuardRun:
        """The run of ``pip-guard --mode strict install REQUIREMENT`` (``PROJECT==1.0``)."""
        if project not in self._runs:
            if project in self._refusals:
                if self._refusal_venv is None:
                    self._refusal_venv = self._make_venv("refusals")
                venv = self._refusal_venv
            else:
                venv = self._make_venv(project)
            work = self._tmp.mktemp(f"run-{project}")
            markers = self._markers
            for old in markers.glob("*.built") if markers else ():
                old.unlink()
            done = guard(venv, self._index_url, work, requirement or f"{project}==1.0",
                         server=self._server)
            done.markers = sorted(p.name for p in markers.glob("*.built")) if markers else []
            self._runs[project] = done
        return self._runs[project]


@pytest.fixture(scope="session")
def scenarios(new_musl_venv: Callable[[str], MuslVenv], musl_server: IndexServer,
              musl_fixtures: MuslFixtures, tmp_path_factory: pytest.TempPathFactory) -> Scenarios:
    """Memoized strict runs of the guard on the musl interpreter, local index."""
    return Scenarios(new_musl_venv, musl_server.url, tmp_path_factory,
                     refusals=frozenset({PURE_FALLBACK, SDIST_BUILD}), server=musl_server,
                     markers=musl_fixtures.markers)


@pytest.fixture(scope="session")
def pypi_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A caching proxy of the public index on 127.0.0.1 (proxpi under gunicorn, in its own
    venv); yields its simple-index URL. The musl interpreter has no ssl: this is its only
    way to the public index."""
    work = tmp_path_factory.mktemp("pypi-proxy")
    with pypi_proxy_server(work) as url:
        yield url


@pytest.fixture(scope="session")
def network_scenarios(new_musl_venv: Callable[[str], MuslVenv], pypi_proxy: str,
                      tmp_path_factory: pytest.TempPathFactory) -> Scenarios:
    """Memoized strict runs of the guard on the musl interpreter, public index via proxy."""
    return Scenarios(new_musl_venv, pypi_proxy, tmp_path_factory,
                     refusals=frozenset({"aiohttp", "uvloop"}))


ALL_FIXTURES = (HEALTHY, STATIC_TLS, GLIBC_LINKED, RELR, PURE_FALLBACK, SDIST_BUILD)

def findings_of(report: Any, project: str) -> list[dict[str, Any]]:
    """Every finding object (``{code, severity, ...}``) anywhere in ``report`` that belongs
    to ``project``: inside an object whose ``name`` is the project (PEP 503 normalized), or
    whose ``path`` lies in the project's package directory."""
    want = canonicalize_name(project)
    pkgdir = project.replace("-", "_") + "/"
    out: dict[str, dict[str, Any]] = {}

    def walk(node: Any, owned: bool) -> None:
        if isinstance(node, dict):
            name = node.get("name")
            here = owned or (isinstance(name, str) and canonicalize_name(name) == want)
            is_finding = isinstance(node.get("code"), str) and "severity" in node
            if is_finding and (here or pkgdir in str(node.get("path", ""))):
                out[json.dumps(node, sort_keys=True)] = node
            for value in node.values():
                walk(value, here)
        elif isinstance(node, list):
            for value in node:
                walk(value, owned)

    walk(report, False)
    return list(out.values())


def error_codes(findings: list[dict[str, Any]]) -> set[str]:
    """The codes of the ``error`` findings."""
    return {f["code"] for f in findings if f["severity"] == "error"}


def validate_report(data: dict[str, Any]) -> None:
    """Check ``data`` against the shipped schema (``wheelguard-report/1``)."""
    from tests.support.schema import validate_report as validate

    validate(data)
