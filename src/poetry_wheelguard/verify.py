"""Verification rules: ELF facts + target + loader resolutions in, findings out.

Pure functions: nothing here opens a file or starts a process; :mod:`poetry_wheelguard.
scan` reads the files (:mod:`~poetry_wheelguard.elf`), resolves their libraries
(:mod:`~poetry_wheelguard.loader`) and hands the results here. Codes are stable
(docs/codes.md, "Verify codes"); every finding's ``path`` is the installed file.

Per file (an installed file whose magic bytes say ELF, Mach-O or PE):

1. ``CORRUPT_ELF`` - ELF magic, but not loadable: truncated, bad offsets or counts, or - for
   a file the interpreter ``dlopen``-s (named like a shared object or exporting
   ``PyInit_<stem>``) - headers the target's loader refuses to map (``ET_REL``, no
   ``PT_LOAD``, no ``PT_DYNAMIC``; on glibc also ``ET_EXEC``, a PIE, ``-z nodlopen``:
   :func:`~poetry_wheelguard.loader.load_refusal`). Nothing else is reported for such a
   file: the import fails there.
2. ``FOREIGN_BINARY`` - a Mach-O or PE file named like a Linux shared object (``.so``,
   ``.so.N``, an extension suffix), or an ELF file for another OS (``EI_OSABI`` not System V
   or GNU/Linux).
3. ``WRONG_MACHINE`` - ``e_machine``, ``EI_CLASS``, byte order or the float-ABI flags
   differ from the interpreter's. Nothing else is checked for such a file.
4. ``LIBC_MISMATCH`` - glibc-linked (``libc.so.6``, a ``GLIBC_`` version need, an
   ``ld-linux`` interpreter) on a musl target, or musl-linked (``libc.so``,
   ``libc.musl-*``, an ``ld-musl`` interpreter) on glibc. The loader checks below are
   skipped: the file cannot load, and what would follow is noise.
5. ``EXT_SUFFIX`` - an extension module (it exports ``PyInit_<stem>`` or carries a Python
   ABI suffix) whose suffix is not in the interpreter's ``EXTENSION_SUFFIXES``.
6. ``NO_PYINIT`` - a file with a Python ABI suffix (or a ``PyInit_`` export) that lacks
   ``PyInit_<name>``, where ``<name>`` is the file's stem, or the package's name for a
   package's ``__init__`` extension (:func:`module_init_name`): ``import`` fails with
   "dynamic module does not define module export function".
7. ``STATIC_TLS`` - ``DF_STATIC_TLS``: musl's ``dlopen`` refuses it (error); glibc loads it
   while its static TLS surplus lasts (warning).
8. ``EXEC_STACK`` - executable stack (``PT_GNU_STACK`` with ``PF_X``, or no
   ``PT_GNU_STACK``): glibc >= 2.41 refuses it in ``dlopen`` (error); older glibc makes every
   thread stack executable (warning); musl ignores it.
9. ``LIBPYTHON`` - ``DT_NEEDED`` names a libpython other than the interpreter's own shared
   one (or any, for a statically linked interpreter).
9a. ``UNSUPPORTED_RELR`` - packed relative relocations (``DT_RELR``) that the target's loader
   does not apply: musl before 1.2.4 (the import crashes), glibc before 2.36 when the file
   lacks the ``GLIBC_ABI_DT_RELR`` version need that would make ``SYMBOL_VERSION`` say it.
   An unknown musl release gives a warning.
10. ``MISSING_LIBRARY`` - a ``DT_NEEDED`` the loader would not find (:mod:`loader`), or
    finds and refuses to map.
11. ``SYMBOL_VERSION`` - glibc: a version need (``GLIBC_2.29``, ``GLIBCXX_3.4.30``) that the
    library it resolves to does not define; weak needs are warnings. musl ignores versions.
12. ``UNDEFINED_SYMBOL`` - a non-weak undefined symbol that no object in the load scope
    defines (the interpreter's global scope plus the file's own dependency tree); Python
    loads extensions with ``RTLD_NOW`` and ctypes does too. Checked only when every
    dependency resolved (else 10 says it) and, for Python's C-API names, only when the
    interpreter binary itself was read.

A library loaded by another file of the same distribution (a bundled ``*.libs``
dependency) is judged as that file loads it (with its loading chain); every other file as
if ``dlopen``-ed by the interpreter.

Per distribution: ``UNSUPPORTED_TAG`` (no ``WHEEL`` tag in the target's supported tags),
``SILENT_PURE_BUILD`` (built locally, platform-tagged, and no compiled file),
``ELF_IN_PURE`` (pure-tagged, yet ELF files inside: warning).

One concern, one module, whatever its length: the per-file verification rules.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from packaging.tags import parse_tag

from poetry_wheelguard.elf import CorruptElf, ElfFacts, ElfResult, NotElf
from poetry_wheelguard.installed import DistInfo
from poetry_wheelguard.loader import LoadTree, Resolution, load_refusal, target_path
from poetry_wheelguard.models import Finding, Severity
from poetry_wheelguard.targets import Target

CORRUPT_ELF = "CORRUPT_ELF"
FOREIGN_BINARY = "FOREIGN_BINARY"
WRONG_MACHINE = "WRONG_MACHINE"
LIBC_MISMATCH = "LIBC_MISMATCH"
SYMBOL_VERSION = "SYMBOL_VERSION"
MISSING_LIBRARY = "MISSING_LIBRARY"
UNDEFINED_SYMBOL = "UNDEFINED_SYMBOL"
EXT_SUFFIX = "EXT_SUFFIX"
NO_PYINIT = "NO_PYINIT"
STATIC_TLS = "STATIC_TLS"
EXEC_STACK = "EXEC_STACK"
LIBPYTHON = "LIBPYTHON"
UNSUPPORTED_RELR = "UNSUPPORTED_RELR"
SILENT_PURE_BUILD = "SILENT_PURE_BUILD"
ELF_IN_PURE = "ELF_IN_PURE"
UNSUPPORTED_TAG = "UNSUPPORTED_TAG"
RECORD_ESCAPE = "RECORD_ESCAPE"
METADATA_MISSING = "METADATA_MISSING"

VERIFY_CODES = (
    CORRUPT_ELF, FOREIGN_BINARY, WRONG_MACHINE, LIBC_MISMATCH, SYMBOL_VERSION,
    MISSING_LIBRARY, UNDEFINED_SYMBOL, EXT_SUFFIX, NO_PYINIT, STATIC_TLS, EXEC_STACK,
    LIBPYTHON, UNSUPPORTED_RELR, SILENT_PURE_BUILD, ELF_IN_PURE, UNSUPPORTED_TAG,
)

# platform.machine() -> (e_machine, EI_CLASS, byte order, pyelftools name)
MACHINES: dict[str, tuple[int, int, str, str]] = {
    "x86_64": (62, 64, "little", "EM_X86_64"),
    "aarch64": (183, 64, "little", "EM_AARCH64"),
    "i686": (3, 32, "little", "EM_386"),
    "i386": (3, 32, "little", "EM_386"),
    "armv7l": (40, 32, "little", "EM_ARM"),
    "ppc64le": (21, 64, "little", "EM_PPC64"),
    "s390x": (22, 64, "big", "EM_S390"),
    "riscv64": (243, 64, "little", "EM_RISCV"),
}
_FLOAT_ABI_MASK = {40: 0x600, 243: 0x6}  # EF_ARM_ABI_FLOAT_*; EF_RISCV_FLOAT_ABI
_OSABI_LINUX = (0, 3)  # ELFOSABI_NONE (System V), ELFOSABI_GNU
_PY_ABI_SUFFIX = re.compile(r"^\.(cpython-\d+[a-z]*-|abi3\.|pypy\d*-|pypy\d+-pp\d+-|graalpy)")
_LIBPYTHON = re.compile(r"^libpython(\d+)\.(\d+)([a-z]*)\.so")
_GLIBC_NAMES = frozenset({
    "libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "libutil.so.1",
    "libresolv.so.2", "libcrypt.so.1", "libanl.so.1",
})
_LIBC_NAMES = _GLIBC_NAMES | {"libc.so"}
_PY_SYMBOL = re.compile(r"^_?Py|^_Py")
_SHOW_SYMBOLS = 5


@dataclass(frozen=True)
class Runtime:
    """The target as the verifier sees it.

    Attributes:
        target: the interpreter (tags, extension suffixes, libc, libpython).
        elf_class, endianness, e_machine: what its loader accepts.
        e_flags: the interpreter binary's ``e_flags`` (float ABI), ``None`` if not read.
        global_scope: host paths of the objects in the interpreter's global scope (the
            executable, its libraries, the dynamic loader), in load order.
        python_symbols: the interpreter binary was read, so Python C-API symbols are
            checked too (a sysroot without its Python leaves them unchecked).
        root: the sysroot (messages show paths as the target sees them).
        global_defined: the exported symbols of every ``global_scope`` object, united once
            (every file's lookup starts there); empty = look in each object instead.
        libc_release: the libc's full version (musl ``(1, 2, 3)``), when known.
    """

    target: Target
    elf_class: int
    endianness: str
    e_machine: int
    e_flags: int | None = None
    global_scope: tuple[str, ...] = ()
    python_symbols: bool = True
    root: str = "/"
    global_defined: frozenset[str] = frozenset()
    libc_release: tuple[int, ...] | None = None

    @property
    def libc(self) -> str:
        """``glibc``, ``musl`` or ``unknown``."""
        return self.target.libc


def runtime_ident(machine: str) -> tuple[int, int, str, str] | None:
    """``(e_machine, class, byte order, EM name)`` for a ``platform.machine()`` value."""
    return MACHINES.get(machine)


# --- helpers ------------------------------------------------------------------------------

def _symbol_version_order(text: str) -> tuple[int, ...]:
    """Sort key of an ELF symbol version name: its numbers (``GLIBC_2.17`` -> ``(2, 17)``,
    ``GLIBCXX_3.4.29`` -> ``(3, 4, 29)``), so ``GLIBC_2.9`` comes before ``GLIBC_2.17``."""
    nums = re.findall(r"\d+", text)
    return tuple(int(n) for n in nums)


def _stem_and_suffix(path: str) -> tuple[str, str]:
    base = os.path.basename(path)
    if "." not in base:
        return base, ""
    stem, rest = base.split(".", 1)
    return stem, "." + rest


def module_init_name(path: str) -> str:
    """The name CPython initialises an extension module file under: its stem, or for a
    package's ``__init__`` extension (``pkg/__init__.cpython-311-x86_64-linux-gnu.so``) the
    package's own name, because the module is imported as ``pkg`` and the loader calls
    ``PyInit_<last component of the module name>`` (PEP 489; ``_imp.create_dynamic``)."""
    stem, _suffix = _stem_and_suffix(path)
    if stem == "__init__":
        parent = os.path.basename(os.path.dirname(path))
        if parent:
            return parent
    return stem


def looks_like_shared_object(path: str, suffixes: Iterable[str] = ()) -> bool:
    """``.so``, ``.so.N...`` or one of ``suffixes`` (what Linux would ``dlopen``)."""
    base = os.path.basename(path)
    return base.endswith(".so") or ".so." in base or any(base.endswith(s) for s in suffixes)


def is_dlopened(path: str, facts: ElfFacts, suffixes: Iterable[str] = ()) -> bool:
    """A file the interpreter maps with ``dlopen`` rather than runs: named like a shared
    object (:func:`looks_like_shared_object`) or exporting ``PyInit_<stem>``. Executables
    (``bin/tool``, a static-PIE payload) are not, whatever their ``e_type``."""
    return (looks_like_shared_object(path, suffixes)
            or f"PyInit_{module_init_name(path)}" in facts.pyinit)


def is_extension(path: str, facts: ElfFacts) -> bool:
    """An extension module: it exports ``PyInit_<stem>``, or it is a shared object with a
    Python ABI suffix (``.cpython-311-...``, ``.abi3.so``, ``.pypy...``) and no
    ``PT_INTERP``."""
    if facts.interp is not None or not facts.loadable:
        return False
    _stem, suffix = _stem_and_suffix(path)
    name = module_init_name(path)
    if not name.isidentifier():
        return False
    if f"PyInit_{name}" in facts.pyinit:
        return True
    return bool(_PY_ABI_SUFFIX.match(suffix)) and suffix.endswith(".so")


def libc_of(facts: ElfFacts) -> str | None:
    """``glibc`` or ``musl`` when the file says which libc it was linked against."""
    interp = os.path.basename(facts.interp or "")
    if interp.startswith("ld-musl-") or any(
            n == "libc.so" or n.startswith("libc.musl-") for n in facts.needed):
        return "musl"
    if interp.startswith(("ld-linux", "ld64.so")) or "libc.so.6" in facts.needed or any(
            n.version.startswith("GLIBC_") and not n.version.startswith("GLIBC_PRIVATE")
            for n in facts.version_needs):
        return "glibc"
    return None


def _f(code: str, severity: Severity, path: str, message: str, hint: str = "") -> Finding:
    return Finding(code, severity, message, hint, path)


# --- per-file checks that need no loader --------------------------------------------------

def check_static(path: str, label: str, result: ElfResult, rt: Runtime,
                 siblings: Iterable[str] = ()) -> tuple[list[Finding], bool]:
    """Checks 1-9 of the module docstring for one file.

    ``label`` names the file in messages (``pkg/_ext.cpython-311-x86_64-linux-gnu.so``);
    ``siblings`` are the other file names in its directory. Returns ``(findings, go_on)``:
    ``go_on`` is ``False`` when the loader checks make no sense for this file (not loadable
    ELF, wrong machine, other libc).
    """
    t = rt.target
    if isinstance(result, CorruptElf):
        return [_f(CORRUPT_ELF, "error", path, f"{label}: corrupt ELF file: {result.reason}",
                   "reinstall the package; if it persists, the wheel itself is broken: "
                   "report it upstream")], False
    if isinstance(result, NotElf):
        if result.kind in ("macho", "pe") and looks_like_shared_object(
                path, t.extension_suffixes):
            what = "a Mach-O (macOS)" if result.kind == "macho" else "a PE (Windows)"
            return [_f(FOREIGN_BINARY, "error", path,
                       f"{label}: {what} binary named like a Linux shared object; Linux "
                       "cannot load it",
                       "the wheel was built for another OS: install the Linux wheel of this "
                       "release or report the mislabelled wheel upstream")], False
        return [], False
    facts = result
    if facts.osabi not in _OSABI_LINUX:
        return [_f(FOREIGN_BINARY, "error", path,
                   f"{label}: ELF file for another OS (EI_OSABI {facts.osabi})",
                   "install the Linux wheel of this release")], False
    dlopened = is_dlopened(path, facts, t.extension_suffixes)
    if not facts.loadable and not dlopened:
        return [], False  # an object file or core dump nothing loads
    want = (rt.elf_class, rt.endianness, rt.e_machine)
    got = (facts.elf_class, facts.endianness, facts.e_machine)
    mask = _FLOAT_ABI_MASK.get(facts.e_machine, 0)
    flags_differ = bool(mask and rt.e_flags is not None and facts.e_flags & mask
                        and (facts.e_flags & mask) != (rt.e_flags & mask))
    if got != want or flags_differ:
        why = (f"{facts.machine} {facts.elf_class}-bit {facts.endianness}-endian"
               if got != want else f"float ABI flags {facts.e_flags & mask:#x}")
        return [_f(WRONG_MACHINE, "error", path,
                   f"{label}: built for {why}; {t.name} runs {t.machine}",
                   f"install the {t.machine} wheel (pip selects it by tag; check for "
                   "--platform/--target options or a copied environment)")], False
    refused = load_refusal(facts, "musl" if t.libc == "musl" else "glibc",
                           t.libc_version) if dlopened else None
    if refused is not None:
        return [_f(CORRUPT_ELF, "error", path, f"{label}: cannot be loaded: {refused}",
                   "reinstall the package; if it persists, the wheel itself is broken: "
                   "report it upstream")], False
    out: list[Finding] = []
    flavour = libc_of(facts)
    go_on = True
    if flavour and t.libc in ("glibc", "musl") and flavour != t.libc:
        out.append(_f(LIBC_MISMATCH, "error", path,
                      f"{label}: linked against {flavour}, but {t.name} uses {t.libc}",
                      f"install the {'musllinux' if t.libc == 'musl' else 'manylinux'} "
                      "wheel of this release (pip chooses it when the installer runs on "
                      "the target) or build it on the target"))
        go_on = False
    stem, suffix = _stem_and_suffix(path)
    init = module_init_name(path)
    if is_extension(path, facts):
        if suffix not in t.extension_suffixes:
            used = [s for s in siblings if s != os.path.basename(path)
                    and s.startswith(stem + ".") and s[len(stem):] in t.extension_suffixes]
            if used:
                out.append(_f(EXT_SUFFIX, "info", path,
                              f"{label}: suffix {suffix} is not imported by {t.name}; "
                              f"{used[0]} is used instead"))
            else:
                out.append(_f(EXT_SUFFIX, "error", path,
                              f"{label}: {t.name} does not import the suffix {suffix} (it "
                              f"imports {', '.join(t.extension_suffixes)})",
                              "install the wheel built for this interpreter version and "
                              "ABI"))
        elif not ({f"PyInit_{init}"} & set(facts.pyinit)) and not (
                not init.isascii() and any(p.startswith("PyInitU_") for p in facts.pyinit)):
            out.append(_f(NO_PYINIT, "error", path,
                          f"{label}: no PyInit_{init} export; import fails (\"dynamic module "
                          "does not define module export function\")",
                          "the build produced a broken module: rebuild, or install the "
                          "release's wheel"))
    if facts.static_tls:
        if t.libc == "musl":
            out.append(_f(STATIC_TLS, "error", path,
                          f"{label}: uses initial-exec TLS (DF_STATIC_TLS); musl's dlopen "
                          "refuses it", "install a wheel built for musl without "
                          "-ftls-model=initial-exec (a newer release), or build on the target"))
        else:
            out.append(_f(STATIC_TLS, "warning", path,
                          f"{label}: uses initial-exec TLS (DF_STATIC_TLS); glibc loads it "
                          "only while its static TLS reserve lasts",
                          "if imports fail with \"cannot allocate memory in static TLS "
                          "block\", import it earlier or raise glibc.rtld.optional_static_tls"))
    if facts.relr:
        out += _check_relr(path, label, facts, rt)
    if facts.exec_stack and t.libc == "glibc":
        new = t.libc_version is not None and t.libc_version >= (2, 41)
        why = "marks its stack executable" if facts.has_gnu_stack else \
            "has no PT_GNU_STACK header (an executable stack by default)"
        out.append(_f(EXEC_STACK, "error" if new else "warning", path,
                      f"{label}: {why}; " + ("glibc 2.41+ refuses to dlopen it" if new else
                                             "glibc makes every thread stack executable"),
                      "upgrade to a release built with -z noexecstack, or clear the flag "
                      "(patchelf --clear-execstack)"))
    out += _check_libpython(path, label, facts, t)
    return out, go_on


def _check_relr(path: str, label: str, facts: ElfFacts, rt: Runtime) -> list[Finding]:
    t = rt.target
    hint = ("install a wheel linked without -z pack-relative-relocs (an older build or "
            "another release), or move to a newer base image")
    if t.libc == "musl":
        got = rt.libc_release
        if got is not None and tuple(got) >= (1, 2, 4):
            return []
        release = ".".join(map(str, got)) if got is not None else "of unknown release"
        return [_f(UNSUPPORTED_RELR, "error" if got is not None else "warning", path,
                   f"{label}: packed relative relocations (DT_RELR), which musl {release} "
                   "does not apply (musl applies them from 1.2.4); the import crashes", hint)]
    if t.libc == "glibc" and t.libc_version is not None and t.libc_version < (2, 36) and \
            not any(n.version == "GLIBC_ABI_DT_RELR" for n in facts.version_needs):
        return [_f(UNSUPPORTED_RELR, "error", path,
                   f"{label}: packed relative relocations (DT_RELR), which glibc "
                   f"{t.libc_version[0]}.{t.libc_version[1]} does not apply (glibc applies "
                   "them from 2.36)", hint)]
    return []


def _check_libpython(path: str, label: str, facts: ElfFacts, t: Target) -> list[Finding]:
    own = _LIBPYTHON.match(t.libpython or "")
    out = []
    for name in facts.needed:
        m = _LIBPYTHON.match(name)
        if not m:
            continue
        if own and (m[1], m[2], m[3]) == (own[1], own[2], own[3]):
            continue
        have = f"its own {t.libpython}" if t.libpython else "a statically linked libpython"
        out.append(_f(LIBPYTHON, "error", path,
                      f"{label}: linked against {name}, but {t.name} has {have}",
                      "extension modules must not link libpython: install the wheel built "
                      "for this interpreter (manylinux/musllinux wheels never do)"))
    return out


def _libpython_names(facts: ElfFacts) -> set[str]:
    return {n for n in facts.needed if _LIBPYTHON.match(n)}


# --- checks that need the loader ----------------------------------------------------------

def check_loading(path: str, label: str, facts: ElfFacts, tree: LoadTree,
                  objects: Mapping[str, ElfResult], rt: Runtime, skip_libs: set[str]
                  ) -> list[Finding]:
    """Checks 10-12 for ``path`` as loaded in ``tree`` (``path`` is ``tree.root`` or one of
    its objects). ``objects`` holds the facts of every object of ``tree`` and of
    ``rt.global_scope``; ``skip_libs`` are ``DT_NEEDED`` names another finding already
    covers (a foreign libpython)."""
    own: list[Resolution] = [r for r in tree.resolutions if r.by == path]
    out: list[Finding] = []
    for res in own:
        if res.how == "refused" and res.needed not in skip_libs:
            out.append(_f(MISSING_LIBRARY, "error", path,
                          f"{label}: needs {res.needed}, which the {rt.libc} loader of "
                          f"{rt.target.name} finds but cannot load ({res.problem})",
                          "reinstall the package that provides it; if it persists, that "
                          "file is broken: report it upstream"))
        elif res.path is None and res.needed not in skip_libs:
            where = f" ({res.problem})" if res.problem else ""
            out.append(_f(MISSING_LIBRARY, "error", path,
                          f"{label}: needs {res.needed}, which the {rt.libc} loader of "
                          f"{rt.target.name} does not find{where}",
                          "install the system package that provides it, or a wheel that "
                          "bundles it (auditwheel repair)"))
    if rt.libc == "glibc":
        out += _check_versions(path, label, facts, own, objects, rt)
    # The loader stops at the first failure: a missing library or a missing version
    # comes before symbol lookup, so UNDEFINED_SYMBOL is only judged without them.
    blocked = any(f.severity == "error" for f in out)
    remaining = None if blocked else unresolved_symbols(facts, tree, objects, rt)
    if remaining:
        out.append(_f(UNDEFINED_SYMBOL, "error", path,
                      f"{label}: {len(remaining)} undefined symbol(s) that nothing in "
                      f"its load scope defines: {_some(remaining)}",
                      "the library that should provide them is missing from DT_NEEDED "
                      "or too old; install the wheel built for this target"))
    return out


def _some(names: Sequence[str]) -> str:
    more = len(names) - _SHOW_SYMBOLS
    return ", ".join(names[:_SHOW_SYMBOLS]) + (f" (+{more} more)" if more > 0 else "")


def unresolved_symbols(facts: ElfFacts, tree: LoadTree, objects: Mapping[str, ElfResult],
                       rt: Runtime) -> list[str] | None:
    """The non-weak undefined symbols of ``facts`` that no object of its load scope (the
    global scope, then ``tree`` in load order) defines; ``None`` when the scope is not
    complete (a dependency was not found), as the loader stops before symbol lookup then.
    Python C-API names are left out when the interpreter binary was not read."""
    if not all(r.path is not None or r.how in ("libc", "loaded") for r in tree.resolutions):
        return None
    remaining = [s for s in facts.undefined if s not in rt.global_defined]
    if not rt.python_symbols:
        remaining = [s for s in remaining if not _PY_SYMBOL.match(s)]
    done = set(rt.global_scope) if rt.global_defined else set()
    for obj in dict.fromkeys((*rt.global_scope, *tree.objects)):
        if not remaining:
            break
        if obj in done:
            continue
        found = objects.get(obj)
        if isinstance(found, ElfFacts):
            defined = found.defined
            remaining = [s for s in remaining if s not in defined]
    return remaining


def _check_versions(path: str, label: str, facts: ElfFacts, own: Sequence[Resolution],
                    objects: Mapping[str, ElfResult], rt: Runtime) -> list[Finding]:
    by_name = {r.needed: r.path for r in own}
    missing: dict[str, list[tuple[str, bool]]] = {}
    provider_path: dict[str, str] = {}
    for need in facts.version_needs:
        lib_path = by_name.get(need.library)
        if lib_path is None:
            continue  # not needed directly or not found (MISSING_LIBRARY says so)
        lib = objects.get(lib_path)
        if not isinstance(lib, ElfFacts) or not lib.version_defs:
            continue  # a library without version definitions: glibc only warns
        if need.version not in lib.version_defs:
            missing.setdefault(need.library, []).append((need.version, need.weak))
            provider_path[need.library] = lib_path
    out = []
    for library, versions in missing.items():
        strong = [v for v, weak in versions if not weak]
        names = ", ".join(sorted({v for v, _ in versions}, key=_symbol_version_order))
        lib = objects[provider_path[library]]
        assert isinstance(lib, ElfFacts)
        family = re.sub(r"[\d.]+$", "", versions[0][0])
        newest = max((d for d in lib.version_defs if d.startswith(family)),
                     key=_symbol_version_order, default="")
        has = f" (it defines up to {newest})" if newest else ""
        target_hint = (f"{rt.target.name} has {rt.target.libc_label}: install a wheel whose "
                       f"manylinux tag is not newer than it" if family == "GLIBC_"
                       else "install a newer system library or a wheel that bundles it")
        out.append(_f(SYMBOL_VERSION, "error" if strong else "warning", path,
                      f"{label}: needs {names} from {library}, which "
                      f"{target_path(rt.root, provider_path[library])} does not define{has}",
                      target_hint))
    return out


# --- a whole distribution -----------------------------------------------------------------

def entry_points(paths: Sequence[str], trees: Mapping[str, LoadTree]) -> list[str]:
    """The files of one distribution that nothing else of it loads (extensions, ctypes
    libraries, executables), in ``paths`` order. Files only reachable through a cycle of
    dependencies become entries too, so every file is judged once."""
    mine = set(paths)
    loaded = {p for root, t in trees.items() for p in t.objects[1:] if p in mine and p != root}
    entries = [p for p in paths if p not in loaded]
    reached = set(entries)
    for e in entries:
        if e in trees:
            reached.update(p for p in trees[e].objects if p in mine)
    entries += [p for p in paths if p not in reached]
    return entries


def check_files(dist: DistInfo, results: Mapping[str, ElfResult],
                trees: Mapping[str, LoadTree], objects: Mapping[str, ElfResult],
                rt: Runtime) -> list[Finding]:
    """Every per-file finding of one distribution.

    ``results`` maps each of its binary files (ELF, Mach-O, PE) to what :func:`~poetry_
    wheelguard.elf.read_elf` said; ``trees`` maps each loadable one to its load tree as if
    ``dlopen``-ed by the interpreter; ``objects`` holds the facts of every object of those
    trees and of ``rt.global_scope``.
    """
    out: list[Finding] = []
    loader_ok: dict[str, ElfFacts] = {}
    skip: dict[str, set[str]] = {}
    by_dir: dict[str, list[str]] = {}
    for path in results:
        by_dir.setdefault(os.path.dirname(path), []).append(os.path.basename(path))
    for path, result in results.items():
        label = dist.relpath(path)
        found, go_on = check_static(path, label, result, rt,
                                    by_dir.get(os.path.dirname(path), ()))
        if isinstance(result, ElfFacts) and path in trees:
            found = [_libc_outcome(f, result, trees[path], objects, rt)
                     if f.code == LIBC_MISMATCH else f for f in found]
        out += found
        if go_on and isinstance(result, ElfFacts) and path in trees:
            loader_ok[path] = result
            skip[path] = _libpython_names(result) if any(
                f.code == LIBPYTHON for f in found) else set()
    seen: set[tuple[str, str, str]] = set()
    judged: set[tuple[str, tuple[str, ...], tuple[tuple[str, str | None], ...]]] = set()
    for entry in entry_points(list(loader_ok), trees):
        tree = trees[entry]
        for obj in tree.objects:
            if obj not in loader_ok:
                continue
            # the same object with the same resolutions in the same scope: judged already
            key = (obj, tree.objects, tuple((r.needed, r.path) for r in tree.resolutions
                                            if r.by == obj))
            if key in judged:
                continue
            judged.add(key)
            for finding in check_loading(obj, dist.relpath(obj), loader_ok[obj], tree,
                                         objects, rt, skip[obj]):
                once = (finding.code, obj, finding.message)
                if once not in seen:
                    seen.add(once)
                    out.append(finding)
    return out


def _libc_outcome(finding: Finding, facts: ElfFacts, tree: LoadTree,
                  objects: Mapping[str, ElfResult], rt: Runtime) -> Finding:
    """Say in a ``LIBC_MISMATCH`` message what the target's loader will make of the file:
    a library it cannot load, symbols its libc lacks, or - for a file that uses nothing
    libc-specific - that it may load (musl maps ``libc.so.6`` to itself and ignores symbol
    versions), which is still unsupported."""
    failed = next((r for r in tree.resolutions if r.path is None), None)
    if failed is not None:
        why = f" ({failed.problem})" if failed.problem else ""
        outcome = f"; {failed.needed} cannot be loaded{why}"
    else:
        missing = unresolved_symbols(facts, tree, objects, rt) or []
        outcome = (f"; {len(missing)} symbol(s) {rt.libc} does not define: {_some(missing)}"
                   if missing else f"; it may load, but {rt.libc} does not support it")
    return replace(finding, message=finding.message + outcome)


def check_distribution(dist: DistInfo, target: Target, binaries: int, elf_files: int
                       ) -> list[Finding]:
    """The per-distribution codes: ``UNSUPPORTED_TAG``, ``SILENT_PURE_BUILD``,
    ``ELF_IN_PURE``, ``RECORD_ESCAPE`` (one per ``RECORD`` entry that was not read),
    ``METADATA_MISSING``. ``binaries`` counts its compiled files of any kind, ``elf_files``
    its ELF files."""
    out: list[Finding] = []
    label = f"{dist.display_name} {dist.version}"
    if dist.metadata_missing:
        out.append(Finding(METADATA_MISSING, "warning",
                           f"{label}: {os.path.basename(dist.path)} has no METADATA; name and "
                           "version are taken from the directory name, its files are checked",
                           "reinstall the package (pip install --force-reinstall NAME)",
                           dist.path))
    for entry, why in dist.record_problems:
        out.append(Finding(RECORD_ESCAPE, "warning",
                           f"{label}: RECORD entry {entry!r} is {why}; it was not read",
                           "a RECORD lists only the distribution's own files: reinstall the "
                           "package, and ask upstream why its RECORD names this path",
                           dist.path))
    if dist.tags and not any(target.supports(tag) for text in dist.tags
                             for tag in parse_tag(text)):
        out.append(Finding(UNSUPPORTED_TAG, "error",
                           f"{label}: installed from a wheel tagged {', '.join(dist.tags[:3])}, "
                           f"none of which {target.name} supports",
                           "reinstall it with the installer running on the target "
                           "interpreter", dist.path))
    if dist.provenance == "local" and not dist.pure and dist.tags and binaries == 0:
        # the reason is a whole phrase ("built from the sdist x.tar.gz", "built locally
        # (tag ...)"): said once, with the tag only when the reason does not name it
        tag = "" if dist.tags[0] in dist.provenance_reason else f" ({dist.tags[0]})"
        out.append(Finding(SILENT_PURE_BUILD, "warning" if dist.first_party else "error",
                           f"{label}: {dist.provenance_reason}, platform-tagged{tag}, but "
                           "it contains no compiled file: the build dropped its extension",
                           "install a release with a wheel for this interpreter, or install "
                           "the build dependencies (compiler, headers, Cython) and reinstall "
                           "with --no-cache-dir", dist.path))
    if dist.pure and elf_files:
        out.append(Finding(ELF_IN_PURE, "warning",
                           f"{label}: pure-tagged ({dist.tags[0]}) but contains {elf_files} "
                           "ELF file(s): the installer cannot tell which machine they need",
                           "ask upstream for platform-tagged wheels", dist.path))
    return out
