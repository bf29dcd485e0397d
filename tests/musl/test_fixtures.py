"""The musl fixtures prove themselves with the real loader, before the guard judges them.

Each fixture's defect is shown by binutils' readelf (an ELF reader independent of the
project's) and by a real import on the musl interpreter; each failing one has a control
that differs only in the defect and imports fine.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.musl.conftest import in_ci
from tests.support.dists import compile_extension
from tests.support.env import isolated_env
from tests.support.index import IndexServer
from tests.support.musl import (
    ARCHIVE_NAME,
    GLIBC_LINKED,
    HEALTHY,
    MUSL_LOADER,
    PIP_VERSION,
    RELR,
    RELR_MUSL,
    SDIST_BUILD,
    STATIC_TLS,
    STATIC_TLS_SOURCE,
    MuslFixtures,
    MuslPython,
    MuslVenv,
    glibc_python,
    readelf,
    run,
    shared_dir,
    wheel_member,
)

pytestmark = pytest.mark.musl

REPO = Path(__file__).resolve().parents[2]


def _wheel(fixtures: MuslFixtures, project: str, platform: str) -> Path:
    wheels = [f for f in fixtures.files if f.name.startswith(project.replace("-", "_") + "-1.0-")
              and platform in f.name]
    assert len(wheels) == 1, wheels
    return wheels[0]


def _import_from(python: Path, directory: Path, module: str = "_native") -> (
        subprocess.CompletedProcess[str]):
    """Import ``module`` from ``directory`` with ``python`` and print ``answer()``."""
    code = (f"import sys; sys.path.insert(0, {str(directory)!r}); import {module} as m; "
            "print(m.answer())")
    return run([python, "-I", "-c", code])


def _dynamic(so: Path) -> str:
    return readelf("-d", so)


def _needed(so: Path) -> list[str]:
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", _dynamic(so))


def _static_tls(so: Path) -> bool:
    return bool(re.search(r"\(FLAGS\)\s+.*\bSTATIC_TLS\b", _dynamic(so)))


def test_interpreter_runs_under_musl_loader(musl_python: MuslPython) -> None:
    """The interpreter's PT_INTERP is musl's loader, and that loader is musl 1.2."""
    headers = readelf("-l", musl_python.executable.resolve())
    assert f"[Requesting program interpreter: {MUSL_LOADER}]" in headers
    assert musl_python.musl_version[:2] == (1, 2)
    assert musl_python.version == (3, 11)
    assert musl_python.ext_suffix == ".cpython-311-x86_64-linux-musl.so"
    proc = run([musl_python.executable, "-c",
                "import importlib.machinery as m; print(m.EXTENSION_SUFFIXES[0])"])
    assert proc.stdout.strip() == musl_python.ext_suffix


def test_healthy_extension_imports_on_musl(musl_python: MuslPython, musl_fixtures: MuslFixtures,
                                           tmp_path: Path) -> None:
    so = wheel_member(_wheel(musl_fixtures, HEALTHY, "musllinux_1_2"), ".so", tmp_path)
    assert so.name == f"_native{musl_python.ext_suffix}"
    assert _needed(so) == ["libc.so"]  # musl's libc, not glibc's libc.so.6
    assert not _static_tls(so)
    proc = _import_from(musl_python.executable, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "42"


def test_static_tls_extension_fails_to_import_on_musl(
        musl_python: MuslPython, musl_fixtures: MuslFixtures, musl_include: Path,
        tmp_path: Path) -> None:
    so = wheel_member(_wheel(musl_fixtures, STATIC_TLS, "musllinux_1_2"), ".so", tmp_path)
    assert _static_tls(so), _dynamic(so)
    proc = _import_from(musl_python.executable, tmp_path)
    assert proc.returncode != 0
    assert "ImportError" in proc.stderr
    assert "initial-exec TLS" in proc.stderr, proc.stderr

    # Control: the same source with the default TLS model for -fPIC has no STATIC_TLS flag
    # and imports: the TLS model is what musl refuses.
    control = tmp_path / "control"
    name, data = compile_extension(control / "build", "_native", source=STATIC_TLS_SOURCE,
                                   python_include=str(musl_include),
                                   ext_suffix=musl_python.ext_suffix, cc="musl-gcc")
    (control / name).write_bytes(data)
    assert not _static_tls(control / name)
    ok = _import_from(musl_python.executable, control)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "42"


def test_glibc_linked_extension_fails_to_import_on_musl(
        musl_python: MuslPython, musl_fixtures: MuslFixtures, tmp_path: Path) -> None:
    wheel = _wheel(musl_fixtures, GLIBC_LINKED, "musllinux_1_1")
    so = wheel_member(wheel, ".so", tmp_path / "musl")
    assert so.name == f"_native{musl_python.ext_suffix}"  # named for musl, linked for glibc
    assert "libc.so.6" in _needed(so)
    assert "GLIBC_2." in readelf("-V", so)
    proc = _import_from(musl_python.executable, so.parent)
    assert proc.returncode != 0
    assert re.search(r"Error relocating .*gnu_get_libc_version: symbol not found", proc.stderr), \
        proc.stderr

    # Control: on a glibc CPython of the same version the very same bytes import and call
    # into glibc (saved under the generic ".so" suffix every CPython imports).
    host = glibc_python(musl_python.version)
    if host is None:
        pytest.skip(f"no glibc CPython {musl_python.version} on this machine for the control")
    (tmp_path / "glibc").mkdir()
    (tmp_path / "glibc" / "_native.so").write_bytes(so.read_bytes())
    ok = run([host, "-I", "-c", f"import sys; sys.path.insert(0, {str(tmp_path / 'glibc')!r}); "
                                "import _native as m; print(m.answer(), m.libc())"])
    assert ok.returncode == 0, ok.stderr
    answer, version = ok.stdout.split()
    assert answer == "42" and re.fullmatch(r"2\.\d+", version)


def test_relr_extension_needs_musl_124(musl_python: MuslPython, musl_fixtures: MuslFixtures,
                                       musl_include: Path, tmp_path: Path) -> None:
    """Packed relative relocations (DT_RELR): musl's loader applies them from 1.2.4 on;
    an older one leaves the pointers unrelocated and the import crashes (SIGSEGV)."""
    so = wheel_member(_wheel(musl_fixtures, RELR, "musllinux_1_2"), ".so", tmp_path / "relr")
    assert re.search(r"\(RELR\)\s+0x", _dynamic(so)), _dynamic(so)
    proc = _import_from(musl_python.executable, so.parent)
    if musl_python.musl_version >= RELR_MUSL:
        assert proc.returncode == 0, proc.stderr
    else:
        assert proc.returncode == -signal.SIGSEGV, (proc.returncode, proc.stderr)

    # Control: the same source linked without packed relocations imports.
    name, data = compile_extension(tmp_path / "build", "_native", python_include=str(musl_include),
                                   ext_suffix=musl_python.ext_suffix, cc="musl-gcc")
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / name).write_bytes(data)
    assert "(RELR)" not in _dynamic(tmp_path / "plain" / name)
    ok = _import_from(musl_python.executable, tmp_path / "plain")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "42"


def test_manylinux_fixtures_are_not_for_musl(musl_fixtures: MuslFixtures) -> None:
    """The pure-fallback and sdist releases offer musl nothing but the pure wheel / sdist."""
    from packaging.tags import Tag
    from packaging.utils import parse_wheel_filename

    musl_tags = {Tag("cp311", "cp311", f"musllinux_1_{m}_x86_64") for m in (2, 1, 0)}
    for project in ("wg-musl-purefallback", SDIST_BUILD):
        v1 = [n for n in musl_fixtures.names(project) if "-1.0-" in n or n.endswith("1.0.tar.gz")]
        wheels = [parse_wheel_filename(n)[3] for n in v1 if n.endswith(".whl")]
        platform = [t for t in wheels if not all(x.platform == "any" for x in t)]
        assert platform and all(t.platform.startswith("manylinux") for ts in platform for t in ts)
        assert not any(ts & musl_tags for ts in wheels)


def test_musl_venv_tags_start_at_musllinux(musl_base_venv: MuslVenv) -> None:
    """What packaging and pip's own vendored packaging compute on this interpreter."""
    code = ("import json, packaging.tags as a, pip._vendor.packaging.tags as b; "
            "print(json.dumps([[str(t) for t in a.sys_tags()], [str(t) for t in b.sys_tags()]]))")
    proc = run([musl_base_venv.python, "-c", code])
    assert proc.returncode == 0, proc.stderr
    for tags in json.loads(proc.stdout):
        platforms = [t.split("-")[2] for t in tags if t.startswith("cp311-cp311-")]
        no_local = [p for p in platforms if p != "linux_x86_64"]
        assert no_local[:3] == ["musllinux_1_2_x86_64", "musllinux_1_1_x86_64",
                                "musllinux_1_0_x86_64"]
        assert not any("manylinux" in t for t in tags)


def test_base_venv_has_pip_and_guard(musl_base_venv: MuslVenv, musl_server: IndexServer) -> None:
    """ensurepip's pip 22.3.1 was upgraded from the local index; the guard runs on musl."""
    freeze = musl_base_venv.freeze()
    assert f"pip=={PIP_VERSION}" in freeze.splitlines()
    assert "poetry-wheelguard==0.1.0" in freeze.splitlines()
    proc = run([musl_base_venv.bin / "pip-guard", "--version"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("pip-guard ")


def test_sdist_control_build_writes_marker(musl_base_venv: MuslVenv, musl_server: IndexServer,
                                           musl_fixtures: MuslFixtures, tmp_path: Path) -> None:
    """Control for every "no build step ran" assertion: plain pip on musl builds the sdist
    of wg-musl-sdistbuild 1.0 and its setup.py writes the marker."""
    marker = musl_fixtures.marker(SDIST_BUILD)
    marker.unlink(missing_ok=True)
    proc = musl_base_venv.pip("wheel", "--no-deps", "--no-binary", SDIST_BUILD, "-w", tmp_path,
                              "--index-url", musl_server.url, f"{SDIST_BUILD}==1.0")
    try:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert marker.exists()
    finally:
        marker.unlink(missing_ok=True)


def test_absent_interpreter_fails_under_ci_and_skips_locally(tmp_path: Path) -> None:
    """Without the interpreter the layer fails under CI=true and is skipped otherwise."""
    empty_shared = tmp_path / "shared"
    empty_shared.mkdir()
    assert not (shared_dir({"WHEELGUARD_SHARED_DIR": str(empty_shared)}) / "musl-cpython" /
                ARCHIVE_NAME).exists()
    test_id = f"{Path(__file__).relative_to(REPO)}::test_interpreter_runs_under_musl_loader"
    results = {}
    for ci in ("true", None):
        env = isolated_env({"WHEELGUARD_SHARED_DIR": str(empty_shared)})
        env.pop("CI", None)
        if ci:
            env["CI"] = ci
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rfEs", "-p",
                               "no:cacheprovider", test_id], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=600)
        results[ci] = proc
    failed, skipped = results["true"], results[None]
    assert failed.returncode == 1, failed.stdout
    assert "musl layer required under CI=true" in failed.stdout
    if MUSL_LOADER.exists():
        assert "musl-cpython-3.11.2-x86_64.tar.xz is missing" in failed.stdout
    else:
        assert "apt-get install -y musl" in failed.stdout
    assert skipped.returncode == 0, skipped.stdout
    assert "1 skipped" in skipped.stdout
    assert in_ci({"CI": "true"}) and not in_ci({})

