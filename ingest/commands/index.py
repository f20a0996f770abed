"""``newsdedup index rebuild [--resign]``: the dedupe index recomputed from the SQL store."""

from __future__ import annotations

import argparse
from typing import Any

from ingest.app import App
from ingest.commands._common import add_command


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "index",
        "The dedupe index (LSH over stored signatures): derived state, rebuilt from SQL.",
        "newsdedup index rebuild",
    )
    actions = parser.add_subparsers(dest="index_action", metavar="ACTION", required=True)
    rebuild = add_command(
        actions,
        "rebuild",
        "Recompute the index from the stored signatures of the last window_days. With --resign, first make "
        "every signature again from the stored text (after changing num_perm, seed or the library).",
        "newsdedup index rebuild --resign",
    )
    rebuild.add_argument("--resign", action="store_true", help="re-sign every stored block and body first")
    rebuild.set_defaults(handler=run_rebuild)


def run_rebuild(app: App, args: argparse.Namespace) -> int:
    app.require_head()
    report = app.deduper.rebuild(resign=args.resign)
    resigned = f", {report.resigned} blocks re-signed" if args.resign else ""
    print(f"index rebuilt ({report.backend}): {report.blocks} blocks in {report.seconds:.2f}s{resigned}")
    return 0
