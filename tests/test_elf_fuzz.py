"""Fuzzing: mutated fixture ELF files never crash, hang or exhaust memory in elf.read_elf or
in a whole pip-guard verify run (bounded count; each parse under a per-file timeout)."""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
from pathlib import Path

from tests.elf.fuzz import mutate
from tests.support.elffix import elf_fixtures, make_dist
from tests.support.schema import validate_report

REPO = Path(__file__).resolve().parents[1]
SEED = int(os.environ.get("WHEELGUARD_FUZZ_SEED", "20261129"))
MEMORY_LIMIT = 2 << 30  # address space of the fuzzed process, bytes


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _run(cmd: list[str], timeout: float, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          preexec_fn=_limited, check=False, env={**os.environ, **(env or {})})


def test_read_elf_survives_mutants() -> None:
    proc = _run([sys.executable, "-m", "tests.elf.fuzz", str(elf_fixtures()), "--count", "1500",
                 "--seed", str(SEED), "--per-file-timeout", "5"], timeout=600)
    assert proc.stdout, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["failures"] == [], summary["failures"][:3]
    assert proc.returncode == 0
    outcomes = summary["outcomes"]
    assert sum(outcomes.values()) == 1500
    assert outcomes["facts"] and outcomes["corrupt"]  # both answers were exercised


def test_verify_run_survives_mutants(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    seeds = [p for p in elf_fixtures().rglob("*.so*") if p.is_file()]
    site = tmp_path / "site"
    for d in range(10):
        files: dict[str, Path | bytes] = {}
        for i in range(12):
            src = rng.choice(seeds)
            name = f"m{i}.cpython-311-x86_64-linux-gnu.so" if i % 2 else f"libm{i}.so.1"
            files[f"fz{d}/{name}"] = mutate(src.read_bytes(), rng)
        make_dist(site, f"fz{d}", files)
    report = tmp_path / "r.json"
    proc = _run([sys.executable, "-m", "poetry_wheelguard", "verify", "--path", str(site),
                 "--report", str(report)], timeout=300,
                env={"WHEELGUARD_CACHE_DIR": str(tmp_path / "cache")})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    data = json.loads(report.read_text())
    validate_report(data)
    assert len(data["packages"]) == 10
    assert data["verification"]["elf_files"] > 0
