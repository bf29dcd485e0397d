"""`pip-guard plan --target python:3.11-alpine` on the glibc host predicts the real install on
the musl interpreter: the same file and the same findings, for every musl fixture."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from poetry_wheelguard import exitcodes
from poetry_wheelguard.verify import VERIFY_CODES
from tests.musl.conftest import ALL_FIXTURES, Scenarios, validate_report
from tests.support.index import IndexServer
from tests.support.musl import HEALTHY, MuslVenv, run

pytestmark = pytest.mark.musl


# A plan's own note on how complete it is (a dependency it could not read without a
# build): no installer says it, so it is not compared with an install.
PLAN_ONLY_CODES = frozenset({"DEPENDENCY_NOT_PLANNED"})


def policy_findings(report: dict[str, Any], pkg: dict[str, Any]) -> set[tuple[str, ...]]:
    """``(code, severity, message, hint)`` of the install-policy findings of ``pkg`` (verify's
    codes need the installed files: not the plan's to predict), with the report's target
    label written as ``<target>`` (a preset name in the plan, the probed name on musl)."""
    targets = report["target"] if isinstance(report["target"], list) else [report["target"]]
    labels = [t["name"] for t in targets if t and t.get("name")]

    def neutral(text: str) -> str:
        for label in labels:
            text = text.replace(label, "<target>")
        return text

    return {(f["code"], f["severity"], neutral(f["message"]), neutral(f.get("hint") or ""))
            for f in pkg["findings"] if f["code"] not in {*VERIFY_CODES, *PLAN_ONLY_CODES}}


def plan(server: IndexServer, work: Path, *requirements: str) -> tuple[int, dict[str, Any], str]:
    """``pip-guard --mode strict plan --target python:3.11-alpine REQS`` on this (glibc)
    interpreter, with the musl index as pip's configured index."""
    report = work / "plan.json"
    proc = run([sys.executable, "-m", "poetry_wheelguard", "--mode", "strict", "--report",
                str(report), "plan", "--target", "python:3.11-alpine", *requirements],
               env={"PIP_INDEX_URL": server.url, "WHEELGUARD_CACHE_DIR": str(work / "cache")},
               cwd=work)
    assert report.exists(), proc.stdout + proc.stderr
    data = json.loads(report.read_text())
    validate_report(data)
    return proc.returncode, data, proc.stdout + proc.stderr


def _entry(report: dict[str, Any], project: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [p for p in report["packages"] if p["name"] == project]
    assert len(found) == 1, report["packages"]
    return found[0]


@pytest.mark.parametrize("project", ALL_FIXTURES)
def test_plan_predicts_the_musl_install(project: str, scenarios: Scenarios,
                                        musl_server: IndexServer, tmp_path: Path) -> None:
    real = scenarios.get(project)
    installed = real.package(project)
    code, report, output = plan(musl_server, tmp_path, f"{project}==1.0")
    planned = _entry(report, project)
    assert planned["filename"] == installed["filename"], output
    assert planned["version"] == installed["version"] == "1.0"
    assert real.report is not None
    assert policy_findings(report, planned) == policy_findings(real.report, installed)
    # refused before install (exit 10), not after it by verify (exit 11): what a plan predicts
    refused = real.report["exit_code"] == exitcodes.REFUSED
    assert (planned["verdict"] == "refused") == refused
    assert code == (exitcodes.REFUSED if refused else exitcodes.OK), output


def test_plan_target_has_the_real_interpreters_tags(scenarios: Scenarios,
                                                   musl_server: IndexServer,
                                                   tmp_path: Path) -> None:
    """The preset python:3.11-alpine is the real musl interpreter: same libc, same suffix,
    the same tag list (first tags and count)."""
    real = scenarios.get(HEALTHY).report
    assert real is not None
    _, report, _ = plan(musl_server, tmp_path, f"{HEALTHY}==1.0")
    targets = report["target"] if isinstance(report["target"], list) else [report["target"]]
    assert len(targets) == 1
    for key in ("libc", "libc_version", "machine", "interpreter", "abis", "tags", "tag_count"):
        assert targets[0][key] == real["target"][key], key
    assert targets[0]["extension_suffixes"][0] == real["target"]["extension_suffixes"][0]


def test_plan_runs_on_the_musl_interpreter(musl_base_venv: MuslVenv, musl_server: IndexServer,
                                           tmp_path: Path) -> None:
    """plan inside the musl venv (an interpreter without ssl, an http index) plans what the
    glibc host plans for the same preset."""
    reqs = [f"{p}==1.0" for p in ALL_FIXTURES]
    (tmp_path / "host").mkdir()
    _, host, _ = plan(musl_server, tmp_path / "host", *reqs)
    report = tmp_path / "musl" / "plan.json"
    report.parent.mkdir()
    proc = run([musl_base_venv.bin / "pip-guard", "--mode", "strict", "--report", str(report),
                "plan", "--target", "python:3.11-alpine", "--index-url", musl_server.url, *reqs],
               env={"WHEELGUARD_CACHE_DIR": str(tmp_path / "cache")}, cwd=report.parent)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert report.exists(), proc.stdout + proc.stderr
    on_musl = json.loads(report.read_text())
    validate_report(on_musl)
    assert proc.returncode == exitcodes.REFUSED, proc.stdout + proc.stderr
    for project in ALL_FIXTURES:
        a, b = _entry(host, project), _entry(on_musl, project)
        assert a["filename"] == b["filename"]
        assert policy_findings(host, a) == policy_findings(on_musl, b)
