"""Parsers for the input formats: plain text, article HTML, feeds (RSS/Atom/JSON Feed)."""

from ingest.formats.detect import detect_format
from ingest.formats.feed import parse_feed
from ingest.formats.html import parse_html
from ingest.formats.text import decode_text, parse_text

__all__ = ["decode_text", "detect_format", "parse_feed", "parse_html", "parse_text"]
