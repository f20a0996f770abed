"""Plain text: paragraphs separated by blank lines."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from ingest.documents import BlockKind, ParsedBlock, ParsedDocument
from ingest.errors import DecodeError

_BLANK_LINES = re.compile(r"\n\s*\n")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_text(body: bytes, location: str, declared: str | None = None) -> str:
    """Decode bytes: BOM, then the declared charset, then UTF-8, then a confident guess."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            try:
                return body.decode(encoding)
            except UnicodeDecodeError as exc:
                raise DecodeError(location, f"bad {encoding} after its byte order mark: {exc}") from exc
    if declared:
        try:
            return body.decode(declared)
        except (LookupError, ValueError):
            # A wrong declaration is common; fall through to detection. ValueError covers
            # UnicodeDecodeError and labels Python refuses outright (an embedded NUL).
            pass
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(body).best()
    # Binary data "decodes" in some single-byte charset with heavy chaos; refuse it.
    if best is None or best.chaos > 0.2 or "\x00" in str(best):
        raise DecodeError(location, "not UTF-8 and no other encoding fits (binary file?)")
    return str(best)


def media_type_charset(media_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type value, lower-cased, or None."""
    if not media_type:
        return None
    for part in media_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"').lower()
    return None


def parse_text(text: str, entry_key: str, url: str | None = None) -> ParsedDocument:
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = [
        ParsedBlock(BlockKind.UNKNOWN, " ".join(chunk.split()), origin="text")
        for chunk in _BLANK_LINES.split(normalised)
        if chunk.strip()
    ]
    return ParsedDocument(blocks=blocks, entry_key=entry_key, url=url)
