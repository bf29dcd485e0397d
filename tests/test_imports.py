"""Every module of the package imports alone, in a fresh interpreter (an import cycle or a
module that needs another one imported first fails here), and no core module (outside
``pip/`` and ``poetry/``) brings pip, Poetry or cleo with it."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "poetry_wheelguard"
INSTALLERS = ("pip", "poetry", "cleo")
# The adapters' sub-packages and the distribution of the installer each one needs (a
# distribution, not an import name: poetry-core alone makes `poetry` importable).
ADAPTERS = {"pip": "pip", "poetry": "poetry"}

# Run with `python -c` in a fresh process: import the module, then print the installer
# modules it left in sys.modules.
PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {installers!r})))
"""


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def _module_names() -> list[str]:
    """Every module of the package, dotted, in path order; ``__main__`` (running it runs
    the command line) and the modules of an adapter whose installer is missing are left
    out."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__main__":
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        adapter = ADAPTERS.get(parts[1]) if len(parts) > 1 else None
        if adapter is not None and not _installed(adapter):
            continue
        names.append(".".join(parts))
    return names


MODULES = _module_names()
CORE = [m for m in MODULES if m.split(".")[1:2] not in (["pip"], ["poetry"])]


@cache
def _import_alone(module: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE.format(installers=set(INSTALLERS)), module],
        capture_output=True, text=True, check=False, timeout=120, cwd=PACKAGE.parent)


def test_the_walk_finds_the_package() -> None:
    assert {"poetry_wheelguard", "poetry_wheelguard.cli", "poetry_wheelguard.cli.plan",
            "poetry_wheelguard.planning", "poetry_wheelguard.locks",
            "poetry_wheelguard.locks.model", "poetry_wheelguard.locks.poetry",
            "poetry_wheelguard.markers", "poetry_wheelguard.choosers",
            "poetry_wheelguard.requirements", "poetry_wheelguard.resolve"} <= set(CORE)
    assert "poetry_wheelguard.__main__" not in MODULES
    assert not (PACKAGE / "plan.py").exists()


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_alone(module: str) -> None:
    proc = _import_alone(module)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_no_installer(module: str) -> None:
    proc = _import_alone(module)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [], f"{module} imports {proc.stdout.strip()}"
