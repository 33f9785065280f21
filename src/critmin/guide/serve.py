"""Serve the guide to Neo4j Browser: HTTP on 127.0.0.1 only, CORS for loopback pages only.

Browser fetches a remote guide from its page (``http://127.0.0.1:7474/browser/``) with a
cross-origin GET carrying ``pragma`` and ``cache-control`` headers, so it first sends a CORS
preflight (OPTIONS). Both are answered with ``Access-Control-Allow-Origin`` naming the page's
origin when that origin is on this machine (127.0.0.1, localhost, [::1]); a page from any other
host gets no CORS permission, so its browser refuses to hand it the guide. Requests whose
``Host`` is not a loopback name are refused outright (a DNS-rebinding page cannot read it).

The page is written at each request from the store as it is then (cached a few seconds), so a
sweep stored after the server started shows in the next ``:guide``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, urlsplit

__all__ = [
    "GUIDE_PATH",
    "LOOPBACK_HOSTS",
    "GuideServer",
    "allowed_origin",
    "browser_guide_url",
    "guide_url",
]

GUIDE_PATH = "/critmin.html"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: The host name in the guide's URL: Browser lets a page fetch from ``localhost`` before it is
#: connected (its built-in allowlist), and from the server's allowlist once connected.
URL_HOST = "localhost"
CACHE_SECONDS = 5.0

log = logging.getLogger(__name__)


def _hostname(value: str) -> str | None:
    """The host name of an ``Origin`` (scheme://host[:port]) or a ``Host`` header (host[:port])."""
    text = value.strip()
    try:
        parts = urlsplit(text if "://" in text else f"//{text}")
        return (parts.hostname or "").lower() or None
    except ValueError:
        return None


def allowed_origin(origin: str | None) -> str | None:
    """The origin to name in ``Access-Control-Allow-Origin``: ``origin`` when it is an http(s)
    page on this machine, else None (no CORS permission).

    >>> allowed_origin("http://127.0.0.1:7474")
    'http://127.0.0.1:7474'
    >>> allowed_origin("http://localhost:7474"), allowed_origin("http://[::1]:7474")
    ('http://localhost:7474', 'http://[::1]:7474')
    >>> [allowed_origin(o) for o in ("https://evil.example", "http://127.0.0.1.evil.example",
    ...                              "null", "file://", None)]
    [None, None, None, None, None]
    """
    if not origin or not origin.startswith(("http://", "https://")):
        return None
    return origin if _hostname(origin) in LOOPBACK_HOSTS else None


def guide_url(port: int) -> str:
    """The guide's URL for ``:guide``.

    >>> guide_url(7480)
    'http://localhost:7480/critmin.html'
    """
    return f"http://{URL_HOST}:{port}{GUIDE_PATH}"


def browser_guide_url(browser_url: str, port: int) -> str:
    """Browser's URL (with its ``?dbms=...`` connect form) that also plays the guide on opening.

    >>> browser_guide_url("http://127.0.0.1:7474/browser/?dbms=bolt://neo4j@127.0.0.1:7687", 7480)
    'http://127.0.0.1:7474/browser/?dbms=bolt://neo4j@127.0.0.1:7687&cmd=guide&arg=http%3A%2F%2Flocalhost%3A7480%2Fcritmin.html'
    """
    joiner = "&" if "?" in browser_url else "?"
    return f"{browser_url}{joiner}cmd=guide&arg={quote(guide_url(port), safe='')}"


class _Handler(BaseHTTPRequestHandler):
    server: GuideServer
    server_version = "critmin-guide"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def _cors(self) -> None:
        origin = allowed_origin(self.headers.get("Origin"))
        if origin is not None:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Allow-Methods", "GET, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", "pragma, cache-control")
            self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Vary", "Origin")

    def _plain(self, status: HTTPStatus, text: str) -> None:
        body = text.encode()
        self.send_response(status)
        self._cors()
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _host_ok(self) -> bool:
        if _hostname(self.headers.get("Host") or "") in LOOPBACK_HOSTS:
            return True
        self._plain(HTTPStatus.FORBIDDEN, "this server answers requests to 127.0.0.1 only\n")
        return False

    def do_OPTIONS(self) -> None:
        if not self._host_ok():
            return
        self.send_response(HTTPStatus.NO_CONTENT)
        self._cors()
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        if not self._host_ok():
            return
        path = urlsplit(self.path).path
        if path not in (GUIDE_PATH, "/"):
            self._plain(HTTPStatus.NOT_FOUND, f"the guide is at {GUIDE_PATH}\n")
            return
        try:
            page = self.server.page()
        except Exception as exc:  # the store is down, say: tell Browser, keep serving
            log.exception("writing the guide failed")
            self._plain(
                HTTPStatus.SERVICE_UNAVAILABLE, f"critmin could not write the guide: {exc}\n"
            )
            return
        body = page.encode()
        self.send_response(HTTPStatus.OK)
        self._cors()
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class GuideServer(ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 answering with ``write()``'s page (cached a few seconds)."""

    daemon_threads = True

    def __init__(self, write: Callable[[], str], port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self._write = write
        self._lock = threading.Lock()
        self._cached: tuple[float, str] | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return guide_url(self.port)

    def page(self) -> str:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] > CACHE_SECONDS:
                self._cached = (now, self._write())
            return self._cached[1]
