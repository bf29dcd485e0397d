"""``pip-guard install`` in this very process, with the test environment's own pip.

Installs go to ``--target`` directories under tmp (never into the test environment), from
the local fixture index; pip is isolated from this machine's configuration.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from poetry_wheelguard import cli, exitcodes
from tests.support.dists import build_wheel
from tests.support.env import isolated_env
from tests.support.index import IndexServer, StaticIndex
from tests.support.projects import FixtureIndex
from tests.support.schema import validate_report


@pytest.fixture(autouse=True)
def _pip_isolation(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """pip reads no configuration of this machine; no WHEELGUARD_* leaks in; cwd has no
    pyproject.toml."""
    for key in list(os.environ):
        if key.startswith(("PIP_", "WHEELGUARD_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    monkeypatch.setenv("PIP_NO_INPUT", "1")
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
    """``wg-bt 2.0``: a pure wheel (with a cp37 platform wheel beside it: a pure fallback)
    that needs a project no index has, so pip discards it and backtracks to ``wg-bt 1.0``
    (a pure-only release: ok). ``wg-parent 1.0`` (pure-only: ok) needs ``wg-bt>=2``."""
    work = tmp_path_factory.mktemp("backtrack")
    idx = StaticIndex(work / "tree")
    idx.add([
        build_wheel(work / "d", "wg-bt", "2.0", requires=["wg-bt-missing>=1"]),
        build_wheel(work / "d", "wg-bt", "2.0", "cp37-cp37m-manylinux1_x86_64"),
        build_wheel(work / "d", "wg-bt", "1.0"),
        # an older release with a wheel for this machine's CPython: 2.0's pure wheel is an
        # error (a compiled wheel exists in another release); 1.0 is pure-only: ok
        build_wheel(work / "d", "wg-bt", "0.5", "py3-none-manylinux_2_17_x86_64"),
        build_wheel(work / "d", "wg-parent", "1.0", requires=["wg-bt>=2"]),
    ])
    with idx.serve() as server:
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


def test_backtracking_strict_refuses_the_first_committed_candidate(
        backtrack_index: IndexServer, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """Documented (docs/pip.md): pip can only learn that it will discard wg-bt 2.0 from its
    metadata, which strict mode must not fetch; the refusal falls on wg-bt 2.0."""
    backtrack_index.requests.clear()
    code = guard("--mode", "strict", *pip_args(backtrack_index, tmp_path / "site", "wg-bt"))
    _out, err = capfd.readouterr()
    assert code == exitcodes.REFUSED, err
    assert "wg-bt 2.0" in err and "PURE_FALLBACK" in err
    assert backtrack_index.file_requests() == []
    # pinning what pip would have reached installs it
    code = guard("--mode", "strict", *pip_args(backtrack_index, tmp_path / "site", "wg-bt==1.0"))
    assert code == exitcodes.OK, capfd.readouterr().err


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
    assert ("pip-guard refused wg-bt 2.0 (wg_bt-2.0-py3-none-any.whl): PURE_FALLBACK; this "
            "file was not downloaded or built and nothing was installed; pip had already "
            "fetched and prepared the metadata of wg-parent 1.0") in err
    assert "pip had already fetched and prepared the metadata of wg-parent 1.0 (in pip's " \
        "cache" in err
    files = backtrack_index.file_requests()
    assert files and all("wg_parent-1.0" in f for f in files), files
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
