"""``newsdedup fetch``: one fetch cycle now, one line per feed."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ingest.app import App
from ingest.commands._common import add_command, print_json_line
from ingest.errors import InputError
from ingest.fetching import open_fetcher
from store.errors import NotFoundError


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
    parser.set_defaults(handler=run)


def run(app: App, args: argparse.Namespace) -> int:
    if args.feed and args.all:
        raise InputError("give --feed NAME or --all, not both")
    app.require_head()
    fetcher = open_fetcher(app)
    try:
        try:
            targets = fetcher.targets(args.feed, every=args.all)
        except NotFoundError as exc:
            raise InputError(f"no feed named {exc.key!r} (see `newsdedup feeds list`)") from exc
        if not targets:
            print("no feed is due (use --all to fetch every feed now)", file=sys.stderr)
            return 0
        failed = 0
        for result in fetcher.run(targets, force=args.force):
            if result.status == "error":
                failed += 1
            if args.json:
                print_json_line(result.as_json())
            else:
                print(result.line(), flush=True)
        return 1 if failed else 0
    finally:
        fetcher.close()
