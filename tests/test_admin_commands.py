"""Operator commands: feeds reset-errors/pause/resume, articles delete (tombstones), db check,
stats; every command's --help shows an example; errors are one line with a non-zero exit."""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from clitools import cli_json, export_lines, ingest_copies, run_cli
from sqlalchemy import delete, update

from ingest.app import App
from ingest.cli import build_parser
from store import repository as repo
from store.models import Article, ArticleChange, ArticleParagraph, Feed

NPR = "feeds/fastfeedparser__npr-world.xml"


def add_feed(app: App, name: str, **values: Any) -> None:
    with app.sessions.begin() as session:
        source_id = repo.get_or_create_source(session, "wire").id
        session.add(Feed(source_id=source_id, name=name, url=f"https://example.org/{name}.xml",
                         original_url=f"https://example.org/{name}.xml", **values))


def feeds_by_name(capsys: pytest.CaptureFixture[str], url: str) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in cli_json(capsys, url, "feeds", "list", "--json")}


def test_feeds_reset_errors_pause_resume(app: App, capsys: pytest.CaptureFixture[str]) -> None:
    url = app.database_url
    later = datetime.now(UTC) + timedelta(hours=5)
    add_feed(app, "flaky", consecutive_errors=4, last_error="HTTP 503", next_poll_at=later,
             last_fetch_at=datetime.now(UTC))
    add_feed(app, "steady", last_fetch_at=datetime.now(UTC), last_success_at=datetime.now(UTC))

    code, out, err = run_cli(capsys, "--database-url", url, "feeds", "reset-errors", "flaky")
    assert code == 0, err
    assert out == "feed flaky: cleared 4 consecutive errors; due now\n"
    flaky = feeds_by_name(capsys, url)["flaky"]
    assert flaky["consecutive_errors"] == 0 and flaky["last_error"] is None
    assert datetime.fromisoformat(flaky["next_poll_at"]) <= datetime.now(UTC)

    assert run_cli(capsys, "--database-url", url, "feeds", "pause", "steady")[1] == "feed steady: paused\n"
    assert run_cli(capsys, "--database-url", url, "feeds", "pause", "steady")[1] == "feed steady: already paused\n"
    assert feeds_by_name(capsys, url)["steady"]["paused"] is True
    assert feeds_by_name(capsys, url)["flaky"]["paused"] is False
    assert run_cli(capsys, "--database-url", url, "feeds", "resume", "steady")[1] == "feed steady: resumed\n"
    assert run_cli(capsys, "--database-url", url, "feeds", "resume", "steady")[1] == "feed steady: not paused\n"
    steady = feeds_by_name(capsys, url)["steady"]
    assert steady["paused"] is False and datetime.fromisoformat(steady["next_poll_at"]) <= datetime.now(UTC)

    for action in ("reset-errors", "pause", "resume"):
        code, out, err = run_cli(capsys, "--database-url", url, "feeds", action, "nope")
        assert (code, out, err) == (1, "", "newsdedup: error: feed 'nope' not found\n")


def test_articles_delete_leaves_a_tombstone_and_relinks_copies(
    app: App, seed_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = app.database_url
    ingest_copies(capsys, url, seed_file, tmp_path, ["site-0", "site-1"])
    copy = cli_json(capsys, url, "articles", "show", "2", "--json")
    assert all(p["duplicate_of"] is not None and p["duplicate_of"]["article_id"] == 1 for p in copy["paragraphs"])
    events = len(export_lines(capsys, url))

    code, out, err = run_cli(capsys, "--database-url", url, "articles", "delete", "1")
    assert code == 0, err
    assert out.startswith("deleted article 1: ") and "(tombstone kept)" in out
    assert "re-linked article 2" in out
    tombstone = cli_json(capsys, url, "articles", "show", "1", "--json")
    assert tombstone["deleted"] is True and tombstone["body"] == [] and tombstone["captions"] == []
    relinked = cli_json(capsys, url, "articles", "show", "2", "--json")
    assert relinked["body"] == copy["body"]
    assert all(p["duplicate_of"] is None for p in relinked["paragraphs"])
    new_events = export_lines(capsys, url, since=events)
    # The copy had joined the seed's story: it becomes canonical, then its links are made true again.
    assert "article 2 is now canonical for 1 article(s)" in out
    assert [(e["id"], e["change"]) for e in new_events] == [(1, "deleted"), (2, "merged"), (2, "updated")]
    assert new_events[0]["deleted"] is True
    assert cli_json(capsys, url, "dupes", "explain", "2", "--json")["paragraphs"][0]["verdict"] == "kept"

    # Neither a new ingest of the same file nor a re-ingest brings it back.
    code, out, _ = run_cli(
        capsys, "--database-url", url, "ingest", str(seed_file), "--format", "text", "--source", "site-0"
    )
    assert code == 0 and out.startswith("deleted article 1:"), out
    assert run_cli(capsys, "--database-url", url, "reingest", "--article", "1")[0] == 0
    assert cli_json(capsys, url, "articles", "show", "1", "--json")["deleted"] is True
    code, out, _ = run_cli(capsys, "--database-url", url, "articles", "delete", "1")
    assert code == 0 and out.startswith("article 1 was already deleted")
    assert len(export_lines(capsys, url)) == events + 3
    assert run_cli(capsys, "--database-url", url, "db", "check")[0] == 0

    code, out, err = run_cli(capsys, "--database-url", url, "articles", "delete", "77")
    assert (code, out, err) == (1, "", "newsdedup: error: article 77 not found\n")


def test_deleting_a_canonical_article_promotes_the_oldest_member(
    app: App, seed_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = app.database_url
    ingest_copies(capsys, url, seed_file, tmp_path, ["site-0", "site-1", "site-2"])
    with app.sessions.begin() as session:  # as the cross-article dedupe merges copies of one story
        for member in (2, 3):
            repo.set_canonical(session, repo.get_article(session, member), 1)
    assert cli_json(capsys, url, "dupes", "explain", "1", "--json")["article"]["merged_here"] == [2, 3]
    events = len(export_lines(capsys, url))

    code, out, err = run_cli(capsys, "--database-url", url, "articles", "delete", "1")
    assert code == 0, err
    assert "article 2 is now canonical for 2 article(s)" in out
    assert cli_json(capsys, url, "articles", "show", "2", "--json")["canonical_id"] == 2
    assert cli_json(capsys, url, "articles", "show", "3", "--json")["canonical_id"] == 2
    changes = [(e["id"], e["change"]) for e in export_lines(capsys, url, since=events)]
    assert changes[:3] == [(1, "deleted"), (2, "merged"), (3, "merged")]
    code, out, _ = run_cli(capsys, "--database-url", url, "db", "check")
    assert code == 0, out
    assert "ok       canonical clusters" in out and "ok       paragraph links" in out


def test_db_check_reports_each_kind_of_damage(
    app: App, seed_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = app.database_url
    ingest_copies(capsys, url, seed_file, tmp_path, ["site-0", "site-1", "site-2"])
    code, out, err = run_cli(capsys, "--database-url", url, "db", "check")
    assert code == 0, out + err
    events = len(export_lines(capsys, url))
    assert f"ok       change log: {events} events, seq 1..{events}, no gaps" in out
    assert "ok       signatures: 75 stored, all " in out
    if app.engine.dialect.name == "sqlite":
        assert "ok       sqlite integrity" in out

    with app.sessions.begin() as session:
        session.execute(delete(ArticleChange).where(ArticleChange.seq == 2))
        session.execute(
            update(ArticleParagraph)
            .where(ArticleParagraph.article_id == 3, ArticleParagraph.position == 4)
            .values(duplicate_of_position=99)
        )
        repo.put_state(session, {"minhash.num_perm": "64"})
    code, out, _ = run_cli(capsys, "--database-url", url, "db", "check")
    assert code == 1
    problems = {line.split(":")[0].split(None, 1)[1] for line in out.splitlines() if line.startswith("problem")}
    assert problems == {"change log", "paragraph links", "dedupe parameters"}
    assert "3#4" in out

    with app.sessions.begin() as session:  # a chain: 3 -> 2 -> 1
        session.execute(update(Article).where(Article.id == 3).values(canonical_id=2))
    code, out, _ = run_cli(capsys, "--database-url", url, "db", "check")
    assert "problem  canonical clusters: articles pointing at a missing, deleted or merged canonical article: 3" in out


def test_stats_counts_what_is_stored(
    app: App, corpus: Path, seed_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = app.database_url
    now = datetime.now(UTC)
    add_feed(app, "ok-feed", last_fetch_at=now, last_success_at=now)
    add_feed(app, "failing-feed", last_fetch_at=now, consecutive_errors=2, last_error="timeout")
    add_feed(app, "paused-feed", paused=True)
    add_feed(app, "new-feed")
    add_feed(app, "old-feed", removed_at=now)
    ingest_copies(capsys, url, seed_file, tmp_path, ["site-0", "site-1"])
    assert run_cli(capsys, "--database-url", url, "ingest", str(corpus / NPR), "--source", "npr")[0] == 0
    assert run_cli(capsys, "--database-url", url, "articles", "delete", "3")[0] == 0

    stats = cli_json(capsys, url, "stats", "--json")
    ids = [line["id"] for line in export_lines(capsys, url) if line["change"] == "created"]
    articles = [cli_json(capsys, url, "articles", "show", str(i), "--json") for i in ids]
    live = [a for a in articles if not a["deleted"]]

    canonical = [a for a in live if a["canonical_id"] == a["id"]]
    sizes = [len(a["canonical"]["members"]) for a in canonical]
    assert len(canonical) < len(live)  # the seed's copy joined the seed's story
    assert stats["feeds"] == {"total": 4, "ok": 1, "failing": 1, "paused": 1, "never_fetched": 1, "removed": 1}
    assert stats["articles"] == {
        "total": len(live), "canonical": len(canonical), "merged": len(live) - len(canonical), "deleted": 1
    }
    assert stats["articles_by_source"]["site-0"] == 1 and stats["articles_by_source"]["site-1"] == 1
    assert stats["articles_by_source"]["npr"] == sum(1 for a in live if a["source"] == "npr")
    assert stats["clusters"] == {
        "canonical": len(canonical), "with_duplicates": sum(1 for n in sizes if n > 1), "largest": max(sizes)
    }
    # Each article's own blocks and removals, with their tiers, as `dupes explain` reports them.
    explained = [cli_json(capsys, url, "dupes", "explain", str(a["id"]), "--json") for a in live]
    paragraphs = [p for e in explained for p in e["paragraphs"]]
    removed = [r for e in explained for r in e["removed"]]
    linked = Counter(p["tier"] for p in paragraphs if p["verdict"] == "linked")
    assert linked["exact"] == 25  # the seed's copy, paragraph by paragraph
    assert stats["paragraphs_by_tier"] == {"original": len(paragraphs) - sum(linked.values()), **linked}
    assert stats["index"]["signatures"] == len(paragraphs)
    assert stats["index"]["original_paragraphs"] == sum(1 for p in paragraphs if p["verdict"] == "kept")
    assert stats["removals_by_reason"] == dict(Counter(r["reason"] for r in removed))
    dropped = Counter(r["tier"] for r in removed if r["tier"] != "metadata")
    assert stats["duplicates_by_tier"] == dict(sorted((linked + dropped).items()))
    assert stats["duplicates_by_tier"]["boilerplate"] >= 2  # "Breaking News" and "Sumber" in each copy
    assert stats["change_log"] == {"events": len(export_lines(capsys, url)), "last_seq": len(export_lines(capsys, url))}
    assert stats["raw_documents"]["count"] == 2  # the seed bytes once, the feed once
    assert stats["database"]["dialect"] == app.engine.dialect.name
    assert stats["database"]["size_bytes"] > 0

    code, out, err = run_cli(capsys, "--database-url", url, "stats")
    assert code == 0, err
    assert out.splitlines()[0] == "feeds          4: 1 ok, 1 failing, 1 paused, 1 never fetched (1 removed)"
    assert (
        f"articles       {len(live)}: {len(canonical)} canonical, {len(live) - len(canonical)} merged into another; "
        "1 deleted"
    ) in out
    assert f"index          {len(paragraphs)} signatures (128 permutations)" in out


def _command_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths.extend(_command_paths(sub, (*prefix, name)))
    return paths


def test_every_command_help_shows_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    paths = _command_paths(build_parser())
    expected = {("reingest",), ("dupes", "explain"), ("stats",), ("feeds", "reset-errors"), ("feeds", "pause"),
                ("feeds", "resume"), ("articles", "delete"), ("db", "check"), ("export",)}
    assert expected <= set(paths)
    for path in paths:
        code, out, _ = run_cli(capsys, *path, "--help")
        assert code == 0
        assert "example:\n  newsdedup " in out, f"`newsdedup {' '.join(path)} --help` shows no example"
        example = out.split("example:\n", 1)[1].splitlines()[0].strip()
        # The example names the command it documents.
        assert " ".join(path) in example, (path, example)


def test_errors_are_one_line_with_a_non_zero_exit(
    sqlite_app: App, sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sqlite_app.database_url
    empty = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    cases = [
        (("articles", "show", "5"), "article 5 not found"),
        (("dupes", "explain", "5"), "article 5 not found"),
        (("feeds", "pause", "ghost"), "feed 'ghost' not found"),
        (("reingest",), "choose what to re-ingest"),
        (("reingest", "--until", "someday"), "invalid date 'someday'"),
        (("articles", "delete", "x"), "invalid int value: 'x'"),
        (("stats", "--bogus"), "unrecognized arguments: --bogus"),
        (("nosuchcommand",), "invalid choice: 'nosuchcommand'"),
        (("export", "--since-seq"), "expected one argument"),
    ]
    for args, message in cases:
        code, out, err = run_cli(capsys, "--database-url", url, *args)
        assert code != 0, args
        assert out == "", args
        assert err.count("\n") == 1 and message in err, (args, err)
    for args in (("stats",), ("db", "check"), ("reingest", "--all"), ("dupes", "explain", "1")):
        code, out, err = run_cli(capsys, "--database-url", empty, *args)
        assert code == 1 and out == ""
        assert err.count("\n") == 1 and "run `newsdedup db upgrade`" in err, (args, err)
