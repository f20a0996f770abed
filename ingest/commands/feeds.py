"""``newsdedup feeds list``: declared feeds and their health."""

from __future__ import annotations

import argparse
from typing import Any

from ingest.app import App
from ingest.commands._common import add_command, print_json
from store import repository as repo
from store.models import Feed


def feed_json(feed: Feed, source: str) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "name": feed.name,
        "source": source,
        "url": feed.url,
        "original_url": feed.original_url,
        "interval_seconds": feed.interval_seconds,
        "paused": feed.paused,
        "last_fetch_at": iso(feed.last_fetch_at),
        "last_success_at": iso(feed.last_success_at),
        "consecutive_errors": feed.consecutive_errors,
        "last_error": feed.last_error,
        "next_poll_at": iso(feed.next_poll_at),
    }


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "feeds", "Manage feeds and see their health.", "newsdedup feeds list --json")
    actions = parser.add_subparsers(dest="feeds_action", metavar="ACTION", required=True)
    listing = add_command(actions, "list", "List feeds with their health.", "newsdedup feeds list --json")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(handler=run_list)


def run_list(app: App, args: argparse.Namespace) -> int:
    app.require_head()
    with app.sessions() as session:
        rows = [(feed, repo.get_source(session, feed.source_id).name) for feed in repo.list_feeds(session)]
        if args.json:
            print_json([feed_json(feed, source) for feed, source in rows])
            return 0
        for feed, _source in rows:
            health = "ok" if not feed.consecutive_errors else f"{feed.consecutive_errors} errors: {feed.last_error}"
            last = feed.last_success_at.isoformat(timespec="seconds") if feed.last_success_at else "never"
            print(f"{feed.name:<24.24} {'paused ' if feed.paused else ''}last ok {last}  {health}  {feed.url}")
    return 0
