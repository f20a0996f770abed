"""A page's bytes through extraction and cleaning, without a database (benchmarks, tools)."""

from __future__ import annotations

from ingest.cleaning import CleanArticle, Cleaner
from ingest.extraction.decoding import decode_html
from ingest.extraction.extractor import HtmlExtractor


def extract_article(
    raw: bytes,
    cleaner: Cleaner,
    url: str | None = None,
    location: str = "<page>",
    extractor: HtmlExtractor | None = None,
    http_charset: str | None = None,
) -> CleanArticle:
    """A page's bytes to a clean article, the way the pipeline does it."""
    html = decode_html(raw, location, http_charset)
    document = (extractor or HtmlExtractor(cleaner.rules)).parse(html, "url:" + (url or location), url, location)
    return cleaner.clean(document)
