"""The standard fixture projects every front-end is tested against.

Each project reproduces one case of ../shared/cases/handed.md on the local index:

============================  ==========================================================
project                       files on the index -> expected verdict on CPython 3.9+/glibc
============================  ==========================================================
wg-purefallback 1.0           pure wheel, cp37/cp38 manylinux1_x86_64 wheels, sdist
                              -> PURE_FALLBACK (the aiohttp 3.6.2 case, S1)
wg-purefallback 2.0           py3-none-manylinux_2_17_x86_64 wheel + pure wheel (hint 2.0+)
wg-sdistbuild 1.0             sdist (marker-writing setup.py), cp37 manylinux1_x86_64 wheel
                              -> SDIST_BUILD, refused (the uvloop 0.14.0 case, S4)
wg-sdistbuild 2.0             py3-none-manylinux_2_17_x86_64 wheel (hint 2.0+)
wg-ignored 1.0                py3-none-manylinux_2_17_x86_64 wheel, pure wheel, sdist;
                              with --no-binary -> IGNORED_COMPATIBLE_WHEEL (S3, S9)
wg-healthy 1.0                cpXY-cpXY-manylinux_2_17_x86_64 wheel with a real compiled
                              extension (built for the interpreter given), depends on
                              wg-puredep -> ok
wg-puredep 1.0                pure wheel only -> ok
wg-sdistonly 1.0              sdist only (pure Python) -> SDIST_BUILD warning; error with
                              --no-build
============================  ==========================================================

Also on the index: setuptools and wheel (downloaded once from the public index into a
cache) so that a real sdist build can run where a test means it to.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from tests.support.dists import build_extension_wheel, build_sdist, build_wheel
from tests.support.env import isolated_env
from tests.support.index import StaticIndex

OTHER_CP = "cp37.cp38-cp37m.cp38-manylinux1_x86_64"
ANY_LINUX = "py3-none-manylinux_2_17_x86_64"
SEED_REQUIREMENTS = ("setuptools", "wheel")


@dataclass(frozen=True)
class FixtureIndex:
    """The built fixture tree; ``markers`` is where sdist builds write their marker files."""

    index: StaticIndex
    markers: Path

    def marker(self, project: str) -> Path:
        """The file ``project``'s sdist build writes when any build step runs."""
        return self.markers / f"{project}.built"


def seed_wheels(cache: Path) -> list[Path]:
    """setuptools and wheel wheels, downloaded once from the public index into ``cache``."""
    cache.mkdir(parents=True, exist_ok=True)
    have = [p for p in cache.glob("*.whl")]
    if {p.name.split("-")[0].lower() for p in have} >= set(SEED_REQUIREMENTS):
        return have
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
         "-d", str(cache), *SEED_REQUIREMENTS],
        check=True, capture_output=True, env=isolated_env(),
    )
    return sorted(cache.glob("*.whl"))


def tag_for(python_tag: str, platform: str = "manylinux_2_17_x86_64") -> str:
    """``cp311-cp311-manylinux_2_17_x86_64`` for ``python_tag`` ``cp311``."""
    return f"{python_tag}-{python_tag}-{platform}"


def build_fixture_index(root: Path, seed_cache: Path, work: Path,
                        python_tag: str | None = None) -> FixtureIndex:
    """Build every fixture project into a :class:`StaticIndex` at ``root``.

    The healthy project's extension is compiled for the running interpreter
    (``python_tag`` defaults to its ``cpXY``).
    """
    py = python_tag or f"cp{sys.version_info[0]}{sys.version_info[1]}"
    dl = work / "dists"
    markers = work / "markers"
    markers.mkdir(parents=True, exist_ok=True)
    idx = StaticIndex(root)
    files = [
        build_wheel(dl, "wg-purefallback", "1.0"),
        build_wheel(dl, "wg-purefallback", "1.0", OTHER_CP),
        build_sdist(dl, "wg-purefallback", "1.0", markers / "wg-purefallback.built"),
        build_wheel(dl, "wg-purefallback", "2.0", ANY_LINUX),
        build_wheel(dl, "wg-purefallback", "2.0"),
        build_sdist(dl, "wg-sdistbuild", "1.0", markers / "wg-sdistbuild.built"),
        build_wheel(dl, "wg-sdistbuild", "1.0", OTHER_CP),
        build_wheel(dl, "wg-sdistbuild", "2.0", ANY_LINUX),
        build_wheel(dl, "wg-ignored", "1.0", ANY_LINUX),
        build_wheel(dl, "wg-ignored", "1.0"),
        build_sdist(dl, "wg-ignored", "1.0", markers / "wg-ignored.built"),
        build_extension_wheel(dl, "wg-healthy", "1.0", tag_for(py), work=work / "ext",
                              requires=["wg-puredep"],
                              ext_suffix=str(sysconfig.get_config_var("EXT_SUFFIX"))),
        build_wheel(dl, "wg-puredep", "1.0"),
        build_sdist(dl, "wg-sdistonly", "1.0", markers / "wg-sdistonly.built"),
    ]
    idx.add(files)
    idx.add(seed_wheels(seed_cache))
    return FixtureIndex(idx, markers)


BACKTRACK_MARKERS = "backtrack-markers"
"""The directory (in the served tree) where :func:`build_backtrack_index`'s sdists write
their build markers."""


def build_backtrack_index(work: Path) -> StaticIndex:
    """The projects pip backtracks over, in ``work/tree``.

    ``wg-bt 2.0``: a pure wheel (with a cp37 platform wheel beside it: a pure fallback)
    that needs a project no index has, so pip discards it and backtracks to ``wg-bt 1.0``
    (a pure-only release: ok); ``wg-bt 0.5`` has a wheel for this machine (so 2.0's pure
    wheel is an error). ``wg-parent 1.0`` (pure-only: ok) needs ``wg-bt>=2``.

    The aiohttp 2.3.10 class: ``wg-app 2.0`` needs ``wg-lib<2`` (then a project no index
    has), so pip meets ``wg-lib 1.0``, an sdist beside a cp37 platform wheel (SDIST_BUILD,
    refused in strict mode), while exploring; ``wg-app 1.0`` needs ``wg-lib>=2``, a
    compiled wheel for this machine. Plain pip builds wg-lib 1.0's metadata, then
    backtracks to wg-app 1.0. The sdists' ``setup.py`` write a marker under
    ``tree/`` :data:`BACKTRACK_MARKERS`.
    """
    idx = StaticIndex(work / "tree")
    markers = work / "tree" / BACKTRACK_MARKERS
    markers.mkdir(parents=True, exist_ok=True)
    d = work / "dists"
    idx.add([
        build_wheel(d, "wg-bt", "2.0", requires=["wg-bt-missing>=1"]),
        build_wheel(d, "wg-bt", "2.0", "cp37-cp37m-manylinux1_x86_64"),
        build_wheel(d, "wg-bt", "1.0"),
        build_wheel(d, "wg-bt", "0.5", "py3-none-manylinux_2_17_x86_64"),
        build_wheel(d, "wg-parent", "1.0", requires=["wg-bt>=2"]),
        build_wheel(d, "wg-app", "2.0", requires=["wg-lib<2", "wg-app-missing>=1"]),
        build_wheel(d, "wg-app", "1.0", requires=["wg-lib>=2"]),
        build_sdist(d, "wg-lib", "1.0", marker=markers / "wg-lib-1.0.built"),
        build_wheel(d, "wg-lib", "1.0", "cp37-cp37m-manylinux1_x86_64"),
        build_wheel(d, "wg-lib", "2.0", "py3-none-manylinux_2_17_x86_64"),
    ])
    return idx
