"""``plan`` from requirements: pip's choice of file, checked against real ``pip download``
(``--only-binary=:all: --platform ... --python-version ... --no-deps``) on the local fixture
index, pip's resolver for unpinned requirements, the requirements-file format."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jsonschema
import pytest

from poetry_wheelguard import exitcodes
from poetry_wheelguard.cli import main
from poetry_wheelguard.config import Config
from poetry_wheelguard.errors import IndexFetchError, WheelguardError
from poetry_wheelguard.index import IndexClient, IndexConfig
from poetry_wheelguard.models import Candidate
from poetry_wheelguard.plan import (
    RequirementSet,
    choose_like_pip,
    pip_resolve,
    plan_requirements,
    read_requirements_file,
)
from poetry_wheelguard.report import schema_path
from poetry_wheelguard.target_options import preset_target
from poetry_wheelguard.targets import Target
from tests.support.env import isolated_env
from tests.support.index import IndexServer

PINS = ["wg-purefallback==1.0", "wg-purefallback==2.0", "wg-sdistbuild==1.0",
        "wg-sdistbuild==2.0", "wg-ignored==1.0", "wg-healthy==1.0", "wg-puredep==1.0",
        "wg-sdistonly==1.0"]
TARGETS = ("python:3.11-slim", "python:3.8-slim", "python:3.11-alpine")


def pip_download(target: Target, requirement: str, index_url: str, dest: Path) -> str | None:
    """The file real pip downloads for ``target`` (wheels only), ``None`` when it finds none."""
    dest.mkdir(parents=True)
    major, minor = target.python_version
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--no-cache-dir", "-q", "-d", str(dest), "--index-url", index_url,
           "--python-version", f"{major}.{minor}", "--implementation", "cp",
           "--abi", target.abis[0]]
    for plat in dict.fromkeys(t.platform for t in target.tags if t.platform != "any"):
        cmd += ["--platform", plat]
    proc = subprocess.run([*cmd, requirement], capture_output=True, text=True,
                          env=isolated_env(), timeout=300, check=False)
    files = [p.name for p in dest.iterdir()]
    if proc.returncode != 0:
        assert "No matching distribution" in proc.stderr or "Could not find" in proc.stderr, \
            proc.stderr
        return None
    assert len(files) == 1
    return files[0]


def _plan(reqs: list[str], targets: list[Target], index_url: str,
          config: Config | None = None) -> dict[str, dict[str, object]]:
    rs = RequirementSet()
    from poetry_wheelguard.plan import parse_requirement_line

    for r in reqs:
        parse_requirement_line(r, "test", rs)
    client = IndexClient(IndexConfig(index_urls=(index_url,)))
    result = plan_requirements(rs, targets, config or Config(), client)
    return {t.name: {f"{r.selection.name}=={r.selection.version}": r
                     for r in result.records[t.name]} for t in targets}


def test_same_file_as_pip_download_on_the_local_index(index_server: IndexServer,
                                                      tmp_path: Path) -> None:
    targets = [preset_target(n) for n in TARGETS]
    ours = _plan(PINS, targets, index_server.url)
    jobs = [(t, pin) for t in targets for pin in PINS]
    with ThreadPoolExecutor(4) as pool:
        theirs = list(pool.map(lambda j: pip_download(
            j[0], j[1], index_server.url, tmp_path / f"{j[0].interpreter}-{j[0].libc}-{j[1]}"),
            jobs))
    outcomes = set()
    for (target, pin), pip_file in zip(jobs, theirs):
        rec = ours[target.name][pin]
        chosen = rec.selection.chosen.filename  # type: ignore[attr-defined]
        if chosen.endswith(".whl"):
            assert chosen == pip_file, (target.name, pin)
            outcomes.add("pure" if chosen.endswith("none-any.whl") else "platform")
        else:  # an sdist or nothing: pip finds no wheel either
            assert pip_file is None, (target.name, pin, pip_file)
            outcomes.add("sdist" if chosen else "none")
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
    from poetry_wheelguard.plan import parse_requirement_line

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
    jsonschema.validate(data, json.loads(schema_path().read_text()))
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
    jobs = [(t, p) for t in targets for p in pins]
    with ThreadPoolExecutor(4) as pool:
        theirs = list(pool.map(lambda j: pip_download(
            j[0], j[1], "https://pypi.org/simple/",
            tmp_path / f"{j[0].name.replace(':', '_').replace('/', '_')}-{j[1]}"), jobs))
    for (target, pin), pip_file in zip(jobs, theirs):
        chosen = ours[target.name][pin].selection.chosen.filename  # type: ignore[attr-defined]
        assert (chosen if chosen.endswith(".whl") else None) == pip_file, (target.name, pin)
