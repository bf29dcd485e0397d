"""Build ``pip-guard.pyz``: the guard and its pure-Python dependencies in one zip application
(PEP 441, the standard library's :mod:`zipapp`).

    python scripts/build_pyz.py [-o pip-guard.pyz] [--wheels DIR | --from-env]

``python pip-guard.pyz install -r requirements.txt`` then guards the interpreter that runs
it (its own pip, in-process hooks, as an installed ``pip-guard``) on any CPython 3.9+ with
nothing installed besides pip. Everything is imported from inside the archive by
:mod:`zipimport`, which writes no ``.pyc`` and extracts nothing (the archive carries
bytecode of the building interpreter's version next to each module), so the interpreter's
site-packages gains nothing (no distribution, no ``.pth``) and ``rm pip-guard.pyz`` leaves
no trace.

Where the dependencies come from:

- default: ``pip download`` of the pins in ``scripts/pyz-requirements.txt`` (packaging,
  pyelftools, rich, pygments, markdown-it-py, mdurl, tomli), pure wheels only, resolved for
  Python 3.9 so the one archive runs on every CPython 3.9+ (needs the index, or pip's
  cache and ``--wheels``);
- ``--wheels DIR``: those wheels already downloaded into DIR (offline);
- ``--from-env``: the distributions installed for the interpreter running this script, as
  they are (offline; the archive then runs where those versions run: packaging >= 26 and
  pyelftools >= 0.33 need Python 3.10+).

The guard itself is copied from ``src/poetry_wheelguard`` of this checkout (its data files,
``presets.toml`` and ``schema/``, included). Wheels are unpacked as an installer unpacks a
purelib wheel (PEP 427): the package directories, the ``.dist-info`` and ``.data/purelib``;
``.data/scripts`` is left out (the archive has its own ``__main__``); a platform wheel or
other ``.data`` (headers, data) is refused, as it could not run from a zip. The
``.dist-info`` directories are kept under ``licenses/``, not at the top of the archive:
there pip would take them for installed distributions.
"""

from __future__ import annotations

import argparse
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipapp
import zipfile
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PINS = REPO / "scripts" / "pyz-requirements.txt"
PACKAGE = REPO / "src" / "poetry_wheelguard"
# The distributions the guard needs at run time (pyproject.toml's dependencies, with
# rich's own), by their normalized names.
DEPENDENCIES = ("packaging", "pyelftools", "rich", "pygments", "markdown-it-py", "mdurl",
                "tomli")
# zipapp's generated __main__ drops main()'s return value; the exit code is the interface.
MAIN_PY = ("from poetry_wheelguard.cli import main\n\nraise SystemExit(main())\n")


class BuildError(Exception):
    """A dependency that cannot go into the archive (one line for the user)."""


def _download(dest: Path) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
           "--python-version", "3.9", "--implementation", "py", "--abi", "none",
           "--platform", "any", "--dest", str(dest), "-r", str(PINS)]
    proc = subprocess.run(cmd, check=False)
    if proc.returncode != 0:
        raise BuildError(f"pip download of {PINS.name} failed (exit {proc.returncode}); "
                         "give the wheels with --wheels DIR or use --from-env")


def _unpack_wheels(wheels: Path, stage: Path) -> list[str]:
    """Unpack every ``*.whl`` of ``wheels`` into ``stage``; return the wheel file names."""
    try:
        from packaging.utils import parse_wheel_filename
    except ImportError:  # an interpreter with pip only: pip's vendored copy
        from pip._vendor.packaging.utils import parse_wheel_filename  # type: ignore[no-redef]

    names = sorted(p.name for p in wheels.glob("*.whl"))
    if not names:
        raise BuildError(f"no wheels in {wheels}; run without --wheels to download them")
    for name in names:
        _, _, _, tags = parse_wheel_filename(name)
        if any(t.platform != "any" or t.abi != "none" for t in tags):
            raise BuildError(f"{name} is not a pure wheel; it cannot run from a zip")
        with zipfile.ZipFile(wheels / name) as zf:
            for member in zf.infolist():
                top, _, rest = member.filename.partition("/")
                if not top.endswith(".data"):
                    zf.extract(member, stage)
                    continue
                scheme, _, path = rest.partition("/")
                if scheme == "scripts":
                    continue  # console scripts: the archive has its own __main__
                if scheme not in ("purelib", "platlib") or not path:
                    raise BuildError(f"{name} installs {member.filename} outside "
                                     "site-packages; it cannot run from a zip")
                target = stage / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(member))
    return names


def _copy_from_env(stage: Path) -> list[str]:
    """Copy the installed files of :data:`DEPENDENCIES` (their RECORD) into ``stage``."""
    copied = []
    for name in DEPENDENCIES:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            if name == "tomli":  # only needed below 3.11
                continue
            raise BuildError(f"{name} is not installed for {sys.executable}; install it or "
                             "build without --from-env") from None
        for file in dist.files or ():
            parts = Path(file).parts
            if not parts or parts[0] == ".." or "__pycache__" in parts:
                continue  # console scripts, bytecode
            src = Path(str(dist.locate_file(file)))
            if src.is_file():
                (stage / file).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, stage / file)
        copied.append(f"{dist.metadata['Name']} {dist.version}")
    return copied


def _hide_metadata(stage: Path) -> None:
    """Move every ``*.dist-info`` to ``licenses/<name>``: the archive is on ``sys.path``
    when it runs, and pip (pkg_resources and importlib.metadata alike) would take a
    ``.dist-info`` there for an installed distribution, so ``pip install rich`` through
    the guard would find rich "already satisfied". The licenses and METADATA stay in the
    archive."""
    licenses = stage / "licenses"
    for info in sorted(stage.glob("*.dist-info")):
        licenses.mkdir(exist_ok=True)
        info.rename(licenses / info.name[: -len(".dist-info")])


def build(output: Path, *, wheels: Path | None = None, from_env: bool = False) -> list[str]:
    """Build the archive at ``output`` (replaced atomically); return what went into it
    (wheel file names, or ``"name version"`` with ``from_env``).

    Raises:
        BuildError: a dependency could not be downloaded, is missing or is not pure.
    """
    with tempfile.TemporaryDirectory(prefix="pip-guard-pyz-") as tmp:
        stage = Path(tmp) / "stage"
        stage.mkdir()
        if from_env:
            contents = _copy_from_env(stage)
        else:
            if wheels is None:
                wheels = Path(tmp) / "wheels"
                _download(wheels)
            contents = _unpack_wheels(wheels, stage)
        shutil.copytree(PACKAGE, stage / "poetry_wheelguard",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for bytecode in stage.rglob("__pycache__"):
            shutil.rmtree(bytecode)
        _hide_metadata(stage)
        (stage / "__main__.py").write_text(MAIN_PY)
        _compile(stage)
        tmp_out = Path(tmp) / output.name
        zipapp.create_archive(stage, tmp_out, interpreter="/usr/bin/env python3",
                              compressed=True)
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(tmp_out), str(output))
    os.chmod(output, 0o755)
    return [*contents, "poetry_wheelguard (src/)"]


def _compile(stage: Path) -> None:
    """Put ``module.pyc`` next to every ``module.py`` of ``stage``, compiled by this
    interpreter: :mod:`zipimport` reads bytecode only from there (it never writes any), so
    without it every run compiles every module it imports again. Unchecked-hash pycs
    (PEP 552), because an archive member's time stamp is not the source's; another Python
    version finds a foreign magic number and compiles the source as before. A file this
    interpreter cannot compile keeps its source only."""
    for source in stage.rglob("*.py"):
        try:
            py_compile.compile(str(source), cfile=str(source) + "c",
                               dfile=str(source.relative_to(stage)), doraise=True,
                               invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        except py_compile.PyCompileError:
            continue


def main(argv: list[str] | None = None) -> int:
    """Command line of the builder; returns the exit code (0 built, 1 failed)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=Path("pip-guard.pyz"))
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--wheels", type=Path, help="directory of the pinned wheels (offline)")
    source.add_argument("--from-env", action="store_true",
                        help="bundle the dependencies installed for this interpreter")
    args = parser.parse_args(argv)
    try:
        contents = build(args.output, wheels=args.wheels, from_env=args.from_env)
    except BuildError as exc:
        print(f"build_pyz: error: {exc}", file=sys.stderr)
        return 1
    size = args.output.stat().st_size
    print(f"built {args.output} ({size / 1e6:.1f} MB): {', '.join(contents)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
