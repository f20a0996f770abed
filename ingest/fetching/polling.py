"""The daemon's per-feed job on top of the fetcher: ``poller(fetcher)`` is an ``ingest.daemon.Poller``."""

from __future__ import annotations

import threading

from ingest.daemon import Poller, PollReport
from ingest.fetching.run import FeedFetcher, FeedResult


def report_of(result: FeedResult) -> PollReport:
    return PollReport(
        feed=result.feed,
        outcome=result.status,
        created=result.created,
        updated=result.updated,
        error=result.error if result.status == "error" else None,
        seconds=result.seconds,
    )


def poller(fetcher: FeedFetcher) -> Poller:
    """Polls one feed by id in the calling thread; several daemon threads may share the fetcher."""

    def poll(feed_id: int, stop: threading.Event) -> PollReport:
        return report_of(fetcher.fetch_one(feed_id, stop=stop))

    return poll
