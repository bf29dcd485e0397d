"""``pip-guard diff A.json B.json``: the command line of :mod:`poetry_wheelguard.diff`.

    pip-guard diff A.json B.json [--a-target NAME] [--b-target NAME] [--json] [--report PATH]

Exit codes: 0; 12 for an unreadable or invalid report; 64 for a bad command line.
"""

from __future__ import annotations

import argparse
import json
import sys

from poetry_wheelguard import exitcodes
from poetry_wheelguard.cli.options import add_global_options
from poetry_wheelguard.diff import diff_document, render_diff
from poetry_wheelguard.report import now_iso, write_json_atomic


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pip-guard diff",
        description="Compare two wheelguard reports (plan, install or verify): file kind, "
        "version, packages on one side only, compiled files.")
    parser.add_argument("a", metavar="A.json")
    parser.add_argument("b", metavar="B.json")
    parser.add_argument("--a-target", metavar="NAME", help="target of A (multi-target plan)")
    parser.add_argument("--b-target", metavar="NAME", help="target of B (multi-target plan)")
    parser.add_argument("--json", action="store_true", help="print the diff as JSON")
    add_global_options(parser, suppress=True)
    return parser


def run_diff(ns: argparse.Namespace, argv: list[str]) -> int:
    """``pip-guard diff``: print the table (or JSON), write ``--report``; exit 0, 12 for an
    unreadable or invalid report, 64 for a bad command line.

    Raises:
        WheelguardError: translated to exit code 12 by :func:`poetry_wheelguard.cli.main`.
    """
    started = now_iso()
    try:
        own = _parser().parse_args(argv)
    except SystemExit as exc:
        return exitcodes.OK if exc.code == 0 else exitcodes.USAGE
    mode = getattr(own, "mode", None) or getattr(ns, "mode", None) or "warn"
    report_path = getattr(own, "report", None) or getattr(ns, "report", None)
    doc, changes, la, lb, unchanged = diff_document(own.a, own.b, own.a_target,
                                                    own.b_target, mode, started)
    if own.json:
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        render_diff(changes, f"{own.a} ({la})" if la else own.a,
                    f"{own.b} ({lb})" if lb else own.b, unchanged, sys.stdout)
    if report_path:
        write_json_atomic(report_path, doc)
    return exitcodes.OK
