"""The ``pip-guard`` command line: global options, then a command.

    pip-guard [--python PATH] [--mode warn|strict] [--report PATH] [--sbom PATH]
              [--config PATH] [--allow-sdist NAME]... [--allow-pure NAME]... [--no-build]
              [--no-verify] COMMAND ...

``--python PATH`` guards the environment of another interpreter from outside it:
``install`` runs there with that interpreter's own pip (:mod:`poetry_wheelguard.pip.outside`),
``verify`` checks that interpreter's site-packages, ``plan`` plans for it when no
``--target`` is given.

``install`` passes every argument after it to ``pip install`` unchanged, ``uv`` every
argument after it to ``uv sync`` / ``uv pip install``; ``verify``,
``plan`` and ``diff`` have options of their own (``pip-guard COMMAND --help``) and accept the
global options after the command too. Errors print one line, ``pip-guard: error: ...``,
and exit with a code from :mod:`poetry_wheelguard.exitcodes`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Callable

from poetry_wheelguard import __version__, exitcodes
from poetry_wheelguard.cli.options import add_global_options, config_from_namespace
from poetry_wheelguard.errors import ConfigError, WheelguardError

COMMANDS = ("install", "verify", "plan", "diff", "audit", "uv")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pip-guard",
        description="Log the file every package is installed from, refuse silent sdist builds "
        "and pure-Python fallbacks, verify compiled files against the target interpreter.",
        epilog="commands: install (pip install arguments follow), verify, plan, diff, audit, "
        "uv (uv sync / uv pip install arguments follow)",
    )
    parser.add_argument("--version", action="version", version=f"pip-guard {__version__}")
    parser.add_argument("--python", metavar="PATH",
                        help="guard the environment of the interpreter at PATH (install runs "
                             "its own pip; verify and plan take it as their target)")
    add_global_options(parser)
    parser.add_argument("command", choices=COMMANDS)
    return parser


def split_argv(argv: Sequence[str]) -> tuple[list[str], str | None, list[str]]:
    """Split ``argv`` at the command word: ``(global args, command, command args)``.

    A word that is the value of a global option (``--report install``) is not the command.
    """
    takes_value = {"--mode", "--report", "--sbom", "--config", "--allow-sdist", "--allow-pure",
                   "--python"}
    i = 0
    while i < len(argv):
        word = argv[i]
        if word in COMMANDS:
            return list(argv[:i]), word, list(argv[i + 1 :])
        i += 2 if word in takes_value else 1
    return list(argv), None, []


def _dispatch(command: str) -> Callable[[argparse.Namespace, list[str]], int]:
    # Imported lazily: `pip-guard verify` never imports pip, `install` never imports pyelftools
    # before pip needs it.
    if command == "install":
        from poetry_wheelguard.pip.cli import run_install

        return run_install
    if command == "verify":
        from poetry_wheelguard.cli.verify import run_verify

        return run_verify
    if command == "uv":
        from poetry_wheelguard.uv.cli import run_uv

        return run_uv
    if command == "plan":
        from poetry_wheelguard.cli.plan import run_plan

        return run_plan
    if command == "audit":
        from poetry_wheelguard.cli.audit import run_audit

        return run_audit
    from poetry_wheelguard.cli.diff import run_diff

    return run_diff


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``pip-guard`` and ``python -m poetry_wheelguard``; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    head, command, rest = split_argv(args)
    parser = _parser()
    try:
        ns = parser.parse_args([*head, command] if command else head)
    except SystemExit as exc:  # argparse already printed its one-line usage error
        return exitcodes.OK if exc.code == 0 else exitcodes.USAGE
    assert command is not None
    try:
        config = config_from_namespace(ns)  # a bad config fails here, before any command
        if command == "install" and ns.python:
            from poetry_wheelguard.pip.outside import run_outside, strip_option, strip_python

            head = strip_python(head)
            if ns.sbom:
                head = strip_option(head, "--sbom")
            return run_outside(ns.python, head, command, rest, sbom=ns.sbom,
                               report=config.report)
        return _dispatch(command)(ns, rest)
    except ConfigError as exc:
        print(f"pip-guard: error: {exc}", file=sys.stderr)
        return exitcodes.USAGE
    except WheelguardError as exc:
        print(f"pip-guard: error: {exc}", file=sys.stderr)
        return exitcodes.INPUT_ERROR
    except KeyboardInterrupt:
        print("pip-guard: interrupted", file=sys.stderr)
        return 130
