"""Exit codes of ``pip-guard`` and of the Poetry plugin's commands (docs/exit-codes.md).

pip's own failures keep pip's own exit code (1 for an install error, 2 for pip's usage
error, 23 for pip's "no matching distribution"...): the guard's codes are chosen apart.
"""

OK = 0
"""Success: nothing refused; warnings may have been printed."""

REFUSED = 10
"""Strict mode refused a distribution file before download, build or install."""

VERIFY_ERRORS = 11
"""Strict mode: verification found an error in an installed compiled file."""

INPUT_ERROR = 12
"""Bad input: unreachable or malformed index, unknown package, unreadable report or lock."""

USAGE = 64
"""Bad command line, config file or ``WHEELGUARD_*`` variable (``EX_USAGE``)."""

INTERNAL = 70
"""A failure inside poetry-wheelguard itself (``EX_SOFTWARE``); please report it."""

INTERRUPTED = 130
"""Interrupted (Ctrl-C, SIGINT): 128 + the signal number, as shells report it."""
