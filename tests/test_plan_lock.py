"""``plan --lock``: the file Poetry's own Chooser picks, markers for the target, lock 2.0/2.1.

The reference is real Poetry (1.8.5 and 2.5.1, in venvs under tests/.cache): its ``Chooser``
is run over the committed 316-package lock of benchmarks/data/datastack (a real project's
dependencies) with a ``MockEnv`` carrying each target's tag list, and must pick the same
file as we do for every package and target.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest
from packaging.version import Version

from poetry_wheelguard import exitcodes
from poetry_wheelguard.choosers import choose_like_poetry
from poetry_wheelguard.cli import main
from poetry_wheelguard.config import Config
from poetry_wheelguard.errors import ConfigError, WheelguardError
from poetry_wheelguard.locks import check_selection, locked_packages_for, read_lock
from poetry_wheelguard.planning import plan_lock
from poetry_wheelguard.target_options import preset_target
from poetry_wheelguard.targets import Target
from tests.support.env import isolated_env
from tests.support.index import IndexServer
from tests.support.poetry import POETRY_VERSIONS, PoetryProject, poetry_venv, write_project
from tests.support.schema import validate_report

REPO = Path(__file__).resolve().parents[1]
DATASTACK = REPO / "benchmarks" / "data" / "datastack" / "poetry.lock"
CHOOSER = REPO / "benchmarks" / "poetry_chooser.py"
TARGETS = ("python:3.12-slim", "python:3.12-alpine", "python:3.11-slim-trixie",
           "aws-lambda-python3.10", "python:3.13-alpine")


def _targets() -> list[Target]:
    out = [preset_target(n) for n in TARGETS]
    out.append(preset_target("python:3.12-slim", "aarch64"))
    out.append(preset_target("manylinux2014", "x86_64", (3, 10)))
    return out


def poetry_choices(venv: Path, lock: Path, targets: list[Target], tmp: Path
                   ) -> dict[str, dict[str, str | None]]:
    """Run Poetry's Chooser (benchmarks/poetry_chooser.py) in ``venv``."""
    spec = tmp / "targets.json"
    spec.write_text(json.dumps([{"name": t.name, "tags": [str(x) for x in t.tags]}
                                for t in targets]))
    proc = subprocess.run([str(venv / "bin" / "python"), str(CHOOSER), str(lock), str(spec)],
                          capture_output=True, text=True, env=isolated_env(), timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    choices: dict[str, dict[str, str | None]] = json.loads(proc.stdout)["choices"]
    return choices


def _key(name: str, version: str) -> str:
    return f"{name}=={Version(version)}"


@pytest.mark.poetry
@pytest.mark.parametrize("version", POETRY_VERSIONS)
def test_same_file_as_poetry_chooser_on_a_real_lock(version: str, tmp_path: Path) -> None:
    targets = _targets()
    theirs = poetry_choices(poetry_venv(version), DATASTACK, targets, tmp_path)
    lock = read_lock(DATASTACK)
    assert len(lock.packages) >= 300
    kinds: set[str] = set()
    for target in targets:
        got = {_key(k.split("==")[0], k.split("==")[1]): v
               for k, v in theirs[target.name].items()}
        assert len(got) == len(lock.packages)
        for pkg in lock.packages:
            ours = choose_like_poetry(pkg.files, target)
            assert (ours.filename if ours else None) == got[_key(pkg.name, pkg.version)], \
                (target.name, pkg.name, pkg.version)
            if ours is None:
                kinds.add("none")
            elif ours.filename.endswith(".tar.gz"):
                kinds.add("sdist")
            else:
                kinds.add("musl" if "musllinux" in ours.filename else "wheel")
    # the comparison covers every outcome: wheels, musllinux wheels, sdists, nothing
    assert kinds == {"wheel", "musl", "sdist", "none"}


@pytest.mark.poetry
@pytest.mark.parametrize("version", POETRY_VERSIONS)
def test_lock_written_by_real_poetry_is_planned(version: str, tmp_path: Path,
                                                index_server: IndexServer) -> None:
    """A lock that Poetry 1.8.5 (format 2.0) or 2.5.1 (format 2.1) writes from the fixture
    index: markers and the dependency walk decide which packages install, the policy the
    findings."""
    path = write_project(tmp_path / "proj", index_url=index_server.url, python=">=3.9,<4",
                         dependencies={"wg-purefallback": "1.0", "wg-sdistbuild": "1.0",
                                       "wg-healthy": "1.0", "wg-ignored": "1.0"})
    text = (path / "pyproject.toml").read_text().replace(
        'wg-ignored = "1.0"',
        'wg-ignored = {version = "1.0", markers = "sys_platform == \'win32\'"}')
    (path / "pyproject.toml").write_text(text)
    venv = poetry_venv(version)
    project = PoetryProject(path, version, venv, tmp_path / "cache")
    run = project.poetry("lock")
    assert run.returncode == 0, run.output
    lock = read_lock(path / "poetry.lock")
    assert lock.lock_version == ("2.0" if version.startswith("1.") else "2.1")
    target = preset_target("python:3.11-slim")
    names = {p.name for p in locked_packages_for(lock, target)}
    # wg-puredep comes in as wg-healthy's dependency; wg-ignored only on Windows
    assert names == {"wg-purefallback", "wg-sdistbuild", "wg-healthy", "wg-puredep"}
    result = plan_lock(lock, [target], Config(mode="strict"))
    verdicts = {r.selection.name: (r.verdict, [f.code for f in r.findings
                                               if f.severity != "info"])
                for r in result.records[target.name]}
    assert verdicts["wg-purefallback"] == ("refused", ["PURE_FALLBACK"])
    assert verdicts["wg-sdistbuild"] == ("refused", ["SDIST_BUILD"])
    assert verdicts["wg-healthy"][0] == "ok" and verdicts["wg-puredep"][0] == "ok"
    theirs = poetry_choices(venv, path / "poetry.lock", [target], tmp_path)[target.name]
    for rec in result.records[target.name]:
        assert theirs[f"{rec.selection.name}=={rec.selection.version}"] == \
            (rec.selection.chosen.filename or None)


LOCK_21 = """
[[package]]
name = "app-dep"
version = "1.0"
description = ""
optional = false
python-versions = "*"
groups = ["main"]
files = [
    {file = "app_dep-1.0-py3-none-any.whl", hash = "sha256:aa"},
]

[[package]]
name = "only-old"
version = "2.0"
description = ""
optional = false
python-versions = "*"
groups = ["main"]
markers = "python_version < \\"3.11\\""
files = [
    {file = "only_old-2.0-cp310-cp310-manylinux_2_17_x86_64.whl", hash = "sha256:bb"},
    {file = "only_old-2.0.tar.gz", hash = "sha256:cc"},
]

[[package]]
name = "dev-tool"
version = "3.0"
description = ""
optional = false
python-versions = "*"
groups = ["dev"]
markers = {dev = "platform_machine == \\"aarch64\\""}
files = [{file = "dev_tool-3.0-py3-none-any.whl", hash = "sha256:dd"}]

[[package]]
name = "with-extra"
version = "1.0"
description = ""
optional = true
python-versions = "*"
groups = ["main"]
markers = "extra == \\"fast\\""
files = [
    {file = "with_extra-1.0-1-cp312-cp312-musllinux_1_1_x86_64.whl", hash = "sha256:ee"},
    {file = "with_extra-1.0-cp312-cp312-musllinux_1_2_x86_64.whl", hash = "sha256:ff"},
]

[extras]
fast = ["with-extra"]

[metadata]
lock-version = "2.1"
python-versions = ">=3.10"
content-hash = "0"
"""


def _write(tmp_path: Path, text: str, name: str = "poetry.lock") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def test_lock_21_markers_groups_and_extras(tmp_path: Path) -> None:
    lock = read_lock(_write(tmp_path, LOCK_21))
    slim310 = preset_target("python:3.10-slim")
    alpine312 = preset_target("python:3.12-alpine")
    arm312 = preset_target("python:3.12-slim", "aarch64")

    def names(target: Target, **kw: list[str]) -> list[str]:
        return [p.name for p in locked_packages_for(lock, target, **kw)]  # type: ignore[arg-type]

    assert names(slim310) == ["app-dep", "only-old"]
    assert names(arm312) == ["app-dep", "dev-tool"]
    assert names(arm312, groups=["main"]) == ["app-dep"]
    assert names(alpine312, extras=["fast"]) == ["app-dep", "with-extra"]
    # Poetry compares the build tag before the tag priority: the build-1 wheel wins
    pkg = next(p for p in lock.packages if p.name == "with-extra")
    chosen = choose_like_poetry(pkg.files, alpine312)
    assert chosen is not None and chosen.filename.startswith("with_extra-1.0-1-")


def test_lock_20_dependency_walk(tmp_path: Path) -> None:
    _write(tmp_path, """
        [tool.poetry.dependencies]
        python = "^3.9"
        root = {version = "1.0", extras = ["speed"]}
        """, "pyproject.toml")
    path = _write(tmp_path, """
        [[package]]
        name = "root"
        version = "1.0"
        description = ""
        optional = false
        python-versions = "*"
        files = [{file = "root-1.0-py3-none-any.whl", hash = "sha256:00"}]

        [package.dependencies]
        win-only = {version = "*", markers = "sys_platform == \\"win32\\""}
        speedup = {version = "*", optional = true}
        unused-opt = {version = "*", optional = true}
        numpyish = [
            {version = "1.0", markers = "python_version < \\"3.12\\""},
            {version = "2.0", markers = "python_version >= \\"3.12\\""},
        ]

        [package.extras]
        speed = ["speedup (>=1)"]
        other = ["unused-opt"]

        [[package]]
        name = "win-only"
        version = "1.0"
        description = ""
        optional = false
        python-versions = "*"
        files = []

        [[package]]
        name = "speedup"
        version = "1.0"
        description = ""
        optional = true
        python-versions = "*"
        files = []

        [[package]]
        name = "unused-opt"
        version = "1.0"
        description = ""
        optional = true
        python-versions = "*"
        files = []

        [[package]]
        name = "numpyish"
        version = "1.0"
        description = ""
        optional = false
        python-versions = "*"
        files = []

        [[package]]
        name = "numpyish"
        version = "2.0"
        description = ""
        optional = false
        python-versions = "*"
        files = []

        [metadata]
        lock-version = "2.0"
        python-versions = "^3.9"
        content-hash = "0"
        """)
    lock = read_lock(path)
    got311 = [(p.name, p.version) for p in
              locked_packages_for(lock, preset_target("python:3.11-slim"))]
    assert got311 == [("root", "1.0"), ("speedup", "1.0"), ("numpyish", "1.0")]
    got312 = [(p.name, p.version) for p in
              locked_packages_for(lock, preset_target("python:3.12-slim"))]
    assert got312 == [("root", "1.0"), ("speedup", "1.0"), ("numpyish", "2.0")]


@pytest.mark.parametrize(("text", "message"), [
    ("[metadata]\nlock-version = \"1.1\"\n", "lock format 1.1 is not supported"),
    ("[[package]]\nversion = \"1\"\n[metadata]\nlock-version = \"2.1\"\n",
     r"\[\[package\]\] #1: 'name' and 'version' are required"),
    ("not toml = = =", "not valid TOML"),
])
def test_bad_lock_is_one_line_error(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(WheelguardError, match=message) as info:
        read_lock(path)
    assert str(path) in str(info.value)


def test_cli_several_targets_one_table_and_report(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "plan.json"
    code = main(["plan", "--lock", str(DATASTACK), "--target", "python:3.12-slim",
                 "--target", "python:3.12-alpine", "--report", str(report)])
    assert code == exitcodes.OK
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "package" in line)
    assert "python:3.12-slim" in header and "python:3.12-alpine" in header
    # one table (plain text: capsys is not a terminal): one header line, one title
    assert sum(line.split()[:1] == ["package"] for line in out.splitlines()) == 1
    assert sum(line.startswith("plan (") for line in out.splitlines()) == 1
    data = json.loads(report.read_text())
    validate_report(data)
    assert [t["name"] for t in data["target"]] == ["python:3.12-slim", "python:3.12-alpine"]
    by = {(p["target"], p["name"]): p for p in data["packages"]}
    assert by[("python:3.12-slim", "numpy")]["kind"] == "wheel"
    assert "musllinux" in by[("python:3.12-alpine", "numpy")]["filename"]
    # a package with no musllinux wheel and no sdist: nothing installable on alpine
    nccl = by[("python:3.12-alpine", "nvidia-nccl-cu13")]
    assert nccl["kind"] is None and nccl["findings"][0]["code"] == "NO_DISTRIBUTION"
    assert by[("python:3.12-slim", "nvidia-nccl-cu13")]["verdict"] == "ok"


def test_cli_strict_mode_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["plan", "--lock", str(DATASTACK), "--target", "python:3.12-alpine"]
    assert main(["--mode", "strict", *argv]) == exitcodes.REFUSED
    assert main([*argv, "--mode", "strict", "--allow-sdist", "x"]) == exitcodes.REFUSED
    assert main(argv) == exitcodes.OK
    assert main(["--mode", "strict", "plan", "--lock", str(DATASTACK),
                 "--target", "python:3.12-slim"]) == exitcodes.OK
    capsys.readouterr()
    assert main(["plan", "--lock", str(tmp_path / "missing.lock"),
                 "--target", "python:3.12-slim"]) == exitcodes.INPUT_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.lock" in err
    assert main(["plan", "--target", "python:3.12-slim"]) == exitcodes.USAGE


def _plan_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, list[str]]:
    """``pip-guard ARGV`` in-process: (exit code, stdout, non-empty stderr lines)."""
    capsys.readouterr()
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, [line for line in captured.err.splitlines() if line.strip()]


def test_lock_21_unknown_group_or_extra_is_refused(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """As Poetry ("Group(s) not found", "Extra [x] is not specified"): one line, exit 64,
    nothing planned; known names (compared normalized) plan as before."""
    path = _write(tmp_path, LOCK_21)
    plan = ["plan", "--lock", str(path), "--target", "python:3.12-slim"]
    for extra, text in ((["--group", "nosuchgroup"], "group(s) not found: nosuchgroup "
                         "(--group); the project's groups: dev, main"),
                        (["--extras", "nosuch"], "extra(s) not specified: nosuch (--extras); "
                         "the project's extras: fast"),
                        (["--group", "main", "--group", "Dev", "--extras", "fast", "--extras",
                          "slow"], "extra(s) not specified: slow")):
        code, out, err = _plan_cli([*plan, *extra], capsys)
        assert code == exitcodes.USAGE, (extra, err)
        assert out == "" and len(err) == 1, (extra, out, err)
        assert err[0].startswith(f"pip-guard: error: {path}: ") and text in err[0], err
    code, out, err = _plan_cli([*plan, "--group", "DEV", "--extras", "Fast"], capsys)
    assert code == exitcodes.OK and err == [], err
    lock = read_lock(path)
    assert lock.extras == {"fast": ("with-extra",)}
    arm = preset_target("python:3.12-slim", "aarch64")
    assert [p.name for p in locked_packages_for(lock, arm, groups=["DEV"])] == ["dev-tool"]
    with pytest.raises(ConfigError, match=r"group\(s\) not found: x, y \(--only\)"):
        check_selection(lock, (), ["x", "main", "y", "x"], group_option="--only")


def _locked(name: str, version: str, optional: bool = False, tail: str = "") -> str:
    """One ``[[package]]`` of a 2.0 lock with one pure wheel, as Poetry 1.8 writes it."""
    wheel = f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    return (f'[[package]]\nname = "{name}"\nversion = "{version}"\ndescription = ""\n'
            f"optional = {str(optional).lower()}\npython-versions = \"*\"\n"
            f'files = [{{file = "{wheel}", hash = "sha256:{len(name):02d}"}}]\n{tail}\n')


LOCK_20 = (_locked("app", "1.0", tail='\n[package.dependencies]\napp-dep = "*"\n')
           + _locked("app-dep", "1.0") + _locked("lint", "2.0")
           + _locked("speedup", "3.0", optional=True) + """
[extras]
fast = ["speedup"]

[metadata]
lock-version = "2.0"
python-versions = "^3.9"
content-hash = "0"
""")

PYPROJECT_20 = """
[tool.poetry]
name = "proj"
version = "0.1.0"
description = ""
authors = []

[tool.poetry.dependencies]
python = "^3.9"
app = "1.0"
speedup = {version = "3.0", optional = true}

[tool.poetry.extras]
fast = ["speedup"]

[tool.poetry.group.Lint-Tools.dependencies]
lint = "2.0"

[tool.poetry.group.docs]
optional = true

[tool.poetry.group.docs.dependencies]
"""


def test_lock_20_groups_and_extras_from_its_pyproject(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 2.0 lock records no groups: with its pyproject.toml beside it, the groups are
    pyproject's and a group's packages are those reachable from its roots; optional roots
    only with their extra. Without a pyproject.toml no group can be told apart, so a
    group option is refused."""
    _write(tmp_path, PYPROJECT_20, "pyproject.toml")
    path = _write(tmp_path, LOCK_20)
    lock = read_lock(path)
    assert lock.declared_groups == {"main", "lint-tools", "docs"}
    slim = preset_target("python:3.12-slim")

    def names(**kw: list[str]) -> list[str]:
        return [p.name for p in locked_packages_for(lock, slim, **kw)]  # type: ignore[arg-type]

    assert names() == ["app", "app-dep", "lint"]
    assert names(extras=["fast"]) == ["app", "app-dep", "lint", "speedup"]
    assert names(groups=["main"]) == ["app", "app-dep"]
    assert names(groups=["lint_tools"]) == ["lint"]
    assert names(groups=["docs"]) == []  # declared, empty: known, nothing to plan
    plan = ["plan", "--lock", str(path), "--target", "python:3.12-slim"]
    code, _, err = _plan_cli([*plan, "--group", "nosuchgroup"], capsys)
    assert code == exitcodes.USAGE and len(err) == 1, err
    assert ("group(s) not found: nosuchgroup (--group); the project's groups: docs, "
            "lint-tools, main") in err[0]
    code, _, err = _plan_cli([*plan, "--extras", "nosuch"], capsys)
    assert code == exitcodes.USAGE and len(err) == 1, err
    assert "extra(s) not specified: nosuch (--extras); the project's extras: fast" in err[0]
    report = tmp_path / "r.json"
    code, _, err = _plan_cli([*plan, "--group", "main", "--extras", "fast",
                              "--report", str(report)], capsys)
    assert code == exitcodes.OK, err
    planned = [p["name"] for p in json.loads(report.read_text())["packages"]]
    assert planned == ["app", "app-dep", "speedup"]

    alone = tmp_path / "alone"
    alone.mkdir()
    bare = read_lock(_write(alone, LOCK_20))
    assert bare.declared_groups is None and bare.extras == {"fast": ("speedup",)}
    # without pyproject: the roots are the packages nothing depends on, and speedup is
    # optional because the lock's [extras] names it
    assert [p.name for p in locked_packages_for(bare, slim)] == ["app", "app-dep", "lint"]
    assert "speedup" in [p.name for p in locked_packages_for(bare, slim, extras=["fast"])]
    code, out, err = _plan_cli(["plan", "--lock", str(alone / "poetry.lock"), "--target",
                                "python:3.12-slim", "--group", "main"], capsys)
    assert code == exitcodes.USAGE and out == "" and len(err) == 1, err
    assert "--group: lock format 2.0 records no dependency groups" in err[0]


def test_report_path_checked_before_planning(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """As pip-guard install: a report path where no file can be written is one line and
    exit 64 before anything is read or planned (here: before the missing lock would be
    noticed), not an error after the plan was printed."""
    missing = tmp_path / "missing.lock"
    for argv in (["plan", "--lock", str(missing), "--target", "python:3.12-slim",
                  "--report", "/proc/wg-none/plan.json"],
                 ["--report", "/proc/wg-none/plan.json", "plan", "wg-puredep==1.0",
                  "--index-url", "http://127.0.0.1:9/simple/"]):
        code, out, err = _plan_cli(argv, capsys)
        assert code == exitcodes.USAGE, err
        assert out == "" and len(err) == 1, (out, err)
        assert err[0].startswith("pip-guard: error: /proc/wg-none/plan.json: cannot write "
                                 "the report there"), err
    directory = tmp_path / "adir"
    directory.mkdir()
    code, out, err = _plan_cli(["plan", "--lock", str(DATASTACK), "--target",
                                "python:3.12-slim", "--report", str(directory)], capsys)
    assert code == exitcodes.USAGE and out == "" and len(err) == 1, err
    assert "the report path is a directory" in err[0]


def test_target_newer_than_the_presets_prints_its_note(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    """``--target python:3.16-slim`` (newer than the presets table) is planned, with one
    ``pip-guard: note:`` line on stderr naming the base it was planned on; a known version
    prints none."""
    lock = _write(tmp_path, LOCK_21)
    assert main(["plan", "--lock", str(lock), "--target", "python:3.16-slim"]) == exitcodes.OK
    captured = capsys.readouterr()
    note = preset_target("python:3.16-slim").note
    assert note and captured.err.splitlines() == [f"pip-guard: note: {note}"]
    assert "python:3.16-slim" in captured.out
    assert main(["plan", "--lock", str(lock), "--target", "python:3.12-slim"]) == exitcodes.OK
    assert capsys.readouterr().err == ""


CONSTRAINTS = ["^0.25", "^1.4", "^0", "^0.0", "^0.0.3", "^1.2.3", "~1.2.3", "~1.2", "~1",
               "1.2.3", ">=1,<2", "1.2.*", "*", ">=1.0 <2.0", "!=1.5", ">= 1.0, < 2.0",
               "~=1.4", "^2.0.0rc1", "==1.2.*", "!=1.2.*", ">1.0", "<=3", "^1.4,!=1.4.5",
               "^0.25.1"]
PROBES = ["0", "0.0.2", "0.0.3", "0.0.4", "0.1", "0.24.9", "0.25", "0.25.0", "0.25.1",
          "0.25.9", "0.26", "0.26.0", "0.27.0", "1", "1.0", "1.2", "1.2.2", "1.2.3", "1.2.9",
          "1.3", "1.3.0", "1.4", "1.4.5", "1.4.54", "1.5", "1.9.9", "2", "2.0", "2.0.0rc1",
          "2.0.0", "2.5", "3", "3.0.1"]


@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_poetry_constraint_as_pep440_matches_poetry_core(constraint: str) -> None:
    """The core's conversion of Poetry's constraint forms admits exactly the versions
    poetry-core's own ``parse_constraint`` admits (poetry-core is a test dependency only;
    the core never imports it)."""
    from packaging.specifiers import SpecifierSet
    from poetry.core.constraints.version import Version as PoetryVersion
    from poetry.core.constraints.version import parse_constraint

    from poetry_wheelguard.locks.poetry import poetry_specifier

    ours = poetry_specifier(constraint)
    theirs = parse_constraint(constraint)
    spec = SpecifierSet(ours)
    for probe in PROBES:
        assert spec.contains(probe, prereleases=True) == theirs.allows(
            PoetryVersion.parse(probe)), (constraint, ours, probe)


@pytest.mark.parametrize("constraint", ["^1.4 || ^2.0", "1.0 | 2.0", "junk", "~=1", "*", ""])
def test_poetry_constraint_pep440_cannot_write_gives_none(constraint: str) -> None:
    from poetry_wheelguard.locks.poetry import poetry_specifier

    assert poetry_specifier(constraint) == ""


LOCK_S16 = """
[[package]]
name = "wg-sqla"
version = "1.4.54"
description = ""
optional = false
python-versions = "*"
groups = ["main"]
markers = "python_version >= \\"3.10\\""
files = [
    {file = "wg_sqla-1.4.54-cp311-cp311-manylinux_2_17_x86_64.whl", hash = "sha256:aa"},
    {file = "wg_sqla-1.4.54.tar.gz", hash = "sha256:bb"},
]

[[package]]
name = "wg-sqla"
version = "1.4.49"
description = ""
optional = false
python-versions = "*"
groups = ["main"]
markers = "python_version < \\"3.10\\""
files = [
    {file = "wg_sqla-1.4.49-cp311-cp311-musllinux_1_1_x86_64.whl", hash = "sha256:cc"},
]

[[package]]
name = "wg-sqla"
version = "2.0.0"
description = ""
optional = false
python-versions = "*"
groups = ["dev"]
markers = "python_version < \\"3.9\\""
files = [
    {file = "wg_sqla-2.0.0-cp311-cp311-musllinux_1_1_x86_64.whl", hash = "sha256:dd"},
]

[metadata]
lock-version = "2.1"
python-versions = ">=3.8"
content-hash = "0"
"""


def test_lock_plan_hints_inside_the_projects_constraint(tmp_path: Path) -> None:
    """S16: the root project's ``^1.4`` (pyproject.toml beside the lock) is the
    selection's specifier, so on musl the hint names the nearest version inside it
    (1.4.49), not 2.0.0; ``^1.5`` has none inside and says so."""
    lock_path = _write(tmp_path, LOCK_S16)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.poetry]\nname = "p"\nversion = "0"\n\n'
                         '[tool.poetry.dependencies]\npython = "^3.8"\n'
                         'wg-sqla = {version = "^1.4", optional = false}\n')
    alpine = preset_target("python:3.11-alpine")
    (rec,) = plan_lock(read_lock(lock_path), [alpine], Config()).records[alpine.name]
    assert rec.selection.version == "1.4.54" and rec.selection.specifier == "<2,>=1.4"
    (finding,) = [f for f in rec.findings if f.code == "SDIST_BUILD"]
    assert finding.hint.startswith("1.4.49 is the newest older version with one "
                                   "(inside <2,>=1.4)"), finding.hint
    pyproject.write_text(pyproject.read_text().replace("^1.4", "^1.4.50"))
    (rec,) = plan_lock(read_lock(lock_path), [alpine], Config()).records[alpine.name]
    (finding,) = [f for f in rec.findings if f.code == "SDIST_BUILD"]
    assert finding.hint.startswith(
        "no version inside <2,>=1.4.50 has a wheel for python:3.11-alpine; outside it, "
        "wg-sqla 2.0.0+ has a wheel"), finding.hint
