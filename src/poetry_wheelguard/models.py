"""Frozen data shared by the core and every adapter.

Nothing here does I/O. Adapters (pip, Poetry) turn their installer's objects into a
:class:`Selection`; the policy turns a selection, a :class:`~poetry_wheelguard.targets.Target`
and a :class:`~poetry_wheelguard.config.Config` into :class:`Finding` objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from poetry_wheelguard.distfiles import (
    DistFile,
    DistKind,
    NormalizedName,
    WheelFlavour,
    try_classify,
)

__all__ = ["SEVERITY_RANK", "Candidate", "DistKind", "Finding", "NormalizedName",
           "PackageRecord", "Selection", "Severity", "Verdict", "WheelFlavour"]

Severity = Literal["info", "warning", "error"]
"""Severity of a finding; the mode (warn/strict) decides what an error does."""

Verdict = Literal["ok", "warn", "refused"]
"""Per-package verdict in a report."""

SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}


@dataclass(frozen=True)
class Finding:
    """One thing the guard noticed about a package or one of its files.

    Attributes:
        code: stable upper-case code, e.g. ``PURE_FALLBACK`` (listed in docs/codes.md).
        severity: ``info``, ``warning`` or ``error``.
        message: one line, naming the package or file.
        hint: one line saying what to do, or ``""``.
        path: the installed file the finding is about (verify findings), else ``None``.
    """

    code: str
    severity: Severity
    message: str
    hint: str = ""
    path: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the report form ``{code, severity, message, hint[, path]}``."""
        out: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
        }
        if self.path is not None:
            out["path"] = self.path
        return out


@dataclass(frozen=True)
class Candidate:
    """A distribution file an index (or find-links location) lists for a project.

    Attributes:
        filename: the file's name, e.g. ``aiohttp-3.6.2-py3-none-any.whl``.
        url: where it is served, credentials already removed (see ``report.redact_url``).
        sha256: hex digest from the index's URL fragment or PEP 691 ``hashes``, if given.
        rejected_reason: the installer's own reason for passing it over, if it said one
            (pip's ``LinkEvaluator`` reason such as ``none of the wheel's tags ...``).
        requires_python: the index's ``data-requires-python`` value, if any.
        yanked: PEP 592 yank flag from the index.
        dist: the file name's :class:`~poetry_wheelguard.distfiles.DistFile` (``None``
            for a name that is no wheel or sdist), parsed once: when not given, from
            ``filename`` at construction; every consumer reads it from here.
        core_metadata: PEP 658/714: the index serves the file's core metadata at
            ``url + ".metadata"``: the sha256 hex digest it gives for it, ``""`` when it
            gives none; ``None`` when the index offers no metadata file.
    """

    filename: str
    url: str = ""
    sha256: str | None = None
    rejected_reason: str | None = None
    requires_python: str | None = None
    yanked: bool = False
    dist: DistFile | None = field(default=None, compare=False, repr=False)
    core_metadata: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.dist is None and self.filename:
            object.__setattr__(self, "dist", try_classify(self.filename))


@dataclass(frozen=True)
class Selection:
    """The installer's choice for one project, as an adapter hands it to the core.

    Attributes:
        name: PEP 503 normalized project name.
        version: the version string the installer chose.
        chosen: the file the installer chose (its ``filename``, ``url``, ``sha256``).
        candidates: every file the index lists for that version (compatible or not),
            the chosen one included; empty when unknown.
        other_versions: for hints: ``{version: (filename, ...)}`` of other releases of the
            same project seen in the same listing. May be empty.
        index: the index or find-links base the file came from (credentials removed).
        first_party: a local directory, VCS or editable requirement (``pip install .``,
            ``-e``): never refused.
        built_locally: ``True`` when the installed wheel was (or will be) built from an
            sdist on this machine, ``False`` when downloaded, ``None`` when not known yet.
        specifier: the PEP 440 version specifier the user's requirement puts on the
            project (``>=0.25,<0.26`` for Poetry's ``^0.25``), ``""`` when unknown or
            unconstrained; hints name versions inside it first.
        others_known: ``other_versions`` holds every other release the index lists;
            ``False`` when they were not looked up (an offline poetry.lock plan knows only
            the lock's files), so "no other release has a compiled wheel" cannot be known.
        required_by: ``plan -r``: the planned packages whose ``Requires-Dist`` brought this
            one in (a transitive dependency the user did not list), ``()`` for a package
            the user required or pip's resolver added.
    """

    name: NormalizedName
    version: str
    chosen: Candidate
    candidates: tuple[Candidate, ...] = ()
    other_versions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    index: str = ""
    first_party: bool = False
    built_locally: bool | None = None
    specifier: str = ""
    others_known: bool = True
    required_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class PassedOver:
    """A file strict mode took out of the installer's choice, the installer then choosing
    another version (or another file) of the same project.

    Attributes:
        version: the version of the refused file.
        filename: the refused file (never downloaded or built).
        codes: the error codes that refused it (``PURE_FALLBACK``, ``SDIST_BUILD``...).
    """

    version: str
    filename: str
    codes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The report form ``{version, filename, codes}``."""
        return {"version": self.version, "filename": self.filename, "codes": list(self.codes)}


@dataclass
class PackageRecord:
    """What a report says of one package: the selection, its findings and its verdict.

    Mutable on purpose: adapters add verification findings after install. ``kind`` is
    ``None`` when no file of the release installs on the target (``plan``'s
    ``NO_DISTRIBUTION``; the chosen candidate's ``filename`` is then ``""``).
    """

    selection: Selection
    kind: DistKind | None
    tags: tuple[str, ...]
    pure: bool
    findings: list[Finding] = field(default_factory=list)
    verdict: Verdict = "ok"
    verification: dict[str, Any] | None = None
    passed_over: list[PassedOver] = field(default_factory=list)
