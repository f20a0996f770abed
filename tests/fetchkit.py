"""A real HTTP server on 127.0.0.1 that serves feeds and misbehaves on purpose, and CLI helpers.

Each test starts its own server (port 0) and declares routes: static bodies with ETag and
Last-Modified (answering 304 to matching validators), redirects, error statuses, a stalled
response, an endless body, a trickle, a gzip bomb. Every request is recorded with its headers,
arrival time and how many requests were in flight at that moment.
"""

from __future__ import annotations

import gzip
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from benchmarks.loopback import loopback_server
from ingest.app import App
from ingest.cli import main
from store.models import Article, Feed, Fetch


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    at: float
    in_flight: int


class Exchange:
    """What a route handler gets: the recorded request and ways to answer it."""

    def __init__(self, handler: BaseHTTPRequestHandler, request: Recorded, server: FeedServer) -> None:
        self.handler = handler
        self.request = request
        self.server = server

    def send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        handler = self.handler
        handler.send_response(status)
        merged = {"Content-Length": str(len(body)), **(headers or {})}
        for name, value in merged.items():
            handler.send_header(name, value)
        handler.end_headers()
        if body and self.request.method != "HEAD":
            handler.wfile.write(body)
        handler.wfile.flush()

    def start(self, status: int, headers: dict[str, str]) -> None:
        """Send the status line and headers only (the body follows, or never does)."""
        handler = self.handler
        handler.send_response(status)
        for name, value in {"Connection": "close", **headers}.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.flush()
        handler.close_connection = True


Route = Callable[[Exchange], None]


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Recorded] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._in_flight = 0
        self.httpd = loopback_server(self._answer)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self._in_flight += 1
            request = Recorded(
                "GET", handler.path, {k.lower(): v for k, v in handler.headers.items()}, time.monotonic(),
                self._in_flight,
            )
            self.requests.append(request)
        try:
            route = self.routes.get(handler.path) or self.routes.get(handler.path.split("?")[0])
            exchange = Exchange(handler, request, self)
            if route is None:
                exchange.send(404, b"not found", {"Content-Type": "text/plain"})
            else:
                route(exchange)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True
        finally:
            with self._lock:
                self._in_flight -= 1

    def close(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def route(self, path: str, handler: Route) -> str:
        self.routes[path] = handler
        return self.url(path)

    def requests_to(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path.split("?")[0] == path]

    # --- canned behaviours ---------------------------------------------------------------------

    def static(
        self,
        path: str,
        body: bytes | Callable[[], bytes],
        content_type: str = "application/rss+xml; charset=utf-8",
        etag: str | None = None,
        last_modified: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> str:
        """A document with optional validators; a request carrying them gets 304."""

        def handle(exchange: Exchange) -> None:
            content = body() if callable(body) else body
            extra = {"Content-Type": content_type, **(headers or {})}
            if etag:
                extra["ETag"] = etag
            if last_modified:
                extra["Last-Modified"] = last_modified
            sent_etag = exchange.request.headers.get("if-none-match")
            sent_date = exchange.request.headers.get("if-modified-since")
            if (etag and sent_etag == etag) or (not etag and last_modified and sent_date == last_modified):
                exchange.send(304, b"", {k: v for k, v in extra.items() if k != "Content-Type"})
                return
            exchange.send(200, content, extra)

        return self.route(path, handle)

    def redirect(self, path: str, status: int, location: str, headers: dict[str, str] | None = None) -> str:
        return self.route(path, lambda x: x.send(status, b"", {"Location": location, **(headers or {})}))

    def status(self, path: str, code: int, headers: dict[str, str] | None = None, body: bytes = b"") -> str:
        return self.route(path, lambda x: x.send(code, body, {"Content-Type": "text/plain", **(headers or {})}))

    def stall(self, path: str, seconds: float) -> str:
        """Headers, then nothing for ``seconds`` (a server that hangs mid-response)."""

        def handle(exchange: Exchange) -> None:
            exchange.start(200, {"Content-Type": "application/rss+xml", "Content-Length": "100000"})
            exchange.handler.wfile.write(b"<?xml version='1.0'?><rss version='2.0'><channel>")
            exchange.handler.wfile.flush()
            self.stopping.wait(seconds)

        return self.route(path, handle)

    def endless(self, path: str) -> str:
        """A body that never ends: 64 KB chunks as fast as the client reads them."""

        def handle(exchange: Exchange) -> None:
            exchange.start(200, {"Content-Type": "application/rss+xml"})
            chunk = b"<item><title>again</title></item>" * 2000
            exchange.handler.wfile.write(b"<?xml version='1.0'?><rss version='2.0'><channel>")
            while not self.stopping.is_set():
                exchange.handler.wfile.write(chunk)

        return self.route(path, handle)

    def trickle(self, path: str, interval: float) -> str:
        """A byte every ``interval`` seconds: never a read timeout, only the total deadline stops it."""

        def handle(exchange: Exchange) -> None:
            exchange.start(200, {"Content-Type": "application/rss+xml"})
            for _ in itertools.count():
                if self.stopping.wait(interval):
                    return
                exchange.handler.wfile.write(b" ")
                exchange.handler.wfile.flush()

        return self.route(path, handle)

    def gzip_bomb(self, path: str, bomb: bytes) -> str:
        return self.route(
            path,
            lambda x: x.send(200, bomb, {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"}),
        )


def http_date(seconds_from_now: float = 0.0) -> str:
    return formatdate(time.time() + seconds_from_now, usegmt=True)


_BOMB_CACHE: dict[int, bytes] = {}


def gzip_bomb_bytes(decompressed_size: int) -> bytes:
    """Zeros, gzip-compressed (~1000:1), built once per size in a test session."""
    if decompressed_size not in _BOMB_CACHE:
        compressor_input = b"\0" * (1024 * 1024)
        import io

        buffer = io.BytesIO()
        with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9) as handle:
            for _ in range(decompressed_size // len(compressor_input)):
                handle.write(compressor_input)
        _BOMB_CACHE[decompressed_size] = buffer.getvalue()
    return _BOMB_CACHE[decompressed_size]


# --- the CLI against a test database and settings --------------------------------------------------

FAST_FETCH_SETTINGS: dict[str, Any] = {
    "allowed_hosts": ["127.0.0.1"],
    "connect_timeout_seconds": 2.0,
    "read_timeout_seconds": 1.0,
    "total_timeout_seconds": 5.0,
    "per_host_delay_seconds": 0.0,
    "per_host_concurrency": 4,
    "max_concurrency": 4,
    "max_body_bytes": 4 * 1024 * 1024,
    "max_decompressed_bytes": 8 * 1024 * 1024,
    "default_interval_seconds": 600,
    "min_interval_seconds": 60,
    "max_backoff_seconds": 3600,
    "max_cache_hint_seconds": 7200,
    "max_retry_after_seconds": 86400,
}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


@dataclass
class FetchEnv:
    """The CLI bound to one database and one settings file written for the test."""

    database_url: str
    tmp_path: Path
    capsys: pytest.CaptureFixture[str]
    fetch_settings: dict[str, Any] = field(default_factory=lambda: dict(FAST_FETCH_SETTINGS))

    @property
    def config_path(self) -> Path:
        path = self.tmp_path / "newsdedup.toml"
        lines = ["[fetch]"] + [f"{key} = {_toml_value(value)}" for key, value in self.fetch_settings.items()]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def configure(self, **values: Any) -> None:
        self.fetch_settings.update(values)

    def cli(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(["--database-url", self.database_url, "--config", str(self.config_path), *args])
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def add(self, url: str, name: str, *extra: str) -> None:
        code, _out, err = self.cli("feeds", "add", url, "--name", name, *extra)
        assert code == 0, err

    def fetch(self, *args: str) -> tuple[int, dict[str, dict[str, Any]]]:
        """``fetch --json`` with ``args``; the results by feed name."""
        code, out, _err = self.cli("fetch", "--json", *args)
        results = {}
        for line in out.splitlines():
            data = json.loads(line)
            results[data["feed"]] = data
        return code, results

    def fetch_lines(self, *args: str) -> tuple[int, dict[str, str]]:
        code, out, _err = self.cli("fetch", *args)
        lines = {}
        for line in out.splitlines():
            name, _, rest = line.partition(": ")
            lines[name] = rest
        return code, lines


def iter_items(text: str) -> Iterator[str]:
    start = 0
    while (begin := text.find("<item", start)) != -1:
        end = text.find("</item>", begin)
        yield text[begin : end + len("</item>")]
        start = end


# --- reading the database in assertions ------------------------------------------------------------


def fetch_rows(app: App, feed_name: str) -> list[Fetch]:
    with app.sessions() as session:
        return list(
            session.scalars(
                select(Fetch).join(Feed, Feed.id == Fetch.feed_id).where(Feed.name == feed_name).order_by(Fetch.id)
            )
        )


def feed_row(app: App, name: str) -> Feed:
    with app.sessions() as session:
        feed = session.scalar(select(Feed).where(Feed.name == name))
        assert feed is not None, name
        return feed


def count(app: App, model: type[Any]) -> int:
    with app.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def articles_of(app: App, feed_name: str) -> list[Article]:
    with app.sessions() as session:
        return list(
            session.scalars(
                select(Article)
                .join(Feed, Feed.id == Article.feed_id)
                .where(Feed.name == feed_name)
                .order_by(Article.id)
            )
        )
