"""loader.py against the real loaders of this machine (glibc's ld.so --list, musl's
ld-musl --list, ldconfig) and against sysroots built from the fixtures."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from poetry_wheelguard import loader as ld
from poetry_wheelguard.elf import ElfFacts, ElfIdent, identify, read_elf
from tests.support.elffix import elf_fixtures

X86_64 = ElfIdent(64, "little", 62, 0)
GLIBC_LOADER = Path("/lib64/ld-linux-x86-64.so.2")
MUSL_LOADER = Path("/lib/ld-musl-x86_64.so.1")


def facts(path: Path | str) -> ElfFacts:
    result = read_elf(path)
    assert isinstance(result, ElfFacts), result
    return result


def host_loader(flavour: ld.Flavour = "glibc", **kw: object) -> ld.Loader:
    interp = str(MUSL_LOADER) if flavour == "musl" else ""
    config = ld.configure(flavour, X86_64, "EM_X86_64", interp=interp, **kw)  # type: ignore[arg-type]
    return ld.Loader(config, read_elf)


def copy_tree(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, symlinks=True)
    return dest


# --- the search orders, against the real loaders ------------------------------------------

def test_glibc_rpath_is_inherited_runpath_is_not(tmp_path: Path) -> None:
    base = copy_tree(elf_fixtures() / "gnu-x86_64" / "loader", tmp_path / "loader")
    loader = host_loader()
    rp = loader.load(facts(base / "ext_rpath.so"))
    found = {r.needed: (r.how, r.path) for r in rp.resolutions}
    assert found["libwga.so.1"] == ("RPATH", str(base / "deps" / "libwga.so.1"))
    # libwga has no path of its own: the RPATH of the extension that loaded it applies
    assert found["libwgb.so.1"] == ("RPATH", str(base / "deps" / "libwgb.so.1"))
    run = loader.load(facts(base / "ext_runpath.so"))
    found = {r.needed: (r.how, r.path) for r in run.resolutions}
    assert found["libwga.so.1"] == ("RUNPATH", str(base / "deps" / "libwga.so.1"))
    assert found["libwgb.so.1"] == ("", None)


def test_musl_searches_the_whole_rpath_chain(tmp_path: Path) -> None:
    base = copy_tree(elf_fixtures() / "musl-x86_64" / "loader", tmp_path / "loader")
    loader = host_loader("musl")
    run = loader.load(facts(base / "ext_runpath.so"))
    found = {r.needed: (r.how, r.path) for r in run.resolutions}
    assert found["libwgb.so.1"] == ("RUNPATH", str(base / "deps" / "libwgb.so.1"))
    assert found["libc.so"][0] == "libc"


def _ld_list(loader: Path, path: Path) -> tuple[dict[str, str], str]:
    proc = subprocess.run([str(loader), "--list", str(path)], capture_output=True, text=True,
                          check=False)
    out = {}
    for m in re.finditer(r"^\s*(\S+) => (\S+) \(", proc.stdout, re.MULTILINE):
        out[m[1]] = m[2]
    return out, proc.stderr


def _real_objects() -> list[Path]:
    """ELF files whose dependencies both loaders should agree on: the fixtures that
    resolve, this interpreter's own extensions and a few system libraries."""
    import sysconfig

    paths = [Path(p) for p in (elf_fixtures() / "gnu-x86_64").glob("*.so")]
    dynload = Path(sysconfig.get_paths()["platstdlib"]) / "lib-dynload"
    paths += sorted(dynload.glob("*.so"))[:15]
    for lib in ("libstdc++.so.6", "libz.so.1", "libssl.so.3", "libxml2.so.2"):
        for d in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"):
            if (Path(d) / lib).is_file():
                paths.append(Path(d) / lib)
                break
    return paths


@pytest.mark.skipif(not GLIBC_LOADER.exists(), reason="needs the x86_64 glibc loader")
def test_glibc_resolution_agrees_with_ld_so(tmp_path: Path) -> None:
    loader = host_loader()
    checked = 0
    for path in _real_objects():
        real, err = _ld_list(GLIBC_LOADER, path)
        ours = loader.load(facts(path))
        direct = {r.needed: r for r in ours.resolutions}
        missing = re.search(r"error while loading shared libraries: (\S+): cannot open", err)
        if missing:
            assert any(r.needed == missing[1] and r.path is None
                       for r in ours.resolutions), path
            continue
        for name, res in direct.items():
            if name in real and res.path is not None:
                assert os.path.realpath(res.path) == os.path.realpath(real[name]), (path, name)
                checked += 1
        assert all(r.path is not None for r in ours.resolutions), path
    assert checked >= 15


@pytest.mark.skipif(not MUSL_LOADER.exists(), reason="needs musl's loader (apt-get install musl)")
def test_musl_resolution_agrees_with_ld_musl(tmp_path: Path) -> None:
    base = copy_tree(elf_fixtures() / "musl-x86_64", tmp_path / "musl")
    loader = host_loader("musl")
    for path in [base / "healthy.so", base / "loader" / "ext_rpath.so",
                 base / "loader" / "ext_runpath.so"]:
        real, _err = _ld_list(MUSL_LOADER, path)
        ours = {r.needed: r for r in loader.load(facts(path)).resolutions}
        assert set(ours) == set(real), path
        for name, res in ours.items():
            assert res.path is not None
            assert os.path.realpath(res.path) == os.path.realpath(real[name]), (path, name)


# --- ld.so.cache and ld.so.conf -----------------------------------------------------------

@pytest.mark.skipif(shutil.which("ldconfig") is None and not Path("/sbin/ldconfig").exists(),
                    reason="needs ldconfig")
def test_cache_parser_agrees_with_ldconfig() -> None:
    cache = Path("/etc/ld.so.cache")
    if not cache.is_file():
        pytest.skip("no /etc/ld.so.cache on this machine")
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    out = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, check=True).stdout
    expected: dict[str, list[str]] = {}
    for m in re.finditer(r"^\s+(\S+) \(libc6,x86-64\) => (\S+)$", out, re.MULTILINE):
        expected.setdefault(m[1], []).append(m[2])
    parsed = ld.parse_ld_so_cache(cache.read_bytes(), ld.cache_flags(X86_64, "EM_X86_64"))
    assert len(expected) > 50
    assert {k: list(v) for k, v in parsed.items()} == expected


def _glibc_root(tmp_path: Path) -> Path:
    return copy_tree(elf_fixtures() / "sysroot-glibc228-x86_64", tmp_path / "root")


def test_library_in_ld_so_conf_dir_but_not_in_cache(tmp_path: Path) -> None:
    root = _glibc_root(tmp_path)
    (root / "opt/wg/lib").mkdir(parents=True)
    shutil.copy(elf_fixtures() / "gnu-x86_64/libs/libwgabsent.so.1", root / "opt/wg/lib")
    (root / "etc/ld.so.conf").write_text("include /etc/ld.so.conf.d/*.conf\n")
    (root / "etc/ld.so.conf.d").mkdir()
    (root / "etc/ld.so.conf.d/wg.conf").write_text("# ours\n/opt/wg/lib\n")
    assert ld.read_ld_so_conf(str(root)) == ["/opt/wg/lib"]
    config = ld.configure("glibc", X86_64, "EM_X86_64", root=str(root))
    loader = ld.Loader(config, read_elf)
    tree = loader.load(facts(elf_fixtures() / "gnu-x86_64" / "missing.so"))
    res = next(r for r in tree.resolutions if r.needed == "libwgabsent.so.1")
    assert res.path is None
    assert "/opt/wg/lib/libwgabsent.so.1 exists" in res.problem and "ldconfig" in res.problem
    libc = next(r for r in tree.resolutions if r.needed == "libc.so.6")
    assert libc.how == "default" and libc.path == str(root / "lib/x86_64-linux-gnu/libc.so.6")


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ldconfig") is None,
                    reason="ldconfig -r needs root (chroot)")
def test_cache_written_by_ldconfig_in_a_sysroot(tmp_path: Path) -> None:
    root = _glibc_root(tmp_path)
    (root / "opt/wg/lib").mkdir(parents=True)
    shutil.copy(elf_fixtures() / "gnu-x86_64/libs/libwgabsent.so.1", root / "opt/wg/lib")
    (root / "etc/ld.so.conf").write_text("/opt/wg/lib\n")
    subprocess.run(["ldconfig", "-r", str(root)], check=True, capture_output=True)
    config = ld.configure("glibc", X86_64, "EM_X86_64", root=str(root))
    assert config.cache_file == "/etc/ld.so.cache"
    assert config.cache["libwgabsent.so.1"] == ("/opt/wg/lib/libwgabsent.so.1",)
    tree = ld.Loader(config, read_elf).load(facts(elf_fixtures() / "gnu-x86_64/missing.so"))
    res = next(r for r in tree.resolutions if r.needed == "libwgabsent.so.1")
    assert (res.how, res.path) == ("ld.so.cache", str(root / "opt/wg/lib/libwgabsent.so.1"))


def test_parse_cache_old_and_garbage() -> None:
    assert ld.parse_ld_so_cache(b"", 0x303) == {}
    assert ld.parse_ld_so_cache(b"glibc-ld.so.cache1.1" + b"\xff" * 10, 0x303) == {}
    # old format alone: 12-byte entries, strings after the table
    strings = b"libx.so.1\0/lib/libx.so.1\0"
    old = b"ld.so-1.7.0\0" + (1).to_bytes(4, "little") + \
        (0x303).to_bytes(4, "little", signed=True) + (0).to_bytes(4, "little") + \
        (10).to_bytes(4, "little") + strings
    assert ld.parse_ld_so_cache(old, 0x303) == {"libx.so.1": ("/lib/libx.so.1",)}
    assert ld.parse_ld_so_cache(old, 0xA03) == {}


# --- sysroots, musl path files, candidates ------------------------------------------------

def test_resolve_in_root_follows_absolute_links_inside(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "lib").mkdir(parents=True)
    (root / "lib/real.so").write_bytes(b"x")
    os.symlink("/lib/real.so", root / "lib/alias.so")
    os.symlink("/etc/passwd", root / "lib/escape")
    os.symlink("loop", root / "lib/loop")
    assert ld.resolve_in_root(str(root), "/lib/alias.so") == str(root / "lib/real.so")
    assert ld.resolve_in_root(str(root), "/lib/escape") is None  # not the host's file
    assert ld.resolve_in_root(str(root), "/lib/loop") is None
    assert ld.resolve_in_root(str(root), "/../../lib/real.so") == str(root / "lib/real.so")
    assert ld.target_path(str(root), str(root / "lib/real.so")) == "/lib/real.so"


def test_musl_path_file(tmp_path: Path) -> None:
    assert ld.musl_path_file("/lib/ld-musl-x86_64.so.1", "x86_64") == \
        "/etc/ld-musl-x86_64.path"
    assert ld.musl_path_file("/usr/local/musl/lib/ld-musl-aarch64.so.1", "aarch64") == \
        "/usr/local/musl/etc/ld-musl-aarch64.path"
    assert ld.split_musl_path("/a:/b\n/c\n\n:/d") == ("/a", "/b", "/c", "/d")
    root = copy_tree(elf_fixtures() / "sysroot-musl-x86_64", tmp_path / "root")
    (root / "opt/c").mkdir(parents=True)
    shutil.copy(elf_fixtures() / "musl-x86_64/loader/deps/libwgb.so.1", root / "opt/c")
    config = ld.configure("musl", X86_64, "EM_X86_64", root=str(root))
    assert config.default_dirs == ("/lib", "/usr/local/lib", "/usr/lib")
    (root / "etc").mkdir()
    (root / "etc/ld-musl-x86_64.path").write_text("/opt/a\n/opt/b:/opt/c\n")
    config = ld.configure("musl", X86_64, "EM_X86_64", root=str(root))
    assert config.default_dirs == ("/opt/a", "/opt/b", "/opt/c")
    lib = facts(elf_fixtures() / "musl-x86_64/loader/deps/libwga.so.1")
    res = ld.Loader(config, read_elf).find("libwgb.so.1", lib, ())
    assert (res.how, res.path) == ("default", str(root / "opt/c/libwgb.so.1"))
    libc = ld.Loader(config, read_elf).find("libc.so", lib, ())
    assert libc.how == "libc" and libc.path == str(root / "lib/ld-musl-x86_64.so.1")


def test_glibc_skips_other_machines_musl_does_not(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    shutil.copy(elf_fixtures() / "gnu-aarch64/healthy.so", first / "libwgb.so.1")
    shutil.copy(elf_fixtures() / "gnu-x86_64/loader/deps/libwgb.so.1", second)
    assert identify(first / "libwgb.so.1") == ElfIdent(64, "little", 183, 0)
    lib = facts(elf_fixtures() / "gnu-x86_64/loader/deps/libwga.so.1")
    paths = f"{first}:{second}"
    res = host_loader(ld_library_path=paths).find("libwgb.so.1", lib, ())
    assert (res.how, res.path) == ("LD_LIBRARY_PATH", str(second / "libwgb.so.1"))
    res = host_loader("musl", ld_library_path=paths).find("libwgb.so.1", lib, ())
    assert res.path is None and "another machine" in res.problem
    assert host_loader().find("libwgb.so.1", lib, ()).path is None  # env not read unasked


def test_glibc_stops_at_a_file_that_is_not_elf(tmp_path: Path) -> None:
    (tmp_path / "libc.so").write_text("/* GNU ld script */\nGROUP ( libc.so.6 )\n")
    lib = facts(elf_fixtures() / "musl-x86_64/healthy.so")
    res = host_loader(ld_library_path=str(tmp_path)).find("libc.so", lib, ())
    assert res.path is None and "invalid ELF header" in res.problem


def test_default_dirs_follow_where_libc_lives(tmp_path: Path) -> None:
    root = tmp_path / "fedora"
    (root / "usr/lib64").mkdir(parents=True)
    shutil.copy(elf_fixtures() / "sysroot-glibc228-x86_64/lib/x86_64-linux-gnu/libc.so.6",
                root / "usr/lib64/libc.so.6")
    assert ld.glibc_default_dirs(str(root), "EM_X86_64", 64) == ("/lib64", "/usr/lib64")
    assert ld.glibc_default_dirs(str(elf_fixtures() / "sysroot-glibc228-aarch64"),
                                 "EM_AARCH64", 64)[:2] == ("/lib/aarch64-linux-gnu",
                                                           "/usr/lib/aarch64-linux-gnu")
    assert ld.glibc_default_dirs(str(tmp_path / "empty"), "EM_X86_64", 64) == ("/lib", "/usr/lib")
