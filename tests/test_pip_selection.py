"""The pip adapter's plain-data parts: pip's observations -> Selection, pip's target options
-> Target, the subprocess mode's reading of pip's options and installation report."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from poetry_wheelguard.config import Config
from poetry_wheelguard.index import IndexClient, IndexConfig
from poetry_wheelguard.pip.hooks import target_from_pip
from poetry_wheelguard.pip.selection import (
    CANDIDATE,
    DIRECT,
    SeenLink,
    build_selection,
    index_of,
)
from poetry_wheelguard.pip.subprocess_mode import parse_pip_options, records_from_report
from poetry_wheelguard.policy import evaluate
from poetry_wheelguard.targets import make_target
from tests.support.index import IndexServer
from tests.support.schema import validate_report

RUNNING = make_target(python_version=(3, 11), machine="x86_64", libc="glibc",
                      libc_version=(2, 36))
TAGS_REASON = "none of the wheel's tags (cp37-cp37m-manylinux1_x86_64) are compatible"
IDX = "https://pypi.org/simple/"


def link(filename: str, version: str, verdict: str = CANDIDATE,
         reason: str | None = None) -> SeenLink:
    return SeenLink(filename=filename, url=f"https://files.example/{filename}", sha256="ab" * 32,
                    version=version, verdict=verdict, reason=reason, index=IDX)


AIOHTTP = [
    link("aiohttp-3.6.2-cp37-cp37m-manylinux1_x86_64.whl", "3.6.2", "platform_mismatch",
         TAGS_REASON),
    link("aiohttp-3.6.2-py3-none-any.whl", "3.6.2"),
    link("aiohttp-3.6.2.tar.gz", "3.6.2"),
    link("aiohttp-3.8.6-cp311-cp311-manylinux_2_17_x86_64.whl", "3.8.6"),
    link("aiohttp-3.9.0-cp312-cp312-manylinux_2_17_x86_64.whl", "3.9.0", "platform_mismatch",
         "tags"),
    link("aiohttp-3.10.0-cp311-cp311-manylinux_2_17_x86_64.whl", "3.10.0",
         "requires_python_mismatch", "3.10.0 Requires-Python >=3.12"),
]


def test_selection_keeps_the_chosen_version_with_pips_reasons() -> None:
    sel = build_selection("AioHTTP", "3.6.2", AIOHTTP[1], AIOHTTP)
    assert sel.name == "aiohttp" and sel.version == "3.6.2"
    assert sel.chosen.filename == "aiohttp-3.6.2-py3-none-any.whl"
    assert [c.filename for c in sel.candidates] == [x.filename for x in AIOHTTP[:3]]
    assert sel.candidates[0].rejected_reason == TAGS_REASON
    assert sel.candidates[1].rejected_reason is None
    assert sel.index == IDX


def test_other_versions_leave_out_files_pip_skipped_for_requires_python() -> None:
    sel = build_selection("aiohttp", "3.6.2", AIOHTTP[1], AIOHTTP)
    others = dict(sel.other_versions)
    assert set(others) == {"3.8.6", "3.9.0"}  # 3.10.0 needs Python >= 3.12: no advice
    ev = evaluate(sel, RUNNING, Config(mode="strict"))
    assert ev.verdict == "refused"
    assert "3.8.6+" in ev.findings[0].hint


def test_a_direct_link_is_its_own_only_candidate() -> None:
    chosen = SeenLink(filename="pkg-1.0.tar.gz", url="https://host/pkg-1.0.tar.gz",
                      verdict=DIRECT)
    sel = build_selection("pkg", None, chosen, [], built_locally=True)
    assert sel.version == "1.0"  # from the file name
    assert [c.filename for c in sel.candidates] == ["pkg-1.0.tar.gz"]
    assert sel.built_locally is True


def test_version_normalization_matches_listing_versions() -> None:
    files = [link("pkg-1.0-py3-none-any.whl", "1.0"), link("pkg-1.0.tar.gz", "1.0")]
    sel = build_selection("pkg", "1.0.0", files[0], files)  # PEP 440: 1.0.0 == 1.0
    assert sel.version == "1.0.0"
    assert [c.filename for c in sel.candidates] == ["pkg-1.0-py3-none-any.whl",
                                                    "pkg-1.0.tar.gz"]
    assert sel.other_versions == ()


def test_index_of_project_page_and_find_links() -> None:
    assert index_of("https://u:pw@host/simple/aiohttp/", "x", "AioHTTP") == \
        "https://host/simple/"
    assert index_of("https://host/links.html", "x", "aiohttp") == "https://host/links.html"
    assert index_of(None, "file:///wheels/a-1.0-py3-none-any.whl", "a") == "file:///wheels/"


def test_target_from_pip_default_is_the_running_interpreter() -> None:
    tp = SimpleNamespace(platforms=None, _given_py_version_info=None, abis=None,
                         implementation=None, py_version_info=(3, 11, 7))
    assert target_from_pip(tp, RUNNING) is RUNNING


def test_target_from_pip_platform_options_make_a_full_libc_target() -> None:
    tp = SimpleNamespace(platforms=["manylinux_2_28_aarch64", "manylinux2014_aarch64"],
                         _given_py_version_info=(3, 10), abis=None, implementation="cp",
                         py_version_info=(3, 10, 0))
    t = target_from_pip(tp, RUNNING)
    assert (t.python_version, t.machine, t.libc, t.libc_version) == \
        ((3, 10), "aarch64", "glibc", (2, 28))
    tags = {str(x) for x in t.tags}
    # every older manylinux_2_N counts (PEP 600), though pip matches the given tags exactly
    assert "cp310-cp310-manylinux_2_17_aarch64" in tags
    assert "cp310-cp310-manylinux_2_29_aarch64" not in tags


def test_target_from_pip_other_platforms_are_taken_as_given() -> None:
    tp = SimpleNamespace(platforms=["macosx_11_0_arm64"], _given_py_version_info=(3, 12),
                         abis=["cp312"], implementation="cp", py_version_info=(3, 12, 0))
    t = target_from_pip(tp, RUNNING)
    assert "cp312-cp312-macosx_11_0_arm64" in {str(x) for x in t.tags}
    assert t.libc == "unknown"


def test_parse_pip_options_reads_arguments_and_requirement_files(tmp_path: Path) -> None:
    req = tmp_path / "req.txt"
    (tmp_path / "more.txt").write_text("--extra-index-url https://extra.example/simple/\n")
    req.write_text("-i https://u:pw@main.example/simple/\n-r more.txt\naiohttp==3.6.2\n")
    opts = parse_pip_options(
        ["-r", str(req), "--find-links", "/wheels", "--target", "/t", "--python-version",
         "38", "--platform", "manylinux1_x86_64", "--only-binary=:all:"],
        environ={}, use_pip=False)
    assert opts.index.index_urls == ("https://u:pw@main.example/simple/",
                                     "https://extra.example/simple/")
    assert opts.index.find_links == ("/wheels",)
    assert opts.install_options["target_dir"] == "/t"
    assert opts.target_python.py_version_info == (3, 8)
    t = target_from_pip(opts.target_python, RUNNING)
    assert t.python_version == (3, 8) and t.libc_version == (2, 5)


def test_parse_pip_options_no_index_and_environment() -> None:
    opts = parse_pip_options(["pkg"], environ={"PIP_INDEX_URL": "https://env.example/simple/",
                                               "PIP_FIND_LINKS": "/a /b"}, use_pip=False)
    assert opts.index.index_urls == ("https://env.example/simple/",)
    assert opts.index.find_links == ("/a", "/b")
    assert parse_pip_options(["--no-index", "pkg"], environ={}, use_pip=False
                             ).index.index_urls == ()


def test_records_from_a_pip_report_use_the_real_listing(index_server: IndexServer) -> None:
    """pip's --report shape (version 1) judged against the local index's real listing."""
    base = index_server.url.replace("/simple/", "/files/")
    report = {"version": "1", "install": [
        {"metadata": {"name": "wg-purefallback", "version": "1.0"}, "is_direct": False,
         "download_info": {"url": base + "wg_purefallback-1.0-py3-none-any.whl",
                           "archive_info": {"hashes": {"sha256": "00" * 32}}}},
        {"metadata": {"name": "mylib", "version": "0.1"}, "is_direct": True,
         "download_info": {"url": "file:///src/mylib", "dir_info": {}}},
    ]}
    client = IndexClient(IndexConfig(index_urls=(index_server.url,)))
    notes: list[str] = []
    recs = records_from_report(report, client, RUNNING, Config(mode="strict"), notes)
    assert notes == []
    pure, local = recs
    assert pure.verdict == "refused" and pure.findings[0].code == "PURE_FALLBACK"
    assert {c.filename for c in pure.selection.candidates} == {
        "wg_purefallback-1.0-py3-none-any.whl", "wg_purefallback-1.0.tar.gz",
        "wg_purefallback-1.0-cp37.cp38-cp37m.cp38-manylinux1_x86_64.whl"}
    assert "2.0+" in pure.findings[0].hint
    assert local.selection.first_party and local.verdict == "ok"


def test_pip_support_by_version() -> None:
    """In-process from pip 23.0.1; subprocess mode from 22.2 (``--dry-run --report``);
    refused below; a version that is no PEP 440 version is left to feature detection."""
    from poetry_wheelguard.pip.cli import pip_support

    assert [pip_support(v) for v in ("20.0.2", "22.1.2", "22.2", "23.0", "23.0.1", "26.3",
                                     "27.0.dev0", "not-a-version")] == \
        ["unsupported", "unsupported", "subprocess", "subprocess", None, None, None, None]


def test_a_missing_pip_name_is_recorded_and_reported() -> None:
    from poetry_wheelguard.pip import compat
    from poetry_wheelguard.report import Report

    notes = compat.CheckNotes()
    assert compat.finder_of(object(), notes) is None
    assert compat.installed_dists(object(), notes) is None
    compat.finder_of(object(), notes)  # recorded once
    degraded = notes.to_json()
    assert [d["missing"] for d in degraded] == ["Factory._finder", "Factory._installed_dists"]
    assert degraded[0]["check"].startswith(compat.CHECK_PRECHECK)
    data = Report(command="install", mode="strict", target=None,
                  degraded_checks=degraded).to_json()
    validate_report(data)
    assert data["degraded_checks"] == degraded
    assert "degraded_checks" not in Report(command="install", mode="warn", target=None).to_json()


def test_hints_never_name_a_yanked_release() -> None:
    """PEP 592: every file of aiohttp 3.8.2 is yanked (the real case, issue 10 item 16), so
    other_versions leave it out and the hint names 3.8.3, the first usable release."""
    yanked = SeenLink(filename="aiohttp-3.8.2-cp311-cp311-manylinux_2_17_x86_64.whl",
                      url="https://files.example/aiohttp-3.8.2.whl", version="3.8.2",
                      yanked=True, index=IDX)
    usable = link("aiohttp-3.8.3-cp311-cp311-manylinux_2_17_x86_64.whl", "3.8.3")
    sel = build_selection("aiohttp", "3.6.2", AIOHTTP[1], [*AIOHTTP[:3], yanked, usable])
    assert [v for v, _files in sel.other_versions] == ["3.8.3"]
    hints = [f.hint for f in evaluate(sel, RUNNING, Config(mode="strict")).findings]
    assert any("aiohttp 3.8.3+ has a wheel" in h for h in hints), hints
    assert not any("3.8.2" in h for h in hints)


def test_selection_carries_the_specifier_pip_resolves_under() -> None:
    """Item 3: the hint names the nearest version inside the requirement's specifier."""
    files = [*AIOHTTP[:3], link("aiohttp-3.8.3-cp311-cp311-manylinux_2_17_x86_64.whl", "3.8.3"),
             link("aiohttp-3.6.1-cp311-cp311-manylinux_2_17_x86_64.whl", "3.6.1")]
    sel = build_selection("aiohttp", "3.6.2", AIOHTTP[1], files, specifier="<3.7,>=3.6")
    assert sel.specifier == "<3.7,>=3.6"
    hints = [f.hint for f in evaluate(sel, RUNNING, Config(mode="strict")).findings]
    assert any("3.6.1 is the newest older version with one (inside <3.7,>=3.6)" in h
               for h in hints), hints
