"""``pip-guard install`` end to end with real pip 23.0.1 and 26.3.

Each pip version gets one venv per session (under tmp), made from the CPython that runs the
tests (so the fixture index's compiled wheel fits), with pip and this project installed
from wheels cached in tests/.cache/pip-wheels (downloaded from the public index the first
time). Tests uninstall what they installed instead of making new venvs. Every pip run is
isolated from this machine's pip configuration and from pip's caches.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from poetry_wheelguard import exitcodes
from tests.support.dists import build_wheel, compile_extension
from tests.support.env import isolated_env, pyenv_versions
from tests.support.index import IndexServer
from tests.support.projects import (
    BACKTRACK_MARKERS,
    FixtureIndex,
    build_backtrack_index,
    tag_for,
)
from tests.support.schema import validate_report

pytestmark = pytest.mark.pipversions

REPO = Path(__file__).resolve().parents[1]
WHEELS = REPO / "tests" / ".cache" / "pip-wheels"
PIP_VERSIONS = ("23.0.1", "26.3")
NEWEST = PIP_VERSIONS[-1]
RUNTIME = ("packaging>=23.0", "pyelftools>=0.29", "rich>=12.0")
PURE_CP38 = "wg_purefallback-1.0-cp37.cp38-cp37m.cp38-manylinux1_x86_64.whl"


def base_python() -> str:
    """The CPython the running venv was made from."""
    return str(getattr(sys, "_base_executable", None) or sys.executable)


def cached_wheels() -> Path:
    """pip 23.0.1, pip 26.3 and this project's runtime dependencies as wheels for this
    interpreter, downloaded once (public index) into tests/.cache/pip-wheels."""
    WHEELS.mkdir(parents=True, exist_ok=True)
    names = {p.name.split("-")[0].lower() for p in WHEELS.glob("*.whl")}
    pips = {p.name.split("-")[1] for p in WHEELS.glob("pip-*.whl")}
    wanted = [[f"pip=={v}"] for v in PIP_VERSIONS if v not in pips]
    if not {"packaging", "pyelftools", "rich"} <= names:
        wanted.append(list(RUNTIME))
    for reqs in wanted:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:",
                        "-d", str(WHEELS), *reqs], check=True, env=isolated_env())
    return WHEELS


@pytest.fixture(scope="session")
def project_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout built as a wheel once per session (``python -m build``; without
    isolation when poetry-core is importable, else it comes from the public index)."""
    out = tmp_path_factory.mktemp("project-wheel")
    no_iso = ["--no-isolation"] if importlib.util.find_spec("poetry.core") else []
    subprocess.run([sys.executable, "-m", "build", "--wheel", *no_iso, "--outdir", str(out),
                    str(REPO)], check=True, capture_output=True, env=isolated_env())
    return next(out.glob("poetry_wheelguard-*.whl"))


@dataclass
class Venv:
    """A venv with one pip version and this project installed."""

    path: Path
    pip_version: str

    @property
    def python(self) -> str:
        return str(self.path / "bin" / "python")

    @property
    def site(self) -> Path:
        return next((self.path / "lib").glob("python3.*/site-packages"))

    def run(self, cmd: list[str], cwd: Path, env: Mapping[str, str] | None = None,
            timeout: int = 600) -> subprocess.CompletedProcess[str]:
        """Run ``cmd``; pip uses no cache unless ``env`` names a ``PIP_CACHE_DIR``."""
        extra = dict(env or {})
        if "PIP_CACHE_DIR" not in extra:
            extra["PIP_NO_CACHE_DIR"] = "1"
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              env=isolated_env(extra), stdin=subprocess.DEVNULL)

    def guard(self, *args: str, cwd: Path, env: Mapping[str, str] | None = None
              ) -> subprocess.CompletedProcess[str]:
        """``pip-guard ARGS`` (the console script of this venv)."""
        return self.run([str(self.path / "bin" / "pip-guard"), *args], cwd, env)

    def pip(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return self.run([self.python, "-m", "pip", *args], cwd)

    def dists(self) -> set[str]:
        return {p.name.split("-")[0].lower().replace("_", "-")
                for p in self.site.glob("*.dist-info")}

    def freeze(self) -> str:
        proc = self.pip("freeze", "--all", cwd=self.path)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def files(self) -> list[str]:
        return sorted(str(p.relative_to(self.site)) for p in self.site.rglob("*"))


def make_venv(root: Path, version: str, project: Path) -> Venv:
    """A venv made from :func:`base_python` with ``pip==version`` and ``project`` (a wheel),
    installed with no index from the cached wheels."""
    wheels = cached_wheels()
    path = root / f"pip-{version}"
    env = isolated_env()
    subprocess.run([base_python(), "-m", "venv", "--without-pip", str(path)], check=True,
                   env=env)
    pip_wheel = next(wheels.glob(f"pip-{version}-*.whl"))
    subprocess.run([str(path / "bin" / "python"), f"{pip_wheel}/pip", "install", "-q",
                    "--no-index", "--find-links", str(wheels), f"pip=={version}",
                    str(project)], check=True, env=env)
    return Venv(path, version)


@pytest.fixture(scope="session")
def venv_factory(tmp_path_factory: pytest.TempPathFactory, project_wheel: Path
                 ) -> Callable[[str], Venv]:
    """``factory(version)`` -> the session's venv of that pip version (made once)."""
    root = tmp_path_factory.mktemp("pip-venvs")
    made: dict[str, Venv] = {}

    def factory(version: str) -> Venv:
        if version not in made:
            made[version] = make_venv(root, version, project_wheel)
        return made[version]

    return factory


def _clean(venv: Venv, baseline: set[str]) -> Iterator[Venv]:
    yield venv
    extra = sorted(venv.dists() - baseline)
    if extra:
        proc = venv.pip("uninstall", "-y", *extra, cwd=venv.path)
        assert proc.returncode == 0, proc.stderr


@pytest.fixture(params=PIP_VERSIONS)
def venv(request: pytest.FixtureRequest, venv_factory: Callable[[str], Venv]
         ) -> Iterator[Venv]:
    """The session venv of each pip version; what a test installs is uninstalled after."""
    v = venv_factory(request.param)
    yield from _clean(v, v.dists())


@pytest.fixture
def newest(venv_factory: Callable[[str], Venv]) -> Iterator[Venv]:
    """The pip 26.3 venv only (for the slower public-index runs)."""
    v = venv_factory(NEWEST)
    yield from _clean(v, v.dists())


@pytest.fixture
def index(index_server: IndexServer) -> IndexServer:
    index_server.requests.clear()
    return index_server


def report_of(path: Path) -> dict[str, Any]:
    """The report at ``path``, validated against schema/report-1.json."""
    data: dict[str, Any] = json.loads(path.read_text())
    validate_report(data)
    return data


def output(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stdout + proc.stderr


def assert_clean(proc: subprocess.CompletedProcess[str]) -> None:
    """No traceback and no late-import warning of pip 26 in the output."""
    text = output(proc)
    assert "Traceback" not in text and "Unsafe import" not in text, text


# -- pip/compat.py: every hook point and accessor in each real pip -------------------------

PROBE = ("import json; from poetry_wheelguard.pip import compat; p = compat.probe(); "
         "print(json.dumps({'pip': p.pip_version, 'found': p.found, 'missing': p.missing, "
         "'not_expected': p.not_expected}))")


def _probe(python: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    proc = subprocess.run([python, "-c", PROBE], capture_output=True, text=True,
                          env=isolated_env(env), stdin=subprocess.DEVNULL, timeout=120)
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def test_compat_finds_every_hook_point_and_accessor(venv: Venv) -> None:
    from poetry_wheelguard.pip.compat import ACCESSORS, HOOK_POINTS

    found = _probe(venv.python)
    assert found["pip"] == venv.pip_version
    assert found["missing"] == []
    assert {p.label for p in HOOK_POINTS} <= set(found["found"])
    every = {p.label for p in (*HOOK_POINTS, *ACCESSORS)}
    assert set(found["found"]) | set(found["not_expected"]) == every
    assert len(found["found"]) >= len(every) - 3  # rows of other pip versions only


def test_compat_finds_everything_in_the_pip_of_the_newest_cpython() -> None:
    from poetry_wheelguard.pip.compat import HOOK_POINTS

    pythons = [v / "bin" / "python" for v in pyenv_versions("3.")
               if (v / "bin" / "python").exists()]
    if not pythons:
        pytest.skip("no CPython 3.x in pyenv versions")
    found = _probe(str(pythons[0]), {"PYTHONPATH": str(REPO / "src"),
                                     "PYTHONNOUSERSITE": "1"})
    assert found["missing"] == [], found
    assert {p.label for p in HOOK_POINTS} <= set(found["found"])
    assert "Factory._finder" in found["found"] and "Link._hashes" in found["found"]


def test_no_check_degraded_in_a_real_install(venv: Venv, index: IndexServer,
                                             tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    proc = venv.guard("--mode", "strict", "--report", str(report), "install", "--index-url",
                      index.url, "wg-puredep", cwd=tmp_path)
    assert proc.returncode == 0, output(proc)
    data = report_of(report)
    assert "degraded_checks" not in data, data["degraded_checks"]
    assert [p["name"] for p in data["packages"]] == ["wg-puredep"]


# -- local index -------------------------------------------------------------------------

def test_strict_pure_fallback_refused_before_download(venv: Venv, index: IndexServer,
                                                      tmp_path: Path) -> None:
    before = (venv.freeze(), venv.files())
    report = tmp_path / "r.json"
    proc = venv.guard("--mode", "strict", "--report", str(report), "install",
                      "--index-url", index.url, "wg-purefallback==1.0", cwd=tmp_path)
    assert proc.returncode == exitcodes.REFUSED, output(proc)
    assert_clean(proc)
    assert "PURE_FALLBACK" in proc.stderr and PURE_CP38 in proc.stderr
    assert "wg-purefallback 2.0+ has a wheel" in proc.stderr
    assert (venv.freeze(), venv.files()) == before
    assert index.file_requests() == []  # index pages only, no distribution file
    data = report_of(report)
    assert data["exit_code"] == exitcodes.REFUSED
    assert data["installer"] == {"name": "pip", "version": venv.pip_version}
    (pkg,) = data["packages"]
    assert (pkg["name"], pkg["verdict"], pkg["kind"], pkg["pure"]) == \
        ("wg-purefallback", "refused", "wheel", True)
    assert pkg["index"] == index.url


@pytest.fixture(scope="session")
def backtrack_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """:func:`tests.support.projects.build_backtrack_index`, served."""
    with build_backtrack_index(tmp_path_factory.mktemp("backtrack")).serve() as server:
        yield server


def test_strict_passes_over_refused_files_and_finds_plain_pips_solution(
        venv: Venv, backtrack_server: IndexServer, tmp_path: Path) -> None:
    """Issue 10 item 15 on each pip: a refused file is taken out of pip's choice. wg-bt
    2.0 (pure fallback) is passed over for 1.0, with PASSED_OVER; the sdist of wg-lib 1.0,
    met while pip backtracks wg-app, is never built, and pip installs what plain pip
    installs (wg-app 1.0, wg-lib 2.0)."""
    backtrack_server.requests.clear()
    report = tmp_path / "r.json"
    proc = venv.guard("--mode", "strict", "--report", str(report), "install",
                      "--index-url", backtrack_server.url, "wg-bt", "wg-app", cwd=tmp_path)
    assert proc.returncode == exitcodes.OK, output(proc)
    assert_clean(proc)
    assert list((backtrack_server.root / BACKTRACK_MARKERS).iterdir()) == []
    files = backtrack_server.file_requests()
    assert not any("wg_bt-2.0" in f or "wg_lib-1.0" in f for f in files), files
    data = report_of(report)
    pkgs = {p["name"]: p for p in data["packages"]}
    assert {n: p["version"] for n, p in pkgs.items()} == {"wg-bt": "1.0", "wg-app": "1.0",
                                                         "wg-lib": "2.0"}
    assert [f["code"] for f in pkgs["wg-bt"]["findings"]] == ["PASSED_OVER"]
    assert pkgs["wg-lib"]["findings"] == [] and pkgs["wg-lib"]["passed_over"][0]["codes"] \
        == ["SDIST_BUILD"]
    assert {"wg-bt", "wg-app", "wg-lib"} <= venv.dists()
    # no solution without the refused file: one refusal, exit 10, nothing installed
    proc = venv.guard("--mode", "strict", "install", "--index-url", backtrack_server.url,
                      "wg-parent", cwd=tmp_path)
    assert proc.returncode == exitcodes.REFUSED, output(proc)
    assert "pip found no solution without it" in proc.stderr
    assert "wg-parent" not in venv.dists()


def test_strict_sdist_build_refused_before_any_build_step(
        venv: Venv, index: IndexServer, fixture_index: FixtureIndex, tmp_path: Path) -> None:
    before = (venv.freeze(), venv.files())
    proc = venv.guard("--mode", "strict", "install", "--index-url", index.url,
                      "wg-sdistbuild==1.0", cwd=tmp_path)
    assert proc.returncode == exitcodes.REFUSED, output(proc)
    assert_clean(proc)
    assert "SDIST_BUILD" in proc.stderr and "wg-sdistbuild 2.0+" in proc.stderr
    for step in ("Installing build dependencies", "Preparing metadata", "Building wheel"):
        assert step not in output(proc)
    assert not fixture_index.marker("wg-sdistbuild").exists()
    assert index.file_requests() == []
    assert (venv.freeze(), venv.files()) == before


def test_warn_mode_builds_the_sdist(venv: Venv, index: IndexServer,
                                    fixture_index: FixtureIndex, tmp_path: Path) -> None:
    """Control for the refusal above: the same install in warn mode runs the build."""
    report = tmp_path / "r.json"
    proc = venv.guard("--report", str(report), "install", "--index-url", index.url,
                      "wg-sdistbuild==1.0", cwd=tmp_path)
    assert proc.returncode == exitcodes.OK, output(proc)
    assert_clean(proc)
    assert fixture_index.marker("wg-sdistbuild").exists()
    assert "wg-sdistbuild" in venv.dists()
    (pkg,) = report_of(report)["packages"]
    assert (pkg["kind"], pkg["verdict"], pkg["built_locally"]) == ("sdist", "warn", True)
    assert pkg["findings"][0]["code"] == "SDIST_BUILD"
    assert re.search(r"wg-sdistbuild\s+1\.0\s+sdist \(build\)\s+warn\s+SDIST_BUILD",
                     proc.stderr)


def test_strict_refuses_a_top_level_requirement_before_earlier_ones_are_prepared(
        venv: Venv, index: IndexServer, fixture_index: FixtureIndex, tmp_path: Path) -> None:
    """`docopt==0.6.2 aiohttp==3.6.2` on the local index: pip resolves wg-sdistonly first
    and would download it and run its build backend for its metadata; the refusal of
    wg-purefallback comes before that (no distribution file fetched, no setup.py run)."""
    before = (venv.freeze(), venv.files())
    proc = venv.guard("--mode", "strict", "install", "--index-url", index.url,
                      "wg-sdistonly==1.0", "wg-purefallback==1.0", cwd=tmp_path)
    assert proc.returncode == exitcodes.REFUSED, output(proc)
    assert_clean(proc)
    assert ("pip-guard refused wg-purefallback 1.0 (wg_purefallback-1.0-py3-none-any.whl): "
            "PURE_FALLBACK; no distribution file was downloaded or built and nothing was "
            "installed") in proc.stderr
    assert "before any distribution file was downloaded or built" in proc.stderr
    for step in ("Downloading", "Installing build dependencies", "Preparing metadata"):
        assert step not in output(proc)
    assert not fixture_index.marker("wg-sdistonly").exists()
    assert index.file_requests() == []
    assert (venv.freeze(), venv.files()) == before


def test_installed_version_is_kept_not_refused(venv: Venv, index: IndexServer,
                                               tmp_path: Path) -> None:
    """The refusal before pip's resolver skips a project already installed in a version
    the requirement admits (pip keeps it, nothing is fetched); --force-reinstall makes pip
    take the index's file again, which is refused."""
    args = ("--index-url", index.url, "wg-purefallback==1.0")
    first = venv.guard("--mode", "strict", "--allow-pure", "wg-purefallback", "install",
                       *args, cwd=tmp_path)
    assert first.returncode == exitcodes.OK, output(first)
    before = venv.freeze()
    index.requests.clear()
    again = venv.guard("--mode", "strict", "install", *args, cwd=tmp_path)
    assert again.returncode == exitcodes.OK, output(again)
    assert "Requirement already satisfied" in again.stdout
    forced = venv.guard("--mode", "strict", "install", "--force-reinstall", *args,
                        cwd=tmp_path)
    assert forced.returncode == exitcodes.REFUSED, output(forced)
    assert "PURE_FALLBACK" in forced.stderr
    assert index.file_requests() == [] and venv.freeze() == before


def test_closed_output_pipe_keeps_the_refusal_exit_code(venv: Venv, index: IndexServer,
                                                         tmp_path: Path) -> None:
    """`pip-guard --mode strict install -q ... 2>&1 | head -1`: pip answers the refusal
    (and the broken pipe) with 1; pip-guard still exits 10, writes its report, and prints
    no traceback or "Exception ignored" where its output can still be read."""
    report = tmp_path / "r.json"
    cmd = [str(venv.path / "bin" / "pip-guard"), "--mode", "strict", "--report", str(report),
           "install", "-q", "--index-url", index.url, "wg-purefallback==1.0"]
    env = isolated_env({"PIP_NO_CACHE_DIR": "1"})
    read_end, closed = os.pipe()
    os.close(read_end)  # every write to `closed` fails with EPIPE
    try:
        both = subprocess.run(cmd, stdout=closed, stderr=closed, env=env, cwd=tmp_path,
                              stdin=subprocess.DEVNULL, timeout=600)
        assert both.returncode == exitcodes.REFUSED
        assert report_of(report)["exit_code"] == exitcodes.REFUSED
        report.unlink()
        only_stdout = subprocess.run(cmd, stdout=closed, stderr=subprocess.PIPE, text=True,
                                     env=env, cwd=tmp_path, stdin=subprocess.DEVNULL,
                                     timeout=600)
    finally:
        os.close(closed)
    assert only_stdout.returncode == exitcodes.REFUSED, only_stdout.stderr
    assert "PURE_FALLBACK" in only_stdout.stderr
    for noise in ("Traceback", "Exception ignored", "BrokenPipeError"):
        assert noise not in only_stdout.stderr
    assert report_of(report)["exit_code"] == exitcodes.REFUSED


def test_no_binary_is_refused_as_ignored_compatible_wheel(
        venv: Venv, index: IndexServer, fixture_index: FixtureIndex, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    proc = venv.guard("--mode", "strict", "--report", str(report), "install",
                      "--index-url", index.url, "--no-binary", "wg-ignored", "wg-ignored==1.0",
                      cwd=tmp_path)
    assert proc.returncode == exitcodes.REFUSED, output(proc)
    assert "IGNORED_COMPATIBLE_WHEEL" in proc.stderr
    assert "wg_ignored-1.0-py3-none-manylinux_2_17_x86_64.whl" in proc.stderr
    assert not fixture_index.marker("wg-ignored").exists()
    (pkg,) = report_of(report)["packages"]
    reasons = {c["filename"]: c["rejected_reason"] for c in pkg["candidates"]}
    assert "No binaries permitted" in reasons["wg_ignored-1.0-py3-none-manylinux_2_17_x86_64.whl"]


def test_healthy_compiled_wheel_is_ok_in_strict_mode(venv: Venv, index: IndexServer,
                                                     tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    proc = venv.guard("--mode", "strict", "--report", str(report), "install",
                      "--index-url", index.url, "wg-healthy", cwd=tmp_path)
    assert proc.returncode == exitcodes.OK, output(proc)
    assert_clean(proc)
    data = report_of(report)
    pkgs = {p["name"]: p for p in data["packages"]}
    assert set(pkgs) == {"wg-healthy", "wg-puredep"}  # the dependency is listed too
    assert all(p["verdict"] == "ok" and p["findings"] == [] for p in pkgs.values())
    assert pkgs["wg-healthy"]["filename"].startswith("wg_healthy-1.0-cp311-cp311-manylinux")
    assert pkgs["wg-healthy"]["built_locally"] is False
    # the run ends its table with the verification's counts and the packages' verdicts
    lines = proc.stderr.splitlines()
    assert "pip-guard: verified 1 compiled file in 2 distributions: 0 errors, 0 warnings" \
        in lines, proc.stderr
    assert "pip-guard: 2 packages: 2 ok, 0 warn, 0 refused" in lines
    assert data["verification"]["elf_files"] == 1
    code = "import wg_healthy; print(wg_healthy._native.answer())"
    imported = venv.run([venv.python, "-c", code], tmp_path)
    assert imported.stdout.strip() == "42", imported.stderr


def test_stdout_stays_pips(venv: Venv, index: IndexServer, tmp_path: Path) -> None:
    """The table and findings go to stderr: ``pip install --report -`` keeps clean JSON."""
    proc = venv.guard("install", "--index-url", index.url, "--dry-run", "--quiet",
                      "--report", "-", "wg-purefallback==1.0", cwd=tmp_path)
    assert proc.returncode == exitcodes.OK, output(proc)
    pip_report = json.loads(proc.stdout)
    assert pip_report["install"][0]["metadata"]["name"] == "wg-purefallback"
    assert "PURE_FALLBACK" in proc.stderr
    assert "wg-purefallback" not in venv.dists()


def test_allow_pure_admits_the_pure_wheel(venv: Venv, index: IndexServer,
                                          tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    proc = venv.guard("--mode", "strict", "--allow-pure", "WG_PureFallback", "--report",
                      str(report), "install", "--index-url", index.url,
                      "wg-purefallback==1.0", cwd=tmp_path)
    assert proc.returncode == exitcodes.OK, output(proc)
    assert "wg-purefallback" in venv.dists()
    (pkg,) = report_of(report)["packages"]
    assert pkg["verdict"] == "warn" and pkg["findings"][0]["severity"] == "warning"


def test_no_build_refuses_and_config_allow_sdist_admits(
        venv: Venv, index: IndexServer, fixture_index: FixtureIndex, tmp_path: Path) -> None:
    marker = fixture_index.marker("wg-sdistonly")
    refused = venv.guard("--mode", "strict", "--no-build", "install", "--index-url", index.url,
                         "wg-sdistonly==1.0", cwd=tmp_path)
    assert refused.returncode == exitcodes.REFUSED, output(refused)
    assert "--no-build is set" in refused.stderr and not marker.exists()
    # [tool.wheelguard] of ./pyproject.toml: strict, no-build, but this project allowed
    (tmp_path / "pyproject.toml").write_text(
        '[tool.wheelguard]\nmode = "strict"\nno-build = true\nallow-sdist = ["wg-sdistonly"]\n')
    allowed = venv.guard("install", "--index-url", index.url, "wg-sdistonly==1.0", cwd=tmp_path)
    assert allowed.returncode == exitcodes.OK, output(allowed)
    assert marker.exists() and "wg-sdistonly" in venv.dists()
    assert "(allowed by allow-sdist)" in allowed.stderr


def test_credentials_never_in_output_or_report(venv: Venv, auth_index_server: IndexServer,
                                               tmp_path: Path) -> None:
    assert "s3cr3t-token" in auth_index_server.url
    for mode, req, code in (("strict", "wg-purefallback==1.0", exitcodes.REFUSED),
                            ("warn", "wg-healthy", exitcodes.OK)):
        report = tmp_path / f"{mode}.json"
        proc = venv.guard("--mode", mode, "--report", str(report), "install", "-v",
                          "--index-url", auth_index_server.url, req, cwd=tmp_path)
        assert proc.returncode == code, output(proc)
        text = report.read_text()
        report_of(report)
        assert "s3cr3t-token" not in output(proc) + text
        assert "wg-user" not in text
        assert auth_index_server.bare_url in text  # the index is named, without credentials
    # a direct URL with credentials: pip before 23.3 prints it as given in its "Collecting"
    # line (docs/pip.md), so pip is quiet here; pip-guard's own lines and report are clean
    url = auth_index_server.url.replace(
        "/simple/", "/files/wg_sdistbuild-2.0-py3-none-manylinux_2_17_x86_64.whl")
    report = tmp_path / "direct.json"
    proc = venv.guard("--mode", "strict", "--report", str(report), "install", "-q",
                      f"wg-sdistbuild @ {url}", cwd=tmp_path)
    assert proc.returncode == exitcodes.OK, output(proc)
    text = report.read_text()
    assert "s3cr3t-token" not in output(proc) + text and "wg-user" not in text
    (pkg,) = report_of(report)["packages"]
    assert pkg["url"] == url.replace("wg-user:s3cr3t-token@", "")
    assert "wg-sdistbuild" in proc.stderr  # the table was printed


def test_cached_wheel_of_an_sdist_still_counts_as_sdist_build(
        venv: Venv, index: IndexServer, fixture_index: FixtureIndex, tmp_path: Path) -> None:
    """pip substitutes a wheel it built earlier from the sdist (its wheel cache): still an
    sdist build, refused with --no-build, and reported as built locally."""
    marker = fixture_index.marker("wg-sdistonly")
    cache = {"PIP_CACHE_DIR": str(tmp_path / "pip-cache")}
    args = ("install", "--index-url", index.url, "wg-sdistonly==1.0")
    first = venv.run([str(venv.path / "bin" / "pip-guard"), *args], tmp_path, cache)
    assert first.returncode == 0 and marker.exists(), output(first)
    assert list((tmp_path / "pip-cache" / "wheels").rglob("wg_sdistonly-1.0-*.whl"))
    venv.pip("uninstall", "-y", "wg-sdistonly", cwd=tmp_path)
    marker.unlink()
    guard = str(venv.path / "bin" / "pip-guard")
    refused = venv.run([guard, "--mode", "strict", "--no-build", *args], tmp_path, cache)
    assert refused.returncode == exitcodes.REFUSED, output(refused)
    assert "SDIST_BUILD" in refused.stderr
    report = tmp_path / "r.json"
    again = venv.run([guard, "--report", str(report), *args], tmp_path, cache)
    assert again.returncode == exitcodes.OK, output(again)
    assert not marker.exists()  # the cached wheel was used: no build ran this time
    (pkg,) = report_of(report)["packages"]
    assert (pkg["filename"], pkg["kind"], pkg["built_locally"]) == \
        ("wg_sdistonly-1.0.tar.gz", "sdist", True)


def test_legacy_resolver_is_refused_by_the_backstop(venv: Venv, index: IndexServer,
                                                    tmp_path: Path) -> None:
    before = venv.freeze()
    proc = venv.guard("--mode", "strict", "install", "--use-deprecated=legacy-resolver",
                      "--index-url", index.url, "wg-purefallback==1.0", cwd=tmp_path)
    assert proc.returncode == exitcodes.REFUSED, output(proc)
    assert "PURE_FALLBACK" in proc.stderr
    assert index.file_requests() == [] and venv.freeze() == before


def test_local_project_is_first_party(venv: Venv, index: IndexServer, tmp_path: Path) -> None:
    proj = tmp_path / "localproj"
    (proj / "localproj").mkdir(parents=True)
    (proj / "localproj" / "__init__.py").write_text("")
    (proj / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "localproj"\nversion = "0.3"\n')
    for editable in ((), ("-e",)):
        report = tmp_path / "r.json"
        proc = venv.guard("--mode", "strict", "--no-build", "--report", str(report), "install",
                          "--index-url", index.url, *editable, str(proj), cwd=tmp_path)
        assert proc.returncode == exitcodes.OK, output(proc)
        (pkg,) = report_of(report)["packages"]
        assert (pkg["name"], pkg["version"], pkg["first_party"], pkg["verdict"]) == \
            ("localproj", "0.3", True, "ok")
        assert "local project" in proc.stderr
        venv.pip("uninstall", "-y", "localproj", cwd=tmp_path)


@pytest.fixture(scope="session")
def broken_wheel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A find-links directory with ``wg-badelf 1.0``: a compatible platform wheel whose
    extension module is a real one cut short (a truncated ELF file)."""
    work = tmp_path_factory.mktemp("badelf")
    name, data = compile_extension(work / "src", "_native")
    build_wheel(work / "links", "wg-badelf", "1.0", tag_for(f"cp{sys.version_info[0]}"
                                                             f"{sys.version_info[1]}"),
                {"wg_badelf/__init__.py": "", f"wg_badelf/{name}": data[:300]})
    return work / "links"


def test_verification_errors_after_install(venv: Venv, broken_wheel_dir: Path,
                                           tmp_path: Path) -> None:
    """Post-install verification runs in its own process; its errors join the report, and
    strict mode exits with VERIFY_ERRORS (warn mode: 0)."""
    for mode, code in (("strict", exitcodes.VERIFY_ERRORS), ("warn", exitcodes.OK)):
        report = tmp_path / f"{mode}.json"
        proc = venv.guard("--mode", mode, "--report", str(report), "install", "--no-index",
                          "--find-links", str(broken_wheel_dir), "wg-badelf", cwd=tmp_path)
        assert proc.returncode == code, output(proc)
        assert_clean(proc)
        assert "CORRUPT_ELF" in proc.stderr
        data = report_of(report)
        assert data["verification"]["status"] == "ran"
        (pkg,) = data["packages"]
        # the verdict agrees with the exit code and with `pip-guard --mode strict verify`
        verdict = "refused" if mode == "strict" else "warn"
        assert pkg["verdict"] == verdict and "verification" in pkg
        assert data["summary"][verdict] == 1
        assert "CORRUPT_ELF" in {f["code"] for f in pkg["findings"]}
        venv.pip("uninstall", "-y", "wg-badelf", cwd=tmp_path)
    skipped = venv.guard("--report", str(report), "--no-verify", "install", "--no-index",
                         "--find-links", str(broken_wheel_dir), "wg-badelf", cwd=tmp_path)
    assert skipped.returncode == exitcodes.OK, output(skipped)
    assert report_of(report)["verification"]["status"] == "skipped"


def test_a_failed_install_verifies_what_was_installed(venv: Venv, broken_wheel_dir: Path,
                                                     tmp_path: Path) -> None:
    """Issue 10 item 8: pip installs wg-badelf (a dependency: first), then fails on
    wg-halfbad (a file outside the target directory): the half-installed environment is
    verified (wg-badelf's CORRUPT_ELF is reported) and pip's exit code stays."""
    links = tmp_path / "links"
    shutil.copytree(broken_wheel_dir, links)
    build_wheel(links, "wg-halfbad", "1.0", files={"../../../../wg_halfbad_escape.py": "x = 1\n"},
                requires=["wg-badelf"])
    report = tmp_path / "r.json"
    proc = venv.guard("--mode", "strict", "--report", str(report), "install", "--no-index",
                      "--find-links", str(links), "wg-halfbad", cwd=tmp_path)
    assert proc.returncode == 1, output(proc)
    assert_clean(proc)
    assert "wg-badelf" in venv.dists() and "wg-halfbad" not in venv.dists()
    data = report_of(report)
    assert data["exit_code"] == 1
    assert data["verification"]["status"] == "ran" and data["verification"]["partial"] is True
    assert "the install failed (exit code 1); verified what was installed" in proc.stderr
    pkgs = {p["name"]: p for p in data["packages"]}
    assert "CORRUPT_ELF" in {f["code"] for f in pkgs["wg-badelf"]["findings"]}
    assert "verification" in pkgs["wg-badelf"] and "verification" not in pkgs["wg-halfbad"]
    venv.pip("uninstall", "-y", "wg-badelf", cwd=tmp_path)


def test_pip_failures_keep_pips_exit_code(venv: Venv, index: IndexServer,
                                          tmp_path: Path) -> None:
    unknown = venv.guard("--mode", "strict", "install", "--index-url", index.url,
                         "wg-no-such-project", cwd=tmp_path)
    assert unknown.returncode == 1, output(unknown)
    assert_clean(unknown)
    assert "wg-no-such-project" in unknown.stderr
    unreachable = venv.guard("install", "--retries", "0", "--timeout", "2", "--index-url",
                             "http://127.0.0.1:9/simple/", "wg-puredep", cwd=tmp_path)
    assert unreachable.returncode == 1, output(unreachable)
    assert_clean(unreachable)


def test_subprocess_mode(venv: Venv, index: IndexServer, tmp_path: Path) -> None:
    env = {"WHEELGUARD_PIP_SUBPROCESS": "1"}
    before = venv.freeze()
    refused = venv.guard("--mode", "strict", "install", "--index-url", index.url,
                         "wg-purefallback==1.0", cwd=tmp_path, env=env)
    assert refused.returncode == exitcodes.REFUSED, output(refused)
    assert "using subprocess mode" in refused.stderr and "PURE_FALLBACK" in refused.stderr
    assert venv.freeze() == before
    report = tmp_path / "r.json"
    ok = venv.guard("--mode", "strict", "--report", str(report), "install", "--index-url",
                    index.url, "wg-healthy", cwd=tmp_path, env=env)
    assert ok.returncode == exitcodes.OK, output(ok)
    assert {"wg-healthy", "wg-puredep"} <= venv.dists()
    data = report_of(report)
    assert data["pip"]["mode"] == "subprocess"
    assert {p["name"] for p in data["packages"]} == {"wg-healthy", "wg-puredep"}


# -- pip versions older than the supported ones ------------------------------------------

def pyenv_python(minor: str) -> str:
    """The newest pyenv CPython ``minor`` (``"3.9"``) of this machine."""
    root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    found = sorted(Path(root, "versions").glob(f"{minor}.*/bin/python"),
                   key=lambda p: int(p.parts[-3].split(".")[-1]))
    if not found:
        pytest.skip(f"no pyenv CPython {minor} under {root}/versions")
    return str(found[-1])


def old_pip_venv(root: Path, python: str, pip_version: str, project: Path) -> Venv:
    """A venv of ``python`` with ``pip==pip_version`` and ``project`` installed, from wheels
    for that interpreter cached in tests/.cache/pip-wheels-<python tag> (downloaded once
    from the public index with that interpreter's own pip)."""
    tag = subprocess.run([python, "-c", "import sys; print('cp%d%d' % sys.version_info[:2])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    wheels = REPO / "tests" / ".cache" / f"pip-wheels-{tag}"
    wheels.mkdir(parents=True, exist_ok=True)
    if not (list(wheels.glob(f"pip-{pip_version}-*.whl")) and list(wheels.glob("rich-*.whl"))):
        subprocess.run([python, "-m", "pip", "download", "-q", "--only-binary=:all:", "-d",
                        str(wheels), f"pip=={pip_version}", *RUNTIME,
                        "tomli>=1.1; python_version < '3.11'"], check=True, env=isolated_env())
    path = root / f"{tag}-pip-{pip_version}"
    env = isolated_env()
    subprocess.run([python, "-m", "venv", "--without-pip", str(path)], check=True, env=env)
    pip_wheel = next(wheels.glob(f"pip-{pip_version}-*.whl"))
    subprocess.run([str(path / "bin" / "python"), f"{pip_wheel}/pip", "install", "-q",
                    "--no-index", "--find-links", str(wheels), f"pip=={pip_version}",
                    str(project)], check=True, env=env)
    return Venv(path, pip_version)


def test_pip_without_dry_run_report_is_refused_in_one_line(
        tmp_path_factory: pytest.TempPathFactory, project_wheel: Path, index: IndexServer,
        tmp_path: Path) -> None:
    """pip 20.0.2 (CPython 3.9) has no `install --dry-run --report`, which the subprocess
    mode needs: one line, INPUT_ERROR, and pip is never run."""
    old = old_pip_venv(tmp_path_factory.mktemp("old-pip"), pyenv_python("3.9"), "20.0.2",
                       project_wheel)
    before = old.freeze()
    proc = old.guard("--mode", "strict", "install", "--index-url", index.url,
                     "wg-purefallback==1.0", cwd=tmp_path)
    assert proc.returncode == exitcodes.INPUT_ERROR, output(proc)
    assert proc.stdout == ""
    assert proc.stderr == ("pip-guard: error: pip 20.0.2 is not supported by pip-guard "
                           "install; upgrade pip to 23.0.1 or newer\n")
    assert index.requests == [] and old.freeze() == before


def test_pip_older_than_the_hooks_uses_the_subprocess_mode(
        tmp_path_factory: pytest.TempPathFactory, project_wheel: Path, index: IndexServer,
        tmp_path: Path) -> None:
    """pip 22.3.1 has `--dry-run --report` but is older than the oldest pip the in-process
    hooks are tested on: the subprocess mode is used, and said so."""
    old = old_pip_venv(tmp_path_factory.mktemp("old-pip"), base_python(), "22.3.1",
                       project_wheel)
    before = old.freeze()
    refused = old.guard("--mode", "strict", "install", "--index-url", index.url,
                        "wg-purefallback==1.0", cwd=tmp_path)
    assert refused.returncode == exitcodes.REFUSED, output(refused)
    assert ("pip-guard: pip 22.3.1 is older than 23.0.1, the oldest pip the in-process "
            "hooks support") in refused.stderr
    assert "using subprocess mode" in refused.stderr and "PURE_FALLBACK" in refused.stderr
    assert f"'{old.python} -m pip install --upgrade pip'" in refused.stderr
    assert old.freeze() == before
    report = tmp_path / "r.json"
    ok = old.guard("--mode", "strict", "--report", str(report), "install", "--index-url",
                   index.url, "wg-puredep", cwd=tmp_path)
    assert ok.returncode == exitcodes.OK, output(ok)
    assert "wg-puredep" in old.dists()
    data = report_of(report)
    assert data["pip"]["mode"] == "subprocess"
    assert data["installer"] == {"name": "pip", "version": "22.3.1"}


def test_subprocess_mode_judges_the_pins_when_the_dry_run_fails(
        tmp_path_factory: pytest.TempPathFactory, project_wheel: Path, index: IndexServer,
        tmp_path: Path) -> None:
    """Issue 10 item 7, pip 22.3.1 (subprocess mode): the dry run fails on an unknown
    project and writes no report. The pinned requirements are judged from the index
    (strict refuses wg-purefallback 1.0: exit 10), the line says what was not judged, and
    the report lists the judged package; with nothing judgeable it says so plainly."""
    old = old_pip_venv(tmp_path_factory.mktemp("old-pip"), base_python(), "22.3.1",
                       project_wheel)
    before = old.freeze()
    report = tmp_path / "r.json"
    proc = old.guard("--mode", "strict", "--report", str(report), "install", "--index-url",
                     index.url, "wg-purefallback==1.0", "wg-no-such-project==1.0",
                     cwd=tmp_path)
    assert proc.returncode == exitcodes.REFUSED, output(proc)
    assert_clean(proc)
    assert ("pip-guard: pip's dry run failed (exit 1; pip's error above) and wrote no "
            "report; judged the pinned requirements from the index alone: wg-purefallback "
            "1.0; not judged: wg-no-such-project (listing not read") in proc.stderr
    assert "PURE_FALLBACK" in proc.stderr and old.freeze() == before
    data = report_of(report)
    assert [(p["name"], p["verdict"]) for p in data["packages"]] == \
        [("wg-purefallback", "refused")]
    assert data["pip"]["dry_run"]["judged"] == ["wg-purefallback"]
    assert list(data["pip"]["dry_run"]["not_judged"]) == ["wg-no-such-project"]
    assert data["verification"]["status"] == "skipped"
    proc = old.guard("--mode", "strict", "--report", str(report), "install", "--index-url",
                     index.url, "wg-no-such-project", cwd=tmp_path)
    assert proc.returncode == 1, output(proc)
    assert ("pip-guard: pip's dry run failed (exit 1; pip's error above) and wrote no "
            "report: nothing could be judged (pip resolves only in its dry run, and no "
            "requirement is pinned with ==)") in proc.stderr
    assert report_of(report)["packages"] == []


# -- public index (handed cases, ../shared/cases/handed.md) ------------------------------

@pytest.mark.network
def test_acceptance_aiohttp_362_strict(venv: Venv, tmp_path: Path) -> None:
    before = venv.freeze()
    proc = venv.guard("--mode", "strict", "install", "aiohttp==3.6.2", cwd=tmp_path)
    assert proc.returncode == exitcodes.REFUSED, output(proc)
    assert_clean(proc)
    text = proc.stderr
    assert "PURE_FALLBACK" in text and "aiohttp-3.6.2-py3-none-any.whl" in text
    for cp in ("cp35-cp35m", "cp36-cp36m", "cp37-cp37m"):
        assert f"aiohttp-3.6.2-{cp}-manylinux1_x86_64.whl" in text
    assert re.search(r"aiohttp \d+\.\d+\.\d+\+ has a wheel for cp311", text)
    assert "Downloading" not in output(proc)
    assert venv.freeze() == before


@pytest.mark.network
@pytest.mark.parametrize(("req", "code"), [
    ("pydantic==1.9.1", "PURE_FALLBACK"),        # S2
    ("uvloop==0.14.0", "SDIST_BUILD"),           # S4
    ("psycopg2-binary==2.7.4", "SDIST_BUILD"),   # S5
])
def test_handed_cases_strict(venv: Venv, tmp_path: Path, req: str, code: str) -> None:
    before = venv.freeze()
    proc = venv.guard("--mode", "strict", "install", req, cwd=tmp_path)
    assert proc.returncode == exitcodes.REFUSED, output(proc)
    assert_clean(proc)
    assert code in proc.stderr
    for step in ("Installing build dependencies", "Preparing metadata", "Downloading"):
        assert step not in output(proc)
    assert venv.freeze() == before


@pytest.mark.network
def test_handed_case_s14_every_refusal_in_one_run(newest: Venv, tmp_path: Path) -> None:
    """S14: the FastAPI 2022 pins on this CPython (3.11+), strict: sqlalchemy, asyncpg and
    pydantic are all refused in one run (not one per run), before pip runs any build
    backend."""
    if sys.version_info < (3, 11):
        pytest.skip("S14 is a CPython 3.11+ case")
    proc = newest.guard("--mode", "strict", "install", "--dry-run", "fastapi==0.54.1",
                        "uvicorn==0.11.3", "asyncpg==0.25.0", "SQLAlchemy==1.4.29",
                        "pydantic==1.9.0", cwd=tmp_path)
    assert proc.returncode == exitcodes.REFUSED, output(proc)
    assert_clean(proc)
    line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("ERROR: pip-guard"))
    for name in ("sqlalchemy 1.4.29", "asyncpg 0.25.0", "pydantic 1.9.0"):
        assert name in line, line
    assert "Preparing metadata" not in output(proc) and "Building wheel" not in output(proc)


@pytest.mark.network
def test_healthy_controls_pass_strict(newest: Venv, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    controls = ("orjson", "pydantic>=2", "numpy", "cryptography", "PyYAML>=6.0.2",
                "aiohttp>=3.9")
    proc = newest.guard("--mode", "strict", "--report", str(report), "install", "--dry-run",
                        *controls, cwd=tmp_path)
    assert proc.returncode == exitcodes.OK, output(proc)
    pkgs = {p["name"]: p for p in report_of(report)["packages"]}
    assert {"orjson", "pydantic", "pydantic-core", "numpy", "cryptography", "pyyaml",
            "aiohttp"} <= set(pkgs)
    assert all(p["verdict"] == "ok" and p["kind"] == "wheel" for p in pkgs.values()), pkgs


@pytest.mark.network
def test_acceptance_orjson_pydantic_report(newest: Venv, tmp_path: Path) -> None:
    before = newest.dists()
    report = tmp_path / "r.json"
    proc = newest.guard("--mode", "strict", "--report", str(report), "install", "orjson",
                        "pydantic", cwd=tmp_path)
    assert proc.returncode == exitcodes.OK, output(proc)
    assert_clean(proc)
    installed = newest.dists() - before
    pkgs = {p["name"]: p for p in report_of(report)["packages"]}
    assert set(pkgs) == installed and {"orjson", "pydantic", "pydantic-core"} <= installed
    for p in pkgs.values():
        assert p["filename"].endswith(".whl") and p["tags"] and p["verdict"] == "ok"


@pytest.mark.network
def test_acceptance_aiohttp_362_warn_installs(newest: Venv, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    proc = newest.guard("--report", str(report), "install", "aiohttp==3.6.2", cwd=tmp_path)
    assert proc.returncode == exitcodes.OK, output(proc)
    assert_clean(proc)
    assert "aiohttp" in newest.dists()
    assert re.search(r"aiohttp\s+3\.6\.2\s+wheel, pure\s+warn\s+PURE_FALLBACK", proc.stderr)
    pkgs = {p["name"]: p for p in report_of(report)["packages"]}
    assert pkgs["aiohttp"]["verdict"] == "warn"
    assert pkgs["aiohttp"]["findings"][0]["code"] == "PURE_FALLBACK"
