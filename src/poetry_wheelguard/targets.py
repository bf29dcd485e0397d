"""The target: the interpreter (and libc) that will load the installed packages.

A :class:`Target` is built for the running interpreter (:func:`running_target`), for another
interpreter by running a small probe in it (:func:`probe_interpreter`; the probe runs with
``-I -S`` so no ``.pth`` file or other package code executes), or from explicit facts
(:func:`make_target`, used by presets and ``--platform``/``--libc`` flags).

Tag lists are generated with ``packaging.tags`` (``cpython_tags``/``generic_tags`` and
``compatible_tags``) from the platform list of :func:`linux_platforms`, which follows
PEP 600 (every ``manylinux_2_N`` from the target's glibc down, each legacy alias right after
its ``2_N``) and PEP 656 (every ``musllinux_1_N`` from the target's musl down), the order
``packaging.tags.sys_tags()`` itself yields on such a system.

One concern, one module, whatever its length: the target interpreter model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib.machinery import EXTENSION_SUFFIXES
from typing import Callable, Optional

from packaging import tags as ptags
from packaging.tags import Tag

from poetry_wheelguard.distfiles import LibcFlavour
from poetry_wheelguard.errors import ProbeError

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]
"""Runs a command and returns its completed process (injected so tests can replace it)."""

# PEP 600 legacy aliases, yielded right after the manylinux_2_N tag they equal.
_LEGACY_ALIASES = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
# packaging stops at glibc 2.17 for architectures other than x86_64/i686 (manylinux2014 was
# the first policy for them) and at 2.5 (manylinux1) for x86_64/i686.
_LEGACY_ARCHS = {"x86_64", "i686"}


def linux_platforms(libc: LibcFlavour, version: tuple[int, int] | None, arch: str) -> list[str]:
    """Return the Linux platform tags a target with this libc supports, most specific first.

    glibc (PEP 600): ``manylinux_2_{N..lowest}_{arch}`` where ``lowest`` is 5 on x86_64/i686
    and 17 elsewhere, with ``manylinux2014``/``manylinux2010``/``manylinux1`` (where defined
    for the arch) after ``2_17``/``2_12``/``2_5``; musl (PEP 656): ``musllinux_1_{N..0}``.
    Both start with ``linux_{arch}``, as ``packaging.tags._linux_platforms`` (packaging 24+)
    does: a wheel built on this very machine is preferred.
    """
    out: list[str] = [f"linux_{arch}"]
    if libc == "glibc" and version is not None:
        major, minor = version
        lowest = 5 if arch in _LEGACY_ARCHS else 17
        for m in range(minor, lowest - 1, -1):
            out.append(f"manylinux_{major}_{m}_{arch}")
            alias = _LEGACY_ALIASES.get((major, m))
            if alias:
                out.append(f"{alias}_{arch}")
    elif libc == "musl" and version is not None:
        major, minor = version
        out.extend(f"musllinux_{major}_{m}_{arch}" for m in range(minor, -1, -1))
    return out


@dataclass(frozen=True)
class Target:
    """The interpreter that will load the packages.

    Attributes:
        name: a short label for tables (``cp311-manylinux_2_36_x86_64``, a preset name).
        implementation: ``sys.implementation.name`` (``cpython``, ``pypy``).
        python_version: ``(major, minor)``.
        interpreter: PEP 425 interpreter tag (``cp311``).
        abis: PEP 425 ABI tags of the interpreter, most specific first (``cp311``).
        os: ``linux`` (other systems are reported, not verified).
        machine: ``x86_64``, ``aarch64``, ... (``platform.machine()``).
        libc: ``glibc``, ``musl`` or ``unknown``; libc_version: ``(major, minor)``.
        tags: the ordered supported-tag list (most preferred first), PEP 425.
        extension_suffixes: ``importlib.machinery.EXTENSION_SUFFIXES`` of the interpreter.
        free_threaded: ``Py_GIL_DISABLED`` build (abi3 does not apply).
        executable: path of the interpreter when it is a real one, else ``None``.
        purelib, platlib: its ``sysconfig`` install paths (``None`` for virtual targets).
        libpython: ``LDLIBRARY`` when Python is built shared (``libpython3.11.so.1.0``),
            else ``None`` (static libpython: extensions get symbols from the executable).
        libdir: ``LIBDIR`` of the interpreter, where a shared libpython lives.
        note: one line about how the target was made, when it is an approximation (a
            Python version newer than the presets table), else ``None``.
    """

    name: str
    implementation: str
    python_version: tuple[int, int]
    interpreter: str
    abis: tuple[str, ...]
    os: str
    machine: str
    libc: LibcFlavour
    libc_version: Optional[tuple[int, int]]
    tags: tuple[Tag, ...]
    extension_suffixes: tuple[str, ...]
    free_threaded: bool = False
    executable: Optional[str] = None
    purelib: Optional[str] = None
    platlib: Optional[str] = None
    libpython: Optional[str] = None
    libdir: Optional[str] = None
    note: Optional[str] = None
    _rank: dict[Tag, int] = field(default_factory=dict, compare=False, repr=False, hash=False)

    def __post_init__(self) -> None:
        if not self._rank:
            object.__setattr__(self, "_rank", {t: i for i, t in enumerate(self.tags)})

    def supports(self, tag: Tag) -> bool:
        """True if ``tag`` is in the supported-tag list."""
        return tag in self._rank

    def rank(self, tags: frozenset[Tag]) -> int | None:
        """Best (lowest) position of any of ``tags`` in the supported list, ``None`` if none."""
        ranks = [self._rank[t] for t in tags if t in self._rank]
        return min(ranks) if ranks else None

    @property
    def libc_label(self) -> str:
        """``glibc 2.36``, ``musl 1.2`` or ``unknown libc``."""
        if self.libc == "unknown" or self.libc_version is None:
            return "unknown libc" if self.libc == "unknown" else self.libc
        return f"{self.libc} {self.libc_version[0]}.{self.libc_version[1]}"

    def summary(self) -> dict[str, object]:
        """The report's ``target`` object (JSON-ready)."""
        return {
            "name": self.name,
            "implementation": self.implementation,
            "python_version": ".".join(map(str, self.python_version)),
            "interpreter": self.interpreter,
            "abis": list(self.abis),
            "os": self.os,
            "machine": self.machine,
            "libc": self.libc,
            "libc_version": ".".join(map(str, self.libc_version)) if self.libc_version else None,
            "free_threaded": self.free_threaded,
            "executable": self.executable,
            "extension_suffixes": list(self.extension_suffixes),
            "tags": [str(t) for t in self.tags[:8]],
            "tag_count": len(self.tags),
            **({"note": self.note} if self.note else {}),
        }


@dataclass(frozen=True)
class Implementation:
    """One Python implementation under the three names the field spells it with.

    Attributes:
        name: ``sys.implementation.name``, PEP 508 ``implementation_name`` (``cpython``).
        abbrev: the PEP 425 interpreter-tag abbreviation (``cp``), as pip's
            ``--implementation`` takes it.
        marker_name: ``platform.python_implementation()``, PEP 508
            ``platform_python_implementation`` (``CPython``).
    """

    name: str
    abbrev: str
    marker_name: str


IMPLEMENTATIONS: tuple[Implementation, ...] = (
    Implementation("cpython", "cp", "CPython"),
    Implementation("pypy", "pp", "PyPy"),
    Implementation("ironpython", "ip", "IronPython"),
    Implementation("jython", "jy", "Jython"),
)
"""The implementations PEP 425 names an abbreviation for: the one table every module uses
(target options, the marker environment, pip's ``--implementation``, the probe)."""


def find_implementation(word: str) -> Implementation | None:
    """The implementation whose :attr:`~Implementation.name` or PEP 425
    :attr:`~Implementation.abbrev` is ``word`` (``cpython`` or ``cp``); ``None`` for
    another word."""
    return next((i for i in IMPLEMENTATIONS if word in (i.name, i.abbrev)), None)


def implementation_abbrev(implementation: str) -> str:
    """The PEP 425 interpreter-tag abbreviation of ``implementation`` (a name such as
    ``cpython``); an implementation PEP 425 does not list gives its first two letters."""
    found = find_implementation(implementation)
    return found.abbrev if found else implementation[:2]


def cpython_extension_suffixes(python_version: tuple[int, int], machine: str,
                               libc: str, free_threaded: bool = False) -> list[str]:
    """``importlib.machinery.EXTENSION_SUFFIXES`` of a Linux CPython, from CPython's own
    configure rule: ``.cpython-XY[t]-<machine>-linux-<gnu|musl>.so``, ``.abi3.so`` (not for
    a free-threaded build, PEP 703), ``.so`` - in ``_PyImport_DynLoadFiletab``'s order.
    CPython names the musl ABI ``linux-musl`` from 3.11 on (bpo-43112); older releases
    built on musl still say ``linux-gnu``."""
    major, minor = python_version
    gnu = "musl" if libc == "musl" and (major, minor) >= (3, 11) else "gnu"
    t = "t" if free_threaded else ""
    suffixes = [f".cpython-{major}{minor}{t}-{machine}-linux-{gnu}.so"]
    if not free_threaded:
        suffixes.append(".abi3.so")
    suffixes.append(".so")
    return suffixes


def make_target(
    *,
    python_version: tuple[int, int],
    machine: str,
    libc: LibcFlavour,
    libc_version: tuple[int, int] | None,
    implementation: str = "cpython",
    abis: Sequence[str] | None = None,
    platforms: Sequence[str] | None = None,
    extension_suffixes: Sequence[str] | None = None,
    free_threaded: bool = False,
    name: str | None = None,
    **extra: str | None,
) -> Target:
    """Build a :class:`Target` from explicit facts; the tag list comes from ``packaging``.

    ``platforms`` defaults to :func:`linux_platforms`; ``abis`` to ``cp{XY}`` (``cp{XY}m`` before
    3.8, ``cp{XY}t`` when free-threaded); ``extension_suffixes`` to what CPython on that libc
    uses (``.cpython-311-x86_64-linux-gnu.so``/``-linux-musl.so``, ``.abi3.so``, ``.so``).
    ``extra`` sets ``executable``, ``purelib``, ``platlib``, ``libpython``, ``libdir``,
    ``note``.
    """
    major, minor = python_version
    abbrev = implementation_abbrev(implementation)
    interpreter = f"{abbrev}{major}{minor}"
    if abis is None:
        suffix = "t" if free_threaded else ("m" if (major, minor) < (3, 8) else "")
        abis = [f"{interpreter}{suffix}"] if implementation == "cpython" else []
    if platforms is None:
        platforms = linux_platforms(libc, libc_version, machine)
    if implementation == "cpython":
        tag_list = list(ptags.cpython_tags((major, minor), list(abis), list(platforms)))
    else:
        tag_list = list(ptags.generic_tags(interpreter, list(abis), list(platforms)))
    tag_list += list(ptags.compatible_tags((major, minor), interpreter, list(platforms)))
    if free_threaded:  # abi3 does not apply to free-threaded builds (PEP 703)
        tag_list = [t for t in tag_list if t.abi != "abi3"]
    if extension_suffixes is None:
        extension_suffixes = cpython_extension_suffixes((major, minor), machine, libc,
                                                        free_threaded)
    label = name or f"{interpreter}-{machine}-{libc}" + (
        f"-{libc_version[0]}.{libc_version[1]}" if libc_version else "")
    return Target(
        name=label,
        implementation=implementation,
        python_version=(major, minor),
        interpreter=interpreter,
        abis=tuple(abis),
        os="linux",
        machine=machine,
        libc=libc,
        libc_version=libc_version,
        tags=tuple(dict.fromkeys(tag_list)),
        extension_suffixes=tuple(extension_suffixes),
        free_threaded=free_threaded,
        executable=extra.get("executable"),
        purelib=extra.get("purelib"),
        platlib=extra.get("platlib"),
        libpython=extra.get("libpython"),
        libdir=extra.get("libdir"),
        note=extra.get("note"),
    )


# The probe: standard library only, run with -I -S so no site-packages code (.pth) runs.
PROBE = r"""
import json, os, platform, sys, sysconfig
from importlib.machinery import EXTENSION_SUFFIXES
try:
    libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
except (AttributeError, ValueError, OSError):
    libc = ""
cv = sysconfig.get_config_var
# -S skips site.venv(), so a venv's sys.prefix is still the base one: apply its rule here
# (PEP 405: pyvenv.cfg beside the executable or one directory up -> prefix = that parent).
exe_dir = os.path.dirname(os.path.abspath(sys.executable))
venv = os.path.dirname(exe_dir)
# The scheme is named: a distribution's patched default (Debian's posix_local, which puts
# /usr/local/... or <venv>/local/... first) is not where a venv's pip installs. CPython
# 3.11+ has the "venv" scheme for exactly this; before it, a venv is posix_prefix.
if any(os.path.isfile(os.path.join(d, "pyvenv.cfg")) for d in (exe_dir, venv)):
    names = sysconfig.get_scheme_names()
    scheme = "venv" if "venv" in names else ("posix_prefix" if os.name == "posix" else None)
    paths = sysconfig.get_paths(scheme, vars={"base": venv, "platbase": venv}) if scheme \
        else sysconfig.get_paths(vars={"base": venv, "platbase": venv})
else:
    paths = sysconfig.get_paths()
print(json.dumps({
    "implementation": sys.implementation.name,
    "version": list(sys.version_info[:2]),
    "soabi": cv("SOABI") or "",
    "ext_suffix": cv("EXT_SUFFIX") or "",
    "extension_suffixes": list(EXTENSION_SUFFIXES),
    "machine": platform.machine(),
    "platform": sysconfig.get_platform(),
    "maxsize64": sys.maxsize > 2**32,
    "glibc": libc,
    "gil_disabled": bool(cv("Py_GIL_DISABLED")),
    "executable": sys.executable,
    "purelib": paths.get("purelib"),
    "platlib": paths.get("platlib"),
    "enable_shared": bool(cv("Py_ENABLE_SHARED")),
    "ldlibrary": cv("LDLIBRARY") or "",
    "libdir": cv("LIBDIR") or "",
    "multiarch": cv("MULTIARCH") or "",
}))
"""


def _abis_from_soabi(soabi: str, impl_abbrev: str) -> list[str]:
    # SOABI "cpython-311-x86_64-linux-gnu" -> "cp311"; "cpython-37m-..." -> "cp37m";
    # "cpython-313t-..." -> "cp313t" (the same derivation as packaging.tags._cpython_abis).
    parts = soabi.split("-")
    if len(parts) >= 2 and parts[0] == "cpython":
        return [f"{impl_abbrev}{parts[1]}"]
    return []


def _musl_version(executable: str, runner: Runner) -> tuple[int, int] | None:
    """Run the musl loader named by ``executable``'s PT_INTERP; it prints ``Version 1.2.3``.

    This is how ``packaging._musllinux`` finds the musl version (PEP 656 reference).
    """
    from poetry_wheelguard.elf import read_interp  # local: the ELF module is optional here

    interp = read_interp(executable)
    if not interp or "musl" not in os.path.basename(interp):
        return None
    proc = runner([interp])
    for line in (proc.stderr or "").splitlines():
        if line.startswith("Version "):
            parts = line.split()[1].split(".")
            return int(parts[0]), int(parts[1])
    return None


PROBE_ENV_KEEP = ("PATH", "LD_LIBRARY_PATH", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR")
"""The only variables a probe of a target interpreter inherits: where programs and shared
libraries are found (a ``--enable-shared`` build outside the loader's paths needs
``LD_LIBRARY_PATH``) and the locale; nothing else (no ``PYTHON*``, no ``VIRTUAL_ENV``)."""


def probe_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The clean environment a probe runs in (:data:`PROBE_ENV_KEEP` of ``environ``)."""
    env = os.environ if environ is None else environ
    return {k: env[k] for k in PROBE_ENV_KEEP if k in env}


def _default_runner(cmd: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(cmd), capture_output=True, text=True, timeout=60, check=False,
        env=probe_environment(), stdin=subprocess.DEVNULL, errors="replace",
    )


def _probe_failure(stderr: str) -> str:
    """One line of a failed probe's error output: the last line that is not an echo of the
    probe script (a program that is not Python may print its arguments back: ``ls``),
    at most 200 characters, terminal control characters escaped."""
    from poetry_wheelguard.report import printable

    script = {line.strip() for line in PROBE.splitlines() if len(line.strip()) > 8}
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if not any(part in line for part in script) and "\\n" not in line \
                and "$'\\n'" not in line:
            text = printable(line)
            return text if len(text) <= 200 else text[:197] + "..."
    return "it printed no Python error; is it a Python 3 interpreter?"


def target_from_probe(facts: dict[str, object], musl: tuple[int, int] | None) -> Target:
    """Build a :class:`Target` from the probe's JSON ``facts`` (see :data:`PROBE`).

    Raises:
        ProbeError: the facts lack a field the probe always prints.
    """
    try:
        impl = str(facts["implementation"])
        ver = facts["version"]
        assert isinstance(ver, list)
        version = (int(ver[0]), int(ver[1]))
        machine = str(facts["machine"])
        glibc = str(facts.get("glibc") or "")
    except (KeyError, AssertionError, ValueError, IndexError) as exc:
        raise ProbeError(f"unexpected probe output ({exc})") from exc
    if machine in {"AMD64", "amd64"}:
        machine = "x86_64"
    if machine == "x86_64" and not facts.get("maxsize64", True):
        machine = "i686"  # 32-bit interpreter on a 64-bit kernel, as packaging does
    libc: LibcFlavour = "unknown"
    libc_version: tuple[int, int] | None = None
    if glibc.startswith("glibc "):
        libc = "glibc"
        major, minor = glibc.split()[1].split(".")[:2]
        libc_version = (int(major), int(minor))
    elif musl is not None:
        libc, libc_version = "musl", musl
    abbrev = implementation_abbrev(impl)
    abis = _abis_from_soabi(str(facts.get("soabi") or ""), abbrev)
    libpython = str(facts.get("ldlibrary") or "") if facts.get("enable_shared") else None
    suffixes = facts.get("extension_suffixes")
    return make_target(
        python_version=version,
        machine=machine,
        libc=libc,
        libc_version=libc_version,
        implementation=impl,
        abis=abis or None,
        extension_suffixes=[str(s) for s in suffixes] if isinstance(suffixes, list) else None,
        free_threaded=bool(facts.get("gil_disabled")),
        executable=str(facts.get("executable") or "") or None,
        purelib=str(facts.get("purelib") or "") or None,
        platlib=str(facts.get("platlib") or "") or None,
        libpython=libpython or None,
        libdir=str(facts.get("libdir") or "") or None,
    )


def probe_interpreter(python: str, runner: Runner | None = None) -> Target:
    """Probe the interpreter at ``python`` and return its :class:`Target`.

    Runs ``python -I -S -c PROBE`` (standard library only; no site-packages, no package code)
    in a clean environment (:func:`probe_environment`) with no standard input and, for a
    musl interpreter, its PT_INTERP loader to read the musl version. A failure is one line
    (never the probe script a non-Python program echoes back).

    Raises:
        ProbeError: ``python`` does not exist, does not run, or printed no probe result.
    """
    run = runner or _default_runner
    try:
        proc = run([python, "-I", "-S", "-c", PROBE])
    except (OSError, subprocess.SubprocessError) as exc:
        raise ProbeError(f"cannot run the interpreter ({exc}); pass a Python executable",
                         filename=python) from exc
    if proc.returncode != 0 and "Unknown option: -I" in (proc.stderr or ""):
        raise ProbeError("not a Python 3 interpreter (Python 2 does not know -I); pass a "
                         "Python 3 executable", filename=python)
    if proc.returncode != 0:
        raise ProbeError(f"the interpreter probe failed: {_probe_failure(proc.stderr or '')}",
                         filename=python)
    try:
        facts = json.loads(proc.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError) as exc:
        raise ProbeError("the interpreter printed no probe result; is it Python 3?",
                         filename=python) from exc
    musl = None
    if not facts.get("glibc"):
        musl = _musl_version(str(facts.get("executable") or python), run)
    return target_from_probe(facts, musl)


def _glibc_version_string() -> str:
    """``os.confstr("CS_GNU_LIBC_VERSION")`` (``glibc 2.36``), or ``""`` where the C library
    does not answer: musl raises ``OSError(EINVAL)`` for it (``packaging._manylinux`` and
    :data:`PROBE` treat it the same way)."""
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):
        return ""


def running_target() -> Target:
    """The :class:`Target` of the running interpreter.

    Its tag list is ``packaging.tags.sys_tags()`` itself (the running interpreter really is
    the target here), so it matches what pip computes with the same ``packaging``.
    """
    import platform

    glibc = _glibc_version_string()
    facts: dict[str, object] = {
        "implementation": sys.implementation.name,
        "version": list(sys.version_info[:2]),
        "soabi": sysconfig.get_config_var("SOABI") or "",
        "extension_suffixes": list(EXTENSION_SUFFIXES),
        "machine": platform.machine(),
        "maxsize64": sys.maxsize > 2**32,
        "glibc": glibc or "",
        "gil_disabled": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "executable": sys.executable,
        "purelib": sysconfig.get_paths().get("purelib"),
        "platlib": sysconfig.get_paths().get("platlib"),
        "enable_shared": bool(sysconfig.get_config_var("Py_ENABLE_SHARED")),
        "ldlibrary": sysconfig.get_config_var("LDLIBRARY") or "",
        "libdir": sysconfig.get_config_var("LIBDIR") or "",
    }
    musl = None if glibc else _musl_version(sys.executable, _default_runner)
    base = target_from_probe(facts, musl)
    return replace(base, tags=tuple(ptags.sys_tags()), _rank={})
