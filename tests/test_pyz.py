"""``pip-guard.pyz`` (scripts/build_pyz.py) end to end: built from this checkout, run with a
fresh venv's python and with a second CPython from pyenv, installing from the local index.

Each run is compared with plain pip into a twin venv made the same way: the environment's
file tree (paths, and the bytes of every file that is not bytecode) must be the same, so
nothing of the guard (its distributions, a ``.pth``, extracted files) lands in it. The
twin-venv comparison is the "no trace" check of issue 12; ``rm pip-guard.pyz`` then leaves
nothing, because nothing outside the archive was written.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from poetry_wheelguard import exitcodes
from tests.support.env import isolated_env, pyenv_python
from tests.support.index import IndexServer

REPO = Path(__file__).resolve().parents[1]
BUILDER = REPO / "scripts" / "build_pyz.py"
GUARD_MODULES = ("poetry_wheelguard", "rich", "pygments", "markdown_it", "mdurl", "packaging",
                 "elftools")
GUARD_NAMES = ("wheelguard", "rich", "pygments", "markdown_it", "mdurl", "elftools",
               "pyelftools")


def build(output: Path, *args: str) -> Path:
    proc = subprocess.run([sys.executable, str(BUILDER), "-o", str(output), *args],
                          capture_output=True, text=True, env=isolated_env(), timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return output


@pytest.fixture(scope="module")
def pyz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The archive with the dependencies installed for the running interpreter (offline)."""
    return build(tmp_path_factory.mktemp("pyz") / "pip-guard.pyz", "--from-env")


def make_venv(python: Path | str, path: Path) -> Path:
    subprocess.run([str(python), "-m", "venv", str(path)], check=True, env=isolated_env(),
                   timeout=300)
    return path / "bin" / "python"


def tree(venv: Path) -> dict[str, str]:
    """Every path under ``venv`` -> sha256 of its bytes (``"dir"`` for a directory,
    ``"pyc"`` for bytecode, whose bytes hold source mtimes)."""
    out = {}
    for p in sorted(venv.rglob("*")):
        rel = str(p.relative_to(venv))
        if p.is_dir():
            out[rel] = "dir"
        elif p.suffix == ".pyc":
            out[rel] = "pyc"
        elif p.name == "RECORD":  # console scripts' hashes cover the venv's own path
            out[rel] = "\n".join(line.split(",")[0] for line in p.read_text().splitlines())
        else:
            data = p.read_bytes().replace(str(venv).encode(), b"VENV")
            out[rel] = hashlib.sha256(data).hexdigest()
    return out


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, env=isolated_env(), cwd=cwd,
                          timeout=600, stdin=subprocess.DEVNULL)


def assert_like_plain_pip(python: Path | str, pyz: Path, index: IndexServer, tmp: Path,
                          package: str) -> dict[str, object]:
    """Install ``package`` through the archive and through plain pip into twin venvs (same
    name, made one after the other); assert the same file tree; return the guard's report."""
    (tmp / "guarded").mkdir()
    (tmp / "plain").mkdir()
    guarded_py = make_venv(python, tmp / "guarded" / "env")
    report = tmp / "report.json"
    proc = run([str(guarded_py), str(pyz), "--report", str(report), "install",
                "--index-url", index.url, package], tmp)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    plain_py = make_venv(python, tmp / "plain" / "env")
    proc = run([str(plain_py), "-m", "pip", "install", "--index-url", index.url, package], tmp)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    guarded, plain = tree(tmp / "guarded" / "env"), tree(tmp / "plain" / "env")
    assert guarded == plain
    site_entries = [p for p in guarded if p.count("/") == 3 and "/site-packages/" in p]
    assert not [p for p in site_entries if any(n in p.lower() for n in GUARD_NAMES)]
    data: dict[str, object] = json.loads(report.read_text())
    return data


def assert_imports_from_archive(python: Path | str, pyz: Path, tmp: Path) -> None:
    """With the archive first on ``sys.path`` (as ``python pip-guard.pyz`` puts it), every
    module of the guard and its dependencies comes from inside the archive."""
    script = ("import importlib, json, sys; sys.path.insert(0, sys.argv[1]); "
              "print(json.dumps({m: importlib.import_module(m).__file__ "
              f"for m in {list(GUARD_MODULES)!r}}}))")
    proc = run([str(python), "-c", script, str(pyz)], tmp)
    assert proc.returncode == 0, proc.stderr
    files = json.loads(proc.stdout)
    assert all(f.startswith(str(pyz) + "/") for f in files.values()), files
    # pip, with the archive on sys.path, sees exactly the distributions plain pip sees
    # (a .dist-info in the archive would make it skip "already satisfied" packages)
    pip_list = ("import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); "
                "sys.argv = ['pip', 'list', '--format=json']; "
                "runpy.run_module('pip', run_name='__main__')")
    seen = run([str(python), "-c", pip_list, str(pyz)], tmp)
    plain = run([str(python), "-m", "pip", "list", "--format=json"], tmp)
    assert seen.returncode == plain.returncode == 0, seen.stderr + plain.stderr
    assert json.loads(seen.stdout) == json.loads(plain.stdout)
    assert seen.stderr == plain.stderr


def test_pyz_in_a_fresh_venv_installs_and_verifies_like_plain_pip(
        pyz: Path, index_server: IndexServer, tmp_path: Path) -> None:
    # wg-healthy's compiled extension is built for the running CPython: the post-install
    # verify runs in a child started from the archive (selfcmd.guard_command)
    data = assert_like_plain_pip(sys.executable, pyz, index_server, tmp_path, "wg-healthy")
    assert {k: data["verification"][k] for k in ("status", "exit_code")} == \
        {"status": "ran", "exit_code": 0}
    packages = {p["name"]: p["verdict"] for p in data["packages"]}  # type: ignore[attr-defined]
    assert packages == {"wg-healthy": "ok", "wg-puredep": "ok"}
    assert_imports_from_archive(sys.executable, pyz, tmp_path)


def second_python(minimum: tuple[int, int]) -> Path:
    """A pyenv CPython of another minor version than the running one, at least ``minimum``."""
    running = f"{sys.version_info[0]}.{sys.version_info[1]}."
    for minor in ("3.12.", "3.13.", "3.10.", "3.9."):
        if minor == running or tuple(map(int, minor.split(".")[:2])) < minimum:
            continue
        found = pyenv_python(minor)
        if found is not None:
            return found
    pytest.skip(f"no second CPython >= {minimum} in pyenv")


def test_pyz_with_a_second_cpython_refuses_and_leaves_no_trace(
        pyz: Path, index_server: IndexServer, tmp_path: Path) -> None:
    # --from-env bundles this venv's packaging/pyelftools, which need 3.10+
    python = second_python((3, 10))
    venv_py = make_venv(python, tmp_path / "env")
    before = tree(tmp_path / "env")
    proc = run([str(venv_py), str(pyz), "--mode", "strict", "install", "--index-url",
                index_server.url, "wg-purefallback==1.0"], tmp_path)
    assert proc.returncode == exitcodes.REFUSED, proc.stdout + proc.stderr
    assert "PURE_FALLBACK" in proc.stderr and "Traceback" not in proc.stderr
    assert tree(tmp_path / "env") == before
    (tmp_path / "second").mkdir()
    data = assert_like_plain_pip(python, pyz, index_server, tmp_path / "second", "wg-puredep")
    assert [p["name"] for p in data["packages"]] == ["wg-puredep"]  # type: ignore[attr-defined]
    assert_imports_from_archive(venv_py, pyz, tmp_path)


@pytest.mark.network
def test_pinned_pyz_runs_on_cpython_3_9(index_server: IndexServer, tmp_path: Path) -> None:
    """The published way: the pins of scripts/pyz-requirements.txt from the public index,
    so the one archive runs on CPython 3.9 too."""
    python = pyenv_python("3.9.")
    if python is None:
        pytest.skip("no CPython 3.9 in pyenv")
    if importlib.util.find_spec("pip") is None:
        pytest.skip("the builder downloads the pins with this interpreter's pip")
    pyz = build(tmp_path / "pip-guard.pyz")
    (tmp_path / "run").mkdir()
    data = assert_like_plain_pip(python, pyz, index_server, tmp_path / "run", "wg-puredep")
    assert [p["name"] for p in data["packages"]] == ["wg-puredep"]  # type: ignore[attr-defined]
    assert_imports_from_archive(python, pyz, tmp_path)
