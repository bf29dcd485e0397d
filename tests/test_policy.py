"""policy: pure decisions on the real shapes of the handed cases (no I/O, no mocks)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from poetry_wheelguard.config import Config
from poetry_wheelguard.distfiles import normalize
from poetry_wheelguard.models import Candidate, Selection
from poetry_wheelguard.policy import evaluate, nearest_wheel_versions, verdict_for
from poetry_wheelguard.targets import make_target

CP311 = make_target(python_version=(3, 11), machine="x86_64", libc="glibc", libc_version=(2, 36))
CP310_MUSL = make_target(python_version=(3, 10), machine="x86_64", libc="musl",
                         libc_version=(1, 2))
STRICT = Config(mode="strict")
WARN = Config()

# aiohttp 3.6.2 as the public index lists it (S1)
AIOHTTP_362 = [
    "aiohttp-3.6.2-cp35-cp35m-manylinux1_x86_64.whl",
    "aiohttp-3.6.2-cp36-cp36m-manylinux1_x86_64.whl",
    "aiohttp-3.6.2-cp37-cp37m-manylinux1_x86_64.whl",
    "aiohttp-3.6.2-cp37-cp37m-macosx_10_14_x86_64.whl",
    "aiohttp-3.6.2-cp37-cp37m-win_amd64.whl",
    "aiohttp-3.6.2-py3-none-any.whl",
    "aiohttp-3.6.2.tar.gz",
]
AIOHTTP_OTHERS = (
    ("3.7.4", ("aiohttp-3.7.4-cp39-cp39-manylinux2014_x86_64.whl",)),
    ("3.8.6", ("aiohttp-3.8.6-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",)),
    ("3.9.0", ("aiohttp-3.9.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",)),
    ("4.0.0a1", ("aiohttp-4.0.0a1-cp311-cp311-manylinux_2_17_x86_64.whl",)),
)


def sel(name: str, version: str, chosen: str, files: Sequence[str],
        others: tuple[tuple[str, tuple[str, ...]], ...] = (), **kw: object) -> Selection:
    return Selection(
        name=normalize(name), version=version, chosen=Candidate(chosen),
        candidates=tuple(Candidate(f) for f in files), other_versions=others, **kw)  # type: ignore[arg-type]


def codes(ev: object) -> list[str]:
    return [f.code for f in ev.findings]  # type: ignore[attr-defined]


def test_s1_pure_fallback_refused_in_strict_with_hint() -> None:
    s = sel("aiohttp", "3.6.2", "aiohttp-3.6.2-py3-none-any.whl", AIOHTTP_362, AIOHTTP_OTHERS)
    ev = evaluate(s, CP311, STRICT)
    assert codes(ev) == ["PURE_FALLBACK"]
    assert ev.verdict == "refused"
    f = ev.findings[0]
    assert f.severity == "error"
    assert "cp37m-manylinux1_x86_64" in f.message and "win_amd64" not in f.message
    # nearest newer version with a cp311 wheel is 3.8.6 (pre-release 4.0.0a1 skipped)
    assert "3.8.6+" in f.hint and 'allow-pure' in f.hint
    assert {d.filename for d in ev.platform_wheels} == set(AIOHTTP_362[:3])


def test_s1_warn_mode_is_warn_verdict() -> None:
    s = sel("aiohttp", "3.6.2", "aiohttp-3.6.2-py3-none-any.whl", AIOHTTP_362)
    assert evaluate(s, CP311, WARN).verdict == "warn"


def test_allow_pure_turns_error_into_warning_even_in_strict() -> None:
    s = sel("aiohttp", "3.6.2", "aiohttp-3.6.2-py3-none-any.whl", AIOHTTP_362)
    cfg = Config(mode="strict", allow_pure=frozenset({normalize("AioHTTP")}))
    ev = evaluate(s, CP311, cfg)
    assert ev.verdict == "warn"
    assert [(f.code, f.severity) for f in ev.findings] == [("PURE_FALLBACK", "warning")]


def test_pure_only_project_is_ok() -> None:
    s = sel("six", "1.16.0", "six-1.16.0-py2.py3-none-any.whl",
            ["six-1.16.0-py2.py3-none-any.whl", "six-1.16.0.tar.gz"])
    ev = evaluate(s, CP311, STRICT)
    assert ev.findings == () and ev.verdict == "ok"


def test_platform_wheels_for_other_machine_do_not_make_a_fallback() -> None:
    s = sel("x", "1.0", "x-1.0-py3-none-any.whl",
            ["x-1.0-py3-none-any.whl", "x-1.0-cp311-cp311-macosx_11_0_arm64.whl",
             "x-1.0-cp311-cp311-manylinux_2_17_aarch64.whl"])
    assert evaluate(s, CP311, STRICT).verdict == "ok"


def test_s4_sdist_with_platform_wheels_elsewhere_is_refused() -> None:
    files = ["uvloop-0.14.0.tar.gz", "uvloop-0.14.0-cp37-cp37m-manylinux2010_x86_64.whl",
             "uvloop-0.14.0-cp38-cp38-manylinux2010_x86_64.whl"]
    others = (("0.17.0", ("uvloop-0.17.0-cp311-cp311-manylinux_2_17_x86_64.whl",)),
              ("0.16.0", ("uvloop-0.16.0-cp310-cp310-manylinux_2_12_x86_64.whl",)))
    ev = evaluate(sel("uvloop", "0.14.0", files[0], files, others), CP311, STRICT)
    assert codes(ev) == ["SDIST_BUILD"]
    assert ev.verdict == "refused"
    assert "uvloop 0.17.0+" in ev.findings[0].hint


def test_sdist_only_project_warns_and_no_build_refuses() -> None:
    s = sel("pkg", "1.0", "pkg-1.0.tar.gz", ["pkg-1.0.tar.gz"])
    ev = evaluate(s, CP311, STRICT)
    assert [(f.code, f.severity) for f in ev.findings] == [("SDIST_BUILD", "warning")]
    assert ev.verdict == "warn"
    ev2 = evaluate(s, CP311, Config(mode="strict", no_build=True))
    assert ev2.verdict == "refused"
    ev3 = evaluate(s, CP311, Config(mode="strict", no_build=True,
                                    allow_sdist=frozenset({normalize("pkg")})))
    assert ev3.verdict == "warn"


def test_s3_musllinux_wheel_passed_over_is_ignored_compatible() -> None:
    files = ["pydantic-1.9.1-cp310-cp310-musllinux_1_1_x86_64.whl",
             "pydantic-1.9.1-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
             "pydantic-1.9.1-py3-none-any.whl"]
    others = (("1.9.2", ("pydantic-1.9.2-cp310-cp310-musllinux_1_1_x86_64.whl",)),)
    ev = evaluate(sel("pydantic", "1.9.1", files[2], files, others), CP310_MUSL, STRICT)
    assert codes(ev) == ["PURE_FALLBACK", "IGNORED_COMPATIBLE_WHEEL"]
    assert "musllinux_1_1_x86_64" in ev.findings[1].message
    # the fix is in this release, not another version
    assert "this release has " + files[0] in ev.findings[0].hint
    assert "1.9.2" not in ev.findings[0].hint
    assert ev.verdict == "refused"


def test_s2_pydantic_on_311_is_pure_fallback_not_ignored() -> None:
    files = ["pydantic-1.9.1-cp310-cp310-musllinux_1_1_x86_64.whl",
             "pydantic-1.9.1-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
             "pydantic-1.9.1-py3-none-any.whl"]
    ev = evaluate(sel("pydantic", "1.9.1", files[2], files), CP311, STRICT)
    assert codes(ev) == ["PURE_FALLBACK"]


def test_s9_sdist_while_compatible_wheel_exists() -> None:
    files = ["pygit2-1.11.1.tar.gz", "pygit2-1.11.1-cp311-cp311-manylinux_2_24_x86_64.whl"]
    ev = evaluate(sel("pygit2", "1.11.1", files[0], files), CP311, STRICT)
    assert codes(ev) == ["SDIST_BUILD", "IGNORED_COMPATIBLE_WHEEL"]


def test_healthy_platform_wheel_is_ok_and_first_party_never_judged() -> None:
    files = ["orjson-3.10.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
             "orjson-3.10.0.tar.gz"]
    assert evaluate(sel("orjson", "3.10.0", files[0], files), CP311, STRICT).verdict == "ok"
    local = sel("mine", "0.1", "mine-0.1.tar.gz", ["mine-0.1.tar.gz"], first_party=True)
    assert evaluate(local, CP311, Config(mode="strict", no_build=True)).verdict == "ok"


def test_unknown_chosen_file_is_info_only() -> None:
    ev = evaluate(sel("old", "1.0", "old-1.0-py2.7.egg", []), CP311, STRICT)
    assert codes(ev) == ["UNKNOWN_FILE"] and ev.verdict == "ok"


def test_nearest_versions_both_sides() -> None:
    s = sel("aiohttp", "3.8.0", "aiohttp-3.8.0.tar.gz", [], AIOHTTP_OTHERS)
    newer, older = nearest_wheel_versions(s, CP311)
    assert (str(newer), str(older)) == ("3.8.6", "None")
    s2 = sel("aiohttp", "3.9.5", "aiohttp-3.9.5.tar.gz", [], AIOHTTP_OTHERS)
    assert [str(v) for v in nearest_wheel_versions(s2, CP311)] == ["None", "3.9.0"]


@pytest.mark.parametrize(("sevs", "strict", "verdict"), [
    ((), True, "ok"), (("info",), True, "ok"), (("warning",), True, "warn"),
    (("error",), False, "warn"), (("error", "warning"), True, "refused"),
])
def test_verdict_for(sevs: tuple[str, ...], strict: bool, verdict: str) -> None:
    from poetry_wheelguard.models import Finding
    fs = [Finding("X", s, "m") for s in sevs]  # type: ignore[arg-type]
    assert verdict_for(fs, strict) == verdict


def test_chosen_wheel_the_target_cannot_load_is_unsupported_tag() -> None:
    """Poetry 2 computing a musl env's tags in its glibc process picks a manylinux wheel."""
    files = ["orjson-3.10.0-cp311-cp311-manylinux_2_17_x86_64.whl",
             "orjson-3.10.0-cp311-cp311-musllinux_1_2_x86_64.whl"]
    musl311 = make_target(python_version=(3, 11), machine="x86_64", libc="musl",
                          libc_version=(1, 2))
    ev = evaluate(sel("orjson", "3.10.0", files[0], files), musl311, STRICT)
    assert codes(ev) == ["UNSUPPORTED_TAG"] and ev.verdict == "refused"
    assert files[0] in ev.findings[0].message
    assert evaluate(sel("orjson", "3.10.0", files[1], files), musl311, STRICT).verdict == "ok"
    # allow-lists do not cover a wheel that cannot load at all
    cfg = Config(mode="strict", allow_pure=frozenset({normalize("orjson")}),
                 allow_sdist=frozenset({normalize("orjson")}))
    assert evaluate(sel("orjson", "3.10.0", files[0], files), musl311, cfg).refused


# --- a pure wheel is an error only where a compiled one could be had (S11) ---------------

CP310 = make_target(python_version=(3, 10), machine="x86_64", libc="glibc", libc_version=(2, 36))
# tomli 2.5.0: compiled (mypyc) wheels from cp311 on, in every release that has any
TOMLI_250 = [
    "tomli-2.5.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "tomli-2.5.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "tomli-2.5.0-py3-none-any.whl",
    "tomli-2.5.0.tar.gz",
]
TOMLI_OTHERS = (
    ("2.0.1", ("tomli-2.0.1-py3-none-any.whl",)),
    ("2.1.0", ("tomli-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
               "tomli-2.1.0-py3-none-any.whl")),
)


def test_s11_pure_wheel_where_no_release_has_a_compiled_one_is_a_warning() -> None:
    s = sel("tomli", "2.5.0", "tomli-2.5.0-py3-none-any.whl", TOMLI_250, TOMLI_OTHERS)
    ev = evaluate(s, CP310, STRICT)
    assert codes(ev) == ["PURE_FALLBACK"] and ev.verdict == "warn"  # not refused
    f = ev.findings[0]
    assert f.severity == "warning"
    assert "ships no compiled wheel for cp310" in f.message and "cp311" in f.message
    # on 3.11 the same pure wheel is an error: this release has a cp311 wheel
    ev11 = evaluate(replace_chosen(s, "tomli-2.5.0-py3-none-any.whl"), CP311, STRICT)
    assert ev11.verdict == "refused" and ev11.findings[0].code == "PURE_FALLBACK"


def replace_chosen(s: Selection, filename: str) -> Selection:
    from dataclasses import replace
    return replace(s, chosen=Candidate(filename))


def test_pure_wheel_is_an_error_when_another_release_has_a_compatible_wheel() -> None:
    # pydantic 1.9.1 on CPython 3.11 (S2): its own compiled wheels stop at cp310; 1.10.2+
    # ships cp311
    files = ["pydantic-1.9.1-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
             "pydantic-1.9.1-py3-none-any.whl"]
    others = (("1.10.2", ("pydantic-1.10.2-cp311-cp311-manylinux_2_17_x86_64.whl",)),)
    ev = evaluate(sel("pydantic", "1.9.1", files[1], files, others), CP311, STRICT)
    assert ev.verdict == "refused" and ev.findings[0].severity == "error"
    assert "pydantic 1.10.2+ has a wheel" in ev.findings[0].hint
    # without any release for cp311 the same file is a warning
    ev = evaluate(sel("pydantic", "1.9.1", files[1], files), CP311, STRICT)
    assert ev.verdict == "warn" and ev.findings[0].severity == "warning"


def test_pure_only_release_gets_no_finding_whatever_other_releases_ship() -> None:
    others = (("2.1.0", ("tomli-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl",)),)
    ev = evaluate(sel("tomli", "2.0.1", "tomli-2.0.1-py3-none-any.whl",
                      ["tomli-2.0.1-py3-none-any.whl"], others), CP311, STRICT)
    assert ev.findings == () and ev.verdict == "ok"


# --- hints inside the requirement's specifier (S16) --------------------------------------

ASYNCPG_OTHERS = (
    ("0.25.1", ("asyncpg-0.25.1.tar.gz",)),
    ("0.27.0", ("asyncpg-0.27.0-cp311-cp311-manylinux_2_17_x86_64.whl",)),
    ("0.29.0", ("asyncpg-0.29.0-cp311-cp311-manylinux_2_17_x86_64.whl",)),
)
ASYNCPG_025 = ["asyncpg-0.25.0-cp310-cp310-manylinux_2_17_x86_64.whl", "asyncpg-0.25.0.tar.gz"]


def test_hint_says_when_no_version_inside_the_specifier_has_a_wheel() -> None:
    s = sel("asyncpg", "0.25.0", "asyncpg-0.25.0.tar.gz", ASYNCPG_025, ASYNCPG_OTHERS,
            specifier=">=0.25.0,<0.26.0")
    (f,) = evaluate(s, CP311, STRICT).findings
    assert f.code == "SDIST_BUILD" and f.severity == "error"
    assert "no version inside <0.26.0,>=0.25.0 has a wheel" in f.hint
    assert "0.27.0+" in f.hint  # the nearest outside it, said to be outside


def test_hint_names_the_nearest_version_inside_the_specifier() -> None:
    s = sel("asyncpg", "0.25.0", "asyncpg-0.25.0.tar.gz", ASYNCPG_025, ASYNCPG_OTHERS,
            specifier=">=0.25,<0.30,!=0.27.0")
    (f,) = evaluate(s, CP311, STRICT).findings
    assert "asyncpg 0.29.0+ has a wheel" in f.hint and "(inside " in f.hint
    assert "0.27.0" not in f.hint.split("(inside")[0]
    plain = sel("asyncpg", "0.25.0", "asyncpg-0.25.0.tar.gz", ASYNCPG_025, ASYNCPG_OTHERS)
    (g,) = evaluate(plain, CP311, STRICT).findings
    assert "asyncpg 0.27.0+ has a wheel" in g.hint and "inside" not in g.hint


def test_sdist_hint_says_no_release_has_a_wheel_for_a_new_interpreter_yet() -> None:
    cp315 = make_target(python_version=(3, 15), machine="x86_64", libc="glibc",
                        libc_version=(2, 41))
    s = sel("asyncpg", "0.29.0", "asyncpg-0.29.0.tar.gz",
            ["asyncpg-0.29.0-cp311-cp311-manylinux_2_17_x86_64.whl", "asyncpg-0.29.0.tar.gz"],
            ASYNCPG_OTHERS)
    (f,) = evaluate(s, cp315, STRICT).findings
    assert f.code == "SDIST_BUILD" and f.severity == "error"
    assert "no release of asyncpg has a wheel for cp315" in f.hint


def test_passed_over_warns_only_for_an_older_installed_version() -> None:
    """Rule 6: a refused file newer than the installed version is what plain pip would
    have tried first (a warning naming both); older ones were met while backtracking."""
    from poetry_wheelguard.models import PassedOver
    from poetry_wheelguard.policy import PASSED_OVER, passed_over_finding

    newer = PassedOver("2.0", "wg_bt-2.0-py3-none-any.whl", ("PURE_FALLBACK",))
    older = PassedOver("0.9", "wg_bt-0.9.tar.gz", ("SDIST_BUILD",))
    finding = passed_over_finding("wg-bt", "1.0", [older, newer])
    assert finding is not None and finding.code == PASSED_OVER
    assert finding.severity == "warning"
    assert finding.message.startswith("wg-bt 1.0 installed instead of 2.0: strict mode "
                                      "refused wg_bt-2.0-py3-none-any.whl (PURE_FALLBACK)")
    assert passed_over_finding("wg-bt", "1.0", [older]) is None
    assert passed_over_finding("wg-bt", "1.0", [PassedOver("1.0", "x.tar.gz", ())]) is None


def test_pure_wheel_with_other_releases_unknown_stays_an_error_and_says_why() -> None:
    # an offline poetry.lock plan knows only the locked release's files
    s = sel("tomli", "2.5.0", "tomli-2.5.0-py3-none-any.whl", TOMLI_250, others_known=False)
    ev = evaluate(s, CP310, STRICT)
    assert ev.verdict == "refused" and ev.findings[0].code == "PURE_FALLBACK"
    assert "other releases were not looked up" in ev.findings[0].hint


def test_an_exact_pin_is_no_specifier_for_hints() -> None:
    s = sel("asyncpg", "0.25.0", "asyncpg-0.25.0.tar.gz", ASYNCPG_025, ASYNCPG_OTHERS,
            specifier="==0.25.0")
    (f,) = evaluate(s, CP311, STRICT).findings
    assert "asyncpg 0.27.0+ has a wheel" in f.hint and "inside" not in f.hint
    wild = sel("asyncpg", "0.25.0", "asyncpg-0.25.0.tar.gz", ASYNCPG_025, ASYNCPG_OTHERS,
               specifier="==0.25.*")
    (g,) = evaluate(wild, CP311, STRICT).findings
    assert "no version inside ==0.25.* has a wheel" in g.hint
