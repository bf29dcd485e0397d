"""`pip-guard` on the musl interpreter, local index: each fixture's verdict, and verify's
findings checked against real imports on this interpreter."""

from __future__ import annotations

import json
import re
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from poetry_wheelguard import exitcodes
from tests.musl.conftest import (
    GuardRun,
    Scenarios,
    error_codes,
    findings_of,
    validate_report,
)
from tests.support.index import IndexServer
from tests.support.musl import (
    GLIBC_LINKED,
    HEALTHY,
    PURE_FALLBACK,
    RELR,
    RELR_MUSL,
    SDIST_BUILD,
    STATIC_TLS,
    MuslFixtures,
    MuslPython,
    MuslVenv,
    run,
)

pytestmark = pytest.mark.musl

BUILD_STEPS = ("Installing build dependencies", "Getting requirements to build",
               "Preparing metadata", "Building wheel for")


def _finding(pkg: dict[str, Any], code: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [f for f in pkg["findings"] if f["code"] == code]
    assert found, f"no {code} in {pkg['findings']}"
    return found[0]


def _assert_refused_untouched(run_: GuardRun, project: str, fixtures: MuslFixtures) -> None:
    """Strict refusal: exit 10, venv as it was, no file of the project downloaded."""
    assert run_.proc.returncode == exitcodes.REFUSED, run_.output
    assert run_.before[0] == run_.after[0], "pip freeze changed"
    assert run_.before[1] == run_.after[1], "venv files changed"
    stems = [f"/files/{n}" for n in fixtures.names(project)]
    assert not [r for r in run_.file_requests if r in stems], run_.file_requests
    pkg = run_.package(project)
    assert pkg["verdict"] == "refused"
    assert pkg["version"] == "1.0"
    listed = {c["filename"] for c in pkg["candidates"]}
    assert {n for n in fixtures.names(project) if "-1.0" in n} <= listed


def test_pure_fallback_refused_on_musl(scenarios: Scenarios,
                                       musl_fixtures: MuslFixtures) -> None:
    run_ = scenarios.get(PURE_FALLBACK)
    _assert_refused_untouched(run_, PURE_FALLBACK, musl_fixtures)
    pkg = run_.package(PURE_FALLBACK)
    assert pkg["filename"] == "wg_musl_purefallback-1.0-py3-none-any.whl"
    assert pkg["kind"] == "wheel" and pkg["pure"] is True
    finding = _finding(pkg, "PURE_FALLBACK")
    assert finding["severity"] == "error"
    # the message names the manylinux wheels the musl interpreter cannot use ...
    assert "manylinux" in finding["message"]
    # ... and the hint the version that ships a wheel for this target
    assert re.search(r"\b2\.0\+", finding["hint"]), finding["hint"]
    assert "PURE_FALLBACK" in run_.output
    assert "wg-musl-purefallback" in run_.output


def test_sdist_build_refused_on_musl_without_build_step(
        scenarios: Scenarios, musl_fixtures: MuslFixtures) -> None:
    run_ = scenarios.get(SDIST_BUILD)
    _assert_refused_untouched(run_, SDIST_BUILD, musl_fixtures)
    pkg = run_.package(SDIST_BUILD)
    assert pkg["filename"] == "wg_musl_sdistbuild-1.0.tar.gz"
    assert pkg["kind"] == "sdist"
    finding = _finding(pkg, "SDIST_BUILD")
    assert finding["severity"] == "error"
    assert re.search(r"\b2\.0\+", finding["hint"]), finding["hint"]
    assert run_.markers == [], "the sdist's setup.py ran"
    assert not [step for step in BUILD_STEPS if step in run_.output], run_.output


def test_healthy_musllinux_wheel_installs_and_imports(scenarios: Scenarios) -> None:
    run_ = scenarios.get(HEALTHY)
    assert run_.proc.returncode == exitcodes.OK, run_.output
    pkg = run_.package(HEALTHY)
    assert pkg["filename"] == "wg_musl_healthy-1.0-cp311-cp311-musllinux_1_2_x86_64.whl"
    assert pkg["tags"] == ["cp311-cp311-musllinux_1_2_x86_64"]
    assert pkg["verdict"] == "ok"
    assert findings_of(run_.report, HEALTHY) == []
    assert f"{HEALTHY}==1.0" in run_.after[0].splitlines()
    imported = run_.venv.import_answer("wg_musl_healthy")
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "42"


@pytest.mark.parametrize(("project", "code", "loader_error"), [
    (STATIC_TLS, "STATIC_TLS", "initial-exec TLS resolves to dynamic definition"),
    (GLIBC_LINKED, "LIBC_MISMATCH", "gnu_get_libc_version: symbol not found"),
    (RELR, "UNSUPPORTED_RELR", None),  # the loader leaves pointers unrelocated: SIGSEGV
])
def test_install_then_verify_error_agrees_with_import(
        scenarios: Scenarios, musl_python: MuslPython, project: str, code: str,
        loader_error: str | None) -> None:
    """Installed (the policy has nothing against a musllinux wheel), then verify's error
    makes strict mode exit 11 - and importing it on this interpreter really fails."""
    if project == RELR and musl_python.musl_version >= RELR_MUSL:
        pytest.skip(f"musl {musl_python.musl_version} applies DT_RELR")
    run_ = scenarios.get(project)
    assert run_.proc.returncode == exitcodes.VERIFY_ERRORS, run_.output
    pkg = run_.package(project)
    assert "musllinux_1_" in pkg["filename"]
    assert f"{project}==1.0" in run_.after[0].splitlines()
    assert code in run_.output
    assert code in error_codes(findings_of(run_.report, project)), \
        "the install report lacks verify's finding: " + json.dumps(pkg, indent=1)
    module = project.replace("-", "_")
    imported = run_.venv.import_answer(module)
    if loader_error is None:
        assert imported.returncode == -signal.SIGSEGV, (imported.returncode, imported.stderr)
    else:
        assert imported.returncode != 0
        assert loader_error in imported.stderr, imported.stderr


def _verify(venv: MuslVenv, work: Path, *, host: bool) -> tuple[int, dict[str, Any], str]:
    """``pip-guard --mode strict verify`` of ``venv``: inside it (the musl interpreter is
    the running one), or from the glibc host with ``--python``."""
    report = work / ("verify-host.json" if host else "verify-musl.json")
    if host:
        cmd = [sys.executable, "-m", "poetry_wheelguard", "--mode", "strict", "--report",
               str(report), "verify", "--python", str(venv.python)]
    else:
        cmd = [str(venv.bin / "pip-guard"), "--mode", "strict", "--report", str(report),
               "verify"]
    proc = run(cmd, cwd=work)
    assert report.exists(), proc.stdout + proc.stderr
    data = json.loads(report.read_text())
    validate_report(data)
    return proc.returncode, data, proc.stdout + proc.stderr


@pytest.mark.parametrize("project", [HEALTHY, STATIC_TLS, GLIBC_LINKED, RELR])
@pytest.mark.parametrize("host", [False, True], ids=["on-musl", "from-glibc-host"])
def test_verify_agrees_with_real_import(scenarios: Scenarios, project: str, host: bool,
                                        tmp_path: Path) -> None:
    """For every extension installed on this interpreter: verify reports an error exactly
    when the real import fails (run inside the venv, and from the host with --python)."""
    venv = scenarios.get(project).venv
    code, report, output = _verify(venv, tmp_path, host=host)
    errors = error_codes(findings_of(report, project))
    imported = venv.import_answer(project.replace("-", "_"))
    assert bool(errors) == (imported.returncode != 0), (errors, imported.stderr, output)
    assert code == (exitcodes.VERIFY_ERRORS if errors else exitcodes.OK), output
    if host:
        target = report.get("target") or {}
        assert isinstance(target, dict) and target.get("libc") == "musl", target


def test_report_target_is_musl(scenarios: Scenarios, musl_python: MuslPython) -> None:
    """The install report describes this interpreter: musl 1.2, its suffix, and the tags
    its own packaging computes, which begin at musllinux_1_2 (after linux_x86_64)."""
    run_ = scenarios.get(HEALTHY)
    assert run_.report is not None
    target = run_.report["target"]
    assert target["libc"] == "musl"
    major, minor, _ = musl_python.musl_version
    assert target["libc_version"] == f"{major}.{minor}"
    assert target["machine"] == "x86_64"
    assert target["interpreter"] == "cp311"
    assert target["extension_suffixes"][0] == musl_python.ext_suffix

    code = ("import json, packaging.tags as a, pip._vendor.packaging.tags as b; "
            "print(json.dumps([[str(t) for t in a.sys_tags()], [str(t) for t in b.sys_tags()]]))")
    proc = run([run_.venv.python, "-c", code])
    assert proc.returncode == 0, proc.stderr
    ours, pips = json.loads(proc.stdout)
    tags = target["tags"]
    assert tags == ours[:len(tags)] == pips[:len(tags)]
    assert tags[:2] == ["cp311-cp311-linux_x86_64", "cp311-cp311-musllinux_1_2_x86_64"]
    assert target["tag_count"] == len(ours)


def test_subprocess_mode_without_ssl_and_a_ca_bundle(
        new_musl_venv: Callable[[str], MuslVenv], musl_server: IndexServer,
        tmp_path: Path) -> None:
    """Issue 10 item 6 (S13): this interpreter has no ssl; with ``PIP_CERT`` set, the
    subprocess mode reads the http:// index as usual (ssl is imported only for an
    https:// fetch), and an https:// index it cannot read is one line, no traceback."""
    venv = new_musl_venv("nossl")
    env = {"WHEELGUARD_PIP_SUBPROCESS": "1", "PIP_CERT": "/etc/ssl/certs/ca-certificates.crt"}
    guard_cmd = [str(venv.bin / "pip-guard"), "--mode", "strict", "install"]
    ok = run([*guard_cmd, "--index-url", musl_server.url, HEALTHY], env=env, cwd=tmp_path)
    assert ok.returncode == exitcodes.OK, ok.stdout + ok.stderr
    assert "Traceback" not in ok.stderr and "using subprocess mode" in ok.stderr
    https = run([*guard_cmd, "--index-url", "https://127.0.0.1:9/simple/",
                 f"{PURE_FALLBACK}==1.0"], env=env, cwd=tmp_path)
    assert https.returncode == 1, https.stdout + https.stderr
    assert "Traceback" not in https.stderr
    lines = [ln for ln in https.stderr.splitlines() if "no ssl module" in ln]
    assert len(lines) == 1 and "cannot read https://127.0.0.1:9/" in lines[0], https.stderr
