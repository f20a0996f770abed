"""Entry identity across fetches: unstable, repeated and blank GUIDs, tracking parameters, edits,
operator deletions; captions and credits from Media RSS."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

from fetchkit import FeedServer, FetchEnv, articles_of, count, feed_row

from ingest.app import App
from store import repository as repo
from store.models import Article, ArticleChange

NPR = "feeds/fastfeedparser__npr-world.xml"
BOSTON = "feeds/fastfeedparser__boston-com-world.xml"  # real feed with a blank GUID
MERCOPRESS = "feeds/fastfeedparser__mercopress.xml"  # utm_* parameters in links and GUIDs
_GUID = re.compile(r"<guid[^>]*>.*?</guid>", re.DOTALL)


def test_feed_whose_guids_change_on_every_fetch_creates_no_duplicates(
    app: App, fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    text = (corpus / NPR).read_text(encoding="utf-8")

    def fresh_guids() -> bytes:
        return _GUID.sub(lambda _: f'<guid isPermaLink="false">{uuid.uuid4()}</guid>', text).encode("utf-8")

    url = feed_server.static("/npr.xml", fresh_guids)
    fetch_env.add(url, "npr")
    code, results = fetch_env.fetch("--feed", "npr")
    assert code == 0 and results["npr"]["created"] == 10
    assert feed_row(app, "npr").entry_identity == "guid"

    code, results = fetch_env.fetch("--feed", "npr")
    assert code == 0
    assert (results["npr"]["created"], results["npr"]["unchanged"]) == (0, 10)
    # The feed has shown its GUIDs cannot be trusted: new entries are keyed by link from now on.
    assert feed_row(app, "npr").entry_identity == "link"

    code, results = fetch_env.fetch("--feed", "npr")
    assert (results["npr"]["created"], results["npr"]["unchanged"]) == (0, 10)
    assert count(app, Article) == 10


def test_repeated_guids_key_each_entry_by_its_link(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    text = _GUID.sub("<guid>https://www.npr.org/</guid>", (corpus / NPR).read_text(encoding="utf-8"))
    state = {"text": text}
    url = feed_server.static("/npr.xml", lambda: state["text"].encode("utf-8"))
    sqlite_fetch_env.add(url, "npr")
    code, results = sqlite_fetch_env.fetch("--feed", "npr")
    assert results["npr"]["created"] == 10
    articles = articles_of(sqlite_app, "npr")
    assert all(a.entry_key.startswith("url:https://www.npr.org/") for a in articles)

    # An edit to the fourth entry is an update of that entry, whatever its position.
    items = text.split("<item>")
    fourth_title = re.search(r"<title>(.*?)</title>", items[4], re.DOTALL)
    assert fourth_title is not None
    items[4] = items[4].replace("</p>", " Updated with new details.</p>", 1)
    state["text"] = "<item>".join(items)
    code, results = sqlite_fetch_env.fetch("--feed", "npr")
    assert code == 0
    assert (results["npr"]["created"], results["npr"]["updated"]) == (0, 1)
    assert len(articles_of(sqlite_app, "npr")) == 10


def test_blank_guids_and_tracking_parameters(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    boston = (corpus / BOSTON).read_bytes()
    mercopress = (corpus / MERCOPRESS).read_text(encoding="utf-8")
    state = {"campaign": "rss"}
    sqlite_fetch_env.add(feed_server.static("/boston.xml", boston), "boston")
    sqlite_fetch_env.add(
        feed_server.static(
            "/mercopress.xml",
            lambda: mercopress.replace("utm_campaign=rss", f"utm_campaign={state['campaign']}").encode("utf-8"),
        ),
        "mercopress",
    )
    code, results = sqlite_fetch_env.fetch("--all")
    assert code == 0
    assert results["boston"]["created"] == 10 and results["mercopress"]["created"] == 10
    # Entries with an empty <guid> are keyed by their canonical link instead.
    keys = [a.entry_key for a in articles_of(sqlite_app, "boston")]
    blank = boston.count(b"<guid isPermaLink=\"false\"></guid>")
    assert blank == 6
    assert sum(key.startswith("url:https://www.boston.com/") for key in keys) == blank
    assert sum(key.startswith("id:https://www.boston.com/?p=") for key in keys) == 10 - blank
    stored = articles_of(sqlite_app, "mercopress")
    assert all(a.url and "utm_" not in a.url and a.url.startswith("https://en.mercopress.com/") for a in stored)

    # The publisher renames its campaign: every GUID and link changes, the articles do not.
    state["campaign"] = "rss-feb"
    code, results = sqlite_fetch_env.fetch("--all", "--force")
    assert code == 0
    assert (results["mercopress"]["created"], results["mercopress"]["unchanged"]) == (0, 10)
    assert (results["boston"]["created"], results["boston"]["unchanged"]) == (0, 10)


def test_changed_entry_becomes_a_new_version_of_the_same_article(
    app: App, fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    text = (corpus / NPR).read_text(encoding="utf-8")
    state = {"text": text}
    url = feed_server.static("/npr.xml", lambda: state["text"].encode("utf-8"))
    fetch_env.add(url, "npr")
    fetch_env.fetch("--feed", "npr")
    before = {a.entry_key: (a.id, a.version) for a in articles_of(app, "npr")}

    first = text.index("<content:encoded>")
    state["text"] = text[:first] + text[first:].replace("</p>", " A correction was added to this story.</p>", 1)
    code, lines = fetch_env.fetch_lines("--feed", "npr")
    assert code == 0
    assert lines["npr"] == "0 new, 1 updated, 9 unchanged"
    after = {a.entry_key: (a.id, a.version) for a in articles_of(app, "npr")}
    assert after.keys() == before.keys()
    changed = [key for key in after if after[key] != before[key]]
    assert len(changed) == 1
    article_id, version = after[changed[0]]
    assert article_id == before[changed[0]][0] and version == 2
    with app.sessions() as session:
        log = [c.change for c in session.query(ArticleChange).filter_by(article_id=article_id).order_by("seq")]
    assert log == ["created", "updated"]


def test_entry_deleted_by_an_operator_is_not_resurrected(
    app: App, fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    text = (corpus / NPR).read_text(encoding="utf-8")
    state = {"text": text}
    url = feed_server.static("/npr.xml", lambda: state["text"].encode("utf-8"))
    fetch_env.add(url, "npr")
    fetch_env.fetch("--feed", "npr")
    victim = articles_of(app, "npr")[0]
    with app.sessions.begin() as session:
        repo.tombstone_article(session, repo.get_article(session, victim.id))

    # The entry comes back edited and under a new GUID: still the deleted article.
    guid = re.search(r"<guid[^>]*>(.*?)</guid>", text, re.DOTALL)
    assert guid is not None and victim.entry_key == "id:" + guid.group(1).strip()
    state["text"] = text.replace(guid.group(0), '<guid isPermaLink="false">re-issued-1</guid>', 1).replace(
        "</description>", " (updated)</description>", 1
    )
    code, lines = fetch_env.fetch_lines("--feed", "npr")
    assert code == 0
    assert lines["npr"] == "0 new, 0 updated, 9 unchanged, 1 deleted by an operator, not restored"
    with app.sessions() as session:
        article = repo.get_article(session, victim.id)
        assert article.deleted_at is not None
    assert count(app, Article) == 10


def test_media_rss_captions_and_credits_stay_out_of_the_body(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    week_feed = (corpus / "feeds/fastfeedparser__theweek.xml").read_bytes()
    sqlite_fetch_env.add(feed_server.static("/week.xml", week_feed), "week")
    sqlite_fetch_env.add(
        feed_server.static(
            "/mail.xml", (corpus / "feeds/node-feedparser__dailymail-ushome.xml").read_bytes(), "application/rss+xml"
        ),
        "mail",
    )
    code, _ = sqlite_fetch_env.fetch("--all")
    assert code == 0

    def show(feed: str) -> dict[str, object]:
        article = articles_of(sqlite_app, feed)[0]
        code, out, err = sqlite_fetch_env.cli("articles", "show", str(article.id), "--json")
        assert code == 0, err
        return json.loads(out)  # type: ignore[no-any-return]

    week = show("week")
    assert week["captions"] == ["A montage of Winter Olympics athletes with motifs of timers"]
    caption = next(p for p in week["paragraphs"] if p["kind"] == "caption")  # type: ignore[attr-defined]
    assert caption["photo_credit"] == "Marian Femenias-Moratinos / Getty Images"
    assert all("montage" not in text for text in week["body"])  # type: ignore[attr-defined]

    mail = show("mail")
    # An item-level media:description of type html: a caption, not the body (feedparser puts it in content).
    assert mail["captions"] == [
        "Black Dahlia: A head shot of Elizabeth Short who had been an aspiring actress until her untimely murder"
    ]
    assert mail["body"] == [
        "The shocking murder of Elizabeth Short, known as the Black Dahlia, is one of the oldest unsolved murder "
        "cases in Los Angeles history."
    ]
    caption = next(p for p in mail["paragraphs"] if p["kind"] == "caption")  # type: ignore[attr-defined]
    assert caption["photo_credit"] == "© Bettmann/CORBIS"
