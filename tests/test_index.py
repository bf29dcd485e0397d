"""index.py against real servers on 127.0.0.1: the fixture PEP 503 index (HTML, basic auth)
and small servers of our own for PEP 691 JSON, malformed pages, 404 and a closed port."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from poetry_wheelguard.errors import IndexFetchError
from poetry_wheelguard.index import IndexClient, IndexConfig
from poetry_wheelguard.pages import parse_html
from poetry_wheelguard.pip.config import pip_index_config
from tests.conftest import FixtureIndex
from tests.support.index import IndexServer

Routes = dict[str, tuple[int, str, bytes]]


@contextmanager
def serve(routes: Routes) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """Serve ``{path: (status, content type, body)}``; yields (base URL, request headers)."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            seen.append({"path": self.path, **dict(self.headers)})
            status, ctype, body = routes.get(self.path, (404, "text/plain", b"not found"))
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/simple/", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


SHA = hashlib.sha256(b"x").hexdigest()
JSON_PAGE = json.dumps({
    "meta": {"api-version": "1.1"},
    "name": "demo",
    "files": [
        {"filename": "demo-1.0.tar.gz", "url": "/files/demo-1.0.tar.gz",
         "hashes": {"sha256": SHA}, "requires-python": ">=3.8"},
        {"filename": "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
         "url": "https://files.example.invalid/demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
         "hashes": {}, "yanked": "broken build"},
        {"filename": "demo-2.0-py3-none-any.whl", "url": "../../files/demo-2.0-py3-none-any.whl",
         "hashes": {"sha256": SHA.upper()}, "yanked": False},
        {"filename": "other-1.0-py3-none-any.whl", "url": "/files/other-1.0-py3-none-any.whl",
         "hashes": {}},
        {"filename": "demo-1.0.win32.exe", "url": "/files/demo-1.0.win32.exe", "hashes": {}},
    ],
}).encode()
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


def _config(*urls: str, **kw: object) -> IndexConfig:
    return IndexConfig(index_urls=tuple(urls), **kw)  # type: ignore[arg-type]


def test_pep691_json_listing() -> None:
    with serve({"/simple/demo/": (200, JSON_TYPE, JSON_PAGE)}) as (url, seen):
        listing = IndexClient(_config(url)).listing("Demo")
    assert "application/vnd.pypi.simple.v1+json" in seen[0]["Accept"]
    files = {f.candidate.filename: f.candidate for f in listing.files}
    # other projects' files and non-distribution names are left out
    assert set(files) == {"demo-1.0.tar.gz", "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
                          "demo-2.0-py3-none-any.whl"}
    sdist = files["demo-1.0.tar.gz"]
    assert sdist.sha256 == SHA and sdist.requires_python == ">=3.8" and not sdist.yanked
    assert sdist.url == url.replace("/simple/", "/files/demo-1.0.tar.gz")
    assert files["demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"].yanked
    assert files["demo-2.0-py3-none-any.whl"].sha256 == SHA  # normalized to lower case
    assert set(listing.versions()) == {"1.0", "2.0"}


def test_pep503_html_listing_from_the_fixture_index(index_server: IndexServer,
                                                    fixture_index: FixtureIndex) -> None:
    downloads = len(index_server.file_requests())  # the server is shared by the session
    listing = IndexClient(_config(index_server.url)).listing("wg_purefallback")
    names = sorted(f.candidate.filename for f in listing.files)
    assert names == sorted(p.name for p in fixture_index.index.files("wg-purefallback"))
    for f in listing.files:
        data = (fixture_index.index.root / "files" / f.candidate.filename).read_bytes()
        assert f.candidate.sha256 == hashlib.sha256(data).hexdigest()
        assert f.candidate.url.startswith(index_server.bare_url.replace("/simple/", "/files/"))
    assert len(index_server.file_requests()) == downloads  # listing downloads no file


def test_html_attributes_base_href_and_escapes() -> None:
    page = (b'<html><head><base href="https://mirror.example/pkgs/"></head><body>'
            b'<a href="demo-1.0.tar.gz#sha256=ABC" data-requires-python="&gt;=3.9">x</a>'
            b'<a href="sub/demo-1.0-py3-none-any.whl" data-yanked="">y</a>'
            b'<a>no href</a></body></html>')
    cands = parse_html(page, "https://index.example/simple/demo/", "test page")
    assert [(c.filename, c.url, c.sha256, c.requires_python, c.yanked) for c in cands] == [
        ("demo-1.0.tar.gz", "https://mirror.example/pkgs/demo-1.0.tar.gz", "abc", ">=3.9",
         False),
        ("demo-1.0-py3-none-any.whl", "https://mirror.example/pkgs/sub/demo-1.0-py3-none-any.whl",
         None, None, True),
    ]


def test_html_fallback_when_server_answers_html() -> None:
    html = b'<a href="/f/demo-1.0.tar.gz#sha256=' + SHA.encode() + b'">demo-1.0.tar.gz</a>'
    with serve({"/simple/demo/": (200, "text/html; charset=utf-8", html)}) as (url, _):
        listing = IndexClient(_config(url)).listing("demo")
    assert [f.candidate.sha256 for f in listing.files] == [SHA]


@pytest.mark.parametrize(("ctype", "body", "message"), [
    (JSON_TYPE, b"{not json", "malformed PEP 691 JSON page"),
    (JSON_TYPE, b'{"meta": {"api-version": "2.0"}, "files": []}', "api-version 2.0"),
    (JSON_TYPE, b'{"meta": {"api-version": "1.0"}, "files": [{"url": "x"}]}', "malformed"),
    ("application/octet-stream", b"\x00\x01", "Content-Type application/octet-stream"),
    ("text/html", b"\xff\xfe<a href=x>", "not UTF-8"),
])
def test_malformed_page_is_one_line_error(ctype: str, body: bytes, message: str) -> None:
    with serve({"/simple/demo/": (200, ctype, body)}) as (url, _), \
            pytest.raises(IndexFetchError, match=message) as info:
        IndexClient(_config(url)).listing("demo")
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("demo: ")


def test_unknown_project_is_not_found_on_any_source() -> None:
    with serve({}) as (url, _), serve({}) as (url2, _), \
            pytest.raises(IndexFetchError, match="project not found on") as info:
        IndexClient(_config(url, url2)).listing("no-such-project")
    assert url in str(info.value) and url2 in str(info.value)


def test_project_on_the_extra_index_only() -> None:
    with serve({}) as (url, _), \
            serve({"/simple/demo/": (200, JSON_TYPE, JSON_PAGE)}) as (extra, _):
        listing = IndexClient(_config(url, extra)).listing("demo")
    assert {f.source for f in listing.files} == {extra}


def test_unreachable_index() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(IndexFetchError, match="cannot reach index") as info:
        IndexClient(_config(f"http://u:pw-secret@127.0.0.1:{port}/simple/")).listing("demo")
    assert "pw-secret" not in str(info.value) and "\n" not in str(info.value)


def test_server_error_is_reported() -> None:
    with serve({"/simple/demo/": (503, "text/plain", b"down")}) as (url, _), \
            pytest.raises(IndexFetchError, match="HTTP 503"):
        IndexClient(_config(url)).listing("demo")


def test_basic_auth_credentials_are_sent_and_never_shown(
        auth_index_server: IndexServer) -> None:
    listing = IndexClient(_config(auth_index_server.url)).listing("wg-puredep")
    assert [f.candidate.filename for f in listing.files] == ["wg_puredep-1.0-py3-none-any.whl"]
    shown = json.dumps([[f.candidate.url, f.source] for f in listing.files] + [listing.sources])
    assert "s3cr3t-token" not in shown and "wg-user" not in shown
    # a wrong password: the refusal names the index without the credentials
    wrong = auth_index_server.url.replace("s3cr3t-token", "wrong-pass")
    with pytest.raises(IndexFetchError, match="refused access") as info:
        IndexClient(_config(wrong)).listing("wg-puredep")
    assert "wrong-pass" not in str(info.value)
    with pytest.raises(IndexFetchError, match="HTTP 401"):
        IndexClient(_config(auth_index_server.bare_url)).listing("wg-puredep")


def test_netrc_credentials(auth_index_server: IndexServer, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login wg-user password s3cr3t-token\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    listing = IndexClient(_config(auth_index_server.bare_url)).listing("wg-puredep")
    assert len(listing.files) == 1


def test_find_links_directory_and_file_index(fixture_index: FixtureIndex) -> None:
    root = fixture_index.index.root
    client = IndexClient(IndexConfig(index_urls=((root / "simple").as_uri(),),
                                     find_links=(str(root / "files"),)))
    listing = client.listing("wg-sdistbuild")
    by_source: dict[str, set[str]] = {}
    for f in listing.files:
        by_source.setdefault(f.source, set()).add(f.candidate.filename)
    expected = {p.name for p in fixture_index.index.files("wg-sdistbuild")}
    assert by_source == {str(root / "files"): expected, (root / "simple").as_uri(): expected}
    # pip's order: find-links files first, then the index pages
    assert listing.files[0].source == str(root / "files")


def test_concurrent_listings_and_disk_cache(tmp_path: Path) -> None:
    routes = {f"/simple/p{i}/": (200, "text/html",
                                 f'<a href="/f/p{i}-1.0.tar.gz">x</a>'.encode())
              for i in range(12)}
    cache = tmp_path / "cache"
    with serve(routes) as (url, seen):
        got = IndexClient(_config(url, cache_dir=cache)).listings([f"p{i}" for i in range(12)])
        assert sorted(got) == sorted(f"p{i}" for i in range(12))
        assert len(seen) == 12
        again = IndexClient(_config(url, cache_dir=cache)).listings(["p0", "p1"])
        assert len(seen) == 12  # fresh cache entries: no request
        assert again["p0"].files == got["p0"].files
        IndexClient(_config(url, cache_dir=cache, max_age=0)).listing("p3")
        assert len(seen) == 13  # stale: asked again
    assert not any("s3cr3t" in p.read_text() for p in cache.iterdir())


def test_revalidation_uses_last_modified(index_server: IndexServer, tmp_path: Path) -> None:
    cfg = _config(index_server.url, cache_dir=tmp_path / "c", max_age=0)
    first = IndexClient(cfg).listing("wg-puredep")
    time.sleep(0.01)
    second = IndexClient(cfg).listing("wg-puredep")  # 304 Not Modified -> cached page
    assert first.files == second.files


def test_pip_index_config_from_pip_configuration(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nindex-url = https://u:tok@idx.example/simple/\n"
                    "extra-index-url = https://extra.example/simple/\n"
                    "find-links = /srv/wheels\n")
    for var in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    cfg = pip_index_config()
    assert cfg.index_urls == ("https://u:tok@idx.example/simple/",
                              "https://extra.example/simple/")
    assert cfg.find_links == ("/srv/wheels",)
    # PIP_* variables override the file, as in pip; flags override both
    monkeypatch.setenv("PIP_INDEX_URL", "https://env.example/simple/")
    assert pip_index_config().index_urls[0] == "https://env.example/simple/"
    flags = pip_index_config(index_url="https://flag.example/simple/", extra_index_urls=[],
                             find_links=[])
    assert flags.index_urls == ("https://flag.example/simple/",) and flags.find_links == ()
    assert pip_index_config(no_index=True).index_urls == ()


def test_pip_index_config_without_pip_reads_environment() -> None:
    env = {"PIP_INDEX_URL": "https://a.example/simple/",
           "PIP_EXTRA_INDEX_URL": "https://b.example/simple/ https://c.example/simple/",
           "PIP_FIND_LINKS": "/w"}
    cfg = pip_index_config(env, use_pip=False)
    assert cfg.index_urls == ("https://a.example/simple/", "https://b.example/simple/",
                              "https://c.example/simple/")
    assert cfg.find_links == ("/w",)
    assert pip_index_config({}, use_pip=False).index_urls == ("https://pypi.org/simple/",)


def test_index_module_imports_no_pip() -> None:
    import subprocess
    import sys

    code = ("import sys, poetry_wheelguard.index; "
            "print(sorted(m for m in sys.modules if m == 'pip' or m.startswith('pip.')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert proc.stdout.strip() == "[]"


def test_unreadable_ca_bundle_is_one_line_at_the_https_fetch(tmp_path: Path) -> None:
    """pip's ``cert`` is read only when an https:// page is fetched (an interpreter without
    ssl still reads http:// and file:// indexes); a missing bundle is one line."""
    config = IndexConfig(index_urls=("https://127.0.0.1:9/simple/",),
                         cafile=str(tmp_path / "missing-ca.pem"))
    client = IndexClient(config)
    with pytest.raises(IndexFetchError) as err:
        client.listing("six")
    assert err.value.reason == (f"cannot read the CA bundle {tmp_path / 'missing-ca.pem'} "
                              "(pip's cert / PIP_CERT) for https://127.0.0.1:9/: No such file "
                              "or directory")
