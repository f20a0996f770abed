"""The daemon as real processes: SIGTERM, kill -9 mid-ingest, two workers on one PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fetchkit import FeedServer, FetchEnv, fetch_rows, iter_items
from sqlalchemy import func, select

from ingest.app import App
from store.models import Article, ArticleChange, Feed, Fetch
from tests.conftest import REPO, make_app

DAEMON_SETTINGS = """
[fetch]
allowed_hosts = ["127.0.0.1"]
connect_timeout_seconds = 2.0
read_timeout_seconds = 5.0
total_timeout_seconds = 20.0
per_host_delay_seconds = 0.0
per_host_concurrency = 8
default_interval_seconds = 3600
min_interval_seconds = 60
"""


def write_files(tmp_path: Path, feeds: dict[str, str], extra_settings: str = "") -> tuple[Path, Path]:
    config = tmp_path / "newsdedup.toml"
    config.write_text(DAEMON_SETTINGS + extra_settings, encoding="utf-8")
    declarations = tmp_path / "feeds.toml"
    declarations.write_text(
        "".join(f'[[feed]]\nname = "{name}"\nurl = "{url}"\nsource = "{name}"\n\n' for name, url in feeds.items()),
        encoding="utf-8",
    )
    return config, declarations


class Daemon:
    """A daemon process whose logs go to a file (a pipe nobody reads would fill up and block it)."""

    def __init__(self, command: list[str], log_path: Path, environment: dict[str, str]) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(command, cwd=REPO, env=environment, stdout=self._log, stderr=self._log)

    def logs(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def send_signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def poll(self) -> int | None:
        return self.process.poll()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._log.close()


def start_daemon(database_url: str, config: Path, feeds: Path, worker: str, *extra: str) -> Daemon:
    command = [
        sys.executable, "-m", "ingest", "--database-url", database_url, "--config", str(config),
        "run", "--feeds", str(feeds), "--worker-id", worker, "--sync-seconds", "0.5", "--jitter-seconds", "0.2",
        "--log-format", "json", *extra,
    ]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDEDUP_")}
    return Daemon(command, config.parent / f"daemon-{worker}-{time.monotonic_ns()}.log", environment)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def count(app: App, model: type[object], *where: object) -> int:
    with app.sessions() as session:
        query = select(func.count()).select_from(model)  # type: ignore[arg-type]
        for condition in where:
            query = query.where(condition)  # type: ignore[arg-type]
        return int(session.scalar(query) or 0)


def stop(process: Daemon) -> None:
    process.kill()


def test_sigterm_finishes_in_flight_work_and_exits_zero(
    sqlite_url: str, tmp_path: Path, corpus: Path, feed_server: FeedServer
) -> None:
    body = (corpus / "feeds" / "fastfeedparser__npr-world.xml").read_bytes()
    entries = sum(1 for _ in iter_items(body.decode()))
    url = feed_server.static("/npr.xml", body, content_type="application/rss+xml")
    config, feeds = write_files(tmp_path, {"npr": url})
    app = make_app(sqlite_url)
    process = start_daemon(sqlite_url, config, feeds, "w1", "--metrics-port", "0")
    try:
        wait_for(lambda: count(app, Article) == entries, 90, f"{entries} articles")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        stop(process)
    logs = process.logs()
    assert '"feed": "npr"' in logs and "worker w1 stopped" in logs
    with app.sessions() as session:
        feed = session.scalar(select(Feed).where(Feed.name == "npr"))
        assert feed is not None and feed.lease_owner is None
        assert feed.next_poll_at is not None and feed.last_success_at is not None
    assert count(app, Fetch) == 1
    app.close()


def test_kill_9_mid_ingest_loses_nothing_and_the_restart_resumes(
    sqlite_url: str, tmp_path: Path, corpus: Path, feed_server: FeedServer
) -> None:
    body = (corpus / "feeds" / "fastfeedparser__time-world.xml").read_bytes()  # 100 full-content items
    entries = sum(1 for _ in iter_items(body.decode()))
    url = feed_server.static("/time.xml", body, content_type="application/rss+xml")
    config, feeds = write_files(tmp_path, {"time": url})
    app = make_app(sqlite_url)
    first = start_daemon(sqlite_url, config, feeds, "w1")
    try:
        wait_for(lambda: count(app, Article) >= 5, 90, "the first articles")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        stop(first)
    interrupted_at = count(app, Article)
    # Nothing half-written: every article has its created event and its text.
    assert count(app, ArticleChange, ArticleChange.change == "created") == interrupted_at
    # The dead worker's lease expires; a restart under the same name takes the feed back at once.
    second = start_daemon(sqlite_url, config, feeds, "w1")
    try:
        wait_for(lambda: count(app, Article) == entries, 120, f"all {entries} articles after the restart")
        time.sleep(1.0)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
        stop(second)
    with app.sessions() as session:
        keys = list(session.scalars(select(Article.entry_key)))
    assert len(keys) == len(set(keys)) == entries  # every entry exactly once
    assert count(app, ArticleChange, ArticleChange.change == "created") == entries
    app.close()


@pytest.mark.postgres
def test_two_workers_on_postgresql_share_the_feeds(
    pg_database_factory: Callable[[], str], tmp_path: Path, corpus: Path, feed_server: FeedServer
) -> None:
    names = ["bbc-news-world", "npr-world", "japantoday-world", "dawn-world", "cbsnews-world", "al-monitor",
             "abcnews-international", "boston-com-world"]
    feeds = {}
    entries = 0
    for name in names:
        body = (corpus / "feeds" / f"fastfeedparser__{name}.xml").read_bytes()
        entries_in_feed = sum(1 for _ in iter_items(body.decode()))
        entries += entries_in_feed
        feeds[name] = feed_server.static(f"/{name}.xml", body, content_type="application/rss+xml")
    # The same wire story reaches both workers at once through two more feeds.
    wire = (corpus / "feeds" / "fastfeedparser__dawn-world.xml").read_bytes()
    feeds["wire-copy-a"] = feed_server.static("/copy-a.xml", wire, content_type="application/rss+xml")
    feeds["wire-copy-b"] = feed_server.static("/copy-b.xml", wire, content_type="application/rss+xml")
    database_url = pg_database_factory()
    app = make_app(database_url)
    # Several workers share the LSH index in the database, inside each article's transaction.
    config, declarations = write_files(tmp_path, feeds, '[dedupe]\nindex_backend = "sql"\n')
    workers = [start_daemon(database_url, config, declarations, f"w{i}", "--metrics-port", "0") for i in (1, 2)]
    try:
        wait_for(lambda: count(app, Fetch) >= len(feeds), 120, "one fetch of every feed")
        time.sleep(3.0)  # a second poll would show up here (intervals are an hour)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        codes = [worker.wait(30) for worker in workers]
        for worker in workers:
            stop(worker)
    assert codes == [0, 0]
    with app.sessions() as session:
        per_feed = dict(session.execute(
            select(Feed.name, func.count(Fetch.id)).join(Fetch, Fetch.feed_id == Feed.id).group_by(Feed.name)
        ).all())
        details = [(f.feed_id, f.outcome, f.error, f.started_at) for f in session.scalars(select(Fetch))]
        assert per_feed == {name: 1 for name in feeds}, details  # each feed claimed by exactly one worker
        feed_sources = [f.source_id for f in session.scalars(select(Feed).where(Feed.name.like("wire-copy-%")))]
        copies = session.execute(
            select(Article.entry_key, Article.canonical_id).where(Article.source_id.in_(feed_sources))
        ).all()
    by_key: dict[str, set[int | None]] = {}
    for key, canonical in copies:
        by_key.setdefault(key, set()).add(canonical)
    # Each story that both copy feeds carried ended in one cluster, not two canonical articles.
    split = {key: canonicals for key, canonicals in by_key.items() if len(canonicals) != 1}
    assert by_key and not split, split
    logs = "".join(w.logs() for w in workers)
    assert "worker w1 started" in logs and "worker w2 started" in logs
    app.close()


def test_metrics_endpoint_of_a_running_daemon(sqlite_url: str, tmp_path: Path, feed_server: FeedServer,
                                              corpus: Path) -> None:
    body = (corpus / "feeds" / "fastfeedparser__npr-world.xml").read_bytes()
    url = feed_server.static("/npr.xml", body, content_type="application/rss+xml")
    config, feeds = write_files(tmp_path, {"npr": url})
    make_app(sqlite_url).close()
    process = start_daemon(sqlite_url, config, feeds, "w1", "--metrics-port", "0")
    try:
        port: list[int] = []

        def endpoint_up() -> bool:
            for line in process.logs().splitlines():
                if "health and metrics on http://127.0.0.1:" in line:
                    port.append(int(line.split("127.0.0.1:")[1].split("/")[0]))
            return bool(port)

        wait_for(endpoint_up, 60, "the metrics endpoint")
        base = f"http://127.0.0.1:{port[0]}"
        assert httpx.get(f"{base}/readyz").status_code == 200
        wait_for(lambda: 'newsdedup_fetches_total{outcome="new"} 1.0' in httpx.get(f"{base}/metrics").text, 60,
                 "a counted fetch")
        text = httpx.get(f"{base}/metrics").text
        assert "newsdedup_fetch_latency_seconds_count 1.0" in text
        assert 'newsdedup_articles_total{change="created"}' in text
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        stop(process)


def test_refuses_to_start_on_a_database_not_at_head(sqlite_url: str, tmp_path: Path) -> None:
    config, feeds = write_files(tmp_path, {})
    process = start_daemon(sqlite_url, config, feeds, "w1")
    assert process.wait(60) == 1
    err = process.logs()
    process.kill()
    assert "newsdedup db upgrade" in err and err.count("\n") == 1


def test_fetch_command_leaves_a_feed_the_daemon_is_polling_alone(
    sqlite_fetch_env: FetchEnv, sqlite_app: App, feed_server: FeedServer, corpus: Path
) -> None:
    body = (corpus / "feeds" / "fastfeedparser__npr-world.xml").read_bytes()
    sqlite_fetch_env.add(feed_server.static("/busy.xml", body), "busy")
    sqlite_fetch_env.add(feed_server.static("/free.xml", body), "free")
    now = datetime.now(UTC)
    with sqlite_app.sessions.begin() as session:
        feed = session.scalars(select(Feed).where(Feed.name == "busy")).one()
        feed.lease_owner, feed.lease_expires_at = "daemon-host:4242", now + timedelta(minutes=5)
    code, lines = sqlite_fetch_env.fetch_lines("--all")
    assert code == 0
    assert lines["busy"] == "busy: being polled by daemon-host:4242"
    assert lines["free"].startswith(f"{sum(1 for _ in iter_items(body.decode()))} new")
    assert fetch_rows(sqlite_app, "busy") == [] and len(fetch_rows(sqlite_app, "free")) == 1
    with sqlite_app.sessions() as session:
        free = session.scalars(select(Feed).where(Feed.name == "free")).one()
        assert free.lease_owner is None  # the command let go of what it took
