"""``plan -r``: the transitive dependencies of the requirements, read from metadata that
needs no build (PEP 658 ``.metadata`` files, a wheel's METADATA, an sdist's static PKG-INFO
per PEP 643), and every dependency that cannot be planned named with its reason. Against a
real index on 127.0.0.1 with real wheels and sdists (whose build would leave a marker)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from poetry_wheelguard.cli import main
from poetry_wheelguard.config import Config
from poetry_wheelguard.index import IndexClient, IndexConfig
from poetry_wheelguard.models import PackageRecord
from poetry_wheelguard.pages import parse_html, parse_json
from poetry_wheelguard.planning import plan_requirements
from poetry_wheelguard.requirements import RequirementSet, parse_requirement_line
from poetry_wheelguard.target_options import preset_target
from tests.support.dists import build_sdist, build_wheel
from tests.support.index import IndexServer, StaticIndex
from tests.support.schema import validate_report

SLIM311, SLIM38 = "python:3.11-slim", "python:3.8-slim"
CP311 = "cp311-cp311-manylinux_2_17_x86_64"


@dataclass
class DepIndex:
    index: StaticIndex
    markers: Path


@pytest.fixture
def dep_index(tmp_path: Path) -> DepIndex:
    """wg-parent 1.0 (PEP 658 metadata served) needs: wg-child>=1.0 (pure wheels 1.0, 2.0,
    3.0a1, no .metadata: read from the wheel; 2.0 needs wg-grandchild==1.1), wg-static
    (an sdist only, static PKG-INFO, needs wg-child<3), wg-dynamic (an sdist only,
    ``Dynamic: Requires-Dist``), wg-old on Python < 3.10, wg-winonly on Windows (not on the
    index), wg-fastdep with the ``fast`` extra, wg-missing (not on the index)."""
    dl, markers = tmp_path / "dl", tmp_path / "markers"
    markers.mkdir()
    index = StaticIndex(tmp_path / "index")
    index.add([build_wheel(dl, "wg-parent", "1.0", requires=[
        "wg-child>=1.0", "wg-static", "wg-dynamic", "wg-missing>=1",
        'wg-old; python_version < "3.10"', 'wg-winonly; sys_platform == "win32"',
        'wg-fastdep; extra == "fast"'])], core_metadata=True)
    index.add([build_wheel(dl, "wg-child", "1.0"),
               build_wheel(dl, "wg-child", "2.0", requires=["wg-grandchild==1.1"]),
               build_wheel(dl, "wg-child", "3.0a1"),
               build_wheel(dl, "wg-grandchild", "1.0"), build_wheel(dl, "wg-grandchild", "1.1"),
               build_wheel(dl, "wg-old", "1.0"), build_wheel(dl, "wg-fastdep", "1.0", CP311),
               build_sdist(dl, "wg-static", "1.0", markers / "wg-static.built",
                           requires=["wg-child<3"]),
               build_sdist(dl, "wg-dynamic", "1.0", markers / "wg-dynamic.built",
                           requires=["wg-grandchild"], dynamic=["Requires-Dist"])])
    return DepIndex(index, markers)


@pytest.fixture
def dep_server(dep_index: DepIndex) -> Iterator[IndexServer]:
    with dep_index.index.serve() as server:
        yield server


def _plan(reqs: list[str], targets: list[str], url: str) -> dict[str, dict[str, PackageRecord]]:
    rs = RequirementSet()
    for r in reqs:
        parse_requirement_line(r, "test", rs)
    client = IndexClient(IndexConfig(index_urls=(url,)))
    result = plan_requirements(rs, [preset_target(t) for t in targets], Config(), client)
    return {t: {r.selection.name: r for r in recs} for t, recs in result.records.items()}


def _codes(rec: PackageRecord) -> list[str]:
    return [f.code for f in rec.findings]


def test_pinned_parent_plans_its_dependencies(dep_index: DepIndex,
                                              dep_server: IndexServer) -> None:
    plans = _plan(["wg-parent==1.0"], [SLIM311, SLIM38], dep_server.url)
    slim = plans[SLIM311]
    assert list(slim) == ["wg-parent", "wg-child", "wg-static", "wg-dynamic",
                          "wg-grandchild"]
    child = slim["wg-child"]
    assert child.selection.version == "2.0"  # the newest final release, not 3.0a1
    assert child.selection.chosen.filename == "wg_child-2.0-py3-none-any.whl"
    assert child.selection.required_by == ("wg-parent", "wg-static")
    assert child.verdict == "ok" and child.findings == []
    grandchild = slim["wg-grandchild"]
    assert (grandchild.selection.version, grandchild.selection.required_by) == \
        ("1.1", ("wg-child",))
    assert slim["wg-parent"].selection.required_by == ()
    # an sdist with static metadata (PEP 643) is planned as what it is: a build
    static = slim["wg-static"]
    assert static.kind == "sdist" and _codes(static) == ["SDIST_BUILD"]
    # an sdist with dynamic Requires-Dist: planned, its own dependencies named as unknown
    dynamic = slim["wg-dynamic"]
    assert dynamic.kind == "sdist" and _codes(dynamic) == ["SDIST_BUILD",
                                                           "DEPENDENCY_NOT_PLANNED"]
    assert "its sdist's metadata is dynamic" in dynamic.findings[1].message
    # a dependency off the index is named on the package that needs it
    (missing,) = [f for f in slim["wg-parent"].findings if f.code == "DEPENDENCY_NOT_PLANNED"]
    assert "wg-missing" in missing.message and "not found" in missing.message
    assert slim["wg-parent"].verdict == "warn"
    # markers: wg-old only where python_version < 3.10, wg-winonly nowhere (never looked up)
    assert "wg-old" not in slim and "wg-old" in plans[SLIM38]
    assert plans[SLIM38]["wg-old"].selection.required_by == ("wg-parent",)
    assert not any("wg-winonly" in p or "wg_winonly" in p for p in dep_server.requests)
    assert "wg-fastdep" not in slim
    # PEP 658: the parent's metadata file is read, the parent's wheel is not downloaded;
    # the child (no .metadata) is read from its wheel; no build step ran
    files = dep_server.file_requests()
    assert "/files/wg_parent-1.0-py3-none-any.whl.metadata" in dep_server.metadata_requests()
    assert "/files/wg_parent-1.0-py3-none-any.whl" not in files
    assert "/files/wg_child-2.0-py3-none-any.whl" in files
    assert list(dep_index.markers.iterdir()) == []


def test_extras_and_conflicts(dep_server: IndexServer) -> None:
    slim = _plan(["wg-parent[fast]==1.0", "wg-child==1.0"], [SLIM311], dep_server.url)[SLIM311]
    assert slim["wg-fastdep"].selection.required_by == ("wg-parent",)
    assert slim["wg-fastdep"].kind == "wheel"
    # the user's pin stays; nothing is guessed: wg-grandchild is not needed by wg-child 1.0
    assert slim["wg-child"].selection.version == "1.0"
    assert slim["wg-child"].selection.required_by == ()
    assert "wg-grandchild" not in slim


def test_conflict_is_named(tmp_path: Path) -> None:
    dl = tmp_path / "dl"
    index = StaticIndex(tmp_path / "index")
    index.add([build_wheel(dl, "wg-a", "1.0", requires=["wg-b<2"]),
               build_wheel(dl, "wg-b", "2.0"), build_wheel(dl, "wg-b", "1.5")])
    with index.serve() as server:
        slim = _plan(["wg-a==1.0", "wg-b==2.0"], [SLIM311], server.url)[SLIM311]
    (finding,) = slim["wg-a"].findings
    assert finding.code == "DEPENDENCY_NOT_PLANNED"
    assert "requires wg-b<2, but wg-b 2.0 is planned" in finding.message
    assert slim["wg-b"].selection.version == "2.0"


def test_cli_table_and_report_mark_transitive_packages(
        dep_index: DepIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Through the CLI, behind HTTP basic auth: the metadata and wheels are fetched with the
    index's credentials, which appear nowhere."""
    req = tmp_path / "requirements.txt"
    report = tmp_path / "r.json"
    with dep_index.index.serve(auth=("wg-user", "s3cr3t-token")) as server:
        req.write_text(f"--index-url {server.url}\nwg-parent==1.0\n")
        code = main(["plan", "-r", str(req), "--target", SLIM311, "--report", str(report),
                     "--no-cache"])
    assert code == 0
    out = capsys.readouterr().out
    assert "wg-child (via wg-parent +1)" in out and "wg-grandchild (via wg-child)" in out
    assert "DEPENDENCY_NOT_PLANNED" in out
    text = report.read_text()
    assert "s3cr3t-token" not in text + out
    data = validate_report(json.loads(text))
    by_name = {p["name"]: p for p in data["packages"]}
    assert by_name["wg-parent"]["required_by"] == []
    assert by_name["wg-child"]["required_by"] == ["wg-parent", "wg-static"]
    assert by_name["wg-static"]["kind"] == "sdist"


def test_index_pages_carry_core_metadata() -> None:
    """PEP 714 names first, PEP 658's older names too, in HTML and PEP 691 JSON."""
    html = (b'<a href="a-1.0-py3-none-any.whl" data-core-metadata="sha256=AB">a</a>'
            b'<a href="a-1.1-py3-none-any.whl" data-dist-info-metadata="true">a</a>'
            b'<a href="a-1.2-py3-none-any.whl">a</a>')
    got = [c.core_metadata for c in parse_html(html, "http://x/simple/a/", "x")]
    assert got == ["ab", "", None]
    body = json.dumps({"meta": {"api-version": "1.1"}, "files": [
        {"filename": "a-1.0-py3-none-any.whl", "url": "a1", "hashes": {},
         "core-metadata": {"sha256": "CD"}},
        {"filename": "a-1.1-py3-none-any.whl", "url": "a2", "hashes": {},
         "dist-info-metadata": True},
        {"filename": "a-1.2-py3-none-any.whl", "url": "a3", "hashes": {},
         "core-metadata": False}]}).encode()
    got = [c.core_metadata for c in parse_json(body, "http://x/simple/a/", "x")]
    assert got == ["cd", "", None]


def test_range_past_an_sdist_only_dependency(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """pip's wheels-only resolution stops at wg-sdep (an sdist only): the range is planned
    without it, newest release inside the range first, and the sdist is planned as a
    build, with a note that says how. (Where an older release inside the range has no
    such dependency, pip's wheels-only resolution backtracks to it instead: not here.)"""
    dl, markers = tmp_path / "dl", tmp_path / "markers"
    index = StaticIndex(tmp_path / "index")
    index.add([build_wheel(dl, "wg-top", "0.9"),
               build_wheel(dl, "wg-top", "1.1", requires=["wg-sdep>=1"]),
               build_wheel(dl, "wg-top", "2.0"),
               build_sdist(dl, "wg-sdep", "1.0", markers / "wg-sdep.built")])
    rs = RequirementSet()
    parse_requirement_line("wg-top>=1.0,<2", "test", rs)
    with index.serve() as server:
        client = IndexClient(IndexConfig(index_urls=(server.url,)))
        result = plan_requirements(rs, [preset_target(SLIM311)], Config(), client,
                                   ["--index-url", server.url])
        report = tmp_path / "r.json"
        assert main(["plan", "--index-url", server.url, "--no-cache", "--target", SLIM311,
                     "--report", str(report), "wg-top>=1.0,<2"]) == 0
    err = capsys.readouterr().err
    assert f"pip-guard: note: {SLIM311}: pip's wheels-only resolution stopped" in err
    data = validate_report(json.loads(report.read_text()))
    assert data["plan"]["notes"] == result.notes
    recs = {r.selection.name: r for r in result.records[SLIM311]}
    assert recs["wg-top"].selection.version == "1.1"
    assert recs["wg-top"].selection.specifier == "<2,>=1.0"
    sdep = recs["wg-sdep"]
    assert (sdep.kind, _codes(sdep), sdep.selection.required_by) == \
        ("sdist", ["SDIST_BUILD"], ("wg-top",))
    (note,) = result.notes
    assert note.startswith(f"{SLIM311}: pip's wheels-only resolution stopped") and \
        "wg-sdep" in note
    assert not markers.exists() or list(markers.iterdir()) == []
