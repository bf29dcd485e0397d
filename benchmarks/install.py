"""Benchmark: what the guard adds to a real install, warm cache, same requirements.

    python benchmarks/install.py [--rounds N] [--set compiled|fastapi-2022]...
                                 [--no-poetry] [--poetry-version V] [--pip SPEC]

For each requirement set of benchmarks/data/install/ (``compiled.txt``: about 25 packages
with compiled wheels and their dependencies; ``fastapi-2022.txt``: the talk's FastAPI app
with 2022-era pins that install from wheels on CPython 3.11) and each round, three fresh
venvs (made untimed with the interpreter running this script; pip upgraded to ``--pip``
from the warm cache) get, in an order that rotates every round (A B C, B C A, C A B...):

- ``python -m pip install -r SET``                      (plain pip)
- ``python pip-guard.pyz install -r SET``               (guarded, with post-install verify)
- ``python pip-guard.pyz --no-verify install -r SET``   (guarded, no verify)

The guard runs as the single-file ``pip-guard.pyz`` built from this checkout
(scripts/build_pyz.py), so the measured venv holds exactly what plain pip puts there. Then,
with ``poetry==--poetry-version`` in its own venv (benchmarks/.venv-poetry) and this
checkout installed there as its plugin, the FastAPI set as a Poetry project locked once:
``poetry install --no-plugins`` against ``poetry install`` (guarded), alternating, each into
a fresh project venv (made untimed by ``poetry env use``).

The pip cache (``PIP_CACHE_DIR``) and Poetry's cache are the benchmark's own, under
benchmarks/.venv-work, warmed by one untimed install of each set; pip and Poetry are
isolated from this machine's configuration (``PIP_CONFIG_FILE=/dev/null``, no
``PIP_*``/``WHEELGUARD_*``/``POETRY_*``). The first run needs the public index (wheels,
the pyz's pins, Poetry); later runs still read index pages, as any install does. Times are
wall-clock seconds of the install command (``time.perf_counter``); printed: the median of
each variant, and the ratios guarded / plain. Goals (issue 12, on a 2-core machine):
guarded pip <= 1.05x plain without verify, <= 1.10x with verify; guarded Poetry <= 1.10x.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = HERE / "data" / "install"
WORK = HERE / ".venv-work"
POETRY_VENV_ROOT = HERE  # benchmarks/.venv-poetry-<version>
SETS = ("compiled", "fastapi-2022")
PIP_VARIANTS = ("pip", "pip-guard", "pip-guard --no-verify")
GOALS = {"pip-guard": 1.10, "pip-guard --no-verify": 1.05, "poetry (guarded)": 1.10}


def isolated_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """``os.environ`` without pip/Poetry/wheelguard settings; the benchmark's own caches."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "WHEELGUARD_", "POETRY_", "PYTHONPATH", "VIRTUAL_ENV"))}
    env.update({"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                "PIP_NO_INPUT": "1", "PIP_CACHE_DIR": str(WORK / "pip-cache")})
    env.update(extra or {})
    return env


def run(cmd: Sequence[str], *, cwd: Path | None = None,
        env: Mapping[str, str] | None = None) -> float:
    """Run ``cmd``; return its wall time in seconds; exit with its output if it fails."""
    started = time.perf_counter()
    proc = subprocess.run(list(cmd), cwd=cwd, env=dict(env or isolated_env()),
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"install.py: {' '.join(cmd)} failed (exit {proc.returncode}):\n"
                 f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return elapsed


def fresh_venv(path: Path, pip_spec: str | None) -> Path:
    """A new venv at ``path`` (replacing one there); returns its python."""
    if path.exists():
        shutil.rmtree(path)
    run([sys.executable, "-m", "venv", str(path)])
    python = path / "bin" / "python"
    if pip_spec:
        run([str(python), "-m", "pip", "install", "-q", pip_spec])
    return python


def build_pyz() -> Path:
    """pip-guard.pyz of this checkout, under benchmarks/.venv-work."""
    out = WORK / "pip-guard.pyz"
    run([sys.executable, str(REPO / "scripts" / "build_pyz.py"), "-o", str(out)])
    return out


def pip_command(variant: str, python: Path, pyz: Path, requirements: Path) -> list[str]:
    """The install command of one variant."""
    if variant == "pip":
        return [str(python), "-m", "pip", "install", "-q", "-r", str(requirements)]
    flags = ["--no-verify"] if variant.endswith("--no-verify") else []
    return [str(python), str(pyz), *flags, "install", "-q", "-r", str(requirements)]


def rotated(variants: Sequence[str], round_no: int) -> list[str]:
    """``variants`` rotated by ``round_no`` (A B C, B C A, C A B, ...)."""
    k = round_no % len(variants)
    return [*variants[k:], *variants[:k]]


def bench_pip(sets: Sequence[str], rounds: int, pip_spec: str | None, pyz: Path
              ) -> dict[str, dict[str, list[float]]]:
    """``{set: {variant: [seconds per round]}}``."""
    times: dict[str, dict[str, list[float]]] = {s: {v: [] for v in PIP_VARIANTS} for s in sets}
    for name in sets:
        requirements = DATA / f"{name}.txt"
        venv = WORK / "venv"
        python = fresh_venv(venv, pip_spec)  # warm the cache, untimed
        run(pip_command("pip", python, pyz, requirements))
        for round_no in range(rounds):
            for variant in rotated(PIP_VARIANTS, round_no):
                python = fresh_venv(venv, pip_spec)
                seconds = run(pip_command(variant, python, pyz, requirements))
                times[name][variant].append(seconds)
                print(f"  {name:14} round {round_no + 1}  {variant:24} {seconds:7.2f} s",
                      flush=True)
    return times


def poetry_pyproject(requirements: Path) -> str:
    """A ``package-mode = false`` pyproject.toml with the pins of ``requirements``."""
    try:
        from packaging.requirements import Requirement
    except ImportError:  # an interpreter with pip only: pip's vendored copy
        from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]

    lines = ["[tool.poetry]", 'name = "wg-bench"', 'version = "0.1.0"', 'description = ""',
             'authors = ["wheelguard benchmark <bench@example.invalid>"]',
             "package-mode = false", "", "[tool.poetry.dependencies]", 'python = ">=3.9,<4"']
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        version = str(req.specifier).lstrip("=")
        if req.extras:
            extras = ", ".join(f'"{e}"' for e in sorted(req.extras))
            lines.append(f'{req.name} = {{ version = "{version}", extras = [{extras}] }}')
        else:
            lines.append(f'{req.name} = "{version}"')
    return "\n".join(lines) + "\n"


def bench_poetry(version: str, rounds: int) -> dict[str, list[float]]:
    """``{"poetry --no-plugins": [...], "poetry (guarded)": [...]}`` for the FastAPI set."""
    venv = POETRY_VENV_ROOT / f".venv-poetry-{version}"
    poetry = venv / "bin" / "poetry"
    if not poetry.exists():
        run([sys.executable, "-m", "venv", str(venv)])
        run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"poetry=={version}"])
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-e", str(REPO)])
    project = WORK / "poetry-fastapi-2022"
    project.mkdir(parents=True, exist_ok=True)
    pyproject = poetry_pyproject(DATA / "fastapi-2022.txt")
    env = isolated_env({"POETRY_VIRTUALENVS_IN_PROJECT": "true",
                        "POETRY_CACHE_DIR": str(WORK / "poetry-cache"),
                        "POETRY_CONFIG_DIR": str(WORK / "poetry-config"),
                        "POETRY_NO_INTERACTION": "1"})
    if (project / "pyproject.toml").exists() is False or \
            (project / "pyproject.toml").read_text() != pyproject or \
            not (project / "poetry.lock").exists():
        (project / "pyproject.toml").write_text(pyproject)
        run([str(poetry), "--no-plugins", "lock"], cwd=project, env=env)

    def fresh() -> None:
        if (project / ".venv").exists():
            shutil.rmtree(project / ".venv")
        run([str(poetry), "--no-plugins", "env", "use", sys.executable], cwd=project, env=env)

    variants = {"poetry --no-plugins": [str(poetry), "--no-plugins", "install"],
                "poetry (guarded)": [str(poetry), "install"]}
    fresh()
    run(variants["poetry --no-plugins"], cwd=project, env=env)  # warm Poetry's cache
    times: dict[str, list[float]] = {v: [] for v in variants}
    for round_no in range(rounds):
        for variant in rotated(list(variants), round_no):
            fresh()
            seconds = run(variants[variant], cwd=project, env=env)
            times[variant].append(seconds)
            print(f"  poetry {version:7} round {round_no + 1}  {variant:24} {seconds:7.2f} s",
                  flush=True)
    return times


def summary(rows: Mapping[str, list[float]], base: str) -> None:
    """Print the median of each variant and its ratio to ``base``."""
    plain = statistics.median(rows[base])
    for variant, seconds in rows.items():
        med = statistics.median(seconds)
        ratio = "" if variant == base else f"  {med / plain:5.2f}x {base}"
        goal = GOALS.get(variant)
        verdict = "" if goal is None else (
            f"  (goal <= {goal:.2f}x: {'met' if med / plain <= goal else 'NOT met'})")
        print(f"  {variant:24} median {med:7.2f} s  (n={len(seconds)}){ratio}{verdict}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns 0 (the figures are the output, not a pass/fail)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds per variant (3)")
    parser.add_argument("--set", action="append", dest="sets", choices=SETS,
                        help="requirement set (default: both)")
    parser.add_argument("--no-poetry", action="store_true", help="skip the Poetry part")
    parser.add_argument("--poetry-version", default="2.5.1")
    parser.add_argument("--pip", default="pip==26.3",
                        help="pip in the fresh venvs (requirement; '' keeps ensurepip's)")
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    print(f"python {sys.version.split()[0]} ({sys.executable}); {os.cpu_count()} CPUs; "
          f"{args.pip or 'ensurepip pip'}; {args.rounds} rounds", flush=True)
    pyz = build_pyz()
    results = bench_pip(args.sets or SETS, args.rounds, args.pip or None, pyz)
    poetry = None if args.no_poetry else bench_poetry(args.poetry_version, args.rounds)
    print()
    for name, rows in results.items():
        print(f"{name} ({DATA.relative_to(REPO)}/{name}.txt):")
        summary(rows, "pip")
    if poetry is not None:
        print(f"poetry {args.poetry_version}, fastapi-2022 lock:")
        summary(poetry, "poetry --no-plugins")
    return 0


if __name__ == "__main__":
    sys.exit(main())
