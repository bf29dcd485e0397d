"""STATIC_TLS, LIBC_MISMATCH and files the loader refuses (CORRUPT_ELF) on a real musl
CPython agree with real import failures."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from poetry_wheelguard import exitcodes
from poetry_wheelguard.cli import main
from tests.support.elffix import elf_fixtures, make_dist
from tests.support.musl import MuslPython, MuslUnavailable, locate_musl_python

pytestmark = pytest.mark.musl


@pytest.fixture(scope="module")
def musl(tmp_path_factory: pytest.TempPathFactory) -> MuslPython:
    import os

    try:
        return locate_musl_python(tmp_path_factory.mktemp("musl-cpython"))
    except MuslUnavailable as exc:
        if os.environ.get("CI", "").lower() in {"true", "1"}:
            pytest.fail(f"musl layer required under CI=true: {exc}", pytrace=False)
        pytest.skip(str(exc))


@pytest.fixture(autouse=True)
def _verify_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep verify's facts cache out of the user's cache directory."""
    monkeypatch.setenv("WHEELGUARD_CACHE_DIR", str(tmp_path / "cache"))


def test_verdicts_agree_with_musl_imports(musl: MuslPython, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site"
    fx = elf_fixtures()
    tag = ("cp311-cp311-musllinux_1_2_x86_64",)
    cases = {  # distribution -> (module, fixture, expected error codes)
        "wg-m-healthy": ("healthy", fx / "musl-x86_64/healthy.so", set()),
        "wg-m-tls": ("tls", fx / "musl-x86_64/tls.so", {"STATIC_TLS"}),
        "wg-m-glibconly": ("glibconly", fx / "gnu-x86_64/glibconly.so", {"LIBC_MISMATCH"}),
        # glibc-linked, but nothing glibc-only in it: musl loads it (libc.so.6 is musl's own
        # name, versions are ignored); still an error: unsupported, and the message says so
        "wg-m-glibc": ("healthy", fx / "gnu-x86_64/healthy.so", {"LIBC_MISMATCH"}),
    }
    if musl.musl_version < (1, 2, 4):  # musl applies DT_RELR from 1.2.4
        cases["wg-m-relr"] = ("relr", fx / "musl-x86_64/relr.so", {"UNSUPPORTED_RELR"})
    # headers musl's map_library refuses ("Exec format error": no ET_DYN/ET_EXEC, no
    # PT_DYNAMIC; nothing to map without PT_LOAD) and those it maps though glibc does not
    refused = {"rel": "Exec format error", "nodyn": "Exec format error",
               "nophdrs": "Exec format error", "noload": None}
    for defect in refused:
        cases[f"wg-m-{defect}"] = ("healthy", fx / f"bad/musl-x86_64/{defect}.so",
                                   {"CORRUPT_ELF"})
    mapped = {"exec": "bad/musl-x86_64/exec.so", "misaligned": "bad/musl-x86_64/misaligned.so",
              "pie": "musl-x86_64/pie.so", "nonpie": "musl-x86_64/nonpie.so",
              "noopen": "musl-x86_64/noopen.so"}
    for defect, rel in mapped.items():
        module = "noopen" if defect == "noopen" else "healthy"  # its PyInit_ name
        cases[f"wg-m-{defect}"] = (module, fx / rel, set())
    loads = {"wg-m-healthy", "wg-m-glibc", *(f"wg-m-{d}" for d in mapped)}
    for name, (module, src, _codes) in cases.items():
        pkg = name.replace("-", "_")
        make_dist(site, name, {f"{pkg}/__init__.py": b"",
                               f"{pkg}/{module}{musl.ext_suffix}": src}, tags=tag)
    report = tmp_path / "r.json"
    code = main(["--mode", "strict", "verify", "--python", str(musl.executable),
                 "--path", str(site), "--report", str(report)])
    capsys.readouterr()
    assert code == exitcodes.VERIFY_ERRORS
    data = json.loads(report.read_text())
    assert data["target"]["libc"] == "musl"
    errors = {p["name"]: {f["code"] for f in p["findings"] if f["severity"] == "error"}
              for p in data["packages"]}
    assert errors == {name: codes for name, (_m, _s, codes) in cases.items()}
    messages = {p["name"]: " ".join(f["message"] for f in p["findings"])
                for p in data["packages"]}
    assert "1 symbol(s) musl does not define: gnu_get_libc_version" in \
        messages["wg-m-glibconly"]
    assert "it may load, but musl does not support it" in messages["wg-m-glibc"]
    for name, (module, _src, _codes) in cases.items():
        pkg = name.replace("-", "_")
        proc = _import(musl, site, f"{pkg}.{module}")
        assert (proc.returncode == 0) == (name in loads), (name, proc.stderr[-500:])
        error = refused.get(name[len("wg-m-"):])
        if error:  # the reason verify gives is the one musl gives
            assert f'musl says "{error}"' in messages[name], messages[name]
            assert f"Error loading shared library {site / pkg / (module + musl.ext_suffix)}" \
                   f": {error}" in proc.stderr, proc.stderr[-500:]


def _import(musl: MuslPython, site: Path, module: str) -> subprocess.CompletedProcess[str]:
    code = f"import sys; sys.path.insert(0, {str(site)!r}); import {module}"
    return subprocess.run([str(musl.executable), "-I", "-c", code], capture_output=True,
                          text=True, check=False)


def test_dependency_musl_refuses(musl: MuslPython, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A bundled library that is an object file: musl stops at it, and so does verify."""
    site = tmp_path / "site"
    fx = elf_fixtures()
    loader = fx / "musl-x86_64" / "loader"
    make_dist(site, "wg-m-dep", {
        "wg_m_dep/__init__.py": b"",
        f"wg_m_dep/ext_rpath{musl.ext_suffix}": loader / "ext_rpath.so",
        "wg_m_dep/deps/libwga.so.1": fx / "bad/musl-x86_64/libwga.so.1",
        "wg_m_dep/deps/libwgb.so.1": loader / "deps/libwgb.so.1"},
        tags=("cp311-cp311-musllinux_1_2_x86_64",))
    report = tmp_path / "r.json"
    main(["verify", "--python", str(musl.executable), "--path", str(site),
          "--report", str(report)])
    capsys.readouterr()
    (pkg,) = json.loads(report.read_text())["packages"]
    found = {f["path"].rsplit("/", 1)[-1]: f for f in pkg["findings"]}
    assert {k: f["code"] for k, f in found.items()} == {
        f"ext_rpath{musl.ext_suffix}": "MISSING_LIBRARY", "libwga.so.1": "CORRUPT_ELF"}
    assert 'finds but cannot load' in found[f"ext_rpath{musl.ext_suffix}"]["message"]
    proc = _import(musl, site, "wg_m_dep.ext_rpath")
    assert proc.returncode != 0
    assert "libwga.so.1: Exec format error" in proc.stderr, proc.stderr[-500:]
