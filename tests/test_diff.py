"""``pip-guard diff``: real plan reports of the fixture index for two targets, verify-style
reports with compiled-file counts, and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from poetry_wheelguard import exitcodes
from poetry_wheelguard.cli import main
from poetry_wheelguard.config import Config
from poetry_wheelguard.distfiles import classify, normalize
from poetry_wheelguard.models import Candidate, PackageRecord, Selection
from poetry_wheelguard.report import Report, write_json_atomic
from tests.support.dists import build_wheel
from tests.support.index import IndexServer, StaticIndex
from tests.support.schema import validate_report

PINS = ["wg-purefallback==1.0", "wg-sdistbuild==2.0", "wg-healthy==1.0", "wg-puredep==1.0"]


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
    validate_report(data)
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
    validate_report(data)
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


# --- another file of the same kind: libc family, architecture, interpreter, local build ---

LIBC_WHEELS = ("cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
               "cp311-cp311-musllinux_1_2_x86_64",
               "cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64",
               "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64")
PLATFORM_PINS = ["wg-libc==1.0", "wg-plain==1.0"]


@pytest.fixture(scope="module")
def platform_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Plan reports of a project with manylinux x86_64/aarch64, musllinux and cp312 wheels
    (plus a pure project) on an index of its own, for slim, alpine, slim on aarch64 and a
    CPython 3.12 slim."""
    root = tmp_path_factory.mktemp("diff-platforms")
    dists = root / "dists"
    index = StaticIndex(root / "index")
    index.add([*(build_wheel(dists, "wg-libc", "1.0", tag) for tag in LIBC_WHEELS),
               build_wheel(dists, "wg-plain", "1.0")])
    out = {}
    with index.serve() as server:
        for key, options in (("slim", ["--target", "python:3.11-slim"]),
                             ("alpine", ["--target", "python:3.11-alpine"]),
                             ("aarch64", ["--target", "python:3.11-slim", "--arch", "aarch64"]),
                             ("slim312", ["--target", "python:3.12-slim"])):
            path = root / f"{key}.json"
            assert main(["plan", "--index-url", server.url, "--no-cache", *PLATFORM_PINS,
                         *options, "--report", str(path)]) == exitcodes.OK
            out[key] = path
    return out


def _changes(data: dict[str, object]) -> dict[str, dict[str, Any]]:
    diff = data["diff"]
    assert isinstance(diff, dict)
    return {c["name"]: c for c in diff["changes"]}


def _table(a: Path, b: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["diff", str(a), str(b)]) == exitcodes.OK
    return capsys.readouterr().out.splitlines()


def test_libc_family_change_is_a_file_change(platform_reports: dict[str, Path],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    slim, alpine = platform_reports["slim"], platform_reports["alpine"]
    data = _diff_json(str(slim), str(alpine), capsys=capsys)
    changes = _changes(data)
    assert set(changes) == {"wg-libc"}
    libc = changes["wg-libc"]
    assert libc["changes"] == ["file"]
    assert libc["a"] == {"version": "1.0", "kind": "platform wheel",
                         "filename": f"wg_libc-1.0-{LIBC_WHEELS[0]}.whl",
                         "platform": "manylinux_2_17_x86_64", "codes": [],
                         "compiled_files": None, "compiled_bytes": None}
    assert libc["b"]["filename"] == f"wg_libc-1.0-{LIBC_WHEELS[1]}.whl"
    assert libc["b"]["platform"] == "musllinux_1_2_x86_64"
    assert data["diff"]["unchanged"] == 1  # type: ignore[index]
    lines = _table(slim, alpine, capsys)
    row = next(line for line in lines if line.startswith("wg-libc "))
    assert row.split()[1:] == ["1.0", "platform", "wheel", "1.0", "platform", "wheel",
                               "manylinux_2_17_x86_64", "->", "musllinux_1_2_x86_64"]
    assert lines[-1] == "1 package differs (0 changed file kind, 1 changed file of the " \
                        "same kind), 1 unchanged"


def test_architecture_change_is_a_file_change(platform_reports: dict[str, Path],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    data = _diff_json(str(platform_reports["slim"]), str(platform_reports["aarch64"]),
                      capsys=capsys)
    changes = _changes(data)
    assert set(changes) == {"wg-libc"} and changes["wg-libc"]["changes"] == ["file"]
    lines = _table(platform_reports["slim"], platform_reports["aarch64"], capsys)
    assert any(line.startswith("wg-libc ") and line.endswith(
        "manylinux_2_17_x86_64 -> manylinux_2_17_aarch64") for line in lines)


def test_same_platform_other_wheel_shows_both_file_names(
        platform_reports: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    slim, slim312 = platform_reports["slim"], platform_reports["slim312"]
    changes = _changes(_diff_json(str(slim), str(slim312), capsys=capsys))
    assert set(changes) == {"wg-libc"} and changes["wg-libc"]["changes"] == ["file"]
    assert changes["wg-libc"]["a"]["platform"] == \
        changes["wg-libc"]["b"]["platform"] == "manylinux_2_17_x86_64"
    lines = _table(slim, slim312, capsys)
    assert any(line.endswith(f"file wg_libc-1.0-{LIBC_WHEELS[0]}.whl -> "
                             f"wg_libc-1.0-{LIBC_WHEELS[3]}.whl") for line in lines)


def test_no_difference_prints_only_the_summary(platform_reports: dict[str, Path],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    slim = str(platform_reports["slim"])
    assert main(["diff", slim, slim]) == exitcodes.OK
    assert capsys.readouterr().out == "0 packages differ (0 changed file kind), 2 unchanged\n"


def _report(path: Path, command: str,
            packages: list[tuple[str, str, str, dict[str, int] | None]]) -> Path:
    """A report written by the report code: ``(name, version, filename, verification)``;
    kind, tags and purity from :func:`classify` of the file name."""
    records = []
    for name, version, filename, verification in packages:
        dist = classify(filename)
        sel = Selection(name=normalize(name), version=version,
                        chosen=Candidate(filename=filename))
        records.append(PackageRecord(sel, dist.kind, dist.tag_strings, dist.pure, [], "ok",
                                     verification))
    report = Report(command=command, mode="warn", target={"name": "cp311"}, packages=records)
    write_json_atomic(path, report.to_json())
    return path


def _planned(report: Path) -> dict[str, str]:
    return {p["name"]: p["filename"] for p in json.loads(report.read_text())["packages"]}


def test_install_report_against_plan_report_compares_no_compiled_files(
        platform_reports: dict[str, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    plan = platform_reports["slim"]
    files = _planned(plan)
    install = _report(tmp_path / "install.json", "install", [
        ("wg-libc", "1.0", files["wg-libc"], {"elf_files": 1, "elf_bytes": 244_121}),
        ("wg-plain", "1.0", files["wg-plain"], {"elf_files": 0, "elf_bytes": 0})])
    for a, b in ((plan, install), (install, plan)):
        data = _diff_json(str(a), str(b), capsys=capsys)
        diff = data["diff"]
        assert isinstance(diff, dict) and diff["changes"] == [] and diff["unchanged"] == 2
        assert main(["diff", str(a), str(b)]) == exitcodes.OK
        assert capsys.readouterr().out == \
            "0 packages differ (0 changed file kind), 2 unchanged\n"


def test_verify_name_of_the_same_wheel_is_the_same_file(
        platform_reports: dict[str, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """verify rebuilds a wheel's name from its WHEEL tags: another tag order, same file."""
    plan = platform_reports["slim"]
    rebuilt = "wg_libc-1.0-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
    assert rebuilt != _planned(plan)["wg-libc"]
    verify = _report(tmp_path / "verify.json", "verify", [
        ("wg-libc", "1.0", rebuilt, {"elf_files": 1, "elf_bytes": 244_121}),
        ("wg-plain", "1.0", "wg_plain-1.0-py3-none-any.whl", {"elf_files": 0})])
    data = _diff_json(str(plan), str(verify), capsys=capsys)
    assert data["diff"]["changes"] == []  # type: ignore[index]


def test_local_build_against_index_wheel(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Two verify reports: a manylinux wheel from the index on one side, the wheel built
    locally from the sdist (``linux_x86_64``) on the other; the compiled files compared."""
    a = _report(tmp_path / "a.json", "verify", [
        ("wg-libc", "1.0", f"wg_libc-1.0-{LIBC_WHEELS[0]}.whl",
         {"elf_files": 1, "elf_bytes": 244_121})])
    b = _report(tmp_path / "b.json", "verify", [
        ("wg-libc", "1.0", "wg_libc-1.0-cp311-cp311-linux_x86_64.whl",
         {"elf_files": 2, "elf_bytes": 300_000})])
    changes = _changes(_diff_json(str(a), str(b), capsys=capsys))
    assert changes["wg-libc"]["changes"] == ["file", "compiled"]
    assert changes["wg-libc"]["b"]["platform"] == "linux_x86_64"
    lines = _table(a, b, capsys)
    assert lines[-2].split("  ")[-1].strip() == (
        "manylinux_2_17_x86_64 -> linux_x86_64; compiled files 1 (238.4 KiB) -> 2 (293.0 KiB)")
    assert lines[-1] == "1 package differs (0 changed file kind, 1 changed file of the " \
                        "same kind), 0 unchanged"


def test_compiled_size_known_on_one_side_only_is_not_a_change(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name = f"wg_libc-1.0-{LIBC_WHEELS[0]}.whl"
    a = _report(tmp_path / "a.json", "verify",
                [("wg-libc", "1.0", name, {"elf_files": 1, "elf_bytes": 244_121})])
    b = _report(tmp_path / "b.json", "verify", [("wg-libc", "1.0", name, {"elf_files": 1})])
    assert _changes(_diff_json(str(a), str(b), capsys=capsys)) == {}
    c = _report(tmp_path / "c.json", "verify", [("wg-libc", "1.0", name, {"elf_files": 3})])
    assert _changes(_diff_json(str(b), str(c), capsys=capsys))["wg-libc"]["changes"] == \
        ["compiled"]


def test_summary_counts_every_changed_package(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A package whose only change is its compiled files (and one whose only change is its
    version) is counted in the summary, so the counts add up to the packages that differ."""
    a = _verify_report(tmp_path / "a.json", {"numpy": ("1.26.4", 40, 30_000_000, False),
                                             "pydantic": ("1.9.1", 12, 9_000_000, False),
                                             "attrs": ("23.1.0", 0, 0, True),
                                             "six": ("1.16.0", 0, 0, True)})
    b = _verify_report(tmp_path / "b.json", {"numpy": ("1.26.4", 41, 30_500_000, False),
                                             "pydantic": ("1.9.1", 0, 0, True),
                                             "attrs": ("23.2.0", 0, 0, True),
                                             "six": ("1.16.0", 0, 0, True)})
    lines = _table(a, b, capsys)
    assert lines[-1] == ("3 packages differ (1 changed file kind, 1 changed version, same "
                         "kind, 1 changed only compiled files), 1 unchanged")


def test_platform_shown_by_lowest_libc_and_pep600_name(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A legacy manylinux name alone, and a wheel tagged for two glibc versions, are shown
    by the PEP 600 name of the lowest glibc they need."""
    a = _report(tmp_path / "a.json", "verify", [
        ("wg-legacy", "1.0", "wg_legacy-1.0-cp311-cp311-manylinux2014_x86_64.whl", None),
        ("wg-two", "1.0", "wg_two-1.0-cp311-cp311-manylinux_2_5_x86_64.manylinux1_x86_64."
         "manylinux_2_12_x86_64.manylinux2010_x86_64.whl", None)])
    b = _report(tmp_path / "b.json", "verify", [
        ("wg-legacy", "1.0", "wg_legacy-1.0-cp311-cp311-musllinux_1_1_x86_64.whl", None),
        ("wg-two", "1.0", "wg_two-1.0-cp311-cp311-musllinux_1_2_x86_64.whl", None)])
    changes = _changes(_diff_json(str(a), str(b), capsys=capsys))
    assert {n: (c["a"]["platform"], c["b"]["platform"]) for n, c in changes.items()} == {
        "wg-legacy": ("manylinux_2_17_x86_64", "musllinux_1_1_x86_64"),
        "wg-two": ("manylinux_2_5_x86_64", "musllinux_1_2_x86_64")}
