"""``newsdedup feeds list|add|remove|sync|show|revert-url``: the feeds we follow and their health."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import Any

from config import ConfigError, load_feed_specs
from config.feeds import parse_duration
from ingest.app import App
from ingest.commands import feeds_admin
from ingest.commands._common import add_command, int64, print_json
from ingest.errors import InputError
from ingest.fetching import open_registry
from ingest.fetching.registry import FEED_FORMATS
from store import feed_repository as feed_repo
from store import repository as repo
from store.errors import NotFoundError
from store.models import Feed


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def feed_json_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _short(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def feed_json(feed: Feed, source: str) -> dict[str, Any]:
    return {
        "name": feed.name,
        "source": source,
        "url": feed.url,
        "original_url": feed.original_url,
        "format": feed.format,
        "interval_seconds": feed.interval_seconds,
        "fetch_pages": feed.fetch_pages,
        "paused": feed.paused,
        "entry_identity": feed.entry_identity,
        "ttl_seconds": feed.ttl_seconds,
        "etag": feed.etag,
        "last_modified": feed.last_modified,
        "last_fetch_at": _iso(feed.last_fetch_at),
        "last_success_at": _iso(feed.last_success_at),
        "consecutive_errors": feed.consecutive_errors,
        "last_error": feed.last_error,
        "next_poll_at": _iso(feed.next_poll_at),
    }


def duration(text: str) -> int:
    try:
        return parse_duration(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "feeds", "Manage feeds and see their health.", "newsdedup feeds list --json")
    actions = parser.add_subparsers(dest="feeds_action", metavar="ACTION", required=True)

    listing = add_command(
        actions, "list", "List feeds with their health: last success, consecutive errors, last error, next poll.",
        "newsdedup feeds list --json",
    )
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(handler=run_list)
    feeds_admin.register_actions(actions)

    add = add_command(
        actions, "add", "Follow a feed: an http(s) URL, a file:// URL or a path (a feed file or a directory "
        "of NITF/ninjs/RSS documents).",
        "newsdedup feeds add https://www.voaindonesia.com/api/zmgqoe$mqgu --name voa-id-berita --interval 15m",
    )
    add.add_argument("url", metavar="URL")
    add.add_argument("--name", help="feed name (default: derived from the URL)")
    add.add_argument("--source", help="source the articles belong to (default: the feed name)")
    add.add_argument("--interval", type=duration, metavar="DURATION", help="poll interval, e.g. 90s, 15m, 1h")
    add.add_argument("--fetch-pages", action="store_true", help="fetch the article page of summary-only entries")
    add.add_argument("--format", choices=FEED_FORMATS, default="auto", help="document format (default: detect)")
    add.add_argument("--language", help="language of the feed, e.g. id")
    add.set_defaults(handler=run_add)

    remove = add_command(
        actions, "remove", "Stop following a feed (its articles and history stay).", "newsdedup feeds remove voa-id"
    )
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(handler=run_remove)

    sync = add_command(
        actions, "sync", "Register the feeds declared in a feeds TOML file ([[feed]] name, url, source, "
        "interval, fetch_pages); changed declarations are updated.",
        "newsdedup feeds sync config/demo-feeds.toml",
    )
    sync.add_argument("file", metavar="FILE", nargs="?", help="feeds file (default: the feeds_file setting)")
    sync.add_argument("--prune", action="store_true", help="also remove feeds the file no longer declares")
    sync.set_defaults(handler=run_sync)

    show = add_command(
        actions, "show", "Show one feed: health, URL history and its latest fetches.", "newsdedup feeds show voa-id"
    )
    show.add_argument("name", metavar="NAME")
    show.add_argument("--fetches", type=int64, default=10, metavar="N", help="how many recent fetches (default 10)")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(handler=run_show)

    revert = add_command(
        actions, "revert-url", "Undo the last URL change of a feed (a permanent redirect that was followed).",
        "newsdedup feeds revert-url voa-id",
    )
    revert.add_argument("name", metavar="NAME")
    revert.set_defaults(handler=run_revert_url)


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
            upcoming = feed.next_poll_at.isoformat(timespec="seconds") if feed.next_poll_at else "now"
            paused = "paused " if feed.paused else ""
            print(f"{feed.name:<24.24} {paused}last ok {last}  next {upcoming}  {health}  {feed.url}")
    return 0


def run_add(app: App, args: argparse.Namespace) -> int:
    app.require_head()
    feed = open_registry(app).add(
        args.url,
        name=args.name,
        source=args.source,
        interval_seconds=args.interval,
        fetch_pages=args.fetch_pages,
        format=args.format,
        language=args.language,
    )
    print(f"added feed {feed.name}: {feed.url}")
    return 0


def run_remove(app: App, args: argparse.Namespace) -> int:
    app.require_head()
    feed = open_registry(app).remove(args.name)
    print(f"removed feed {feed.name} (its articles are kept; `feeds add` brings it back)")
    return 0


def run_sync(app: App, args: argparse.Namespace) -> int:
    path = args.file or app.settings.feeds_file
    if not path:
        raise InputError("no feeds file: give FILE or set feeds_file in the settings")
    specs = load_feed_specs(Path(path))
    app.require_head()
    report = open_registry(app).sync(specs, prune=args.prune)
    for label, names in (("added", report.added), ("updated", report.updated), ("removed", report.removed)):
        for name in names:
            print(f"{label} feed {name}")
    print(
        f"{path}: {len(specs)} feeds declared, {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed"
    )
    return 0


def run_show(app: App, args: argparse.Namespace) -> int:
    app.require_head()
    with app.sessions() as session:
        try:
            feed = feed_repo.feeds_named(session, [args.name])[0]
        except NotFoundError as exc:
            raise InputError(f"no feed named {args.name!r} (see `newsdedup feeds list`)") from exc
        data = feed_json(feed, repo.get_source(session, feed.source_id).name)
        data["url_changes"] = [
            {
                "at": _iso(c.changed_at),
                "from": c.old_url,
                "to": c.new_url,
                "reason": c.reason,
                "http_status": c.http_status,
            }
            for c in feed_repo.url_changes(session, feed.id)
        ]
        data["fetches"] = [
            {
                "id": f.id,
                "url": f.url,
                "started_at": _iso(f.started_at),
                "outcome": f.outcome,
                "http_status": f.http_status,
                "bytes": f.bytes,
                "articles_created": f.articles_created,
                "articles_updated": f.articles_updated,
                "error": f.error,
                "warning": f.warning,
            }
            for f in feed_repo.fetches_of_feed(session, feed.id, limit=args.fetches)
        ]
    if args.json:
        print_json(data)
        return 0
    print(f"{data['name']}  source {data['source']}  {data['url']}")
    if data["url"] != data["original_url"]:
        print(f"  declared as {data['original_url']}")
    health = "ok" if not data["consecutive_errors"] else f"{data['consecutive_errors']} consecutive errors"
    last_success = _short(feed_json_time(data["last_success_at"])) or "never"
    next_poll = _short(feed_json_time(data["next_poll_at"])) or "now"
    print(f"  health {health}; last success {last_success}; next poll {next_poll}")
    if data["last_error"]:
        print(f"  last error: {data['last_error']}")
    for change in data["url_changes"]:
        print(f"  url {change['reason']} at {_short(feed_json_time(change['at']))}: {change['from']} -> {change['to']}")
    for fetch in data["fetches"]:
        status = fetch["http_status"] if fetch["http_status"] is not None else "-"
        detail = fetch["error"] or f"{fetch['articles_created']} new, {fetch['articles_updated']} updated"
        print(f"  {_short(feed_json_time(fetch['started_at']))}  {fetch['outcome']:<12} {status}  {detail}")
    return 0


def run_revert_url(app: App, args: argparse.Namespace) -> int:
    app.require_head()
    current, previous = open_registry(app).revert_url(args.name)
    print(f"feed {args.name}: url {current} -> {previous}")
    return 0
