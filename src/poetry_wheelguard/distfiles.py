"""Filename -> distribution-file facts, with ``packaging`` doing all the parsing.

Sources: PEP 427 (wheel file names), PEP 425 (compatibility tags), PEP 600 (``manylinux_x_y``
and its legacy aliases), PEP 656 (``musllinux_x_y``), PEP 625 (sdist file names).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, NewType

from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from poetry_wheelguard.errors import WheelguardError

NormalizedName = NewType("NormalizedName", str)
"""A PEP 503 normalized project name (``packaging.utils.canonicalize_name``)."""

DistKind = Literal["wheel", "sdist"]
"""Kind of a distribution file: a wheel (PEP 427) or a source distribution (PEP 625)."""

WheelFlavour = Literal["pure", "abi3", "platform", "sdist"]
"""``pure``: every tag is ``*-none-any``; ``abi3``: a stable-ABI platform wheel;
``platform``: any other platform-specific wheel; ``sdist`` for source distributions."""

LibcFlavour = Literal["glibc", "musl", "unknown"]

# Legacy manylinux aliases, PEP 600 "Legacy manylinux tags": manylinux1 == manylinux_2_5,
# manylinux2010 == manylinux_2_12, manylinux2014 == manylinux_2_17.
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
# PEP 600: manylinux_${GLIBCMAJOR}_${GLIBCMINOR}_${ARCH};
# PEP 656: musllinux_${MUSLMAJOR}_${MUSLMINOR}_${ARCH}
_PERENNIAL = re.compile(
    r"^(?P<kind>manylinux|musllinux)_(?P<major>\d+)_(?P<minor>\d+)_(?P<arch>.+)$"
)
_LEGACY = re.compile(r"^(?P<kind>manylinux1|manylinux2010|manylinux2014)_(?P<arch>.+)$")


@dataclass(frozen=True)
class PlatformInfo:
    """What a wheel platform tag says about the system that can load it.

    Attributes:
        os: ``linux``, ``macos``, ``windows``, ``any`` or the raw tag's OS part.
        machine: ``x86_64``, ``aarch64``, ... (``any`` for pure tags).
        libc: ``glibc`` for manylinux, ``musl`` for musllinux, ``unknown`` for
            ``linux_<arch>`` (built on a machine, no libc promise) and non-Linux tags.
        libc_version: the minimum ``(major, minor)`` libc version, when the tag has one.
    """

    os: str
    machine: str
    libc: LibcFlavour
    libc_version: tuple[int, int] | None


def platform_info(platform: str) -> PlatformInfo:
    """Classify one platform tag (the third part of a PEP 425 tag).

    ``manylinux1_x86_64`` -> linux/x86_64/glibc 2.5 (PEP 600 legacy alias);
    ``musllinux_1_2_aarch64`` -> linux/aarch64/musl 1.2 (PEP 656);
    ``macosx_11_0_arm64`` -> macos/arm64; ``win_amd64`` -> windows/amd64; ``any`` -> any.
    """
    if platform == "any":
        return PlatformInfo("any", "any", "unknown", None)
    m = _PERENNIAL.match(platform)
    if m:
        libc: LibcFlavour = "glibc" if m["kind"] == "manylinux" else "musl"
        return PlatformInfo("linux", m["arch"], libc, (int(m["major"]), int(m["minor"])))
    m = _LEGACY.match(platform)
    if m:
        return PlatformInfo("linux", m["arch"], "glibc", _LEGACY_MANYLINUX[m["kind"]])
    if platform.startswith("linux_"):
        return PlatformInfo("linux", platform[len("linux_") :], "unknown", None)
    if platform.startswith("macosx_"):
        return PlatformInfo("macos", platform.rsplit("_", 1)[-1], "unknown", None)
    if platform.startswith("win"):
        return PlatformInfo("windows", platform.split("_", 1)[-1] if "_" in platform else "x86",
                            "unknown", None)
    return PlatformInfo(platform.split("_", 1)[0], platform.rsplit("_", 1)[-1], "unknown", None)


@dataclass(frozen=True)
class DistFile:
    """Facts about one distribution file, from its name alone.

    Attributes:
        filename: the file name as given.
        name: PEP 503 normalized project name.
        version: the parsed version.
        kind: ``wheel`` or ``sdist``.
        tags: the wheel's expanded PEP 425 tags (empty for an sdist).
        flavour: ``pure``, ``abi3``, ``platform`` or ``sdist``.
        platforms: :class:`PlatformInfo` of every distinct platform tag.
    """

    filename: str
    name: NormalizedName
    version: Version
    kind: DistKind
    tags: frozenset[Tag]
    flavour: WheelFlavour
    platforms: tuple[PlatformInfo, ...]

    @property
    def pure(self) -> bool:
        """True for a wheel whose every tag is ``*-none-any`` (PEP 425)."""
        return self.flavour == "pure"

    @property
    def tag_strings(self) -> tuple[str, ...]:
        """Sorted ``interpreter-abi-platform`` strings of the wheel's tags."""
        return tuple(sorted(str(t) for t in self.tags))

    def matches_machine(self, os_name: str, machine: str) -> bool:
        """True if some platform tag is for ``os_name`` and ``machine`` (any libc)."""
        return any(p.os == os_name and p.machine == machine for p in self.platforms)

    def compatible_with(self, supported: Iterable[Tag]) -> bool:
        """True if any of the wheel's tags is in ``supported`` (an sdist never is)."""
        return self.kind == "wheel" and not self.tags.isdisjoint(supported)


_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar")


@lru_cache(maxsize=65536)
def classify(filename: str) -> DistFile:
    """Parse ``filename`` into a :class:`DistFile` (memoized: a :class:`DistFile` is frozen,
    and plans classify the same lock or index files for every target).

    Wheels are parsed by ``packaging.utils.parse_wheel_filename`` (PEP 427), sdists by
    ``parse_sdist_filename`` (PEP 625 ``.tar.gz``/``.zip``; legacy ``.tar.bz2``/``.tgz``
    archives are normalized to ``.tar.gz`` for parsing only).

    Raises:
        WheelguardError: the name is not a valid wheel or sdist file name (the message
            names the file).
    """
    base = filename.rsplit("/", 1)[-1]
    try:
        if base.endswith(".whl"):
            name, version, _build, tags = parse_wheel_filename(base)
            tags = frozenset(tags)
            if all(t.abi == "none" and t.platform == "any" for t in tags):
                flavour: WheelFlavour = "pure"
            elif any(t.abi == "abi3" for t in tags):
                flavour = "abi3"
            else:
                flavour = "platform"
            platforms = tuple(
                sorted({platform_info(t.platform) for t in tags if t.platform != "any"},
                       key=lambda p: (p.os, p.machine, p.libc, p.libc_version or (0, 0)))
            )
            return DistFile(base, NormalizedName(name), version, "wheel", tags, flavour, platforms)
        for suffix in _SDIST_SUFFIXES:
            if base.endswith(suffix):
                probe = base[: -len(suffix)] + ".tar.gz"
                name, version = parse_sdist_filename(probe)
                return DistFile(base, NormalizedName(name), version, "sdist", frozenset(),
                                "sdist", ())
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion) as exc:
        raise WheelguardError(f"not a valid distribution file name ({exc})",
                              filename=base) from exc
    raise WheelguardError("not a wheel (.whl) or sdist (.tar.gz, .zip) file name", filename=base)


def try_classify(filename: str) -> DistFile | None:
    """Like :func:`classify` but ``None`` for names that are not distribution files
    (``.egg``, ``.exe`` installers, malformed names listed by an index)."""
    try:
        return classify(filename)
    except WheelguardError:
        return None


def normalize(name: str) -> NormalizedName:
    """PEP 503 normalized form of a project name (``packaging.utils.canonicalize_name``)."""
    return NormalizedName(canonicalize_name(name))
