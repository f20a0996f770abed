"""``newsdedup export [--since-seq N]``: the change log as JSON Lines, one article per line.

Each batch is read in a short read-only transaction and written out after it ends, so a slow
reader on the other end of the pipe never holds a transaction (or, on SQLite, a lock) open.
Sequence numbers become visible in order (see ``store.repository.next_change_seq``), so reading
``seq > last`` batch after batch never skips or repeats an event, even while others write.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ingest.app import App
from ingest.commands._common import add_command, int64, print_json_line
from ingest.errors import InputError
from ingest.views import article_json
from store import admin
from store import repository as repo

BATCH_SIZE = 200


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "export",
        "Print changed articles as JSON Lines in change-log order; each line carries its `seq` and `change` "
        "(created, updated, merged, deleted). Pass the last `seq` you applied to get only newer events.",
        "newsdedup export --since-seq 1200 > changes.jsonl",
    )
    parser.add_argument("--since-seq", type=int64, default=0, metavar="N", help="only changes after seq N")
    parser.add_argument("--limit", type=int64, metavar="COUNT", help="stop after this many events")
    parser.set_defaults(handler=run)


def run(app: App, args: argparse.Namespace) -> int:
    if args.since_seq < 0:
        raise InputError(f"--since-seq must be 0 or more, got {args.since_seq}")
    if args.limit is not None and args.limit < 1:
        raise InputError(f"--limit must be 1 or more, got {args.limit}")
    app.require_head()
    last = args.since_seq
    remaining = args.limit
    while remaining is None or remaining > 0:
        size = BATCH_SIZE if remaining is None else min(BATCH_SIZE, remaining)
        with app.read_sessions() as session, session.begin():
            lines = []
            for change in admin.changes_after(session, last, size):
                line = article_json(session, repo.get_article(session, change.article_id))
                line["seq"] = change.seq
                line["change"] = change.change
                line["change_version"] = change.version
                line["change_at"] = change.at.isoformat()
                lines.append(line)
        if not lines:
            break
        for line in lines:
            print_json_line(line)
        sys.stdout.flush()
        last = lines[-1]["seq"]
        if remaining is not None:
            remaining -= len(lines)
    return 0
