"""``newsdedup reingest``: from stored raw documents, after rules change, idempotent, dry run,
selection filters, feeds mapped back entry by entry, Ctrl-C stops cleanly."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import signal
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from clitools import (
    cli_command,
    cli_env,
    cli_json,
    export_lines,
    rules_without_chrome_line,
    run_cli,
    run_process,
)
from fetchkit import FeedServer, FetchEnv
from sqlalchemy import delete, func, select, update
from test_seed_acceptance import SEED_FIRST, SEED_LAST, TITLE, seed_story_paragraphs

from ingest.app import App
from ingest.pipeline import Input, Pipeline
from ingest.progress import PlainReporter
from store import repository as repo
from store.models import Article, ArticleChange, ArticleParagraph, Feed

NPR = "feeds/fastfeedparser__npr-world.xml"
DAWN = "feeds/fastfeedparser__dawn-world.xml"
GUID = re.compile(r"<guid[^>]*>.*?</guid>", re.DOTALL)
BBC = "feeds/fastfeedparser__bbc-news-world.xml"
VOLATILE = ("version", "modified_at", "created_at")
N_COPIES = 25


def stable(article: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in article.items() if k not in VOLATILE}


def add_feed(app: App, name: str, source: str, path: Path) -> int:
    with app.sessions.begin() as session:
        source_id = repo.get_or_create_source(session, source).id
        feed = Feed(source_id=source_id, name=name, url=path.as_uri(), original_url=path.as_uri())
        session.add(feed)
        session.flush()
        return feed.id


def ingest_feed(app: App, path: Path, source: str, feed_id: int | None = None) -> list[int]:
    pipeline = Pipeline(app.sessions, app.cleaner, app.signer, deduper=app.deduper)
    result = pipeline.ingest(
        Input(body=path.read_bytes(), source=source, location=str(path), feed_id=feed_id, format="feed")
    )
    assert result.error is None, result.error
    return [a.article_id for a in result.articles if a.article_id is not None]


def listed_articles(capsys: pytest.CaptureFixture[str], url: str) -> list[dict[str, Any]]:
    code, out, err = run_cli(capsys, "--database-url", url, "articles", "list", "--json")
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def event_count(app: App) -> int:
    with app.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(ArticleChange)) or 0)


def test_reingest_applies_changed_rules_dry_run_first_then_idempotent(
    database_url: str, seed_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old_rules = rules_without_chrome_line(tmp_path)
    url = database_url
    assert run_cli(capsys, "--database-url", url, "db", "upgrade")[0] == 0
    code, out, err = run_cli(
        capsys, "--database-url", url, "--config", str(old_rules),
        "ingest", str(seed_file), "--format", "text", "--source", "voa-id",
    )
    assert code == 0, err
    assert out.startswith("created article 1: Breaking News"), out  # the chrome line was taken as headline
    before = cli_json(capsys, url, "articles", "show", "1", "--json")
    assert before["body"][0] == TITLE

    # Dry run: a diff per article, nothing written.
    code, out, err = run_cli(capsys, "--database-url", url, "reingest", "--all", "--dry-run")
    assert code == 0, err
    assert f"would update article 1: {TITLE}" in out
    assert f"~ title: 'Breaking News' -> '{TITLE}'" in out
    assert f"- body: {TITLE}" in out
    assert "+ removed (site_chrome): Breaking News" in out
    assert f"+ removed (repeated_title): {TITLE}" in out
    assert "1 would update" in out and "nothing written" in out
    assert cli_json(capsys, url, "articles", "show", "1", "--json") == before
    assert [line["seq"] for line in export_lines(capsys, url)] == [1]

    # The real run writes exactly what a fresh ingest with the new rules gives.
    code, out, err = run_cli(capsys, "--database-url", url, "reingest", "--source", "voa-id")
    assert code == 0, err
    assert f"updated article 1: {TITLE} (-1 paragraphs" in out
    assert "reingest: 1 of 1 articles: 1 updated" in out
    after = cli_json(capsys, url, "articles", "show", "1", "--json")
    assert after["title"] == TITLE
    assert after["version"] == 2
    assert after["body"] == seed_story_paragraphs(seed_file)
    assert after["body"][0].startswith(SEED_FIRST) and after["body"][-1] == SEED_LAST
    fresh_url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    assert run_cli(capsys, "--database-url", fresh_url, "db", "upgrade")[0] == 0
    run_cli(capsys, "--database-url", fresh_url, "ingest", str(seed_file), "--format", "text", "--source", "voa-id")
    fresh = cli_json(capsys, fresh_url, "articles", "show", "1", "--json")
    assert stable(after) == stable(fresh)
    events = export_lines(capsys, url)
    assert [(e["seq"], e["change"]) for e in events] == [(1, "created"), (2, "updated")]

    # Idempotent: the second run changes nothing, not even the version or the change log.
    code, out, err = run_cli(capsys, "--database-url", url, "reingest", "--all")
    assert code == 0, err
    assert "updated article" not in out
    assert "reingest: 1 of 1 articles: 1 unchanged" in out
    assert cli_json(capsys, url, "articles", "show", "1", "--json") == after
    assert [e["seq"] for e in export_lines(capsys, url)] == [1, 2]


def test_reingest_maps_each_feed_article_back_to_its_entry(
    app: App, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = app.database_url
    feed_id = add_feed(app, "npr-world", "npr", corpus / NPR)
    ids = ingest_feed(app, corpus / NPR, "npr", feed_id)
    assert len(ids) >= 5
    originals = {i: cli_json(capsys, url, "articles", "show", str(i), "--json") for i in ids}
    events = event_count(app)

    # Nothing changed since ingest: every entry maps back to the same article, nothing is written.
    code, out, err = run_cli(capsys, "--database-url", url, "reingest", "--feed", "npr-world")
    assert code == 0, err
    assert f"reingest: {len(ids)} of {len(ids)} articles: {len(ids)} unchanged" in out
    assert event_count(app) == events

    # Spoil one article the way older code might have stored it; reingest restores it from its entry.
    victim = ids[len(ids) // 2]
    with app.sessions.begin() as session:
        session.execute(update(Article).where(Article.id == victim).values(title="stale title"))
        session.execute(
            delete(ArticleParagraph).where(ArticleParagraph.article_id == victim, ArticleParagraph.position == 0)
        )
    code, out, err = run_cli(capsys, "--database-url", url, "reingest", "--feed", "npr-world", "--dry-run")
    assert code == 0, err
    assert f"would update article {victim}: {originals[victim]['title']}" in out
    assert "  ~ title: 'stale title' -> " in out
    assert f"  + {originals[victim]['paragraphs'][0]['kind']} #0: " in out
    code, out, err = run_cli(capsys, "--database-url", url, "reingest", "--feed", "npr-world")
    assert code == 0, err
    assert out.count("updated article") == 1 and f"updated article {victim}:" in out
    for article_id in ids:
        now = cli_json(capsys, url, "articles", "show", str(article_id), "--json")
        assert stable(now) == stable(originals[article_id]), article_id
    assert event_count(app) == events + 1


def test_reingest_selection(app: App, corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = app.database_url
    npr_feed = add_feed(app, "npr-world", "npr", corpus / NPR)
    npr = ingest_feed(app, corpus / NPR, "npr", npr_feed)
    bbc = ingest_feed(app, corpus / BBC, "bbc")
    listed = listed_articles(capsys, url)
    dates = sorted({a["published_at"][:10] for a in listed if a["published_at"]})
    assert len(dates) >= 2
    day = dates[-1]

    def selected(*args: str) -> int:
        code, out, err = run_cli(capsys, "--database-url", url, "reingest", *args, "--dry-run")
        assert code == 0, err
        summary = out.splitlines()[-1]
        assert summary.startswith("reingest: "), summary
        return int(summary.split()[1])

    assert selected("--all") == len(npr) + len(bbc)
    assert selected("--source", "bbc") == len(bbc)
    assert selected("--feed", "npr-world") == len(npr)
    assert selected("--since", day) == sum(1 for a in listed if (a["published_at"] or "") >= day)
    assert selected("--until", dates[0]) == sum(
        1 for a in listed if a["published_at"] and a["published_at"][:10] <= dates[0]
    )
    assert selected("--source", "npr", "--since", day) == sum(
        1 for a in listed if a["source"] == "npr" and (a["published_at"] or "") >= day
    )
    assert selected("--article", str(npr[0]), "--article", str(bbc[-1])) == 2

    for args, message in [
        ((), "choose what to re-ingest"),
        (("--source", "nope"), "source 'nope' not found"),
        (("--feed", "nope"), "feed 'nope' not found"),
        (("--article", "999999"), "article 999999 not found"),
    ]:
        code, out, err = run_cli(capsys, "--database-url", url, "reingest", *args)
        assert code == 1 and out == ""
        assert err.count("\n") == 1 and message in err, err
    code, _, err = run_cli(capsys, "--database-url", url, "reingest", "--since", "last tuesday")
    assert code == 2 and "invalid date 'last tuesday'" in err and err.count("\n") == 1


def test_reingest_leaves_tombstones_alone(app: App, seed_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = app.database_url
    run_cli(capsys, "--database-url", url, "ingest", str(seed_file), "--format", "text", "--source", "voa-id")
    with app.sessions.begin() as session:
        repo.tombstone_article(session, repo.get_article(session, 1))
    events = event_count(app)
    code, out, _ = run_cli(capsys, "--database-url", url, "reingest", "--all")
    assert code == 0 and "0 of 0 articles" in out
    code, out, _ = run_cli(capsys, "--database-url", url, "reingest", "--article", "1")
    assert code == 0 and "deleted article 1: tombstone left alone" in out
    assert event_count(app) == events
    assert cli_json(capsys, url, "articles", "show", "1", "--json")["deleted"] is True


def test_ctrl_c_stops_after_the_current_article(
    database_url: str, seed_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copies = []
    for index in range(N_COPIES):
        copy = tmp_path / "copies" / f"story-{index:02d}.txt"
        copy.parent.mkdir(exist_ok=True)
        copy.write_bytes(seed_file.read_bytes())
        copies.append(str(copy))
    old_rules = rules_without_chrome_line(tmp_path)
    url = database_url
    assert run_cli(capsys, "--database-url", url, "db", "upgrade")[0] == 0
    code, _, err = run_cli(
        capsys, "--database-url", url, "--config", str(old_rules), "ingest", *copies, "--format", "text"
    )
    assert code == 0, err
    ingested = len(export_lines(capsys, url))  # creates, and merges of the copies into one story

    process = subprocess.Popen(
        cli_command(url, "reingest", "--all"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(),
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first.startswith("updated article 1:"), first
    process.send_signal(signal.SIGINT)
    rest, err = process.communicate(timeout=120)
    out = first + rest
    assert process.returncode == 130, err
    assert "SIGINT: stopping after the current article" in err
    updated = out.count("updated article")
    assert 1 <= updated < N_COPIES, out
    assert f"reingest: interrupted (SIGINT) after {updated} of {N_COPIES} articles: {updated} updated" in out

    # Every article is either fully re-ingested (new title, one `updated` event) or untouched.
    titles = sorted(a["title"] for a in listed_articles(capsys, url))
    assert titles == sorted(["Breaking News"] * (N_COPIES - updated) + [TITLE] * updated)
    events = export_lines(capsys, url)
    assert [e["seq"] for e in events] == list(range(1, ingested + updated + 1))
    assert sorted(e["id"] for e in events[ingested:]) == list(range(1, updated + 1))

    # Running the same command again finishes the rest; a third run has nothing left to do.
    finished = run_process(url, "reingest", "--all")
    assert finished.returncode == 0, finished.stderr
    assert f"{N_COPIES - updated} updated, {updated} unchanged" in finished.stdout
    assert len(export_lines(capsys, url)) == ingested + N_COPIES
    assert {a["title"] for a in listed_articles(capsys, url)} == {TITLE}
    again = run_process(url, "reingest", "--all")
    assert f"{N_COPIES} of {N_COPIES} articles: {N_COPIES} unchanged" in again.stdout


def test_plain_progress_lines_carry_count_rate_and_eta() -> None:
    stream = io.StringIO()
    reporter = PlainReporter("reingest", 4, stream, interval=0)
    for _ in range(4):
        reporter.advance()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("reingest: 1/4 (25%), ") and lines[0].endswith("s")
    assert lines[-1].startswith("reingest: 4/4 (100%), ") and "/s, ETA 0s" in lines[-1]


def test_progress_bar_on_a_terminal(sqlite_app: App, seed_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = sqlite_app.database_url
    run_cli(capsys, "--database-url", url, "ingest", str(seed_file), "--format", "text", "--source", "voa-id")
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        cli_command(url, "reingest", "--all"), stdout=subprocess.PIPE, stderr=terminal, text=True, env=cli_env()
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    out, _ = process.communicate(timeout=60)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert process.returncode == 0
    assert "━" in screen and "1/1" in screen and "/s" in screen and "ETA" in screen, screen
    assert "reingest: 1 of 1 articles: 1 unchanged" in out


def test_reingest_of_fetched_feeds_with_unstable_guids_changes_nothing(
    app: App, fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Articles the fetcher stored (relative links resolved against the fetched URL, the feed's
    language, an entry updated from a fetch whose GUIDs were all new) map back to their entries
    and come out the same; a second run changes nothing."""
    text = (corpus / DAWN).read_text(encoding="utf-8")
    state = {"text": text}

    def fresh_guids() -> bytes:
        return GUID.sub(lambda _: f'<guid isPermaLink="false">{uuid.uuid4()}</guid>', state["text"]).encode("utf-8")

    fetch_env.add(feed_server.static("/dawn.xml", fresh_guids), "dawn")
    assert fetch_env.fetch("--feed", "dawn")[0] == 0
    assert fetch_env.fetch("--feed", "dawn")[0] == 0
    edited = "India’s information minister said on Tuesday"  # the first entry's first paragraph
    assert edited in text
    state["text"] = text.replace(edited, edited + " evening")
    code, results = fetch_env.fetch("--feed", "dawn")
    assert code == 0 and results["dawn"]["updated"] == 1, results
    with app.sessions() as session:
        stored = session.scalars(select(Article).order_by(Article.id)).all()
        raw_ids = {a.raw_document_id for a in stored}
        languages = {a.language for a in stored}
    assert len(raw_ids) == 2  # the updated entry comes from the third fetch, whose GUIDs are all new
    assert len(languages) == 1 and None not in languages  # the feed's <language>, given to every entry
    url = app.database_url

    # Every article maps back to its entry and comes out with the same text, links and metadata;
    # only the template counts ("the same block in N stories") are brought up to date.
    code, out, err = run_cli(capsys, "--database-url", url, "reingest", "--feed", "dawn", "--dry-run")
    assert code == 0, err
    assert "error" not in out + err and "skipped" not in out + err
    changes = [line for line in out.splitlines() if line.startswith("  ")]
    assert set(changes) <= {"  ~ removal details recomputed"}, changes
    assert run_cli(capsys, "--database-url", url, "reingest", "--feed", "dawn")[0] == 0

    events = event_count(app)
    code, out, err = run_cli(capsys, "--database-url", url, "reingest", "--feed", "dawn")
    assert code == 0, err
    assert f"reingest: {len(stored)} of {len(stored)} articles: {len(stored)} unchanged" in out, out + err
    assert event_count(app) == events
    with app.sessions() as session:
        linked = select(ArticleParagraph).where(ArticleParagraph.duplicate_of_article_id.is_not(None))
        links = {
            (p.article_id, p.position): (p.duplicate_of_article_id, p.duplicate_of_position)
            for p in session.scalars(linked)
        }
    assert not [(a, b) for a, b in links.items() if links.get(b) == a]  # no pair of blocks linked both ways
    assert all(target[0] < source[0] for source, target in links.items())  # links point at earlier articles
