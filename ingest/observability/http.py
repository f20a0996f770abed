"""``/healthz`` (alive), ``/readyz`` (database reachable and at head) and ``/metrics``.

The standard library's threading HTTP server is enough for three read-only endpoints scraped
every few seconds; it binds to loopback unless configured otherwise.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST

from ingest.observability.metrics import Metrics

ReadinessCheck = Callable[[], str | None]  # None when ready, else the reason


class HealthServer:
    def __init__(self, metrics: Metrics, readiness: ReadinessCheck, host: str = "127.0.0.1", port: int = 0) -> None:
        self.metrics = metrics
        self.readiness = readiness
        self.alive = True
        handler = self._handler_class()
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="health-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/healthz":
                    self._reply(200 if owner.alive else 503, b"ok\n" if owner.alive else b"stopping\n")
                elif path == "/readyz":
                    problem = owner.readiness()
                    if problem is None:
                        self._reply(200, b"ready\n")
                    else:
                        self._reply(503, f"not ready: {problem}\n".encode())
                elif path == "/metrics":
                    self._reply(200, owner.metrics.render(), CONTENT_TYPE_LATEST)
                else:
                    self._reply(404, b"not found\n")

            def _reply(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return  # scrapes every few seconds would drown the log

        return Handler
