"""``pip-guard verify``: check every compiled file of an installed environment.

    pip-guard verify [--python PATH] [--path DIR [--sysroot ROOT [--libc glibc|musl]]]
                     [--package NAME]...
                     [--ld-library-path PATHS] [--index URL] [--no-cache] [global options]

Targets:

- no option: the running interpreter and its site-packages;
- ``--python PATH``: another interpreter, probed (``python -I -S``; no package code runs)
  for its site-packages, extension suffixes, libc and libpython;
- ``--path DIR --sysroot ROOT``: an extracted image: ``DIR`` is a site-packages directory,
  ``ROOT`` the image's root. The libc flavour and version are read from ``ROOT``'s own
  loader and libc (:func:`inspect_sysroot`: where both glibc and musl are installed, the
  one whose loader ``ROOT``'s Python or ``/bin/sh`` names, else ``--libc``), the machine
  from its libc, the Python version from ``DIR``'s ``pythonX.Y`` component (or ``ROOT``'s
  ``python3.X`` binary); every library is resolved inside ``ROOT``. ``--path DIR`` alone
  verifies ``DIR`` against the running (or ``--python``) interpreter.

Exit codes (:mod:`poetry_wheelguard.exitcodes`): 0 when no error finding, or in warn mode
(the default) whatever was found - findings are printed and reported, the exit code stays
0; 11 (``VERIFY_ERRORS``) in strict mode when any error finding exists; 12 for unreadable
input (an interpreter that does not run, a missing directory, an unreachable ``--index``);
64 for a bad command line.

Nothing is imported or executed from the verified files: they are read as bytes. Facts of
files already read are kept in a cache (:class:`FactsCache`; ``--no-cache`` skips it).
:func:`verify_installed` runs this command in a separate process after an install (``pip-guard
install``, the Poetry plugin), :func:`merge_verification` adds its findings to the install
records.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from packaging.version import InvalidVersion, Version

from poetry_wheelguard import exitcodes
from poetry_wheelguard.config import Config
from poetry_wheelguard.elf import (
    FACTS_FORMAT,
    ElfFacts,
    ElfIdent,
    ElfResult,
    FileKind,
    NotElf,
    kind_of_magic,
    read_elf,
    read_interp,
    result_from_json,
    result_to_json,
    sniff,
)
from poetry_wheelguard.errors import VerifyError, WheelguardError
from poetry_wheelguard.installed import DistInfo, find_distributions
from poetry_wheelguard.loader import (
    MUSL_ARCH,
    Flavour,
    Loader,
    LoadTree,
    configure,
    glibc_default_dirs,
    resolve_in_root,
    target_path,
)
from poetry_wheelguard.models import (
    SEVERITY_RANK,
    Candidate,
    Finding,
    NormalizedName,
    PackageRecord,
    Selection,
)
from poetry_wheelguard.report import redact_text, write_json_atomic
from poetry_wheelguard.selfcmd import guard_command
from poetry_wheelguard.targets import (
    Target,
    make_target,
    probe_interpreter,
    running_target,
)
from poetry_wheelguard.verify import (
    MACHINES,
    Runtime,
    check_distribution,
    check_files,
    is_extension,
)

_MACHINE_BY_EM = {em: machine for machine, (em, _c, _o, _n) in MACHINES.items()
                  if machine not in ("i386",)}


# --- the target ---------------------------------------------------------------------------

def glibc_version_of(libc_path: str) -> tuple[int, int] | None:
    """The glibc version of a ``libc.so.6`` file, without running it: the banner it prints
    when executed (``... stable release version 2.36.``), else a ``libc-2.28.so`` name the
    file is a link to, else its newest ``GLIBC_2.N`` version definition."""
    try:
        with open(libc_path, "rb") as fh:
            data = fh.read(64 << 20)
    except OSError:
        return None
    m = re.search(rb"release version (\d+)\.(\d+)", data)
    if m:
        return int(m[1]), int(m[2])
    m2 = re.match(r"libc-(\d+)\.(\d+)\.so$", os.path.basename(os.path.realpath(libc_path)))
    if m2:
        return int(m2[1]), int(m2[2])
    facts = read_elf(libc_path, symbols=False)
    if isinstance(facts, ElfFacts):
        versions = [tuple(int(x) for x in d[6:].split(".")[:2]) for d in facts.version_defs
                    if re.match(r"GLIBC_\d+\.\d+", d)]
        if versions:
            best = max(versions)
            return best[0], best[1]
    return None


def musl_version_of(loader_path: str, root: str = "/") -> tuple[int, int, int] | None:
    """The musl release ``(1, 2, 3)`` of a musl loader/libc file, without running it: the
    version string it carries (``1.2.3`` beside its ``ld-musl`` usage text), else Alpine's
    package database (``/lib/apk/db/installed``, ``P:musl`` / ``V:1.2.4-r2``) in ``root``."""
    try:
        with open(loader_path, "rb") as fh:
            data = fh.read(16 << 20)
    except OSError:
        data = b""
    m = re.search(rb"\0(1\.[0-9]\.[0-9]{1,2})\0", data)
    if m:
        major, minor, patch = m[1].decode().split(".")
        return int(major), int(minor), int(patch)
    db = resolve_in_root(root, "/lib/apk/db/installed")
    if db:
        try:
            with open(db, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError:
            text = ""
        m2 = re.search(r"^P:musl\nV:(\d+)\.(\d+)\.(\d+)", text, re.MULTILINE)
        if m2:
            return int(m2[1]), int(m2[2]), int(m2[3])
    return None


@dataclass(frozen=True)
class SysrootFacts:
    """What an image root says about its runtime (see :func:`sysroot_target`).

    Attributes:
        libc: ``glibc`` or ``musl``; libc_version: ``(major, minor)`` when readable.
        machine: ``platform.machine()`` spelling of the libc's machine (``x86_64``).
        interp: the dynamic loader's path as the image sees it.
        libc_path: host path of the libc file (glibc ``libc.so.6``, the musl loader).
        python: host path of the image's Python, ``None`` when none was found.
        python_version: ``(3, X)`` from the site directory or the Python found.
        libc_source: how the libc was decided, one phrase (``the only libc in the image``,
            ``--libc``, ``PT_INTERP of /bin/sh``).
        other_libc: the other libc present beside it (a glibc system with musl installed on
            the side), ``""`` when there is none.
    """

    libc: str
    libc_version: tuple[int, int] | None
    machine: str
    interp: str
    libc_path: str
    python: str | None
    python_version: tuple[int, int] | None
    libc_source: str = ""
    other_libc: str = ""


_MUSL_LOADER = re.compile(r"^ld-musl-[A-Za-z0-9_]+\.so\.1$")


def _interp_flavour(interp: str) -> str | None:
    """``musl`` for an ``ld-musl-<arch>.so.1`` loader path, ``glibc`` for ``ld-linux*`` /
    ``ld64.so*`` (glibc's loader names on every architecture), else ``None``."""
    name = os.path.basename(interp)
    if _MUSL_LOADER.match(name):
        return "musl"
    if name.startswith(("ld-linux", "ld64.so")):
        return "glibc"
    return None


def _musl_loaders(root: str) -> list[tuple[str, str]]:
    """``(interp, host path)`` of every musl loader of ``root``: ``/lib/ld-musl-<arch>.so.1``
    (where musl installs it, on Alpine and beside glibc alike) that resolves to an ELF
    file."""
    lib = resolve_in_root(root, "/lib")
    if lib is None or not os.path.isdir(lib):
        return []
    out = []
    for name in sorted(os.listdir(lib)):
        if _MUSL_LOADER.match(name):
            host = resolve_in_root(root, f"/lib/{name}")
            if host and isinstance(read_elf(host, symbols=False), ElfFacts):
                out.append((f"/lib/{name}", host))
    return out


def _glibc_libcs(root: str) -> list[tuple[str, str]]:
    """``(machine, host path)`` of every glibc ``libc.so.6`` in glibc's default directories
    of ``root``, per machine. Only a real glibc counts - an ELF file defining ``GLIBC_2.*``
    versions - not Alpine's ``libc6-compat`` names, which lead to musl."""
    out = []
    for machine, (_em, elf_class, _order, name) in MACHINES.items():
        if machine == "i386":
            continue  # the same libc as i686
        for d in glibc_default_dirs(root, name, elf_class):
            host = resolve_in_root(root, d + "/libc.so.6")
            if not host:
                continue
            facts = read_elf(host, symbols=False)
            if isinstance(facts, ElfFacts) and _MACHINE_BY_EM.get(facts.e_machine) == machine \
                    and any(v.startswith("GLIBC_2.") for v in facts.version_defs):
                out.append((machine, host))
                break
    return out


def _libc_witness(root: str, python: str | None) -> tuple[str, str, str] | None:
    """``(flavour, interp, witness)``: the libc whose loader the image's own programs name
    in ``PT_INTERP`` - its Python (the program that will load the extensions), then
    ``/usr/bin/python3``, ``/usr/local/bin/python3``, then ``/bin/sh`` - or ``None`` when
    none of them is a dynamically linked ELF file naming a known loader."""
    candidates: list[tuple[str, str | None]] = []
    if python:
        candidates.append((target_path(root, python), python))
    for path in ("/usr/bin/python3", "/usr/local/bin/python3", "/bin/sh"):
        candidates.append((path, resolve_in_root(root, path)))
    for shown, host in candidates:
        interp = read_interp(host) if host and os.path.isfile(host) else None
        flavour = _interp_flavour(interp or "")
        if interp and flavour:
            return flavour, interp, f"PT_INTERP of {shown}"
    return None


def inspect_sysroot(root: str, site_dirs: Sequence[str], libc: str | None = None
                    ) -> SysrootFacts:
    """Read the libc flavour, version and machine of the image at ``root``, and find its
    Python (``/usr/local/bin/python3.X`` or ``/usr/bin/python3.X``, X from the
    ``pythonX.Y`` component of a site directory).

    The libc is the image's own: a musl loader ``/lib/ld-musl-<arch>.so.1`` (Alpine) or a
    glibc ``libc.so.6`` in glibc's default directories (Debian, RHEL...). When both are
    there - a glibc system with musl installed beside it (Debian's ``musl`` package), or
    Alpine with a glibc compatibility package - the system libc is the one whose loader the
    image's own Python or ``/bin/sh`` names in ``PT_INTERP``; ``libc`` (``glibc`` or
    ``musl``, the ``--libc`` option) decides instead when given.

    Raises:
        WheelguardError: ``root`` holds no libc; ``libc`` names one it does not hold; or it
            holds both, nothing in it tells which is the system's and ``libc`` is ``None``.
    """
    if not os.path.isdir(root):
        raise WheelguardError("sysroot is not a directory", filename=root)
    version: tuple[int, int] | None = None
    for d in site_dirs:
        m = re.search(r"python(\d+)\.(\d+)", d)
        if m:
            version = (int(m[1]), int(m[2]))
            break
    python = None
    candidates = [f"python{version[0]}.{version[1]}"] if version else [
        f"python3.{m}" for m in range(20, 5, -1)]
    for base in ("/usr/local/bin", "/usr/bin"):
        for name in candidates:
            host = resolve_in_root(root, f"{base}/{name}")
            if host and os.path.isfile(host):
                python = host
                if version is None:
                    version = (3, int(name.split(".")[1]))
                break
        if python:
            break

    musl = _musl_loaders(root)
    glibc = _glibc_libcs(root)
    witness = _libc_witness(root, python) if musl and glibc else None
    if libc is not None:
        if libc not in ("glibc", "musl"):
            raise WheelguardError(f"--libc must be glibc or musl, not {libc!r}")
        if not (musl if libc == "musl" else glibc):
            raise WheelguardError(f"--libc {libc}: the sysroot has no {libc} (looked for "
                                  + ("/lib/ld-musl-<arch>.so.1)" if libc == "musl" else
                                     "libc.so.6 in glibc's default directories)"),
                                  filename=root)
        flavour, source = libc, "--libc"
    elif musl and glibc:
        if witness is None:
            raise WheelguardError(f"the sysroot has both glibc ({target_path(root, glibc[0][1])})"
                                  f" and musl ({musl[0][0]}), and neither its Python nor /bin/sh "
                                  "names either loader; pass --libc glibc or --libc musl",
                                  filename=root)
        flavour, source = witness[0], witness[2]
    elif musl or glibc:
        flavour, source = ("musl" if musl else "glibc"), "the only libc in the image"
    else:
        raise WheelguardError("no libc found in the sysroot (neither /lib/ld-musl-*.so.1 nor "
                              "libc.so.6 in its library directories); pass the image's root",
                              filename=root)
    other = ("glibc" if flavour == "musl" else "musl") if musl and glibc else ""

    interp = libc_path = ""
    libc_version: tuple[int, int] | None = None
    if flavour == "musl":
        named = witness[1] if witness and witness[0] == "musl" else ""
        interp, libc_path = next(((i, h) for i, h in musl if i == named), musl[0])
        release = musl_version_of(libc_path, root)
        libc_version = release[:2] if release else None
    else:  # the witness's loader tells the machine (a multiarch root has several libcs)
        loader_host = resolve_in_root(root, witness[1]) \
            if witness and witness[0] == "glibc" else None
        loader_facts = read_elf(loader_host, symbols=False) if loader_host else None
        want = _MACHINE_BY_EM.get(loader_facts.e_machine) \
            if isinstance(loader_facts, ElfFacts) else None
        libc_path = next((h for m, h in glibc if m == want), "")
        if libc_path and witness:
            interp = witness[1]
        libc_path = libc_path or glibc[0][1]
        libc_version = glibc_version_of(libc_path)
    facts = read_elf(libc_path, symbols=False)
    if not isinstance(facts, ElfFacts) or facts.e_machine not in _MACHINE_BY_EM:
        raise WheelguardError("the sysroot's libc is not a readable ELF file of a known "
                              "machine", filename=libc_path)
    machine = _MACHINE_BY_EM[facts.e_machine]
    if flavour == "glibc" and not interp:
        interp = facts.interp or ""
        if not interp:  # a libc.so.6 without PT_INTERP: the loader by its usual names
            for d in ("/lib64", "/lib", *glibc_default_dirs(root, facts.machine,
                                                            facts.elf_class)):
                host = resolve_in_root(root, d)
                names = sorted(os.listdir(host)) if host and os.path.isdir(host) else []
                found_names = [n for n in names if n.startswith(("ld-linux", "ld64.so"))]
                if found_names:
                    interp = f"{d}/{found_names[0]}"
                    break
    return SysrootFacts(flavour, libc_version, machine, interp, libc_path, python, version,
                        source, other)


def sysroot_extension_suffixes(root: str, version: tuple[int, int], machine: str,
                               libc: str) -> list[str]:
    """``EXTENSION_SUFFIXES`` of the image's CPython, without running it.

    From ``SOABI`` in its ``lib/pythonX.Y/_sysconfigdata_*.py`` (a literal dict, read with
    :func:`ast.literal_eval`): ``.<SOABI>.so``, ``.abi3.so``, ``.so``, as CPython's
    ``_PyImport_DynLoadFiletab`` lists them. Without that file, CPython's own configure
    rule: the ``-linux-musl`` triplet on musl only from 3.11 (bpo-43112); before that every
    Linux build says ``-linux-gnu``.
    """
    major, minor = version
    for prefix in ("/usr/local/lib", "/usr/lib"):
        host = resolve_in_root(root, f"{prefix}/python{major}.{minor}")
        if not host or not os.path.isdir(host):
            continue
        for entry in sorted(os.listdir(host)):
            if entry.startswith("_sysconfigdata_") and entry.endswith(".py"):
                soabi = _soabi_from_sysconfigdata(os.path.join(host, entry))
                if soabi:
                    return [f".{soabi}.so", ".abi3.so", ".so"]
    gnu = "musl" if libc == "musl" and version >= (3, 11) else "gnu"
    return [f".cpython-{major}{minor}-{machine}-linux-{gnu}.so", ".abi3.so", ".so"]


def _soabi_from_sysconfigdata(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "build_time_vars" for t in node.targets):
            try:
                data = ast.literal_eval(node.value)
            except ValueError:
                return None
            soabi = data.get("SOABI") if isinstance(data, dict) else None
            return soabi if isinstance(soabi, str) and soabi else None
    return None


def sysroot_target(root: str, site_dirs: Sequence[str], libc: str | None = None
                   ) -> tuple[Target, SysrootFacts]:
    """The :class:`Target` of the Python in the image at ``root`` (tags from ``packaging``);
    ``libc`` as in :func:`inspect_sysroot`.

    Raises:
        WheelguardError: as :func:`inspect_sysroot`, or the Python version is unknown.
    """
    facts = inspect_sysroot(root, site_dirs, libc)
    if facts.python_version is None:
        raise WheelguardError("cannot tell the Python version: pass --path ending in "
                              "lib/pythonX.Y/site-packages", filename=root)
    libpython = None
    if facts.python:
        exe = read_elf(facts.python, symbols=False)
        if isinstance(exe, ElfFacts):
            libpython = next((n for n in exe.needed if n.startswith("libpython")), None)
    assert facts.libc in ("glibc", "musl")
    target = make_target(
        python_version=facts.python_version, machine=facts.machine,
        libc="glibc" if facts.libc == "glibc" else "musl", libc_version=facts.libc_version,
        extension_suffixes=sysroot_extension_suffixes(root, facts.python_version,
                                                      facts.machine, facts.libc),
        executable=facts.python, libpython=libpython,
    )
    return target, facts


# --- the run ------------------------------------------------------------------------------

def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where verify keeps its facts cache: ``$WHEELGUARD_CACHE_DIR/verify``, else
    ``$XDG_CACHE_HOME/poetry-wheelguard/verify``, else ``~/.cache/poetry-wheelguard/verify``."""
    env = os.environ if environ is None else environ
    if env.get("WHEELGUARD_CACHE_DIR"):
        return Path(env["WHEELGUARD_CACHE_DIR"]) / "verify"
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "poetry-wheelguard" / "verify"


class FactsCache:
    """ELF facts kept between runs, so a second verify of an unchanged environment reads
    no ELF file again.

    One JSON file per verified set of directories. An entry is keyed by the file's identity
    and state - device, inode, size, modification and change times (``st_ctime`` changes
    with any write, rename or permission change) - so a changed file is read again. The
    magic-byte scan of a distribution is kept under its ``RECORD`` file's identity (every
    installer rewrites ``RECORD`` when it installs). Entries not used by a run are dropped
    when it saves. A missing, unreadable or damaged cache is an empty one.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._facts: dict[str, dict[str, Any]] = {}
        self._scans: dict[str, dict[str, Any]] = {}
        self.used_facts: dict[str, dict[str, Any]] = {}
        self.used_scans: dict[str, dict[str, Any]] = {}
        self.hits = 0
        self.misses = 0
        self._dirty = False
        if path is None:
            return
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and data.get("format") == FACTS_FORMAT:
            self._facts = data.get("facts") or {}
            self._scans = data.get("scans") or {}

    @staticmethod
    def key(st: os.stat_result) -> str:
        """The identity-and-state key of a file's ``stat`` result."""
        return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"

    def facts(self, key: str, path: str) -> ElfResult | None:
        raw = self._facts.get(key)
        if raw is None:
            self.misses += 1
            return None
        try:
            found = result_from_json(raw)
        except ValueError:
            self.misses += 1
            return None
        self.hits += 1
        self.used_facts[key] = raw
        return replace(found, path=path)

    def read(self, path: str, st: os.stat_result | None = None) -> ElfResult:
        """The facts of ``path`` from the cache, else read (and kept)."""
        try:
            key = FactsCache.key(st or os.stat(path))
        except OSError:
            return read_elf(path)
        found = self.facts(key, path)
        if found is None:
            found = read_elf(path)
            self.store_facts(key, found)
        return found

    def store_facts(self, key: str, result: ElfResult) -> None:
        self.used_facts[key] = result_to_json(result)
        self._dirty = True

    def scan(self, key: str) -> dict[str, Any] | None:
        found = self._scans.get(key)
        if found is not None:
            self.used_scans[key] = found
        return found

    def store_scan(self, key: str, binaries: dict[str, str]) -> None:
        self.used_scans[key] = {"binaries": binaries}
        self._dirty = True

    def save(self) -> None:
        """Write the entries this run used (atomically); errors are ignored."""
        if self.path is None:
            return
        if not self._dirty and len(self.used_facts) == len(self._facts) and \
                len(self.used_scans) == len(self._scans):
            return
        with contextlib.suppress(WheelguardError):  # a cache that cannot be written: none
            write_json_atomic(self.path, {"format": FACTS_FORMAT, "facts": self.used_facts,
                                          "scans": self.used_scans})


@dataclass
class _Context:
    """One run's shared state: the target, the loader, every file read so far."""

    target: Target
    root: str
    loader: Loader
    runtime: Runtime
    parents: tuple[ElfFacts, ...]
    loaded: dict[str, str]
    store: FactsCache = field(default_factory=lambda: FactsCache(None))
    cache: dict[tuple[int, int], ElfResult] = field(default_factory=dict)
    by_path: dict[str, ElfResult] = field(default_factory=dict)

    def facts(self, path: str) -> ElfResult:
        """The facts of ``path``, read once per file (symbolic links share them)."""
        found = self.by_path.get(path)
        if found is not None:
            return found
        try:
            st = os.stat(path)
        except OSError:
            found = read_elf(path)  # the one clear answer for an unreadable file
            self.by_path[path] = found
            return found
        ident = (st.st_dev, st.st_ino)
        if ident in self.cache:
            found = self.cache[ident]
            if isinstance(found, ElfFacts) and found.path != path:
                found = replace(found, path=path)  # keep the path the loader used ($ORIGIN)
        else:
            found = self.store.read(path, st)
            self.cache[ident] = found
        self.by_path[path] = found
        return found


def _runtime_ident(target: Target, exe: ElfResult | None) -> tuple[ElfIdent, str, int | None]:
    if isinstance(exe, ElfFacts):
        return (ElfIdent(exe.elf_class, exe.endianness, exe.e_machine, exe.osabi),
                exe.machine, exe.e_flags)
    known = MACHINES.get(target.machine)
    if known is None:
        raise WheelguardError(f"unsupported machine {target.machine!r}; verify knows "
                              f"{', '.join(MACHINES)}")
    em, cls, order, name = known
    return ElfIdent(cls, "little" if order == "little" else "big", em, 0), name, None


def build_context(target: Target, root: str = "/", *, interp: str | None = None,
                  libc_path: str | None = None, ld_library_path: str | None = None,
                  store: FactsCache | None = None) -> _Context:
    """Read the interpreter (when its binary is known), configure the loader and load the
    interpreter's global scope. ``store`` is the facts cache (none by default).

    Raises:
        WheelguardError: the target's machine is unknown.
    """
    store = store or FactsCache(None)
    exe_path = os.path.realpath(target.executable) if target.executable else None
    exe = store.read(exe_path) if exe_path and os.path.isfile(exe_path) else None
    ident, machine, e_flags = _runtime_ident(target, exe)
    flavour: Flavour = "musl" if target.libc == "musl" else "glibc"
    exe_facts = exe if isinstance(exe, ElfFacts) else None
    loader_path = interp or (exe_facts.interp if exe_facts else None) or ""
    if flavour == "musl" and not loader_path:
        loader_path = f"/lib/ld-musl-{MUSL_ARCH.get(machine, 'x86_64')}.so.1"
    config = configure(flavour, ident, machine, root=root, interp=loader_path,
                       e_flags=e_flags or 0, ld_library_path=ld_library_path,
                       libc_version=target.libc_version)
    ctx = _Context(target, root, Loader(config, lambda p: ctx.facts(p)),
                   Runtime(target, ident.elf_class, ident.endianness, ident.e_machine,
                           e_flags, root=root), (), {}, store)
    scope: list[str] = []
    if exe_facts is not None:
        ctx.by_path[exe_facts.path] = exe_facts
        tree = ctx.loader.load(exe_facts)
        scope += tree.objects
        for res in tree.resolutions:
            if res.path:
                ctx.loaded.setdefault(res.needed, res.path)
        parents = [ctx.facts(p) for p in tree.objects[1:]
                   if "libpython" in os.path.basename(p)]
        ctx.parents = (*[p for p in parents if isinstance(p, ElfFacts)], exe_facts)
    else:
        name = "libc.so" if flavour == "musl" else "libc.so.6"
        libc = libc_path or ctx.loader.find_system(name)
        if libc:
            scope.append(libc)
            ctx.loaded[name] = libc
    host_interp = resolve_in_root(root, loader_path) if loader_path else None
    if host_interp and host_interp not in scope:
        scope.append(host_interp)
    release: tuple[int, ...] | None = target.libc_version
    if flavour == "musl" and host_interp:
        release = musl_version_of(host_interp, root) or release  # with its patch level
    defined: set[str] = set()
    for obj in scope:
        found = ctx.facts(obj)
        if isinstance(found, ElfFacts):
            defined |= found.defined
    ctx.runtime = replace(ctx.runtime, global_scope=tuple(scope),
                          python_symbols=exe_facts is not None,
                          global_defined=frozenset(defined), libc_release=release)
    return ctx


def _binaries(dist: DistInfo, ctx: _Context) -> dict[str, ElfResult]:
    """Every file of ``dist`` whose magic bytes say ELF, Mach-O or PE (any name)."""
    record_key = None
    kinds: dict[str, str] | None = None
    try:
        record_key = "record:" + FactsCache.key(os.stat(os.path.join(dist.path, "RECORD")))
        cached = ctx.store.scan(record_key)
        if cached is not None and isinstance(cached.get("binaries"), dict):
            kinds = cached["binaries"]
    except OSError:
        record_key = None
    if kinds is None:
        kinds = {}
        for path in dist.files:
            magic = _magic_kind(path)
            if magic in ("elf", "macho", "pe"):
                kinds[path] = magic
        if record_key is not None:
            ctx.store.store_scan(record_key, kinds)
    out: dict[str, ElfResult] = {}
    for path, kind in kinds.items():
        if kind == "elf":
            out[path] = ctx.facts(path)
        elif kind in ("macho", "pe"):
            out[path] = NotElf(path, "macho" if kind == "macho" else "pe")
    return out


def _magic_kind(path: str) -> FileKind:
    # os.open/os.read: the cheapest way to read 64 bytes of thousands of files
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
    kind = kind_of_magic(head)
    return sniff(path) if kind == "pe" else kind


def _matches(facts: ElfFacts, rt: Runtime) -> bool:
    return (facts.elf_class, facts.endianness, facts.e_machine) == (
        rt.elf_class, rt.endianness, rt.e_machine) and facts.loadable


def verify_distribution(dist: DistInfo, ctx: _Context) -> tuple[list[Finding], dict[str, Any]]:
    """All findings of one distribution and its ``verification`` record."""
    rt = ctx.runtime
    results = _binaries(dist, ctx)
    trees: dict[str, LoadTree] = {}
    for path, result in results.items():
        if isinstance(result, ElfFacts) and _matches(result, rt):
            parents = () if result.interp else ctx.parents
            loaded = {} if result.interp else ctx.loaded
            trees[path] = ctx.loader.load(result, parents, loaded)
    objects: dict[str, ElfResult] = {}
    for tree in trees.values():
        for obj in tree.objects:
            objects[obj] = results.get(obj) or ctx.facts(obj)
    for obj in rt.global_scope:
        objects.setdefault(obj, ctx.facts(obj))
    findings = check_files(dist, results, trees, objects, rt)
    elf_files = [p for p, r in results.items() if not isinstance(r, NotElf)]
    findings += check_distribution(dist, ctx.target, len(results), len(elf_files))
    findings.sort(key=lambda f: -SEVERITY_RANK[f.severity])
    extensions = [p for p, r in results.items() if isinstance(r, ElfFacts) and is_extension(p, r)]
    record = {
        "provenance": dist.provenance,
        "provenance_reason": dist.provenance_reason,
        "installer": dist.installer or None,
        "generator": dist.generator or None,
        "dist_info": dist.path,
        "record": dist.has_record,
        "files": len(dist.files),
        "binaries": len(results),
        "elf_files": len(elf_files),
        "elf_bytes": sum(_size(p) for p in elf_files),
        "extensions": len(extensions),
        "resolved": {
            os.path.relpath(p, dist.site): {r.needed: r.path for r in t.resolutions
                                            if r.by == p}
            for p, t in trees.items()
        },
    }
    return findings, record


def _size(path: str) -> int:
    """Size of ``path`` in bytes, 0 when it cannot be read."""
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def package_record(dist: DistInfo, findings: list[Finding], record: dict[str, Any],
                   strict: bool) -> PackageRecord:
    """The report record of one verified distribution."""
    from poetry_wheelguard.policy import verdict_for

    url = str((dist.direct_url or {}).get("url", ""))
    selection = Selection(
        name=dist.name, version=dist.version,
        chosen=Candidate(filename=dist.wheel_filename(), url=url),
        first_party=dist.first_party,
        built_locally=None if dist.provenance == "unknown" else dist.provenance == "local",
    )
    return PackageRecord(selection=selection, kind="wheel", tags=dist.tags, pure=dist.pure,
                         findings=findings, verdict=verdict_for(findings, strict),
                         verification=record)


# --- --index: the install policy applied to what is installed -----------------------------

def index_findings(dists: Sequence[DistInfo], target: Target, config: Config, index_url: str
                   ) -> dict[str, list[Finding]]:
    """``policy.evaluate`` for each installed distribution against ``index_url``'s listing
    of its version: the installed wheel (or, for a local build, the release's sdist) is the
    chosen file. First-party distributions are skipped; a project the index does not list
    gets an ``info`` finding.

    Raises:
        IndexFetchError: the index cannot be reached.
    """
    from poetry_wheelguard.errors import IndexFetchError
    from poetry_wheelguard.index import IndexClient, IndexConfig, default_cache_dir
    from poetry_wheelguard.policy import evaluate

    client = IndexClient(IndexConfig(index_urls=(index_url,), cache_dir=default_cache_dir()))
    wanted = [d for d in dists if not d.first_party]
    out: dict[str, list[Finding]] = {}
    try:
        listings = client.listings([d.name for d in wanted])
    except IndexFetchError:
        listings = {}
        for d in wanted:
            try:
                listings[d.name] = client.listing(d.name)
            except IndexFetchError as exc:
                if "not found" not in exc.reason:
                    raise
                out[d.name] = [Finding("NOT_ON_INDEX", "info",
                                       f"{d.display_name} {d.version}: not listed on the index",
                                       "", d.path)]
    for d in wanted:
        listing = listings.get(d.name)
        if listing is None:
            continue
        try:
            version = str(Version(d.version))
        except InvalidVersion:
            version = d.version
        files = listing.versions().get(version, [])
        chosen = Candidate(d.wheel_filename())
        if d.provenance == "local":
            sdists = [f.candidate for f in files if f.dist.kind == "sdist"]
            chosen = sdists[0] if sdists else chosen
        selection = Selection(name=d.name, version=d.version, chosen=chosen,
                              candidates=tuple(f.candidate for f in files),
                              other_versions=listing.other_versions(),
                              index=listing.sources[-1] if listing.sources else "")
        out.setdefault(d.name, []).extend(evaluate(selection, target, config).findings)
    return out


# --- command line -------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    from poetry_wheelguard.cli.options import add_global_options

    parser = argparse.ArgumentParser(
        prog="pip-guard verify",
        description="Check every compiled file of an installed environment against the "
        "interpreter and libc that will load it.")
    parser.add_argument("--python", metavar="PATH",
                        help="verify this interpreter's site-packages (probed, not imported)")
    parser.add_argument("--path", metavar="DIR", action="append",
                        help="verify the distributions in this site directory (repeatable)")
    parser.add_argument("--sysroot", metavar="ROOT",
                        help="resolve libraries inside this image root; its libc is the "
                             "target's")
    parser.add_argument("--libc", choices=("glibc", "musl"), default=None,
                        help="with --sysroot: the image's libc, when it holds both glibc and "
                             "musl and neither its Python nor /bin/sh tells which is the "
                             "system's")
    parser.add_argument("--package", metavar="NAME", action="append",
                        help="verify only this distribution (repeatable)")
    parser.add_argument("--ld-library-path", metavar="PATHS",
                        help="search these directories as LD_LIBRARY_PATH (never taken from "
                             "the environment)")
    parser.add_argument("--no-cache", action="store_true",
                        help="read every file again (no facts cache; see docs/codes.md)")
    parser.add_argument("--index", metavar="URL",
                        help="also apply the install policy (PURE_FALLBACK, "
                             "IGNORED_COMPATIBLE_WHEEL) against this index (network)")
    add_global_options(parser, suppress=True)
    return parser


def run_verify(ns: argparse.Namespace, argv: list[str]) -> int:
    """``pip-guard verify``: returns the exit code (see the module docstring).

    Raises:
        ConfigError: a bad ``--mode`` or config value (the caller prints it, exit 64).
        WheelguardError: unusable input (exit 12).
    """
    from poetry_wheelguard.cli.options import config_from_namespace
    from poetry_wheelguard.report import Report, render_findings, render_table, write_json_atomic

    try:
        args = _parser().parse_args(argv, namespace=ns)
    except SystemExit as exc:
        return exitcodes.OK if exc.code == 0 else exitcodes.USAGE
    config = config_from_namespace(args)
    if args.sysroot and not args.path:
        print("pip-guard: error: --sysroot needs --path DIR (the image's site-packages)",
              file=sys.stderr)
        return exitcodes.USAGE
    if args.libc and not args.sysroot:
        print("pip-guard: error: --libc needs --sysroot ROOT (without it, the interpreter "
              "tells its libc)", file=sys.stderr)
        return exitcodes.USAGE
    started = time.perf_counter()
    root = os.path.abspath(args.sysroot) if args.sysroot else "/"
    sys_facts: SysrootFacts | None = None
    if args.sysroot:
        target, sys_facts = sysroot_target(root, args.path, args.libc)
        if sys_facts.other_libc:
            print(f"pip-guard: note: the sysroot holds {sys_facts.libc} and "
                  f"{sys_facts.other_libc}; verifying against {sys_facts.libc} "
                  f"({sys_facts.libc_source})", file=sys.stderr)
    elif args.python:
        target = probe_interpreter(args.python)
    else:
        target = running_target()
    if args.path:
        for d in args.path:
            if not os.path.isdir(d):
                raise WheelguardError("not a directory; pass a site-packages directory",
                                      filename=d)
        sites = list(args.path)
    else:
        sites = list(dict.fromkeys(p for p in (target.purelib, target.platlib) if p))
    store = FactsCache(None if args.no_cache else _cache_file(root, sites, target))
    ctx = build_context(target, root, interp=sys_facts.interp if sys_facts else None,
                        libc_path=sys_facts.libc_path if sys_facts else None,
                        ld_library_path=args.ld_library_path, store=store)
    dists = find_distributions(sites, args.package)
    if args.package:
        unknown = sorted(set(map(_norm, args.package)) - {d.name for d in dists})
        if unknown and not dists:
            raise WheelguardError(f"not installed in {', '.join(sites)}",
                                  package=", ".join(unknown))
        for name in unknown:
            print(f"pip-guard: note: {name} is not installed in {', '.join(sites)}",
                  file=sys.stderr)
    policy = index_findings(dists, target, config, args.index) if args.index else {}
    records = []
    for dist in dists:
        findings, record = verify_distribution(dist, ctx)
        findings += policy.get(dist.name, [])
        findings.sort(key=lambda f: -SEVERITY_RANK[f.severity])
        records.append(package_record(dist, findings, record, config.strict))
    errors = sum(1 for r in records for f in r.findings if f.severity == "error")
    code = exitcodes.VERIFY_ERRORS if errors and config.strict else exitcodes.OK
    elapsed = time.perf_counter() - started
    summary = {
        "sites": sites, "sysroot": None if root == "/" else root,
        "loader": {"flavour": ctx.loader.config.flavour, "interp": ctx.loader.config.interp,
                   "cache": ctx.loader.config.cache_file or None,
                   "default_dirs": list(ctx.loader.config.default_dirs)},
        "distributions": len(records),
        "elf_files": sum((r.verification or {}).get("elf_files", 0) for r in records),
        "errors": errors,
        "warnings": sum(1 for r in records for f in r.findings if f.severity == "warning"),
        "seconds": round(elapsed, 3),
        "cache": {"file": str(store.path) if store.path else None, "hits": store.hits,
                  "misses": store.misses},
    }
    store.save()
    if config.report:
        report = Report(command="verify", mode=config.mode, target=target.summary(),
                        packages=records, exit_code=code, extra={"verification": summary})
        write_json_atomic(config.report, report.to_json())
    render_findings(records, sys.stdout)
    render_table(records, sys.stdout, title=f"pip-guard verify: {target.name}")
    print(f"verified {summary['elf_files']} ELF files in {len(records)} distributions: "
          f"{errors} error(s), {summary['warnings']} warning(s)", file=sys.stdout)
    return code


def _cache_file(root: str, sites: Sequence[str], target: Target) -> Path:
    import hashlib  # here: its import is a noticeable part of a warm run

    key = json.dumps([root, [os.path.abspath(s) for s in sites], target.executable])
    return default_cache_dir() / f"{hashlib.sha256(key.encode()).hexdigest()[:20]}.json"


def _norm(name: str) -> NormalizedName:
    from poetry_wheelguard.distfiles import normalize

    return normalize(name)


# --- after an install: pip-guard install and the Poetry plugin ----------------------------

VerifyRunner = Callable[..., "subprocess.CompletedProcess[str]"]
"""``runner(cmd)``, or ``runner(cmd, cwd=DIR)`` when :func:`verify_installed` is given a
``cwd``: runs the command list and returns its completed process (text output). Injected
so tests can replace :func:`subprocess.run`."""


@dataclass(frozen=True)
class InstalledVerification:
    """What :func:`verify_installed` found.

    Attributes:
        findings: per normalized distribution name, its findings (most severe first).
        verification: per name, the ``verification`` record of the report.
        report: the whole ``wheelguard-report/1`` document the subprocess wrote.
        exit_code: the subprocess's exit code (0, or 11 in strict mode with errors).
    """

    findings: Mapping[str, list[Finding]]
    verification: Mapping[str, dict[str, Any]]
    report: dict[str, Any]
    exit_code: int

    @classmethod
    def from_report(cls, data: Mapping[str, Any], exit_code: int) -> InstalledVerification:
        """Read a ``wheelguard-report/1`` document of ``pip-guard verify`` (docs/report.md):
        its ``packages`` by normalized name. Entries that are not objects, and findings of
        an unknown severity, are skipped; a ``verification`` that is not an object is left
        out."""
        findings: dict[str, list[Finding]] = {}
        verification: dict[str, dict[str, Any]] = {}
        for pkg in data.get("packages") or ():
            if not isinstance(pkg, Mapping) or not isinstance(pkg.get("name"), str):
                continue
            name = _norm(pkg["name"])
            findings[name] = [
                Finding(str(raw.get("code", "")), raw["severity"], str(raw.get("message", "")),
                        str(raw.get("hint", "")),
                        raw.get("path") if isinstance(raw.get("path"), str) else None)
                for raw in pkg.get("findings") or ()
                if isinstance(raw, Mapping) and raw.get("severity") in SEVERITY_RANK]
            if isinstance(pkg.get("verification"), dict):
                verification[name] = pkg["verification"]
        return cls(findings, verification, dict(data), exit_code)

    @property
    def strict(self) -> bool:
        """The verification judged in strict mode (the report's ``mode``)."""
        return self.report.get("mode") == "strict"


def _run_verify_process(cmd: list[str], cwd: str | None, runner: VerifyRunner | None,
                        timeout: float | None) -> subprocess.CompletedProcess[str]:
    if runner is not None:
        return runner(cmd) if cwd is None else runner(cmd, cwd=cwd)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSTARTUP"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                          env=env, cwd=cwd)


def verify_installed(python: str, names: Iterable[str] | None = None, *,
                     mode: str = "warn", cwd: str | os.PathLike[str] | None = None,
                     runner: VerifyRunner | None = None,
                     timeout: float | None = 600) -> InstalledVerification:
    """Verify distributions installed for the interpreter ``python``, in a separate process.

    Runs ``sys.executable -m poetry_wheelguard verify --python PYTHON --mode MODE --report
    TMP [--package NAME]...`` (``sys.executable pip-guard.pyz verify ...`` from the
    single-file guard: :func:`~poetry_wheelguard.selfcmd.guard_command`) in ``cwd``
    (default: this process's; the verify command reads
    ``[tool.wheelguard]`` there) and reads the report back (:meth:`InstalledVerification.
    from_report`). A separate process because pip 26 refuses imports while it installs, and
    nothing of the verified files may enter the installer's process. ``names`` limits the
    check to those distributions (``None`` or empty = all). ``runner`` replaces
    :func:`subprocess.run` (see :data:`VerifyRunner`); ``timeout`` in seconds (``None``: no
    limit) applies to the default runner.

    Raises:
        VerifyError: the verifying process could not be started (``exit_code`` 70), exited
            with a code other than 0 or 11, or wrote no readable report; the message has its
            last error line, credentials removed.
    """
    fd, report_path = tempfile.mkstemp(prefix="wheelguard-verify-", suffix=".json")
    os.close(fd)
    cmd = [*guard_command(), "verify", "--python", python, "--mode", mode,
           "--report", report_path]
    for name in names or ():
        cmd += ["--package", name]
    try:
        proc = _run_verify_process(cmd, None if cwd is None else os.fspath(cwd), runner,
                                   timeout)
        if proc.returncode not in (exitcodes.OK, exitcodes.VERIFY_ERRORS):
            last = (proc.stderr or proc.stdout or "").strip().splitlines()[-1:] or ["no output"]
            raise VerifyError(f"verification failed (exit {proc.returncode}): "
                              f"{redact_text(last[0])}", exit_code=proc.returncode)
        try:
            with open(report_path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError) as exc:
            raise VerifyError("verification wrote no readable report",
                              exit_code=proc.returncode) from exc
    except (OSError, subprocess.SubprocessError) as exc:
        raise VerifyError(f"cannot run the verification ({redact_text(str(exc))})",
                          exit_code=exitcodes.INTERNAL) from exc
    finally:
        if os.path.exists(report_path):
            os.unlink(report_path)
    if not isinstance(data, Mapping):
        raise VerifyError("verification wrote no readable report", exit_code=proc.returncode)
    return InstalledVerification.from_report(data, proc.returncode)


def merge_verification(records: Sequence[PackageRecord], result: InstalledVerification) -> int:
    """Add ``result``'s per-distribution findings and ``verification`` objects to the
    install records (matched by normalized name); return how many error findings joined.

    A finding a record already has is not added again (merging twice changes nothing).
    Verdicts only get worse, and agree with ``pip-guard verify`` and the exit code: a
    record with a new warning or error goes from ``ok`` to ``warn``; in strict mode
    (:attr:`InstalledVerification.strict`) a record with an error finding is ``refused``,
    as strict verification exits 11 for it (its files are installed all the same: the
    verdict refuses the result, it cannot undo the install).
    """
    from poetry_wheelguard.policy import verdict_for

    rank = {"ok": 0, "warn": 1, "refused": 2}
    errors = 0
    for rec in records:
        name = rec.selection.name
        if name in result.verification:
            rec.verification = result.verification[name]
        found = result.findings.get(name, ())
        for finding in found:
            if finding in rec.findings:
                continue
            rec.findings.append(finding)
            if finding.severity == "error":
                errors += 1
        verdict = verdict_for(found, result.strict)
        if rank[verdict] > rank[rec.verdict]:
            rec.verdict = verdict
    return errors
