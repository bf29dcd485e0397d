"""pip's observations as plain data, and the :class:`~poetry_wheelguard.models.Selection`
built from them. No pip import here: the in-process hooks and the subprocess mode both
turn what they learn into :class:`SeenLink` objects and call :func:`build_selection`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from packaging.version import InvalidVersion, Version

from poetry_wheelguard.distfiles import DistFile, normalize, try_classify
from poetry_wheelguard.models import Candidate, NormalizedName, Selection
from poetry_wheelguard.report import redact_url

CANDIDATE = "candidate"
"""pip's ``LinkType.candidate``: the link is installable for pip's target."""

DIRECT = "direct"
"""A link given on the command line or in a requirement (``name @ URL``, a path): no
listing was read for it."""

# Files that may feed the "nearest version with a wheel" hint: those pip could install
# (candidate) and those it skipped only for their tags. Files it skipped for
# Requires-Python, yanking or an unsupported format are no advice for this target.
HINT_VERDICTS = frozenset({CANDIDATE, "platform_mismatch"})


@dataclass(frozen=True)
class SeenLink:
    """One distribution file a listing showed to pip, with pip's verdict on it.

    Attributes:
        filename: the file's name (``aiohttp-3.6.2-py3-none-any.whl``).
        url: its URL without credentials and without fragment.
        sha256: hex digest from the index (URL fragment or PEP 691 ``hashes``), if any.
        version: normalized PEP 440 version string, ``None`` if it cannot be told.
        verdict: pip's ``LinkType`` name (``candidate``, ``platform_mismatch``,
            ``requires_python_mismatch``, ``yanked``, ``format_unsupported``, ...), or
            :data:`DIRECT` for a link no listing showed.
        reason: pip's own reason text when the verdict is not ``candidate``.
        requires_python: the listing's ``data-requires-python`` / ``requires-python``.
        yanked: PEP 592 yank flag.
        index: the index (``.../simple/``) or find-links location that listed it, without
            credentials; ``""`` when unknown.
        dist: the file name parsed (:class:`~poetry_wheelguard.distfiles.DistFile`), once:
            from ``filename`` when not given; ``None`` for no wheel or sdist name.
    """

    filename: str
    url: str
    sha256: str | None = None
    version: str | None = None
    verdict: str = CANDIDATE
    reason: str | None = None
    requires_python: str | None = None
    yanked: bool = False
    index: str = ""
    dist: DistFile | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.dist is None and self.filename:
            object.__setattr__(self, "dist", try_classify(self.filename))

    def candidate(self) -> Candidate:
        """The report's :class:`~poetry_wheelguard.models.Candidate` for this file."""
        return Candidate(
            filename=self.filename,
            url=self.url,
            sha256=self.sha256,
            rejected_reason=self.reason,
            requires_python=self.requires_python,
            yanked=self.yanked,
            dist=self.dist,
        )


def canonical_version(text: object) -> str | None:
    """``str(Version(text))`` (PEP 440 normal form, so ``1.0`` and ``1.0.0`` differ only
    where PEP 440 says so), or ``None`` for text that is no version."""
    if text is None:
        return None
    try:
        return str(Version(str(text)))
    except InvalidVersion:
        return None


def version_key(text: str) -> Version | str:
    """Versions compare as PEP 440 says (``1.0 == 1.0.0``); unparsable text as text."""
    try:
        return Version(text)
    except InvalidVersion:
        return text


def version_of(filename: str) -> str | None:
    """The normalized version in a wheel or sdist file name (parsed by ``packaging``)."""
    dist = try_classify(filename)
    return str(dist.version) if dist is not None else None


def clean_url(url: str) -> str:
    """``url`` without credentials and without fragment (``#sha256=...``)."""
    return redact_url(url)


def index_of(page_url: str | None, link_url: str, project: str) -> str:
    """The index a file came from, without credentials.

    A PEP 503 project page ``https://host/simple/<project>/`` gives its parent
    ``https://host/simple/``; any other page (a find-links page or directory) is returned
    as it is; with no page, the directory of ``link_url``.
    """
    if page_url:
        parts = urlsplit(clean_url(page_url))
        segments = parts.path.rstrip("/").split("/")
        if segments and segments[-1] and normalize(segments[-1]) == normalize(project):
            path = "/".join(segments[:-1]) + "/"
            return urlunsplit((parts.scheme, parts.netloc, path, "", ""))
        return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
    base = clean_url(link_url)
    return base.rsplit("/", 1)[0] + "/" if "/" in base else ""


def build_selection(
    name: str,
    version: str | None,
    chosen: SeenLink,
    seen: Iterable[SeenLink],
    *,
    first_party: bool = False,
    built_locally: bool | None = None,
    specifier: str = "",
) -> Selection:
    """The :class:`Selection` for pip's choice of ``chosen`` as ``name`` ``version``.

    ``seen`` is every file the listings showed for the project (all versions, compatible
    or not). The selection's ``candidates`` are the files of the chosen version (the
    chosen file first if no listing showed it); ``other_versions`` are the other
    versions' files that pip could install or skipped only for their tags (they feed
    the policy's "nearest version with a wheel" hint), yanked files left out (PEP 592:
    pip installs a yanked file only when a pin names exactly its version, so a hint never
    names a yanked release). ``version`` falls back to the chosen file's own version, then
    to ``""``. ``specifier``: the PEP 440 specifier pip resolves the project under
    (``Selection.specifier``; hints name versions inside it first).
    """
    norm: NormalizedName = normalize(name)
    ver = canonical_version(version) or chosen.version or (
        str(chosen.dist.version) if chosen.dist is not None else "")
    key = version_key(ver)
    same: dict[str, SeenLink] = {}
    others: dict[str, dict[str, None]] = {}
    for link in seen:
        if link.version is not None and version_key(link.version) == key:
            same.setdefault(link.filename, link)
        elif link.version and link.verdict in HINT_VERDICTS and not link.yanked:
            others.setdefault(link.version, {})[link.filename] = None
    if chosen.filename not in same:
        same = {chosen.filename: chosen, **same}
    return Selection(
        name=norm,
        version=ver,
        chosen=chosen.candidate(),
        candidates=tuple(link.candidate() for link in same.values()),
        other_versions=tuple((v, tuple(files)) for v, files in others.items()),
        index=chosen.index,
        first_party=first_party,
        built_locally=built_locally,
        specifier=specifier,
    )
