"""The C library of a root filesystem, read from its files (nothing is executed).

- :func:`glibc_version_of`: the release of a glibc ``libc.so.6`` (its banner, its
  ``libc-X.Y.so`` name, its newest ``GLIBC_2.N`` version definition);
- :func:`musl_version_of`: the release of a musl loader (its version string, else Alpine's
  package database);
- :func:`interp_flavour`: the libc a ``PT_INTERP`` loader name belongs to;
- :func:`musl_loaders`, :func:`glibc_libcs`: every musl loader and glibc ``libc.so.6`` a
  root holds, per machine;
- :func:`libc_witness`: the libc the root's own programs name in ``PT_INTERP``.

Paths inside the root are resolved as the image's loader would
(:func:`poetry_wheelguard.loader.resolve_in_root`), never on the host.
"""

from __future__ import annotations

import os
import re

from poetry_wheelguard.elf import ElfFacts, read_elf, read_interp
from poetry_wheelguard.loader import glibc_default_dirs, resolve_in_root, target_path
from poetry_wheelguard.verify import MACHINES

MACHINE_BY_EM = {em: machine for machine, (em, _c, _o, _n) in MACHINES.items()
                 if machine not in ("i386",)}
"""``e_machine`` -> ``platform.machine()`` spelling (``62`` -> ``x86_64``); ``i386`` is
left out, it shares ``i686``'s libc."""


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


_MUSL_LOADER = re.compile(r"^ld-musl-[A-Za-z0-9_]+\.so\.1$")


def interp_flavour(interp: str) -> str | None:
    """``musl`` for an ``ld-musl-<arch>.so.1`` loader path, ``glibc`` for ``ld-linux*`` /
    ``ld64.so*`` (glibc's loader names on every architecture), else ``None``."""
    name = os.path.basename(interp)
    if _MUSL_LOADER.match(name):
        return "musl"
    if name.startswith(("ld-linux", "ld64.so")):
        return "glibc"
    return None


def musl_loaders(root: str) -> list[tuple[str, str]]:
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


def glibc_libcs(root: str) -> list[tuple[str, str]]:
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
            if isinstance(facts, ElfFacts) and MACHINE_BY_EM.get(facts.e_machine) == machine \
                    and any(v.startswith("GLIBC_2.") for v in facts.version_defs):
                out.append((machine, host))
                break
    return out


def libc_witness(root: str, python: str | None) -> tuple[str, str, str] | None:
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
        flavour = interp_flavour(interp or "")
        if interp and flavour:
            return flavour, interp, f"PT_INTERP of {shown}"
    return None
