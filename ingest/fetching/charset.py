"""The charset a response really uses, when its Content-Type header says otherwise.

A server that labels UTF-8 as ISO-8859-1 (Apache's old default charset) or labels a
windows-1251 document as UTF-8 makes a strict reader produce mojibake. A label the bytes
contradict is replaced by what the bytes show: a byte order mark, valid UTF-8, or the document's
own declaration (``<?xml encoding=...?>``, ``<meta charset>``).
"""

from __future__ import annotations

import codecs
import re

from ingest.formats.text import media_type_charset

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DECLARED = re.compile(
    rb"""(?:<\?xml[^>]*\bencoding|<meta[^>]*\bcharset)\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE
)
_CHARSET_PARAM = re.compile(r";\s*charset\s*=\s*\"?[^;\"]*\"?", re.IGNORECASE)


declared_charset = media_type_charset


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _decodes(body: bytes, codec: str) -> bool:
    try:
        body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def body_charset(body: bytes) -> tuple[str | None, bool]:
    """What the bytes say about themselves, and whether that is proof rather than a claim.

    A byte order mark or valid UTF-8 with non-ASCII bytes is proof (multi-byte UTF-8 sequences
    almost never occur by chance in other encodings); the document's own declaration is a claim.
    """
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name, True
    if not body.isascii() and _decodes(body, "utf-8"):
        return "utf-8", True
    match = _DECLARED.search(body[:2048])
    if match:
        codec = _codec(match.group(1).decode("ascii", "replace"))
        if codec and _decodes(body, codec):
            return codec, False
    return None, False


def effective_media_type(media_type: str | None, body: bytes) -> str | None:
    """``media_type`` with its charset replaced (or dropped) when the body contradicts it.

    The header wins over the document's own declaration (RFC 7303) unless the bytes cannot be
    decoded with it, or they prove another encoding.
    """
    declared = declared_charset(media_type)
    if media_type is None:
        return None
    if declared is None:
        # text/* without a charset means US-ASCII to a strict reader (RFC 3023); say what it is.
        truth, _ = body_charset(body)
        is_text = media_type.split(";")[0].strip().lower().startswith("text/")
        return f"{media_type.strip().rstrip(';')}; charset={truth}" if is_text and truth else media_type
    codec = _codec(declared)
    truth, proven = body_charset(body)
    wrong = codec is None or not _decodes(body, codec) or (proven and truth != codec)
    if not wrong:
        return media_type
    base = _CHARSET_PARAM.sub("", media_type).strip().rstrip(";")
    return f"{base}; charset={truth}" if truth else base
