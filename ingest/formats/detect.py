"""Guess the format of a document from its media type, name and first bytes."""

from __future__ import annotations

import re

FORMATS = ("text", "html", "feed")

_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:RDF|RDF)[\s>]", re.IGNORECASE)
_HTML_ROOT = re.compile(rb"<(?:!doctype html|html|head|body)[\s>]", re.IGNORECASE)


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
    # UTF-16 documents: look at the bytes without the zero bytes.
    probe = head.replace(b"\x00", b"")
    if _FEED_ROOT.search(probe):
        return "feed"
    if _HTML_ROOT.search(probe) or lowered.endswith((".html", ".htm")):
        return "html"
    if lowered.endswith(".xml") or probe.startswith(b"<?xml"):
        return "feed"
    return "text"
