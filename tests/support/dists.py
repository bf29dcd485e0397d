"""Build real distribution files for the tests: wheels (PEP 427) and sdists (PEP 625).

Wheels are zip files with a complete ``.dist-info`` (METADATA, WHEEL, RECORD with sha256
digests), installable by any pip. Platform wheels can carry a real CPython extension
module compiled here with the C compiler of the running system (gcc by default, or
musl-gcc). Sdists are real setuptools projects whose ``setup.py`` writes a marker file the
moment any build step runs, so a test can prove that no build code ran.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import subprocess
import sysconfig
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from packaging.tags import parse_tag
from packaging.utils import canonicalize_name

EXT_SOURCE = r"""
#include <Python.h>
static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(42); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, "Return 42."}, {NULL}};
static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "%(module)s", NULL, -1, methods};
PyMODINIT_FUNC PyInit_%(module)s(void) { return PyModule_Create(&moduledef); }
"""


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def dist_name(name: str) -> str:
    """The file-name form of a project name (PEP 427: ``-`` -> ``_``, normalized)."""
    return canonicalize_name(name).replace("-", "_")


def metadata(name: str, version: str, requires: Sequence[str] = (),
             metadata_version: str = "2.1", dynamic: Sequence[str] = ()) -> str:
    """Core metadata text (``metadata_version``, 2.1 by default) for ``name`` ``version``
    with ``Requires-Dist`` lines and PEP 643 ``Dynamic`` lines."""
    lines = [f"Metadata-Version: {metadata_version}", f"Name: {name}", f"Version: {version}",
             "Summary: wheelguard test fixture"]
    lines += [f"Dynamic: {d}" for d in dynamic]
    lines += [f"Requires-Dist: {r}" for r in requires]
    return "\n".join(lines) + "\n\n"


def build_wheel(
    out_dir: Path,
    name: str,
    version: str,
    tag: str = "py3-none-any",
    files: Mapping[str, bytes | str] | None = None,
    requires: Sequence[str] = (),
) -> Path:
    """Write ``{name}-{version}-{tag}.whl`` into ``out_dir`` and return its path.

    ``tag`` is a compressed PEP 425 tag set (``cp37.cp38-cp37m.cp38-manylinux1_x86_64``);
    ``Root-Is-Purelib`` is true only for ``*-none-any``. ``files`` maps archive paths to
    contents; by default the wheel holds ``{module}/__init__.py``.
    """
    tags = parse_tag(tag)  # validates the tag set
    pure = all(t.abi == "none" and t.platform == "any" for t in tags)
    dname = dist_name(name)
    module = dname
    content: dict[str, bytes] = {}
    for path, data in (files or {f"{module}/__init__.py": f"VERSION = {version!r}\n"}).items():
        content[path] = data.encode() if isinstance(data, str) else data
    info = f"{dname}-{version}.dist-info"
    content[f"{info}/METADATA"] = metadata(name, version, requires).encode()
    wheel_lines = ["Wheel-Version: 1.0", "Generator: wheelguard-tests (1.0)",
                   f"Root-Is-Purelib: {'true' if pure else 'false'}"]
    wheel_lines += [f"Tag: {t}" for t in sorted(str(t) for t in tags)]
    content[f"{info}/WHEEL"] = ("\n".join(wheel_lines) + "\n").encode()
    record = [f"{p},{_record_hash(d)},{len(d)}" for p, d in content.items()]
    record.append(f"{info}/RECORD,,")
    content[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{dname}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for p, d in content.items():
            info_ = zipfile.ZipInfo(p, date_time=(2020, 1, 1, 0, 0, 0))
            info_.external_attr = 0o644 << 16
            zf.writestr(info_, d)
    return path


def compile_extension(
    work: Path,
    module: str,
    *,
    python_include: str | None = None,
    ext_suffix: str | None = None,
    cc: str = "gcc",
    cflags: Sequence[str] = (),
    source: str | None = None,
) -> tuple[str, bytes]:
    """Compile a real CPython extension module ``module`` and return (file name, bytes).

    Uses ``cc`` (``gcc``, ``musl-gcc``...) with the include directory and EXT_SUFFIX of the
    running interpreter unless given. Raises ``subprocess.CalledProcessError`` on failure.
    """
    include = python_include or sysconfig.get_paths()["include"]
    suffix = ext_suffix or str(sysconfig.get_config_var("EXT_SUFFIX"))
    work.mkdir(parents=True, exist_ok=True)
    src = work / f"{module}.c"
    src.write_text(source if source is not None else EXT_SOURCE % {"module": module})
    out = work / f"{module}{suffix}"
    subprocess.run([cc, "-shared", "-fPIC", "-O1", f"-I{include}", *cflags, str(src),
                    "-o", str(out)], check=True, capture_output=True)
    return out.name, out.read_bytes()


def build_extension_wheel(
    out_dir: Path,
    name: str,
    version: str,
    tag: str,
    *,
    work: Path,
    requires: Sequence[str] = (),
    **compile_args: object,
) -> Path:
    """A platform wheel whose package holds a compiled ``_native`` extension module.

    ``import {module}._native; _native.answer() == 42`` proves the extension loads.
    ``compile_args`` go to :func:`compile_extension`.
    """
    module = dist_name(name)
    ext_name, ext_bytes = compile_extension(work / module, "_native", **compile_args)  # type: ignore[arg-type]
    files: dict[str, bytes | str] = {
        f"{module}/__init__.py": "from . import _native\n",
        f"{module}/{ext_name}": ext_bytes,
    }
    return build_wheel(out_dir, name, version, tag, files, requires)


SETUP_PY = '''
import os, pathlib
pathlib.Path({marker!r}).parent.mkdir(parents=True, exist_ok=True)
pathlib.Path({marker!r}).write_text("setup.py ran\\n")
from setuptools import setup
setup(name={name!r}, version={version!r}, packages=[{module!r}])
'''


def build_sdist(out_dir: Path, name: str, version: str, marker: Path | None = None,
                requires: Sequence[str] = (), metadata_version: str = "2.2",
                dynamic: Sequence[str] = ()) -> Path:
    """Write ``{name}-{version}.tar.gz`` (a setuptools project) and return its path; its
    PKG-INFO is :func:`metadata` of ``requires``, ``metadata_version`` and ``dynamic``
    (by default PEP 643 static metadata: ``2.2`` without ``Requires-Dist`` in ``dynamic``).

    Its ``setup.py`` writes ``marker`` as its first statement: the file exists if and only
    if a build step (metadata preparation, build, egg_info) ran. Without ``marker`` it
    writes ``{marker dir}/none`` under the system temp dir (the tests always pass one).
    """
    dname = dist_name(name)
    base = f"{dname}-{version}"
    marker = marker or Path(os.environ.get("TMPDIR", "/tmp")) / "wheelguard-marker-none"
    files = {
        "setup.py": SETUP_PY.format(marker=str(marker), name=name, version=version,
                                    module=dname),
        "pyproject.toml": '[build-system]\nrequires = ["setuptools"]\n'
                          'build-backend = "setuptools.build_meta"\n',
        "PKG-INFO": metadata(name, version, requires, metadata_version, dynamic),
        f"{dname}/__init__.py": f"VERSION = {version!r}\nBUILT_FROM_SDIST = True\n",
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{base}.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        for rel, text in files.items():
            data = text.encode()
            ti = tarfile.TarInfo(f"{base}/{rel}")
            ti.size = len(data)
            ti.mtime = 1577836800
            ti.mode = 0o644
            tf.addfile(ti, io.BytesIO(data))
    return path


def copy_into(out_dir: Path, files: Sequence[Path]) -> list[Path]:
    """Copy existing distribution files into ``out_dir``; return the new paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy2(f, out_dir / f.name)) for f in files]
