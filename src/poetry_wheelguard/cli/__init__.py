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
import errno
import io
import os
import sys
from collections.abc import Sequence
from typing import Any, Callable, TextIO, cast

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


def _to_devnull(*streams: Any) -> None:
    """Point the file descriptors of ``streams`` at ``os.devnull`` (Python's recipe, "Note
    on SIGPIPE" in the ``signal`` docs): later writes, and the flush at interpreter exit,
    then go nowhere instead of raising or printing "Exception ignored"."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for stream in streams:
            try:
                os.dup2(devnull, stream.fileno())
            except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
                continue  # no file descriptor (a replaced stream): nothing to point
    finally:
        os.close(devnull)


class _Stdout:
    """Standard output of every command but ``install``, guarded once for all: a reader
    that went away (``| head -1``: ``EPIPE``) silences the rest of the output and the
    command finishes (its report written, its exit code kept); any other write error (a
    full device: ``ENOSPC``; a closed descriptor: ``EBADF``) becomes one
    :class:`WheelguardError` line, exit 12. Every other attribute is the wrapped stream's."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._gone = False

    def _guard(self, action: Callable[[], Any]) -> Any:
        if self._gone:
            return None
        try:
            return action()
        except BrokenPipeError:
            self._gone = True
            _to_devnull(self._stream)
            return None
        except OSError as exc:
            self._gone = True
            _to_devnull(self._stream)
            raise WheelguardError(f"cannot write to standard output "
                                  f"({exc.strerror or errno.errorcode.get(exc.errno or 0, exc)})"
                                  ) from exc

    def write(self, text: str) -> int:
        """Write ``text`` (``len(text)`` once the reader went away)."""
        self._guard(lambda: self._stream.write(text))
        return len(text)

    def flush(self) -> None:
        """Flush the wrapped stream."""
        self._guard(self._stream.flush)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _guard_output() -> Callable[[], None]:
    """Guard ``sys.stdout`` (:class:`_Stdout`); characters the output encoding cannot hold
    (``PYTHONIOENCODING=ascii``, a non-ASCII name) are written as backslash escapes; a closed
    standard output (``>&-``, ``sys.stdout is None``) is ``os.devnull``. Returns the undo."""
    saved = sys.stdout
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    raw = sys.stdout if sys.stdout is not None else open(os.devnull, "w")  # noqa: SIM115
    sys.stdout = cast(TextIO, _Stdout(raw))

    def undo() -> None:
        sys.stdout = saved
    return undo


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``pip-guard`` and ``python -m poetry_wheelguard``; returns the exit code.

    Every command but ``install`` writes through a guarded standard output
    (:func:`_guard_output`): a closed pipe is silence, any other write error one line and
    exit 12, never a traceback. ``install`` leaves the streams to pip and handles a closed
    pipe itself (:mod:`poetry_wheelguard.pip.cli`).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    head, command, rest = split_argv(args)
    parser = _parser()
    try:
        ns = parser.parse_args([*head, command] if command else head)
    except SystemExit as exc:  # argparse already printed its one-line usage error
        return exitcodes.OK if exc.code == 0 else exitcodes.USAGE
    assert command is not None
    undo = _guard_output() if command != "install" else (lambda: None)
    try:
        config = config_from_namespace(ns)  # a bad config fails here, before any command
        if command == "install" and ns.python:
            from poetry_wheelguard.pip.outside import run_outside, strip_option, strip_python

            head = strip_python(head)
            if ns.sbom:
                head = strip_option(head, "--sbom")
            return run_outside(ns.python, head, command, rest, sbom=config.sbom,
                               report=config.report)
        code = _dispatch(command)(ns, rest)
        sys.stdout.flush()
        return code
    except ConfigError as exc:
        _error(f"pip-guard: error: {exc}")
        return exitcodes.USAGE
    except WheelguardError as exc:
        _error(f"pip-guard: error: {exc}")
        return exitcodes.INPUT_ERROR
    except KeyboardInterrupt:
        _error("pip-guard: interrupted")
        return exitcodes.INTERRUPTED
    finally:
        undo()


def _error(line: str) -> None:
    """Print ``line`` to stderr; a closed stderr is silence."""
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        _to_devnull(sys.stderr)
