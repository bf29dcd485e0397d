"""uv's tag order and file choice, uv.lock / pylock.toml reading and bad input (no uv run)."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from packaging.tags import Tag

from poetry_wheelguard.choosers import choose_like_uv, uv_tags
from poetry_wheelguard.cli import main
from poetry_wheelguard.errors import WheelguardError
from poetry_wheelguard.locks import installs_for, lock_format, read_lock
from poetry_wheelguard.locks.pylock import read_pylock
from poetry_wheelguard.locks.uv import read_uv_lock
from poetry_wheelguard.models import Candidate
from poetry_wheelguard.targets import make_target
from poetry_wheelguard.uv.cli import check_uv, sync_environment, sync_selection

GLIBC = make_target(python_version=(3, 11), machine="x86_64", libc="glibc",
                    libc_version=(2, 36), name="glibc")
MUSL = make_target(python_version=(3, 11), machine="x86_64", libc="musl",
                   libc_version=(1, 2), name="musl")


def files(*names: str) -> list[Candidate]:
    return [Candidate(filename=n) for n in names]


def test_uv_tag_order_follows_uv_tags_rs() -> None:
    tags = uv_tags(GLIBC)
    pos = {t: i for i, t in enumerate(tags)}
    assert tags[0] == Tag("cp311", "cp311", "manylinux_2_36_x86_64")
    # exact ABI on every platform, then abi3, then cp311-none, then py3X-none, any last
    assert pos[Tag("cp311", "cp311", "linux_x86_64")] < pos[Tag("cp311", "abi3",
                                                                 "manylinux_2_36_x86_64")]
    assert pos[Tag("cp38", "abi3", "manylinux1_x86_64")] < pos[Tag("py3", "none",
                                                                    "manylinux_2_17_x86_64")]
    assert tags[-1] == Tag("py30", "none", "any")
    assert pos[Tag("cp311", "none", "any")] < pos[Tag("py3", "none", "any")]
    # glibc: linux_<arch> after every manylinux tag (lowest priority, unlike packaging)
    platforms = [t.platform for t in tags if t.interpreter == "cp311" and t.abi == "cp311"]
    assert platforms[-1] == "linux_x86_64" and "manylinux2014_x86_64" in platforms


def test_uv_tags_on_musl_never_manylinux() -> None:
    platforms = {t.platform for t in uv_tags(MUSL)}
    assert not any(p.startswith("manylinux") for p in platforms)
    assert {"musllinux_1_2_x86_64", "musllinux_1_0_x86_64", "linux_x86_64"} <= platforms


def test_choose_like_uv() -> None:
    release = files("x-1.0-py3-none-any.whl", "x-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
                    "x-1.0-cp39-abi3-musllinux_1_1_x86_64.whl", "x-1.0.tar.gz")
    assert choose_like_uv(release, GLIBC) == release[1]
    assert choose_like_uv(release, MUSL) == release[2]
    # no wheel fits: the sdist (uv's to_dist falls back to it); nothing at all: None
    only = files("x-1.0-cp37-cp37m-manylinux1_x86_64.whl", "x-1.0.tar.gz")
    assert choose_like_uv(only, GLIBC) == only[1]
    assert choose_like_uv(only[:1], GLIBC) is None
    # tag priority first, the build tag only between equal priorities
    built = files("x-1.0-1-py3-none-any.whl", "x-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
                  "x-1.0-2-cp311-cp311-manylinux_2_17_x86_64.whl")
    assert choose_like_uv(built, GLIBC) == built[2]


UV_LOCK = '''version = 1
revision = 3
requires-python = ">=3.11"

[[package]]
name = "demo"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "a" },
    { name = "b", marker = "sys_platform == 'win32'" },
]

[package.optional-dependencies]
fast = [{ name = "c", extra = ["speed"] }]

[package.dev-dependencies]
dev = [{ name = "d" }]

[[package]]
name = "a"
version = "1.0"
source = { registry = "https://example.invalid/simple" }
sdist = { url = "https://example.invalid/a-1.0.tar.gz", hash = "sha256:aa", size = 1 }
wheels = [{ url = "https://example.invalid/a-1.0-py3-none-any.whl", hash = "sha256:ab" }]

[[package]]
name = "b"
version = "1.0"
source = { registry = "https://example.invalid/simple" }
wheels = [{ url = "https://example.invalid/b-1.0-py3-none-any.whl", hash = "sha256:bb" }]

[[package]]
name = "c"
version = "1.0"
source = { registry = "https://example.invalid/simple" }
sdist = { url = "https://example.invalid/c-1.0.tar.gz", hash = "sha256:cc" }

[package.optional-dependencies]
speed = [{ name = "e" }]

[[package]]
name = "d"
version = "1.0"
source = { registry = "https://example.invalid/simple" }
wheels = [{ url = "https://example.invalid/d-1.0-cp37-cp37m-manylinux1_x86_64.whl" }]

[[package]]
name = "e"
version = "1.0"
source = { editable = "../e" }
'''


def guard_lines(err: str) -> list[str]:
    """The guard's own stderr lines (pip's in-process tests may leave logging handlers
    that print elsewhere in the same session)."""
    return [ln for ln in err.strip().splitlines() if ln.startswith("pip-guard:")]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_uv_lock_walk_markers_extras_groups(tmp_path: Path) -> None:
    lock = read_lock(write(tmp_path, "uv.lock", UV_LOCK))
    assert (lock.format, lock.lock_version) == ("uv.lock", "1 revision 3")
    assert lock.declared_groups == {"main", "dev"} and set(lock.extras) == {"fast"}
    names = [p.name for p, _ in installs_for(lock, GLIBC, groups=["main"])]
    assert names == ["a"]  # b's marker is win32; the virtual root is not installed
    chosen = {p.name: (p, c) for p, c in installs_for(lock, GLIBC, extras=["fast"])}
    assert set(chosen) == {"a", "c", "d", "e"}  # all groups by default; c[speed] -> e
    assert chosen["a"][1] and chosen["a"][1].filename == "a-1.0-py3-none-any.whl"
    assert chosen["c"][1] and chosen["c"][1].filename == "c-1.0.tar.gz"
    assert chosen["d"][1] is None  # no wheel for cp311 and no sdist
    assert chosen["e"][0].first_party and chosen["e"][1] is not None
    assert [p.name for p, _ in installs_for(lock, GLIBC, groups=["dev"])] == ["d"]


@pytest.mark.parametrize(("text", "expect"), [
    ("version = 2\n", "uv.lock version 2 revision 0 is not understood (version 1, "
                      "revisions 1-5 are)"),
    ("version = 1\nrevision = 9\n", "revision 9 is not understood"),
    (UV_LOCK[: len(UV_LOCK) // 2], "not valid TOML, corrupt or truncated"),
])
def test_uv_lock_bad_input_is_one_line(tmp_path: Path, text: str, expect: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "uv.lock", text)
    with pytest.raises(WheelguardError, match=r"uv\.lock"):
        read_uv_lock(path)
    assert main(["plan", "--lock", str(path), "--offline"]) == 12
    err = guard_lines(capsys.readouterr().err)
    assert len(err) == 1 and expect in err[0] and str(path) in err[0]


def test_pylock_newer_version_is_one_line(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "pylock.dev.toml", 'lock-version = "2.0"\ncreated-by = "x"\n'
                 "packages = []\n")
    assert main(["plan", "--lock", str(path), "--offline"]) == 12
    err = guard_lines(capsys.readouterr().err)
    assert err == [f"pip-guard: error: {path}: pylock.toml lock-version 2.0 is not "
                   "understood (1.x is, PEP 751)"]


def test_lock_format_by_name_and_content(tmp_path: Path) -> None:
    assert lock_format("x/uv.lock") == "uv.lock"
    assert lock_format("pylock.toml") == "pylock.toml"
    assert lock_format("pylock.web.toml") == "pylock.toml"
    assert lock_format("poetry.lock", UV_LOCK) == "poetry.lock"
    assert lock_format("renamed.lock", UV_LOCK) == "uv.lock"
    assert lock_format("renamed.toml", 'lock-version = "1.0"\n[[packages]]\n') == "pylock.toml"
    poetry = "[[package]]\n[metadata]\nlock-version = '2.1'\n"
    assert lock_format("renamed.lock", poetry) == "poetry.lock"
    # read_lock reads a renamed uv.lock by its content
    assert read_lock(write(tmp_path, "renamed.lock", UV_LOCK)).format == "uv.lock"


PIP_LOCK_ONE_FILE = '''lock-version = "1.0"
created-by = "pip"

[[packages]]
name = "orjson"
version = "3.10.0"

[[packages.wheels]]
name = "orjson-3.10.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
url = "https://example.invalid/orjson-3.10.0-cp311-cp311-manylinux_2_17_x86_64.whl"
[packages.wheels.hashes]
sha256 = "aa"
'''


def test_one_file_lock_for_another_target_says_so(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "pylock.toml", PIP_LOCK_ONE_FILE)
    lock = read_pylock(path)
    assert (lock.format, lock.created_by) == ("pylock.toml", "pip")
    code = main(["plan", "--lock", str(path), "--offline", "--target", "python:3.11-alpine"])
    out = capsys.readouterr().out
    assert code == 0
    assert "LOCK_OTHER_TARGET" in out and "NO_DISTRIBUTION" not in out
    assert "orjson 3.10.0: the lock holds orjson-3.10.0-cp311-cp311-manylinux_2_17" in out
    assert "give --index-url URL" in out


def runner_for(version: str) -> object:
    def run(cmd: Sequence[str], env: Mapping[str, str] | None, cwd: str | None
            ) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(list(cmd), 0, f"uv {version} (abc 2025-01-01)\n", "")
    return run


def test_uv_missing_or_too_old() -> None:
    with pytest.raises(WheelguardError, match=r"uv is not installed: install uv 0\.8\.4"):
        check_uv(None)
    with pytest.raises(WheelguardError, match=r"uv 0.8.3 \(/x/uv\) is too old.*0.8.4"):
        check_uv("/x/uv", runner_for("0.8.3"))  # type: ignore[arg-type]
    assert check_uv("/x/uv", runner_for("0.13.9")) == "0.13.9"  # type: ignore[arg-type]


def test_missing_uv_exits_12(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no uv there; the uv package is not installed
    monkeypatch.chdir(tmp_path)
    assert main(["--mode", "strict", "uv", "sync"]) == 12
    err = guard_lines(capsys.readouterr().err)
    assert len(err) == 1 and "uv is not installed" in err[0]


def test_sync_environment_and_selection(tmp_path: Path) -> None:
    assert sync_environment(tmp_path, [], {}) == tmp_path / ".venv"
    assert sync_environment(tmp_path, [], {"UV_PROJECT_ENVIRONMENT": "env"}) == tmp_path / "env"
    assert sync_environment(tmp_path, ["--active"], {"VIRTUAL_ENV": "/v"}) == Path("/v")
    assert sync_environment(tmp_path, [], {"VIRTUAL_ENV": "/v"}) == tmp_path / ".venv"
    groups = frozenset({"dev", "docs"})
    assert sync_selection([], groups, frozenset()) == ([], ["main", "dev"])
    assert sync_selection(["--no-dev"], groups, frozenset()) == ([], ["main"])
    assert sync_selection(["--all-groups"], groups,
                          frozenset({"x"})) == ([], ["main", "dev", "docs"])
    assert sync_selection(["--group=docs", "--all-extras"], groups,
                          frozenset({"x"})) == (["x"], ["main", "dev", "docs"])


WORKSPACE_LOCK = '''version = 1
revision = 3
requires-python = ">=3.11"

[manifest]
members = ["alpha", "beta"]

[[package]]
name = "alpha"
version = "0.1.0"
source = { editable = "packages/alpha" }
dependencies = [{ name = "a" }]

[package.dev-dependencies]
dev = [{ name = "d" }]

[[package]]
name = "beta"
version = "0.1.0"
source = { editable = "packages/beta" }
dependencies = [{ name = "b" }]

[package.optional-dependencies]
fast = [{ name = "c" }]
''' + "".join(f'''
[[package]]
name = "{n}"
version = "1.0"
source = {{ registry = "https://example.invalid/simple" }}
wheels = [{{ url = "https://example.invalid/{n}-1.0-py3-none-any.whl", hash = "sha256:0{n}" }}]
''' for n in "abcd")


def test_uv_sync_package_judges_that_member(tmp_path: Path) -> None:
    from poetry_wheelguard.errors import ConfigError
    from poetry_wheelguard.locks.uv import member_lock

    lock = read_lock(write(tmp_path, "uv.lock", WORKSPACE_LOCK))

    def names(lk: object, **kw: list[str]) -> set[str]:
        return {p.name for p, _ in installs_for(lk, GLIBC, **kw)}  # type: ignore[arg-type]

    assert names(lock) == {"alpha", "beta", "a", "b", "d"}  # every member, every group
    assert names(member_lock(lock, "beta")) == {"beta", "b", "d"}
    assert names(member_lock(lock, "Beta", ["fast"]), extras=["fast"]) == {"beta", "b", "c",
                                                                          "d"}
    assert names(member_lock(lock, "beta"), groups=["main"]) == {"beta", "b"}
    with pytest.raises(ConfigError, match=r"--package gamma: not a package of the "
                                          r"workspace \(its packages: alpha, beta\)"):
        member_lock(lock, "gamma")
