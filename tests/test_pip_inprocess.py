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

import jsonschema
import pytest

from poetry_wheelguard import cli, exitcodes
from poetry_wheelguard.report import schema_path
from tests.support.dists import build_wheel
from tests.support.env import isolated_env
from tests.support.index import IndexServer, StaticIndex
from tests.support.projects import FixtureIndex


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
    jsonschema.validate(data, json.loads(schema_path().read_text()))
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
    (a pure-only release: ok)."""
    work = tmp_path_factory.mktemp("backtrack")
    idx = StaticIndex(work / "tree")
    idx.add([
        build_wheel(work / "d", "wg-bt", "2.0", requires=["wg-bt-missing>=1"]),
        build_wheel(work / "d", "wg-bt", "2.0", "cp37-cp37m-manylinux1_x86_64"),
        build_wheel(work / "d", "wg-bt", "1.0"),
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
