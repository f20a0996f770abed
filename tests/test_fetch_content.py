"""What comes back is judged by its bytes: HTML is not a feed, charsets are checked, bozo is a warning."""

from __future__ import annotations

import json
from pathlib import Path

from fetchkit import FeedServer, FetchEnv, articles_of, feed_row, fetch_rows

from ingest.app import App

FEEDS = "feeds"
CYRILLIC = range(0x400, 0x500)


def test_html_page_served_as_a_feed_is_an_error_that_says_so(
    app: App, fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    page = (corpus / "pages" / "aeb__bbc.com__70cb2d5bca75.html").read_bytes()
    url = feed_server.static("/rss.xml", page, content_type="text/html; charset=utf-8")
    fetch_env.add(url, "html")
    code, lines = fetch_env.fetch_lines("--feed", "html")
    assert code == 1
    assert lines["html"] == f"error: {url}: served an HTML page (text/html; charset=utf-8), not a feed"
    rows = fetch_rows(app, "html")
    assert [r.outcome for r in rows] == ["error"]
    assert rows[0].raw_document_id is not None  # the bytes are kept for inspection and re-ingest
    assert articles_of(app, "html") == []
    assert feed_row(app, "html").consecutive_errors == 1


def test_wrong_charset_header_does_not_garble_or_warn(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    body = (corpus / FEEDS / "node-feedparser__oren-ru-windows-1251.xml").read_bytes()
    url = feed_server.static("/ru.xml", body, content_type="application/rss+xml; charset=utf-8")
    sqlite_fetch_env.add(url, "ru")
    code, results = sqlite_fetch_env.fetch("--feed", "ru")
    assert code == 0 and results["ru"]["created"] == 10
    titles = [a.title or "" for a in articles_of(sqlite_app, "ru")]
    assert all(any(ord(ch) in CYRILLIC for ch in title) for title in titles)
    # The header lied; the bytes and their declaration agree: no "malformed feed" warning.
    assert results["ru"]["warnings"] == []
    assert fetch_rows(sqlite_app, "ru")[0].warning is None


def test_text_xml_without_charset_is_not_read_as_ascii(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    body = (corpus / FEEDS / "fastfeedparser__bbc-news-world.xml").read_bytes()
    url = feed_server.static("/bbc.xml", body, content_type="text/xml")
    sqlite_fetch_env.add(url, "bbc")
    code, results = sqlite_fetch_env.fetch("--feed", "bbc")
    assert code == 0 and results["bbc"]["warnings"] == []
    assert any("Gisèle Pelicot" in (a.title or "") for a in articles_of(sqlite_app, "bbc"))


def test_malformed_feed_that_yields_entries_is_a_warning_not_a_failure(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    body = (corpus / FEEDS / "edge" / "fastfeedparser__utf16-declared.xml").read_bytes()
    url = feed_server.static("/blog.xml", body, content_type="application/rss+xml")
    sqlite_fetch_env.add(url, "blog")
    code, lines = sqlite_fetch_env.fetch_lines("--feed", "blog")
    assert code == 0
    assert lines["blog"].startswith("59 new, 0 updated, 0 unchanged") and "1 warning" in lines["blog"]
    row = fetch_rows(sqlite_app, "blog")[0]
    assert row.outcome == "ok" and row.error is None
    assert row.warning is not None and "malformed feed, entries recovered" in row.warning
    feed = feed_row(sqlite_app, "blog")
    assert feed.consecutive_errors == 0 and feed.last_error is None


def test_unreadable_feed_is_an_error_and_keeps_its_bytes(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    body = (corpus / FEEDS / "edge" / "feed-rs__reuters-most-read-invalid.xml").read_bytes()
    url = feed_server.static("/reuters.xml", body, content_type="application/rss+xml")
    sqlite_fetch_env.add(url, "reuters")
    code, results = sqlite_fetch_env.fetch("--feed", "reuters")
    assert code == 1
    assert results["reuters"]["error"].startswith(f"{url}: not a readable feed")
    rows = fetch_rows(sqlite_app, "reuters")
    assert rows[0].outcome == "error" and rows[0].raw_document_id is not None
    # A broken body is not remembered as seen: the next poll parses it again.
    assert feed_row(sqlite_app, "reuters").last_body_hash is None


def test_rss1_atom_and_json_feed_over_http(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    atom = (corpus / FEEDS / "node-feedparser__talkingpointsmemo.atom").read_bytes()
    rdf = (corpus / FEEDS / "edge" / "fastfeedparser__iso-8859-1.xml").read_bytes()
    json_feed = json.dumps({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Contoh JSON Feed",
        "items": [
            {
                "id": "json-1",
                "url": "https://samples.newsdedup.example/json/1.html",
                "title": "Kapal feri tambahan untuk mudik Lebaran",
                "content_html": "<p>Pemerintah menyiapkan kapal feri tambahan untuk mudik Lebaran tahun ini.</p>"
                "<p>Sebanyak 12 kapal akan melayani rute Merak–Bakauheni.</p>",
                "date_published": "2026-03-05T08:00:00+07:00",
            }
        ],
    }).encode()
    sqlite_fetch_env.add(feed_server.static("/tpm.atom", atom, "application/atom+xml"), "atom")
    sqlite_fetch_env.add(feed_server.static("/blog.rdf", rdf, "application/rdf+xml"), "rdf")
    sqlite_fetch_env.add(feed_server.static("/feed.json", json_feed, "application/feed+json"), "json")
    code, results = sqlite_fetch_env.fetch("--all")
    assert code == 0
    assert {name: r["created"] for name, r in results.items()} == {"atom": 20, "rdf": 15, "json": 1}
    assert [a.title for a in articles_of(sqlite_app, "json")] == ["Kapal feri tambahan untuk mudik Lebaran"]
