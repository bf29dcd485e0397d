"""``pip-guard --python PATH install``: the guard (this test venv) installs into a fresh venv
with that venv's own pip, and the venv ends up holding exactly what plain
``PATH -m pip install`` puts there (the file trees are compared), nothing of the guard.

Local-index tests run without network; the public-index ones are marked ``network``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from poetry_wheelguard import exitcodes
from tests.support.env import isolated_env, pyenv_python
from tests.support.index import IndexServer
from tests.support.schema import validate_report

GUARD = [sys.executable, "-m", "poetry_wheelguard"]
GUARD_NAMES = ("poetry_wheelguard", "wheelguard", "rich", "pygments", "elftools",
               "markdown_it", "mdurl", "tomli")


def base_python() -> str:
    """The CPython the running venv was made from."""
    return str(getattr(sys, "_base_executable", None) or sys.executable)


def make_venv(path: Path, python: str | None = None, *args: str) -> Path:
    """A fresh venv at ``path`` (its own ensurepip pip); returns its ``bin/python``."""
    subprocess.run([python or base_python(), "-m", "venv", *args, str(path)], check=True,
                   env=isolated_env())
    return path / "bin" / "python"


def tree(root: Path) -> dict[str, str]:
    """Every entry under ``root``: relative path -> sha256 of a file, ``link:`` target of
    a symbolic link, ``dir`` of a directory."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def guard(*args: str, cwd: Path, tmpdir: Path | None = None
          ) -> subprocess.CompletedProcess[str]:
    env = isolated_env({"TMPDIR": str(tmpdir)} if tmpdir else None)
    return subprocess.run([*GUARD, *args], capture_output=True, text=True, cwd=cwd,
                          env=env, check=False)


def plain(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), "-m", "pip", "install", *args], capture_output=True,
                          text=True, cwd=cwd, env=isolated_env(), check=False)


def assert_same_tree_as_plain(guarded: Path, plain_venv: Path) -> None:
    """The two venvs hold the same paths (contents differ only where a venv names its own
    location: scripts' shebangs, activate, pyvenv.cfg), and nothing of the guard."""
    g, p = set(tree(guarded)), set(tree(plain_venv))
    assert g == p, (sorted(g - p), sorted(p - g))
    top = {rel.split("site-packages/", 1)[1].split("/", 1)[0]
           for rel in g if "site-packages/" in rel}  # what is importable or a distribution
    leaked = [entry for entry in top for name in GUARD_NAMES if name in entry.lower()]
    assert leaked == [] and not [entry for entry in top if entry.endswith(".pth")
                                 and entry != "distutils-precedence.pth"]


def report_of(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    validate_report(data)
    return data


def one_line_error(proc: subprocess.CompletedProcess[str], path: str) -> str:
    assert proc.returncode == exitcodes.INPUT_ERROR, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith(f"pip-guard: error: {path}: "), lines
    return lines[0]


# -- local index -------------------------------------------------------------------------

def test_installs_into_another_venv_like_plain_pip(index_server: IndexServer,
                                                   tmp_path: Path) -> None:
    target = make_venv(tmp_path / "target")
    reference = make_venv(tmp_path / "plain")
    report = tmp_path / "r.json"
    proc = guard("--python", str(target), "--mode", "strict", "--report", str(report),
                 "install", "--index-url", index_server.url, "wg-healthy", cwd=tmp_path)
    assert proc.returncode == exitcodes.OK, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    ref = plain(reference, "--index-url", index_server.url, "wg-healthy", cwd=tmp_path)
    assert ref.returncode == 0, ref.stderr
    assert_same_tree_as_plain(tmp_path / "target", tmp_path / "plain")
    data = report_of(report)
    assert {p["name"] for p in data["packages"]} == {"wg-healthy", "wg-puredep"}
    assert data["verification"]["status"] == "ran"  # by the guard's own python
    assert data["pip"]["mode"] == "in-process"
    assert data["target"]["executable"] == str(target)
    imported = subprocess.run([str(target), "-c", "import wg_healthy, sys; "
                               "print(wg_healthy._native.answer()); "
                               "print(any('wheelguard' in p for p in sys.path))"],
                              capture_output=True, text=True, check=True)
    assert imported.stdout.split() == ["42", "False"]


def test_strict_refusal_leaves_the_other_venv_byte_identical(index_server: IndexServer,
                                                             tmp_path: Path) -> None:
    target = make_venv(tmp_path / "target")
    before = tree(tmp_path / "target")
    proc = guard("--python", str(target), "--mode", "strict", "install",
                 "--index-url", index_server.url, "wg-purefallback==1.0", cwd=tmp_path)
    assert proc.returncode == exitcodes.REFUSED, proc.stdout + proc.stderr
    assert "PURE_FALLBACK" in proc.stderr and "Traceback" not in proc.stderr
    assert tree(tmp_path / "target") == before


def test_verify_and_plan_take_the_other_interpreter(tmp_path: Path) -> None:
    target = make_venv(tmp_path / "target")
    report = tmp_path / "v.json"
    proc = guard("--python", str(target), "verify", "--report", str(report), cwd=tmp_path)
    assert proc.returncode == exitcodes.OK, proc.stderr
    names = {p["name"] for p in report_of(report)["packages"]}
    assert "pip" in names and "poetry-wheelguard" not in names  # the target's, not ours


def test_sbom_is_written_by_the_guards_own_process(index_server: IndexServer,
                                                  tmp_path: Path) -> None:
    # the target has no SBOM library: the guard writes the SBOM from the run's report
    target = make_venv(tmp_path / "target")
    sbom = tmp_path / "sbom.json"
    temp = tmp_path / "tmp"
    temp.mkdir()
    proc = guard("--python", str(target), "--sbom", str(sbom), "install",
                 "--index-url", index_server.url, "wg-puredep", cwd=tmp_path, tmpdir=temp)
    assert proc.returncode == exitcodes.OK, proc.stdout + proc.stderr
    comps = {c["name"] for c in json.loads(sbom.read_text())["components"]}
    assert comps == {"wg-puredep"}
    # the temporary report and import root are gone (pip's own temporary files too)
    assert list(temp.iterdir()) == []


def test_plan_plans_for_the_other_interpreter(index_server: IndexServer,
                                             tmp_path: Path) -> None:
    other = pyenv_python("3.12") or pyenv_python("3.13")
    if other is None:
        pytest.skip("no second CPython in pyenv")
    report = tmp_path / "p.json"
    proc = guard("--python", str(other), "plan", "--report", str(report), "--index-url",
                 index_server.url, "wg-puredep==1.0", cwd=tmp_path)
    assert proc.returncode == exitcodes.OK, proc.stdout + proc.stderr
    (target,) = json.loads(report.read_text())["target"]
    assert target["executable"] == str(other)
    assert target["python_version"] != f"{sys.version_info[0]}.{sys.version_info[1]}"


# -- bad input ---------------------------------------------------------------------------

def test_missing_file_and_directory(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope" / "python")
    assert "no such file" in one_line_error(
        guard("--python", missing, "install", "six", cwd=tmp_path), missing)
    assert "is a directory" in one_line_error(
        guard("--python", str(tmp_path), "install", "six", cwd=tmp_path), str(tmp_path))


def test_non_python_executables(tmp_path: Path) -> None:
    for exe in ("/bin/ls", "/bin/true"):
        line = one_line_error(guard("--python", exe, "install", "six", cwd=tmp_path), exe)
        assert "is not a Python interpreter" in line
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    line = one_line_error(guard("--python", str(text), "install", "six", cwd=tmp_path),
                          str(text))
    assert "cannot be run as a Python interpreter" in line


def test_python_2_is_refused(tmp_path: Path) -> None:
    python2 = pyenv_python("2.7")
    if python2 is None:
        pytest.skip("no Python 2.7 in pyenv")
    line = one_line_error(guard("--python", str(python2), "install", "six", cwd=tmp_path),
                          str(python2))
    assert "is Python 2.7" in line and "3.9 or newer" in line


def test_python_without_pip(tmp_path: Path) -> None:
    target = make_venv(tmp_path / "bare", None, "--without-pip")
    before = tree(tmp_path / "bare")
    line = one_line_error(guard("--python", str(target), "install", "six", cwd=tmp_path),
                          str(target))
    assert f"'{target} -m ensurepip --upgrade'" in line
    assert tree(tmp_path / "bare") == before


# -- public index ------------------------------------------------------------------------

@pytest.mark.network
def test_public_index_install_and_refusal_from_another_venv(tmp_path: Path) -> None:
    python311 = base_python() if sys.version_info[:2] == (3, 11) else pyenv_python("3.11")
    if python311 is None:
        pytest.skip("no CPython 3.11")
    target = make_venv(tmp_path / "target", str(python311))
    before = tree(tmp_path / "target")
    refused = guard("--python", str(target), "--mode", "strict", "install",
                    "aiohttp==3.6.2", cwd=tmp_path)
    assert refused.returncode == exitcodes.REFUSED, refused.stdout + refused.stderr
    assert "PURE_FALLBACK" in refused.stderr
    assert tree(tmp_path / "target") == before  # byte-identical

    reference = make_venv(tmp_path / "plain", str(python311))
    reqs = ("markupsafe==2.1.5", "six==1.16.0", "pyyaml==6.0.2")
    proc = guard("--python", str(target), "--mode", "strict", "install", *reqs, cwd=tmp_path)
    assert proc.returncode == exitcodes.OK, proc.stdout + proc.stderr
    assert plain(reference, *reqs, cwd=tmp_path).returncode == 0
    assert_same_tree_as_plain(tmp_path / "target", tmp_path / "plain")


@pytest.mark.network
def test_pip_older_than_any_mode_is_refused(tmp_path: Path) -> None:
    target = make_venv(tmp_path / "old")
    down = subprocess.run([str(target), "-m", "pip", "install", "-q", "pip==21.3.1"],
                          env=isolated_env(), capture_output=True, text=True, check=False)
    assert down.returncode == 0, down.stderr
    line = one_line_error(guard("--python", str(target), "install", "six", cwd=tmp_path),
                          str(target))
    assert "pip 21.3.1" in line and f"'{target} -m pip install --upgrade pip'" in line
