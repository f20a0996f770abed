"""Fetch errors. Each carries the URL it is about and, when there was one, the HTTP status.

    FetchError (ingest.errors)
    ├── UnsafeURLError        (scheme not allowed, or the host resolves to a refused address)
    ├── NetworkError          (DNS, connect, TLS, reset: the server was not reached or hung up)
    │   └── FetchTimeout      (connect, read or total timeout)
    ├── RedirectError         (a redirect without Location, a loop, too many hops)
    ├── BodyTooLargeError     (body or decompressed body over the configured cap)
    ├── ContentEncodingError  (a Content-Encoding we cannot decode, or corrupt compressed data)
    ├── HTTPStatusError       (4xx/5xx; ``retry_after`` holds a parsed Retry-After)
    ├── NotAFeedError         (an HTML page or other non-feed where a feed was expected)
    └── HostDeferred          (the host asked us to slow down; no request was sent)
"""

from __future__ import annotations

from datetime import datetime

from ingest.errors import FetchError


class UnsafeURLError(FetchError):
    pass


class NetworkError(FetchError):
    pass


class FetchTimeout(NetworkError):
    pass


class RedirectError(FetchError):
    pass


class BodyTooLargeError(FetchError):
    pass


class ContentEncodingError(FetchError):
    pass


class NotAFeedError(FetchError):
    pass


class HTTPStatusError(FetchError):
    def __init__(self, url: str, status: int, reason: str, retry_after: datetime | None = None) -> None:
        detail = f"HTTP {status} {reason}".rstrip()
        if retry_after is not None:
            detail += f" (retry after {retry_after.isoformat(timespec='seconds')})"
        super().__init__(url, detail, status)
        self.retry_after = retry_after


class HostDeferred(FetchError):
    def __init__(self, url: str, host: str, until: datetime, reason: str) -> None:
        super().__init__(url, f"deferred until {until.isoformat(timespec='seconds')}: {host} {reason}")
        self.host = host
        self.until = until
        self.reason = reason


def human_size(size: int) -> str:
    """1048576 -> "1 MB"."""
    if size < 1024:
        return f"{size} bytes"
    value = size / 1024
    units = ["KB", "MB", "GB"]
    while value >= 1024 and len(units) > 1:
        value /= 1024
        units.pop(0)
    return f"{value:.1f}".rstrip("0").rstrip(".") + f" {units[0]}"
