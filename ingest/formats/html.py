"""Article HTML pages to blocks: a thin entry point over ``ingest.extraction``."""

from __future__ import annotations

from pathlib import Path

from config import CONFIG_DIR, load_cleaning_rules
from ingest.documents import ParsedDocument
from ingest.extraction.extractor import HtmlExtractor


def default_extractor(rules_dir: str | Path = CONFIG_DIR / "rules") -> HtmlExtractor:
    return HtmlExtractor(load_cleaning_rules(rules_dir))


def parse_html(
    html: str, entry_key: str, url: str | None, location: str, extractor: HtmlExtractor | None = None
) -> ParsedDocument:
    """Blocks and metadata of one article page; ``extractor`` defaults to the shipped rules."""
    return (extractor or default_extractor()).parse(html, entry_key, url, location)
