"""Benchmark: ``plan --lock`` over a real 316-package poetry.lock for 3 targets, offline,
against Poetry's own ``Chooser`` over the same lock and the same packages.

    python benchmarks/plan.py [--lock PATH] [--target NAME]... [--repeat N]
                              [--poetry-python PATH]

Our time: reading the lock (``locks.read_lock``) and planning every target
(``planning.plan_lock``: markers, Poetry's choice of file, the policy's findings), in this
process, with every memo cleared before each run (a cold run). Poetry's time: its ``Locker``
reading the lock and ``Chooser.choose_for`` for each package we plan on each target
(benchmarks/poetry_chooser.py, run with ``--poetry-python``: a venv's Python with Poetry
installed; default: ``WHEELGUARD_POETRY_PYTHON``, else tests/.cache's Poetry 2.5.1 venv).
Both are CPU seconds of the measuring process (``time.process_time``, so other work on a
shared machine does not count), the best of ``--repeat`` runs. The goal is <= 0.5 s for us
on the project's 2-core machine; the ratio says how many times faster than Poetry's Chooser
we are.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "src"))

from poetry_wheelguard import choosers, distfiles, markers  # noqa: E402
from poetry_wheelguard.config import Config  # noqa: E402
from poetry_wheelguard.locks import read_lock  # noqa: E402
from poetry_wheelguard.planning import PlanResult, plan_lock  # noqa: E402
from poetry_wheelguard.target_options import targets_from_options  # noqa: E402

DEFAULT_LOCK = HERE / "data" / "datastack" / "poetry.lock"
DEFAULT_TARGETS = ["python:3.12-slim", "python:3.12-alpine", "python:3.11-slim-trixie"]
GOAL_SECONDS = 0.5


def _clear_memos() -> None:
    distfiles.classify.cache_clear()
    choosers._build_tag.cache_clear()
    markers._marker.cache_clear()


def run_ours(lock_path: Path, targets: list[object]) -> tuple[float, PlanResult]:
    """One cold run: read the lock and plan every target; ``(seconds, result)``."""
    _clear_memos()
    started = time.process_time()
    lock = read_lock(lock_path)
    result = plan_lock(lock, targets, Config())  # type: ignore[arg-type]
    return time.process_time() - started, result


def default_poetry_python() -> str | None:
    env = os.environ.get("WHEELGUARD_POETRY_PYTHON")
    if env:
        return env
    pyver = f"{sys.version_info[0]}.{sys.version_info[1]}"
    cand = REPO / "tests" / ".cache" / f"poetry-2.5.1-py{pyver}" / "bin" / "python"
    return str(cand) if cand.exists() else None


def run_poetry(python: str, lock_path: Path, result: PlanResult
               ) -> tuple[float, str, dict[str, dict[str, str | None]]]:
    """One run of Poetry's Chooser: ``(seconds, Poetry version, choices)``."""
    spec = [{"name": t.name, "tags": [str(x) for x in t.tags],
             "packages": [f"{r.selection.name}=={r.selection.version}"
                          for r in result.records[t.name]]} for t in result.targets]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(spec, fh)
    try:
        proc = subprocess.run([python, str(HERE / "poetry_chooser.py"), str(lock_path),
                               fh.name], capture_output=True, text=True, check=True)
    finally:
        os.unlink(fh.name)
    data = json.loads(proc.stdout)
    return float(data["seconds"]), str(data["poetry"]), data["choices"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=DEFAULT_LOCK)
    parser.add_argument("--target", action="append", dest="target_names")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--poetry-python", default=default_poetry_python())
    args = parser.parse_args(argv)
    ns = argparse.Namespace(target_names=args.target_names or DEFAULT_TARGETS, arch=None,
                            python_version=None, platforms=None, libc=None, abis=None,
                            implementation=None)
    targets = targets_from_options(ns)
    runs = [run_ours(args.lock, targets) for _ in range(args.repeat)]
    ours = min(t for t, _ in runs)
    result = runs[-1][1]
    lock = read_lock(args.lock)
    planned = sum(len(v) for v in result.records.values())
    print(f"lock: {args.lock.relative_to(REPO) if args.lock.is_relative_to(REPO) else args.lock}"
          f" ({len(lock.packages)} packages, lock format {lock.lock_version})")
    print(f"targets: {', '.join(t.name for t in targets)} ({planned} package plans)")
    print(f"{'':28}{'best':>10}{'median':>10}")
    print(f"{'pip-guard plan (cold)':28}{ours:>9.3f}s"
          f"{statistics.median(t for t, _ in runs):>9.3f}s")
    if not args.poetry_python:
        print("Poetry's Chooser: skipped (no --poetry-python / WHEELGUARD_POETRY_PYTHON)")
        return 0 if ours <= GOAL_SECONDS else 1
    poetry_runs = [run_poetry(args.poetry_python, args.lock, result)
                   for _ in range(max(1, min(args.repeat, 3)))]
    theirs = min(t for t, _, _ in poetry_runs)
    version, choices = poetry_runs[0][1], poetry_runs[0][2]
    print(f"{'Poetry ' + version + ' Chooser':28}{theirs:>9.3f}s"
          f"{statistics.median(t for t, _, _ in poetry_runs):>9.3f}s")
    differ = sum(
        1 for t in result.targets for r in result.records[t.name]
        if (r.selection.chosen.filename or None)
        != choices[t.name].get(f"{r.selection.name}=={r.selection.version}",
                               r.selection.chosen.filename or None))
    print(f"ratio: Poetry's Chooser / pip-guard plan = {theirs / ours:.1f}x; "
          f"same file for {planned - differ}/{planned} package plans")
    print(f"goal <= {GOAL_SECONDS} s: {'met' if ours <= GOAL_SECONDS else 'NOT met'}")
    return 0 if ours <= GOAL_SECONDS and differ == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
