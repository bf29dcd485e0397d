"""Fuzzing every parser at the edge with hypothesis, through ``pip-guard``'s public entry
(:func:`poetry_wheelguard.cli.main`): whatever the file holds, the command ends with one
of the documented exit codes (0, 10, 11 for findings; 12 bad input; 64 bad usage) and
never a traceback (an exception escaping ``main`` fails the example).

Bounded: each property has ``max_examples`` (``WHEELGUARD_FUZZ_EXAMPLES`` scales them),
no per-example deadline, no example database (``derandomize``: the same inputs every
run), so the whole file stays within about two minutes on a CI machine. Each crash class
of issue 11 is an ``@example`` input of its property (and a hand-made case in
tests/test_hostile.py). ELF files are fuzzed further by tests/test_elf_fuzz.py (mutations
of real fixtures).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from poetry_wheelguard.cli import main
from poetry_wheelguard.elf import CorruptElf, ElfFacts, NotElf, read_elf
from poetry_wheelguard.pages import parse_html, parse_json
from tests.support.elffix import elf_fixtures

SCALE = float(os.environ.get("WHEELGUARD_FUZZ_EXAMPLES", "1"))
DOCUMENTED = {0, 10, 11, 12, 64}


def fuzz(n: int) -> settings:
    return settings(max_examples=max(1, int(n * SCALE)), deadline=None, database=None,
                    derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    for var in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("WHEELGUARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> int:
    code = main(argv)
    err = capsys.readouterr().err
    assert code in DOCUMENTED, (code, err[-500:])
    assert "Traceback" not in err
    if code in (12, 64):
        assert len(err.strip().splitlines()) == 1, err[-800:]
    return code


def mutate(seed: bytes) -> st.SearchStrategy[bytes]:
    """``seed`` with bytes replaced, inserted, cut, or repeated."""
    def apply(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
        out = bytearray(data)
        for kind, pos, chunk in edits:
            at = pos % (len(out) + 1)
            if kind == 0:
                out[at:at + len(chunk)] = chunk
            elif kind == 1:
                out[at:at] = chunk
            elif kind == 2:
                del out[at:at + len(chunk) + 1]
            else:
                out[at:at] = bytes(out[at:at + 16]) * (len(chunk) + 1)
        return bytes(out)
    edits = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 1 << 16),
                               st.binary(min_size=1, max_size=12)), max_size=6)
    return edits.map(lambda e: apply(seed, e))


TEXTY = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)

# --- requirements files (plan -r) -----------------------------------------------------------

REQ_SEED = (b"six==1.16.0 --hash=sha256:abc\n-r other.txt\n--index-url https://u:p@h/s/\n"
            b"attrs>=22 ; python_version >= '3.9'\n-c c.txt\n# comment\npkg[x,y]~=1.0 \\\n"
            b"  --hash=sha256:00\n")


@fuzz(150)
@given(data=mutate(REQ_SEED) | TEXTY.map(str.encode))
@example(data=b"\xff\xfe six\n")
@example(data=b'six==1.16.0 --hash="abc\n')
@example(data=b"-r o\x00ther.txt\n")
def test_requirements(data: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "req.txt"
    path.write_bytes(data)
    run(["plan", "--no-index", "--target", "python:3.11-slim", "-r", str(path)], capsys)


# --- pyproject config ([tool.wheelguard]) ---------------------------------------------------

PYPROJECT_SEED = (b'[tool.wheelguard]\nmode = "strict"\nallow-sdist = ["six", "attrs"]\n'
                  b'allow-pure = []\nno-build = true\nverify = false\nreport = "r.json"\n')


@fuzz(300)
@given(data=mutate(PYPROJECT_SEED) | TEXTY.map(str.encode))
@example(data=b"[tool.wheelguard]\nx = " + b"[" * 100_000 + b"]" * 100_000)
def test_pyproject_config(data: bytes, tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "pyproject.toml"
    cfg.write_bytes(data)
    code = run(["--config", str(cfg), "diff", "/nonexistent/a", "/nonexistent/b"], capsys)
    assert code in (12, 64)


# --- poetry.lock (plan --lock) --------------------------------------------------------------

LOCK_SEED = b'''[[package]]
name = "six"
version = "1.16.0"
description = ""
optional = false
python-versions = ">=2.7"
groups = ["main"]
files = [
    {file = "six-1.16.0-py2.py3-none-any.whl", hash = "sha256:00"},
    {file = "six-1.16.0.tar.gz", hash = "sha256:11"},
]

[extras]
x = ["six"]

[metadata]
lock-version = "2.1"
python-versions = ">=3.9"
content-hash = "00"
'''


@fuzz(200)
@given(data=mutate(LOCK_SEED))
@example(data=b'metadata = "x"\n')
def test_poetry_lock(data: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.poetry]\nname = "x"\nversion = "1"\n')
    lock = tmp_path / "poetry.lock"
    lock.write_bytes(data)
    run(["plan", "--no-index", "--target", "python:3.11-slim", "--lock", str(lock)], capsys)


LOCK_PYPROJECT_SEED = b'''[project]
name = "x"
version = "1"
dependencies = ["six>=1.0"]
[project.optional-dependencies]
fast = ["six[x]; python_version >= '3.9'"]
[dependency-groups]
lint = ["six"]
[tool.poetry.dependencies]
python = ">=3.9"
six = {version = "^1.16", optional = true, extras = ["x"], markers = "sys_platform == 'linux'"}
[tool.poetry.group.dev.dependencies]
six = [{version = "1", python = ">=3.9"}, {version = "2", platform = "linux"}]
[tool.poetry.extras]
x = ["six"]
'''


# --- uv.lock and pylock.toml (plan --lock) -----------------------------------------------------

UV_LOCK_SEED = b'''version = 1
revision = 3
requires-python = ">=3.11"

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
dependencies = [{ name = "six", marker = "sys_platform == 'linux'" }]

[package.optional-dependencies]
x = [{ name = "six", extra = ["y"] }]

[package.dev-dependencies]
dev = [{ name = "six", version = "1.16.0" }]

[[package]]
name = "six"
version = "1.16.0"
source = { registry = "https://example.invalid/simple" }
sdist = { url = "https://example.invalid/six-1.16.0.tar.gz", hash = "sha256:11", size = 1 }
wheels = [{ url = "https://example.invalid/six-1.16.0-py2.py3-none-any.whl", hash = "sha256:00" }]
'''

PYLOCK_SEED = b'''lock-version = "1.0"
created-by = "pip"
requires-python = ">=3.9"
extras = ["x"]
dependency-groups = ["dev"]
default-groups = []

[[packages]]
name = "six"
version = "1.16.0"
marker = "'x' in extras or sys_platform == 'linux'"
index = "https://example.invalid/simple"

[[packages.wheels]]
name = "six-1.16.0-py2.py3-none-any.whl"
url = "https://example.invalid/six-1.16.0-py2.py3-none-any.whl"
hashes = { sha256 = "00" }

[packages.sdist]
name = "six-1.16.0.tar.gz"
url = "https://example.invalid/six-1.16.0.tar.gz"
hashes = { sha256 = "11" }
'''


@fuzz(200)
@given(data=mutate(LOCK_PYPROJECT_SEED))
@example(data=b'[tool]\npoetry = "x"\n')
@example(data=b"project = 5\n")
@example(data=b'[tool.poetry]\ndependencies = ["six"]\n')
def test_pyproject_beside_lock(data: bytes, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    """The pyproject.toml a 2.0 lock is walked from (roots, groups, extras)."""
    (tmp_path / "pyproject.toml").write_bytes(data)
    lock = tmp_path / "poetry.lock"
    lock.write_bytes(LOCK_SEED.replace(b'lock-version = "2.1"', b'lock-version = "2.0"'))
    run(["plan", "--no-index", "--target", "python:3.11-slim", "--lock", str(lock)], capsys)


@fuzz(200)
@given(data=mutate(UV_LOCK_SEED))
@example(data=b"version = 1\npackage = \"x\"\n")
def test_uv_lock(data: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lock = tmp_path / "uv.lock"
    lock.write_bytes(data)
    run(["plan", "--offline", "--target", "python:3.11-slim", "--lock", str(lock)], capsys)


@fuzz(200)
@given(data=mutate(PYLOCK_SEED))
@example(data=b'lock-version = "1.0"\npackages = "x"\n')
def test_pylock(data: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_bytes(data)
    run(["plan", "--offline", "--target", "python:3.11-slim", "--lock", str(lock)], capsys)


# --- reports for diff -----------------------------------------------------------------------

JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                       lambda kids: st.lists(kids, max_size=4)
                       | st.dictionaries(st.text(max_size=10), kids, max_size=4),
                       max_leaves=20)
PACKAGE = st.fixed_dictionaries(
    {"name": st.sampled_from(["six", "attrs"]), "version": st.sampled_from(["1", "2"])},
    optional={"filename": JSONISH, "verdict": st.sampled_from(["ok", "warn", "refused"])
              | JSONISH, "findings": JSONISH, "kind": JSONISH, "tags": JSONISH,
              "verification": JSONISH, "sha256": JSONISH})
REPORT = st.fixed_dictionaries(
    {"schema": st.just("wheelguard-report/1")},
    optional={"packages": st.lists(PACKAGE, max_size=3) | JSONISH, "command": JSONISH,
              "target": JSONISH, "mode": JSONISH, "summary": JSONISH})


@fuzz(300)
@given(a=REPORT, b=REPORT)
@example(a={"schema": "wheelguard-report/1", "packages": []},
         b={"schema": "wheelguard-report/1",
            "packages": [{"name": "six", "version": "1", "findings": None}]})
def test_diff_reports(a: object, b: object, tmp_path: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    run(["diff", "a.json", "b.json"], capsys)


# --- index pages (PEP 503 HTML, PEP 691 JSON) -----------------------------------------------

HTML_SEED = (b'<!DOCTYPE html><html><head><base href="../x/"></head><body>'
             b'<a href="six-1.16.0-py3-none-any.whl#sha256=ab" data-requires-python="&gt;=3.9"'
             b' data-yanked="">six</a><a href="../../f/six-1.16.0.tar.gz">s</a></body></html>')
JSON_SEED = json.dumps({"meta": {"api-version": "1.1"}, "name": "six", "files": [
    {"filename": "six-1.16.0-py3-none-any.whl", "url": "../f/six.whl",
     "hashes": {"sha256": "ab"}, "requires-python": ">=3.9", "yanked": "bad"}]}).encode()


@fuzz(400)
@given(data=mutate(HTML_SEED) | st.binary(max_size=200))
def test_index_html_page(data: bytes) -> None:
    from poetry_wheelguard.errors import IndexFetchError
    try:
        cands = parse_html(data, "https://h/simple/six/", "https://h/simple/six/")
    except IndexFetchError as exc:
        assert "https://h/simple/six/" in str(exc)
        return
    assert all(isinstance(c.filename, str) for c in cands)


@fuzz(400)
@given(data=mutate(JSON_SEED) | JSONISH.map(lambda v: json.dumps(v).encode()))
@example(data=b'{"meta": {"api-version": "1.0"}, "files": ' + b"[" * 100_000 + b"]" * 100_000
         + b"}")
def test_index_json_page(data: bytes) -> None:
    from poetry_wheelguard.errors import IndexFetchError
    try:
        parse_json(data, "https://h/simple/six/", "https://h/simple/six/")
    except IndexFetchError as exc:
        assert "https://h/simple/six/" in str(exc)


# --- installed distributions: RECORD, METADATA, WHEEL, direct_url.json ----------------------

METADATA_SEED = b"Metadata-Version: 2.1\nName: fz\nVersion: 1.0\nSummary: x\n\nbody\n"
WHEEL_SEED = (b"Wheel-Version: 1.0\nGenerator: bdist_wheel (0.41)\nRoot-Is-Purelib: false\n"
              b"Tag: cp311-cp311-manylinux_2_17_x86_64\nTag: py3-none-any\n")
RECORD_SEED = (b"fz/__init__.py,sha256=00,1\nfz/_x.so,,\n../../../bin/fz,,\n"
               b"fz-1.0.dist-info/RECORD,,\n")
DIRECT_SEED = b'{"url": "file:///tmp/fz-1.0.tar.gz", "archive_info": {"hash": "sha256=00"}}'


@fuzz(250)
@given(metadata=mutate(METADATA_SEED), wheel=mutate(WHEEL_SEED), record=mutate(RECORD_SEED),
       direct=mutate(DIRECT_SEED) | JSONISH.map(lambda v: json.dumps(v).encode()))
@example(metadata=METADATA_SEED, wheel=WHEEL_SEED, record=b"/dev/urandom,,\nfz/\x00,,\n",
         direct=b"[" * 100_000 + b"]" * 100_000)
def test_installed_distribution(metadata: bytes, wheel: bytes, record: bytes, direct: bytes,
                                tmp_path_factory: pytest.TempPathFactory,
                                capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path_factory.mktemp("env") / "lib" / "python3.11" / "site-packages"
    info = site / "fz-1.0.dist-info"
    info.mkdir(parents=True)
    (site / "fz").mkdir()
    (site / "fz" / "_x.so").write_bytes(b"\x7fELF" + bytes(60))
    for name, data in (("METADATA", metadata), ("WHEEL", wheel), ("RECORD", record),
                       ("direct_url.json", direct)):
        (info / name).write_bytes(data)
    run(["verify", "--path", str(site), "--no-cache"], capsys)


# --- the facts cache of verify ----------------------------------------------------------------

@fuzz(150)
@given(damage=JSONISH)
def test_facts_cache(damage: object, tmp_path_factory: pytest.TempPathFactory,
                     capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
                     ) -> None:
    root = tmp_path_factory.mktemp("fc")
    monkeypatch.setenv("WHEELGUARD_CACHE_DIR", str(root / "cache"))
    site = root / "lib" / "python3.11" / "site-packages"
    (site / "m").mkdir(parents=True)
    (site / "m" / "_m.so").write_bytes(Path("/bin/true").read_bytes())
    info = site / "m-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: m\nVersion: 1.0\n")
    (info / "RECORD").write_text("m/_m.so,,\n")
    run(["verify", "--path", str(site)], capsys)
    for cache in (root / "cache").rglob("*.json"):
        data = json.loads(cache.read_text())
        keys = list(data.get("facts", {}))
        if isinstance(damage, dict):
            data.update(damage)
        elif keys:
            data["facts"][keys[0]] = damage
        else:
            data = damage
        cache.write_text(json.dumps(data))
    run(["verify", "--path", str(site)], capsys)


# --- ELF --------------------------------------------------------------------------------------

@fuzz(300)
@given(data=st.sampled_from(sorted(p.name for p in elf_fixtures().rglob("*.so*")
                                   if p.is_file())).flatmap(
    lambda name: mutate(next(elf_fixtures().rglob(name)).read_bytes()[:8192])))
def test_elf(data: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("elf") / "x.so"
    path.write_bytes(data)
    result = read_elf(str(path))
    assert isinstance(result, (ElfFacts, NotElf, CorruptElf))
