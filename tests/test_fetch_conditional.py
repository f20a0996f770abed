"""Conditional GET: validators sent, 304 records a fetch and nothing else, new validators always kept."""

from __future__ import annotations

from pathlib import Path

from fetchkit import Exchange, FeedServer, FetchEnv, count, feed_row, fetch_rows

from ingest.app import App
from store.models import Article, ArticleChange, RawDocument

NPR = "feeds/fastfeedparser__npr-world.xml"
LAST_MODIFIED = "Tue, 17 Feb 2026 18:00:00 GMT"


def test_second_fetch_sends_validators_gets_304_and_writes_no_article(
    app: App, fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    body = (corpus / NPR).read_bytes()
    url = feed_server.static("/npr.xml", body, etag='"npr-1"', last_modified=LAST_MODIFIED)
    fetch_env.add(url, "npr")

    code, results = fetch_env.fetch("--feed", "npr")
    assert code == 0, results
    assert results["npr"]["status"] == "new"
    assert results["npr"]["created"] == 10
    first = feed_server.requests_to("/npr.xml")[0]
    assert "if-none-match" not in first.headers
    stored = (count(app, Article), count(app, ArticleChange), count(app, RawDocument))
    assert feed_row(app, "npr").etag == '"npr-1"'

    code, lines = fetch_env.fetch_lines("--feed", "npr")
    assert code == 0
    assert lines == {"npr": "not modified"}
    second = feed_server.requests_to("/npr.xml")[1]
    assert second.headers["if-none-match"] == '"npr-1"'
    assert second.headers["if-modified-since"] == LAST_MODIFIED
    assert (count(app, Article), count(app, ArticleChange), count(app, RawDocument)) == stored
    rows = fetch_rows(app, "npr")
    assert [(r.outcome, r.http_status) for r in rows] == [("ok", 200), ("not_modified", 304)]
    assert rows[1].raw_document_id is None and rows[1].articles_created == 0
    feed = feed_row(app, "npr")
    assert feed.consecutive_errors == 0 and feed.last_success_at is not None


def test_new_validators_are_stored_even_when_the_body_is_unchanged(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    body = (corpus / NPR).read_bytes()
    served = {"n": 0}

    def handle(exchange: Exchange) -> None:
        # A server whose ETag changes on every response although the bytes do not (per-node ETags).
        served["n"] += 1
        exchange.send(200, body, {"Content-Type": "application/rss+xml", "ETag": f'"node-{served["n"]}"'})

    url = feed_server.route("/npr.xml", handle)
    sqlite_fetch_env.add(url, "npr")
    sqlite_fetch_env.fetch("--feed", "npr")
    changes = count(sqlite_app, ArticleChange)

    code, lines = sqlite_fetch_env.fetch_lines("--feed", "npr")
    assert code == 0
    assert lines == {"npr": "unchanged"}
    assert feed_server.requests_to("/npr.xml")[1].headers["if-none-match"] == '"node-1"'
    assert feed_row(sqlite_app, "npr").etag == '"node-2"'
    rows = fetch_rows(sqlite_app, "npr")
    assert [r.outcome for r in rows] == ["ok", "unchanged"]
    # The body was recognised by its hash: same raw document, and nothing parsed or written.
    assert rows[1].raw_document_id == rows[0].raw_document_id
    assert count(sqlite_app, ArticleChange) == changes


def test_force_ignores_validators_and_reparses(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    url = feed_server.static("/npr.xml", (corpus / NPR).read_bytes(), etag='"npr-1"', last_modified=LAST_MODIFIED)
    sqlite_fetch_env.add(url, "npr")
    sqlite_fetch_env.fetch("--feed", "npr")

    code, results = sqlite_fetch_env.fetch("--feed", "npr", "--force")
    assert code == 0
    forced = feed_server.requests_to("/npr.xml")[1]
    assert "if-none-match" not in forced.headers and "if-modified-since" not in forced.headers
    assert results["npr"]["status"] == "unchanged"
    assert results["npr"]["unchanged"] == 10
    assert [r.outcome for r in fetch_rows(sqlite_app, "npr")] == ["ok", "ok"]
