"""distfiles: file names classified by packaging, platform tags per PEP 600/656."""

from __future__ import annotations

import pytest

from poetry_wheelguard.distfiles import classify, platform_info, try_classify
from poetry_wheelguard.errors import WheelguardError


@pytest.mark.parametrize(
    ("filename", "kind", "flavour"),
    [
        ("aiohttp-3.6.2-py3-none-any.whl", "wheel", "pure"),
        ("aiohttp-3.6.2-cp37-cp37m-manylinux1_x86_64.whl", "wheel", "platform"),
        ("cryptography-41.0.0-cp37-abi3-manylinux_2_28_aarch64.whl", "wheel", "abi3"),
        ("six-1.16.0-py2.py3-none-any.whl", "wheel", "pure"),
        ("uvloop-0.14.0.tar.gz", "sdist", "sdist"),
        ("PyYAML-5.1.zip", "sdist", "sdist"),
        ("wg_x-1.0-py3-none-manylinux_2_17_x86_64.whl", "wheel", "platform"),
    ],
)
def test_classify_kind_and_flavour(filename: str, kind: str, flavour: str) -> None:
    d = classify(filename)
    assert (d.kind, d.flavour) == (kind, flavour)
    assert d.pure == (flavour == "pure")


def test_classify_normalizes_name_and_expands_tags() -> None:
    d = classify("PyYAML-6.0.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
    assert d.name == "pyyaml"
    assert str(d.version) == "6.0.1"
    assert d.tag_strings == (
        "cp311-cp311-manylinux2014_x86_64",
        "cp311-cp311-manylinux_2_17_x86_64",
    )
    assert {(p.libc, p.libc_version) for p in d.platforms} == {("glibc", (2, 17))}


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        ("manylinux1_x86_64", ("linux", "x86_64", "glibc", (2, 5))),
        ("manylinux2010_i686", ("linux", "i686", "glibc", (2, 12))),
        ("manylinux2014_aarch64", ("linux", "aarch64", "glibc", (2, 17))),
        ("manylinux_2_28_x86_64", ("linux", "x86_64", "glibc", (2, 28))),
        ("musllinux_1_2_aarch64", ("linux", "aarch64", "musl", (1, 2))),
        ("linux_x86_64", ("linux", "x86_64", "unknown", None)),
        ("macosx_11_0_arm64", ("macos", "arm64", "unknown", None)),
        ("win_amd64", ("windows", "amd64", "unknown", None)),
        ("any", ("any", "any", "unknown", None)),
    ],
)
def test_platform_info(platform: str, expected: tuple[object, ...]) -> None:
    p = platform_info(platform)
    assert (p.os, p.machine, p.libc, p.libc_version) == expected


def test_matches_machine_any_libc() -> None:
    d = classify("x-1.0-cp37-cp37m-musllinux_1_1_x86_64.whl")
    assert d.matches_machine("linux", "x86_64")
    assert not d.matches_machine("linux", "aarch64")


@pytest.mark.parametrize("bad", ["not-a-dist.txt", "foo-1.0-py3-none.whl", "x.egg", "a-b-c-d.whl"])
def test_bad_names_raise_one_clear_error(bad: str) -> None:
    with pytest.raises(WheelguardError) as exc:
        classify(bad)
    assert bad.rsplit("/", 1)[-1] in str(exc.value)
    assert try_classify(bad) is None


def test_a_candidate_carries_its_parsed_file() -> None:
    from poetry_wheelguard.distfiles import classify
    from poetry_wheelguard.models import Candidate

    sdist = Candidate("wg_pkg-1.0.tar.gz", "https://host/wg_pkg-1.0.tar.gz")
    assert sdist.dist is not None and sdist.dist.kind == "sdist" and sdist.dist.name == "wg-pkg"
    assert Candidate("setup.exe").dist is None and Candidate("").dist is None
    given = classify("wg_pkg-1.0-py3-none-any.whl")
    assert Candidate(given.filename, dist=given).dist is given
    assert Candidate("wg_pkg-1.0.tar.gz") == Candidate("wg_pkg-1.0.tar.gz", dist=None)
