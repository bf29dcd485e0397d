"""The ELF fixtures of tests/elf (built once per machine, cached under tests/.cache)."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest

from tests.elf import build_fixtures


@functools.lru_cache(maxsize=1)
def _build() -> Path:
    return build_fixtures.build()


def elf_fixtures() -> Path:
    """The fixture directory (see tests/elf/build_fixtures.py for its layout).

    Without the toolchains (gcc, musl-gcc, aarch64-linux-gnu-gcc) the test is skipped
    locally; under ``CI=true`` that is a failure, as CI installs them.
    """
    try:
        return _build()
    except RuntimeError as exc:
        import os

        if os.environ.get("CI") == "true":
            raise
        pytest.skip(str(exc).splitlines()[0])


def install_module(src: Path, dest_dir: Path, module: str, suffix: str) -> Path:
    """Copy a fixture ``<x>.so`` to ``dest_dir/<module><suffix>`` and return the new path."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / f"{module}{suffix}"
    shutil.copyfile(src, dest)
    return dest
