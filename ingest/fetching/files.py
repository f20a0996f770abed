"""Feeds on the local disk: ``file://`` URLs of a feed file or of a directory of documents.

A directory is how wire agencies often deliver (an FTP drop of NITF, ninjs or RSS files): each
file is a document. Files are read with the same size cap as HTTP bodies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from ingest.fetching.errors import BodyTooLargeError, NetworkError, UnsafeURLError, human_size

# Editors' and transfer tools' leftovers in a drop directory are not documents.
_SKIPPED_SUFFIXES = (".tmp", ".part", ".partial", ".swp", ".lock", "~")


def path_of_file_url(url: str) -> Path:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise UnsafeURLError(url, f"file URL on another host ({parts.netloc}) cannot be read")
    return Path(url2pathname(unquote(parts.path)))


def read_capped(path: Path, limit: int, url: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > limit:
            raise BodyTooLargeError(url, f"file of {human_size(size)}, over the {human_size(limit)} cap")
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError as exc:
        raise NetworkError(url, "no such file") from exc
    except IsADirectoryError as exc:
        raise NetworkError(url, "is a directory") from exc
    except PermissionError as exc:
        raise NetworkError(url, "permission denied") from exc
    except OSError as exc:
        raise NetworkError(url, f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > limit:
        raise BodyTooLargeError(url, f"file larger than {human_size(limit)}")
    return data


@dataclass(frozen=True)
class DirectoryEntry:
    path: Path
    url: str
    mtime: float


def list_directory(path: Path, url: str, max_files: int) -> list[DirectoryEntry]:
    """Regular, visible files; the newest ``max_files`` of them, in name order."""
    try:
        entries = []
        with os.scandir(path) as scan:
            for entry in scan:
                if entry.name.startswith(".") or entry.name.endswith(_SKIPPED_SUFFIXES):
                    continue
                if not entry.is_file():
                    continue
                child = Path(entry.path)
                entries.append(DirectoryEntry(child, child.resolve().as_uri(), entry.stat().st_mtime))
    except FileNotFoundError as exc:
        raise NetworkError(url, "no such directory") from exc
    except OSError as exc:
        raise NetworkError(url, f"cannot list the directory: {exc.strerror or exc}") from exc
    newest = sorted(entries, key=lambda e: (e.mtime, e.path.name), reverse=True)[:max_files]
    return sorted(newest, key=lambda e: e.path.name)
