"""Pages whose declared or given URLs Python cannot parse still give their article (found by the fuzz target)."""

from __future__ import annotations

import pytest

from ingest.formats.html import parse_html
from ingest.urls import canonical_article_url

STORY = "<p>Pasukan Korea Utara menderita banyak korban di front Ukraina, kata pejabat intelijen Korea Selatan.</p>"


@pytest.mark.parametrize(
    "head",
    [
        '<link rel="canonical" href="http://[::1">',
        '<meta property="og:url" content="http://[::1">',
        '<link rel="canonical" href="http://[::1"><meta property="og:url" content="https://[fe80::1">',
    ],
)
def test_malformed_declared_url_is_dropped_and_the_page_kept(head: str) -> None:
    page = f"<html><head>{head}</head><body><article>{STORY}</article></body></html>"
    document = parse_html(page, "k", "https://example.org/story", "page.html")
    assert any("Korea Utara" in block.text for block in document.blocks)
    assert document.canonical_url is None


def test_valid_canonical_still_resolved_against_the_page() -> None:
    page = f'<html><head><link rel="canonical" href="/berita/123"></head><body><article>{STORY}</article></body></html>'
    document = parse_html(page, "k", "https://example.org/story", "page.html")
    assert document.canonical_url == "https://example.org/berita/123"


def test_unparseable_page_url_gives_the_article() -> None:
    page = f"<html><body><article>{STORY}</article></body></html>"
    document = parse_html(page, "k", "http://[::1/story", "page.html")
    assert any("Korea Utara" in block.text for block in document.blocks)


@pytest.mark.parametrize("url", ["http://example.org:99999/x", "http://example.org:port/x", "http://[::1/x"])
def test_canonical_article_url_keeps_an_unparseable_url_as_given(url: str) -> None:
    assert canonical_article_url(f" {url} ") == url
