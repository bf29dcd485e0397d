"""Acceptance on the public index: real Poetry 1.8.5 and 2.5.1 on CPython 3.11.

The same behaviours are tested on the local index in test_poetry_install.py; these runs
prove them on the real releases (handed case S1 and the healthy controls). The public
index is used through its simple API (PEP 503/691) as a ``[[tool.poetry.source]]``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from poetry_wheelguard import exitcodes
from tests.support.poetry import POETRY_VERSIONS, PoetryProject, poetry_venv, write_project
from tests.support.schema import validate_report

pytestmark = [
    pytest.mark.poetry,
    pytest.mark.network,
    pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="acceptance is on CPython 3.11"),
]

PY311 = ">=3.11,<3.12"


@pytest.fixture(scope="module", params=POETRY_VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    poetry_venv(request.param)
    return str(request.param)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Poetry cache per module (a version's runs share its metadata and artifacts)."""
    return tmp_path_factory.mktemp("poetry-net-cache")


def project(tmp_path: Path, version: str, deps: dict[str, str],
            wheelguard: dict[str, object] | None = None, *, cache: Path) -> PoetryProject:
    path = write_project(tmp_path / "p", dependencies=deps, index_url=None,
                         wheelguard={"report": "r.json", **(wheelguard or {})}, python=PY311)
    proj = PoetryProject(path, version, poetry_venv(version), cache / version)
    proj.create_env()
    return proj


def report(proj: PoetryProject) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((proj.path / "r.json").read_text())
    validate_report(data)
    return data


def test_aiohttp_362_strict_refused_nothing_installed_then_allowed(
    version: str, tmp_path: Path, cache: Path
) -> None:
    proj = project(tmp_path, version, {"aiohttp": "3.6.2"}, cache=cache)
    before = proj.env_files()

    run = proj.poetry("install", env={"WHEELGUARD_MODE": "strict"})

    assert run.returncode == exitcodes.REFUSED, run.output
    assert re.search(r"aiohttp\s+3\.6\.2\s+wheel, pure\s+refused\s+PURE_FALLBACK", run.stdout)
    assert "aiohttp-3.6.2-cp37-cp37m-manylinux1_x86_64.whl" in run.stdout
    assert proj.env_files() == before  # none of the project's dependencies is installed
    assert proj.installed().isdisjoint({"aiohttp", "multidict", "yarl", "attrs", "chardet"})

    # allow-pure = ["aiohttp"]: aiohttp's pure wheel becomes a warning. Its dependency
    # multidict 4.7.6 has wheels for cp35-cp38 only, so strict mode still refuses its
    # sdist build until it is allowed too.
    proj = project(tmp_path / "allowed", version, {"aiohttp": "3.6.2"},
                   {"mode": "strict", "allow-pure": ["aiohttp"]}, cache=cache)
    still = proj.poetry("install")
    assert still.returncode == exitcodes.REFUSED, still.output
    assert re.search(r"aiohttp\s+3\.6\.2\s+wheel, pure\s+warn\s+PURE_FALLBACK", still.stdout)
    assert re.search(r"multidict\s+4\.7\.6\s+sdist \(build\)\s+refused\s+SDIST_BUILD",
                     still.stdout)

    proj = project(tmp_path / "installs", version, {"aiohttp": "3.6.2"},
                   {"allow-pure": ["aiohttp"]}, cache=cache)
    ok = proj.poetry("install")
    assert ok.returncode == 0, ok.output
    assert "aiohttp" in proj.installed()
    assert re.search(r"aiohttp\s+3\.6\.2\s+wheel, pure\s+warn\s+PURE_FALLBACK", ok.stdout)
    assert "(allowed by allow-pure)" in ok.stdout
    aiohttp = next(p for p in report(proj)["packages"] if p["name"] == "aiohttp")
    assert aiohttp["verdict"] == "warn" and aiohttp["findings"][0]["severity"] == "warning"


def test_orjson_pydantic_strict_installs_every_package_from_a_wheel(
    version: str, tmp_path: Path, cache: Path
) -> None:
    proj = project(tmp_path, version, {"orjson": "*", "pydantic": "*"}, {"mode": "strict"},
                   cache=cache)

    run = proj.poetry("install")

    assert run.returncode == 0, run.output
    data = report(proj)
    names = {p["name"] for p in data["packages"]}
    assert {"orjson", "pydantic", "pydantic-core", "annotated-types",
            "typing-extensions"} <= names
    assert names == proj.installed() - {"pip", "setuptools", "wheel"}
    for pkg in data["packages"]:
        assert pkg["kind"] == "wheel" and pkg["filename"].endswith(".whl"), pkg
        assert pkg["verdict"] == "ok" and pkg["findings"] == [], pkg
        assert re.search(rf"^{re.escape(pkg['name'])}\s+{re.escape(pkg['version'])}\s+wheel",
                         run.stdout, re.M)
    for compiled in ("orjson", "pydantic-core"):
        pkg = next(p for p in data["packages"] if p["name"] == compiled)
        assert not pkg["pure"] and any("manylinux" in t for t in pkg["tags"])
