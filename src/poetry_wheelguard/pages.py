"""Index pages -> :class:`~poetry_wheelguard.models.Candidate` lists: PEP 691 JSON and
PEP 503 HTML (``html.parser``), with PEP 592 ``yanked``, PEP 503 ``data-requires-python``
and PEP 658/714 core-metadata attributes. Pure: bytes in, candidates out; a malformed or
too deeply nested page is one :class:`~poetry_wheelguard.errors.IndexFetchError` line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from poetry_wheelguard.errors import IndexFetchError
from poetry_wheelguard.models import Candidate
from poetry_wheelguard.report import redact_url

_JSON_TYPE = "application/vnd.pypi.simple.v1+json"
_HTML_TYPES = ("application/vnd.pypi.simple.v1+html", "text/html")


@dataclass
class Page:
    """One fetched index page: its URL (credentials removed; the base of relative links),
    ``Content-Type``, body (bytes) and the cache validators the server sent."""

    url: str            # redacted URL of the page (base for relative links)
    content_type: str
    body: bytes
    etag: str | None = None
    last_modified: str | None = None


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


def parse_page(page: Page, where: str) -> list[Candidate]:
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
