"""``newsdedup articles delete ID``: remove an article for good, leaving a tombstone."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ingest.app import App
from ingest.commands._common import add_command, int64
from ingest.deletion import delete_article
from ingest.pipeline import Pipeline


def register_actions(actions: Any) -> None:
    delete = add_command(
        actions, "delete",
        "Delete an article: its text goes, a tombstone stays so that no later fetch or re-ingest brings "
        "it back, and consumers get a `deleted` event. Duplicates that pointed at it are re-linked.",
        "newsdedup articles delete 12",
    )
    delete.add_argument("id", type=int64, metavar="ID")
    delete.set_defaults(handler=run_delete)


def run_delete(app: App, args: argparse.Namespace) -> int:
    app.require_head()
    pipeline = Pipeline(app.sessions, app.cleaner, app.signer, deduper=app.deduper)
    outcome = delete_article(pipeline, app.read_sessions, args.id)
    title = outcome.title or "(untitled)"
    if outcome.already_deleted:
        print(f"article {args.id} was already deleted: {title}")
        return 0
    print(f"deleted article {args.id}: {title} (tombstone kept)")
    if outcome.new_canonical is not None:
        print(f"article {outcome.new_canonical} is now canonical for {len(outcome.moved)} article(s)")
    failed = 0
    for relinked in outcome.relinked:
        if relinked.status == "updated":
            print(f"re-linked article {relinked.article_id}: {relinked.diff.summary()}")
        elif relinked.status in ("error", "skipped"):
            failed += 1
            print(f"warning: article {relinked.article_id} still links to the deleted article: {relinked.error}",
                  file=sys.stderr)
    return 0 if not failed else 1
