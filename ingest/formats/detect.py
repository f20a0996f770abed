"""Guess the format of a document from its media type, name and first bytes."""

from __future__ import annotations

import json
import re

from ingest.formats.ninjs import looks_like_ninjs

FORMATS = ("text", "html", "feed", "nitf", "ninjs")

_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:RDF|RDF)[\s>]", re.IGNORECASE)
_HTML_ROOT = re.compile(rb"<(?:!doctype html|html|head|body)[\s>]", re.IGNORECASE)
_NITF_ROOT = re.compile(rb"<(?:[\w-]+:)?nitf[\s>]", re.IGNORECASE)


def _is_ninjs(body: bytes) -> bool:
    try:
        return looks_like_ninjs(json.loads(body))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False


def detect_format(body: bytes, name: str = "", media_type: str | None = None) -> str:
    media = (media_type or "").split(";")[0].strip().lower()
    if media in {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json"}:
        return "feed"
    if media in {"text/html", "application/xhtml+xml"}:
        return "html"
    lowered = name.lower()
    if lowered.endswith((".rss", ".atom", ".rdf")):
        return "feed"
    head = body[:4096].lstrip(b"\xef\xbb\xbf\x00\xfe\xff \t\r\n")
    if head.startswith(b"{") and b'"version"' in body[:2048] and b"jsonfeed" in body[:2048]:
        return "feed"
    if head.startswith((b"{", b"[")) and b'"uri"' in body and _is_ninjs(body):
        return "ninjs"
    # UTF-16 documents: look at the bytes without the zero bytes.
    probe = head.replace(b"\x00", b"")
    if _NITF_ROOT.search(probe) and not _FEED_ROOT.search(probe):
        return "nitf"
    if _FEED_ROOT.search(probe):
        return "feed"
    if _HTML_ROOT.search(probe) or lowered.endswith((".html", ".htm")):
        return "html"
    if lowered.endswith(".xml") or probe.startswith(b"<?xml"):
        return "feed"
    return "text"
