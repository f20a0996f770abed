"""What parsers produce: ordered blocks with a kind, plus metadata. Named ``Parsed*``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class BlockKind(StrEnum):
    TITLE = "title"
    SUBTITLE = "subtitle"
    BODY = "body"
    CAPTION = "caption"
    CREDIT = "credit"
    BYLINE = "byline"
    # "AUBURN, Wash. —", "JAKARTA, KOMPAS.com —": where the story was filed, kept as metadata.
    DATELINE = "dateline"
    # Plain text gives blocks of unknown kind; cleaning classifies them by their cues.
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ParsedBlock:
    kind: BlockKind
    text: str
    # Where the block came from ("p", "figcaption", "media:description", "alt"); for explain.
    origin: str = ""
    photo_credit: str | None = None
    # Set by the extractor for chrome it found inside the story body ("markup:share",
    # "link_list"): the cleaner removes the block and records this as the reason.
    boilerplate: str | None = None


@dataclass
class ParsedDocument:
    blocks: list[ParsedBlock]
    # Stable identity within the source (feed guid, canonical URL, file URI).
    entry_key: str
    title: str | None = None
    url: str | None = None
    canonical_url: str | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    byline: str | None = None
    authors: list[str] = field(default_factory=list)
    language: str | None = None
    section: str | None = None
    credit: str | None = None
    agencies: list[str] = field(default_factory=list)
    # Credits of photos that carry no caption (a captioned photo's credit is on its caption block).
    photo_credits: list[str] = field(default_factory=list)
    # Name of the site rules (``config/rules/sites``) the page was read with, if any.
    site: str | None = None
    # How the body was found: "site", "container", "payload", "json-ld", "trafilatura".
    extraction: str | None = None
    # A feed entry that carried only a summary (no full content): its article page is worth fetching.
    from_summary: bool = False


@dataclass
class ParsedFeed:
    """A feed file: its own metadata and one document per entry."""

    title: str | None
    documents: list[ParsedDocument]
    warnings: list[str] = field(default_factory=list)
    ttl_seconds: int | None = None
    entry_errors: list[str] = field(default_factory=list)
    language: str | None = None  # the feed's own <language>
