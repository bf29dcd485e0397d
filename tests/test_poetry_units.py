"""The Poetry adapter's pure parts (no Poetry needed): selections from Poetry's link facts,
the lock rule, verification merging, report round trip, the venv probe it relies on."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from packaging.tags import Tag

from poetry_wheelguard.config import Config
from poetry_wheelguard.models import Finding, PackageRecord
from poetry_wheelguard.poetry.hooks import (
    LinkFacts,
    build_selection,
    last_report_path,
    locked_hashes,
    refresh_hint,
    rejected_reason,
)
from poetry_wheelguard.policy import apply_lock, evaluate, record_for
from poetry_wheelguard.postinstall import InstalledVerification, merge_verification
from poetry_wheelguard.report import package_json, record_from_json
from poetry_wheelguard.targets import make_target, probe_interpreter

CP311 = make_target(python_version=(3, 11), machine="x86_64", libc="glibc", libc_version=(2, 36))
STRICT = Config(mode="strict")

PURE = LinkFacts("wg_ignored-1.0-py3-none-any.whl", "http://i/f/a.whl", "aa" * 32)
LINUX = LinkFacts("wg_ignored-1.0-py3-none-manylinux_2_17_x86_64.whl", "http://i/f/b.whl",
                  "bb" * 32)
SDIST = LinkFacts("wg_ignored-1.0.tar.gz", "http://i/f/c.tar.gz", "cc" * 32, yanked=True)
OTHER_CP = LinkFacts("wg_ignored-1.0-cp37-cp37m-manylinux1_x86_64.whl", "", "dd" * 32)
ENV_TAGS = frozenset(CP311.tags)


def test_build_selection_reasons_and_other_versions() -> None:
    locked = frozenset({"sha256:" + "aa" * 32, "sha256:" + "cc" * 32, "sha256:" + "dd" * 32})
    sel = build_selection(
        name="WG_Ignored", version="1.0", chosen=PURE, release=[LINUX, SDIST, OTHER_CP],
        other_files=["wg_ignored-0.9-cp311-cp311-manylinux_2_17_x86_64.whl", PURE.filename,
                     "wg_ignored-2.0.tar.gz", "not-a-dist.exe"],
        index="http://user:pw@127.0.0.1:1/simple/", env_tags=ENV_TAGS, locked=locked)
    assert sel.name == "wg-ignored" and sel.index == "http://127.0.0.1:1/simple/"
    assert sel.candidates[0].filename == PURE.filename  # the chosen file is always listed
    reasons = {c.filename: c.rejected_reason for c in sel.candidates}
    assert reasons == {
        PURE.filename: None,
        LINUX.filename: "hash not in poetry.lock",
        SDIST.filename: "yanked",
        OTHER_CP.filename: "not supported by the project environment's tags "
                           "(poetry debug tags)",
    }
    assert sel.other_versions == (
        ("0.9", ("wg_ignored-0.9-cp311-cp311-manylinux_2_17_x86_64.whl",)),
        ("2.0", ("wg_ignored-2.0.tar.gz",)),
    )
    assert sel.built_locally is False
    sdist_sel = build_selection(name="x", version="1.0", chosen=SDIST, release=[])
    assert sdist_sel.built_locally is True and len(sdist_sel.candidates) == 1


def test_rejected_reason_without_lock_or_tags_says_nothing() -> None:
    assert rejected_reason(LINUX, PURE.filename, None, frozenset()) is None
    # md5-only locks cannot tell
    assert rejected_reason(LINUX, PURE.filename, None, frozenset({"md5:00"})) is None


def test_locked_hashes_reads_poetry_files_entries() -> None:
    files = [{"file": "a.whl", "hash": "sha256:ABC"}, {"file": "b"}, "junk", {"hash": 3}]
    assert locked_hashes(files) == frozenset({"sha256:abc"})
    assert locked_hashes(None) == frozenset()


def _evaluated(locked: frozenset[str], config: Config = STRICT):  # type: ignore[no-untyped-def]
    sel = build_selection(name="wg-ignored", version="1.0", chosen=PURE,
                          release=[PURE, LINUX, SDIST], env_tags=ENV_TAGS, locked=locked)
    ev = evaluate(sel, CP311, config)
    return sel, ev, apply_lock(sel, ev, CP311, config, locked, refresh_hint("2.5.1"))


def test_lock_missing_wheel_replaces_ignored_compatible_wheel() -> None:
    sel, before, after = _evaluated(frozenset({"sha256:" + "aa" * 32, "sha256:" + "cc" * 32}))
    assert "IGNORED_COMPATIBLE_WHEEL" in [f.code for f in before.findings]
    assert [f.code for f in after.findings] == ["PURE_FALLBACK", "LOCK_MISSING_WHEEL"]
    lock = after.findings[1]
    assert lock.severity == "error" and LINUX.filename in lock.message
    assert lock.hint.endswith("poetry lock --no-cache")
    assert after.verdict == "refused"
    record = record_for(sel, after)
    assert [f["code"] for f in package_json(record)["findings"]] == [
        "PURE_FALLBACK", "LOCK_MISSING_WHEEL"]


def test_lock_with_the_wheel_hash_or_without_hashes_changes_nothing() -> None:
    full = frozenset({"sha256:" + h * 32 for h in ("aa", "bb", "cc")})
    _, before, after = _evaluated(full)
    assert after == before
    _, before, after = _evaluated(frozenset())
    assert after == before


def test_lock_missing_wheel_allowed_is_a_warning() -> None:
    cfg = Config(mode="strict", allow_pure=frozenset({"wg-ignored"}))  # type: ignore[arg-type]
    _, _, after = _evaluated(frozenset({"sha256:" + "aa" * 32}), cfg)
    assert {f.severity for f in after.findings} == {"warning"}
    assert after.verdict == "warn"


def test_refresh_hint_per_poetry_version() -> None:
    assert refresh_hint("1.8.5").endswith("poetry lock --no-update --no-cache")
    assert refresh_hint("2.5.1").endswith("poetry lock --no-cache")
    assert refresh_hint("2.0.0.dev0").endswith("poetry lock --no-cache")


def test_merge_verification_adds_findings_and_objects() -> None:
    sel = build_selection(name="wg-healthy", version="1.0", chosen=LINUX, release=[LINUX])
    rec = record_for(sel, evaluate(sel, CP311, STRICT))
    other = record_for(build_selection(name="x", version="1", chosen=PURE, release=[]),
                       evaluate(build_selection(name="x", version="1", chosen=PURE,
                                                release=[]), CP311, STRICT))
    data = {"packages": [
        {"name": "WG_Healthy", "verification": {"extensions": 1},
         "findings": [{"code": "NO_PYINIT", "severity": "error", "message": "m", "hint": "h",
                       "path": "wg_healthy/_native.so"},
                      {"code": "X", "severity": "bogus", "message": "ignored"}]},
        {"name": "not-installed-here", "findings": [
            {"code": "Y", "severity": "error", "message": "m", "hint": ""}]},
    ]}
    result = InstalledVerification.from_report(data, 0)
    assert merge_verification([rec, other], result) == 1
    assert rec.verification == {"extensions": 1}
    assert rec.findings == [Finding("NO_PYINIT", "error", "m", "h", "wg_healthy/_native.so")]
    assert rec.verdict == "warn"  # the verification ran in warn mode (no "mode": strict)
    assert other.findings == [] and other.verification is None
    assert merge_verification([rec], result) == 0  # idempotent


def test_merge_verification_strict_error_is_refused() -> None:
    """In strict mode a verify error makes the install record ``refused``, as
    ``pip-guard --mode strict verify`` calls it and as its exit code 11 says; a warning
    alone stays ``warn``; verdicts never get better."""
    def record(name: str) -> PackageRecord:
        sel = build_selection(name=name, version="1.0", chosen=LINUX, release=[LINUX])
        return record_for(sel, evaluate(sel, CP311, STRICT))

    error = {"code": "NO_PYINIT", "severity": "error", "message": "m", "hint": "h"}
    warning = {"code": "W", "severity": "warning", "message": "m", "hint": "h"}
    data = {"mode": "strict", "packages": [{"name": "wg-bad", "findings": [error]},
                                           {"name": "wg-meh", "findings": [warning]}]}
    bad, meh, fine = record("wg-bad"), record("wg-meh"), record("wg-fine")
    result = InstalledVerification.from_report(data, 11)
    assert result.strict
    assert merge_verification([bad, meh, fine], result) == 1
    assert (bad.verdict, meh.verdict, fine.verdict) == ("refused", "warn", "ok")
    warn_mode = InstalledVerification.from_report({**data, "mode": "warn"}, 0)
    assert not warn_mode.strict
    again = record("wg-bad")
    merge_verification([again], warn_mode)
    assert again.verdict == "warn"
    merge_verification([bad], warn_mode)
    assert bad.verdict == "refused"  # never better than before


def test_record_round_trips_through_the_report() -> None:
    _, _, after = _evaluated(frozenset({"sha256:" + "aa" * 32}))
    sel = build_selection(name="wg-ignored", version="1.0", chosen=PURE,
                          release=[PURE, LINUX, SDIST], env_tags=ENV_TAGS,
                          locked=frozenset({"sha256:" + "aa" * 32}))
    original = package_json(record_for(sel, after))
    again = package_json(record_from_json(json.loads(json.dumps(original))))
    assert again == original


def test_last_report_path_is_per_project(tmp_path: Path) -> None:
    a = last_report_path(tmp_path / "cache", tmp_path / "a")
    b = last_report_path(tmp_path / "cache", tmp_path / "b")
    assert a != b and a.name == "last-report.json"
    assert a.is_relative_to(tmp_path / "cache" / "wheelguard")
    assert a == last_report_path(tmp_path / "cache", tmp_path / "x" / ".." / "a")


def test_probe_of_a_venv_interpreter_reports_the_venv_site_packages(tmp_path: Path) -> None:
    """The plugin's target is the project venv's interpreter, probed with -I -S."""
    venv = tmp_path / "venv"
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv",
                    "--without-pip", str(venv)], check=True)
    target = probe_interpreter(str(venv / "bin" / "python"))
    assert target.purelib is not None and target.purelib.startswith(str(venv))
    assert target.platlib is not None and target.platlib.startswith(str(venv))
    assert target.executable == str(venv / "bin" / "python")


@pytest.mark.parametrize("tag", [Tag("py3", "none", "manylinux_2_17_x86_64")])
def test_env_tags_decide_support(tag: Tag) -> None:
    assert rejected_reason(LINUX, PURE.filename, frozenset({tag}), frozenset()) is None
    assert rejected_reason(LINUX, PURE.filename, frozenset(), frozenset()) is not None


@pytest.mark.parametrize(("mode", "code"), [("warn", 0), ("strict", 70)])
def test_verify_that_cannot_run_is_a_warning_or_internal_as_in_pip_guard(
    tmp_path: Path, mode: str, code: int
) -> None:
    from poetry_wheelguard.distfiles import normalize
    from poetry_wheelguard.models import Candidate, PackageRecord, Selection
    from poetry_wheelguard.poetry.hooks import Guard

    def broken(cmd: Sequence[str], **_kw: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(list(cmd), 1, "", "verify: boom\n")

    report = tmp_path / "r.json"
    rec = PackageRecord(Selection(normalize("six"), "1.16.0",
                                  Candidate("six-1.16.0-py2.py3-none-any.whl")),
                        "wheel", ("py2-none-any", "py3-none-any"), True)
    guard = Guard(Config(mode=mode, report=str(report)), tmp_path, "install", "2.5.1",  # type: ignore[arg-type]
                  env_python=sys.executable, runner=broken, records=[rec], executed=True)
    got, lines = guard.finish(0)
    assert got == code
    data = json.loads(report.read_text())
    assert data["verification"]["status"] == "failed"
    assert "boom" in data["verification"]["reason"]
    assert any("wheelguard: warning:" in text and "boom" in text for text, _ in lines)


def test_other_release_files_leave_yanked_links_out() -> None:
    """PEP 592: the hints' file names from Poetry's project page skip yanked links (Poetry's
    own ``Link.yanked``), so an all-yanked release is no hint."""
    from types import SimpleNamespace

    from poetry.core.packages.utils.link import Link

    from poetry_wheelguard.poetry.compat import other_release_files

    base = "http://i/files/"
    links = [Link(base + "aiohttp-3.8.2-cp311-cp311-manylinux_2_17_x86_64.whl", yanked="bad"),
             Link(base + "aiohttp-3.8.3-cp311-cp311-manylinux_2_17_x86_64.whl"),
             Link(base + "aiohttp-3.8.3-cp310-cp310-manylinux_2_17_x86_64.whl", yanked=True)]
    page = SimpleNamespace(links=links)
    repository = SimpleNamespace(get_page=lambda name: page)
    got = other_release_files(repository, SimpleNamespace(name="aiohttp"))
    assert got == ["aiohttp-3.8.3-cp311-cp311-manylinux_2_17_x86_64.whl"]
    sel = build_selection(name="aiohttp", version="3.6.2",
                          chosen=LinkFacts("aiohttp-3.6.2-py3-none-any.whl", "", None),
                          release=[], other_files=got)
    assert dict(sel.other_versions) == {"3.8.3": tuple(got)}


def test_unsupported_tag_hint_under_poetry_2_on_musl() -> None:
    """Poetry 2.x on a musl environment: the UNSUPPORTED_TAG hint says Poetry computed the
    tags in its own process and what works; Poetry 1.8.5, or a glibc environment, keep the
    policy's hint."""
    from poetry_wheelguard.poetry.hooks import _with_tag_hint, tag_hint

    musl = make_target(python_version=(3, 11), machine="x86_64", libc="musl",
                       libc_version=(1, 2))
    hint = tag_hint("2.5.1", musl)
    assert hint is not None and "in its own process" in hint and "Poetry 1.8.5" in hint
    assert "poetry export" in hint and "upgrade" not in hint
    assert tag_hint("1.8.5", musl) is None and tag_hint("2.5.1", CP311) is None
    assert tag_hint("not-a-version", musl) is None
    sel = build_selection(
        name="wg-ignored", version="1.0", release=[LINUX],
        chosen=LinkFacts("wg_ignored-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "", None))
    evaluation = _with_tag_hint(evaluate(sel, musl, STRICT), hint)
    assert [(f.code, f.hint) for f in evaluation.findings
            if f.code == "UNSUPPORTED_TAG"] == [("UNSUPPORTED_TAG", hint)]
    assert evaluation.verdict == "refused"


def test_root_specifiers_from_poetrys_own_objects() -> None:
    """The plugin reads the root package's constraints from Poetry's ``ProjectPackage``
    (every group), converted by poetry-core: ``^0.25`` -> ``>=0.25,<0.26``; a union
    (``||``) and ``*`` give none."""
    from poetry.core.packages.dependency import Dependency
    from poetry.core.packages.dependency_group import DependencyGroup
    from poetry.core.packages.project_package import ProjectPackage

    from poetry_wheelguard.poetry.hooks import root_specifiers

    root = ProjectPackage("app", "1.0")
    root.add_dependency(Dependency("asyncpg", "^0.25"))
    root.add_dependency(Dependency("SQLAlchemy", "^1.4"))
    root.add_dependency(Dependency("either", "^1.0 || ^3.0"))
    root.add_dependency(Dependency("anything", "*"))
    dev = DependencyGroup("dev")
    dev.add_dependency(Dependency("pytest", "~7.4"))
    root.add_dependency_group(dev)
    assert root_specifiers(root) == {"asyncpg": "<0.26,>=0.25", "sqlalchemy": "<2.0,>=1.4",
                                     "pytest": "<7.5,>=7.4"}
    assert root_specifiers(None) == {}
