"""Feed parsing on the real feeds of the corpus, including the broken and oddly encoded ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.errors import ParseError
from ingest.formats import detect_format, parse_feed


def test_real_malformed_feed_is_repaired_with_a_warning(corpus: Path) -> None:
    path = corpus / "feeds" / "edge" / "fastfeedparser__malformed-xml-decl-prefixed-rss.xml"
    feed = parse_feed(path.read_bytes(), str(path))
    assert len(feed.documents) > 20
    assert feed.documents[0].title == "jenni tucker"
    assert feed.documents[0].entry_key == "id:https://dylanharris.org/blog/2026/b5.shtml"
    assert any("repaired" in w for w in feed.warnings)


def test_windows_1251_feed_decodes_cyrillic(corpus: Path) -> None:
    path = corpus / "feeds" / "node-feedparser__oren-ru-windows-1251.xml"
    feed = parse_feed(path.read_bytes(), str(path))
    assert len(feed.documents) == 10
    titles = " ".join(d.title or "" for d in feed.documents)
    assert any("\u0400" <= ch <= "\u04ff" for ch in titles)
    assert "Ð" not in titles  # no mojibake


def test_html_page_given_as_a_feed_is_an_error_that_says_so(corpus: Path) -> None:
    page = next((corpus / "pages").glob("aeb__bbc.com__*.html"))
    with pytest.raises(ParseError, match="HTML page, not a feed"):
        parse_feed(page.read_bytes(), str(page))


def test_content_encoded_is_the_body_and_media_description_a_caption(corpus: Path) -> None:
    path = corpus / "feeds" / "fastfeedparser__theweek.xml"
    feed = parse_feed(path.read_bytes(), str(path))
    document = feed.documents[0]
    captions = [b for b in document.blocks if b.kind == "caption"]
    body = [b for b in document.blocks if b.kind == "body"]
    assert captions[0].text == "A montage of Winter Olympics athletes with motifs of timers"
    assert captions[0].photo_credit == "Marian Femenias-Moratinos / Getty Images"
    assert len(body) > 3
    assert all(b.text != captions[0].text for b in body)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("feeds/fastfeedparser__bbc-news-world.xml", "feed"),
        ("feeds/node-feedparser__intertwingly.atom", "feed"),
        ("pages/fundus__us__VoiceOfAmerica_2024_04_28.html", "html"),
    ],
)
def test_format_detection(corpus: Path, name: str, expected: str) -> None:
    path = corpus / name
    assert detect_format(path.read_bytes(), "") == expected


def test_photo_credits_without_a_caption_are_kept_apart_from_captions(corpus: Path) -> None:
    guardian = corpus / "feeds" / "rss-parser__guardian-us.rss"
    documents = parse_feed(guardian.read_bytes(), str(guardian)).documents
    first = documents[0]
    # Two renditions of one photo, each credited, neither captioned: one credit, no caption block.
    assert first.photo_credits == ["Photograph: Networ/Sipa USA/REX/Shutterstock"]
    assert not [b for b in first.blocks if b.kind == "caption"]
    assert all(len(d.photo_credits) == 1 for d in documents)

    nytimes = corpus / "feeds" / "fastfeedparser__nytimes-world.xml"
    documents = parse_feed(nytimes.read_bytes(), str(nytimes)).documents
    uncaptioned = [d for d in documents if d.photo_credits]
    captioned = [d for d in documents if any(b.kind == "caption" for b in d.blocks)]
    assert uncaptioned and captioned
    assert ["Obtained by The New York Times"] in [d.photo_credits for d in uncaptioned]
    for document in documents:  # a captioned photo's credit is on its caption, not repeated here
        on_captions = {b.photo_credit for b in document.blocks if b.kind == "caption"}
        assert not on_captions & set(document.photo_credits)

    theweek = corpus / "feeds" / "fastfeedparser__theweek.xml"
    assert not any(d.photo_credits for d in parse_feed(theweek.read_bytes(), str(theweek)).documents)
