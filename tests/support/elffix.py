"""The ELF fixtures of tests/elf (built once per machine, cached under tests/.cache)."""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

from tests.elf import build_fixtures


@functools.lru_cache(maxsize=1)
def _build() -> Path:
    return build_fixtures.build()


def toolchain_missing(what: str) -> NoReturn:
    """A tool an ELF test needs is missing: skip locally, fail under ``CI=true`` (or
    ``CI=1``), as CI installs every toolchain."""
    if os.environ.get("CI", "").lower() in {"true", "1"}:
        pytest.fail(f"toolchain required under CI=true: {what}", pytrace=False)
    pytest.skip(what)


def elf_fixtures() -> Path:
    """The fixture directory (see tests/elf/build_fixtures.py for its layout).

    Without the toolchains (gcc, musl-gcc, aarch64-linux-gnu-gcc) the test is skipped
    locally; under ``CI=true`` that is a failure (:func:`toolchain_missing`).
    """
    try:
        return _build()
    except RuntimeError as exc:
        toolchain_missing(str(exc).splitlines()[0])


def install_module(src: Path, dest_dir: Path, module: str, suffix: str) -> Path:
    """Copy a fixture ``<x>.so`` to ``dest_dir/<module><suffix>`` and return the new path."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / f"{module}{suffix}"
    shutil.copyfile(src, dest)
    return dest


def make_dist(site: Path, name: str, files: dict[str, Path | bytes], *,
              version: str = "1.0", tags: tuple[str, ...] = (), installer: str = "pip",
              direct_url: dict[str, object] | None = None) -> Path:
    """Write an installed distribution into ``site`` as an installer would: the files,
    then ``<name>-<version>.dist-info`` with METADATA, WHEEL (one ``Tag:`` per tag,
    ``Root-Is-Purelib`` true only for pure tags), INSTALLER, optional direct_url.json and a
    RECORD listing everything. ``files`` maps site-relative paths to a file to copy or
    bytes. Returns the dist-info directory."""
    import json

    site.mkdir(parents=True, exist_ok=True)
    written = []
    for rel, content in files.items():
        dest = site / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            dest.write_bytes(content)
        else:
            shutil.copyfile(content, dest)
        written.append(rel)
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    tags = tags or ("cp311-cp311-manylinux_2_17_x86_64",)
    pure = all(t.endswith("-none-any") for t in tags)
    (info / "WHEEL").write_text(
        "Wheel-Version: 1.0\nGenerator: wheelguard-tests (1.0)\n"
        f"Root-Is-Purelib: {'true' if pure else 'false'}\n"
        + "".join(f"Tag: {t}\n" for t in tags))
    (info / "INSTALLER").write_text(installer + "\n")
    meta = ["METADATA", "WHEEL", "INSTALLER"]
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url))
        meta.append("direct_url.json")
    rows = [*written, *(f"{info.name}/{m}" for m in meta), f"{info.name}/RECORD"]
    (info / "RECORD").write_text("".join(f"{r},,\n" for r in rows))
    return info
