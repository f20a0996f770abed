"""``newsdedup feeds reset-errors|pause|resume NAME``: an operator's repairs to one feed."""

from __future__ import annotations

import argparse
from typing import Any

from ingest.app import App
from ingest.commands._common import add_command
from store import admin
from store import repository as repo
from store.models import utcnow


def register_actions(actions: Any) -> None:
    reset = add_command(
        actions, "reset-errors",
        "Forget a feed's error streak and backoff so that it is fetched again at the next scheduler tick.",
        "newsdedup feeds reset-errors voa-indonesia",
    )
    reset.add_argument("name", metavar="NAME")
    reset.set_defaults(handler=run_reset_errors)
    pause = add_command(actions, "pause", "Stop fetching a feed until it is resumed; its articles stay.",
                        "newsdedup feeds pause reuters-world")
    pause.add_argument("name", metavar="NAME")
    pause.set_defaults(handler=run_pause, paused=True)
    resume = add_command(actions, "resume", "Fetch a paused feed again, starting at the next scheduler tick.",
                         "newsdedup feeds resume reuters-world")
    resume.add_argument("name", metavar="NAME")
    resume.set_defaults(handler=run_pause, paused=False)


def run_reset_errors(app: App, args: argparse.Namespace) -> int:
    app.require_head()
    with app.sessions.begin() as session:
        feed = repo.get_feed(session, args.name)
        cleared = admin.reset_feed_errors(session, feed, utcnow())
    print(f"feed {args.name}: cleared {cleared} consecutive errors; due now")
    return 0


def run_pause(app: App, args: argparse.Namespace) -> int:
    app.require_head()
    with app.sessions.begin() as session:
        feed = repo.get_feed(session, args.name)
        changed = admin.set_feed_paused(session, feed, args.paused, utcnow())
    state = "paused" if args.paused else "resumed"
    unchanged = "already paused" if args.paused else "not paused"
    print(f"feed {args.name}: {state if changed else unchanged}")
    return 0
