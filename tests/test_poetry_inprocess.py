"""In-process Poetry tests (cleo's ApplicationTester), run by Poetry's own interpreter in
its venv: activation stays cheap, ``poetry self`` commands are never hooked, the
``wheelguard`` commands answer without a report."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from poetry_wheelguard import exitcodes
from tests.support.poetry import POETRY_VERSIONS, poetry_venv, run_in_poetry_venv, write_project

pytestmark = pytest.mark.poetry


@pytest.fixture(scope="module", params=POETRY_VERSIONS)
def venv(request: pytest.FixtureRequest) -> Path:
    return poetry_venv(request.param)


def run_script(venv: Path, body: str, tmp_path: Path) -> dict[str, Any]:
    project = write_project(tmp_path / "proj", dependencies={"wg-puredep": "1.0"},
                            index_url="http://127.0.0.1:9/simple/")
    script = textwrap.dedent("""
        import json, sys
        from cleo.testers.application_tester import ApplicationTester
        from poetry.console.application import Application
        app = Application()
        app.auto_exits(False)
        tester = ApplicationTester(app)
        out = {}
    """) + textwrap.dedent(body) + "\nprint(json.dumps(out))\n"
    proc = run_in_poetry_venv(venv, script, project, {
        "POETRY_CACHE_DIR": str(tmp_path / "cache"),
        "POETRY_CONFIG_DIR": str(tmp_path / "config"),
        "POETRY_VIRTUALENVS_IN_PROJECT": "true",
    })
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_activation_imports_nothing_heavy(venv: Path, tmp_path: Path) -> None:
    out = run_script(venv, """
        out["status"] = tester.execute("check")
        out["mods"] = sorted(m for m in sys.modules if m.startswith("poetry_wheelguard"))
        out["heavy"] = sorted(m for m in ("rich", "elftools", "jsonschema") if m in sys.modules)
        out["has"] = [app.has("wheelguard report"), app.has("wheelguard verify")]
    """, tmp_path)
    assert out["status"] == 0
    assert out["mods"] == ["poetry_wheelguard", "poetry_wheelguard.poetry",
                           "poetry_wheelguard.poetry.plugin"]
    assert out["heavy"] == []
    assert out["has"] == [True, True]


def test_self_commands_are_never_hooked(venv: Path, tmp_path: Path) -> None:
    out = run_script(venv, """
        from cleo.events.console_command_event import ConsoleCommandEvent
        from cleo.io.null_io import NullIO
        from poetry_wheelguard.poetry.plugin import WheelguardPlugin
        plugin = WheelguardPlugin()
        plugin.activate(app)
        command = app.find("self install")
        event = ConsoleCommandEvent(command, NullIO())
        plugin.on_command(event, "console.command", None)
        out["guards"] = len(plugin._guards) + len(plugin._errors)
        out["should_run"] = event.command_should_run()
        out["hooks_loaded"] = "poetry_wheelguard.poetry.hooks" in sys.modules
        out["is_installer"] = hasattr(command, "set_installer")
    """, tmp_path)
    assert out == {"guards": 0, "should_run": True, "hooks_loaded": False,
                   "is_installer": True}


def test_report_command_without_a_report(venv: Path, tmp_path: Path) -> None:
    out = run_script(venv, """
        out["status"] = tester.execute("wheelguard report")
        out["err"] = tester.io.fetch_error()
        out["out"] = tester.io.fetch_output()
    """, tmp_path)
    assert out["status"] == exitcodes.INPUT_ERROR
    assert out["out"] == ""
    lines = [line for line in out["err"].splitlines() if line.strip()]
    assert len(lines) == 1 and "no report" in lines[0] and "poetry install" in lines[0]


def test_verify_report_path_is_checked_before_verifying(venv: Path, tmp_path: Path) -> None:
    """``poetry wheelguard verify --report PATH`` where no file can be written: one line and
    exit 64 before the verification runs, not Poetry's error display after it."""
    out = run_script(venv, """
        out["status"] = tester.execute("wheelguard verify --report /proc/wg-none/v.json")
        out["err"] = tester.io.fetch_error()
        out["out"] = tester.io.fetch_output()
    """, tmp_path)
    assert out["status"] == exitcodes.USAGE, out
    assert out["out"] == ""
    # Poetry's own line (the command's environment is made before its handle() runs)
    lines = [line for line in out["err"].splitlines()
             if line.strip() and not line.startswith("Creating virtualenv ")]
    assert len(lines) == 1 and lines[0].startswith(
        "wheelguard: error: /proc/wg-none/v.json: cannot write the report there ("), out
    assert "Traceback" not in out["err"] and "WheelguardError" not in out["err"]
