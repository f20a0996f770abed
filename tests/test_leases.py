"""Feed leases: of several workers racing for a feed, exactly one gets it; dead workers' leases expire."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from ingest.app import App
from store import leases
from store import repository as repo
from store.models import Feed


def add_feeds(app: App, count: int) -> list[int]:
    with app.sessions.begin() as session:
        source = repo.get_or_create_source(session, "wire")
        feeds = [Feed(source_id=source.id, name=f"feed-{i}", url=f"https://example.invalid/{i}.xml",
                      original_url=f"https://example.invalid/{i}.xml") for i in range(count)]
        session.add_all(feeds)
        session.flush()
        return [f.id for f in feeds]


def test_racing_workers_claim_each_feed_exactly_once(app: App) -> None:
    feed_ids = add_feeds(app, 20)
    now = datetime.now(UTC)
    wins: dict[int, list[str]] = {feed_id: [] for feed_id in feed_ids}
    barrier = threading.Barrier(4)

    def worker(name: str) -> None:
        barrier.wait()
        for feed_id in feed_ids:
            with app.sessions.begin() as session:
                if leases.try_claim_feed(session, feed_id, name, now, now + timedelta(minutes=5), due_by=now):
                    wins[feed_id].append(name)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(len(winners) == 1 for winners in wins.values()), wins


def test_batch_claims_are_disjoint_and_expired_leases_return(app: App) -> None:
    add_feeds(app, 30)
    now = datetime.now(UTC)
    claimed: dict[str, list[int]] = {}
    barrier = threading.Barrier(3)

    def worker(name: str) -> None:
        barrier.wait()
        with app.sessions.begin() as session:
            claimed[name] = leases.claim_due_feeds(session, name, now, now + timedelta(seconds=30), limit=10)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [feed_id for ids in claimed.values() for feed_id in ids]
    assert len(every) == len(set(every)) == 30

    # w0 dies: nobody else can take its feeds until the lease expires, then anyone can.
    with app.sessions.begin() as session:
        assert leases.claim_due_feeds(session, "w9", now, now + timedelta(seconds=30), limit=50) == []
    later = now + timedelta(seconds=31)
    with app.sessions.begin() as session:
        retaken = leases.claim_due_feeds(session, "w9", later, later + timedelta(seconds=30), limit=50)
    assert sorted(retaken) == sorted(every)


def test_paused_removed_and_not_due_feeds_are_not_claimed(app: App) -> None:
    paused, removed, later, due = add_feeds(app, 4)
    now = datetime.now(UTC)
    with app.sessions.begin() as session:
        session.get_one(Feed, paused).paused = True
        session.get_one(Feed, removed).removed_at = now
        session.get_one(Feed, later).next_poll_at = now + timedelta(hours=1)
    with app.sessions.begin() as session:
        assert leases.claim_due_feeds(session, "w", now, now + timedelta(minutes=1), limit=10) == [due]
        leases.release_feed(session, due, "w")
    with app.sessions.begin() as session:
        assert leases.try_claim_feed(session, due, "v", now, now + timedelta(minutes=1), due_by=now)
