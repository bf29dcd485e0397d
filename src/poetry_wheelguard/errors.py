"""The one error root of poetry-wheelguard.

Every foreign error (pip, Poetry, pyelftools, OS, TOML, network) that should reach a user is
translated into a :class:`WheelguardError` at one place, with ``raise ... from exc``, so the
command line can print one clear line and exit with a documented code instead of a
traceback.
"""

from __future__ import annotations


class WheelguardError(Exception):
    """A failure the user can act on.

    Attributes:
        reason: one line saying what went wrong and what to do.
        package: the PEP 503 normalized project name involved, if any.
        filename: the file (distribution file, ELF file, config file) involved, if any.
    """

    def __init__(
        self, reason: str, *, package: str | None = None, filename: str | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.package = package
        self.filename = filename

    def __str__(self) -> str:
        where = ", ".join(x for x in (self.package, self.filename) if x)
        return f"{where}: {self.reason}" if where else self.reason


class ConfigError(WheelguardError):
    """Bad ``[tool.wheelguard]`` table, ``WHEELGUARD_*`` variable or flag (usage exit code)."""


class ProbeError(WheelguardError):
    """A target interpreter could not be probed (missing, not Python, probe failed)."""


class IndexFetchError(WheelguardError):
    """An index could not be read: unreachable, malformed page, unknown project."""


class RefusedError(WheelguardError):
    """Strict mode refused a distribution file before it was downloaded, built or installed."""


class VerifyError(WheelguardError):
    """Post-install verification could not run, or failed outside its own findings.

    Attributes:
        exit_code: the verifying process's exit code (any but 0 and 11; 0 or 11 when it
            wrote no readable report); ``70`` (``exitcodes.INTERNAL``) when it could not be
            started.
    """

    def __init__(self, reason: str, *, exit_code: int) -> None:
        super().__init__(reason)
        self.exit_code = exit_code
