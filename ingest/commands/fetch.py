"""``newsdedup fetch``: one fetch cycle now, one line per feed."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from ingest.app import App
from ingest.commands._common import add_command, add_prepare_processes_option, print_json_line
from ingest.daemon import default_worker_id
from ingest.errors import InputError
from ingest.fetching import open_fetcher
from store import leases
from store.errors import NotFoundError

# Leases keep a running daemon off the feeds this command is fetching (and this command off the
# daemon's); a crashed command's leases expire after this long.
LEASE = timedelta(minutes=10)


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "fetch",
        "Fetch feeds now: the due ones, every feed (--all) or the named ones (--feed). Prints one line per "
        "feed: new/updated/unchanged counts, not modified, or the error. Exits 1 if any feed failed.",
        "newsdedup fetch --feed voa-id-berita --force",
    )
    parser.add_argument("--feed", action="append", default=[], metavar="NAME", help="fetch this feed (repeatable)")
    parser.add_argument("--all", action="store_true", help="fetch every active feed, due or not")
    parser.add_argument("--force", action="store_true", help="ignore validators and the unchanged-body check")
    parser.add_argument("--json", action="store_true", help="one JSON object per feed")
    add_prepare_processes_option(parser)
    parser.set_defaults(handler=run)


def run(app: App, args: argparse.Namespace) -> int:
    if args.feed and args.all:
        raise InputError("give --feed NAME or --all, not both")
    app.require_head()
    fetcher = open_fetcher(app, args.prepare_processes)
    try:
        try:
            targets = fetcher.targets(args.feed, every=args.all)
        except NotFoundError as exc:
            raise InputError(f"no feed named {exc.key!r} (see `newsdedup feeds list`)") from exc
        if not targets:
            print("no feed is due (use --all to fetch every feed now)", file=sys.stderr)
            return 0
        worker = f"cli:{default_worker_id()}"
        now = datetime.now(UTC)
        free = []
        with app.sessions.begin() as session:
            for target in targets:
                owner = leases.claim_for_operator(session, target.id, worker, now, now + LEASE)
                if owner is None:
                    free.append(target)
                elif args.json:
                    print_json_line({"feed": target.name, "url": target.url, "status": "busy", "worker": owner})
                else:
                    print(f"{target.name}: busy: being polled by {owner}", flush=True)
        failed = 0
        try:
            for result in fetcher.run(free, force=args.force):
                if result.status == "error":
                    failed += 1
                if args.json:
                    print_json_line(result.as_json())
                else:
                    print(result.line(), flush=True)
        finally:
            with app.sessions.begin() as session:
                leases.release_all(session, worker)
        return 1 if failed else 0
    finally:
        fetcher.close()
