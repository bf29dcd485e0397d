"""The ``pip-guard`` command line: global options, then a command.

    pip-guard [--mode warn|strict] [--report PATH] [--config PATH] [--allow-sdist NAME]...
              [--allow-pure NAME]... [--no-build] [--no-verify] COMMAND ...

``install`` passes every argument after it to ``pip install`` unchanged; ``verify``,
``plan`` and ``diff`` have options of their own (``pip-guard COMMAND --help``) and accept the
global options after the command too. Errors print one line, ``pip-guard: error: ...``,
and exit with a code from :mod:`poetry_wheelguard.exitcodes`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable

from poetry_wheelguard import __version__, exitcodes
from poetry_wheelguard.config import Config, load_config
from poetry_wheelguard.errors import ConfigError, WheelguardError

COMMANDS = ("install", "verify", "plan", "diff")


def add_global_options(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    """Add the options every command shares. With ``suppress``, absent options leave no
    attribute, so a command's own parser does not overwrite values given before it."""
    default: Any = argparse.SUPPRESS if suppress else None
    parser.add_argument("--mode", choices=("warn", "strict"), default=default,
                        help="warn: log and report; strict: refuse and exit non-zero")
    parser.add_argument("--report", metavar="PATH", default=default,
                        help="write the JSON report (wheelguard-report/1) to PATH")
    parser.add_argument("--config", metavar="PATH", default=default,
                        help="read [tool.wheelguard] from this pyproject.toml")
    parser.add_argument("--allow-sdist", metavar="NAME", action="append",
                        default=default, help="accept sdist builds of this project")
    parser.add_argument("--allow-pure", metavar="NAME", action="append",
                        default=default, help="accept pure wheels of this project")
    parser.add_argument("--no-build", action="store_true",
                        default=argparse.SUPPRESS if suppress else False,
                        help="refuse every sdist build, expected or not")
    parser.add_argument("--no-verify", action="store_true",
                        default=argparse.SUPPRESS if suppress else False,
                        help="skip the compiled-file verification after install")


@dataclass(frozen=True)
class Invocation:
    """A parsed command line: the resolved config, the command and its own arguments."""

    config: Config
    command: str
    argv: tuple[str, ...]


def config_from_namespace(ns: argparse.Namespace) -> Config:
    """Resolve the config from pyproject.toml, ``WHEELGUARD_*`` and the parsed flags.

    Raises:
        ConfigError: as :func:`poetry_wheelguard.config.load_config`.
    """
    flags: dict[str, Any] = {
        "mode": getattr(ns, "mode", None),
        "report": getattr(ns, "report", None),
        "allow-sdist": getattr(ns, "allow_sdist", None),
        "allow-pure": getattr(ns, "allow_pure", None),
        "no-build": True if getattr(ns, "no_build", False) else None,
        "verify": False if getattr(ns, "no_verify", False) else None,
    }
    return load_config(config_path=getattr(ns, "config", None), flags=flags)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pip-guard",
        description="Log the file every package is installed from, refuse silent sdist builds "
        "and pure-Python fallbacks, verify compiled files against the target interpreter.",
        epilog="commands: install (pip install arguments follow), verify, plan, diff",
    )
    parser.add_argument("--version", action="version", version=f"pip-guard {__version__}")
    add_global_options(parser)
    parser.add_argument("command", choices=COMMANDS)
    return parser


def split_argv(argv: Sequence[str]) -> tuple[list[str], str | None, list[str]]:
    """Split ``argv`` at the command word: ``(global args, command, command args)``.

    A word that is the value of a global option (``--report install``) is not the command.
    """
    takes_value = {"--mode", "--report", "--config", "--allow-sdist", "--allow-pure"}
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
        from poetry_wheelguard.verify_cli import run_verify

        return run_verify
    if command == "plan":
        from poetry_wheelguard.plan import run_plan

        return run_plan
    from poetry_wheelguard.diff import run_diff

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
        config_from_namespace(ns)  # a bad config fails here, before any command starts
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
