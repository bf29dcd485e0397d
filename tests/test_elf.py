"""elf.py against ELF files made by gcc, musl-gcc and aarch64-linux-gnu-gcc, checked
against binutils' readelf where readelf can tell the same fact."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from poetry_wheelguard import elf
from poetry_wheelguard.elf import CorruptElf, ElfFacts, NotElf, read_elf, read_interp
from tests.support.elffix import elf_fixtures, toolchain_missing


def facts(path: Path) -> ElfFacts:
    result = read_elf(path)
    assert isinstance(result, ElfFacts), result
    return result


def test_healthy_glibc_module() -> None:
    f = facts(elf_fixtures() / "gnu-x86_64" / "healthy.so")
    assert (f.elf_class, f.endianness, f.machine, f.e_machine) == (64, "little", "EM_X86_64", 62)
    assert f.loadable and f.dynamic
    assert f.needed == ("libc.so.6",)
    assert f.pyinit == ("PyInit_healthy",)
    assert {"PyModule_Create2", "strlen"} <= set(f.undefined)
    assert "wg_work" in f.defined and "PyInit_healthy" in f.defined
    assert elf.VersionNeed("libc.so.6", "GLIBC_2.2.5", False) in f.version_needs
    assert not f.static_tls and not f.exec_stack and f.has_gnu_stack
    assert f.interp is None and f.rpath is None and f.runpath is None


def test_flags_of_the_defect_fixtures() -> None:
    base = elf_fixtures() / "gnu-x86_64"
    assert facts(base / "tls.so").static_tls
    assert facts(base / "execstack.so").exec_stack
    assert facts(base / "missing.so").needed == ("libwgabsent.so.1", "libc.so.6")
    assert facts(base / "undef.so").undefined.count("wg_nowhere") == 1
    assert facts(base / "nopyinit.so").pyinit == ()
    assert facts(base / "libpython.so").needed[0] == "libpython3.8.so.1.0"
    assert facts(base / "relr.so").relr and not facts(base / "healthy.so").relr
    needs = {(n.library, n.version) for n in facts(base / "glibc229.so").version_needs}
    assert ("libc.so.6", "GLIBC_2.29") in needs


def test_rpath_and_runpath() -> None:
    base = elf_fixtures() / "gnu-x86_64" / "loader"
    rp = facts(base / "ext_rpath.so")
    assert (rp.rpath, rp.runpath) == ("$ORIGIN/deps", None)
    run = facts(base / "ext_runpath.so")
    assert (run.rpath, run.runpath) == (None, "$ORIGIN/deps")
    lib = facts(base / "deps" / "libwga.so.1")
    assert lib.soname == "libwga.so.1" and lib.needed[0] == "libwgb.so.1"


def test_musl_and_cross_and_32bit() -> None:
    root = elf_fixtures()
    musl = facts(root / "musl-x86_64" / "healthy.so")
    assert musl.needed == ("libc.so",) and musl.version_needs == ()
    assert facts(root / "musl-x86_64" / "tls.so").static_tls
    arm = facts(root / "gnu-aarch64" / "healthy.so")
    assert (arm.machine, arm.e_machine, arm.elf_class) == ("EM_AARCH64", 183, 64)
    i386 = facts(root / "gnu-i386" / "healthy.so")  # Elf32 layouts, DT_HASH only
    assert (i386.elf_class, i386.machine) == (32, "EM_386")
    assert i386.pyinit == ("PyInit_healthy",) and "strlen" in i386.undefined


def test_stub_libc_stops_at_glibc_2_28() -> None:
    libc = facts(elf_fixtures() / "sysroot-glibc228-aarch64/lib/aarch64-linux-gnu/libc.so.6")
    assert libc.version_defs[0] == "GLIBC_2.17" and libc.version_defs[-1] == "GLIBC_2.28"
    assert "GLIBC_2.29" not in libc.version_defs
    assert "strlen" in libc.defined and "posix_spawn_file_actions_addchdir_np" not in libc.defined


def test_what_a_loader_checks_before_mapping() -> None:
    """e_type, PT_LOAD count and congruence, PT_DYNAMIC, DT_FLAGS_1: facts of real builds and
    of real modules whose headers were rewritten - parsed, not CorruptElf (the loader model
    judges them, loader.load_refusal)."""
    root = elf_fixtures()
    for key in ("gnu-x86_64", "musl-x86_64"):
        healthy = facts(root / key / "healthy.so")
        assert healthy.e_type == elf.ET_DYN and healthy.load_segments >= 2
        assert not healthy.load_misaligned and healthy.dynamic
        assert healthy.flags_1 & (elf.DF_1_PIE | elf.DF_1_NOOPEN) == 0
        pie, nonpie = facts(root / key / "pie.so"), facts(root / key / "nonpie.so")
        assert pie.e_type == elf.ET_DYN and pie.flags_1 & elf.DF_1_PIE and pie.interp
        assert nonpie.e_type == elf.ET_EXEC and not nonpie.flags_1 & elf.DF_1_PIE
        assert "PyInit_healthy" in pie.pyinit and "PyInit_healthy" in nonpie.pyinit
        assert facts(root / key / "noopen.so").flags_1 & elf.DF_1_NOOPEN
        bad = root / "bad" / key
        assert facts(bad / "rel.so").e_type == elf.ET_REL
        assert facts(bad / "exec.so").e_type == elf.ET_EXEC
        noload = facts(bad / "noload.so")
        assert noload.load_segments == 0 and noload.dynamic
        assert noload.needed == () and noload.pyinit == ()  # nothing mapped: no addresses
        nophdrs = facts(bad / "nophdrs.so")
        assert (nophdrs.load_segments, nophdrs.dynamic, nophdrs.has_gnu_stack) == (0, False,
                                                                                   False)
        nodyn = facts(bad / "nodyn.so")
        assert not nodyn.dynamic and nodyn.load_segments == healthy.load_segments
        assert facts(bad / "misaligned.so").load_misaligned
        assert facts(bad / "libwga.so.1").e_type == elf.ET_REL


def test_truncated_is_corrupt_and_macho_is_not_elf() -> None:
    root = elf_fixtures() / "bad"
    bad = read_elf(root / "truncated.so")
    assert isinstance(bad, CorruptElf) and "past the end of the file" in bad.reason
    macho = read_elf(root / "macho.so")
    assert macho == NotElf(str(root / "macho.so"), "macho")


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\x7fELF\x02\x01\x01", "elf"),
        (b"\xcf\xfa\xed\xfe\x07\x00\x00\x01", "macho"),  # MH_MAGIC_64, little-endian
        (b"\xfe\xed\xfa\xce\x00\x00\x00\x12", "macho"),  # MH_MAGIC, big-endian
        (b"\xca\xfe\xba\xbe\x00\x00\x00\x02", "macho"),  # fat, 2 architectures
        (b"\xca\xfe\xba\xbf\x00\x00\x00\x01", "macho"),  # fat64
        (b"\xca\xfe\xba\xbe\x00\x00\x00\x34", "other"),  # a Java class file (version 52)
        (b"MZ\x90\x00", "pe"),
        (b"#!/bin/sh\n", "other"),
        (b"", "other"),
    ],
)
def test_kind_of_magic(head: bytes, kind: str) -> None:
    assert elf.kind_of_magic(head) == kind


def test_sniff_confirms_pe_signature(tmp_path: Path) -> None:
    pe = bytearray(256)
    pe[:2] = b"MZ"
    pe[0x3C:0x40] = struct.pack("<I", 0x80)
    pe[0x80:0x84] = b"PE\0\0"
    (tmp_path / "a.dll").write_bytes(bytes(pe))
    pe[0x80:0x84] = b"XX\0\0"
    (tmp_path / "b.txt").write_bytes(bytes(pe))
    assert elf.sniff(tmp_path / "a.dll") == "pe"
    assert elf.sniff(tmp_path / "b.txt") == "other"
    assert read_elf(tmp_path / "a.dll") == NotElf(str(tmp_path / "a.dll"), "pe")
    assert elf.sniff(tmp_path / "absent") == "other"


def test_read_interp() -> None:
    exe = Path(sys.executable).resolve()
    interp = read_interp(exe)
    assert interp is not None and Path(interp).name.startswith("ld-")
    assert read_interp(elf_fixtures() / "gnu-x86_64" / "healthy.so") is None
    assert read_interp(Path(__file__)) is None


def test_identify() -> None:
    ident = elf.identify(elf_fixtures() / "gnu-aarch64" / "healthy.so")
    assert ident == elf.ElfIdent(64, "little", 183, 0)
    assert elf.identify(Path(__file__)) is None


def test_unreadable_and_tiny_files(tmp_path: Path) -> None:
    tiny = tmp_path / "tiny.so"
    tiny.write_bytes(b"\x7fELF\x02")
    assert isinstance(read_elf(tiny), CorruptElf)
    assert isinstance(read_elf(tmp_path), CorruptElf)  # a directory: one clear answer
    empty = tmp_path / "empty.so"
    empty.write_bytes(b"")
    assert read_elf(empty) == NotElf(str(empty), "other")


def test_symbol_table_from_section_headers_when_no_hash_table(tmp_path: Path) -> None:
    src = elf_fixtures() / "gnu-x86_64" / "healthy.so"
    data = bytearray(src.read_bytes())
    f = facts(src)
    # Rename DT_GNU_HASH (and DT_HASH) tags to DT_DEBUG: the count must come from SHT_DYNSYM.
    for tag in (elf.DT_GNU_HASH, elf.DT_HASH):
        needle = struct.pack("<Q", tag)
        at = data.find(needle)
        while at >= 0:
            if at % 8 == 0:
                data[at:at + 8] = struct.pack("<Q", 21)
            at = data.find(needle, at + 8)
    patched = tmp_path / "nohash.so"
    patched.write_bytes(bytes(data))
    g = facts(patched)
    assert g.defined == f.defined and g.undefined == f.undefined


READELF = shutil.which("readelf")


def _readelf(args: list[str], path: Path) -> str:
    assert READELF is not None
    return subprocess.run([READELF, "-W", *args, str(path)], capture_output=True, text=True,
                          check=True).stdout


def _system_libraries() -> list[Path]:
    names = ["libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "libz.so.1"]
    out = []
    for d in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64"):
        out += [Path(d) / n for n in names if (Path(d) / n).is_file()]
    return out[:5]


def test_facts_agree_with_readelf() -> None:
    if READELF is None:
        toolchain_missing("needs binutils' readelf")
    root = elf_fixtures()
    paths = sorted(p for p in root.rglob("*.so*") if p.is_file() and "bad" not in p.parts)
    paths += _system_libraries()
    assert len(paths) > 20
    for path in sorted(p for p in (root / "bad").rglob("*.so*") if p.is_file()) + paths:
        if path.name in ("truncated.so", "macho.so"):
            continue
        f = facts(path)
        head = _readelf(["-h", "-l"], path)
        e_type = re.search(r"Type:\s+(\w+)", head)
        assert e_type and f.e_type == {"REL": 1, "EXEC": 2, "DYN": 3}[e_type[1]], path
        assert f.load_segments == len(re.findall(r"^\s+LOAD\s", head, re.MULTILINE)), path
        assert f.dynamic == bool(re.search(r"^\s+DYNAMIC\s", head, re.MULTILINE)), path
    for path in paths:
        f = facts(path)
        dyn = _readelf(["-d"], path)
        flags_1 = re.search(r"\(FLAGS_1\)\s+Flags: (.*)", dyn)
        assert bool(f.flags_1 & elf.DF_1_PIE) == bool(flags_1 and "PIE" in flags_1[1].split()
                                                       ), path
        assert bool(f.flags_1 & elf.DF_1_NOOPEN) == bool(
            flags_1 and "NOOPEN" in flags_1[1].split()), path
        assert list(f.needed) == re.findall(r"\(NEEDED\)\s+Shared library: \[(.*)\]", dyn), path
        sonames = re.findall(r"\(SONAME\)\s+Library soname: \[(.*)\]", dyn)
        assert f.soname == (sonames[0] if sonames else None), path
        assert f.static_tls == bool(re.search(r"\(FLAGS\)\s.*STATIC_TLS", dyn)), path
        ver = _readelf(["-V"], path)
        needs = re.findall(r"Name: (\S+)\s+Flags: (\S+)", ver.split("Version needs")[-1]) \
            if "Version needs" in ver else []
        assert sorted((n.version, n.weak) for n in f.version_needs) == sorted(
            (name, flags == "WEAK") for name, flags in needs), path
        syms = _readelf(["--dyn-syms"], path)
        undefined = set()
        defined = set()
        for m in re.finditer(r"^\s*\d+: \S+\s+\d+ \w+\s+(\w+)\s+(\w+)\s+(\S+) ([^@\s]+)", syms,
                             re.MULTILINE):
            bind, vis, ndx, name = m.groups()
            if ndx == "UND" and bind == "GLOBAL":
                undefined.add(name)
            elif ndx != "UND" and bind in ("GLOBAL", "WEAK", "UNIQUE") and vis in (
                    "DEFAULT", "PROTECTED"):
                defined.add(name)
        assert set(f.undefined) == undefined, path
        assert f.defined == defined, path


def test_a_missing_toolchain_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required under CI=true: no gcc"):
        toolchain_missing("no gcc")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="no gcc"):
        toolchain_missing("no gcc")
