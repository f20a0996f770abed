"""``newsdedup run``: the daemon that keeps every feed current.

APScheduler 3.x holds one job per feed in this process (explicit ids, ``replace_existing``,
``coalesce`` so missed runs collapse into one). The job store is in memory on purpose: several
daemons coordinate through feed leases in the database, never through a shared job store. A
periodic sync job reconciles the jobs with the feeds table, so feeds added or removed through the
CLI or ``feeds.toml`` are picked up without a restart. The sync runs on an executor of its own,
so a backlog of polls never delays it, and a feed whose job has fired but waits for a free worker
counts as scheduled, so the sync never adds a second job for it.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from ingest.app import App
from ingest.errors import DatabaseNotReadyError
from ingest.observability import HealthServer, Metrics
from ingest.observability.logs import feed_logger
from store import leases
from store.models import Feed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PollReport:
    """What one poll of one feed did."""

    feed: str
    outcome: str  # new | updated | unchanged | not_modified | error
    created: int = 0
    updated: int = 0
    duplicates: dict[str, int] | None = None
    error: str | None = None
    seconds: float = 0.0


# Polls one feed (by id); must return between entries once ``stop`` is set.
Poller = Callable[[int, threading.Event], PollReport]


@dataclass(frozen=True)
class DaemonOptions:
    worker_id: str = ""
    sync_seconds: float = 30.0
    lease_seconds: float = 600.0
    jitter_seconds: float = 30.0
    shutdown_grace_seconds: float = 20.0
    max_workers: int = 4
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None  # None: no endpoint; 0: any free port


# A poll reschedules its own job before it returns, and until it has returned the executor counts
# that job as running: a run falling due in that moment is skipped (``max_instances`` 1), and the
# date job is gone until the next sync. So a rescheduled run is never due sooner than this.
RESCHEDULE_FLOOR_SECONDS = 1.0


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Daemon:
    def __init__(
        self,
        app: App,
        poller: Poller,
        options: DaemonOptions | None = None,
        sync_hook: Callable[[], None] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.app = app
        self.poller = poller
        self.options = options or DaemonOptions()
        self.worker_id = self.options.worker_id or default_worker_id()
        self.sync_hook = sync_hook
        self.metrics = metrics or Metrics()
        self.stop_event = threading.Event()
        self._in_flight = 0
        self._in_flight_lock = threading.Lock()
        self._known_feeds: dict[int, str] = {}
        self._running: set[int] = set()
        # Polls fired and not yet started, per feed. A count, not a set: the submission event and
        # the poll's start can arrive in either order.
        self._queued: dict[int, int] = {}
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(self.options.max_workers), "control": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        self.health: HealthServer | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        def handle(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %s: stopping after the work in flight", signal.Signals(signum).name)
            self.stop_event.set()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)

    def readiness(self) -> str | None:
        try:
            self.app.require_head()
        except DatabaseNotReadyError as exc:
            return str(exc)
        return None

    def run(self) -> int:
        """Run until SIGTERM/SIGINT (or ``stop_event``); returns the exit code."""
        self.app.require_head()  # refuse to start on a database not at head
        if self.options.metrics_port is not None:
            self.health = HealthServer(self.metrics, self.readiness, self.options.metrics_host,
                                       self.options.metrics_port)
            self.health.start()
            log.info("health and metrics on http://%s:%d/", self.options.metrics_host, self.health.port)
        with self.app.sessions.begin() as session:
            leases.release_all(session, self.worker_id)  # a restart under the same id resumes cleanly
        self.scheduler.add_listener(self._job_submitted, EVENT_JOB_SUBMITTED)
        self.scheduler.start()
        self.scheduler.add_job(self.sync, "interval", seconds=self.options.sync_seconds, id="sync",
                               replace_existing=True, next_run_time=datetime.now(UTC), executor="control")
        log.info("worker %s started", self.worker_id)
        try:
            while not self.stop_event.wait(0.5):
                pass
        finally:
            self.shutdown()
        return 0

    def shutdown(self) -> None:
        if self.health is not None:
            self.health.alive = False
        self.scheduler.remove_all_jobs()
        self.scheduler.shutdown(wait=False)
        deadline = time.monotonic() + self.options.shutdown_grace_seconds
        while self.in_flight() and time.monotonic() < deadline:
            time.sleep(0.05)
        left = self.in_flight()
        if left:
            # Each article commits in its own transaction; what was open is rolled back by the
            # database when the process exits. Nothing half-written can remain.
            log.warning("%d poll(s) still running after %.0fs; leaving them to roll back", left,
                        self.options.shutdown_grace_seconds)
        else:
            with self.app.sessions.begin() as session:
                leases.release_all(session, self.worker_id)
        if self.health is not None:
            self.health.stop()
        log.info("worker %s stopped", self.worker_id)

    def in_flight(self) -> int:
        with self._in_flight_lock:
            return self._in_flight

    # --- scheduling -----------------------------------------------------------------------

    def _job_id(self, feed_id: int) -> str:
        return f"feed:{feed_id}"

    def _schedule(self, feed_id: int, name: str, when: datetime | None) -> None:
        if self.stop_event.is_set():
            return
        now = datetime.now(UTC)
        run_at = max(when or now, now) + timedelta(seconds=random.uniform(0, self.options.jitter_seconds))
        self.scheduler.add_job(self.poll, "date", run_date=run_at, args=[feed_id, name], id=self._job_id(feed_id),
                               replace_existing=True, name=name)

    def sync(self) -> None:
        """Reconcile jobs with the feeds table (and, through the hook, with feeds.toml)."""
        if self.stop_event.is_set():
            return
        try:
            if self.sync_hook is not None:
                self.sync_hook()
            with self.app.sessions() as session:
                rows = leases.schedulable_feeds(session)
                backoff = session.query(Feed).filter(Feed.consecutive_errors > 0, Feed.removed_at.is_(None)).count()
        except Exception:
            log.exception("feed sync failed; keeping the current schedule")
            return
        current = {feed_id: name for feed_id, name, _ in rows}
        for feed_id in set(self._known_feeds) - set(current):
            job = self.scheduler.get_job(self._job_id(feed_id))
            if job is not None:
                job.remove()
            feed_logger(self._known_feeds[feed_id]).info("feed unscheduled")
        for feed_id, name, next_poll_at in rows:
            if self.scheduler.get_job(self._job_id(feed_id)) is None and feed_id not in self._running_ids():
                self._schedule(feed_id, name, next_poll_at)
                if feed_id not in self._known_feeds:
                    feed_logger(name).info("feed scheduled", next_poll_at=str(next_poll_at))
        self._known_feeds = current
        self.metrics.feeds.set(len(current))
        self.metrics.feeds_in_backoff.set(backoff)

    def _running_ids(self) -> set[int]:
        """Feeds whose poll is running or has fired and waits for a worker thread."""
        with self._in_flight_lock:
            return self._running | {feed_id for feed_id, count in self._queued.items() if count > 0}

    def _job_submitted(self, event: JobSubmissionEvent) -> None:
        feed_id = self._feed_of_job(event.job_id)
        if feed_id is not None:
            self._count_queued(feed_id, 1)

    def _count_queued(self, feed_id: int, change: int) -> None:
        with self._in_flight_lock:
            count = self._queued.get(feed_id, 0) + change
            if count:
                self._queued[feed_id] = count
            else:
                self._queued.pop(feed_id, None)

    def _feed_of_job(self, job_id: str) -> int | None:
        prefix = self._job_id(0)[:-1]
        return int(job_id[len(prefix):]) if job_id.startswith(prefix) else None

    def poll(self, feed_id: int, name: str) -> None:
        self._count_queued(feed_id, -1)
        if self.stop_event.is_set():
            return
        logger = feed_logger(name)
        now = datetime.now(UTC)
        lease_until = now + timedelta(seconds=self.options.lease_seconds)
        with self.app.sessions.begin() as session:
            claimed = leases.try_claim_feed(session, feed_id, self.worker_id, now, lease_until,
                                            due_by=now + timedelta(seconds=1))
        if not claimed:
            self._reschedule(feed_id, name)
            return
        with self._in_flight_lock:
            self._in_flight += 1
            self._running = {*self._running, feed_id}
        try:
            report = self.poller(feed_id, self.stop_event)
            self._observe(report)
            if report.error:
                logger.warning("poll failed", outcome=report.outcome, error=report.error)
            else:
                logger.info("polled", outcome=report.outcome, created=report.created, updated=report.updated)
        except Exception as exc:
            self.metrics.fetches.labels(outcome="error").inc()
            logger.error("poll crashed", error=f"{type(exc).__name__}: {exc}", exc_info=True)
        finally:
            try:
                with self.app.sessions.begin() as session:
                    leases.release_feed(session, feed_id, self.worker_id)
            except Exception:
                logger.exception("could not release the lease; it will expire")
            with self._in_flight_lock:
                self._in_flight -= 1
                self._running = self._running - {feed_id}
        self._reschedule(feed_id, name)

    def _reschedule(self, feed_id: int, name: str) -> None:
        if self.stop_event.is_set():
            return
        try:
            with self.app.sessions() as session:
                feed = session.get(Feed, feed_id)
                if feed is None or feed.removed_at is not None or feed.paused:
                    return
                now = datetime.now(UTC)
                when = feed.next_poll_at
                if when is None or when <= now:
                    if feed.lease_owner not in (None, self.worker_id):
                        # Another worker is polling it now; look again once it should be done.
                        when = now + timedelta(seconds=max(1.0, self.options.jitter_seconds))
                    else:
                        # The poll stored no next time: use the feed's interval.
                        interval = feed.interval_seconds or self.app.settings.fetch.default_interval_seconds
                        when = now + timedelta(seconds=interval)
                when = max(when, now + timedelta(seconds=RESCHEDULE_FLOOR_SECONDS))
        except Exception:
            log.exception("reschedule of feed %s failed; the next sync will pick it up", name)
            return
        self._schedule(feed_id, name, when)

    def _observe(self, report: PollReport) -> None:
        self.metrics.fetches.labels(outcome=report.outcome).inc()
        self.metrics.fetch_latency.observe(report.seconds)
        if report.created:
            self.metrics.articles.labels(change="created").inc(report.created)
        if report.updated:
            self.metrics.articles.labels(change="updated").inc(report.updated)
        for tier, count in (report.duplicates or {}).items():
            self.metrics.duplicates.labels(tier=tier).inc(count)
