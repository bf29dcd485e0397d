"""STATIC_TLS and LIBC_MISMATCH on a real musl CPython agree with real import failures."""

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


def test_verdicts_agree_with_musl_imports(musl: MuslPython, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("WHEELGUARD_CACHE_DIR", str(tmp_path / "cache"))
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
    loads = {"wg-m-healthy", "wg-m-glibc"}
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
        code = f"import sys; sys.path.insert(0, {str(site)!r}); import {pkg}.{module}"
        proc = subprocess.run([str(musl.executable), "-I", "-c", code], capture_output=True,
                              text=True, check=False)
        assert (proc.returncode == 0) == (name in loads), (name, proc.stderr[-500:])
