"""Stable entry identity across fetches, for feeds that do not keep their GUIDs stable.

The parser keys an entry by its GUID, else its canonical link, else a content hash. Some feeds
mint a new GUID on every fetch (or for every edit); keyed by GUID alone, each fetch would create
every article again. Here each parsed entry is matched against what the store already holds:

1. its key is known: same entry;
2. else its canonical link is unique in this fetch and names exactly one stored article of the
   source with the same title or the same publication time: same entry under a new GUID, so it
   takes the stored key (an edit becomes a new version, not a new article);
3. else it is new. A feed whose GUIDs changed this way is switched to link identity: its new
   entries are keyed by canonical link from then on.

Pure: the caller looks the candidates up and passes them in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ingest.documents import ParsedDocument

LINK_IDENTITY = "link"
GUID_IDENTITY = "guid"
_KEY_LIMIT = 480


@dataclass(frozen=True)
class KnownEntry:
    entry_key: str
    url: str | None
    title: str | None
    published_at: datetime | None
    modified_at: datetime | None
    deleted: bool = False
    from_page: bool = False


@dataclass
class Resolution:
    documents: list[ParsedDocument]
    known: dict[str, KnownEntry] = field(default_factory=dict)  # by (final) entry key
    guid_changes: int = 0

    def is_known(self, document: ParsedDocument) -> bool:
        return document.entry_key in self.known


def link_key(url: str) -> str:
    return "url:" + url[:_KEY_LIMIT]


def candidate_keys(documents: Iterable[ParsedDocument]) -> set[str]:
    """Every key worth looking up: each entry's own key and its link key."""
    keys: set[str] = set()
    for document in documents:
        keys.add(document.entry_key)
        if document.url:
            keys.add(link_key(document.url))
    return keys


def _same_story(document: ParsedDocument, known: KnownEntry) -> bool:
    if document.title and known.title and document.title == known.title:
        return True
    return document.published_at is not None and document.published_at == known.published_at


def resolve_entry_keys(
    documents: Sequence[ParsedDocument],
    by_key: Mapping[str, KnownEntry],
    by_url: Mapping[str, Sequence[KnownEntry]],
    identity: str = GUID_IDENTITY,
) -> Resolution:
    """Rewrite each document's ``entry_key`` to the stored one when it is the same entry."""
    link_counts: Counter[str] = Counter(d.url for d in documents if d.url)
    resolution = Resolution(documents=list(documents))
    claimed: set[str] = set()
    for document in resolution.documents:
        unique_link = document.url is not None and link_counts[document.url] == 1
        own_key = document.entry_key
        if identity == LINK_IDENTITY and unique_link and document.url and own_key.startswith("id:"):
            own_key = link_key(document.url)
        match = by_key.get(own_key)
        if match is None and unique_link and document.url:
            # Under link identity the link alone decides; otherwise the title or date must agree too
            # (a feed that links every entry to its home page must not merge its entries).
            candidates = [
                k
                for k in by_url.get(document.url, ())
                if k.entry_key not in claimed and (identity == LINK_IDENTITY or _same_story(document, k))
            ]
            if len(candidates) == 1:
                match = candidates[0]
                if document.entry_key.startswith("id:") and match.entry_key != document.entry_key:
                    resolution.guid_changes += 1
        if match is not None and match.entry_key not in claimed:
            document.entry_key = match.entry_key
            resolution.known[match.entry_key] = match
        else:
            document.entry_key = own_key
        claimed.add(document.entry_key)
    return resolution


def guids_unstable(resolution: Resolution) -> bool:
    """Two entries (or every matched entry of a small feed) came back under new GUIDs."""
    matched = len(resolution.known)
    return resolution.guid_changes >= 2 or (matched > 0 and resolution.guid_changes == matched)
