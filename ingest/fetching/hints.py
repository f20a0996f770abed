"""What servers tell us about when to come back: Retry-After, Cache-Control max-age, Expires.

Pure functions of the response headers and ``now``; the feed's own ``<ttl>`` comes from the
parsed feed. The schedule (``ingest.fetching.schedule``) turns these into the next poll time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

_MAX_AGE = re.compile(r"(?:^|[,\s])(s-maxage|max-age)\s*=\s*\"?(\d+)\"?", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|[,\s])(no-cache|no-store)(?:$|[,\s=])", re.IGNORECASE)


def http_date(value: str | None) -> datetime | None:
    """An HTTP date (RFC 9110: IMF-fixdate, RFC 850 or asctime) as aware UTC, or None."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def retry_after(value: str | None, now: datetime) -> datetime | None:
    """``Retry-After: 120`` or ``Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`` as a moment."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return now + timedelta(seconds=int(text))
    moment = http_date(text)
    if moment is None:
        return None
    return max(moment, now)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


@dataclass(frozen=True)
class ServerHints:
    """Earliest moments the server suggests for the next request, each None when not given."""

    retry_after: datetime | None = None
    fresh_until: datetime | None = None  # from Cache-Control max-age (minus Age) or Expires

    @classmethod
    def from_headers(cls, headers: Mapping[str, str], now: datetime) -> ServerHints:
        return cls(retry_after=retry_after(_header(headers, "retry-after"), now), fresh_until=fresh_until(headers, now))


def fresh_until(headers: Mapping[str, str], now: datetime) -> datetime | None:
    """How long the response stays fresh: max-age wins over Expires (RFC 9111 §4.2.1)."""
    cache_control = _header(headers, "cache-control") or ""
    if _NO_CACHE.search(cache_control):
        return None
    ages = {name.lower(): int(value) for name, value in _MAX_AGE.findall(cache_control)}
    if "max-age" in ages:
        age_header = (_header(headers, "age") or "").strip()
        age = int(age_header) if age_header.isdigit() else 0
        return now + timedelta(seconds=max(0, ages["max-age"] - age))
    expires = _header(headers, "expires")
    if expires is None:
        return None
    moment = http_date(expires)
    # An invalid Expires ("0", "-1") means "already expired".
    if moment is None or moment <= now:
        return None
    date = http_date(_header(headers, "date"))
    if date is not None and date <= moment:
        # Judge freshness against the server's clock, not ours.
        return now + (moment - date)
    return moment
