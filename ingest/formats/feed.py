"""Feeds (RSS 0.9x/1.0/2.0, Atom, JSON Feed) to one document per entry, with feedparser."""

from __future__ import annotations

import calendar
import contextlib
import hashlib
import json
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import feedparser
import lxml.html
from lxml import etree

from ingest.documents import BlockKind, ParsedBlock, ParsedDocument, ParsedFeed
from ingest.errors import ParseError
from ingest.formats.feed_markup import sanitising_changes_nothing
from ingest.formats.fragments import fragment_blocks
from ingest.formats.mediarss import EntryMedia, media_of_entries
from ingest.urls import canonical_article_url


def _to_datetime(value: time.struct_time | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (OverflowError, ValueError, OSError):
        return None


def entry_key_for(entry: Mapping[str, Any], blocks_text: str) -> str:
    """guid/id, else the canonical link, else a hash of the content."""
    guid = (entry.get("id") or "").strip()
    if guid:
        return "id:" + guid[:480]
    link = (entry.get("link") or "").strip()
    if link:
        return "url:" + canonical_article_url(link)[:480]
    digest = hashlib.sha256((entry.get("title", "") + "\n" + blocks_text).encode("utf-8")).hexdigest()
    return "hash:" + digest


def _plain(value: str) -> str:
    """Text of a content part (HTML or not), whitespace collapsed, for comparing with captions."""
    if "<" in value:
        with contextlib.suppress(etree.ParserError, ValueError):
            value = lxml.html.fragment_fromstring(value, create_parent="div").text_content()
    return " ".join(value.split())


def _is_caption(value: str, caption_texts: set[str]) -> bool:
    return bool(caption_texts) and _plain(value) in caption_texts


def _entry_document(entry: Mapping[str, Any], media: EntryMedia | None = None) -> ParsedDocument:
    """One entry: body from content (else summary), photo captions and credits apart.

    ``media`` comes from ``mediarss`` (None when the document could not be read that way, in
    which case feedparser's flattened view is the fallback).
    """
    captions = media.captions if media is not None else None
    caption_texts = {c.text for c in captions or []}
    contents: list[Mapping[str, Any]] = [
        c for c in entry.get("content") or [] if not _is_caption(c.get("value") or "", caption_texts)
    ]
    html_parts = [c for c in contents if "html" in (c.get("type") or "")]
    plain_parts = [c for c in contents if "html" not in (c.get("type") or "")]
    has_media = bool(entry.get("media_content") or entry.get("media_thumbnail"))
    blocks: list[ParsedBlock] = []
    if html_parts:
        best = max(html_parts, key=lambda c: len(c.get("value") or ""))
        blocks.extend(fragment_blocks(best.get("value") or "", origin="content"))
    elif plain_parts and (captions is not None or not has_media):
        blocks.extend(fragment_blocks(plain_parts[0].get("value") or "", origin="content"))
    from_summary = False
    if not any(b.kind is BlockKind.BODY for b in blocks):
        summary = entry.get("summary") or ""
        # feedparser files a media:description met before <description> as the summary.
        if _is_caption(summary, caption_texts):
            summary = ""
        blocks = fragment_blocks(summary, origin="summary") + [b for b in blocks if b.kind is not BlockKind.BODY]
        from_summary = True
    if captions is not None:
        for caption in captions:
            blocks.append(
                ParsedBlock(BlockKind.CAPTION, caption.text, origin="media:description", photo_credit=caption.credit)
            )
    elif has_media:
        # feedparser files media:description under ``content`` as text/plain.
        for part in plain_parts:
            text = " ".join((part.get("value") or "").split())
            if text:
                blocks.append(
                    ParsedBlock(BlockKind.CAPTION, text, origin="media:description", photo_credit=entry.get("credit"))
                )
    title = " ".join((entry.get("title") or "").split()) or None
    link = entry.get("link")
    authors = [a.get("name", "") for a in entry.get("authors") or [] if a.get("name")]
    document = ParsedDocument(
        blocks=blocks,
        entry_key=entry_key_for(entry, "\n".join(b.text for b in blocks)),
        title=title,
        url=canonical_article_url(link) if link else None,
        published_at=_to_datetime(entry.get("published_parsed") or entry.get("updated_parsed")),
        updated_at=_to_datetime(entry.get("updated_parsed")),
        byline=entry.get("author"),
        authors=list(dict.fromkeys(authors)),
        language=(entry.get("title_detail") or {}).get("language"),
        from_summary=from_summary,
        photo_credits=list(media.uncaptioned_credits) if media is not None else [],
    )
    return document


def _looks_like_html_page(body: bytes) -> bool:
    head = body[:2048].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:512]


def _json_feed(body: bytes, location: str) -> ParsedFeed:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(location, f"invalid JSON Feed: {exc}") from exc
    if not isinstance(data, dict) or "items" not in data:
        raise ParseError(location, "JSON document is not a JSON Feed (no items)")
    documents: list[ParsedDocument] = []
    for item in data.get("items") or []:
        if not isinstance(item, dict):
            continue
        html = item.get("content_html") or ""
        text = item.get("content_text") or item.get("summary") or ""
        blocks = fragment_blocks(html) if html else fragment_blocks(text)
        entry = {"id": str(item.get("id") or ""), "link": item.get("url") or "", "title": item.get("title") or ""}
        published = None
        if item.get("date_published"):
            try:
                published = datetime.fromisoformat(str(item["date_published"]).replace("Z", "+00:00"))
            except ValueError:
                published = None
        documents.append(
            ParsedDocument(
                blocks=blocks,
                entry_key=entry_key_for(entry, "\n".join(b.text for b in blocks)),
                title=entry["title"] or None,
                url=canonical_article_url(entry["link"]) if entry["link"] else None,
                published_at=published.astimezone(UTC) if published and published.tzinfo else published,
            )
        )
    return ParsedFeed(title=data.get("title"), documents=documents)


_UNQUOTED_ATTRIBUTE = re.compile(rb"(\s[\w:.-]+)=([^\s\"'<>=]+)(?=[\s/>])")


def _recover_xml(body: bytes) -> bytes | None:
    """Best-effort repair of broken XML (bad declarations, stray prefixes, unquoted attributes).

    feedparser's own loose parser gives up on some real feeds that libxml2's recovering parser
    reads; we re-serialise what libxml2 recovered and hand that to feedparser again.
    """
    start = body.find(b"<rss")
    for marker in (b"<rss", b"<feed", b"<rdf:RDF", b"<rss:rss"):
        position = body.find(marker)
        if position != -1:
            start = position if start == -1 else min(start, position)
    candidate = body[start:] if start > 0 else body
    # Unquoted attribute values (rss:version=2.0) and an undeclared prefix on every element
    # (<rss:item>) are the usual hand-written-feed mistakes; fix them textually first.
    candidate = _UNQUOTED_ATTRIBUTE.sub(rb'\1="\2"', candidate)
    if b"<rss:" in candidate and b"xmlns:rss" not in candidate:
        candidate = candidate.replace(b"</rss:", b"</").replace(b"<rss:", b"<").replace(b" rss:", b" ")
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(candidate, parser)
    except etree.XMLSyntaxError:
        return None
    if root is None:
        return None
    return bytes(etree.tostring(root, encoding="utf-8", xml_declaration=True))


def _feedparser(body: bytes, headers: Mapping[str, str] | None) -> Any:
    """feedparser's result, its HTML sanitiser run only when it could change the text we take.

    Entry HTML only ever reaches us as text (``fragment_blocks`` drops scripts and styles itself,
    attributes and links are never read), so a feed whose markup the sanitiser would not change
    in text is taken as parsed without it; any other feed is parsed again the usual way.
    """
    try:
        parsed = feedparser.parse(
            body, response_headers=dict(headers or {}), sanitize_html=False, resolve_relative_uris=False
        )
    except (AttributeError, TypeError, ValueError):
        parsed = None
    if parsed is not None and sanitising_changes_nothing(parsed):
        return parsed
    return feedparser.parse(body, response_headers=dict(headers or {}))


def parse_feed(body: bytes, location: str, headers: Mapping[str, str] | None = None) -> ParsedFeed:
    if body.lstrip()[:1] == b"{":
        return _json_feed(body, location)
    if _looks_like_html_page(body):
        raise ParseError(location, "got an HTML page, not a feed")
    try:
        parsed = _feedparser(body, headers)
    except (AttributeError, TypeError, ValueError) as exc:
        # feedparser's loose parser crashes on some damaged markup (an end tag it has a handler
        # for, with no start tag): that is unreadable input, not a bug of ours.
        raise ParseError(location, f"not a readable feed: {type(exc).__name__}: {exc}") from exc
    first = parsed
    warnings: list[str] = []
    repaired_body = body
    if parsed.get("bozo") and not parsed.entries:
        repaired = _recover_xml(body)
        if repaired is not None:
            try:
                second = _feedparser(repaired, headers)
            except (AttributeError, TypeError, ValueError):
                second = first  # the repair did not help; report the original problem below
            if second.entries:
                warnings.append(f"{location}: malformed XML repaired before parsing: {parsed.get('bozo_exception')}")
                parsed = second
                repaired_body = repaired
    if parsed.get("bozo"):
        detail = str(parsed.get("bozo_exception") or "malformed feed")
        if not parsed.entries:
            raise ParseError(location, f"not a readable feed: {detail}")
        warnings.append(f"{location}: malformed feed, entries recovered: {detail}")
    if not parsed.entries and not parsed.get("version"):
        raise ParseError(location, "not a feed: no RSS, Atom or JSON Feed root element")
    media = _media_by_entry(repaired_body, parsed.entries, parsed.get("encoding") if parsed is first else "utf-8")
    documents: list[ParsedDocument] = []
    entry_errors: list[str] = []
    for index, entry in enumerate(parsed.entries):
        try:
            document = _entry_document(entry, media[index] if media is not None else None)
        except Exception as exc:
            entry_errors.append(f"{location} entry #{index + 1}: {type(exc).__name__}: {exc}")
            continue
        documents.append(document)
    _disambiguate_repeated_keys(documents)
    ttl = _ttl_seconds(parsed.feed)
    return ParsedFeed(
        title=parsed.feed.get("title"),
        documents=documents,
        warnings=warnings,
        ttl_seconds=ttl,
        entry_errors=entry_errors,
        language=parsed.feed.get("language") or None,
    )


def _media_by_entry(body: bytes, entries: list[Any], encoding: str | None) -> list[EntryMedia] | None:
    """Captions and credits for each feedparser entry, matched by GUID, then link, then position."""
    found = media_of_entries(body, encoding)
    if not found:
        has_media = any(e.get("media_content") or e.get("media_thumbnail") or e.get("enclosures") for e in entries)
        return None if has_media else [EntryMedia(None, None, None) for _ in entries]
    by_guid: dict[str, EntryMedia] = {m.guid: m for m in found if m.guid}
    by_link: dict[str, EntryMedia] = {m.link: m for m in found if m.link}
    same_count = len(found) == len(entries)
    matched: list[EntryMedia] = []
    for index, entry in enumerate(entries):
        media = by_guid.get((entry.get("id") or "").strip()) or by_link.get((entry.get("link") or "").strip())
        if media is None and same_count:
            media = found[index]
        matched.append(media if media is not None else EntryMedia(None, None, None))
    return matched


def _disambiguate_repeated_keys(documents: list[ParsedDocument]) -> None:
    """Entries that share a GUID: each is keyed by its own link (when distinct), else its content.

    None of them keeps the shared GUID, so which entry comes first never decides identity.
    """
    groups: dict[str, list[ParsedDocument]] = {}
    for document in documents:
        groups.setdefault(document.entry_key, []).append(document)
    for key, group in groups.items():
        if len(group) < 2:
            continue
        links = [d.url for d in group]
        for document in group:
            if document.url and links.count(document.url) == 1 and key != "url:" + document.url[:480]:
                document.entry_key = "url:" + document.url[:480]
            else:
                text = (document.title or "") + "\n" + "\n".join(b.text for b in document.blocks)
                document.entry_key = "hash:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


_UPDATE_PERIODS = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400, "monthly": 30 * 86400, "yearly": 365 * 86400}


def _ttl_seconds(feed: Mapping[str, Any]) -> int | None:
    """RSS ``<ttl>`` (minutes), else the syndication module's updatePeriod / updateFrequency."""
    raw_ttl = str(feed.get("ttl") or "").strip()
    if raw_ttl.isdigit() and int(raw_ttl) > 0:
        return int(raw_ttl) * 60
    period = _UPDATE_PERIODS.get(str(feed.get("sy_updateperiod") or "").strip().lower())
    if period is None:
        return None
    frequency = str(feed.get("sy_updatefrequency") or "1").strip()
    return period // max(1, int(frequency)) if frequency.isdigit() else period
