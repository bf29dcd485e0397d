"""A root filesystem (an extracted image) -> its :class:`~poetry_wheelguard.targets.Target`.

Used by ``pip-guard verify --path DIR --sysroot ROOT``. Everything is read from files of
``ROOT`` - its libc and loader (:mod:`poetry_wheelguard.libc`), its Python's ``DT_NEEDED``,
its ``_sysconfigdata_*.py`` - and nothing in it is executed.

- :func:`inspect_sysroot`: the libc flavour, version and machine, and the Python;
- :func:`sysroot_extension_suffixes`: the ``EXTENSION_SUFFIXES`` of that Python;
- :func:`sysroot_target`: both as a :class:`Target`.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from poetry_wheelguard.elf import ElfFacts, read_elf
from poetry_wheelguard.errors import WheelguardError
from poetry_wheelguard.libc import (
    MACHINE_BY_EM,
    glibc_libcs,
    glibc_version_of,
    libc_witness,
    musl_loaders,
    musl_version_of,
)
from poetry_wheelguard.loader import glibc_default_dirs, resolve_in_root, target_path
from poetry_wheelguard.targets import Target, cpython_extension_suffixes, make_target


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

    musl = musl_loaders(root)
    glibc = glibc_libcs(root)
    witness = libc_witness(root, python) if musl and glibc else None
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
        want = MACHINE_BY_EM.get(loader_facts.e_machine) \
            if isinstance(loader_facts, ElfFacts) else None
        libc_path = next((h for m, h in glibc if m == want), "")
        if libc_path and witness:
            interp = witness[1]
        libc_path = libc_path or glibc[0][1]
        libc_version = glibc_version_of(libc_path)
    facts = read_elf(libc_path, symbols=False)
    if not isinstance(facts, ElfFacts) or facts.e_machine not in MACHINE_BY_EM:
        raise WheelguardError("the sysroot's libc is not a readable ELF file of a known "
                              "machine", filename=libc_path)
    machine = MACHINE_BY_EM[facts.e_machine]
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
    rule (:func:`~poetry_wheelguard.targets.cpython_extension_suffixes`).
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
    return cpython_extension_suffixes(version, machine, libc)


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
