"""targets: tag lists generated with packaging.tags match sys_tags() on real interpreters."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.tags import Tag, sys_tags

from poetry_wheelguard.errors import ProbeError
from poetry_wheelguard.targets import (
    linux_platforms,
    make_target,
    probe_interpreter,
    running_target,
)
from tests.support.env import isolated_env, pyenv_python, pyenv_versions

PACKAGING_ROOT = str(Path(__import__("packaging").__file__).parent.parent)


def test_running_target_is_sys_tags() -> None:
    t = running_target()
    assert list(t.tags) == list(sys_tags())
    assert t.python_version == sys.version_info[:2]
    assert t.libc in {"glibc", "musl"}


def test_make_target_equals_sys_tags_for_this_glibc() -> None:
    here = running_target()
    if here.libc != "glibc":
        pytest.skip("needs a glibc host")
    made = make_target(python_version=here.python_version, machine=here.machine,
                       libc="glibc", libc_version=here.libc_version)
    assert list(made.tags) == list(sys_tags())


def test_probe_of_this_interpreter_matches_running_target() -> None:
    probed = probe_interpreter(sys.executable)
    here = running_target()
    assert probed.tags == here.tags
    assert probed.extension_suffixes == here.extension_suffixes
    assert (probed.libc, probed.libc_version) == (here.libc, here.libc_version)


def _pyenv_pythons() -> list[str]:
    """The pyenv CPythons our packaging runs on (3.10+)."""
    out = []
    for version in pyenv_versions("3."):
        exe = version / "bin" / "python"
        if exe.exists() and int(version.name.split(".")[1]) >= 10:
            out.append(str(exe))
    return sorted(out)


@pytest.mark.parametrize("python", _pyenv_pythons() or [sys.executable])
def test_probed_tags_equal_that_interpreters_sys_tags(python: str) -> None:
    """Each real interpreter's own sys_tags() (with our packaging) equals our probe's list."""
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); "
            "from packaging.tags import sys_tags; print(json.dumps([str(t) for t in sys_tags()]))")
    proc = subprocess.run([python, "-c", code, PACKAGING_ROOT], capture_output=True, text=True,
                          env=isolated_env())
    assert proc.returncode == 0, proc.stderr
    theirs = json.loads(proc.stdout)
    assert [str(t) for t in probe_interpreter(python).tags] == theirs


def test_musl_platforms_follow_pep_656() -> None:
    assert linux_platforms("musl", (1, 2), "x86_64") == [
        "linux_x86_64", "musllinux_1_2_x86_64", "musllinux_1_1_x86_64", "musllinux_1_0_x86_64"]
    t = make_target(python_version=(3, 11), machine="x86_64", libc="musl", libc_version=(1, 2))
    assert t.tags[1] == Tag("cp311", "cp311", "musllinux_1_2_x86_64")
    assert not any("manylinux" in str(tag) for tag in t.tags)
    assert t.extension_suffixes[0] == ".cpython-311-x86_64-linux-musl.so"


def test_glibc_platforms_have_legacy_aliases_in_pep_600_order() -> None:
    plats = linux_platforms("glibc", (2, 17), "aarch64")
    assert plats == ["linux_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64"]
    x86 = linux_platforms("glibc", (2, 28), "x86_64")
    assert x86.index("manylinux2014_x86_64") == x86.index("manylinux_2_17_x86_64") + 1
    assert x86.index("manylinux1_x86_64") == x86.index("manylinux_2_5_x86_64") + 1
    assert x86[-1] == "manylinux1_x86_64"


def test_free_threaded_target_has_no_abi3() -> None:
    t = make_target(python_version=(3, 13), machine="x86_64", libc="glibc",
                    libc_version=(2, 36), free_threaded=True)
    assert t.abis == ("cp313t",)
    assert not any(tag.abi == "abi3" for tag in t.tags)
    assert ".abi3.so" not in t.extension_suffixes


def test_probe_of_missing_interpreter_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ProbeError) as exc:
        probe_interpreter(str(tmp_path / "nope" / "python"))
    assert "nope" in str(exc.value)


def test_probe_of_non_python_is_one_clear_error() -> None:
    with pytest.raises(ProbeError) as exc:
        probe_interpreter("/bin/true")
    assert "/bin/true" in str(exc.value)


def test_probe_of_python2_says_so() -> None:
    py2 = pyenv_python("2.7.")
    if py2 is None:
        pytest.skip("no CPython 2.7 under pyenv")
    with pytest.raises(ProbeError, match="not a Python 3 interpreter"):
        probe_interpreter(str(py2))



def _debian_python() -> str | None:
    """Debian's own /usr/bin/python3 (its sysconfig defaults to the patched posix_local
    scheme); under CI=true it must exist (.ci/run installs python3.11-dev)."""
    import os
    import shutil

    for exe in ("/usr/bin/python3", "/usr/bin/python3.11"):
        if os.path.exists(exe) and shutil.which(exe):
            proc = subprocess.run([exe, "-I", "-S", "-c",
                                   "import sysconfig; print(sysconfig.get_default_scheme() "
                                   "if hasattr(sysconfig, 'get_default_scheme') else '')"],
                                  capture_output=True, text=True, check=False)
            if proc.stdout.strip() == "posix_local":
                return exe
    if os.environ.get("CI") == "true":
        pytest.fail("no Debian system Python with the posix_local scheme (apt python3.11-dev)")
    return None


def test_probe_of_a_debian_system_python_venv_names_the_venv_site_packages(
        tmp_path: Path) -> None:
    """S12: a venv of Debian's /usr/bin/python3 installs into <venv>/lib/python3.X/
    site-packages, not the posix_local <venv>/local/lib/python3.X/dist-packages that its
    default scheme names when site is not run."""
    python = _debian_python()
    if python is None:
        pytest.skip("no Debian system Python here")
    venv = tmp_path / "v"
    subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True,
                   env=isolated_env())
    real = subprocess.run([str(venv / "bin" / "python"), "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True, env=isolated_env())
    target = probe_interpreter(str(venv / "bin" / "python"))
    assert target.purelib == real.stdout.strip()
    assert target.purelib is not None and target.purelib.startswith(str(venv / "lib"))
    assert target.purelib.endswith("site-packages")
