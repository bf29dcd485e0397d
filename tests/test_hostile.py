"""Hostile input, hostile indexes, hostile environments (issue 11): each class of crash,
hang, leak or side effect, one hand-made case each, through ``pip-guard``'s public entry
(:func:`poetry_wheelguard.cli.main`) or the real program in a subprocess.

Every case asserts the contract of docs/exit-codes.md: no traceback, one line on stderr
naming the file (or index) and what to do, exit 12 (bad input) or 64 (bad usage).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import jsonschema
import pytest

from poetry_wheelguard.cli import main
from poetry_wheelguard.installed import find_distributions
from poetry_wheelguard.report import (
    check_report_path,
    printable,
    redact_text,
    redact_url,
    schema_path,
    write_json_atomic,
)
from tests.support.hostile import hostile_index

REPO = Path(__file__).resolve().parents[1]
TARGET = ["--target", "python:3.11-slim"]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    for var in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_NO_INDEX"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("WHEELGUARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("WHEELGUARD_INDEX_TIMEOUT", "2")
    monkeypatch.chdir(tmp_path)


def one_line(capsys: pytest.CaptureFixture[str], argv: list[str], code: int,
             *needles: str) -> str:
    """Run ``pip-guard argv``: exit ``code``, one stderr line holding every needle."""
    assert main(argv) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "Traceback" not in err[0]
    for needle in needles:
        assert needle in err[0], err[0]
    return err[0]


# --- hostile indexes ----------------------------------------------------------------------

@pytest.mark.parametrize(("behaviour", "needle"), [
    ("drip", "did not answer within 2 s"),
    ("reset", "cannot reach index"),
    ("deep", "nested too deeply"),
    ("auth-loop", "refused access (HTTP 401)"),
])
def test_plan_against_hostile_index(behaviour: str, needle: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    with hostile_index(behaviour) as srv:
        line = one_line(capsys, ["plan", "--index-url", srv.url, *TARGET, "six==1.16.0"], 12,
                        needle, f"127.0.0.1:{srv.port}")
        assert srv.seen, "the server was asked"
    assert line.startswith("pip-guard: error: six: ")


def test_huge_page_is_capped(capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHEELGUARD_INDEX_MAX_BYTES", str(1 << 20))
    with hostile_index("huge", size=256 << 20) as srv:
        one_line(capsys, ["plan", "--index-url", srv.url, *TARGET, "six==1.16.0"], 12,
                 "larger than 1048576 bytes", "WHEELGUARD_INDEX_MAX_BYTES")


def test_bad_index_timeout_variable_is_usage(capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHEELGUARD_INDEX_TIMEOUT", "soon")
    with hostile_index("page") as srv:
        one_line(capsys, ["plan", "--index-url", srv.url, *TARGET, "six==1.16.0"], 64,
                 "WHEELGUARD_INDEX_TIMEOUT must be a positive number")


@pytest.mark.parametrize("command", ["plan", "verify"])
def test_redirect_to_other_origin_drops_credentials(
        command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with hostile_index("page") as other, \
            hostile_index("redirect", location=f"http://localhost:{other.port}") as srv:
        url = srv.url_with("user", "p@ssecret")
        argv = (["plan", "--index-url", url, *TARGET, "six==1.16.0"] if command == "plan"
                else ["verify", "--index", url, "--package", "pytest"])
        main(argv)
        out = capsys.readouterr()
        assert srv.seen and srv.seen[0][1] is not None  # the index itself got the login
        assert other.seen, "the redirect was followed"
        assert all(auth is None for _, auth in other.seen), other.seen
        assert "ssecret" not in out.err + out.out and "Traceback" not in out.err


def test_verify_index_drip_ends(capsys: pytest.CaptureFixture[str]) -> None:
    with hostile_index("drip") as srv:
        one_line(capsys, ["verify", "--index", srv.url, "--package", "pytest"], 12,
                 "did not answer within 2 s")


def test_ctrl_c_stops_plan_fetch(tmp_path: Path) -> None:
    """SIGINT while plan waits on a dripping index: exit 130 long before the drip ends."""
    with hostile_index("drip", interval=1.0, limit=300) as srv:
        env = {**os.environ, "WHEELGUARD_INDEX_TIMEOUT": "600", "PYTHONPATH": str(REPO / "src")}
        proc = subprocess.Popen([sys.executable, "-m", "poetry_wheelguard", "plan",
                                 "--index-url", srv.url, *TARGET, "six==1.16.0"],
                                env=env, stderr=subprocess.PIPE, text=True)
        try:
            for _ in range(600):  # until the request has reached the server
                if srv.seen:
                    break
                threading.Event().wait(0.05)
            assert srv.seen
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=60)  # the drip would last 300 s
        finally:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err


# --- hostile files: config, requirements, locks, reports ------------------------------------

def test_deeply_nested_pyproject(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "pyproject.toml"
    cfg.write_text("[tool.wheelguard]\nx = " + "[" * 100_000 + "]" * 100_000 + "\n")
    one_line(capsys, ["--config", str(cfg), "diff", "a.json", "b.json"], 64,
             str(cfg), "nested too deeply")


def test_libc_version_is_bounded(capsys: pytest.CaptureFixture[str]) -> None:
    one_line(capsys, ["plan", "--libc", "glibc-2.999999", "--python-version", "3.11",
                      "six==1.16.0"], 64, "glibc-2.999999", "glibc-2.99")
    one_line(capsys, ["plan", "--libc", "musl-7.1", "--python-version", "3.11",
                      "six==1.16.0"], 64, "musl-7.1")


def test_find_links_fifo_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "links"
    os.mkfifo(fifo)
    one_line(capsys, ["plan", "--no-index", "--find-links", str(fifo), *TARGET,
                      "six==1.16.0"], 12, "not a regular file")


def test_python_not_python_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    line = one_line(capsys, ["verify", "--python", "/bin/ls"], 12, "/bin/ls")
    assert "import" not in line and "sysconfig" not in line and len(line) < 300


def _write_requirements(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "req.txt"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("data", "cls"), [
    (b"\xff\xfe six\n", "plan -r non-UTF-8"),
    (b"-r req.txt\n", "plan -r self-include"),
    (b'six==1.16.0 --hash="abc\n', "plan -r unbalanced quote"),
    (b"--index-url http://[::1/simple/\nsix==1.16.0\n", "IPv6 URL typo"),
    (b"-r o\x00ther.txt\n", "plan -r NUL byte in an included name (fuzz)"),
])
def test_plan_requirements_file(data: bytes, cls: str, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_requirements(tmp_path, data)
    offline = [] if b"[::1" in data else ["--no-index"]
    line = one_line(capsys, ["plan", *offline, *TARGET, "-r", str(path)], 12)
    assert "req.txt" in line or "[::1" in line, (cls, line)


def _bounded(argv: list[str], cwd: Path) -> tuple[int, str]:
    """Run ``pip-guard argv`` in a subprocess held to 1 GiB of memory and 60 s: a read of a
    FIFO or a device that never ends is then a failure, not a hung suite."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    try:
        proc = subprocess.run([sys.executable, "-m", "poetry_wheelguard", *argv], cwd=cwd,
                              capture_output=True, text=True, env=env, timeout=60,
                              preexec_fn=limit, check=False)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{argv} did not end") from None
    return proc.returncode, proc.stderr


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_plan_requirements_not_regular(special: str, tmp_path: Path) -> None:
    if special == "fifo":
        os.mkfifo(tmp_path / "fifo")
    code, err = _bounded(["plan", "--no-index", *TARGET, "-r", special], tmp_path)
    assert code == 12 and len(err.strip().splitlines()) == 1 and special in err, err[-500:]


LOCK_HEAD = '[metadata]\nlock-version = "2.0"\npython-versions = ">=3.9"\ncontent-hash = "x"\n'


@pytest.mark.parametrize("lock", [
    pytest.param('metadata = "x"\n', id="metadata-string"),
    pytest.param('extras = "x"\n' + LOCK_HEAD, id="extras-string"),  # top level, not [metadata]
    pytest.param(LOCK_HEAD + '[[package]]\nname = "six"\nversion = ""\nfiles = "@x"\n',
                 id="files-string"),
    pytest.param(LOCK_HEAD + '[[package]]\nname = "six"\nversion = "^1.0"\nfiles = []\n',
                 id="version-caret"),
])
def test_plan_malformed_lock(lock: str, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.poetry]\nname = "x"\nversion = "1"\n')
    path = tmp_path / "poetry.lock"
    path.write_text(lock)
    one_line(capsys, ["plan", "--no-index", *TARGET, "--lock", str(path)], 12, "poetry.lock")


def test_plan_lock_with_malformed_pyproject(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool]\npoetry = "x"\n')
    path = tmp_path / "poetry.lock"
    path.write_text(LOCK_HEAD)
    one_line(capsys, ["plan", "--no-index", *TARGET, "--lock", str(path)], 12,
             "pyproject.toml")


def _report(tmp_path: Path, name: str, **fields: object) -> Path:
    doc = {"schema": "wheelguard-report/1", "command": "verify", "mode": "warn",
           "packages": [{"name": "six", "version": "1.16.0", "verdict": "ok", "kind": "wheel",
                         "filename": "six-1.16.0-py2.py3-none-any.whl", **fields}]}
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("findings", [None, 5, "x"])
def test_diff_damaged_findings(findings: object, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    a = _report(tmp_path, "a.json")
    b = _report(tmp_path, "b.json", findings=findings)
    one_line(capsys, ["diff", str(a), str(b)], 12, "b.json")


def test_diff_deep_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    one_line(capsys, ["diff", str(deep), str(deep)], 12, "deep.json")


def test_diff_fifo(tmp_path: Path) -> None:
    a = _report(tmp_path, "a.json")
    os.mkfifo(tmp_path / "fifo")
    code, err = _bounded(["diff", str(a), "fifo"], tmp_path)
    assert code == 12 and len(err.strip().splitlines()) == 1 and "fifo" in err, err[-500:]


# --- hostile installed distributions --------------------------------------------------------

def _site(tmp_path: Path) -> Path:
    site = tmp_path / "env" / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    return site


def _dist(site: Path, name: str, record: bytes, metadata: str | None = None,
          wheel: str = "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-"
                       "manylinux_2_17_x86_64\n") -> Path:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    if metadata is not None:
        (info / "METADATA").write_text(metadata)
    (info / "WHEEL").write_text(wheel)
    (info / "RECORD").write_bytes(record)
    return info


def test_record_escapes_are_findings_not_opens(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    site = _site(tmp_path)
    (site / "evil").mkdir()
    os.mkfifo(site / "evil" / "fifo")
    (site / "evil" / "tty").symlink_to("/dev/tty")
    (site / "evil" / "out").symlink_to("/bin/ls")
    (tmp_path / "env" / "bin").mkdir()
    (tmp_path / "env" / "bin" / "tool").write_text("#!/bin/sh\n")
    record = (b"evil/fifo,,\n../../../../../../../../bin/ls,,\n/bin/ls,,\n/dev/urandom,,\n"
              b"evil/tty,,\nevil/out,,\nevil/n\x00ul,,\n../../../bin/tool,,\n"
              b"evil-1.0.dist-info/RECORD,,\n")
    _dist(site, "evil", record, "Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n")
    (dist,) = find_distributions([str(site)])
    assert dist.files == (str(tmp_path / "env" / "bin" / "tool"),
                          str(site / "evil-1.0.dist-info" / "RECORD"))
    assert len(dist.record_problems) == 7, dist.record_problems
    report = tmp_path / "r.json"
    assert main(["verify", "--path", str(site), "--report", str(report), "--no-cache"]) == 0
    assert "Traceback" not in capsys.readouterr().err
    doc = json.loads(report.read_text())
    jsonschema.validate(doc, json.loads(schema_path().read_text()))
    codes = [f["code"] for p in doc["packages"] for f in p["findings"]]
    assert codes.count("RECORD_ESCAPE") == 7
    (pkg,) = doc["packages"]
    assert pkg["verification"]["binaries"] == 0  # /bin/ls was not judged as a package file
    messages = " ".join(f["message"] for f in pkg["findings"])
    assert "a FIFO" in messages and "NUL byte" in messages and "outside the environment" in messages


def test_dist_info_without_metadata_is_checked(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    site = _site(tmp_path)
    (site / "nometa").mkdir()
    elf = site / "nometa" / "_x.cpython-311-x86_64-linux-gnu.so"
    elf.write_bytes(Path("/bin/true").read_bytes())
    _dist(site, "nometa", b"nometa/_x.cpython-311-x86_64-linux-gnu.so,,\n")
    report = tmp_path / "r.json"
    assert main(["verify", "--path", str(site), "--report", str(report), "--no-cache"]) == 0
    capsys.readouterr()
    (pkg,) = json.loads(report.read_text())["packages"]
    assert pkg["name"] == "nometa"
    assert "METADATA_MISSING" in [f["code"] for f in pkg["findings"]]
    assert pkg["verification"]["binaries"] == 1  # its compiled file was still read


def test_deep_direct_url_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = _site(tmp_path)
    info = _dist(site, "deep", b"", "Metadata-Version: 2.1\nName: deep\nVersion: 1.0\n")
    (info / "direct_url.json").write_text("[" * 100_000 + "]" * 100_000)
    assert main(["verify", "--path", str(site), "--no-cache"]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_damaged_facts_cache(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = _site(tmp_path)
    (site / "m").mkdir()
    (site / "m" / "_m.so").write_bytes(Path("/bin/true").read_bytes())
    _dist(site, "m", b"m/_m.so,,\n", "Metadata-Version: 2.1\nName: m\nVersion: 1.0\n")
    assert main(["verify", "--path", str(site)]) == 0
    (cache,) = (tmp_path / "cache" / "verify").rglob("*.json")
    data = json.loads(cache.read_text())
    data["facts"] = {k: 5 for k in data["facts"]}
    data["scans"] = {k: {"binaries": {"/dev/tty": 5}} for k in data["scans"]}
    cache.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["verify", "--path", str(site)]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_terminal_escapes_are_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = _site(tmp_path)
    _dist(site, "esc", b"", "Metadata-Version: 2.1\nName: esc\nVersion: 1.0\x1b]0;owned\x07"
          "\x1b[2J\n")
    main(["verify", "--path", str(site), "--no-cache"])
    out = capsys.readouterr()
    assert "\x1b" not in out.out + out.err and "\\x1b" in out.out + out.err


def test_rich_table_escapes_controls() -> None:
    """On a terminal (rich) too: a cell's ESC is shown as ``\\x1b``, never sent."""
    import io

    from poetry_wheelguard.render import print_table

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    print_table(["package", "version"], [["esc", ("1.0\x1b]0;owned\x07\x1b[2J", "green")]],
                out, title="t\x1b[31m")
    shown = out.getvalue()
    assert "\\x1b]0;owned\\x07" in shown and "\\x1b[31m" in shown
    assert "\x07" not in shown and "]0;owned" in shown
    assert "\x1b[2J" not in shown and "\x1b[31m" not in shown


def test_printable_escapes_controls() -> None:
    assert printable("1.0\x1b[2J\x1b]0;t\x07\x9b") == "1.0\\x1b[2J\\x1b]0;t\\x07\\x9b"
    assert printable("naïve\tname\n") == "naïve\tname\n"


# --- reports: where they are written, what they keep ----------------------------------------

def test_facts_cache_cannot_name_other_paths(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A cache file whose RECORD scan names a path outside the distribution (here an ELF
    file elsewhere) is not followed: the files are scanned again from RECORD."""
    site = _site(tmp_path)
    (site / "m").mkdir()
    (site / "m" / "_m.so").write_bytes(Path("/bin/true").read_bytes())
    _dist(site, "m", b"m/_m.so,,\n", "Metadata-Version: 2.1\nName: m\nVersion: 1.0\n")
    outside = tmp_path / "elsewhere" / "_planted.so"
    outside.parent.mkdir()
    outside.write_bytes(Path("/bin/true").read_bytes())
    assert main(["verify", "--path", str(site)]) == 0
    (cache,) = (tmp_path / "cache" / "verify").rglob("*.json")
    data = json.loads(cache.read_text())
    assert data["scans"]
    data["scans"] = {k: {"binaries": {str(outside): "elf"}} for k in data["scans"]}
    cache.write_text(json.dumps(data))
    report = tmp_path / "r.json"
    assert main(["verify", "--path", str(site), "--report", str(report)]) == 0
    capsys.readouterr()
    text = report.read_text()
    assert str(outside) not in text
    (pkg,) = json.loads(text)["packages"]
    assert pkg["verification"]["binaries"] == 1  # its own _m.so, scanned again


@pytest.mark.parametrize(("given", "shown"), [
    ("http://user:p@ssecret@host/simple/", "http://host/simple/"),
    ("https://tok@en:x@h:8080/s?q#sha256=1", "https://h:8080/s?q"),
    ("http://[::1/simple/", "http://[::1/simple/"),
])
def test_redact_url_by_grammar(given: str, shown: str) -> None:
    assert redact_url(given) == shown


def test_redact_text_takes_last_at() -> None:
    text = ("pip install --index-url http://user:p@ssecret@host/simple/ x; "
            "git+https://a:b@c@github.com/x.git; connect user:p@ss@proxy:8080; me@example.com")
    out = redact_text(text)
    assert "ssecret" not in out and "p@ss" not in out and "b@c" not in out
    assert "http://host/simple/" in out and "git+https://github.com/x.git" in out
    assert "proxy:8080" in out and "me@example.com" in out


def test_report_to_device_is_written_not_replaced() -> None:
    write_json_atomic("/dev/null", {"x": 1})
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    check_report_path("/dev/null")


def test_report_to_fifo_is_written_directly(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_json_atomic(fifo, {"x": 1})
    reader.join(60)
    assert json.loads(got[0]) == {"x": 1}
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_report_through_symlink_writes_target(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    link = tmp_path / "report.json"
    link.symlink_to(tmp_path / "real" / "r.json")
    check_report_path(link)
    write_json_atomic(link, {"x": 1})
    assert link.is_symlink()
    assert json.loads((tmp_path / "real" / "r.json").read_text()) == {"x": 1}


def test_report_dash_is_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    write_json_atomic("-", {"x": 1})
    assert json.loads(capsys.readouterr().out) == {"x": 1}


def test_plan_report_to_dev_null(capsys: pytest.CaptureFixture[str]) -> None:
    with hostile_index("page") as srv:
        main(["plan", "--report", "/dev/null", "--index-url", srv.url, *TARGET, "six==1.16.0"])
    capsys.readouterr()
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_verify_checks_report_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ro").write_text("a file, so no directory can be made under it (as root too)")
    one_line(capsys, ["verify", "--path", str(_site(tmp_path)), "--report",
                      str(tmp_path / "ro" / "sub" / "r.json")], 64, "r.json")


# --- hostile output streams -----------------------------------------------------------------

def _pipeline(argv: list[str], tmp_path: Path, stdout: object, env: dict[str, str] | None = None
              ) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": str(REPO / "src"), **(env or {})}
    return subprocess.run([sys.executable, "-m", "poetry_wheelguard", *argv], cwd=tmp_path,
                          stdout=stdout, stderr=subprocess.PIPE, text=True, env=full,
                          timeout=300, check=False)  # type: ignore[call-overload]


def _two_reports(tmp_path: Path) -> list[str]:
    return ["diff", str(_report(tmp_path, "a.json")),
            str(_report(tmp_path, "b.json", version="1.17.0"))]


@pytest.mark.parametrize("command", ["diff", "verify"])
def test_closed_stdout(command: str, tmp_path: Path) -> None:
    argv = _two_reports(tmp_path) if command == "diff" else ["verify", "--no-cache"]
    r, w = os.pipe()
    os.close(r)  # a reader that went away: `| head -0`
    try:
        proc = _pipeline(argv, tmp_path, w)
    finally:
        os.close(w)
    assert "Traceback" not in proc.stderr, proc.stderr[-800:]
    assert len(proc.stderr.strip().splitlines()) <= 1


def test_full_device(tmp_path: Path) -> None:
    with open("/dev/full", "w") as full:
        proc = _pipeline(_two_reports(tmp_path), tmp_path, full)
    assert "Traceback" not in proc.stderr and proc.returncode == 12, proc.stderr[-800:]


def test_ascii_stdout(tmp_path: Path) -> None:
    a = _report(tmp_path, "a.json")
    b = _report(tmp_path, "b.json", version="1.17.0", filename="sïx-1.17.0-py3-none-any.whl")
    proc = _pipeline(["diff", str(a), str(b)], tmp_path, subprocess.PIPE,
                     {"PYTHONIOENCODING": "ascii"})
    assert "Traceback" not in proc.stderr, proc.stderr[-800:]


def test_install_ctrl_c_exits_130(tmp_path: Path) -> None:
    with hostile_index("drip", interval=1.0, limit=300) as srv:
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        proc = subprocess.Popen([sys.executable, "-m", "poetry_wheelguard", "install",
                                 "--index-url", srv.url, "--target", str(tmp_path / "t"),
                                 "six==1.16.0"], env=env, stderr=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        try:
            for _ in range(1200):
                if srv.seen:
                    break
                threading.Event().wait(0.05)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=120)
        finally:
            proc.kill()
    assert proc.returncode == 130, err[-800:]
    assert " ok " not in out + err and "Traceback" not in err
    assert "pip-guard: interrupted" in err


# --- hostile environments: a .pth file of the target environment ----------------------------

def test_pth_in_target_env_does_not_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    """A wheel that installs a ``.pth`` file: neither the post-install verify of
    ``pip-guard install`` nor ``verify --python`` runs it (both start the target
    interpreter isolated, ``-I -S``); a plain start of that interpreter does (the control)."""
    from poetry_wheelguard.selfcmd import import_roots
    from tests.support.dists import build_wheel

    venv = tmp_path / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    marker = tmp_path / "pth-ran"
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "wg-pth", "1.0", files={
        "wg_pth/__init__.py": "",
        "wg_pth_hook.pth": f"import os; open({str(marker)!r}, 'a').write('ran')\n"})
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PIP_CONFIG_FILE": os.devnull,
           "PIP_NO_CACHE_DIR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
           "WHEELGUARD_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join(import_roots())}  # the guard and pip, no .pth of theirs
    report = tmp_path / "r.json"
    proc = subprocess.run([python, "-m", "poetry_wheelguard", "--report", str(report),
                           "install", "--no-index", "--find-links", str(wheels), "wg-pth"],
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (site,) = (venv / "lib").glob("python3*/site-packages")
    assert (site / "wg_pth_hook.pth").is_file()
    data = json.loads(report.read_text())
    assert {k: data["verification"][k] for k in ("status", "exit_code")} == \
        {"status": "ran", "exit_code": 0}
    assert not marker.exists(), "the post-install verify ran the .pth file"
    assert main(["verify", "--python", python, "--no-cache"]) == 0
    assert "wg-pth" in capsys.readouterr().out
    assert not marker.exists(), "verify --python ran the .pth file"
    subprocess.run([python, "-c", "pass"], env={"PATH": os.environ["PATH"]}, check=True)
    assert marker.read_text().startswith("ran")  # the control: the hook is live there
