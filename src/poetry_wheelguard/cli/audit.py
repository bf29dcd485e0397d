"""``pip-guard audit TARGET``: what an image really got, per Python environment.

    pip-guard audit TARGET [--platform OS/ARCH[/VARIANT]] [--path DIR]... [--libc glibc|musl]
                    [--package NAME]... [--index URL] [--sbom PATH] [global options]

TARGET is a root filesystem directory, an OCI image layout directory, an OCI or
docker-archive tarball (``docker save``), or ``docker:NAME[:TAG]`` (saved through the local
engine's ``docker`` CLI). Layers are applied as the engine applies them into a temporary
sysroot holding only what verify reads (:mod:`poetry_wheelguard.image.layers`); nothing of
the image is executed, nothing is written outside that temporary directory.

Environments: every ``site-packages`` / ``dist-packages`` directory under a
``lib/pythonX.Y`` (or Debian's ``lib/python3``) of any prefix - the system's ``/usr``,
``/usr/local``, virtual environments (a prefix with ``pyvenv.cfg``: ``/app/.venv``,
``/opt/venv``) - and every ``--path DIR`` (a path inside the image). Each is verified as
``verify --sysroot`` does: against the image's own loader and libc, the Python version of
the environment.

Per distribution the report's ``verification`` object carries, beside verify's fields:
``environment``, ``installed_bytes`` (sizes of its ``RECORD`` files as the image holds
them), ``direct_url`` (PEP 610). ``--index URL`` applies the install policy as ``verify
--index`` does (``PURE_FALLBACK``, ``SDIST_BUILD`` for a local build,
``IGNORED_COMPATIBLE_WHEEL``).

``--sbom PATH`` also writes a CycloneDX 1.6 JSON SBOM of the report
(:mod:`poetry_wheelguard.sbom`).

Exit codes: 0, or 11 in strict mode when any error finding exists; 12 for an unreadable
image (one line naming the file and the layer), or when no environment could be audited
(one that cannot be - no Python version to tell, no libc - is skipped with a note when
others can); 64 for a bad command line.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from poetry_wheelguard import exitcodes
from poetry_wheelguard.errors import WheelguardError
from poetry_wheelguard.image.layers import Applied, Image, apply_layers, open_image
from poetry_wheelguard.image.rootfs import sysroot_target
from poetry_wheelguard.installed import DistInfo, find_distributions
from poetry_wheelguard.loader import resolve_in_root, target_path
from poetry_wheelguard.models import SEVERITY_RANK, Finding, PackageRecord
from poetry_wheelguard.report import redact_url
from poetry_wheelguard.scan import (
    build_context,
    index_findings,
    package_record,
    verify_distribution,
)

_SITE = re.compile(r"^python(\d+)(?:\.(\d+))?$")
_SKIP_TOP = {"proc", "sys", "dev", "run", "tmp"}


@dataclass(frozen=True)
class Environment:
    """One Python environment of the image.

    Attributes:
        prefix: its prefix as the image sees it (``/usr/local``, ``/app/.venv``), or the
            ``--path`` directory.
        kind: ``venv`` (``pyvenv.cfg`` in the prefix), ``system`` or ``path``.
        sites: host paths (inside the sysroot) of its site directories.
    """

    prefix: str
    kind: str
    sites: tuple[str, ...]


def find_environments(root: str, extra: Sequence[str] = ()) -> list[Environment]:
    """Every environment of the sysroot ``root`` (see the module docstring), sorted by
    prefix; ``extra`` are image paths given with ``--path`` (each its own environment).
    Directories are walked without following symbolic links (``lib64 -> lib`` is seen
    once); ``/proc``, ``/sys``, ``/dev``, ``/run``, ``/tmp`` are skipped.

    Raises:
        WheelguardError: an ``extra`` path that is not a directory in the image.
    """
    found: dict[str, list[str]] = {}
    for dirpath, dirnames, _files in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel == ".":
            dirnames[:] = [d for d in dirnames if d not in _SKIP_TOP]
            continue
        parts = rel.split(os.sep)
        if parts[-1] in ("site-packages", "dist-packages") and len(parts) >= 3 \
                and _SITE.match(parts[-2]) and parts[-3] in ("lib", "lib64"):
            prefix = "/" + "/".join(parts[:-3])
            found.setdefault(prefix, []).append(dirpath)
            dirnames[:] = []
        elif "site-packages" in parts or "dist-packages" in parts:
            dirnames[:] = []
    envs = []
    for prefix, sites in sorted(found.items()):
        if not any(e.endswith((".dist-info", ".egg-info")) for s in sites
                   for e in _listdir(s)):
            continue
        venv = resolve_in_root(root, prefix.rstrip("/") + "/pyvenv.cfg")
        envs.append(Environment(prefix, "venv" if venv else "system", tuple(sorted(sites))))
    for path in extra:
        host = resolve_in_root(root, "/" + path.lstrip("/"))
        if host is None or not os.path.isdir(host):
            raise WheelguardError("--path: not a directory in the image", filename=path)
        envs.append(Environment("/" + path.lstrip("/"), "path", (host,)))
    return envs


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _image_finding(root: str, f: Finding) -> Finding:
    return replace(f, message=f.message.replace(root, ""),
                   path=target_path(root, f.path) if f.path else f.path)


def audit_environment(applied: Applied, env: Environment, libc: str | None,
                      packages: Sequence[str] | None, index: str | None, config: Any
                      ) -> tuple[list[PackageRecord], dict[str, Any]]:
    """Verify one environment: ``(records, environment summary)``.

    Raises:
        WheelguardError: no libc or Python in the image (as ``verify --sysroot``), an
            unreachable ``--index``.
    """
    root = applied.root
    target, facts = sysroot_target(root, env.sites, libc)
    ctx = build_context(target, root, interp=facts.interp, libc_path=facts.libc_path)
    dists: list[DistInfo] = find_distributions(env.sites, packages, link_root=root)
    policy = index_findings(dists, target, config, index) if index else {}
    records = []
    for dist in dists:
        found, record = verify_distribution(dist, ctx)
        found += policy.get(dist.name, [])
        found = sorted((_image_finding(root, f) for f in found),
                       key=lambda f: -SEVERITY_RANK[f.severity])
        record["environment"] = env.prefix
        record["installed_bytes"] = sum(applied.size_of(p) for p in dist.files)
        record["dist_info"] = target_path(root, dist.path)
        record["resolved"] = {k: {n: target_path(root, p) if p else p for n, p in v.items()}
                              for k, v in record["resolved"].items()}
        direct = dist.direct_url
        if direct:
            direct = {**direct, "url": redact_url(str(direct.get("url", "")))}
        record["direct_url"] = direct
        records.append(package_record(dist, found, record, config.strict))
    summary = {
        "prefix": env.prefix, "kind": env.kind,
        "sites": [target_path(root, s) for s in env.sites],
        "python": ".".join(map(str, target.python_version)),
        "libc": f"{facts.libc} {'.'.join(map(str, facts.libc_version or ()))}".strip(),
        "loader": facts.interp,
        "distributions": len(records),
        "installed_bytes": sum((r.verification or {}).get("installed_bytes", 0)
                               for r in records),
        "elf_files": sum((r.verification or {}).get("elf_files", 0) for r in records),
        "target": {**target.summary(), "name": f"{target.name} ({env.prefix})"},
    }
    return records, summary


def _origin(rec: PackageRecord) -> str:
    v = rec.verification or {}
    prov = v.get("provenance")
    if prov == "local":
        return "built locally"
    if prov == "pure":
        return "pure wheel"
    if prov == "index":
        plats = sorted({t.split("-", 2)[2] for t in rec.tags},
                       key=lambda p: (not p.startswith(("manylinux_", "musllinux_")), p))
        return f"wheel {plats[0]}" if plats else "platform wheel"
    return "unknown (no WHEEL)"


def _parser() -> argparse.ArgumentParser:
    from poetry_wheelguard.cli.options import add_global_options

    parser = argparse.ArgumentParser(
        prog="pip-guard audit",
        description="Audit what an image got: every Python environment, where each "
        "distribution came from, its compiled files and installed size, verified against "
        "the image's own loader and libc.")
    parser.add_argument("image", metavar="TARGET",
                        help="rootfs directory, OCI layout directory, OCI/docker-archive "
                             "tarball, or docker:NAME[:TAG]")
    parser.add_argument("--platform", metavar="OS/ARCH[/VARIANT]",
                        help="the image of a multi-platform index (default: this machine's)")
    parser.add_argument("--path", metavar="DIR", action="append", default=[],
                        help="also audit this site directory (a path inside the image)")
    parser.add_argument("--libc", choices=("glibc", "musl"), default=None,
                        help="the image's libc, when it holds both and nothing tells which")
    parser.add_argument("--package", metavar="NAME", action="append",
                        help="audit only this distribution (repeatable)")
    parser.add_argument("--index", metavar="URL",
                        help="also apply the install policy against this index (network)")
    add_global_options(parser, suppress=True)
    return parser


def run_audit(ns: argparse.Namespace, argv: list[str]) -> int:
    """``pip-guard audit``: returns the exit code (see the module docstring).

    Raises:
        ConfigError: a bad ``--mode`` or config value (exit 64 by the caller).
        WheelguardError: an unreadable image or environment (exit 12 by the caller).
    """
    from poetry_wheelguard.cli.options import config_from_namespace
    from poetry_wheelguard.render import human_size, print_table, render_findings
    from poetry_wheelguard.report import Report, write_json_atomic

    try:
        args = _parser().parse_args(argv, namespace=ns)
    except SystemExit as exc:
        return exitcodes.OK if exc.code == 0 else exitcodes.USAGE
    config = config_from_namespace(args)
    if getattr(args, "sbom", None):
        from poetry_wheelguard.sbom import require_library

        require_library()
    started = time.perf_counter()
    records: list[PackageRecord] = []
    envs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="wheelguard-audit-") as tmp, \
            contextlib.ExitStack() as stack:
        image: Image = open_image(args.image, stack, tmp, args.platform)
        applied = apply_layers(image, os.path.join(tmp, "root"))
        environments = find_environments(applied.root, args.path)
        if not environments:
            raise WheelguardError("no Python environment with installed distributions in the "
                                  "image; name one with --path DIR", filename=args.image)
        failed: list[WheelguardError] = []
        for env in environments:
            try:
                recs, summary = audit_environment(applied, env, args.libc, args.package,
                                                  args.index, config)
            except WheelguardError as exc:  # this environment only; the others go on
                exc.filename = f"{args.image} {env.prefix}"
                failed.append(exc)
                continue
            records += recs
            envs.append(summary)
        if failed and not envs:
            raise failed[0]
        for skipped in failed:
            print(f"pip-guard: note: skipped: {skipped}", file=sys.stderr)
    errors = sum(1 for r in records for f in r.findings if f.severity == "error")
    warnings = sum(1 for r in records for f in r.findings if f.severity == "warning")
    code = exitcodes.VERIFY_ERRORS if errors and config.strict else exitcodes.OK
    audit = {
        "image": args.image, "source": image.kind, "platform": image.platform or None,
        "layers": len(image.layers), "members": applied.members,
        "extracted_files": applied.written, "extracted_bytes": applied.written_bytes,
        "environments": [{k: v for k, v in e.items() if k != "target"} for e in envs],
        "distributions": len(records), "errors": errors, "warnings": warnings,
        "seconds": round(time.perf_counter() - started, 3),
    }
    report = Report(command="audit", mode=config.mode, target=[e["target"] for e in envs],
                    packages=records, exit_code=code, extra={"audit": audit}).to_json()
    if config.report:
        write_json_atomic(config.report, report)
    if getattr(args, "sbom", None):
        from poetry_wheelguard.sbom import write_sbom

        write_sbom(args.sbom, report)
    render_findings(records, sys.stdout)
    for summary in envs:
        rows = [[r.selection.name, r.selection.version,
                 (r.verification or {}).get("installer") or "-", _origin(r),
                 f"{(r.verification or {}).get('elf_files', 0)} "
                 f"({human_size((r.verification or {}).get('elf_bytes', 0))})",
                 human_size((r.verification or {}).get("installed_bytes", 0)), r.verdict,
                 ", ".join(dict.fromkeys(f.code for f in r.findings if f.severity != "info"))]
                for r in records
                if (r.verification or {}).get("environment") == summary["prefix"]]
        print_table(("package", "version", "installer", "from", "compiled", "installed",
                     "verdict", "findings"), rows, sys.stdout,
                    title=f"pip-guard audit: {args.image} {summary['prefix']} ({summary['kind']}, "
                          f"Python {summary['python']}, {summary['libc']})")
    print(f"audited {len(records)} distributions in {len(envs)} environment(s) of "
          f"{args.image}: {errors} error(s), {warnings} warning(s)", file=sys.stdout)
    return code
