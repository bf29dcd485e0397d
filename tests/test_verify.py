"""pip-guard verify on installed distributions holding the real ELF fixtures: each fixture
yields exactly its code, and on this machine the verdict agrees with a real import."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import replace
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any

import pytest

from poetry_wheelguard import exitcodes
from poetry_wheelguard import verify as v
from poetry_wheelguard.cli import main
from poetry_wheelguard.elf import ElfFacts, read_elf
from poetry_wheelguard.installed import find_distributions, provenance_of
from poetry_wheelguard.loader import LoadTree
from poetry_wheelguard.postinstall import InstalledVerification, verify_installed
from poetry_wheelguard.targets import make_target
from tests.support.elffix import elf_fixtures, make_dist
from tests.support.schema import validate_report

SUFFIX = EXTENSION_SUFFIXES[0]  # this interpreter's own, e.g. .cpython-311-x86_64-linux-gnu.so
OTHER_SUFFIX = ".cpython-39-x86_64-linux-gnu.so" if "-39-" not in SUFFIX else \
    ".cpython-311-x86_64-linux-gnu.so"
ON_X86_64_GLIBC = sysconfig.get_platform() == "linux-x86_64" and bool(
    os.confstr("CS_GNU_LIBC_VERSION") if hasattr(os, "confstr") else "")
pytestmark = pytest.mark.skipif(not ON_X86_64_GLIBC, reason="fixtures target x86_64 glibc")

# distribution -> (fixture file, module file name, the codes verify must give: exactly these)
CASES: dict[str, tuple[str, str, set[str]]] = {
    "wg-healthy": ("gnu-x86_64/healthy.so", f"healthy{SUFFIX}", set()),
    "wg-glibconly": ("gnu-x86_64/glibconly.so", f"glibconly{SUFFIX}", set()),
    "wg-relr": ("gnu-x86_64/relr.so", f"relr{SUFFIX}", set()),  # glibc 2.36 applies DT_RELR
    "wg-tls": ("gnu-x86_64/tls.so", f"tls{SUFFIX}", {"STATIC_TLS"}),
    "wg-execstack": ("gnu-x86_64/execstack.so", f"execstack{SUFFIX}", {"EXEC_STACK"}),
    "wg-missing": ("gnu-x86_64/missing.so", f"missing{SUFFIX}", {"MISSING_LIBRARY"}),
    "wg-undef": ("gnu-x86_64/undef.so", f"undef{SUFFIX}", {"UNDEFINED_SYMBOL"}),
    "wg-nopyinit": ("gnu-x86_64/nopyinit.so", f"nopyinit{SUFFIX}", {"NO_PYINIT"}),
    "wg-libpython": ("gnu-x86_64/libpython.so", f"libpython{SUFFIX}", {"LIBPYTHON"}),
    "wg-suffix": ("gnu-x86_64/healthy.so", f"healthy{OTHER_SUFFIX}", {"EXT_SUFFIX"}),
    "wg-musl": ("musl-x86_64/healthy.so", f"healthy{SUFFIX}", {"LIBC_MISMATCH"}),
    "wg-aarch64": ("gnu-aarch64/healthy.so", f"healthy{SUFFIX}", {"WRONG_MACHINE"}),
    "wg-truncated": ("bad/truncated.so", f"truncated{SUFFIX}", {"CORRUPT_ELF"}),
    "wg-macho": ("bad/macho.so", f"macho{SUFFIX}", {"FOREIGN_BINARY"}),
    "wg-payload": ("gnu-x86_64/missing.so", "payload", {"MISSING_LIBRARY"}),  # no suffix
}
EXPECT_IMPORT_OK = {"wg-healthy", "wg-glibconly", "wg-relr", "wg-tls", "wg-execstack"}


@pytest.fixture(autouse=True)
def _verify_cache(tmp_path_factory: pytest.TempPathFactory,
                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep verify's facts cache out of the user's cache directory."""
    monkeypatch.setenv("WHEELGUARD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def validate(data: object) -> None:
    validate_report(data)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out + out.err


def codes_by_package(report: dict[str, Any], severities: tuple[str, ...] = ("warning", "error")
                     ) -> dict[str, set[str]]:
    return {p["name"]: {f["code"] for f in p["findings"] if f["severity"] in severities}
            for p in report["packages"]}


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("verify") / "site-packages"
    root = elf_fixtures()
    for name, (src, module, _codes) in CASES.items():
        pkg = name.replace("-", "_")
        make_dist(site, name, {f"{pkg}/{module}": root / src, f"{pkg}/__init__.py": b""})
    return site


def test_each_fixture_yields_exactly_its_code(fixture_site: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "r.json"
    code, out = run(["verify", "--path", str(fixture_site), "--report", str(report)], capsys)
    assert code == exitcodes.OK  # warn mode: printed and reported, exit 0
    data = json.loads(report.read_text())
    validate(data)
    assert data["command"] == "verify" and data["exit_code"] == 0
    assert codes_by_package(data) == {name: codes for name, (_s, _m, codes) in CASES.items()}
    for pkg in data["packages"]:
        for finding in pkg["findings"]:
            assert Path(finding["path"]).is_file()
            assert finding["code"] in out
    payload = next(p for p in data["packages"] if p["name"] == "wg-payload")
    assert payload["verification"]["elf_files"] == 1  # found by magic bytes, not by name
    payload_elf = [p for p in fixture_site.rglob("*") if p.is_file()
                   and p.read_bytes()[:4] == b"\x7fELF" and "payload" in str(p)]
    assert payload["verification"]["elf_bytes"] == sum(p.stat().st_size for p in payload_elf)


def test_strict_mode_exit_code(fixture_site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(["--mode", "strict", "verify", "--path", str(fixture_site)], capsys)
    assert code == exitcodes.VERIFY_ERRORS
    code, _ = run(["verify", "--path", str(fixture_site), "--mode", "strict",
                   "--package", "wg-healthy", "--package", "wg-tls"], capsys)
    assert code == exitcodes.OK  # a warning is not an error, even in strict mode


def test_verdicts_agree_with_real_imports(fixture_site: Path) -> None:
    """An error finding means the import fails on this machine; no error means it works."""
    for name, (_src, module, codes) in CASES.items():
        if name in ("wg-payload",):
            continue
        pkg = name.replace("-", "_")
        stem = module.split(".", 1)[0]
        proc = subprocess.run([sys.executable, "-c", f"import {pkg}.{stem}"], cwd=fixture_site,
                              capture_output=True, text=True, check=False)
        assert (proc.returncode == 0) == (name in EXPECT_IMPORT_OK), (name, proc.stderr)
        errors = codes - {"STATIC_TLS", "EXEC_STACK"}
        assert bool(errors) == (proc.returncode != 0), name


# --- files the loader refuses to map ------------------------------------------------------

# distribution -> (fixture, the glibc loader's own error text; None: glibc maps it). Each is
# installed under its own package, named as its PyInit_ function says (healthy, noopen).
REFUSED: dict[str, tuple[str, str | None]] = {
    "wg-r-rel": ("bad/gnu-x86_64/rel.so", "only ET_DYN and ET_EXEC can be loaded"),
    "wg-r-exec": ("bad/gnu-x86_64/exec.so", "cannot dynamically load executable"),
    "wg-r-nonpie": ("gnu-x86_64/nonpie.so", "cannot dynamically load executable"),
    "wg-r-pie": ("gnu-x86_64/pie.so",
                 "cannot dynamically load position-independent executable"),
    "wg-r-noopen": ("gnu-x86_64/noopen.so", "shared object cannot be dlopen()ed"),
    "wg-r-noload": ("bad/gnu-x86_64/noload.so", "object file has no loadable segments"),
    "wg-r-nophdrs": ("bad/gnu-x86_64/nophdrs.so", "object file has no loadable segments"),
    "wg-r-nodyn": ("bad/gnu-x86_64/nodyn.so", "object file has no dynamic section"),
    "wg-r-misaligned": ("bad/gnu-x86_64/misaligned.so",
                        "ELF load command address/offset not page-aligned"),
    "wg-r-healthy": ("gnu-x86_64/healthy.so", None),
}


def _refused_module(name: str) -> str:
    return "noopen" if name == "wg-r-noopen" else "healthy"


@pytest.fixture(scope="module")
def refused_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("refused") / "site-packages"
    fx = elf_fixtures()
    for name, (src, _error) in REFUSED.items():
        pkg = name.replace("-", "_")
        make_dist(site, name, {f"{pkg}/__init__.py": b"",
                               f"{pkg}/{_refused_module(name)}{SUFFIX}": fx / src})
    # an extension whose bundled dependency is an object file: the extension cannot load
    # either (glibc stops at the dependency), and says why
    loader = fx / "gnu-x86_64" / "loader"
    make_dist(site, "wg-r-dep", {
        "wg_r_dep/__init__.py": b"",
        f"wg_r_dep/ext_rpath{SUFFIX}": loader / "ext_rpath.so",
        "wg_r_dep/deps/libwga.so.1": fx / "bad/gnu-x86_64/libwga.so.1",
        "wg_r_dep/deps/libwgb.so.1": loader / "deps/libwgb.so.1"})
    return site


def _import_error(site: Path, module: str) -> str:
    """The stderr of importing ``module`` from ``site`` in a fresh interpreter ("" if the
    import works)."""
    proc = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=site,
                          capture_output=True, text=True, check=False)
    return proc.stderr if proc.returncode else ""


def test_files_the_loader_refuses(refused_site: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Each refused file gives CORRUPT_ELF alone (no NO_PYINIT, EXEC_STACK... for a file that
    cannot load), quoting the error glibc really gives when Python imports it."""
    report = tmp_path / "r.json"
    run(["verify", "--path", str(refused_site), "--report", str(report)], capsys)
    data = json.loads(report.read_text())
    validate(data)
    findings = {p["name"]: p["findings"] for p in data["packages"]}
    for name, (_src, error) in REFUSED.items():
        pkg, module = name.replace("-", "_"), _refused_module(name)
        stderr = _import_error(refused_site, f"{pkg}.{module}")
        if error is None:
            assert findings[name] == [] and stderr == "", (name, stderr)
            continue
        assert [(f["code"], f["severity"]) for f in findings[name]] == [
            ("CORRUPT_ELF", "error")], (name, findings[name])
        message = findings[name][0]["message"]
        assert message.startswith(f"{pkg}/{module}{SUFFIX}: cannot be loaded: ")
        assert f'glibc says "{error}"' in message, message
        assert f"ImportError: {refused_site / pkg / f'{module}{SUFFIX}'}: {error}" in stderr, \
            (name, stderr[-300:])
    dep = {f["path"].rsplit("/", 1)[-1]: (f["code"], f["message"]) for f in findings["wg-r-dep"]}
    assert set(dep) == {f"ext_rpath{SUFFIX}", "libwga.so.1"}
    assert dep["libwga.so.1"][0] == "CORRUPT_ELF"
    code, message = dep[f"ext_rpath{SUFFIX}"]
    assert code == "MISSING_LIBRARY" and "needs libwga.so.1, which the glibc loader" in message
    assert 'finds but cannot load' in message and "only ET_DYN and ET_EXEC" in message
    stderr = _import_error(refused_site, "wg_r_dep.ext_rpath")
    assert "libwga.so.1: only ET_DYN and ET_EXEC can be loaded" in stderr, stderr[-300:]


def test_pie_refusal_follows_the_glibc_release() -> None:
    pie = read_elf(elf_fixtures() / "gnu-x86_64" / "pie.so")
    assert isinstance(pie, ElfFacts)
    path = f"/x/healthy{SUFFIX}"
    for version, refused in (((2, 29), False), ((2, 30), True), (None, True)):
        found, _ = v.check_static(path, "x", pie, _rt(target=replace(TARGET,
                                                                      libc_version=version)))
        assert ("CORRUPT_ELF" in {f.code for f in found}) == refused, version
    musl = make_target(python_version=(3, 11), machine="x86_64", libc="musl",
                       libc_version=(1, 2))
    mpie = read_elf(elf_fixtures() / "musl-x86_64" / "pie.so")
    assert isinstance(mpie, ElfFacts)
    found, go_on = v.check_static(f"/x/healthy{musl.extension_suffixes[0]}", "x", mpie,
                                  _rt(target=musl))
    assert found == [] and go_on  # musl maps a PIE (test_verify_musl imports it)
    # an executable that is run, not imported, is not judged as a library
    tool, _ = v.check_static("/x/bin/tool", "x", pie, _rt())
    assert tool == []


# --- sysroots: the target's libc read from the image ------------------------------------

def _image(tmp_path: Path, sysroot: str, py: str) -> tuple[Path, Path]:
    root = tmp_path / "root"
    shutil.copytree(elf_fixtures() / sysroot, root, symlinks=True)
    site = root / "usr" / "lib" / py / "site-packages"
    return root, site


def test_glibc_228_sysroot_symbol_version(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    root, site = _image(tmp_path, "sysroot-glibc228-x86_64", "python3.11")
    fx = elf_fixtures() / "gnu-x86_64"
    suffix = ".cpython-311-x86_64-linux-gnu.so"
    make_dist(site, "wg-new", {f"wg_new/glibc229{suffix}": fx / "glibc229.so"})
    make_dist(site, "wg-healthy", {f"wg_healthy/healthy{suffix}": fx / "healthy.so"})
    make_dist(site, "wg-relr", {f"wg_relr/relr{suffix}": fx / "relr.so"})
    report = tmp_path / "r.json"
    code, out = run(["verify", "--path", str(site), "--sysroot", str(root),
                     "--report", str(report)], capsys)
    assert code == exitcodes.OK
    data = json.loads(report.read_text())
    validate(data)
    assert data["target"]["libc"] == "glibc" and data["target"]["libc_version"] == "2.28"
    assert codes_by_package(data) == {"wg-new": {"SYMBOL_VERSION"}, "wg-healthy": set(),
                                      "wg-relr": {"SYMBOL_VERSION"}}
    assert "needs GLIBC_2.29 from libc.so.6" in out
    assert "needs GLIBC_ABI_DT_RELR from libc.so.6" in out
    assert "/lib/x86_64-linux-gnu/libc.so.6 does not define (it defines up to GLIBC_2.28)" \
        in out


def test_aarch64_sysroot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, site = _image(tmp_path, "sysroot-glibc228-aarch64", "python3.12")
    fx = elf_fixtures() / "gnu-aarch64"
    suffix = ".cpython-312-aarch64-linux-gnu.so"
    make_dist(site, "wg-new", {f"wg_new/glibc229{suffix}": fx / "glibc229.so"},
              tags=("cp312-cp312-manylinux_2_17_aarch64",))
    make_dist(site, "wg-healthy", {f"wg_healthy/healthy{suffix}": fx / "healthy.so"},
              tags=("cp312-cp312-manylinux_2_17_aarch64",))
    make_dist(site, "wg-x86", {f"wg_x86/healthy{suffix}": elf_fixtures() / "gnu-x86_64/healthy.so"},
              tags=("cp312-cp312-manylinux_2_17_aarch64",))
    report = tmp_path / "r.json"
    run(["verify", "--path", str(site), "--sysroot", str(root), "--report", str(report)], capsys)
    data = json.loads(report.read_text())
    assert data["target"]["machine"] == "aarch64" and data["target"]["interpreter"] == "cp312"
    assert codes_by_package(data) == {"wg-new": {"SYMBOL_VERSION"}, "wg-healthy": set(),
                                      "wg-x86": {"WRONG_MACHINE"}}


def test_musl_sysroot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, site = _image(tmp_path, "sysroot-musl-x86_64", "python3.11")
    musl = elf_fixtures() / "musl-x86_64"
    suffix = ".cpython-311-x86_64-linux-musl.so"
    tag = ("cp311-cp311-musllinux_1_2_x86_64",)
    make_dist(site, "wg-healthy", {f"wg_healthy/healthy{suffix}": musl / "healthy.so"}, tags=tag)
    make_dist(site, "wg-tls", {f"wg_tls/tls{suffix}": musl / "tls.so"}, tags=tag)
    make_dist(site, "wg-glibc", {f"wg_glibc/healthy{suffix}":
                                 elf_fixtures() / "gnu-x86_64/healthy.so"}, tags=tag)
    make_dist(site, "wg-gnutls", {f"wg_gnutls/tls{suffix}":
                                  elf_fixtures() / "gnu-x86_64/tls.so"}, tags=tag)
    make_dist(site, "wg-relr", {f"wg_relr/relr{suffix}": musl / "relr.so"}, tags=tag)
    report = tmp_path / "r.json"
    run(["verify", "--path", str(site), "--sysroot", str(root), "--report", str(report)], capsys)
    data = json.loads(report.read_text())
    assert data["target"]["libc"] == "musl" and data["target"]["libc_version"] == "1.2"
    assert codes_by_package(data) == {"wg-healthy": set(), "wg-tls": {"STATIC_TLS"},
                                      "wg-glibc": {"LIBC_MISMATCH"},
                                      "wg-gnutls": {"LIBC_MISMATCH", "STATIC_TLS"},
                                      "wg-relr": {"UNSUPPORTED_RELR"}}  # the copy is 1.2.3
    assert codes_by_package(data, ("error",))["wg-tls"] == {"STATIC_TLS"}


def test_glibc_image_with_musl_beside_it(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Debian's musl package adds /lib/ld-musl-x86_64.so.1 to a glibc system: the system libc
    is the one whose loader the image's /bin/sh names; with no such witness verify says it
    cannot tell (one line, exit 12) and --libc decides."""
    root, site = _image(tmp_path, "sysroot-glibc228-x86_64", "python3.11")
    fx = elf_fixtures()
    shutil.copy2(fx / "sysroot-musl-x86_64/lib/ld-musl-x86_64.so.1",
                 root / "lib/ld-musl-x86_64.so.1")
    suffix = ".cpython-311-x86_64-linux-gnu.so"
    make_dist(site, "wg-healthy", {f"wg_healthy/healthy{suffix}": fx / "gnu-x86_64/healthy.so"})
    report = tmp_path / "r.json"
    argv = ["verify", "--path", str(site), "--sysroot", str(root), "--report", str(report)]

    code, out = run(argv, capsys)
    assert code == exitcodes.INPUT_ERROR and len(out.strip().splitlines()) == 1, out
    assert "has both glibc (/lib/x86_64-linux-gnu/libc.so.6) and musl " \
           "(/lib/ld-musl-x86_64.so.1)" in out and "pass --libc glibc or --libc musl" in out

    for libc in ("glibc", "musl"):
        code, out = run([*argv, "--libc", libc], capsys)
        assert code == exitcodes.OK
        data = json.loads(report.read_text())
        assert data["target"]["libc"] == libc
        assert f"verifying against {libc} (--libc)" in out
    assert "LIBC_MISMATCH" in codes_by_package(data)["wg-healthy"]  # the musl run's

    (root / "bin").mkdir()
    shutil.copy2(fx / "gnu-x86_64/pie.so", root / "bin/sh")  # PT_INTERP /lib64/ld-linux-...
    code, out = run(argv, capsys)
    assert code == exitcodes.OK
    data = json.loads(report.read_text())
    assert (data["target"]["libc"], data["target"]["libc_version"]) == ("glibc", "2.28")
    assert codes_by_package(data) == {"wg-healthy": set()}
    assert "holds glibc and musl; verifying against glibc (PT_INTERP of /bin/sh)" in out
    code, out = run([*argv, "--libc", "musl"], capsys)  # the flag still wins
    assert json.loads(report.read_text())["target"]["libc"] == "musl"


def test_alpine_image_with_glibc_names_and_glibc_beside_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Alpine's libc6-compat gives musl glibc's names (/lib/libc.so.6, ld-linux): still musl
    alone. A real glibc beside it (in /usr/lib) makes two; the image's own /bin/sh, linked
    against musl, tells."""
    root, site = _image(tmp_path, "sysroot-musl-x86_64", "python3.11")
    fx = elf_fixtures()
    os.symlink("ld-musl-x86_64.so.1", root / "lib/libc.so.6")
    (root / "lib64").mkdir()
    os.symlink("/lib/ld-musl-x86_64.so.1", root / "lib64/ld-linux-x86-64.so.2")
    suffix = ".cpython-311-x86_64-linux-musl.so"
    make_dist(site, "wg-healthy", {f"wg_healthy/healthy{suffix}": fx / "musl-x86_64/healthy.so"},
              tags=("cp311-cp311-musllinux_1_2_x86_64",))
    report = tmp_path / "r.json"
    argv = ["verify", "--path", str(site), "--sysroot", str(root), "--report", str(report)]
    code, out = run(argv, capsys)
    data = json.loads(report.read_text())
    assert code == exitcodes.OK and data["target"]["libc"] == "musl" and "note" not in out
    assert codes_by_package(data) == {"wg-healthy": set()}

    shutil.copy2(fx / "sysroot-glibc228-x86_64/lib/x86_64-linux-gnu/libc.so.6",
                 root / "usr/lib/libc.so.6")
    code, out = run(argv, capsys)
    assert code == exitcodes.INPUT_ERROR and "has both glibc (/usr/lib/libc.so.6)" in out
    (root / "bin").mkdir()
    shutil.copy2(fx / "musl-x86_64/pie.so", root / "bin/sh")  # PT_INTERP /lib/ld-musl-...
    code, out = run(argv, capsys)
    data = json.loads(report.read_text())
    assert code == exitcodes.OK and data["target"]["libc"] == "musl"
    assert codes_by_package(data) == {"wg-healthy": set()}
    assert "verifying against musl (PT_INTERP of /bin/sh)" in out
    code, out = run([*argv, "--libc", "glibc"], capsys)
    assert json.loads(report.read_text())["target"]["libc"] == "glibc"


def test_this_machine_as_sysroot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--sysroot / on this glibc machine is glibc, even where Debian's musl package has put
    /lib/ld-musl-x86_64.so.1 beside it (its own Python or /bin/sh names ld-linux)."""
    major, minor = sys.version_info[:2]
    site = tmp_path / "lib" / f"python{major}.{minor}" / "site-packages"
    make_dist(site, "wg-healthy", {f"wg_healthy/healthy{SUFFIX}":
                                   elf_fixtures() / "gnu-x86_64/healthy.so"},
              tags=(f"cp{major}{minor}-cp{major}{minor}-manylinux_2_17_x86_64",))
    report = tmp_path / "r.json"
    code, out = run(["verify", "--path", str(site), "--sysroot", "/", "--report",
                     str(report)], capsys)
    assert code == exitcodes.OK
    data = json.loads(report.read_text())
    glibc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    assert data["target"]["libc"] == "glibc"
    assert data["target"]["libc_version"] == glibc.split()[1]
    assert codes_by_package(data) == {"wg-healthy": set()}
    if any(Path("/lib").glob("ld-musl-*.so.1")):  # the reported case: musl installed too
        assert "holds glibc and musl; verifying against glibc (PT_INTERP of" in out


def test_sysroot_suffixes_follow_cpython(tmp_path: Path) -> None:
    from poetry_wheelguard.image.rootfs import sysroot_extension_suffixes

    root = tmp_path / "root"
    assert sysroot_extension_suffixes(str(root), (3, 10), "x86_64", "musl")[0] == \
        ".cpython-310-x86_64-linux-gnu.so"  # CPython <= 3.10 says -gnu on musl too
    assert sysroot_extension_suffixes(str(root), (3, 12), "x86_64", "musl")[0] == \
        ".cpython-312-x86_64-linux-musl.so"
    lib = root / "usr/lib/python3.10"
    lib.mkdir(parents=True)
    (lib / "_sysconfigdata__linux_x86_64-linux-musl.py").write_text(
        "# system configuration\nbuild_time_vars = {'SOABI': 'cpython-310-x86_64-linux-musl',"
        " 'EXT_SUFFIX': '.cpython-310-x86_64-linux-musl.so'}\n")
    assert sysroot_extension_suffixes(str(root), (3, 10), "x86_64", "musl") == [
        ".cpython-310-x86_64-linux-musl.so", ".abi3.so", ".so"]


# --- distribution-level codes -------------------------------------------------------------

SETUP_PY = """
from setuptools import setup
from setuptools.dist import Distribution

class BinaryDistribution(Distribution):
    # as PyYAML's setup.py when its C extension cannot be built: the wheel keeps a
    # platform tag, but no extension is in it
    def has_ext_modules(self):
        return True

setup(name="wg-silent", version="1.0", packages=["wg_silent"], distclass=BinaryDistribution)
"""


def _pip_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PIP_FIND_LINKS"}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


def test_silent_pure_build_from_a_real_local_build(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "src"
    (src / "wg_silent").mkdir(parents=True)
    (src / "wg_silent/__init__.py").write_text("")
    (src / "setup.py").write_text(SETUP_PY)
    subprocess.run(["tar", "czf", str(tmp_path / "wg-silent-1.0.tar.gz"), "-C", str(tmp_path),
                    "src"], check=True)
    site = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps",
         "--no-index", "--target", str(site), str(src)],
        capture_output=True, text=True, env=_pip_env(), check=False)
    assert proc.returncode == 0, proc.stderr
    (dist,) = find_distributions([str(site)])
    assert dist.provenance == "local" and dist.first_party  # pip records the directory
    report = tmp_path / "r.json"
    run(["verify", "--path", str(site), "--report", str(report)], capsys)
    data = json.loads(report.read_text())
    (pkg,) = data["packages"]
    assert {f["code"]: f["severity"] for f in pkg["findings"]} == {
        "SILENT_PURE_BUILD": "warning"}  # a local project: reported, not an error
    tag = pkg["tags"][0]
    assert pkg["findings"][0]["message"] == (
        f"wg-silent 1.0: built from a local directory, platform-tagged ({tag}), but it "
        "contains no compiled file: the build dropped its extension")
    # the same wheel, as pip installs it from an sdist of a project on an index
    (Path(dist.path) / "direct_url.json").unlink()
    run(["verify", "--path", str(site), "--report", str(report)], capsys)
    (pkg,) = json.loads(report.read_text())["packages"]
    assert {f["code"]: f["severity"] for f in pkg["findings"]} == {"SILENT_PURE_BUILD": "error"}
    assert pkg["findings"][0]["message"] == (
        f"wg-silent 1.0: built locally (tag {tag}: installers give that tag to the wheels "
        "they build; indexes do not serve it), platform-tagged, but it contains no compiled "
        "file: the build dropped its extension")
    assert pkg["verification"]["provenance"] == "local"
    assert pkg["tags"][0].endswith("linux_x86_64")


LINUX, MANY = "cp313-cp313-linux_x86_64", "cp313-cp313-manylinux_2_17_x86_64"


@pytest.mark.parametrize(("tag", "direct_url", "says"), [
    (LINUX, None, f"built locally (tag {LINUX}: installers give that tag to the wheels they "
                  "build; indexes do not serve it), platform-tagged"),
    (MANY, {"url": "file:///p", "dir_info": {}},
     f"built from a local directory, platform-tagged ({MANY})"),
    (MANY, {"url": "file:///p", "dir_info": {"editable": True}},
     f"built from a local directory (editable), platform-tagged ({MANY})"),
    (LINUX, {"url": "https://g/r", "vcs_info": {"vcs": "git", "commit_id": "a"}},
     f"built from a VCS checkout, platform-tagged ({LINUX})"),
    (MANY, {"url": "https://h/PyYAML-6.0.1.tar.gz", "archive_info": {}},
     f"built from the sdist PyYAML-6.0.1.tar.gz, platform-tagged ({MANY})"),
])
def test_silent_pure_build_says_its_provenance_once(
        tmp_path: Path, tag: str, direct_url: dict[str, Any] | None, says: str) -> None:
    """Every way of being built locally reads as one phrase (handed case S6 first), never
    wrapped in another "built locally (...)"; the tag is named once."""
    make_dist(tmp_path, "PyYAML", {"yaml/__init__.py": b""}, version="6.0.1", tags=(tag,),
              direct_url=direct_url)
    (dist,) = find_distributions([str(tmp_path)])
    target = make_target(python_version=(3, 13), machine="x86_64", libc="glibc",
                         libc_version=(2, 36))
    (finding,) = v.check_distribution(dist, target, 0, 0)
    assert finding.code == "SILENT_PURE_BUILD"
    assert finding.message == (f"PyYAML 6.0.1: {says}, but it contains no compiled file: "
                               "the build dropped its extension")
    assert finding.message.count("built ") == 1 and finding.message.count(tag) == 1


def test_elf_in_pure_and_unsupported_tag(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site"
    fx = elf_fixtures() / "gnu-x86_64"
    make_dist(site, "wg-pure", {"wg_pure/libhelper.so": fx / "libs/libwgabsent.so.1",
                                "wg_pure/__init__.py": b""}, tags=("py3-none-any",))
    make_dist(site, "wg-old", {"wg_old/__init__.py": b""},
              tags=("cp27-cp27mu-manylinux1_x86_64",))
    make_dist(site, "wg-plain", {"wg_plain/__init__.py": b""}, tags=("py3-none-any",))
    report = tmp_path / "r.json"
    run(["verify", "--path", str(site), "--report", str(report)], capsys)
    data = json.loads(report.read_text())
    validate(data)
    assert codes_by_package(data) == {"wg-pure": {"ELF_IN_PURE"},
                                      "wg-old": {"UNSUPPORTED_TAG"}, "wg-plain": set()}
    prov = {p["name"]: p["verification"]["provenance"] for p in data["packages"]}
    assert prov == {"wg-pure": "pure", "wg-old": "index", "wg-plain": "pure"}


def test_metadata_headers_and_body(tmp_path: Path) -> None:
    info = make_dist(tmp_path, "wg-meta", {"wg_meta/__init__.py": b""}, version="2.0")
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: WG.Meta\nVersion: 2.0\nSummary: first\n  second\n"
        "\nName: not-a-header\nVersion: 9\n")
    (info / "WHEEL").write_text("Wheel-Version: 1.0\nGenerator: maturin (1.4)\n"
                                "Root-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n"
                                "Tag: cp311-cp311-manylinux_2_17_x86_64\n")
    (dist,) = find_distributions([str(tmp_path)])
    assert (dist.name, dist.display_name, dist.version) == ("wg-meta", "WG.Meta", "2.0")
    assert dist.generator == "maturin (1.4)" and dist.root_is_purelib is False
    assert dist.tags == ("cp311-cp311-linux_x86_64", "cp311-cp311-manylinux_2_17_x86_64")
    assert dist.provenance == "local" and dist.installer == "pip"
    assert dist.wheel_filename() == \
        "wg_meta-2.0-cp311-cp311-linux_x86_64.manylinux_2_17_x86_64.whl"


def test_provenance_rules() -> None:
    assert provenance_of(["cp311-cp311-linux_x86_64"], None, True)[0] == "local"
    assert provenance_of(["cp311-cp311-manylinux_2_17_x86_64"], None, True)[0] == "index"
    assert provenance_of(["py3-none-any"], None, True)[0] == "pure"
    assert provenance_of([], None, False)[0] == "unknown"
    sdist = {"url": "https://h/x-1.0.tar.gz", "archive_info": {}}
    assert provenance_of(["cp311-cp311-manylinux_2_17_x86_64"], sdist, True)[0] == "local"
    vcs = {"url": "https://github.com/o/r", "vcs_info": {"vcs": "git", "commit_id": "a"}}
    assert provenance_of(["py3-none-any"], vcs, True) == ("local", "built from a VCS checkout",
                                                          True)


# --- the command line ---------------------------------------------------------------------

def test_usage_and_input_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(["verify", "--sysroot", str(tmp_path)], capsys)
    assert code == exitcodes.USAGE and "--sysroot needs --path" in out
    code, out = run(["verify", "--bogus"], capsys)
    assert code == exitcodes.USAGE
    code, out = run(["verify", "--path", str(tmp_path / "absent")], capsys)
    assert code == exitcodes.INPUT_ERROR and "absent" in out and "Traceback" not in out
    code, out = run(["verify", "--python", str(tmp_path / "nopython")], capsys)
    assert code == exitcodes.INPUT_ERROR and "Traceback" not in out
    code, out = run(["verify", "--path", str(tmp_path), "--sysroot", str(tmp_path)], capsys)
    assert code == exitcodes.INPUT_ERROR and "no libc found in the sysroot" in out
    code, out = run(["verify", "--path", str(tmp_path), "--libc", "musl"], capsys)
    assert code == exitcodes.USAGE and "--libc needs --sysroot" in out
    code, out = run(["verify", "--path", str(tmp_path), "--sysroot", str(tmp_path),
                     "--libc", "uclibc"], capsys)
    assert code == exitcodes.USAGE
    root, site = _image(tmp_path / "img", "sysroot-glibc228-x86_64", "python3.11")
    site.mkdir(parents=True)
    code, out = run(["verify", "--path", str(site), "--sysroot", str(root), "--libc", "musl"],
                    capsys)
    assert code == exitcodes.INPUT_ERROR and "--libc musl: the sysroot has no musl" in out
    assert "Traceback" not in out
    (tmp_path / "site").mkdir()
    code, out = run(["verify", "--path", str(tmp_path / "site"), "--package", "nothere"], capsys)
    assert code == exitcodes.INPUT_ERROR and "nothere" in out


def test_verify_installed_runs_a_separate_process(fixture_site: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python*/site-packages"))
    for name in ("wg-healthy", "wg-missing", "wg-tls"):
        dist_info = next(fixture_site.glob(f"{name.replace('-', '_')}-*.dist-info"))
        shutil.copytree(dist_info, site / dist_info.name)
        pkg = name.replace("-", "_")
        shutil.copytree(fixture_site / pkg, site / pkg)
    seen: list[list[str]] = []

    def runner(cmd: Any) -> subprocess.CompletedProcess[str]:
        seen.append(list(cmd))
        return subprocess.run(list(cmd), capture_output=True, text=True, check=False)

    result = verify_installed(str(venv / "bin" / "python"), ["wg-missing", "wg-tls"],
                              mode="strict", runner=runner)
    assert isinstance(result, InstalledVerification)
    assert seen[0][:4] == [sys.executable, "-I", "-S", "-c"] and seen[0][5] == "verify"
    assert result.exit_code == exitcodes.VERIFY_ERRORS
    assert {k: [f.code for f in fs] for k, fs in result.findings.items()} == {
        "wg-missing": ["MISSING_LIBRARY"], "wg-tls": ["STATIC_TLS"]}
    assert result.verification["wg-tls"]["elf_files"] == 1
    result = verify_installed(str(venv / "bin" / "python"))
    assert result.exit_code == 0 and set(result.findings) == {"wg-healthy", "wg-missing",
                                                              "wg-tls"}


# --- the rules, on facts ------------------------------------------------------------------

TARGET = make_target(python_version=(3, 11), machine="x86_64", libc="glibc",
                     libc_version=(2, 36), libpython="libpython3.11.so")


def _rt(**kw: Any) -> v.Runtime:
    return v.Runtime(kw.pop("target", TARGET), 64, "little", 62, **kw)


def _facts(name: str) -> ElfFacts:
    f = read_elf(elf_fixtures() / "gnu-x86_64" / name)
    assert isinstance(f, ElfFacts)
    return f


def test_exec_stack_severity_follows_glibc_version() -> None:
    facts = _facts("execstack.so")
    path = f"/x/execstack{SUFFIX}"
    for version, severity in (((2, 36), "warning"), ((2, 41), "error")):
        target = replace(TARGET, libc_version=version)
        found, _ = v.check_static(path, "x", facts, _rt(target=target))
        assert [(f.code, f.severity) for f in found] == [("EXEC_STACK", severity)]
    musl = make_target(python_version=(3, 11), machine="x86_64", libc="musl",
                       libc_version=(1, 2))
    found, _ = v.check_static(f"/x/execstack{musl.extension_suffixes[0]}", "x",
                              replace(facts, needed=("libc.so",)), _rt(target=musl))
    assert found == []  # musl ignores PT_GNU_STACK
    no_header = replace(_facts("healthy.so"), has_gnu_stack=False, exec_stack=True)
    found, _ = v.check_static(f"/x/healthy{SUFFIX}", "x", no_header, _rt())
    assert [f.code for f in found] == ["EXEC_STACK"] and "no PT_GNU_STACK" in found[0].message


def test_relr_by_libc_release() -> None:
    facts = replace(_facts("relr.so"), needed=("libc.so",), version_needs=())
    musl = make_target(python_version=(3, 11), machine="x86_64", libc="musl",
                       libc_version=(1, 2))
    path = f"/x/relr{musl.extension_suffixes[0]}"
    for release, expected in (((1, 2, 3), [("UNSUPPORTED_RELR", "error")]),
                              ((1, 2, 4), []), (None, [("UNSUPPORTED_RELR", "warning")])):
        found, _ = v.check_static(path, "x", facts, _rt(target=musl, libc_release=release))
        assert [(f.code, f.severity) for f in found] == expected, release
    old = replace(TARGET, libc_version=(2, 35))
    lld_style = replace(_facts("relr.so"), version_needs=())  # no GLIBC_ABI_DT_RELR need
    found, _ = v.check_static(f"/x/relr{SUFFIX}", "x", lld_style, _rt(target=old))
    assert [f.code for f in found] == ["UNSUPPORTED_RELR"]
    found, _ = v.check_static(f"/x/relr{SUFFIX}", "x", _facts("relr.so"), _rt(target=old))
    assert found == []  # its GLIBC_ABI_DT_RELR need: SYMBOL_VERSION's to report


def test_libpython_against_a_static_interpreter() -> None:
    static = replace(TARGET, libpython=None)
    facts = replace(_facts("healthy.so"), needed=("libpython3.11.so.1.0", "libc.so.6"))
    found, _ = v.check_static(f"/x/healthy{SUFFIX}", "x", facts, _rt(target=static))
    assert [f.code for f in found] == ["LIBPYTHON"]
    found, _ = v.check_static(f"/x/healthy{SUFFIX}", "x", facts, _rt())
    assert found == []  # its own libpython: fine


def test_wrong_float_abi_is_wrong_machine() -> None:
    arm = make_target(python_version=(3, 11), machine="armv7l", libc="glibc",
                      libc_version=(2, 36))
    facts = replace(_facts("healthy.so"), e_machine=40, machine="EM_ARM", elf_class=32,
                    e_flags=0x05000200)  # EABI5, soft float
    rt = v.Runtime(arm, 32, "little", 40, e_flags=0x05000400)  # hard-float interpreter
    found, go_on = v.check_static(f"/x/healthy{arm.extension_suffixes[0]}", "x", facts, rt)
    assert [f.code for f in found] == ["WRONG_MACHINE"] and not go_on


def test_foreign_osabi_and_names() -> None:
    facts = replace(_facts("healthy.so"), osabi=9)  # ELFOSABI_FREEBSD
    found, _ = v.check_static(f"/x/healthy{SUFFIX}", "x", facts, _rt())
    assert [f.code for f in found] == ["FOREIGN_BINARY"]
    from poetry_wheelguard.elf import NotElf

    exe = NotElf("/x/t64.exe", "pe")  # pip's Windows launchers: never loaded on Linux
    assert v.check_static("/x/t64.exe", "x", exe, _rt()) == ([], False)
    assert v.looks_like_shared_object("/x/libfoo.so.1.2")


def test_suffix_of_an_unused_sibling_is_info() -> None:
    facts = _facts("healthy.so")
    found, _ = v.check_static(f"/x/healthy{OTHER_SUFFIX}", "x", facts, _rt(),
                              siblings=[f"healthy{OTHER_SUFFIX}", f"healthy{SUFFIX}"])
    assert [(f.code, f.severity) for f in found] == [("EXT_SUFFIX", "info")]


def test_entry_points_and_cycles() -> None:
    trees = {
        "a.so": LoadTree("a.so", ("a.so", "lib1.so", "lib2.so"), ()),
        "lib1.so": LoadTree("lib1.so", ("lib1.so", "lib2.so"), ()),
        "lib2.so": LoadTree("lib2.so", ("lib2.so",), ()),
        "c1.so": LoadTree("c1.so", ("c1.so", "c2.so"), ()),
        "c2.so": LoadTree("c2.so", ("c2.so", "c1.so"), ()),
    }
    assert v.entry_points(list(trees), trees) == ["a.so", "c1.so", "c2.so"]
    assert v.libc_of(_facts("healthy.so")) == "glibc"
    musl = read_elf(elf_fixtures() / "musl-x86_64/healthy.so")
    assert isinstance(musl, ElfFacts) and v.libc_of(musl) == "musl"
    assert v.is_extension(f"/x/healthy{SUFFIX}", _facts("healthy.so"))
    assert not v.is_extension("/x/libwgabsent.so.1",
                              read_elf(elf_fixtures() / "gnu-x86_64/libs/libwgabsent.so.1"))  # type: ignore[arg-type]


def test_facts_cache_follows_file_changes(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site"
    fx = elf_fixtures() / "gnu-x86_64"
    info = make_dist(site, "wg-change", {f"wg_change/healthy{SUFFIX}": fx / "healthy.so",
                                         "wg_change/data.bin": b"plain data, not code"})
    report = tmp_path / "r.json"

    def verify() -> dict[str, Any]:
        run(["verify", "--path", str(site), "--report", str(report)], capsys)
        return json.loads(report.read_text())

    first = verify()
    assert codes_by_package(first) == {"wg-change": set()}
    assert first["verification"]["cache"]["misses"] > 0
    second = verify()
    assert second["verification"]["cache"]["misses"] == 0  # nothing read again
    assert second["packages"] == first["packages"]
    # the module is replaced in place: its inode's size/times change, it is read again
    shutil.copyfile(fx / "missing.so", site / f"wg_change/healthy{SUFFIX}")
    assert codes_by_package(verify()) == {"wg-change": {"MISSING_LIBRARY", "NO_PYINIT"}}
    # a reinstall rewrites RECORD: the magic-byte scan is made again and finds new ELF files
    shutil.copyfile(fx / "undef.so", site / "wg_change/data.bin")
    (info / "RECORD").write_text((info / "RECORD").read_text())
    third = verify()
    assert third["packages"][0]["verification"]["elf_files"] == 2
    assert run(["verify", "--path", str(site), "--no-cache", "--report", str(report)],
               capsys)[0] == 0
    assert json.loads(report.read_text())["verification"]["cache"]["file"] is None


def test_cache_records_round_trip() -> None:
    from poetry_wheelguard.elf import CorruptElf, NotElf, result_from_json, result_to_json

    for path in [elf_fixtures() / "gnu-x86_64" / "glibc229.so",
                 elf_fixtures() / "gnu-i386" / "healthy.so"]:
        facts = read_elf(path)
        assert result_from_json(json.loads(json.dumps(result_to_json(facts)))) == facts
    for other in (NotElf("/x", "macho"), CorruptElf("/x", "truncated")):
        assert result_from_json(result_to_json(other)) == other
    with pytest.raises(ValueError):
        result_from_json({"kind": "elf", "path": "/x"})


def test_index_applies_the_install_policy(index_server: Any, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Installed by plain pip (no guard): --index judges what is installed afterwards."""
    site = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-cache-dir", "--target", str(site),
         "--index-url", index_server.url, "wg-purefallback==1.0", "wg-healthy==1.0"],
        capture_output=True, text=True, env=_pip_env(), check=False)
    assert proc.returncode == 0, proc.stderr
    report = tmp_path / "r.json"
    code, out = run(["--mode", "strict", "verify", "--path", str(site), "--index",
                     index_server.url, "--report", str(report)], capsys)
    assert code == exitcodes.VERIFY_ERRORS
    data = json.loads(report.read_text())
    validate(data)
    assert codes_by_package(data) == {"wg-purefallback": {"PURE_FALLBACK"},
                                      "wg-healthy": set(), "wg-puredep": set()}
    assert "cp37" in out and "manylinux1_x86_64" in out


def test_running_interpreter_by_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    report = tmp_path / "r.json"
    code, _out = run(["verify", "--package", "pyelftools", "--package", "packaging",
                      "--report", str(report)], capsys)
    assert code == exitcodes.OK
    data = json.loads(report.read_text())
    assert [p["name"] for p in data["packages"]] == ["packaging", "pyelftools"]
    assert data["target"]["interpreter"] == f"cp{sys.version_info[0]}{sys.version_info[1]}"
    assert data["verification"]["loader"]["flavour"] == "glibc"


# --- a package's __init__ extension (pydantic 1.x: pydantic/__init__.cpython-311-...so) ------

def test_package_init_extension_is_initialised_under_the_package_name(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """CPython imports ``healthy/__init__<suffix>`` as the module ``healthy`` and calls
    ``PyInit_healthy``: no NO_PYINIT. The same file as ``other/__init__<suffix>`` would need
    ``PyInit_other``: NO_PYINIT, and the real import fails too."""
    site = tmp_path / "site-packages"
    healthy = elf_fixtures() / "gnu-x86_64/healthy.so"
    make_dist(site, "healthy", {f"healthy/__init__{SUFFIX}": healthy})
    make_dist(site, "other", {f"other/__init__{SUFFIX}": healthy})
    report = tmp_path / "r.json"
    code, _out = run(["--mode", "strict", "verify", "--path", str(site), "--package", "healthy",
                      "--report", str(report)], capsys)
    assert code == exitcodes.OK
    data = json.loads(report.read_text())
    assert codes_by_package(data) == {"healthy": set()}
    assert data["packages"][0]["verification"]["elf_files"] == 1
    code, _out = run(["verify", "--path", str(site), "--package", "other",
                      "--report", str(report)], capsys)
    assert codes_by_package(json.loads(report.read_text())) == {"other": {"NO_PYINIT"}}
    for pkg, ok in (("healthy", True), ("other", False)):
        proc = subprocess.run([sys.executable, "-c", f"import {pkg}"], cwd=site,
                              capture_output=True, text=True, check=False)
        assert (proc.returncode == 0) == ok, (pkg, proc.stderr)


def test_module_init_name() -> None:
    assert v.module_init_name("/s/pydantic/__init__.cpython-311-x86_64-linux-gnu.so") == \
        "pydantic"
    assert v.module_init_name("/s/pydantic/fields.cpython-311-x86_64-linux-gnu.so") == "fields"
    assert v.module_init_name("_cffi_backend.abi3.so") == "_cffi_backend"


# --- a venv of Debian's own /usr/bin/python3 (S12) ----------------------------------------

DEBIAN_PYTHON = Path("/usr/bin/python3")


def _debian_python() -> str:
    """``/usr/bin/python3`` when it is Debian's (default scheme ``posix_local``) and of this
    interpreter's minor version (the fixture wheels are built for it); else skip."""
    if not DEBIAN_PYTHON.is_file():
        pytest.skip("no /usr/bin/python3")
    proc = subprocess.run([str(DEBIAN_PYTHON), "-c", "import sys, sysconfig; print("
                           "sysconfig.get_default_scheme(), sys.version_info[:2] == "
                           f"{tuple(sys.version_info[:2])})"],
                          capture_output=True, text=True, check=False)
    if proc.stdout.split() != ["posix_local", "True"]:
        pytest.skip(f"/usr/bin/python3 is not a Debian Python {sys.version_info[:2]}")
    return str(DEBIAN_PYTHON)


def test_debian_system_python_venv_is_found_and_verified(
        index_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """S12: ``/usr/bin/python3 -m venv`` (Debian patches the default scheme to
    ``posix_local``); a compiled wheel installed into it by real pip is found by
    ``verify --python`` and verified with no finding, in strict mode."""
    venv = tmp_path / "dvenv"
    subprocess.run([_debian_python(), "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # An empty environment: nothing where the target installs packages is no pass.
    code, out = run(["--mode", "strict", "verify", "--python", str(python)], capsys)
    assert code == exitcodes.INPUT_ERROR, out
    (line,) = out.splitlines()
    assert "found no installed distribution" in line and "site-packages" in line
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-cache-dir",
         "--no-deps", "--index-url", index_server.url, "wg-healthy==1.0"],
        capture_output=True, text=True, env=_pip_env(), check=False)
    assert proc.returncode == 0, proc.stderr
    imported = subprocess.run([str(python), "-c", "import wg_healthy._native as m; "
                               "print(m.answer())"], capture_output=True, text=True,
                              check=False)
    assert imported.stdout.strip() == "42", imported.stderr
    report = tmp_path / "r.json"
    code, out = run(["--mode", "strict", "verify", "--python", str(python), "--report",
                     str(report)], capsys)
    assert code == exitcodes.OK, out
    data = json.loads(report.read_text())
    validate(data)
    assert codes_by_package(data, ("info", "warning", "error")) == {"wg-healthy": set()}
    assert data["verification"]["sites"] == [str(venv / "lib" / f"python{sys.version_info[0]}."
                                                 f"{sys.version_info[1]}" / "site-packages")]
    assert data["verification"]["elf_files"] == 1
    assert out.splitlines()[-2:] == [
        "verified 1 compiled file in 1 distribution: 0 errors, 0 warnings",
        "1 package: 1 ok, 0 warn, 0 refused"]


def test_many_findings_of_a_package_are_grouped(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """The Poetry-on-musl run printed ~100 finding lines for 4 packages: one package with
    40 musl-linked extension modules (LIBC_MISMATCH on glibc; NO_PYINIT too, their init
    function is not named after the file) prints one line and one hint per code; the
    report still lists every file."""
    site = tmp_path / "site-packages"
    root = elf_fixtures()
    files: dict[str, Path | bytes] = {"wg_many/__init__.py": b""}
    files.update({f"wg_many/m{i}{SUFFIX}": root / "musl-x86_64/healthy.so" for i in range(40)})
    make_dist(site, "wg-many", files)
    report = tmp_path / "r.json"
    code, out = run(["verify", "--path", str(site), "--report", str(report)], capsys)
    assert code == exitcodes.OK
    data = json.loads(report.read_text())
    (pkg,) = data["packages"]
    assert sum(f["code"] == "LIBC_MISMATCH" for f in pkg["findings"]) == 40
    finding_lines = [ln for ln in out.splitlines() if ": LIBC_MISMATCH" in ln]
    assert len(finding_lines) == 1, out
    assert "(and 39 more files of wg-many with LIBC_MISMATCH: see the report)" in \
        finding_lines[0]
    assert len([ln for ln in out.splitlines() if ": NO_PYINIT" in ln]) == 1
    assert sum(f["code"] == "NO_PYINIT" for f in pkg["findings"]) == 40
    assert sum(ln.startswith("  hint:") for ln in out.splitlines()) == 2
