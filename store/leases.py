"""Feed leases: which worker polls which feed. Several daemons share one database through these.

A claim is one conditional UPDATE (or ``SELECT ... FOR UPDATE SKIP LOCKED`` for a batch on
PostgreSQL): of two workers racing for a feed, the database lets exactly one through. A worker
that dies leaves its lease to expire.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from store.models import Feed


def _claimable(now: datetime, worker: str, due_by: datetime | None) -> ColumnElement[bool]:
    conditions = [
        Feed.paused.is_(False),
        Feed.removed_at.is_(None),
        or_(Feed.lease_owner.is_(None), Feed.lease_expires_at < now, Feed.lease_owner == worker),
    ]
    if due_by is not None:
        conditions.append(or_(Feed.next_poll_at.is_(None), Feed.next_poll_at <= due_by))
    return and_(*conditions)


def try_claim_feed(
    session: Session, feed_id: int, worker: str, now: datetime, lease_until: datetime, due_by: datetime | None
) -> bool:
    """Take the lease on one feed if it is free (or expired) and due by ``due_by``."""
    result = session.execute(
        update(Feed)
        .where(Feed.id == feed_id, _claimable(now, worker, due_by))
        .values(lease_owner=worker, lease_expires_at=lease_until)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def claim_for_operator(session: Session, feed_id: int, worker: str, now: datetime, lease_until: datetime) -> str | None:
    """Take the lease for a fetch an operator asked for (paused or not yet due is fine).

    Returns None when taken, else the worker that holds the feed now.
    """
    result = session.execute(
        update(Feed)
        .where(
            Feed.id == feed_id,
            or_(Feed.lease_owner.is_(None), Feed.lease_expires_at < now, Feed.lease_owner == worker),
        )
        .values(lease_owner=worker, lease_expires_at=lease_until)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:  # type: ignore[attr-defined]
        return None
    owner = session.scalar(select(Feed.lease_owner).where(Feed.id == feed_id))
    return owner or "another worker"


def claim_due_feeds(
    session: Session, worker: str, now: datetime, lease_until: datetime, limit: int
) -> list[int]:
    """Claim up to ``limit`` due feeds at once, skipping rows another worker is claiming."""
    query = select(Feed.id).where(_claimable(now, worker, now)).order_by(Feed.next_poll_at, Feed.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if ids:
        session.execute(
            update(Feed)
            .where(Feed.id.in_(ids))
            .values(lease_owner=worker, lease_expires_at=lease_until)
            .execution_options(synchronize_session=False)
        )
    return ids


def release_feed(session: Session, feed_id: int, worker: str) -> None:
    session.execute(
        update(Feed)
        .where(Feed.id == feed_id, Feed.lease_owner == worker)
        .values(lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )


def release_all(session: Session, worker: str) -> int:
    result = session.execute(
        update(Feed)
        .where(Feed.lease_owner == worker)
        .values(lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def schedulable_feeds(session: Session) -> list[tuple[int, str, datetime | None]]:
    """(id, name, next_poll_at) of every feed a worker should have a job for."""
    rows = session.execute(
        select(Feed.id, Feed.name, Feed.next_poll_at)
        .where(Feed.paused.is_(False), Feed.removed_at.is_(None))
        .order_by(Feed.id)
    )
    return [(row[0], row[1], row[2]) for row in rows]
