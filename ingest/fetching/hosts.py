"""Per-host politeness: at most K requests in flight and a minimum gap between request starts.

A host that answered 429 (or 503 with Retry-After) is blocked until the moment it named: every
feed on it is deferred, not only the one that got the answer. The block is also persisted
(``host_limits``) by the fetcher so the next run and other workers honour it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from urllib.parse import urlsplit

from ingest.fetching.errors import HostDeferred
from store.models import utcnow


def host_of(url: str) -> str:
    """The politeness key: the lower-cased host name (ports of one host share its limits)."""
    try:
        return (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


class HostGate:
    def __init__(
        self,
        per_host_concurrency: int,
        per_host_delay_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_host_concurrency < 1:
            raise ValueError(f"per_host_concurrency must be at least 1, not {per_host_concurrency}")
        if per_host_delay_seconds < 0:
            raise ValueError(f"per_host_delay_seconds must not be negative, not {per_host_delay_seconds}")
        self.concurrency = per_host_concurrency
        self.delay = per_host_delay_seconds
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._starting: dict[str, threading.Lock] = {}
        self._next_start: dict[str, float] = {}
        self._blocked: dict[str, tuple[datetime, str]] = {}

    def block(self, host: str, until: datetime, reason: str) -> None:
        with self._lock:
            current = self._blocked.get(host)
            if current is None or until > current[0]:
                self._blocked[host] = (until, reason)

    def blocked_until(self, host: str, now: datetime | None = None) -> tuple[datetime, str] | None:
        moment = now or utcnow()
        with self._lock:
            entry = self._blocked.get(host)
        if entry is None or entry[0] <= moment:
            return None
        return entry

    def _slot(self, host: str) -> tuple[threading.BoundedSemaphore, threading.Lock]:
        with self._lock:
            if host not in self._slots:
                self._slots[host] = threading.BoundedSemaphore(self.concurrency)
                self._starting[host] = threading.Lock()
            return self._slots[host], self._starting[host]

    def _check(self, host: str, url: str) -> None:
        blocked = self.blocked_until(host)
        if blocked is not None:
            raise HostDeferred(url, host, blocked[0], blocked[1])

    @contextmanager
    def request(self, url: str) -> Iterator[None]:
        """Hold one of the host's slots for a request to ``url``, after the host's minimum gap."""
        host = host_of(url)
        self._check(host, url)
        slot, starting = self._slot(host)
        slot.acquire()
        try:
            # Starts on one host are taken one at a time, and the gap runs from the moment a request
            # really starts, so a thread that woke up late never squeezes the next one closer.
            with starting:
                wait = self._next_start.get(host, 0.0) - self._clock()
                if wait > 0:
                    self._sleep(wait)
                self._next_start[host] = self._clock() + self.delay
            # Another feed on this host may have been told to slow down while we waited.
            self._check(host, url)
            yield
        finally:
            slot.release()
