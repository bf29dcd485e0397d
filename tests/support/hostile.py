"""An adversarial package index on 127.0.0.1: every way a server can misbehave, bounded.

``HostileIndex(behaviour, ...)`` answers every GET with one behaviour:

* ``drip``     - a valid status line, then one byte every ``interval`` seconds (at most
  ``limit`` bytes, then it closes): a server that never stops answering;
* ``reset``    - accepts the connection and resets it (TCP RST, ``SO_LINGER`` 0);
* ``huge``     - a PEP 503 HTML page of ``size`` bytes, streamed without Content-Length;
* ``deep``     - a PEP 691 JSON page nested ``depth`` arrays deep;
* ``redirect`` - ``302`` to ``location`` (another origin, ``http://host:port``) + the path;
* ``auth-loop``- ``401`` with ``WWW-Authenticate: Basic`` on every request;
* ``page``     - a valid PEP 691 JSON page with no files (a redirect target).

Every request's path and ``Authorization`` header are recorded (:attr:`HostileIndex.seen`).
The server stops by itself after ``lifetime`` seconds (a test that forgets it cannot hang
the suite), and every handler loop is bounded by ``limit``/``size``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BEHAVIOURS = ("drip", "reset", "huge", "deep", "redirect", "auth-loop", "page")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_GET(self) -> None:
        srv = self.server
        srv.seen.append((self.path, self.headers.get("Authorization")))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # client gave up
            getattr(self, "_" + srv.behaviour.replace("-", "_"))()

    def _drip(self) -> None:
        srv = self.server
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.flush()
        for _ in range(srv.limit):
            if srv.stopping.wait(srv.interval):
                return
            self.wfile.write(b" ")
            self.wfile.flush()

    def _reset(self) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _huge(self) -> None:
        srv = self.server
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = b"<a href='x-1.0.tar.gz'>x</a>" * 2048
        sent = 0
        while sent < srv.size and not srv.stopping.is_set():
            self.wfile.write(chunk)
            sent += len(chunk)
        self.close_connection = True

    def _deep(self) -> None:
        depth = self.server.depth
        body = (b'{"meta": {"api-version": "1.0"}, "name": "x", "files": '
                + b"[" * depth + b"]" * depth + b"}")
        self._send(200, "application/vnd.pypi.simple.v1+json", body)

    def _redirect(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.server.location.rstrip("/") + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _auth_loop(self) -> None:
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="hostile"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _page(self) -> None:
        body = json.dumps({"meta": {"api-version": "1.0"}, "name": "x", "files": []}).encode()
        self._send(200, "application/vnd.pypi.simple.v1+json", body)

    def _send(self, status: int, ctype: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    behaviour: str
    interval: float
    limit: int
    size: int
    depth: int
    location: str
    seen: list[tuple[str, str | None]]
    stopping: threading.Event


class HostileIndex:
    """A running adversarial server (see the module docstring).

    Attributes:
        url: ``http://127.0.0.1:PORT/simple/``; ``host`` and ``port`` its parts.
        seen: ``(path, Authorization header or None)`` of every request, in order.
    """

    def __init__(self, behaviour: str, *, interval: float = 0.5, limit: int = 120,
                 size: int = 64 << 20, depth: int = 100_000, location: str = "",
                 host: str = "127.0.0.1", lifetime: float = 120.0) -> None:
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}")
        self._httpd = _Server((host, 0), _Handler)
        srv = self._httpd
        srv.behaviour, srv.interval, srv.limit = behaviour, interval, limit
        srv.size, srv.depth, srv.location = size, depth, location
        srv.seen, srv.stopping = [], threading.Event()
        self.seen = srv.seen
        self.host = host
        self.port = srv.server_address[1]
        self.url = f"http://{host}:{self.port}/simple/"
        self._thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True)
        self._thread.start()
        self._started = time.monotonic()
        self._timer = threading.Timer(lifetime, self.close)  # stops by itself
        self._timer.daemon = True
        self._timer.start()

    def url_with(self, user: str, password: str, host: str | None = None) -> str:
        """``url`` with ``user:password@`` (and another host name for the same server)."""
        return f"http://{user}:{password}@{host or self.host}:{self.port}/simple/"

    def close(self) -> None:
        """Stop serving (idempotent); dripping handlers stop at their next byte."""
        self._timer.cancel()
        self._httpd.stopping.set()
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._httpd.server_close()


@contextmanager
def hostile_index(behaviour: str, **kwargs: Any) -> Iterator[HostileIndex]:
    """Serve one behaviour for the ``with`` block (see :class:`HostileIndex`)."""
    server = HostileIndex(behaviour, **kwargs)
    try:
        yield server
    finally:
        server.close()
