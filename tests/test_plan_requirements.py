"""``plan`` from requirements: pip's choice of file, checked against real ``pip download``
(``--only-binary=:all: --platform ... --python-version ... --no-deps``) on the local fixture
index, pip's resolver for unpinned requirements, the requirements-file format."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from poetry_wheelguard import exitcodes
from poetry_wheelguard.choosers import choose_like_pip
from poetry_wheelguard.cli import main
from poetry_wheelguard.config import Config
from poetry_wheelguard.distfiles import classify, normalize
from poetry_wheelguard.errors import IndexFetchError, WheelguardError
from poetry_wheelguard.index import IndexClient, IndexConfig
from poetry_wheelguard.models import Candidate
from poetry_wheelguard.planning import plan_requirements
from poetry_wheelguard.requirements import RequirementSet, read_requirements_file
from poetry_wheelguard.resolve import pip_resolve
from poetry_wheelguard.target_options import preset_target
from poetry_wheelguard.targets import Target
from tests.support.env import isolated_env
from tests.support.index import IndexServer
from tests.support.schema import validate_report

PINS = ["wg-purefallback==1.0", "wg-purefallback==2.0", "wg-sdistbuild==1.0",
        "wg-sdistbuild==2.0", "wg-ignored==1.0", "wg-healthy==1.0", "wg-puredep==1.0",
        "wg-sdistonly==1.0"]
TARGETS = ("python:3.11-slim", "python:3.8-slim", "python:3.11-alpine")


def pip_download(target: Target, requirements: list[str], index_url: str,
                 dest: Path) -> dict[str, str] | None:
    """Run real ``pip download --no-deps --only-binary=:all:`` for ``target``:
    ``{requirement: downloaded file}``, or ``None`` when pip finds no wheel."""
    dest.mkdir(parents=True)
    major, minor = target.python_version
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--no-cache-dir", "-q", "-d", str(dest), "--index-url", index_url,
           "--python-version", f"{major}.{minor}", "--implementation", "cp",
           "--abi", target.abis[0]]
    for plat in dict.fromkeys(t.platform for t in target.tags if t.platform != "any"):
        cmd += ["--platform", plat]
    proc = subprocess.run([*cmd, *requirements], capture_output=True, text=True,
                          env=isolated_env(), timeout=300, check=False)
    if proc.returncode != 0:
        assert "No matching distribution" in proc.stderr or "Could not find" in proc.stderr, \
            proc.stderr
        return None
    files = {(d.name, str(d.version)): d.filename
             for d in (classify(p.name) for p in dest.iterdir())}
    assert len(files) == len(requirements)
    return {r: files[(normalize(r.split("==")[0]), r.split("==")[1])] for r in requirements}


def compare_with_pip(ours: dict[str, dict[str, object]], targets: list[Target],
                     pins: list[str], index_url: str, tmp: Path) -> set[str]:
    """Check our choice against real pip for every pin and target; returns the outcomes
    seen (``platform``, ``pure``, ``sdist``, ``none``).

    pip runs once per target for the pins we expect a wheel for (one run per set of
    distinct names: it must download exactly our files) and once per other pin (it must
    find no wheel)."""
    jobs: list[tuple[Target, list[str]]] = []
    for target in targets:
        wheel_pins = [p for p in pins
                      if ours[target.name][p].selection.chosen.filename.endswith(".whl")]  # type: ignore[attr-defined]
        groups: list[list[str]] = []
        for pin in wheel_pins:
            group = next((g for g in groups if all(q.split("==")[0] != pin.split("==")[0]
                                                   for q in g)), None)
            if group is None:
                groups.append([pin])
            else:
                group.append(pin)
        jobs += [(target, g) for g in groups]
        jobs += [(target, [p]) for p in pins if p not in wheel_pins]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda ij: pip_download(
            ij[1][0], ij[1][1], index_url, tmp / f"run{ij[0]}"), enumerate(jobs)))
    outcomes = set()
    for (target, group), got in zip(jobs, results):
        for pin in group:
            chosen = ours[target.name][pin].selection.chosen.filename  # type: ignore[attr-defined]
            if chosen.endswith(".whl"):
                assert got is not None and got[pin] == chosen, (target.name, pin, got)
                outcomes.add("pure" if chosen.endswith("none-any.whl") else "platform")
            else:  # an sdist or nothing: pip finds no wheel either
                assert got is None, (target.name, pin, got)
                outcomes.add("sdist" if chosen else "none")
    return outcomes


def _plan(reqs: list[str], targets: list[Target], index_url: str,
          config: Config | None = None, resolve: bool = False
          ) -> dict[str, dict[str, object]]:
    rs = RequirementSet()
    from poetry_wheelguard.requirements import parse_requirement_line

    for r in reqs:
        parse_requirement_line(r, "test", rs)
    client = IndexClient(IndexConfig(index_urls=(index_url,)))
    index_args = ["--index-url", index_url] if resolve else []
    result = plan_requirements(rs, targets, config or Config(), client, index_args)
    return {t.name: {f"{r.selection.name}=={r.selection.version}": r
                     for r in result.records[t.name]} for t in targets}


def test_same_file_as_pip_download_on_the_local_index(index_server: IndexServer,
                                                      tmp_path: Path) -> None:
    targets = [preset_target(n) for n in TARGETS]
    ours = _plan(PINS, targets, index_server.url)
    outcomes = compare_with_pip(ours, targets, PINS, index_server.url, tmp_path)
    assert outcomes == {"pure", "platform", "sdist", "none"}
    slim = ours["python:3.11-slim"]
    codes = {k: [f.code for f in r.findings] for k, r in slim.items()}  # type: ignore[attr-defined]
    assert codes["wg-purefallback==1.0"] == ["PURE_FALLBACK"]
    assert codes["wg-sdistbuild==1.0"] == ["SDIST_BUILD"]
    assert codes["wg-healthy==1.0"] == [] and codes["wg-ignored==1.0"] == []
    # alpine: the healthy project ships only a manylinux wheel and no sdist
    healthy = ours["python:3.11-alpine"]["wg-healthy==1.0"]
    assert [f.code for f in healthy.findings] == ["NO_DISTRIBUTION"]  # type: ignore[attr-defined]


def test_hint_names_nearest_version_with_a_wheel(index_server: IndexServer) -> None:
    rec = _plan(["wg-sdistbuild==1.0"], [preset_target("python:3.11-slim")],
                index_server.url)["python:3.11-slim"]["wg-sdistbuild==1.0"]
    finding = rec.findings[0]  # type: ignore[attr-defined]
    assert finding.code == "SDIST_BUILD" and "2.0+ has a wheel" in finding.hint


def test_hints_skip_yanked_files_and_releases(tmp_path: Path) -> None:
    """PEP 592: an all-yanked release (aiohttp 3.8.2) is no hint; the first release with a
    wheel that is not yanked is (3.8.3). A yanked wheel next to a usable one is left out."""
    from tests.support.dists import build_sdist, build_wheel
    from tests.support.index import StaticIndex

    wheel_tag = "cp311-cp311-manylinux_2_17_x86_64"
    files = tmp_path / "dists"
    index = StaticIndex(tmp_path / "index")
    index.add([build_sdist(files, "wg-yank", "1.0", tmp_path / "marker")])
    index.add([build_wheel(files, "wg-yank", "1.1", wheel_tag)], yanked=True)
    index.add([build_wheel(files, "wg-yank", "1.2", wheel_tag),
               build_wheel(files, "wg-yank", "1.2", "cp310-cp310-manylinux_2_17_x86_64")])
    index.add([build_wheel(files, "wg-yank", "0.9", wheel_tag)], yanked=True)
    with index.serve() as server:
        rec = _plan(["wg-yank==1.0"], [preset_target("python:3.11-slim")],
                    server.url)["python:3.11-slim"]["wg-yank==1.0"]
    finding = rec.findings[0]  # type: ignore[attr-defined]
    assert finding.code == "SDIST_BUILD"
    assert finding.hint.startswith("wg-yank 1.2+ has a wheel for python:3.11-slim")
    assert "1.1" not in finding.hint and "0.9" not in finding.hint
    others = dict(rec.selection.other_versions)  # type: ignore[attr-defined]
    assert set(others) == {"1.2"}


def test_hints_name_versions_inside_the_requirement(tmp_path: Path) -> None:
    """S16 with requirements: a range's specifier bounds the hints (the nearest version
    inside it first, or "no version inside ..."); an exact pin admits no other version, so
    its hints name the nearest versions as they are."""
    from tests.support.dists import build_sdist, build_wheel
    from tests.support.index import StaticIndex

    cp311, cp310 = "cp311-cp311-manylinux_2_17_x86_64", "cp310-cp310-manylinux_2_17_x86_64"
    files = tmp_path / "dists"
    index = StaticIndex(tmp_path / "index")
    index.add([build_sdist(files, "wg-asyncpg", "0.25.0", tmp_path / "marker"),
               build_wheel(files, "wg-asyncpg", "0.25.0", cp310),
               build_wheel(files, "wg-asyncpg", "0.27.0", cp311),
               build_wheel(files, "wg-rng", "1.2", cp311),
               build_wheel(files, "wg-rng", "1.5"), build_wheel(files, "wg-rng", "1.5", cp310),
               build_wheel(files, "wg-rng", "2.0", cp311)])
    slim = preset_target("python:3.11-slim")
    with index.serve() as server:
        pinned = _plan(["wg-asyncpg==0.25.0"], [slim], server.url)[slim.name]
        wide = _plan(["wg-rng>=1.0,<2"], [slim], server.url, resolve=True)[slim.name]
        narrow = _plan(["wg-rng>=1.5,<2"], [slim], server.url, resolve=True)[slim.name]
    rec = pinned["wg-asyncpg==0.25.0"]
    assert rec.selection.specifier == ""  # type: ignore[attr-defined]
    (finding,) = rec.findings  # type: ignore[attr-defined]
    assert finding.code == "SDIST_BUILD"
    assert finding.hint.startswith("wg-asyncpg 0.27.0+ has a wheel for python:3.11-slim")
    rec = wide["wg-rng==1.5"]
    assert rec.selection.specifier == "<2,>=1.0"  # type: ignore[attr-defined]
    (finding,) = rec.findings  # type: ignore[attr-defined]
    assert finding.code == "PURE_FALLBACK" and finding.severity == "error"
    assert finding.hint.startswith("1.2 is the newest older version with one (inside "
                                   "<2,>=1.0)"), finding.hint
    (finding,) = narrow["wg-rng==1.5"].findings  # type: ignore[attr-defined]
    assert finding.hint.startswith(
        "no version inside <2,>=1.5 has a wheel for python:3.11-slim; outside it, wg-rng "
        "2.0+ has a wheel"), finding.hint


def test_table_tells_a_warning_from_an_error_shown_in_warn_mode(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 12: an sdist of a project with no Linux wheel anywhere (pycairo) is a true
    warning (``warn``); one whose release has Linux wheels (asyncpg) is an error that warn
    mode only reports (``warn, strict refuses``): plain text and rich differ."""
    import io

    from poetry_wheelguard.cli.plan import render_plan
    from poetry_wheelguard.planning import PlanResult
    from tests.support.dists import build_sdist, build_wheel
    from tests.support.index import StaticIndex

    files = tmp_path / "dists"
    index = StaticIndex(tmp_path / "index")
    index.add([build_sdist(files, "wg-cairo", "1.0", tmp_path / "m1"),
               build_wheel(files, "wg-cairo", "1.0", "cp311-cp311-win_amd64"),
               build_sdist(files, "wg-apg", "1.0", tmp_path / "m2"),
               build_wheel(files, "wg-apg", "1.0", "cp310-cp310-manylinux_2_17_x86_64")])
    slim = preset_target("python:3.11-slim")
    with index.serve() as server:
        code = main(["plan", "--index-url", server.url, "--target", slim.name,
                     "wg-cairo==1.0", "wg-apg==1.0"])
    assert code == exitcodes.OK
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("wg-")}
    assert rows["wg-cairo"].endswith("sdist (build) [SDIST_BUILD] warn")
    assert rows["wg-apg"].endswith("sdist (build) [SDIST_BUILD] warn, strict refuses")
    assert out.splitlines()[-1] == "plan: python:3.11-slim: 2 packages: 0 ok, 2 warn, " \
        "0 refused"

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    rs = RequirementSet()
    from poetry_wheelguard.requirements import parse_requirement_line

    for r in ("wg-cairo==1.0", "wg-apg==1.0"):
        parse_requirement_line(r, "test", rs)
    with index.serve() as server:
        result = plan_requirements(rs, [slim], Config(), IndexClient(
            IndexConfig(index_urls=(server.url,))))
    assert isinstance(result, PlanResult)
    monkeypatch.setenv("COLUMNS", "200")
    term = Terminal()
    render_plan(result, term)
    lines = {ln.split("│")[1].strip(): ln for ln in term.getvalue().splitlines()
             if ln.count("│") > 2 and "wg-" in ln}
    assert "[SDIST_BUILD] warn, strict refuses" in lines["wg-apg"]
    assert "strict refuses" not in lines["wg-cairo"] and "[SDIST_BUILD] warn" in \
        lines["wg-cairo"]
    # bold orange (bright red on a 16-colour terminal) against the plain yellow of warn
    assert "\x1b[1;91m" in lines["wg-apg"] or "\x1b[1;38;5;208m" in lines["wg-apg"]
    assert "\x1b[33m" in lines["wg-cairo"]


def _c(name: str, **kw: object) -> Candidate:
    kw.setdefault("url", f"https://x.invalid/{name}")
    return Candidate(filename=name, **kw)  # type: ignore[arg-type]


def test_pip_rules_requires_python_yanked_hashes_ties() -> None:
    t = preset_target("python:3.10-slim")
    wheel = "p-1.0-cp310-cp310-manylinux_2_17_x86_64.whl"
    # Requires-Python excludes the wheel: pip falls back to the sdist, with the reason
    got = choose_like_pip([_c(wheel, requires_python=">=3.11"), _c("p-1.0.tar.gz")], t)
    assert got.chosen is not None and got.chosen.filename == "p-1.0.tar.gz"
    assert got.candidates[0].rejected_reason == "1.0 Requires-Python >=3.11"
    # PEP 592: a yanked file is skipped unless everything left is yanked and pinned
    got = choose_like_pip([_c(wheel, yanked=True), _c("p-1.0.tar.gz")], t)
    assert got.chosen is not None and got.chosen.filename == "p-1.0.tar.gz"
    got = choose_like_pip([_c(wheel, yanked=True)], t)
    assert got.chosen is not None and got.chosen.filename == wheel
    assert choose_like_pip([_c(wheel, yanked=True)], t, pinned=False).chosen is None
    # --hash: the file whose digest matches wins over a better-tagged one
    cands = [_c(wheel, sha256="aa"), _c("p-1.0-py3-none-any.whl", sha256="bb")]
    got = choose_like_pip(cands, t, hashes=frozenset({"bb"}))
    assert got.chosen is not None and got.chosen.filename == "p-1.0-py3-none-any.whl"
    # pip compares the tag priority before the build tag (Poetry the other way round)
    built = "p-1.0-1-cp310-cp310-manylinux_2_5_x86_64.whl"
    got = choose_like_pip([_c(built), _c(wheel)], t)
    assert got.chosen is not None and got.chosen.filename == wheel
    # equal keys: the last listed wins, as pip's resolver takes its sorted list from the end
    first, last = _c(wheel, url="https://a.invalid/w"), _c(wheel, url="https://b.invalid/w")
    assert choose_like_pip([first, last], t).chosen is last
    # a wheel for another platform only: nothing installable, with pip's reason
    got = choose_like_pip([_c("p-1.0-cp310-cp310-win_amd64.whl")], t)
    assert got.chosen is None and "none of the wheel's tags" in str(
        got.candidates[0].rejected_reason)


def test_requirements_file_format(tmp_path: Path) -> None:
    (tmp_path / "base.txt").write_text("wg-puredep==1.0  # via wg-healthy\n")
    req = tmp_path / "requirements.txt"
    req.write_text(
        "# This file is autogenerated by pip-compile\n"
        "--index-url https://idx.example/simple/\n"
        "--extra-index-url=https://extra.example/simple/\n"
        "-r base.txt\n"
        "wg-healthy==1.0 \\\n"
        "    --hash=sha256:AAAA \\\n"
        "    --hash=sha256:bbbb\n"
        "    # via -r requirements.in\n"
        "windows-thing==1.0 ; sys_platform == 'win32'\n"
        "Loose_Name>=2\n")
    rs = read_requirements_file(req)
    assert rs.index_url == "https://idx.example/simple/"
    assert rs.extra_index_urls == ["https://extra.example/simple/"]
    got = [(r.name, r.pin, sorted(r.hashes)) for r in rs.requirements]
    assert got == [("wg-puredep", "1.0", []), ("wg-healthy", "1.0", ["aaaa", "bbbb"]),
                   ("windows-thing", "1.0", []), ("loose-name", None, [])]
    assert rs.requirements[0].origin.endswith("base.txt:1")


@pytest.mark.parametrize(("line", "message"), [
    ("-e ./local", "built, not planned"),
    ("./local/dir", "built, not planned"),
    ("pkg @ https://x.invalid/pkg.whl", "direct references"),
    ("pkg===", "invalid requirement"),
])
def test_unplannable_requirement_lines(tmp_path: Path, line: str, message: str) -> None:
    req = tmp_path / "r.txt"
    req.write_text(f"ok==1.0\n{line}\n")
    with pytest.raises(WheelguardError, match=message) as info:
        read_requirements_file(req)
    assert f"{req}:2" in str(info.value)


def test_unpinned_requirements_resolved_by_pip(index_server: IndexServer) -> None:
    target = preset_target("python:3.11-slim")
    resolved = pip_resolve(target, ["wg-healthy"], ["--index-url", index_server.url],
                           runner=lambda cmd: subprocess.run(
                               list(cmd), capture_output=True, text=True, check=False,
                               env=isolated_env(), timeout=300))
    assert resolved == {"wg-healthy": "1.0", "wg-puredep": "1.0"}
    # then planned like pins: both packages appear
    recs = _plan_via_cli_env(index_server)
    assert set(recs) == {"wg-healthy", "wg-puredep", "wg-sdistbuild"}


def _plan_via_cli_env(index_server: IndexServer) -> dict[str, object]:
    rs = RequirementSet()
    from poetry_wheelguard.requirements import parse_requirement_line

    for r in ("wg-healthy", "wg-sdistbuild==1.0"):
        parse_requirement_line(r, "test", rs)
    target = preset_target("python:3.11-slim")
    client = IndexClient(IndexConfig(index_urls=(index_server.url,)))

    def runner(cmd: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(cmd), capture_output=True, text=True,  # type: ignore[call-overload]
                              check=False, env=isolated_env(), timeout=300)

    result = plan_requirements(rs, [target], Config(), client,
                               ["--index-url", index_server.url], runner)
    return {r.selection.name: r for r in result.records[target.name]}


def test_resolver_failure_is_one_line_without_credentials() -> None:
    def failing(cmd: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(
            [], 1, "", "Looking in indexes: https://u:tok@idx.example/simple\n"
            "ERROR: Could not find a version that satisfies the requirement x "
            "(from https://u:tok@idx.example/simple/x/)\nERROR: No matching distribution\n")

    with pytest.raises(IndexFetchError, match="Could not find a version") as info:
        pip_resolve(preset_target("python:3.12-alpine"), ["x"], runner=failing)
    assert "tok" not in str(info.value) and "\n" not in str(info.value)
    assert "pin a package" in str(info.value)


def test_cli_requirements_with_credentials(auth_index_server: IndexServer, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text(f"--index-url {auth_index_server.url}\nwg-purefallback==1.0\n"
                   "wg-puredep==1.0\n")
    report = tmp_path / "r.json"
    code = main(["--mode", "strict", "plan", "-r", str(req), "--target", "python:3.11-slim",
                 "--target", "python:3.11-alpine", "--report", str(report), "--no-cache"])
    assert code == exitcodes.REFUSED
    out = capsys.readouterr().out
    text = report.read_text()
    assert "s3cr3t-token" not in text + out and "wg-user" not in text + out
    data = json.loads(text)
    validate_report(data)
    assert data["exit_code"] == exitcodes.REFUSED and data["mode"] == "strict"
    verdicts = {(p["target"], p["name"]): p["verdict"] for p in data["packages"]}
    assert verdicts[("python:3.11-slim", "wg-purefallback")] == "refused"
    assert verdicts[("python:3.11-alpine", "wg-puredep")] == "ok"


def test_cli_unknown_project_and_bad_pin(index_server: IndexServer,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    base = ["plan", "--index-url", index_server.url, "--no-cache", "--target",
            "python:3.11-slim"]
    assert main([*base, "no-such-project==1.0"]) == exitcodes.INPUT_ERROR
    assert "no-such-project: project not found" in capsys.readouterr().err
    assert main([*base, "wg-puredep==9.9"]) == exitcodes.INPUT_ERROR
    assert "version 9.9 is not on" in capsys.readouterr().err


# --- the public index -------------------------------------------------------------------------

ACCEPTANCE = ["uvloop==0.16.0", "pydantic==1.9.1", "aiohttp==3.6.2", "psycopg2-binary==2.9.2"]


@pytest.mark.network
def test_acceptance_python310_alpine(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    report = tmp_path / "alpine.json"
    code = main(["plan", "--target", "python:3.10-alpine", *ACCEPTANCE, "--report", str(report),
                 "--index-url", "https://pypi.org/simple/", "--no-cache"])
    assert code == exitcodes.OK
    pkgs = {p["name"]: p for p in json.loads(report.read_text())["packages"]}
    uv = pkgs["uvloop"]
    assert uv["kind"] == "sdist" and uv["findings"][0]["code"] == "SDIST_BUILD"
    assert "uvloop 0.17.0+ has a wheel" in uv["findings"][0]["hint"]
    pyd = pkgs["pydantic"]
    assert pyd["filename"] == "pydantic-1.9.1-cp310-cp310-musllinux_1_1_x86_64.whl"
    assert pyd["verdict"] == "ok" and pyd["findings"] == []
    assert [f["code"] for f in pkgs["aiohttp"]["findings"]] == ["PURE_FALLBACK"]
    pg = pkgs["psycopg2-binary"]
    assert pg["kind"] == "sdist" and pg["findings"][0]["code"] == "SDIST_BUILD"
    assert "psycopg2-binary 2.9.3+ has a wheel" in pg["findings"][0]["hint"]
    assert main(["--mode", "strict", "plan", "--target", "python:3.10-alpine", *ACCEPTANCE,
                 "--index-url", "https://pypi.org/simple/"]) == exitcodes.REFUSED


@pytest.mark.network
def test_same_file_as_pip_download_on_the_public_index(tmp_path: Path) -> None:
    pins = [*ACCEPTANCE, "numpy==1.26.4", "orjson==3.10.7", "pyyaml==6.0.1"]
    targets = [preset_target("python:3.10-alpine"), preset_target("python:3.12-slim"),
               preset_target("python:3.11-slim", "aarch64")]
    ours = _plan(pins, targets, "https://pypi.org/simple/")
    compare_with_pip(ours, targets, pins, "https://pypi.org/simple/", tmp_path)


@pytest.mark.network
def test_acceptance_diff_slim_alpine(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    paths = []
    for target in ("python:3.10-slim", "python:3.10-alpine"):
        path = tmp_path / f"{target.split('-')[-1]}.json"
        assert main(["plan", "--target", target, *ACCEPTANCE, "--report", str(path),
                     "--index-url", "https://pypi.org/simple/"]) == exitcodes.OK
        paths.append(str(path))
    capsys.readouterr()
    assert main(["diff", *paths, "--json"]) == exitcodes.OK
    diff = json.loads(capsys.readouterr().out)["diff"]
    kinds = {c["name"]: (c["a"]["kind"], c["b"]["kind"]) for c in diff["changes"]}
    assert kinds == {"uvloop": ("platform wheel", "sdist"),
                     "psycopg2-binary": ("platform wheel", "sdist"),
                     "pydantic": ("platform wheel", "platform wheel")}
    pydantic = next(c for c in diff["changes"] if c["name"] == "pydantic")
    assert pydantic["changes"] == ["file"]
    assert (pydantic["a"]["platform"], pydantic["b"]["platform"]) == \
        ("manylinux_2_17_x86_64", "musllinux_1_1_x86_64")
    assert diff["unchanged"] == 1
