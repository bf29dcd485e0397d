"""Benchmark: pip-guard verify against auditwheel's lddtree and ldd, on the same files.

    python benchmarks/verify.py [--venv DIR] [--runs N] [--python BASE_PYTHON]

Builds (once) a venv with numpy, scipy, pandas and auditwheel (pip isolated from this
machine's pip configuration), then, in one run, times with the page cache warm:

- ours: ``python -m poetry_wheelguard verify --python VENV/bin/python`` - the whole check
  (interpreter probe, every distribution's RECORD scanned by magic bytes, every ELF file
  parsed, every dependency resolved, every rule) as a user runs it;
- lddtree: ``auditwheel.lddtree.ldd`` over the same ELF files, in the venv's Python
  (dependency trees only: no symbols, versions or rules);
- ldd: ``ldd FILE`` once per ELF file (glibc's loader in trace mode).

Each is a fresh process per run (start-up and imports included, as a user sees it); the
first run of each warms the caches (page cache, bytecode, verify's facts cache) and is not
counted. ``--no-cache`` runs of verify (every ELF file parsed again) are timed too.
Prints the median wall times and the ratios. Goal on a 2-core machine: ours <= 0.3 s and
>= 10x faster than lddtree.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGES = ["numpy", "scipy", "pandas", "auditwheel"]

LDDTREE = """
import sys
from pathlib import Path
from auditwheel.lddtree import ldd
files = [Path(p) for p in Path(sys.argv[1]).read_text().splitlines()]
for f in files:
    ldd(f)
"""


def isolated_env() -> dict[str, str]:
    """This machine's pip config adds indexes and find-links: run pip without it."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL",
                        "PIP_CONSTRAINT")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


def ensure_venv(venv: Path, base: str) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PACKAGES], check=True,
                       env=isolated_env())
    return python


def elf_files(python: Path) -> list[str]:
    site = subprocess.run([str(python), "-I", "-S", "-c",
                           "import sysconfig; print(sysconfig.get_paths()['platlib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    out = []
    for root, _dirs, names in os.walk(site):
        for name in names:
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as fh:
                    if fh.read(4) == b"\x7fELF":
                        out.append(path)
            except OSError:
                continue
    return sorted(out)


def run_env(cache: Path) -> dict[str, str]:
    """Bytecode caches on (a warm run has them) and verify's facts cache in ``cache``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["WHEELGUARD_CACHE_DIR"] = str(cache)
    return env


def timed(cmd: list[str], runs: int, env: dict[str, str]) -> list[float]:
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                       env=env)
        if i:  # the first run warms the page cache and the bytecode caches
            times.append(time.perf_counter() - start)
    return times


def timed_ldd(files: list[str], runs: int) -> list[float]:
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        for f in files:
            subprocess.run(["ldd", f], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           check=False)
        if i:
            times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path,
                        default=HERE.parent / "tests" / ".cache" / "bench-verify-venv",
                        help="the benchmark venv (made once; default under tests/.cache)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter the benchmark venv is made from")
    args = parser.parse_args(argv)
    python = ensure_venv(args.venv, args.python)
    files = elf_files(python)
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "files.txt"
        listing.write_text("\n".join(files))
        report = Path(tmp) / "report.json"
        env = run_env(Path(tmp) / "cache")
        verify = [sys.executable, "-m", "poetry_wheelguard", "verify", "--python", str(python),
                  "--report", str(report)]
        ours = timed(verify, args.runs, env)
        cold = timed([*verify, "--no-cache"], args.runs, env)
        lddtree = timed([str(python), "-c", LDDTREE, str(listing)], args.runs, env)
        ldd = timed_ldd(files, max(1, args.runs // 2))
    m_ours, m_cold, m_tree, m_ldd = (statistics.median(t) for t in (ours, cold, lddtree, ldd))
    print(f"ELF files: {len(files)} (numpy, scipy, pandas in {args.venv}); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"pip-guard verify (full check)  median {m_ours:.3f} s  runs {len(ours)}")
    print(f"  same, --no-cache             median {m_cold:.3f} s  "
          f"(lddtree ratio {m_tree / m_cold:.1f}x)")
    print(f"auditwheel lddtree (trees)     median {m_tree:.3f} s  ratio {m_tree / m_ours:.1f}x")
    print(f"ldd per file                   median {m_ldd:.3f} s  ratio {m_ldd / m_ours:.1f}x")
    goal_time = m_ours <= 0.3
    goal_ratio = m_tree / m_ours >= 10
    print(f"goal <= 0.3 s: {'met' if goal_time else 'not met'}; "
          f">= 10x lddtree: {'met' if goal_ratio else 'not met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
