"""report: schema-valid JSON, atomic writes, credentials removed, table rendering."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from poetry_wheelguard.config import Config
from poetry_wheelguard.distfiles import normalize
from poetry_wheelguard.errors import WheelguardError
from poetry_wheelguard.models import Candidate, Selection
from poetry_wheelguard.policy import evaluate, record_for
from poetry_wheelguard.render import print_table, render_findings, render_table
from poetry_wheelguard.report import (
    Report,
    redact_text,
    redact_url,
    write_json_atomic,
)
from poetry_wheelguard.targets import make_target
from tests.support.schema import validate_report

TARGET = make_target(python_version=(3, 11), machine="x86_64", libc="glibc", libc_version=(2, 36))


def validate(data: object) -> None:
    validate_report(data)


@pytest.mark.parametrize(("url", "clean"), [
    ("https://user:tok@pypi.example/simple/x/", "https://pypi.example/simple/x/"),
    ("https://__token__:pypi-AgE@h:8443/f.whl#sha256=ab", "https://h:8443/f.whl"),
    ("http://127.0.0.1:8080/simple/", "http://127.0.0.1:8080/simple/"),
    ("", ""),
])
def test_redact_url(url: str, clean: str) -> None:
    assert redact_url(url) == clean


@pytest.mark.parametrize(("text", "clean"), [
    ("Looking in https://u:p@h/simple and http://a@b/x",
     "Looking in https://h/simple and http://b/x"),
    ("All attempts to connect to wguser:SECRETTOKEN123@127.0.0.1:8765 failed.",
     "All attempts to connect to 127.0.0.1:8765 failed."),
    ("(user:tok@[::1]:8080)", "([::1]:8080)"),
    ("mail dev@example.org about it", "mail dev@example.org about it"),
    ("six==1.16.0; python_version >= '3.6'", "six==1.16.0; python_version >= '3.6'"),
])
def test_redact_text(text: str, clean: str) -> None:
    assert redact_text(text) == clean


def _records() -> list:  # type: ignore[type-arg]
    files = ("aiohttp-3.6.2-py3-none-any.whl", "aiohttp-3.6.2-cp37-cp37m-manylinux1_x86_64.whl")
    s = Selection(normalize("aiohttp"), "3.6.2",
                  Candidate(files[0], "https://u:secret@idx/files/" + files[0] + "#sha256=aa",
                            "aa"),
                  tuple(Candidate(f, rejected_reason=None if i == 0 else "none of the tags")
                        for i, f in enumerate(files)),
                  other_versions=(("3.8.3", ("aiohttp-3.8.3-cp311-cp311-"
                                             "manylinux_2_17_x86_64.manylinux2014_x86_64.whl",)),),
                  index="https://u:secret@idx/simple/")
    ok = Selection(normalize("six"), "1.16.0", Candidate("six-1.16.0-py2.py3-none-any.whl"))
    return [record_for(x, evaluate(x, TARGET, Config())) for x in (s, ok)]


def test_report_is_schema_valid_and_has_no_credentials(tmp_path: Path) -> None:
    rep = Report(command="install", mode="warn", target=TARGET.summary(),
                 installer={"name": "pip", "version": "26.3"}, packages=_records(), exit_code=0)
    out = tmp_path / "sub" / "r.json"
    write_json_atomic(out, rep.to_json())
    text = out.read_text()
    assert "secret" not in text
    data = json.loads(text)
    validate(data)
    assert data["schema"] == "wheelguard-report/1"
    assert data["summary"] == {"ok": 1, "warn": 1, "refused": 0}
    pkg = data["packages"][0]
    assert pkg["url"] == "https://idx/files/aiohttp-3.6.2-py3-none-any.whl"
    assert pkg["findings"][0]["code"] == "PURE_FALLBACK" and pkg["verdict"] == "warn"
    assert [p.name for p in out.parent.iterdir()] == ["r.json"]  # no temp file left
    old = os.umask(0o022)
    os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o666 & ~old


def test_write_into_unwritable_place_is_one_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(WheelguardError) as exc:
        write_json_atomic(blocker / "r.json", {})
    assert str(blocker) in str(exc.value)


def test_plain_table_and_findings() -> None:
    buf = io.StringIO()
    render_table(_records(), buf)
    lines = buf.getvalue().splitlines()
    assert lines[0].split() == ["package", "version", "file", "verdict", "findings"]
    assert lines[1].split()[:2] == ["aiohttp", "3.6.2"] and "PURE_FALLBACK" in lines[1]
    assert "wheel, pure" in lines[1] and lines[2].split()[0] == "six"
    buf = io.StringIO()
    render_findings(_records(), buf)
    # warn mode: the error-severity finding did not refuse anything: it says so
    assert buf.getvalue().startswith(
        "wheelguard: warning: PURE_FALLBACK (refused in strict mode): aiohttp 3.6.2")
    strict = [record_for(r.selection, evaluate(r.selection, TARGET, Config(mode="strict")))
              for r in _records()]
    buf = io.StringIO()
    render_findings(strict, buf, prefix="python:3.11-slim")
    assert buf.getvalue().startswith("python:3.11-slim: error: PURE_FALLBACK: aiohttp 3.6.2")


def test_print_table_rich_on_a_terminal_plain_otherwise() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    rows = [["aiohttp", ("warn [PURE_FALLBACK]", "yellow")]]
    plain = io.StringIO()
    print_table(("package", "verdict"), rows, plain, title="t")
    assert plain.getvalue().splitlines() == ["t", "package  verdict",
                                             "aiohttp  warn [PURE_FALLBACK]"]
    tty = Tty()
    print_table(("package", "verdict"), rows, tty, title="t")
    assert "┃" in tty.getvalue() and "warn [PURE_FALLBACK]" in tty.getvalue()


def test_started_is_the_commands_start_time(tmp_path: Path) -> None:
    """``started`` is what the command passed in (taken at its start), ``finished`` the time
    the report is made; the plan command passes its start time through ``finish_plan``."""
    from poetry_wheelguard.cli.plan import finish_plan
    from poetry_wheelguard.planning import PlanResult

    start = "2026-01-02T03:04:05Z"
    data = Report(command="verify", mode="warn", target=None, started=start).to_json()
    assert data["started"] == start and data["finished"] > start
    validate(data)
    out = tmp_path / "plan.json"
    result = PlanResult("pip", [TARGET], {TARGET.name: []})
    code = finish_plan(result, Config(report=str(out)), {}, io.StringIO(), io.StringIO(),
                       started=start)
    assert code == 0
    plan = json.loads(out.read_text())
    assert plan["started"] == start and plan["finished"] > start


def test_finding_lines_keep_within_two_terminal_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal a finding line and its hint take at most two rows (the report keeps
    the whole text); elsewhere (a log, CI) the line is whole."""
    import os as _os
    import shutil

    from poetry_wheelguard.render import fit_lines

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(shutil, "get_terminal_size", lambda *a: _os.terminal_size((80, 24)))
    long = "x" * 500
    cut = fit_lines(long, Tty())
    assert len(cut) == 160 and cut.endswith("(the report has it whole)")
    assert fit_lines("short", Tty()) == "short"
    assert fit_lines(long, io.StringIO()) == long
    buf = Tty()
    render_findings(_records(), buf)
    assert all(len(line) <= 160 for line in buf.getvalue().splitlines())
