"""The only module that touches pip's objects: hook points and private attributes.

Every pip name the in-process mode depends on is one row of :data:`HOOK_POINTS` (the
methods :mod:`.hooks` wraps) or :data:`ACCESSORS` (the attributes it reads), each with the
pip versions that have it (a PEP 440 specifier; ``""``: every supported pip) and the
fallback used where it is missing. The accessor functions below read pip objects into
plain dataclasses (:class:`LinkInfo`, :class:`TargetFacts`, :class:`CandidateFacts`) and
record every name they could not find in a :class:`CheckNotes` (the session's), so a check that
could not run is named in the report (``degraded_checks``, docs/report.md) instead of being
skipped silently. :func:`probe` looks every row up in the installed pip without running
it (tests/test_pip_install.py asserts it finds all in each pip the tests run).

Imports only the standard library and pip (lazily), so :func:`probe` runs under any Python
that has pip.

One concern, one module, whatever its length: the table of pip names and their accessors.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Callable, Optional
from urllib.parse import unquote, urlsplit

CleanUrl = Callable[[str], str]


@dataclass(frozen=True)
class HookPoint:
    """A pip method the hooks wrap.

    Attributes:
        module: the module that defines ``owner``.
        owner: the class name.
        attr: the method name.
        params: the leading parameter names (after ``self``) the wrapper reads.
        required: without it the in-process mode cannot keep its promise (subprocess mode).
        pip: the pip versions that have it (PEP 440 specifier, ``""`` for all supported).
        fallback: what happens where it is missing.
    """

    module: str
    owner: str
    attr: str
    params: tuple[str, ...]
    required: bool = True
    pip: str = ""
    fallback: str = "the subprocess mode (pip install --dry-run --report, then pip install)"

    @property
    def label(self) -> str:
        """``LinkEvaluator.evaluate_link`` (for messages)."""
        return f"{self.owner}.{self.attr}"


OBSERVE = HookPoint("pip._internal.index.package_finder", "LinkEvaluator", "evaluate_link",
                    ("link",))
GATE = HookPoint("pip._internal.resolution.resolvelib.candidates", "LinkCandidate", "__init__",
                 ("link", "template", "factory", "name", "version"))
BACKSTOP = HookPoint("pip._internal.operations.prepare", "RequirementPreparer",
                     "prepare_linked_requirement", ("req",))
RESOLVED = HookPoint("pip._internal.resolution.resolvelib.resolver", "Resolver", "resolve",
                     (), required=False,
                     fallback="no strict pre-check; the report lists every decision taken")
OPTIONS = HookPoint("pip._internal.commands.install", "InstallCommand", "run",
                    ("options", "args"), required=False,
                    fallback="pip's --target/--prefix/--root/--dry-run are unknown to verify")
HOOK_POINTS = (OBSERVE, GATE, BACKSTOP, RESOLVED, OPTIONS)

CHECK_PRECHECK = "strict pre-check before pip's resolver"
CHECK_OPTIONS = "post-install verify skip rules (pip --target/--prefix/--root/--dry-run)"
CHECK_PASS_OVER = ("strict mode: a refused file is taken out of pip's choice and pip looks "
                   "for another solution")
CHECK_METADATA_ONLY = ("strict mode: after a pre-check refusal, the dependencies reached "
                       "through PEP 658 metadata are judged too")


@dataclass(frozen=True)
class Accessor:
    """A private or version-dependent pip attribute the hooks read.

    Attributes:
        module, owner, attr: where pip defines it (``owner.attr``).
        pip: the pip versions that have it (PEP 440 specifier, ``""`` for all supported).
        fallback: what is used where it is missing.
        check: the check that does not run (fully) without it.
    """

    module: str
    owner: str
    attr: str
    pip: str
    fallback: str
    check: str

    @property
    def label(self) -> str:
        """``Link._hashes`` (for messages and the report)."""
        return f"{self.owner}.{self.attr}"


_LINK = "pip._internal.models.link"
_IREQ = "pip._internal.req.req_install"
_FACTORY = "pip._internal.resolution.resolvelib.factory"
_FINDER = "pip._internal.index.package_finder"
_CACHE_SOURCE = "sdist origin of a wheel from pip's cache (backstop)"

LINK_HASHES = Accessor(_LINK, "Link", "_hashes", ">=22.3",
                       "Link.hash_name/Link.hash (the URL fragment's hash only)",
                       "sha256 given only in an index's PEP 691 hashes")
GIVEN_PY_VERSION = Accessor("pip._internal.models.target_python", "TargetPython",
                            "_given_py_version_info", "",
                            "pip --python-version alone is not seen as a custom target",
                            "target from pip --python-version")
CACHED_WHEEL_SOURCE = Accessor(_IREQ, "InstallRequirement", "cached_wheel_source_link",
                               ">=24", "InstallRequirement.download_info.url", _CACHE_SOURCE)
SOURCE_LINK = Accessor(_IREQ, "InstallRequirement", "source_link", ">=26",
                       "InstallRequirement.cached_wheel_source_link", _CACHE_SOURCE)
DOWNLOAD_INFO = Accessor(_IREQ, "InstallRequirement", "download_info", ">=22.2",
                         "the cached wheel is judged as downloaded", _CACHE_SOURCE)
FACTORY_FINDER = Accessor(_FACTORY, "Factory", "_finder", "",
                          "the running interpreter is the target; no pre-check",
                          f"{CHECK_PRECHECK}; target from pip --platform/--python-version")
INSTALLED_DISTS = Accessor(_FACTORY, "Factory", "_installed_dists", "",
                           "no pre-check (the gate judges each file)", CHECK_PRECHECK)
APPLICABLE = Accessor(_FINDER, "BestCandidateResult", "applicable_candidates", ">=26",
                      "BestCandidateResult.iter_applicable()", CHECK_PRECHECK)
ITER_APPLICABLE = Accessor(_FINDER, "BestCandidateResult", "iter_applicable", "<26",
                           "no pre-check (the gate judges each file)", CHECK_PRECHECK)
TO_INSTALL = Accessor("pip._internal.req.req_set", "RequirementSet", "requirements_to_install",
                      "", "the report lists every decision taken, discarded ones included",
                      "final requirement set (backtracked decisions left out)")
CANDIDATE_IREQ = Accessor("pip._internal.resolution.resolvelib.candidates", "LinkCandidate",
                          "get_install_requirement", "",
                          "the gate's name and version; the final set is matched by name",
                          "real name and version of a local project")
IREQ_METADATA = Accessor(_IREQ, "InstallRequirement", "metadata", "",
                         "an empty version", "version of an editable requirement")
_NO_PASS_OVER = "a refused file stops pip at the gate (pip looks for no other solution)"
METADATA_INCONSISTENT = Accessor("pip._internal.exceptions", "MetadataInconsistent",
                                 "__init__", "", _NO_PASS_OVER, CHECK_PASS_OVER)
"""pip's ``Factory`` discards a candidate whose ``LinkCandidate`` constructor raises this
(and caches the link in ``Factory._build_failures``): the resolver then goes on without it."""
BUILD_FAILURES = Accessor(_FACTORY, "Factory", "_build_failures", "", _NO_PASS_OVER,
                          CHECK_PASS_OVER)
RESOLUTION_IMPOSSIBLE = Accessor("pip._vendor.resolvelib", "ResolutionImpossible", "causes",
                                 "", _NO_PASS_OVER, CHECK_PASS_OVER)
"""The cause of pip's ``DistributionNotFound`` when no solution exists
(``Resolver.resolve`` raises ``get_installation_error(e)`` ``from e``)."""
LINK_METADATA = Accessor(_LINK, "Link", "metadata_link", "",
                         "the run stops at the first dependency after a pre-check refusal",
                         CHECK_METADATA_ONLY)
ACCESSORS = (LINK_HASHES, GIVEN_PY_VERSION, CACHED_WHEEL_SOURCE, SOURCE_LINK, DOWNLOAD_INFO,
             FACTORY_FINDER, INSTALLED_DISTS, APPLICABLE, ITER_APPLICABLE, TO_INSTALL,
             CANDIDATE_IREQ, IREQ_METADATA, METADATA_INCONSISTENT, BUILD_FAILURES,
             RESOLUTION_IMPOSSIBLE, LINK_METADATA)


@dataclass(frozen=True)
class Degraded:
    """A check that did not run (fully) because a pip name was missing.

    Attributes:
        check: what did not run, e.g. ``strict pre-check before pip's resolver``.
        missing: the pip name, e.g. ``Factory._finder``.
        fallback: what was done instead.
    """

    check: str
    missing: str
    fallback: str

    def to_json(self) -> dict[str, str]:
        """The report form ``{check, missing, fallback}`` (``degraded_checks[]``)."""
        return {"check": self.check, "missing": self.missing, "fallback": self.fallback}


@dataclass
class CheckNotes:
    """The pip names found missing during one run, first time each (in order)."""

    degraded: dict[str, Degraded] = field(default_factory=dict)

    def miss(self, what: Accessor | HookPoint, check: str = "") -> None:
        """Record that ``what`` was missing (``check`` overrides the row's own)."""
        text = check or (what.check if isinstance(what, Accessor) else what.label)
        self.degraded.setdefault(what.label, Degraded(text, what.label, what.fallback))

    def to_json(self) -> list[dict[str, str]]:
        """Every :class:`Degraded` as report data."""
        return [d.to_json() for d in self.degraded.values()]


def _note(notes: CheckNotes | None, what: Accessor) -> None:
    if notes is not None:
        notes.miss(what)


_ABSENT = object()


def _read(obj: Any, what: Accessor, notes: CheckNotes | None, *, expected: bool = True) -> Any:
    """``obj.<what.attr>``, or :data:`_ABSENT` (recorded when ``expected``)."""
    value = getattr(obj, what.attr, _ABSENT)
    if value is _ABSENT and expected:
        _note(notes, what)
    return value


# -- pip's detection ------------------------------------------------------------------------

@dataclass
class PipApi:
    """What :func:`detect` found in the installed pip.

    Attributes:
        version: ``pip.__version__``.
        main: ``pip._internal.cli.main.main`` (``main(args) -> int``).
        installation_error: ``pip._internal.exceptions.InstallationError``.
        discard_error: ``pip._internal.exceptions.MetadataInconsistent`` (a subclass of
            ``installation_error`` that pip's ``Factory`` answers by discarding the
            candidate), ``None`` when missing (:data:`METADATA_INCONSISTENT`).
        owners: the class of every hook point found, by label.
        missing: labels of the required names that are missing or changed shape.
        optional_missing: labels of the optional names that are missing.
    """

    version: str
    main: Callable[[list[str]], int] | None
    installation_error: type[Exception] | None
    owners: dict[str, type] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    optional_missing: list[str] = field(default_factory=list)
    discard_error: type[Exception] | None = None

    @property
    def usable(self) -> bool:
        """True when the in-process mode has everything it needs."""
        return not self.missing and self.main is not None and self.installation_error is not None

    def note_missing(self, notes: CheckNotes) -> None:
        """Record every optional hook point that is missing in ``notes``."""
        for point in HOOK_POINTS:
            if point.label in self.optional_missing:
                notes.miss(point, CHECK_PRECHECK if point is RESOLVED else CHECK_OPTIONS)


def _params_match(func: Any, expected: tuple[str, ...]) -> bool:
    try:
        names = list(inspect.signature(func).parameters)[1:]  # without self
    except (TypeError, ValueError):
        return False
    return names[: len(expected)] == list(expected)


def _owner(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def detect() -> PipApi:
    """Import pip and find every hook point; never raises.

    A required name that is missing, or whose leading parameters changed, is listed in
    ``missing`` (the caller then uses the subprocess mode and says so).
    """
    try:
        import pip
    except ImportError:
        return PipApi("", None, None, missing=["pip (not installed)"])
    api = PipApi(str(getattr(pip, "__version__", "?")), None, None)
    try:
        from pip._internal.cli.main import main
        from pip._internal.exceptions import InstallationError

        api.main = main
        api.installation_error = InstallationError
    except ImportError:
        api.missing.append("pip._internal.cli.main.main")
    found = getattr(_owner(METADATA_INCONSISTENT.module, METADATA_INCONSISTENT.owner),
                    "__mro__", ())
    if api.installation_error is not None and api.installation_error in found and \
            _defines(_owner(BUILD_FAILURES.module, BUILD_FAILURES.owner), BUILD_FAILURES.attr):
        api.discard_error = _owner(METADATA_INCONSISTENT.module, METADATA_INCONSISTENT.owner)
    for point in HOOK_POINTS:
        owner = _owner(point.module, point.owner)
        func = getattr(owner, point.attr, None) if owner is not None else None
        if func is None or not _params_match(func, point.params):
            (api.missing if point.required else api.optional_missing).append(point.label)
            continue
        api.owners[point.label] = owner
    return api


def _defines(cls: Any, attr: str) -> bool:
    """``cls`` has ``attr``: a class attribute, a slot, a dataclass field, or an
    attribute its ``__init__`` assigns (``self.attr =``)."""
    if cls is None:
        return False
    if hasattr(cls, attr) or attr in getattr(cls, "__slots__", ()):
        return True
    if is_dataclass(cls) and attr in {f.name for f in fields(cls)}:
        return True
    try:
        source = inspect.getsource(cls.__init__)
    except (OSError, TypeError):
        return False
    return f"self.{attr} =" in source or f"self.{attr}:" in source


def _applies(spec: str, version: str) -> bool:
    """``version`` is in the PEP 440 specifier ``spec`` (pip's vendored ``packaging``)."""
    if not spec:
        return True
    specifiers: Any = importlib.import_module("pip._vendor.packaging.specifiers")
    return bool(specifiers.SpecifierSet(spec).contains(version, prereleases=True))


@dataclass(frozen=True)
class Probe:
    """What :func:`probe` found in the installed pip.

    Attributes:
        pip_version: ``pip.__version__``.
        found: labels of the hook points and accessors present.
        missing: labels of those the table says this pip has, but it does not.
        not_expected: labels whose pip range excludes this pip (their fallback applies).
    """

    pip_version: str
    found: tuple[str, ...]
    missing: tuple[str, ...]
    not_expected: tuple[str, ...]


def probe() -> Probe:
    """Look every row of :data:`HOOK_POINTS` and :data:`ACCESSORS` up in the installed pip
    (imports, no pip run); never raises."""
    api = detect()
    found: list[str] = []
    missing: list[str] = [*api.missing, *api.optional_missing]
    skipped: list[str] = []
    found.extend(p.label for p in HOOK_POINTS if p.label in api.owners)
    for acc in ACCESSORS:
        if not _applies(acc.pip, api.version):
            skipped.append(acc.label)
        elif _defines(_owner(acc.module, acc.owner), acc.attr):
            found.append(acc.label)
        else:
            missing.append(acc.label)
    return Probe(api.version, tuple(found), tuple(missing), tuple(skipped))


# -- accessors -------------------------------------------------------------------------------

def arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str) -> Any:
    """The argument ``name`` at position ``index`` (after self), however it was passed."""
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else None


@dataclass(frozen=True)
class LinkInfo:
    """The facts the gate needs about one pip ``Link`` (read once, defensively)."""

    filename: str
    url: str
    sha256: str | None
    page: str | None
    is_file: bool
    is_vcs: bool
    is_dir: bool
    requires_python: str | None = None
    yanked: bool = False


def _sha256(link: Any, notes: CheckNotes | None) -> str | None:
    hashes = _read(link, LINK_HASHES, notes)  # pip >= 22.3: every hash the index gave
    if isinstance(hashes, dict) and hashes.get("sha256"):
        return str(hashes["sha256"])
    if getattr(link, "hash_name", None) == "sha256":
        value = getattr(link, "hash", None)
        return str(value) if value else None
    return None


def link_info(link: Any, clean: CleanUrl, notes: CheckNotes | None = None) -> LinkInfo:
    """Read a pip ``Link`` into a :class:`LinkInfo`; ``clean`` removes URL credentials."""
    comes_from = getattr(link, "comes_from", None)
    page = str(comes_from) if comes_from is not None else None
    is_dir = False
    if getattr(link, "is_file", False):
        try:
            is_dir = bool(link.is_existing_dir())
        except (AttributeError, OSError):
            is_dir = False
    return LinkInfo(
        filename=str(getattr(link, "filename", "") or ""),
        url=clean(str(getattr(link, "url", "") or "")),
        sha256=_sha256(link, notes),
        page=page if page and "://" in page else None,
        is_file=bool(getattr(link, "is_file", False)),
        is_vcs=bool(getattr(link, "is_vcs", False)),
        is_dir=is_dir,
        requires_python=getattr(link, "requires_python", None) or None,
        yanked=bool(getattr(link, "is_yanked", False)),
    )


def link_yanked(link: Any) -> bool:
    """PEP 592: pip's ``Link.is_yanked`` (public since pip 19.2), without reading the rest of
    the link (:func:`link_info` does that, for the files that are judged)."""
    return bool(getattr(link, "is_yanked", False))


def url_info(url: str, clean: CleanUrl) -> LinkInfo:
    """A :class:`LinkInfo` from a bare URL (pip 23.x ``download_info.url``)."""
    path = unquote(urlsplit(url).path)
    return LinkInfo(path.rstrip("/").rsplit("/", 1)[-1], clean(url), None, None,
                    url.startswith("file:"), "+" in url.split(":", 1)[0], False)


def source_info(req: Any, info: LinkInfo, clean: CleanUrl,
                notes: CheckNotes | None = None) -> LinkInfo:
    """The link pip's choice came from, when ``req.link`` (read as ``info``) is a wheel from
    pip's cache: ``cached_wheel_source_link`` (pip >= 24), ``source_link`` (pip >= 26,
    defaults to ``req.link``), ``download_info.url`` (pip 23.x); else ``info``."""
    source = getattr(req, CACHED_WHEEL_SOURCE.attr, _ABSENT)
    if source is not _ABSENT and source is not None:
        return link_info(source, clean, notes)
    linked = getattr(req, SOURCE_LINK.attr, None)
    if linked is not None and not callable(linked):
        src = link_info(linked, clean, notes)
        if src.url != info.url:
            return src
    download = getattr(req, DOWNLOAD_INFO.attr, _ABSENT)
    if source is _ABSENT and download is _ABSENT:
        _note(notes, DOWNLOAD_INFO)
    url = getattr(download, "url", None)
    if isinstance(url, str) and clean(url) != info.url:
        return url_info(url, clean)
    return info


@dataclass(frozen=True)
class TargetFacts:
    """pip's ``TargetPython`` as data.

    Attributes:
        platforms: ``--platform`` values (``[]`` when none given).
        given_version: ``--python-version`` as a tuple, or ``None``.
        abis: ``--abi`` values (``[]``).
        implementation: ``--implementation`` (``cp``, ``pp``...), or ``None``.
        version_info: the Python version pip targets, or ``None``.
    """

    platforms: tuple[str, ...]
    given_version: tuple[int, ...] | None
    abis: tuple[str, ...]
    implementation: str | None
    version_info: tuple[int, ...] | None


def target_facts(target_python: Any, notes: CheckNotes | None = None) -> TargetFacts:
    """Read pip's ``TargetPython`` (``_given_py_version_info`` is private)."""
    given = _read(target_python, GIVEN_PY_VERSION, notes)
    info = getattr(target_python, "py_version_info", None)
    impl = getattr(target_python, "implementation", None)
    return TargetFacts(
        platforms=tuple(getattr(target_python, "platforms", None) or ()),
        given_version=tuple(given) if given and given is not _ABSENT else None,
        abis=tuple(getattr(target_python, "abis", None) or ()),
        implementation=str(impl) if impl else None,
        version_info=tuple(int(x) for x in info) if info else None,
    )


def finder_of(factory: Any, notes: CheckNotes | None = None) -> Any:
    """pip's ``PackageFinder`` of the resolver's ``Factory``, or ``None``."""
    finder = _read(factory, FACTORY_FINDER, notes)
    return None if finder is _ABSENT else finder


def target_python_of(finder: Any) -> Any:
    """``PackageFinder.target_python`` (public), or ``None``."""
    return getattr(finder, "target_python", None)


def installed_dists(factory: Any, notes: CheckNotes | None = None) -> dict[str, Any] | None:
    """The resolver's ``{name: installed dist}``, or ``None`` (recorded)."""
    dists = _read(factory, INSTALLED_DISTS, notes)
    return dists if isinstance(dists, dict) else None


def force_reinstall(factory: Any) -> bool:
    """``Factory.force_reinstall``."""
    return bool(getattr(factory, "force_reinstall", False))


def applicable_candidates(result: Any, notes: CheckNotes | None = None) -> list[Any] | None:
    """``find_best_candidate(...)``'s applicable candidates, best last, or ``None``."""
    applicable = getattr(result, APPLICABLE.attr, None)
    if applicable is not None:
        return list(applicable)
    iterate = getattr(result, ITER_APPLICABLE.attr, None)
    if iterate is None:
        _note(notes, ITER_APPLICABLE)
        return None
    return list(iterate())


def requirements_to_install(requirement_set: Any, notes: CheckNotes | None = None
                            ) -> list[Any] | None:
    """``RequirementSet.requirements_to_install`` as a list, or ``None`` (recorded)."""
    reqs = _read(requirement_set, TO_INSTALL, notes)
    return None if reqs is _ABSENT else list(reqs)


@dataclass(frozen=True)
class CandidateFacts:
    """A ``LinkCandidate`` once constructed: its name, version and ``InstallRequirement``."""

    name: str
    version: str
    ireq: Any


def candidate_facts(candidate: Any, notes: CheckNotes | None = None) -> CandidateFacts | None:
    """Read a constructed ``LinkCandidate``, or ``None`` (recorded)."""
    get = _read(candidate, CANDIDATE_IREQ, notes)
    if get is _ABSENT:
        return None
    return CandidateFacts(str(candidate.project_name), str(candidate.version), get())


def editable_version(req: Any, notes: CheckNotes | None = None) -> str:
    """An editable ``InstallRequirement``'s prepared version, ``""`` when not prepared."""
    if not _defines(type(req), IREQ_METADATA.attr):
        _note(notes, IREQ_METADATA)
        return ""
    try:
        return str(req.metadata["Version"])
    except Exception:  # metadata not prepared (pip raises its own errors)
        return ""


def find_best_candidate(finder: Any) -> Optional[Callable[..., Any]]:
    """``PackageFinder.find_best_candidate`` (public API of the finder), or ``None``."""
    return getattr(finder, "find_best_candidate", None)


def resolution_impossible(exc: BaseException) -> bool:
    """``exc`` (pip's error out of ``Resolver.resolve``) comes from resolvelib's
    ``ResolutionImpossible``: no solution exists among the candidates pip was left with.
    Follows ``__cause__``/``__context__``; ``False`` when the class cannot be imported."""
    cls = _owner(RESOLUTION_IMPOSSIBLE.module, RESOLUTION_IMPOSSIBLE.owner)
    if not isinstance(cls, type):
        return False
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, cls):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def metadata_without_download(link: Any, notes: CheckNotes | None = None) -> bool:
    """The file's core metadata comes from its PEP 658 ``.metadata`` file
    (``Link.metadata_link()`` is not ``None``): pip resolves with it without downloading
    or building the file. ``False`` where pip lacks the name (recorded)."""
    get = _read(link, LINK_METADATA, notes)
    if get is _ABSENT or not callable(get):
        return False
    try:
        return get() is not None
    except Exception:  # a malformed data-dist-info-metadata value: pip says so itself
        return False


def requirement_specifier(ireq: Any) -> str:
    """The PEP 440 specifier of pip's ``InstallRequirement`` (``ireq.req.specifier``, a
    ``packaging`` ``SpecifierSet``), ``""`` when it has none (a URL or path requirement)."""
    spec = getattr(getattr(ireq, "req", None), "specifier", None)
    return str(spec) if spec is not None else ""
