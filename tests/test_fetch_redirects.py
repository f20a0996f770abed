"""Redirects: 301/308 move the feed (recorded, reversible), 302/307 do not, loops end clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
from fetchkit import Exchange, FeedServer, FetchEnv, feed_row, fetch_rows

from ingest.app import App
from store import feed_repository as feed_repo

WAPO = "feeds/fastfeedparser__washingtonpost-world.xml"


@pytest.fixture
def feed_body(corpus: Path) -> bytes:
    return (corpus / WAPO).read_bytes()


def url_history(app: App, name: str) -> list[tuple[str, str, str, int | None]]:
    with app.sessions() as session:
        feed = feed_repo.feeds_named(session, [name])[0]
        return [(c.old_url, c.new_url, c.reason, c.http_status) for c in feed_repo.url_changes(session, feed.id)]


def test_permanent_redirect_chain_moves_the_feed_and_is_recorded(
    app: App, fetch_env: FetchEnv, feed_server: FeedServer, feed_body: bytes
) -> None:
    final = feed_server.static("/feeds/world.xml", feed_body)
    middle = feed_server.redirect("/rss/world", 308, final)
    old = feed_server.redirect("/world.rss", 301, middle)
    fetch_env.add(old, "wapo")

    code, results = fetch_env.fetch("--feed", "wapo")
    assert code == 0
    assert results["wapo"]["status"] == "new"
    assert results["wapo"]["moved_to"] == final
    feed = feed_row(app, "wapo")
    assert feed.url == final
    assert feed.original_url == old
    assert url_history(app, "wapo") == [(old, final, "permanent_redirect", 308)]

    fetch_env.fetch("--feed", "wapo", "--force")
    assert len(feed_server.requests_to("/world.rss")) == 1  # the next fetch goes straight to the new home
    assert len(feed_server.requests_to("/feeds/world.xml")) == 2

    code, out, err = fetch_env.cli("feeds", "revert-url", "wapo")
    assert code == 0, err
    assert out == f"feed wapo: url {final} -> {old}\n"
    assert feed_row(app, "wapo").url == old
    assert url_history(app, "wapo")[-1] == (final, old, "revert", None)


def test_temporary_redirect_keeps_the_feed_url(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer, feed_body: bytes
) -> None:
    final = feed_server.static("/today/world.xml", feed_body)
    temporary = feed_server.redirect("/world.rss", 302, final)
    sqlite_fetch_env.add(temporary, "wapo")
    sqlite_fetch_env.fetch("--feed", "wapo")
    sqlite_fetch_env.fetch("--feed", "wapo", "--force")
    assert feed_row(sqlite_app, "wapo").url == temporary
    assert url_history(sqlite_app, "wapo") == []
    assert len(feed_server.requests_to("/world.rss")) == 2


def test_only_the_leading_permanent_hops_count(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer, feed_body: bytes
) -> None:
    final = feed_server.static("/cdn/world.xml", feed_body)
    temporary = feed_server.redirect("/feeds/world", 307, final)
    old = feed_server.redirect("/world.rss", 301, temporary)
    sqlite_fetch_env.add(old, "wapo")
    sqlite_fetch_env.fetch("--feed", "wapo")
    # The permanent home is where the 301 pointed, not where the 307 sent us today.
    assert feed_row(sqlite_app, "wapo").url == temporary


def test_redirect_loop_is_a_clear_error_with_a_fetch_row(
    app: App, fetch_env: FetchEnv, feed_server: FeedServer
) -> None:
    a = feed_server.url("/a.xml")
    b = feed_server.redirect("/b.xml", 302, a)
    feed_server.redirect("/a.xml", 301, b)
    fetch_env.add(a, "loop")

    code, lines = fetch_env.fetch_lines("--feed", "loop")
    assert code == 1
    assert lines["loop"] == f"error: {a}: redirect loop: {a} -> {b} -> {a}"
    rows = fetch_rows(app, "loop")
    assert len(rows) == 1 and rows[0].outcome == "error" and "redirect loop" in (rows[0].error or "")
    feed = feed_row(app, "loop")
    assert feed.url == a  # a loop never moves the feed
    assert feed.consecutive_errors == 1 and "redirect loop" in (feed.last_error or "")


def test_too_many_redirects(sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer) -> None:
    sqlite_fetch_env.configure(max_redirects=3)
    for hop in range(6):
        feed_server.redirect(f"/hop{hop}", 302, feed_server.url(f"/hop{hop + 1}"))
    sqlite_fetch_env.add(feed_server.url("/hop0"), "hops")
    code, results = sqlite_fetch_env.fetch("--feed", "hops")
    assert code == 1
    assert "more than 3 redirects" in results["hops"]["error"]
    assert len(feed_server.requests) == 4  # the first request and three hops, then it stops


def test_cookie_wall_redirect_is_not_a_loop(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer, feed_body: bytes
) -> None:
    # Sites that set a cookie and redirect to the same URL: with the cookie sent back, it is not a loop.
    def handle(exchange: Exchange) -> None:
        if "visited=1" in exchange.request.headers.get("cookie", ""):
            exchange.send(200, feed_body, {"Content-Type": "application/rss+xml"})
        else:
            exchange.send(302, b"", {"Location": "/wall.xml", "Set-Cookie": "visited=1; Path=/"})

    url = feed_server.route("/wall.xml", handle)
    sqlite_fetch_env.add(url, "wall")
    code, results = sqlite_fetch_env.fetch("--feed", "wall")
    assert code == 0 and results["wall"]["status"] == "new"
    # The cookie lived for that fetch only: the next one starts without it.
    sqlite_fetch_env.fetch("--feed", "wall", "--force")
    assert "cookie" not in feed_server.requests_to("/wall.xml")[2].headers
