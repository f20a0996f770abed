"""Fetching feeds and pages: one polite, bounded HTTP client; conditional GET; server hints and
backoff; per-host limits; URL safety; permanent-redirect tracking; entry identity; wire formats.

The public face: ``FeedFetcher`` (one cycle over feeds, or one feed for the daemon), its
``FeedResult``, the ``FeedRegistry`` behind ``feeds add|remove|sync`` and ``open_fetcher``.
"""

from __future__ import annotations

from ingest.app import App
from ingest.fetching.registry import FeedRegistry, default_feed_name, feed_url
from ingest.fetching.run import FeedFetcher, FeedResult, FeedTarget
from ingest.fetching.safety import AddressPolicy
from ingest.parallel import PooledPipeline
from ingest.pipeline import Pipeline

__all__ = [
    "AddressPolicy",
    "FeedFetcher",
    "FeedRegistry",
    "FeedResult",
    "FeedTarget",
    "default_feed_name",
    "feed_url",
    "open_fetcher",
    "open_registry",
]


def open_fetcher(app: App, prepare_processes: int = 1) -> FeedFetcher:
    """A fetcher on the application's database, rules and fetch settings; close it when done.

    ``prepare_processes`` above 1: worker processes parse, clean and prepare what is fetched
    (``ingest.parallel.PooledPipeline``) while the polling threads write."""
    pipeline: Pipeline
    if prepare_processes > 1:
        pipeline = PooledPipeline(
            app.sessions, app.cleaner, app.signer, settings=app.settings, workers=prepare_processes,
            deduper=app.deduper,
        )
    else:
        pipeline = Pipeline(app.sessions, app.cleaner, app.signer, deduper=app.deduper)
    return FeedFetcher(app.sessions, pipeline, app.settings.fetch)


def open_registry(app: App) -> FeedRegistry:
    fetch = app.settings.fetch
    policy = AddressPolicy.from_settings(fetch.allow_private_addresses, fetch.allowed_hosts, fetch.allow_file_urls)
    return FeedRegistry(app.sessions, policy)
