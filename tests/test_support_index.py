"""The local fixture index serves what pip sees as a real index."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.env import isolated_env
from tests.support.index import IndexServer
from tests.support.projects import FixtureIndex


def test_pip_downloads_healthy_wheel_from_local_index(
    index_server: IndexServer, fixture_index: FixtureIndex, tmp_path: Path
) -> None:
    seen_before = len(index_server.file_requests())  # the server is shared by the session
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(tmp_path),
         "--index-url", index_server.url, "wg-healthy==1.0"],
        capture_output=True, text=True, env=isolated_env(),
    )
    assert proc.returncode == 0, proc.stderr
    got = [p.name for p in tmp_path.iterdir()]
    assert len(got) == 1 and got[0].startswith("wg_healthy-1.0-cp3") and "manylinux" in got[0]
    assert index_server.file_requests()[seen_before:] == [f"/files/{got[0]}"]


def test_auth_index_rejects_anonymous(auth_index_server: IndexServer, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(tmp_path),
         "--index-url", auth_index_server.bare_url, "wg-puredep"],
        capture_output=True, text=True, env=isolated_env(),
    )
    assert proc.returncode != 0
    ok = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(tmp_path),
         "--index-url", auth_index_server.url, "wg-puredep"],
        capture_output=True, text=True, env=isolated_env(),
    )
    assert ok.returncode == 0, ok.stderr


def test_sdist_build_writes_marker(
    index_server: IndexServer, fixture_index: FixtureIndex, tmp_path: Path
) -> None:
    """Control for every "no build code ran" assertion: a real build writes the marker."""
    marker = fixture_index.marker("wg-sdistonly")
    assert not marker.exists()
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path),
         "--index-url", index_server.url, "wg-sdistonly==1.0"],
        capture_output=True, text=True, env=isolated_env(),
    )
    assert proc.returncode == 0, proc.stderr
    assert marker.exists()
    assert any(p.name.startswith("wg_sdistonly-1.0-py3-none-any") for p in tmp_path.iterdir())


def test_healthy_extension_really_imports(
    index_server: IndexServer, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--target", str(target),
         "--index-url", index_server.url, "wg-healthy==1.0"],
        capture_output=True, text=True, env=isolated_env(),
    )
    assert proc.returncode == 0, proc.stderr
    out = subprocess.run(
        [sys.executable, "-c", "import wg_healthy; print(wg_healthy._native.answer())"],
        capture_output=True, text=True, env=isolated_env({"PYTHONPATH": str(target)}),
    )
    assert out.stdout.strip() == "42", out.stderr
