"""The install policy: a selection, a target and a config in; findings and a verdict out.

Pure functions: nothing here opens a file, starts a process or reads ``sys.*``. Both the pip
and the Poetry adapters, and ``plan``, call :func:`evaluate` with the same inputs.

Rules (codes are stable; docs/codes.md lists them with examples and fixes):

1. ``PURE_FALLBACK`` - the chosen file is a pure wheel (every tag ``*-none-any``, PEP 425)
   while the same release ships platform wheels for the target's OS and machine (for any
   interpreter and libc): the project has compiled code for this kind of machine, and this
   install runs without it. An **error** when a non-pure wheel compatible with the target
   exists: another file of this release, or a file of another release (the hint names the
   nearest, inside the requirement's specifier first): the user could have the compiled
   code. Otherwise a **warning** that says the project ships no compiled wheel for this
   interpreter (``tomli`` 2.5.0 on CPython 3.10: compiled wheels from cp311 on, in every
   release): the pure wheel is what upstream publishes for this interpreter, and strict
   mode must not refuse it. A release with no platform wheel gets no finding. Where the
   other releases were not looked up (``Selection.others_known`` false: an offline plan of
   a poetry.lock), the pure wheel is judged an error, as before, and the hint says why.
2. ``SDIST_BUILD`` - the chosen file is an sdist. An error where the release ships platform
   wheels for the target's OS and machine (for any interpreter: a build needs compilers and
   may drop the extension, whether or not a wheel exists elsewhere), or everywhere with
   ``no-build``; otherwise a warning (a project that ships no wheel for this machine is
   built as its authors intend). The hint says when no release has a wheel for this
   interpreter yet (a new CPython version).
3. ``IGNORED_COMPATIBLE_WHEEL`` - a non-pure wheel compatible with the target's own tags
   (``Target.tags``, from our ``packaging``, not the installer's) exists for that version,
   but the installer chose a file it ranks lower: an sdist or a pure wheel.
4. ``UNSUPPORTED_TAG`` - the chosen wheel has no tag the target supports (the installer's
   tag list is not the target's: Poetry computing a musl env's tags in its own glibc
   process). The same code ``verify`` gives an installed distribution.
5. Allow-lists (``allow-pure``, ``allow-sdist``, by PEP 503 name) turn rule 1-3 errors into
   warnings; first-party requirements (local directory, VCS, editable) are never judged.
6. ``PASSED_OVER`` (:func:`passed_over_finding`, for installers that can take a refused
   file out of their choice and resolve again) - in strict mode the installer chose an
   older version than a refused file's: without the guard it would have preferred the
   refused one, so the user gets another release than plain pip would give. A warning
   naming both versions (never silent: an older release that happens to have a wheel is
   still a different release). A refused file older than what was installed was only met
   while backtracking (plain pip went past it too) and gets no finding.
5. ``LOCK_MISSING_WHEEL`` (:func:`apply_lock`, for installers with a lock of file hashes such
   as poetry.lock) - a rule-3 wheel exists but its hash is not in the lock, so the installer
   could only take a lower file: the same finding, with the lock named as the cause.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from poetry_wheelguard.config import Config
from poetry_wheelguard.distfiles import DistFile, try_classify
from poetry_wheelguard.models import (
    SEVERITY_RANK,
    Finding,
    PackageRecord,
    PassedOver,
    Selection,
    Severity,
    Verdict,
)
from poetry_wheelguard.targets import Target

PURE_FALLBACK = "PURE_FALLBACK"
SDIST_BUILD = "SDIST_BUILD"
IGNORED_COMPATIBLE_WHEEL = "IGNORED_COMPATIBLE_WHEEL"
NO_DISTRIBUTION = "NO_DISTRIBUTION"
UNKNOWN_FILE = "UNKNOWN_FILE"
UNSUPPORTED_TAG = "UNSUPPORTED_TAG"
LOCK_MISSING_WHEEL = "LOCK_MISSING_WHEEL"
PASSED_OVER = "PASSED_OVER"


@dataclass(frozen=True)
class Evaluation:
    """What the policy says of one selection.

    Attributes:
        dist: the chosen file's facts (``None`` when its name is not a distribution file).
        findings: every finding, most severe first.
        verdict: ``ok``, ``warn`` or ``refused`` (``refused`` only in strict mode).
        platform_wheels: the release's platform wheels for the target's OS and machine.
        compatible_wheels: the release's non-pure wheels compatible with the target.
    """

    dist: DistFile | None
    findings: tuple[Finding, ...]
    verdict: Verdict
    platform_wheels: tuple[DistFile, ...]
    compatible_wheels: tuple[DistFile, ...]

    @property
    def refused(self) -> bool:
        """True when strict mode refuses this file."""
        return self.verdict == "refused"


def verdict_for(findings: Iterable[Finding], strict: bool) -> Verdict:
    """``refused`` if any error in strict mode, ``warn`` if any warning or error, else ``ok``."""
    worst = max((SEVERITY_RANK[f.severity] for f in findings), default=0)
    if worst >= SEVERITY_RANK["error"] and strict:
        return "refused"
    return "warn" if worst >= SEVERITY_RANK["warning"] else "ok"


def _release_files(selection: Selection) -> list[DistFile]:
    files = [c.dist for c in selection.candidates]
    return [f for f in files if f is not None]


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _specifier(text: str) -> SpecifierSet | None:
    """The requirement's specifier, or ``None`` when it says nothing a hint can use: empty,
    invalid, or an exact pin (``==1.9.1``: only the chosen version is inside it, so "the
    nearest version inside" would always be none)."""
    try:
        spec = SpecifierSet(text)
    except InvalidSpecifier:
        return None
    if any(s.operator == "===" or (s.operator == "==" and "*" not in s.version)
           for s in spec):
        return None
    return spec if str(spec) else None


@dataclass(frozen=True)
class WheelVersions:
    """Where the project's non-pure wheels compatible with a target are, release by release
    (:func:`wheel_versions`).

    Attributes:
        newer, older: the nearest newer and older versions that have one, over all releases.
        inside_newer, inside_older: the same among versions inside the requirement's
            specifier (``None`` without a specifier, or when none inside has one).
        specifier: the requirement's specifier, ``""`` when none applies.
        machine_wheels: some other release has a platform wheel for the target's OS and
            machine (for any interpreter).
    """

    newer: Version | None
    older: Version | None
    inside_newer: Version | None
    inside_older: Version | None
    specifier: str
    machine_wheels: bool

    @property
    def any(self) -> bool:
        """Some other release has a compatible non-pure wheel."""
        return self.newer is not None or self.older is not None


def wheel_versions(selection: Selection, target: Target) -> WheelVersions:
    """Scan ``selection.other_versions`` for releases with a non-pure wheel compatible with
    ``target`` (its PEP 425 tags). Pre-releases count only when the chosen version is one;
    producers leave yanked files (PEP 592) out of ``other_versions``.
    """
    chosen = _version(selection.version)
    spec = _specifier(selection.specifier)
    found: list[Version] = []
    machine_wheels = False
    for ver_s, filenames in selection.other_versions:
        ver = _version(ver_s)
        if ver is None or chosen is None or ver == chosen:
            continue
        if ver.is_prerelease and not chosen.is_prerelease:
            continue
        files = [f for f in (try_classify(n) for n in filenames) if f and not f.pure
                 and f.kind == "wheel"]
        machine_wheels = machine_wheels or any(
            f.matches_machine(target.os, target.machine) for f in files)
        if any(target.rank(f.tags) is not None for f in files):
            found.append(ver)

    def nearest(versions: Iterable[Version]) -> tuple[Version | None, Version | None]:
        vs = list(versions)
        newer = min((v for v in vs if chosen is not None and v > chosen), default=None)
        older = max((v for v in vs if chosen is not None and v < chosen), default=None)
        return newer, older

    newer, older = nearest(found)
    inside_newer, inside_older = nearest(v for v in found if spec is not None
                                         and spec.contains(v, prereleases=True))
    return WheelVersions(newer, older, inside_newer, inside_older, str(spec or ""),
                         machine_wheels)


def nearest_wheel_versions(
    selection: Selection, target: Target
) -> tuple[Version | None, Version | None]:
    """The nearest newer and older versions of the project that ship a non-pure wheel
    compatible with ``target``, from ``selection.other_versions`` (:func:`wheel_versions`).
    Returns ``(newer, older)``."""
    found = wheel_versions(selection, target)
    return found.newer, found.older


def version_hint(selection: Selection, target: Target,
                 found: WheelVersions | None = None) -> str:
    """The hint naming the nearest versions with a wheel for ``target``, ``""`` when there
    is none. With a requirement specifier, versions inside it come first; when none inside
    it has a wheel, the hint says so and names the nearest outside it."""
    found = found or wheel_versions(selection, target)
    name = selection.name

    def parts(newer: Version | None, older: Version | None) -> list[str]:
        out = []
        if newer is not None:
            out.append(f"{name} {newer}+ has a wheel for {target.name}")
        if older is not None:
            out.append(f"{older} is the newest older version with one")
        return out

    if not found.specifier:
        return "; ".join(parts(found.newer, found.older))
    inside = parts(found.inside_newer, found.inside_older)
    if inside:
        return "; ".join(inside) + f" (inside {found.specifier})"
    outside = parts(found.newer, found.older)
    if not outside:
        return ""
    return (f"no version inside {found.specifier} has a wheel for {target.name}; outside "
            "it, " + "; ".join(outside))


def _no_wheel_yet(selection: Selection, target: Target) -> str:
    return (f"no release of {selection.name} has a wheel for {target.interpreter} "
            f"({target.name}) yet")


def _join_hints(*hints: str) -> str:
    return "; or ".join(h for h in hints if h)


def _names(files: Sequence[DistFile], limit: int = 4) -> str:
    names = sorted(f.filename for f in files)
    more = f" (+{len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def evaluate(selection: Selection, target: Target, config: Config) -> Evaluation:
    """Apply the rules of this module to one selection.

    ``selection.candidates`` should hold every file the index lists for the chosen
    version, compatible or not; with none, only the chosen file's own kind is judged.
    Never raises for odd file names: a chosen name that is not a distribution file gives an
    ``UNKNOWN_FILE`` info finding.
    """
    if selection.first_party:
        return Evaluation(None, (), "ok", (), ())
    dist = selection.chosen.dist
    if dist is None:
        info = Finding(UNKNOWN_FILE, "info",
                       f"{selection.name}: {selection.chosen.filename!r} is not a wheel or sdist")
        return Evaluation(None, (info,), "ok", (), ())

    release = [f for f in _release_files(selection) if f.filename != dist.filename]
    platform_wheels = tuple(
        f for f in release
        if f.kind == "wheel" and not f.pure and f.matches_machine(target.os, target.machine)
    )
    compatible = tuple(
        f for f in release
        if f.kind == "wheel" and not f.pure and target.rank(f.tags) is not None
    )
    name = selection.name
    label = f"{name} {selection.version}"
    findings: list[Finding] = []

    def sev(allowed: bool, error: bool = True) -> Severity:
        return "warning" if allowed or not error else "error"

    # 0. A chosen wheel none of whose tags the target supports: the installer computed the
    #    target's tags differently (Poetry asking another interpreter, a stale cache).
    if dist.kind == "wheel" and target.rank(dist.tags) is None:
        findings.append(Finding(
            UNSUPPORTED_TAG, "error",
            f"{label}: the installer chose {dist.filename}, none of whose tags "
            f"{target.name} supports",
            "run the installer with the target interpreter, or upgrade the installer",
        ))

    # Where a wheel for the target is: in this very release (the installer passed it over:
    # IGNORED_COMPATIBLE_WHEEL below says so), else the nearest versions that have one.
    elsewhere = wheel_versions(selection, target)
    if compatible:
        best_here = min(compatible, key=lambda f: target.rank(f.tags) or 0)
        where_hint = f"this release has {best_here.filename} for {target.name}"
    else:
        where_hint = version_hint(selection, target, elsewhere)

    if dist.pure:
        allowed = name in config.allow_pure
        allow_hint = "" if allowed else f'add "{name}" to allow-pure to accept the pure wheel'
        allowed_note = " (allowed by allow-pure)" if allowed else ""
        if platform_wheels and (compatible or elsewhere.any or not selection.others_known):
            # Rule 1, error: the user could have a compiled wheel for this target (or, with
            # the other releases not looked up, may have: judged as before, and said).
            unknown = "" if compatible or elsewhere.any else (
                "other releases were not looked up (an offline plan of a lock): one may "
                "have a wheel for this target")
            findings.append(Finding(
                PURE_FALLBACK, sev(allowed),
                f"{label}: pure wheel {dist.filename} chosen, but the release has platform "
                f"wheels for {target.os} {target.machine}: {_names(platform_wheels)}"
                + allowed_note,
                _join_hints(where_hint, unknown, allow_hint),
            ))
        elif platform_wheels:
            # Rule 1, warning: compiled wheels exist only for other interpreters.
            findings.append(Finding(
                PURE_FALLBACK, "warning",
                f"{label}: pure wheel {dist.filename} chosen; the project ships no compiled "
                f"wheel for {target.interpreter} ({target.name}) in any release it lists, "
                f"only for other interpreters: {_names(platform_wheels)}{allowed_note}",
                "this pure wheel is what the project publishes for this interpreter: "
                "nothing to do",
            ))
    elif dist.kind == "sdist":
        allowed = name in config.allow_sdist
        expected = bool(platform_wheels)
        allow_hint = "" if allowed else f'add "{name}" to allow-sdist to accept the build'
        if expected:
            why = f"the release has platform wheels for {target.os} {target.machine}: " \
                  f"{_names(platform_wheels)}"
        else:
            why = f"the release has no wheel for {target.os} {target.machine}" + (
                " and --no-build is set" if config.no_build else "")
        if not compatible and not elsewhere.any and (platform_wheels
                                                     or elsewhere.machine_wheels):
            where_hint = _no_wheel_yet(selection, target)
        findings.append(Finding(
            SDIST_BUILD, sev(allowed, expected or config.no_build),
            f"{label}: sdist {dist.filename} would be built locally; {why}"
            + (" (allowed by allow-sdist)" if allowed else ""),
            _join_hints(where_hint, allow_hint),
        ))

    # A compatible non-pure wheel always ranks above an sdist and above any pure wheel in
    # the PEP 425 order (``py3-none-any`` comes after every platform tag).
    if (dist.pure or dist.kind == "sdist") and compatible:
        allowed = name in (config.allow_sdist if dist.kind == "sdist" else config.allow_pure)
        best = min(compatible, key=lambda f: target.rank(f.tags) or 0)
        findings.append(Finding(
            IGNORED_COMPATIBLE_WHEEL, sev(allowed),
            f"{label}: the installer passed over {best.filename}, which is compatible with "
            f"{target.name}, and chose {dist.filename}",
            "upgrade the installer (pip >= 20.3 knows manylinux_2_x, pip >= 21.2 and "
            "Poetry >= 1.2 know musllinux), drop --no-binary, or refresh the mirror/lock",
        ))

    findings.sort(key=lambda f: -SEVERITY_RANK[f.severity])
    return Evaluation(dist, tuple(findings), verdict_for(findings, config.strict),
                      platform_wheels, compatible)


def apply_lock(
    selection: Selection,
    evaluation: Evaluation,
    target: Target,
    config: Config,
    locked_hashes: Collection[str],
    refresh_hint: str,
) -> Evaluation:
    """Rule 5: name a stale lock as the cause of an ignored compatible wheel.

    ``locked_hashes`` are the lock's hashes for the chosen release, ``"sha256:<hex>"``
    (poetry.lock ``files[].hash``). When the chosen file is an sdist or a pure wheel and a
    compatible non-pure wheel of the release (``evaluation.compatible_wheels``) has a sha256
    from the index that is not in the lock, the ``IGNORED_COMPATIBLE_WHEEL`` finding is
    replaced by ``LOCK_MISSING_WHEEL`` (same severity rule, ``refresh_hint`` as its hint) and
    the verdict is recomputed. A lock without sha256 hashes, or candidates without one,
    decide nothing: the evaluation is returned unchanged.
    """
    dist = evaluation.dist
    locked = {h.split(":", 1)[1].lower() for h in locked_hashes if h.startswith("sha256:")}
    if dist is None or not locked or not (dist.pure or dist.kind == "sdist"):
        return evaluation
    sha = {c.filename: (c.sha256 or "").lower() for c in selection.candidates}
    missing = [w for w in evaluation.compatible_wheels
               if sha.get(w.filename) and sha[w.filename] not in locked]
    if not missing:
        return evaluation
    best = min(missing, key=lambda f: target.rank(f.tags) or 0)
    name = selection.name
    allowed = name in (config.allow_sdist if dist.kind == "sdist" else config.allow_pure)
    finding = Finding(
        LOCK_MISSING_WHEEL, "warning" if allowed else "error",
        f"{name} {selection.version}: the index has {best.filename}, compatible with "
        f"{target.name}, but its hash is not in the lock, so {dist.filename} was chosen",
        refresh_hint,
    )
    findings = [f for f in evaluation.findings if f.code != IGNORED_COMPATIBLE_WHEEL]
    findings.append(finding)
    findings.sort(key=lambda f: -SEVERITY_RANK[f.severity])
    return replace(evaluation, findings=tuple(findings),
                   verdict=verdict_for(findings, config.strict))


def no_distribution(selection_name: str, version: str, hint: str) -> Finding:
    """The ``NO_DISTRIBUTION`` finding: nothing installable for the target (plan)."""
    return Finding(NO_DISTRIBUTION, "error",
                   f"{selection_name} {version}: no file of this release installs on the target",
                   hint)


def record_for(selection: Selection, evaluation: Evaluation) -> PackageRecord:
    """The report's :class:`PackageRecord` for a selection and its evaluation."""
    dist = evaluation.dist
    return PackageRecord(
        selection=selection,
        kind=dist.kind if dist else ("wheel" if selection.chosen.filename.endswith(".whl")
                                     else "sdist"),
        tags=dist.tag_strings if dist else (),
        pure=bool(dist and dist.pure),
        findings=list(evaluation.findings),
        verdict=evaluation.verdict,
    )


def passed_over_finding(name: str, installed: str,
                        passed: Sequence[PassedOver]) -> Finding | None:
    """The ``PASSED_OVER`` warning (rule 6) for ``name`` installed at version
    ``installed`` after strict mode took the ``passed`` files out of the installer's
    choice, or ``None`` when every refused file is of ``installed`` or an older version
    (met while backtracking). Versions compare by PEP 440."""
    have = _version(installed)
    newer = sorted((p for p in passed if have is not None and
                    (_version(p.version) or have) > have),
                   key=lambda p: _version(p.version) or Version("0"), reverse=True)
    if not newer:
        return None
    best = newer[0]
    codes = ", ".join(dict.fromkeys(c for p in newer for c in p.codes))
    return Finding(
        PASSED_OVER, "warning",
        f"{name} {installed} installed instead of {best.version}: strict mode refused "
        f"{best.filename} ({codes}) and the installer found a solution without it",
        f"to get {best.version}, allow-list {name} (allow-pure / allow-sdist) or run in "
        f"warn mode; pin {name}=={installed} to keep this version without this warning")
