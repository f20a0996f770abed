"""When to poll a feed next: after a success, and after a failure (backoff with jitter).

Pure: every function gets ``now`` (and the random source) as arguments. A feed is never
disabled: however many times it failed, it is retried at most ``max_backoff_seconds`` later.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from config import FetchSettings
from ingest.fetching.hints import ServerHints

# A failed poll waits its backoff minus up to a quarter, so feeds that failed together (a host
# down) do not all come back in the same second.
JITTER_FRACTION = 0.25
_MAX_EXPONENT = 32


@dataclass(frozen=True)
class SchedulePolicy:
    default_interval: int = 1800
    min_interval: int = 300
    max_interval: int = 24 * 3600
    max_backoff: int = 6 * 3600
    max_cache_hint: int = 6 * 3600
    max_retry_after: int = 24 * 3600

    @classmethod
    def from_settings(cls, settings: FetchSettings) -> SchedulePolicy:
        return cls(
            default_interval=settings.default_interval_seconds,
            min_interval=settings.min_interval_seconds,
            max_interval=settings.max_interval_seconds,
            max_backoff=settings.max_backoff_seconds,
            max_cache_hint=settings.max_cache_hint_seconds,
            max_retry_after=settings.max_retry_after_seconds,
        )

    def interval(self, feed_interval: int | None) -> int:
        """The feed's own interval (or the default), kept within [min_interval, max_interval]."""
        wanted = feed_interval if feed_interval and feed_interval > 0 else self.default_interval
        return max(self.min_interval, min(self.max_interval, wanted))

    def after_success(
        self,
        now: datetime,
        feed_interval: int | None,
        hints: ServerHints | None = None,
        ttl_seconds: int | None = None,
    ) -> datetime:
        """The interval, pushed later by max-age/Expires/<ttl>/Retry-After (each capped)."""
        delay = float(self.interval(feed_interval))
        if hints is not None and hints.fresh_until is not None:
            delay = max(delay, min(_seconds(hints.fresh_until - now), self.max_cache_hint))
        if ttl_seconds:
            delay = max(delay, min(ttl_seconds, self.max_cache_hint))
        if hints is not None and hints.retry_after is not None:
            delay = max(delay, min(_seconds(hints.retry_after - now), self.max_retry_after))
        return now + timedelta(seconds=delay)

    def backoff_seconds(self, feed_interval: int | None, consecutive_errors: int, rng: random.Random) -> float:
        """interval x 2^(errors-1), at most ``max_backoff`` (never below the interval), jittered."""
        base = self.interval(feed_interval)
        exponent = max(0, min(consecutive_errors - 1, _MAX_EXPONENT))
        backoff = max(base, min(self.max_backoff, base * (1 << exponent)))
        return max(float(self.min_interval), backoff * (1 - JITTER_FRACTION * rng.random()))

    def after_error(
        self,
        now: datetime,
        feed_interval: int | None,
        consecutive_errors: int,
        rng: random.Random,
        retry_after: datetime | None = None,
    ) -> datetime:
        delay = self.backoff_seconds(feed_interval, consecutive_errors, rng)
        if retry_after is not None:
            delay = max(delay, min(_seconds(retry_after - now), self.max_retry_after))
        return now + timedelta(seconds=delay)


def _seconds(delta: timedelta) -> float:
    return max(0.0, delta.total_seconds())
