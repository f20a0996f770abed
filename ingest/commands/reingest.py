"""``newsdedup reingest``: re-run extraction, cleaning and dedupe from stored raw documents."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ingest.app import App
from ingest.commands._common import add_command, int64
from ingest.errors import InputError
from ingest.pipeline import Pipeline
from ingest.progress import progress, stop_on_interrupt
from ingest.reingest import Reingester, ReingestOutcome
from store import NotFoundError, admin
from store import repository as repo

EXIT_INTERRUPTED = 130


def parse_when(value: str) -> tuple[datetime, bool]:
    """An ISO 8601 date or time; naive times are UTC. Returns the time and whether it was a bare date."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC), True
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"invalid date {value!r}: use YYYY-MM-DD or an ISO 8601 time like 2024-10-01T06:00:00+07:00"
        ) from exc
    return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)), False


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "reingest",
        "Re-run parsing, cleaning and dedupe for stored articles from their raw documents (no network), "
        "after rules or code changed. Only articles whose stored result changes are written; "
        "a second run changes nothing.",
        "newsdedup reingest --source voa-id --since 2024-10-01 --dry-run",
    )
    parser.add_argument("--feed", metavar="NAME", help="only articles from this feed")
    parser.add_argument("--source", metavar="NAME", help="only articles of this source")
    parser.add_argument("--since", type=parse_when, metavar="DATE",
                        help="only articles dated (published, else first stored) on or after DATE")
    parser.add_argument("--until", type=parse_when, metavar="DATE",
                        help="only articles dated before DATE (a bare date includes that whole day)")
    parser.add_argument("--article", type=int64, action="append", default=[], metavar="ID",
                        help="this article (repeatable)")
    parser.add_argument("--all", action="store_true", help="every stored article")
    parser.add_argument("--dry-run", action="store_true",
                        help="print what would change, article by article, and write nothing")
    parser.set_defaults(handler=run)


def build_selection(app: App, args: argparse.Namespace) -> admin.ArticleSelection:
    if not (args.all or args.feed or args.source or args.since or args.until or args.article):
        raise InputError("choose what to re-ingest: --all, or any of --feed, --source, --since, --until, --article")
    feed_id = source_id = None
    with app.read_sessions() as session, session.begin():
        if args.feed:
            feed_id = repo.get_feed(session, args.feed).id
        if args.source:
            source = admin.find_source(session, args.source)
            if source is None:
                raise NotFoundError("source", args.source)
            source_id = source.id
        if args.article:
            found = {a for a, _raw in admin.select_articles(
                session, admin.ArticleSelection(article_ids=tuple(args.article), include_deleted=True))}
            missing = sorted(set(args.article) - found)
            if missing:
                raise NotFoundError("article", missing[0])
    since = args.since[0] if args.since else None
    until = None
    if args.until:
        until = args.until[0] + timedelta(days=1) if args.until[1] else args.until[0]
    return admin.ArticleSelection(
        feed_id=feed_id,
        source_id=source_id,
        since=since,
        until=until,
        article_ids=tuple(args.article),
        include_deleted=bool(args.article),
    )


def print_outcome(outcome: ReingestOutcome, dry_run: bool) -> None:
    title = outcome.title or "(untitled)"
    if outcome.status == "error":
        print(f"error: article {outcome.article_id}: {outcome.error}", file=sys.stderr)
    elif outcome.status == "skipped":
        print(f"skipped article {outcome.article_id}: {outcome.error}", file=sys.stderr)
    elif outcome.status == "deleted":
        print(f"deleted article {outcome.article_id}: tombstone left alone")
    elif outcome.status == "would_update":
        print(f"would update article {outcome.article_id}: {title}")
        for change in outcome.diff.changes:
            print(change.render())
    elif outcome.status == "updated":
        print(f"updated article {outcome.article_id}: {title} ({outcome.diff.summary()})")
    sys.stdout.flush()


def run(app: App, args: argparse.Namespace) -> int:
    app.require_head()
    selection = build_selection(app, args)
    reingester = Reingester(Pipeline(app.sessions, app.cleaner, app.signer, deduper=app.deduper), app.read_sessions)
    article_ids = reingester.select(selection)
    counts: dict[str, int] = {}
    started = time.monotonic()
    done = 0
    label = "reingest (dry run)" if args.dry_run else "reingest"
    print(f"{label}: {len(article_ids)} articles selected", file=sys.stderr, flush=True)
    with stop_on_interrupt() as stop, progress(label, len(article_ids)) as reporter:
        for article_id in article_ids:
            if stop:
                break
            outcome = reingester.run_one(article_id, dry_run=args.dry_run)
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
            print_outcome(outcome, args.dry_run)
            done += 1
            reporter.advance()
    elapsed = time.monotonic() - started
    order = ("would_update", "updated", "unchanged", "deleted", "skipped", "error")
    parts = [f"{counts[s]} {s.replace('_', ' ')}" for s in order if counts.get(s)]
    rate = done / elapsed if elapsed > 0 else 0.0
    summary = f"{done} of {len(article_ids)} articles" + (": " + ", ".join(parts) if parts else "")
    summary += f" in {elapsed:.1f}s ({rate:.1f}/s)"
    if args.dry_run:
        summary += "; dry run, nothing written"
    if stop:
        print(f"reingest: interrupted ({stop.signal_name}) after {summary}; run the same command again to finish")
        return EXIT_INTERRUPTED
    print(f"reingest: {summary}")
    return 1 if counts.get("error") else 0
