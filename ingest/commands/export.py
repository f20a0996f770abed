"""``newsdedup export [--since-seq N]``: the change log as JSON Lines, one article per line."""

from __future__ import annotations

import argparse
from typing import Any

from ingest.app import App
from ingest.commands._common import add_command, print_json_line
from ingest.views import article_json
from store import repository as repo


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "export",
        "Print changed articles as JSON Lines in change-log order; each line carries its `seq`.",
        "newsdedup export --since-seq 1200 > changes.jsonl",
    )
    parser.add_argument("--since-seq", type=int, default=0, metavar="N", help="only changes after seq N")
    parser.set_defaults(handler=run)


def run(app: App, args: argparse.Namespace) -> int:
    app.require_head()
    with app.sessions() as session:
        for change in repo.changes_since(session, args.since_seq):
            article = repo.get_article(session, change.article_id)
            line = article_json(session, article)
            line["seq"] = change.seq
            line["change"] = change.change
            print_json_line(line)
    return 0
