"""Errors of the ingest side. Each names the file, feed or URL it is about.

    NewsdedupError
    ├── InputError            (a file that is missing or unreadable, or a bad argument)
    │   └── DecodeError       (bytes in no encoding we can read)
    ├── ParseError            (bytes that are not the format they claim to be)
    ├── DatabaseNotReadyError (database not at the latest migration)
    └── FetchError            (network and HTTP failures; see ingest.fetching)
"""

from __future__ import annotations


class NewsdedupError(Exception):
    """Root of every error newsdedup reports to its user."""


class InputError(NewsdedupError):
    pass


class DecodeError(InputError):
    def __init__(self, location: str, detail: str) -> None:
        super().__init__(f"{location}: cannot decode text: {detail}")
        self.location = location


class ParseError(NewsdedupError):
    def __init__(self, location: str, detail: str) -> None:
        super().__init__(f"{location}: {detail}")
        self.location = location


class DatabaseNotReadyError(NewsdedupError):
    pass


class FetchError(NewsdedupError):
    def __init__(self, url: str, detail: str, status: int | None = None) -> None:
        super().__init__(f"{url}: {detail}")
        self.url = url
        self.detail = detail
        self.status = status
