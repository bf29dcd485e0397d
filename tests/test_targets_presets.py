"""Target presets and the --target/--platform/--libc options.

The glibc presets are checked against ``packaging.tags.sys_tags()`` run inside the real
pyenv CPython interpreters of this machine (Debian 12: glibc 2.36, x86_64, which is what
``python:3.X-slim`` is), with our ``packaging`` on their path.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import packaging
import pytest

from poetry_wheelguard.errors import ConfigError
from poetry_wheelguard.target_options import (
    add_target_options,
    load_presets,
    preset_names,
    preset_target,
    targets_from_options,
)
from poetry_wheelguard.targets import make_target
from tests.support.env import isolated_env, pyenv_python

SYS_TAGS = "import json; from packaging.tags import sys_tags; " \
           "print(json.dumps([str(t) for t in sys_tags()]))"


def _this_machine_is_slim() -> bool:
    glibc = os.confstr("CS_GNU_LIBC_VERSION") if hasattr(os, "confstr") else ""
    return glibc == "glibc 2.36" and platform.machine() == "x86_64"


@pytest.fixture(scope="module")
def packaging_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding only our ``packaging`` (a symlink), for the other interpreters."""
    root = tmp_path_factory.mktemp("packaging-only")
    (root / "packaging").symlink_to(Path(packaging.__file__).parent)
    return root


@pytest.mark.parametrize("minor", [9, 10, 11, 12, 13])
def test_slim_preset_equals_sys_tags_of_real_interpreter(minor: int,
                                                         packaging_path: Path) -> None:
    if not _this_machine_is_slim():
        pytest.skip("needs a glibc 2.36 x86_64 machine (Debian 12, as python:3.X-slim)")
    python = pyenv_python(f"3.{minor}.")
    if python is None:
        pytest.skip(f"no pyenv CPython 3.{minor}")
    proc = subprocess.run([str(python), "-I", "-c",
                           f"import sys; sys.path.insert(0, {str(packaging_path)!r}); "
                           + SYS_TAGS], capture_output=True, text=True,
                          env=isolated_env(), check=False)
    if proc.returncode != 0 and "SyntaxError" in proc.stderr:
        pytest.skip(f"packaging {packaging.__version__} does not run on Python 3.{minor}")
    assert proc.returncode == 0, proc.stderr
    real = json.loads(proc.stdout)
    # This machine is Debian 12 bookworm: -slim-bookworm, and -slim for 3.8/3.9 (published
    # only on bookworm); -slim is Debian 13 trixie (glibc 2.41) from 3.10 on.
    names = [f"python:3.{minor}-slim-bookworm"] + ([f"python:3.{minor}-slim"] if minor < 10
                                                   else [])
    for name in names:
        preset = preset_target(name)
        assert [str(t) for t in preset.tags] == real, name
    explicit = make_target(python_version=(3, minor), machine="x86_64", libc="glibc",
                           libc_version=(2, 36))
    assert [str(t) for t in explicit.tags] == real


def test_running_interpreter_agrees_too() -> None:
    if not _this_machine_is_slim():
        pytest.skip("needs a glibc 2.36 x86_64 machine")
    from packaging.tags import sys_tags

    minor = sys.version_info[1]
    assert preset_target(f"python:3.{minor}-slim-bookworm").tags == tuple(sys_tags())


def _platforms(target_name: str, arch: str = "x86_64") -> list[str]:
    tags = preset_target(target_name, arch).tags
    return list(dict.fromkeys(t.platform for t in tags if t.platform != "any"))


def test_every_manylinux_up_to_the_glibc_with_legacy_aliases() -> None:
    plats = _platforms("python:3.12-slim-trixie")
    many = [p for p in plats if p.startswith("manylinux_2_")]
    assert many == [f"manylinux_2_{n}_x86_64" for n in range(41, 4, -1)]
    # PEP 600: each legacy alias right after the manylinux_2_N it equals
    for alias, n in (("manylinux2014", 17), ("manylinux2010", 12), ("manylinux1", 5)):
        assert plats.index(f"{alias}_x86_64") == plats.index(f"manylinux_2_{n}_x86_64") + 1
    assert not any("musllinux" in p for p in plats)
    # aarch64 starts at manylinux2014 (glibc 2.17), the first policy for it
    arm = _platforms("python:3.12-slim", "aarch64")
    assert [p for p in arm if p.startswith("manylinux_2_")][-1] == "manylinux_2_17_aarch64"
    assert "manylinux1_aarch64" not in arm and "manylinux2014_aarch64" in arm


def test_alpine_is_musl_1_2_and_no_manylinux() -> None:
    target = preset_target("python:3.10-alpine")
    assert (target.libc, target.libc_version) == ("musl", (1, 2))
    plats = _platforms("python:3.10-alpine")
    assert [p for p in plats if "musllinux" in p] == [
        "musllinux_1_2_x86_64", "musllinux_1_1_x86_64", "musllinux_1_0_x86_64"]
    assert not any(p.startswith("manylinux") for p in plats)
    assert str(target.tags[1]) == "cp310-cp310-musllinux_1_2_x86_64"
    # CPython < 3.11 names the ABI linux-gnu even on musl (bpo-43112 landed in 3.11)
    assert target.extension_suffixes[0] == ".cpython-310-x86_64-linux-gnu.so"
    new = preset_target("python:3.12-alpine")
    assert new.extension_suffixes[0] == ".cpython-312-x86_64-linux-musl.so"


@pytest.mark.parametrize(("name", "python", "libc"), [
    ("aws-lambda-python3.12", (3, 12), ("glibc", (2, 34))),
    ("aws-lambda-python3.11", (3, 11), ("glibc", (2, 26))),  # Amazon Linux 2
    ("ubi9", (3, 9), ("glibc", (2, 34))),
    ("python:3.13-slim-trixie", (3, 13), ("glibc", (2, 41))),
    # the official image today: -slim is Debian 13 trixie from 3.10 on, 3.15 is released,
    # 3.8/3.9 exist only on bookworm, -alpine is Alpine 3.24 (musl 1.2.6)
    ("python:3.15-slim", (3, 15), ("glibc", (2, 41))),
    ("python:3.14-slim", (3, 14), ("glibc", (2, 41))),
    ("python:3.10-slim", (3, 10), ("glibc", (2, 41))),
    ("python:3.9-slim", (3, 9), ("glibc", (2, 36))),
    ("python:3.8-slim", (3, 8), ("glibc", (2, 36))),
    ("python:3.14-slim-bookworm", (3, 14), ("glibc", (2, 36))),
    ("python:3.15-alpine", (3, 15), ("musl", (1, 2))),
    ("python:3.13-alpine3.23", (3, 13), ("musl", (1, 2))),
])
def test_preset_facts(name: str, python: tuple[int, int],
                      libc: tuple[str, tuple[int, int]]) -> None:
    target = preset_target(name)
    assert target.python_version == python
    assert (target.libc, target.libc_version) == libc
    assert target.interpreter == f"cp{python[0]}{python[1]}"


def test_version_newer_than_the_table_takes_the_newest_base_with_a_note() -> None:
    target = preset_target("python:3.16-slim")
    assert target.python_version == (3, 16) and target.interpreter == "cp316"
    assert (target.libc, target.libc_version) == ("glibc", (2, 41))
    assert target.note is not None and "3.16" in target.note and "3.15" in target.note
    assert target.summary()["note"] == target.note
    assert "note" not in preset_target("python:3.15-slim").summary()
    assert preset_target("python:3.15-slim").note is None
    with pytest.raises(ConfigError, match="not published"):
        preset_target("python:3.7-slim")  # older than the family: never published
    (t,) = targets_from_options(_ns("--target", "python:3.16-alpine"))
    assert t.libc == "musl" and t.note is not None


def test_free_threaded_targets() -> None:
    ft = preset_target("python:3.14t-slim")
    assert ft.free_threaded and ft.abis == ("cp314t",)
    assert str(ft.tags[1]) == "cp314-cp314t-manylinux_2_41_x86_64"
    assert not any(t.abi == "abi3" for t in ft.tags)  # PEP 703: abi3 does not apply
    assert ft.extension_suffixes[0] == ".cpython-314t-x86_64-linux-gnu.so"
    assert ".abi3.so" not in ft.extension_suffixes
    (t13,) = targets_from_options(_ns("--libc", "musl-1.2", "--python-version", "3.13t"))
    assert t13.free_threaded and str(t13.tags[1]) == "cp313-cp313t-musllinux_1_2_x86_64"
    (ubi,) = targets_from_options(_ns("--target", "ubi9", "--python-version", "3.14t"))
    assert ubi.free_threaded and ubi.name == "ubi9-py3.14t"
    gil = preset_target("python:3.14-slim")
    assert not gil.free_threaded and any(t.abi == "abi3" for t in gil.tags)
    for bad in ("3.12t", "3.14tt"):
        with pytest.raises(ConfigError):
            targets_from_options(_ns("--libc", "glibc-2.36", "--python-version", bad))


def _ns(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_target_options(parser)
    return parser.parse_args(list(argv))


def test_repeated_targets_and_arch() -> None:
    targets = targets_from_options(_ns("--target", "python:3.12-slim", "--target",
                                       "python:3.12-alpine", "--arch", "aarch64"))
    assert [t.name for t in targets] == ["python:3.12-slim/aarch64", "python:3.12-alpine/aarch64"]
    assert all(t.machine == "aarch64" for t in targets)
    assert targets_from_options(_ns()) == []


def test_versionless_presets_take_python_version() -> None:
    (ubi,) = targets_from_options(_ns("--target", "ubi9", "--python-version", "3.12"))
    assert ubi.python_version == (3, 12) and ubi.name == "ubi9-py3.12"
    (ml,) = targets_from_options(_ns("--target", "manylinux2014", "--python-version", "310"))
    assert (ml.libc_version, ml.python_version) == ((2, 17), (3, 10))
    with pytest.raises(ConfigError, match="needs --python-version"):
        targets_from_options(_ns("--target", "manylinux2014"))


def test_explicit_libc_and_platform() -> None:
    (t,) = targets_from_options(_ns("--libc", "glibc-2.28", "--python-version", "3.11",
                                    "--arch", "aarch64"))
    assert (t.libc, t.libc_version, t.machine) == ("glibc", (2, 28), "aarch64")
    assert "cp311-cp311-manylinux_2_28_aarch64" in {str(x) for x in t.tags}
    assert "cp311-cp311-manylinux_2_29_aarch64" not in {str(x) for x in t.tags}
    # --platform is used exactly as given, as pip's --platform
    (p,) = targets_from_options(_ns("--platform", "manylinux2014_x86_64",
                                    "--platform", "musllinux_1_1_x86_64",
                                    "--python-version", "3.10", "--abi", "cp310"))
    plats = {x.platform for x in p.tags}
    assert plats == {"manylinux2014_x86_64", "musllinux_1_1_x86_64", "any"}
    assert p.libc == "glibc" and p.libc_version == (2, 17)


@pytest.mark.parametrize(("argv", "message"), [
    (["--target", "python:3.12-busybox"], "unknown target"),
    (["--target", "python:3.2-slim"], "not published"),
    (["--target", "python:3.12-slim", "--python-version", "3.11"], "names Python 3.12"),
    (["--libc", "glibc2.28", "--python-version", "3.11"], "glibc-2.28"),
    (["--libc", "glibc-2.28"], "needs --python-version"),
    (["--python-version", "3.11"], "needs --target"),
    (["--target", "python:3.12-slim", "--target", "python:3.12-slim"], "given twice"),
    (["--platform", "manylinux2014_x86_64", "--libc", "musl-1.2", "--python-version", "3.9"],
     "not both"),
])
def test_bad_target_options_are_one_line_config_errors(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        targets_from_options(_ns(*argv))
    assert "\n" not in str(info.value)


def test_presets_file_has_the_required_families() -> None:
    names = preset_names()
    for family in ("python:3.X-slim", "python:3.X-slim-trixie", "python:3.X-alpine",
                   "aws-lambda-python3.X", "ubi9", "manylinux2014"):
        assert family in names
    for preset in load_presets():
        assert set(preset.arches) == {"x86_64", "aarch64"}, preset.pattern
