"""pip-guard verify on real wheels from the public index: a healthy environment (no finding)
and the handed cases S6 (silent pure build), S7 (GLIBC_2.29 in a file without .so suffix on
an aarch64 glibc 2.28 target) and S8 (initial-exec TLS on musl). The same behaviours are
tested offline with the fixtures in test_verify.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from poetry_wheelguard import exitcodes
from tests.support.elffix import elf_fixtures
from tests.support.env import pyenv_python

pytestmark = pytest.mark.network

CACHE = Path(__file__).resolve().parent / ".cache"
HEALTHY = ["numpy", "scipy", "pandas", "cryptography", "orjson", "pydantic-core", "lxml"]


def pip_env(**extra: str) -> dict[str, str]:
    """pip isolated from this machine's configuration (extra indexes, find-links)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL",
                        "PIP_CONSTRAINT")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return env


def run_verify(args: list[str], tmp_path: Path) -> tuple[int, dict[str, Any], str]:
    report = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "poetry_wheelguard", "--mode", "strict", "verify", *args,
         "--report", str(report)], capture_output=True, text=True, check=False,
        env={**os.environ, "WHEELGUARD_CACHE_DIR": str(tmp_path / "cache")})
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(report.read_text()), proc.stdout + proc.stderr


def findings(report: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    return {p["name"]: [(f["code"], f["severity"]) for f in p["findings"]]
            for p in report["packages"] if p["findings"]}


def download(spec: str, *options: str) -> Path:
    dest = CACHE / "verify-wheels" / spec.replace("==", "-")
    found = sorted(dest.glob("*.whl"))
    if found:
        return found[0]
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--isolated", "--no-deps",
                    "--no-cache-dir", "--only-binary=:all:", "-d", str(dest), *options, spec],
                   check=True, capture_output=True, env=pip_env())
    return sorted(dest.glob("*.whl"))[0]


def install_wheel(wheel: Path, site: Path) -> None:
    """Unpack a wheel into a site directory (a wheel without .data, as these are)."""
    site.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as zf:
        assert not any(".data/" in n for n in zf.namelist())
        zf.extractall(site)


def test_healthy_environment_has_no_finding(tmp_path: Path) -> None:
    venv = CACHE / f"verify-healthy-py{sys.version_info[0]}{sys.version_info[1]}"
    marker = venv / "installed.json"
    if not marker.exists() or json.loads(marker.read_text()) != HEALTHY:
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                        "--only-binary=:all:", *HEALTHY], check=True, env=pip_env())
        marker.write_text(json.dumps(HEALTHY))
    code, report, out = run_verify(["--python", str(venv / "bin" / "python")], tmp_path)
    assert code == exitcodes.OK, out
    assert findings(report) == {}
    names = {p["name"] for p in report["packages"]}
    assert set(HEALTHY) <= names
    assert report["verification"]["elf_files"] > 100
    numpy = next(p for p in report["packages"] if p["name"] == "numpy")
    assert numpy["verification"]["provenance"] == "index"


def test_s6_silent_pure_build_pyyaml_on_python_3_13(tmp_path: Path) -> None:
    python = pyenv_python("3.13.0")
    if python is None:
        pytest.skip("needs CPython 3.13.0 (pyenv)")
    venv = tmp_path / "venv"
    subprocess.run([str(python), "-m", "venv", str(venv)], check=True)
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install",
                           "--no-cache-dir", "PyYAML==6.0.1"], capture_output=True, text=True,
                          env=pip_env(), check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]  # pip says nothing is wrong
    code, report, out = run_verify(["--python", str(venv / "bin" / "python")], tmp_path)
    assert code == exitcodes.VERIFY_ERRORS, out
    assert findings(report) == {"pyyaml": [("SILENT_PURE_BUILD", "error")]}
    pkg = next(p for p in report["packages"] if p["name"] == "pyyaml")
    assert pkg["tags"] == ["cp313-cp313-linux_x86_64"]
    assert pkg["findings"][0]["message"] == (
        "PyYAML 6.0.1: built locally (tag cp313-cp313-linux_x86_64: installers give that tag "
        "to the wheels they build; indexes do not serve it), platform-tagged, but it "
        "contains no compiled file: the build dropped its extension")
    assert pkg["verification"]["provenance"] == "local"
    assert pkg["verification"]["elf_files"] == 0


def _image(tmp_path: Path, sysroot: str, python: str) -> tuple[Path, Path]:
    root = tmp_path / "root"
    shutil.copytree(elf_fixtures() / sysroot, root, symlinks=True)
    return root, root / "usr" / "lib" / python / "site-packages"


def test_s7_pypdfium2_payload_needs_glibc_2_29_on_aarch64_2_28(tmp_path: Path) -> None:
    wheel = download("pypdfium2==3.15.0", "--platform", "manylinux_2_17_aarch64",
                     "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311")
    root, site = _image(tmp_path, "sysroot-glibc228-aarch64", "python3.11")
    install_wheel(wheel, site)
    code, report, out = run_verify(["--path", str(site), "--sysroot", str(root)], tmp_path)
    assert code == exitcodes.VERIFY_ERRORS, out
    assert report["target"]["machine"] == "aarch64"
    assert report["target"]["libc_version"] == "2.28"
    assert findings(report) == {"pypdfium2": [("SYMBOL_VERSION", "error")]}
    (finding,) = report["packages"][0]["findings"]
    assert finding["path"].endswith("pypdfium2/pdfium")  # no .so suffix: found by magic
    assert "needs GLIBC_2.29 from libm.so.6" in finding["message"]


def test_s8_pydantic_core_static_tls_on_musl(tmp_path: Path) -> None:
    wheel = download("pydantic-core==0.7.1", "--platform", "musllinux_1_1_x86_64",
                     "--python-version", "3.10", "--implementation", "cp", "--abi", "cp310")
    root, site = _image(tmp_path, "sysroot-musl-x86_64", "python3.10")
    install_wheel(wheel, site)
    code, report, out = run_verify(["--path", str(site), "--sysroot", str(root)], tmp_path)
    assert code == exitcodes.VERIFY_ERRORS
    assert report["target"]["libc"] == "musl" and report["target"]["interpreter"] == "cp310"
    assert findings(report) == {"pydantic-core": [("STATIC_TLS", "error")]}
    assert "musl's dlopen refuses it" in out
