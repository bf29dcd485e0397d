"""``pip-guard verify``: check every compiled file of an installed environment.

    pip-guard verify [--python PATH] [--path DIR [--sysroot ROOT [--libc glibc|musl]]]
                     [--package NAME]...
                     [--ld-library-path PATHS] [--index URL] [--no-cache] [global options]

Targets:

- no option: the running interpreter and its site-packages;
- ``--python PATH``: another interpreter, probed (``python -I -S``; no package code runs)
  for its site-packages, extension suffixes, libc and libpython;
- ``--path DIR --sysroot ROOT``: an extracted image: ``DIR`` is a site-packages directory,
  ``ROOT`` the image's root. The libc flavour and version are read from ``ROOT``'s own
  loader and libc (:func:`~poetry_wheelguard.image.rootfs.inspect_sysroot`: where both
  glibc and musl are installed, the one whose loader ``ROOT``'s Python or ``/bin/sh``
  names, else ``--libc``), the machine from its libc, the Python version from ``DIR``'s
  ``pythonX.Y`` component (or ``ROOT``'s ``python3.X`` binary); every library is resolved
  inside ``ROOT``. ``--path DIR`` alone verifies ``DIR`` against the running (or
  ``--python``) interpreter.

Exit codes (:mod:`poetry_wheelguard.exitcodes`): 0 when no error finding, or in warn mode
(the default) whatever was found - findings are printed and reported, the exit code stays
0; 11 (``VERIFY_ERRORS``) in strict mode when any error finding exists; 12 for unreadable
input (an interpreter that does not run, a missing directory, an unreachable ``--index``)
and, in either mode, when no distribution is found where the target installs packages
(nothing verified is no pass);
64 for a bad command line.

Nothing is imported or executed from the verified files: they are read as bytes
(:mod:`poetry_wheelguard.scan`). Facts of files already read are kept in a cache
(:class:`~poetry_wheelguard.factscache.FactsCache`; ``--no-cache`` skips it); an image root
becomes a target in :mod:`poetry_wheelguard.image.rootfs`.
:func:`poetry_wheelguard.postinstall.verify_installed` runs this command in a separate
process after an install (``pip-guard install``, the Poetry plugin).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from poetry_wheelguard import exitcodes
from poetry_wheelguard.cli.options import add_global_options, config_from_namespace
from poetry_wheelguard.errors import WheelguardError
from poetry_wheelguard.factscache import FactsCache, cache_file
from poetry_wheelguard.image.rootfs import SysrootFacts, sysroot_target
from poetry_wheelguard.installed import find_distributions
from poetry_wheelguard.models import SEVERITY_RANK, NormalizedName
from poetry_wheelguard.render import packages_line, render_findings, render_table, verified_line
from poetry_wheelguard.report import Report, check_report_path, now_iso, write_json_atomic
from poetry_wheelguard.scan import (
    build_context,
    index_findings,
    package_record,
    verify_distribution,
)
from poetry_wheelguard.targets import probe_interpreter, running_target


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pip-guard verify",
        description="Check every compiled file of an installed environment against the "
        "interpreter and libc that will load it.")
    parser.add_argument("--python", metavar="PATH",
                        help="verify this interpreter's site-packages (probed, not imported)")
    parser.add_argument("--path", metavar="DIR", action="append",
                        help="verify the distributions in this site directory (repeatable)")
    parser.add_argument("--sysroot", metavar="ROOT",
                        help="resolve libraries inside this image root; its libc is the "
                             "target's")
    parser.add_argument("--libc", choices=("glibc", "musl"), default=None,
                        help="with --sysroot: the image's libc, when it holds both glibc and "
                             "musl and neither its Python nor /bin/sh tells which is the "
                             "system's")
    parser.add_argument("--package", metavar="NAME", action="append",
                        help="verify only this distribution (repeatable)")
    parser.add_argument("--ld-library-path", metavar="PATHS",
                        help="search these directories as LD_LIBRARY_PATH (never taken from "
                             "the environment)")
    parser.add_argument("--no-cache", action="store_true",
                        help="read every file again (no facts cache; see docs/codes.md)")
    parser.add_argument("--index", metavar="URL",
                        help="also apply the install policy (PURE_FALLBACK, "
                             "IGNORED_COMPATIBLE_WHEEL) against this index (network)")
    add_global_options(parser, suppress=True)
    return parser


def run_verify(ns: argparse.Namespace, argv: list[str]) -> int:
    """``pip-guard verify``: returns the exit code (see the module docstring).

    Raises:
        ConfigError: a bad ``--mode`` or config value (the caller prints it, exit 64).
        WheelguardError: unusable input (exit 12).
    """
    try:
        args = _parser().parse_args(argv, namespace=ns)
    except SystemExit as exc:
        return exitcodes.OK if exc.code == 0 else exitcodes.USAGE
    started_at = now_iso()
    config = config_from_namespace(args)
    if args.sysroot and not args.path:
        print("pip-guard: error: --sysroot needs --path DIR (the image's site-packages)",
              file=sys.stderr)
        return exitcodes.USAGE
    if args.libc and not args.sysroot:
        print("pip-guard: error: --libc needs --sysroot ROOT (without it, the interpreter "
              "tells its libc)", file=sys.stderr)
        return exitcodes.USAGE
    if config.report:  # before the run, as every other command: exit 64, not 12 at the end
        check_report_path(config.report)
    started = time.perf_counter()
    root = os.path.abspath(args.sysroot) if args.sysroot else "/"
    sys_facts: SysrootFacts | None = None
    if args.sysroot:
        target, sys_facts = sysroot_target(root, args.path, args.libc)
        if sys_facts.other_libc:
            print(f"pip-guard: note: the sysroot holds {sys_facts.libc} and "
                  f"{sys_facts.other_libc}; verifying against {sys_facts.libc} "
                  f"({sys_facts.libc_source})", file=sys.stderr)
    elif args.python:
        target = probe_interpreter(args.python)
    else:
        target = running_target()
    if args.path:
        for d in args.path:
            if not os.path.isdir(d):
                raise WheelguardError("not a directory; pass a site-packages directory",
                                      filename=d)
        sites = list(args.path)
    else:
        sites = list(dict.fromkeys(p for p in (target.purelib, target.platlib) if p))
    store = FactsCache(None if args.no_cache else cache_file(root, sites, target.executable))
    ctx = build_context(target, root, interp=sys_facts.interp if sys_facts else None,
                        libc_path=sys_facts.libc_path if sys_facts else None,
                        ld_library_path=args.ld_library_path, store=store)
    dists = find_distributions(sites, args.package,
                               link_root=args.sysroot or None)
    if not dists and not args.package:
        # Nothing where the target says packages go (a probe that named the wrong scheme,
        # a wrong --path): checking nothing is no pass.
        raise WheelguardError(
            f"found no installed distribution (*.dist-info) in {', '.join(sites) or '(none)'}"
            ", where the target installs packages: nothing was verified; check that "
            "--python (ENV/bin/python) or --path (its site-packages) names the environment "
            "you meant",
            filename=target.executable or None)
    if args.package:
        unknown = sorted(set(map(_norm, args.package)) - {d.name for d in dists})
        if unknown and not dists:
            raise WheelguardError(f"not installed in {', '.join(sites)}",
                                  package=", ".join(unknown))
        for name in unknown:
            print(f"pip-guard: note: {name} is not installed in {', '.join(sites)}",
                  file=sys.stderr)
    policy = index_findings(dists, target, config, args.index) if args.index else {}
    records = []
    for dist in dists:
        findings, record = verify_distribution(dist, ctx)
        findings += policy.get(dist.name, [])
        findings.sort(key=lambda f: -SEVERITY_RANK[f.severity])
        records.append(package_record(dist, findings, record, config.strict))
    errors = sum(1 for r in records for f in r.findings if f.severity == "error")
    code = exitcodes.VERIFY_ERRORS if errors and config.strict else exitcodes.OK
    elapsed = time.perf_counter() - started
    summary = {
        "sites": sites, "sysroot": None if root == "/" else root,
        "loader": {"flavour": ctx.loader.config.flavour, "interp": ctx.loader.config.interp,
                   "cache": ctx.loader.config.cache_file or None,
                   "default_dirs": list(ctx.loader.config.default_dirs)},
        "distributions": len(records),
        "elf_files": sum((r.verification or {}).get("elf_files", 0) for r in records),
        "errors": errors,
        "warnings": sum(1 for r in records for f in r.findings if f.severity == "warning"),
        "seconds": round(elapsed, 3),
        "cache": {"file": str(store.path) if store.path else None, "hits": store.hits,
                  "misses": store.misses},
    }
    store.save()
    if config.report:
        report = Report(command="verify", mode=config.mode, target=target.summary(),
                        packages=records, exit_code=code, started=started_at,
                        extra={"verification": summary})
        write_json_atomic(config.report, report.to_json())
    render_findings(records, sys.stdout)
    render_table(records, sys.stdout, title=f"pip-guard verify: {target.name}")
    print(verified_line(summary["elf_files"], len(records), errors, summary["warnings"]),
          file=sys.stdout)
    print(packages_line(records), file=sys.stdout)
    return code


def _norm(name: str) -> NormalizedName:
    from poetry_wheelguard.distfiles import normalize

    return normalize(name)
