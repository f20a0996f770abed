"""Bounded by default: timeouts, body and decompression caps, politeness per host, the User-Agent."""

from __future__ import annotations

import gzip
import itertools
import statistics
import threading
import time
import tracemalloc
import zlib
from pathlib import Path

import brotli
import pytest
from fetchkit import Exchange, FeedServer, FetchEnv, fetch_rows, gzip_bomb_bytes

from config import FetchSettings
from ingest.app import App
from ingest.fetching.client import HttpClient
from ingest.fetching.errors import BodyTooLargeError
from ingest.fetching.hosts import HostGate

WAPO = "feeds/fastfeedparser__washingtonpost-world.xml"


def test_stalled_response_ends_with_a_read_timeout(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer
) -> None:
    sqlite_fetch_env.configure(read_timeout_seconds=0.5, total_timeout_seconds=10.0)
    url = feed_server.stall("/stalled.xml", seconds=30)
    sqlite_fetch_env.add(url, "stalled")
    began = time.monotonic()
    code, results = sqlite_fetch_env.fetch("--feed", "stalled")
    assert time.monotonic() - began < 8
    assert code == 1
    assert results["stalled"]["error"] == f"{url}: body stalled for 0.5 s (read timeout)"
    rows = fetch_rows(sqlite_app, "stalled")
    assert [(r.outcome, r.error) for r in rows] == [("error", results["stalled"]["error"])]


def test_no_response_at_all_is_a_read_timeout(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer
) -> None:
    sqlite_fetch_env.configure(read_timeout_seconds=0.5)
    url = feed_server.route("/silent.xml", lambda x: feed_server.stopping.wait(30))
    sqlite_fetch_env.add(url, "silent")
    code, results = sqlite_fetch_env.fetch("--feed", "silent")
    assert code == 1
    assert results["silent"]["error"] == f"{url}: no response within 0.5 s (read timeout)"
    assert [r.outcome for r in fetch_rows(sqlite_app, "silent")] == ["error"]


def test_trickling_body_ends_at_the_total_deadline(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer
) -> None:
    sqlite_fetch_env.configure(read_timeout_seconds=1.0, total_timeout_seconds=1.5)
    url = feed_server.trickle("/trickle.xml", interval=0.1)
    sqlite_fetch_env.add(url, "trickle")
    began = time.monotonic()
    code, results = sqlite_fetch_env.fetch("--feed", "trickle")
    assert time.monotonic() - began < 5
    assert code == 1
    assert results["trickle"]["error"] == f"{url}: body not received within 1.5 s (total timeout)"
    assert [r.outcome for r in fetch_rows(sqlite_app, "trickle")] == ["error"]


def test_endless_body_is_refused_at_the_cap(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer
) -> None:
    sqlite_fetch_env.configure(max_body_bytes=1024 * 1024)
    url = feed_server.endless("/endless.xml")
    sqlite_fetch_env.add(url, "endless")
    code, results = sqlite_fetch_env.fetch("--feed", "endless")
    assert code == 1
    assert results["endless"]["error"] == f"{url}: body larger than 1 MB"
    rows = fetch_rows(sqlite_app, "endless")
    assert [(r.outcome, r.raw_document_id) for r in rows] == [("error", None)]  # nothing of it stored


def test_declared_oversize_body_is_refused_before_reading(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer
) -> None:
    sqlite_fetch_env.configure(max_body_bytes=1024 * 1024)

    def handle(exchange: Exchange) -> None:
        exchange.start(200, {"Content-Type": "application/rss+xml", "Content-Length": str(1024**3)})
        feed_server.stopping.wait(30)

    url = feed_server.route("/huge.xml", handle)
    sqlite_fetch_env.add(url, "huge")
    code, results = sqlite_fetch_env.fetch("--feed", "huge")
    assert code == 1
    assert results["huge"]["error"] == f"{url}: body of 1 GB declared, over the 1 MB cap"


def test_gzip_bomb_is_refused_without_holding_it_in_memory(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer
) -> None:
    bomb = gzip_bomb_bytes(200 * 1024 * 1024)  # 200 MB of zeros in ~200 KB
    sqlite_fetch_env.configure(max_body_bytes=4 * 1024 * 1024, max_decompressed_bytes=2 * 1024 * 1024)
    url = feed_server.gzip_bomb("/bomb.xml", bomb)
    sqlite_fetch_env.add(url, "bomb")
    tracemalloc.start()
    try:
        code, results = sqlite_fetch_env.fetch("--feed", "bomb")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 1
    assert results["bomb"]["error"] == f"{url}: decompressed body larger than 2 MB"
    # Decoding a whole network chunk at once (what httpx does) would hold ~64 MB here.
    assert peak < 24 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"
    assert [r.outcome for r in fetch_rows(sqlite_app, "bomb")] == ["error"]


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [("gzip", gzip.compress), ("deflate", zlib.compress), ("br", brotli.compress)],
)
def test_compressed_feeds_are_decoded(
    sqlite_fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path, encoding: str, encode: object
) -> None:
    body = (corpus / WAPO).read_bytes()
    url = feed_server.static(
        "/feed.xml", encode(body), headers={"Content-Encoding": encoding}  # type: ignore[operator]
    )
    sqlite_fetch_env.add(url, "packed")
    code, results = sqlite_fetch_env.fetch("--feed", "packed")
    assert code == 0 and results["packed"]["created"] == 9
    assert "br" in feed_server.requests_to("/feed.xml")[0].headers["accept-encoding"]


def test_user_agent_names_the_contact_url(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    sqlite_fetch_env.configure(contact_url="https://newsroom.example/bots")
    url = feed_server.static("/feed.xml", (corpus / WAPO).read_bytes())
    sqlite_fetch_env.add(url, "ua")
    sqlite_fetch_env.fetch("--feed", "ua")
    agent = feed_server.requests_to("/feed.xml")[0].headers["user-agent"]
    assert agent.startswith("newsdedup/") and agent.endswith("(+https://newsroom.example/bots)")


def test_at_most_k_requests_in_flight_per_host(
    sqlite_fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    body = (corpus / WAPO).read_bytes()

    def slow(exchange: Exchange) -> None:
        time.sleep(0.3)
        exchange.send(200, body, {"Content-Type": "application/rss+xml"})

    sqlite_fetch_env.configure(per_host_concurrency=2, max_concurrency=6)
    for index in range(6):
        sqlite_fetch_env.add(feed_server.route(f"/f{index}.xml", slow), f"f{index}")
    code, results = sqlite_fetch_env.fetch("--all")
    assert code == 0 and len(results) == 6
    assert max(r.in_flight for r in feed_server.requests) == 2


def test_minimum_delay_between_requests_to_one_host(
    sqlite_fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    body = (corpus / WAPO).read_bytes()
    sqlite_fetch_env.configure(per_host_delay_seconds=0.25, per_host_concurrency=4, max_concurrency=4)
    for index in range(4):
        sqlite_fetch_env.add(feed_server.static(f"/f{index}.xml", body), f"f{index}")
    sqlite_fetch_env.fetch("--all")
    arrivals = sorted(r.at for r in feed_server.requests)
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert len(arrivals) == 4
    # 0.25 s apart at the gate. Arrival times carry thread-scheduling noise: one request held up
    # between the gate and the server shortens the gap after it, so the typical (median) gap is
    # checked, and the span, which noise can only lengthen. Without the gate the four requests
    # arrive together (gaps of milliseconds).
    assert statistics.median(gaps) >= 0.2, gaps
    assert arrivals[-1] - arrivals[0] >= 3 * 0.25 - 0.05, gaps


def test_host_gate_counts_slots_per_host() -> None:
    gate = HostGate(per_host_concurrency=1, per_host_delay_seconds=0.0)
    inside = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with gate.request("http://a.example/feed"):
            inside.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(5)
    # Another host is not held up by a.example's busy slot.
    with gate.request("http://b.example/feed"):
        pass
    release.set()
    holder.join()


def test_client_refuses_bodies_over_the_cap_while_streaming(feed_server: FeedServer) -> None:
    url = feed_server.endless("/endless.xml")
    settings = FetchSettings(allowed_hosts=("127.0.0.1",), max_body_bytes=256 * 1024, read_timeout_seconds=2)
    client = HttpClient(settings, HostGate(2, 0.0))
    try:
        with pytest.raises(BodyTooLargeError, match="body larger than 256 KB"):
            client.get(url)
    finally:
        client.close()
