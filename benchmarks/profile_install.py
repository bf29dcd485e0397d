"""Profile one guarded install (cProfile) and print where the guard's time goes.

    python benchmarks/profile_install.py [--set fastapi-2022] [--out PROFILE]

Uses benchmarks/install.py's warm cache, pip-guard.pyz and a fresh venv (run install.py
once first). The guarded install runs in the venv's python under cProfile (the post-install
verify is its own process: its wall time is the ``verify_installed`` row); buckets are the
cumulative seconds of the guard's functions, from the profile's own numbers.
"""

from __future__ import annotations

import argparse
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import install

BUCKETS = {  # label -> (file suffix, function name) whose cumulative time is shown
    "hooks: evaluate_link wrapper (pip + guard)": ("pip/hooks.py", "evaluate_link"),
    "  link recording (GuardSession.observe)": ("pip/hooks.py", "observe"),
    "  link_info": ("pip/hooks.py", "link_info"),
    "  index_of": ("pip/selection.py", "index_of"),
    "  version_of / try_classify": ("distfiles.py", "try_classify"),
    "  canonical_version": ("pip/selection.py", "canonical_version"),
    "hooks: gate (LinkCandidate.__init__ wrapper)": ("pip/hooks.py", "__init__"),
    "  GuardSession.decide": ("pip/hooks.py", "decide"),
    "    reading the chosen project's listing (listing)": ("pip/hooks.py", "listing"),
    "    the chosen version's files in full (observed)": ("pip/hooks.py", "observed"),
    "  policy.evaluate": ("policy.py", "evaluate"),
    "classification (distfiles.classify)": ("distfiles.py", "classify"),
    "post-install verify (verify_installed, child)": ("postinstall.py", "verify_installed"),
    "guard imports before pip (load_verifier)": ("pip/cli.py", "load_verifier"),
    "pip's LinkEvaluator.evaluate_link": ("index/package_finder.py", "evaluate_link"),
}


def main(argv: list[str] | None = None) -> int:
    """Run the profile; print total, buckets and the top guard functions."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="fastapi-2022", choices=install.SETS)
    parser.add_argument("--out", type=Path, default=install.WORK / "guarded.prof")
    args = parser.parse_args(argv)
    pyz = install.WORK / "pip-guard.pyz"
    if not pyz.exists():
        pyz = install.build_pyz()
    reqs = install.DATA / f"{args.set}.txt"
    python = install.fresh_venv(install.WORK / "venv-profile", "pip==26.3")
    code = ("import cProfile, sys; sys.path.insert(0, sys.argv[1]); "
            "from poetry_wheelguard.cli import main; "
            "cProfile.run('rc = main(sys.argv[3:])', sys.argv[2])")
    started = time.perf_counter()
    install.run([str(python), "-c", code, str(pyz), str(args.out), "install", "-q", "-r",
                 str(reqs)])
    wall = time.perf_counter() - started
    stats = pstats.Stats(str(args.out))
    raw = stats.stats  # type: ignore[attr-defined]
    total = max(ct for (_, _, _), (_, _, _, ct, _) in raw.items())
    print(f"{args.set}: wall {wall:.2f} s under cProfile; profiled total {total:.2f} s")
    for label, (suffix, func) in BUCKETS.items():
        hits = [(cc, nc, ct) for (f, _, fn), (cc, nc, _, ct, _) in raw.items()
                if f.endswith(suffix) and fn == func]
        calls = sum(nc for _, nc, _ in hits)
        cum = sum(ct for _, _, ct in hits)
        print(f"  {label:48} {cum:7.2f} s  {calls:8} calls")
    print("top guard functions by own time:")
    rows = sorted(((tt, nc, f, fn) for (f, _, fn), (_, nc, tt, _, _) in raw.items()
                   if "poetry_wheelguard" in f), reverse=True)[:12]
    for tt, nc, f, fn in rows:
        print(f"  {tt:7.3f} s {nc:8} {f.split('poetry_wheelguard/')[-1]}:{fn}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
