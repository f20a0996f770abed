"""Article HTML pages to blocks.

First version: trafilatura finds the main text and the metadata (it is the strongest general
extractor); figure captions, which trafilatura drops, are read from ``figcaption`` with lxml.
"""

from __future__ import annotations

from datetime import UTC, datetime

import lxml.html
import trafilatura
from lxml import etree

from ingest.documents import BlockKind, ParsedBlock, ParsedDocument
from ingest.errors import ParseError
from ingest.formats.fragments import element_text


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_html(html: str, entry_key: str, url: str | None, location: str) -> ParsedDocument:
    if not html.strip():
        raise ParseError(location, "empty HTML document")
    try:
        tree = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        raise ParseError(location, f"not an HTML document: {exc}") from exc
    extracted = trafilatura.bare_extraction(
        tree, url=url, include_comments=False, include_tables=False, with_metadata=True
    )
    blocks: list[ParsedBlock] = []
    title = None
    published = None
    byline = None
    language = None
    canonical = None
    if extracted is not None:
        fields = extracted if isinstance(extracted, dict) else extracted.as_dict()
        title = fields.get("title")
        byline = fields.get("author")
        published = _parse_date(fields.get("date"))
        language = fields.get("language")
        canonical = fields.get("url")
        for line in (fields.get("text") or "").split("\n"):
            text = " ".join(line.split())
            if text:
                blocks.append(ParsedBlock(BlockKind.BODY, text, origin="trafilatura"))
    for caption in tree.iter("figcaption"):
        text = element_text(caption)
        if text:
            blocks.append(ParsedBlock(BlockKind.CAPTION, text, origin="figcaption"))
    return ParsedDocument(
        blocks=blocks,
        entry_key=entry_key,
        title=title,
        url=url or canonical,
        canonical_url=canonical,
        published_at=published,
        byline=byline,
        language=language,
    )
