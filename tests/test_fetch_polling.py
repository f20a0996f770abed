"""The daemon's view: one feed per call, from several threads at once, through one fetcher."""

from __future__ import annotations

import threading
from pathlib import Path

from fetchkit import FeedServer, FetchEnv, articles_of

from config import load_settings
from ingest.app import App
from ingest.fetching import open_fetcher
from ingest.fetching.polling import poller
from store import feed_repository as feed_repo

FEEDS = [
    "fastfeedparser__npr-world.xml",
    "fastfeedparser__boston-com-world.xml",
    "fastfeedparser__washingtonpost-world.xml",
]


def test_polls_from_several_threads_share_one_fetcher(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    for index, name in enumerate(FEEDS):
        body = (corpus / "feeds" / name).read_bytes()
        sqlite_fetch_env.add(feed_server.static(f"/{index}.xml", body), f"feed{index}")
    settings = load_settings(sqlite_fetch_env.config_path, environ={}, database_url=sqlite_app.database_url)
    daemon_app = App(settings)
    fetcher = open_fetcher(daemon_app)
    poll = poller(fetcher)
    with daemon_app.sessions() as session:
        ids = [feed.id for feed in feed_repo.active_feeds(session)]
    reports = {}

    def run(feed_id: int) -> None:
        report = poll(feed_id, threading.Event())
        reports[report.feed] = report

    try:
        threads = [threading.Thread(target=run, args=(feed_id,)) for feed_id in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert {name: (r.outcome, r.created) for name, r in reports.items()} == {
            "feed0": ("new", 10),
            "feed1": ("new", 10),
            "feed2": ("new", 9),
        }
        stopped = threading.Event()
        stopped.set()
        assert poll(ids[0], stopped).outcome == "deferred"  # asked to stop: nothing fetched
        assert len(feed_server.requests) == 3
    finally:
        fetcher.close()
        daemon_app.close()
    assert sum(len(articles_of(sqlite_app, f"feed{index}")) for index in range(3)) == 29
