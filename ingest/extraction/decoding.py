"""HTML bytes to text: byte order mark, HTTP charset, ``<meta>`` charset, then detection.

Browsers trust the declaration; real pages often lie (a page declared ISO-8859-1 whose bytes are
UTF-8 is common in old CMS templates). Bytes that are valid UTF-8 and not plain ASCII are
therefore read as UTF-8 whatever the page declares: a legacy-encoded page almost never forms
valid multi-byte UTF-8 sequences by accident. Declared labels are mapped the WHATWG way
(ISO-8859-1 means windows-1252, Shift_JIS means cp932, ...), since that is what servers mean.
"""

from __future__ import annotations

import codecs
import re

from ingest.errors import DecodeError
from ingest.formats.text import decode_text

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)

# Labels whose real-world meaning is a superset encoding (WHATWG Encoding Standard).
_SUPERSETS = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso-8859-9": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "big5": "big5hkscs",
    "utf8": "utf-8",
    "unicode": "utf-16",
}


def declared_charset(raw: bytes) -> str | None:
    """The charset a page declares in its first bytes (``<meta charset>``, ``<?xml encoding>``)."""
    head = raw[:4096]
    for pattern in (_META_CHARSET, _XML_ENCODING):
        match = pattern.search(head)
        if match:
            return match.group(1).decode("ascii", "replace").strip().lower()
    return None


def python_codec(label: str | None) -> str | None:
    """A Python codec name for a declared label, or None when Python knows no such encoding."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    name = _SUPERSETS.get(label, label)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_html(raw: bytes, location: str, http_charset: str | None = None) -> str:
    """Decode an HTML page; raises ``DecodeError`` naming ``location`` when nothing fits."""
    if raw.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return decode_text(raw, location)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return text
    for label in (http_charset, declared_charset(raw)):
        codec = python_codec(label)
        if codec is None or codec.replace("_", "-") == "utf-8":
            continue
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue  # a wrong declaration: try the next source, then detection
    try:
        return decode_text(raw, location)
    except DecodeError:
        # Mostly-UTF-8 pages with a few broken bytes: keep the text, mark the damage.
        text = raw.decode("utf-8", errors="replace")
        if text.count("\ufffd") * 100 <= len(text):
            return text
        raise
