"""Storage errors. Driver errors are translated at the repository boundary.

    StorageError
    ├── NotFoundError        (an article, feed or source id/name that does not exist)
    └── ExistsError          (a unique name or key already taken)
"""

from __future__ import annotations


class StorageError(Exception):
    """The database refused or failed an operation."""


class NotFoundError(StorageError):
    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"{what} {key!r} not found")
        self.what = what
        self.key = key


class ExistsError(StorageError):
    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"{what} {key!r} already exists")
        self.what = what
        self.key = key
