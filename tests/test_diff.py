"""``pip-guard diff``: real plan reports of the fixture index for two targets, verify-style
reports with compiled-file counts, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from poetry_wheelguard import exitcodes
from poetry_wheelguard.cli import main
from poetry_wheelguard.config import Config
from poetry_wheelguard.models import Candidate, PackageRecord, Selection
from poetry_wheelguard.report import Report, schema_path, write_json_atomic
from tests.support.index import IndexServer

PINS = ["wg-purefallback==1.0", "wg-sdistbuild==2.0", "wg-healthy==1.0", "wg-puredep==1.0"]
SCHEMA = json.loads(schema_path().read_text())


@pytest.fixture(scope="module")
def reports(index_server: IndexServer, tmp_path_factory: pytest.TempPathFactory
            ) -> dict[str, Path]:
    """Plan reports of the same pins for slim (A), alpine (B) and both targets at once."""
    root = tmp_path_factory.mktemp("diff")
    out = {}
    for key, targets in (("slim", ["python:3.11-slim"]), ("alpine", ["python:3.11-alpine"]),
                         ("both", ["python:3.11-slim", "python:3.11-alpine"])):
        path = root / f"{key}.json"
        argv = ["plan", "--index-url", index_server.url, "--no-cache", *PINS,
                "--report", str(path)]
        for t in targets:
            argv += ["--target", t]
        assert main(argv) == exitcodes.OK
        out[key] = path
    return out


def _diff_json(*argv: str, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(["diff", *argv, "--json"]) == exitcodes.OK
    data: dict[str, object] = json.loads(capsys.readouterr().out)
    jsonschema.validate(data, SCHEMA)
    return data


def test_slim_to_alpine_lists_changed_packages(reports: dict[str, Path],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    data = _diff_json(str(reports["slim"]), str(reports["alpine"]), capsys=capsys)
    diff = data["diff"]
    assert isinstance(diff, dict)
    changes = {c["name"]: c for c in diff["changes"]}
    # manylinux-only wheels: the platform wheel on slim, nothing or a pure wheel on alpine
    assert changes["wg-healthy"]["changes"][:1] == ["kind"]
    assert changes["wg-healthy"]["a"]["kind"] == "platform wheel"
    assert changes["wg-healthy"]["b"]["kind"] == "no file"
    assert changes["wg-sdistbuild"]["a"]["kind"] == "platform wheel"
    assert changes["wg-sdistbuild"]["b"]["kind"] == "no file"
    assert set(changes) == {"wg-healthy", "wg-sdistbuild"}
    assert diff["unchanged"] == 2
    assert data["command"] == "diff"
    assert [t["name"] for t in data["target"]] == ["python:3.11-slim", "python:3.11-alpine"]


def test_table_output(reports: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(reports["slim"]), str(reports["alpine"])]) == exitcodes.OK
    out = capsys.readouterr().out
    assert "platform wheel -> no file" in out
    assert "2 packages differ (2 changed file kind), 2 unchanged" in out


def test_multi_target_plan_needs_a_target(reports: dict[str, Path],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    both = str(reports["both"])
    assert main(["diff", both, both]) == exitcodes.INPUT_ERROR
    err = capsys.readouterr().err
    assert "holds 2 targets" in err and "--a-target" in err and err.count("\n") == 1
    data = _diff_json(both, both, "--a-target", "python:3.11-slim",
                      "--b-target", "python:3.11-alpine", capsys=capsys)
    direct = _diff_json(str(reports["slim"]), str(reports["alpine"]), capsys=capsys)
    assert data["diff"]["changes"] == direct["diff"]["changes"]  # type: ignore[index]
    assert main(["diff", both, both, "--a-target", "nope", "--b-target", "x"]) == \
        exitcodes.INPUT_ERROR
    assert "no target 'nope'" in capsys.readouterr().err


def _verify_report(path: Path, packages: dict[str, tuple[str, int, int, bool]]) -> Path:
    records = []
    for name, (version, elf_files, elf_bytes, pure) in packages.items():
        sel = Selection(name=name, version=version,  # type: ignore[arg-type]
                        chosen=Candidate(filename=f"{name}-{version}-py3-none-any.whl"))
        records.append(PackageRecord(sel, "wheel", (), pure, [], "ok",
                                     {"elf_files": elf_files, "elf_bytes": elf_bytes,
                                      "binaries": elf_files}))
    report = Report(command="verify", mode="warn", target={"name": "cp311"}, packages=records)
    write_json_atomic(path, report.to_json())
    return path


def test_verify_reports_compare_compiled_files(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    a = _verify_report(tmp_path / "a.json", {"numpy": ("1.26.4", 40, 30_000_000, False),
                                             "pydantic": ("1.9.1", 12, 9_000_000, False),
                                             "six": ("1.16.0", 0, 0, True)})
    b = _verify_report(tmp_path / "b.json", {"numpy": ("1.26.4", 40, 30_000_000, False),
                                             "pydantic": ("1.9.1", 0, 0, True),
                                             "orjson": ("3.10.7", 1, 300_000, False)})
    data = _diff_json(str(a), str(b), capsys=capsys)
    changes = {c["name"]: c for c in data["diff"]["changes"]}  # type: ignore[index]
    assert set(changes) == {"pydantic", "six", "orjson"}
    assert changes["pydantic"]["changes"] == ["kind", "compiled"]
    assert (changes["pydantic"]["a"]["compiled_files"],
            changes["pydantic"]["a"]["compiled_bytes"]) == (12, 9_000_000)
    assert changes["pydantic"]["b"]["compiled_files"] == 0
    assert changes["six"]["changes"] == ["only_a"] and changes["orjson"]["changes"] == ["only_b"]
    assert main(["diff", str(a), str(b)]) == exitcodes.OK
    out = capsys.readouterr().out
    assert "compiled files 12 (8.6 MiB) -> 0 (0 B)" in out


def test_report_option_writes_the_diff(reports: dict[str, Path], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "diff.json"
    assert main(["--report", str(out), "diff", str(reports["slim"]),
                 str(reports["alpine"])]) == exitcodes.OK
    data = json.loads(out.read_text())
    jsonschema.validate(data, SCHEMA)
    assert len(data["diff"]["changes"]) == 2
    capsys.readouterr()


@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read the report"),
    ("{nope", "not a JSON report"),
    ('{"schema": "other/1", "packages": []}', "not a wheelguard report"),
    ('{"schema": "wheelguard-report/1", "packages": [{"name": "x"}]}', "invalid report"),
])
def test_bad_report_is_one_line_exit_12(tmp_path: Path, reports: dict[str, Path],
                                        capsys: pytest.CaptureFixture[str],
                                        content: str | None, message: str) -> None:
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    assert main(["diff", str(reports["slim"]), str(bad)]) == exitcodes.INPUT_ERROR
    err = capsys.readouterr().err
    assert message in err and str(bad) in err and err.count("\n") == 1


def test_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "only-one.json"]) == exitcodes.USAGE
    capsys.readouterr()


def test_multi_target_plan_names_each_package_target(reports: dict[str, Path]) -> None:
    data = json.loads(reports["both"].read_text())
    assert data["command"] == "plan" and Config().mode == data["mode"]
    assert {p["target"] for p in data["packages"]} == {"python:3.11-slim",
                                                       "python:3.11-alpine"}
