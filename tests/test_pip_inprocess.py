"""``pip-guard install`` in this very process, with the test environment's own pip.

Installs go to ``--target`` directories under tmp (never into the test environment), from
the local fixture index; pip is isolated from this machine's configuration.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from poetry_wheelguard import cli, exitcodes
from tests.support.dists import build_sdist, build_wheel
from tests.support.env import isolated_env
from tests.support.index import IndexServer, StaticIndex
from tests.support.projects import BACKTRACK_MARKERS, FixtureIndex, build_backtrack_index
from tests.support.schema import validate_report


@pytest.fixture(autouse=True)
def _pip_isolation(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """cwd has no pyproject.toml (the conftest fixture already isolates pip and
    WHEELGUARD_*)."""
    monkeypatch.chdir(tmp_path)
    yield


def guard(*args: str) -> int:
    return cli.main(list(args))


def pip_args(index: IndexServer, target: Path, *reqs: str) -> list[str]:
    return ["install", "--no-cache-dir", "--target", str(target), "--index-url", index.url,
            *reqs]


def load_report(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    validate_report(data)
    return data


def test_strict_refusal_in_process(index_server: IndexServer, tmp_path: Path,
                                   capfd: pytest.CaptureFixture[str]) -> None:
    index_server.requests.clear()
    target, report = tmp_path / "site", tmp_path / "r.json"
    code = guard("--mode", "strict", "--report", str(report),
                 *pip_args(index_server, target, "wg-purefallback==1.0"))
    out, err = capfd.readouterr()
    assert code == exitcodes.REFUSED, err
    assert not target.exists()
    assert index_server.file_requests() == []
    assert "PURE_FALLBACK" in err and "Traceback" not in out + err
    data = load_report(report)
    assert data["exit_code"] == exitcodes.REFUSED
    assert [p["verdict"] for p in data["packages"]] == ["refused"]
    # pip's own hooks are back in place after the run
    from pip._internal.index.package_finder import LinkEvaluator
    from pip._internal.resolution.resolvelib.candidates import LinkCandidate

    assert LinkEvaluator.evaluate_link.__module__.startswith("pip.")
    assert LinkCandidate.__init__.__module__.startswith("pip.")


def test_warn_install_reports_every_package(index_server: IndexServer, tmp_path: Path,
                                            capfd: pytest.CaptureFixture[str]) -> None:
    target, report = tmp_path / "site", tmp_path / "r.json"
    code = guard("--report", str(report),
                 *pip_args(index_server, target, "wg-healthy", "wg-purefallback==1.0"))
    out, err = capfd.readouterr()
    assert code == exitcodes.OK, err
    assert (target / "wg_healthy").is_dir() and (target / "wg_purefallback").is_dir()
    pkgs = {p["name"]: p for p in load_report(report)["packages"]}
    assert set(pkgs) == {"wg-healthy", "wg-puredep", "wg-purefallback"}
    assert pkgs["wg-healthy"]["verdict"] == "ok" and not pkgs["wg-healthy"]["pure"]
    assert pkgs["wg-healthy"]["tags"] == ["cp311-cp311-manylinux_2_17_x86_64"]
    assert len(pkgs["wg-healthy"]["sha256"]) == 64
    assert pkgs["wg-purefallback"]["verdict"] == "warn"
    assert [f["code"] for f in pkgs["wg-purefallback"]["findings"]] == ["PURE_FALLBACK"]
    reasons = {c["filename"]: c["rejected_reason"] for c in pkgs["wg-purefallback"]["candidates"]}
    assert "are compatible" in reasons[
        "wg_purefallback-1.0-cp37.cp38-cp37m.cp38-manylinux1_x86_64.whl"]
    # the table goes to stderr; stdout stays pip's
    assert "wg-purefallback" in err and "PURE_FALLBACK" not in out


def test_no_binary_is_an_ignored_compatible_wheel(index_server: IndexServer, tmp_path: Path,
                                                  capfd: pytest.CaptureFixture[str],
                                                  fixture_index: FixtureIndex) -> None:
    report = tmp_path / "r.json"
    code = guard("--mode", "strict", "--report", str(report),
                 *pip_args(index_server, tmp_path / "site", "--no-binary", "wg-ignored",
                           "wg-ignored==1.0"))
    _out, err = capfd.readouterr()
    assert code == exitcodes.REFUSED, err
    assert not fixture_index.marker("wg-ignored").exists()
    pkg = load_report(report)["packages"][0]
    assert {f["code"] for f in pkg["findings"]} == {"IGNORED_COMPATIBLE_WHEEL", "SDIST_BUILD"}
    reasons = [c["rejected_reason"] or "" for c in pkg["candidates"]]
    assert sum("No binaries permitted" in r for r in reasons) == 2


def test_pip_target_options_are_the_target(index_server: IndexServer, tmp_path: Path,
                                           capfd: pytest.CaptureFixture[str]) -> None:
    """With --python-version 3.8 the cp38 wheel is compatible and chosen: ok; the same
    requirement for this interpreter is a refused pure fallback."""
    report = tmp_path / "r.json"
    code = guard("--mode", "strict", "--report", str(report), *pip_args(
        index_server, tmp_path / "site", "--only-binary=:all:", "--python-version", "3.8",
        "--platform", "manylinux1_x86_64", "wg-purefallback==1.0"))
    _out, err = capfd.readouterr()
    assert code == exitcodes.OK, err
    data = load_report(report)
    assert data["target"]["python_version"] == "3.8"
    assert data["packages"][0]["filename"].endswith("cp37.cp38-cp37m.cp38-manylinux1_x86_64.whl")
    assert data["verification"]["status"] == "skipped"


LEGACY_SCRIPT = """
import json, sys
from poetry_wheelguard.config import Config
from poetry_wheelguard.pip import hooks
from poetry_wheelguard.pip.cli import call_pip
from poetry_wheelguard.targets import running_target
api = hooks.detect()
session = hooks.GuardSession(Config(mode="strict"), running_target())
with hooks.installed(api, session):
    code = call_pip(api.main, sys.argv[1:], session.refusal)
print(json.dumps({"code": code, "refused": len(session.refused),
                  "via": [d.via for d in session.decisions]}))
"""


def test_legacy_resolver_is_caught_by_the_backstop(index_server: IndexServer,
                                                   tmp_path: Path) -> None:
    """Run in its own interpreter: pip's option defaults are lists that ``append`` options
    mutate, so ``--use-deprecated`` would leak into later in-process pip runs."""
    index_server.requests.clear()
    proc = subprocess.run(
        [sys.executable, "-c", LEGACY_SCRIPT,
         *pip_args(index_server, tmp_path / "site", "--use-deprecated=legacy-resolver",
                   "wg-purefallback==1.0")],
        capture_output=True, text=True, env=isolated_env(), cwd=tmp_path)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"code": 1, "refused": 1, "via": ["backstop"]}, proc.stderr
    assert index_server.file_requests() == []


@pytest.fixture(scope="module")
def backtrack_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """The backtracking projects (:func:`tests.support.projects.build_backtrack_index`)."""
    with build_backtrack_index(tmp_path_factory.mktemp("backtrack")).serve() as server:
        yield server


def test_backtracking_warn_reports_only_the_final_choice(
        backtrack_index: IndexServer, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "r.json"
    code = guard("--report", str(report), *pip_args(backtrack_index, tmp_path / "site", "wg-bt"))
    _out, err = capfd.readouterr()
    assert code == exitcodes.OK, err
    assert [(p["name"], p["version"], p["verdict"]) for p in load_report(report)["packages"]] \
        == [("wg-bt", "1.0", "ok")]
    assert "PURE_FALLBACK" not in err  # wg-bt 2.0 was judged, then discarded by pip


def test_backtracking_strict_passes_over_the_refused_candidate(
        backtrack_index: IndexServer, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """Strict mode takes the refused wg-bt 2.0 out of pip's choice (never fetched): pip
    finds wg-bt 1.0 among the files the policy accepts, installs it, and the table and the
    report say that 2.0 was refused and passed over (PASSED_OVER, ``passed_over``)."""
    backtrack_index.requests.clear()
    report = tmp_path / "r.json"
    code = guard("--mode", "strict", "--report", str(report),
                 *pip_args(backtrack_index, tmp_path / "site", "wg-bt"))
    _out, err = capfd.readouterr()
    assert code == exitcodes.OK, err
    assert (tmp_path / "site" / "wg_bt").is_dir()
    files = backtrack_index.file_requests()
    assert files and all("wg_bt-1.0-" in f for f in files), files
    data = load_report(report)
    [pkg] = data["packages"]
    assert (pkg["name"], pkg["version"], pkg["verdict"]) == ("wg-bt", "1.0", "warn")
    assert pkg["passed_over"] == [{"version": "2.0", "filename": "wg_bt-2.0-py3-none-any.whl",
                                   "codes": ["PURE_FALLBACK"]}]
    [finding] = pkg["findings"]
    assert finding["code"] == "PASSED_OVER" and finding["severity"] == "warning"
    assert "wg-bt 1.0 installed instead of 2.0" in finding["message"]
    assert data["pip"]["passed_over"] == [{
        "name": "wg-bt", "version": "2.0", "filename": "wg_bt-2.0-py3-none-any.whl",
        "codes": ["PURE_FALLBACK"], "installed": "1.0"}]
    assert "PASSED_OVER" in err and "wg-bt 1.0 installed instead of 2.0" in err
    # pinning the version pip reached: no refused file met, no finding
    code = guard("--mode", "strict", "--report", str(report),
                 *pip_args(backtrack_index, tmp_path / "pinned", "wg-bt==1.0"))
    assert code == exitcodes.OK, capfd.readouterr().err
    assert load_report(report)["packages"][0]["findings"] == []


def test_strict_passes_over_a_refused_sdist_met_while_backtracking(
        backtrack_index: IndexServer, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """The aiohttp 2.3.10 class (issue 10 item 15): an older release's sdist met only while
    pip explores is not a refusal when pip finds a solution without it. Strict mode never
    runs its build backend, installs what plain pip reaches (wg-app 1.0, wg-lib 2.0), and
    gives no PASSED_OVER (pip installed a newer wg-lib than the refused one), while the
    report still lists the passed-over file."""
    backtrack_index.requests.clear()
    report = tmp_path / "r.json"
    code = guard("--mode", "strict", "--report", str(report),
                 *pip_args(backtrack_index, tmp_path / "site", "wg-app"))
    _out, err = capfd.readouterr()
    assert code == exitcodes.OK, err
    marker_dir = backtrack_index.root / BACKTRACK_MARKERS
    assert list(marker_dir.iterdir()) == []  # wg-lib 1.0's setup.py never ran
    assert not any("wg_lib-1.0" in f for f in backtrack_index.file_requests())
    data = load_report(report)
    pkgs = {p["name"]: p for p in data["packages"]}
    assert {n: (p["version"], p["verdict"]) for n, p in pkgs.items()} == {
        "wg-app": ("1.0", "ok"), "wg-lib": ("2.0", "ok")}
    assert pkgs["wg-lib"]["findings"] == []
    assert pkgs["wg-lib"]["passed_over"] == [
        {"version": "1.0", "filename": "wg_lib-1.0.tar.gz", "codes": ["SDIST_BUILD"]}]
    assert [(p["name"], p["installed"]) for p in data["pip"]["passed_over"]] == \
        [("wg-lib", "2.0")]
    assert (tmp_path / "site" / "wg_lib").is_dir()


def test_pip_errors_keep_pips_exit_code(index_server: IndexServer, tmp_path: Path,
                                        capfd: pytest.CaptureFixture[str]) -> None:
    code = guard("--mode", "strict", *pip_args(index_server, tmp_path / "a", "wg-nosuchthing"))
    out, err = capfd.readouterr()
    assert code == 1 and "Traceback" not in out + err
    assert "wg-nosuchthing" in err
    code = guard("install", "--target", str(tmp_path / "b"), "--no-option-like-this", "x")
    out, err = capfd.readouterr()
    assert code == 2 and "Traceback" not in out + err  # pip's own usage error


def test_bad_guard_config_is_a_usage_error(monkeypatch: pytest.MonkeyPatch,
                                           capfd: pytest.CaptureFixture[str],
                                           index_server: IndexServer, tmp_path: Path) -> None:
    monkeypatch.setenv("WHEELGUARD_MODE", "paranoid")
    code = guard(*pip_args(index_server, tmp_path / "site", "wg-puredep"))
    _out, err = capfd.readouterr()
    assert code == exitcodes.USAGE
    assert err.count("\n") == 1 and "paranoid" in err
    assert not (tmp_path / "site").exists()


def test_refusal_of_a_dependency_names_what_pip_prepared_before(
        backtrack_index: IndexServer, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """The documented limit: a dependency is known only from its parent's metadata, so
    the parent was fetched before the dependency's refusal; the refused file was not, and
    the message says which is which."""
    backtrack_index.requests.clear()
    report = tmp_path / "r.json"
    code = guard("--mode", "strict", "--report", str(report),
                 *pip_args(backtrack_index, tmp_path / "site", "wg-parent"))
    _out, err = capfd.readouterr()
    assert code == exitcodes.REFUSED, err
    assert ("pip-guard refused wg-bt 2.0 (wg_bt-2.0-py3-none-any.whl): PURE_FALLBACK; pip "
            "found no solution without it; this file was not downloaded or built and nothing "
            "was installed; pip had already fetched and prepared the metadata of wg-parent "
            "1.0") in err
    assert "pip had already fetched and prepared the metadata of wg-parent 1.0 (in pip's " \
        "cache" in err
    files = backtrack_index.file_requests()
    assert files and all("wg_parent-1.0" in f for f in files), files
    # wg-bt is looked for under wg-parent's requirement (the hint reads inside it)
    assert "no version inside >=2 has a wheel for" in err
    assert not (tmp_path / "site").exists()
    assert [(p["name"], p["verdict"]) for p in load_report(report)["packages"]] == \
        [("wg-parent", "ok"), ("wg-bt", "refused")]


def test_strict_refuses_a_top_level_requirement_before_pip_prepares_any(
        index_server: IndexServer, fixture_index: FixtureIndex, tmp_path: Path,
        capfd: pytest.CaptureFixture[str]) -> None:
    """wg-sdistonly (an sdist: pip would run its build backend for its metadata) comes
    first and is resolved first; wg-purefallback, pinned to 1.0 by a -c constraint, is
    refused before it: its setup.py never ran and no distribution file was fetched."""
    index_server.requests.clear()
    (tmp_path / "c.txt").write_text("wg-purefallback==1.0\n")
    code = guard("--mode", "strict", *pip_args(index_server, tmp_path / "site", "-c",
                                               str(tmp_path / "c.txt"), "wg-sdistonly==1.0",
                                               "wg-purefallback"))
    out, err = capfd.readouterr()
    assert code == exitcodes.REFUSED, err
    assert ("pip-guard refused wg-purefallback 1.0 (wg_purefallback-1.0-py3-none-any.whl): "
            "PURE_FALLBACK; no distribution file was downloaded or built") in err
    assert "Preparing metadata" not in out + err
    assert not fixture_index.marker("wg-sdistonly").exists()
    assert index_server.file_requests() == []
    assert not (tmp_path / "site").exists()


def test_top_level_requirements_combine_like_pips_resolver(tmp_path: Path) -> None:
    """The pre-check reads pip's own InstallRequirement objects: specifiers of one name
    (any spelling) and its -c constraints combine; markers that do not apply, URL/path
    requirements and URL constraints leave a project to the gate."""
    from pip._internal.req.constructors import install_req_from_editable, install_req_from_line

    from poetry_wheelguard.pip.hooks import top_level_requirements

    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "setup.py").write_text("")
    reqs = [
        install_req_from_line("WG_A>=1", user_supplied=True),
        install_req_from_line("wg-a<3", user_supplied=True),
        install_req_from_line("wg.a!=2", constraint=True),
        install_req_from_line("wg-b @ https://files.example/wg_b-1.0-py3-none-any.whl"),
        install_req_from_line('wg-c==1.0; python_version < "3"', user_supplied=True),
        install_req_from_line("wg-d==1.0", user_supplied=True),
        install_req_from_line("wg-d @ https://files.example/wg_d-1.0-py3-none-any.whl",
                              constraint=True),
        install_req_from_line("wg-e==2.0", user_supplied=True),
        install_req_from_line("wg-e<9", constraint=True),
        install_req_from_line("wg-unrelated==1", constraint=True),
        install_req_from_editable(str(tmp_path / "proj"), user_supplied=True),
    ]
    wanted = top_level_requirements(reqs)
    assert list(wanted) == ["wg-a", "wg-e"]
    assert {str(s) for s in wanted["wg-a"][0]} == {">=1", "<3", "!=2"}
    assert {str(s) for s in wanted["wg-e"][0]} == {"==2.0", "<9"}


def test_unwritable_report_path_fails_before_pip(index_server: IndexServer, tmp_path: Path,
                                                  capfd: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "plain-file").write_text("")
    for bad in ("/proc/nope/r.json", str(tmp_path / "plain-file" / "r.json"), str(tmp_path)):
        index_server.requests.clear()
        code = guard("--report", bad, *pip_args(index_server, tmp_path / "site", "wg-puredep"))
        out, err = capfd.readouterr()
        assert code == exitcodes.USAGE, err
        assert err.count("\n") == 1 and err.startswith("pip-guard: error: ") and bad in err
        assert out == "" and index_server.requests == []
        assert not (tmp_path / "site").exists()
    code = guard("--report", str(tmp_path / "new" / "dir" / "r.json"),
                 *pip_args(index_server, tmp_path / "site", "wg-puredep"))
    assert code == exitcodes.OK, capfd.readouterr().err
    assert load_report(tmp_path / "new" / "dir" / "r.json")["exit_code"] == exitcodes.OK


@pytest.fixture(scope="module")
def many_refusals_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """Refusals of every kind in one requirement set: ``wg-r1 1.0`` a pure fallback (its
    0.5 has a wheel for this machine), ``wg-r2 1.0`` an sdist beside a cp37 wheel,
    ``wg-ok 1.0`` a pure-only release served with PEP 658 metadata that needs ``wg-dep``,
    whose only release is an sdist beside a cp37 wheel."""
    work = tmp_path_factory.mktemp("many")
    idx = StaticIndex(work / "tree")
    markers = work / "tree" / BACKTRACK_MARKERS
    markers.mkdir(parents=True)
    idx.add([
        build_wheel(work / "d", "wg-r1", "1.0"),
        build_wheel(work / "d", "wg-r1", "1.0", "cp37-cp37m-manylinux1_x86_64"),
        build_wheel(work / "d", "wg-r1", "0.5", "py3-none-manylinux_2_17_x86_64"),
        build_sdist(work / "d", "wg-r2", "1.0", marker=markers / "wg-r2.built"),
        build_wheel(work / "d", "wg-r2", "1.0", "cp37-cp37m-manylinux1_x86_64"),
        build_sdist(work / "d", "wg-dep", "1.0", marker=markers / "wg-dep.built"),
        build_wheel(work / "d", "wg-dep", "1.0", "cp37-cp37m-manylinux1_x86_64"),
    ])
    idx.add([build_wheel(work / "d", "wg-ok", "1.0", requires=["wg-dep"])], core_metadata=True)
    with idx.serve() as server:
        yield server


def test_strict_lists_every_refusal_known_without_a_download(
        many_refusals_index: IndexServer, tmp_path: Path,
        capfd: pytest.CaptureFixture[str]) -> None:
    """Issue 10 item 10: one run names the two refused top-level requirements and the
    refused dependency of the third, read from its PEP 658 metadata; no distribution file
    is downloaded and no build backend runs."""
    index = many_refusals_index
    index.requests.clear()
    report = tmp_path / "r.json"
    code = guard("--mode", "strict", "--report", str(report),
                 *pip_args(index, tmp_path / "site", "wg-r1==1.0", "wg-r2==1.0", "wg-ok"))
    _out, err = capfd.readouterr()
    assert code == exitcodes.REFUSED, err
    assert ("pip-guard refused wg-r1 1.0 (wg_r1-1.0-py3-none-any.whl): PURE_FALLBACK; wg-r2 "
            "1.0 (wg_r2-1.0.tar.gz): SDIST_BUILD; wg-dep 1.0 (wg_dep-1.0.tar.gz): "
            "SDIST_BUILD; pip found no solution without them") in err, err[-1500:]
    assert index.file_requests() == []
    assert index.metadata_requests() == ["/files/wg_ok-1.0-py3-none-any.whl.metadata"]
    assert list((index.root / BACKTRACK_MARKERS).iterdir()) == []
    assert not (tmp_path / "site").exists()
    verdicts = {p["name"]: p["verdict"] for p in load_report(report)["packages"]}
    assert verdicts == {"wg-r1": "refused", "wg-r2": "refused", "wg-dep": "refused",
                        "wg-ok": "ok"}


def test_strict_lists_every_refused_top_level_requirement(
        many_refusals_index: IndexServer, tmp_path: Path,
        capfd: pytest.CaptureFixture[str]) -> None:
    """Without a project to read further, the pre-check alone lists both refusals."""
    many_refusals_index.requests.clear()
    code = guard("--mode", "strict", *pip_args(many_refusals_index, tmp_path / "site",
                                               "wg-r1==1.0", "wg-r2==1.0"))
    _out, err = capfd.readouterr()
    assert code == exitcodes.REFUSED, err
    assert ("pip-guard refused wg-r1 1.0 (wg_r1-1.0-py3-none-any.whl): PURE_FALLBACK; wg-r2 "
            "1.0 (wg_r2-1.0.tar.gz): SDIST_BUILD; no distribution file was downloaded or "
            "built and nothing was installed") in err
    assert many_refusals_index.file_requests() == []
    # an exact pin leaves the hint nothing "inside" to name (policy._specifier); ranges
    # are read within the requirement's specifier (tests/test_pip_selection.py)
    hints = [line for line in err.splitlines() if line.startswith("  hint:")]
    assert hints and not any("inside ==1.0" in line for line in hints)


def test_find_links_files_of_other_projects_are_not_the_release(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """pip shows every file of a find-links directory to each project's evaluation; a
    compiled wheel of another project of the same version is no file of this release."""
    links = tmp_path / "links"
    build_wheel(links, "wg-one", "1.0", requires=["wg-two"])
    build_wheel(links, "wg-two", "1.0", "py3-none-manylinux_2_17_x86_64")
    report = tmp_path / "r.json"
    code = guard("--mode", "strict", "--report", str(report), "install", "--no-cache-dir",
                 "--target", str(tmp_path / "site"), "--no-index", "--find-links", str(links),
                 "wg-one")
    assert code == exitcodes.OK, capfd.readouterr().err
    pkgs = {p["name"]: p for p in load_report(report)["packages"]}
    assert pkgs["wg-one"]["findings"] == [] and pkgs["wg-one"]["verdict"] == "ok"
    assert [c["filename"] for c in pkgs["wg-one"]["candidates"]] == \
        ["wg_one-1.0-py3-none-any.whl"]


def test_hash_mismatch_is_not_ok(index_server: IndexServer, tmp_path: Path,
                                 capfd: pytest.CaptureFixture[str]) -> None:
    """pip refuses the file for its own hash mismatch and installs nothing: the report and
    the table say NOT_INSTALLED (verdict warn), never ok with the hash the index claimed."""
    target, report = tmp_path / "site", tmp_path / "r.json"
    req = tmp_path / "req.txt"
    req.write_text("wg-puredep==1.0 --hash=sha256:" + "0" * 64 + "\n")
    code = guard("--report", str(report), "install", "--no-cache-dir", "--no-deps",
                 "--target", str(target), "--index-url", index_server.url, "-r", str(req))
    out, err = capfd.readouterr()
    assert code == 1, err  # pip's own status
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in err and "Traceback" not in out + err
    assert not (target / "wg_puredep").exists()
    (pkg,) = load_report(report)["packages"]
    assert pkg["name"] == "wg-puredep" and pkg["verdict"] == "warn"
    assert [f["code"] for f in pkg["findings"]] == ["NOT_INSTALLED"]
    assert "pip exited 1 before it was installed" in pkg["findings"][0]["message"]
    row = next(line for line in err.splitlines() if line.startswith("wg-puredep "))
    assert " ok " not in row + " " and "NOT_INSTALLED" in row
