"""Bad input to any command: one line naming what is wrong, a documented exit code."""

from __future__ import annotations

import pytest

from poetry_wheelguard.cli import main


@pytest.mark.parametrize(("argv", "code", "needle"), [
    (["plan", "--index-url", "not a url", "six==1.17.0"], 64, "is not an http://"),
    (["plan", "--index-url", "https://u:tok3n@h x/", "six==1.17.0"], 64, "is not an http://"),
    (["plan", "--target", "python:3.11-slim", "--libc", "glibc-2.x", "six==1.17.0"], 64,
     "--libc must look like glibc-2.28"),
    (["plan", "--target", "debian:nope", "six==1.17.0"], 64, "debian:nope"),
    (["plan", "--target", "python:3.11-slim", "--group", "dev", "six==1.17.0"], 64,
     "--extras and --group select from a poetry.lock"),
    (["diff", "/nonexistent/a.json", "/nonexistent/b.json"], 12, "/nonexistent/a.json"),
    (["verify", "--python", "/nonexistent/python"], 12, "/nonexistent/python"),
])
def test_one_line_error(argv: list[str], code: int, needle: str,
                        capsys: pytest.CaptureFixture[str],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    assert main(argv) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert needle in err[0] and "Traceback" not in err[0]
    assert "tok3n" not in err[0]
