"""The daemon's own rescheduling, in process: a poll never puts its next run inside its own last moments."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from ingest.daemon import RESCHEDULE_FLOOR_SECONDS, Daemon, DaemonOptions, PollReport
from store import feed_repository
from store import repository as repo
from tests.conftest import make_app


def _never_polls(feed_id: int, stop: threading.Event) -> PollReport:
    raise AssertionError(f"feed {feed_id} polled: the scheduler is not started in this test")


def test_a_next_poll_due_at_once_is_put_off_past_the_polls_own_return(sqlite_url: str) -> None:
    app = make_app(sqlite_url)
    try:
        with app.sessions.begin() as session:
            source = repo.get_or_create_source(session, "wire")
            session.flush()
            soon = feed_repository.add_feed(session, name="soon", url="http://127.0.0.1:9/soon", source_id=source.id)
            later = feed_repository.add_feed(session, name="later", url="http://127.0.0.1:9/later", source_id=source.id)
            session.flush()
            now = datetime.now(UTC)
            # What a slow poll leaves behind: its stored next time already (almost) here.
            soon.next_poll_at = now + timedelta(milliseconds=10)
            later.next_poll_at = now + timedelta(minutes=5)
            ids = {"soon": soon.id, "later": later.id}
        daemon = Daemon(app, _never_polls, DaemonOptions(jitter_seconds=0.0))
        before = datetime.now(UTC)
        for name, feed_id in ids.items():
            daemon._reschedule(feed_id, name)
        run_at = {name: daemon.scheduler.get_job(f"feed:{feed_id}").trigger.run_date for name, feed_id in ids.items()}
        assert run_at["soon"] >= before + timedelta(seconds=RESCHEDULE_FLOOR_SECONDS)
        # A next time further off is kept as stored.
        assert abs(run_at["later"] - (before + timedelta(minutes=5))) < timedelta(seconds=2)
    finally:
        app.close()
