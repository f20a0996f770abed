"""Article pages for summary-only entries: fetched politely, stored raw, extracted; summaries as fallback."""

from __future__ import annotations

from pathlib import Path

import pytest
from fetchkit import FeedServer, FetchEnv, articles_of, feed_row, fetch_rows

from ingest.app import App
from store import feed_repository as feed_repo
from store import repository as repo
from store.models import utcnow

VOA_PAGE = "pages/fundus__us__VoiceOfAmerica_2024_04_28.html"
ANTARA_PAGE = "pages/indo-scraper__antara-singlepage.html"
VOA_SENTENCE = "But then she and her husband started looking for child care – and doing the math."


def summary_feed(server: FeedServer, *paths: str) -> bytes:
    items = "".join(
        f"""<item><title>Entry {index}</title><link>{server.url(path)}?utm_source=rss</link>
        <guid isPermaLink="false">page-entry-{index}</guid>
        <pubDate>Mon, 02 Mar 2026 0{index}:00:00 +0000</pubDate>
        <description>Only a short summary of entry {index} is in the feed.</description></item>"""
        for index, path in enumerate(paths, start=1)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Summaries</title>'
        f"<link>{server.url('/')}</link>{items}</channel></rss>"
    ).encode()


@pytest.fixture
def pages(feed_server: FeedServer, corpus: Path) -> FeedServer:
    # The VOA page is UTF-8 but labelled ISO-8859-1: the bytes must win over the header.
    feed_server.static("/a/voa.html", (corpus / VOA_PAGE).read_bytes(), content_type="text/html; charset=iso-8859-1")
    feed_server.static("/a/antara.html", (corpus / ANTARA_PAGE).read_bytes(), content_type="text/html")
    return feed_server


def test_summary_only_entries_get_their_article_page(
    app: App, fetch_env: FetchEnv, pages: FeedServer
) -> None:
    url = pages.static("/summaries.xml", summary_feed(pages, "/a/voa.html", "/a/antara.html"))
    fetch_env.add(url, "summaries", "--fetch-pages")
    code, lines = fetch_env.fetch_lines("--feed", "summaries")
    assert code == 0
    assert lines["summaries"] == "2 new, 0 updated, 0 unchanged (2 pages fetched)"
    page_request = pages.requests_to("/a/voa.html")[0]
    assert page_request.headers["accept"].startswith("text/html")
    assert "utm_source" not in page_request.path  # the canonical URL is fetched

    articles = {a.entry_key: a for a in articles_of(app, "summaries")}
    voa = articles["id:page-entry-1"]
    assert voa.title == "America's child care crisis is holding back moms without college degrees"
    with app.sessions() as session:
        body = [p.text for p in repo.paragraphs_of(session, voa.id) if p.kind == "body"]
        raw = repo.get_raw_document(session, voa.raw_document_id or 0)
        assert raw.format == "html" and raw.url == pages.url("/a/voa.html")
    assert len(body) > 20
    assert any(VOA_SENTENCE in text for text in body)  # no mojibake from the wrong charset label
    assert not any("â€" in text for text in body)
    rows = fetch_rows(app, "summaries")
    assert sorted((r.url, r.outcome, r.http_status) for r in rows) == sorted([
        (url, "ok", 200),
        (pages.url("/a/voa.html"), "ok", 200),
        (pages.url("/a/antara.html"), "ok", 200),
    ])

    # The next cycle does not fetch the pages again, nor let the summaries overwrite them.
    code, lines = fetch_env.fetch_lines("--feed", "summaries", "--force")
    assert lines["summaries"] == "0 new, 0 updated, 2 unchanged"
    assert len(pages.requests_to("/a/voa.html")) == 1


def test_without_fetch_pages_the_summary_is_the_article(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, pages: FeedServer
) -> None:
    url = pages.static("/summaries.xml", summary_feed(pages, "/a/voa.html"))
    sqlite_fetch_env.add(url, "summaries")
    sqlite_fetch_env.fetch("--feed", "summaries")
    assert pages.requests_to("/a/voa.html") == []
    article = articles_of(sqlite_app, "summaries")[0]
    with sqlite_app.sessions() as session:
        body = [p.text for p in repo.paragraphs_of(session, article.id)]
    assert body == ["Only a short summary of entry 1 is in the feed."]


def test_a_page_that_fails_leaves_a_row_and_the_summary(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, pages: FeedServer
) -> None:
    url = pages.static("/summaries.xml", summary_feed(pages, "/a/voa.html", "/a/missing.html"))
    sqlite_fetch_env.add(url, "summaries", "--fetch-pages")
    code, lines = sqlite_fetch_env.fetch_lines("--feed", "summaries")
    assert code == 0
    assert lines["summaries"] == "2 new, 0 updated, 0 unchanged (1 pages fetched, 1 failed)"
    failed = [r for r in fetch_rows(sqlite_app, "summaries") if r.outcome == "error"]
    assert [(r.url, r.http_status, r.error) for r in failed] == [
        (pages.url("/a/missing.html"), 404, f"{pages.url('/a/missing.html')}: HTTP 404 Not Found")
    ]
    titles = {a.entry_key: a.title for a in articles_of(sqlite_app, "summaries")}
    assert titles["id:page-entry-2"] == "Entry 2"  # the summary version, rather than nothing


def test_page_budget_per_cycle(sqlite_app: App, sqlite_fetch_env: FetchEnv, pages: FeedServer) -> None:
    sqlite_fetch_env.configure(max_pages_per_feed=1)
    feed = summary_feed(pages, "/a/voa.html", "/a/antara.html")
    url = pages.static("/summaries.xml", feed, etag='"summaries-1"')
    sqlite_fetch_env.add(url, "summaries", "--fetch-pages")
    code, lines = sqlite_fetch_env.fetch_lines("--feed", "summaries")
    assert lines["summaries"] == "1 new, 0 updated, 0 unchanged (1 pages fetched; 1 pages left for the next cycle)"
    # The feed is not marked as seen (no body hash, no validators), so the next cycle gets the
    # same bytes again instead of a 304, and picks the rest up.
    stored = feed_row(sqlite_app, "summaries")
    assert stored.last_body_hash is None and stored.etag is None
    code, lines = sqlite_fetch_env.fetch_lines("--feed", "summaries")
    assert code == 0
    assert lines["summaries"] == "1 new, 0 updated, 1 unchanged (1 pages fetched)"
    assert "if-none-match" not in pages.requests_to("/summaries.xml")[1].headers
    assert len(articles_of(sqlite_app, "summaries")) == 2
    assert feed_row(sqlite_app, "summaries").etag == '"summaries-1"'  # complete now: validators kept


def test_a_429_on_a_page_slows_the_whole_host(sqlite_app: App, sqlite_fetch_env: FetchEnv, pages: FeedServer) -> None:
    pages.status("/a/limited.html", 429, {"Retry-After": "600"})
    url = pages.static("/summaries.xml", summary_feed(pages, "/a/limited.html", "/a/voa.html"))
    sqlite_fetch_env.add(url, "summaries", "--fetch-pages")
    code, lines = sqlite_fetch_env.fetch_lines("--feed", "summaries")
    assert code == 0
    assert lines["summaries"] == (
        "1 new, 0 updated, 0 unchanged (0 pages fetched, 1 failed; 1 pages left for the next cycle)"
    )
    assert pages.requests_to("/a/voa.html") == []  # the host said wait: the second page waits too
    with sqlite_app.sessions() as session:
        limits = {limit.host: limit.reason for limit in feed_repo.host_limits(session, utcnow())}
    assert limits == {"127.0.0.1": "asked to slow down (HTTP 429)"}
