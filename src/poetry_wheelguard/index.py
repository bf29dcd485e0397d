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

HTTP (:class:`Fetcher`): one deadline per request, connection to last byte, redirects
included (``WHEELGUARD_INDEX_TIMEOUT`` seconds, default 60): a server that answers one
byte at a time is given up with one line, exit 12. A page may be at most
``WHEELGUARD_INDEX_MAX_BYTES`` bytes (default 128 MiB); a longer one is refused with one
line. ``Authorization`` is sent to the index's own origin only: a redirect to another host,
port or scheme (but the ``http`` -> ``https`` upgrade on default ports) drops it, as pip
(requests' ``should_strip_auth``) does. Ctrl-C stops every fetch at once
(:meth:`Fetcher.abort`).

Pages are fetched concurrently (a thread pool) and cached on disk (``WHEELGUARD_CACHE_DIR``,
else ``$XDG_CACHE_HOME/poetry-wheelguard/index``): a cached page younger than ``max_age``
seconds is used as is, an older one is revalidated with ``If-None-Match``/
``If-Modified-Since``.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import http.client
import json
import netrc
import os
import socket
import stat
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

if TYPE_CHECKING:
    import ssl

from poetry_wheelguard import __version__
from poetry_wheelguard.config import cache_dir as _cache_dir
from poetry_wheelguard.distfiles import DistFile, normalize
from poetry_wheelguard.errors import ConfigError, IndexFetchError
from poetry_wheelguard.models import Candidate, NormalizedName
from poetry_wheelguard.report import redact_url

PYPI_SIMPLE = "https://pypi.org/simple/"
ACCEPT = ("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
          "text/html;q=0.01")
_JSON_TYPE = "application/vnd.pypi.simple.v1+json"
_HTML_TYPES = ("application/vnd.pypi.simple.v1+html", "text/html")


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


# --- HTTP ---------------------------------------------------------------------------------

@dataclass
class _Page:
    url: str            # redacted URL of the page (base for relative links)
    content_type: str
    body: bytes
    etag: str | None = None
    last_modified: str | None = None


def _split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``(url without userinfo, (user, password) or None)``; netrc fills in missing ones."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = parts.netloc.rsplit("@", 1)[-1]
    bare = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    if parts.username is not None:
        return bare, (unquote(parts.username), unquote(parts.password or ""))
    if host and parts.scheme in {"http", "https"}:
        try:
            auth = netrc.netrc(os.environ.get("NETRC")).authenticators(host)
        except (OSError, netrc.NetrcParseError):
            auth = None
        if auth:
            return bare, (auth[0] or "", auth[2] or "")
    return bare, None


DEFAULT_TIMEOUT = 60.0
"""Seconds one HTTP request may take, connection to last byte (``WHEELGUARD_INDEX_TIMEOUT``)."""
DEFAULT_MAX_PAGE_BYTES = 128 << 20
"""The largest index page accepted, in bytes (``WHEELGUARD_INDEX_MAX_BYTES``)."""
MAX_REDIRECTS = 10
"""Redirects followed per request (urllib's own limit, as pip's requests has 30)."""


def http_limits(config: IndexConfig, environ: Mapping[str, str] | None = None
                ) -> tuple[float, int]:
    """``(deadline seconds, page byte cap)``: the config's values, else
    ``WHEELGUARD_INDEX_TIMEOUT`` / ``WHEELGUARD_INDEX_MAX_BYTES``, else the defaults.

    Raises:
        ConfigError: a variable is not a positive number (names the variable).
    """
    env = os.environ if environ is None else environ
    out: list[float] = []
    for var, given, default in (("WHEELGUARD_INDEX_TIMEOUT", config.timeout, DEFAULT_TIMEOUT),
                                ("WHEELGUARD_INDEX_MAX_BYTES", config.max_page_bytes,
                                 DEFAULT_MAX_PAGE_BYTES)):
        if given is not None:
            out.append(float(given))
            continue
        text = env.get(var, "").strip()
        try:
            value = float(text) if text else float(default)
        except ValueError:
            value = -1.0
        if not 0 < value < 1e12:
            raise ConfigError(f"{var} must be a positive number, not {text!r}",
                              filename="WHEELGUARD_* environment")
        out.append(value)
    return out[0], int(out[1])


def keeps_authorization(old_url: str, new_url: str) -> bool:
    """True when a redirect from ``old_url`` to ``new_url`` may keep the ``Authorization``
    header: the same host, scheme and port, or the ``http`` -> ``https`` upgrade on the
    default ports (requests' ``Session.should_strip_auth``, which pip uses)."""
    old, new = urlsplit(old_url), urlsplit(new_url)
    if (old.hostname or "").lower() != (new.hostname or "").lower():
        return False
    try:
        old_port, new_port = old.port, new.port
    except ValueError:
        return False
    if old.scheme == "http" and new.scheme == "https" and old_port in (80, None) \
            and new_port in (443, None):
        return True
    default = {"http": 80, "https": 443}
    return old.scheme == new.scheme and (old_port or default.get(old.scheme)) == \
        (new_port or default.get(new.scheme))


class _Watch:
    """One request's deadline: when it passes (or :meth:`abort` is called) every socket
    the request opened is shut down, which wakes any read blocked on it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self.aborted = False
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return max(0.05, self.end - time.monotonic())

    def factory(self, cls: type[Any]) -> Callable[..., http.client.HTTPConnection]:
        """A connection class for ``AbstractHTTPHandler.do_open``: every socket timeout is
        the time left, and the socket is shut down at the deadline."""
        def make(host: str, **kwargs: Any) -> http.client.HTTPConnection:
            kwargs["timeout"] = self.remaining()
            conn: http.client.HTTPConnection = cls(host, **kwargs)
            conn.watch = self  # type: ignore[attr-defined]
            return conn
        return make

    def add(self, sock: socket.socket) -> None:
        """Watch ``sock`` (shut down at the deadline; at once if it has passed)."""
        with self._lock:
            self._socks.append(sock)
            late = self.expired or self.aborted
        if late:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _fire(self, aborted: bool = False) -> None:
        with self._lock:
            if aborted:
                self.aborted = True
            else:
                self.expired = True
            socks = list(self._socks)
        for sock in socks:  # wakes a read blocked on it; urllib keeps reading the response
            with contextlib.suppress(OSError):  # through the socket after dropping conn.sock
                sock.shutdown(socket.SHUT_RDWR)

    def abort(self) -> None:
        self._fire(aborted=True)

    def done(self) -> None:
        self._timer.cancel()


class _WatchedHTTP(http.client.HTTPConnection):
    watch: _Watch | None = None

    def connect(self) -> None:
        super().connect()
        if self.watch is not None:
            self.watch.add(self.sock)


@functools.lru_cache(maxsize=1)
def _watched_https() -> type[Any]:
    """:class:`_WatchedHTTP` for HTTPS. Made on first use: ``http.client.HTTPSConnection``
    exists only in an interpreter with ``ssl``."""

    class _WatchedHTTPS(http.client.HTTPSConnection):
        watch: _Watch | None = None

        def connect(self) -> None:
            super().connect()
            if self.watch is not None:
                self.watch.add(self.sock)

    return _WatchedHTTPS


class _Redirect(urllib.request.HTTPRedirectHandler):
    """Follows redirects; drops ``Authorization`` when one leaves the origin."""

    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: Any, newurl: str) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and not keeps_authorization(req.full_url, new.full_url):
            new.remove_header("Authorization")
        return new


class _HTTP(urllib.request.HTTPHandler):
    def __init__(self, watch: _Watch) -> None:
        super().__init__()
        self.watch = watch

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self.watch.factory(_WatchedHTTP), req)


def _opener(watch: _Watch, context: ssl.SSLContext | None) -> urllib.request.OpenerDirector:
    handlers: list[urllib.request.BaseHandler] = [_HTTP(watch), _Redirect()]
    base = getattr(urllib.request, "HTTPSHandler", None)  # absent without ssl
    if base is not None:
        class _HTTPS(base):  # type: ignore[valid-type,misc]
            def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
                conn = watch.factory(_watched_https())
                return self.do_open(conn, req, context=self._context)  # type: ignore[no-any-return]

        handlers.append(_HTTPS(context=context))
    return urllib.request.build_opener(*handlers)


class _Cache:
    """Pages on disk, one JSON file per (redacted) URL."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, url: str) -> Path:
        return self.root / (hashlib.sha256(url.encode()).hexdigest() + ".json")

    def get(self, url: str) -> tuple[_Page, float] | None:
        try:
            data = json.loads(self._path(url).read_text("utf-8"))
            page = _Page(data["url"], data["content_type"],
                         base64.b64decode(data["body"]), data.get("etag"),
                         data.get("last_modified"))
            return page, float(data["fetched"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, url: str, page: _Page) -> None:
        path = self._path(url)
        data = {"url": page.url, "content_type": page.content_type, "etag": page.etag,
                "last_modified": page.last_modified, "fetched": time.time(),
                "body": base64.b64encode(page.body).decode()}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{id(page)}")
            tmp.write_text(json.dumps(data), "utf-8")
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs time


class _NotFound(Exception):
    """The page does not exist (HTTP 404/410, missing file)."""


class Fetcher:
    """Fetches pages over HTTP(S) or ``file://`` with credentials, a CA bundle and a cache.

    Raises (from :meth:`get`): :class:`IndexFetchError` for an unreachable server, an HTTP
    error other than 404/410, a refused login; ``_NotFound`` (internal) for 404/410.
    """

    def __init__(self, config: IndexConfig) -> None:
        self.config = config
        self.deadline, self.max_page_bytes = http_limits(config)
        self._watches: set[_Watch] = set()
        self._lock = threading.Lock()
        self._aborted = False
        self._cache = _Cache(config.cache_dir) if config.cache_dir else None
        self._ssl: ssl.SSLContext | None = None

    def _https_context(self, shown: str) -> ssl.SSLContext | None:
        """The TLS context of an ``https://`` fetch: the CA bundle's (pip's ``cert``), or
        ``None`` for the system's. ``ssl`` is imported only here, so an interpreter built
        without it reads ``http://`` and ``file://`` indexes all the same.

        Raises:
            IndexFetchError: no ``ssl`` module, or an unreadable CA bundle: one line naming
                the host, the same for every page of it (no package: said once).
        """
        parts = urlsplit(shown)
        host = urlunsplit((parts.scheme, parts.netloc, "/", "", ""))
        try:
            import ssl
        except ImportError as exc:
            raise IndexFetchError(
                f"cannot read {host}: this Python has no ssl module (built without OpenSSL), "
                "so https:// indexes cannot be read; use an http:// or file:// index (a "
                "local mirror) or a Python with ssl") from exc
        if not self.config.cafile:
            return None
        with self._lock:
            if self._ssl is None:
                try:
                    self._ssl = ssl.create_default_context(cafile=self.config.cafile)
                except (OSError, ssl.SSLError) as exc:
                    raise IndexFetchError(
                        f"cannot read the CA bundle {self.config.cafile} (pip's cert / "
                        f"PIP_CERT) for {host}: {exc.strerror or exc}") from exc
            return self._ssl

    def get(self, url: str, package: str | None = None, max_bytes: int | None = None,
            cache: bool = True) -> _Page:
        limit = self.max_page_bytes if max_bytes is None else max_bytes
        bare, auth = _split_credentials(url)
        shown = redact_url(bare)
        scheme = urlsplit(bare).scheme
        if scheme in {"", "file"}:
            return self._get_file(bare, shown, limit)
        use_cache = self._cache if cache else None
        cached = use_cache.get(shown) if use_cache else None
        if cached and time.time() - cached[1] < self.config.max_age:
            return cached[0]
        headers = {"Accept": ACCEPT, "User-Agent": f"poetry-wheelguard/{__version__}"}
        if auth:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        if cached:
            if cached[0].etag:
                headers["If-None-Match"] = cached[0].etag
            if cached[0].last_modified:
                headers["If-Modified-Since"] = cached[0].last_modified
        context = self._https_context(shown) if scheme == "https" else None
        request = urllib.request.Request(bare, headers=headers)
        watch = _Watch(self.deadline)
        with self._lock:
            if self._aborted:
                watch.done()
                raise IndexFetchError(f"fetch of {shown} interrupted", package=package)
            self._watches.add(watch)
        try:
            with _opener(watch, context).open(request, timeout=watch.remaining()) as resp:
                body = self._read_capped(resp, watch, shown, package, limit)
                if watch.expired:
                    raise OSError("deadline")
                page = _Page(redact_url(resp.geturl()), resp.headers.get("Content-Type", ""),
                             body, resp.headers.get("ETag"), resp.headers.get("Last-Modified"))
        except urllib.error.HTTPError as exc:
            if exc.code == 304 and cached:
                page = cached[0]
            elif exc.code in (404, 410):
                raise _NotFound(shown) from exc
            elif exc.code in (401, 403):
                raise IndexFetchError(
                    f"index {shown} refused access (HTTP {exc.code}); give credentials in "
                    f"the index URL or ~/.netrc", package=package) from exc
            else:
                raise IndexFetchError(f"index {shown} answered HTTP {exc.code}; try again "
                                      f"later or check --index-url", package=package) from exc
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
            if watch.aborted:
                raise IndexFetchError(f"fetch of {shown} interrupted", package=package) from exc
            if watch.expired:
                raise IndexFetchError(
                    f"index {shown} did not answer within {self.deadline:g} s (the deadline "
                    f"of one request; WHEELGUARD_INDEX_TIMEOUT sets it)", package=package
                ) from exc
            reason = getattr(exc, "reason", None) or exc
            raise IndexFetchError(f"cannot reach index {shown} ({reason}); check --index-url "
                                  f"and the network", package=package) from exc
        finally:
            watch.done()
            with self._lock:
                self._watches.discard(watch)
        if use_cache:
            use_cache.put(shown, page)
        return page

    def abort(self) -> None:
        """Stop every request in flight and refuse new ones (Ctrl-C): their sockets are
        shut down, so the threads reading them end at once."""
        with self._lock:
            self._aborted = True
            watches = list(self._watches)
        for watch in watches:
            watch.abort()

    def _read_capped(self, resp: http.client.HTTPResponse, watch: _Watch, shown: str,
                     package: str | None, limit: int) -> bytes:
        """The body, read as it arrives (``read1``: one socket read at a time, so the
        deadline can stop it), refused past :attr:`max_page_bytes`."""
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = resp.read1(1 << 16)
            if watch.expired or watch.aborted:
                raise OSError("deadline")
            if not chunk:
                return b"".join(chunks)
            total += len(chunk)
            if total > limit:
                raise IndexFetchError(
                    f"index page {shown} is larger than {limit} bytes; "
                    "WHEELGUARD_INDEX_MAX_BYTES raises the limit"
                    if limit == self.max_page_bytes else
                    f"{shown} is larger than {limit} bytes", package=package)
            chunks.append(chunk)

    def _get_file(self, url: str, shown: str, limit: int) -> _Page:
        path = Path(urllib.request.url2pathname(urlsplit(url).path)) if "://" in url \
            else Path(url)
        if path.is_dir():  # pip: a file:// directory is read through its index.html
            path = path / "index.html"
        try:
            st = path.stat()
            if not stat.S_ISREG(st.st_mode):  # a FIFO or /dev/zero would block or never end
                raise IndexFetchError(f"cannot read {shown} (not a regular file); give a "
                                      f"file or a directory")
            if st.st_size > limit:
                raise IndexFetchError(
                    f"index page {shown} is larger than {limit} bytes; "
                    "WHEELGUARD_INDEX_MAX_BYTES raises the limit"
                    if limit == self.max_page_bytes else
                    f"{shown} is larger than {limit} bytes")
            body = path.read_bytes()
        except FileNotFoundError as exc:
            raise _NotFound(shown) from exc
        except OSError as exc:
            raise IndexFetchError(f"cannot read {shown} ({exc.strerror})") from exc
        return _Page(path.as_uri(), "text/html", body)


# --- parsing ------------------------------------------------------------------------------

class _AnchorParser(HTMLParser):
    """Collects ``<a>`` attributes and the first ``<base href>`` (PEP 503)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[dict[str, str | None]] = []
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.anchors.append(dict(attrs))
        elif tag == "base" and self.base is None:
            self.base = dict(attrs).get("href")


def _filename_of(url: str) -> str:
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def _sha256_of(url: str) -> str | None:
    frag = urlsplit(url).fragment
    for part in frag.split("&"):
        name, _, value = part.partition("=")
        if name == "sha256" and value:
            return value.lower()
    return None


def parse_html(body: bytes, page_url: str, where: str) -> list[Candidate]:
    """Candidates of a PEP 503 page: ``href`` resolved against the page (or ``<base>``),
    ``#sha256=`` digests, ``data-requires-python``, ``data-yanked``.

    Raises:
        IndexFetchError: the page is not UTF-8 text (names ``where``).
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IndexFetchError(f"malformed index page {where} (not UTF-8 HTML)") from exc
    parser = _AnchorParser()
    parser.feed(text)
    parser.close()
    base = urljoin(page_url, parser.base) if parser.base else page_url
    out = []
    for attrs in parser.anchors:
        href = attrs.get("href")
        if not href:
            continue
        url = urljoin(base, href)
        out.append(Candidate(
            filename=_filename_of(url),
            url=redact_url(url),
            sha256=_sha256_of(url),
            requires_python=attrs.get("data-requires-python") or None,
            yanked="data-yanked" in attrs,
            core_metadata=_html_core_metadata(attrs),
        ))
    return out


def _html_core_metadata(attrs: Mapping[str, str | None]) -> str | None:
    """PEP 714 ``data-core-metadata`` (else PEP 658's ``data-dist-info-metadata``):
    ``"true"`` or ``"sha256=<hex>"``; the digest, ``""`` without one, ``None`` when
    absent or ``"false"``."""
    for key in ("data-core-metadata", "data-dist-info-metadata"):
        if key in attrs:
            value = (attrs[key] or "true").strip()
            if value.lower() == "false":
                return None
            algo, _, digest = value.partition("=")
            return digest.lower() if algo.lower() == "sha256" and digest else ""
    return None


def _json_core_metadata(entry: Mapping[str, Any]) -> str | None:
    """PEP 714 ``core-metadata`` (else PEP 658/691's ``dist-info-metadata``): ``true``
    or ``{"sha256": hex}``; as :func:`_html_core_metadata`."""
    for key in ("core-metadata", "dist-info-metadata"):
        if key in entry:
            value = entry[key]
            if isinstance(value, dict):
                digest = value.get("sha256")
                return str(digest).lower() if digest else ""
            return "" if value is True else None
    return None


def parse_json(body: bytes, page_url: str, where: str) -> list[Candidate]:
    """Candidates of a PEP 691 JSON page (API version 1.x).

    Raises:
        IndexFetchError: not JSON, another major API version, or ``files`` missing or not
            a list of ``{filename, url}`` objects (names ``where``).
    """
    try:
        data = json.loads(body)
        version = str(data["meta"]["api-version"])
        files = data["files"]
        if not version.startswith("1.") or not isinstance(files, list):
            raise ValueError(f"api-version {version}")
        out = []
        for f in files:
            hashes = f.get("hashes") or {}
            yanked = f.get("yanked", False)
            out.append(Candidate(
                filename=str(f["filename"]),
                url=redact_url(urljoin(page_url, str(f["url"]))),
                sha256=str(hashes["sha256"]).lower() if "sha256" in hashes else None,
                requires_python=f.get("requires-python") or None,
                yanked=yanked is not False and yanked is not None,
                core_metadata=_json_core_metadata(f),
            ))
        return out
    except RecursionError as exc:
        raise IndexFetchError(f"malformed PEP 691 JSON page {where} (nested too deeply)"
                              ) from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise IndexFetchError(f"malformed PEP 691 JSON page {where} ({exc})") from exc


def parse_page(page: _Page, where: str) -> list[Candidate]:
    """Dispatch on the page's ``Content-Type`` (PEP 691 JSON or PEP 503 HTML).

    Raises:
        IndexFetchError: another content type, or a malformed page.
    """
    ctype = page.content_type.split(";", 1)[0].strip().lower()
    if ctype == _JSON_TYPE:
        return parse_json(page.body, page.url, where)
    if ctype in _HTML_TYPES:
        return parse_html(page.body, page.url, where)
    raise IndexFetchError(f"malformed index page {where} (Content-Type {ctype or 'missing'}, "
                          f"expected PEP 691 JSON or PEP 503 HTML)")


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
    except _NotFound:
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
        except _NotFound:
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
        except _NotFound as exc:
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
