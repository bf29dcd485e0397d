"""config: pyproject.toml, then WHEELGUARD_*, then flags; bad input is one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from poetry_wheelguard.cli import main
from poetry_wheelguard.config import load_config
from poetry_wheelguard.errors import ConfigError


def write(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "pyproject.toml"
    p.write_text(body)
    return p


def test_defaults_without_any_source(tmp_path: Path) -> None:
    cfg = load_config(cwd=tmp_path, environ={})
    assert (cfg.mode, cfg.report, cfg.no_build, cfg.verify) == ("warn", None, False, True)


def test_precedence_file_env_flags(tmp_path: Path) -> None:
    write(tmp_path, '[tool.wheelguard]\nmode = "strict"\nallow-pure = ["AioHTTP"]\n'
                    'report = "from-file.json"\n')
    cfg = load_config(cwd=tmp_path, environ={})
    assert cfg.mode == "strict" and cfg.allow_pure == {"aiohttp"}
    cfg = load_config(cwd=tmp_path, environ={"WHEELGUARD_MODE": "warn",
                                              "WHEELGUARD_ALLOW_PURE": "a_b, C"})
    assert cfg.mode == "warn" and cfg.allow_pure == {"a-b", "c"}
    cfg = load_config(cwd=tmp_path, environ={"WHEELGUARD_MODE": "warn"},
                      flags={"mode": "strict", "allow-pure": ["X.Y"], "report": None})
    assert cfg.mode == "strict"
    assert cfg.allow_pure == {"aiohttp", "x-y"}  # flags add to the list
    assert cfg.report == "from-file.json"


def test_explicit_config_path_and_env_config(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere.toml"
    other.write_text('[tool.wheelguard]\nno-build = true\n')
    assert load_config(config_path=str(other), cwd=tmp_path, environ={}).no_build
    assert load_config(cwd=tmp_path, environ={"WHEELGUARD_CONFIG": str(other)}).no_build


@pytest.mark.parametrize(("body", "needle"), [
    ('[tool.wheelguard]\nmode = "loud"\n', "mode must be"),
    ('[tool.wheelguard]\nallow-pure = "x"\nfoo = 1\n', "unknown key 'foo'"),
    ('[tool.wheelguard]\nallow-sdist = [1]\n', "allow-sdist must be a list"),
    ('[tool.wheelguard]\nno-build = "maybe"\n', "no-build must be true or false"),
    ('[tool.wheelguard\n', "not valid TOML"),
    ('[tool.wheelguard]\nno-build = "false"\n', "no-build must be true or false"),
    ('[tool.wheelguard]\nverify = 0\n', "verify must be true or false"),
    ('[tool.wheelguard]\nallow-pure = "aiohttp, pydantic"\n', "allow-pure must be a list"),
    ('[tool.wheelguard]\nallow-sdist = ["aiohttp==3.6.2"]\n', "is not a project name"),
    ('[tool.wheelguard]\nallow-sdist = ["Not A Valid Name!!"]\n', "is not a project name"),
    ('[tool.wheelguard]\nreport = 3\n', "report must be a path"),
    ('[tool]\nwheelguard = 3\n', "must be a table"),
])
def test_bad_file_names_the_file(tmp_path: Path, body: str, needle: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as exc:
        load_config(cwd=tmp_path, environ={})
    assert needle in str(exc.value) and str(path) in str(exc.value)


def test_non_utf8_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_bytes(b"\xff\xfe[tool.wheelguard]\n")
    with pytest.raises(ConfigError) as exc:
        load_config(cwd=tmp_path, environ={})
    assert "not UTF-8" in str(exc.value) and str(path) in str(exc.value)


@pytest.mark.parametrize(("var", "value", "needle"), [
    ("WHEELGUARD_NO_BUILD", "maybe", "WHEELGUARD_NO_BUILD must be 1/true"),
    ("WHEELGUARD_ALLOW_PURE", "a==1", "is not a project name"),
])
def test_bad_env_lists_and_booleans(tmp_path: Path, var: str, value: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        load_config(cwd=tmp_path, environ={var: value})
    assert load_config(cwd=tmp_path, environ={"WHEELGUARD_NO_BUILD": "yes"}).no_build


def test_bad_env_value_names_the_environment(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_config(cwd=tmp_path, environ={"WHEELGUARD_MODE": "nope"})
    assert "WHEELGUARD_" in str(exc.value)


def test_missing_config_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(config_path=str(tmp_path / "missing.toml"), environ={})


def test_cli_bad_config_is_one_line_and_usage_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, '[tool.wheelguard]\nmode = "loud"\n')
    monkeypatch.chdir(tmp_path)
    for key in [k for k in __import__("os").environ if k.startswith("WHEELGUARD_")]:
        monkeypatch.delenv(key)
    assert main(["verify", "--path", str(tmp_path)]) == 64
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("pip-guard: error:") and "mode must be" in err[0]


def test_cli_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--mode", "loud", "install", "x"]) == 64
    assert main([]) == 64
    assert "usage" in capsys.readouterr().err
