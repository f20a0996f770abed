"""Article pages to documents: decoding, the story body, captions, metadata, language.

``HtmlExtractor`` is the entry point (built once from the cleaning rules);
``ingest.extraction.article.extract_article`` runs a page's bytes through it and a ``Cleaner``
without touching a database.
"""

from __future__ import annotations

from ingest.extraction.decoding import declared_charset, decode_html
from ingest.extraction.extractor import HtmlExtractor
from ingest.extraction.language import decide_language, detect_language

__all__ = ["HtmlExtractor", "decide_language", "declared_charset", "decode_html", "detect_language"]
