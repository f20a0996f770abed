"""Fetching benchmark: fetch cycles over real corpus feeds served from 127.0.0.1.

All figures come from one process, each with its baseline:

- cycle time over N feeds: the first cycle (everything new), a cycle where every feed answers 304,
  a cycle where the server ignores validators but sends the same bytes (skipped by body hash), and a
  forced cycle (``--force``: every feed parsed and every entry compared again), the baseline the two
  skips are measured against;
- concurrency: a 304 cycle over N feeds whose server takes D ms per response, one request at a
  time (baseline) against the configured pool;
- memory: peak traced allocation while refusing a gzip bomb at a 1 MB cap, our bounded decoder
  against httpx's own streaming decoder (baseline) on the same bytes.

    python -m benchmarks.fetching [--feeds N] [--delay-ms D] [--bomb-mb M] [--json FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import io
import json
import os
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx

from benchmarks.loopback import loopback_server
from config import FetchSettings, load_settings
from ingest import migrations
from ingest.app import App
from ingest.fetching import open_fetcher, open_registry
from ingest.fetching.decoding import BoundedDecoder
from ingest.fetching.errors import BodyTooLargeError

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = Path(os.environ.get("NEWSDEDUP_CORPUS", REPO.parent / "shared" / "corpus"))
CAP = 1024 * 1024


class _Server:
    """Static feeds with ETags; optionally ignoring validators, optionally slow."""

    def __init__(self, bodies: dict[str, bytes]) -> None:
        self.bodies = bodies
        self.honour_validators = True
        self.delay = 0.0
        self.httpd = loopback_server(self._answer)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def _answer(self, request: BaseHTTPRequestHandler) -> None:
        body = self.bodies.get(request.path)
        if self.delay:
            time.sleep(self.delay)
        if body is None:
            request.send_response(404)
            request.send_header("Content-Length", "0")
            request.end_headers()
            return
        etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
        if self.honour_validators and request.headers.get("If-None-Match") == etag:
            request.send_response(304)
            request.send_header("ETag", etag)
            request.send_header("Content-Length", "0")
            request.end_headers()
            return
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.send_header("ETag", etag)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def corpus_feeds(corpus: Path, count: int) -> dict[str, bytes]:
    files = sorted(p for p in (corpus / "feeds").iterdir() if p.suffix in (".xml", ".rss", ".atom"))
    if not files:
        raise SystemExit(f"no feeds under {corpus / 'feeds'}")
    return {f"/{index}/{path.name}": path.read_bytes() for index, path in enumerate(files[:count])}


def _cycle(app: App, force: bool = False) -> tuple[float, dict[str, int]]:
    fetcher = open_fetcher(app)
    try:
        targets = fetcher.targets(every=True)
        began = time.perf_counter()
        statuses: dict[str, int] = {}
        for result in fetcher.run(targets, force=force):
            statuses[result.status] = statuses.get(result.status, 0) + 1
        return time.perf_counter() - began, statuses
    finally:
        fetcher.close()


def cycles(corpus: Path, feeds: int, delay_ms: float) -> dict[str, Any]:
    bodies = corpus_feeds(corpus, feeds)
    server = _Server(bodies)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            fetch = FetchSettings(
                allowed_hosts=("127.0.0.1",), per_host_concurrency=8, per_host_delay_seconds=0.0, max_concurrency=8
            )
            settings = dataclasses.replace(
                load_settings(environ={}, database_url=f"sqlite:///{tmp}/bench.sqlite3"), fetch=fetch
            )
            app = App(settings)
            migrations.upgrade(app.engine)
            registry = open_registry(app)
            for path in bodies:
                registry.add(f"http://127.0.0.1:{server.port}{path}", name=path.strip("/").replace("/", "-"))
            first, first_statuses = _cycle(app)
            not_modified, nm_statuses = _cycle(app)
            server.honour_validators = False
            same_bytes, sb_statuses = _cycle(app)
            forced, forced_statuses = _cycle(app, force=True)
            server.honour_validators = True
            server.delay = delay_ms / 1000
            pooled, _ = _cycle(app)
            app.settings = dataclasses.replace(
                settings, fetch=dataclasses.replace(fetch, max_concurrency=1, per_host_concurrency=1)
            )
            sequential, _ = _cycle(app)
            app.close()
    finally:
        server.close()
    return {
        "feeds": len(bodies),
        "bytes": sum(len(b) for b in bodies.values()),
        "first_cycle_s": first,
        "not_modified_cycle_s": not_modified,
        "same_bytes_cycle_s": same_bytes,
        "forced_cycle_s": forced,
        "statuses": {"first": first_statuses, "304": nm_statuses, "same": sb_statuses, "forced": forced_statuses},
        "delay_ms": delay_ms,
        "pooled_slow_cycle_s": pooled,
        "sequential_slow_cycle_s": sequential,
    }


def _gzip(size: int) -> bytes:
    buffer = io.BytesIO()
    block = b"\0" * (1024 * 1024)
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9) as handle:
        for _ in range(max(1, size // len(block))):
            handle.write(block)
    return buffer.getvalue()


def _peak(action: Any) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def bomb(megabytes: int) -> dict[str, Any]:
    data = _gzip(megabytes * 1024 * 1024)
    chunks = [data[i : i + 65536] for i in range(0, len(data), 65536)]

    def ours() -> None:
        decoder = BoundedDecoder("gzip", CAP, "bomb")
        try:
            for chunk in chunks:
                decoder.feed(chunk)
        except BodyTooLargeError:
            return
        raise AssertionError("the bomb was not refused")

    def httpx_decoder() -> None:
        response = httpx.Response(200, headers={"content-encoding": "gzip"}, stream=httpx.ByteStream(data))
        total = 0
        for piece in response.iter_bytes():
            total += len(piece)
            if total > CAP:
                return
        raise AssertionError("the bomb was not refused")

    return {
        "bomb_mb": megabytes,
        "compressed_bytes": len(data),
        "ours_peak": _peak(ours),
        "httpx_peak": _peak(httpx_decoder),
    }


def report(figures: dict[str, Any]) -> str:
    c, b = figures["cycles"], figures["bomb"]
    forced = c["forced_cycle_s"]
    lines = [
        f"fetch cycles over {c['feeds']} corpus feeds ({c['bytes'] / 1e6:.1f} MB) from 127.0.0.1:",
        f"  first cycle (all new)           {c['first_cycle_s']:8.3f} s",
        f"  forced cycle (baseline)         {forced:8.3f} s   1.00x",
        f"  every feed 304                  {c['not_modified_cycle_s']:8.3f} s   "
        f"{forced / max(c['not_modified_cycle_s'], 1e-9):.1f}x faster",
        f"  same bytes, skipped by hash     {c['same_bytes_cycle_s']:8.3f} s   "
        f"{forced / max(c['same_bytes_cycle_s'], 1e-9):.1f}x faster",
        f"slow server ({c['delay_ms']:.0f} ms per response), 304 cycle:",
        f"  one request at a time (baseline) {c['sequential_slow_cycle_s']:7.3f} s   1.00x",
        f"  pool of 8, 8 per host            {c['pooled_slow_cycle_s']:7.3f} s   "
        f"{c['sequential_slow_cycle_s'] / max(c['pooled_slow_cycle_s'], 1e-9):.1f}x faster",
        f"gzip bomb of {b['bomb_mb']} MB ({b['compressed_bytes'] / 1e3:.0f} KB on the wire), refused at 1 MB:",
        f"  httpx streaming decoder (baseline) peak {b['httpx_peak'] / 1e6:8.1f} MB",
        f"  bounded decoder                    peak {b['ours_peak'] / 1e6:8.1f} MB   "
        f"{b['httpx_peak'] / max(b['ours_peak'], 1):.0f}x less",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--feeds", type=int, default=24)
    parser.add_argument("--delay-ms", type=float, default=100.0)
    parser.add_argument("--bomb-mb", type=int, default=200)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    figures = {"cycles": cycles(args.corpus, args.feeds, args.delay_ms), "bomb": bomb(args.bomb_mb)}
    print(report(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
