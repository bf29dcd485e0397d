"""Benchmark: ``pip-guard audit IMAGE.tar`` against what a user does by hand today.

    python benchmarks/audit.py IMAGE.tar --site /app/.venv/lib/python3.11/site-packages

IMAGE.tar is a ``docker save`` tarball (e.g. the docs/docker.md Debian recipe built with
numpy, scipy, pandas and pyarrow: about 1 GB). Each way runs in fresh processes, page
cache warm (one unmeasured run of each first):

- ours: ``python -m poetry_wheelguard audit IMAGE.tar --no-cache``-free default run;
- by hand: ``tar xf IMAGE.tar`` into a temporary directory, ``tar xf`` of every layer in
  manifest order into one root (whiteouts not applied, as a plain ``tar x`` does), then
  ``python -m poetry_wheelguard verify --sysroot ROOT --path ROOT/SITE --no-cache``.

Prints wall time and peak memory (the largest child ``ru_maxrss``) of each. Goal: ours
faster, and under 300 MB peak.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time


def _run(cmd: list[str], peak: list[int]) -> float:
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execvp(cmd[0], cmd)
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 11):
        raise SystemExit(f"{cmd[:4]} failed ({status})")
    peak.append(usage.ru_maxrss)  # KiB on Linux
    return time.perf_counter() - started


def ours(image: str) -> tuple[float, int]:
    peak: list[int] = []
    seconds = _run([sys.executable, "-m", "poetry_wheelguard", "audit", image], peak)
    return seconds, max(peak)


def by_hand(image: str, site: str) -> tuple[float, int]:
    peak: list[int] = []
    work = tempfile.mkdtemp(prefix="wheelguard-bench-")
    try:
        seconds = _run(["tar", "xf", image, "-C", work], peak)
        with open(os.path.join(work, "manifest.json")) as fh:
            layers = json.load(fh)[0]["Layers"]
        root = os.path.join(work, "rootfs")
        os.mkdir(root)
        for layer in layers:
            seconds += _run(["tar", "xf", os.path.join(work, layer), "-C", root], peak)
        seconds += _run([sys.executable, "-m", "poetry_wheelguard", "verify", "--no-cache",
                         "--sysroot", root, "--path", root + site], peak)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return seconds, max(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image")
    parser.add_argument("--site", default="/app/.venv/lib/python3.11/site-packages")
    args = parser.parse_args()
    size = os.path.getsize(args.image)
    ours(args.image)
    by_hand(args.image, args.site)  # warm-up runs
    a_s, a_kib = ours(args.image)
    b_s, b_kib = by_hand(args.image, args.site)
    print(f"image {args.image}: {size / 2**20:.0f} MiB")
    print(f"pip-guard audit:              {a_s:6.1f} s, peak {a_kib / 1024:6.0f} MiB")
    print(f"tar x + verify --sysroot:     {b_s:6.1f} s, peak {b_kib / 1024:6.0f} MiB")
    print(f"ratio (by hand / audit):      {b_s / a_s:6.2f}x")


if __name__ == "__main__":
    main()
