"""The handed cases on the musl interpreter against the public index, through a caching proxy
on loopback (the interpreter has no ssl). The same behaviours are tested offline on the local
index by test_guard.py and test_plan.py."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from poetry_wheelguard import exitcodes
from tests.musl.conftest import GuardRun, Scenarios, error_codes, findings_of, validate_report
from tests.musl.test_guard import BUILD_STEPS
from tests.musl.test_plan import policy_findings
from tests.support.musl import run

pytestmark = [pytest.mark.musl, pytest.mark.network]


def _refusal(run_: GuardRun, name: str, filename: str, code: str) -> dict[str, Any]:
    """Strict refusal of ``filename`` with an error ``code``, venv unchanged; the finding."""
    assert run_.proc.returncode == exitcodes.REFUSED, run_.output
    assert run_.before == run_.after, "the venv changed"
    pkg = run_.package(name)
    assert pkg["filename"] == filename
    finding: dict[str, Any] = next(f for f in pkg["findings"] if f["code"] == code)
    assert finding["severity"] == "error"
    return finding


def test_aiohttp_362_pure_fallback_refused(network_scenarios: Scenarios) -> None:
    run_ = network_scenarios.get("aiohttp", "aiohttp==3.6.2")
    finding = _refusal(run_, "aiohttp", "aiohttp-3.6.2-py3-none-any.whl", "PURE_FALLBACK")
    assert "manylinux1_x86_64" in finding["message"]
    newer = re.search(r"aiohttp (\d+(?:\.\d+)+)\+", finding["hint"])
    assert newer and Version(newer[1]) > Version("3.6.2"), finding["hint"]


def test_uvloop_0160_sdist_build_refused(network_scenarios: Scenarios) -> None:
    run_ = network_scenarios.get("uvloop", "uvloop==0.16.0")
    finding = _refusal(run_, "uvloop", "uvloop-0.16.0.tar.gz", "SDIST_BUILD")
    assert "0.17.0+" in finding["hint"], finding["hint"]
    assert not [step for step in BUILD_STEPS if step in run_.output], run_.output


def test_orjson_newest_installs_and_imports(network_scenarios: Scenarios) -> None:
    run_ = network_scenarios.get("orjson", "orjson")
    assert run_.proc.returncode == exitcodes.OK, run_.output
    pkg = run_.package("orjson")
    assert "-cp311-" in pkg["filename"] and "musllinux_1_" in pkg["filename"], pkg["filename"]
    assert pkg["verdict"] == "ok"
    assert error_codes(findings_of(run_.report, "orjson")) == set()
    proc = run([run_.venv.python, "-c", "import orjson; print(orjson.dumps({'a': [1, 2]}))"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "b'{\"a\":[1,2]}'"


def test_plan_predicts_the_public_index_runs(network_scenarios: Scenarios, pypi_proxy: str,
                                             tmp_path: Path) -> None:
    """``plan --target python:3.11-alpine`` on the glibc host: the files and findings of the
    three real runs on musl."""
    runs = {name: network_scenarios.get(name, req) for name, req in
            (("aiohttp", "aiohttp==3.6.2"), ("uvloop", "uvloop==0.16.0"), ("orjson", "orjson"))}
    orjson_version = runs["orjson"].package("orjson")["version"]
    report_path = tmp_path / "plan.json"
    proc = run([sys.executable, "-m", "poetry_wheelguard", "--mode", "strict", "--report",
                str(report_path), "plan", "--target", "python:3.11-alpine",
                "aiohttp==3.6.2", "uvloop==0.16.0", f"orjson=={orjson_version}"],
               env={"PIP_INDEX_URL": pypi_proxy, "WHEELGUARD_CACHE_DIR": str(tmp_path / "c")},
               cwd=tmp_path)
    assert report_path.exists(), proc.stdout + proc.stderr
    report = json.loads(report_path.read_text())
    validate_report(report)
    assert proc.returncode == exitcodes.REFUSED, proc.stdout + proc.stderr
    for name, real in runs.items():
        planned = next(p for p in report["packages"] if p["name"] == name)
        installed = real.package(name)
        assert real.report is not None
        assert planned["filename"] == installed["filename"]
        assert policy_findings(report, planned) == policy_findings(real.report, installed)
