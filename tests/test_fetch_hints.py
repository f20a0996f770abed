"""Server hints and failures: Retry-After, Cache-Control, Expires, <ttl>; backoff that never gives up."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fetchkit import FeedServer, FetchEnv, feed_row, fetch_rows, http_date

from ingest.app import App
from ingest.fetching.schedule import JITTER_FRACTION, SchedulePolicy
from store.models import Feed

WAPO = "feeds/fastfeedparser__washingtonpost-world.xml"  # no <ttl>
BBC = "feeds/fastfeedparser__bbc-news-world.xml"  # <ttl>15</ttl>


def seconds_until(moment: datetime) -> float:
    return (moment - datetime.now(UTC)).total_seconds()


def test_429_retry_after_seconds_defers_the_feed_and_every_feed_on_that_host(
    app: App, fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    limited = feed_server.status("/limited.xml", 429, {"Retry-After": "7200"})
    sibling = feed_server.static("/other.xml", (corpus / WAPO).read_bytes())
    fetch_env.add(limited, "limited")
    fetch_env.add(sibling, "sibling")
    # Same server under another name: a different host for politeness.
    elsewhere = feed_server.url("/elsewhere.xml", host="localhost")
    feed_server.static("/elsewhere.xml", (corpus / WAPO).read_bytes())
    fetch_env.configure(allowed_hosts=["127.0.0.1", "localhost", "::1"])
    fetch_env.add(elsewhere, "elsewhere")

    code, results = fetch_env.fetch("--feed", "limited")
    assert code == 1
    assert results["limited"]["http_status"] == 429
    assert "HTTP 429" in results["limited"]["error"]
    feed = feed_row(app, "limited")
    assert feed.next_poll_at is not None and 7100 < seconds_until(feed.next_poll_at) <= 7200
    assert [(r.outcome, r.http_status) for r in fetch_rows(app, "limited")] == [("error", 429)]

    # The whole host waits: the sibling feed is deferred without a request, and postponed.
    sibling_poll = feed_row(app, "sibling").next_poll_at
    assert sibling_poll is not None and seconds_until(sibling_poll) > 7100
    code, results = fetch_env.fetch("--feed", "sibling", "--feed", "elsewhere")
    assert code == 0
    assert results["sibling"]["status"] == "deferred"
    assert "127.0.0.1 asked to slow down (HTTP 429)" in results["sibling"]["error"]
    assert feed_server.requests_to("/other.xml") == []
    assert fetch_rows(app, "sibling") == []  # no attempt, no row
    assert results["elsewhere"]["status"] == "new"


def test_503_retry_after_http_date(sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer) -> None:
    url = feed_server.status("/down.xml", 503, {"Retry-After": http_date(3 * 3600)})
    sqlite_fetch_env.add(url, "down")
    code, _ = sqlite_fetch_env.fetch("--feed", "down")
    assert code == 1
    next_poll = feed_row(sqlite_app, "down").next_poll_at
    assert next_poll is not None and 3 * 3600 - 60 < seconds_until(next_poll) <= 3 * 3600 + 1
    assert [(r.outcome, r.http_status) for r in fetch_rows(sqlite_app, "down")] == [("error", 503)]


def test_retry_after_is_capped_by_config(sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer) -> None:
    sqlite_fetch_env.configure(max_retry_after_seconds=1800)
    url = feed_server.status("/limited.xml", 429, {"Retry-After": str(30 * 86400)})
    sqlite_fetch_env.add(url, "limited")
    sqlite_fetch_env.fetch("--feed", "limited")
    next_poll = feed_row(sqlite_app, "limited").next_poll_at
    assert next_poll is not None and seconds_until(next_poll) <= 1800


def test_cache_control_max_age_is_a_lower_bound_for_the_next_poll(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    body = (corpus / WAPO).read_bytes()
    url = feed_server.static("/cached.xml", body, headers={"Cache-Control": "public, max-age=5400"})
    sqlite_fetch_env.add(url, "cached", "--interval", "10m")
    sqlite_fetch_env.fetch("--feed", "cached")
    next_poll = feed_row(sqlite_app, "cached").next_poll_at
    assert next_poll is not None and 5400 - 60 < seconds_until(next_poll) <= 5400


def test_expires_is_a_lower_bound_and_capped(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    sqlite_fetch_env.configure(max_cache_hint_seconds=3600)
    url = feed_server.static("/expires.xml", (corpus / WAPO).read_bytes(), headers={"Expires": http_date(10 * 86400)})
    sqlite_fetch_env.add(url, "expires", "--interval", "10m")
    sqlite_fetch_env.fetch("--feed", "expires")
    next_poll = feed_row(sqlite_app, "expires").next_poll_at
    assert next_poll is not None and 3600 - 60 < seconds_until(next_poll) <= 3600


def test_rss_ttl_is_a_lower_bound_and_still_honoured_after_a_304(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    url = feed_server.static("/bbc.xml", (corpus / BBC).read_bytes(), etag='"bbc"')
    sqlite_fetch_env.add(url, "bbc", "--interval", "2m")
    sqlite_fetch_env.fetch("--feed", "bbc")
    feed = feed_row(sqlite_app, "bbc")
    assert feed.ttl_seconds == 15 * 60
    assert feed.next_poll_at is not None and 900 - 60 < seconds_until(feed.next_poll_at) <= 900
    code, results = sqlite_fetch_env.fetch("--feed", "bbc")
    assert code == 0 and results["bbc"]["status"] == "not_modified"
    next_poll = feed_row(sqlite_app, "bbc").next_poll_at
    assert next_poll is not None and 900 - 60 < seconds_until(next_poll) <= 900


def test_server_errors_back_off_exponentially_with_jitter(
    app: App, fetch_env: FetchEnv, feed_server: FeedServer
) -> None:
    url = feed_server.status("/broken.xml", 500, body=b"Internal Server Error")
    fetch_env.add(url, "broken", "--interval", "5m")
    delays = []
    for attempt in range(1, 5):
        code, lines = fetch_env.fetch_lines("--feed", "broken")
        assert code == 1
        assert lines["broken"] == f"error: {url}: HTTP 500 Internal Server Error"
        feed = feed_row(app, "broken")
        assert feed.consecutive_errors == attempt
        assert feed.next_poll_at is not None
        delays.append(seconds_until(feed.next_poll_at))
    # 5 min x 2^(n-1), capped at max_backoff (1 h), minus at most a quarter of jitter.
    for attempt, delay in enumerate(delays, start=1):
        full = min(3600, 300 * 2 ** (attempt - 1))
        assert full * (1 - JITTER_FRACTION) - 5 <= delay <= full
    assert delays[2] > delays[0]
    assert [r.outcome for r in fetch_rows(app, "broken")] == ["error"] * 4
    code, out, _ = fetch_env.cli("feeds", "list", "--json")
    listed = {f["name"]: f for f in json.loads(out)}["broken"]
    assert listed["consecutive_errors"] == 4
    assert listed["last_error"] == f"{url}: HTTP 500 Internal Server Error"
    assert listed["next_poll_at"] is not None and listed["last_success_at"] is None


def test_a_feed_that_failed_a_hundred_times_is_still_polled_at_the_cap(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    url = feed_server.status("/flaky.xml", 500)
    sqlite_fetch_env.add(url, "flaky")
    with sqlite_app.sessions.begin() as session:
        feed = session.query(Feed).filter_by(name="flaky").one()
        feed.consecutive_errors = 100
        feed.next_poll_at = datetime.now(UTC) - timedelta(seconds=1)
    code, results = sqlite_fetch_env.fetch()  # the due feeds: it is one of them
    assert "flaky" in results and results["flaky"]["status"] == "error"
    feed = feed_row(sqlite_app, "flaky")
    assert feed.consecutive_errors == 101 and not feed.paused
    assert feed.next_poll_at is not None
    assert 3600 * (1 - JITTER_FRACTION) - 5 <= seconds_until(feed.next_poll_at) <= 3600
    # When it recovers, health is restored.
    feed_server.static("/flaky.xml", (corpus / WAPO).read_bytes())
    code, results = sqlite_fetch_env.fetch("--all")
    assert code == 0 and results["flaky"]["status"] == "new"
    feed = feed_row(sqlite_app, "flaky")
    assert feed.consecutive_errors == 0 and feed.last_error is None and feed.last_success_at is not None


@pytest.mark.parametrize("errors", [1, 2, 5, 40, 1000])
def test_backoff_bounds(errors: int) -> None:
    policy = SchedulePolicy(default_interval=600, min_interval=60, max_interval=86400, max_backoff=7200)
    rng = random.Random(7)
    delays = [policy.backoff_seconds(None, errors, rng) for _ in range(200)]
    full = min(7200, 600 * 2 ** (errors - 1)) if errors < 40 else 7200
    assert all(full * (1 - JITTER_FRACTION) <= d <= full for d in delays)
    assert len({round(d) for d in delays}) > 50  # jittered, not one value
