"""Test support for the musl layer: a real musl-linked CPython, its venvs, musl fixture wheels.

The interpreter is the relocatable musl CPython 3.11 of ``../shared/musl-cpython/`` (beside
the repository: CI puts ``shared/`` next to the clone), or the interpreter named by
``$WHEELGUARD_MUSL_PYTHON``. Its extension modules are loaded by musl's dynamic loader
(``/lib/ld-musl-x86_64.so.1``, Debian package ``musl``): a glibc-linked ``.so`` or one with
initial-exec TLS really fails to import there, as on Alpine.

The interpreter has no ``ssl``: its pip reaches ``http://`` indexes only, so everything it
installs comes from a static PEP 503 index on 127.0.0.1 (:mod:`tests.support.index`) holding
pip itself, this project's wheel, its runtime dependencies and the fixtures built here.

The archive ships no C headers. Extensions are compiled with musl-gcc against the
``Include/`` tree of a CPython of the same minor version found on this machine (the C API
and ABI of one minor version are the same on every Linux x86_64 build) and a ``pyconfig.h``
rewritten with the musl interpreter's own configuration (:func:`musl_pyconfig`).
"""

from __future__ import annotations

import email.parser
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement

from tests.support.dists import build_extension_wheel, build_sdist, build_wheel
from tests.support.env import isolated_env, pyenv_versions

REPO_ROOT = Path(__file__).resolve().parents[2]
ARCHIVE_NAME = "musl-cpython-3.11.2-x86_64.tar.xz"
MUSL_LOADER = Path("/lib/ld-musl-x86_64.so.1")
ENV_PYTHON = "WHEELGUARD_MUSL_PYTHON"
ENV_SHARED = "WHEELGUARD_SHARED_DIR"
PIP_VERSION = "26.3"
"""The newest pip the project supports; the musl venv's ensurepip brings 22.3.1."""

# --- the fixture projects (docs/alpine-runs.md shows what the guard says of each) ---------
HEALTHY = "wg-musl-healthy"
STATIC_TLS = "wg-musl-statictls"
GLIBC_LINKED = "wg-musl-glibclinked"
PURE_FALLBACK = "wg-musl-purefallback"
SDIST_BUILD = "wg-musl-sdistbuild"
RELR = "wg-musl-relr"
RELR_MUSL = (1, 2, 4)
"""The first musl whose loader applies DT_RELR (packed relative relocations)."""

MUSL_1_2 = "cp311-cp311-musllinux_1_2_x86_64"
MUSL_1_1 = "cp311-cp311-musllinux_1_1_x86_64"
MANYLINUX = "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"
MANYLINUX_OTHER = "cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64"
MUSL_ANY_PY = "py3-none-musllinux_1_1_x86_64"

STATIC_TLS_SOURCE = r"""
#include <Python.h>
/* Thread-local state, as native libraries keep it; with -ftls-model=initial-exec the
   linker marks the object DF_STATIC_TLS, which musl's dlopen refuses. */
__thread long wg_calls;
static PyObject *answer(PyObject *self, PyObject *args) { wg_calls++; return PyLong_FromLong(42); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, "Return 42."}, {NULL}};
static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "_native", NULL, -1, methods};
PyMODINIT_FUNC PyInit__native(void) { wg_calls = 0; return PyModule_Create(&moduledef); }
"""

GLIBC_SOURCE = r"""
#include <Python.h>
#include <gnu/libc-version.h>
/* Built on a glibc system with its gcc: links libc.so.6 and calls glibc-only API. */
static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(42); }
static PyObject *libc(PyObject *self, PyObject *args) {
    return PyUnicode_FromString(gnu_get_libc_version());
}
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, "Return 42."},
                                {"libc", libc, METH_NOARGS, "glibc version."}, {NULL}};
static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "_native", NULL, -1, methods};
PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&moduledef); }
"""


class MuslUnavailable(Exception):
    """The musl interpreter (or what it needs: the loader, C headers) is not on this machine.

    ``str(exc)`` is one line saying what is missing and how to get it.
    """


@dataclass(frozen=True)
class MuslPython:
    """A musl-linked CPython ready to run.

    Attributes:
        executable: its ``bin/python3.X``.
        loader: musl's dynamic loader that loads it and its extensions.
        musl_version: the loader's own version, ``(1, 2, 3)``.
        version: ``(major, minor)`` of Python.
        ext_suffix: ``EXT_SUFFIX`` (``.cpython-311-x86_64-linux-musl.so``).
        include: where its ``Python.h`` would be (absent in the shared archive).
        config_vars: its ``sysconfig.get_config_vars()`` (int and str values only).
    """

    executable: Path
    loader: Path
    musl_version: tuple[int, int, int]
    version: tuple[int, int]
    ext_suffix: str
    include: Path
    config_vars: Mapping[str, int | str]


def shared_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$WHEELGUARD_SHARED_DIR``, else ``shared/`` beside the repository (as CI lays it out)."""
    env = os.environ if environ is None else environ
    return Path(env[ENV_SHARED]) if env.get(ENV_SHARED) else REPO_ROOT.parent / "shared"


def run(cmd: Sequence[str | os.PathLike[str]], *, env: Mapping[str, str] | None = None,
        cwd: Path | None = None, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` with the isolated test environment plus ``env``; never raises on exit code."""
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd,
                          env=isolated_env(env), timeout=timeout, check=False)


def loader_version(loader: Path = MUSL_LOADER) -> tuple[int, int, int]:
    """The musl version the loader prints when run without arguments (``Version 1.2.3``).

    This is how ``packaging._musllinux`` reads it (PEP 656).

    Raises:
        MuslUnavailable: no loader at ``loader``, or it printed no version.
    """
    if not loader.exists():
        raise MuslUnavailable(f"musl's loader {loader} is missing: apt-get install -y musl")
    proc = run([loader])
    m = re.search(r"^Version (\d+)\.(\d+)\.(\d+)", proc.stderr, re.MULTILINE)
    if not m:
        raise MuslUnavailable(f"{loader} printed no musl version: {proc.stderr.strip()!r}")
    return int(m[1]), int(m[2]), int(m[3])


_PROBE = r"""
import json, os, sys, sysconfig
try:
    glibc = os.confstr("CS_GNU_LIBC_VERSION") or ""
except (AttributeError, ValueError, OSError):
    glibc = ""
print(json.dumps({
    "version": list(sys.version_info[:2]),
    "glibc": glibc,
    "include": sysconfig.get_paths()["include"],
    "vars": {k: v for k, v in sysconfig.get_config_vars().items()
             if isinstance(v, (int, str))},
}))
"""


def unpack_archive(archive: Path, dest: Path) -> Path:
    """Unpack the shared musl CPython archive into ``dest``; return ``bin/python3.11``.

    Raises:
        MuslUnavailable: ``tar`` failed (xz-utils missing, damaged archive).
    """
    python = dest / "musl-py" / "bin" / "python3.11"
    if python.exists():
        return python
    dest.mkdir(parents=True, exist_ok=True)
    proc = run(["tar", "xJf", archive, "-C", dest])
    if proc.returncode != 0 or not python.exists():
        raise MuslUnavailable(f"cannot unpack {archive}: {proc.stderr.strip() or 'no python'}")
    return python


def locate_musl_python(work: Path, environ: Mapping[str, str] | None = None) -> MuslPython:
    """Find the musl CPython (``$WHEELGUARD_MUSL_PYTHON`` or the shared archive unpacked into
    ``work``), check that musl's loader runs it, and return its facts.

    Raises:
        MuslUnavailable: no loader, no interpreter, or the interpreter is not musl-linked.
    """
    env = os.environ if environ is None else environ
    musl = loader_version(MUSL_LOADER)
    named = env.get(ENV_PYTHON)
    if named:
        python = Path(named)
        if not (python.is_file() and os.access(python, os.X_OK)):
            raise MuslUnavailable(f"${ENV_PYTHON}={named} is not an executable file")
    else:
        archive = shared_dir(env) / "musl-cpython" / ARCHIVE_NAME
        if not archive.exists():
            raise MuslUnavailable(f"no musl CPython: {archive} is missing and ${ENV_PYTHON} "
                                  "is not set")
        python = unpack_archive(archive, work)
    proc = run([python, "-I", "-S", "-c", _PROBE])
    if proc.returncode != 0:
        raise MuslUnavailable(f"{python} does not run: {proc.stderr.strip()[-300:]}")
    facts = json.loads(proc.stdout)
    if facts["glibc"]:
        raise MuslUnavailable(f"{python} is linked against {facts['glibc']}, not musl")
    cvars: dict[str, int | str] = facts["vars"]
    return MuslPython(executable=python, loader=MUSL_LOADER, musl_version=musl,
                      version=(facts["version"][0], facts["version"][1]),
                      ext_suffix=str(cvars["EXT_SUFFIX"]), include=Path(facts["include"]),
                      config_vars=cvars)


# --- C headers for the musl fixtures -------------------------------------------------------
# sysconfig.parse_config_h reads pyconfig.h with exactly these two patterns.
_DEFINE = re.compile(r"^#define ([A-Z][A-Za-z0-9_]+) (.*)$")
_UNDEF = re.compile(r"^/\* #undef ([A-Z][A-Za-z0-9_]+) \*/$")


def musl_pyconfig(template: str, config: Mapping[str, int | str]) -> str:
    """``pyconfig.h`` of the musl build, from the same CPython minor version's ``template``.

    ``sysconfig`` keeps every ``pyconfig.h`` macro of a build among its config vars
    (``#define NAME VALUE`` -> VALUE, ``/* #undef NAME */`` -> 0; ``parse_config_h``), so each
    macro of the template that the musl interpreter knows is set to the musl value; the rest
    (``_GNU_SOURCE``...) is kept.
    """
    out = []
    for line in template.splitlines():
        m = _DEFINE.match(line) or _UNDEF.match(line)
        if m and m[1] in config:
            name, value = m[1], config[m[1]]
            literal_zero = _DEFINE.match(line) is not None and m[2].strip() == "0"
            if value == 0 and not literal_zero:
                line = f"/* #undef {name} */"
            else:
                line = f"#define {name} {value}"
        out.append(line)
    return "\n".join(out) + "\n"


def _host_header_trees(version: tuple[int, int]) -> list[tuple[Path, Path]]:
    """Candidate (Include dir, real pyconfig.h) pairs of CPython ``version`` on this machine."""
    x_y = f"{version[0]}.{version[1]}"
    out: list[tuple[Path, Path]] = []
    if sys.version_info[:2] == version:
        out.append((Path(sysconfig.get_paths()["include"]),
                    Path(sysconfig.get_config_h_filename())))
    for root in pyenv_versions(f"{x_y}."):
        inc = root / "include" / f"python{x_y}"
        out.append((inc, inc / "pyconfig.h"))
    inc = Path(f"/usr/include/python{x_y}")
    out.append((inc, Path(f"/usr/include/{sysconfig.get_config_var('MULTIARCH') or ''}"
                          f"/python{x_y}/pyconfig.h")))
    out.append((inc, inc / "pyconfig.h"))
    return out


def glibc_python(version: tuple[int, int]) -> Path | None:
    """A glibc CPython ``version`` on this machine (the running one, else pyenv's), or None."""
    if sys.version_info[:2] == version:
        return Path(sys.executable)
    for root in pyenv_versions(f"{version[0]}.{version[1]}."):
        exe = root / "bin" / f"python{version[0]}.{version[1]}"
        if exe.exists():
            return exe
    return None


def python_headers(musl: MuslPython, work: Path) -> Path:
    """A directory with ``Python.h`` for compiling extensions for ``musl``.

    Its own include directory when it ships one; else a copy of a same-version CPython
    ``Include/`` tree of this machine with :func:`musl_pyconfig`'s ``pyconfig.h``.

    Raises:
        MuslUnavailable: no CPython of that minor version with headers on this machine.
    """
    if (musl.include / "Python.h").exists():
        return musl.include
    for inc, config_h in _host_header_trees(musl.version):
        if (inc / "Python.h").exists() and config_h.exists() and \
                "SIZEOF_LONG" in config_h.read_text():
            dest = work / "include" / inc.name
            shutil.copytree(inc, dest, dirs_exist_ok=True)
            (dest / "pyconfig.h").write_text(musl_pyconfig(config_h.read_text(),
                                                           musl.config_vars))
            return dest
    x_y = f"{musl.version[0]}.{musl.version[1]}"
    raise MuslUnavailable(f"no CPython {x_y} headers (Python.h) on this machine to compile the "
                          f"musl fixtures: apt-get install -y python{x_y}-dev")


# --- fixture distributions -------------------------------------------------------------------
@dataclass(frozen=True)
class MuslFixtures:
    """The musl fixture files and where the sdist build would write its marker."""

    files: tuple[Path, ...]
    markers: Path

    def marker(self, project: str) -> Path:
        """The file ``project``'s sdist writes when any build step runs."""
        return self.markers / f"{project}.built"

    def names(self, project: str) -> list[str]:
        """File names of ``project`` (``-`` -> ``_`` as in distribution file names)."""
        stem = project.replace("-", "_") + "-"
        return sorted(f.name for f in self.files if f.name.startswith(stem))


def build_musl_fixtures(out: Path, work: Path, musl: MuslPython, include: Path) -> MuslFixtures:
    """Build every musl fixture project into ``out``.

    ============================  ==============================================================
    wg-musl-healthy 1.0           cp311 musllinux_1_2 wheel (musl-gcc), cp311 manylinux wheel
                                  (gcc) -> the musllinux wheel, ok, imports
    wg-musl-statictls 1.0         cp311 musllinux_1_2 wheel, ``__thread`` + initial-exec TLS
                                  -> installs; STATIC_TLS; import fails on musl
    wg-musl-glibclinked 1.0       cp311 musllinux_1_1 wheel whose .so gcc linked to glibc
                                  -> installs; LIBC_MISMATCH; import fails on musl
    wg-musl-relr 1.0              cp311 musllinux_1_2 wheel linked with -z pack-relative-relocs
                                  (DT_RELR, as today's Alpine toolchains link): musl < 1.2.4
                                  does not apply those relocations; the import crashes
    wg-musl-purefallback 1.0      cp311/cp310 manylinux wheels + pure wheel -> PURE_FALLBACK
    wg-musl-purefallback 2.0      py3-none-musllinux_1_1 wheel (the hint)
    wg-musl-sdistbuild 1.0        cp311 manylinux wheel + sdist writing a marker -> SDIST_BUILD
    wg-musl-sdistbuild 2.0        py3-none-musllinux_1_1 wheel (the hint)
    ============================  ==============================================================

    Raises:
        subprocess.CalledProcessError: a compiler failed.
    """
    markers = work / "markers"
    markers.mkdir(parents=True, exist_ok=True)
    musl_cc = {"python_include": str(include), "ext_suffix": musl.ext_suffix, "cc": "musl-gcc"}
    glibc_suffix = musl.ext_suffix.replace("-linux-musl", "-linux-gnu")
    files = [
        build_extension_wheel(out, HEALTHY, "1.0", MUSL_1_2, work=work / "healthy-musl",
                              **musl_cc),
        build_extension_wheel(out, HEALTHY, "1.0", MANYLINUX, work=work / "healthy-gnu",
                              python_include=str(include), ext_suffix=glibc_suffix, cc="gcc"),
        build_extension_wheel(out, STATIC_TLS, "1.0", MUSL_1_2, work=work / "tls",
                              source=STATIC_TLS_SOURCE, cflags=["-ftls-model=initial-exec"],
                              **musl_cc),
        build_extension_wheel(out, GLIBC_LINKED, "1.0", MUSL_1_1, work=work / "glibc",
                              source=GLIBC_SOURCE, python_include=str(include),
                              ext_suffix=musl.ext_suffix, cc="gcc"),
        build_extension_wheel(out, RELR, "1.0", MUSL_1_2, work=work / "relr",
                              cflags=["-Wl,-z,pack-relative-relocs"], **musl_cc),
        build_wheel(out, PURE_FALLBACK, "1.0", MANYLINUX),
        build_wheel(out, PURE_FALLBACK, "1.0", MANYLINUX_OTHER),
        build_wheel(out, PURE_FALLBACK, "1.0"),
        build_wheel(out, PURE_FALLBACK, "2.0", MUSL_ANY_PY),
        build_wheel(out, SDIST_BUILD, "1.0", MANYLINUX),
        build_sdist(out, SDIST_BUILD, "1.0", markers / f"{SDIST_BUILD}.built"),
        build_wheel(out, SDIST_BUILD, "2.0", MUSL_ANY_PY),
    ]
    return MuslFixtures(tuple(files), markers)


# --- wheels the musl venv installs -------------------------------------------------------------
def build_project_wheel(out: Path) -> Path:
    """This repository's wheel, built by pip (PEP 517, poetry-core) from the working tree.

    Raises:
        RuntimeError: the build failed (pip's output in the message).
    """
    out.mkdir(parents=True, exist_ok=True)
    # offline when the build backend is already here (the test extra has poetry-core)
    isolation = [] if importlib.util.find_spec("poetry.core") is None else \
        ["--no-build-isolation"]
    proc = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", *isolation, "-w", out,
                REPO_ROOT])
    wheels = sorted(out.glob("poetry_wheelguard-*.whl"))
    if proc.returncode != 0 or not wheels:
        raise RuntimeError(f"building the project wheel failed:\n{proc.stdout}{proc.stderr}")
    return wheels[-1]


def runtime_requirements(wheel: Path) -> list[str]:
    """The wheel's ``Requires-Dist`` lines that belong to no extra."""
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        msg = email.parser.BytesParser().parsebytes(zf.read(meta))
    reqs = [Requirement(r) for r in msg.get_all("Requires-Dist") or []]
    return [str(r) for r in reqs if not (r.marker and "extra" in str(r.marker))]


def download_for_musl(cache: Path, requirements: Iterable[str],
                      python_version: tuple[int, int]) -> list[Path]:
    """Wheels of ``requirements`` (and their dependencies) for a cpXY musllinux_1_2 x86_64
    interpreter, downloaded once from the public index by this machine's pip into ``cache``.

    Reused while the requirement list is unchanged (``cache/requirements.txt``).

    Raises:
        RuntimeError: pip download failed (its output in the message).
    """
    reqs = sorted(requirements)
    stamp = cache / "requirements.txt"
    if stamp.exists() and stamp.read_text().splitlines() == reqs:
        return sorted(cache.glob("*.whl"))
    if cache.exists():
        shutil.rmtree(cache)
    cache.mkdir(parents=True)
    xy = f"{python_version[0]}{python_version[1]}"
    proc = run([sys.executable, "-m", "pip", "download", "--isolated", "--only-binary=:all:",
                "--platform", "musllinux_1_2_x86_64", "--python-version", xy,
                "--implementation", "cp", "--abi", f"cp{xy}", "-d", cache, *reqs])
    if proc.returncode != 0:
        raise RuntimeError(f"pip download for the musl venv failed:\n{proc.stderr}")
    stamp.write_text("\n".join(reqs) + "\n")
    return sorted(cache.glob("*.whl"))


# --- venvs and runs on the musl interpreter ------------------------------------------------
@dataclass(frozen=True)
class MuslVenv:
    """A venv of the musl interpreter."""

    root: Path

    @property
    def python(self) -> Path:
        """``bin/python``."""
        return self.root / "bin" / "python"

    @property
    def bin(self) -> Path:
        """``bin/``, where ``pip-guard`` is."""
        return self.root / "bin"

    def site_packages(self) -> Path:
        """``lib/python3.X/site-packages``."""
        return next((self.root / "lib").glob("python3.*/site-packages"))

    def pip(self, *args: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
        """``python -m pip ARGS`` in this venv (isolated from the machine's pip config)."""
        return run([self.python, "-m", "pip", *args])

    def freeze(self) -> str:
        """``pip freeze --all``: every installed distribution and version."""
        proc = self.pip("freeze", "--all")
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def state(self) -> tuple[str, list[tuple[str, int, int]]]:
        """``pip freeze --all`` and every file of the venv with its size and mtime (ns)."""
        files = sorted(
            (str(p.relative_to(self.root)), p.lstat().st_size, p.lstat().st_mtime_ns)
            for p in self.root.rglob("*") if not p.is_dir()
        )
        return self.freeze(), files

    def import_answer(self, module: str) -> subprocess.CompletedProcess[str]:
        """Import ``{module}._native`` (through ``{module}/__init__``) and print ``answer()``."""
        return run([self.python, "-c",
                    f"import {module}._native as m; print(m.answer())"])


def create_venv(python: Path, dest: Path) -> MuslVenv:
    """``python -m venv dest`` (with ensurepip's pip).

    Raises:
        RuntimeError: venv creation failed.
    """
    proc = run([python, "-m", "venv", dest])
    if proc.returncode != 0:
        raise RuntimeError(f"venv creation with {python} failed:\n{proc.stderr}")
    return MuslVenv(dest)


def readelf(*args: str | os.PathLike[str]) -> str:
    """binutils ``readelf`` output (an oracle independent of the project's ELF reader)."""
    proc = run(["readelf", "-W", *args])
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def wheel_member(wheel: Path, suffix: str, dest: Path) -> Path:
    """Extract the one member of ``wheel`` ending in ``suffix`` into ``dest``; return its path."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(suffix))
        dest.mkdir(parents=True, exist_ok=True)
        out = dest / Path(name).name
        out.write_bytes(zf.read(name))
    return out


# --- a caching proxy of the public index on loopback ----------------------------------------
def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def pypi_proxy_server(work: Path, python: str = sys.executable) -> Iterator[str]:
    """Install proxpi and gunicorn into a venv under ``work`` (``python``'s, with ssl) and
    serve a caching proxy of the public index on 127.0.0.1; yields ``http://.../index/``.

    proxpi answers a file request by downloading it and sending it from its cache
    (``PROXPI_DOWNLOAD_TIMEOUT`` long enough that it never redirects a client to the
    public https host, which the musl interpreter could not reach).

    Raises:
        RuntimeError: the install failed or the proxy did not answer within a minute.
    """
    venv = work / "venv"
    proc = run([python, "-m", "venv", venv])
    if proc.returncode == 0:
        proc = run([venv / "bin" / "python", "-m", "pip", "install", "-q", "proxpi",
                    "gunicorn"])
    if proc.returncode != 0:
        raise RuntimeError(f"installing proxpi failed:\n{proc.stderr}")
    port = free_port()
    log = (work / "proxpi.log").open("w")
    server = subprocess.Popen(
        [str(venv / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--threads", "8", "--timeout", "600", "proxpi.server:app"],
        stdout=log, stderr=subprocess.STDOUT,
        env=isolated_env({"PROXPI_CACHE_DIR": str(work / "cache"),
                          "PROXPI_DOWNLOAD_TIMEOUT": "600"}))
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=5) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the proxpi server did not start: "
                                   + (work / "proxpi.log").read_text()[-2000:])
            time.sleep(0.2)
        yield f"{base}/index/"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
