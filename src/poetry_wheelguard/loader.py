"""Where the target's dynamic loader finds each ``DT_NEEDED`` library: glibc and musl.

This copies the real search orders, not lddtree's simplification (lddtree applies RUNPATH
to children, reads no ``ld.so.cache`` and splits the musl path file on ``:`` only).

glibc, ``elf/dl-load.c`` ``_dl_map_object`` (2.28-2.41), for a name without ``/``:

1. an object already loaded under that name or ``DT_SONAME`` is reused
   (``_dl_name_match_p``);
2. when the loading object has no ``DT_RUNPATH``: the ``DT_RPATH`` of the loading object,
   then of the object that loaded it, and so on up to the executable (``l_loader`` chain),
   then the executable's own ``DT_RPATH``. An object that has ``DT_RUNPATH`` contributes
   no ``DT_RPATH`` (``get-dynamic-info.h``: "If both RUNPATH and RPATH are given, the
   latter is ignored");
3. ``LD_LIBRARY_PATH`` (only when the caller asks for it: a user's environment is not
   the target's);
4. the loading object's own ``DT_RUNPATH`` (never its loader's: RUNPATH is not inherited);
5. ``/etc/ld.so.cache`` (``_dl_load_cache_lookup``), unless the loading object has
   ``DF_1_NODEFLIB``;
6. the default directories (``SYSTEM_DIRS``: glibc's ``slibdir`` and ``libdir``), unless
   ``DF_1_NODEFLIB``.

A candidate of another ELF class or machine is skipped and the search goes on; a candidate
that is not ELF at all stops it with "invalid ELF header" (``open_verify``). Names with a
``/`` are opened as given after dynamic-string-token expansion (``$ORIGIN``, ``$LIB``,
``$PLATFORM``). RPATH/RUNPATH strings are split on ``:`` (``fillin_rpath``).

musl, ``ldso/dynlink.c`` ``load_library`` (1.1.24-1.2.5):

1. ``libc.*``, ``libpthread.*``, ``librt.*``, ``libm.*``, ``libdl.*``, ``libutil.*``,
   ``libxnet.*`` are musl itself (the ``reserved`` list);
2. an object already loaded under that short name is reused;
3. ``LD_LIBRARY_PATH`` (only when asked);
4. the ``DT_RUNPATH`` (or, without one, ``DT_RPATH``) of the loading object, then of the
   object that needed it, up to the executable (``needed_by`` chain); ``$ORIGIN`` expanded
   (``fixup_rpath``; an rpath with any other ``$`` token is ignored);
5. ``<prefix>/etc/ld-musl-<arch>.path`` (``<prefix>`` is the loader's path minus its last
   two components), split on ``:`` and newlines; without that file,
   ``/lib:/usr/local/lib:/usr/lib``.

musl opens the first file of that name it finds and does not skip other ELF classes.

Once a file is chosen, both loaders may still refuse to map it (:func:`load_refusal`): an
object that is not a shared library (``ET_REL``; on glibc also an executable), or one
whose program headers give nothing to map. Either loader then stops with an error; a
library it refuses fails the object that needs it, as a missing one does.

Deliberate limits: glibc-hwcaps subdirectories (``glibc-hwcaps/x86-64-v3``) hold faster
builds of libraries found in their parent directory; they are not searched (only baseline
``ld.so.cache`` entries are used). Empty and relative RPATH/RUNPATH elements (the
process's working directory, unknowable here) are skipped. Every extension is resolved as
if imported first in a fresh interpreter: a library that is found only because another
extension loaded it earlier is reported missing.

With a sysroot, every path (search directories, ``ld.so.cache`` entries, symbolic links)
is resolved inside it, as ``chroot`` would.

One concern, one module, whatever its length: the glibc and musl loaders' search orders.
"""

from __future__ import annotations

import glob
import os
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from poetry_wheelguard.elf import (
    DF_1_NOOPEN,
    DF_1_PIE,
    ET_CORE,
    ET_DYN,
    ET_EXEC,
    ET_NONE,
    ET_REL,
    ElfFacts,
    ElfIdent,
    ElfResult,
    identify,
    sniff,
)

Flavour = Literal["glibc", "musl"]

# ld.so.cache flags (sysdeps/generic/ldconfig.h, dl-cache.h): FLAG_ELF_LIBC6 plus the
# architecture's required bits; _dl_cache_check_flags accepts that value or FLAG_ELF (1).
FLAG_ELF = 0x0001
FLAG_ELF_LIBC6 = 0x0003
_CACHE_ARCH_FLAGS = {
    ("EM_X86_64", 64): 0x0300,      # FLAG_X8664_LIB64
    ("EM_X86_64", 32): 0x0800,      # FLAG_X8664_LIBX32
    ("EM_AARCH64", 64): 0x0A00,     # FLAG_AARCH64_LIB64
    ("EM_PPC64", 64): 0x0500,       # FLAG_POWERPC_LIB64
    ("EM_S390", 64): 0x0400,        # FLAG_S390_LIB64
    ("EM_RISCV", 64): 0x1000,       # FLAG_RISCV_FLOAT_ABI_DOUBLE (lp64d)
    ("EM_IA_64", 64): 0x0200,       # FLAG_IA64_LIB64
    ("EM_SPARCV9", 64): 0x0100,     # FLAG_SPARC_LIB64
}
_ARM_HARD_FLOAT = 0x0900           # FLAG_ARM_LIBHF
_EF_ARM_ABI_FLOAT_HARD = 0x400
_CACHE_MAGIC_NEW = b"glibc-ld.so.cache1.1"
_CACHE_MAGIC_OLD = b"ld.so-1.7.0"
_HWCAP_EXTENSION = 1 << 62

# Debian multiarch triplets (the directory names of glibc's slibdir/libdir there).
_TRIPLETS = {
    ("EM_X86_64", 64): "x86_64-linux-gnu",
    ("EM_AARCH64", 64): "aarch64-linux-gnu",
    ("EM_386", 32): "i386-linux-gnu",
    ("EM_ARM", 32): "arm-linux-gnueabihf",
    ("EM_PPC64", 64): "powerpc64le-linux-gnu",
    ("EM_S390", 64): "s390x-linux-gnu",
    ("EM_RISCV", 64): "riscv64-linux-gnu",
}
# LDSO_ARCH of musl (arch/*/reloc.h), for the path file name.
MUSL_ARCH = {
    "EM_X86_64": "x86_64", "EM_AARCH64": "aarch64", "EM_386": "i386", "EM_ARM": "armhf",
    "EM_PPC64": "powerpc64le", "EM_S390": "s390x", "EM_RISCV": "riscv64",
}
MUSL_DEFAULT_PATH = "/lib:/usr/local/lib:/usr/lib"
_MUSL_RESERVED = ("c", "pthread", "rt", "m", "dl", "util", "xnet")
_MAX_SYMLINKS = 40  # Linux's MAXSYMLINKS
_SKIP = "skip"  # open_verify: a file of another class/machine, the search goes on
_E_TYPES = {ET_NONE: "ET_NONE (no file type)", ET_REL: "ET_REL (a relocatable object file)",
            ET_EXEC: "ET_EXEC (a non-PIE executable)", ET_CORE: "ET_CORE (a core dump)"}
_GLIBC_REFUSES_PIE = (2, 30)  # "elf: Refuse to dlopen PIE objects" (BZ #24323), glibc 2.30


# --- what a loader refuses to map -----------------------------------------------------------

def load_refusal(facts: ElfFacts, flavour: Flavour,
                 libc_version: tuple[int, int] | None = None) -> str | None:
    """Why the ``flavour`` loader refuses to map ``facts`` as a library (by ``dlopen``, as
    Python imports an extension and ctypes loads a library, or as a ``DT_NEEDED``
    dependency), or ``None`` when it maps it. One phrase: the defect, then the loader's own
    error text (what ``ImportError`` shows).

    glibc 2.36 (``elf/dl-load.c``), in its order: ``open_verify`` accepts only ``ET_DYN``
    and ``ET_EXEC`` ("only ET_DYN and ET_EXEC can be loaded"); ``_dl_map_object_from_fd``
    refuses a ``PT_LOAD`` whose address and offset are not page-congruent ("ELF load command
    address/offset not page-aligned"), a file without ``PT_LOAD`` ("object file has no
    loadable segments"), any ``ET_EXEC`` ("cannot dynamically load executable": only the
    executable itself is mapped at its fixed address), an ``ET_DYN`` without
    ``PT_DYNAMIC`` ("object file has no dynamic section"), then a ``DF_1_PIE`` object
    ("cannot dynamically load position-independent executable", from glibc 2.30; an unknown
    version counts as newer) and a ``DF_1_NOOPEN`` one ("shared object cannot be
    dlopen()ed"). Page congruence is judged at 4096 bytes, the smallest page size, so a
    reported file is refused on every kernel.

    musl 1.1.24-1.2.5 (``ldso/dynlink.c`` ``map_library``): ``ENOEXEC`` ("Exec format
    error") for an ``e_type`` other than ``ET_DYN``/``ET_EXEC`` and for a file without
    ``PT_DYNAMIC``; without ``PT_LOAD`` it sizes its mapping from bounds no segment set, and
    the ``mmap`` fails ("Out of memory" with musl 1.2.3) or worse.
    musl maps ``ET_EXEC`` (at its fixed address when that is free; an ``ET_EXEC`` whose
    lowest segment is at 0 anywhere), PIE and ``DF_1_NOOPEN`` objects, and does not check
    page congruence: none of those is refused there.
    """
    if facts.e_type not in (ET_DYN, ET_EXEC):
        what = _E_TYPES.get(facts.e_type, f"{facts.e_type:#x}")
        error = ("only ET_DYN and ET_EXEC can be loaded" if flavour == "glibc"
                 else "Exec format error")
        return f"e_type {what}, not a shared object; {flavour} says \"{error}\""
    if flavour == "musl":
        if not facts.dynamic:
            return "no PT_DYNAMIC segment; musl says \"Exec format error\""
        if facts.load_segments == 0:
            return "no PT_LOAD segment, nothing to map; musl cannot map it"
        return None
    if facts.load_misaligned:
        return ("a PT_LOAD segment whose address and file offset differ modulo the page "
                "size; glibc says \"ELF load command address/offset not page-aligned\"")
    if facts.load_segments == 0:
        return "no PT_LOAD segment; glibc says \"object file has no loadable segments\""
    if facts.e_type == ET_EXEC:
        return (f"e_type {_E_TYPES[ET_EXEC]}, not a shared object; glibc says \"cannot "
                "dynamically load executable\"")
    if not facts.dynamic:
        return "no PT_DYNAMIC segment; glibc says \"object file has no dynamic section\""
    if facts.flags_1 & DF_1_PIE and (libc_version is None
                                     or libc_version >= _GLIBC_REFUSES_PIE):
        return ("a position-independent executable (DF_1_PIE), not a shared object; glibc "
                "says \"cannot dynamically load position-independent executable\"")
    if facts.flags_1 & DF_1_NOOPEN:
        return ("linked with -z nodlopen (DF_1_NOOPEN); glibc says \"shared object cannot be "
                "dlopen()ed\"")
    return None


# --- paths inside a sysroot ---------------------------------------------------------------

def resolve_in_root(root: str, path: str) -> str | None:
    """The host path of ``path`` (absolute, as the target sees it) inside ``root``, with
    every symbolic link followed as ``chroot(root)`` would; ``None`` if it does not exist.

    ``root == "/"`` is the host itself. ``..`` never leaves ``root``; more than 40 links
    (Linux ``MAXSYMLINKS``) is a loop and gives ``None``.
    """
    if root in ("", "/"):
        return path if os.path.exists(path) else None
    parts = [p for p in path.split("/") if p]
    done: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == ".":
            continue
        if part == "..":
            if done:
                done.pop()
            continue
        host = os.path.join(root, *done, part)
        if os.path.islink(host):
            hops += 1
            if hops > _MAX_SYMLINKS:
                return None
            link = os.readlink(host)
            if link.startswith("/"):
                done = []
            parts = [p for p in link.split("/") if p] + parts
            continue
        if not os.path.lexists(host):
            return None
        done.append(part)
    return os.path.join(root, *done)


def target_path(root: str, host: str) -> str:
    """The path the target sees for a host path inside ``root`` (``host`` if outside)."""
    if root in ("", "/"):
        return host
    rel = os.path.relpath(host, root)
    return host if rel.startswith("..") else "/" + rel.replace(os.sep, "/").lstrip("./")


# --- ld.so.cache and ld.so.conf -----------------------------------------------------------

def cache_flags(ident: ElfIdent, machine: str, e_flags: int = 0) -> int:
    """The ``ld.so.cache`` flags value glibc accepts for this architecture
    (``_DL_CACHE_DEFAULT_ID``), e.g. ``0x303`` on x86_64."""
    if machine == "EM_ARM":
        return FLAG_ELF_LIBC6 | (_ARM_HARD_FLOAT if e_flags & _EF_ARM_ABI_FLOAT_HARD else 0)
    return FLAG_ELF_LIBC6 | _CACHE_ARCH_FLAGS.get((machine, ident.elf_class), 0)


def parse_ld_so_cache(data: bytes, flags: int) -> dict[str, tuple[str, ...]]:
    """Parse ``/etc/ld.so.cache`` (``elf/dl-cache.c``): ``{name: (path, ...)}``, best first.

    The new format (``glibc-ld.so.cache1.1``, alone since glibc 2.32 or after the old
    ``ld.so-1.7.0`` table) has 24-byte entries ``{int32 flags; uint32 key, value;
    uint32 osversion; uint64 hwcap}`` whose string offsets count from the start of the new
    header; the old format has 12-byte ``{int flags; uint32 key, value}`` entries whose
    offsets count from the end of its table. Only entries whose flags are ``flags`` or
    ``FLAG_ELF`` (``_dl_cache_check_flags``) and that are not glibc-hwcaps variants are
    kept. Malformed data gives what could be read before the problem.
    """
    out: dict[str, list[str]] = {}

    def string(base: int, off: int) -> str | None:
        start = base + off
        end = data.find(b"\0", start)
        if start >= len(data) or end < 0:
            return None
        return data[start:end].decode("utf-8", "replace")

    def add(entry_flags: int, key: int, value: int, base: int) -> None:
        if entry_flags not in (flags, FLAG_ELF):
            return
        name, path = string(base, key), string(base, value)
        if name and path:
            out.setdefault(name, []).append(path)

    new_at = 0
    if data.startswith(_CACHE_MAGIC_OLD):
        (nlibs,) = struct.unpack_from("<I", data, 12) if len(data) >= 16 else (0,)
        table_end = 16 + 12 * nlibs
        new_at = (table_end + 7) & ~7
        if not data.startswith(_CACHE_MAGIC_NEW, new_at) and table_end <= len(data):
            for i in range(nlibs):
                fl, key, value = struct.unpack_from("<iII", data, 16 + 12 * i)
                add(fl, key, value, table_end)
            return {k: tuple(v) for k, v in out.items()}
    if not data.startswith(_CACHE_MAGIC_NEW, new_at) or len(data) < new_at + 48:
        return {}
    (nlibs,) = struct.unpack_from("<I", data, new_at + 20)
    count = min(nlibs, (len(data) - new_at - 48) // 24)
    for i in range(count):
        fl, key, value, _os, hwcap = struct.unpack_from("<iIIIQ", data, new_at + 48 + 24 * i)
        if hwcap & _HWCAP_EXTENSION or hwcap:
            continue
        add(fl, key, value, new_at)
    return {k: tuple(v) for k, v in out.items()}


def read_ld_so_conf(root: str, conf: str = "/etc/ld.so.conf", _depth: int = 0) -> list[str]:
    """The directories ``ldconfig`` would scan: lines of ``ld.so.conf`` and of every file an
    ``include`` glob names (relative globs are relative to the including file's directory),
    inside ``root``. Comments (``#``) and ``hwcap`` lines are skipped. Missing files give
    no directories."""
    host = resolve_in_root(root, conf)
    if host is None or _depth > 8:
        return []
    try:
        with open(host, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return []
    out: list[str] = []
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("hwcap "):
            continue
        if line.startswith("include") and line[7:8] in (" ", "\t"):
            for pattern in line[8:].split():
                if not pattern.startswith("/"):
                    pattern = os.path.join(os.path.dirname(conf), pattern)
                base = root if root not in ("", "/") else ""
                for match in sorted(glob.glob(base + pattern)):
                    out += read_ld_so_conf(root, target_path(root, match) if base else match,
                                           _depth + 1)
            continue
        for word in line.replace(",", " ").split():
            out.append(word.split("=", 1)[0])  # old "dir=TYPE" syntax
    return list(dict.fromkeys(out))


def glibc_default_dirs(root: str, machine: str, elf_class: int) -> tuple[str, ...]:
    """glibc's compiled-in ``SYSTEM_DIRS``, told from where ``libc.so.6`` lives in ``root``:
    Debian/Ubuntu multiarch (``/lib/<triplet>``, ``/usr/lib/<triplet>``, ``/lib``,
    ``/usr/lib``), Fedora/RHEL/SUSE 64-bit (``/lib64``, ``/usr/lib64``), else ``/lib``,
    ``/usr/lib``."""
    triplet = _TRIPLETS.get((machine, elf_class))
    if triplet:
        for d in (f"/lib/{triplet}", f"/usr/lib/{triplet}"):
            if resolve_in_root(root, f"{d}/libc.so.6"):
                return (f"/lib/{triplet}", f"/usr/lib/{triplet}", "/lib", "/usr/lib")
    if elf_class == 64:
        for d in ("/lib64", "/usr/lib64"):
            if resolve_in_root(root, f"{d}/libc.so.6"):
                return ("/lib64", "/usr/lib64")
    return ("/lib", "/usr/lib")


def musl_path_file(interp: str, arch: str) -> str:
    """``<prefix>/etc/ld-musl-<arch>.path`` for the loader at ``interp``, as ``load_library``
    forms it (``<prefix>`` = the loader's path minus its last two components)."""
    parts = interp.split("/")
    prefix = "/".join(parts[:-2]) if interp.startswith("/") and len(parts) > 2 else ""
    return f"{prefix}/etc/ld-musl-{arch}.path"


def split_musl_path(text: str) -> tuple[str, ...]:
    """musl's ``path_open`` splitting: elements separated by ``:`` or newlines."""
    return tuple(p for p in text.replace("\n", ":").split(":") if p)


# --- the loader model ---------------------------------------------------------------------

@dataclass(frozen=True)
class LoaderConfig:
    """The target's loader: flavour, where it looks, and what file it accepts.

    Attributes:
        flavour: ``glibc`` or ``musl``.
        ident: class, byte order and machine of the target (from its interpreter or libc).
        machine: pyelftools' ``e_machine`` name (``EM_X86_64``).
        root: the sysroot (``/`` for this machine).
        interp: the loader's path as the target sees it (``/lib/ld-musl-x86_64.so.1``).
        ld_library_path: ``LD_LIBRARY_PATH`` elements, only when the user asked for them.
        cache: glibc's ``ld.so.cache`` for this architecture, ``{name: (path, ...)}``.
        cache_file: the cache's path, or ``""`` when the target has none.
        conf_dirs: glibc: directories listed by ``ld.so.conf`` (for the "not in the cache"
            diagnosis only; the loader itself never reads ``ld.so.conf``).
        default_dirs: glibc ``SYSTEM_DIRS``; musl: the path file's elements or the defaults.
        default_source: where ``default_dirs`` came from, for messages.
        libc_version: the libc's ``(major, minor)`` when known (:func:`load_refusal`).
    """

    flavour: Flavour
    ident: ElfIdent
    machine: str
    root: str = "/"
    interp: str = ""
    ld_library_path: tuple[str, ...] = ()
    cache: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    cache_file: str = ""
    conf_dirs: tuple[str, ...] = ()
    default_dirs: tuple[str, ...] = ()
    default_source: str = ""
    lib_token: str = "lib"
    platform_token: str = ""
    libc_version: tuple[int, int] | None = None


def _lib_token(default_dirs: Sequence[str]) -> str:
    first = default_dirs[0] if default_dirs else "/lib"
    return first.lstrip("/")


def configure(
    flavour: Flavour,
    ident: ElfIdent,
    machine: str,
    *,
    root: str = "/",
    interp: str = "",
    e_flags: int = 0,
    ld_library_path: str | None = None,
    libc_version: tuple[int, int] | None = None,
) -> LoaderConfig:
    """Read the target's loader configuration from ``root`` (``/`` = this machine).

    glibc: ``/etc/ld.so.cache``, ``/etc/ld.so.conf`` (for diagnosis), default directories.
    musl: the path file named after ``interp`` (default ``/lib/ld-musl-<arch>.so.1``).
    ``ld_library_path`` is used only when given; ``libc_version`` is kept for
    :func:`load_refusal`. Never raises: unreadable files count as absent, as the loaders
    treat them.
    """
    lib_path = split_musl_path(ld_library_path or "") if flavour == "musl" else tuple(
        p for p in (ld_library_path or "").split(":") if p)
    platform = {"EM_X86_64": "x86_64", "EM_AARCH64": "aarch64", "EM_386": "i686",
                "EM_PPC64": "powerpc64le", "EM_S390": "s390x"}.get(machine, "")
    if flavour == "musl":
        arch = MUSL_ARCH.get(machine, machine.lower())
        interp = interp or f"/lib/ld-musl-{arch}.so.1"
        path_file = musl_path_file(interp, arch)
        host = resolve_in_root(root, path_file)
        dirs: tuple[str, ...] = ()
        source = "musl's defaults " + MUSL_DEFAULT_PATH
        if host is not None:
            try:
                with open(host, encoding="utf-8", errors="replace") as fh:
                    dirs = split_musl_path(fh.read())
                source = path_file
            except OSError:
                dirs = ()
        else:
            dirs = split_musl_path(MUSL_DEFAULT_PATH)
        return LoaderConfig("musl", ident, machine, root, interp, lib_path, {}, "", (),
                            dirs, source, "lib", platform, libc_version)
    cache: dict[str, tuple[str, ...]] = {}
    cache_file = ""
    host = resolve_in_root(root, "/etc/ld.so.cache")
    if host is not None:
        try:
            with open(host, "rb") as fh:
                cache = parse_ld_so_cache(fh.read(), cache_flags(ident, machine, e_flags))
            cache_file = "/etc/ld.so.cache"
        except OSError:
            cache = {}
    defaults = glibc_default_dirs(root, machine, ident.elf_class)
    return LoaderConfig("glibc", ident, machine, root, interp, lib_path, cache, cache_file,
                        tuple(read_ld_so_conf(root)), defaults, "glibc's default directories",
                        _lib_token(defaults), platform, libc_version)


@dataclass(frozen=True)
class Resolution:
    """Where one ``DT_NEEDED`` entry of one object resolves.

    Attributes:
        needed: the ``DT_NEEDED`` name.
        by: host path of the object that needs it.
        path: host path of the file the loader would load, ``None`` when none.
        how: ``loaded`` (already in the process), ``libc`` (musl's own names), ``path``
            (a name with ``/``), ``RPATH``, ``LD_LIBRARY_PATH``, ``RUNPATH``,
            ``ld.so.cache``, ``default``; ``refused`` when the file found cannot be mapped
            (:func:`load_refusal`; ``path`` is then ``None``); ``""`` when not found.
        problem: why it is not found or cannot be loaded, one phrase (``""`` when fine).
    """

    needed: str
    by: str
    path: str | None
    how: str
    problem: str = ""


@dataclass(frozen=True)
class LoadTree:
    """An object and everything it loads, in the loader's breadth-first order.

    Attributes:
        root: host path of the object loaded first (an extension, the interpreter).
        objects: host paths of every object loaded (``root`` first), each once.
        resolutions: every ``DT_NEEDED`` resolution made, in order.
    """

    root: str
    objects: tuple[str, ...]
    resolutions: tuple[Resolution, ...]


FactsReader = Callable[[str], ElfResult]
"""Returns the ELF facts of a host path (the caller caches them)."""


class Loader:
    """Resolves ``DT_NEEDED`` names as the target's loader would.

    ``facts`` reads (and caches) :class:`~poetry_wheelguard.elf.ElfFacts` of found files;
    only their RPATH/RUNPATH/NEEDED/SONAME are used here.
    """

    def __init__(self, config: LoaderConfig, facts: FactsReader) -> None:
        self.config = config
        self.facts = facts
        self._ident_cache: dict[str, ElfIdent | None] = {}
        self._absent: set[str] = set()
        self._ids: dict[str, tuple[int, int]] = {}

    # -- candidates ---------------------------------------------------------------------
    def _host(self, path: str) -> str | None:
        return resolve_in_root(self.config.root, path)

    def _ident(self, host: str) -> ElfIdent | None:
        if host not in self._ident_cache:
            self._ident_cache[host] = identify(host)
        return self._ident_cache[host]

    def file_id(self, host: str) -> tuple[int, int]:
        """``(st_dev, st_ino)`` of a file: how both loaders notice a library already loaded
        under another name (glibc ``_dl_map_object_from_fd``, musl ``load_library``)."""
        if host not in self._ids:
            st = os.stat(host)
            self._ids[host] = (st.st_dev, st.st_ino)
        return self._ids[host]

    def _accepts(self, ident: ElfIdent) -> bool:
        want = self.config.ident
        return (ident.elf_class, ident.endianness, ident.e_machine) == (
            want.elf_class, want.endianness, want.e_machine)

    def _try(self, host: str | None) -> tuple[str | None, str]:
        """``(host path, problem)``: accepted file, or ``None`` with why (``""`` = absent)."""
        if host is None:
            return None, ""
        if host not in self._ident_cache and not os.path.isfile(host):
            self._ident_cache[host] = None
            self._absent.add(host)
        if host in self._absent:
            return None, ""
        ident = self._ident(host)
        if ident is None:
            if sniff(host) == "elf":
                return None, f"{self._show(host)} is corrupt"
            return None, f"{self._show(host)} is not an ELF file (invalid ELF header)"
        if self.config.flavour == "glibc" and not self._accepts(ident):
            return None, _SKIP
        if self.config.flavour == "musl" and not self._accepts(ident):
            return None, f"{self._show(host)} is for another machine"
        return host, ""

    def _show(self, host: str) -> str:
        return target_path(self.config.root, host)

    # -- dynamic string tokens ----------------------------------------------------------
    def _expand(self, text: str, origin_host: str) -> str | None:
        """Expand ``$ORIGIN``/``${ORIGIN}`` (to the host directory of the loading object),
        ``$LIB`` and ``$PLATFORM`` (glibc ``_dl_dst_substitute``); ``None`` when a token
        cannot be expanded (musl: any token but ORIGIN)."""
        out = text
        tokens = {"ORIGIN": origin_host}
        if self.config.flavour == "glibc":
            tokens["LIB"] = self.config.lib_token
            tokens["PLATFORM"] = self.config.platform_token
        for token, value in tokens.items():
            out = out.replace("${" + token + "}", value).replace("$" + token, value)
        if "$" in out:
            return None
        return out

    def _dirs(self, raw: str, obj: ElfFacts) -> list[str]:
        """Host directories of one RPATH/RUNPATH/env string for the object ``obj``."""
        origin = os.path.dirname(os.path.abspath(obj.path))
        elements = (split_musl_path(raw) if self.config.flavour == "musl"
                    else [p for p in raw.split(":") if p])
        if self.config.flavour == "musl" and "$" in raw and self._expand(raw, origin) is None:
            return []  # fixup_rpath: an unknown token voids the whole rpath
        out = []
        for element in elements:
            expanded = self._expand(element, origin)
            if expanded is None or not expanded.startswith("/"):
                continue
            if element.startswith(("$ORIGIN", "${ORIGIN}")):
                out.append(os.path.normpath(expanded))  # $ORIGIN is already a host path
            else:
                host = self._host(expanded)
                if host is not None:
                    out.append(host)
        return out

    def _search_dirs(self, name: str, dirs: Iterable[str]) -> tuple[str | None, str]:
        for d in dirs:
            found, problem = self._try(os.path.join(d, name))
            if found is not None:
                return found, ""
            if problem and problem != _SKIP:
                return None, problem
        return None, ""

    # -- one name -----------------------------------------------------------------------
    def find(self, name: str, requester: ElfFacts, chain: Sequence[ElfFacts],
             loaded: Mapping[str, str] | None = None) -> Resolution:
        """Resolve ``name`` needed by ``requester``.

        ``chain`` is the loading chain above ``requester``: the object that loaded it,
        that object's loader, ... ending with the executable (glibc ``l_loader``, musl
        ``needed_by``). ``loaded`` maps names already loaded in the process (requested
        names and sonames) to host paths.
        """
        cfg = self.config
        by = requester.path
        loaded = loaded or {}
        if cfg.flavour == "musl" and _musl_reserved(name):
            return Resolution(name, by, self._host(cfg.interp) if cfg.interp else None, "libc")
        if "/" in name:
            expanded = self._expand(name, os.path.dirname(os.path.abspath(requester.path)))
            if expanded is None:
                return Resolution(name, by, None, "", "a dynamic string token cannot be "
                                  "expanded")
            host = expanded if expanded.startswith("/") and os.path.exists(expanded) \
                else self._host(expanded)
            found, problem = self._try(host)
            return Resolution(name, by, found, "path" if found else "", problem)
        if name in loaded:
            return Resolution(name, by, loaded[name], "loaded")
        if cfg.flavour == "musl":
            return self._find_musl(name, requester, chain)
        return self._find_glibc(name, requester, chain)

    def _find_glibc(self, name: str, requester: ElfFacts, chain: Sequence[ElfFacts]
                    ) -> Resolution:
        cfg = self.config
        by = requester.path
        # dl-load.c step: RPATH of the loading chain, only when the requester has no RUNPATH
        if requester.runpath is None:
            for obj in (requester, *chain):
                if obj.runpath is None and obj.rpath:
                    found, problem = self._search_dirs(name, self._dirs(obj.rpath, obj))
                    if found or problem:
                        return Resolution(name, by, found, "RPATH" if found else "", problem)
        # LD_LIBRARY_PATH, only when asked
        if cfg.ld_library_path:
            dirs = [h for h in (self._host(d) for d in cfg.ld_library_path) if h]
            found, problem = self._search_dirs(name, dirs)
            if found or problem:
                return Resolution(name, by, found, "LD_LIBRARY_PATH" if found else "", problem)
        # the requester's own RUNPATH
        if requester.runpath:
            found, problem = self._search_dirs(name, self._dirs(requester.runpath, requester))
            if found or problem:
                return Resolution(name, by, found, "RUNPATH" if found else "", problem)
        # ld.so.cache, then the default directories (both skipped with DF_1_NODEFLIB)
        if not requester.nodeflib:
            for path in cfg.cache.get(name, ()):
                found, problem = self._try(self._host(path))
                if found:
                    return Resolution(name, by, found, "ld.so.cache")
                if problem and problem != _SKIP:
                    return Resolution(name, by, None, "", problem)
            dirs = [h for h in (self._host(d) for d in cfg.default_dirs) if h]
            found, problem = self._search_dirs(name, dirs)
            if found or problem:
                return Resolution(name, by, found, "default" if found else "", problem)
        return Resolution(name, by, None, "", self._not_found_note(name))

    def find_system(self, name: str) -> str | None:
        """Host path of ``name`` from the system locations alone (musl: its own libc names,
        then the path file or defaults; glibc: ``ld.so.cache``, then the default
        directories): where a library needed by an object without RPATH/RUNPATH goes."""
        cfg = self.config
        if cfg.flavour == "musl":
            if _musl_reserved(name):
                return self._host(cfg.interp) if cfg.interp else None
        else:
            for path in cfg.cache.get(name, ()):
                found = self._try(self._host(path))[0]
                if found:
                    return found
        dirs = [h for h in (self._host(d) for d in cfg.default_dirs) if h]
        return self._search_dirs(name, dirs)[0]

    def _not_found_note(self, name: str) -> str:
        """glibc: a library present in an ld.so.conf directory but not in the cache."""
        cfg = self.config
        for d in cfg.conf_dirs:
            if d in cfg.default_dirs:
                continue
            host = self._host(os.path.join(d, name))
            if host and self._try(host)[0]:
                cache = cfg.cache_file or "/etc/ld.so.cache"
                return (f"{os.path.join(d, name)} exists (its directory is listed in "
                        f"/etc/ld.so.conf) but is not in {cache}; run ldconfig")
        return ""

    def _find_musl(self, name: str, requester: ElfFacts, chain: Sequence[ElfFacts]
                   ) -> Resolution:
        cfg = self.config
        by = requester.path
        if cfg.ld_library_path:
            dirs = [h for h in (self._host(d) for d in cfg.ld_library_path) if h]
            found, problem = self._search_dirs(name, dirs)
            if found or problem:
                return Resolution(name, by, found, "LD_LIBRARY_PATH" if found else "", problem)
        for obj in (requester, *chain):
            raw = obj.runpath if obj.runpath is not None else obj.rpath
            if raw:
                found, problem = self._search_dirs(name, self._dirs(raw, obj))
                if found or problem:
                    how = "RUNPATH" if obj.runpath is not None else "RPATH"
                    return Resolution(name, by, found, how if found else "", problem)
        dirs = [h for h in (self._host(d) for d in cfg.default_dirs) if h]
        found, problem = self._search_dirs(name, dirs)
        return Resolution(name, by, found, "default" if found else "", problem)

    # -- a whole tree -------------------------------------------------------------------
    def load(self, root: ElfFacts, parents: Sequence[ElfFacts] = (),
             loaded: Mapping[str, str] | None = None) -> LoadTree:
        """Load ``root`` and its dependencies breadth-first (glibc
        ``_dl_map_object_deps``, musl ``load_deps``), each object's dependencies searched
        with its own loading chain. ``parents`` is the chain above ``root`` (for an
        extension: the object calling ``dlopen``, then the executable); ``loaded`` the names
        already loaded in the process. Files that are not readable ELF stop their branch; a
        dependency the loader refuses to map (:func:`load_refusal`) is a failed resolution
        (``how`` ``refused``), as the loader stops there. ``root`` itself is not judged.
        """
        names: dict[str, str] = dict(loaded or {})
        chains: dict[str, tuple[ElfFacts, ...]] = {root.path: tuple(parents)}
        objects = [root.path]
        ids = {self.file_id(root.path)}
        by_path = {root.path: root}
        queue = [root]
        resolutions: list[Resolution] = []
        while queue:
            obj = queue.pop(0)
            chain = chains[obj.path]
            for name in obj.needed:
                res = self.find(name, obj, chain, names)
                resolutions.append(res)
                if res.path is None or res.how in ("loaded", "libc"):
                    continue
                key = self.file_id(res.path)
                if key in ids:
                    names.setdefault(name, res.path)
                    continue
                child = self.facts(res.path)
                why = load_refusal(child, self.config.flavour, self.config.libc_version) \
                    if isinstance(child, ElfFacts) else None
                if why is not None:
                    resolutions[-1] = Resolution(name, obj.path, None, "refused",
                                                 f"{self._show(res.path)}: {why}")
                    continue
                names.setdefault(name, res.path)
                ids.add(key)
                if not isinstance(child, ElfFacts):
                    continue
                if child.soname and self.config.flavour == "glibc":
                    names.setdefault(child.soname, res.path)  # _dl_name_match_p
                objects.append(res.path)
                by_path[res.path] = child
                chains[res.path] = (obj, *chain)
                queue.append(child)
        return LoadTree(root.path, tuple(objects), tuple(resolutions))


def _musl_reserved(name: str) -> bool:
    """musl's ``reserved`` check: ``lib`` + one of c/pthread/rt/m/dl/util/xnet + ``.``."""
    return name.startswith("lib") and any(name[3:].startswith(r + ".") for r in _MUSL_RESERVED)
