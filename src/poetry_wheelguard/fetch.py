"""The HTTP client of the index code (:class:`Fetcher`): ``http(s)://`` and ``file://``
pages with credentials, a CA bundle, an on-disk cache, one deadline per request, a page
size cap, no ``Authorization`` across origins, and Ctrl-C that stops every fetch at once.
The limits and their variables are in :mod:`poetry_wheelguard.index`'s docstring.
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
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import unquote, urlsplit, urlunsplit

if TYPE_CHECKING:
    import ssl

from poetry_wheelguard import __version__
from poetry_wheelguard.errors import ConfigError, IndexFetchError
from poetry_wheelguard.pages import Page
from poetry_wheelguard.report import redact_url

if TYPE_CHECKING:
    from poetry_wheelguard.index import IndexConfig

ACCEPT = ("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
          "text/html;q=0.01")
"""PEP 691 content negotiation: JSON first, PEP 503 HTML as the fallback."""


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

    def get(self, url: str) -> tuple[Page, float] | None:
        try:
            data = json.loads(self._path(url).read_text("utf-8"))
            page = Page(data["url"], data["content_type"],
                         base64.b64decode(data["body"]), data.get("etag"),
                         data.get("last_modified"))
            return page, float(data["fetched"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, url: str, page: Page) -> None:
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


class PageNotFound(Exception):
    """The page does not exist (HTTP 404/410, missing file)."""


class Fetcher:
    """Fetches pages over HTTP(S) or ``file://`` with credentials, a CA bundle and a cache.

    Raises (from :meth:`get`): :class:`IndexFetchError` for an unreachable server, an HTTP
    error other than 404/410, a refused login; ``PageNotFound`` (internal) for 404/410.
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
            cache: bool = True) -> Page:
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
                page = Page(redact_url(resp.geturl()), resp.headers.get("Content-Type", ""),
                             body, resp.headers.get("ETag"), resp.headers.get("Last-Modified"))
        except urllib.error.HTTPError as exc:
            if exc.code == 304 and cached:
                page = cached[0]
            elif exc.code in (404, 410):
                raise PageNotFound(shown) from exc
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

    def _get_file(self, url: str, shown: str, limit: int) -> Page:
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
            raise PageNotFound(shown) from exc
        except OSError as exc:
            raise IndexFetchError(f"cannot read {shown} ({exc.strerror})") from exc
        return Page(path.as_uri(), "text/html", body)
