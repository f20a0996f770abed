"""The HTTP server the benchmarks and tests start on 127.0.0.1: every GET goes to one function, nothing is logged."""

from __future__ import annotations

from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackServer(ThreadingHTTPServer):
    # A poll cycle opens many connections at once; the default listen backlog (5) drops the SYNs of
    # such a burst, and the client retries them a second later.
    request_queue_size = 256
    daemon_threads = True


def loopback_server(answer: Callable[[BaseHTTPRequestHandler], None]) -> LoopbackServer:
    """A server bound to a free port on 127.0.0.1 that answers each GET with ``answer(request)``.

    Not yet serving: run ``serve_forever`` in a thread, ``shutdown`` and ``server_close`` to stop.
    """

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            answer(self)

    return LoopbackServer(("127.0.0.1", 0), Handler)
