"""ELF files -> plain facts. The only module that imports pyelftools.

What the dynamic loader reads of a shared object, as frozen data (:class:`ElfFacts`), or
one of two other answers: :class:`NotElf` (with what the file is instead: Mach-O, PE or
nothing known) and :class:`CorruptElf` (an ELF file that cannot be loaded: truncated, bad
offsets, impossible counts). No pyelftools object outlives :func:`read_elf`.

How a file is read (System V gABI, "Object Files" and "Program Loading"; the glibc and musl
loaders read the same structures the same way):

1. ``e_ident`` and the ELF header are parsed by pyelftools' own structure definitions
   (``ELFStructs`` / ``struct_parse``); they locate the program header table.
2. The program headers are bulk-read with :mod:`struct`. Every ``PT_LOAD`` segment must lie
   inside the file (a loader would map past the end: the file is truncated).
3. ``PT_INTERP``, ``PT_GNU_STACK`` and ``PT_DYNAMIC`` come from the program headers, not the
   section headers: that is what the loader uses, and it works on section-stripped files.
   What a loader checks before it maps anything is kept as facts too (``e_type``, how many
   ``PT_LOAD`` segments there are and whether they are page-congruent, ``DT_FLAGS_1``);
   :func:`poetry_wheelguard.loader.load_refusal` judges them per loader.
4. Addresses in the dynamic table (``DT_STRTAB``, ``DT_SYMTAB``, ``DT_VERNEED``...) are
   mapped to file offsets through the ``PT_LOAD`` segments, as the loader maps them.
5. The dynamic symbol table is bulk-read (:func:`struct.iter_unpack` over the raw bytes);
   its length comes from ``DT_GNU_HASH`` or ``DT_HASH`` (as the loader knows it), or from
   the ``SHT_DYNSYM`` section header when a file has neither.

Every count and offset is checked against the file size before it is used, so a parse
takes time and memory linear in the file size at worst, and every exception pyelftools or
the byte parsing can raise (``ELFError`` family, ``ValueError``, ``OverflowError``,
``struct.error``, ``UnicodeDecodeError``, ``MemoryError``, ``IndexError``) becomes a
:class:`CorruptElf` answer.

One concern, one module, whatever its length: ELF parsing behind one pyelftools boundary.
"""

from __future__ import annotations

import io
import mmap
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any, Literal, Union

Endianness = Literal["little", "big"]
FileKind = Literal["elf", "macho", "pe", "other"]

# --- constants of the gABI and of the GNU extensions -------------------------------------
PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
PT_GNU_STACK = 0x6474E551
PF_X = 0x1
DT_NULL, DT_NEEDED, DT_HASH, DT_STRTAB, DT_SYMTAB = 0, 1, 4, 5, 6
DT_STRSZ, DT_SYMENT, DT_SONAME, DT_RPATH, DT_RUNPATH = 10, 11, 14, 15, 29
DT_FLAGS, DT_FLAGS_1 = 30, 0x6FFFFFFB
DT_RELR = 36
DT_GNU_HASH = 0x6FFFFEF5
DT_VERDEF, DT_VERDEFNUM = 0x6FFFFFFC, 0x6FFFFFFD
DT_VERNEED, DT_VERNEEDNUM = 0x6FFFFFFE, 0x6FFFFFFF
DF_STATIC_TLS = 0x10
DF_1_NOOPEN, DF_1_NODEFLIB, DF_1_PIE = 0x40, 0x800, 0x8000000
VER_FLG_BASE, VER_FLG_WEAK = 0x1, 0x2
SHT_DYNSYM = 11
STB_GLOBAL, STB_WEAK, STB_GNU_UNIQUE = 1, 2, 10
STV_DEFAULT, STV_PROTECTED = 0, 3
SHN_UNDEF = 0
ET_NONE, ET_REL, ET_EXEC, ET_DYN, ET_CORE = 0, 1, 2, 3, 4
MIN_PAGE_SIZE = 4096  # the smallest page size of every architecture Linux wheels target

# Limits: no real shared object comes near them; a file beyond them is treated as corrupt
# rather than parsed (each bounds the memory and time one structure can cost).
MAX_PHNUM = 4096
MAX_SHNUM = 65535
MAX_DYNAMIC_ENTRIES = 1 << 16
MAX_VERSION_ENTRIES = 1 << 16
MAX_SYMBOLS = 1 << 24

ELF_MAGIC = b"\x7fELF"
# Mach-O: MH_MAGIC, MH_MAGIC_64 and their byte-swapped forms; FAT_MAGIC/FAT_MAGIC_64 (and
# swapped) for universal binaries (mach-o/loader.h, mach-o/fat.h).
_MACHO_THIN = {b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe"}
_MACHO_FAT = {b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf", b"\xbe\xba\xfe\xca", b"\xbf\xba\xfe\xca"}



@dataclass(frozen=True)
class _Pyelftools:
    """The parts of pyelftools this module uses, imported on first parse (a run whose
    facts all come from a cache never pays for importing it)."""

    struct_parse: Any
    ELFStructs: Any
    e_type: Mapping[str, int]
    e_machine: Mapping[str, int]
    ei_osabi: Mapping[str, int]
    machine_names: Mapping[int, str]
    errors: tuple[type[BaseException], ...]


@lru_cache(maxsize=1)
def _pyelftools() -> _Pyelftools:
    from elftools.common.exceptions import ELFError
    from elftools.common.utils import struct_parse
    from elftools.construct import ConstructError
    from elftools.elf.enums import ENUM_E_MACHINE, ENUM_E_TYPE, ENUM_EI_OSABI
    from elftools.elf.structs import ELFStructs

    # Every exception a parse of hostile bytes can raise; each becomes CorruptElf.
    errors = (ELFError, ConstructError, ValueError, OverflowError, struct.error,
              UnicodeDecodeError, MemoryError, IndexError, KeyError, EOFError)
    names = {v: k for k, v in ENUM_E_MACHINE.items() if isinstance(v, int)}
    return _Pyelftools(struct_parse, ELFStructs, ENUM_E_TYPE, ENUM_E_MACHINE, ENUM_EI_OSABI,
                       names, errors)


@dataclass(frozen=True)
class VersionNeed:
    """One ``Elf_Vernaux`` entry: a symbol version an object needs from a library.

    Attributes:
        library: ``vn_file``, the DT_NEEDED name the version is needed from (``libc.so.6``).
        version: ``vna_name`` (``GLIBC_2.29``, ``GLIBCXX_3.4.26``).
        weak: ``VER_FLG_WEAK``: the loader only warns when the version is missing.
    """

    library: str
    version: str
    weak: bool


@dataclass(frozen=True)
class ElfFacts:
    """What the loader will read of one ELF file.

    Attributes:
        path: the file as given.
        size: file size in bytes.
        elf_class: 32 or 64 (``EI_CLASS``).
        endianness: ``little`` or ``big`` (``EI_DATA``).
        e_type: ``ET_DYN`` (3), ``ET_EXEC`` (2), ``ET_REL`` (1)...
        e_machine: the ``e_machine`` number (62 = x86-64, 183 = AArch64).
        machine: pyelftools' name of it (``EM_X86_64``), or the number as text.
        e_flags: processor flags (ARM float ABI, RISC-V float ABI...).
        osabi: ``EI_OSABI`` (0 System V, 3 GNU/Linux, 9 FreeBSD...).
        interp: ``PT_INTERP`` (the program interpreter path), ``None`` if none.
        needed: every ``DT_NEEDED`` in order.
        rpath, runpath: raw ``DT_RPATH`` / ``DT_RUNPATH`` strings (unsplit), or ``None``.
        soname: ``DT_SONAME`` or ``None``.
        static_tls: ``DT_FLAGS`` has ``DF_STATIC_TLS`` (initial-exec TLS model).
        relr: a ``DT_RELR`` table (packed relative relocations: glibc >= 2.36, musl >= 1.2.4).
        nodeflib: ``DT_FLAGS_1`` has ``DF_1_NODEFLIB`` (no default directories, no cache).
        flags_1: the whole ``DT_FLAGS_1`` value (``DF_1_PIE``, ``DF_1_NOOPEN``...), 0 if none.
        load_segments: how many ``PT_LOAD`` program headers there are.
        load_misaligned: a ``PT_LOAD`` whose ``p_vaddr`` and ``p_offset`` differ modulo
            4096 (the smallest page size), which no ``mmap`` can honour.
        has_gnu_stack: a ``PT_GNU_STACK`` header exists.
        exec_stack: ``PT_GNU_STACK`` has ``PF_X``, or there is no ``PT_GNU_STACK`` (glibc
            then uses its default, an executable stack, on every architecture we target).
        dynamic: a ``PT_DYNAMIC`` segment exists (a dynamically linked object).
        version_needs: every ``DT_VERNEED`` entry (:class:`VersionNeed`).
        version_defs: every ``DT_VERDEF`` name, the ``VER_FLG_BASE`` entry (the file's own
            name) left out.
        defined: exported dynamic symbols (defined, global/weak/unique, default or
            protected visibility).
        undefined: undefined global (non-weak) dynamic symbols, sorted.
        pyinit: exported ``PyInit_*``/``PyInitU_*`` names, sorted.
    """

    path: str
    size: int
    elf_class: int
    endianness: Endianness
    e_type: int
    e_machine: int
    machine: str
    e_flags: int
    osabi: int
    interp: str | None
    needed: tuple[str, ...]
    rpath: str | None
    runpath: str | None
    soname: str | None
    static_tls: bool
    relr: bool
    nodeflib: bool
    flags_1: int
    load_segments: int
    load_misaligned: bool
    has_gnu_stack: bool
    exec_stack: bool
    dynamic: bool
    version_needs: tuple[VersionNeed, ...]
    version_defs: tuple[str, ...]
    defined: frozenset[str]
    undefined: tuple[str, ...]
    pyinit: tuple[str, ...]

    @property
    def loadable(self) -> bool:
        """True for ``ET_DYN``/``ET_EXEC`` files (what ``dlopen``/``execve`` load)."""
        return self.e_type in (ET_DYN, ET_EXEC)


@dataclass(frozen=True)
class NotElf:
    """The file is not ELF. ``kind`` is ``macho``, ``pe`` or ``other`` (from its magic)."""

    path: str
    kind: FileKind


@dataclass(frozen=True)
class CorruptElf:
    """The file starts with the ELF magic but cannot be loaded; ``reason`` says why."""

    path: str
    reason: str


ElfResult = Union[ElfFacts, NotElf, CorruptElf]


@dataclass(frozen=True)
class ElfIdent:
    """The identification of an ELF file (enough for a loader to accept or skip it).

    Attributes:
        elf_class: 32 or 64; endianness: ``little``/``big``; e_machine: the number;
        osabi: ``EI_OSABI``.
    """

    elf_class: int
    endianness: Endianness
    e_machine: int
    osabi: int


class _Corrupt(Exception):
    """Internal: a bound or consistency check failed (becomes :class:`CorruptElf`)."""


# --- magic bytes ------------------------------------------------------------------------

def kind_of_magic(head: bytes) -> FileKind:
    """Classify a file by its first bytes (at least 4; 64 lets PE be confirmed).

    ``elf``: ``\\x7fELF``. ``macho``: a thin Mach-O magic of either byte order, or a fat
    (universal) magic whose architecture count is below 20 (``CAFEBABE`` is also the Java
    class-file magic, whose next word, the class version, is 45 or more; file(1) makes the
    same cut). ``pe``: ``MZ`` with ``e_lfanew`` pointing at ``PE\\0\\0`` when the header is
    long enough to tell, else just ``MZ``. Anything else is ``other``.
    """
    magic = head[:4]
    if magic == ELF_MAGIC:
        return "elf"
    if magic in _MACHO_THIN:
        return "macho"
    if magic in _MACHO_FAT and len(head) >= 8:
        order: Endianness = "big" if magic[0] == 0xCA else "little"
        nfat = int.from_bytes(head[4:8], order)
        if 0 < nfat < 20:
            return "macho"
    if head[:2] == b"MZ":
        if len(head) >= 64:
            lfanew = int.from_bytes(head[0x3C:0x40], "little")
            if lfanew + 4 <= len(head):
                return "pe" if head[lfanew:lfanew + 4] == b"PE\0\0" else "other"
        return "pe"
    return "other"


def sniff(path: str | os.PathLike[str]) -> FileKind:
    """Read the first bytes of ``path`` and classify them (:func:`kind_of_magic`).

    Unreadable files, directories and empty files are ``other``; never raises. Opened
    with ``O_NONBLOCK`` (a FIFO among the files does not block) and read with
    ``os.read``: the cheapest way to read 64 bytes of thousands of files.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return "other"
    try:
        head = os.read(fd, 64)
    except OSError:
        return "other"
    finally:
        os.close(fd)
    if head[:2] == b"MZ" and len(head) == 64:
        lfanew = int.from_bytes(head[0x3C:0x40], "little")
        if 64 <= lfanew < (1 << 20):
            try:
                with open(path, "rb") as fh:
                    fh.seek(lfanew)
                    sig = fh.read(4)
            except OSError:
                return "other"
            return "pe" if sig == b"PE\0\0" else "other"
    return kind_of_magic(head)


def identify(path: str | os.PathLike[str]) -> ElfIdent | None:
    """``e_ident`` and ``e_machine`` of an ELF file, ``None`` if not ELF or unreadable.

    This is the check glibc's ``open_verify`` and musl's ``map_library`` make before
    accepting a library found on a search path (class, byte order, machine).
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(20)
    except OSError:
        return None
    if len(head) < 20 or head[:4] != ELF_MAGIC or head[4] not in (1, 2) or head[5] not in (1, 2):
        return None
    order: Endianness = "little" if head[5] == 1 else "big"
    return ElfIdent(32 if head[4] == 1 else 64, order, int.from_bytes(head[18:20], order),
                    head[7])


# --- the parser -------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _basic_structs(little_endian: bool, elfclass: int) -> Any:
    structs = _pyelftools().ELFStructs(little_endian=little_endian, elfclass=elfclass)
    structs.create_basic_structs()
    return structs


def _number(enum: Mapping[str, int], value: Any) -> int:
    if isinstance(value, int):
        return value
    return int(enum[value])


class _Image:
    """Bounded access to the bytes of one file, addressed by offset or by loaded address."""

    def __init__(self, data: Any, size: int, order: str, elf_class: int) -> None:
        self.data = data
        self.size = size
        self.e = "<" if order == "little" else ">"
        self.wide = elf_class == 64
        self.loads: list[tuple[int, int, int]] = []  # (vaddr, filesz, offset)

    def read(self, offset: int, length: int, what: str) -> bytes:
        if offset < 0 or length < 0 or offset + length > self.size:
            raise _Corrupt(f"{what} at offset {offset:#x} (+{length}) lies past the end of "
                           f"the file ({self.size} bytes)")
        return bytes(self.data[offset:offset + length])

    def offset_of(self, vaddr: int, length: int, what: str) -> int:
        """File offset of loaded address ``vaddr`` (the PT_LOAD that maps it)."""
        for start, filesz, off in self.loads:
            if start <= vaddr and vaddr + length <= start + filesz:
                return off + (vaddr - start)
        raise _Corrupt(f"{what} address {vaddr:#x} is not inside any loadable segment")

    def cstring(self, table: bytes, index: int, what: str) -> str:
        if index >= len(table):
            raise _Corrupt(f"{what} string offset {index:#x} lies past its string table")
        end = table.find(b"\0", index)
        if end < 0:
            raise _Corrupt(f"{what} string at {index:#x} is not terminated")
        return table[index:end].decode("utf-8", "backslashreplace")


def _program_headers(img: _Image, hdr: Any) -> list[tuple[int, int, int, int, int, int]]:
    """``(p_type, p_flags, p_offset, p_vaddr, p_filesz, p_memsz)`` of every program header."""
    phnum, phoff, phentsize = int(hdr["e_phnum"]), int(hdr["e_phoff"]), int(hdr["e_phentsize"])
    if phnum == 0:
        return []
    if phnum > MAX_PHNUM:
        raise _Corrupt(f"{phnum} program headers (more than {MAX_PHNUM})")
    size = 56 if img.wide else 32
    if phentsize != size:
        raise _Corrupt(f"program header entry size {phentsize}, expected {size}")
    raw = img.read(phoff, phnum * size, "program header table")
    out = []
    if img.wide:
        for p_type, p_flags, p_off, p_vaddr, _pa, p_filesz, p_memsz, _al in struct.iter_unpack(
                img.e + "IIQQQQQQ", raw):
            out.append((p_type, p_flags, p_off, p_vaddr, p_filesz, p_memsz))
    else:
        for p_type, p_off, p_vaddr, _pa, p_filesz, p_memsz, p_flags, _al in struct.iter_unpack(
                img.e + "IIIIIIII", raw):
            out.append((p_type, p_flags, p_off, p_vaddr, p_filesz, p_memsz))
    return out


def _dynamic_entries(img: _Image, offset: int, filesz: int) -> list[tuple[int, int]]:
    entsize = 16 if img.wide else 8
    count = min(filesz // entsize, MAX_DYNAMIC_ENTRIES)
    raw = img.read(offset, count * entsize, "dynamic table")
    out = []
    for tag, val in struct.iter_unpack(img.e + ("QQ" if img.wide else "II"), raw):
        if tag == DT_NULL:
            break
        out.append((tag, val))
    return out


def _gnu_hash_count(img: _Image, off: int) -> int:
    """Number of dynamic symbols from a ``DT_GNU_HASH`` table (as glibc's ``dl-lookup``)."""
    nbuckets, symoffset, bloom_size, _shift = struct.unpack(img.e + "IIII",
                                                            img.read(off, 16, "GNU hash header"))
    if nbuckets > MAX_SYMBOLS or bloom_size > MAX_SYMBOLS:
        raise _Corrupt(f"GNU hash table with {nbuckets} buckets")
    buckets_off = off + 16 + bloom_size * (8 if img.wide else 4)
    buckets = struct.unpack(f"{img.e}{nbuckets}I",
                            img.read(buckets_off, 4 * nbuckets, "GNU hash buckets"))
    last: int = max(buckets, default=0)
    first: int = symoffset
    if last < first:
        return first
    chain_off = buckets_off + 4 * nbuckets
    i = last
    while True:  # walk the last chain to its end marker (bit 0 set); bounded by the file
        if i - symoffset > MAX_SYMBOLS:
            raise _Corrupt("GNU hash chain does not end")
        (h,) = struct.unpack(img.e + "I", img.read(chain_off + 4 * (i - symoffset), 4,
                                                   "GNU hash chain"))
        i += 1
        if h & 1:
            return i


def _dynsym_section(img: _Image, hdr: Any) -> tuple[int, int] | None:
    """``(offset, count)`` of the ``SHT_DYNSYM`` section, from the section headers."""
    shnum, shoff, shentsize = int(hdr["e_shnum"]), int(hdr["e_shoff"]), int(hdr["e_shentsize"])
    size = 64 if img.wide else 40
    if shnum == 0 or shoff == 0 or shentsize != size or shnum > MAX_SHNUM:
        return None
    raw = img.read(shoff, shnum * size, "section header table")
    fmt = img.e + ("IIQQQQIIQQ" if img.wide else "IIIIIIIIII")
    for _name, sh_type, _fl, _addr, off, sz, _link, _info, _al, entsize in struct.iter_unpack(
            fmt, raw):
        if sh_type == SHT_DYNSYM:
            if entsize != (24 if img.wide else 16):
                raise _Corrupt(f"dynamic symbol entry size {entsize}")
            return off, sz // entsize
    return None


_EXPORT_BINDS = frozenset({STB_GLOBAL, STB_WEAK, STB_GNU_UNIQUE})
_EXPORT_VISIBILITY = frozenset({STV_DEFAULT, STV_PROTECTED})


def _symbols(img: _Image, symtab_off: int, count: int, strtab: bytes
             ) -> tuple[frozenset[str], tuple[str, ...]]:
    """Bulk-read ``count`` ``Elf_Sym`` entries: (exported names, undefined non-weak names).

    The table is unpacked in one :func:`struct.iter_unpack` pass (only ``st_name``,
    ``st_info``, ``st_other``, ``st_shndx``; pad bytes skip the rest); the string table is
    decoded once and each wanted name cut out of it at its offset.
    """
    if count > MAX_SYMBOLS:
        raise _Corrupt(f"{count} dynamic symbols")
    entsize = 24 if img.wide else 16
    raw = img.read(symtab_off, count * entsize, "dynamic symbol table")
    rows = list(struct.iter_unpack(img.e + ("IBBH16x" if img.wide else "I8xBBH"), raw))
    undefined_at = [n for n, info, _other, shndx in rows
                    if n and shndx == SHN_UNDEF and info >> 4 == STB_GLOBAL]
    defined_at = [n for n, info, other, shndx in rows
                  if n and shndx != SHN_UNDEF and info >> 4 in _EXPORT_BINDS
                  and other & 3 in _EXPORT_VISIBILITY]
    # latin-1 keeps one character per byte, so string offsets stay valid in the text
    text = strtab.decode("latin-1")
    if not text.endswith("\0"):
        raise _Corrupt("the dynamic string table is not NUL-terminated")
    if max(max(defined_at, default=0), max(undefined_at, default=0)) >= len(text):
        raise _Corrupt("a symbol name offset lies past the string table")
    find = text.find
    defined = [text[o:find("\0", o)] for o in defined_at]
    undefined = [text[o:find("\0", o)] for o in undefined_at]
    if not text.isascii():  # names are UTF-8 bytes: re-decode the few that are not ASCII
        defined = [_utf8(n) for n in defined]
        undefined = [_utf8(n) for n in undefined]
    return frozenset(defined), tuple(sorted(set(undefined)))


def _utf8(name: str) -> str:
    if name.isascii():
        return name
    return name.encode("latin-1").decode("utf-8", "backslashreplace")


def _verneed(img: _Image, off: int, num: int, strtab: bytes, limit: int
             ) -> tuple[VersionNeed, ...]:
    """Walk ``Elf_Verneed``/``Elf_Vernaux`` chains (16 bytes each), bounded by ``limit``."""
    out: list[VersionNeed] = []
    seen = 0
    for _ in range(min(num, MAX_VERSION_ENTRIES)):
        _ver, cnt, vn_file, vn_aux, vn_next = struct.unpack(
            img.e + "HHIII", img.read(off, 16, "version need entry"))
        library = img.cstring(strtab, vn_file, "version need file")
        aux = off + vn_aux
        for _ in range(cnt):
            seen += 1
            if seen > limit:
                raise _Corrupt("version need entries loop or exceed their table")
            _hash, flags, _other, name, nxt = struct.unpack(
                img.e + "IHHII", img.read(aux, 16, "version need aux entry"))
            out.append(VersionNeed(library, img.cstring(strtab, name, "version need"),
                                   bool(flags & VER_FLG_WEAK)))
            if nxt == 0:
                break
            aux += nxt
        if vn_next == 0:
            break
        off += vn_next
    return tuple(out)


def _verdef(img: _Image, off: int, num: int, strtab: bytes) -> tuple[str, ...]:
    """Names of ``Elf_Verdef`` entries (20 bytes, first ``Elf_Verdaux`` is the name)."""
    out: list[str] = []
    for _ in range(min(num, MAX_VERSION_ENTRIES)):
        _ver, flags, _ndx, cnt, _hash, vd_aux, vd_next = struct.unpack(
            img.e + "HHHHIII", img.read(off, 20, "version definition"))
        if cnt and not flags & VER_FLG_BASE:
            name, _nxt = struct.unpack(img.e + "II", img.read(off + vd_aux, 8, "verdaux"))
            out.append(img.cstring(strtab, name, "version definition"))
        if vd_next == 0:
            break
        off += vd_next
    return tuple(out)


def _parse(path: str, data: Any, size: int, symbols: bool) -> ElfFacts:
    if size < 16:
        raise _Corrupt(f"only {size} bytes, shorter than an ELF identification")
    ei_class, ei_data = data[4], data[5]
    if ei_class not in (1, 2) or ei_data not in (1, 2):
        raise _Corrupt(f"invalid EI_CLASS {ei_class} or EI_DATA {ei_data}")
    elf_class = 32 if ei_class == 1 else 64
    order: Endianness = "little" if ei_data == 1 else "big"
    structs = _basic_structs(order == "little", elf_class)
    ehsize = 64 if elf_class == 64 else 52
    if size < ehsize:
        raise _Corrupt(f"only {size} bytes, shorter than the ELF header")
    lib = _pyelftools()
    hdr = lib.struct_parse(structs.Elf_Ehdr, io.BytesIO(bytes(data[:ehsize])), 0)
    img = _Image(data, size, order, elf_class)
    e_type = _number(lib.e_type, hdr["e_type"])
    e_machine = _number(lib.e_machine, hdr["e_machine"])
    osabi = _number(lib.ei_osabi, hdr["e_ident"]["EI_OSABI"])

    interp: str | None = None
    dyn: tuple[int, int] | None = None
    has_stack = False
    exec_stack = False
    misaligned = False
    for p_type, p_flags, p_off, p_vaddr, p_filesz, _memsz in _program_headers(img, hdr):
        if p_type == PT_LOAD:
            if p_off + p_filesz > size:
                raise _Corrupt(f"truncated: a loadable segment ends at {p_off + p_filesz:#x}, "
                               f"past the end of the file ({size:#x})")
            img.loads.append((p_vaddr, p_filesz, p_off))
            misaligned = misaligned or (p_vaddr - p_off) % MIN_PAGE_SIZE != 0
        elif p_type == PT_INTERP:
            raw = img.read(p_off, p_filesz, "PT_INTERP")
            interp = raw.split(b"\0", 1)[0].decode("utf-8", "backslashreplace")
        elif p_type == PT_DYNAMIC:
            dyn = (p_off, p_filesz)
        elif p_type == PT_GNU_STACK:
            has_stack = True
            exec_stack = bool(p_flags & PF_X)

    needed: list[str] = []
    rpath = runpath = soname = None
    static_tls = nodeflib = relr = False
    flags_1 = 0
    needs: tuple[VersionNeed, ...] = ()
    defs: tuple[str, ...] = ()
    defined: frozenset[str] = frozenset()
    undefined: tuple[str, ...] = ()
    # Without PT_LOAD nothing is mapped, so no dynamic-table address can be resolved: the
    # file keeps its header facts (a loader refuses it: loader.load_refusal says why).
    if dyn is not None and img.loads:
        entries = _dynamic_entries(img, *dyn)
        tags: dict[int, int] = {}
        for tag, val in entries:
            tags.setdefault(tag, val)
        if DT_STRTAB in tags:
            strsz = tags.get(DT_STRSZ, 0)
            str_off = img.offset_of(tags[DT_STRTAB], strsz, "DT_STRTAB")
            strtab = img.read(str_off, strsz, "dynamic string table")
        else:
            strtab = b""
        for tag, val in entries:
            if tag == DT_NEEDED:
                needed.append(img.cstring(strtab, val, "DT_NEEDED"))
            elif tag == DT_RPATH and rpath is None:
                rpath = img.cstring(strtab, val, "DT_RPATH")
            elif tag == DT_RUNPATH and runpath is None:
                runpath = img.cstring(strtab, val, "DT_RUNPATH")
            elif tag == DT_SONAME and soname is None:
                soname = img.cstring(strtab, val, "DT_SONAME")
        static_tls = bool(tags.get(DT_FLAGS, 0) & DF_STATIC_TLS)
        relr = DT_RELR in tags
        flags_1 = tags.get(DT_FLAGS_1, 0)
        nodeflib = bool(flags_1 & DF_1_NODEFLIB)
        if DT_VERNEED in tags:
            off = img.offset_of(tags[DT_VERNEED], 16, "DT_VERNEED")
            needs = _verneed(img, off, tags.get(DT_VERNEEDNUM, 0), strtab,
                             max(1, (size - off) // 16))
        if DT_VERDEF in tags:
            off = img.offset_of(tags[DT_VERDEF], 20, "DT_VERDEF")
            defs = _verdef(img, off, tags.get(DT_VERDEFNUM, 0), strtab)
        if symbols and DT_SYMTAB in tags:
            count: int | None = None
            if DT_GNU_HASH in tags:
                count = _gnu_hash_count(img, img.offset_of(tags[DT_GNU_HASH], 16, "DT_GNU_HASH"))
            elif DT_HASH in tags:
                hoff = img.offset_of(tags[DT_HASH], 8, "DT_HASH")
                count = struct.unpack(img.e + "I", img.read(hoff + 4, 4, "DT_HASH nchain"))[0]
            sym_off: int | None = None
            if count is not None:
                sym_off = img.offset_of(tags[DT_SYMTAB], count * (24 if img.wide else 16),
                                        "DT_SYMTAB")
            else:
                found = _dynsym_section(img, hdr)
                if found is not None:
                    sym_off, count = found
            if sym_off is not None and count:
                defined, undefined = _symbols(img, sym_off, count, strtab)

    pyinit: tuple[str, ...] = ()
    if defined and b"PyInit" in strtab:
        pyinit = tuple(sorted(s for s in defined if s.startswith(("PyInit_", "PyInitU_"))))
    return ElfFacts(
        path=path, size=size, elf_class=elf_class, endianness=order, e_type=e_type,
        e_machine=e_machine, machine=lib.machine_names.get(e_machine, str(e_machine)),
        e_flags=int(hdr["e_flags"]), osabi=osabi, interp=interp, needed=tuple(needed),
        rpath=rpath, runpath=runpath, soname=soname, static_tls=static_tls,
        relr=relr, nodeflib=nodeflib, flags_1=flags_1, load_segments=len(img.loads),
        load_misaligned=misaligned, has_gnu_stack=has_stack,
        exec_stack=exec_stack or not has_stack, dynamic=dyn is not None,
        version_needs=needs, version_defs=defs, defined=defined, undefined=undefined,
        pyinit=pyinit,
    )


def read_elf(path: str | os.PathLike[str], *, symbols: bool = True) -> ElfResult:
    """Read ``path`` and return :class:`ElfFacts`, :class:`NotElf` or :class:`CorruptElf`.

    ``symbols=False`` skips the dynamic symbol table (``defined``/``undefined``/``pyinit``
    stay empty), for callers that only need headers and the dynamic table.

    Never raises for the file's content; an unreadable file (permissions, a directory)
    is a :class:`CorruptElf` whose reason names the OS error. The file is mapped read-only
    and unmapped before returning.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            head = fh.read(64)
            kind = kind_of_magic(head) if head[:2] != b"MZ" else sniff(name)
            if kind != "elf":
                return NotElf(name, kind)
            size = os.fstat(fh.fileno()).st_size
            try:
                with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
                    return _parse(name, data, size, symbols)
            except _Corrupt as exc:
                return CorruptElf(name, str(exc))
            except _pyelftools().errors as exc:
                return CorruptElf(name, f"{type(exc).__name__}: {exc}"[:300])
    except OSError as exc:
        return CorruptElf(name, f"cannot read the file ({exc.strerror or exc})")


def read_interp(path: str | os.PathLike[str]) -> str | None:
    """``PT_INTERP`` of the ELF file at ``path`` (``/lib/ld-musl-x86_64.so.1``).

    ``None`` when the file has none, is not ELF, is corrupt or cannot be read.
    """
    facts = read_elf(path, symbols=False)
    return facts.interp if isinstance(facts, ElfFacts) else None


# --- plain data for a facts cache ---------------------------------------------------------

FACTS_FORMAT = 4
"""Version of :func:`result_to_json`'s layout (a cache of another version is ignored)."""


def result_to_json(result: ElfResult) -> dict[str, Any]:
    """A JSON-ready form of any :func:`read_elf` answer (see :func:`result_from_json`)."""
    if isinstance(result, NotElf):
        return {"kind": "not-elf", "path": result.path, "what": result.kind}
    if isinstance(result, CorruptElf):
        return {"kind": "corrupt", "path": result.path, "reason": result.reason}
    data = {f.name: getattr(result, f.name) for f in fields(result)}
    data["version_needs"] = [[n.library, n.version, n.weak] for n in result.version_needs]
    # symbol names as one newline-joined string each: far cheaper to load than a list
    data["defined"] = "\n".join(sorted(result.defined))
    data["undefined"] = "\n".join(result.undefined)
    for key in ("needed", "version_defs", "pyinit"):
        data[key] = list(data[key])
    data["kind"] = "elf"
    return data


def result_from_json(data: Mapping[str, Any]) -> ElfResult:
    """Rebuild an answer from :func:`result_to_json`'s form.

    Raises:
        ValueError: the data is not such a form (a damaged cache entry).
    """
    try:
        kind = data["kind"]
        if kind == "not-elf":
            return NotElf(str(data["path"]), data["what"])
        if kind == "corrupt":
            return CorruptElf(str(data["path"]), str(data["reason"]))
        if kind != "elf":
            raise ValueError(f"unknown kind {kind!r}")
        values = {f.name: data[f.name] for f in fields(ElfFacts)}
        values["version_needs"] = tuple(VersionNeed(str(a), str(b), bool(c))
                                        for a, b, c in data["version_needs"])
        defined, undefined = data["defined"], data["undefined"]
        values["defined"] = frozenset(defined.split("\n")) if defined else frozenset()
        values["undefined"] = tuple(undefined.split("\n")) if undefined else ()
        for key in ("needed", "version_defs", "pyinit"):
            values[key] = tuple(data[key])
        return ElfFacts(**values)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a facts record ({exc})") from exc
