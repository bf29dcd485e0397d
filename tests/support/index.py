"""A real package index on 127.0.0.1 for the tests: a static PEP 503 tree over HTTP.

``StaticIndex(root)`` lays out ``root/simple/<normalized name>/index.html`` (anchors with
``#sha256=`` fragments, PEP 503) and ``root/files/<file>``, optionally with a wheel's
PEP 658 ``<file>.metadata`` beside it (``data-dist-info-metadata``, ``data-core-metadata``);
:meth:`StaticIndex.serve` serves it with the standard library's HTTP server on an ephemeral
loopback port, optionally behind HTTP basic auth (to test that credentials never leak).
"""

from __future__ import annotations

import base64
import hashlib
import html
import shutil
import threading
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename


def project_of(filename: str) -> str:
    """Normalized project name of a wheel or sdist file name (parsed by packaging)."""
    if filename.endswith(".whl"):
        return canonicalize_name(parse_wheel_filename(filename)[0])
    return canonicalize_name(parse_sdist_filename(filename)[0])


class StaticIndex:
    """A PEP 503 "simple" tree on disk, served over HTTP on 127.0.0.1."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "simple").mkdir(parents=True, exist_ok=True)
        (root / "files").mkdir(parents=True, exist_ok=True)
        self.requires_python: dict[str, str] = {}
        self.core_metadata: set[str] = set()
        self.yanked: set[str] = set()

    def add(self, files: Sequence[Path], requires_python: str | None = None,
            core_metadata: bool = False, yanked: bool = False) -> None:
        """Copy ``files`` into the tree and regenerate the affected project pages;
        ``yanked`` marks them ``data-yanked`` (PEP 592); ``core_metadata`` serves each
        wheel's METADATA as its PEP 658 ``.metadata`` file (pip then resolves with it
        without downloading the wheel)."""
        projects = set()
        for f in files:
            if core_metadata and f.name.endswith(".whl"):
                self.core_metadata.add(f.name)
            dest = self.root / "files" / f.name
            if f.resolve() != dest.resolve():
                shutil.copy2(f, dest)
            if requires_python:
                self.requires_python[f.name] = requires_python
            if yanked:
                self.yanked.add(f.name)
            projects.add(project_of(f.name))
        for project in projects:
            self._write_project(project)
        self._write_root()

    def files(self, project: str) -> list[Path]:
        """The files of ``project`` in the tree."""
        want = canonicalize_name(project)
        return sorted(p for p in (self.root / "files").iterdir()
                      if not p.name.endswith(".metadata") and project_of(p.name) == want)

    def _write_project(self, project: str) -> None:
        links = []
        for f in self.files(project):
            digest = hashlib.sha256(f.read_bytes()).hexdigest()
            if f.name.endswith(".metadata"):
                continue
            rp = self.requires_python.get(f.name)
            attr = f' data-requires-python="{html.escape(rp)}"' if rp else ""
            if f.name in self.core_metadata:
                with zipfile.ZipFile(f) as zf:
                    data = next(zf.read(n) for n in zf.namelist()
                                if n.endswith(".dist-info/METADATA"))
                (f.parent / f"{f.name}.metadata").write_bytes(data)
                meta = f"sha256={hashlib.sha256(data).hexdigest()}"
                attr += f' data-dist-info-metadata="{meta}" data-core-metadata="{meta}"'
            attr += ' data-yanked="broken"' if f.name in self.yanked else ""
            links.append(f'<a href="../../files/{f.name}#sha256={digest}"{attr}>{f.name}</a><br/>')
        page = self.root / "simple" / project / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text("<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n")

    def _write_root(self) -> None:
        names = sorted(p.name for p in (self.root / "simple").iterdir() if p.is_dir())
        body = "\n".join(f'<a href="{n}/">{n}</a><br/>' for n in names)
        (self.root / "simple" / "index.html").write_text(
            f"<!DOCTYPE html><html><body>\n{body}\n</body></html>\n")

    @contextmanager
    def serve(self, auth: tuple[str, str] | None = None) -> Iterator[IndexServer]:
        """Serve the tree; yields an :class:`IndexServer` (``.url`` ends in ``/simple/``)."""
        server = IndexServer(self.root, auth)
        try:
            yield server
        finally:
            server.close()


class _Handler(SimpleHTTPRequestHandler):
    auth_header: str | None = None
    requests_seen: list[str]

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_GET(self) -> None:
        if self.auth_header and self.headers.get("Authorization") != self.auth_header:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="wheelguard-test"')
            self.end_headers()
            return
        self.requests_seen.append(self.path)
        super().do_GET()


class IndexServer:
    """A running HTTP server for a :class:`StaticIndex`.

    Attributes:
        root: the served tree.
        url: ``http://127.0.0.1:PORT/simple/`` (with ``user:password@`` when auth is set).
        bare_url: the same without credentials.
        requests: paths requested so far (to assert that no file was downloaded).
    """

    def __init__(self, root: Path, auth: tuple[str, str] | None) -> None:
        self.root = root
        self.requests: list[str] = []
        header = None
        if auth:
            header = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        handler = type("Handler", (_Handler,), {"auth_header": header,
                                                 "requests_seen": self.requests})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
        port = self._httpd.server_address[1]
        self.bare_url = f"http://127.0.0.1:{port}/simple/"
        self.url = (f"http://{auth[0]}:{auth[1]}@127.0.0.1:{port}/simple/" if auth
                    else self.bare_url)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def file_requests(self) -> list[str]:
        """Requests for distribution files (not index pages, not PEP 658 metadata)."""
        return [p for p in self.requests
                if p.startswith("/files/") and not p.endswith(".metadata")]

    def metadata_requests(self) -> list[str]:
        """Requests for PEP 658 ``.metadata`` files."""
        return [p for p in self.requests if p.startswith("/files/") and p.endswith(".metadata")]

    def close(self) -> None:
        """Stop serving."""
        self._httpd.shutdown()
        self._httpd.server_close()
