"""``poetry wheelguard plan``: real Poetry 1.8.5 and 2.5.1 plan the project's poetry.lock
for several targets, and the result is ``pip-guard plan --lock`` on the same lock: the same
package objects in the JSON report, the same table, the same exit code.

Two locks: the committed 316-package lock of benchmarks/data/datastack copied into a temp
project (lock format 2.1, every kind of outcome on slim and alpine), and a small lock that
the Poetry under test writes itself from the local fixture index (format 2.0 with 1.8.5,
2.1 with 2.5.1). The project's source is unreachable or its server records every request:
the plan reads nothing but the lock.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from poetry_wheelguard import exitcodes
from poetry_wheelguard.cli import main
from tests.support.index import IndexServer
from tests.support.poetry import (
    POETRY_VERSIONS,
    PoetryProject,
    PoetryRun,
    poetry_venv,
    run_in_poetry_venv,
    write_project,
)
from tests.support.projects import FixtureIndex
from tests.support.schema import validate_report

pytestmark = pytest.mark.poetry

REPO = Path(__file__).resolve().parents[1]
DATASTACK = REPO / "benchmarks" / "data" / "datastack" / "poetry.lock"
SLIM_ALPINE = ("--target", "python:3.12-slim", "--target", "python:3.12-alpine")
# Port 9 (discard) on the loopback: any attempt to read the index fails.
DEAD_INDEX = "http://127.0.0.1:9/simple/"


@pytest.fixture(scope="module", params=POETRY_VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    """Each supported Poetry version (its venv is built once and reused)."""
    poetry_venv(request.param)
    result: str = request.param
    return result


def project_at(path: Path, version: str) -> PoetryProject:
    return PoetryProject(path, version, poetry_venv(version), path.parent / "poetry-cache")


def report_of(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    validate_report(data)
    return data


def pip_guard_plan(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``pip-guard ARGV`` in-process: (exit code, stdout)."""
    capsys.readouterr()
    code = main(argv)
    return code, capsys.readouterr().out


def by_target(data: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["target"], p["name"]): p for p in data["packages"]}


def assert_same_plan(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    """Both reports plan the same packages, files and findings for the same targets."""
    assert ours["command"] == theirs["command"] == "plan"
    assert ours["installer"] == theirs["installer"] == {"name": "poetry"}
    assert ours["target"] == theirs["target"]
    assert ours["mode"] == theirs["mode"] and ours["exit_code"] == theirs["exit_code"]
    assert ours["packages"] == theirs["packages"]
    assert ours["plan"]["lock_version"] == theirs["plan"]["lock_version"]


def codes(pkg: dict[str, Any]) -> list[str]:
    return [f["code"] for f in pkg["findings"] if f["severity"] != "info"]


def test_plan_of_a_real_lock_is_pip_guards(version: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = write_project(tmp_path / "proj", dependencies={}, index_url=DEAD_INDEX,
                         python=">=3.10,<3.14")
    shutil.copy(DATASTACK, path / "poetry.lock")
    project = project_at(path, version)

    run = project.poetry("wheelguard", "plan", *SLIM_ALPINE, "--report", "plan.json")

    assert run.returncode == exitcodes.OK, run.output
    code, expected = pip_guard_plan(["plan", "--lock", str(path / "poetry.lock"), *SLIM_ALPINE,
                                     "--report", str(tmp_path / "ref.json")], capsys)
    assert code == exitcodes.OK
    ours, theirs = report_of(path / "plan.json"), report_of(tmp_path / "ref.json")
    assert_same_plan(ours, theirs)
    assert ours["poetry"] == {"command": "wheelguard plan", "version": version}
    assert ours["plan"]["lock"] == str(path / "poetry.lock")
    # The same table and findings, printed through Poetry's IO: one table, a column per
    # target.
    assert run.stdout == expected
    header = next(line for line in run.stdout.splitlines() if "package" in line)
    assert "python:3.12-slim" in header and "python:3.12-alpine" in header
    # one table (plain text: Poetry's output is not a terminal here)
    assert sum(line.split()[:1] == ["package"] for line in run.stdout.splitlines()) == 1
    # The comparison covers every kind of outcome: platform wheels on both targets, pure
    # fallbacks, sdist builds and nothing installable on alpine.
    got = by_target(ours)
    assert len({name for _, name in got}) >= 250
    assert got[("python:3.12-slim", "numpy")]["kind"] == "wheel"
    assert "musllinux" in got[("python:3.12-alpine", "numpy")]["filename"]
    alpine_codes = {c for (t, _), p in got.items() if t == "python:3.12-alpine"
                    for c in codes(p)}
    assert {"PURE_FALLBACK", "SDIST_BUILD", "NO_DISTRIBUTION"} <= alpine_codes
    # This pyproject is not the one the lock was made from: Poetry's content hash says so.
    warning = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(warning) == 1 and "pyproject.toml changed since poetry.lock" in warning[0]


@pytest.fixture
def fixture_project(version: str, tmp_path: Path, index_server: IndexServer) -> PoetryProject:
    """A project locked by the Poetry under test from the fixture index, with wg-ignored in
    a ``dev`` group; its ``[tool.wheelguard]`` sets strict mode and a report path."""
    path = write_project(tmp_path / "proj", index_url=index_server.url,
                         wheelguard={"mode": "strict", "report": "wg-plan.json"},
                         dependencies={"wg-purefallback": "1.0", "wg-sdistbuild": "1.0",
                                       "wg-healthy": "1.0"})
    with (path / "pyproject.toml").open("a") as fh:
        fh.write('\n[tool.poetry.group.dev.dependencies]\nwg-ignored = "1.0"\n')
    project = project_at(path, version)
    locked = project.poetry("lock")
    assert locked.returncode == 0, locked.output
    shutil.rmtree(project.env_dir, ignore_errors=True)  # `poetry lock` may have made one
    return project


def test_strict_plan_of_a_lock_poetry_wrote(fixture_project: PoetryProject, tmp_path: Path,
                                            index_server: IndexServer,
                                            fixture_index: FixtureIndex,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    project = fixture_project
    lock = project.path / "poetry.lock"
    index_server.requests.clear()

    run = project.poetry("wheelguard", "plan", *SLIM_ALPINE, "--report", "plan.json")

    # strict mode from [tool.wheelguard]: refusals on some target -> exit 10, one line
    assert run.returncode == exitcodes.REFUSED, run.output
    assert [line for line in run.stderr.splitlines() if line.strip()] == [
        "wheelguard: strict mode: the plan has refusals (exit 10)"]
    code, expected = pip_guard_plan(["--mode", "strict", "plan", "--lock", str(lock),
                                     *SLIM_ALPINE, "--report", str(tmp_path / "ref.json")],
                                    capsys)
    assert code == exitcodes.REFUSED
    ours = report_of(project.path / "plan.json")
    assert_same_plan(ours, report_of(tmp_path / "ref.json"))
    assert run.stdout == expected
    assert ours["plan"]["lock_version"] == ("2.0" if project.major < 2 else "2.1")
    got = by_target(ours)
    for target in ("python:3.12-slim", "python:3.12-alpine"):
        assert codes(got[(target, "wg-purefallback")]) == ["PURE_FALLBACK"]
        assert got[(target, "wg-purefallback")]["verdict"] == "refused"
        assert codes(got[(target, "wg-sdistbuild")]) == ["SDIST_BUILD"]
        assert got[(target, "wg-puredep")]["verdict"] == "ok"  # wg-healthy's dependency
    # every group by default: the dev group's wg-ignored has a manylinux wheel for slim only
    assert got[("python:3.12-slim", "wg-ignored")]["verdict"] == "ok"
    assert codes(got[("python:3.12-alpine", "wg-ignored")]) == ["PURE_FALLBACK"]
    # wg-healthy ships one manylinux wheel and no sdist
    assert codes(got[("python:3.12-alpine", "wg-healthy")]) == ["NO_DISTRIBUTION"]
    # --report wins over [tool.wheelguard] report; nothing was read from the index, built,
    # or installed, and no project environment was made.
    assert not (project.path / "wg-plan.json").exists()
    assert index_server.requests == []
    assert list(fixture_index.markers.glob("*.built")) == []
    assert not project.env_dir.exists()


def test_allowed_plan_exits_zero_and_writes_the_configured_report(
        fixture_project: PoetryProject, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Allow-lists from WHEELGUARD_* turn the refusals into warnings, ``--only main`` leaves
    the dev group out (lock 2.1 by its packages' groups; lock 2.0, which records no groups,
    by walking only the main group's dependencies of pyproject.toml); the report of
    ``[tool.wheelguard]`` goes to the project directory, wherever Poetry runs from."""
    project = fixture_project
    # the target the fixture's compiled wheel was built for (the running CPython)
    target = f"python:{sys.version_info[0]}.{sys.version_info[1]}-slim"
    allow = {"WHEELGUARD_ALLOW_PURE": "wg-purefallback", "WHEELGUARD_ALLOW_SDIST": "wg-sdistbuild"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.run(
        [str(project.venv / "bin" / "poetry"), "--directory", str(project.path),
         "wheelguard", "plan", "--target", target, "--only", "main"],
        cwd=elsewhere, capture_output=True, text=True, env=project.env(allow), timeout=300,
        stdin=subprocess.DEVNULL)
    run = PoetryRun(proc.returncode, proc.stdout, proc.stderr)

    assert run.returncode == exitcodes.OK, run.output
    assert list(elsewhere.iterdir()) == []
    ours = report_of(project.path / "wg-plan.json")
    code, expected = pip_guard_plan(
        ["--mode", "strict", "--allow-pure", "wg-purefallback", "--allow-sdist",
         "wg-sdistbuild", "plan", "--lock", str(project.path / "poetry.lock"),
         "--target", target, "--group", "main", "--report", str(tmp_path / "ref.json")],
        capsys)
    assert code == exitcodes.OK
    assert_same_plan(ours, report_of(tmp_path / "ref.json"))
    assert run.stdout == expected
    got = by_target(ours)
    assert ours["mode"] == "strict"
    assert got[(target, "wg-purefallback")]["verdict"] == "warn"
    assert got[(target, "wg-sdistbuild")]["verdict"] == "warn"
    assert got[(target, "wg-healthy")]["verdict"] == "ok"
    assert (target, "wg-ignored") not in got


def test_activation_stays_cheap_and_bad_input_is_one_line(version: str,
                                                          tmp_path: Path) -> None:
    """In-process (cleo's ApplicationTester in Poetry's own interpreter): the command is a
    lazy factory, and every bad input is one line with its exit code."""
    project = write_project(tmp_path / "proj", dependencies={"wg-puredep": "1.0"},
                            index_url=DEAD_INDEX)
    script = textwrap.dedent("""
        import json, sys
        from pathlib import Path
        from cleo.testers.application_tester import ApplicationTester
        from poetry.console.application import Application
        app = Application()
        app.auto_exits(False)
        tester = ApplicationTester(app)
        out = {"check": tester.execute("check"),
               "mods": sorted(m for m in sys.modules if m.startswith("poetry_wheelguard"))}
        out["has"] = app.has("wheelguard plan")  # cleo builds the command to answer
        def run(args):
            status = tester.execute(args)
            return [status, tester.io.fetch_output(), tester.io.fetch_error()]
        out["no_lock"] = run("wheelguard plan --target python:3.12-slim")
        Path("poetry.lock").write_text("[[package]]\\nversion = 1\\n"
                                       "[metadata]\\nlock-version = '2.1'\\n")
        out["bad_lock"] = run("wheelguard plan --target python:3.12-slim")
        Path("poetry.lock").write_text("metadata = 'x'\\n")
        out["shape_lock"] = run("wheelguard plan --target python:3.12-slim")
        out["no_target"] = run("wheelguard plan")
        out["unknown"] = run("wheelguard plan --target python:3.12-busybox")
        out["arch"] = run("wheelguard plan --target python:3.12-slim --arch sparc")
        out["mode"] = run("wheelguard plan --target python:3.12-slim --mode loud")
        out["impl"] = run("wheelguard plan --libc musl-1.2 --python-version 3.12 "
                          "--implementation jython")
        out["report"] = run("wheelguard plan --target python:3.12-slim "
                            "--report /proc/wg-none/plan.json")
        print(json.dumps(out))
    """)
    proc = run_in_poetry_venv(poetry_venv(version), script, project, {
        "POETRY_CACHE_DIR": str(tmp_path / "cache"),
        "POETRY_CONFIG_DIR": str(tmp_path / "config"),
    })
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["check"] == 0 and out["has"] is True
    assert out["mods"] == ["poetry_wheelguard", "poetry_wheelguard.poetry",
                           "poetry_wheelguard.poetry.plugin"]
    expected = {
        "no_lock": (exitcodes.INPUT_ERROR, "no poetry.lock; run `poetry lock` first"),
        "bad_lock": (exitcodes.INPUT_ERROR,
                     "poetry.lock: [[package]] #1: 'version' must be a string, not an integer"),
        "shape_lock": (exitcodes.INPUT_ERROR,
                       "poetry.lock: top level: 'metadata' must be a table, not a string"),
        "no_target": (exitcodes.USAGE, "give --target NAME"),
        "unknown": (exitcodes.USAGE, "unknown target 'python:3.12-busybox'"),
        "arch": (exitcodes.USAGE, "--arch must be one of x86_64, aarch64, not 'sparc'"),
        "mode": (exitcodes.USAGE, 'mode must be "warn" or "strict"'),
        "impl": (exitcodes.USAGE, "--implementation must be cp or pp, not 'jython'"),
        # checked before the (malformed) lock is read
        "report": (exitcodes.USAGE, "/proc/wg-none/plan.json: cannot write the report there"),
    }
    for case, (status, text) in expected.items():
        got_status, stdout, stderr = out[case]
        lines = [line for line in stderr.splitlines() if line.strip()]
        assert got_status == status, (case, stderr)
        assert stdout == "" and len(lines) == 1, (case, stdout, stderr)
        assert lines[0].startswith("wheelguard: error: ") and text in lines[0], (case, lines)


def test_unknown_group_extra_or_report_path_is_refused_before_planning(
        fixture_project: PoetryProject, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """As Poetry refuses ``--only nosuchgroup`` and ``-E nosuchextra``: one line, exit 64,
    nothing planned or written, on the lock Poetry wrote (2.0 with 1.8.5: the groups are
    those of pyproject.toml; 2.1 with 2.5.1); ``pip-guard plan --lock`` refuses the same.
    A known group plans exactly that group's packages on both lock formats. An unwritable
    report path (``--report`` or ``WHEELGUARD_REPORT``) is refused before planning too."""
    project = fixture_project
    lock = project.path / "poetry.lock"
    target = ("--target", "python:3.12-slim")
    cases = [
        (["--only", "nosuchgroup"], ["--group", "nosuchgroup"],
         "group(s) not found: nosuchgroup ({opt}); the project's groups: dev, main"),
        (["-E", "nosuchextra"], ["--extras", "nosuchextra"],
         "extra(s) not specified: nosuchextra ({opt}); the project's extras: none"),
        (["--only", "main,nosuchgroup"], ["--group", "main", "--group", "nosuchgroup"],
         "group(s) not found: nosuchgroup ({opt}); the project's groups: dev, main"),
    ]
    for poetry_args, pip_args, text in cases:
        run = project.poetry("wheelguard", "plan", *target, *poetry_args)
        assert run.returncode == exitcodes.USAGE, (poetry_args, run.output)
        assert run.stdout == "", run.stdout
        lines = [line for line in run.stderr.splitlines() if line.strip()]
        want = text.format(opt="--only" if "--only" in poetry_args else "--extras")
        assert lines == [f"wheelguard: error: {lock}: {want}"], lines
        capsys.readouterr()
        code = main(["plan", "--lock", str(lock), *target, *pip_args])
        out, err = capsys.readouterr()
        assert code == exitcodes.USAGE and out == "", (pip_args, out, err)
        want = text.format(opt="--group" if "--group" in pip_args else "--extras")
        assert err.splitlines() == [f"pip-guard: error: {lock}: {want}"], err
    assert not (project.path / "wg-plan.json").exists()

    run = project.poetry("wheelguard", "plan", *target, "--only", "dev", "--report", "dev.json")
    assert run.returncode == exitcodes.OK, run.output
    ours = report_of(project.path / "dev.json")
    assert [p["name"] for p in ours["packages"]] == ["wg-ignored"]
    code, _ = pip_guard_plan(["--mode", "strict", "plan", "--lock", str(lock), *target,
                              "--group", "dev", "--report", str(tmp_path / "ref.json")],
                             capsys)
    assert code == exitcodes.OK
    assert_same_plan(ours, report_of(tmp_path / "ref.json"))

    for args, env in ((["--report", "/proc/wg-none/plan.json"], None),
                      ([], {"WHEELGUARD_REPORT": "/proc/wg-none/plan.json"})):
        run = project.poetry("wheelguard", "plan", *target, *args, env=env)
        assert run.returncode == exitcodes.USAGE, run.output
        assert run.stdout == ""
        lines = [line for line in run.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith(
            "wheelguard: error: /proc/wg-none/plan.json: cannot write the report there ("), lines
        assert "--report / report in [tool.wheelguard] / WHEELGUARD_REPORT" in lines[0]


def test_target_newer_than_the_presets_prints_its_note(version: str, tmp_path: Path) -> None:
    """``poetry wheelguard plan --target python:3.16-slim`` plans it and prints the
    target's note as one ``wheelguard: note:`` line on stderr."""
    from poetry_wheelguard.target_options import preset_target

    path = write_project(tmp_path / "proj", dependencies={}, index_url=DEAD_INDEX,
                         python=">=3.10,<3.17")
    shutil.copy(DATASTACK, path / "poetry.lock")
    run = project_at(path, version).poetry("wheelguard", "plan", "--target",
                                           "python:3.16-slim")
    assert run.returncode == exitcodes.OK, run.output
    note = preset_target("python:3.16-slim").note
    assert note and f"wheelguard: note: {note}" in run.stderr.splitlines()
    assert "python:3.16-slim" in run.stdout
