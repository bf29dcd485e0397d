"""Release listings from package indexes: every file a project has, with hashes and flags.

Sources, in pip's order (``PackageFinder.find_all_candidates``: find-links files first, then
the index pages in index order):

* find-links locations: a local directory (every file in it) or an HTML page of links
  (``--find-links``);
* indexes (``--index-url`` then each ``--extra-index-url``): ``<index>/<name>/`` asked for
  PEP 691 JSON (``Accept: application/vnd.pypi.simple.v1+json``) with PEP 503 HTML as the
  fallback the server may answer with. From JSON: ``files[].filename/url/hashes.sha256/
  requires-python/yanked``; from HTML (parsed by ``html.parser``): each anchor's ``href``
  (relative to the page or its ``<base href>``), its ``#sha256=`` fragment, PEP 503
  ``data-requires-python`` and PEP 592 ``data-yanked``. ``file://`` index directories are
  read from their ``index.html``, as pip does.

Which indexes: :func:`index_config` takes pip's own configuration (``pip config`` files
and ``PIP_*`` variables, loaded by pip's ``Configuration`` class in
:mod:`poetry_wheelguard.pip.config` when pip is importable; otherwise only
``PIP_INDEX_URL``, ``PIP_EXTRA_INDEX_URL``, ``PIP_FIND_LINKS``, ``PIP_NO_INDEX`` and
``PIP_CERT``). Credentials: ``user:password@`` in an index URL, else the
host's entry in ``~/.netrc`` (``NETRC``), sent as HTTP basic auth. Keyring is not used.
Credentials never appear in a :class:`~poetry_wheelguard.models.Candidate`, an error or a
report (:func:`~poetry_wheelguard.report.redact_url`).

HTTP (:class:`~poetry_wheelguard.fetch.Fetcher`; pages parsed by :mod:`poetry_wheelguard.pages`):
one deadline per request, connection to last byte, redirects
included (``WHEELGUARD_INDEX_TIMEOUT`` seconds, default 60): a server that answers one
byte at a time is given up with one line, exit 12. A page may be at most
``WHEELGUARD_INDEX_MAX_BYTES`` bytes (default 128 MiB); a longer one is refused with one
line. ``Authorization`` is sent to the index's own origin only: a redirect to another host,
port or scheme (but the ``http`` -> ``https`` upgrade on default ports) drops it, as pip
(requests' ``should_strip_auth``) does. Ctrl-C stops every fetch at once
(:meth:`~poetry_wheelguard.fetch.Fetcher.abort`).

Pages are fetched concurrently (a thread pool) and cached on disk (``WHEELGUARD_CACHE_DIR``,
else ``$XDG_CACHE_HOME/poetry-wheelguard/index``): a cached page younger than ``max_age``
seconds is used as is, an older one is revalidated with ``If-None-Match``/
``If-Modified-Since``.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    pass

from poetry_wheelguard.config import cache_dir as _cache_dir
from poetry_wheelguard.distfiles import DistFile, normalize
from poetry_wheelguard.errors import ConfigError, IndexFetchError
from poetry_wheelguard.fetch import Fetcher, PageNotFound
from poetry_wheelguard.models import Candidate, NormalizedName
from poetry_wheelguard.pages import parse_html, parse_page
from poetry_wheelguard.report import redact_url

PYPI_SIMPLE = "https://pypi.org/simple/"


@dataclass(frozen=True)
class IndexConfig:
    """Where listings come from.

    Attributes:
        index_urls: the index URL, then the extra index URLs (may hold credentials; never
            printed as given).
        find_links: find-links locations: directories, ``file://`` or ``http(s)://`` pages.
        cache_dir: on-disk page cache, or ``None`` for no cache.
        max_age: seconds a cached page is used without asking the server again.
        timeout: the deadline of one HTTP request in seconds, from connecting to the last
            byte (redirects included); ``None``: ``WHEELGUARD_INDEX_TIMEOUT``, else 60.
        max_page_bytes: the largest page accepted; ``None``:
            ``WHEELGUARD_INDEX_MAX_BYTES``, else 128 MiB.
        cafile: CA bundle for HTTPS (pip's ``cert``), or ``None`` for the system's.
    """

    index_urls: tuple[str, ...] = (PYPI_SIMPLE,)
    find_links: tuple[str, ...] = ()
    cache_dir: Path | None = None
    max_age: float = 600.0
    timeout: float | None = None
    cafile: str | None = None
    max_page_bytes: int | None = None


@dataclass(frozen=True)
class ListedFile:
    """One file of a listing: the candidate, its parsed name facts and where it was listed."""

    candidate: Candidate
    dist: DistFile
    source: str


@dataclass(frozen=True)
class ProjectListing:
    """Every distribution file the configured sources list for one project.

    Attributes:
        name: PEP 503 normalized project name.
        files: in pip's source order (find-links first, then indexes in order, each in
            page order); names that are not wheels or sdists of this project are left out.
        sources: the (redacted) locations that were read.
    """

    name: NormalizedName
    files: tuple[ListedFile, ...]
    sources: tuple[str, ...]

    def versions(self) -> dict[str, list[ListedFile]]:
        """Files grouped by version (``str(Version)``, normalized), in listing order."""
        out: dict[str, list[ListedFile]] = {}
        for f in self.files:
            out.setdefault(str(f.dist.version), []).append(f)
        return out

    def other_versions(self, exclude: str | None = None
                       ) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """``((version, (filename, ...)), ...)`` for :attr:`Selection.other_versions` (the
        hints), without version ``exclude`` (the chosen one). PEP 592: a yanked file is
        left out (an installer takes it only for a pin that matches nothing else), so a
        release whose every file is yanked is not listed at all."""
        out = []
        for version, files in self.versions().items():
            names = tuple(f.candidate.filename for f in files if not f.candidate.yanked)
            if names and version != exclude:
                out.append((version, names))
        return tuple(out)


# --- configuration ------------------------------------------------------------------------

def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where index pages are cached: :func:`poetry_wheelguard.config.cache_dir` ``("index")``."""
    return _cache_dir("index", environ)


def index_config(
    environ: Mapping[str, str] | None = None,
    *,
    pip_values: Mapping[str, str] | None = None,
    index_url: str | None = None,
    extra_index_urls: Sequence[str] | None = None,
    find_links: Sequence[str] | None = None,
    no_index: bool = False,
    cache_dir: Path | None = None,
) -> IndexConfig:
    """The index configuration pip would use, with command-line values on top.

    pip's own settings are ``pip_values`` (``{option: value}`` of pip's ``install``
    command, read by :func:`poetry_wheelguard.pip.config.pip_config_values`) or, when
    ``None``, ``environ``'s ``PIP_INDEX_URL``, ``PIP_EXTRA_INDEX_URL``, ``PIP_FIND_LINKS``,
    ``PIP_NO_INDEX`` and ``PIP_CERT``. A given ``index_url`` replaces pip's, given
    ``extra_index_urls``/``find_links`` replace pip's lists (as pip's own flags do).

    Raises:
        ConfigError: an index URL is not a URL.
    """
    env = os.environ if environ is None else environ
    values: dict[str, str] = dict(pip_values) if pip_values is not None else {}
    if pip_values is None:
        for key in ("index-url", "extra-index-url", "find-links", "no-index", "cert"):
            var = "PIP_" + key.upper().replace("-", "_")
            if env.get(var):
                values[key] = env[var]
    base = index_url or values.get("index-url") or PYPI_SIMPLE
    extras = list(extra_index_urls) if extra_index_urls is not None else \
        values.get("extra-index-url", "").split()
    links = list(find_links) if find_links is not None else values.get("find-links", "").split()
    skip_index = no_index or values.get("no-index", "").lower() in {"1", "true", "yes", "on"}
    urls: tuple[str, ...] = () if skip_index else tuple(dict.fromkeys([base, *extras]))
    for url in urls:
        try:
            parts = urlsplit(url)
        except ValueError as exc:  # an IPv6 typo: http://[::1/simple/
            raise ConfigError(f"index URL {redact_url(url)!r} is not a valid URL ({exc}); "
                              "pass e.g. --index-url https://pypi.org/simple/") from exc
        if parts.scheme not in {"http", "https", "file"} or any(c.isspace() for c in url) or (
                parts.scheme != "file" and not parts.netloc):
            raise ConfigError(f"index URL {redact_url(url)!r} is not an http://, https:// or "
                              f"file:// URL; pass e.g. --index-url https://pypi.org/simple/")
    return IndexConfig(index_urls=urls, find_links=tuple(links), cache_dir=cache_dir,
                       cafile=values.get("cert") or None)


# --- listings -----------------------------------------------------------------------------

def _project_url(index_url: str, name: str) -> str:
    """``<index>/<name>/`` (PEP 503), keeping the index URL's credentials for the request."""
    parts = urlsplit(index_url)
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, parts.netloc, path + name + "/", "", ""))


def _find_links_candidates(location: str, fetcher: Fetcher) -> list[Candidate]:
    parts = urlsplit(location)
    if parts.scheme in {"", "file"}:
        path = Path(urllib.request.url2pathname(parts.path)) if parts.scheme else Path(location)
        if path.is_dir():  # pip: every file of a find-links directory, by name, reversed
            return [Candidate(filename=p.name, url=p.resolve().as_uri())
                    for p in sorted(path.iterdir(), key=lambda p: p.as_uri(), reverse=True)
                    if p.is_file()]
        if not path.exists():
            return []
    try:
        page = fetcher.get(location)
    except PageNotFound:
        return []
    return parse_html(page.body, page.url, redact_url(location))


def _keep(cands: Iterable[Candidate], name: NormalizedName, source: str) -> list[ListedFile]:
    out = []
    for c in cands:
        dist = c.dist
        if dist is not None and dist.name == name:
            out.append(ListedFile(c, dist, source))
    return out


class IndexClient:
    """Reads project listings from an :class:`IndexConfig`'s sources.

    Example::

        client = IndexClient(index_config())
        listings = client.listings(["uvloop", "pydantic"])   # concurrent
    """

    def __init__(self, config: IndexConfig, max_workers: int = 8) -> None:
        self.config = config
        self.max_workers = max_workers
        self._fetcher = Fetcher(config)
        self._find_links: dict[str, list[Candidate]] | None = None

    @property
    def sources(self) -> tuple[str, ...]:
        """The redacted find-links locations and index URLs, in pip's order."""
        return tuple(redact_url(s) for s in (*self.config.find_links, *self.config.index_urls))

    def _links_pages(self) -> dict[str, list[Candidate]]:
        if self._find_links is None:
            self._find_links = {loc: _find_links_candidates(loc, self._fetcher)
                                for loc in self.config.find_links}
        return self._find_links

    def _index_files(self, index_url: str, name: NormalizedName) -> list[ListedFile] | None:
        url = _project_url(index_url, name)
        shown = redact_url(url)
        try:
            page = self._fetcher.get(url, package=name)
        except PageNotFound:
            return None
        return _keep(parse_page(page, shown), name, redact_url(index_url))

    def fetch_file(self, url: str, max_bytes: int, package: str | None = None) -> bytes:
        """The bytes at ``url`` (a listed file, or its PEP 658 ``.metadata``), read into
        memory, at most ``max_bytes``, not cached. A URL on the origin of a configured
        index is fetched with that index's credentials (listed URLs carry none).

        Raises:
            IndexFetchError: unreachable, an HTTP error (404 included), or larger than
                ``max_bytes``.
        """
        target = urlsplit(url)
        for index_url in self.config.index_urls:
            parts = urlsplit(index_url)
            if parts.username is not None and target.netloc and \
                    (parts.scheme, parts.netloc.rsplit("@", 1)[-1]) == \
                    (target.scheme, target.netloc):
                url = urlunsplit((target.scheme, parts.netloc, target.path, target.query, ""))
                break
        try:
            return self._fetcher.get(url, package=package, max_bytes=max_bytes,
                                     cache=False).body
        except PageNotFound as exc:
            raise IndexFetchError(f"{redact_url(url)} is not there (HTTP 404)",
                                  package=package) from exc

    def listing(self, name: str) -> ProjectListing:
        """Every file of project ``name`` on the configured sources.

        Raises:
            IndexFetchError: an index cannot be reached or answers with an error or a
                malformed page; or the project is on none of the sources (unknown project).
        """
        return self.listings([name])[normalize(name)]

    def listings(self, names: Sequence[str]) -> dict[NormalizedName, ProjectListing]:
        """:meth:`listing` of several projects, fetched concurrently.

        Raises:
            IndexFetchError: as :meth:`listing`, for the first failing project in order.
        """
        wanted = list(dict.fromkeys(normalize(n) for n in names))
        links = self._links_pages()
        jobs = [(n, url) for n in wanted for url in self.config.index_urls]
        results: dict[tuple[str, str], list[ListedFile] | IndexFetchError | None] = {}
        if jobs:
            pool = ThreadPoolExecutor(max_workers=min(self.max_workers, len(jobs)))
            try:
                futures = {job: pool.submit(self._index_files, job[1], job[0]) for job in jobs}
                for job, fut in futures.items():
                    try:
                        results[job] = fut.result()
                    except IndexFetchError as exc:
                        results[job] = exc
            except BaseException:  # Ctrl-C: stop the fetches in flight, do not wait for them
                self._fetcher.abort()
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            pool.shutdown(wait=True)
        out: dict[NormalizedName, ProjectListing] = {}
        for n in wanted:
            files: list[ListedFile] = []
            for loc, cands in links.items():
                files += _keep(cands, n, redact_url(loc))
            found = bool(files)
            for url in self.config.index_urls:
                got = results[(n, url)]
                if isinstance(got, IndexFetchError):
                    raise IndexFetchError(got.reason, package=n) from got
                if got is not None:
                    found = True
                    files += got
            if not found:
                where = ", ".join(self.sources) or "no index (--no-index)"
                raise IndexFetchError(f"project not found on {where}; check the name, "
                                      f"--index-url or --find-links", package=n)
            out[n] = ProjectListing(n, tuple(files), self.sources)
        return out



def client_for(index_url: str) -> IndexClient:
    """An :class:`IndexClient` for the one index ``index_url`` (PEP 691/503), with the page
    cache (:func:`default_cache_dir`): a lock's releases looked up on the index the lock
    names (``pip-guard plan --lock``, ``pip-guard uv``)."""
    return IndexClient(IndexConfig(index_urls=(index_url,), cache_dir=default_cache_dir()))
